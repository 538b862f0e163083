"""The analysis controller's pacing: while the pen moves at most one request is in flight
and only the newest waiting image is sent; otherwise the newest request wins and stale
results are dropped; busy state and failures reach the app state.

The worker runs a stand-in for cnnviz.core.reading.inference.analyze that waits at a gate, so each
test decides when an analysis finishes (no sleeps, no clocks)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

import cnnviz.core.reading.inference
from cnnviz.app_state import AppState, InputImage
from cnnviz.ui.controllers import AnalysisController
from cnnviz.ui.controllers.analysis import BUSY_KEY

REAL_ANALYZE = cnnviz.core.reading.inference.analyze


class GatedAnalysis:
    """Stands in for analyze(): records which image each call got, and waits at a gate
    until the test lets it finish. Its result names the image it analysed."""

    def __init__(self) -> None:
        self.calls: list[float] = []  # image[0, 0] of each analysed image: which one it was
        self.gate = threading.Semaphore(0)
        self.started = threading.Semaphore(0)
        self.running = 0
        self.most_running = 0
        self.fail_next = False
        self.inner = None  # when set (the real analyze), what the result is
        self._lock = threading.Lock()

    def __call__(self, model, image, dataset=None, card=None):
        with self._lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
            self.calls.append(float(image[0, 0]))
        self.started.release()
        try:
            assert self.gate.acquire(timeout=10), "the test never released the analysis"
            if self.fail_next:
                self.fail_next = False
                raise ValueError(f"cannot read image {image[0, 0]:g}")
            if self.inner is not None:
                return self.inner(model, image, dataset=dataset, card=card)
            return SimpleNamespace(image_id=float(image[0, 0]), dataset=dataset)
        finally:
            with self._lock:
                self.running -= 1

    def wait_started(self) -> None:
        assert self.started.acquire(timeout=10), "the analysis did not start"

    def finish_one(self) -> None:
        self.gate.release()


@pytest.fixture
def fake(monkeypatch):
    gated = GatedAnalysis()
    monkeypatch.setattr(cnnviz.core.reading.inference, "analyze", gated)
    return gated


def shut_down(controller, fake) -> None:
    for _ in range(8):  # never leave the worker waiting at the gate
        fake.gate.release()
    controller.shutdown()
    assert not controller.runner.is_alive()


@pytest.fixture
def env(qtbot, fake):
    state = AppState()
    controller = AnalysisController(state)
    published, failures, busy = [], [], []
    state.analysis_ready.connect(lambda result: published.append(result.image_id))
    state.analysis_failed.connect(failures.append)
    state.busy_changed.connect(lambda which, flag: busy.append((which, flag)))
    state.model = SimpleNamespace(model="the network", dataset="mnist")
    yield SimpleNamespace(state=state, controller=controller, fake=fake, published=published,
                          failures=failures, busy=busy, qtbot=qtbot)
    shut_down(controller, fake)


def image(k: float) -> np.ndarray:
    return np.full((4, 4), k, np.float32)


def answered(env) -> None:
    """Let the running analysis finish and wait for its result to reach the GUI thread."""
    with env.qtbot.waitSignal(env.controller.runner.finished, timeout=10000):
        env.fake.finish_one()


def test_while_drawing_one_request_is_in_flight_and_the_newest_waiting_image_goes_next(env):
    state, controller, fake = env.state, env.controller, env.fake
    state.drawing = True
    state.input_image = InputImage(image(1), "your drawing")
    fake.wait_started()
    for k in range(2, 7):  # the pen moves on while image 1 is analysed
        state.input_image = InputImage(image(k), "your drawing")
        assert controller.requested - controller.answered == 1  # nothing else sent
    assert controller.is_busy() and controller.is_waiting()
    answered(env)
    # image 1's result is shown (not dropped as stale), and only the newest, 6, went next
    assert env.published == [1.0]
    fake.wait_started()
    assert fake.calls == [1.0, 6.0] and not controller.is_waiting()
    answered(env)
    assert env.published == [1.0, 6.0]
    assert fake.most_running == 1
    assert env.busy == [(BUSY_KEY, True), (BUSY_KEY, False)]  # busy across both, then idle


def test_without_drawing_the_newest_request_wins_and_stale_results_are_dropped(env):
    state, controller, fake = env.state, env.controller, env.fake
    state.input_image = InputImage(image(1), "a file")
    fake.wait_started()
    state.input_image = InputImage(image(2), "the gallery")  # sent at once, not held
    state.input_image = InputImage(image(3), "the gallery")  # replaces 2 before it starts
    assert controller.requested == 3  # all three sent (the model came before any image)
    fake.finish_one()  # 1 finishes: stale
    fake.wait_started()
    answered(env)
    assert fake.calls == [1.0, 3.0]  # 2 never ran
    assert env.published == [3.0]  # 1's result was dropped
    assert not controller.is_busy() and env.busy[-1] == (BUSY_KEY, False)


def test_lifting_the_pen_sends_the_final_picture_at_once(env):
    state, controller, fake = env.state, env.controller, env.fake
    state.drawing = True
    state.input_image = InputImage(image(1), "your drawing")
    fake.wait_started()
    state.input_image = InputImage(image(2), "your drawing")
    assert controller.is_waiting()
    sent = controller.requested
    state.drawing = False  # the pad's last picture comes after the stroke ends
    state.input_image = InputImage(image(3), "your drawing")
    assert controller.requested == sent + 1 and not controller.is_waiting()
    fake.finish_one()  # 1: stale now
    fake.wait_started()
    answered(env)
    assert fake.calls == [1.0, 3.0] and env.published == [3.0]


def test_a_new_model_is_never_held_back_by_drawing(env):
    state, controller, fake = env.state, env.controller, env.fake
    state.drawing = True
    state.input_image = InputImage(image(1), "your drawing")
    fake.wait_started()
    sent = controller.requested
    state.model = SimpleNamespace(model="another network", dataset="fashion-mnist")
    assert controller.requested == sent + 1
    fake.finish_one()
    fake.wait_started()
    with env.qtbot.waitSignal(controller.runner.finished, timeout=10000) as blocker:
        fake.finish_one()
    assert blocker.args[1].dataset == "fashion-mnist"
    assert env.published == [1.0]  # (the same image, for the new model)


def test_a_failure_is_published_and_the_waiting_image_still_goes(env):
    state, controller, fake = env.state, env.controller, env.fake
    state.drawing = True
    fake.fail_next = True
    state.input_image = InputImage(image(1), "your drawing")
    fake.wait_started()
    state.input_image = InputImage(image(2), "your drawing")
    with env.qtbot.waitSignal(controller.analysis_failed, timeout=10000) as blocker:
        fake.finish_one()
    assert "cannot read image 1" in blocker.args[0]
    assert env.failures == [blocker.args[0]] and state.analysis_error == blocker.args[0]
    fake.wait_started()
    assert fake.calls == [1.0, 2.0]
    answered(env)
    assert env.published == [2.0] and state.analysis_error is None
    assert env.busy == [(BUSY_KEY, True), (BUSY_KEY, False)]


def test_nothing_is_requested_without_an_image_or_a_model(qtbot, fake):
    state = AppState()
    controller = AnalysisController(state)
    try:
        busy = []
        state.busy_changed.connect(lambda which, flag: busy.append(flag))
        assert controller.request() is None
        state.input_image = InputImage(image(1), "a file")  # no model yet
        assert controller.requested == 0 and not controller.is_busy() and busy == []
    finally:
        shut_down(controller, fake)


def test_pad_strokes_reach_the_controller_through_the_state(qtbot, fake):
    """Real mouse events on the input panel's pad: every picture goes to the state, the
    controller sends one at a time while the pen moves, and the last one at once on release;
    the panel shows the result."""
    from cnnviz.core.networks.weights import load_shipped
    from cnnviz.ui.input.panel import InputPanel

    fake.inner = REAL_ANALYZE
    state = AppState()
    state.model = load_shipped("cnnviz")
    controller = AnalysisController(state)
    try:
        stroke_on_the_panel(qtbot, state, controller, fake, InputPanel(state, controller))
    finally:
        shut_down(controller, fake)


def stroke_on_the_panel(qtbot, state, controller, fake, panel) -> None:
    qtbot.addWidget(panel)
    panel.resize(360, 760)
    panel.show()
    qtbot.waitExposed(panel)
    pad = panel.pad
    pictures = []
    state.events.input_image.connect(lambda picture: pictures.append(picture.source))
    side = min(pad.width(), pad.height())
    x0, y0 = (pad.width() - side) // 2, (pad.height() - side) // 2
    pts = [QPoint(x0 + side * (30 + 2 * k) // 100, y0 + side * (10 + 3 * k) // 100)
           for k in range(20)]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    qtbot.waitUntil(lambda: len(pictures) >= 1)
    fake.wait_started()
    for p in pts[1:]:
        with qtbot.waitSignal(pad.changed, timeout=5000):
            QTest.mouseMove(pad, p)
    assert state.drawing and len(pictures) == len(pts)  # every pen step reached the state
    assert controller.requested - controller.answered == 1  # one analysis in flight
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
    assert not state.drawing and state.image_source == "your drawing"
    np.testing.assert_array_equal(state.image, pad.image())
    final = controller.requested
    for _ in range(2):  # the first picture (stale now), then the final one
        fake.finish_one()
    qtbot.waitUntil(lambda: controller.answered == final)
    assert len(fake.calls) == 2 and fake.most_running == 1
    assert state.analysis.digit.steps and panel.prediction_text.text()  # the panel drew it

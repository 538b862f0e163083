"""A pen that keeps up: what a pen step on the main window's pad repaints.

Each pen step runs the network again and every view on screen shows the new result; what
is off screen does not paint, nothing asks for a layout pass per step, the layer cards'
thumbnails take turns while the pen moves, and everything shows the final drawing once
the pen is lifted."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from cnnviz.app_state import AppState
from cnnviz.ui.cnn.network_strip import LIVE_THUMBNAILS, Thumbnail, thumbnail_image
from cnnviz.ui.window.main_window import MainWindow

WARM_UP = 5  # pen steps before counting (the first results may still settle the layout)
STEPS = 20  # pen steps counted


@pytest.fixture
def window(qtbot, settings_sandbox, monkeypatch):
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: None))
    w = MainWindow(AppState())
    qtbot.addWidget(w)  # closed (closeEvent: settings + shutdown) at teardown
    w.load_defaults()
    w.resize(1366, 768)  # a laptop screen, as the pen benchmark
    w.show()
    qtbot.waitExposed(w)
    w.tabs.setCurrentIndex(0)  # the CNN explorer
    qtbot.waitUntil(lambda: w.state.analysis is not None, timeout=30000)
    yield w
    w.close()


class Counter(QObject):
    """Counts paint events by widget and layout passes (LayoutRequest events on widgets
    with a layout: without one Qt drops the request)."""

    def __init__(self) -> None:
        super().__init__()
        self.paints: list[QWidget] = []
        self.layouts: list[str] = []
        self.passes = 0  # paint passes: a window's UpdateRequests that something painted in
        self._asked = False
        self.on = False

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if self.on and isinstance(watched, QWidget):
            kind = event.type()
            if kind == QEvent.Type.Paint:
                self.paints.append(watched)
                self.passes += self._asked
                self._asked = False
            elif kind == QEvent.Type.LayoutRequest and watched.layout() is not None:
                self.layouts.append(type(watched).__name__)
            elif kind == QEvent.Type.UpdateRequest and watched.isWindow():
                self._asked = True
        return False

    def reset(self) -> None:
        self.paints, self.layouts, self.passes = [], [], 0


@pytest.fixture
def counter(qapp):
    c = Counter()
    qapp.installEventFilter(c)
    yield c
    qapp.removeEventFilter(c)


def pen_points(pad, steps: int) -> list[QPoint]:
    """Points along an '8' that fills most of the pad."""
    sq = pad._square()
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    x, y = 140 + 55 * np.sin(2 * t), 140 - 95 * np.sin(t)
    pts = [QPoint(int(sq.x() + a / 280 * sq.width()), int(sq.y() + b / 280 * sq.height()))
           for a, b in zip(x, y)]
    return (pts * (steps // len(pts) + 1))[:steps]


def settle(qtbot, window, requested_before: int) -> None:
    """Wait until the newest pen step's result is published and the window has painted."""
    controller = window.controller
    qtbot.waitUntil(lambda: controller.requested > requested_before, timeout=10000)
    qtbot.waitUntil(lambda: not controller.is_busy() and not controller.is_waiting(),
                    timeout=20000)
    for _ in range(3):  # the paint passes that follow the views' update
        QApplication.processEvents()


class Pen:
    """A stroke on the pad with real mouse events, one settled pen step at a time."""

    def __init__(self, qtbot, window, steps: int) -> None:
        self.qtbot, self.window = qtbot, window
        self.pad = window.input_panel.pad
        self.points = pen_points(self.pad, steps + 1)
        self.i = 0

    def down(self) -> None:
        before = self.window.controller.requested
        QTest.mousePress(self.pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         self.points[0])
        settle(self.qtbot, self.window, before)

    def step(self) -> None:
        self.i += 1
        before = self.window.controller.requested
        QTest.mouseMove(self.pad, self.points[self.i])
        settle(self.qtbot, self.window, before)
        assert self.window.state.drawing

    def up(self) -> None:
        before = self.window.controller.requested
        QTest.mouseRelease(self.pad, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier, self.points[self.i])
        settle(self.qtbot, self.window, before)
        assert not self.window.state.drawing


def inside(widget: QWidget, page: QWidget) -> bool:
    return widget is page or page.isAncestorOf(widget)


def shows_result(window, analysis) -> None:
    """The views on screen show this analysis (the thumbnails aside)."""
    explorer = window.cnn_explorer
    stage = explorer.grid.stages[0]
    np.testing.assert_allclose(stage.map_array(3), analysis.layer(stage.name)[3], rtol=1e-6)
    np.testing.assert_array_equal(explorer.prob_plot.values, analysis.probabilities)
    classes = window.state.model.classes
    assert window.input_panel.prediction_label.text() == classes[analysis.prediction]
    assert explorer.digit_label.text() == classes[analysis.prediction]
    np.testing.assert_array_equal(window.input_panel.network_input.picture._array,
                                  np.asarray(analysis.digit.image))
    detail = explorer.detail
    np.testing.assert_array_equal(detail.map_value,
                                  analysis.layer(detail._name)[detail.channel])


def test_every_view_on_screen_shows_each_pen_steps_result(qtbot, window):
    pen = Pen(qtbot, window, 8)
    pen.down()
    for _ in range(8):
        pen.step()
        shows_result(window, window.state.analysis)
    pen.up()
    shows_result(window, window.state.analysis)


def test_a_pen_step_asks_for_no_layout_pass(qtbot, window, counter):
    """A label whose text changed asked its layout for a pass, which then repainted half
    the window a second time: about seven layout passes per pen step."""
    pen = Pen(qtbot, window, WARM_UP + STEPS)
    pen.down()
    for _ in range(WARM_UP):
        pen.step()
    counter.on = True
    for _ in range(STEPS):
        pen.step()
    counter.on = False
    pen.up()
    assert len(counter.layouts) <= STEPS // 10, counter.layouts  # ideally none


def test_a_pen_steps_result_is_painted_in_one_pass(qtbot, window, counter):
    """Each plot's scene painted the window's pending changes when it had worked out its
    own: about five paint passes per pen step. Now the pad's new ink is painted at once
    (before the drawing goes to the network) and the result in one pass."""
    pen = Pen(qtbot, window, WARM_UP + STEPS)
    pen.down()
    for _ in range(WARM_UP):
        pen.step()
    counter.on = True
    for _ in range(STEPS):
        pen.step()
    counter.on = False
    pen.up()
    assert counter.passes <= 2 * STEPS + 2, counter.passes


def test_nothing_outside_the_tab_shown_paints_during_a_stroke(qtbot, window, counter):
    tabs = window.tabs
    for shown in (0, 1):  # the CNN explorer, then the kernel explorer
        tabs.setCurrentIndex(shown)
        qtbot.waitUntil(lambda: tabs.currentWidget().isVisible())
        hidden = [tabs.widget(i) for i in range(tabs.count()) if i != shown]
        pen = Pen(qtbot, window, 8)
        pen.down()
        counter.reset()
        counter.on = True
        for _ in range(8):
            pen.step()
        counter.on = False
        pen.up()
        painted = [w for w in counter.paints if any(inside(w, page) for page in hidden)]
        assert not painted, [type(w).__name__ for w in painted]
        assert any(inside(w, tabs.currentWidget()) for w in counter.paints)
    # the CNN explorer, hidden meanwhile, shows the final drawing when it comes back
    explorer = window.cnn_explorer
    assert explorer.analysis is not window.state.analysis  # not drawn while hidden
    tabs.setCurrentIndex(0)
    qtbot.waitUntil(lambda: explorer.analysis is window.state.analysis)
    shows_result(window, window.state.analysis)


def test_thumbnails_take_turns_while_the_pen_moves(qtbot, window, counter):
    pen = Pen(qtbot, window, WARM_UP + STEPS)
    pen.down()
    for _ in range(WARM_UP):
        pen.step()
    counter.on = True
    for _ in range(STEPS):
        pen.step()
    counter.on = False
    pen.up()
    cards = window.cnn_explorer.strip.cards.values()
    in_view = [c for c in cards if not c.thumb.visibleRegion().isEmpty()]
    assert len(in_view) > LIVE_THUMBNAILS  # (else there are no turns to take)
    thumbs = [w for w in counter.paints if isinstance(w, Thumbnail)]
    assert len(thumbs) <= STEPS * LIVE_THUMBNAILS
    assert {id(w) for w in thumbs} >= {id(c.thumb) for c in in_view}  # each took some


def test_after_pen_up_every_thumbnail_and_view_shows_the_final_drawing(qtbot, window):
    pen = Pen(qtbot, window, 12)
    pen.down()
    for _ in range(12):
        pen.step()
    pen.up()
    analysis = window.state.analysis
    assert window.input_panel.pad.image().max() > 0
    np.testing.assert_array_equal(np.asarray(analysis.digit.image),
                                  np.asarray(window.input_panel.network_input.picture._array))
    shows_result(window, analysis)
    outputs = dict(analysis.layers)
    for name, card in window.cnn_explorer.strip.cards.items():
        thumb = card.thumb
        got = thumb.image()
        assert got is not None, name
        want = thumbnail_image(outputs[name], (thumb.width(), thumb.height()))
        assert got.size() == want.size() and got.colorTable() == want.colorTable(), name
        np.testing.assert_array_equal(pixels(got), pixels(want), err_msg=name)


def pixels(image) -> np.ndarray:
    """An 8-bit picture's pixels, row by row (without the padding at each row's end)."""
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(),
                                                               image.bytesPerLine())
    return rows[:, :image.width()]

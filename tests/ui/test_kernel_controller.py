"""The kernel controller (no widgets): the newest request wins, stale results are dropped,
busy state comes after BUSY_DELAY_MS and goes with the result, and a lecture example keeps
the user's settings to give them back. Signals are waited on, never slept for."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtTest import QSignalSpy
from torch_reference import torch_pipeline

from cnnviz.app_state import KERNEL_SOURCE_IMAGE, KERNEL_SOURCE_NETWORK, AppState, InputImage
from cnnviz.core.convolution import kernel_previews
from cnnviz.core.convolution.kernels import PRESETS
from cnnviz.core.convolution.lecture_examples import LECTURE_EXAMPLES
from cnnviz.ui.controllers import kernel as kernel_controller
from cnnviz.ui.controllers.kernel import KernelController


@pytest.fixture
def setup(qtbot):
    state = AppState()
    state.input_image = InputImage(np.random.default_rng(0).uniform(0, 255, (28, 28)).astype(np.float32), "test")
    controller = KernelController(state)
    yield state, controller
    controller.shutdown()


def wait_idle(qtbot, controller):
    qtbot.waitUntil(controller.is_idle, timeout=20000)


class Gate:
    """compute_view that waits for release() on its first call (a slow request)."""

    def __init__(self):
        self.started = threading.Event()
        self.released = threading.Event()
        self.calls = []

    def __call__(self, image, settings, *args):
        self.calls.append(settings)
        if len(self.calls) == 1:
            self.started.set()
            assert self.released.wait(20)
        return kernel_previews.compute_view(image, settings, *args)

    def release(self):
        self.released.set()


def test_latest_request_wins(qtbot, setup):
    state, controller = setup
    wait_idle(qtbot, controller)
    spy = QSignalSpy(controller.result_ready)
    kernels = [np.full((3, 3), float(v)) for v in range(1, 6)]
    for k in kernels:  # faster than the worker: no event is processed in between
        state.kernel = state.kernel.with_changes(kernel=k, preset_key=None)
    with qtbot.waitSignal(controller.result_ready, timeout=20000):
        pass
    wait_idle(qtbot, controller)
    assert spy.count() == 1  # one result, the newest; the others never reached a view
    view = spy.at(0)[0]
    assert view.result.settings is state.kernel and controller.view is view
    conv, _act, _pooled = torch_pipeline(state.image, state.kernel)
    np.testing.assert_allclose(view.result.conv, conv, rtol=1e-5, atol=1e-3)


def test_stale_result_is_dropped_even_when_it_was_running(qtbot, setup, monkeypatch):
    state, controller = setup
    wait_idle(qtbot, controller)
    gate = Gate()
    monkeypatch.setattr(kernel_controller, "compute_view", gate)
    spy = QSignalSpy(controller.result_ready)
    state.kernel = state.kernel.with_changes(kernel=np.ones((3, 3)), preset_key=None)
    assert gate.started.wait(20)  # the first request is running on the worker
    newest = state.kernel.with_changes(kernel=np.full((3, 3), 2.0), preset_key=None)
    state.kernel = newest
    assert not controller.is_idle()
    gate.release()
    with qtbot.waitSignal(controller.result_ready, timeout=20000) as blocker:
        pass
    wait_idle(qtbot, controller)
    assert len(gate.calls) == 2 and spy.count() == 1  # the first finished, and was dropped
    assert blocker.args[0].result.settings is newest


def test_busy_comes_after_the_delay_and_goes_with_the_result(qtbot, setup, monkeypatch):
    state, controller = setup
    wait_idle(qtbot, controller)
    gate = Gate()
    monkeypatch.setattr(kernel_controller, "compute_view", gate)
    heard = []
    state.busy_changed.connect(lambda which, busy: heard.append((which, busy)))
    with qtbot.waitSignal(controller.busy_changed, timeout=5000) as blocker:
        controller.request()
    assert blocker.args == [True] and heard == [("kernel", True)]
    assert gate.started.is_set() and not controller.is_idle()
    with qtbot.waitSignal(controller.busy_changed, timeout=20000) as blocker:
        gate.release()
    assert blocker.args == [False] and heard[-1] == ("kernel", False)
    wait_idle(qtbot, controller)


def test_a_lecture_example_keeps_and_gives_back_the_users_settings(qtbot, setup):
    state, controller = setup
    mine = state.kernel.with_changes(kernel=PRESETS["box-blur"].values.copy(), preset_key="box-blur",
                                     stride=(2, 2), activation="tanh", pool_kind="avg")
    state.kernel = mine
    wait_idle(qtbot, controller)
    sources = []
    state.events.kernel_source.connect(sources.append)
    with qtbot.waitSignals([controller.example_applied, controller.result_ready], timeout=20000):
        controller.set_source("lecture:max-pool")
    example = LECTURE_EXAMPLES["max-pool"]
    assert state.kernel_source == "lecture:max-pool" and state.kernel_before_lecture is mine
    assert state.kernel.pool_kind == "max" and state.kernel.kernel.shape == (1, 1)
    assert controller.source_image() is example.image
    with qtbot.waitSignal(controller.result_ready, timeout=20000) as blocker:
        controller.set_source("lecture:stride-2")  # one example to another: still mine kept
    assert state.kernel_before_lecture is mine and blocker.args[0].source_key == "lecture:stride-2"
    np.testing.assert_array_equal(blocker.args[0].result.final, LECTURE_EXAMPLES["stride-2"].expected)
    with qtbot.waitSignal(controller.result_ready, timeout=20000) as blocker:
        controller.set_source(KERNEL_SOURCE_IMAGE)
    assert state.kernel.same_as(mine) and state.kernel_before_lecture is None
    assert blocker.args[0].result.settings.same_as(mine)
    assert sources == ["lecture:max-pool", "lecture:stride-2", KERNEL_SOURCE_IMAGE]


def test_network_source_needs_an_analysis(qtbot, setup):
    state, controller = setup
    wait_idle(qtbot, controller)
    with qtbot.waitSignal(controller.notice, timeout=5000) as blocker:
        controller.set_source(KERNEL_SOURCE_NETWORK)
    assert "once a model has analysed" in blocker.args[0]
    assert state.kernel_source == KERNEL_SOURCE_IMAGE
    controller.set_source("lecture:no-such-slide")
    assert state.kernel_source == KERNEL_SOURCE_IMAGE


def test_channel_view_reuses_the_result(qtbot, setup):
    state, controller = setup
    rgb = np.random.default_rng(1).uniform(0, 255, (20, 24, 3)).astype(np.float32)
    state.kernel = state.kernel.with_changes(per_channel=True)
    with qtbot.waitSignal(controller.result_ready, timeout=20000):
        state.input_image = InputImage(rgb, "colour")
    wait_idle(qtbot, controller)
    first = controller.view
    with qtbot.waitSignal(controller.result_ready, timeout=20000) as blocker:
        state.channel_view = "1"
    assert blocker.args[0].result is first.result  # drawn again, not recomputed
    assert blocker.args[0].conv.channel == 1


def test_hidden_tab_notes_inputs_and_catches_up(qtbot, setup):
    state, controller = setup
    wait_idle(qtbot, controller)
    controller.set_active(False)
    generation = controller.runner.generation
    state.input_image = InputImage(np.zeros((12, 12), np.float32), "new")
    assert controller.runner.generation == generation  # nothing computed while hidden
    with qtbot.waitSignal(controller.result_ready, timeout=20000) as blocker:
        controller.set_active(True)
    assert blocker.args[0].result.input.shape == (12, 12)


def test_no_image_says_empty_and_shutdown_stops_listening(qtbot):
    state = AppState()
    controller = KernelController(state)
    with qtbot.waitSignal(controller.emptied, timeout=1000):
        controller.request()
    assert controller.is_idle()
    controller.shutdown()
    assert not controller.runner.is_alive()
    spy = QSignalSpy(controller.result_ready)
    state.input_image = InputImage(np.zeros((5, 5), np.float32), "after")
    assert spy.count() == 0 and controller.request() is None
    controller.shutdown()  # twice is fine

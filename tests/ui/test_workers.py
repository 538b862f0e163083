"""The one module that owns threads: newest request wins, stale results are dropped,
errors become messages, shutdown really stops the thread."""

import threading

import pytest

from cnnviz.ui.controllers import LatestRequestRunner


@pytest.fixture
def runner(qtbot):
    r = LatestRequestRunner("test")
    yield r
    r.shutdown()


def test_latest_request_wins_and_stale_results_are_dropped(qtbot, runner):
    gate = threading.Event()
    started = []

    def job(i):
        started.append(i)
        if i == 1:
            gate.wait(5)  # hold the worker busy while newer requests arrive
        return i * 10

    delivered = []
    runner.finished.connect(lambda g, res: delivered.append((g, res)))
    runner.submit(job, 1)
    qtbot.waitUntil(lambda: started == [1])
    for i in range(2, 7):
        runner.submit(job, i)  # each replaces the previous unstarted one
    gate.set()
    assert runner.join(5)
    qtbot.waitUntil(lambda: delivered == [(6, 60)])
    assert started == [1, 6]  # 2..5 never ran; 1's result was stale and dropped


def test_cancel_drops_the_running_and_the_waiting_request(qtbot, runner):
    gate = threading.Event()
    started, delivered = [], []
    runner.finished.connect(lambda g, res: delivered.append(res))

    def job(i):
        started.append(i)
        gate.wait(5)
        return i

    runner.submit(job, 1)
    qtbot.waitUntil(lambda: started == [1])
    runner.submit(job, 2)  # waits behind 1
    runner.cancel()
    gate.set()
    assert runner.join(5)
    runner.submit(job, 3)  # its answer comes after 1's would have (one queue, in order)
    qtbot.waitUntil(lambda: bool(delivered))
    assert started == [1, 3] and delivered == [3]


def test_errors_are_reported_not_raised(qtbot, runner):
    def bad():
        raise ValueError("kernel too big")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.submit(bad)
    assert "kernel too big" in blocker.args[1]
    # the worker survives and serves the next request
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.submit(lambda: 42)
    assert blocker.args[1] == 42


def test_shutdown_stops_the_thread(qtbot):
    r = LatestRequestRunner("stop")
    assert r.is_alive()
    r.submit(lambda: None)
    r.shutdown()
    assert not r.is_alive()
    assert r.submit(lambda: None) == r.generation  # ignored after shutdown


def test_analysis_frames_the_picture_for_the_model_dataset(qtbot):
    """A Fashion-MNIST model gets Fashion-MNIST framing (a 28x28 picture unchanged), an MNIST
    model MNIST's 20x20 box."""
    import numpy as np

    from cnnviz.app_state import AppState, InputImage
    from cnnviz.core.networks.weights import load_shipped
    from cnnviz.ui.controllers import AnalysisController

    state = AppState()
    controller = AnalysisController(state)
    try:
        picture = np.zeros((28, 28), np.float32)
        picture[2:26, 6:22] = 200.0  # a 16 x 24 light item filling the frame
        results = []
        state.analysis_ready.connect(results.append)
        state.model = load_shipped("cnnviz-fashion")
        state.input_image = InputImage(picture, "test")
        qtbot.waitUntil(lambda: len(results) == 1)
        np.testing.assert_allclose(results[0].digit.image, picture / 255.0, atol=1e-6)
        state.model = load_shipped("cnnviz")
        qtbot.waitUntil(lambda: len(results) == 2)
        rows = np.flatnonzero(results[1].digit.image.max(axis=1) > 0.3)
        assert rows[-1] - rows[0] + 1 <= 20  # MNIST framing: into the 20x20 box
    finally:
        controller.shutdown()

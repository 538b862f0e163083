"""The unit window: opened in one click from a map, a bar, a class or the detail panel's
button; real examples computed off the GUI thread (the same ones the core finds), a click
makes one the input, the lowest ones one click away; optimised inputs live, stoppable,
scored against the best real example; the kernel beside them on the first layer; a
network without a dataset, a layer or unit that does not exist: one message each."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.app_state import AppState
from cnnviz.core.networks.weights import LoadedModel, load_shipped
from cnnviz.core.units import unit_examples as ue
from cnnviz.core.units.unit_optimise import DEFAULT, with_steps
from cnnviz.ui.units.window import CHOOSE, UnitWindow

SUBSET = 300  # test pictures scored in these tests


@pytest.fixture(scope="module")
def model():
    return load_shipped("cnnviz")


@pytest.fixture
def window(qtbot, mnist_dir, model):
    state = AppState()
    state.model = model
    win = UnitWindow(state, mnist_dir)
    qtbot.addWidget(win)
    win.controller.limit = SUBSET
    win.controller.regularisers = with_steps(DEFAULT, 16)
    yield win
    win.shutdown()


def _open(qtbot, win, loaded, layer, unit):
    with qtbot.waitSignal(win.controller.optimise_ready, timeout=30000):
        win.show_unit(loaded, layer, unit)
    qtbot.waitUntil(lambda: win.result is not None, timeout=30000)


def test_top_examples_optimised_inputs_and_a_click_makes_the_input(qtbot, window, model,
                                                                   mnist_dir):
    _open(qtbot, window, model, "conv2", 3)
    expected = ue.unit_examples(model, data_dir=mnist_dir, limit=SUBSET).examples("conv2", 3)
    cells = window.examples.cells
    assert [c.index for c in cells] == [e.index for e in expected]
    assert all(c.isEnabled() and not c.icon().isNull() for c in cells)
    assert cells[0].text() == window.made.compare.text().split("<b>")[2].split("</b>")[0]
    assert f"MNIST test digit #{expected[0].index}" in cells[0].toolTip()
    assert "best real test picture" in window.made.compare.text()
    assert window.optimised.pictures.shape == (4, 28, 28)
    assert all(not label.pixmap().isNull() for label in window.made.pictures)
    assert not window.made.kernel_box.isVisibleTo(window)  # conv2: not the first layer
    cells[4].click()
    images, _ = ue.load_split("mnist", "test", mnist_dir)
    np.testing.assert_array_equal(window.state.image, images[expected[4].index])
    assert f"#{expected[4].index}" in window.state.image_source
    window.examples.lowest.click()
    lowest = ue.unit_examples(model, data_dir=mnist_dir, limit=SUBSET).examples("conv2", 3,
                                                                                lowest=True)
    assert [c.index for c in cells] == [e.index for e in lowest]


def test_another_unit_while_scoring_waits_for_the_same_pass(qtbot, window, model, mnist_dir):
    window.show_unit(model, "conv2", 3)
    generation = window.controller.examples_runner.generation
    window.show_unit(model, "conv4", 10)  # the same network: nothing new to score
    assert window.controller.examples_runner.generation == generation
    qtbot.waitUntil(lambda: window.result is not None, timeout=30000)
    expected = ue.unit_examples(model, data_dir=mnist_dir, limit=SUBSET).examples("conv4", 10)
    assert [c.index for c in window.examples.cells] == [e.index for e in expected]
    assert window.controller.join(30)


def test_a_class_and_the_first_layer(qtbot, window, model):
    _open(qtbot, window, model, "softmax", 7)
    assert window.scored == "dense2"
    assert "class 7" in window.header.text()
    assert window.examples.cells[0].icon().actualSize(window.examples.cells[0].iconSize()) \
        .width() < 2 * 56  # a class: the whole picture, no crop beside it
    _open(qtbot, window, model, "relu1", 5)
    assert window.made.kernel_box.isVisibleTo(window)
    assert not window.made.kernel.pixmap().isNull()


def test_stop_ends_the_optimisation_where_it_is(qtbot, window, model):
    window.controller.regularisers = with_steps(DEFAULT, 5000)
    steps = []
    window.controller.optimise_step.connect(lambda s, *_: steps.append(s))
    with qtbot.waitSignal(window.controller.optimise_ready, timeout=30000):
        window.show_unit(model, "dense1", 2)
        qtbot.waitUntil(lambda: len(steps) >= 2, timeout=30000)
        assert window.made.stop.isVisibleTo(window)
        window.made.stop.click()
    assert window.optimised.stopped and window.optimised.steps < 5000
    assert "stopped after" in window.made.compare.text()
    assert window.made.again.isEnabled()


def test_bad_requests_get_one_message(qtbot, window, model):
    window.show_unit(model, "conv9", 0)
    assert "Nothing to show: the network has no layer 'conv9'" in window.header.text()
    window.show_unit(model, "conv1", 32)
    assert "conv1 has 32 units (0 to 31); there is no unit 32" in window.header.text()
    window.show_unit(model, "input", 0)
    assert "the input is the picture itself" in window.header.text()


def test_a_network_without_a_dataset_asks_for_one(qtbot, window, model):
    elsewhere = LoadedModel(model.model, {"made_with": "Keras 3"}, None)
    with qtbot.waitSignal(window.controller.optimise_ready, timeout=30000):
        window.show_unit(elsewhere, "conv3", 1)
    assert "does not say which pictures" in window.examples.note.text()
    assert window.dataset.currentText() == CHOOSE
    assert window.result is None
    window.dataset.setCurrentIndex(window.dataset.findData("mnist"))
    window._on_dataset_chosen(window.dataset.currentIndex())
    qtbot.waitUntil(lambda: window.result is not None, timeout=30000)
    assert all(c.isEnabled() for c in window.examples.cells)


def test_one_click_from_the_cnn_explorer(qtbot, model, mnist_dir):
    from cnnviz.ui.cnn.explorer import CnnExplorer
    from cnnviz.ui.controllers import AnalysisController

    state = AppState()
    controller = AnalysisController(state)
    state.model = model
    explorer = CnnExplorer(state, controller)
    qtbot.addWidget(explorer)
    win = explorer.units.window = UnitWindow(state, mnist_dir, explorer)  # (made on first use)
    win.controller.limit = SUBSET
    win.controller.regularisers = with_steps(DEFAULT, 16)
    try:
        explorer.grid.map_double_clicked.emit("conv1", 2)
        assert win.isVisible() and (win.layer, win.unit) == ("conv1", 2)
        explorer.prob_plot.bar_double_clicked.emit(4)
        assert (win.scored, win.unit) == ("dense2", 4)
        explorer.layer = "dense1"
        explorer.bars.bar_double_clicked.emit(9)
        assert (win.layer, win.unit) == ("dense1", 9)
        explorer.layer, explorer.detail_layer, explorer.channel = "relu3", None, 5
        explorer.detail.header.linkActivated.emit("look")  # the header's link
        assert (win.layer, win.unit) == ("relu3", 5)
        assert win.controller.join(60)
    finally:
        explorer.shutdown()
        controller.shutdown()
    assert explorer.units.window is None

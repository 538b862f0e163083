"""The CNN explorer tab with a real AppState, AnalysisController and shipped model:
predictions and feature maps follow the input, every layer shows the right maps the right
way up, kernels match the torch weights, bad weight files are refused."""

from __future__ import annotations

import html
import pickle
import shutil

import numpy as np
import pytest
from pages import redraws
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from cnnviz.app_state import AppState, InputImage
from cnnviz.core.basics import formulas
from cnnviz.core.networks import weights as weights_module
from cnnviz.core.networks.layer_cards import ROLE_PROBABILITIES, block_of
from cnnviz.core.networks.weights import load_shipped, shipped_weights_path
from cnnviz.core.pictures.samples import default_sample
from cnnviz.core.reading.inference import analyze
from cnnviz.ui.cnn import explorer as cnn_module
from cnnviz.ui.cnn.explorer import CnnExplorer
from cnnviz.ui.controllers import AnalysisController


@pytest.fixture(scope="module")
def cnnviz_model():
    return load_shipped("cnnviz")


@pytest.fixture
def env(qtbot, cnnviz_model):
    state = AppState()
    controller = AnalysisController(state)
    state.model = cnnviz_model
    explorer = CnnExplorer(state, controller)
    qtbot.addWidget(explorer)
    explorer.resize(1100, 800)
    explorer.show()
    yield state, controller, explorer
    explorer.shutdown()
    controller.shutdown()


def show(qtbot, env, image):
    """Give the explorer an input and wait until it has drawn the analysis of it."""
    state, controller, explorer = env
    before = redraws(explorer)
    state.input_image = InputImage(np.asarray(image, dtype=np.float32), "test")
    assert controller.join(20)
    qtbot.waitUntil(lambda: redraws(explorer) > before
                    and explorer.analysis is state.analysis, timeout=10000)
    return state.analysis


def pad(img28) -> np.ndarray:
    """A 28x28 digit as the drawing pad delivers it: 280x280, white ink on black."""
    return np.kron(np.asarray(img28, np.float32), np.ones((10, 10), np.float32))


def vertical_bar() -> np.ndarray:
    canvas = np.zeros((280, 280), np.float32)
    canvas[40:240, 125:150] = 255.0
    return canvas


def open_weights(qtbot, explorer, path) -> bool:
    """Open a weights file as File › Open weights does (read on the loader's thread) and
    wait for the answer: True when it became the model, False when it was refused."""
    picker = explorer.picker
    answers = []
    picker.opened.connect(lambda *_: answers.append(True))
    picker.refused.connect(lambda *_: answers.append(False))
    explorer.load_weights_file(path)
    qtbot.waitUntil(lambda: bool(answers), timeout=20000)
    return answers[0]


def stage(explorer, name=None):
    grid = explorer.grid
    return grid.stages[0] if name is None else grid.stage(name)


# ---------------------------------------------------------------------------------------


def test_a_new_drawing_changes_the_answer_and_the_maps(qtbot, env):
    _, _, explorer = env
    first = show(qtbot, env, vertical_bar())
    assert explorer.digit_label.text() == str(first.prediction)
    # the maps' values as drawn (the mosaic's layout may change with the window's)
    maps_before = stage(explorer).data.copy()

    three, _ = default_sample()
    second = show(qtbot, env, pad(three))
    assert second.prediction == 3
    assert explorer.digit_label.text() == "3"
    assert first.prediction != second.prediction
    maps_after = stage(explorer).data
    assert maps_after.shape == maps_before.shape
    assert not np.allclose(np.nan_to_num(maps_after), np.nan_to_num(maps_before))
    # the probability bars show this analysis, the answer highlighted
    np.testing.assert_allclose(explorer.prob_plot.values, second.probabilities)
    assert explorer.prob_plot._top == 3
    assert "%" in explorer.prob_label.text()


def test_a_real_mnist_three_is_read_as_3(qtbot, env, mnist_test):
    images, labels = mnist_test
    i = int(np.flatnonzero(labels == 3)[0])
    analysis = show(qtbot, env, pad(images[i]))
    assert analysis.prediction == 3
    assert env[2].digit_label.text() == "3"


def test_an_empty_pad_asks_for_a_digit(qtbot, env):
    _, _, explorer = env
    analysis = show(qtbot, env, np.zeros((280, 280), np.float32))
    assert analysis.digit.empty
    assert explorer.digit_label.text() == "—"
    assert "Draw a digit" in explorer.prob_label.text()
    assert not explorer.prob_plot.values.any()


def test_every_layer_shows_all_its_outputs(qtbot, env):
    state, _, explorer = env
    analysis = show(qtbot, env, pad(default_sample()[0]))
    assert state.layer == "conv1"  # the first conv layer is selected at the start
    for info in analysis.layer_infos:
        state.layer = info.name
        assert explorer.strip.cards[info.name].is_selected()
        assert sum(card.is_selected() for card in explorer.strip.cards.values()) == 1
        value = analysis.layer(info.name)
        if value.ndim == 3:
            assert explorer.pages.currentWidget() is explorer.page.grid_area
            s = stage(explorer)
            assert s.name == info.name and s.geometry.n == value.shape[0]
            for c in (0, value.shape[0] - 1):
                np.testing.assert_allclose(s.map_array(c), value[c], rtol=1e-6)
        else:
            assert explorer.pages.currentWidget() is explorer.bars
            np.testing.assert_allclose(explorer.bars.values, value, rtol=1e-6)
    state.layer = "conv1"
    s = stage(explorer)
    assert s.geometry.n == 32 and s.map_array(31).shape == (26, 26)
    assert "26" in explorer.info_label.text() and "320" in explorer.info_label.text()


def test_the_input_card_and_the_cards_say_shape_and_parameters(qtbot, env):
    state, _, explorer = env
    show(qtbot, env, pad(default_sample()[0]))
    cards = explorer.strip.cards
    assert list(cards)[0] == "input" and cards["input"].shape_label.text() == "1×28×28"
    assert cards["conv1"].kind_label.text() == "Conv 32 3×3 s1 p0"
    assert cards["conv1"].shape_label.text() == "32×26×26"
    assert cards["conv1"].params_label.text() == "320 params"
    # compact cards (a narrow window) round the count; the tooltip has it exactly
    assert cards["conv2"].params_label.text() in ("9,248 params", "9.2k params")
    assert "= 9,248" in cards["conv2"].toolTip()
    cards["conv2"].set_compact(False)
    assert cards["conv2"].params_label.text() == "9,248 params"
    assert cards["conv2"].kind_label.text() == "Conv 32 3×3 s1 p0"
    assert "max(0, x)" in cards["relu1"].toolTip()
    assert "only during the training" in cards["dropout1"].toolTip()
    assert "(1,024 + 1) × 128" in cards["dense1"].toolTip()
    total = sum(i.parameters for i in state.model.model.layer_infos)
    assert f"{total:,}" in explorer.strip.total_label.text()
    qtbot.mouseClick(cards["pool1"], Qt.MouseButton.LeftButton)
    assert state.layer == "pool1"
    qtbot.keyClick(explorer.strip, Qt.Key.Key_Right)
    assert state.layer == "conv3"
    qtbot.keyClick(explorer.strip, Qt.Key.Key_Left)
    assert state.layer == "pool1"
    assert stage(explorer).geometry.n == 32 and stage(explorer).map_array(0).shape == (12, 12)


def test_feature_maps_are_drawn_the_right_way_up(qtbot, env):
    """Ink only near the top-left corner of the network input: every conv1 map differs
    from its flat background only near its own top-left corner, on screen too."""
    state, _, explorer = env
    img = np.zeros((28, 28), np.float32)
    img[1:8, 1:4] = 1.0  # an asymmetric blob: taller than wide, top-left
    img[1:3, 4:6] = 1.0
    before = redraws(explorer)
    state.publish_analysis(analyze(state.model.model, img, preprocess=False))
    assert redraws(explorer) == before + 1
    # (a resize may still re-lay the grid out: point at the maps where they end up)
    qtbot.waitUntil(lambda: not explorer.grid._relayout.isActive())
    s = stage(explorer, "conv1")
    near = far = tall = wide = 0.0
    for c in range(32):
        shown = s.map_array(c)
        dev = np.abs(shown - shown[-1, -1])  # the far corner sees no ink: the bias alone
        near = max(near, float(dev[0:5, 0:5].max()))
        far = max(far, float(dev[-12:, -12:].max()))
        tall = max(tall, float(dev[6:8, 0:3].max()))  # the blob reaches down...
        wide = max(wide, float(dev[0:2, 7:10].max()))  # ...but not far to the right
    assert near > 0.1 and far < 1e-5
    assert tall > 0.1 and wide < 1e-5  # not transposed
    # row 0 is drawn above the last row, column 0 left of the last column
    top, bottom = s.scene_point(0, row=0, col=0), s.scene_point(0, row=25, col=0)
    right = s.scene_point(0, row=0, col=25)
    assert top.y() < bottom.y() and top.x() < right.x()
    # and pointing at the top-left pixel on screen reads map pixel (0, 0)
    events = []
    explorer.grid.hovered.connect(lambda *args: events.append(args))
    view_pos = explorer.grid.mapFromScene(s.scene_point(3, row=0, col=0))
    qtbot.mouseMove(explorer.grid.viewport(), QPoint(view_pos.x(), view_pos.y()))
    qtbot.waitUntil(lambda: any(e[:4] == ("conv1", 3, 0, 0) for e in events))
    value = state.analysis.layer("conv1")[3, 0, 0]
    assert any(e[:4] == ("conv1", 3, 0, 0) and abs(e[4] - value) < 1e-5 for e in events)
    assert "map 3 · row 0, column 0" in explorer.hover_label.text()


def test_every_layer_card_is_on_screen_at_1440_pixels(qtbot, env):
    """At 1440 px the cards after pool1 were off screen and the wheel did not scroll the
    row. Now the cards fit (compact, two rows) when the explorer is tall enough, and where
    they must scroll (a short window) the mouse wheel scrolls them (next test)."""
    _, _, explorer = env
    strip = explorer.strip
    explorer.resize(900, 700)  # the CNN tab of the default window on a 1440×900 screen (1296×810)
    settle(qtbot, explorer)
    assert strip.horizontalScrollBar().maximum() == 0
    area = strip.viewport().rect()
    for name, card in strip.cards.items():
        where = card.mapTo(strip.viewport(), card.rect().topLeft())
        assert area.contains(where) and area.contains(where + card.rect().bottomRight()), name


def test_the_mouse_wheel_scrolls_the_layer_cards(qtbot, env):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    _, _, explorer = env
    strip = explorer.strip
    explorer.resize(900, 600)  # short: one row that scrolls
    settle(qtbot, explorer)
    bar = strip.horizontalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    centre = QPointF(strip.viewport().rect().center())
    down = QWheelEvent(centre, strip.viewport().mapToGlobal(centre), QPoint(0, 0),
                       QPoint(0, -120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                       Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(strip.viewport(), down)
    assert bar.value() > 0  # a plain wheel notch scrolls the row sideways


def test_maps_are_never_drawn_under_48_pixels_on_a_small_screen(qtbot, env):
    """At 1366×768 the 64 maps of conv3 (and every block shown side by side) were drawn
    about 25-35 px wide. Now they are at least 48 px and the maps scroll instead."""
    state, _, explorer = env
    explorer.resize(950, 640)  # the CNN tab of a 1366×768 window
    show(qtbot, env, pad(default_sample()[0]))
    for layer, block in (("conv3", False), ("pool2", False), ("conv2", True)):
        explorer.show_block.setChecked(block)
        state.layer = layer
        settle(qtbot, explorer)
        qtbot.waitUntil(lambda: not explorer.grid._relayout.isActive())
        settle(qtbot, explorer)
        for s in explorer.grid.stages:
            per_pixel = s.view.sceneBoundingRect().width() / s.view.viewRect().width()
            assert per_pixel * s.geometry.w >= 47.5, (layer, block, per_pixel * s.geometry.w)
    area = explorer.page.grid_area
    assert area.verticalScrollBar().maximum() > 0  # the rest is a scroll away
    explorer.show_block.setChecked(False)
    state.layer = "conv1"  # 32 maps fit without scrolling
    settle(qtbot, explorer)
    qtbot.waitUntil(lambda: not explorer.grid._relayout.isActive())
    settle(qtbot, explorer)
    assert area.verticalScrollBar().maximum() == 0


def test_shared_and_per_map_colour_scales(qtbot, env):
    _, _, explorer = env
    analysis = show(qtbot, env, pad(default_sample()[0]))
    data = analysis.layer("conv1")
    s = stage(explorer, "conv1")
    assert explorer.shared_scale.isChecked()
    lo, hi = s.levels
    assert lo == -hi and hi >= np.abs(data).max()
    assert tuple(s.colorbar.levels()) == pytest.approx(s.levels)
    np.testing.assert_allclose(s.map_array(7), data[7], rtol=1e-6)

    explorer.shared_scale.setChecked(False)
    s = stage(explorer, "conv1")
    assert s.levels == (-1.0, 1.0)
    assert tuple(s.colorbar.levels()) == pytest.approx((-1.0, 1.0))
    for c in (0, 7):
        np.testing.assert_allclose(s.map_array(c), data[c] / np.abs(data[c]).max(), rtol=1e-5)
    assert s.levels != (lo, hi)


def test_clicking_a_map_shows_the_kernel_that_made_it(qtbot, env):
    state, _, explorer = env
    analysis = show(qtbot, env, pad(default_sample()[0]))
    net = state.model.model
    grid = explorer.grid
    s = stage(explorer, "conv1")
    pos = grid.mapFromScene(s.scene_point(5))
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
    detail = explorer.detail
    assert explorer.channel == 5
    assert detail.kernel_layer == "conv1" and detail.kernel_channel == 5
    weight = net.layers["conv1"].weight.detach().numpy()[5]  # (1, 3, 3)
    np.testing.assert_allclose(detail.kernels.weights, weight)
    # the numbers as written (2 decimals, the minus sign, never "−0.00") are the weights
    shown = [float(t.replace("−", "-")) for t in detail.kernels.numbers()]
    np.testing.assert_allclose(shown, weight.ravel(), atol=0.005 + 1e-9)
    assert not any(t in ("-0.00", "−0.00") for t in detail.kernels.numbers())
    bias = float(net.layers["conv1"].bias.detach()[5])
    assert formulas.fmt_number(bias) in detail.kernel_caption.text()
    np.testing.assert_allclose(detail.map_value, analysis.layer("conv1")[5])
    assert "(input ⋆ kernel) + bias" in detail.explain.text()

    # a ReLU map of the second block: the kernel of conv2 that feeds it, 32 kernels of 3x3
    state.layer = "relu2"
    s = stage(explorer, "relu2")
    pos = grid.mapFromScene(s.scene_point(7))
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
    assert detail.kernel_layer == "conv2" and detail.kernel_channel == 7
    np.testing.assert_allclose(detail.kernels.weights,
                               net.layers["conv2"].weight.detach().numpy()[7])
    assert detail.kernels.weights.shape == (32, 3, 3)
    assert "sum over the 32 input maps" in detail.explain.text()
    assert "bn2" in detail.explain.text() and "relu2" in detail.explain.text()
    np.testing.assert_allclose(detail.map_value, analysis.layer("relu2")[7])


def test_block_stages_side_by_side(qtbot, env):
    state, _, explorer = env
    analysis = show(qtbot, env, pad(default_sample()[0]))
    infos = analysis.layer_infos
    assert block_of(infos, "relu2") == ["conv2", "bn2", "relu2", "pool1"]
    assert block_of(infos, "conv1") == ["conv1", "bn1", "relu1"]
    assert block_of(infos, "flatten") == [] and block_of(infos, "input") == []
    state.layer = "relu2"
    explorer.show_block.setChecked(True)
    names = [s.name for s in explorer.grid.stages]
    assert names == ["conv2", "bn2", "relu2", "pool1"]
    for name in names:
        s = explorer.grid.stage(name)
        np.testing.assert_allclose(s.map_array(4), analysis.layer(name)[4], rtol=1e-6)
    # the same channel sits at the same place in every stage
    assert len({s.geometry.cols for s in explorer.grid.stages}) == 1
    explorer.show_block.setChecked(False)
    assert [s.name for s in explorer.grid.stages] == ["relu2"]


def test_flat_layers_are_bars(qtbot, env):
    state, _, explorer = env
    analysis = show(qtbot, env, pad(default_sample()[0]))
    state.layer = "softmax"
    assert explorer.bars._names == state.model.classes
    np.testing.assert_allclose(explorer.bars.values, analysis.probabilities, rtol=1e-6)
    state.layer = "flatten"
    assert explorer.bars.values.size == 1024
    state.layer = "dense1"
    explorer.bars.bar_clicked.emit(9)
    net = state.model.model
    np.testing.assert_allclose(explorer.detail.unit_bars.values,
                               net.layers["dense1"].weight.detach().numpy()[9], rtol=1e-6)


def test_model_picker_lists_shipped_models(qtbot, env):
    state, _, explorer = env
    texts = [explorer.model_combo.itemText(i) for i in range(explorer.model_combo.count())]
    acc = 100 * state.model.card["test_accuracy"]
    assert f"cnnviz — MNIST, {acc:.1f}%" in texts
    assert explorer.model_combo.currentText().startswith("cnnviz — MNIST")
    assert cnn_module.OPEN_ITEM in texts


def test_fashion_model_names_its_classes_and_layers_follow_model_changes(qtbot, env):
    state, _, explorer = env
    show(qtbot, env, pad(default_sample()[0]))
    state.layer = "pool2"
    combo = explorer.model_combo
    row = next(i for i in range(combo.count()) if combo.itemText(i).startswith("lecture-keras"))
    combo.setCurrentIndex(row)
    combo.activated.emit(row)
    assert state.model.name == "lecture-keras"
    assert state.layer == "pool2"  # kept: lecture-keras has a pool2 too
    state.layer = "relu1"
    row = next(i for i in range(combo.count()) if combo.itemText(i).startswith("cnnviz-fashion"))
    combo.activated.emit(row)
    assert "Fashion" in combo.currentText()
    assert "Trouser" in explorer.prob_plot._names
    assert state.layer == "relu1"
    assert explorer.controller.join(20)
    qtbot.waitUntil(lambda: explorer.analysis is state.analysis and state.analysis is not None)
    assert len(explorer.analysis.layer_infos) == len(state.model.model.layer_infos)
    # a layer name the new model lacks: back to its first conv layer
    state.layer = "bn1"
    row = next(i for i in range(combo.count()) if combo.itemText(i).startswith("lecture-keras"))
    combo.activated.emit(row)
    assert state.layer == "conv1"


def test_missing_shipped_model_is_shown_disabled(qtbot, monkeypatch, cnnviz_model):
    # the same dict cnnviz.core.networks.weights.load_shipped reads
    monkeypatch.setitem(weights_module.SHIPPED, "ghost",
                        ("ghost-mnist.safetensors", "a model that was never trained"))
    state = AppState()
    controller = AnalysisController(state)
    state.model = cnnviz_model
    explorer = CnnExplorer(state, controller)
    qtbot.addWidget(explorer)
    combo = explorer.model_combo
    row = next(i for i in range(combo.count()) if combo.itemText(i).startswith("ghost"))
    assert not combo.model().item(row).isEnabled()
    assert "missing" in combo.itemData(row, Qt.ItemDataRole.ToolTipRole)
    explorer.shutdown()
    controller.shutdown()


class _Marker:
    """Unpickling this creates a file: proof that a loader ran the pickle."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda parent, title, text, *a, **k: shown.append(text)))
    return shown


def test_a_hostile_pickle_file_is_refused(qtbot, env, tmp_path, warnings):
    state, _, explorer = env
    marker = tmp_path / "pwned"
    evil = tmp_path / "model.safetensors"
    evil.write_bytes(pickle.dumps(_Marker(str(marker)), protocol=2))
    before, combo_text = state.model, explorer.model_combo.currentText()
    assert open_weights(qtbot, explorer, evil) is False
    assert state.model is before
    assert explorer.model_combo.currentText() == combo_text
    assert len(warnings) == 1 and "pickle" in warnings[0] and "kept" in warnings[0]
    assert not marker.exists()


def test_a_damaged_file_is_refused(qtbot, env, tmp_path, warnings):
    state, _, explorer = env
    raw = shipped_weights_path("cnnviz").read_bytes()
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(raw[: len(raw) // 2])
    before = state.model
    assert open_weights(qtbot, explorer, broken) is False
    assert state.model is before
    assert len(warnings) == 1 and "broken.safetensors" in warnings[0]
    assert "damaged" in warnings[0] or "truncated" in warnings[0]
    assert open_weights(qtbot, explorer, tmp_path / "nothing-here.safetensors") is False
    assert state.model is before and len(warnings) == 2


def test_a_fifo_is_refused_and_the_window_keeps_running(qtbot, env, tmp_path, warnings):
    """File › Open weights on a FIFO froze the window for good (the read ran on the GUI
    thread). Now it is refused with a message and the event loop runs meanwhile."""
    import os

    from PySide6.QtCore import QTimer

    state, _, explorer = env
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    before = state.model
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(0)
    explorer.load_weights_file(fifo)  # returns at once: nothing is read here
    qtbot.waitUntil(lambda: bool(warnings), timeout=20000)
    timer.stop()
    assert ticks  # the event loop kept running
    assert state.model is before
    assert "pipe.safetensors" in warnings[0] and "not a regular" in warnings[0]
    assert "kept" in warnings[0]


def test_weights_are_read_off_the_gui_thread(qtbot, env, tmp_path, warnings, monkeypatch):
    """A slow read (a network disk) must not stop the window: the file is read on a worker
    while the GUI thread keeps handling events."""
    import threading

    from PySide6.QtCore import QTimer

    from cnnviz.core.basics import files as files_module

    state, _, explorer = env
    mine = tmp_path / "slow.safetensors"
    shutil.copy(shipped_weights_path("lecture-keras"), mine)
    released = threading.Event()
    readers = []
    real_read = files_module.read_regular_file

    def slow_read(path, max_bytes, what="file"):
        readers.append(threading.current_thread())
        released.wait(20)  # until the GUI thread has run (a safety limit, not a pause)
        return real_read(path, max_bytes, what)

    monkeypatch.setattr(weights_module, "read_regular_file", slow_read)
    QTimer.singleShot(0, released.set)  # runs only if the event loop is free
    assert open_weights(qtbot, explorer, mine) is True
    assert readers and readers[0] is not threading.main_thread()
    assert state.model.path == mine and not warnings


def test_opening_a_good_file_makes_it_the_model(qtbot, env, tmp_path, warnings):
    state, _, explorer = env
    mine = tmp_path / "my-model.safetensors"
    shutil.copy(shipped_weights_path("lecture-deep"), mine)
    assert open_weights(qtbot, explorer, mine) is True
    assert not warnings
    assert state.model.name == "lecture-deep" and state.model.path == mine
    assert "my-model.safetensors" in explorer.model_combo.currentText()
    assert [c for c in explorer.strip.cards] == ["input"] + [
        i.name for i in state.model.model.layer_infos]


def test_export_status_and_settings(qtbot, env, tmp_path):
    state, controller, explorer = env
    with qtbot.waitSignal(explorer.status_message, timeout=10000) as blocker:
        state.input_image = InputImage(pad(default_sample()[0]), "test")
    assert blocker.args[0].startswith("Updated in ") and "(network " in blocker.args[0]
    assert "background thread" in explorer.status_tip
    assert controller.join(20)
    qtbot.waitUntil(lambda: explorer.analysis is state.analysis)
    state.layer = "relu1"
    stem, array = explorer.export_array()
    assert stem == "cnnviz-relu1"
    np.testing.assert_array_equal(array, state.analysis.layer("relu1"))

    explorer.shared_scale.setChecked(False)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    explorer.save_settings(settings)
    settings.sync()

    state2 = AppState()
    controller2 = AnalysisController(state2)
    state2.model = state.model
    other = CnnExplorer(state2, controller2)
    qtbot.addWidget(other)
    other.restore_settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert not other.shared_scale.isChecked()
    assert state2.layer == "relu1" and other.layer == "relu1"
    other.shutdown()
    controller2.shutdown()


def test_shutdown_leaves_the_shared_controller_to_its_owner(qtbot, env):
    """The controller also serves the input panel: the explorer stops listening but leaves
    the worker to whoever made it (the main window stops it on close)."""
    state, controller, explorer = env
    show(qtbot, env, pad(default_sample()[0]))
    explorer.shutdown()
    assert controller.runner.is_alive()
    # later events are ignored, not drawn into a closing window
    count = redraws(explorer)
    state.publish_analysis(state.analysis)
    assert redraws(explorer) == count


def test_an_unusual_architecture_non_square_maps_stride_padding(qtbot, env, tmp_path, warnings):
    """A model the user trained: non-square kernels (so non-square maps), stride and
    padding, tanh and average pooling. Its maps are shown un-transposed and the cards work
    the lecture's formulas with its numbers."""
    from cnnviz.core.networks.models import (
        Activation,
        Architecture,
        Conv,
        Dense,
        Flatten,
        Pool,
        build_model,
    )
    from cnnviz.core.networks.weights import save_weights

    arch = Architecture(name="odd", description="test", layers=(
        Conv(6, (3, 5)), Activation("tanh"), Pool("avg", 2, 2),
        Conv(4, (3, 4), (2, 2), (1, 1)), Activation("relu"),
        Flatten(), Dense(10), Activation("softmax")))
    path = save_weights(build_model(arch, seed=1), tmp_path / "odd.safetensors",
                        {"dataset": "mnist", "test_accuracy": 0.5})
    state, _, explorer = env
    assert open_weights(qtbot, explorer, path), warnings
    assert "odd" in explorer.model_combo.currentText()
    analysis = show(qtbot, env, pad(default_sample()[0]))
    assert state.layer == "conv1"
    s = stage(explorer, "conv1")
    value = analysis.layer("conv1")
    assert value.shape == (6, 26, 24)
    for c in range(6):
        np.testing.assert_allclose(s.map_array(c), value[c], rtol=1e-6)
    cards = explorer.strip.cards
    assert "rows (28 − 3 + 2×0) / 1 + 1 = 26" in cards["conv1"].toolTip()
    assert "columns (28 − 5 + 2×0) / 1 + 1 = 24" in cards["conv1"].toolTip()
    assert "rows (13 − 3 + 2×1) / 2 + 1 = 7" in cards["conv2"].toolTip()
    assert "columns (12 − 4 + 2×1) / 2 + 1 = 6" in cards["conv2"].toolTip()
    assert "((3×4×6) + 1) × 4 = 292" in cards["conv2"].toolTip()
    assert "between −1 and 1" in cards["tanh1"].toolTip()
    state.layer = "pool1"
    assert stage(explorer).map_array(5).shape == (13, 12)
    explorer.grid.map_clicked.emit("pool1", 5)
    assert explorer.detail.kernel_layer == "conv1"
    assert explorer.detail.kernels.weights.shape == (1, 3, 5)


# ----- layout and wording (user test, round 4) ------------------------------------------


def choose(explorer, prefix):
    """Pick a model in the explorer's combo, as the user does."""
    combo = explorer.model_combo
    row = next(i for i in range(combo.count()) if combo.itemText(i).startswith(prefix))
    combo.setCurrentIndex(row)
    combo.activated.emit(row)


def plain(label) -> str:
    """A label's text as the user reads it (rich text rendered to plain)."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def settle(qtbot, widget):
    """Let layouts and the grid's delayed relayout finish (no fixed sleep)."""
    from PySide6.QtWidgets import QApplication

    qtbot.waitExposed(widget)
    for _ in range(5):  # layout requests post more layout requests: a few rounds
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def test_per_map_colour_note_is_written_once_in_the_block_view(qtbot, env):
    """Four stages side by side with a per-map scale: one caption says what the colours
    mean, not four that overwrite each other."""
    from PySide6.QtWidgets import QGraphicsTextItem

    state, _, explorer = env
    show(qtbot, env, pad(default_sample()[0]))
    state.layer = "relu2"
    explorer.show_block.setChecked(True)
    explorer.shared_scale.setChecked(False)
    settle(qtbot, explorer)
    texts = [item for item in explorer.grid.scene().items()
             if isinstance(item, QGraphicsTextItem) and item.isVisible()
             and "largest |value|" in item.toPlainText()]
    assert len(texts) == 1
    note = texts[0].sceneBoundingRect()
    assert note.left() >= 0 and note.right() <= explorer.grid.width()
    explorer.shared_scale.setChecked(True)  # one scale: nothing to explain
    assert not any(isinstance(item, QGraphicsTextItem) and item.isVisible()
                   and "largest |value|" in item.toPlainText()
                   for item in explorer.grid.scene().items())


def test_the_hint_never_runs_over_the_check_boxes(qtbot, env):
    """On a small screen the option row keeps both check boxes whole and the hover hint
    shows what fits (cut with "…"), never text clipped under its neighbours."""
    from PySide6.QtGui import QTextDocument

    state, _, explorer = env
    show(qtbot, env, pad(default_sample()[0]))
    state.layer = "relu2"  # the longest block: conv2 → bn2 → relu2 → pool1
    explorer.resize(820, 700)
    settle(qtbot, explorer)
    for box in (explorer.shared_scale, explorer.show_block):
        assert box.width() >= box.sizeHint().width(), box.text()
    hint = explorer.hover_label
    assert hint.geometry().left() >= explorer.show_block.geometry().right()
    doc = QTextDocument()
    doc.setDefaultFont(hint.font())
    doc.setDocumentMargin(0)
    doc.setHtml(hint.text())
    assert doc.idealWidth() <= hint.width()


def test_detail_panel_shows_the_whole_block_and_starts_at_the_top(qtbot, env):
    state, _, explorer = env
    show(qtbot, env, pad(default_sample()[0]))
    explorer.resize(1000, 600)  # a small screen: the detail panel needs its scroll bar
    explorer.splitter.setSizes([10000, 1])  # and is as narrow as it goes
    state.layer = "relu2"
    explorer.grid.map_clicked.emit("relu2", 11)
    settle(qtbot, explorer)
    detail = explorer.detail
    strip = detail.stages
    assert list(strip.items) == ["conv2", "bn2", "relu2", "pool1"]
    for name, item in strip.items.items():  # every stage, pool1 included, fits the strip
        for part in (item.getViewBox(), strip.titles[name]):
            rect = part.sceneBoundingRect()
            assert rect.left() >= 0 and rect.right() <= strip.width() + 0.5, name
    # scrolled down to read the kernel, then another layer: its details start at the top
    bar = detail.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())
    state.layer = "conv1"
    assert bar.value() == 0
    bar.setValue(bar.maximum())
    choose(explorer, "lecture-deep")
    assert state.model.name == "lecture-deep"
    assert bar.value() == 0


def test_dense_unit_weights_plot_is_in_view_with_its_axis(qtbot, env):
    state, _, explorer = env
    explorer.resize(1000, 700)
    show(qtbot, env, pad(default_sample()[0]))
    for layer in ("conv1", "relu2", "dense1"):  # (the long conv details came first)
        state.layer = layer
        settle(qtbot, explorer)
    explorer.bars.bar_clicked.emit(3)
    settle(qtbot, explorer)
    detail = explorer.detail
    plot = detail.unit_bars
    assert plot.isVisible()
    bottom = plot.mapTo(detail.viewport(), plot.rect().bottomLeft()).y()
    assert detail.verticalScrollBar().value() == 0
    assert bottom <= detail.viewport().height()  # the x axis is on screen, not below it


def test_fashion_class_names_all_readable_in_a_narrow_window(qtbot, env):
    from PySide6.QtGui import QFontMetrics, QImage, QPainter

    state, _, explorer = env
    choose(explorer, "cnnviz-fashion")
    explorer.resize(820, 700)
    settle(qtbot, explorer)
    plot = explorer.prob_plot
    axis = plot.getAxis("bottom")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setFont(axis.style["tickFont"])
    _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    painter.end()
    assert len(texts) == 10  # no name left out (T-shirt/top and Ankle boot were)
    # names on the same line of text do not overlap (a name may start on the second line)
    fm = QFontMetrics(axis.style["tickFont"])
    spans = []
    for rect, _flags, text in texts:
        for line, part in enumerate(text.split("\n")):
            if part:
                half = fm.horizontalAdvance(part) / 2
                spans.append((line, rect.center().x() - half, rect.center().x() + half, part))
    for i, (line, left, right, part) in enumerate(spans):
        for other in spans[i + 1:]:
            assert other[0] != line or other[1] >= right or other[2] <= left, (part, other)
    # shortened names still read as the class; the full name is given on hover
    shown = [text.replace("\n", "") for _rect, _flags, text in texts]
    for name, label in zip(state.model.classes, shown):
        assert label == name or label.rstrip("…") and name.startswith(label.rstrip("…"))
    assert plot.full_name(0) == "T-shirt/top"
    explorer.prob_plot.hovered.emit(9, 0.25)
    assert "Ankle boot" in explorer.hover_label.text()


def test_long_class_names_do_not_resize_the_probability_plot(qtbot, env):
    """"Ankle boot" as the answer made the answer column wider than "Bag" did, and the
    probability plot beside it changed size with every prediction."""
    from cnnviz.core.pictures.samples import load_samples

    state, _, explorer = env
    choose(explorer, "cnnviz-fashion")
    explorer.resize(1070, 790)
    settle(qtbot, explorer)
    images, labels, _ = load_samples("fashion-mnist")
    widths, answers = set(), set()
    for k in (9, 8, 0, 1, 5):  # Ankle boot, Bag, T-shirt/top, Trouser, Sandal
        i = int(np.flatnonzero(labels == k)[0])
        analysis = show(qtbot, env, images[i])
        settle(qtbot, explorer)
        answers.add(state.model.classes[analysis.prediction])
        widths.add((explorer.prob_plot.width(), explorer.prob_plot.x()))
    assert "Ankle boot" in answers and len(answers) >= 3
    assert len(widths) == 1, widths


def test_fashion_answer_and_a_sure_answer_never_says_100_percent(qtbot, env):
    from cnnviz.core.pictures.samples import load_samples

    state, _, explorer = env
    images, labels, _ = load_samples()
    # the shipped digit the MNIST model is surest about
    best = max(range(0, len(labels), 10),
               key=lambda i: analyze(state.model.model, pad(images[i])).probabilities.max())
    analysis = show(qtbot, env, pad(images[best]))
    assert analysis.probabilities.max() >= 0.9995  # would round to 100.0%
    assert "100.0%" not in plain(explorer.prob_label)
    assert ">99.9%" in plain(explorer.prob_label)


def test_a_picture_without_ink_says_no_digit_was_found(qtbot, env):
    _, _, explorer = env
    paper = np.full((900, 1200), 205.0, np.float32)  # a photo of blank paper
    analysis = show(qtbot, env, paper)
    assert analysis.digit.empty
    assert "No digit found in this picture" in plain(explorer.prob_label)
    assert "Draw a digit" not in plain(explorer.prob_label)
    show(qtbot, env, np.zeros((280, 280), np.float32))  # a cleared pad
    assert "Draw a digit" in plain(explorer.prob_label)


def test_no_digit_found_leaves_the_maps_empty_with_a_note(qtbot, env):
    """With nothing to read every map is one flat value (the biases); scaled by its own
    largest value it showed as solid red and blue squares. Now the maps are left empty,
    the cards grey, and a note says why; a digit brings them back."""
    state, _, explorer = env
    paper = np.full((900, 1200), 205.0, np.float32)  # a photo of blank paper
    analysis = show(qtbot, env, paper)
    assert analysis.digit.empty
    for name, card in explorer.strip.cards.items():
        if name != "input":
            assert card.thumb.image() is None, name  # a grey box, no stretched constant
    page = explorer.page
    assert page.empty_note.isVisibleTo(explorer)
    assert "No digit found" in plain(page.empty_note)
    s = stage(explorer, "conv1")
    assert np.isnan(s.map_array(0)).all() and not s.colorbar.isVisible()
    assert "No digit found" in explorer.detail.map_panel.message()
    state.layer = "dense1"  # a flat layer: bars at zero, the note stays
    assert np.all(explorer.bars.values == 0) and page.empty_note.isVisibleTo(explorer)
    state.layer = "conv1"
    analysis = show(qtbot, env, pad(default_sample()[0]))
    assert not page.empty_note.isVisibleTo(explorer)
    s = stage(explorer, "conv1")
    np.testing.assert_allclose(s.map_array(0), analysis.layer("conv1")[0], rtol=1e-6)
    assert s.colorbar.isVisible() and explorer.detail.map_panel.message() == ""
    assert explorer.strip.cards["conv1"].thumb.image() is not None


def test_a_constant_map_keeps_the_layer_scale_when_each_map_has_its_own(qtbot):
    from cnnviz.ui.cnn.feature_maps import FeatureMapGrid

    grid = FeatureMapGrid()
    qtbot.addWidget(grid)
    grid.resize(600, 300)
    grid.set_stages([("conv", "conv", (2, 4, 4))])
    data = np.stack([np.full((4, 4), 2.0, np.float32),
                     np.arange(16, dtype=np.float32).reshape(4, 4) / 15 * 4])
    grid.set_data({"conv": data}, shared=False)
    s = grid.stage("conv")
    np.testing.assert_allclose(s.map_array(1), data[1] / 4)  # its own largest value
    np.testing.assert_allclose(s.map_array(0), 0.5)  # 2 / the layer's 4, not a solid 1.0


def test_softmax_is_not_explained_as_adding_non_linearity(cnnviz_model):
    from cnnviz.core.networks.layer_cards import describe_layers

    text = next(t for t in describe_layers(cnnviz_model.model) if t.role == ROLE_PROBABILITIES)
    assert text.name == "softmax"
    assert "non-linearity" not in text.explanation
    assert "probabilities" in text.explanation and "add up to 1" in text.explanation
    relu = next(t for t in describe_layers(cnnviz_model.model)
                if t.kind == "activation" and t.spec.kind == "relu")
    assert "non-linearity" in relu.explanation  # the lecture's words stay where they fit


# ----- the input side with a Fashion-MNIST model --------------------------------------


@pytest.fixture
def panel_env(qtbot):
    from cnnviz.ui.input.panel import InputPanel

    def make(model_name="cnnviz-fashion", data_dir=None):
        state = AppState()
        controller = AnalysisController(state)
        state.model = load_shipped(model_name)
        panel = InputPanel(state, controller, data_dir=data_dir)
        qtbot.addWidget(panel)
        panel.resize(360, 760)
        panel.show()
        made.append((panel, controller))
        return state, controller, panel

    made = []
    yield make
    for panel, controller in made:
        panel.close_gallery()
        controller.shutdown()


def analysed(qtbot, controller, state, image, source="test"):
    state.input_image = InputImage(np.asarray(image, np.float32), source)
    assert controller.join(20)
    qtbot.waitUntil(lambda: state.analysis is not None
                    and state.analysis.digit.image is not None, timeout=10000)
    return state.analysis


def test_fashion_answer_is_the_class_name(qtbot, panel_env):
    state, controller, panel = panel_env()
    analysis = analysed(qtbot, controller, state, pad(default_sample()[0]))
    name = state.model.classes[analysis.prediction]
    assert len(name) > 3  # (the MNIST 3 reads as Sandal: a long name, once shown as "5")
    qtbot.waitUntil(lambda: name in panel.prediction_text.text())
    assert panel.prediction_label.text() == name
    assert panel.prediction_label.font().pointSizeF() < panel.answer.big_font.pointSizeF()


def test_fashion_wording_and_samples(qtbot, panel_env, fashion_test):
    state, controller, panel = panel_env()
    assert "Draw or open a picture" in panel.hint.text()
    assert "digit" not in panel.hint.text()
    assert panel.random_button.text() == "Random image"
    panel.pad.clear()
    analysed(qtbot, controller, state, np.zeros((280, 280), np.float32), "empty pad")
    qtbot.waitUntil(lambda: panel.prediction_text.text() == "Draw or open a picture")
    dialog = panel.gallery()
    assert dialog.dataset == "fashion-mnist" and dialog.list.count() == 300
    images, labels = fashion_test
    item = dialog.list.item(0)
    assert item.text() in state.model.classes
    with qtbot.waitSignal(dialog.digit_picked) as picked:
        dialog.pick(0)
    image, source = picked.args
    assert source.startswith("Fashion-MNIST test image #")
    i = int(source.split("#")[1].split(",")[0])
    np.testing.assert_array_equal(images[i], image)
    assert item.text() == state.model.classes[labels[i]]


def test_fashion_without_its_files_gets_the_shipped_fashion_images(qtbot, panel_env, tmp_path):
    """Without a data folder a Fashion-MNIST model got MNIST digits from Random and the
    gallery; now 100 Fashion-MNIST test images ship with cnnviz and it gets those."""
    from cnnviz.core.pictures.samples import load_samples

    state, controller, panel = panel_env(data_dir=str(tmp_path / "nothing-here"))
    assert "Only MNIST" not in panel.hint.text()
    images, labels, index = load_samples("fashion-mnist")
    assert images.shape == (100, 28, 28) and sorted(set(labels.tolist())) == list(range(10))
    with qtbot.waitSignal(panel.message) as said:
        panel.random_digit()
    assert "one of 100 shipped Fashion-MNIST test images" in said.args[0]
    image, source = state.image, state.image_source
    assert source.startswith("Fashion-MNIST test image #")
    i = int(source.split("#")[1].split(",")[0])
    np.testing.assert_array_equal(image, images[list(index).index(i)])
    assert source.endswith(state.model.classes[labels[list(index).index(i)]])
    dialog = panel.gallery()
    assert dialog.dataset == "fashion-mnist" and dialog.list.count() == 100
    assert dialog.list.item(0).text() in state.model.classes
    assert "cnnviz data download fashion-mnist" in dialog.intro.text()
    # an MNIST model: digits, no note
    state.model = load_shipped("cnnviz")
    assert "Draw a digit" in panel.hint.text() and "Only MNIST" not in panel.hint.text()
    assert dialog.dataset == "mnist" and "data download" not in dialog.intro.text()


def test_the_shipped_fashion_images_are_real_test_images(fashion_test):
    from cnnviz.core.pictures.samples import load_samples

    images, labels, index = load_samples("fashion-mnist")
    all_images, all_labels = fashion_test
    np.testing.assert_array_equal(images, all_images[index])
    np.testing.assert_array_equal(labels, all_labels[index])
    assert all((labels == k).sum() == 10 for k in range(10))


def test_a_dataset_without_shipped_pictures_says_only_mnist_ships():
    from cnnviz.ui.input.wording import gallery_fallback_note, heading, wording

    class Model:
        dataset = "fashion-mnist"

    words = wording(Model())
    assert "Only MNIST digits ship with cnnviz" in heading(words, True)
    assert "cnnviz data download fashion-mnist" in heading(words, True)
    assert "Only MNIST" not in heading(words, False)
    assert "Only MNIST digits ship" in gallery_fallback_note("fashion-mnist")


def test_preprocessing_captions_fit_a_narrow_panel(qtbot, panel_env):
    state, controller, panel = panel_env("cnnviz")
    panel.resize(300, 760)
    analysed(qtbot, controller, state, pad(default_sample()[0]))
    qtbot.waitUntil(lambda: len(panel.preprocessing.steps) >= 5)
    settle(qtbot, panel)
    for view in panel.preprocessing.steps + [panel.network_input]:
        caption = view.caption
        fm = caption.fontMetrics()
        for word in caption.text().split():
            assert fm.horizontalAdvance(word) <= caption.width(), (word, caption.width())
    # one picture size for the row, so the captions line up
    for width in (300, 347, 362):
        panel.resize(width, 760)
        settle(qtbot, panel)
        views = panel.preprocessing.steps + [panel.network_input]
        assert len({v.picture.height() for v in views}) == 1, width
        assert len({v.caption.y() for v in views}) == 1, width


def test_layer_thumbnails_show_the_newest_output(qtbot):
    """Thumbnails are made when painted (cards scrolled out of view cost nothing per stroke),
    and always from the newest output, never a stale one."""
    from cnnviz.ui.cnn.network_strip import Thumbnail, thumbnail_image

    thumb = Thumbnail()
    qtbot.addWidget(thumb)
    first = np.zeros((4, 6, 6), np.float32)
    newest = np.arange(4 * 6 * 6, dtype=np.float32).reshape(4, 6, 6) - 50
    thumb.set_value(first)
    thumb.set_value(newest)
    got, want = thumb.image(), thumbnail_image(newest)
    assert got.size() == want.size() and got.colorTable() == want.colorTable()
    assert bytes(got.constBits()) == bytes(want.constBits())
    assert thumb.image() is got  # made once, not again on every paint


def test_a_weights_file_with_an_odd_card_opens(qtbot, env, tmp_path):
    """A user's file whose card says "dataset": ["mnist"] opens like any other (it used to
    raise out of the explorer's labels and the status bar)."""
    import json

    from cnnviz.core.networks.models import build_model
    from cnnviz.core.networks.weights import save_weights

    path = save_weights(build_model("lecture-keras", seed=1), tmp_path / "odd.safetensors",
                        {"dataset": ["mnist"], "test_accuracy": "high"})
    state, _controller, explorer = env
    assert open_weights(qtbot, explorer, path)
    assert state.model.path == path and state.model.dataset == "mnist"
    assert json.dumps(state.model.card) == "{}"
    assert "MNIST" in explorer.model_combo.currentText()


def test_a_tiny_negative_weight_is_not_written_minus_zero(qtbot):
    from cnnviz.ui.cnn.kernel_view import LayerKernelsView

    view = LayerKernelsView()
    qtbot.addWidget(view)
    view.set_kernels(np.array([[[-0.003, 0.25, -0.4], [0.0, -0.0, 1.0], [2e-9, -2e-9, 0.1]]],
                              np.float32))
    assert view.numbers() == ["0.00", "0.25", "−0.40", "0.00", "0.00", "1.00",
                              "0.00", "0.00", "0.10"]


def test_a_keras_homework_file_opens_like_a_cnnviz_one(qtbot, env):
    """Open model reads a .keras file (no TensorFlow): the picker names it, every layer has
    its card, and the answer is the file's network's."""
    from pathlib import Path

    state, _, explorer = env
    keras_file = Path(__file__).resolve().parents[1] / "data" / "keras" / "lecture.keras"
    assert open_weights(qtbot, explorer, keras_file)
    assert state.model.card["made_with"].startswith("Keras")
    assert "lecture.keras" in explorer.model_combo.currentText()
    analysis = show(qtbot, env, pad(default_sample()[0]))
    assert list(explorer.strip.cards) == ["input"] + [i.name for i in state.model.model.layer_infos]
    assert analysis.prediction == default_sample()[1]


def test_the_softmax_on_a_log_scale_shows_the_runners_up(qtbot, env):
    """Linear bars show only the winner; on the log scale each bar is its probability's
    decades above 1e-12, and a tiny probability reads '< 0.01%', never 1.9e-12."""
    state, _controller, explorer = env
    analysis = show(qtbot, env, pad(default_sample()[0]))
    probs = np.asarray(analysis.probabilities, np.float64)
    plot, box = explorer.answer.prob_plot, explorer.answer.log_box
    linear = np.asarray(plot.bars.opts["height"], np.float64)
    np.testing.assert_allclose(linear, probs)
    box.setChecked(True)
    shown = np.asarray(plot.bars.opts["height"], np.float64)
    np.testing.assert_allclose(shown, np.maximum(np.log10(np.maximum(probs, 1e-300)), -12) + 12,
                               atol=1e-9)
    runner_up = int(np.argsort(probs)[-2])
    assert shown[runner_up] > 0.05 * shown.max() > linear[runner_up] / linear.max() * shown.max()
    tiny = int(np.argmin(probs))
    assert probs[tiny] < 1e-4
    explorer._on_prob_hover(tiny, float(probs[tiny]))
    text = html.unescape(explorer.hover_label.text())  # (rich text)
    assert "< 0.01%" in text and "e-" not in text
    box.setChecked(False)
    np.testing.assert_allclose(np.asarray(plot.bars.opts["height"], np.float64), probs)

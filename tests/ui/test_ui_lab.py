"""The training lab tab: the architecture editor against the built torch module, messages
for bad text and impossible layers, undo and redo, the text and JSON forms, the settings,
and the confusion matrix's cells against labels and predictions computed here."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from lab_fakes import ScriptedJob  # (tests/ is on sys.path)

from cnnviz.app_state import AppState
from cnnviz.core.basics.formulas import fmt_count, fmt_shape
from cnnviz.core.networks.arch_text import parse_architecture
from cnnviz.core.networks.layers import Conv, Dense, Dropout, Pool
from cnnviz.core.networks.models import ARCHITECTURES, Architecture, Network
from cnnviz.core.training.job import EpochDone
from cnnviz.ui.lab.editor import ArchitectureEditor
from cnnviz.ui.lab.explorer import TrainingLab
from cnnviz.ui.lab.live import clock, filter_mosaic


@pytest.fixture
def editor(qtbot):
    widget = ArchitectureEditor()
    qtbot.addWidget(widget)
    return widget


def torch_shapes_and_counts(arch: Architecture) -> list[tuple[tuple[int, ...], int]]:
    """Each layer's output shape (one image) and trainable parameters, read off the torch
    module itself: forward hooks on a real forward pass and numel of each module."""
    net = Network(arch).eval()
    shapes = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: shapes.append(tuple(out.shape[1:])))
             for m in net.layers.values()]
    with torch.no_grad():
        h = torch.zeros((1, *arch.input_shape))
        for layer in net.layers.values():  # every layer, softmax included
            h = layer(h)
    for hook in hooks:
        hook.remove()
    counts = [sum(p.numel() for p in m.parameters() if p.requires_grad)
              for m in net.layers.values()]
    return list(zip(shapes, counts))


def table_rows(editor: ArchitectureEditor) -> list[tuple[str, str]]:
    t = editor.table
    return [(t.item(r, 2).text(), t.item(r, 3).text()) for r in range(t.rowCount())]


@pytest.mark.parametrize("preset", sorted(ARCHITECTURES))
def test_every_preset_shows_the_torch_modules_shapes_and_counts(editor, preset):
    i = editor.preset_combo.findData(preset)
    editor.preset_combo.setCurrentIndex(i)
    editor.preset_combo.activated.emit(i)
    arch = ARCHITECTURES[preset]
    assert editor.architecture().layers == arch.layers
    want = torch_shapes_and_counts(arch)
    assert table_rows(editor) == [(fmt_shape(s), fmt_count(n)) for s, n in want]
    total = sum(n for _s, n in want)
    assert f"Total: {fmt_count(total)} parameters" in editor.total_label.text()
    assert editor.valid()


def _random_architecture(rng: random.Random) -> Architecture:
    """A random network that works: conv/pool blocks while the map allows, then dense."""
    layers, side = [], 28
    for _ in range(rng.randint(1, 3)):
        k = rng.choice([1, 3, 5])
        s = rng.choice([1, 1, 2])
        p = rng.choice([0, 0, 1])
        if (side - k + 2 * p) // s + 1 < 2 or (side - k + 2 * p) % s:
            s = 1  # a convolution must fit the map exactly (cnnviz's rule)
        if side - k + 2 * p < 1:
            break
        layers.append(Conv(rng.choice([2, 4, 8]), (k, k), (s, s), (p, p)))
        side = (side - k + 2 * p) // s + 1
        layers.append(rng.choice([Pool("max", 2, 2), Pool("avg", 2, 2), Pool("min", 2, 2)])
                      if side >= 4 and rng.random() < 0.6 else Dropout(0.1))
        if isinstance(layers[-1], Pool):
            side = (side - 2) // 2 + 1
    text_layers = ", ".join(["flatten"] + [f"dense {rng.choice([16, 32])}"] * rng.randint(0, 2)
                            + ["dense 10"])
    head = parse_architecture("conv 1 1, " + text_layers).layers[1:]
    return Architecture("random", "", tuple(layers) + head)


@pytest.mark.parametrize("seed", range(6))
def test_random_valid_architectures_agree_with_torch(editor, seed):
    arch = _random_architecture(random.Random(seed))
    editor.set_architecture(arch)
    want = torch_shapes_and_counts(arch)
    assert table_rows(editor) == [(fmt_shape(s), fmt_count(n)) for s, n in want]
    assert editor.valid()


def test_the_lectures_formulas_are_written_with_the_numbers(editor):
    editor.choose_preset("lecture-keras")
    how = editor.table.item(0, 4).text()
    assert "(28 − 3 + 2×0) / 1 + 1 = 26" in how
    assert "((3×3×1) + 1) × 64 = 640" in how
    dense = next(r for r in range(editor.table.rowCount())
                 if editor.table.item(r, 1).text() == "dense 10")
    assert "(1,600 + 1) × 10 = 16,010" in editor.table.item(dense, 4).text()


def test_an_impossible_layer_is_marked_and_said_in_words(editor):
    editor.choose_preset("lecture-keras")
    editor.table.selectRow(3)  # conv 64 3 on the 13x13 map
    editor.fields.kernel_h.setValue(14)  # larger than the 13x13 map
    editor.fields.kernel_w.setValue(14)
    assert not editor.valid()
    how = editor.table.item(3, 4).text()
    assert "larger than" in how and "13" in how
    assert editor.table.item(4, 2).text() == "—"  # the layers after it have no shape
    assert "Cannot train yet" in editor.total_label.text()
    assert "layer 4" in editor.problem()


def test_dense_before_flatten_is_said(editor):
    editor.text_edit.setText("conv 8 3, relu, dense 10")
    assert not editor.apply_text()
    assert "layer 3 (dense 10)" in editor.text_message.text()
    assert "Flatten" in editor.text_message.text()
    editor.set_architecture(Architecture("x", "", (Conv(8), Dense(10))))
    assert "flat input" in editor.table.item(1, 4).text()
    assert not editor.valid()


@pytest.mark.parametrize("text, words", [
    ("conv 64, relu, flatten, dense 10", "layer 1 (conv 64)"),
    ("conv 8 3, relu, maxpool 2, flatten, dense 12", "10"),
    ("conv 8 3, wobble, flatten, dense 10", "layer 2 (wobble)"),
    ("", "no layers"),
])
def test_bad_text_gives_one_message_and_keeps_the_network(editor, text, words):
    before = editor.architecture()
    editor.text_edit.setText(text)
    assert not editor.apply_text()
    assert words in editor.text_message.text()
    assert editor.architecture() == before


def test_text_typed_is_checked_as_you_type_and_used_on_enter(editor, qtbot):
    editor.text_edit.clear()
    qtbot.keyClicks(editor.text_edit, "conv 8 3, relu, flatten, dense")
    assert "dense" in editor.text_message.text()  # "dense needs one number of units"
    qtbot.keyClicks(editor.text_edit, " 10")
    assert editor.text_message.text() == ""
    from PySide6.QtCore import Qt

    qtbot.keyClick(editor.text_edit, Qt.Key.Key_Return)
    assert [type(s).__name__ for s in editor.architecture().layers] == [
        "Conv", "Activation", "Flatten", "Dense"]
    assert editor.table.item(3, 3).text() == fmt_count((8 * 26 * 26 + 1) * 10)


def test_text_and_json_round_trip_through_the_editor(editor):
    editor.choose_preset("cnnviz")
    text = editor.text_edit.text()
    editor.json_toggle.setChecked(True)
    data = json.loads(editor.json_edit.toPlainText())
    assert data == json.loads(json.dumps(ARCHITECTURES["cnnviz"].to_dict()))
    editor.choose_preset("lecture-deep")
    editor.json_edit.setPlainText(json.dumps(data))
    assert editor.apply_json()
    assert editor.architecture() == ARCHITECTURES["cnnviz"]
    assert editor.text_edit.text() == text
    editor.text_edit.setText(text)
    assert editor.apply_text()
    assert editor.architecture().layers == ARCHITECTURES["cnnviz"].layers
    editor.json_edit.setPlainText('{"layers": [{"type": "dense", "units": 10}], "input_shape": 5}')
    assert not editor.apply_json()
    assert editor.json_message.text().startswith("Not used")


def test_undo_and_redo_go_over_every_kind_of_edit(editor):
    editor.choose_preset("lecture-keras")
    keras = editor.architecture().layers
    flatten = [type(s).__name__ for s in keras].index("Flatten")
    editor.table.selectRow(flatten)
    editor.add_layer("dense 128", "Dense")  # the lecture's "add a dense layer"
    editor.add_layer("dropout 0.25", "Dropout")
    editor.add_layer("relu", "ReLU")
    editor.move_layer(-1)  # dense 128, relu, dropout
    texts = editor.text_edit.text()
    assert "flatten, dense 128, relu, dropout 0.25, dense 10" in texts
    editor.table.selectRow(flatten + 1)
    for units in (12, 120, 1200):  # typing 1, 2, 0, 0 into the units box: one step
        editor.fields.units.setValue(units)
    assert "dense 1200" in editor.text_edit.text()
    steps = editor.undo_stack.count()
    editor.undo_stack.undo()
    assert "dense 128," in editor.text_edit.text()
    editor.undo_stack.undo()  # the move
    editor.undo_stack.undo()  # the relu
    assert "flatten, dense 128, dropout 0.25, dense 10" in editor.text_edit.text()
    editor.undo_stack.redo()
    editor.undo_stack.redo()
    editor.undo_stack.redo()
    assert "dense 1200" in editor.text_edit.text()
    assert editor.undo_stack.count() == steps
    while editor.undo_stack.canUndo():
        editor.undo_stack.undo()
    assert editor.architecture().layers == keras
    assert editor.undo_button.isEnabled() is False and editor.redo_button.isEnabled()


def test_remove_and_an_edited_preset_is_renamed(editor):
    editor.choose_preset("lecture-keras")
    editor.table.selectRow(1)
    editor.remove_layer()
    assert editor.architecture().name == "lecture-keras-edited"
    assert len(editor.architecture().layers) == len(ARCHITECTURES["lecture-keras"].layers) - 1
    editor.undo_stack.undo()
    assert editor.architecture() == ARCHITECTURES["lecture-keras"]


def test_every_control_has_a_tooltip(qtbot):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit

    lab = TrainingLab(AppState(), job_factory=ScriptedJob)
    qtbot.addWidget(lab)
    controls = [w for kind in (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit)
                for w in lab.findChildren(kind)]
    # Qt's own parts (a spin box's line edit, a table's corner, a tab bar's arrows) aside
    missing = [w for w in controls if not w.toolTip() and not w.objectName().startswith("qt_")
               and w.parent().metaObject().className() != "QTabBar" and w.isVisibleTo(lab)]
    names = [f"{w.metaObject().className()} {getattr(w, 'text', lambda: '')()!r}"
             for w in missing]
    assert names == []
    lab.shutdown()


def test_helpers():
    assert clock(75) == "1:15" and clock(3725) == "1:02:05" and clock(None) == "…"
    w = np.zeros((4, 1, 3, 3), np.float32)
    w[1, 0, 1, 1] = -2.0
    w[3, 0, 0, 0] = 0.5
    mosaic = filter_mosaic(w)
    assert mosaic.shape == (2 * 4 + 1, 2 * 4 + 1)
    assert mosaic[1 + 1, 4 + 1 + 1] == -1.0  # filter 1, scaled by its own peak
    assert mosaic[4 + 1, 4 + 1] == 1.0  # filter 3's top-left


# ---------------------------------------------------------------------------------------
# The confusion matrix's cells


def test_a_confusion_cell_shows_exactly_its_test_images(qtbot, mnist_test, tmp_path):
    """Predictions of the shipped lecture-keras model on 300 test images, computed here with
    torch; a scripted epoch carries them; each cell shows the images whose label and
    prediction are that cell's, most confident first, and a click makes one the input."""
    from cnnviz.core.networks.weights import load_shipped

    images, labels = mnist_test
    images, labels = images[:300], labels[:300]
    net = load_shipped("lecture-keras").model.eval()
    with torch.no_grad():
        probs = torch.softmax(net(torch.tensor(images).float()[:, None] / 255), 1).numpy()
    predictions = probs.argmax(1)
    confidence = probs.max(1)
    confusion = np.zeros((10, 10), int)
    for t, p in zip(labels, predictions):
        confusion[t, p] += 1

    state = AppState()
    lab = TrainingLab(state, job_factory=ScriptedJob)
    qtbot.addWidget(lab)
    lab.files.test_images, lab.files.test_labels = images, labels
    lab.files._test_key = ("mnist", "x")
    lab.run.add_epoch(EpochDone(epoch=1, train_loss=0.2, train_accuracy=0.95, test_loss=0.3,
                                test_accuracy=float((predictions == labels).mean()),
                                test_predictions=predictions, test_confidence=confidence,
                                confusion=confusion))
    assert lab.last_epoch is lab.run.epochs[-1] and lab.confusion.item(3, 3).text() == str(
        confusion[3, 3])  # the matrix follows the run model
    wrong = [(t, p) for t in range(10) for p in range(10) if t != p and confusion[t, p]]
    for t, p in [(3, 3)] + wrong[:3]:
        lab.confusion.cell_clicked.emit(t, p)
        shown = lab.cell_images.indices
        assert len(shown) == confusion[t, p] == int(lab.confusion.item(t, p).text())
        assert all(labels[i] == t and predictions[i] == p for i in shown)
        assert list(confidence[shown]) == sorted(confidence[shown], reverse=True)
    t, p = wrong[0]
    lab.confusion.cell_clicked.emit(t, p)
    item = lab.cell_images.list.item(0)
    lab.cell_images.list.itemClicked.emit(item)
    i = lab.cell_images.indices[0]
    assert np.array_equal(state.image, images[i].astype(np.float32))
    assert f"#{i}" in state.image_source and f"a {t}" in state.image_source
    lab.shutdown()


# ---------------------------------------------------------------------------------------
# In the window


def test_the_lab_is_the_third_tab_with_ctrl_3_and_its_shortcuts_listed(qtbot, qapp, tmp_path,
                                                                        monkeypatch, mnist_dir):
    from PySide6.QtCore import QSettings, Qt

    from cnnviz.ui.window.main_window import MainWindow

    monkeypatch.setenv("CNNVIZ_MODELS_DIR", str(tmp_path / "models"))
    old = (qapp.organizationName(), QSettings.defaultFormat())
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "s"))
    qapp.setOrganizationName("cnnviz-test-lab")
    try:
        window = MainWindow(AppState())
        qtbot.addWidget(window)
        window.load_defaults()
        window.show()
        qtbot.waitExposed(window)
        assert window.tabs.count() == 4 and window.tabs.tabText(2) == "Training lab"
        assert window.tabs.tabToolTip(2)
        window.raise_()
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
        window.input_panel.pad.setFocus()
        qtbot.keyClick(window.input_panel.pad, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: window.tabs.currentIndex() == 2)
        assert window.tab_actions[2].isChecked() and window.current_explorer() is window.lab
        rows = dict(window.shortcut_rows())
        assert rows["Training lab"] == "Ctrl+3"
        assert any("network edit" in what for what in rows)
        # closing the window mid-training ends the job
        window.lab.controller._job_factory = ScriptedJob
        ScriptedJob.made.clear()
        monkeypatch.setenv("CNNVIZ_DATA_DIR", mnist_dir)
        window.lab.set_data_dir(mnist_dir)
        assert window.lab.start()
        job = ScriptedJob.made[-1]
        job.push("started")
        window.lab.controller.poll()
        assert window.state.training
        window.close()
        assert job.closed and not window.state.training
    finally:
        qapp.setOrganizationName(old[0])
        QSettings.setDefaultFormat(old[1])


def test_the_network_and_settings_come_back_after_a_restart(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "lab.ini"), QSettings.Format.IniFormat)
    lab = TrainingLab(AppState(), job_factory=ScriptedJob)
    qtbot.addWidget(lab)
    lab.editor.text_edit.setText("conv 16 5 pad=2, relu, maxpool 2, flatten, dropout 0.3, dense 10")
    assert lab.editor.apply_text()
    lab.settings.apply({"optimizer": "sgd", "momentum": 0.9, "lr": 0.05, "epochs": 7,
                        "dataset": "fashion-mnist", "augment": True, "seed": 42})
    lab.save_settings(settings)
    lab.shutdown()
    again = TrainingLab(AppState(), job_factory=ScriptedJob)
    qtbot.addWidget(again)
    again.restore_settings(settings)
    assert again.editor.text_edit.text() == ("conv 16 5 pad=2, relu, maxpool 2, flatten, "
                                             "dropout 0.3, dense 10")
    assert not again.editor.undo_stack.canUndo()  # the starting point, not an edit
    config = again.settings.config()
    assert (config.optimizer, config.sgd_momentum, config.lr, config.epochs, config.augment,
            config.seed) == ("sgd", 0.9, 0.05, 7, True, 42)
    assert again.settings.dataset() == "fashion-mnist"
    settings.setValue("TrainingLab/architecture", "{not json")
    settings.setValue("TrainingLab/epochs", "many")
    third = TrainingLab(AppState(), job_factory=ScriptedJob)
    qtbot.addWidget(third)
    third.restore_settings(settings)  # a damaged setting: the defaults, no error
    assert third.editor.architecture() == ARCHITECTURES["lecture-keras"]
    assert third.settings.config().epochs == 3
    again.shutdown()
    third.shutdown()


@pytest.mark.parametrize("size", [(1600, 1000), (1366, 768), (1024, 700)])
def test_the_lab_is_usable_at_every_screen_size(qtbot, settings_sandbox, size):
    """Six layers of the table in view, live plots at least 150 px tall, and every button
    of the right side inside its scroll area at its full width (none cut off)."""
    from PySide6.QtWidgets import QAbstractButton

    from cnnviz.app_state import AppState
    from cnnviz.ui.window.main_window import MainWindow

    w = MainWindow(AppState())
    qtbot.addWidget(w)
    w.load_defaults()
    w.show()
    w.setGeometry(0, 0, size[0], size[1] - 28)  # (the screen less a title bar)
    w.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: w.lab.isVisible() and w.lab.editor.table.rowCount() >= 6)
    qtbot.wait(50)
    table = w.lab.editor.table
    rows_in_view = sum(1 for r in range(table.rowCount())
                       if table.rowViewportPosition(r) >= 0
                       and table.rowViewportPosition(r) + table.rowHeight(r)
                       <= table.viewport().height())
    assert rows_in_view >= 6, (size, rows_in_view)
    for plot in (w.lab.curves.loss_plot, w.lab.curves.acc_plot, w.lab.filter_view,
                 w.lab.probe_view.bars):
        assert plot.height() >= 150, (size, type(plot).__name__, plot.height())
    for button in w.lab.findChildren(QAbstractButton):
        if button.isVisible() and button.text() and not button.text().isdigit():
            assert button.width() >= button.minimumSizeHint().width(), (size, button.text())

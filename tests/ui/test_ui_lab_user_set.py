"""The training lab on the user's own set: a small set of three drawn stroke classes trains
in the lab's child process and the class names reach the editor's last layer, the
probability bars, the confusion matrix (checked against the kept weights run here with
torch) and the kept model's card; fine-tuning only the last layer changes only the last
layer (the training child run in this process, its weights compared tensor by tensor);
the augmentation preview shows what cnnviz.core.training.loop.augment_batch makes with the same
generator seed."""

from __future__ import annotations

import queue
import threading

import numpy as np
import pytest
import torch
from lab_fakes import ScriptedJob  # (tests/ is on sys.path)
from stroke_sets import SHAPES, stroke_drawing, stroke_set, tiny_arch

from cnnviz.app_state import AppState, InputImage
from cnnviz.core.networks import catalogue
from cnnviz.core.networks.models import Network
from cnnviz.core.networks.weights import load_weights
from cnnviz.core.training.job import RunPhase, _Child, _Setup
from cnnviz.core.training.loop import TrainConfig, augment_batch, to_tensor
from cnnviz.ui.lab.explorer import TrainingLab
from cnnviz.ui.lab.settings_panel import OWN_SET

NAMES = list(SHAPES)  # circle, cross, zigzag


@pytest.fixture(scope="module")
def small_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sets") / "strokes"
    stroke_set(folder, per_class=12, seed=3)
    return folder


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv(catalogue.MODELS_ENV_VAR, str(folder))
    return folder


class OptionsJob(ScriptedJob):
    """The scripted job, also taking the options a run on the user's set is given."""

    def __init__(self, *args, user_set=None, test_share=0.2, only_last_layer=False, **kw):
        super().__init__(*args, **kw)
        self.options = {"user_set": user_set, "test_share": test_share,
                        "only_last_layer": only_last_layer}


def make_lab(qtbot, monkeypatch, mnist_dir, job_factory=None) -> TrainingLab:
    monkeypatch.setenv("CNNVIZ_DATA_DIR", mnist_dir)
    state = AppState()
    state.catalogue = catalogue.shipped_entries()
    lab = TrainingLab(state, job_factory=job_factory)
    qtbot.addWidget(lab)
    return lab


def choose_set(lab: TrainingLab, qtbot, folder) -> None:
    lab.settings.set_choice.set_folder(str(folder))
    lab.settings.apply({"dataset": OWN_SET})
    qtbot.waitUntil(lambda: lab.editor.class_names == NAMES, timeout=30_000)


def last_dense_row(lab: TrainingLab) -> int:
    rows = lab.editor.table.rowCount()
    last = lab.editor.checks[-1]
    return rows - 2 if getattr(last.spec, "ends_network", False) else rows - 1


def test_choosing_the_set_resizes_the_last_layer_names_its_outputs_and_previews_it(qtbot, monkeypatch,
                                                                      mnist_dir, small_set):
    lab = make_lab(qtbot, monkeypatch, mnist_dir, OptionsJob)
    lab.editor.choose_preset("lecture-keras")
    choose_set(lab, qtbot, small_set)
    row = last_dense_row(lab)
    assert lab.editor.table.item(row, 2).text() == "3"
    assert "circle, cross, zigzag" in lab.editor.table.item(row, 1).toolTip()
    assert "3 outputs" in lab.editor.class_note.text() and "Dense 10 to Dense 3" in \
        lab.editor.class_note.text()
    assert lab.editor.valid()
    assert Network(lab.editor.architecture())(torch.zeros(1, 1, 28, 28)).shape == (1, 3)
    assert lab.confusion.classes == NAMES and lab.probe_view.classes == NAMES  # before a run
    check_the_preview_is_augment_batch_with_the_same_seed(lab, qtbot, small_set)
    # back to MNIST: ten outputs again
    lab.settings.apply({"dataset": "mnist"})
    assert lab.editor.table.item(last_dense_row(lab), 2).text() == "10"
    assert not lab.editor.class_names and lab.editor.valid()
    lab.shutdown()


def test_fine_tuning_a_shipped_model_replaces_its_last_layer_and_freezes_the_rest(
        qtbot, monkeypatch, mnist_dir, small_set):
    lab = make_lab(qtbot, monkeypatch, mnist_dir, OptionsJob)
    choose_set(lab, qtbot, small_set)
    entry = next(e for e in lab.state.catalogue if e.loaded is not None)
    assert lab.settings.start_from.choose(entry.key)
    assert lab.settings.start_from.only_last.isEnabled()
    lab.settings.start_from.only_last.setChecked(True)
    # the editor shows the shipped network with a last layer of three outputs
    assert lab.editor.table.item(last_dense_row(lab), 2).text() == "3"
    assert "Fine-tuning" in lab.editor.class_note.text()
    assert lab.start(), lab.message.text()
    job = OptionsJob.made[-1]
    assert job.options == {"user_set": str(small_set), "test_share": 0.2,
                           "only_last_layer": True}
    source = entry.loaded.model.state_dict()
    last = lab.editor.checks[last_dense_row(lab)].name
    for key, value in job.initial_state.items():
        if key.startswith(f"layers.{last}."):
            assert value.shape[0] == 3  # the new last layer
        else:
            assert np.array_equal(value, source[key].numpy()), key
    assert lab.controller.settings.start_name == entry.loaded.name
    lab.shutdown()


def run_child(setup: _Setup) -> list[dict]:
    """The lab's training child run in this process (its queues plain queues) until it
    finishes; then asked to close. The events it sent, in order."""
    commands, events = queue.Queue(), queue.Queue()
    child = _Child(setup, commands, events)
    thread = threading.Thread(target=child.run, daemon=True)
    thread.start()
    seen = []
    while True:
        event = events.get(timeout=120)
        seen.append(event)
        if event.type in ("finished", "stopped", "error"):
            break
    commands.put(("close",))
    thread.join(30)
    assert not thread.is_alive()
    return seen


def test_only_the_last_layer_changes_when_only_it_is_trained(small_set):
    torch.manual_seed(0)
    start = Network(tiny_arch(3))
    initial = {k: v.numpy().copy() for k, v in start.state_dict().items()}
    config = TrainConfig(epochs=1, batch_size=8, lr=0.01, optimizer="adam",
                         schedule="constant", augment=False)
    setup = _Setup(tiny_arch(3).to_dict(), "mnist", None, config.__dict__, None, None,
                   initial, 1, "cpu", str(small_set), 0.3, True)
    events = run_child(setup)
    kinds = [e.type for e in events]
    assert kinds[-1] == "finished", events[-1]
    started = next(e for e in events if e.type == "started")
    assert started.classes == NAMES
    held = next(e for e in events if e.type == "test_set")
    assert held.images.shape[1:] == (28, 28) and set(held.labels) <= {0, 1, 2}
    epoch = next(e for e in events if e.type == "epoch")
    assert np.asarray(epoch.confusion).shape == (3, 3)
    after = [e for e in events if e.type == "weights"][-1].state
    last = start.layer_infos[-2].name  # the dense layer before the softmax
    for key, value in initial.items():
        if key.startswith(f"layers.{last}."):
            assert not np.array_equal(after[key], value), key
        else:
            assert np.array_equal(after[key], value), key


def check_the_preview_is_augment_batch_with_the_same_seed(lab, qtbot, small_set):
    from cnnviz.core.training.user_training import PREVIEW_SIZE, parse_dataset, preview_pictures

    preview = lab.settings.preview
    lab.own_data.preview_again()
    qtbot.waitUntil(lambda: preview.augmented is not None, timeout=30_000)
    seed = lab.settings.seed.value() + lab.own_data.preview_seed
    pictures, _what = preview_pictures(parse_dataset(str(small_set)))
    chosen = np.sort(np.random.default_rng(seed).choice(len(pictures), PREVIEW_SIZE,
                                                        replace=False))
    want = augment_batch(to_tensor(pictures[chosen]), torch.Generator().manual_seed(seed))
    assert np.array_equal(preview.originals, to_tensor(pictures[chosen]).numpy())
    assert np.array_equal(preview.augmented, want.numpy())
    assert not np.array_equal(preview.augmented, preview.originals)
    first = preview.augmented.copy()
    lab.settings.preview.again_button.click()
    qtbot.waitUntil(lambda: not np.array_equal(preview.augmented, first), timeout=30_000)
    assert preview.cells[1][0].pixmap() is not None and preview.toolTip()


def test_the_lab_trains_on_the_set_and_the_names_reach_every_view(qtbot, monkeypatch,
                                                                 mnist_dir, small_set,
                                                                 models_dir):
    lab = make_lab(qtbot, monkeypatch, mnist_dir)
    lab.editor.text_edit.setText("conv 8 5, maxpool 2, relu, conv 16 5, maxpool 2, relu, "
                                 "flatten, dense 10")
    assert lab.editor.apply_text()
    choose_set(lab, qtbot, small_set)
    lab.settings.apply({"optimizer": "adam", "lr": 0.01, "batch_size": 8, "epochs": 2,
                        "schedule": "constant", "augment": False, "limit": 0})
    drawing, _strokes = stroke_drawing("cross", np.random.default_rng(9))
    lab.state.input_image = InputImage(drawing, "a cross")
    assert lab.start(), lab.message.text()
    qtbot.waitUntil(lambda: lab.controller.phase in (RunPhase.FINISHED, RunPhase.STOPPED, RunPhase.FAILED), timeout=240_000)
    assert lab.controller.phase is RunPhase.FINISHED, lab.message.text()
    assert lab.confusion.classes == NAMES and lab.confusion.rowCount() == 3
    assert lab.probe_view.classes == NAMES
    assert lab.probe_view.answer.text() in NAMES
    # the matrix shown is what the kept weights make of the held-out pictures
    net = lab.controller.current_model().model.eval()
    images, labels = lab.files.test_images, lab.files.test_labels
    with torch.no_grad():
        said = net(torch.tensor(images).float()[:, None] / 255).argmax(1).numpy()
    want = np.zeros((3, 3), int)
    np.add.at(want, (labels, said), 1)
    shown = [[lab.confusion.item(r, c).text() for c in range(3)] for r in range(3)]
    assert shown == [[str(n) if n else "" for n in row] for row in want.tolist()]
    lab.show_cell(1, 1)
    assert "<b>cross</b> read as <b>cross</b>" in lab.cell_images.title.text()
    # kept: the file's card names the classes, and the network reads them back
    lab.name_edit.setText("my-strokes")
    with qtbot.waitSignal(lab.files.saved, timeout=60_000) as saved:
        assert lab.keep()
    kept = load_weights(saved.args[1])
    assert kept.card["classes"] == NAMES and kept.model.class_names == NAMES
    assert kept.card["user_set"] == small_set.name
    lab.shutdown()

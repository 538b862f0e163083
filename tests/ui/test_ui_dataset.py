"""The set window (cnnviz.ui.dataset): collecting the pad's drawings, prompted by class;
browsing with delete, move and undo; importing off the GUI thread with progress; a
model evaluated on the set beside its MNIST accuracy; class names under the pad; and
bad input said in one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from stroke_sets import stroke_drawing, tiny_arch

from cnnviz.app_state import AppState, InputImage
from cnnviz.core.networks.models import Network
from cnnviz.core.networks.weights import LoadedModel
from cnnviz.core.training.user_set import UserSet
from cnnviz.core.training.user_training import with_class_count
from cnnviz.ui.dataset import SetWindow


@pytest.fixture
def window(qtbot, tmp_path):
    state = AppState()
    w = SetWindow(state)
    qtbot.addWidget(w)
    assert w.make_set(tmp_path / "mine")
    yield w
    w.controller.shutdown()


def _add_class(w, name):
    w.new_class.setText(name)
    w.add_class()


def test_collecting_prompted_drawings(window):
    w = window
    for name in ("circle", "cross"):
        _add_class(w, name)
    w.collect.per_class.setValue(2)
    assert w.collect.prompt.text() == "Draw: circle   (4 left in this round)"
    rng = np.random.default_rng(0)
    for _ in range(4):
        shape = w.collect.wanted()
        w.state.input_image = InputImage(stroke_drawing(shape, rng)[0], "pad")
        w.collect.writer.setText("Ana")
        w.collect.add_button.click()
    assert w.user_set.counts() == {"circle": 2, "cross": 2}
    assert "Done" in w.collect.prompt.text() and not w.collect.add_button.isEnabled()
    assert UserSet.open(w.user_set.folder).writers() == ["Ana"]
    assert w.classes.item(0).text() == "circle  (2)"
    assert "Few samples in 'circle', 'cross'" in w.warnings.text()

    w.state.input_image = InputImage(np.full((280, 280), 255.0, np.float32), "pad")  # a blank pad
    w.collect.mode.setCurrentText("Free")
    w.collect.picker.setCurrentText("cross")
    w.collect.add_button.click()
    assert "no drawing was found" in w.title.text() and w.user_set.counts()["cross"] == 2


def test_delete_move_and_undo_in_the_grid(window):
    w = window
    _add_class(w, "a")
    _add_class(w, "b")
    for i in range(3):
        w.user_set.add_picture(np.full((28, 28), 40 * i, np.uint8), "a")
    w._show_set()
    w._select_class("a")
    assert w.grid.count() == 3
    w.grid.item(0).setSelected(True)
    w.delete_selected()
    assert w.user_set.counts() == {"a": 2, "b": 0} and w.grid.count() == 2
    w.undo()
    assert w.user_set.counts() == {"a": 3, "b": 0}
    w.grid.item(1).setSelected(True)
    w.move_to.setCurrentText("b")
    w.move_selected()
    assert UserSet.open(w.user_set.folder).counts() == {"a": 2, "b": 1}
    w.undo()
    assert UserSet.open(w.user_set.folder).counts() == {"a": 3, "b": 0}
    w.undo()
    assert w.title.text() == "Nothing to undo."
    w.new_class.setText("   ")
    w.add_class()
    assert "needs a name" in w.title.text()


def test_import_runs_off_the_gui_thread_with_progress(window, qtbot, tmp_path):
    w = window
    src = tmp_path / "photos" / "star"
    src.mkdir(parents=True)
    for i in range(5):
        Image.fromarray(np.full((40, 30, 3), 50 * i, np.uint8)).save(src / f"{i}.png")
    seen = []
    w.controller.progress.connect(lambda d, t: seen.append((d, t)))
    with qtbot.waitSignal(w.controller.finished, timeout=20_000):
        w.start_import(str(tmp_path / "photos"))
    assert seen[-1] == (5, 5) and w.user_set.counts() == {"star": 5}
    assert w.title.text() == "Imported 5 of 5 pictures." and not w.progress.isVisible()
    with qtbot.waitSignal(w.controller.failed, timeout=20_000):
        w.start_import(str(tmp_path / "nowhere"))
    assert "is not a folder" in w.title.text()


def test_a_model_evaluated_on_the_set_and_class_names_under_the_pad(window, qtbot):
    from cnnviz.core.reading.inference import analyze
    from cnnviz.ui.input.panel import InputPanel

    w = window
    names = ["circle", "cross", "zigzag"]
    rng = np.random.default_rng(1)
    for i in range(6):
        w.user_set.add_drawing(stroke_drawing(names[i % 3], rng)[0], names[i % 3],
                               writer=["ana", "ben"][i % 2])
    torch.manual_seed(0)
    net = Network(with_class_count(tiny_arch(), 3)[0], class_names=names,
                  card={"classes": names, "user_set": "mine"})
    loaded = LoadedModel(net, net.card, None)
    w.state.model = loaded
    with qtbot.waitSignal(w.controller.finished, timeout=20_000):
        w.evaluate()
    ev = w.evaluation
    assert "your group's drawings: " in w.result.text()
    assert "ana: " in w.result.text() and "ben: " in w.result.text()
    assert w.misread.count() == len(ev.misread) == 6 - ev.correct
    if w.misread.count():
        w._show_misread(w.misread.item(0))
        assert w.state.image_source.startswith("your set: ")

    panel = InputPanel(w.state)  # the answer under the pad names the set's classes
    qtbot.addWidget(panel)
    picture = stroke_drawing("zigzag", rng)[0]
    analysis = analyze(net, picture)
    w.state.publish_analysis(analysis)
    assert names[analysis.prediction] in panel.answer.label.text() + panel.answer.text.text()

"""Recording a lesson and saving a session in the real window: a recorded step's state
round-trips through its file (capture -> save -> open -> apply -> capture gives the same), the
recorder's buttons add, edit, reorder, delete and save steps, a session brings back the drawing
stroke for stroke and every tab's settings, and missing models or pictures are named, not
fatal."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from lesson_windows import open_window
from PySide6.QtCore import QPointF

from cnnviz.core.lessons import lesson as L
from cnnviz.core.lessons.session import read_session
from cnnviz.core.networks.arch_text import parse_architecture
from cnnviz.ui.input import drawing_pad
from cnnviz.ui.lesson.capture import capture_setup


@pytest.fixture
def window(qtbot, settings_sandbox, tmp_path, monkeypatch):
    return open_window(qtbot, tmp_path, monkeypatch)


def _draw(pad, seed: int, strokes: int = 3) -> None:
    rng = np.random.default_rng(seed)
    for s in range(strokes):
        points = np.cumsum(rng.normal(0, 5, (25, 2)), 0) + 140
        pad._begin_stroke(QPointF(*points[0]), erase=(s == strokes - 1), pressure=0.6)
        for p in points[1:]:
            pad._extend_stroke(QPointF(*p), pressure=float(rng.uniform(0.2, 1.0)))
        pad._finish_stroke()


def _set_up_something(w, seed: int) -> None:
    """A state unlike the defaults: a drawing, a typed kernel, stride, pooling, a layer, the
    lab's network, an experiment, a tab."""
    w.input_panel.clear()
    _draw(w.input_panel.pad, seed)
    k = w.state.kernel.with_changes(kernel=np.array([[1.0, -2.5], [0.25, 3.0]]), preset_key=None,
                                    stride=(2, 1), padding=(1, 0), activation="tanh",
                                    pool_kind="avg", pool_size=3, pool_stride=1)
    w.state.kernel = k
    w.state.model = w.cnn_explorer.shipped_model("lecture-keras")
    names = [i.name for i in w.state.model.model.layer_infos]
    w.state.layer = names[2]
    w.lab.editor.set_architecture(parse_architecture("conv 8 3, relu, maxpool 2, flatten, dense 10"),
                                  "test")
    w.experiments_explorer.show_view("InvarianceView")
    w.tabs.setCurrentIndex(1)


def _parsed(setup: dict) -> tuple:
    doc = L.lesson_document("t", [{"title": "s", "text": "x", "setup": setup}])
    return L.parse_lesson(json.dumps(doc).encode()).steps[0].setup


def test_a_recorded_lesson_round_trips_through_its_file(qtbot, window, tmp_path):
    w = window
    _set_up_something(w, seed=3)
    recorder = w.record_lesson()
    recorder.title_edit.setText("Three steps")
    wanted = []
    for i, tab in enumerate((1, 0, 2)):
        w.tabs.setCurrentIndex(tab)
        if i == 1:  # a shipped test digit, another kernel
            w.input_panel.random_digit()
            w.state.kernel = w.state.kernel.with_changes(stride=(1, 3))
        recorder.step_title.setText(f"Step {i}")
        recorder.step_text.setPlainText(f"Caption {i}")
        recorder.exercise_combo.setCurrentIndex(1 if i == 2 else 0)
        wanted.append((_parsed(capture_setup(w)), w.state.image.copy()))
        recorder.add_button.click()
    assert recorder.list.count() == 3
    path = tmp_path / "three.cnnviz-lesson"
    assert recorder.save(str(path)) is not None
    doc = json.loads(path.read_text())
    assert doc["format"] == "cnnviz-lesson" and doc["version"] == 1 and len(doc["steps"]) == 3
    assert doc["steps"][0]["setup"]["picture"]["png"]  # the drawing, embedded as PNG
    assert doc["steps"][2]["exercise"]["lecture"]

    _set_up_something(w, seed=9)  # somewhere else, then play the file
    w.state.model = w.cnn_explorer.shipped_model("cnnviz")
    w.open_file(path)
    panel = w.lesson_panel
    for i, (setup, image) in enumerate(wanted):
        panel.go(i)
        assert not panel.problems, panel.problems
        assert _parsed(capture_setup(w)) == setup
        assert np.array_equal(w.state.image, image)
    assert panel.exercise_box.exercise is not None


def test_the_recorder_edits_reorders_and_deletes(qtbot, window, tmp_path):
    w = window
    recorder = w.record_lesson()
    for name in ("A", "B", "C"):
        recorder.step_title.setText(name)
        recorder.add_button.click()
    recorder.list.setCurrentRow(0)
    recorder.move_step(1)
    assert [s["title"] for s in recorder.steps] == ["B", "A", "C"]
    recorder.list.setCurrentRow(2)
    recorder.step_text.setPlainText("Edited")
    recorder.update_button.click()
    assert recorder.steps[2]["text"] == "Edited" and recorder.steps[2]["title"] == "C"
    recorder.delete_button.click()
    assert [s["title"] for s in recorder.steps] == ["B", "A"]
    w.state.kernel = w.state.kernel.with_changes(stride=(3, 3))
    recorder.list.setCurrentRow(0)
    recorder.show_button.click()
    assert w.state.kernel.stride == (1, 1)
    recorder.retake_button.click()
    assert recorder.steps[0]["setup"]["stride"] == [1, 1]
    recorder.play_button.click()
    assert w.lesson_panel.lesson.title == "My lesson" and len(w.lesson_panel.lesson.steps) == 2


def test_a_missing_model_or_picture_is_named_not_fatal(qtbot, window, tmp_path):
    w = window
    setup = {"tab": "kernel-explorer", "stride": 2,
             "model": {"file": "mine.safetensors", "sha256": "0" * 64},
             "picture": {"png": base64.b64encode(b"\x89PNG\r\n\x1a\n broken").decode(), "name": "x"}}
    doc = L.lesson_document("Missing", [{"title": "One", "text": "t", "setup": setup}])
    path = tmp_path / "missing.cnnviz-lesson"
    path.write_text(json.dumps(doc))
    model, image = w.state.model, w.state.image
    w.open_file(path)
    panel = w.lesson_panel
    text = panel.problem_label.text()
    assert "mine.safetensors is not here" in text and "picture cannot be read" in text
    assert w.state.model is model and w.state.image is image  # kept
    assert w.state.kernel.stride == (2, 2) and w.tabs.currentIndex() == 1  # the rest applied
    assert panel.problem_label.isVisibleTo(panel)


def test_a_session_brings_back_the_drawing_and_every_tab(qtbot, window, tmp_path):
    w = window
    _set_up_something(w, seed=5)
    w.input_panel.set_brush_size(31)
    pad = w.input_panel.pad
    drawn, strokes = pad.image(), drawing_pad.strokes(pad)
    arch = w.lab.editor.architecture().to_json()
    path = w.save_session(str(tmp_path / "here.cnnviz-session"))
    session = read_session(path)
    assert len(session.input["drawing"]["strokes"]) == 3 and session.tab == "kernel-explorer"
    kernel, layer = w.state.kernel, w.state.layer

    _set_up_something(w, seed=11)  # somewhere else entirely
    w.state.kernel = w.state.kernel.with_changes(stride=(1, 1), activation="relu")
    w.state.model = w.cnn_explorer.shipped_model("cnnviz")
    w.input_panel.set_brush_size(10)
    w.tabs.setCurrentIndex(0)
    w.experiments_explorer.show_view("DropoutView")
    assert w.open_session_file(path) == []
    assert np.array_equal(pad.image(), drawn) and drawing_pad.strokes(pad) == strokes
    assert np.array_equal(w.state.image, drawn)
    assert w.state.kernel.same_as(kernel) and w.state.layer == layer
    assert w.state.model.shipped_as == "lecture-keras" and w.input_panel.brush_size() == 31
    assert w.lab.editor.architecture().to_json() == arch
    assert type(w.experiments_explorer.views[w.experiments_explorer.list.currentRow()]).__name__ == "InvarianceView"
    assert w.tabs.currentIndex() == 1
    assert pad.undo() and len(drawing_pad.strokes(pad)) == 2  # the strokes are strokes again: undoable

    damaged = tmp_path / "damaged.cnnviz-session"
    damaged.write_bytes(path.read_bytes()[:-40])
    assert w.open_session_file(damaged) is None
    assert w.warnings[-1][0] == "Cannot open session" and "Nothing was changed" in w.warnings[-1][1]
    assert w.tabs.currentIndex() == 1

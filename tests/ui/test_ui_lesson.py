"""The lecture tour in the real window: every step applies (the app's state and controls are
what the step says afterwards), the keys step it from any focus, the exercises are checked
and scored, leaving and coming back keeps the step, and lesson files open by content."""

from __future__ import annotations

import json

import numpy as np
import pytest
from lesson_windows import open_window
from PySide6.QtCore import Qt

from cnnviz.core.convolution.kernels import PRESETS
from cnnviz.core.lessons.lesson import shipped_lesson
from cnnviz.core.pictures.samples import load_samples
from cnnviz.ui.lesson.setup import EXPERIMENT_VIEWS


@pytest.fixture
def window(qtbot, settings_sandbox, tmp_path, monkeypatch):
    return open_window(qtbot, tmp_path, monkeypatch)


def _sample(number: int) -> np.ndarray:
    images, _labels, index = load_samples("mnist")
    return images[int(np.flatnonzero(index == number)[0])]


def _check_tab(w, tab: str) -> None:
    expected = {"cnn-explorer": 0, "kernel-explorer": 1, "training-lab": 2}
    if tab == "experiments":
        assert w.tabs.currentWidget() is w.experiments_page
    else:
        assert w.tabs.currentIndex() == expected[tab]


def _check_kernel(w, s: dict) -> None:
    """The kernel explorer's controls (not only the state) show what the step says."""
    state, controls = w.state, w.kernel_explorer.controls
    shown = controls.settings()
    if "kernel_source" in s:
        assert state.kernel_source == s["kernel_source"]
        assert controls.input_box.source_combo.currentData() == s["kernel_source"]
    if "kernel" in s:
        assert np.array_equal(shown.kernel, PRESETS[s["kernel"]].values)
        assert controls.kernel_box.preset_key() == s["kernel"]
    for key, field in (("stride", "stride"), ("padding", "padding")):
        if key in s:
            assert getattr(shown, field) == s[key] == getattr(state.kernel, field)
    for key, field in (("activation", "activation"), ("pooling", "pool_kind"),
                       ("pool_size", "pool_size"), ("pool_stride", "pool_stride")):
        if key in s:
            assert getattr(shown, field) == s[key] == getattr(state.kernel, field)


def _check_step(w, step) -> None:
    s = dict(step.setup)
    _check_tab(w, s["tab"])
    if "model" in s:
        assert w.state.model.shipped_as == s["model"]
        assert w.cnn_explorer.model_combo.currentText().startswith(s["model"]) or \
            s["model"] in w.cnn_explorer.model_combo.currentText()
    if "sample" in s:
        assert np.array_equal(w.state.image, _sample(s["sample"]))
    _check_kernel(w, s)
    if "experiment" in s:
        view = w.experiments_explorer.views[w.experiments_explorer.list.currentRow()]
        assert type(view).__name__ == EXPERIMENT_VIEWS[s["experiment"]]
    if "layer" in s:
        assert w.state.layer == s["layer"]
    if "highlight" in s:
        frame = w.lesson_panel.applier.highlight
        assert frame.isVisible() and frame.target is not None
        assert frame.geometry().contains(frame.target.mapTo(w, frame.target.rect().center()))


def test_every_step_of_the_tour_applies(qtbot, window):
    w = window
    panel = w.take_tour()
    tour = shipped_lesson()
    assert panel.isVisible() and panel.index == 0 and len(panel.lesson.steps) == len(tour.steps)
    for i, step in enumerate(tour.steps):
        assert panel.index == i and panel.step_label.text().endswith(step.title)
        assert not panel.problems, panel.problems
        highlight = step.setting("highlight")
        if highlight:
            qtbot.waitUntil(lambda: panel.applier.highlight.isVisible(), timeout=3000)
        _check_step(w, step)
        assert panel.exercise_box.isVisibleTo(panel) == (step.exercise is not None)
        panel.next_button.click()
    assert panel.index == len(tour.steps) - 1 and not panel.next_button.isEnabled()
    assert "98%" in panel.text_label.text()  # the homework


def test_each_exercise_wrong_once_and_right_once_keys_and_files(qtbot, window, tmp_path):
    """One window (a window costs seconds): the exercises, then the keys, then files."""
    w = window
    panel = w.take_tour()
    box = panel.exercise_box
    asked = 0
    for i, step in enumerate(panel.lesson.steps):
        panel.go(i)
        if step.exercise is None:
            continue
        asked += 1
        wrong, slip = step.exercise.slips[0]
        box.answer.setText("; ".join(" ".join(str(v) for v in row) for row in np.asarray(wrong))
                           if step.exercise.form == "grid" else
                           f"{wrong[0]}x{wrong[1]}" if isinstance(wrong, tuple) else str(wrong))
        qtbot.keyClick(box.answer, Qt.Key.Key_Return)
        assert slip in box.verdict.text() and box.working.isVisibleTo(panel)
        box.answer.setText(step.exercise.answer_text.replace("−", "-"))
        box.check_button.click()
        assert "Right" in box.verdict.text()
    assert asked == 12
    assert panel.score_label.text() == "Score: 12 of 12 exercises right (0 at the first try)."
    panel.go(max(i for i, s in enumerate(panel.lesson.steps) if s.exercise is not None))
    another = box.exercise
    box.another_button.click()  # a variant from the seed
    assert box.exercise is not another and box.exercise.kind == another.kind
    assert box.exercise.source.endswith("of seed 0")
    _keys_step_the_tour_from_any_focus_and_leaving_keeps_the_step(qtbot, w)
    _lesson_files_open_by_content_and_damaged_ones_get_a_message(w, tmp_path)


def _keys_step_the_tour_from_any_focus_and_leaving_keeps_the_step(qtbot, w):
    panel = w.take_tour()
    panel.go(4)  # the kernels table: the kernel explorer
    spin = w.kernel_explorer.controls.conv_box.stride_spins[0]
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    qtbot.keyClick(spin, Qt.Key.Key_PageDown)
    assert panel.index == 5
    qtbot.keyClick(w.focusWidget() or w, Qt.Key.Key_PageUp)
    assert panel.index == 4
    panel.leave_button.click()  # play freely
    assert not panel.isVisible()
    qtbot.keyClick(spin, Qt.Key.Key_PageDown)  # the keys are the spin box's again
    assert panel.index == 4
    w.state.kernel = w.state.kernel.with_changes(stride=(3, 3))
    w.tour_action.trigger()  # Help › Take the lecture tour
    assert panel.isVisible() and panel.index == 4
    assert w.state.kernel.stride == (3, 3)  # coming back does not undo the play
    panel.again_button.click()
    assert w.state.kernel.stride == (1, 1)


def _lesson_files_open_by_content_and_damaged_ones_get_a_message(w, tmp_path):
    doc = {"format": "cnnviz-lesson", "version": 1, "title": "Two steps",
           "steps": [{"title": "One", "text": "First.", "setup": {"tab": "kernel-explorer", "stride": 2}},
                     {"title": "Two", "text": "Second.", "exercise": {"lecture": "alexnet"}}]}
    path = tmp_path / "class.json"  # any name: told by its content
    path.write_text(json.dumps(doc))
    w.open_file(path)
    panel = w.lesson_panel
    assert panel.lesson.title == "Two steps" and panel.index == 0
    assert w.tabs.currentIndex() == 1 and w.state.kernel.stride == (2, 2)
    bad = tmp_path / "bad.cnnviz-lesson"
    bad.write_text(json.dumps({**doc, "version": 9}))
    w.open_file(bad)
    assert w.warnings and "version 9" in w.warnings[-1][1] and panel.lesson.title == "Two steps"

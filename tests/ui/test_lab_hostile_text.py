"""Hostile text pasted into the training lab's architecture boxes (a number of 5,000 digits,
Infinity where a whole number goes, JSON nested 100,000 deep) gets one clear message in the
window, the network in force stays, and nothing escapes to the terminal as a traceback."""

from __future__ import annotations

import sys

import pytest

from cnnviz.core.networks.models import ARCHITECTURES
from cnnviz.ui.lab.editor import ArchitectureEditor

GOOD = ARCHITECTURES["lecture-keras"].to_json()
DIGITS = "9" * 5000


@pytest.fixture
def editor(qtbot):
    widget = ArchitectureEditor()
    qtbot.addWidget(widget)
    widget.choose_preset("lecture-keras")
    return widget


@pytest.fixture
def no_unraisable(monkeypatch):
    """An exception escaping a Qt slot goes to sys.excepthook (a traceback on stderr)."""
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: seen.append(a))
    return seen


JSON_CASES = {
    "a 5,000-digit integer": GOOD.replace('"filters": 64', f'"filters": {DIGITS}', 1),
    "Infinity as a count": GOOD.replace('"filters": 64', '"filters": Infinity', 1),
    "1e400 as a count": GOOD.replace('"filters": 64', '"filters": 1e400', 1),
    "Infinity in a kernel": GOOD.replace('"kernel": [3, 3]', '"kernel": [Infinity, 3]', 1),
    "a 5,000-digit input size": GOOD.replace('"input_shape": [1, 28, 28]',
                                             f'"input_shape": [1, {DIGITS}, 28]', 1),
    "nested 100,000 deep": '{"layers": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "nested 5,000 deep": "[" * 5000 + "]" * 5000,
}


@pytest.mark.parametrize("text", JSON_CASES.values(), ids=JSON_CASES.keys())
def test_hostile_json_gets_one_message_and_the_network_stays(qtbot, editor, no_unraisable, text):
    before = editor.architecture()
    editor.json_edit.setPlainText(text)
    editor.apply_json_button.click()
    assert no_unraisable == []
    message = editor.json_message.text()
    assert message.startswith("Not used:") and len(message) < 400
    assert editor.architecture() == before
    assert editor.restore(text) is False  # the same text as saved settings: refused too


TEXT_CASES = {
    "a 5,000-digit integer": f"conv {DIGITS} 3, relu, flatten, dense 10",
    "Infinity as a count": "conv Infinity 3, relu, flatten, dense 10",
    "a tag in a layer": "<img width=20000 height=20000>, flatten, dense 10",
}


@pytest.mark.parametrize("text", TEXT_CASES.values(), ids=TEXT_CASES.keys())
def test_hostile_one_line_text_gets_one_message(qtbot, editor, no_unraisable, text):
    before = editor.architecture()
    editor.text_edit.setText(text)
    editor.text_edit.textEdited.emit(text)  # as if typed: checked at once
    editor.text_edit.returnPressed.emit()
    assert no_unraisable == []
    message = editor.text_message.text()
    assert message and len(message) < 400
    assert editor.text_message.sizeHint().height() < 200  # shown as text, not as a picture
    assert editor.architecture() == before

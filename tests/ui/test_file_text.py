"""Text from a model file (its name, description, class names) is shown as text: never as
Qt rich text (an <img width=20000> in a model name stretched the main window to 20,504
pixels), never longer than a line can hold, and without terminal escape sequences."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from cnnviz.app_state import AppState, InputImage
from cnnviz.core.basics.text_safety import MAX_SHOWN_CHARS, printable, shown
from cnnviz.core.networks.weights import load_weights, shipped_weights_path

IMG = "<img src='x' width=20000 height=20000>"


def test_printable_drops_escape_sequences_and_control_characters():
    hostile = ("cnn\x1b]0;owned title\x07\x1b[2J\x1b[H\x1b[31mred\x1b[0m\x9b2J"
               "\x1bP1$r\x1b\\\u202eevil\x00\x7f\x85 tab\tline\nend")
    assert printable(hostile) == "cnnredevil tab\tline\nend"
    assert printable("T-shirt/top · Sandal 中文 é") == "T-shirt/top · Sandal 中文 é"


def test_shown_shortens_to_a_line():
    name = "m" * 5_000_000
    assert len(shown(name)) == MAX_SHOWN_CHARS and shown(name).endswith("…")
    assert shown("short") == "short"


@pytest.fixture
def hostile_model():
    loaded = load_weights(shipped_weights_path("cnnviz"))
    net = loaded.model
    net.arch = dataclasses.replace(net.arch, description=f"<h1 style='font-size:900px'>big</h1>{IMG}")
    net.class_names = [f"{IMG}{i}" + "c" * 100_000 for i in range(10)]
    return dataclasses.replace(loaded, card={**loaded.card, "model_name": IMG + "n" * 2_000_000},
                               path=None, shipped_as=None)


def test_a_model_s_own_text_never_becomes_rich_text_in_the_window(
        qtbot, settings_sandbox, hostile_model, monkeypatch):
    from cnnviz.ui.window.main_window import MainWindow

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *a, **k: warnings.append(text) or QMessageBox.StandardButton.Ok))
    window = MainWindow(AppState())
    qtbot.addWidget(window)
    window.load_defaults()
    window.show()
    window.resize(1400, 900)
    qtbot.waitExposed(window)
    window.state.model = hostile_model
    image = np.zeros((280, 280), np.float32)
    image[60:220, 130:150] = 255
    window.state.input_image = InputImage(image, "a bar")
    qtbot.waitUntil(lambda: "width" in window.input_panel.answer.label.text(), timeout=20000)
    qtbot.wait(200)
    size = window.size()
    assert size.height() < 1500 and size.width() < 2500  # was 20,504 pixels tall

    status = window.model_status_label
    assert "<img" not in status.text() and len(status.text()) < 200
    assert "<img" not in status.toolTip() and "<h1" not in status.toolTip()
    picker = window.cnn_explorer.picker
    assert picker.combo.sizeHint().width() < 1500
    assert all(len(picker.combo.itemText(i)) <= MAX_SHOWN_CHARS for i in range(picker.combo.count()))
    assert "<img" not in picker.combo.toolTip()
    about = window.about_text()
    assert "<img" not in about and "<h1" not in about and len(about) < 20_000
    for label in (window.input_panel.answer.label, window.cnn_explorer.answer.digit_label):
        assert label.textFormat() == label.textFormat().PlainText and len(label.text()) <= 40
    assert window.input_panel.answer.text.sizeHint().height() < 400
    window.close()

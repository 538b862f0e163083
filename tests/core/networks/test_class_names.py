"""Class names from a labels file the user picks (one name per line, in output order)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.networks.class_names import LabelsError, parse_labels, read_labels, with_class_names
from cnnviz.core.networks.weights import load_weights

COLOUR = Path(__file__).resolve().parents[2] / "data" / "keras" / "colour.keras"


def test_a_labels_file_names_the_outputs_in_order(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\r\ndog\n\nbird\nfish\nfrog\n", encoding="utf-8")
    loaded = load_weights(COLOUR)
    assert loaded.classes == ["0", "1", "2", "3", "4"]  # the file does not say
    named = with_class_names(loaded, read_labels(labels, 5), "labels.txt")
    assert named.classes == ["cat", "dog", "bird", "fish", "frog"]
    assert named.card["classes"] == named.classes and loaded.classes[0] == "0"  # a new model
    x = np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32)
    np.testing.assert_array_equal(named.model.predict_proba(x), loaded.model.predict_proba(x))


def test_teachable_machines_numbered_lines_lose_their_numbers():
    assert parse_labels("0 Class 1\n1 Class 2\n", 2) == ["Class 1", "Class 2"]
    assert parse_labels("0: zero\n1: one\n", 2) == ["zero", "one"]
    # numbers that are not 0, 1, 2, ... are part of the names
    assert parse_labels("7 up\n3 down\n", 2) == ["7 up", "3 down"]


@pytest.mark.parametrize("content, words", [
    ("cat\ndog\n", "names 2 classes; this network has 5 outputs"),
    (b"\x00\x01binary", "not a text file"),
])
def test_a_labels_file_that_does_not_fit_says_why(tmp_path, content, words):
    path = tmp_path / "labels.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(LabelsError, match=words):
        read_labels(path, 5)


def test_terminal_codes_and_special_files_are_refused_or_dropped(tmp_path):
    assert parse_labels("\x1b]0;owned\x07cat\n\x1b[2Jdog\n", 2) == ["cat", "dog"]
    fifo = tmp_path / "labels.fifo"
    os.mkfifo(fifo)
    with pytest.raises(LabelsError, match="not a regular"):
        read_labels(fifo, 2)
    with pytest.raises(LabelsError, match="cannot open"):
        read_labels(tmp_path / "missing.txt", 2)


# ----- the command line and the app ------------------------------------------------------------

def _run(capsys, *args):
    from cli_runs import run  # (tests/ is on sys.path)

    got = run(capsys, *args)
    return got.returncode, got.stdout, got.stderr


def test_labels_on_the_command_line(capsys, tmp_path):
    from cnnviz.core.pictures.images import save_image

    labels = tmp_path / "labels.txt"
    labels.write_text("\x1b]0;owned\x07cat\ndog\nbird\nfish\nfrog\n")
    picture = tmp_path / "red.png"
    save_image(picture, np.tile(np.array([255, 0, 0], np.uint8), (40, 40, 1)))
    code, out, err = _run(capsys, "predict", "--weights", str(COLOUR), "--labels", str(labels),
                          str(picture))
    assert code == 0 and "\x1b" not in out
    assert out.split(": ")[1].split()[0] in ("cat", "dog", "bird", "fish", "frog")
    code, out, err = _run(capsys, "predict", "--weights", str(COLOUR), "--labels",
                          str(tmp_path / "none.txt"), str(picture))
    assert code == 1 and "--labels" in err and "cannot open" in err and "Traceback" not in err


def test_file_text_printed_without_terminal_codes(capsys, tmp_path):
    from cnnviz.core.networks.weights import save_weights

    loaded = load_weights(COLOUR)
    path = save_weights(loaded.model, tmp_path / "evil.safetensors",
                        card={**loaded.card, "model_name": "x\x1b[2J\x1b]0;title\x07y",
                              "classes": ["a\x1b[31m", "b", "c", "d", "e"]})
    picture = tmp_path / "grey.png"
    from cnnviz.core.pictures.images import save_image

    save_image(picture, np.random.default_rng(0).integers(0, 256, (40, 40), dtype=np.uint8))
    code, out, _ = _run(capsys, "predict", "--weights", str(path), str(picture))
    assert code == 0 and "\x1b" not in out and out.count(":") == 1


def test_gui_options_need_a_model_file(capsys):
    code, _, err = _run(capsys, "gui", "--input-scale", "0-255")
    assert code == 1 and "for a model file opened at start" in err


def test_the_window_applies_options_given_with_a_model_file(qtbot, settings_sandbox, tmp_path,
                                                            monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from cnnviz.app_state import AppState
    from cnnviz.ui.window.main_window import MainWindow

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: None))
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ndog\nbird\nfish\nfrog\n")
    window = MainWindow(AppState())
    qtbot.addWidget(window)
    window.load_defaults()
    window.open_file(COLOUR, input_scale="0-255", labels=str(labels))
    qtbot.waitUntil(lambda: window.state.model is not None and window.state.model.path is not None
                    and window.state.model.classes[0] == "cat", timeout=30_000)
    assert window.state.model.card["input_scale"] == "0-255"
    window.close()

"""A file is opened by what it is, not by its name: a picture becomes the input, a model
(cnnviz or Keras) the network, anything else gets one message naming both kinds."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from cnnviz.core.networks.file_kinds import file_kind, open_as
from cnnviz.core.networks.weights import shipped_weights_path

KERAS = Path(__file__).resolve().parents[2] / "data" / "keras"


@pytest.fixture
def files(tmp_path):
    picture = tmp_path / "digit.model"  # a PNG under a misleading name
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(picture, format="PNG")
    keras_named_png = tmp_path / "homework.png"  # a .keras zip under a picture's name
    shutil.copy(KERAS / "lecture.keras", keras_named_png)
    text = tmp_path / "notes.txt"
    text.write_text("not a picture, not a model")
    return {"picture": picture, "keras": keras_named_png, "text": text,
            "safetensors": shipped_weights_path("lecture-deep"), "h5": KERAS / "colour.h5"}


def test_what_a_file_is_comes_from_its_content(files):
    assert file_kind(files["picture"]) == "picture"
    assert file_kind(files["keras"]) == "model"
    assert file_kind(files["safetensors"]) == "model" and file_kind(files["h5"]) == "model"
    assert file_kind(files["text"]) is None and open_as(files["text"]) is None
    assert file_kind("/dev/zero") is None  # a device is never read


@pytest.fixture
def window(qtbot, settings_sandbox, monkeypatch):
    from cnnviz.app_state import AppState
    from cnnviz.ui.window.main_window import MainWindow

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda _p, title, text, *a, **k: warnings.append(text)))
    w = MainWindow(AppState())
    qtbot.addWidget(w)
    w.load_defaults()
    w.show()
    w.warnings = warnings
    yield w
    w.close()


def drop(window, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(QPoint(10, 10)), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def test_open_and_drop_follow_the_content(qtbot, window, files):
    state = window.state
    window.open_file(files["keras"])  # a Keras model, though it is called .png
    qtbot.waitUntil(lambda: state.model is not None and state.model.path == files["keras"],
                    timeout=20000)
    assert state.model.card["made_with"].startswith("Keras")
    drop(window, files["h5"])  # a dropped model becomes the network
    qtbot.waitUntil(lambda: state.model.path == files["h5"], timeout=20000)
    assert state.model.input_spec.shape == (3, 32, 32)
    window.open_file(files["picture"])  # a picture, though it is called .model
    qtbot.waitUntil(lambda: state.image is not None and state.image.shape[:2] == (20, 30),
                    timeout=20000)
    window.open_file(files["text"])
    assert len(window.warnings) == 1 and "neither a picture" in window.warnings[0]
    assert state.model.path == files["h5"]  # nothing the user had is lost


def test_cnnviz_file_means_cnnviz_gui_file(monkeypatch, files):
    from cnnviz import cli

    opened = []
    monkeypatch.setitem(cli.COMMANDS, "gui", lambda args: opened.append(args.image) or 0)
    assert cli.main([str(files["keras"])]) == 0
    assert opened == [str(files["keras"])]

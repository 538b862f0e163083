"""In the app: a remembered model that computes NaN is refused at start-up,
the default model is used instead, and the window says why where it stays visible."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from cnnviz.app_state import AppState
from cnnviz.core.networks.models import build_model
from cnnviz.core.networks.weights import save_weights
from cnnviz.ui.cnn.explorer import SETTINGS_GROUP
from cnnviz.ui.window.main_window import MainWindow


@pytest.fixture
def warnings(monkeypatch):
    seen = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda parent, title, text, *a, **k: seen.append((title, text)) or QMessageBox.StandardButton.Ok))
    return seen


def _nan_model(path):
    model = build_model("cnnviz", seed=0)
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if key.endswith("weight"):
                value.mul_(1e30)  # finite weights whose outputs overflow to NaN
    return save_weights(model, path)


def test_a_remembered_nan_model_falls_back_to_the_default_with_a_message(
        qtbot, settings_sandbox, warnings, tmp_path):
    bad = _nan_model(tmp_path / "blown-up.safetensors")
    s = QSettings()
    s.beginGroup(SETTINGS_GROUP)
    s.setValue("model", str(bad))  # what the last session left: this file was the model
    s.setValue("opened", [str(bad)])
    s.endGroup()
    s.sync()

    window = MainWindow(AppState())
    qtbot.addWidget(window)
    window.load_defaults()
    window.show()
    qtbot.waitExposed(window)
    picker = window.cnn_explorer.picker
    qtbot.waitUntil(lambda: "blown-up.safetensors" in picker.message_label.text())  # read off the GUI thread
    assert window.state.model is not None and window.state.model.shipped_as == "cnnviz"
    message = picker.message_label.text()
    assert "blown-up.safetensors" in message and "NaN or infinite" in message
    assert "default model" in message
    window.controller.join()  # the first analysis of the default model must not wipe it
    qtbot.waitUntil(lambda: window.state.analysis is not None)
    assert picker.message_label.text() == message
    window.close()

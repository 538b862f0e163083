"""The Model menu: what a model made elsewhere is fed (its input values), and naming its
classes from a labels file, on the model the window shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QFileDialog, QMessageBox

from cnnviz.app_state import AppState
from cnnviz.core.networks.weights import load_weights

KERAS = Path(__file__).resolve().parents[1] / "data" / "keras"


@pytest.fixture
def window(qtbot, settings_sandbox, monkeypatch):
    from cnnviz.ui.window.main_window import MainWindow

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: warnings.append(a)))
    w = MainWindow(AppState())
    qtbot.addWidget(w)
    w.load_defaults()
    w.warnings = warnings
    yield w
    w.close()


def test_the_input_values_of_a_model_made_elsewhere_can_be_changed(window):
    lecture = load_weights(KERAS / "lecture.keras")  # worked out: 0..1
    window.replace_model(lecture)
    actions = window.input_scale_actions
    assert window.input_scale_menu.isEnabled() and actions["0-1"].isChecked()
    actions["0-255"].trigger()
    now = window.state.model
    assert now is not lecture and now.card["input_scale"] == "0-255" and actions["0-255"].isChecked()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():  # fed 0..255: what the file's network computes on 255·x
        np.testing.assert_allclose(now.model(x).numpy(), lecture.model(255 * x).numpy(), rtol=1e-5)
    # the picker's entry for the file is the changed model, not a second one
    entries = [e for e in window.state.catalogue if e.path == lecture.path]
    assert len(entries) == 1 and entries[0].loaded is now


def test_models_that_say_what_they_take_keep_it(window):
    window.replace_model(load_weights(KERAS / "rescaled.keras"))  # a Rescaling layer inside
    assert not window.input_scale_menu.isEnabled()
    window.set_input_scale("0-1")
    assert window.state.model.card["input_scale"] == "0-255" and window.warnings


def test_classes_named_from_a_labels_file(window, monkeypatch, tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\ndog\nbird\nfish\nfrog\n")
    colour = load_weights(KERAS / "colour.keras")
    window.replace_model(colour)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(labels), "")))
    window.class_names_action.trigger()
    assert window.state.model.classes == ["cat", "dog", "bird", "fish", "frog"]
    labels.write_text("cat\ndog\n")  # two names for five outputs: refused, nothing changes
    window.class_names_action.trigger()
    assert window.state.model.classes[0] == "cat" and "2 classes" in window.warnings[-1][2]

"""The models opened in earlier sessions come back in the model picker: at most the 20 most
recent, each file looked at once (a long saved list froze the window at start for minutes:
every path was compared with every entry, resolving the path each time)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from cnnviz.app_state import AppState
from cnnviz.core.networks import catalogue
from cnnviz.core.networks.weights import load_shipped
from cnnviz.ui.cnn.explorer import SETTINGS_GROUP, CnnExplorer
from cnnviz.ui.controllers import AnalysisController


@pytest.fixture
def explorer(qtbot):
    state = AppState()
    controller = AnalysisController(state)
    state.model = load_shipped("cnnviz")
    ex = CnnExplorer(state, controller)
    qtbot.addWidget(ex)
    yield ex
    ex.shutdown()
    controller.shutdown()


def _files(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"model-{i:04d}.safetensors"
        path.write_bytes(b"")  # remembered files are not read until chosen
        paths.append(str(path))
    return paths


def _remembered(explorer) -> list[str]:
    return [str(e.path) for e in explorer.entries if not e.shipped and e.loaded is None]


def test_a_long_saved_list_brings_back_the_20_most_recent_looking_at_each_once(
        qtbot, explorer, tmp_path, monkeypatch):
    paths = _files(tmp_path / "opened", 400)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue(f"{SETTINGS_GROUP}/opened", paths)
    settings.sync()
    calls = []
    real_file_key = catalogue.file_key
    monkeypatch.setattr(catalogue, "file_key", lambda p: calls.append(p) or real_file_key(p))

    explorer.restore_settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))

    assert _remembered(explorer) == paths[-catalogue.MAX_RECENT_MODELS:]
    assert len(calls) <= 3 * catalogue.MAX_RECENT_MODELS  # was 400 × entries: quadratic


def test_the_picker_remembers_a_long_list_in_linear_time(qtbot, explorer, tmp_path, monkeypatch):
    paths = _files(tmp_path / "opened", 300)
    calls = []
    real_file_key = catalogue.file_key
    monkeypatch.setattr(catalogue, "file_key", lambda p: calls.append(p) or real_file_key(p))
    explorer.picker.remember(paths + paths)  # the same files twice: each listed once
    assert _remembered(explorer) == paths[-catalogue.MAX_RECENT_MODELS:]
    assert len(calls) <= 3 * catalogue.MAX_RECENT_MODELS


def test_at_most_20_opened_models_are_saved_and_not_those_of_the_models_folder(
        qtbot, explorer, tmp_path, monkeypatch):
    folder = tmp_path / "my-models"
    monkeypatch.setenv(catalogue.MODELS_ENV_VAR, str(folder))
    opened = _files(tmp_path / "opened", 30)
    mine = _files(folder, 25)  # come back from the folder by themselves
    entries = list(explorer.entries)
    for path in opened[:10] + mine + opened[10:]:
        entries.append(catalogue.remembered_entry(path))
    explorer.state.catalogue = entries
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    explorer.save_settings(settings)
    settings.sync()
    saved = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat).value(
        f"{SETTINGS_GROUP}/opened")
    assert saved == opened[-catalogue.MAX_RECENT_MODELS:]


@pytest.mark.parametrize("name, file", [
    ("mine-98.5", "mine-98.5.safetensors"),   # a dot inside a name stays
    ("..hidden", "hidden.safetensors"),       # never a hidden file
    ("a..b / c", "a.b-c.safetensors"),
    ("résumé 1", "r-sum-1.safetensors"),
])
def test_a_kept_models_file_keeps_its_name(tmp_path, name, file):
    assert catalogue.user_model_path(name, tmp_path).name == file

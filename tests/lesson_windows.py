"""The main window as the lesson, recorder and presenter tests open it: shown at a size,
scores kept in the test's own folder, and (when asked) the warnings it would show kept as a
list instead of dialogs."""

from __future__ import annotations

from cnnviz.app_state import AppState
from cnnviz.ui.window.main_window import MainWindow


def open_window(qtbot, tmp_path, monkeypatch, size=(1366, 768), keep_warnings=True):
    monkeypatch.setenv("CNNVIZ_SCORES_DIR", str(tmp_path / "scores"))
    w = MainWindow(AppState())
    qtbot.addWidget(w)
    w.load_defaults()
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    if keep_warnings:
        w.warnings = []
        w.warn = lambda title, text: w.warnings.append((title, text))
    return w

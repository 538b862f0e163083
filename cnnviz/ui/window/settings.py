"""The window's settings in QSettings: geometry, panel widths, toolbar, tab, brush, last
folder, and each explorer's own (read at start, written in closeEvent)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QGuiApplication


def apply_default_geometry(window) -> None:
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(1280, 800)
        return
    avail = screen.availableGeometry()
    # 90% of a laptop screen; on big screens up to 1500x950 or 70% of the screen,
    # whichever is larger (so a 4K screen at 100% scaling doesn't get a tiny window).
    width = int(min(avail.width() * 0.9, max(1500, avail.width() * 0.7)))
    height = int(min(avail.height() * 0.9, max(950, avail.height() * 0.7)))
    window.resize(width, height)
    frame = window.frameGeometry()
    frame.moveCenter(avail.center())
    window.move(frame.topLeft())

def apply_default_splitter(window) -> None:
    total = max(window.width(), 800)
    left = int(min(max(0.3 * total, 320), 470))
    window.splitter.setSizes([left, total - left])

def read_settings(window) -> None:
    s = QSettings()
    geometry = s.value("window/geometry", QByteArray())
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        apply_default_geometry(window)
    window_state = s.value("window/state", QByteArray())
    if isinstance(window_state, QByteArray) and not window_state.isEmpty():
        window.restoreState(window_state)
    splitter = s.value("window/splitter", QByteArray())
    if not (isinstance(splitter, QByteArray) and not splitter.isEmpty()
            and window.splitter.restoreState(splitter)):
        apply_default_splitter(window)
    window.tabs.setCurrentIndex(min(max(_int(s, "window/tab", 0), 0), window.tabs.count() - 1))
    window.input_panel.set_brush_size(_int(s, "input/brush", window.input_panel.brush_size()))
    window.last_dir = str(s.value("files/last_dir", "") or "")
    restore_explorers(window)


def restore_explorers(window) -> None:
    """Each explorer's own saved settings (again when a lazy start builds them)."""
    s = QSettings()
    for explorer in window.explorers:
        try:
            explorer.restore_settings(s)
        except Exception as exc:  # old or hand-edited settings must never stop the app
            window.statusBar().showMessage(f"Some saved settings were ignored: {exc}", 8000)

def _int(s: QSettings, key: str, default: int) -> int:
    try:
        return int(s.value(key, default))
    except (TypeError, ValueError):
        return default

def write_settings(window) -> None:
    s = QSettings()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    s.setValue("window/splitter", window.splitter.saveState())
    s.setValue("window/tab", window.tabs.currentIndex())
    s.setValue("input/brush", window.input_panel.brush_size())
    s.setValue("files/last_dir", window.last_dir)
    for explorer in window.explorers:
        explorer.save_settings(s)
    s.sync()

def reset_layout(window) -> None:
    if window.isFullScreen():
        window.showNormal()
        window.fullscreen_action.setChecked(False)
    window.restoreState(window._default_window_state)
    window.toolbar.show()
    apply_default_geometry(window)
    apply_default_splitter(window)

def toggle_full_screen(window) -> None:
    if window.isFullScreen():
        window.showNormal()
    else:
        window.showFullScreen()
    window.fullscreen_action.setChecked(window.isFullScreen())

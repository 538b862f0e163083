"""The window's settings in QSettings: geometry, panel widths, toolbar, tab, brush, last
folder, and each explorer's own (read at start, written in closeEvent). Every value is
checked when it is read: a hand-edited or old file can never stop (or crash) the app."""

from __future__ import annotations

import sys

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QGuiApplication

from ..input.drawing_pad import MAX_BRUSH, MIN_BRUSH
from .settings_file import check_settings_files

# A screen this size or smaller gets a maximised window the first time (width, height).
SMALL_SCREEN = (1366, 768)


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
    if avail.width() <= SMALL_SCREEN[0] and avail.height() <= SMALL_SCREEN[1]:
        # a laptop's screen: every pixel counts (90% of 1024×700 left the lab unusable)
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)

def apply_default_splitter(window) -> None:
    total = max(window.width(), 800)
    left = int(min(max(0.3 * total, 320), 470))
    window.splitter.setSizes([left, total - left])

MAX_SAVED_LAYOUT_BYTES = 64 * 1024  # a window's saved geometry or layout is a few hundred bytes
MAX_SAVED_PATH = 4096


def _layout_bytes(s: QSettings, key: str) -> QByteArray | None:
    """A saved geometry or layout blob, or None when there is none or it is not one."""
    value = s.value(key)
    if isinstance(value, QByteArray) and not value.isEmpty() and value.size() <= MAX_SAVED_LAYOUT_BYTES:
        return value
    return None


def open_settings(window) -> QSettings:
    """The app's QSettings, made only after its files were checked (settings_file.py: a
    value Qt would decode into an abort is left out, a FIFO moved aside); what was repaired
    is said on the status bar (kept as window.settings_notice) and on stderr."""
    messages = check_settings_files()
    if messages:
        text = " ".join(messages)
        print(f"cnnviz: {text}", file=sys.stderr)
        window.settings_notice = text
        window.statusBar().showMessage(text, 30000)
    return QSettings()


def read_settings(window) -> None:
    """Every saved value is checked as it is read: one of the wrong type, out of range or
    unusable is dropped and the default used (the status bar says which)."""
    s = open_settings(window)
    dropped: list[str] = []

    def note(key: str) -> None:
        if s.contains(key):
            dropped.append(key)

    geometry = _layout_bytes(s, "window/geometry")
    if geometry is None or not window.restoreGeometry(geometry):
        note("window/geometry")
        apply_default_geometry(window)
    window_state = _layout_bytes(s, "window/state")
    if window_state is None or not window.restoreState(window_state):
        note("window/state")
    splitter = _layout_bytes(s, "window/splitter")
    if splitter is None or not window.splitter.restoreState(splitter):
        note("window/splitter")
        apply_default_splitter(window)
    tab = _int(s, "window/tab", 0, 0, window.tabs.count() - 1)
    if tab is None:
        note("window/tab")
    window.tabs.setCurrentIndex(tab or 0)
    brush = _int(s, "input/brush", window.input_panel.brush_size(), MIN_BRUSH, MAX_BRUSH)
    if brush is None:
        note("input/brush")
    else:
        window.input_panel.set_brush_size(brush)
    last_dir = s.value("files/last_dir", "")
    if not isinstance(last_dir, str) or len(last_dir) > MAX_SAVED_PATH or "\0" in last_dir:
        note("files/last_dir")
        last_dir = ""
    window.last_dir = last_dir
    if dropped:
        notice = getattr(window, "settings_notice", "")
        window.statusBar().showMessage(f"{notice} Saved settings that could not be used were "
                                       f"reset: {', '.join(dropped)}.".strip(), 8000)
    restore_explorers(window)


def restore_explorers(window) -> None:
    """Each explorer's own saved settings (again when a lazy start builds them); each
    explorer checks its own values."""
    s = QSettings()
    for explorer in window.explorers:
        try:
            explorer.restore_settings(s)
        except Exception as exc:  # old or hand-edited settings must never stop the app
            window.statusBar().showMessage(f"Some saved settings were ignored: {exc}", 8000)


def _int(s: QSettings, key: str, default: int, low: int, high: int) -> int | None:
    """A whole number low…high saved under key; the default when none is saved; None when
    the saved value is not one (wrong type, not whole, out of range)."""
    value = s.value(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def write_settings(window) -> None:
    s = open_settings(window)
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

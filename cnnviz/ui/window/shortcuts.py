"""Window shortcuts that win over a focused text field (Ctrl+E while a kernel cell is edited)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QMainWindow, QWidget


class WindowShortcutsInFields(QObject):
    """A text field (a kernel cell, a spin box) claims keys like Ctrl+E (end of line on X11)
    before the window's shortcuts see them. For the window's own shortcuts that are not
    editing keys, this lets the shortcut win: Ctrl+E exports even while a cell is focused.
    Undo, paste, copy, cut, select all and delete stay with the field.

    It filters only the focused field (the one widget that gets ShortcutOverride), never the
    whole application: an application-wide filter would run for every event of every widget."""

    EDITING = tuple(QKeySequence.StandardKey(k) for k in (
        QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo,
        QKeySequence.StandardKey.Paste, QKeySequence.StandardKey.Copy,
        QKeySequence.StandardKey.Cut, QKeySequence.StandardKey.SelectAll,
        QKeySequence.StandardKey.Delete))

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        app = QApplication.instance()
        assert isinstance(app, QApplication)  # a window exists only under a QApplication
        self._app = app
        app.focusChanged.connect(self._on_focus_changed)

    def stop(self) -> None:
        self._app.focusChanged.disconnect(self._on_focus_changed)

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if old is not None:
            old.removeEventFilter(self)
        if isinstance(new, (QLineEdit, QAbstractSpinBox)) and self._window.isAncestorOf(new):
            new.installEventFilter(self)

    def window_keys(self) -> set[str]:
        editing = {k.toString() for key in self.EDITING for k in QKeySequence.keyBindings(key)}
        return {k.toString() for a in self._window.findChildren(QAction)
                for k in a.shortcuts()} - editing

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and QKeySequence(event.keyCombination()).toString() in self.window_keys()):
            event.ignore()  # not overridden: the window's shortcut fires
            return True
        return False

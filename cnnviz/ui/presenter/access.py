"""Accessible names for every control, app-wide, from what a sighted user reads next to it:
its own text, the label that names it (a buddy, or its row in a form), its placeholder, or
the first sentence of its tooltip. A screen reader then says what each control is, and
keyboard users see where the focus is (FOCUS_STYLE)."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollBar,
    QTabBar,
    QTextEdit,
    QWidget,
)

CONTROLS = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QAbstractSlider,
            QAbstractItemView, QPlainTextEdit, QTextEdit, QTabBar)
# A clear ring round the control that has the keyboard's focus.
FOCUS_STYLE = ("QAbstractButton:focus, QComboBox:focus, QAbstractSpinBox:focus, QLineEdit:focus,"
               " QAbstractItemView:focus, QPlainTextEdit:focus, QTextEdit:focus, QSlider:focus,"
               " QTabBar:focus { border: 3px solid #e67e22; }")


def is_control(widget: QWidget) -> bool:
    """A control a user works (a scroll bar or a table's header belongs to its view, which
    is named)."""
    return isinstance(widget, CONTROLS) and not isinstance(widget, (QScrollBar, QHeaderView))


def _plain(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text or "").replace("&", "")
    return " ".join(text.split())


def _first_sentence(text: str) -> str:
    text = _plain(text)
    cut = re.split(r"(?<=[.:;!?])\s|\n", text, maxsplit=1)[0]
    return cut[:120]


def _form_label(widget: QWidget) -> str:
    parent = widget.parentWidget()
    layout = parent.layout() if parent is not None else None
    if isinstance(layout, QFormLayout):
        label = layout.labelForField(widget)
        if isinstance(label, QLabel):
            return _plain(label.text())
    return ""


def _buddies(root: QWidget) -> dict[int, str]:
    return {id(label.buddy()): _plain(label.text()) for label in root.findChildren(QLabel)
            if label.buddy() is not None}


def name_for(widget: QWidget, buddies: dict[int, str] | None = None) -> str:
    """What to call a control, from what is shown next to it ("" when nothing says)."""
    text = widget.text() if isinstance(widget, QAbstractButton) else ""
    candidates = [_plain(text), (buddies or {}).get(id(widget), ""), _form_label(widget)]
    if isinstance(widget, QLineEdit):
        candidates.append(_plain(widget.placeholderText()))
    candidates += [_first_sentence(widget.toolTip()), _plain(widget.whatsThis())]
    if isinstance(widget, QComboBox):
        candidates.append(_plain(widget.currentText()))
    return next((c for c in candidates if c and c.strip("…")), "")


def name_controls(root: QWidget) -> int:
    """Give every control under `root` without an accessible name one; how many were named."""
    from PySide6.QtGui import QAccessible

    buddies = _buddies(root)
    named = 0
    for widget in [root, *root.findChildren(QWidget)]:
        if not is_control(widget) or widget.accessibleName():
            continue
        interface = QAccessible.queryAccessibleInterface(widget)
        if interface is not None and interface.text(QAccessible.Text.Name).strip():
            continue
        name = name_for(widget, buddies) or widget.objectName().replace("_", " ")
        if name:
            widget.setAccessibleName(name)
            named += 1
    return named

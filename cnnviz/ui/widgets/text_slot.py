"""A place in a layout for a label whose text changes with every pen step.

A QLabel asks its parent's layout for a new layout pass each time its text changes, even
when the new text needs exactly the room the old one had. While the pen moves, the answer
and how sure the network is change many times a second, and each change cost a layout pass
of the window and a second repaint after it.

TextSlot is the label's parent and has no layout: it places the label over its whole area
itself, so the label's request reaches no layout (Qt drops it), and it asks its own layout
for a pass only when the new text needs another size: a line more or less at the width it
has, or (for a one-line label) a wider or narrower text. Size limits (a fixed or minimum
width) are set on the slot, not on the label.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel, QWidget


class TextSlot(QWidget):
    """Holds `label` (reparented here). set_text(text) instead of label.setText (a plain
    label.setText shows too, with no layout pass: refit() then asks for one if need be);
    refit() after changing the label's font. grow_only: a one-line label's room grows to its
    widest text and does not shrink back (a status line whose numbers change width) until
    reset_width()."""

    def __init__(self, label: QLabel, parent: QWidget | None = None,
                 grow_only: bool = False) -> None:
        super().__init__(parent)
        self.label = label
        label.setParent(self)
        label.move(0, 0)
        self.setSizePolicy(label.sizePolicy())
        self._grow_only = grow_only
        self._widest = 0
        self._needs = self._measure()

    def set_text(self, text: str) -> None:
        if text != self.label.text():
            self.label.setText(text)
            self.refit()

    def text(self) -> str:
        return self.label.text()

    def refit(self) -> None:
        """Ask for a layout pass if the label now needs another size."""
        needs = self._measure()
        if needs != self._needs or not self.isVisible():
            self._needs = needs
            self.updateGeometry()

    def reset_width(self) -> None:
        """grow_only: let the room shrink to the present text."""
        self._widest = 0
        self.refit()

    def _measure(self) -> tuple:
        label = self.label
        if label.wordWrap():  # the height it needs at the width it has
            return (label.heightForWidth(max(1, self.width())),)
        hint = label.sizeHint()
        if self._grow_only:
            self._widest = max(self._widest, hint.width())
            return (self._widest, hint.height())
        return (hint.width(), hint.height(), label.minimumSizeHint().width())

    # -- what the layout asks ------------------------------------------------------------

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        hint = self.label.sizeHint()
        if self._grow_only:
            hint.setWidth(max(hint.width(), self._widest))
        return hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        hint = self.label.minimumSizeHint()
        if self._grow_only:
            hint.setWidth(max(hint.width(), self._widest))
        return hint

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return self.label.wordWrap()

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        return self.label.heightForWidth(width)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.label.setGeometry(self.rect())
        self._needs = self._measure()

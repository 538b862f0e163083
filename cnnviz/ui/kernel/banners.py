"""The red banner (the numbers cannot work; the panels keep the last valid result) and the
amber note (computed, but a size was floored, not the way the lecture's rule asks)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from ...core.convolution.filtering import FilterResult, floor_note
from . import wording as w

NOTE_TIP = ("(W − F + 2P) / S + 1 is not a whole number. PyTorch and Keras then floor it: the "
            "rows and columns the kernel cannot reach (marked in orange on the input) are left out.")


def _label(style: str) -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(style)
    label.hide()
    return label


class Banners:
    """error: the red banner; note: the amber one. Both QLabels, laid out by the explorer."""

    def __init__(self) -> None:
        self.error = _label(w.ERROR_STYLE)
        self.note = _label(w.NOTE_STYLE)
        self.note.setToolTip(NOTE_TIP)

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def draw(self, r: FilterResult, kept_last_result: bool) -> None:
        if r.error:
            # Only claim a last valid result when a panel really shows one.
            kept = (" The panels show the last valid result." if kept_last_result else
                    " Nothing can be computed until the numbers fit.")
            self.show_error(f"{r.error}.{kept}")
        else:
            self.error.hide()
        if r.notes:  # the formula is right above: the note without it
            self.note.setText("\n".join(floor_note(r, brief=True) or r.notes))
            self.note.show()
        else:
            self.note.hide()

    def hide(self) -> None:
        self.error.hide()
        self.note.hide()

"""A panel in a scroll area that fills the visible area and scrolls only below its minimum
size: the window's tabs and the training lab's panels use it."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QVBoxLayout, QWidget


class FitToViewport(QWidget):
    """Holds a panel in a scroll area: it fills the visible area exactly and scrolls only
    when the area is smaller than the panel's minimum size. (Without this, a word-wrapped
    label inside makes QScrollArea size the panel by height-for-width, taller than the view.)"""

    def __init__(self, child: QWidget) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(child)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return False

    def heightForWidth(self, _width: int) -> int:  # noqa: N802 (Qt override; QScrollArea asks)
        return -1


def scrolling(widget: QWidget) -> QScrollArea:
    """On a small screen a panel may need more room than there is: it scrolls instead of
    pushing the window off the screen."""
    area = QScrollArea()
    area.setWidget(FitToViewport(widget))
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    return area

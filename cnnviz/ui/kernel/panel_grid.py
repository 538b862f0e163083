"""The six boxes of the kernel explorer in two or three columns, whichever draws the
images larger."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QWidget

COMPACT_PANEL = 220  # panels narrower than this leave out their colour bar
# Room a panel needs besides its image: left axis and colour bar with its labels across,
# title and bottom axis down (pixels, about, at the default font).
PANEL_EXTRA_W, PANEL_EXTRA_H = 105, 55


def image_side(width: int, height: int, columns: int) -> float:
    """About how large (pixels a side) each panel's image can be drawn with the six boxes
    in `columns` columns (2 or 3) of a width × height area."""
    rows = -(-6 // columns)
    return min(width / columns - PANEL_EXTRA_W, height / rows - PANEL_EXTRA_H)


def best_columns(width: int, height: int, current: int = 0) -> int:
    """2 or 3 columns, whichever draws the images larger. The current layout is kept unless
    the other is clearly better (10%), so a note appearing above the panels does not make
    them all jump to new places."""
    # Panels narrower than COMPACT_PANEL leave out their colour bar, and without it the
    # values cannot be read: such a layout must draw images clearly (30%) larger to win.
    sides = {c: image_side(width, height, c) / (1.3 if width / c < COMPACT_PANEL else 1.0)
             for c in (2, 3)}
    best = max(sides, key=lambda c: (sides[c], c))
    if current in sides and sides[best] <= 1.1 * sides[current]:
        return current
    return best


class PanelGrid(QWidget):
    """The six boxes in reading order (input, kernel, details / conv, activation, pooling):
    two or three columns, whichever draws the images larger (see best_columns)."""

    def __init__(self, widgets: list[QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self.widgets = widgets
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.columns = 0
        self._place(3)

    def _place(self, columns: int) -> None:
        if columns == self.columns:
            return
        for w in self.widgets:
            self.grid.removeWidget(w)
        order = self.widgets if columns == 3 else [self.widgets[i] for i in (0, 1, 3, 4, 5, 2)]
        for i, w in enumerate(order):
            self.grid.addWidget(w, i // columns, i % columns)
        rows = -(-len(order) // columns)
        for c in range(3):
            self.grid.setColumnStretch(c, 1 if c < columns else 0)
        for r in range(3):
            self.grid.setRowStretch(r, 1 if r < rows else 0)
        self.columns = columns

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        size = event.size()
        self._place(best_columns(size.width(), size.height(), self.columns))
        super().resizeEvent(event)

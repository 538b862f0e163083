"""Numbers drawn on the cells of a small image, like the lecture's grids."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QFontMetrics

from ..widgets.plots import ImagePanel


class CellNumbers:
    """Numbers drawn on the cells of a small image (pg.TextItem, reused), black or white
    to stand out from the cell's colour. The font follows the cell size on screen; when the
    cells are too small to read, no numbers are drawn (the colours still are)."""

    def __init__(self, panel: ImagePanel):
        self.panel = panel
        self.items: list[pg.TextItem] = []
        self.texts: list[str] = []
        self.colours: list[bool] = []  # True: black text
        self.shape = (0, 0)
        self.origin = (0.0, 0.0)  # plot coordinates of cell (0, 0)'s top-left corner
        self._placed: tuple = ()
        self._px = 0
        self._shown = 0  # how many items are visible and up to date
        panel.plot.vb.sigResized.connect(self._apply)

    def clear(self) -> None:
        self.shape = (0, 0)
        self.texts = []
        self._apply()

    def visible_texts(self) -> list[str]:
        return [item.textItem.toPlainText() for item in self.items[:self._shown]]

    def show(self, texts: list[list[str]], values: np.ndarray, cmap, levels,
             origin: tuple[float, float] = (0.0, 0.0)) -> None:
        rows, cols = len(texts), len(texts[0]) if texts else 0
        self.origin = origin
        # Halved so that a span of ±1e308 does not overflow; NaN and ∞ land at the ends.
        lo, hi = float(levels[0]) / 2, float(levels[1]) / 2
        span = (hi - lo) or 1.0
        with np.errstate(all="ignore"):
            where = (np.asarray(values, np.float64) / 2 - lo) / span
        where = np.clip(np.nan_to_num(where, nan=0.0, posinf=1.0, neginf=0.0), 0, 1)
        rgba = cmap.map(where.ravel(), mode="float")
        light = rgba[:, 0] * 0.299 + rgba[:, 1] * 0.587 + rgba[:, 2] * 0.114
        self.texts = [t for row in texts for t in row]
        self.colours = [bool(v > 0.55) for v in light]
        self.shape = (rows, cols)
        self._shown = 0  # texts changed: refresh every item
        self._apply()

    def copy_from(self, other: CellNumbers) -> None:
        """The same numbers as another panel's (an enlarged view of it)."""
        self.texts, self.colours = list(other.texts), list(other.colours)
        self.shape, self.origin = other.shape, other.origin
        self._shown = 0
        self._apply()

    def _font_px(self) -> int:
        rows, cols = self.shape
        vb = self.panel.plot.vb
        cell = min(vb.width() / cols, vb.height() / rows)
        px = int(min(cell * 0.42, 20))
        if px < 8 or not self.texts:
            return px
        # The widest text must leave a gap to its neighbours ("1210" "1265" never touch)
        font = QFont()
        font.setPixelSize(px)
        widest = max(QFontMetrics(font).horizontalAdvance(t) for t in set(self.texts))
        room = cell * 0.8
        return px if widest <= room else int(px * room / widest)

    def _apply(self, *_args) -> None:
        rows, cols = self.shape
        n = rows * cols
        px = self._font_px() if n else 0
        if px < 8:  # nothing to draw, or too small to read
            for item in self.items[:max(self._shown, len(self.items))]:
                if item.isVisible():
                    item.hide()
            self._shown = 0
            return
        while len(self.items) < n:
            item = pg.TextItem("", anchor=(0.5, 0.5))
            item.setZValue(5)
            self.panel.plot.addItem(item, ignoreBounds=True)
            self.items.append(item)
        font = QFont()
        font.setPixelSize(px)
        refresh = self._shown != n or self._placed != (self.shape, self.origin)
        for i, item in enumerate(self.items):
            if i >= n:
                if item.isVisible():
                    item.hide()
                continue
            if refresh:
                r, c = divmod(i, cols)
                item.setText(self.texts[i])
                item.setColor(QColor("black") if self.colours[i] else QColor("white"))
                item.setPos(self.origin[0] + c + 0.5, self.origin[1] + r + 0.5)
            if refresh or px != self._px:
                item.setFont(font)
            item.show()
        self._px, self._placed, self._shown = px, (self.shape, self.origin), n

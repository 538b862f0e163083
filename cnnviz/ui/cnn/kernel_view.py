"""A conv filter's learned kernels as small heat maps, and one channel through the stages
of its block."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QWidget

from ...core.basics.formulas import fmt_number
from ...core.pictures.mosaic import MosaicGeometry, StickyScale, best_columns
from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP
from .feature_maps import FRAME_PEN


class LayerKernelsView(pg.GraphicsLayoutWidget):
    """weight[c] of a conv layer: (in_channels, kh, kw) as a mosaic of heat maps on a
    blue-white-red scale centred on zero, with the numbers written in when there are few.

    hovered(input channel, row, col, value).
    """

    hovered = Signal(int, int, int, float)
    MAX_NUMBERS = 60  # write the numbers in when the filter has at most this many weights

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumHeight(120)
        self.view = self.addViewBox(row=0, col=0)
        self.view.setAspectLocked(True)
        self.view.invertY(True)
        self.view.setMouseEnabled(False, False)
        self.view.setMenuEnabled(False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setColorMap(SIGNED_CMAP)
        self.view.addItem(self.image_item)
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=SIGNED_CMAP, width=10,
                                        interactive=False, colorMapMenu=False)
        self.addItem(self.colorbar, row=0, col=1)
        self.weights: np.ndarray | None = None
        self.geometry: MosaicGeometry | None = None
        self.number_items: list[pg.TextItem] = []
        self._other_items: list = []
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def clear_kernels(self) -> None:
        self.weights = None
        self.image_item.clear()
        for item in self.number_items + self._other_items:
            self.view.removeItem(item)
        self.number_items = []
        self._other_items = []

    def set_kernels(self, weights: np.ndarray) -> None:
        """weights: (in_channels, kh, kw)."""
        self.clear_kernels()
        weights = np.asarray(weights, dtype=np.float32)
        self.weights = weights
        n, h, w = weights.shape
        cols = best_columns(n, h, w, max(100, self.width() - 60), max(80, self.height() - 10))
        g = MosaicGeometry(n, h, w, cols, 1, 1 if n > 1 else 0)
        self.geometry = g
        buf = np.full(g.shape, np.nan, np.float32)
        for c in range(n):
            r0, c0 = g.origin(c)
            buf[r0:r0 + h, c0:c0 + w] = weights[c]
        m = float(np.abs(weights).max()) or 1.0
        self.image_item.setImage(buf, autoLevels=False, levels=(-m, m))
        self.colorbar.setLevels(values=(-m, m))
        path = QPainterPath()
        for c in range(n):
            r0, c0 = g.origin(c)
            path.addRect(QRectF(c0, r0, w, h))
        frames = QGraphicsPathItem(path)
        pen = QPen(FRAME_PEN)
        pen.setCosmetic(True)
        frames.setPen(pen)
        self.view.addItem(frames)
        self._other_items.append(frames)
        if weights.size <= self.MAX_NUMBERS:
            font = QFont()
            font.setPointSizeF(9.0 if weights.size <= 27 else 7.0)
            for c in range(n):
                r0, c0 = g.origin(c)
                for i in range(h):
                    for j in range(w):
                        t = pg.TextItem(fmt_number(weights[c, i, j], decimals=2), color=(0, 0, 0),
                                        anchor=(0.5, 0.5))
                        t.setFont(font)
                        t.setPos(c0 + j + 0.5, r0 + i + 0.5)
                        self.view.addItem(t)
                        self.number_items.append(t)
        self.view.setRange(xRange=(0, g.shape[1]), yRange=(0, g.shape[0]), padding=0.03)

    def numbers(self) -> list[str]:
        return [t.toPlainText() for t in self.number_items]

    def _on_mouse_moved(self, scene_pos) -> None:
        if self.weights is None or self.geometry is None:
            return
        if not self.view.sceneBoundingRect().contains(scene_pos):
            return
        p = self.view.mapSceneToView(scene_pos)
        hit = self.geometry.locate(p.y(), p.x())
        if hit is not None:
            c, r, k = hit
            self.hovered.emit(c, r, k, float(self.weights[c, r, k]))


class StageStrip(pg.GraphicsLayoutWidget):
    """One channel through the stages of its block (conv → BN → ReLU → pool), small,
    side by side, each on its own scale. Titles take two short lines (name, size) so four
    stages fit the detail panel's width."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedHeight(124)
        self.ci.setSpacing(0)
        self.ci.setContentsMargins(0, 0, 0, 0)
        self._names: tuple = ()
        self._scales: dict[str, StickyScale] = {}
        self._cmaps: dict = {}
        self.items: dict[str, pg.ImageItem] = {}
        self.titles: dict[str, pg.LabelItem] = {}

    def set_stages(self, names: list[str]) -> None:
        if tuple(names) == self._names:
            return
        self._names = tuple(names)
        self.ci.clear()
        self.items, self.titles = {}, {}
        self._scales = {name: StickyScale() for name in names}
        self._cmaps = {}
        for i, name in enumerate(names):
            if i:
                self.addLabel("→", row=1, col=2 * i - 1, size="9pt")
            self.titles[name] = self.addLabel(name, row=0, col=2 * i, size="8pt")
            vb = self.addViewBox(row=1, col=2 * i)
            vb.setMinimumWidth(24)
            vb.setAspectLocked(True)
            vb.invertY(True)
            vb.setMouseEnabled(False, False)
            vb.setMenuEnabled(False)
            item = pg.ImageItem(axisOrder="row-major")
            vb.addItem(item)
            self.items[name] = item
            self.ci.layout.setColumnStretchFactor(2 * i, 1)  # the maps share the width

    def set_maps(self, maps: dict[str, np.ndarray]) -> None:
        for name, item in self.items.items():
            m = maps.get(name)
            if m is None:
                continue
            signed = float(m.min()) < 0
            top = self._scales[name].update(float(np.abs(m).max()))
            cmap = SIGNED_CMAP if signed else UNSIGNED_CMAP
            if self._cmaps.get(name) is not cmap:
                self._cmaps[name] = cmap
                item.setColorMap(cmap)
            first = item.image is None or item.image.shape != m.shape
            item.setImage(m, autoLevels=False, levels=(-top, top) if signed else (0, top))
            if first:
                item.getViewBox().setRange(xRange=(0, m.shape[1]), yRange=(0, m.shape[0]),
                                           padding=0.02)
                self.titles[name].setText(f"{name}<br>{m.shape[0]}×{m.shape[1]}", size="8pt")

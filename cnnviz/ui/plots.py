"""Shared pyqtgraph pieces: an image panel with a colour bar and a title, drawn upright.

pyqtgraph is set to row-major images once, here (DESIGN.md pitfall): array[0, 0] is the
top-left pixel, as in numpy, PIL and the lecture's grids.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w", foreground="k")

# Diverging for signed values (conv outputs, kernels), sequential for the rest.
SIGNED_CMAP = pg.colormap.get("CET-D1")  # blue-white-red
UNSIGNED_CMAP = pg.colormap.get("CET-L1")  # black to white, like the digits themselves


def symmetric_levels(array: np.ndarray) -> tuple[float, float]:
    """Levels centred on zero, so white means 0 on the diverging map."""
    finite = array[np.isfinite(array)] if array.size else array
    m = float(np.abs(finite).max()) if finite.size else 1.0
    m = m or 1.0
    return -m, m


def auto_levels(array: np.ndarray) -> tuple[float, float]:
    finite = array[np.isfinite(array)] if array.size else array
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        hi = lo + 1.0
    return lo, hi


def pick_colormap(array: np.ndarray):
    """Signed data gets the diverging map, non-negative data the grey one."""
    return SIGNED_CMAP if array.size and float(np.nanmin(array)) < 0 else UNSIGNED_CMAP


class ImagePanel(QWidget):
    """Title (with the array's shape), an upright image, and optionally a colour bar.

    hovered(row, col) is emitted as the mouse moves over a pixel; left(-1, -1) when it leaves.
    clicked(row, col) on a left click.
    """

    hovered = Signal(int, int)
    clicked = Signal(int, int)

    def __init__(self, title: str = "", colorbar: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self._title = title
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumSize(80, 80)
        self.plot = self.view.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)  # row 0 at the top, like the input
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.getAxis("left").setWidth(28)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image_item)
        self.colorbar = None
        if colorbar:
            self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=UNSIGNED_CMAP, width=12,
                                            interactive=False)
            self.colorbar.setImageItem(self.image_item, insert_in=self.plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self._shape = (0, 0)
        self.array: np.ndarray | None = None
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._last_hover = (-1, -1)
        self.set_title(title)

    def set_title(self, text: str) -> None:
        self._title = text
        self.plot.setTitle(text, size="9pt")

    def title(self) -> str:
        return self._title

    def set_array(self, array: np.ndarray, title: str | None = None,
                  levels: tuple[float, float] | None = None, cmap=None) -> None:
        """Show a 2-D array (or (H, W, 3) 0..255 colour). Levels default to the data's range,
        symmetric around zero for signed data."""
        array = np.asarray(array)
        self.array = array
        if array.ndim == 3:  # colour
            self.image_item.setImage(np.clip(array, 0, 255).astype(np.uint8), autoLevels=False,
                                     levels=(0, 255))
            if self.colorbar is not None:
                self.colorbar.hide()
        else:
            if cmap is None:
                cmap = pick_colormap(array)
            if levels is None:
                levels = symmetric_levels(array) if cmap is SIGNED_CMAP else auto_levels(array)
            shown = np.nan_to_num(array.astype(np.float32, copy=False))
            if self.colorbar is not None:
                self.colorbar.show()
                self.colorbar.setColorMap(cmap)
                self.colorbar.setLevels(levels)
            else:
                self.image_item.setColorMap(cmap)
            self.image_item.setImage(shown, autoLevels=False, levels=levels)
        shape = array.shape[:2]
        if shape != self._shape:
            self._shape = shape
            self.plot.setRange(xRange=(0, shape[1]), yRange=(0, shape[0]), padding=0.02)
        if title is not None:
            self.set_title(title)

    def pixel_at(self, scene_pos: QPointF) -> tuple[int, int]:
        if self.array is None or not self.plot.sceneBoundingRect().contains(scene_pos):
            return -1, -1
        p = self.plot.vb.mapSceneToView(scene_pos)
        row, col = int(np.floor(p.y())), int(np.floor(p.x()))
        h, w = self.array.shape[:2]
        if 0 <= row < h and 0 <= col < w:
            return row, col
        return -1, -1

    def _on_mouse_moved(self, scene_pos) -> None:
        hit = self.pixel_at(scene_pos)
        if hit != self._last_hover:
            self._last_hover = hit
            self.hovered.emit(*hit)

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self.pixel_at(event.scenePos())
        if hit != (-1, -1):
            self.clicked.emit(*hit)

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._last_hover != (-1, -1):
            self._last_hover = (-1, -1)
            self.hovered.emit(-1, -1)
        super().leaveEvent(event)

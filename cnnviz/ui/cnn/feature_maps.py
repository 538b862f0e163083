"""Feature maps, drawn fast enough to follow the pen.

A layer's C maps of H×W are laid out in a grid inside ONE ImageItem (a mosaic with
white gaps), one mosaic per stage (conv → BN → ReLU → pool side by side). The
items are built once per (layer, grid size); each update only copies numbers into the
mosaic and calls setImage. Measured offscreen: 32 maps as one mosaic paint in ~0.9 ms,
as 32 separate ImageItems in ~4.3 ms. Where each map goes is cnnviz.core.pictures.mosaic's.

The mosaic is handed over as 8-bit colour indices (255 steps of the colour map, and white
for the gaps), turned into an opaque 32-bit picture through a table (QuickImageItem): no
transparency to blend, no conversion when Qt draws it. The frames and the channel numbers,
which do not change while the pen moves, are drawn once into a cached picture and copied.

Images are row-major and the view's y axis is inverted, so row 0 of a map is at the top,
as in the input drawing.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QScrollArea,
    QStyle,
    QWidget,
)

from ...core.pictures.mosaic import GAP_X, MosaicGeometry, StickyScale, band_height, best_columns
from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP, QuickImageItem, keep_drawn

GAP_INDEX = 255  # the mosaic's gaps (and empty maps): white; 0..254 carry the colour map
COLOURS = 255  # steps of the colour map

PER_MAP_NOTE = "colours: each map ÷ its own largest |value|"  # under the colour bars
MIN_MAP_PX = 48  # maps are never drawn narrower than this: the grid scrolls instead
MIN_GRID_H = 160
GRID_EXTRA_H = 70  # the title, colour bar and note rows around the mosaics
FRAME_PEN = QColor(150, 150, 150)
SELECT_PEN = QColor(255, 140, 0)

__all__ = ["FRAME_PEN", "PER_MAP_NOTE", "ChannelNumbers", "FeatureMapGrid", "MosaicStage"]


class ChannelNumbers(QGraphicsItem):
    """All channel numbers of a mosaic in one item: one Python paint call per frame
    instead of one TextItem each. Drawn in screen pixels (a readable size at any zoom)
    in the band above each map, and left out when the maps are drawn too small."""

    def __init__(self, geometry: MosaicGeometry):
        super().__init__()
        self.geometry = geometry
        self.font = QFont()
        self.font.setPointSizeF(7.5)
        self.color = QColor(60, 60, 60)
        self.spots = [(QPointF(*geometry.origin(c)[::-1]), str(c)) for c in range(geometry.n)]
        self.drawn = False  # whether the last paint wrote the numbers (tests)
        # drawn once per size into a picture Qt keeps: not again for every new result
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt override)
        h, w = self.geometry.shape
        return QRectF(0, 0, w, h)

    def paint(self, painter, option, widget=None) -> None:
        t = painter.transform()
        band_px = self.geometry.gap_top * abs(t.m22())
        cell_px = self.geometry.cell_w * abs(t.m11())
        self.drawn = band_px >= 9 and cell_px >= 14
        if not self.drawn:
            return
        painter.save()
        painter.resetTransform()
        painter.setFont(self.font)
        painter.setPen(self.color)
        for pos, text in self.spots:
            p = t.map(pos)
            painter.drawText(QPointF(p.x() + 1, p.y() - 2), text)
        painter.restore()


class MosaicStage:
    """One stage (one layer's output): a title, a mosaic image, frames, channel numbers,
    a highlight for the chosen map and a horizontal colour bar."""

    def __init__(self, layout: pg.GraphicsLayout, col: int, name: str, title: str,
                 geometry: MosaicGeometry, show_numbers: bool = True):
        self.name = name
        self.geometry = geometry
        self.signed = False
        self.levels = (0.0, 1.0)
        self.title = layout.addLabel(title, row=0, col=col, size="9pt")
        self.view = layout.addViewBox(row=1, col=col)
        self.view.setAspectLocked(True)
        self.view.invertY(True)  # row 0 at the top, like the input drawing
        self.view.setMouseEnabled(False, False)
        self.view.setMenuEnabled(False)
        self.view.enableAutoRange(enable=False)
        self.image_item = QuickImageItem(axisOrder="row-major")
        self.image_item.setColorMap(UNSIGNED_CMAP)
        self.view.addItem(self.image_item)
        g = geometry
        self._buffer = np.full(g.shape, np.nan, np.float32)  # the values drawn (NaN: gaps)
        self._slots = np.full((g.rows * g.cols, g.h, g.w), np.nan, np.float32)
        self._view4 = self._buffer.reshape(g.rows, g.cell_h, g.cols, g.cell_w)
        self._gaps = np.isnan(self._mosaic_of(np.zeros((g.n, g.h, g.w), np.float32)))
        self._indices = np.full(g.shape, GAP_INDEX, np.uint8)  # what the ImageItem shows
        self._scratch = np.empty(g.shape, np.float32)
        # frames around all maps: one path item, painted in one go
        path = QPainterPath()
        for c in range(g.n):
            r0, c0 = g.origin(c)
            path.addRect(QRectF(c0, r0, g.w, g.h))
        self.frames = QGraphicsPathItem(path)
        pen = QPen(FRAME_PEN)
        pen.setCosmetic(True)
        pen.setWidthF(1.0)
        self.frames.setPen(pen)
        self.frames.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.view.addItem(self.frames)
        self.numbers: ChannelNumbers | None = None
        if show_numbers:
            self.numbers = ChannelNumbers(g)
            self.view.addItem(self.numbers)
        self.highlight = QGraphicsRectItem()
        hpen = QPen(SELECT_PEN)
        hpen.setCosmetic(True)
        hpen.setWidthF(3.0)
        self.highlight.setPen(hpen)
        self.highlight.hide()
        self.view.addItem(self.highlight)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=UNSIGNED_CMAP, width=10,
                                        interactive=False, orientation="horizontal",
                                        colorMapMenu=False)
        layout.addItem(self.colorbar, row=2, col=col)
        keep_drawn(self.title, self.colorbar.axis)
        h, w = g.shape
        self.view.setRange(xRange=(0, w), yRange=(0, h), padding=0.01)
        self.data: np.ndarray | None = None  # the raw (C, H, W) values now shown
        self._scale = StickyScale()
        self._cmap = None

    def select(self, c: int | None) -> None:
        g = self.geometry
        if c is None or not 0 <= c < g.n or g.n == 1:
            self.highlight.hide()
            return
        r0, c0 = g.origin(c)
        self.highlight.setRect(QRectF(c0 - 0.25, r0 - 0.25, g.w + 0.5, g.h + 0.5))
        self.highlight.show()

    def _mosaic_of(self, maps: np.ndarray) -> np.ndarray:
        """maps (n, H, W) laid out in the mosaic buffer (which is returned)."""
        g = self.geometry
        self._slots[:g.n] = maps
        self._view4[:, g.gap_top:, :, :g.w] = (
            self._slots.reshape(g.rows, g.cols, g.h, g.w).transpose(0, 2, 1, 3))
        return self._buffer

    def set_data(self, data: np.ndarray, shared: bool) -> None:
        """data: (C, H, W). shared: one colour scale for all maps, else each map scaled to
        its own largest |value|."""
        g = self.geometry
        self.data = data
        if not self.signed and data.size and float(data.min()) < 0:
            self.signed = True  # once signed, stays signed: the colour map never flickers
        cmap = SIGNED_CMAP if self.signed else UNSIGNED_CMAP
        if shared:
            top = self._scale.update(float(np.abs(data).max()) if data.size else 0.0)
            levels = (-top, top) if self.signed else (0.0, top)
            self._mosaic_of(data)
        else:
            flat = data.reshape(g.n, -1)
            peak = np.abs(flat).max(axis=1)
            # A constant map has no pattern to stretch: divided by its own value it would
            # fill the colour range (a solid red square); it keeps the layer's scale.
            constant = np.ptp(flat, axis=1) == 0 if flat.size else np.zeros(g.n, bool)
            layer_peak = float(peak.max()) if peak.size else 0.0
            peak[constant] = layer_peak
            peak[~(peak > 0)] = 1.0
            np.divide(data, peak[:, None, None], out=self._slots[:g.n])
            self._mosaic_of(self._slots[:g.n])
            levels = (-1.0, 1.0) if self.signed else (0.0, 1.0)
        if cmap is not self._cmap:
            self._cmap = cmap
            self.colorbar.setColorMap(cmap)
        self._show(levels, holes=bool(data.size) and bool(np.isnan(data.max())))
        self.colorbar.setVisible(True)
        if levels != self.levels:
            self.levels = levels
            self.colorbar.setLevels(values=levels)

    def _show(self, levels: tuple[float, float], holes: bool = False) -> None:
        """The buffer's values as colour indices on `levels` (as pyqtgraph would scale
        them: the low level the first colour, the high level the last), gaps white.
        holes: some values are NaN (left white too)."""
        lo, hi = levels
        span = float(hi - lo) or 1.0
        f = self._scratch
        np.subtract(self._buffer, np.float32(lo), out=f)
        np.multiply(f, np.float32(COLOURS / span), out=f)
        np.clip(f, 0, COLOURS - 1, out=f)  # (NaN stays NaN: a gap, set below)
        with np.errstate(invalid="ignore"):
            np.copyto(self._indices, f, casting="unsafe")
        self._indices[self._gaps] = GAP_INDEX
        if holes:
            self._indices[np.isnan(f)] = GAP_INDEX
        self.image_item.set_indices(self._indices, self._cmap or UNSIGNED_CMAP)

    def set_empty(self) -> None:
        """Nothing to show (no digit found): the frames stay, the maps are left empty and
        the colour bar is hidden; pointing at a map reads nothing."""
        self.data = None
        self._buffer[:] = np.nan
        self._show(self.levels, holes=True)
        self.colorbar.setVisible(False)

    def is_empty(self) -> bool:
        return self.data is None

    def map_array(self, c: int) -> np.ndarray:
        """Map c as drawn: the values its colours stand for (NaN where it is empty)."""
        g = self.geometry
        r0, c0 = g.origin(c)
        return self._buffer[r0:r0 + g.h, c0:c0 + g.w]

    def hit(self, scene_pos: QPointF) -> tuple[int, int, int] | None:
        if not self.view.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.view.mapSceneToView(scene_pos)
        return self.geometry.locate(p.y(), p.x())

    def scene_point(self, c: int, row: float | None = None, col: float | None = None) -> QPointF:
        """Scene position of a pixel of map c (its centre by default); for tests."""
        g = self.geometry
        r0, c0 = g.origin(c)
        row = g.h / 2 if row is None else row + 0.5
        col = g.w / 2 if col is None else col + 0.5
        return self.view.mapViewToScene(QPointF(c0 + col, r0 + row))


class FeatureMapGrid(pg.GraphicsLayoutWidget):
    """One or more stages side by side, each a mosaic of all its maps.

    hovered(stage, channel, row, col, value) as the mouse moves over a map pixel
    (stage "" when it leaves); map_clicked(stage, channel) on a left click.
    """

    hovered = Signal(str, int, int, int, float)
    map_clicked = Signal(str, int)
    map_double_clicked = Signal(str, int)  # (the unit window: what does this map look for?)
    painted = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(200, MIN_GRID_H)
        self.scroll_area: QScrollArea | None = None  # set by whoever puts the grid in one
        self.ci.setSpacing(2)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.stages: list[MosaicStage] = []
        self.scale_note: pg.LabelItem | None = None  # one line under all the colour bars
        self._spec: tuple = ()
        self._selected_channel: int | None = None
        self._last_hover: tuple | None = None  # (stage name, *hit) last pointed at
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(120)
        self._relayout.timeout.connect(self._rebuild_for_size)
        self.paint_count = 0

    # -- building ------------------------------------------------------------------------

    def set_stages(self, stages: list[tuple[str, str, tuple[int, int, int]]],
                   force: bool = False) -> bool:
        """stages: [(layer name, title, (C, H, W))]. Rebuilds only when the stages or the
        best grid for the widget's size changed; returns True if it rebuilt."""
        # one column count for all stages, so map c sits at the same place in each
        k, need = self._layout_for(stages[0][2], len(stages)) if stages else (1, 0)
        self.setMinimumHeight(max(MIN_GRID_H, need))  # taller than the view: it scrolls
        cols = [k] * len(stages)
        spec = tuple((name, title, tuple(shape), k) for (name, title, shape), k in zip(stages, cols))
        if spec == self._spec and not force:
            return False
        old = {s.name: s for s in self.stages}
        self._spec = spec
        self.ci.clear()
        self.stages = []
        self._last_hover = None
        for i, (name, title, shape, k) in enumerate(spec):
            c, h, w = shape
            g = MosaicGeometry(c, h, w, k, GAP_X, band_height(h))
            stage = MosaicStage(self.ci, i, name, title, g, show_numbers=True)
            prev = old.get(name)
            if prev is not None:
                stage.signed = prev.signed
            self.stages.append(stage)
        # What a per-map scale means, said once under all the colour bars (one caption per
        # stage would overwrite its neighbours when the stages are side by side); the row is
        # there only while the scale is per map, so shared maps keep the room.
        self.scale_note = pg.LabelItem(PER_MAP_NOTE, size="8pt", color="#444")
        self._note_shown = False
        self.ci.layout.setRowStretchFactor(1, 10)
        for i in range(len(spec)):
            self.ci.layout.setColumnStretchFactor(i, 1)
            self.ci.layout.setColumnPreferredWidth(i, 10)
        self.select_channel(self._selected_channel)
        return True

    def set_scroll_area(self, area: QScrollArea) -> None:
        """The scroll area the grid sits in: its visible size decides the layout."""
        self.scroll_area = area
        area.viewport().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Resize and self.scroll_area is not None \
                and watched is self.scroll_area.viewport() and self._spec:
            self._relayout.start()  # (a taller view may need no scrolling any more)
        return False

    def _room(self) -> tuple[int, int, int]:
        """(width, height) the grid may fill without scrolling, and the width of the
        scroll bar that appears when it must scroll (0 when it is not in a scroll area)."""
        area = self.scroll_area
        if area is None:
            return self.width(), self.height(), 0
        view = area.viewport().size()
        bar = area.verticalScrollBar()
        shown = bar.isVisible()
        width = view.width() + (bar.width() if shown else 0)  # the width without the bar
        return width, view.height(), area.style().pixelMetric(
            QStyle.PixelMetric.PM_ScrollBarExtent)

    def _layout_for(self, shape, n_stages: int) -> tuple[int, int]:
        """(columns, height the grid needs): the column count that makes the maps largest in
        the room there is; when that leaves them under MIN_MAP_PX wide, as many columns of
        MIN_MAP_PX maps as the width holds, and the height they need (the grid scrolls)."""
        c, h, w = shape
        n_stages = max(1, n_stages)
        width, height, bar = self._room()
        avail_w = max(80.0, width / n_stages - 12)
        avail_h = max(60.0, height - GRID_EXTRA_H)
        k = best_columns(c, h, w, avail_w, avail_h)
        g = MosaicGeometry(c, h, w, k, GAP_X, band_height(h))
        rows_h, cols_w = g.shape
        if min(avail_w / cols_w, avail_h / rows_h) * w >= MIN_MAP_PX or self.scroll_area is None:
            return k, 0
        per_pixel = 1.04 * MIN_MAP_PX / w  # screen pixels per map pixel (+ the view's margin)
        avail_w = max(80.0, (width - bar) / n_stages - 12)
        k = int(max(1, min(c, (avail_w / per_pixel + GAP_X) // (w + GAP_X))))
        rows = -(-c // k)
        return k, int(np.ceil(rows * (h + band_height(h)) * per_pixel + GRID_EXTRA_H))

    def _columns_for(self, shape, n_stages: int) -> int:
        return self._layout_for(shape, n_stages)[0]

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if getattr(self, "_spec", None):  # (pyqtgraph calls this during __init__)
            self._relayout.start()

    def _rebuild_for_size(self) -> None:
        if not self._spec:
            return
        data = {s.name: s.data for s in self.stages}
        empty = bool(self.stages) and all(s.data is None for s in self.stages)
        shared = getattr(self, "_shared", True)
        if self.set_stages([(n, t, s) for n, t, s, _ in self._spec]):
            if empty:
                self.set_empty()
            else:
                self.set_data({k: v for k, v in data.items() if v is not None}, shared)

    # -- updating ------------------------------------------------------------------------

    def set_data(self, arrays: dict[str, np.ndarray], shared: bool) -> None:
        self._shared = shared
        for stage in self.stages:
            value = arrays.get(stage.name)
            if value is not None and value.ndim == 3:
                stage.set_data(value, shared)
        if self.scale_note is not None and self._note_shown == shared:
            self._note_shown = not shared
            if shared:
                self.ci.removeItem(self.scale_note)
            else:
                self.ci.addItem(self.scale_note, row=3, col=0, colspan=max(1, len(self.stages)))

    def set_empty(self) -> None:
        """Every stage empty (no digit found: a constant map says nothing)."""
        for stage in self.stages:
            stage.set_empty()
        if self.scale_note is not None and self._note_shown:
            self._note_shown = False
            self.ci.removeItem(self.scale_note)

    def select_channel(self, c: int | None) -> None:
        self._selected_channel = c
        for stage in self.stages:
            stage.select(c)

    def stage(self, name: str) -> MosaicStage | None:
        for s in self.stages:
            if s.name == name:
                return s
        return None

    # -- mouse ---------------------------------------------------------------------------

    def _hit(self, scene_pos):
        for stage in self.stages:
            hit = stage.hit(scene_pos)
            if hit is not None:
                return stage, hit
        return None, None

    def _on_mouse_moved(self, scene_pos) -> None:
        stage, hit = self._hit(scene_pos)
        key = (stage.name, *hit) if stage is not None else None
        if key == self._last_hover:
            return
        self._last_hover = key
        if stage is None or stage.data is None:
            self.hovered.emit("", -1, -1, -1, float("nan"))
            return
        c, r, k = hit
        self.hovered.emit(stage.name, c, r, k, float(stage.data[c, r, k]))

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        stage, hit = self._hit(event.scenePos())
        if stage is not None:
            self.map_clicked.emit(stage.name, hit[0])
            if event.double():
                self.map_double_clicked.emit(stage.name, hit[0])

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._last_hover is not None:
            self._last_hover = None
            self.hovered.emit("", -1, -1, -1, float("nan"))
        super().leaveEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        self.paint_count += 1
        self.painted.emit()


# ---------------------------------------------------------------------------------------

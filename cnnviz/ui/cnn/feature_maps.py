"""Feature maps, drawn fast enough to follow the pen.

A layer's C maps of H×W are laid out in a grid inside ONE ImageItem (a mosaic with
transparent gaps), one mosaic per stage (conv → BN → ReLU → pool side by side). The
items are built once per (layer, grid size); each update only copies numbers into the
mosaic and calls setImage. Measured offscreen: 32 maps as one mosaic paint in ~0.9 ms,
as 32 separate ImageItems in ~4.3 ms.

Images are row-major and the view's y axis is inverted, so row 0 of a map is at the top,
as in the input drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem, QWidget

from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP

GAP_X = 1  # empty columns between maps (in map pixels)
EDGE_ROOM = 10  # pixels a bar plot's first or last x label may reach past the axis ends
PER_MAP_NOTE = "colours: each map ÷ its own largest |value|"  # under the colour bars
FRAME_PEN = QColor(150, 150, 150)
SELECT_PEN = QColor(255, 140, 0)


@dataclass
class MosaicGeometry:
    n: int
    h: int
    w: int
    cols: int
    gap_x: int
    gap_top: int  # band above each map for its channel number

    @property
    def rows(self) -> int:
        return -(-self.n // self.cols)

    @property
    def cell_h(self) -> int:
        return self.h + self.gap_top

    @property
    def cell_w(self) -> int:
        return self.w + self.gap_x

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows * self.cell_h, self.cols * self.cell_w  # trailing gap: transparent

    def origin(self, c: int) -> tuple[int, int]:
        """(row, col) of map c's top-left pixel in the mosaic."""
        r, k = divmod(c, self.cols)
        return r * self.cell_h + self.gap_top, k * self.cell_w

    def locate(self, y: float, x: float) -> tuple[int, int, int] | None:
        """Mosaic coordinates -> (channel, row, col) inside a map, or None in a gap."""
        if y < 0 or x < 0:
            return None
        r, ry = divmod(int(np.floor(y)), self.cell_h)
        k, kx = divmod(int(np.floor(x)), self.cell_w)
        ry -= self.gap_top
        if not (0 <= ry < self.h and 0 <= kx < self.w) or k >= self.cols:
            return None
        c = r * self.cols + k
        return (c, ry, kx) if c < self.n else None


def best_columns(n: int, h: int, w: int, avail_w: float, avail_h: float) -> int:
    """The column count that makes the maps largest in a box of avail_w × avail_h."""
    best, best_scale = 1, -1.0
    gap_top = band_height(h)
    for cols in range(1, n + 1):
        rows = -(-n // cols)
        width = cols * (w + GAP_X) - GAP_X
        height = rows * (h + gap_top)
        scale = min(avail_w / width, avail_h / height)
        if scale > best_scale + 1e-9:
            best, best_scale = cols, scale
    return best


NICE_STEPS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceil(x: float) -> float:
    """The smallest 'round' number (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) >= x."""
    if not (x > 0) or not np.isfinite(x):
        return 1.0
    e = 10.0 ** np.floor(np.log10(x))
    for m in NICE_STEPS:
        if m * e >= x * (1 - 1e-9):
            return float(m * e)
    return float(10 * e)


class StickyScale:
    """The top of a colour scale that follows the data without jittering: it rounds up to
    a round number, grows at once, and shrinks only when the data falls below 45% of it.
    A steady scale is easier to read while drawing, and a colour bar that does not change
    costs nothing to repaint."""

    def __init__(self) -> None:
        self.top = 0.0

    def update(self, peak: float) -> float:
        if peak > self.top or peak < 0.45 * self.top or self.top <= 0:
            self.top = nice_ceil(peak)
        return self.top


def band_height(h: int) -> int:
    return max(2, int(round(h * 0.28)))


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
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setColorMap(UNSIGNED_CMAP)
        self.view.addItem(self.image_item)
        g = geometry
        self._buffer = np.full(g.shape, np.nan, np.float32)
        self._slots = np.full((g.rows * g.cols, g.h, g.w), np.nan, np.float32)
        self._view4 = self._buffer.reshape(g.rows, g.cell_h, g.cols, g.cell_w)
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
            self._slots[:g.n] = data
        else:
            peak = np.abs(data).reshape(g.n, -1).max(axis=1)
            peak[~(peak > 0)] = 1.0
            np.divide(data, peak[:, None, None], out=self._slots[:g.n])
            levels = (-1.0, 1.0) if self.signed else (0.0, 1.0)
        self._view4[:, g.gap_top:, :, :g.w] = (
            self._slots.reshape(g.rows, g.cols, g.h, g.w).transpose(0, 2, 1, 3))
        if cmap is not self._cmap:
            self._cmap = cmap
            self.image_item.setColorMap(cmap)
            self.colorbar.setColorMap(cmap)
        self.image_item.setImage(self._buffer, autoLevels=False, levels=levels)
        if levels != self.levels:
            self.levels = levels
            self.colorbar.setLevels(values=levels)

    def map_array(self, c: int) -> np.ndarray:
        """Map c as displayed (the slice of the mosaic ImageItem's image)."""
        g = self.geometry
        r0, c0 = g.origin(c)
        return self.image_item.image[r0:r0 + g.h, c0:c0 + g.w]

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
    painted = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(200, 160)
        self.ci.setSpacing(2)
        self.ci.setContentsMargins(2, 2, 2, 2)
        self.stages: list[MosaicStage] = []
        self.scale_note: pg.LabelItem | None = None  # one line under all the colour bars
        self._spec: tuple = ()
        self._selected_channel: int | None = None
        self._last_hover = None
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
        k = self._columns_for(stages[0][2], len(stages)) if stages else 1
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

    def _columns_for(self, shape, n_stages: int) -> int:
        c, h, w = shape
        size = self.size()
        avail_w = max(80.0, size.width() / max(1, n_stages) - 12)
        avail_h = max(60.0, size.height() - 70)
        return best_columns(c, h, w, avail_w, avail_h)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if getattr(self, "_spec", None):  # (pyqtgraph calls this during __init__)
            self._relayout.start()

    def _rebuild_for_size(self) -> None:
        if not self._spec:
            return
        data = {s.name: s.data for s in self.stages}
        shared = getattr(self, "_shared", True)
        if self.set_stages([(n, t, s) for n, t, s, _ in self._spec]):
            self.set_data(data, shared)

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
# 1-D layers: bars


def fit_label(name: str, room: float, fm: QFontMetrics, wrap: bool = True,
              cut: bool = True) -> str | None:
    """A class name as it fits `room` pixels under its bar: whole, on two lines ("T-shirt/"
    over "top", if wrap), or (if cut) cut with "…" keeping at least three letters; None if
    none of these fits."""
    if fm.horizontalAdvance(name) <= room:
        return name
    best = None
    for i, ch in enumerate(name if wrap else ""):
        if ch in " /-" and 0 < i < len(name) - 1:
            first = name[:i + 1] if ch in "/-" else name[:i]
            second = name[i + 1:]
            wide = max(fm.horizontalAdvance(first), fm.horizontalAdvance(second))
            if wide <= room and (best is None or wide < best[0]):
                best = (wide, f"{first}\n{second}")
    if best is not None:
        return best[1]
    if not cut:
        return None
    short = fm.elidedText(name, Qt.TextElideMode.ElideRight, int(room))
    return short if len(short.rstrip("…")) >= 3 else None


class BarPlot(pg.PlotWidget):
    """One bar per unit (dense, flatten, softmax). Class names on the x axis when the
    layer has one unit per class; flatten bars coloured by the map they came from.

    hovered(index, value) (-1 when it leaves); bar_clicked(index).
    """

    hovered = Signal(int, float)
    bar_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None, title: str = "", grid: bool = True):
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        if grid:  # (grid lines make the axis repaint with every update of the bars)
            self.showGrid(y=True, alpha=0.25)
        self.getAxis("left").setWidth(44)
        self.getAxis("bottom").setStyle(hideOverlappingLabels=EDGE_ROOM)  # keep the first "0"
        self.getPlotItem().setContentsMargins(0, 0, 12, 0)  # room for the last bar's name
        self.bars = pg.BarGraphItem(x=np.arange(1), height=np.zeros(1), width=0.8,
                                    brush=pg.mkBrush("#4a78c2"), pen=pg.mkPen(None))
        self.addItem(self.bars)
        self.values = np.zeros(0)
        self._n = -1
        self._key: tuple = ()
        self._brushes = None
        self._top = -2
        self._last = -2
        self._names: list[str] | None = None
        self.shown_names: list[str] = []  # the x-axis labels as drawn (fitted to the width)
        self._tick_font = QFont()
        self._selected: int | None = None
        self._base_brushes = np.array([pg.mkBrush("#4a78c2")], dtype=object)
        self.highlight_top = False
        self._range = (0.0, 0.0)
        self.setTitle(title, size="9pt")
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.getPlotItem().vb.sigResized.connect(self._fit_names)

    def configure(self, n: int, names: list[str] | None = None, groups: int = 0,
                  highlight_top: bool = False, title: str = "",
                  fixed_range: tuple[float, float] | None = None) -> None:
        """n bars; names for the x axis; groups > 0 colours consecutive runs of n/groups
        bars alternately (flatten: one run per feature map)."""
        key = (n, tuple(names or ()), groups, highlight_top, title, fixed_range)
        if key == self._key:
            return
        self._key = key
        self._n = n
        self._names = list(names) if names else None
        self.highlight_top = highlight_top
        self._fixed = fixed_range
        self._top = -2
        self._selected = None
        base = np.array([pg.mkBrush("#4a78c2")] * n, dtype=object)
        if groups > 1 and n % groups == 0:
            per = n // groups
            alt = (np.arange(n) // per) % 2 == 1
            base[alt] = pg.mkBrush("#9bb5e0")
        self._base_brushes = base
        axis = self.getAxis("bottom")
        font = QFont()
        font.setPointSizeF(8.0 if not self._names or max(len(s) for s in self._names) < 6
                           else 7.5)
        self._tick_font = font
        axis.setStyle(tickFont=font)
        self.shown_names = []
        if self._names:
            self._fit_names()
        else:
            axis.setTicks(None)
            axis.setHeight(None)
        width = 0.8 if n <= 200 else 1.0
        self.bars.setOpts(x=np.arange(n), height=np.zeros(n), width=width,
                          brushes=list(base))
        self.setXRange(-0.6, n - 0.4, padding=0)
        if fixed_range is not None:
            self.setYRange(*fixed_range, padding=0.02)
        self._range = (0.0, 0.0)
        self.setTitle(title, size="9pt")

    def _fit_names(self, *_args) -> None:
        """Class names under the bars, fitted to the bars' width, the first way that fits:
        whole; whole or on two lines ("Ankle" over "boot"); whole on two alternating lines
        (each name then has two bars of room); shortened ("Pull…"); shortened on
        alternating lines; the bar's number only as a last resort (a number under a clothes
        class reads as a digit). Hover gives the full name."""
        if not self._names or self._n <= 0:
            return
        fm = QFontMetrics(self._tick_font)
        bar = self.getPlotItem().vb.width() / (self._n + 0.2)  # the x range is n + 0.2 bars
        names = self._names
        stagger_overflow = int(np.ceil(0.4 * bar)) + 2  # first/last name past the plot's ends

        # (room per name, how it may be fitted, on alternating lines), best first
        ways = [(bar - 4, {"cut": False}, False),
                (2 * bar - 6, {"wrap": False, "cut": False}, True),
                (bar - 4, {}, False),
                (2 * bar - 6, {"wrap": False}, True)]
        shown, overflow = [str(i) for i in range(len(names))], 0
        for room, how, alternate in ways:
            labels = [fit_label(name, room, fm, **how) for name in names]
            if all(label is not None for label in labels):
                shown = [s if i % 2 == 0 or not alternate else f"\n{s}"
                         for i, s in enumerate(labels)]
                overflow = stagger_overflow if alternate else 0
                break
        if shown == self.shown_names:
            return
        self.shown_names = shown
        axis = self.getAxis("bottom")
        # pyqtgraph hides a label that pokes past the axis ends unless told how far it may
        axis.setStyle(hideOverlappingLabels=max(overflow, EDGE_ROOM))
        axis.setTicks([list(enumerate(shown))])
        lines = max(s.count("\n") + 1 for s in shown)
        axis.setHeight(lines * fm.height() + 10)  # pyqtgraph sizes for one line only

    def full_name(self, i: int) -> str | None:
        """The class name of bar i (None for unnamed bars)."""
        return self._names[i] if self._names and 0 <= i < len(self._names) else None

    def select(self, i: int | None) -> None:
        """Outline bar i (the unit shown in the detail panel)."""
        self._selected = i
        self._top = -2  # recolour on the next update
        self._recolour(self.values, force=True)

    def _recolour(self, values, force: bool = False) -> dict:
        top = -1
        if self.highlight_top and values.size and np.isfinite(values).all() and values.max() > 0:
            top = int(np.argmax(values))
        if top == self._top and not force:
            return {}
        self._top = top
        brushes = self._base_brushes.copy()
        if top >= 0:
            brushes[top] = pg.mkBrush("#e07b00")
        sel = self._selected
        if sel is not None and 0 <= sel < brushes.size:
            brushes[sel] = pg.mkBrush("#e07b00")
        opts = {"brushes": list(brushes)}
        if force:
            self.bars.setOpts(**opts)
        return opts

    def set_values(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64).ravel()
        self.values = values
        opts = {"height": values}
        opts.update(self._recolour(values))
        self.bars.setOpts(**opts)
        if self._fixed is None and values.size:
            lo, hi = float(min(0.0, values.min())), float(max(0.0, values.max()))
            # grow at once, shrink only when the data is much smaller: no jumping axis
            cur_lo, cur_hi = self._range
            if lo < cur_lo or hi > cur_hi or (hi - lo) < 0.5 * (cur_hi - cur_lo):
                pad = 0.05 * ((hi - lo) or 1.0)
                # a little room below 0 too, so the zero line and its "0" are not on the edge
                self._range = (lo - pad if lo < 0 else -0.3 * pad, hi + pad)
                self.setYRange(*self._range, padding=0)

    def _index_at(self, scene_pos) -> int:
        vb = self.getPlotItem().vb
        if not vb.sceneBoundingRect().contains(scene_pos) or self._n <= 0:
            return -1
        x = vb.mapSceneToView(scene_pos).x()
        i = int(np.floor(x + 0.5))
        return i if 0 <= i < min(self._n, self.values.size) else -1

    def _on_mouse_moved(self, scene_pos) -> None:
        i = self._index_at(scene_pos)
        if i != self._last:
            self._last = i
            self.hovered.emit(i, float(self.values[i]) if i >= 0 else float("nan"))

    def _on_mouse_clicked(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            i = self._index_at(event.scenePos())
            if i >= 0:
                self.bar_clicked.emit(i)


# ---------------------------------------------------------------------------------------
# Kernels: a conv filter's in_channels kernels as small heat maps, numbers when small


class KernelView(pg.GraphicsLayoutWidget):
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
                        t = pg.TextItem(f"{weights[c, i, j]:.2f}", color=(0, 0, 0),
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

"""Bars for a flat layer (dense, flatten, softmax): class names fitted under the bars,
the answer highlighted, a y range that does not jump while the pen moves."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QWidget

from ...core.basics.text_safety import MAX_SHOWN_CHARS, shown
from ..widgets.plots import keep_drawn

EDGE_ROOM = 10  # pixels a bar plot's first or last x label may reach past the axis ends


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


# The log scale's floor: the smallest probability a bar shows (10^-12: a trained network
# gives the classes it rules out 10^-7 to 10^-11); 0 sits on it.
LOG_FLOOR_DECADES = 12
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def log_heights(values: np.ndarray) -> np.ndarray:
    """Probabilities as bar heights on a log scale: decades above the floor (1 -> 12,
    0.01 -> 10, anything at or below 10^-12 -> 0), so the runners-up show beside the winner."""
    floor = 10.0 ** -LOG_FLOOR_DECADES
    return np.log10(np.clip(values, floor, None)) + LOG_FLOOR_DECADES


class BarPlot(pg.PlotWidget):
    """One bar per unit (dense, flatten, softmax). Class names on the x axis when the
    layer has one unit per class; flatten bars coloured by the map they came from.

    hovered(index, value) (-1 when it leaves); bar_clicked(index).
    """

    hovered = Signal(int, float)
    bar_clicked = Signal(int)
    bar_double_clicked = Signal(int)  # (the unit window: what does this unit look for?)

    def __init__(self, parent: QWidget | None = None, title: str = "", grid: bool = True):
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        if grid:  # (grid lines make the axis repaint with every update of the bars)
            self.showGrid(y=True, alpha=0.25)
        self.getAxis("left").setWidth(44)
        keep_drawn(self.getAxis("left"), self.getAxis("bottom"), self.getPlotItem().titleLabel)
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
        self._fixed: tuple[float, float] | None = None
        self.log_scale = False
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
        self._names = [shown(n, MAX_SHOWN_CHARS) for n in names] if names else None  # file text
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
        self._range = (0.0, 0.0)
        self._set_y_axis()
        self.setTitle(title, size="9pt")

    def set_log_scale(self, on: bool) -> None:
        """Probabilities on a log scale (decades, labelled in percent) or a linear one."""
        if on == self.log_scale:
            return
        self.log_scale = on
        self._set_y_axis()
        self.set_values(self.values)

    def _set_y_axis(self) -> None:
        axis = self.getAxis("left")
        if self.log_scale:
            ticks = [(LOG_FLOOR_DECADES - d, "1" if d == 0 else f"10{str(-d).translate(_SUPERSCRIPT)}")
                     for d in range(0, LOG_FLOOR_DECADES + 1, 3)]
            axis.setTicks([ticks])
            self.setYRange(0.0, LOG_FLOOR_DECADES * 1.05, padding=0)
        else:
            axis.setTicks(None)
            if self._fixed is not None:
                self.setYRange(*self._fixed, padding=0.02)
            self._range = (0.0, 0.0)

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
            fitted = [fit_label(name, room, fm, **how) for name in names]
            labels = [label for label in fitted if label is not None]
            if len(labels) == len(fitted):
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
        self.values = values  # (hover reads the real values, on either scale)
        opts = {"height": log_heights(values) if self.log_scale else values}
        opts.update(self._recolour(values))
        self.bars.setOpts(**opts)
        if self._fixed is None and not self.log_scale and values.size:
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
                if event.double():
                    self.bar_double_clicked.emit(i)


# ---------------------------------------------------------------------------------------
# Kernels: a conv filter's in_channels kernels as small heat maps, numbers when small

"""The kernel explorer's five image panels (input, kernel, convolution, activation,
pooling) and the outlines drawn on them. Every panel is drawn on its full array's pixel
coordinates (a shrunk photo keeps its full-size numbers). A panel whose stage could not be
computed keeps its last valid result, faded and titled so (a structured flag, `stale`)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from ...core.basics.formulas import fmt_number, fmt_shape
from ...core.convolution.filtering import FilterResult
from ...core.convolution.kernel_previews import (
    KernelPreview,
    Preview,
    StageView,
    display_levels,
    input_levels,
)
from ...core.convolution.pixel_explanations import channel_names
from ...core.convolution.stage_names import ACTIVATION_NAMES, POOL_NAMES
from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP, ImagePanel, symmetric_levels
from ..widgets.tooltips import wrapped_tooltip
from . import wording as w
from .cell_numbers import CellNumbers
from .grid import cell_texts
from .panel_grid import COMPACT_PANEL

SMALL = 16  # arrays up to 16 x 16 show their numbers in the cells, like the slides
OUTPUTS = ("conv", "activation", "pool")


def colour_for(levels: tuple[float, float]):
    """(colour map, levels) for an array whose values span `levels`."""
    signed, shown = display_levels(levels)
    return (SIGNED_CMAP if signed else UNSIGNED_CMAP), shown


def _rect_item(colour: str, width: float = 2.5, dashed: bool = False, fill: bool = False,
               alpha: int = 50) -> QGraphicsRectItem:
    item = QGraphicsRectItem()
    pen = QPen(QColor(colour))
    pen.setWidthF(width)
    pen.setCosmetic(True)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    item.setPen(pen)
    if fill:
        c = QColor(colour)
        c.setAlpha(alpha)
        item.setBrush(QBrush(c))
    item.setZValue(10)
    item.hide()
    return item


def _placement(stage: StageView) -> QRectF:
    return QRectF(*stage.extent())


class StagePanels(QObject):
    """The five ImagePanels (by key: input, kernel, conv, activation, pool), their cell
    numbers and outlines. hovered(key, row, col) in preview pixels; (-1, -1) on leaving."""

    hovered = Signal(str, int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panels = {key: ImagePanel(title) for key, title in w.TITLES.items()}
        self.input, self.kernel = self.panels["input"], self.panels["kernel"]
        self.conv, self.activation, self.pool = (self.panels[k] for k in OUTPUTS)
        self.numbers: dict[str, CellNumbers] = {}
        self.shown: dict[str, tuple[FilterResult, StageView]] = {}  # what each panel shows
        self.stale: set[str] = set()
        self._titles: dict[str, str] = dict(w.TITLES)  # each title without the stale mark
        for key, panel in self.panels.items():
            panel.setToolTip(w.PANEL_TIPS.get(key, w.POOL_TIPS["max"]))
            panel.setMinimumSize(150, 150)
            panel.compact_below = COMPACT_PANEL  # small screens: the image before its scale
            self.numbers[key] = CellNumbers(panel)
            if key != "kernel":
                panel.hovered.connect(lambda r, c, k=key: self.hovered.emit(k, r, c))
        self._make_outlines()

    def _make_outlines(self) -> None:
        self.window_rect = _rect_item(w.WINDOW_COLOUR, fill=True)
        self.image_rect = _rect_item(w.PAD_COLOUR, width=1.5, dashed=True)
        self.input.plot.addItem(self.window_rect)
        self.input.plot.addItem(self.image_rect)
        # The rows and columns a floored size leaves out (no window ever covers them).
        self.left_out_rects = tuple(_rect_item(w.LEFT_OUT_COLOUR, 1.5, dashed=True, fill=True,
                                               alpha=90) for _ in range(2))
        for item in self.left_out_rects:
            self.input.plot.addItem(item, ignoreBounds=True)
        self.pixel_rects = {}
        for key in OUTPUTS:
            self.pixel_rects[key] = _rect_item(w.WINDOW_COLOUR, width=2.5)
            self.panels[key].plot.addItem(self.pixel_rects[key])
        self.pool_rect = _rect_item(w.POOL_COLOUR, width=2.5, fill=True)
        self.activation.plot.addItem(self.pool_rect)

    def _set_title(self, key: str, text: str) -> None:
        self._titles[key] = text
        self.panels[key].set_title(text + (w.STALE_MARK if key in self.stale else ""))

    # ----------------------------------------------------------------- drawing

    def draw(self, view: KernelPreview) -> None:
        """Input and kernel always follow the newest request; outputs only when valid."""
        r = view.result
        self._draw_input(view)
        self.draw_kernel(r.kernel)
        act = ACTIVATION_NAMES.get(r.settings.activation, r.settings.activation)
        titles = {"conv": w.TITLES["conv"], "activation": f"④ activation: {act}",
                  "pool": f"⑤ {POOL_NAMES[r.settings.pool_kind]} pooling" if r.pooling else w.TITLES["pool"]}
        for key in OUTPUTS:
            stage = view.stage(key)
            if stage is not None:
                self._draw_stage(key, r, stage, titles[key])
            elif key == "pool" and not r.pooling:
                self._show_message(key, "No pooling.\nChoose max, min or average under "
                                   "Activation and pooling.", "⑤ no pooling")
                self.pool.setToolTip(wrapped_tooltip(w.POOL_TIPS["none"]))
            elif key in self.shown:
                self._set_stale(key, True)
            else:  # nothing valid to show: say so, not empty axes running −1.5…1.5
                self._show_message(key, "Nothing to show yet: these numbers do not fit (see the "
                                   "red message above).", titles[key])

    def _show_message(self, key: str, text: str, title: str) -> None:
        self.numbers[key].clear()
        self.shown.pop(key, None)
        self._set_stale(key, False)
        self.panels[key].show_message(text)
        self._set_title(key, title)

    def show_empty(self, kernel) -> None:
        for key in ("input", *OUTPUTS):
            self._show_message(key, "No image yet." if key == "input" else "", w.TITLES[key])
        k = np.asarray(kernel, dtype=np.float64)
        if k.ndim == 2 and k.size:
            self.draw_kernel(k)  # the kernel is there even without an image
        for item in self.left_out_rects:
            item.hide()

    def _draw_input(self, view: KernelPreview) -> None:
        stage, r = view.input, view.result
        p = stage.preview
        full = fmt_shape(r.input.shape if r.input.ndim == 2 else
                         (r.input.shape[1], r.input.shape[2], r.input.shape[0]))
        title = f"① input {full}"
        if stage.offset != (0, 0):
            title += f" + zero padding → {fmt_shape(p.shape)}"
        if p.factor > 1:
            title += f" (shown at 1/{p.factor})"
        if view.scale:
            title += f"<br><small>{view.scale}</small>"
        place = _placement(stage)
        if p.array.ndim == 3:
            self.input.set_array(p.array, rect=place)
            self.numbers["input"].clear()
        else:
            levels = input_levels(p.levels)
            self.input.set_array(p.array, levels=levels, cmap=UNSIGNED_CMAP, rect=place)
            self._draw_numbers("input", p, UNSIGNED_CMAP, levels, (place.x(), place.y()))
        self._set_title("input", title)
        h, wd = r.input.shape[-2:]
        ph, pw = r.settings.padding
        if stage.offset != (0, 0):
            self.image_rect.setRect(QRectF(0, 0, wd, h))  # the real image inside its padding
        elif ph or pw:  # padding not drawn (a big image): outline where it would reach
            self.image_rect.setRect(QRectF(-pw, -ph, wd + 2 * pw, h + 2 * ph))
        self.image_rect.setVisible(stage.offset != (0, 0) or bool(ph or pw))
        self._draw_left_out(r)
        self.shown["input"] = (r, stage)

    def _draw_left_out(self, r: FilterResult) -> None:
        """Mark the rows and columns a floored size leaves out (in input coordinates)."""
        h, wd = r.input.shape[-2:]
        ph, pw = r.settings.padding
        rows, cols = (r.left_out(0), r.left_out(1)) if r.conv is not None else (None, None)
        item_r, item_c = self.left_out_rects
        why = "because the output size was floored (see the note above)."
        if rows is not None:
            item_r.setRect(QRectF(-pw, rows[0], wd + 2 * pw, rows[1] - rows[0] + 1))
            item_r.setToolTip(f"Rows {rows[0]}…{rows[1]} are left out: no kernel window reaches "
                              f"them, {why}")
        if cols is not None:
            item_c.setRect(QRectF(cols[0], -ph, cols[1] - cols[0] + 1, h + 2 * ph))
            item_c.setToolTip(f"Columns {cols[0]}…{cols[1]} are left out: no kernel window "
                              f"reaches them, {why}")
        item_r.setVisible(rows is not None)
        item_c.setVisible(cols is not None)

    def draw_kernel(self, kernel: np.ndarray) -> None:
        levels = symmetric_levels(np.asarray(kernel, dtype=np.float64))
        self.kernel.set_array(kernel, levels=levels, cmap=SIGNED_CMAP)
        self._set_title("kernel", f"② kernel {fmt_shape(kernel.shape)}")
        self.numbers["kernel"].show(cell_texts(kernel), kernel, SIGNED_CMAP, levels)

    def _stage_tip(self, key: str, r: FilterResult, p: Preview) -> str:
        tip = w.POOL_TIPS.get(r.settings.pool_kind, w.POOL_TIPS["max"]) if key == "pool" else w.PANEL_TIPS[key]
        if p.peaks:
            tip += (" Drawn shrunk: each block shows its strongest value, so thin edges stay "
                    "visible. Pointing still reads the exact full-size values.")
        elif p.factor > 1:
            tip += (" Drawn shrunk (each block averaged); pointing still reads the exact "
                    "full-size values.")
        if p.array.ndim == 3:
            tip += (" Drawn as colour, each channel (R, G, B) as bright as its value on the "
                    "colour bar's scale, the same scale for all three")
            tip += (": mid-grey is 0 in every channel, darker is negative (nothing is clipped)."
                    if p.levels[0] < 0 else ".")
        return tip

    def _draw_stage(self, key: str, r: FilterResult, stage: StageView, title: str) -> None:
        panel, p = self.panels[key], stage.preview
        full = {"conv": r.conv, "activation": r.activated, "pool": r.pooled}[key]
        assert full is not None  # a stage has a view only when it was computed
        text = f"{title} {fmt_shape(full.shape)}"
        if stage.channel is not None:
            text += f" · {channel_names(full.shape[0])[stage.channel]}"
        extras = ([f"shown at 1/{p.factor}"] if p.factor > 1 else []) + (["block peaks"] if p.peaks else [])
        if p.array.ndim == 3:
            extras.append("R G B on one scale" + (", grey = 0" if p.levels[0] < 0 else ""))
        if extras:
            text += f" ({', '.join(extras)})"
        place = _placement(stage)
        if p.array.ndim == 3:  # per channel, all three: each channel's brightness on one scale
            _signed, levels = display_levels(p.levels)
            panel.set_array(p.array, levels=levels, cmap=UNSIGNED_CMAP, rect=place)
            self.numbers[key].clear()
        else:
            cmap, levels = colour_for(p.levels)
            panel.set_array(p.array, levels=levels, cmap=cmap, rect=place)
            self._draw_numbers(key, p, cmap, levels)
        self._set_stale(key, False)
        self._set_title(key, text)
        panel.setToolTip(wrapped_tooltip(self._stage_tip(key, r, p)))
        self.shown[key] = (r, stage)

    def _draw_numbers(self, key: str, p: Preview, cmap, levels,
                      origin: tuple[float, float] = (0.0, 0.0)) -> None:
        a = p.array
        if p.factor == 1 and a.ndim == 2 and max(a.shape) <= SMALL:
            texts = [[fmt_number(v, 3) for v in row] for row in a]
            self.numbers[key].show(texts, a, cmap, levels, origin)
        else:
            self.numbers[key].clear()

    def _set_stale(self, key: str, stale: bool) -> None:
        if stale == (key in self.stale):
            return
        (self.stale.add if stale else self.stale.discard)(key)
        opacity = 0.35 if stale else 1.0
        self.panels[key].image_item.setOpacity(opacity)
        for item in self.numbers[key].items:
            item.setOpacity(opacity)
        self._set_title(key, self._titles[key])

    # ----------------------------------------------------------------- outlines

    def clear_outlines(self) -> None:
        for item in (self.window_rect, self.pool_rect, *self.pixel_rects.values()):
            item.hide()

    def outline_pixel(self, key: str, row: int, col: int) -> None:
        self.pixel_rects[key].setRect(QRectF(col, row, 1, 1))
        self.pixel_rects[key].show()

    def outline_pool_window(self, top: int, left: int, size: int) -> None:
        self.pool_rect.setRect(QRectF(left, top, size, size))
        self.pool_rect.show()

    def outline_input(self, top: int, left: int, height: int, width: int) -> None:
        if "input" not in self.shown:
            return
        rect = QRectF(left, top, width, height)
        f = self.shown["input"][1].preview.factor
        if f > 1 and (rect.width() < 4 * f or rect.height() < 4 * f):
            # A few pixels of a shrunk photo: at least 4 drawn pixels, centred on the window,
            # so it can be found (the text gives the exact rows and columns).
            centre = rect.center()
            rect = QRectF(0, 0, max(rect.width(), 4 * f), max(rect.height(), 4 * f))
            rect.moveCenter(centre)
        self.window_rect.setRect(rect)
        self.window_rect.show()

    def export_array(self) -> np.ndarray | None:
        """The last output stage shown, at full size."""
        for key in ("pool", "activation", "conv"):
            shown = self.shown.get(key)
            if shown is not None:
                r = shown[0]
                array = {"pool": r.pooled, "activation": r.activated, "conv": r.conv}[key]
                if array is not None:
                    return np.array(array, copy=True)
        return None

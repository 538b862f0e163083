"""Shared pyqtgraph pieces: an image panel with a colour bar and a title, drawn upright.

pyqtgraph is set to row-major images once, here (DESIGN.md pitfall): array[0, 0] is the
top-left pixel, as in numpy, PIL and the lecture's grids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

pg.setConfigOptions(imageAxisOrder="row-major", antialias=True, background="w", foreground="k")

# Diverging for signed values (conv outputs, kernels), sequential for the rest.
SIGNED_CMAP = pg.colormap.get("CET-D1")  # blue-white-red
UNSIGNED_CMAP = pg.colormap.get("CET-L1")  # black to white, like the digits themselves

FRAME_PEN = QColor("#8a8a8a")  # mid grey: visible against black cells, white cells and the page
FLOAT64_MAX = float(np.finfo(np.float64).max)
# Larger values are drawn divided by a power of ten: pyqtgraph's colour bar axis overflowed
# (and crashed the app) on a range of ±1e308, and float32 ends at 3.4e38.
MAX_DRAWN_MAGNITUDE = 1e15
COLORBAR_ROOM = 62  # pixels across: the bar and its longest label ("−500")
MIN_IMAGE_SIDE = 48  # pixels: smaller, a map cannot be read (a projector, a small screen)
NOTE_STYLE = "QLabel { color: #8a5300; background: #fff8e1; padding: 2px 4px; }"


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


@dataclass(frozen=True, eq=False)
class Drawable:
    """What is handed to pyqtgraph: finite float32 values within finite levels.
    scale: the values drawn are the real ones ÷ scale (1 unless they are too large to draw);
    note: a sentence for the user when the drawing is not the values as they are."""

    image: np.ndarray
    levels: tuple[float, float]
    scale: float = 1.0
    note: str = ""


def _finite_level(v: float, default: float) -> float:
    v = float(v)
    if math.isnan(v):
        return default
    return min(max(v, -FLOAT64_MAX), FLOAT64_MAX)


def drawable(array: np.ndarray, levels: tuple[float, float]) -> Drawable:
    """Values safe to draw whatever `array` holds (1e308, ∞, NaN): levels made finite with
    a finite span; values beyond MAX_DRAWN_MAGNITUDE divided by a power of ten (the colour
    bar shows the divided numbers and the note says so); ∞ drawn at the ends of the scale,
    NaN at its low end."""
    lo, hi = _finite_level(levels[0], 0.0), _finite_level(levels[1], 1.0)
    lo, hi = min(lo, hi), max(lo, hi)
    notes = []
    scale, largest = 1.0, max(abs(lo), abs(hi))
    if largest > MAX_DRAWN_MAGNITUDE:
        power = int(math.floor(math.log10(largest))) - 3  # the largest drawn as 1000…9999
        scale = 10.0 ** power
        lo, hi = lo / scale, hi / scale
        notes.append(f"Values up to {largest:.3g} are too large to draw as they are: the colours "
                     f"and the colour bar show them ÷ 10^{power}. Point at a pixel for its value.")
    if hi <= lo:
        hi = lo + 1.0
    with np.errstate(all="ignore"):
        a = np.asarray(array)
        values: np.ndarray = a.astype(np.float64) / scale if scale != 1.0 else a.astype(np.float32, copy=False)
        finite = np.isfinite(values)
        if not finite.all():
            if not np.isfinite(a).all():
                notes.append("Some values are not finite numbers (∞ or undefined): they are "
                             "drawn at the ends of the colour scale.")
            values = np.nan_to_num(values, nan=lo, posinf=hi, neginf=lo)
        # Within float32 now (|v| < 1e16); contiguous, as Qt's image wants it.
        image = np.ascontiguousarray(np.clip(values, lo, hi), dtype=np.float32)
    return Drawable(image, (float(lo), float(hi)), scale, " ".join(notes))


def pick_colormap(array: np.ndarray):
    """Signed data gets the diverging map, non-negative data the grey one."""
    finite = array[np.isfinite(array)] if array.size else array
    return SIGNED_CMAP if finite.size and float(finite.min()) < 0 else UNSIGNED_CMAP


GAP_COLOUR = 0xFFFFFFFF  # QuickImageItem.set_indices: index 255, the gaps (white)


def keep_drawn(*items) -> None:
    """Items that rarely change (axes, titles, colour bars' scales) are drawn once into a
    picture Qt keeps and copies: a new image or new bars next to them repaint a region
    that touches them, and drawing their text again each time cost more than the data."""
    for item in items:
        if item is not None:
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class QuickImageItem(pg.ImageItem):
    """An ImageItem whose picture Qt draws quickly. pyqtgraph hands Qt an 8-bit indexed
    picture for a one-channel image, which Qt's raster engine scales about ten times more
    slowly than a 32-bit premultiplied one (a 243×132 mosaic drawn at twice its size: 0.85
    against 0.07 ms); here the picture is converted once, when it is made, not on every
    paint. set_indices shows colour indices (0..254 the colour map, 255 white) through a
    table kept per colour map, without pyqtgraph building a colour table on every new
    picture."""

    _indices = False  # the image holds set_indices' colour indices

    def set_indices(self, indices: np.ndarray, cmap) -> None:
        """indices: (H, W) uint8, 0..254 the colour map from its low end to its high end,
        255 white. The array is read when the item is painted: keep it unchanged till then
        or hand over a new one."""
        self._indices = True
        if cmap is not getattr(self, "_colorMap", None):
            self.setColorMap(cmap)  # (presenter mode recolours items through their map)
        self.setImage(indices, autoLevels=False, levels=(0, 256))

    def setImage(self, image=None, autoLevels=None, **kargs) -> None:  # noqa: N802, N803
        if image is not None and not (self._indices and image.dtype == np.uint8):
            self._indices = False  # (an ordinary image again)
        super().setImage(image, autoLevels, **kargs)

    def render(self) -> None:
        image, cmap = self.image, getattr(self, "_colorMap", None)
        argb = None
        if image is not None and image.ndim == 2 and image.size:
            if self._indices and cmap is not None:
                argb = _argb_table(cmap)[image]
            elif image.dtype.kind == "f":
                argb = self._float_argb(image)
        if argb is not None:
            self._argb = argb  # (the picture reads this memory)
            h, w = argb.shape
            self.qimage = QImage(argb.data, w, h, 4 * w,
                                 QImage.Format.Format_ARGB32_Premultiplied)
            self._renderRequired = False
            self._unrenderable = False
            return
        super().render()
        picture = self.qimage
        if picture is not None and picture.format() != QImage.Format.Format_ARGB32_Premultiplied:
            self.qimage = picture.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)

    def _float_argb(self, image: np.ndarray) -> np.ndarray | None:
        """A grey float image on its levels through the item's colour table, worked out as
        pyqtgraph does (the low level the first colour, the high level the last) without
        its per-picture table; None where pyqtgraph's own way is needed (no levels, a table
        with transparency or of more than 256 colours, values that are not numbers)."""
        lut, levels = self.lut, self.levels
        if not isinstance(lut, np.ndarray) or lut.ndim != 2 or lut.shape[1] != 3 \
                or not 0 < lut.shape[0] <= 256 or levels is None or np.ndim(levels) != 1:
            return None
        if self.autoDownsample or np.isnan(image.min()):
            return None
        lo, hi = float(levels[0]), float(levels[1])
        n = lut.shape[0]
        scale = n / ((hi - lo) or 1.0)
        f = (image - np.float32(lo)) * np.float32(scale)
        index = np.clip(f, 0, n - 1, out=f).astype(np.uint8)
        rgb = lut.astype(np.uint32)
        table = 0xFF000000 | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        return table.astype(np.uint32)[index]


_ARGB_TABLES: dict[tuple, np.ndarray] = {}


def _argb_table(cmap) -> np.ndarray:
    """(256,) uint32: the colour map in 255 steps as opaque ARGB, then white; kept per map
    and per its colours (presenter mode changes a map's colours in place)."""
    key = (id(cmap), np.asarray(cmap.pos).tobytes(), np.asarray(cmap.color).tobytes())
    table = _ARGB_TABLES.get(key)
    if table is None:
        lut = np.asarray(cmap.getLookupTable(nPts=255, alpha=False), dtype=np.uint32)
        table = np.empty(256, np.uint32)
        table[:255] = 0xFF000000 | (lut[:, 0] << 16) | (lut[:, 1] << 8) | lut[:, 2]
        table[255] = GAP_COLOUR
        if len(_ARGB_TABLES) > 32:
            _ARGB_TABLES.clear()
        _ARGB_TABLES[key] = table
    return table


class ExtentAxis(pg.AxisItem):
    """An axis that labels the image's pixels at their centres (pixel 0 spans 0…1, so its
    tick is at 0.5, labelled "0", as the hover's 0-based rows and columns), and only along
    the image, not over the empty margin that the locked aspect ratio adds around it (a
    28-pixel image is labelled 0…27, not −10…40)."""

    extent: tuple[float, float] | None = None

    def set_extent(self, extent: tuple[float, float] | None) -> None:
        if extent != self.extent:
            self.extent = extent
            self.picture = None  # re-draw the ticks
            self.update()

    def pixel_ticks(self, low: float, high: float, size: float) -> list[int]:
        """The pixel numbers labelled when low…high (plot units) spans `size` screen pixels."""
        low, high = sorted((low, high))  # an inverted axis (rows) passes them reversed
        if self.extent is None or high <= low or size <= 0:
            return []
        first_pixel = max(math.ceil(self.extent[0] - 1e-9), math.ceil(low - 0.5 - 1e-9))
        last_pixel = min(math.floor(self.extent[1] + 1e-9) - 1, math.floor(high - 0.5 + 1e-9))
        if last_pixel < first_pixel:
            return []
        # Whole pixel numbers, spaced so their labels never run together ("0 5 10 15").
        per_unit = size / (high - low)  # screen pixels per image pixel
        font = QFontMetrics(self.style.get("tickFont") or self.font())
        if self.orientation in ("bottom", "top"):
            room = font.horizontalAdvance(str(max(abs(first_pixel), abs(last_pixel)))) + 10
        else:
            room = font.height() + 6
        step = int(_nice_step(room / per_unit))
        start = -(-first_pixel // step) * step  # the first multiple of step
        return list(range(start, last_pixel + 1, step))

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 (pyqtgraph override)
        if self.extent is None or size <= 0 or maxVal == minVal:
            return super().tickValues(minVal, maxVal, size)
        pixels = self.pixel_ticks(minVal, maxVal, size)
        step = float(pixels[1] - pixels[0]) if len(pixels) > 1 else 1.0
        return [(step, [p + 0.5 for p in pixels])]  # at the pixel's centre

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph override)
        if self.extent is None:
            return super().tickStrings(values, scale, spacing)
        return [str(math.floor(v)) for v in values]  # the centre 2.5 is pixel 2


def _nice_step(least: float) -> float:
    """The smallest of 1, 2, 5, 10, 20, 50, … that is at least `least` (whole pixels)."""
    step = 1.0
    while step < least:
        for m in (2, 2.5, 2):  # 1 -> 2 -> 5 -> 10 -> …
            step *= m
            if step >= least:
                break
    return step


class ImagePanel(QWidget):
    """Title (with the array's shape), an upright image in a thin frame, and optionally a
    colour bar; or, with show_message(), a short centred text instead of empty axes.

    hovered(row, col) is emitted as the mouse moves over a pixel of the array shown;
    (-1, -1) when it leaves. clicked(row, col) on a left click. The image may be placed on
    any rectangle of the plot (set_array(rect=...)), e.g. a shrunk photo on its full-size
    pixel coordinates; row and col are always indices into the array shown.
    """

    hovered = Signal(int, int)
    clicked = Signal(int, int)
    enlarge_requested = Signal()  # a double-click on the image, or the title's ⤢ button
    drawn = Signal()  # set_array or show_message changed what is shown (a mirror redraws)

    def __init__(self, title: str = "", colorbar: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self._title = title
        self._message = ""
        self.title_label = QLabel()
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title_label.setWordWrap(True)  # a long title takes two lines, never widens the panel
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        font = self.title_label.font()
        font.setPointSizeF(9)
        self.title_label.setFont(font)

        self._build_plot(colorbar)
        self.message_label = QLabel()
        self.message_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("QLabel { color: #555; background: white; padding: 8px; }")
        self.message_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.message_label)
        # Said when the drawing is not the values as they are (too large, not finite).
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet(NOTE_STYLE)
        self.note_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.note_label.setFont(self.title_label.font())
        self.note_label.hide()
        self.drawn_scale = 1.0  # the values drawn are the array's ÷ this

        self.enlarge_button = QToolButton()
        self.enlarge_button.setText("⤢")
        self.enlarge_button.setAutoRaise(True)
        self.enlarge_button.setToolTip("Open this panel large, with mouse-wheel zoom (a "
                                       "double-click on the image does the same).")
        self.enlarge_button.clicked.connect(self.enlarge_requested.emit)
        self.enlarge_button.hide()  # set_enlargeable(True) shows it
        title_row = QHBoxLayout()
        title_row.setContentsMargins(0, 0, 0, 0)
        title_row.setSpacing(0)
        title_row.addWidget(self.title_label, 1)
        title_row.addWidget(self.enlarge_button, 0, Qt.AlignmentFlag.AlignTop)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(title_row)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.note_label)
        self.setStyleSheet("ImagePanel { background: white; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._shape = (0, 0)
        self._rect: QRectF | None = None
        self.array: np.ndarray | None = None
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self._last_hover = (-1, -1)
        self._enlargeable = False
        self._zoomable = False
        self._user_zoomed = False
        self._drawn_args: tuple | None = None
        self.set_title(title)

    def _build_plot(self, colorbar: bool) -> None:
        """The plot: an upright image in a thin frame, axes along the image only, and the
        colour bar (optional)."""
        self.view = pg.GraphicsLayoutWidget()
        self.view.setMinimumSize(80, 60)
        self.axes = {"left": ExtentAxis("left"), "bottom": ExtentAxis("bottom")}
        # The "0" under an image that fills the width sits half a label past the axis's end;
        # it may reach into the empty corner instead of being dropped.
        self.axes["bottom"].setStyle(hideOverlappingLabels=10)
        self.plot = self.view.addPlot(axisItems=self.axes)
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)  # row 0 at the top, like the input
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.getAxis("left").setWidth(34)  # room for "3000", the rows of a photo
        self.image_item = QuickImageItem(axisOrder="row-major")
        self.plot.addItem(self.image_item)
        self.frame = QGraphicsRectItem()
        pen = QPen(FRAME_PEN)
        pen.setCosmetic(True)
        pen.setWidthF(1.0)
        self.frame.setPen(pen)
        self.frame.setZValue(4)  # above the image, below numbers and outlines
        self.frame.hide()
        self.plot.addItem(self.frame, ignoreBounds=True)
        self.image_item.sigImageChanged.connect(self._fit_frame)
        self.plot.vb.sigResized.connect(self._refit)
        self.colorbar = None
        self._colorbar_wanted = colorbar
        # Narrower than this, the colour bar is left out when it would shrink the image
        # (0: never); pointing at a pixel still reads its value.
        self.compact_below = 0
        if colorbar:
            self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=UNSIGNED_CMAP, width=12,
                                            interactive=False)
            self.colorbar.setImageItem(self.image_item, insert_in=self.plot)
        keep_drawn(*self.axes.values(), self.colorbar.axis if self.colorbar is not None else None)

    def event(self, event) -> bool:  # noqa: D102 (Qt override)
        # The panel's tooltip explains the panel; over the image itself it would cover the
        # very pixel being pointed at (whose values the hover read-out shows), so not there.
        if event.type() == QEvent.Type.ToolTip and self.is_over_image(event.pos()):
            QToolTip.hideText()
            event.ignore()
            return True
        return super().event(event)

    def drawn_args(self) -> tuple | None:
        """(array, levels, cmap, rect) as last given to set_array (None: a message shows),
        so another panel can draw the same (an enlarged view)."""
        return self._drawn_args

    def set_enlargeable(self, on: bool) -> None:
        """Offer the ⤢ button and the double-click (enlarge_requested) for this panel."""
        self._enlargeable = on
        self.enlarge_button.setVisible(on)
        viewport = self.view.viewport()
        (viewport.installEventFilter if on else viewport.removeEventFilter)(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        # The double-click is taken where Qt delivers it (pyqtgraph's own double-click
        # depends on which item took the first press).
        if (event.type() == QEvent.Type.MouseButtonDblClick and self._enlargeable
                and event.button() == Qt.MouseButton.LeftButton and self.array is not None):
            scene_pos = self.view.mapToScene(event.position().toPoint())
            if self.image_item.sceneBoundingRect().contains(scene_pos):
                self.enlarge_requested.emit()
                return True
        return super().eventFilter(watched, event)

    def set_zoomable(self, on: bool = True) -> None:
        """Mouse wheel zooms around the pointer, dragging moves; larger title and tick
        labels (an enlarged view, read from across a room)."""
        self.plot.setMouseEnabled(on, on)
        self._zoomable = on
        if on:  # a zoom the user made is kept when the window is resized
            self.plot.vb.sigRangeChangedManually.connect(self._on_user_zoom)
        font = self.title_label.font()
        font.setPointSizeF(12 if on else 9)
        self.title_label.setFont(font)
        ticks = QFont(self.font())
        ticks.setPointSizeF(11 if on else ticks.pointSizeF())
        for axis in (*self.axes.values(), *([self.colorbar.axis] if self.colorbar else [])):
            axis.setStyle(tickFont=ticks)

    def _on_user_zoom(self, *_args) -> None:
        self._user_zoomed = True

    def reset_zoom(self) -> None:
        self._user_zoomed = False
        if self.image_item.image is not None:
            self.plot.setRange(rect=self.data_rect(), padding=0.02)

    def is_over_image(self, pos) -> bool:
        """True when pos (panel coordinates) is over the drawn image."""
        view = self.view
        if self.array is None or self.stack.currentWidget() is not view:
            return False
        scene_pos = self.view.mapToScene(self.view.mapFrom(self, pos))
        return self.image_item.sceneBoundingRect().contains(scene_pos)

    # ----------------------------------------------------------------- title and message

    def set_title(self, text: str) -> None:
        self._title = text
        self.title_label.setText(text)
        self.title_label.setToolTip(text.replace("<br>", " "))

    def title(self) -> str:
        return self._title

    def show_message(self, text: str, title: str | None = None) -> None:
        """Nothing to draw: a short centred text instead of an empty plot with made-up axes."""
        self._message = text
        self.message_label.setText(text)
        self.stack.setCurrentWidget(self.message_label)
        self.image_item.clear()
        self.frame.hide()
        self._set_note("")
        self.array = None
        self._drawn_args = None
        self._shape = (0, 0)
        if title is not None:
            self.set_title(title)
        if self._last_hover != (-1, -1):
            self._last_hover = (-1, -1)
            self.hovered.emit(-1, -1)
        self.drawn.emit()

    def message(self) -> str:
        """The text shown instead of the plot, or "" while the plot is shown."""
        return self._message

    def note(self) -> str:
        """The note under the image ("" when the image shows the values as they are)."""
        return self.note_label.text()

    def _set_note(self, text: str) -> None:
        if text != self.note_label.text():
            self.note_label.setText(text)
            self.note_label.setToolTip(text)
        self.note_label.setVisible(bool(text))

    # ----------------------------------------------------------------- the image

    def data_rect(self) -> QRectF:
        """Where the image lies in plot coordinates (its pixels are 1 × 1 unless placed
        on another rectangle with set_array(rect=...))."""
        return self.image_item.mapRectToParent(self.image_item.boundingRect())

    def _fit_frame(self) -> None:
        if self.image_item.image is None:
            self._framed = None
            self.frame.hide()
            for axis in self.axes.values():
                axis.set_extent(None)
            return
        r = self.data_rect()
        if r == getattr(self, "_framed", None) and self.frame.isVisible():
            return  # (a new picture of the same size: nothing to fit)
        self._framed = r
        self.frame.setRect(r)
        self.frame.show()
        self.axes["bottom"].set_extent((r.left(), r.right()))
        left = self.axes["left"]
        left.set_extent((r.top(), r.bottom()))
        # Wide enough for the longest row number ("3000" on a photo): pyqtgraph drops labels
        # that do not fit, which left a photo's rows with only "0" and "500".
        font = QFontMetrics(left.style.get("tickFont") or left.font())  # what it paints with
        longest = max((str(int(v)) for v in (r.top(), r.bottom())), key=len)
        width = max(34, font.horizontalAdvance(longest) + 14)
        if left.width() != width:
            left.setWidth(width)

    def _refit(self, *_args) -> None:
        """A new panel size (the window or the panel grid changed): the image fills the view
        again, centred, instead of keeping the old range's corner."""
        if self.image_item.image is not None and not self._user_zoomed:
            self.plot.setRange(rect=self.data_rect(), padding=0.02)

    def set_array(self, array: np.ndarray, title: str | None = None,
                  levels: tuple[float, float] | None = None, cmap=None,
                  rect: QRectF | tuple[float, float, float, float] | None = None) -> None:
        """Show a 2-D array (or (H, W, 3) 0..255 colour). Levels default to the data's range,
        symmetric around zero for signed data. Colour with levels: each channel's brightness
        on that one scale (the same for R, G and B), with a colour bar saying what it means
        (a per-channel filter's signed output, never clipped to 0…255). rect: (x, y, width,
        height) the image covers in plot coordinates (default: one unit per pixel from (0, 0))."""
        array = np.asarray(array)
        self.array = array
        self._drawn_args = (array, levels, cmap, rect)
        self._message = ""
        self.stack.setCurrentWidget(self.view)
        rect = QRectF(*rect) if isinstance(rect, tuple) else rect
        # A photo shows its own colours (no scale); channels on a scale get their bar.
        self._colorbar_wanted = array.ndim != 3 or levels is not None
        if array.ndim == 3 and levels is not None:  # colour channels on one shared scale
            drawn = drawable(array, levels)
            image, levels, self.drawn_scale = drawn.image, drawn.levels, drawn.scale
            self._set_note(drawn.note)
            if self.colorbar is not None:
                self.colorbar.setColorMap(cmap or UNSIGNED_CMAP)
                self.colorbar.setLevels(levels)
        elif array.ndim == 3:  # colour
            with np.errstate(invalid="ignore"):
                image = np.ascontiguousarray(np.clip(np.nan_to_num(array), 0, 255).astype(np.uint8))
            levels = (0, 255)
            self.drawn_scale = 1.0
            self._set_note("")
        else:
            if cmap is None:
                cmap = pick_colormap(array)
            if levels is None:
                levels = symmetric_levels(array) if cmap is SIGNED_CMAP else auto_levels(array)
            drawn = drawable(array, levels)
            image, levels, self.drawn_scale = drawn.image, drawn.levels, drawn.scale
            self._set_note(drawn.note)
            if self.colorbar is not None:
                self.colorbar.setColorMap(cmap)
                self.colorbar.setLevels(levels)
            elif self.image_item.getColorMap() is not cmap:  # (a new table each time: slow)
                self.image_item.setColorMap(cmap)
        self._show_colorbar()
        self.image_item.setImage(image, autoLevels=False, levels=levels)
        if rect is None:
            self.image_item.resetTransform()
        else:
            self.image_item.setRect(rect)
        self._fit_frame()
        shape = array.shape[:2]
        placed = self.data_rect()
        if shape != self._shape or placed != self._rect:
            self._shape, self._rect = shape, placed
            self.plot.setRange(rect=placed, padding=0.02)
        if title is not None:
            self.set_title(title)
        self.drawn.emit()

    def _bar_costs_image_room(self) -> bool:
        """True when the colour bar would make the image much smaller (by more than a
        quarter, or under MIN_IMAGE_SIDE): a narrow panel whose image is set by its width.
        An image set by the panel's height leaves room beside it for the bar."""
        if not self.compact_below or self.width() >= self.compact_below:
            return False
        r = self.data_rect() if self.image_item.image is not None else QRectF(0, 0, 1, 1)
        aspect = r.width() / r.height() if r.height() > 0 else 1.0
        across = self.width() - self.axes["left"].width()
        by_height = (self.stack.height() - self.axes["bottom"].height() - 4) * aspect
        without, with_bar = min(across - 4, by_height), min(across - COLORBAR_ROOM, by_height)
        return with_bar < max(MIN_IMAGE_SIDE, 0.75 * without)

    def _show_colorbar(self) -> None:
        if self.colorbar is None:
            return
        self.colorbar.setVisible(self._colorbar_wanted and not self._bar_costs_image_room())

    def colorbar_shown(self) -> bool:
        return self.colorbar is not None and self.colorbar.isVisible()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._show_colorbar()

    # ----------------------------------------------------------------- pointing

    def pixel_at(self, scene_pos: QPointF) -> tuple[int, int]:
        """(row, col) of the array pixel under a scene point, or (-1, -1)."""
        if self.array is None or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return -1, -1
        p = self.image_item.mapFromScene(scene_pos)  # image coordinates: x = column, y = row
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

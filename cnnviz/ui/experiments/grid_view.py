"""ArrayGrid: a 2-D array drawn as square cells, with its numbers where they fit, outlined
rectangles (a kernel window, a receptive field), an optional colour overlay, hover, click
and rectangle drag. QPainter only: the experiments draw small grids with text in them,
which a plot library makes harder, not easier."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnviz.core.basics.formulas import cell_number

EMPTY = QColor("#dcdcdc")  # a cell not computed yet (or no value)
GRID_LINE = QColor("#b8b8b8")
NUMBERS_FROM_CELL = 20  # pixels: smaller cells show no numbers (the hover says the value)


def _grey_rgb(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    span = hi - lo if hi > lo else 1.0
    v = np.clip((np.nan_to_num(a, nan=lo) - lo) / span, 0, 1)
    g = (v * 255).astype(np.uint8)
    return np.stack([g, g, g], axis=-1)


def _signed_rgb(a: np.ndarray, bound: float) -> np.ndarray:
    """Blue for negative, white for 0, red for positive (the lecture's signed kernels)."""
    bound = bound if bound > 0 else 1.0
    v = np.clip(np.nan_to_num(a) / bound, -1, 1)[..., None]
    white = np.array([255, 255, 255], float)
    red, blue = np.array([200, 40, 40], float), np.array([40, 80, 200], float)
    rgb = np.where(v >= 0, white + (red - white) * v, white + (blue - white) * (-v))
    return rgb.astype(np.uint8)


def colour_cells(a: np.ndarray, signed: bool | None = None,
                 levels: tuple[float, float] | None = None) -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8. signed=None: signed when the values are."""
    finite = a[np.isfinite(a)]
    if signed is None:
        signed = bool(finite.size and finite.min() < 0)
    if signed:
        bound = float(np.abs(finite).max()) if finite.size else 1.0
        if levels is not None:
            bound = max(abs(levels[0]), abs(levels[1]))
        return _signed_rgb(a, bound)
    lo, hi = levels if levels is not None else (
        (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0))
    if lo == hi:
        lo, hi = min(lo, 0.0), max(hi, 1.0)
    return _grey_rgb(a, lo, hi)


def grey_ramp(steps: int = 64) -> np.ndarray:
    """The colours of an unsigned grid from its low end to its high end, (steps, 3)."""
    return _grey_rgb(np.linspace(0.0, 1.0, steps), 0.0, 1.0)


def signed_ramp(steps: int = 65) -> np.ndarray:
    """The colours of a signed grid from −bound through 0 to +bound, (steps, 3)."""
    return _signed_rgb(np.linspace(-1.0, 1.0, steps), 1.0)


class ColourKey(QWidget):
    """What a grid's colours mean, under it: a colour bar with numbers at its ends
    (set_ramp) or a few swatches with words (set_swatches). Hidden until set."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ramp: np.ndarray | None = None
        self.labels: list[tuple[float, str]] = []  # (0..1 along the bar, text)
        self.swatches: list[tuple[tuple[int, int, int], str]] = []
        self.setFixedHeight(34)
        self.hide()

    def set_ramp(self, colours: np.ndarray, labels: list[tuple[float, str]]) -> None:
        self.ramp, self.labels, self.swatches = np.asarray(colours, np.uint8), list(labels), []
        self.setFixedHeight(34)
        self.show()
        self.update()

    def set_swatches(self, swatches: list[tuple[tuple[int, int, int], str]]) -> None:
        self.ramp, self.labels, self.swatches = None, [], list(swatches)
        self.setFixedHeight(20)
        self.show()
        self.update()

    def texts(self) -> list[str]:
        return [text for _at, text in self.labels] + [text for _c, text in self.swatches]

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.setPen(QColor("#333"))
        fm = p.fontMetrics()
        if self.ramp is not None:
            left, width = 8.0, max(10.0, self.width() - 16.0)
            step = width / len(self.ramp)
            for i, (r, g, b) in enumerate(self.ramp):
                p.fillRect(QRectF(left + i * step, 2, step + 1, 12), QColor(int(r), int(g), int(b)))
            p.drawRect(QRectF(left, 2, width, 12))
            for at, text in self.labels:
                w = fm.horizontalAdvance(text)
                x = min(max(left + at * width - w / 2, 0), self.width() - w)
                p.drawText(QPointF(x, 16 + fm.ascent()), text)
            return
        x = 8.0
        for (r, g, b), text in self.swatches:
            p.fillRect(QRectF(x, 4, 12, 12), QColor(r, g, b))
            p.drawRect(QRectF(x, 4, 12, 12))
            p.drawText(QPointF(x + 16, 4 + fm.ascent()), text)
            x += 16 + fm.horizontalAdvance(text) + 14


class ArrayGrid(QWidget):
    """set_array(values) draws it; outlines=[(top, left, height, width, colour), …] in cells
    (may reach outside the array: padding). hovered(row, col) / clicked(row, col), (-1, -1)
    when the mouse leaves; with drag_enabled, dragged(top, left, bottom, right) in cells."""

    hovered = Signal(int, int)
    clicked = Signal(int, int)
    dragged = Signal(int, int, int, int)

    def __init__(self, parent: QWidget | None = None, minimum: int = 90) -> None:
        super().__init__(parent)
        self.values: np.ndarray | None = None
        self.rgb: np.ndarray | None = None
        self.numbers = True
        self.outlines: list[tuple] = []
        self.marks: list[tuple[int, int, QColor]] = []  # single cells drawn with a thick ring
        self.ring: tuple[int, int] | None = None  # rows/cols of padding drawn in another shade
        self.drag_enabled = False
        self.text = ""  # shown when there is no array
        self._drag_from: tuple[int, int] | None = None
        self._drag_to: tuple[int, int] | None = None
        self._hover = (-1, -1)
        self.setMouseTracking(True)
        self.setMinimumSize(minimum, minimum)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # ----- data

    def set_array(self, values: np.ndarray | None, *, signed: bool | None = None,
                  levels: tuple[float, float] | None = None, rgb: np.ndarray | None = None,
                  numbers: bool = True) -> None:
        if values is None:
            self.values = self.rgb = None
        else:
            self.values = np.asarray(values, dtype=np.float64)
            self.rgb = rgb if rgb is not None else colour_cells(self.values, signed, levels)
            nan = ~np.isfinite(self.values)
            if nan.any():
                self.rgb = self.rgb.copy()
                self.rgb[nan] = (EMPTY.red(), EMPTY.green(), EMPTY.blue())
        self.numbers = numbers
        self.update()

    def set_message(self, text: str) -> None:
        self.text = text
        self.set_array(None)

    def set_outlines(self, outlines: list[tuple]) -> None:
        self.outlines = list(outlines)
        self.update()

    def set_marks(self, marks: list[tuple[int, int, QColor]]) -> None:
        self.marks = list(marks)
        self.update()

    # ----- geometry: cells <-> pixels

    def _layout(self) -> tuple[float, float, float]:
        """(cell size, x0, y0) of the array's top-left, room kept for outlines outside it."""
        if self.values is None:
            return 1.0, 0.0, 0.0
        h, w = self.values.shape
        margin = max([0] + [max(-o[0], -o[1], o[0] + o[2] - h, o[1] + o[3] - w)
                            for o in self.outlines])
        cells_h, cells_w = h + 2 * margin, w + 2 * margin
        size = max(1e-3, min((self.width() - 4) / cells_w, (self.height() - 4) / cells_h))
        x0 = (self.width() - w * size) / 2
        y0 = (self.height() - h * size) / 2
        return size, x0, y0

    def cell_at(self, pos: QPointF) -> tuple[int, int]:
        if self.values is None:
            return -1, -1
        size, x0, y0 = self._layout()
        col = int(np.floor((pos.x() - x0) / size))
        row = int(np.floor((pos.y() - y0) / size))
        h, w = self.values.shape
        return (row, col) if 0 <= row < h and 0 <= col < w else (-1, -1)

    # ----- painting

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("white"))
        if self.values is None:
            p.setPen(QColor("#666"))
            p.drawText(self.rect().adjusted(6, 6, -6, -6),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.text)
            return
        h, w = self.values.shape
        size, x0, y0 = self._layout()
        rgb = np.ascontiguousarray(self.rgb)
        image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888)
        p.drawImage(QRectF(x0, y0, w * size, h * size), image)
        if self.ring is not None:  # the padding, shaded
            rh, rw = self.ring
            shade = QColor(255, 220, 120, 70)
            for r0, c0, rr, cc in ((0, 0, rh, w), (h - rh, 0, rh, w), (0, 0, h, rw), (0, w - rw, h, rw)):
                if rr > 0 and cc > 0:
                    p.fillRect(QRectF(x0 + c0 * size, y0 + r0 * size, cc * size, rr * size), shade)
        if self.numbers and size >= 6 and h * w <= 4096:
            p.setPen(QPen(GRID_LINE, 1))
            for r in range(h + 1):
                p.drawLine(QPointF(x0, y0 + r * size), QPointF(x0 + w * size, y0 + r * size))
            for c in range(w + 1):
                p.drawLine(QPointF(x0 + c * size, y0), QPointF(x0 + c * size, y0 + h * size))
        else:
            p.setPen(QPen(GRID_LINE, 1))
            p.drawRect(QRectF(x0, y0, w * size, h * size))
        if self.numbers and size >= NUMBERS_FROM_CELL:
            self._paint_numbers(p, self.values, rgb, size, x0, y0)
        for top, left, height, width, colour, *rest in self.outlines:
            pen = QPen(QColor(colour), rest[0] if rest else 2.5)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(x0 + left * size, y0 + top * size, width * size, height * size))
        for row, col, colour in self.marks:
            p.setPen(QPen(colour, 3))
            p.drawEllipse(QRectF(x0 + (col + 0.15) * size, y0 + (row + 0.15) * size,
                                 0.7 * size, 0.7 * size))
        if self._drag_from is not None and self._drag_to is not None:
            (r0, c0), (r1, c1) = self._drag_from, self._drag_to
            p.setPen(QPen(QColor("#e67e22"), 2, Qt.PenStyle.DashLine))
            p.drawRect(QRectF(x0 + min(c0, c1) * size, y0 + min(r0, r1) * size,
                              (abs(c1 - c0) + 1) * size, (abs(r1 - r0) + 1) * size))

    def _paint_numbers(self, p: QPainter, values: np.ndarray, rgb: np.ndarray, size: float,
                       x0: float, y0: float) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(6.0, min(11.0, size / 3.6)))
        p.setFont(font)
        h, w = values.shape
        for r in range(h):
            for c in range(w):
                v = values[r, c]
                if not np.isfinite(v):
                    continue
                red, green, blue = (int(x) for x in rgb[r, c])
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 128
                p.setPen(QColor("white") if dark else QColor("black"))
                p.drawText(QRectF(x0 + c * size, y0 + r * size, size, size),
                           Qt.AlignmentFlag.AlignCenter, cell_number(v, 5 if size > 30 else 4))

    # ----- mouse

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        cell = self.cell_at(event.position())
        if self._drag_from is not None and cell != (-1, -1):
            self._drag_to = cell
            self.update()
        if cell != self._hover:
            self._hover = cell
            self.hovered.emit(*cell)

    def leaveEvent(self, _event) -> None:  # noqa: N802 (Qt override)
        if self._hover != (-1, -1):
            self._hover = (-1, -1)
            self.hovered.emit(-1, -1)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        cell = self.cell_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and cell != (-1, -1):
            if self.drag_enabled:
                self._drag_from = self._drag_to = cell
            self.clicked.emit(*cell)

    def mouseReleaseEvent(self, _event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if self._drag_from is not None and self._drag_to is not None:
            (r0, c0), (r1, c1) = self._drag_from, self._drag_to
            self._drag_from = self._drag_to = None
            self.update()
            if (r0, c0) != (r1, c1):
                self.dragged.emit(min(r0, r1), min(c0, c1), max(r0, r1) + 1, max(c0, c1) + 1)


def overlay_rgb(base: np.ndarray, heat: np.ndarray, strength: float = 0.75) -> np.ndarray:
    """A grey picture (0..1) with a heat map (0..1, NaN: none) over it: dark red to yellow,
    see-through where the map is low, so the strokes stay visible under it."""
    g = np.clip(np.nan_to_num(base), 0, 1)[..., None] * np.array([255.0, 255.0, 255.0]) * 0.8
    h = np.clip(np.nan_to_num(heat), 0, 1)[..., None]
    colour = np.concatenate([np.full_like(h, 255.0), 255.0 * np.clip(2 * h - 0.6, 0, 1),
                             30.0 * np.ones_like(h)], axis=-1)
    alpha = strength * np.clip(h * 1.6, 0, 1)
    return (g * (1 - alpha) + colour * alpha).astype(np.uint8)

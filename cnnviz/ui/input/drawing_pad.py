"""A square drawing pad: draw a digit with a mouse, a pen or a finger.

The picture lives in a 280x280 greyscale QImage (ten pad pixels per MNIST pixel), white
ink on black like MNIST. Strokes are smooth: each mouse/pen sample is joined to the next by
a quadratic curve through the mid-points, anti-aliased, with round caps and joins. A pen's
pressure changes the width a little. The right mouse button (or a pen's eraser end) erases.

The pad shows any image too (a file, a gallery digit), scaled to fit with its aspect ratio
kept, so the user can draw over it; the ink then takes the colour opposite to the
picture's background (dark ink on light paper), so drawing over a photo of a digit on
paper adds strokes that look like the rest of the digit, and the eraser paints the picture's
own background level (off-white paper stays off-white, with no bright band).

Signals:
  changed(np.ndarray)  the user changed the picture (a stroke in progress, undo, clear),
                       at most once per pass of the event loop; set_image() does not emit it.
  stroke_finished()    the pen or mouse button was released.

The pad keeps the strokes drawn since its picture was last set or cleared, in canvas
coordinates, and the canvas they were drawn over (strokes(pad), under_strokes(pad)); a
session keeps the drawing as these and draws them again exactly (draw_strokes(pad, …)):
_begin_stroke / _extend_stroke given a width take canvas coordinates.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPointingDevice,
    QTabletEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from cnnviz.core.pictures.images import to_grey_uint8  # noqa: F401  (re-exported for the input views)

PAD_SIZE = 280  # canvas pixels per side; MNIST is 28, so one MNIST pixel = 10 pad pixels
DEFAULT_BRUSH = 20.0  # a digit drawn to fill the pad ends up ~2 px thick in 28x28, like MNIST
MIN_BRUSH, MAX_BRUSH = 4, 48
UNDO_LEVELS = 50
ORIGIN_BUDGET = 256 * 2**20  # bytes of full-resolution originals kept for undo (beyond the newest)


def _nbytes(obj) -> int:
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, (tuple, list)):
        return sum(_nbytes(o) for o in obj)
    return 0


def array_to_qimage(array: np.ndarray, value_range: tuple[float, float] | None = None) -> QImage:
    """A numpy image as a QImage that owns its pixels.

    (H, W) becomes Grayscale8, (H, W, 3) RGB888. value_range maps to black..white; by default
    0..255, or 0..1 when the data fit in 0..1 (floats only).
    """
    a = np.asarray(array)
    if a.ndim not in (2, 3) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {a.shape}")
    if value_range is None:
        if a.dtype.kind == "f" and a.size and float(np.nanmax(a)) <= 1.0 and float(np.nanmin(a)) >= 0.0:
            value_range = (0.0, 1.0)
        else:
            value_range = (0.0, 255.0)
    lo, hi = value_range
    if (lo, hi) != (0.0, 255.0) or a.dtype != np.uint8:
        scale = np.float32(255.0 / (hi - lo) if hi != lo else 1.0)
        f = a.astype(np.float32, copy=False)
        if not np.isfinite(f).all():  # rare: the check is cheaper than always cleaning
            f = np.nan_to_num(f)
        f = (f - np.float32(lo)) * scale  # a new array: the in-place steps below are safe
        np.rint(f, out=f)
        a = np.clip(f, 0, 255, out=f).astype(np.uint8)
    if a.ndim == 3:
        a = np.ascontiguousarray(a[..., :3])
        h, w, _ = a.shape
        image = QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        a = np.ascontiguousarray(a)
        h, w = a.shape
        image = QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8)
    return image.copy()  # detach from the numpy buffer


def qimage_to_array(image: QImage, dtype=np.uint8) -> np.ndarray:
    """A Grayscale8 QImage as an (H, W) array of dtype (a copy, made in one pass)."""
    if image.format() != QImage.Format.Format_Grayscale8:
        image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * h)
    return raw.reshape(h, stride)[:, :w].astype(dtype)


@dataclass
class _Snapshot:
    canvas: QImage
    origin: object
    base: str | None
    ink: int
    paper: int
    empty: bool
    pristine: bool
    strokes: tuple = ()  # the strokes drawn since the picture was set or cleared
    under: QImage | None = None  # the canvas those strokes were drawn over


class DrawingPad(QWidget):
    changed = Signal(object)  # np.ndarray (280, 280) float32 0..255
    stroke_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._canvas = QImage(PAD_SIZE, PAD_SIZE, QImage.Format.Format_Grayscale8)
        self._canvas.fill(0)
        self._ink = 255  # white ink on black; 0 when the picture has a light background
        self._paper = 0  # the background's grey level: what the eraser paints
        self._empty = True
        self._origin: object = None  # what set_image was given, until the user draws
        self._base: str | None = None  # label of the picture the drawing started from
        self._pristine = False  # the canvas is exactly what set_image showed
        self._strokes: list = []  # [(erase, [(x, y, width), …]), …] since the picture was set
        self._under: QImage | None = None  # the canvas those strokes were drawn over
        self._undo: deque[_Snapshot] = deque(maxlen=UNDO_LEVELS)
        self._redo: list[_Snapshot] = []  # what undo went back over, newest last
        self._brush = DEFAULT_BRUSH
        self._points: list[QPointF] = []  # canvas coordinates of the stroke so far
        self._widths: list[float] = []
        self._last_mid: QPointF | None = None
        self._stroke_colour = 255
        self._stroking = False
        self._emit_pending = False
        self._unpainted = QRect()  # widget pixels of ink painted on the canvas, not yet shown
        self._hover: QPointF | None = None  # widget coordinates of the brush outline
        self._hint = "Draw a digit here"
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TabletTracking, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.CrossCursor)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setMinimumSize(160, 160)
        self.setToolTip(
            "Draw with the left mouse button, a pen or a finger; the network reads it "
            "as you draw.\nRight button (or a pen's eraser): erase.  Ctrl+Z: undo.  Ctrl+L or "
            "Delete: clear.\nA loaded image or gallery digit is shown here too, and you can "
            "draw over it.")

    # ----- public API -------------------------------------------------------------------

    def image(self) -> np.ndarray:
        """The picture as (280, 280) float32 in 0..255 (a new array)."""
        return qimage_to_array(self._canvas, np.float32)

    def is_empty(self) -> bool:
        """True when nothing has been drawn or shown since the pad was last cleared."""
        return self._empty

    def origin(self) -> object:
        """The object passed to set_image(origin=...) while the picture is still exactly that
        image (None once the user draws on it, or for a blank pad)."""
        return self._origin

    def base(self) -> str | None:
        """The label of the picture the current drawing was made over (None: a blank pad)."""
        return self._base

    def is_pristine(self) -> bool:
        """True while the canvas is exactly what set_image showed (nothing drawn on it)."""
        return self._pristine

    def ink(self) -> int:
        """The ink's grey level: 255 (white on black) or 0 (dark ink on a light picture)."""
        return self._ink

    def paper(self) -> int:
        """The background's grey level (0 for a blank pad): what the eraser paints."""
        return self._paper

    def brush_size(self) -> float:
        return self._brush

    def set_brush_size(self, size: float) -> None:
        """Brush diameter in pad pixels (280 per side)."""
        self._brush = float(min(MAX_BRUSH, max(MIN_BRUSH, size)))
        self.update()

    def set_hint(self, text: str) -> None:
        """The grey text shown on an empty pad."""
        self._hint = text
        self.update()

    def is_drawing(self) -> bool:
        """True while a stroke is in progress (button or pen down)."""
        return self._stroking

    def undo_depth(self) -> int:
        return len(self._undo)

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        """Go back one step (a stroke, a clear, or a loaded image). False if nothing to undo."""
        self._finish_stroke(emit=False)
        if not self._undo:
            return False
        self._redo.append(self._snapshot())
        self._restore(self._undo.pop())
        return True

    def redo(self) -> bool:
        """Do again what undo went back over, until something new is drawn or loaded. False
        if nothing to redo."""
        self._finish_stroke(emit=False)
        if not self._redo:
            return False
        self._undo.append(self._snapshot())
        self._restore(self._redo.pop())
        return True

    def _snapshot(self) -> _Snapshot:
        return _Snapshot(self._canvas.copy(), self._origin, self._base, self._ink, self._paper,
                         self._empty, self._pristine, tuple((e, tuple(p)) for e, p in self._strokes), self._under)

    def _restore(self, snap: _Snapshot) -> None:
        self._canvas = snap.canvas
        self._origin, self._base, self._ink = snap.origin, snap.base, snap.ink
        self._paper = snap.paper
        self._empty, self._pristine = snap.empty, snap.pristine
        self._strokes, self._under = [(e, list(p)) for e, p in snap.strokes], snap.under
        self.update()
        self._emit_now()

    def clear(self) -> None:
        """Blank the pad (black), white ink. Undoable."""
        self._finish_stroke(emit=False)
        if self._empty and self._origin is None and self._ink == 255 and self._paper == 0:
            return
        self._push_undo()
        self._canvas.fill(0)
        self._ink, self._empty, self._origin, self._base = 255, True, None, None
        self._paper, self._pristine, self._strokes, self._under = 0, False, [], None
        self.update()
        self._emit_now()

    def set_image(self, array: np.ndarray, origin: object = None, label: str | None = None) -> None:
        """Show an image, scaled to fit with its aspect ratio kept (grey; colour is converted).

        Does not emit changed. origin is remembered (see origin()) and restored by undo (the
        full-resolution originals that undo keeps are limited to ORIGIN_BUDGET bytes); label
        names the picture (see base()).
        """
        a = np.asarray(array)
        if a.ndim not in (2, 3) or a.shape[0] == 0 or a.shape[1] == 0:
            raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {a.shape}")
        step = max(1, min(a.shape[:2]) // (2 * PAD_SIZE))  # cheap first reduction of huge photos
        grey = to_grey_uint8(a[::step, ::step] if step > 1 else a)
        self._finish_stroke(emit=False)
        self._push_undo()
        h, w = grey.shape
        border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
        background = int(np.median(border))
        self._ink = 0 if background > 127 else 255
        self._paper = background
        fitted = array_to_qimage(grey).scaled(
            PAD_SIZE, PAD_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation if max(h, w) != PAD_SIZE
            else Qt.TransformationMode.FastTransformation)
        canvas = QImage(PAD_SIZE, PAD_SIZE, QImage.Format.Format_Grayscale8)
        canvas.fill(QColor(background, background, background))
        painter = QPainter(canvas)
        painter.drawImage((PAD_SIZE - fitted.width()) // 2, (PAD_SIZE - fitted.height()) // 2, fitted)
        painter.end()
        self._canvas, self._strokes, self._under = canvas, [], canvas.copy()
        self._origin, self._base = origin, label
        self._empty, self._pristine = False, True
        self._trim_origins()
        self.update()

    # ----- drawing --------------------------------------------------------------------------

    def _push_undo(self) -> None:
        """Before a new step: it can be undone, and what undo went back over is gone."""
        self._undo.append(self._snapshot())
        self._redo.clear()

    def _trim_origins(self) -> None:
        """Forget the oldest full-resolution originals once they add up to ORIGIN_BUDGET
        (ten big photos must not stay in memory for undo's sake); the pad's copy remains."""
        seen = {id(self._origin)}
        total = 0
        for snap in reversed(self._undo):
            if snap.origin is None or id(snap.origin) in seen:
                continue
            seen.add(id(snap.origin))
            total += _nbytes(snap.origin)
            if total > ORIGIN_BUDGET:
                snap.origin = None

    def _square(self) -> QRect:
        """Where the canvas is shown: the largest centred square, in widget pixels."""
        side = max(1, min(self.width(), self.height()))
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

    def _to_canvas(self, pos: QPointF) -> QPointF:
        sq = self._square()
        k = PAD_SIZE / sq.width()
        return QPointF((pos.x() - sq.x()) * k, (pos.y() - sq.y()) * k)

    def _to_widget_rect(self, r: QRectF) -> QRect:
        sq = self._square()
        k = sq.width() / PAD_SIZE
        return QRectF(sq.x() + r.x() * k, sq.y() + r.y() * k, r.width() * k,
                      r.height() * k).toAlignedRect().adjusted(-2, -2, 2, 2)

    def _begin_stroke(self, pos: QPointF, erase: bool, pressure=None, width=None) -> None:
        self._finish_stroke(emit=False)
        self._push_undo()
        self._stroking = True
        self._stroke_colour = self._paper if erase else self._ink
        p = self._to_canvas(pos) if width is None else pos
        self._points = [p]
        self._widths = [self._width_for(pressure) if width is None else width]
        self._strokes.append((erase, [(p.x(), p.y(), self._widths[0])]))
        self._last_mid = p
        self._origin = None  # the picture is no longer exactly the loaded image
        self._pristine = False
        if not erase and self._empty:
            self._empty = False
            self.update()  # the whole pad: the empty-pad hint must go, not just the dab's rect
        self._paint_path(p, self._widths[0])
        self._schedule_changed()

    def _extend_stroke(self, pos: QPointF, pressure=None, width=None) -> None:
        if not self._stroking or self._last_mid is None:  # (set when the stroke began)
            return
        p = self._to_canvas(pos) if width is None else pos
        last = self._points[-1]
        if abs(p.x() - last.x()) + abs(p.y() - last.y()) < 0.5:
            return
        self._points.append(p)
        self._widths.append(self._width_for(pressure) if width is None else width)
        self._strokes[-1][1].append((p.x(), p.y(), self._widths[-1]))
        if len(self._points) > 3:  # only the last three points matter
            del self._points[0]
            del self._widths[0]
        mid = (self._points[-2] + p) / 2.0
        path = QPainterPath(self._last_mid)
        path.quadTo(self._points[-2], mid)  # a smooth curve through the mid-points
        self._paint_path(path, (self._widths[-2] + self._widths[-1]) / 2.0)
        self._last_mid = mid
        self._schedule_changed()

    def _finish_stroke(self, emit: bool = True) -> None:
        if not self._stroking:
            return
        self._stroking = False
        if len(self._points) >= 2 and self._last_mid is not None:
            path = QPainterPath(self._last_mid)
            path.lineTo(self._points[-1])
            self._paint_path(path, self._widths[-1])
        self._points, self._widths, self._last_mid = [], [], None
        if emit:
            self._emit_now()  # the stroke's tail was just painted: always report the end
            self.stroke_finished.emit()

    def _width_for(self, pressure: float | None) -> float:
        if pressure is None or pressure <= 0:
            return self._brush
        return self._brush * (0.7 + 0.6 * min(1.0, pressure))  # 70%..130% of the brush

    def _paint_path(self, path: QPainterPath | QPointF, width: float) -> None:
        painter = QPainter(self._canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        c = self._stroke_colour
        colour = QColor(c, c, c)
        if isinstance(path, QPointF):  # a single dot where the stroke starts
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(path, width / 2.0, width / 2.0)
            dirty = QRectF(path.x() - width, path.y() - width, 2 * width, 2 * width)
        else:
            painter.setPen(QPen(colour, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                Qt.PenJoinStyle.RoundJoin))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            dirty = path.controlPointRect().adjusted(-width, -width, width, width)
        painter.end()
        rect = self._to_widget_rect(dirty)
        self._unpainted = self._unpainted.united(rect)
        self.update(rect)

    # ----- change notification -------------------------------------------------------------

    def _schedule_changed(self) -> None:
        """At most one changed signal per event-loop pass, however many samples arrive."""
        if not self._emit_pending:
            self._emit_pending = True
            QTimer.singleShot(0, self, self._flush_changed)

    def _flush_changed(self) -> None:
        if self._emit_pending:
            if not self._unpainted.isEmpty():
                # Show the new ink now, before the picture goes to the analysis worker: a
                # paint pass that runs while the worker holds Python's lock waits for it.
                self.repaint(self._unpainted)
            self._emit_now()

    def _emit_now(self) -> None:
        self._emit_pending = False
        self.changed.emit(self.image())

    # ----- events ----------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        if event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._hover = event.position()
            self._begin_stroke(event.position(), erase=event.button() == Qt.MouseButton.RightButton)
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        old = self._hover
        self._hover = event.position()
        if self._stroking:
            self._extend_stroke(event.position())
        self._update_cursor(old)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._stroking and event.button() in (Qt.MouseButton.LeftButton,
                                                 Qt.MouseButton.RightButton):
            self._extend_stroke(event.position())
            self._finish_stroke()
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def tabletEvent(self, event: QTabletEvent) -> None:  # noqa: N802
        kind = event.type()
        erase = event.pointerType() == QPointingDevice.PointerType.Eraser
        old = self._hover
        self._hover = event.position()
        if kind == QTabletEvent.Type.TabletPress:
            self._begin_stroke(event.position(), erase, event.pressure())
        elif kind == QTabletEvent.Type.TabletMove and self._stroking:
            self._extend_stroke(event.position(), event.pressure())
        elif kind == QTabletEvent.Type.TabletRelease and self._stroking:
            self._extend_stroke(event.position(), event.pressure())
            self._finish_stroke()
        self._update_cursor(old)
        event.accept()  # no synthesized mouse events: the pen's pressure is used instead

    def leaveEvent(self, event) -> None:  # noqa: N802
        old, self._hover = self._hover, None
        self._update_cursor(old)
        super().leaveEvent(event)

    def _cursor_rect(self, pos: QPointF) -> QRect:
        r = self._brush * self._square().width() / PAD_SIZE / 2.0 + 3
        return QRectF(pos.x() - r, pos.y() - r, 2 * r, 2 * r).toAlignedRect()

    def _update_cursor(self, old: QPointF | None) -> None:
        if old is not None:
            self.update(self._cursor_rect(old))
        if self._hover is not None:
            self.update(self._cursor_rect(self._hover))

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(360, 360)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return width

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        self._unpainted = QRect()
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().window())
        sq = self._square()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform,
                              sq.width() < PAD_SIZE)  # smooth when shrinking, crisp otherwise
        painter.drawImage(sq, self._canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._empty and not self._stroking and self._hint:
            font = painter.font()
            font.setPointSizeF(max(9.0, font.pointSizeF() * 1.15))
            painter.setFont(font)
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(sq, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._hint)
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(sq.adjusted(0, 0, -1, -1))
        if self._hover is not None and sq.contains(self._hover.toPoint()):
            r = self._brush * sq.width() / PAD_SIZE / 2.0
            painter.setPen(QPen(QColor(255, 140, 0, 200), 1.2))
            painter.drawEllipse(self._hover, r, r)
        painter.end()


# ----- the strokes of a drawing (a session keeps the drawing as these) -----------------

def strokes(pad) -> list[tuple[bool, list[tuple[float, float, float]]]]:
    """The strokes since the picture was last set or cleared: (erase, [(x, y, width),
    …]) in canvas coordinates (0..280), oldest first (a copy)."""
    return [(erase, list(points)) for erase, points in pad._strokes]


def under_strokes(pad) -> np.ndarray | None:
    """The canvas the strokes were drawn over, (280, 280) uint8; None for a blank pad."""
    return None if pad._under is None else qimage_to_array(pad._under)


def draw_strokes(pad, under: np.ndarray | None, strokes, ink: int = 255,
                 paper: int = 0, label: str | None = None) -> None:
    """Draw a saved drawing again, exactly: its canvas `under` ((280, 280) uint8, or
    None for a blank pad), its ink and paper levels, then each stroke as it was drawn.
    Undoable stroke by stroke; emits changed once at the end."""
    pad._finish_stroke(emit=False)
    pad._push_undo()
    if under is None:
        pad._canvas.fill(0)
        pad._under, pad._empty = None, True
    else:
        pad._canvas = array_to_qimage(np.ascontiguousarray(under, dtype=np.uint8), (0, 255))
        pad._under, pad._empty = pad._canvas.copy(), False
    pad._ink, pad._paper = int(ink), int(paper)
    pad._origin, pad._base, pad._pristine, pad._strokes = None, label, under is not None, []
    for erase, points in strokes:
        (x, y, w), rest = points[0], points[1:]
        pad._begin_stroke(QPointF(x, y), bool(erase), width=w)
        for x, y, w in rest:
            pad._extend_stroke(QPointF(x, y), width=w)
        pad._finish_stroke(emit=False)
    pad.update()
    pad._emit_now()

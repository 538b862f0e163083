"""The preprocessing strip: how a picture becomes the network's 28x28 input, one small
picture per step (grey -> invert -> clean -> crop -> thicken -> scale -> center), ending
with the network input itself.

Drawn on every pen move, so it is cheap: a step's picture is converted for the screen once
per result, when painted, already reduced to about the size of its box; the row of step
views is rebuilt only when the list of steps changes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .drawing_pad import array_to_qimage
from .wording import PREPROCESS_HELP, network_input_lines, network_input_tooltip, step_caption


class ArrayView(QWidget):
    """A small image drawn to fit a square: crisp pixels when enlarged, smooth when shrunk.

    The picture is converted for the screen when it is painted, at the size it is shown
    (a 280x280 step in a 52 px box is first averaged down in blocks), so a step that is
    replaced before it is painted costs nothing; a step that handed on its picture
    unchanged shows the view before it's (same_as), converted once. It paints its whole
    area, so the step and the strip under it are not repainted with it."""

    def __init__(self, side: int = 56, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._array: np.ndarray | None = None
        self._range: tuple[float, float] | None = None
        self._shown: QImage | None = None  # the picture as painted, for the box side below
        self._shown_side = 0
        self._same_as: ArrayView | None = None
        self._side = side
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMinimumSize(28, 28)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(side)

    def set_array(self, array: np.ndarray | None,
                  value_range: tuple[float, float] | None = None,
                  same_as: ArrayView | None = None) -> None:
        """same_as: a view showing the same picture on the same range (its conversion for
        the screen is used)."""
        self._array = None if array is None else np.asarray(array)
        self._range = value_range
        self._shown = None
        self._same_as = same_as
        self.update()

    def qimage(self) -> QImage | None:
        """The picture at its own resolution (None: nothing shown)."""
        return None if self._array is None else array_to_qimage(self._array, self._range)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._side, self._side)

    def _box(self) -> QRect:
        side = min(self.width(), self.height())
        return QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)

    def _target(self, box: QRect) -> QRect:
        """Where the picture goes in the box: as large as fits, its aspect ratio kept."""
        assert self._array is not None
        ih, iw = self._array.shape[:2]
        side = box.width()
        k = min(side / iw, side / ih)
        w, h = max(1, round(iw * k)), max(1, round(ih * k))
        return QRect(box.x() + (side - w) // 2, box.y() + (side - h) // 2, w, h)

    def _fitted(self, side: int, size: QSize) -> QImage:
        """The picture at the size it is shown in a box of this side (made once)."""
        assert self._array is not None  # drawn only when there is an array
        twin = self._same_as
        if twin is not None and twin._array is not None and twin._array.shape == self._array.shape:
            return twin._fitted(side, size)
        if self._shown is None or self._shown_side != side:
            # 32-bit (Qt draws a grey picture many times more slowly), at the size shown:
            # averaged down smoothly or enlarged with crisp pixels, once, and then copied
            shown = array_to_qimage(shrink_for(self._array, side), self._range) \
                .convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
            if shown.size() != size:
                shown = shown.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation
                                     if shown.width() > size.width()
                                     else Qt.TransformationMode.FastTransformation)
            self._shown, self._shown_side = shown, side
        return self._shown

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        box = self._box()
        painter.fillRect(event.rect(), self.palette().window())
        painter.fillRect(box, QColor(0, 0, 0))
        if self._array is not None:
            target = self._target(box)
            painter.drawImage(target.topLeft(), self._fitted(box.width(), target.size()))
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.drawRect(box.adjusted(0, 0, -1, -1))
        painter.end()


def shrink_for(array: np.ndarray, side: int) -> np.ndarray:
    """array averaged over f x f blocks, f the largest whole factor that keeps its longest
    side at least `side` pixels (the painter's smooth scaling does the rest; a few edge
    pixels beyond the last whole block are dropped, under one shown pixel)."""
    h, w = array.shape[:2]
    f = max(h, w) // max(1, side)
    if f < 2 or min(h, w) < f:
        return array
    rows, cols = h // f, w // f
    blocks = array[:rows * f, :cols * f].astype(np.float32, copy=False)
    rest = array.shape[2:]
    # two sums over neighbouring axes: four times faster than one mean over axes (1, 3)
    summed = blocks.reshape(rows, f, cols * f, *rest).sum(axis=1)
    return summed.reshape(rows, cols, f, *rest).sum(axis=2) * np.float32(1.0 / (f * f))


class FitCaption(QLabel):
    """A caption of one or more short lines, each cut with "…" when the column is narrower
    than the word (word wrap would split "needed)" over the column's edge)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_lines(self, lines: list[str]) -> None:
        if lines != self._lines:
            self._lines = list(lines)
            self._fit()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(0, self.fontMetrics().height() * max(1, len(self._lines)))

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        fm = self.fontMetrics()
        width = max((fm.horizontalAdvance(line) for line in self._lines), default=0)
        return QSize(width, fm.height() * max(1, len(self._lines)))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        fm = self.fontMetrics()
        width = max(1, self.width())
        text = "\n".join(fm.elidedText(line, Qt.TextElideMode.ElideRight, width)
                         for line in self._lines)
        if text != self.text():
            self.setText(text)


class StepView(QWidget):
    """One preprocessing step: its picture over its caption; the explanation is the tooltip.
    A step that left the picture as it was (not needed) has a grey caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture = ArrayView(52)
        self.caption = FitCaption()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        font = self.caption.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        self.caption.setFont(font)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.picture)
        layout.addWidget(self.caption, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(28)  # seven steps fit the narrowest input panel (280 px)
        self.key = ""
        self._greyed = False

    def set_side(self, side: int) -> None:
        if self.picture.height() != side:
            self.picture.setFixedHeight(side)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        strip = self.parentWidget()
        if isinstance(strip, StepStrip):  # one picture size for the whole row
            strip.fit_pictures()

    def show_step(self, key: str, lines: list[str], tooltip: str, image: np.ndarray | None,
                  greyed: bool = False, same_as: StepView | None = None) -> None:
        """image: float 0..1 (preprocessing's convention). greyed: the step did nothing.
        same_as: the step before, when this one handed on its picture unchanged."""
        self.key = key
        self.caption.set_lines(lines)
        if greyed != self._greyed:  # a style sheet change re-polishes the widget: only on change
            self._greyed = greyed
            self.caption.setStyleSheet("color: gray;" if greyed else "")
        self.picture.set_array(image, (0.0, 1.0),
                               same_as.picture if same_as is not None else None)
        self.setToolTip(tooltip)


class StepStrip(QWidget):
    """The row of preprocessing steps. All pictures get one size, as big as the narrowest
    column allows (28..96 px): the layout's columns differ by a pixel, and pictures sized
    each to its own column would put the captions at different heights."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views: list[StepView] = []

    def fit_pictures(self) -> None:
        if self.views:
            side = min(96, max(28, min(v.width() for v in self.views)))
            for view in self.views:
                view.set_side(side)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)  # (the layout has already placed the columns)
        self.fit_pictures()


def unchanged(before: np.ndarray | None, after: np.ndarray) -> bool:
    """True when a step handed on the picture it was given (it was not needed)."""
    return before is not None and before.shape == after.shape and np.array_equal(before, after)


class PreprocessingStrip(QWidget):
    """Title + the row of steps + the network input."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setToolTip(PREPROCESS_HELP)
        self.row = StepStrip()
        self.row.setToolTip(PREPROCESS_HELP)
        self.row_layout = QHBoxLayout(self.row)
        self.row_layout.setContentsMargins(0, 0, 0, 0)
        self.row_layout.setSpacing(1)
        self.network_input = StepView()
        self.network_input.show_step("network-input", network_input_lines(),
                                     network_input_tooltip(None), None)
        self.row_layout.addWidget(self.network_input)
        self.row.views = [self.network_input]
        self.steps: list[StepView] = []
        self._arrows: list[QLabel] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.title)
        layout.addWidget(self.row)

    def set_dataset_title(self, title: str, resized_to: str = "") -> None:
        """resized_to: a network that is not MNIST-sized takes the whole picture resized."""
        if resized_to:
            self.title.setText(f"<b>What the network sees</b> — the whole picture, resized to "
                               f"its {resized_to} input:")
            return
        self.title.setText(f"<b>What the network sees</b> — preprocessing, as {title} was "
                           "made (grey: not needed):")

    def show_digit(self, digit) -> None:
        """Draw a cnnviz.core.pictures.preprocess.DigitInput: its steps and the network input."""
        steps = list(digit.steps or [])
        last = steps[-1] if steps else None
        merged = last is not None and unchanged(np.asarray(last.image), np.asarray(digit.image))
        if merged:  # the last step made the network input: shown once, explained in its tooltip
            steps = steps[:-1]
        self._rebuild([s.key for s in steps])
        before, previous = None, None
        for view, step in zip(self.steps, steps):
            image = np.asarray(step.image)
            # no ink found: the steps after cleaning had nothing to do (grey, like "not needed")
            idle = digit.empty and step.key not in ("grey", "colour", "invert", "clean")
            size = f" ({image.shape[1]}×{image.shape[0]})"
            same = unchanged(before, image)
            view.show_step(step.key, [step_caption(step.key)],
                           f"<b>{step.title}</b>{size}<br>{step.explanation}", image,
                           greyed=idle or same, same_as=previous if same else None)
            before, previous = image, view
        shown = np.asarray(digit.image)
        self.network_input.show_step("network-input", network_input_lines(shown.shape[:2]),
                                     network_input_tooltip(last if merged else None,
                                                           shown.shape[:2]), shown)

    def _rebuild(self, keys: list[str]) -> None:
        """One view (and an arrow) per step; rebuilt only when the steps themselves change."""
        if keys == [v.key for v in self.steps]:
            return
        for widget in self.steps + self._arrows:
            widget.deleteLater()
        self.steps, self._arrows = [], []
        self.row_layout.removeWidget(self.network_input)
        for key in keys:
            view = StepView()
            view.key = key
            arrow = QLabel("›")
            arrow.setStyleSheet("color: gray;")
            arrow.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
            arrow.setContentsMargins(0, 16, 0, 0)
            self.row_layout.addWidget(view, 1)
            self.row_layout.addWidget(arrow)
            self.steps.append(view)
            self._arrows.append(arrow)
        self.row_layout.addWidget(self.network_input, 1)
        self.row.views = self.steps + [self.network_input]

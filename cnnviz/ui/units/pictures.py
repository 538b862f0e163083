"""The unit window's small pictures: a digit with a receptive field outlined, a crop of
it enlarged, a kernel in grey around a mid-grey zero, and a clickable example cell."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QToolButton, QWidget

from cnnviz.ui.input.drawing_pad import array_to_qimage

FIELD_COLOUR = QColor(255, 140, 0)  # the receptive field's outline, as in the CNN explorer
PICTURE = 56  # pixels per side of a test picture in the grid (2× MNIST)


def picture_pixmap(image: np.ndarray, size: int, box=None, value_range=None) -> QPixmap:
    """A (H, W) or (H, W, 3) picture scaled to `size` pixels (its aspect kept, pixels
    sharp), with `box` (top, left, bottom, right) outlined when given."""
    a = np.ascontiguousarray(image)
    pixmap = QPixmap.fromImage(array_to_qimage(a, value_range)).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
    if box is not None:
        top, left, bottom, right = box
        scale = pixmap.width() / a.shape[1]
        painter = QPainter(pixmap)
        painter.setPen(QPen(FIELD_COLOUR, 2))
        painter.drawRect(QRectF(left * scale + 1, top * scale + 1,
                                (right - left) * scale - 2, (bottom - top) * scale - 2))
        painter.end()
    return pixmap


def crop(image: np.ndarray, box) -> np.ndarray:
    top, left, bottom, right = box
    return np.asarray(image)[top:bottom, left:right]


def kernel_pixmap(kernel: np.ndarray, size: int) -> QPixmap:
    """A kernel (kh, kw) in grey: mid-grey is 0, white the largest |weight|, black its
    negative."""
    k = np.asarray(kernel, dtype=np.float64)
    top = float(np.abs(k).max()) or 1.0
    return picture_pixmap(0.5 + 0.5 * k / top, size, value_range=(0.0, 1.0))


def side_by_side(*pixmaps: QPixmap, gap: int = 4) -> QPixmap:
    width = sum(p.width() for p in pixmaps) + gap * (len(pixmaps) - 1)
    height = max(p.height() for p in pixmaps)
    out = QPixmap(width, height)
    out.fill(Qt.GlobalColor.transparent)
    painter = QPainter(out)
    x = 0
    for p in pixmaps:
        painter.drawPixmap(x, 0, p)
        x += p.width() + gap
    painter.end()
    return out


class ExampleCell(QToolButton):
    """One real example: its crop enlarged beside the whole picture with the field
    outlined, and the score under them. A click makes the picture the app's input."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.setAutoRaise(True)
        self.setIconSize(QSize(2 * PICTURE + 4, PICTURE))
        self.index = -1

    def show_example(self, index: int, image: np.ndarray, box, whole: bool, score: str,
                     tip: str) -> None:
        self.index = index
        full = picture_pixmap(image, PICTURE, None if whole else box)
        icon = full if whole else side_by_side(picture_pixmap(crop(image, box), PICTURE), full)
        self.setIcon(QIcon(icon))
        self.setText(score)
        self.setToolTip(tip)
        self.setEnabled(True)

    def clear(self) -> None:
        self.index = -1
        self.setIcon(QIcon())
        self.setText("")
        self.setToolTip("")
        self.setEnabled(False)


class PictureLabel(QLabel):
    """A label showing a pixmap, centred, with a caption under it (rich text off)."""

    def __init__(self, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setToolTip(tip)

"""The confusion matrix on the test set after each epoch, and the test images of a clicked
cell (what the network said, how sure, the true class); clicking one makes it the input."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.basics.formulas import fmt_count, percent

from . import wording as W

MAX_CELL_IMAGES = 240  # pictures shown for one cell (a diagonal cell holds ~1,000)
THUMB = 56


def cell_colour(count: int, row_total: int, diagonal: bool) -> QColor:
    """Green on the diagonal (right), red off it (wrong), stronger for a larger share."""
    share = count / row_total if row_total else 0.0
    if diagonal:
        strength = share
        base = (46, 160, 67)
    else:
        strength = min(1.0, share * 8)  # a few per cent wrong should already show
        base = (214, 39, 40)
    if count == 0:
        return QColor(255, 255, 255)
    a = 0.12 + 0.75 * strength
    return QColor(*(int(255 - a * (255 - c)) for c in base))


class ConfusionView(QTableWidget):
    """k×k counts (ten, or the user's set's classes); rows the true class, columns the
    prediction. cell_clicked(true, pred)."""

    cell_clicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(10, 10, parent)
        self.setToolTip(W.CONFUSION_TIP)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(22)
        self.setMinimumSize(260, 220)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)  # "970" clipped, never "9…"
        font = self.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        self.setFont(font)
        self.confusion = np.zeros((10, 10), np.int64)
        self.set_classes([str(i) for i in range(10)])
        self.cellClicked.connect(lambda r, c: self.cell_clicked.emit(r, c))

    def set_classes(self, classes: list[str]) -> None:
        """The class names of the rows and columns; another count empties the matrix."""
        k = len(classes)
        if (self.rowCount(), self.columnCount()) != (k, k):
            self.clearContents()
            self.setRowCount(k)
            self.setColumnCount(k)
            self.confusion = np.zeros((k, k), np.int64)
        short = [c if len(c) <= 6 else c[:5] + "…" for c in classes]
        self.setHorizontalHeaderLabels(short)
        self.setVerticalHeaderLabels(short)
        for i, name in enumerate(classes):
            across, down = self.horizontalHeaderItem(i), self.verticalHeaderItem(i)
            assert across is not None and down is not None  # (their labels were set above)
            across.setToolTip(f"The network said: {name}")
            down.setToolTip(f"Truly: {name}")
        self.classes = list(classes)

    def show_confusion(self, confusion) -> None:
        m = np.asarray(confusion, dtype=np.int64)
        k = len(self.classes)
        if m.shape != (k, k):
            return
        self.confusion = m
        totals = m.sum(axis=1)
        for r in range(k):
            for c in range(k):
                item = self.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.setItem(r, c, item)
                n = int(m[r, c])
                item.setText(str(n) if n else "")  # (no thousands comma: 1124 fits a cell)
                item.setBackground(cell_colour(n, int(totals[r]), r == c))
                what = "right" if r == c else "wrong"
                item.setToolTip(f"{fmt_count(n)} test images of {self.classes[r]} read as "
                                f"{self.classes[c]} ({what}). Click to see them.")


def image_icon(image: np.ndarray) -> QIcon:
    """An (H, W) uint8 image (or (C, H, W): its first channel) as an icon, enlarged
    without blurring."""
    a = np.asarray(image, dtype=np.uint8)
    a = np.ascontiguousarray(a[0] if a.ndim == 3 else a)
    h, w = a.shape
    qimage = QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    pixmap = QPixmap.fromImage(qimage).scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.FastTransformation)
    return QIcon(pixmap)


class CellImages(QWidget):
    """The test images of one cell. image_chosen(index into the test set)."""

    image_chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel("Click a cell of the matrix to see its test images.")
        self.title.setWordWrap(True)
        box.addWidget(self.title)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setGridSize(QSize(THUMB + 34, THUMB + 34))
        self.list.setToolTip(W.CELL_IMAGES_TIP)
        self.list.setMinimumHeight(120)
        self.list.itemClicked.connect(self._on_clicked)
        box.addWidget(self.list, 1)
        self.indices: list[int] = []

    def show_cell(self, true: int, predicted: int, indices: np.ndarray, images: np.ndarray,
                  predictions: np.ndarray, confidence: np.ndarray | None, classes: list[str],
                  count: int) -> None:
        """indices: the test images of the cell (most confident first), at most
        MAX_CELL_IMAGES of count."""
        self.list.clear()
        self.indices = [int(i) for i in indices]
        shown = f"the first {len(self.indices)} of " if len(self.indices) < count else ""
        right = true == predicted
        self.title.setText(f"<b>{classes[true]}</b> read as <b>{classes[predicted]}</b> "
                           f"({'right' if right else 'wrong'}): {shown}{fmt_count(count)} test "
                           f"image{'s' if count != 1 else ''}. Click one to make it the input.")
        for i in self.indices:
            sure = percent(float(confidence[i])) if confidence is not None else ""
            item = QListWidgetItem(image_icon(images[i]), f"{classes[int(predictions[i])]} {sure}")
            item.setToolTip(f"Test image #{i}: truly {classes[true]}; the network said "
                            f"{classes[int(predictions[i])]} ({sure} sure). Click to use it "
                            "as the input.")
            item.setData(Qt.ItemDataRole.UserRole, i)
            self.list.addItem(item)

    def show_text(self, text: str) -> None:
        self.list.clear()
        self.indices = []
        self.title.setText(text)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.image_chosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))

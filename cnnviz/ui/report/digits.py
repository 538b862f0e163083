"""The test pictures one model reads right and the other wrong, as clickable thumbnails."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from cnnviz.ui.input.drawing_pad import array_to_qimage

THUMB = 42  # pixels per thumbnail side (1.5x MNIST)


class DigitList(QWidget):
    """A title and a grid of test pictures; picked(picture (28, 28) float32 0..255, source
    text) when one is clicked."""

    picked = Signal(object, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel()
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 22, THUMB + 24))
        self.list.setToolTip("Click a picture to make it the input and see how the network "
                             "in the main window reads it")
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemActivated.connect(self._on_clicked)
        layout.addWidget(self.list, 1)
        self._pictures: list[tuple[np.ndarray, str]] = []

    def show_digits(self, title: str, images, sources: list[str], captions: list[str]) -> None:
        self.title.setText(title)
        self.list.clear()
        self._pictures = []
        for image, source, caption in zip(images, sources, captions):
            pixmap = QPixmap.fromImage(array_to_qimage(np.asarray(image))).scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation)
            item = QListWidgetItem(QIcon(pixmap), caption)
            item.setData(Qt.ItemDataRole.UserRole, len(self._pictures))
            item.setToolTip(source)
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.list.addItem(item)
            self._pictures.append((np.asarray(image, np.float32), source))

    def count(self) -> int:
        return self.list.count()

    def pick(self, i: int) -> None:
        """As a click on the i-th picture."""
        image, source = self._pictures[i]
        self.picked.emit(image.copy(), source)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        self.pick(int(item.data(Qt.ItemDataRole.UserRole)))

"""The lab's settings for training on the user's own data: which set folder (and how much of
it is held out to test on), which network to start from (fine-tuning, optionally only its
last layer), and a preview of the varied pictures augmentation makes of the training data.

Views only: the set's classes are read and the preview is made by the training controller,
on its workers (cnnviz.ui.controllers.training)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.training.user_training import PREVIEW_SIZE

SET_FOLDER_TIP = ("The folder of your own set: one made with Model › Your own set… (its "
                  "drawings, classes and writers), or any folder with a subfolder of pictures "
                  "per class. Choose… picks another; the lab remembers it.")
TEST_SHARE_TIP = ("How much of your set is kept out of training to test the network on (the "
                  "test curve and the confusion matrix). With several writers, whole writers are "
                  "held out, so the test says how the network reads a hand it never saw.")
START_FROM_TIP = ("Train a new network from random weights, or go on training one that has "
                  "learned already (shipped, kept, or opened with Model › Open model… from "
                  "Keras, ONNX or PyTorch): fine-tuning. When your set has another number of "
                  "classes, the network's last layer is replaced by a new one with an output "
                  "per class, and the Network tab shows it.")
ONLY_LAST_TIP = ("Transfer learning: keep every layer but the last as it was trained. The "
                 "early convolution layers find local patterns (edges, corners, strokes) that "
                 "any handwriting is made of, so they are reused as they are; only the last "
                 "layer, which says which class those patterns add up to, learns your classes. "
                 "Fast, and good with few samples. Unticked, every layer is trained.")
PREVIEW_TIP = ("Pictures of the training data as the network sees them with 'Vary the training "
               "images' on: the top row as they are, below each one changed at random (rotated, "
               "scaled, shifted, sheared, thicker or thinner strokes, some made low-resolution). "
               "Each epoch the network sees new changes like these.")
PREVIEW_AGAIN_TIP = "Other pictures, changed at random again (the same seed shows the same ones)."
PREVIEW_PIXELS = 40  # each picture's side on screen


class SetChoice(QWidget):
    """The set folder (with Choose…) and the held-out share. folder_chosen(path) when the
    user picks a folder; changed() when the share changes."""

    folder_chosen = Signal(str)
    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.folder_label = QLabel("(no set chosen)")
        self.folder_label.setToolTip(SET_FOLDER_TIP)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setToolTip(SET_FOLDER_TIP)
        self.choose_button.clicked.connect(lambda _c=False: self.ask_folder())
        self.share = QSpinBox()
        self.share.setRange(0, 90)
        self.share.setSingleStep(5)
        self.share.setSuffix(" % held out")
        self.share.setValue(20)
        self.share.setToolTip(TEST_SHARE_TIP)
        self.share.valueChanged.connect(lambda _v: self.changed.emit())
        row.addWidget(self.folder_label, 1)
        row.addWidget(self.choose_button)
        row.addWidget(self.share)
        self.folder = ""

    def set_folder(self, folder: str) -> None:
        self.folder = str(folder or "")
        name = Path(self.folder).name if self.folder else ""
        self.folder_label.setText(name or "(no set chosen)")
        self.folder_label.setToolTip(f"{self.folder}\n\n{SET_FOLDER_TIP}" if self.folder
                                     else SET_FOLDER_TIP)

    def ask_folder(self) -> bool:
        """The folder dialog; True when a folder was chosen."""
        from PySide6.QtWidgets import QFileDialog

        start = self.folder or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Your own set (a folder)", start)
        if not folder:
            return False
        self.set_folder(folder)
        self.folder_chosen.emit(folder)
        return True

    def test_share(self) -> float:
        return self.share.value() / 100.0


class StartFrom(QWidget):
    """Random weights or a model to fine-tune, and 'only the last layer'. changed() on a
    choice; model() -> the LoadedModel chosen (None: random weights)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        self.combo.setToolTip(START_FROM_TIP)
        self.combo.addItem("New random weights (the Network tab's layers)", "")
        self.only_last = QCheckBox("Train only the last layer (transfer learning)")
        self.only_last.setToolTip(ONLY_LAST_TIP)
        box.addWidget(self.combo)
        box.addWidget(self.only_last)
        self._models: dict[str, object] = {}
        self.combo.currentIndexChanged.connect(lambda _i: self._on_choice())
        self.only_last.toggled.connect(lambda _v: self.changed.emit())
        self._on_choice(emit=False)

    def set_models(self, entries) -> None:
        """The catalogue's models (cnnviz.core.networks.catalogue.ModelEntry) that can be chosen."""
        key = self.combo.currentData()
        self.combo.blockSignals(True)
        while self.combo.count() > 1:
            self.combo.removeItem(1)
        self._models = {}
        for entry in entries:
            if entry.loaded is None or getattr(entry.loaded.model, "arch", None) is None:
                continue
            self._models[entry.key] = entry.loaded
            self.combo.addItem(f"Fine-tune {entry.label}", entry.key)
        i = self.combo.findData(key)
        self.combo.setCurrentIndex(max(0, i))
        self.combo.blockSignals(False)
        if i < 0 and key:
            self._on_choice()

    def choose(self, key: str) -> bool:
        i = self.combo.findData(key)
        if i >= 0:
            self.combo.setCurrentIndex(i)
        return i >= 0

    def model(self):
        return self._models.get(self.combo.currentData() or "")

    def only_last_layer(self) -> bool:
        return self.model() is not None and self.only_last.isChecked()

    def _on_choice(self, emit: bool = True) -> None:
        self.refresh_enabled()
        if emit:
            self.changed.emit()

    def refresh_enabled(self) -> None:
        """'Only the last layer' is offered when a network to fine-tune is chosen."""
        self.only_last.setEnabled(self.model() is not None and self.combo.isEnabled())


def picture_pixmap(picture: np.ndarray, side: int = PREVIEW_PIXELS) -> QPixmap:
    """A picture in [0, 1] ((H, W) or (C, H, W): its first channel) as a pixmap, enlarged
    without blurring."""
    a = np.asarray(picture, np.float32)
    a = a[0] if a.ndim == 3 else a
    grey = np.ascontiguousarray((np.clip(a, 0.0, 1.0) * 255).round().astype(np.uint8))
    h, w = grey.shape
    image = QImage(grey.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(image).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation)


class AugmentPreview(QWidget):
    """Training pictures as they are (top) and as augmentation changes them (below).
    again() asks for other ones; show_pictures(originals, augmented, source) draws them."""

    again = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip(PREVIEW_TIP)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.caption = QLabel("<b>What the network trains on</b>")
        self.caption.setWordWrap(True)
        self.caption.setToolTip(PREVIEW_TIP)
        box.addWidget(self.caption)
        grid = QGridLayout()
        grid.setSpacing(2)
        self.cells: list[list[QLabel]] = []
        for r in range(2):
            row = []
            for c in range(PREVIEW_SIZE):
                label = QLabel()
                label.setFixedSize(PREVIEW_PIXELS, PREVIEW_PIXELS)
                label.setStyleSheet("background: black;")
                label.setToolTip(PREVIEW_TIP)
                grid.addWidget(label, r, c)
                row.append(label)
            self.cells.append(row)
        box.addLayout(grid)
        self.again_button = QPushButton("Show other samples")
        self.again_button.setToolTip(PREVIEW_AGAIN_TIP)
        self.again_button.clicked.connect(lambda _c=False: self.again.emit())
        box.addWidget(self.again_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.originals: np.ndarray | None = None
        self.augmented: np.ndarray | None = None

    def show_pictures(self, originals: np.ndarray, augmented: np.ndarray, source: str) -> None:
        self.originals = shown = np.asarray(originals)
        self.augmented = varied = np.asarray(augmented)
        for row, pictures in zip(self.cells, (shown, varied)):
            for label, picture in zip(row, pictures):
                label.setPixmap(picture_pixmap(picture))
        self.caption.setText(f"<b>What the network trains on</b>: {len(shown)} of "
                             f"{source}, as they are (top) and varied (below)")

    def show_text(self, text: str) -> None:
        self.caption.setText(f"<b>What the network trains on</b>: {text}")

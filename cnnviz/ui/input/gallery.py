"""Real test images to try: a gallery (the 300 shipped MNIST test digits; for a Fashion-MNIST
model 300 Fashion-MNIST test images when the data folder has them, else the 100 shipped with
cnnviz), and a random pick.

The gallery is not modal: clicking a picture sets the input at once, so you can click through
them and watch the network's answer change; double-click uses one and closes.
"Random test digit" draws from all 10,000 test images of the model's dataset when the data
folder has them (cnnviz data download), otherwise from the pictures shipped for that dataset.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.datasets.data import DATASET_NAMES
from cnnviz.core.datasets.gallery import CLASS_NAMES, PER_CLASS, GalleryPictures, sample_source
from cnnviz.core.pictures.samples import has_samples, load_samples

from .drawing_pad import array_to_qimage
from .wording import gallery_fallback_note, shipped_gallery_note

# GalleryPictures, CLASS_NAMES, PER_CLASS and sample_source live in cnnviz.core.datasets.gallery (no
# Qt); they are re-exported here for the code that found them here first.
__all__ = ["CLASS_NAMES", "PER_CLASS", "GalleryDialog", "GalleryPictures", "ModelPictures",
           "sample_source"]

THUMB = 56  # pixels per thumbnail side (2x MNIST)
ALL = 10  # the "All" filter button's id (QButtonGroup ids must not be negative)


class GalleryDialog(QDialog):
    """A grid of real test pictures with their true labels, filterable by class: the shipped
    MNIST digits, or (set_samples) 30 per class of another dataset's test split.

    digit_picked(image (28, 28) float32 0..255, source text) on a click.
    """

    digit_picked = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModal(False)
        layout = QVBoxLayout(self)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)

        self.filters = QHBoxLayout()
        self.filters.addWidget(QLabel("Show:"))
        self.filter_group = QButtonGroup(self)
        self.filter_group.setExclusive(True)
        self.filter_group.idClicked.connect(self.set_filter)
        layout.addLayout(self.filters)

        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setSpacing(2)
        self.list.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.list.itemClicked.connect(self._on_item_clicked)
        self.list.itemActivated.connect(self._on_item_activated)  # Enter key
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self._last_pick = -1
        layout.addWidget(self.list, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(820, 600)
        self.dataset = ""
        images, labels, index = load_samples()
        self.set_samples("mnist", images, labels, index)

    def set_samples(self, dataset: str, images: np.ndarray, labels: np.ndarray,
                    index: np.ndarray, note: str = "") -> None:
        """Show these test pictures (index: their numbers in the test split). note: a line
        under the introduction (why these pictures and not others)."""
        self.dataset = dataset
        self._images, self._labels, self._index = images, labels, index
        title = DATASET_NAMES.get(dataset, dataset)
        self._title = title
        self._names = CLASS_NAMES.get(dataset)
        what = "handwritten digits" if self._names is None else "pictures"
        self.setWindowTitle(f"{title} test {'digits' if self._names is None else 'images'}")
        self.intro.setText(
            f"{len(labels)} real {what} from the {title} test set (the network never saw them "
            "while training). The label under each is its true class.<br>"
            "<b>Click</b> one to make it the input; <b>double-click</b> to use it and close."
            + (f"<br><i>{note}</i>" if note else ""))
        self._fill_filters()
        names = self._names
        width = THUMB + 18 if names is None else max(THUMB + 18, 84)  # room for "Ankle boot"
        self.list.setGridSize(QSize(width, THUMB + 26))
        self.list.setToolTip("Click a picture to use it as the input")
        self.list.clear()
        self._last_pick = -1
        for i in range(len(labels)):
            pixmap = QPixmap.fromImage(array_to_qimage(images[i])).scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation)  # crisp pixels, like the network sees
            label = int(labels[i])
            item = QListWidgetItem(QIcon(pixmap), names[label] if names else str(label))
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setToolTip(self._source(i))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.list.addItem(item)

    def _fill_filters(self) -> None:
        for button in self.filter_group.buttons():
            self.filter_group.removeButton(button)
            self.filters.removeWidget(button)
            button.deleteLater()
        while self.filters.count() > 1:  # the old stretch (the "Show:" label stays)
            self.filters.takeAt(self.filters.count() - 1)
        names = self._names or [str(d) for d in range(10)]
        for key, text in [(ALL, "All")] + list(enumerate(names)):
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setMinimumWidth(34 if key != ALL else 44)
            button.setToolTip("Show all of them" if key == ALL
                              else f"Show only the pictures labelled {text}")
            self.filter_group.addButton(button, key)
            self.filters.addWidget(button)
        self.filters.addStretch(1)
        self.filter_group.button(ALL).setChecked(True)

    def _source(self, i: int) -> str:
        return sample_source(int(self._index[i]), int(self._labels[i]), self._title, self._names)

    def set_filter(self, digit: int) -> None:
        """Show only pictures labelled `digit` (-1 or ALL: all of them)."""
        digit = -1 if digit in (-1, ALL) else digit
        button = self.filter_group.button(ALL if digit < 0 else digit)
        if button is not None and not button.isChecked():
            button.setChecked(True)
        for row in range(self.list.count()):
            item = self.list.item(row)
            i = item.data(Qt.ItemDataRole.UserRole)
            item.setHidden(digit >= 0 and int(self._labels[i]) != digit)

    def visible_count(self) -> int:
        return sum(not self.list.item(r).isHidden() for r in range(self.list.count()))

    def pick(self, i: int) -> None:
        """Use picture i of the gallery as the input."""
        self.digit_picked.emit(self._images[i].astype(np.float32), self._source(i))

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        self._last_pick = int(item.data(Qt.ItemDataRole.UserRole))
        self.pick(self._last_pick)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        i = int(item.data(Qt.ItemDataRole.UserRole))
        if i != self._last_pick:  # some styles activate on the same click that picked it
            self._last_pick = i
            self.pick(i)


class ModelPictures(QObject):
    """The Random button's and the gallery's source: the model's test pictures (GalleryPictures)
    and the gallery window, made when first asked for and kept filled for the model's dataset.

    picked(image, source): the user clicked a gallery picture.
    """

    __test__ = False  # not a pytest test class
    picked = Signal(object, str)

    def __init__(self, data_dir: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.digits = GalleryPictures(data_dir)
        self.dialog: GalleryDialog | None = None
        self._dataset = "mnist"  # the model's dataset
        self._filled_for = ""  # the dataset the gallery was filled for

    def shipped_only(self, dataset: str) -> bool:
        """True when `dataset`'s own test pictures are missing: not in the data folder and
        none shipped with cnnviz (MNIST digits stand in)."""
        return (dataset != "mnist" and not has_samples(dataset)
                and not self.digits.available(dataset))

    def set_dataset(self, dataset: str) -> None:
        self._dataset = dataset
        self._fill()

    def random(self) -> tuple[np.ndarray, str]:
        """(image, source) of a random test picture of the dataset; see digits.note."""
        image, source, _label = self.digits.random(self._dataset)
        return image, source

    def gallery(self, parent: QWidget | None) -> GalleryDialog:
        if self.dialog is None:
            self.dialog = GalleryDialog(parent)
            self.dialog.digit_picked.connect(self.picked)
            self._filled_for = "mnist"
        self._fill()
        return self.dialog

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()

    def _fill(self) -> None:
        """Fill the gallery with test pictures of the dataset, or say why not."""
        dataset = self._dataset
        if self.dialog is None or dataset == self._filled_for:
            return
        self._filled_for = dataset
        samples = self.digits.gallery_samples(dataset) if dataset != "mnist" else None
        if samples is not None:
            self.dialog.set_samples(dataset, *samples)
        elif has_samples(dataset):  # the ones shipped with cnnviz (MNIST, Fashion-MNIST)
            self.dialog.set_samples(dataset, *load_samples(dataset),
                                    note=shipped_gallery_note(dataset))
        else:
            self.dialog.set_samples("mnist", *load_samples(), note=gallery_fallback_note(dataset))

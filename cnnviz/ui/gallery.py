"""Real test digits to try: a gallery of the 300 shipped MNIST test digits, and a random pick.

The gallery is not modal: clicking a digit sets the input at once, so you can click through
digits and watch the network's answer change; double-click uses a digit and closes.
"Random test digit" draws from all 10,000 test images when the data folder has them
(cnnviz data download), otherwise from the 300 shipped ones.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
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

from cnnviz.core.samples import load_samples

from .drawing_pad import array_to_qimage

THUMB = 56  # pixels per thumbnail side (2x MNIST)
ALL = 10  # the "All" filter button's id (QButtonGroup ids must not be negative)


DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
CLASS_NAMES = {"fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                 "Shirt", "Sneaker", "Bag", "Ankle boot")}


def sample_source(test_index: int, label: int, dataset_title: str = "MNIST",
                  class_names=None) -> str:
    """"MNIST test digit #1234, labelled 7" (or "Fashion-MNIST test image #5, labelled Coat")."""
    what = "digit" if dataset_title == "MNIST" else "image"
    name = class_names[label] if class_names else str(label)
    return f"{dataset_title} test {what} #{test_index}, labelled {name}"


class TestDigits:
    """Where "Random test digit" picks from: the full test split of the model's dataset if the
    data folder has it (MNIST: 10,000 digits; Fashion-MNIST: 10,000 clothes), else the 300
    MNIST digits shipped with cnnviz."""

    __test__ = False  # not a pytest test class

    def __init__(self, data_dir: str | None = None, seed: int | None = None) -> None:
        self.data_dir = data_dir
        self.rng = np.random.default_rng(seed)
        self._splits: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
        self.note = ""  # where the last pick came from, in words

    def _full_split(self, dataset: str) -> tuple[np.ndarray, np.ndarray] | None:
        if dataset not in self._splits:
            from cnnviz.core.data import DataError, load_split

            try:  # read once (~10 MB), then cached; no checksum pass for a random pick
                self._splits[dataset] = load_split(dataset, "test", data_dir=self.data_dir,
                                                   verify=False)
            except (DataError, OSError, ValueError):
                self._splits[dataset] = None
        return self._splits[dataset]

    def random(self, dataset: str = "mnist") -> tuple[np.ndarray, str, int]:
        """(image (28, 28) float32 0..255, source text, label) from `dataset`'s test split."""
        if dataset not in DATASET_NAMES:
            dataset = "mnist"
        full = self._full_split(dataset)
        if full is not None:
            images, labels = full
            i = int(self.rng.integers(len(labels)))
            label = int(labels[i])
            title = DATASET_NAMES[dataset]
            self.note = f"one of the {len(labels):,} {title} test images"
            return (images[i].astype(np.float32),
                    sample_source(i, label, title, CLASS_NAMES.get(dataset)), label)
        images, labels, index = load_samples()
        i = int(self.rng.integers(len(labels)))
        label = int(labels[i])
        self.note = f"one of the {len(labels)} MNIST test digits shipped with cnnviz"
        if dataset != "mnist":
            self.note += (f" ({DATASET_NAMES[dataset]} files not found: run "
                          f"`cnnviz data download {dataset}`)")
        return images[i].astype(np.float32), sample_source(int(index[i]), label), label


class GalleryDialog(QDialog):
    """A grid of the shipped MNIST test digits with their true labels, filterable by digit.

    digit_picked(image (28, 28) float32 0..255, source text) on a click.
    """

    digit_picked = Signal(object, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MNIST test digits")
        self.setModal(False)
        self._images, self._labels, self._index = load_samples()
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"{len(self._labels)} real handwritten digits from the MNIST test set (the network "
            "never saw them while training). The number under each is its true label.<br>"
            "<b>Click</b> a digit to make it the input; <b>double-click</b> to use it and close.")
        intro.setWordWrap(True)
        layout.addWidget(intro)

        filters = QHBoxLayout()
        filters.addWidget(QLabel("Show:"))
        self.filter_group = QButtonGroup(self)
        self.filter_group.setExclusive(True)
        for key, text in [(ALL, "All")] + [(d, str(d)) for d in range(10)]:
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setMinimumWidth(34 if key != ALL else 44)
            button.setToolTip("Show all digits" if key == ALL else f"Show only the digits labelled {key}")
            self.filter_group.addButton(button, key)
            filters.addWidget(button)
        filters.addStretch(1)
        self.filter_group.button(ALL).setChecked(True)
        self.filter_group.idClicked.connect(self.set_filter)
        layout.addLayout(filters)

        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setUniformItemSizes(True)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 18, THUMB + 26))
        self.list.setSpacing(2)
        self.list.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.list.setToolTip("Click a digit to use it as the input")
        for i in range(len(self._labels)):
            pixmap = QPixmap.fromImage(array_to_qimage(self._images[i])).scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation)  # crisp pixels, like the network sees
            item = QListWidgetItem(QIcon(pixmap), str(int(self._labels[i])))
            item.setData(Qt.ItemDataRole.UserRole, i)
            item.setToolTip(sample_source(int(self._index[i]), int(self._labels[i])))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.list.addItem(item)
        self.list.itemClicked.connect(self._on_item_clicked)
        self.list.itemActivated.connect(self._on_item_activated)  # Enter key
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self._last_pick = -1
        layout.addWidget(self.list, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(820, 600)

    def set_filter(self, digit: int) -> None:
        """Show only digits labelled `digit` (-1 or ALL: all of them)."""
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
        """Use shipped sample i as the input."""
        label = int(self._labels[i])
        self.digit_picked.emit(self._images[i].astype(np.float32),
                               sample_source(int(self._index[i]), label))

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        self._last_pick = int(item.data(Qt.ItemDataRole.UserRole))
        self.pick(self._last_pick)

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        i = int(item.data(Qt.ItemDataRole.UserRole))
        if i != self._last_pick:  # some styles activate on the same click that picked it
            self._last_pick = i
            self.pick(i)

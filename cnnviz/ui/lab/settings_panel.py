"""The training settings: dataset (MNIST, Fashion-MNIST, the user's own set, or MNIST plus
it, with the share held out), the network to start from (fine-tuning), optimizer (SGD with its momentum, Adam), learning rate,
batch size, epochs, schedule, augmentation, seed and how many training images; with
sensible defaults and a button for the lecture's own Keras settings; and a preview of
the varied pictures augmentation trains on."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QPushButton,
    QSpinBox,
    QWidget,
)

from cnnviz.core.basics.limits import MAX_LAB_LR
from cnnviz.core.datasets.data import DATASETS
from cnnviz.core.training.loop import OPTIMIZER_DEFAULTS, TrainConfig

from . import wording as W
from .own_data import AugmentPreview, SetChoice, StartFrom

SETTINGS_GROUP = "TrainingLab"
DEFAULTS = {"dataset": "mnist", "optimizer": "adam", "momentum": 0.0, "beta1": 0.9, "lr": 0.003,
            "batch_size": 128, "epochs": 3, "schedule": "onecycle", "augment": False,
            "seed": 0, "limit": 0, "set_folder": "", "test_share": 20}
OWN_SET, MNIST_AND_SET = "set", "mnist+set"  # the dataset choices of the user's own set
OWN_SET_TIP = (" My set… trains on your own set (a folder made with Model › Your own set…, or "
               "any folder with a subfolder of pictures per class): the network's last layer "
               "gets one output per class. MNIST + my set learns MNIST's digits and your set's "
               "classes together.")
LECTURE = {"optimizer": "sgd", "momentum": 0.0, "beta1": 0.9, "lr": 0.01, "batch_size": 128, "epochs": 5,
           "schedule": "constant", "augment": False}


def config_has(name: str) -> bool:
    return any(f.name == name for f in dataclasses.fields(TrainConfig))


class TrainingSettings(QWidget):
    """config() -> TrainConfig, dataset(), limit() (None: every image). changed() on edits."""

    changed = Signal()
    dataset_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        form = QFormLayout(self)
        self.dataset_combo = QComboBox()
        for key, info in DATASETS.items():
            self.dataset_combo.addItem(info.title, key)
        self.dataset_combo.addItem("My set…", OWN_SET)
        self.dataset_combo.addItem("MNIST + my set", MNIST_AND_SET)
        self.dataset_combo.setToolTip(W.DATASET_TIP + OWN_SET_TIP)
        self._choice = "mnist"
        self._applying = False
        self.set_choice = SetChoice()
        self.start_from = StartFrom()
        self.preview = AugmentPreview()
        self.optimizer_combo = QComboBox()
        self.optimizer_combo.addItem("Adam", "adam")
        self.optimizer_combo.addItem("SGD (as in the lecture's Keras example)", "sgd")
        self.optimizer_combo.setToolTip(W.OPTIMIZER_TIP)
        self.momentum = QDoubleSpinBox()
        self.momentum.setRange(0.0, 0.99)
        self.momentum.setSingleStep(0.1)
        self.momentum.setDecimals(2)
        self.momentum.setToolTip(W.MOMENTUM_TIP)
        self.beta1 = QDoubleSpinBox()
        self.beta1.setRange(0.0, 0.999)
        self.beta1.setSingleStep(0.05)
        self.beta1.setDecimals(3)
        self.beta1.setToolTip(W.BETA1_TIP)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(0.00001, MAX_LAB_LR)  # (above 1: to see a run blow up)
        self.lr.setSingleStep(0.001)
        self.lr.setToolTip(W.LR_TIP)
        self.batch = _spin(1, 8192, W.BATCH_TIP)
        self.epochs = _spin(1, 200, W.EPOCHS_TIP)
        self.schedule_combo = QComboBox()
        self.schedule_combo.addItem("one-cycle", "onecycle")
        self.schedule_combo.addItem("constant", "constant")
        self.schedule_combo.setToolTip(W.SCHEDULE_TIP)
        self.augment = QCheckBox("Vary the training images")
        self.augment.setToolTip(W.AUGMENT_TIP)
        self.seed = _spin(0, 2**31 - 1, W.SEED_TIP)
        self.limit = _spin(0, 60_000, W.LIMIT_TIP)
        self.limit.setSingleStep(1000)
        self.limit.setSpecialValueText("all")
        self.lecture_button = QPushButton("Use the lecture's Keras settings")
        self.lecture_button.setToolTip(W.LECTURE_SETTINGS_TIP)
        self.lecture_button.clicked.connect(lambda: self.apply(LECTURE))
        form.addRow("Dataset", self.dataset_combo)
        form.addRow("Your set", self.set_choice)
        form.addRow("Start from", self.start_from)
        form.addRow("Optimizer", self.optimizer_combo)
        form.addRow("Momentum (SGD)", self.momentum)
        form.addRow("β1 (Adam)", self.beta1)
        form.addRow("Learning rate", self.lr)
        form.addRow("Batch size", self.batch)
        form.addRow("Epochs", self.epochs)
        form.addRow("Schedule", self.schedule_combo)
        form.addRow("Augmentation", self.augment)
        form.addRow("Seed", self.seed)
        form.addRow("Training images", self.limit)
        form.addRow(self.lecture_button)
        form.addRow(self.preview)
        self.apply(DEFAULTS)
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer)
        self.dataset_combo.currentIndexChanged.connect(lambda _i: self._on_dataset())
        self.set_choice.folder_chosen.connect(lambda _f: self._on_folder())
        self.set_choice.changed.connect(self.changed.emit)
        self.start_from.changed.connect(self.changed.emit)
        for widget in (self.dataset_combo, self.optimizer_combo, self.schedule_combo):
            widget.currentIndexChanged.connect(lambda _i: self.changed.emit())
        for box in (self.momentum, self.beta1, self.lr, self.batch, self.epochs, self.seed,
                    self.limit):
            box.valueChanged.connect(lambda _v: self.changed.emit())
        self.augment.toggled.connect(lambda _v: self.changed.emit())

    def _on_dataset(self) -> None:
        """My set… without a folder asks for one (cancelled: the choice before stays)."""
        choice = self.choice()
        if (choice in (OWN_SET, MNIST_AND_SET) and not self.set_choice.folder
                and not self._applying and not self.set_choice.ask_folder()):
            _choose(self.dataset_combo, self._choice)
            return
        self._choice = choice
        self._show_set_row()
        self.dataset_changed.emit(self.dataset_text())

    def _on_folder(self) -> None:
        if self.choice() not in (OWN_SET, MNIST_AND_SET):
            _choose(self.dataset_combo, OWN_SET)  # (its own dataset_changed follows)
        else:
            self.dataset_changed.emit(self.dataset_text())

    def _show_set_row(self) -> None:
        own = self.choice() in (OWN_SET, MNIST_AND_SET)
        self.set_choice.share.setEnabled(own and self.isEnabled())

    def _on_optimizer(self, _index: int) -> None:
        optimizer = self.optimizer_combo.currentData()
        self._enable_optimizer_fields()
        self.lr.setValue(OPTIMIZER_DEFAULTS.get(optimizer, (self.lr.value(),))[0])

    def _enable_optimizer_fields(self) -> None:
        optimizer = self.optimizer_combo.currentData()
        self.momentum.setEnabled(optimizer == "sgd" and config_has("sgd_momentum"))
        self.beta1.setEnabled(optimizer == "adam" and config_has("adam_beta1"))

    def apply_recipe(self, config: TrainConfig) -> None:
        """A preset's own training recipe (cnnviz.core.training.loop.recipe_for) on screen."""
        values = {"optimizer": config.optimizer, "lr": config.lr, "batch_size": config.batch_size,
                  "epochs": config.epochs, "schedule": config.schedule, "augment": config.augment,
                  "seed": config.seed}
        if config_has("sgd_momentum"):
            values["momentum"] = config.sgd_momentum
        if config_has("adam_beta1"):
            values["beta1"] = config.adam_beta1
        self.apply(values)

    def apply(self, values: dict) -> None:
        """Put these settings on screen (keys as in DEFAULTS)."""
        self._applying = True
        if "set_folder" in values:
            self.set_choice.set_folder(values["set_folder"])
        for key, value in values.items():
            if key == "set_folder":
                continue
            if key == "test_share":
                self.set_choice.share.setValue(int(value))
            elif key == "dataset":
                _choose(self.dataset_combo, value)
            elif key == "optimizer":
                self.optimizer_combo.blockSignals(True)
                _choose(self.optimizer_combo, value)
                self.optimizer_combo.blockSignals(False)
            elif key == "schedule":
                _choose(self.schedule_combo, value)
            elif key == "augment":
                self.augment.setChecked(bool(value))
            else:
                boxes: dict[str, QSpinBox | QDoubleSpinBox] = {
                    "momentum": self.momentum, "beta1": self.beta1, "lr": self.lr,
                    "batch_size": self.batch, "epochs": self.epochs, "seed": self.seed,
                    "limit": self.limit}
                boxes[key].setValue(value)
        self._applying = False
        self._enable_optimizer_fields()

    def choice(self) -> str:
        """mnist, fashion-mnist, OWN_SET or MNIST_AND_SET."""
        return self.dataset_combo.currentData()

    def dataset(self) -> str:
        """The built-in dataset: the pictures' preprocessing ("mnist" for the user's own
        set too: its drawings are framed as MNIST's digits are)."""
        choice = self.choice()
        return "mnist" if choice in (OWN_SET, MNIST_AND_SET) else choice

    def user_set(self) -> str | None:
        """The user's set as cnnviz.core.training.user_training.parse_dataset reads it (DIR or
        mnist+DIR); "" when it is chosen without a folder; None for a built-in dataset."""
        choice = self.choice()
        if choice not in (OWN_SET, MNIST_AND_SET):
            return None
        folder = self.set_choice.folder
        return "" if not folder else folder if choice == OWN_SET else f"mnist+{folder}"

    def dataset_text(self) -> str:
        """What to train on as one text: mnist, fashion-mnist, DIR or mnist+DIR."""
        return self.user_set() or self.dataset()

    def limit_value(self) -> int | None:
        return self.limit.value() or None

    def config(self) -> TrainConfig:
        values = dict(epochs=self.epochs.value(), batch_size=self.batch.value(),
                      optimizer=self.optimizer_combo.currentData(), lr=float(self.lr.value()),
                      schedule=self.schedule_combo.currentData(),
                      augment=self.augment.isChecked(), seed=self.seed.value())
        if config_has("sgd_momentum"):
            values["sgd_momentum"] = float(self.momentum.value()) if values["optimizer"] == "sgd" else 0.0
        if config_has("adam_beta1"):
            values["adam_beta1"] = float(self.beta1.value())
        return TrainConfig(**values)

    def values(self) -> dict:
        c = self.config()
        return {"dataset": self.choice(), "set_folder": self.set_choice.folder,
                "test_share": self.set_choice.share.value(), "optimizer": c.optimizer,
                "momentum": float(self.momentum.value()), "beta1": float(self.beta1.value()),
                "lr": c.lr, "batch_size": c.batch_size,
                "epochs": c.epochs, "schedule": c.schedule, "augment": c.augment,
                "seed": c.seed, "limit": self.limit.value()}

    def save_settings(self, settings: QSettings) -> None:
        for key, value in self.values().items():
            settings.setValue(f"{SETTINGS_GROUP}/{key}", value)

    def restore_settings(self, settings: QSettings) -> None:
        values: dict[str, object] = {}
        for key, default in DEFAULTS.items():
            raw = settings.value(f"{SETTINGS_GROUP}/{key}", default)
            try:
                if isinstance(default, bool):
                    values[key] = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true")
                elif isinstance(default, (int, float)) and not isinstance(default, bool):
                    if not isinstance(raw, (int, float, str)):
                        raise TypeError(f"{key} is not a number")
                    values[key] = type(default)(raw)
                else:
                    values[key] = str(raw)
            except (TypeError, ValueError):  # a hand-edited setting: the default instead
                values[key] = default
        self.apply(values)

    def set_editable(self, editable: bool) -> None:
        for widget in self.findChildren(QWidget):
            widget.setEnabled(editable)
        if editable:
            self._enable_optimizer_fields()
            self._show_set_row()
            self.start_from.refresh_enabled()


def _spin(low: int, high: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setToolTip(tip)
    return box


def _choose(combo: QComboBox, value) -> None:
    i = combo.findData(value)
    if i >= 0:
        combo.setCurrentIndex(i)

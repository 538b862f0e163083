"""The training settings: dataset, optimizer (SGD with its momentum, Adam), learning rate,
batch size, epochs, schedule, augmentation, seed and how many training images; with
sensible defaults and a button for the lecture's own Keras settings."""

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

from cnnviz.core.data import DATASETS
from cnnviz.core.limits import MAX_LAB_LR
from cnnviz.core.training import OPTIMIZER_DEFAULTS, TrainConfig

from . import wording as W

SETTINGS_GROUP = "TrainingLab"
DEFAULTS = {"dataset": "mnist", "optimizer": "adam", "momentum": 0.0, "beta1": 0.9, "lr": 0.003,
            "batch_size": 128, "epochs": 3, "schedule": "onecycle", "augment": False,
            "seed": 0, "limit": 0}
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
        self.dataset_combo.setToolTip(W.DATASET_TIP)
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
        self.apply(DEFAULTS)
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer)
        self.dataset_combo.currentIndexChanged.connect(
            lambda _i: self.dataset_changed.emit(self.dataset()))
        for widget in (self.dataset_combo, self.optimizer_combo, self.schedule_combo):
            widget.currentIndexChanged.connect(lambda _i: self.changed.emit())
        for widget in (self.momentum, self.beta1, self.lr, self.batch, self.epochs, self.seed,
                       self.limit):
            widget.valueChanged.connect(lambda _v: self.changed.emit())
        self.augment.toggled.connect(lambda _v: self.changed.emit())

    def _on_optimizer(self, _index: int) -> None:
        optimizer = self.optimizer_combo.currentData()
        self._enable_optimizer_fields()
        self.lr.setValue(OPTIMIZER_DEFAULTS.get(optimizer, (self.lr.value(),))[0])

    def _enable_optimizer_fields(self) -> None:
        optimizer = self.optimizer_combo.currentData()
        self.momentum.setEnabled(optimizer == "sgd" and config_has("sgd_momentum"))
        self.beta1.setEnabled(optimizer == "adam" and config_has("adam_beta1"))

    def apply_recipe(self, config: TrainConfig) -> None:
        """A preset's own training recipe (cnnviz.core.training.recipe_for) on screen."""
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
        for key, value in values.items():
            if key == "dataset":
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
                {"momentum": self.momentum, "beta1": self.beta1, "lr": self.lr,
                 "batch_size": self.batch,
                 "epochs": self.epochs, "seed": self.seed, "limit": self.limit}[key].setValue(value)
        self._enable_optimizer_fields()

    def dataset(self) -> str:
        return self.dataset_combo.currentData()

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
        return {"dataset": self.dataset(), "optimizer": c.optimizer,
                "momentum": float(self.momentum.value()), "beta1": float(self.beta1.value()),
                "lr": c.lr, "batch_size": c.batch_size,
                "epochs": c.epochs, "schedule": c.schedule, "augment": c.augment,
                "seed": c.seed, "limit": self.limit.value()}

    def save_settings(self, settings: QSettings) -> None:
        for key, value in self.values().items():
            settings.setValue(f"{SETTINGS_GROUP}/{key}", value)

    def restore_settings(self, settings: QSettings) -> None:
        values = {}
        for key, default in DEFAULTS.items():
            raw = settings.value(f"{SETTINGS_GROUP}/{key}", default)
            try:
                if isinstance(default, bool):
                    values[key] = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true")
                elif isinstance(default, (int, float)) and not isinstance(default, bool):
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


def _spin(low: int, high: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setToolTip(tip)
    return box


def _choose(combo: QComboBox, value) -> None:
    i = combo.findData(value)
    if i >= 0:
        combo.setCurrentIndex(i)

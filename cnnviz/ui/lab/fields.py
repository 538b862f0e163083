"""The selected layer's numbers, as spin boxes and choices: one page per kind of layer.
Every change emits edited(new spec, field name) at once (as you type)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QStackedWidget,
    QWidget,
)

from cnnviz.core.basics.limits import (
    MAX_ARCH_CHANNELS,
    MAX_ARCH_KERNEL_SIDE,
    MAX_ARCH_PADDING,
    MAX_ARCH_STRIDE,
    MAX_ARCH_UNITS,
)
from cnnviz.core.networks.layers import (
    LAYER_ACTIVATIONS,
    POOL_KINDS,
    Activation,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    Pool,
)

from .wording import FIELD_TIPS

_NOTHING = {
    "none": "Select a layer in the list to edit its numbers.",
    "batchnorm": "Batch norm has nothing to set: it learns γ and β for each channel.",
    "flatten": "Flatten has nothing to set: it lays the maps out as one row.",
}
_POOL_NAMES = {"max": "max (largest)", "avg": "average", "min": "min (smallest)"}


def _spin(low: int, high: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setToolTip(tip)
    box.setAccelerated(True)
    return box


def _pair_row(a: QSpinBox, b: QSpinBox) -> QWidget:
    row = QWidget()
    box = QHBoxLayout(row)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(a)
    box.addWidget(QLabel("×"))
    box.addWidget(b)
    box.addStretch(1)
    return row


class LayerFields(QStackedWidget):
    """show_spec(spec) fills the page of the spec's kind without emitting; edited(spec, field)."""

    edited = Signal(object, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = None
        self._filling = False
        self._pages: dict[str, int] = {}
        self._nothing = QLabel(_NOTHING["none"])
        self._nothing.setWordWrap(True)
        self._nothing.setStyleSheet("color: #666;")
        self._pages["nothing"] = self.addWidget(self._nothing)
        self._build_conv()
        self._build_pool()
        self._build_activation()
        self._build_dropout()
        self._build_dense()
        self.setCurrentIndex(self._pages["nothing"])

    # ----- pages -----------------------------------------------------------------------

    def _form(self, key: str) -> QFormLayout:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self._pages[key] = self.addWidget(page)
        return form

    def _build_conv(self) -> None:
        form = self._form("conv")
        self.filters = _spin(1, MAX_ARCH_CHANNELS, FIELD_TIPS["filters"])
        self.kernel_h = _spin(1, MAX_ARCH_KERNEL_SIDE, FIELD_TIPS["kernel_h"])
        self.kernel_w = _spin(1, MAX_ARCH_KERNEL_SIDE, FIELD_TIPS["kernel_w"])
        self.stride_h = _spin(1, MAX_ARCH_STRIDE, FIELD_TIPS["stride_h"])
        self.stride_w = _spin(1, MAX_ARCH_STRIDE, FIELD_TIPS["stride_w"])
        self.pad_h = _spin(0, MAX_ARCH_PADDING, FIELD_TIPS["pad_h"])
        self.pad_w = _spin(0, MAX_ARCH_PADDING, FIELD_TIPS["pad_w"])
        form.addRow("Filters", self.filters)
        form.addRow("Kernel (rows × columns)", _pair_row(self.kernel_h, self.kernel_w))
        form.addRow("Stride", _pair_row(self.stride_h, self.stride_w))
        form.addRow("Padding", _pair_row(self.pad_h, self.pad_w))
        for name in ("filters", "kernel_h", "kernel_w", "stride_h", "stride_w", "pad_h", "pad_w"):
            getattr(self, name).valueChanged.connect(lambda _v, n=name: self._conv_changed(n))

    def _build_pool(self) -> None:
        form = self._form("pool")
        self.pool_kind = QComboBox()
        for kind in POOL_KINDS:
            self.pool_kind.addItem(_POOL_NAMES.get(kind, kind), kind)
        self.pool_kind.setToolTip(FIELD_TIPS["pool_kind"])
        self.pool_size = _spin(1, MAX_ARCH_KERNEL_SIDE, FIELD_TIPS["pool_size"])
        self.pool_stride = _spin(1, MAX_ARCH_STRIDE, FIELD_TIPS["pool_stride"])
        form.addRow("Keeps", self.pool_kind)
        form.addRow("Window size", self.pool_size)
        form.addRow("Stride", self.pool_stride)
        self.pool_kind.currentIndexChanged.connect(lambda _i: self._pool_changed("kind"))
        self.pool_size.valueChanged.connect(lambda _v: self._pool_changed("size"))
        self.pool_stride.valueChanged.connect(lambda _v: self._pool_changed("stride"))

    def _build_activation(self) -> None:
        form = self._form("activation")
        self.activation = QComboBox()
        for kind in LAYER_ACTIVATIONS:
            self.activation.addItem(Activation(kind).label, kind)
        self.activation.setToolTip(FIELD_TIPS["activation"])
        form.addRow("Function", self.activation)
        self.activation.currentIndexChanged.connect(self._activation_changed)

    def _build_dropout(self) -> None:
        form = self._form("dropout")
        self.dropout = QDoubleSpinBox()
        self.dropout.setRange(0.0, 0.95)
        self.dropout.setSingleStep(0.05)
        self.dropout.setDecimals(2)
        self.dropout.setToolTip(FIELD_TIPS["dropout"])
        form.addRow("Probability p", self.dropout)
        self.dropout.valueChanged.connect(self._dropout_changed)

    def _build_dense(self) -> None:
        form = self._form("dense")
        self.units = _spin(1, MAX_ARCH_UNITS, FIELD_TIPS["units"])
        form.addRow("Units", self.units)
        self.units.valueChanged.connect(self._dense_changed)

    # ----- showing a spec ----------------------------------------------------------------

    def show_spec(self, spec) -> None:
        self.spec = spec
        self._filling = True
        try:
            if isinstance(spec, Conv):
                self._fill_conv(spec)
            elif isinstance(spec, Pool):
                _set(self.pool_kind, spec.kind)
                _set(self.pool_size, spec.size)
                _set(self.pool_stride, spec.stride)
                self.setCurrentIndex(self._pages["pool"])
            elif isinstance(spec, Activation):
                _set(self.activation, spec.kind)
                self.setCurrentIndex(self._pages["activation"])
            elif isinstance(spec, Dropout):
                _set(self.dropout, spec.p)
                self.setCurrentIndex(self._pages["dropout"])
            elif isinstance(spec, Dense):
                _set(self.units, spec.units)
                self.setCurrentIndex(self._pages["dense"])
            else:
                kind = "batchnorm" if isinstance(spec, BatchNorm) else (
                    "flatten" if isinstance(spec, Flatten) else "none")
                self._nothing.setText(_NOTHING[kind])
                self.setCurrentIndex(self._pages["nothing"])
        finally:
            self._filling = False

    def _fill_conv(self, spec: Conv) -> None:
        for name, value in (("filters", spec.filters), ("kernel_h", spec.kernel[0]),
                            ("kernel_w", spec.kernel[1]), ("stride_h", spec.stride[0]),
                            ("stride_w", spec.stride[1]), ("pad_h", spec.padding[0]),
                            ("pad_w", spec.padding[1])):
            _set(getattr(self, name), value)
        self.setCurrentIndex(self._pages["conv"])

    # ----- edits -------------------------------------------------------------------------

    def _emit(self, spec, field: str) -> None:
        if self._filling or spec == self.spec:
            return
        self.spec = spec
        self.edited.emit(spec, field)

    def _conv_changed(self, field: str) -> None:
        if isinstance(self.spec, Conv):
            self._emit(Conv(self.filters.value(), (self.kernel_h.value(), self.kernel_w.value()),
                            (self.stride_h.value(), self.stride_w.value()),
                            (self.pad_h.value(), self.pad_w.value())), field)

    def _pool_changed(self, field: str) -> None:
        if isinstance(self.spec, Pool):
            self._emit(Pool(self.pool_kind.currentData(), self.pool_size.value(),
                            self.pool_stride.value()), field)

    def _activation_changed(self, _index: int) -> None:
        if isinstance(self.spec, Activation):
            self._emit(Activation(self.activation.currentData()), "activation")

    def _dropout_changed(self, value: float) -> None:
        if isinstance(self.spec, Dropout):
            self._emit(replace(self.spec, p=round(float(value), 4)), "dropout")

    def _dense_changed(self, value: int) -> None:
        if isinstance(self.spec, Dense):
            self._emit(Dense(int(value)), "units")


def _set(widget, value) -> None:
    """Put value in a spin box or combo box without a signal, and only when it differs (so a
    box being typed in keeps its cursor)."""
    widget.blockSignals(True)
    try:
        if isinstance(widget, QComboBox):
            i = widget.findData(value)
            if i >= 0 and i != widget.currentIndex():
                widget.setCurrentIndex(i)
        elif widget.value() != value:
            widget.setValue(value)
    finally:
        widget.blockSignals(False)

"""The kernel explorer's control boxes, one class each: Input (source, colour mode, channel
shown), Kernel (preset, its description, the editable grid), Convolution (stride, padding)
and Activation and pooling. Each shows values and emits `changed`; KernelControls puts
them together and talks to the state."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ...app_state import KERNEL_SOURCE_IMAGE, KERNEL_SOURCE_NETWORK, LECTURE_SOURCE_PREFIX
from ...core.basics.formulas import fmt_shape
from ...core.basics.limits import MAX_GRID_KERNEL_SIDE, MAX_TYPED_PADDING, MAX_TYPED_POOL, MAX_TYPED_STRIDE
from ...core.convolution.kernel_edits import grown_preset, matching_preset, resize_centred
from ...core.convolution.kernel_previews import CHANNEL_VIEWS
from ...core.convolution.kernels import PRESETS
from ...core.convolution.lecture_examples import LECTURE_EXAMPLES
from ...core.convolution.stage_names import ACTIVATION_CHOICES, POOL_CHOICES
from ..widgets.combo import combo_item
from ..widgets.tooltips import wrapped_tooltip
from . import wording as w
from .grid import HINT_STYLE, LIMIT_STYLE, KernelGrid, LimitSpinBox

CUSTOM = "custom"


def _combo() -> QComboBox:
    """A combo box that fits the narrow control column (long item texts are elided)."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


def _field(widget: QWidget) -> QWidget:
    """A form field that holds one widget, or more side by side."""
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(4)
    row.addWidget(widget)
    return holder


def _select(combo: QComboBox, data) -> None:
    combo.setCurrentIndex(max(0, combo.findData(data)))


class InputBox(QGroupBox):
    """Source (source_chosen(key) on a user's pick), colour mode and channel shown."""

    source_chosen = Signal(str)
    changed = Signal()  # the colour mode
    channel_chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__("Input")
        form = QFormLayout(self)
        form.setContentsMargins(6, 6, 6, 6)
        self.source_combo = _combo()
        self.source_combo.addItem("Current image (full size)", KERNEL_SOURCE_IMAGE)
        self.source_combo.addItem("Network input (28×28)", KERNEL_SOURCE_NETWORK)
        self.source_combo.insertSeparator(2)
        for ex in LECTURE_EXAMPLES.values():
            self.source_combo.addItem(f"Lecture: {ex.short_name}", LECTURE_SOURCE_PREFIX + ex.key)
            self.source_combo.setItemData(self.source_combo.count() - 1,
                                          f"{ex.name}. Slide \"{ex.slide}\". {ex.description}",
                                          Qt.ItemDataRole.ToolTipRole)
        self.source_combo.setToolTip(w.TIP_SOURCE)
        self.source_combo.activated.connect(lambda _i: self.source_chosen.emit(self.source_combo.currentData()))
        form.addRow("Source", self.source_combo)
        self.colour_combo = _combo()
        self.colour_combo.addItem("Summed, like a conv layer", False)
        self.colour_combo.addItem("Each channel alone", True)
        self.colour_combo.setToolTip(w.TIP_COLOUR)
        self.colour_combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.channel_combo = _combo()
        for key, text in zip(CHANNEL_VIEWS, ("All three (colour)", "Red", "Green", "Blue")):
            self.channel_combo.addItem(text, key)
        self.channel_combo.setToolTip(w.TIP_CHANNEL)
        self.channel_combo.currentIndexChanged.connect(
            lambda _i: self.channel_chosen.emit(self.channel_combo.currentData() or "all"))
        # Compact (a short screen): the channel shown sits beside the colour mode, one row less.
        self._colour_row, self._show_row = _field(self.colour_combo), _field(self.channel_combo)
        form.addRow("Colour", self._colour_row)
        form.addRow("Show", self._show_row)
        self._form = form
        self.compact = False

    def set_compact(self, compact: bool) -> None:
        if compact == self.compact:
            return
        self.compact = compact
        for combo in (self.colour_combo, self.channel_combo):  # two share the row's width
            combo.setMinimumWidth(70 if compact else 0)  # texts are elided, tooltips whole
        row = (self._colour_row if compact else self._show_row).layout()
        if row is not None:  # (each field has its row, from _field)
            row.addWidget(self.channel_combo)
        self._form.setRowVisible(self._show_row, not compact)

    def show_source(self, key: str) -> None:
        _select(self.source_combo, key)

    def show_channel(self, view: str) -> None:
        _select(self.channel_combo, view)

    def set_network_available(self, available: bool, shape=(1, 28, 28)) -> None:
        """shape: the network's input (C, H, W), which the item names."""
        index = self.source_combo.findData(KERNEL_SOURCE_NETWORK)
        item = combo_item(self.source_combo, index)
        if item is not None:
            c, h, wide = shape
            size = f"{h}×{wide}" + ("" if c == 1 else f", {c} channels")
            self.source_combo.setItemText(index, f"Network input ({size})")
            item.setEnabled(available)
            item.setToolTip(f"The {size} picture the network sees, after preprocessing."
                            if available else "Appears once a model has analysed the current image.")

    def per_channel(self) -> bool:
        return bool(self.colour_combo.currentData())

    def set_colour(self, colour_input: bool) -> None:
        self.colour_combo.setEnabled(colour_input)
        self.channel_combo.setEnabled(colour_input and self.per_channel())


class KernelBox(QGroupBox):
    """The preset picker, what the kernel in force is (in words, never a silent "Custom")
    and the editable grid. changed() when the user picks a preset or edits a cell."""

    changed = Signal()

    def __init__(self, kernel: np.ndarray | None, example_kernel) -> None:
        super().__init__("Kernel (filter)")
        self._example_kernel = example_kernel  # () -> (kernel, slide) of the lecture example, or None
        self.origin: str | None = None  # the preset the user's kernel came from
        col = QVBoxLayout(self)
        col.setContentsMargins(6, 6, 6, 6)
        self.preset_combo = _combo()
        for p in PRESETS.values():
            self.preset_combo.addItem(p.name, p.key)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, p.description,
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.addItem(w.CUSTOM_TEXT, CUSTOM)
        self.preset_combo.setToolTip(w.TIP_PRESET)
        self.preset_combo.activated.connect(self._on_preset_activated)
        col.addWidget(self.preset_combo)
        self.preset_label = QLabel()
        self.preset_label.setWordWrap(True)
        self.preset_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.preset_label.setStyleSheet("color: #555;")
        col.addWidget(self.preset_label)  # its height is reserved in reserve_text_space
        self.grid = KernelGrid(kernel)
        self.grid.kernel_changed.connect(self._on_grid_changed)
        col.addWidget(self.grid)

    def forget_origin(self) -> None:
        """A lecture example's kernel came in: not an edit of the last preset."""
        self.origin = None

    def preset_key(self) -> str | None:
        key = self.preset_combo.currentData()
        return key if key in PRESETS else None

    def texts(self, key: str | None, kernel) -> tuple[str, str, str]:
        """(description, tooltip, text of the Custom item) for the kernel in force."""
        if key in PRESETS:
            p = PRESETS[key]
            return p.description, f"Source: {p.source}", w.CUSTOM_TEXT
        k = np.asarray(kernel)
        grown = grown_preset(k)
        if grown is not None:
            p = PRESETS[grown]
            size, small = fmt_shape(k.shape), fmt_shape(p.values.shape)
            return (f"{p.name} in a {size} grid of zeros: the same sums, but a bigger window, "
                    f"so a smaller output. Pick {p.name} again for {small}.", p.description,
                    f"Custom: {p.name}, {size}")
        example = self._example_kernel()
        if example is not None and np.array_equal(np.asarray(example[0], float), k):
            return f"The kernel of the slide \u201c{example[1]}\u201d.", "", "Custom (the slide's kernel)"
        origin = PRESETS.get(self.origin or "")
        if origin is not None:
            return (f"Your own numbers, changed from {origin.name}. Pick a preset above to "
                    "start again.", "", f"Custom (changed {origin.name})")
        return "Your own kernel: type numbers or fractions (1/9) in the cells.", "", w.CUSTOM_TEXT

    def show_preset(self, key: str | None, kernel) -> None:
        if key in PRESETS:
            self.origin = key
        text, tip, custom = self.texts(key, kernel)
        custom_index = self.preset_combo.findData(CUSTOM)
        self.preset_combo.setItemText(custom_index, custom)
        self.preset_combo.setItemData(custom_index, text, Qt.ItemDataRole.ToolTipRole)
        _select(self.preset_combo, key if key in PRESETS else CUSTOM)
        self.preset_label.setText(text)
        self.preset_label.setToolTip(wrapped_tooltip(tip))

    def set_compact(self, compact: bool) -> None:
        """A short screen: the description is left out (the preset's tooltip and the
        Custom item's text still say what the kernel is) and the grid's message is shorter."""
        self.preset_label.setVisible(not compact)
        self.grid.set_compact(compact)

    def reserve_text_space(self) -> None:
        """Keep the description as tall as its longest text, so everything under it stays
        put when the kernel changes (the column's width is fixed)."""
        width = self.preset_label.width()
        if width < 50:
            return
        longest = max(PRESETS.values(), key=lambda p: len(p.name))
        texts = [p.description for p in PRESETS.values()]
        saved, self.origin = self.origin, longest.key
        try:
            texts.append(self.texts(None, np.zeros((1, 1)))[0])
            grown = resize_centred(longest.values, MAX_GRID_KERNEL_SIDE, MAX_GRID_KERNEL_SIDE)
            texts.append(self.texts(None, grown)[0])
        finally:
            self.origin = saved
        fm, flags = self.preset_label.fontMetrics(), int(Qt.TextFlag.TextWordWrap)
        height = max(fm.boundingRect(0, 0, width, 10_000, flags, t).height() for t in texts)
        if self.preset_label.minimumHeight() != height:
            self.preset_label.setFixedHeight(height)

    def _on_preset_activated(self, _row: int) -> None:
        key = self.preset_key()
        if key is not None:
            self.grid.set_kernel(PRESETS[key].values)  # emits nothing
        self.show_preset(key, self.grid.kernel())
        self.changed.emit()

    def _on_grid_changed(self, kernel) -> None:
        self.show_preset(matching_preset(kernel), kernel)
        self.changed.emit()


class ConvolutionBox(QGroupBox):
    """Stride and padding for rows and columns (linked unless unticked), and their limits,
    always in view; a number typed past one is named there."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__("Convolution")
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.addWidget(QLabel("rows"), 0, 1, Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(QLabel("columns"), 0, 2, Qt.AlignmentFlag.AlignCenter)
        self.stride_spins = (LimitSpinBox("stride"), LimitSpinBox("stride"))
        self.padding_spins = (LimitSpinBox("padding"), LimitSpinBox("padding"))
        self._syncing = False
        self._limit_fresh = False  # a limit message was just shown
        for r, (word, spins, low, high, tip) in enumerate(
                (("Stride", self.stride_spins, 1, MAX_TYPED_STRIDE, w.TIP_STRIDE),
                 ("Padding", self.padding_spins, 0, MAX_TYPED_PADDING, w.TIP_PADDING)), start=1):
            label = QLabel(word)
            label.setToolTip(tip)
            grid.addWidget(label, r, 0)
            for c, spin in enumerate(spins):
                spin.setRange(low, high)
                spin.setToolTip(tip)
                spin.valueChanged.connect(lambda _v, s=spins, i=c: self._on_pair_changed(s, i))
                spin.limited.connect(self._show_limit)
                grid.addWidget(spin, r, c + 1)
        self.link_check = QCheckBox("Same for rows and columns")
        self.link_check.setChecked(True)
        self.link_check.setToolTip(w.TIP_LINK)
        grid.addWidget(self.link_check, 3, 0, 1, 3)
        # Two lines kept free, so nothing below moves when a limit message comes.
        self.limits_label = QLabel(w.LIMITS_TEXT)
        self.limits_label.setWordWrap(True)
        self.limits_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.limits_label.setStyleSheet(HINT_STYLE)
        self._set_limit_lines(2)
        self.limits_label.setToolTip(w.TIP_STRIDE + "\n\n" + w.TIP_PADDING)
        grid.addWidget(self.limits_label, 4, 0, 1, 3)

    def _set_limit_lines(self, lines: int) -> None:
        self.limits_label.setFixedHeight(lines * self.limits_label.fontMetrics().lineSpacing() + 4)

    def set_compact(self, compact: bool) -> None:
        """A short screen: one line for the limits (a longer limit message is in its tooltip)."""
        self._set_limit_lines(1 if compact else 2)

    def values(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(stride, padding), each (rows, columns)."""
        s, p = self.stride_spins, self.padding_spins
        return (s[0].value(), s[1].value()), (p[0].value(), p[1].value())

    def show_values(self, stride, padding) -> None:
        self._syncing = True
        try:
            for spins, pair in ((self.stride_spins, stride), (self.padding_spins, padding)):
                for spin, v in zip(spins, pair):
                    spin.setValue(int(v))
        finally:
            self._syncing = False
        if stride[0] != stride[1] or padding[0] != padding[1]:
            self.link_check.setChecked(False)

    def _show_limit(self, text: str) -> None:
        # Kept through the value change it causes (which comes next), cleared by a later one.
        self._limit_fresh = True
        QTimer.singleShot(0, self._limit_settled)
        self.limits_label.setText(text)
        self.limits_label.setToolTip(text)
        self.limits_label.setStyleSheet(LIMIT_STYLE)

    def _limit_settled(self) -> None:
        self._limit_fresh = False

    def _on_pair_changed(self, spins, index: int) -> None:
        if self._syncing:
            return
        if self.limits_label.text() != w.LIMITS_TEXT and not self._limit_fresh:
            self.limits_label.setText(w.LIMITS_TEXT)  # a later change: the limit note is done
            self.limits_label.setStyleSheet(HINT_STYLE)
        if self.link_check.isChecked():
            other = spins[1 - index]
            if other.value() != spins[index].value():
                self._syncing = True
                other.setValue(spins[index].value())
                self._syncing = False
        self.changed.emit()


class PoolingBox(QGroupBox):
    """The activation, the pooling kind and its window (size and stride)."""

    changed = Signal()
    limited = Signal(str)  # a pooling number was typed past its limit: the message

    def __init__(self) -> None:
        super().__init__("Activation and pooling")
        form = QFormLayout(self)
        form.setContentsMargins(6, 6, 6, 6)
        self.activation_combo = _combo()
        for key, c in ACTIVATION_CHOICES.items():
            self.activation_combo.addItem(c.label, key)
            self.activation_combo.setItemData(self.activation_combo.count() - 1, c.description,
                                              Qt.ItemDataRole.ToolTipRole)
        self.activation_combo.setToolTip(w.TIP_ACTIVATION)
        form.addRow("Activation", self.activation_combo)
        self.pool_combo = _combo()
        for key, c in POOL_CHOICES.items():
            self.pool_combo.addItem(c.label, key)
        self.pool_combo.setToolTip(w.TIP_POOL)
        form.addRow("Pooling", self.pool_combo)
        row = QHBoxLayout()
        self.pool_size_spin = self._spin("the pooling size", "size ", w.TIP_POOL_SIZE)
        self.pool_stride_spin = self._spin("the pooling stride", "stride ", w.TIP_POOL_STRIDE)
        row.addWidget(self.pool_size_spin)
        row.addWidget(self.pool_stride_spin)
        form.addRow("Window", row)
        for combo in (self.activation_combo, self.pool_combo):
            combo.currentIndexChanged.connect(self._on_changed)

    def _spin(self, what: str, prefix: str, tip: str) -> LimitSpinBox:
        spin = LimitSpinBox(what)
        spin.setRange(1, MAX_TYPED_POOL)
        spin.setToolTip(tip)
        spin.setPrefix(prefix)
        spin.valueChanged.connect(self._on_changed)
        spin.limited.connect(self.limited.emit)
        return spin

    def show_values(self, s) -> None:
        _select(self.activation_combo, s.activation)
        _select(self.pool_combo, s.pool_kind)
        self.pool_size_spin.setValue(int(s.pool_size))
        self.pool_stride_spin.setValue(int(s.pool_stride))
        self._update_enabled()

    def _update_enabled(self) -> None:
        pooling = self.pool_combo.currentData() != "none"
        self.pool_size_spin.setEnabled(pooling)
        self.pool_stride_spin.setEnabled(pooling)

    def _on_changed(self, *_args) -> None:
        self._update_enabled()
        self.changed.emit()

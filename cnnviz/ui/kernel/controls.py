"""The kernel explorer's control column: the four boxes in a scroll area wide enough for a
7×7 kernel. It shows the state's settings and publishes the user's changes to the state
(AppState.kernel, channel_view); the source goes through the kernel controller."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QScrollArea, QStyle, QVBoxLayout, QWidget

from ...app_state import LECTURE_SOURCE_PREFIX, InputImage
from ...core.basics.formulas import fmt_shape
from ...core.basics.limits import MAX_GRID_KERNEL_SIDE
from ...core.convolution.kernel_edits import matching_preset
from ...core.convolution.kernels import PRESETS
from .control_boxes import ConvolutionBox, InputBox, KernelBox, PoolingBox

CONTROLS_WIDTH = 290  # at least; more if the fonts need it


def fits_grid(kernel) -> bool:
    k = np.asarray(kernel)
    return k.ndim == 2 and 1 <= k.shape[0] <= MAX_GRID_KERNEL_SIDE and 1 <= k.shape[1] <= MAX_GRID_KERNEL_SIDE


class KernelControls(QScrollArea):
    """Input, Kernel, Convolution, Activation and pooling. kernel_too_large(message) when the
    state's kernel is larger than the grid can edit; status(message) for the status bar."""

    kernel_too_large = Signal(str)
    status = Signal(str)

    def __init__(self, state, controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.controller = state, controller
        self._syncing = False
        self._origin_before_example: tuple[str | None] | None = None  # (origin,) while an example is shown
        self.input_box = InputBox()
        kernel = state.kernel.kernel if fits_grid(state.kernel.kernel) else None
        self.kernel_box = KernelBox(kernel, self._example_kernel)
        self.conv_box = ConvolutionBox()
        self.pool_box = PoolingBox()
        column = QWidget()
        layout = self._column_layout = QVBoxLayout(column)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(6)
        self.compact = False  # a short screen: the same controls in less height
        self._natural_height = 0  # the column's height when not compact
        for box in (self.input_box, self.kernel_box, self.conv_box, self.pool_box):
            layout.addWidget(box)
        layout.addStretch(1)
        self.setWidget(column)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # Wide enough for everything beside a vertical scroll bar; should a font make it
        # wider still, a horizontal bar appears instead of a cut.
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.setFixedWidth(max(column.minimumSizeHint().width(), CONTROLS_WIDTH) + bar + 2)
        self._connect()
        self.apply(state.kernel)
        self.input_box.show_source(state.kernel_source)
        self.input_box.show_channel(state.channel_view)
        self._on_analysis()

    def _connect(self) -> None:
        for box in (self.input_box, self.kernel_box, self.conv_box, self.pool_box):
            box.changed.connect(self._commit)
        self.input_box.source_chosen.connect(self._on_source_chosen)
        self.input_box.channel_chosen.connect(self._on_channel_chosen)
        self.pool_box.limited.connect(self.status.emit)
        for spin in (self.grid.rows_spin, self.grid.cols_spin):  # a taller kernel may not fit
            spin.valueChanged.connect(lambda _v: QTimer.singleShot(0, self._after_layout))
        self.controller.example_applied.connect(self._on_example_applied)
        self._state_slots = ((self.state.events.kernel, self._on_state_kernel),
                             (self.state.events.kernel_source, self._on_source),
                             (self.state.events.channel_view, self.input_box.show_channel),
                             (self.state.events.input_image, self._on_image),
                             (self.state.analysis_ready, self._on_analysis))
        for signal, slot in self._state_slots:
            signal.connect(slot)

    def disconnect_state(self) -> None:
        for signal, slot in self._state_slots:
            signal.disconnect(slot)

    @property
    def grid(self):
        return self.kernel_box.grid

    def _example_kernel(self):
        example = self.controller.example()
        return None if example is None else (example.kernel, example.slide)

    # ----------------------------------------------------------------- state -> controls

    def apply(self, s) -> None:
        """Show settings in the controls without treating it as a user change."""
        self._syncing = True
        try:
            grid = self.grid
            if fits_grid(s.kernel) and (s.kernel.shape != grid.kernel().shape
                                        or not np.array_equal(s.kernel, grid.kernel())):
                grid.set_kernel(s.kernel)
            key = s.preset_key if s.preset_key in PRESETS else matching_preset(s.kernel)
            self.kernel_box.show_preset(key, s.kernel)
            self.conv_box.show_values(s.stride, s.padding)
            self.pool_box.show_values(s)
            self.input_box.colour_combo.setCurrentIndex(1 if s.per_channel else 0)
        finally:
            self._syncing = False
        self._update_enabled()

    def _on_state_kernel(self, settings) -> None:
        if settings.same_as(self.settings()):
            return
        if not fits_grid(settings.kernel):
            side = MAX_GRID_KERNEL_SIDE
            self.kernel_too_large.emit(f"This {fmt_shape(np.shape(settings.kernel))} kernel is "
                                       f"larger than the {side}×{side} the grid can edit; it is "
                                       "used as it is.")
        self.apply(settings)

    def _on_example_applied(self, _example) -> None:
        """A lecture example's kernel came in: not an edit of the user's preset, whose name
        comes back with the user's kernel when the example is left."""
        if self._origin_before_example is None:
            self._origin_before_example = (self.kernel_box.origin,)
        self.kernel_box.forget_origin()

    def _on_source(self, key: str) -> None:
        if not key.startswith(LECTURE_SOURCE_PREFIX) and self._origin_before_example is not None:
            # (before the user's kernel is restored: it is shown as what it was, not as a
            # change of the slide's "Lecture example")
            self.kernel_box.origin = self._origin_before_example[0]
            self._origin_before_example = None
        self.input_box.show_source(key)
        self._update_enabled()

    def _on_image(self, _picture: InputImage | None) -> None:
        self._update_enabled()

    def _on_analysis(self, *_args) -> None:
        analysis = self.state.analysis
        shape = analysis.layers[0][1].shape if analysis is not None else (1, 28, 28)
        self.input_box.set_network_available(analysis is not None, shape)

    def _update_enabled(self) -> None:
        image = self.controller.source_image()
        self.input_box.set_colour(image is not None and np.ndim(image) == 3)

    # ----------------------------------------------------------------- controls -> state

    def settings(self):
        """The settings the controls show."""
        kernel = self.grid.kernel()
        key = self.kernel_box.preset_key()
        if key is None or PRESETS[key].values.shape != kernel.shape \
                or not np.array_equal(PRESETS[key].values, kernel):
            key = matching_preset(kernel)
        stride, padding = self.conv_box.values()
        pool = self.pool_box
        return self.state.kernel.with_changes(
            kernel=kernel, preset_key=key, stride=stride, padding=padding,
            activation=pool.activation_combo.currentData(), pool_kind=pool.pool_combo.currentData(),
            pool_size=pool.pool_size_spin.value(), pool_stride=pool.pool_stride_spin.value(),
            per_channel=self.input_box.per_channel())

    def _commit(self) -> None:
        """The user changed a control: publish the settings (the controller recomputes)."""
        if self._syncing:
            return
        self._update_enabled()
        self.state.kernel = self.settings()

    def _on_source_chosen(self, key: str) -> None:
        self.controller.set_source(key)
        self.input_box.show_source(self.state.kernel_source)  # a source not available falls back

    def _on_channel_chosen(self, view: str) -> None:
        if not self._syncing:
            self.state.channel_view = view

    # ----------------------------------------------------------------- short screens

    def boxes(self):
        return (self.input_box, self.kernel_box, self.conv_box, self.pool_box)

    def set_compact(self, compact: bool) -> None:
        """The same controls in less height (1024×700 had the pooling controls below the
        fold): the channel beside the colour mode, no kernel description, shorter messages,
        tighter spacing."""
        self.compact = compact
        for box in (self.input_box, self.kernel_box, self.conv_box):
            box.set_compact(compact)
        for box in self.boxes():
            margin = 3 if compact else 6
            box.layout().setContentsMargins(margin, margin, margin, margin)
            box.layout().setSpacing(2 if compact else -1)
        self._column_layout.setSpacing(2 if compact else 6)

    def _fit_height(self) -> None:
        inner = self.widget()
        if not self.compact and inner is not None:  # (the column, set once built)
            self._natural_height = inner.sizeHint().height()
        compact = self.viewport().height() < self._natural_height
        if compact != self.compact:
            self.set_compact(compact)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_height()
        QTimer.singleShot(0, self._after_layout)

    def _after_layout(self) -> None:
        self.kernel_box.reserve_text_space()  # after the layout's pass
        self._fit_height()  # the reserved text (or a bigger kernel) changed the height

"""The kernel controller: what the kernel explorer filters and when, on its own worker.

It owns the source (state.kernel_source: the current image, the network's input or a
lecture example), the user's settings kept while a lecture example replaces them
(state.kernel_before_lecture), the drawable copy of a big input (reused while only the
settings change), the reuse of a result when only the channel shown changes, and the
requests: the newest wins, stale results are dropped, and busy_changed(True) comes only
when a result takes longer than BUSY_DELAY_MS. Views subscribe to result_ready, failed,
emptied and busy_changed and draw; they never see generations or threads.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from ...app_state import (
    KERNEL_SOURCE_IMAGE,
    KERNEL_SOURCE_NETWORK,
    LECTURE_SOURCE_PREFIX,
    InputImage,
)
from ...core.convolution.conv_steps import first_conv_input
from ...core.convolution.kernel_edits import matching_preset
from ...core.convolution.kernel_previews import KernelPreview, StageView, compute_view
from ...core.convolution.lecture_examples import LECTURE_EXAMPLES, LectureExample
from .runner import LatestRequestRunner

BUSY_DELAY_MS = 150  # quicker results never show the busy bar (it would only flicker)


class KernelController(QObject):
    """See the module docstring. All slots and signals are on the GUI thread."""

    result_ready = Signal(object)  # KernelPreview: the newest result and its previews
    failed = Signal(str)  # the worker raised: the message
    emptied = Signal()  # nothing to filter (no image yet)
    busy_changed = Signal(bool)
    notice = Signal(str)  # a sentence for the status bar
    example_applied = Signal(object)  # LectureExample whose settings were just put in force

    def __init__(self, state, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.runner = LatestRequestRunner("kernel", self)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.view: KernelPreview | None = None  # the newest result delivered
        self._requested = 0  # generation of the newest request
        self._delivered = 0  # generation of the newest result (or failure) delivered
        self._busy = False
        self._shut = False
        self._active = True  # False while the tab is hidden: inputs are noted, not computed
        self._refresh_when_active = False
        self._network_cache: tuple[object, np.ndarray, str] | None = None  # (analysis, values, scale)
        self._input_cache: tuple[object, StageView] | None = None  # a big input: (image, view)
        self._pending_image: np.ndarray | None = None
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(self._on_busy_delay)
        self._connections = ((state.events.kernel, self._on_kernel),
                             (state.events.input_image, self._on_image),
                             (state.analysis_ready, self._on_analysis),
                             (state.events.channel_view, self._on_channel_view))
        for signal, slot in self._connections:
            signal.connect(slot)

    # ----------------------------------------------------------------- sources

    def source(self) -> str:
        return self.state.kernel_source

    def example(self) -> LectureExample | None:
        """The lecture example being filtered, or None."""
        source = self.state.kernel_source
        if source.startswith(LECTURE_SOURCE_PREFIX):
            return LECTURE_EXAMPLES.get(source[len(LECTURE_SOURCE_PREFIX):])
        return None

    def _valid_source(self, key: str, say: bool) -> str:
        if key.startswith(LECTURE_SOURCE_PREFIX):
            return key if key[len(LECTURE_SOURCE_PREFIX):] in LECTURE_EXAMPLES else KERNEL_SOURCE_IMAGE
        if key == KERNEL_SOURCE_NETWORK and self.state.analysis is None:
            if say:
                self.notice.emit("The network input appears once a model has analysed the image.")
            return KERNEL_SOURCE_IMAGE
        return key if key == KERNEL_SOURCE_NETWORK else KERNEL_SOURCE_IMAGE

    def set_source(self, key: str, apply_example: bool = True) -> None:
        """KERNEL_SOURCE_IMAGE, KERNEL_SOURCE_NETWORK or 'lecture:<key>'. A lecture example
        also puts in force the slide's kernel, stride, padding and pooling (unless
        apply_example is False), keeping the user's own; leaving the examples brings those back."""
        state = self.state
        key = self._valid_source(key, say=True)
        was_example = self.example() is not None
        to_example = key.startswith(LECTURE_SOURCE_PREFIX)
        if apply_example and to_example and not was_example:
            state.kernel_before_lecture = state.kernel
        restore = None
        if was_example and not to_example:
            restore, state.kernel_before_lecture = state.kernel_before_lecture, None
        self._input_cache = None
        state.kernel_source = key
        example = self.example()
        if example is not None and apply_example:
            settings = example.settings(state.kernel)
            self.example_applied.emit(example)
            state.kernel = settings.with_changes(preset_key=matching_preset(settings.kernel))
        elif restore is not None:
            state.kernel = restore  # the user's kernel, stride, pooling as they were
        else:
            self.request()

    def restore(self, source: str, settings) -> None:
        """Saved choices from a earlier run: the source as saved (if it still exists) and
        the saved settings, not the example's."""
        self._input_cache = None
        self.state.kernel_before_lecture = None
        self.state.kernel_source = self._valid_source(source, say=False)
        self.state.kernel = settings  # -> a new request

    def _first_layer_input(self, analysis) -> tuple[np.ndarray, str]:
        """The network input as the first layer receives it (the slide view shows the same
        numbers), and its scale in words."""
        loaded = self.state.model
        traced = analysis.layers[0][1]
        if loaded is None:  # (no model yet: the traced input as it is, channels last)
            x = np.asarray(traced, dtype=np.float32)
            return (x[0] if x.shape[0] == 1 else np.moveaxis(x, 0, -1)), "values 0..1"
        x, scale = first_conv_input(loaded.model, traced)
        return x.astype(np.float32), scale

    def source_scale(self) -> str:
        """The scale of what is filtered, in words: only the network input needs saying."""
        if self.example() is None and self.state.kernel_source == KERNEL_SOURCE_NETWORK \
                and self._network_cache is not None:
            return self._network_cache[2]
        return ""

    def source_image(self) -> np.ndarray | None:
        """What is filtered now: (H, W) or (H, W, 3): a picture 0..255, a lecture example, or
        the network's input as its first layer receives it; None when there is nothing."""
        example = self.example()
        if example is not None:
            return example.image
        if self.state.kernel_source == KERNEL_SOURCE_NETWORK:
            analysis = self.state.analysis
            if analysis is None:
                return None
            if self._network_cache is None or self._network_cache[0] is not analysis:
                self._network_cache = (analysis, *self._first_layer_input(analysis))
            return self._network_cache[1]
        return self.state.image

    # ----------------------------------------------------------------- requests

    def set_active(self, active: bool) -> None:
        """The tab shown or hidden. While hidden, a new input is only noted: filtering for
        an unseen tab would take CPU from the live drawing loop."""
        self._active = active
        if active and self._refresh_when_active:
            self._refresh_when_active = False
            self.request()

    def request(self, reuse: bool = False) -> int | None:
        """Ask the worker for a new result (the newest request wins). reuse: only the view
        changed (the channel shown), so the last result is drawn again, not recomputed."""
        if self._shut:
            return None
        image = self.source_image()
        if image is None:
            self.emptied.emit()
            return None
        settings, source, view = self.state.kernel, self.state.kernel_source, self.view
        reuse_result = None
        if reuse and view is not None and view.result.settings is settings and view.source_key == source:
            reuse_result = view.result
        input_view = None
        if self._input_cache is not None and self._input_cache[0] is image:
            input_view = self._input_cache[1]
        self._requested = self.runner.submit(compute_view, image, settings, self.state.channel_view,
                                             source, reuse_result, input_view, self.source_scale())
        self._pending_image = image
        if not self._busy and not self._busy_timer.isActive():
            self._busy_timer.start()
        return self._requested

    def is_idle(self) -> bool:
        """True when the newest request's result has been delivered."""
        return self._delivered >= self._requested and self.runner.is_idle()

    def join(self, timeout: float = 30.0) -> bool:
        """Wait for the worker (tests); the result still passes through the event loop."""
        return self.runner.join(timeout)

    def shutdown(self) -> None:
        """Stop listening to the state and stop the worker (the window is closing)."""
        if self._shut:
            return
        self._shut = True
        self._busy_timer.stop()
        for signal, slot in self._connections:
            signal.disconnect(slot)
        self.runner.shutdown()

    # ----------------------------------------------------------------- slots

    def _request_if_active(self) -> None:
        if self._active:
            self.request()
        else:
            self._refresh_when_active = True

    def _on_kernel(self, _settings) -> None:
        self.request()

    def _on_image(self, _picture: InputImage | None) -> None:
        if self.state.kernel_source == KERNEL_SOURCE_IMAGE:
            self._input_cache = None
            self._request_if_active()

    def _on_analysis(self, _analysis) -> None:
        if self.state.kernel_source == KERNEL_SOURCE_NETWORK:
            self._request_if_active()

    def _on_channel_view(self, _view: str) -> None:
        self.request(reuse=True)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
            self.state.busy_changed.emit("kernel", busy)

    def _on_busy_delay(self) -> None:
        if self._delivered < self._requested:
            self._set_busy(True)

    def _delivered_now(self, generation: int) -> None:
        self._delivered = generation
        self._busy_timer.stop()
        self._set_busy(False)

    def _on_finished(self, generation: int, view: KernelPreview) -> None:
        if self._shut:
            return
        self._delivered_now(generation)
        if view.input.preview.factor > 1 and self._pending_image is not None:
            self._input_cache = (self._pending_image, view.input)  # a big photo's drawable copy
        self.view = view
        self.result_ready.emit(view)

    def _on_failed(self, generation: int, message: str) -> None:
        if self._shut:
            return
        self._delivered_now(generation)
        self.failed.emit(message)

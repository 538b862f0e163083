"""What the user has chosen now: plain Python with change notifications, no Qt.

Views connect to these events in their __init__ and update in small `_on_*` methods
(the napari pattern). Everything here can be driven from a notebook or a test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np


class Event:
    """A list of callbacks: connect(fn), disconnect(fn), emit(*args)."""

    def __init__(self) -> None:
        self._callbacks: list[Callable] = []

    def connect(self, callback: Callable) -> None:
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def disconnect(self, callback: Callable) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args) -> None:
        for callback in list(self._callbacks):
            callback(*args)


@dataclass(frozen=True)
class KernelSettings:
    """The kernel explorer's choices (stride and padding per axis: rows, columns)."""

    kernel: np.ndarray = field(default_factory=lambda: np.array(
        [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64))
    preset_key: str | None = "sharpen"
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    activation: str = "relu"  # see cnnviz.core.ops.ACTIVATIONS; "none" for no activation
    pool_kind: str = "max"  # "none", "max", "min", "avg"
    pool_size: int = 2
    pool_stride: int = 2
    per_channel: bool = False  # colour images: filter each channel alone, or sum like a conv layer

    def with_changes(self, **changes) -> KernelSettings:
        return replace(self, **changes)


class AppState:
    """The current input image, model, kernel settings and selected layer.

    image: (H, W) grey or (H, W, 3) colour, float32 0..255, as cnnviz.core.images loads it
    (a drawing is white ink on black; preprocessing handles either polarity).
    """

    def __init__(self) -> None:
        self.image_changed = Event()  # (image, source: str)
        self.model_changed = Event()  # (LoadedModel)
        self.kernel_changed = Event()  # (KernelSettings)
        self.layer_changed = Event()  # (layer name: str)
        self.analysis_ready = Event()  # (cnnviz.core.inference.Analysis) from the worker
        self.image: np.ndarray | None = None
        self.image_source: str = ""
        self.model = None  # cnnviz.core.weights.LoadedModel
        self.kernel = KernelSettings()
        self.layer: str | None = None
        self.analysis = None  # the latest cnnviz.core.inference.Analysis

    def set_image(self, image: np.ndarray, source: str = "") -> None:
        self.image = image
        self.image_source = source
        self.image_changed.emit(image, source)

    def set_model(self, loaded) -> None:
        self.model = loaded
        self.model_changed.emit(loaded)

    def set_kernel(self, settings: KernelSettings) -> None:
        self.kernel = settings
        self.kernel_changed.emit(settings)

    def set_layer(self, name: str) -> None:
        if name != self.layer:
            self.layer = name
            self.layer_changed.emit(name)

    def publish_analysis(self, analysis) -> None:
        self.analysis = analysis
        self.analysis_ready.emit(analysis)

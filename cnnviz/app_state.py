"""The app state: what the user has chosen and the latest results. Evented, no Qt.

Built on psygnal (the event library napari and ndv use): views connect to these signals
in their __init__ and update in small `_on_*` methods; controllers set values and publish
results. Everything here can be driven from a notebook or a test without a window.

    state = AppState()
    state.image_changed.connect(lambda image, source: ...)
    state.set_image(array, "drawing")
"""

from __future__ import annotations

import numpy as np
from psygnal import Signal

from cnnviz.core.convolution.filter_settings import KernelSettings

__all__ = ["AppState", "KernelSettings", "KERNEL_SOURCE_IMAGE", "KERNEL_SOURCE_NETWORK",
           "LECTURE_SOURCE_PREFIX"]

# What the kernel explorer filters: the current image, the network's 28×28 input, or a
# lecture example ("lecture:<key>", see cnnviz.core.convolution.lecture_examples).
KERNEL_SOURCE_IMAGE = "image"
KERNEL_SOURCE_NETWORK = "network"
LECTURE_SOURCE_PREFIX = "lecture:"


class AppState:
    """The current input image, model, kernel settings and selections, and the latest
    analysis. image: (H, W) grey or (H, W, 3) colour, float32 0..255, as
    cnnviz.core.pictures.images loads it (a drawing is white ink on black)."""

    image_changed = Signal(object, str)  # (image, source)
    model_changed = Signal(object)  # (LoadedModel)
    model_loading_changed = Signal(bool)  # the network (torch and the model) is being loaded
    kernel_changed = Signal(object)  # (KernelSettings)
    kernel_source_changed = Signal(str)  # "image", "network" or "lecture:<key>"
    channel_view_changed = Signal(str)  # "all", "0", "1", "2" (per-channel colour view)
    layer_changed = Signal(str)  # the CNN explorer's selected layer
    catalogue_changed = Signal(object)  # (list of cnnviz.core.networks.catalogue.ModelEntry)
    analysis_ready = Signal(object)  # (cnnviz.core.reading.inference.Analysis)
    analysis_failed = Signal(str)
    busy_changed = Signal(str, bool)  # (which worker, busy)
    drawing_changed = Signal(bool)  # a pen stroke on the pad began (True) or ended (False)
    training_changed = Signal(bool)  # the training lab started (True) or ended (False) a run

    def __init__(self) -> None:
        self.image: np.ndarray | None = None
        self.image_source: str = ""
        self.model = None  # cnnviz.core.networks.weights.LoadedModel
        self.model_loading = False  # True while start-up loads torch and the default model
        self.kernel = KernelSettings()
        self.kernel_source: str = KERNEL_SOURCE_IMAGE
        # The user's own settings, kept while a lecture example replaces them.
        self.kernel_before_lecture: KernelSettings | None = None
        self.channel_view: str = "all"
        self.layer: str | None = None
        self.catalogue: list = []
        self.analysis = None  # the latest cnnviz.core.reading.inference.Analysis
        self.analysis_error: str | None = None
        # True while a pen stroke is in progress: images then arrive faster than they can
        # be analysed, and the analysis controller paces them (cnnviz.ui.controllers).
        self.drawing: bool = False
        # True while the training lab trains a network (cnnviz.ui.controllers.training).
        self.training: bool = False

    def set_image(self, image: np.ndarray, source: str = "") -> None:
        self.image = image
        self.image_source = source
        self.image_changed.emit(image, source)

    def set_drawing(self, drawing: bool) -> None:
        if drawing != self.drawing:
            self.drawing = drawing
            self.drawing_changed.emit(drawing)

    def set_training(self, training: bool) -> None:
        if training != self.training:
            self.training = training
            self.training_changed.emit(training)

    def set_model(self, loaded) -> None:
        self.model = loaded
        self.model_changed.emit(loaded)

    def set_model_loading(self, loading: bool) -> None:
        if loading != self.model_loading:
            self.model_loading = loading
            self.model_loading_changed.emit(loading)

    def set_kernel(self, settings: KernelSettings) -> None:
        self.kernel = settings
        self.kernel_changed.emit(settings)

    def set_kernel_source(self, source: str) -> None:
        if source != self.kernel_source:
            self.kernel_source = source
            self.kernel_source_changed.emit(source)

    def set_channel_view(self, view: str) -> None:
        if view != self.channel_view:
            self.channel_view = view
            self.channel_view_changed.emit(view)

    def set_layer(self, name: str) -> None:
        if name != self.layer:
            self.layer = name
            self.layer_changed.emit(name)

    def set_catalogue(self, entries: list) -> None:
        self.catalogue = list(entries)
        self.catalogue_changed.emit(self.catalogue)

    def publish_analysis(self, analysis) -> None:
        self.analysis = analysis
        self.analysis_error = None
        self.analysis_ready.emit(analysis)

    def publish_analysis_failure(self, message: str) -> None:
        self.analysis_error = message
        self.analysis_failed.emit(message)

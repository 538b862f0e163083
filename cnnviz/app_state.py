"""The app state: what the user has chosen and the latest results. Evented, no Qt.

AppState is a psygnal evented dataclass (psygnal is the event library napari and ndv
use): every field has a signal of the same name in `state.events`, and setting the field
emits the new value (and the old one, for listeners that take two arguments). Views
connect in their __init__ and update in small `_on_*` methods; controllers set fields and
publish results. Everything here can be driven from a notebook or a test without a window.

    state = AppState()
    state.events.input_image.connect(lambda picture: ...)  # an InputImage
    state.input_image = InputImage(array, "your drawing")
    state.events.layer.connect(lambda name: ...)
    state.layer = "conv1"  # heard; the same name again is not

When a field is heard:
- plain values (drawing, training, model_loading, kernel_source, channel_view, layer)
  only when they change;
- input_image on every new InputImage: it is compared by identity, so a picture equal to
  the last one (a pen stroke ending on the same pixels, a Random picture like the last)
  is still analysed;
- model, kernel and catalogue on every assignment, as a new choice of the same thing
  still asks the listeners to redraw.
kernel_before_lecture, analysis and analysis_error are state without a field signal.

What happens rather than what is (an analysis arrives or fails, a worker becomes busy)
are plain signals on the class: analysis_ready, analysis_failed, busy_changed; the
publish_* methods keep the latest analysis (or its failure) and announce it.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from psygnal import Signal, SignalGroupDescriptor

from cnnviz.core.convolution.filter_settings import KernelSettings

if TYPE_CHECKING:
    import numpy as np

    from cnnviz.core.networks.catalogue import ModelEntry
    from cnnviz.core.networks.weights import LoadedModel
    from cnnviz.core.reading.inference import Analysis

__all__ = ["AppState", "InputImage", "KernelSettings", "KERNEL_SOURCE_IMAGE",
           "KERNEL_SOURCE_NETWORK", "LECTURE_SOURCE_PREFIX"]

# What the kernel explorer filters: the current image, the network's 28×28 input, or a
# lecture example ("lecture:<key>", see cnnviz.core.convolution.lecture_examples).
KERNEL_SOURCE_IMAGE = "image"
KERNEL_SOURCE_NETWORK = "network"
LECTURE_SOURCE_PREFIX = "lecture:"


@dataclass(frozen=True, eq=False)
class InputImage:
    """A picture to analyse and where it came from ("your drawing", "seven.png", ...).
    pixels: (H, W) grey or (H, W, 3) colour, float32 0..255, as cnnviz.core.pictures.images
    loads it (a drawing is white ink on black). Equal only to itself: each new InputImage
    is a new request, whatever its pixels."""

    pixels: np.ndarray
    source: str = ""


def _never_equal(_new: object, _old: object) -> bool:
    return False


@dataclass
class AppState:
    """The current input image, model, kernel settings and selections, and the latest
    analysis. See the module's docstring for which field is heard when."""

    # What psygnal's @evented decorator adds, written out so that type checkers know
    # state.events; the equality operators say when an assignment is heard.
    events: ClassVar[SignalGroupDescriptor] = SignalGroupDescriptor(
        equality_operators={"input_image": operator.is_, "model": _never_equal,
                            "kernel": _never_equal, "catalogue": _never_equal},
        signal_aliases={"kernel_before_lecture": None, "analysis": None,
                        "analysis_error": None})

    analysis_ready: ClassVar[Signal] = Signal(object)  # (Analysis)
    analysis_failed: ClassVar[Signal] = Signal(str)
    busy_changed: ClassVar[Signal] = Signal(str, bool)  # (which worker, busy)

    input_image: InputImage | None = None
    model: LoadedModel | None = None
    model_loading: bool = False  # True while start-up loads torch and the default model
    kernel: KernelSettings = field(default_factory=KernelSettings)
    kernel_source: str = KERNEL_SOURCE_IMAGE  # "image", "network" or "lecture:<key>"
    # The user's own settings, kept while a lecture example replaces them.
    kernel_before_lecture: KernelSettings | None = None
    channel_view: str = "all"  # "all", "0", "1", "2" (per-channel colour view)
    layer: str | None = None  # the CNN explorer's selected layer
    catalogue: list[ModelEntry] = field(default_factory=list)
    analysis: Analysis | None = None  # the latest, as analysis_ready announced it
    analysis_error: str | None = None
    # True while a pen stroke is in progress: images then arrive faster than they can
    # be analysed, and the analysis controller paces them (cnnviz.ui.controllers).
    drawing: bool = False
    # True while the training lab trains a network (cnnviz.ui.controllers.training).
    training: bool = False

    @property
    def image(self) -> np.ndarray | None:
        """The input image's pixels (None before the first)."""
        return None if self.input_image is None else self.input_image.pixels

    @property
    def image_source(self) -> str:
        return "" if self.input_image is None else self.input_image.source

    def publish_analysis(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.analysis_error = None
        self.analysis_ready.emit(analysis)

    def publish_analysis_failure(self, message: str) -> None:
        self.analysis_error = message
        self.analysis_failed.emit(message)

"""The inspectable-network interface: what every view, experiment and command needs to
know about a network, and nothing else.

    net.input_spec      # InputSpec(channels=1, height=28, width=28, high=1.0, ...)
    net.layer_infos     # [LayerInfo(name, kind, label, output_shape, parameters, ...), ...]
    net.trace(x)        # [("input", (C, H, W)), ("conv1", (C, H, W)), ..., ("dense2", (K,))]
    net.class_names     # ["0", ..., "9"], or whatever the network was made to tell apart
    net.card            # training facts (dataset, accuracy, ...); {} when there are none
    net.description     # what it is, in a sentence

cnnviz's own Network (cnnviz.core.networks.models) is the first implementation; networks read from
other formats fill the same interface. A picture becomes a network's input through
`fit_picture` (any size, grey or colour -> the network's channels, height and width).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from ..basics.formulas import fmt_shape

__all__ = ["DIGIT_INPUT", "OUTPUT_KINDS", "InputSpec", "InspectableNetwork", "default_class_names",
           "probabilities",
           "digit_mismatch", "fit_picture", "to_network_layout"]


@dataclass(frozen=True)
class InputSpec:
    """What a network takes: channels × height × width, and its value convention.

    A blank pixel is `low` and full ink (or full brightness) is `high` in what the network
    is fed (cnnviz's networks: 0..1; a Keras model with a Rescaling layer inside: 0..255).
    `mean` and `std`: a normalisation the caller must apply before feeding (x − mean) / std;
    cnnviz's own networks do theirs inside, so theirs are 0 and 1."""

    channels: int
    height: int
    width: int
    low: float = 0.0
    high: float = 1.0
    mean: float = 0.0
    std: float = 1.0

    def __post_init__(self) -> None:
        if not all(isinstance(v, int) and v > 0 for v in (self.channels, self.height, self.width)):
            raise ValueError(f"an input needs positive whole sizes, got "
                             f"{(self.channels, self.height, self.width)}")
        if not (np.isfinite([self.low, self.high, self.mean, self.std]).all() and self.std > 0
                and self.high != self.low):
            raise ValueError("an input's value range and normalisation must be finite, "
                             "with a positive std and high ≠ low")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W)."""
        return (self.channels, self.height, self.width)

    @property
    def size_text(self) -> str:
        """'28×28' (height × width), as the views title the network's input."""
        return f"{self.height}×{self.width}"

    @property
    def describe(self) -> str:
        """'1×28×28, values 0..1' in plain words."""
        values = f"values {self.low:g}..{self.high:g}"
        if (self.mean, self.std) != (0.0, 1.0):
            values += f", then (x − {self.mean:g}) / {self.std:g}"
        return f"{fmt_shape(self.shape)}, {values}"

    @property
    def is_digit_sized(self) -> bool:
        """Whether this is MNIST's input (one grey channel, 28×28): the steps tied to MNIST
        (digit framing, the unsure verdict, invariance on drawn digits) apply."""
        return self.shape == DIGIT_INPUT.shape


DIGIT_INPUT = InputSpec(1, 28, 28)  # MNIST and Fashion-MNIST, values 0..1


@runtime_checkable
class InspectableNetwork(Protocol):
    """What the views, experiments, command line and training lab may rely on."""

    input_spec: InputSpec
    layer_infos: list  # [cnnviz.core.networks.models.LayerInfo], in order, without the input
    class_names: list[str]
    card: dict
    ends_in_softmax: bool  # the last traced layer holds probabilities, not logits
    description: str  # what the network is, in a sentence ("" when nothing says)

    def trace(self, image) -> list[tuple[str, np.ndarray]]:
        """[("input", (C, H, W)), (layer name, its output without the batch axis), ...]."""
        ...

    def predict_proba(self, images) -> np.ndarray:
        """(B, C, H, W) inputs (or (B, H, W) for one channel) -> (B, classes)."""
        ...


OUTPUT_KINDS = ("logits", "probabilities", "log-probabilities")


def probabilities(outputs, kind: str = "logits"):
    """A network's (..., classes) outputs -> probabilities, as numpy or as torch (what it
    was given): the one place outputs become probabilities, so softmax is never applied
    twice. kind: what the outputs are ("logits": softmax; "probabilities": as they are;
    "log-probabilities": exp)."""
    if kind not in OUTPUT_KINDS:
        raise ValueError(f"outputs are one of {', '.join(OUTPUT_KINDS)}, not {kind!r}")
    if type(outputs).__module__.split(".")[0] == "torch":
        import torch

        x = outputs.float()
        return x if kind == "probabilities" else x.exp() if kind != "logits" else torch.softmax(x, -1)
    from ..convolution.ops import softmax

    a = np.asarray(outputs, dtype=np.float64)
    return a if kind == "probabilities" else np.exp(a) if kind != "logits" else softmax(a, axis=-1)


def default_class_names(count: int) -> list[str]:
    """'0', '1', ... : the names of a network's outputs when nothing names them."""
    return [str(i) for i in range(count)]


def digit_mismatch(spec: InputSpec, classes: int | None = None, what: str = "This") -> str | None:
    """Why a step tied to MNIST digits cannot run on this network, in one line; None when
    it can (a 1×28×28 input, and 10 outputs when `classes` is given)."""
    if not spec.is_digit_sized:
        return (f"{what} works on MNIST-sized digits (1×28×28); this network takes "
                f"{fmt_shape(spec.shape)}.")
    if classes is not None and classes != 10:
        return f"{what} works on networks that tell the ten digits apart; this one has {classes} classes."
    return None


def to_network_layout(picture01: np.ndarray, spec: InputSpec) -> np.ndarray:
    """A (H, W) or (H, W, C) picture in 0..1 at the network's size -> (C, H, W) in the
    network's value range (low..high, then normalised by mean and std)."""
    a = np.asarray(picture01, dtype=np.float32)
    if a.ndim == 2:
        a = a[None]
    elif a.ndim == 3:
        a = np.moveaxis(a, -1, 0)
    else:
        raise ValueError(f"a picture is (H, W) or (H, W, C), not {a.shape}")
    if a.shape[1:] != (spec.height, spec.width):
        raise ValueError(f"the picture is {a.shape[1]}×{a.shape[2]}; the network takes "
                         f"{spec.size_text}")
    if a.shape[0] != spec.channels:
        a = _match_channels(a, spec.channels)
    a = spec.low + a * (spec.high - spec.low)
    return ((a - spec.mean) / spec.std).astype(np.float32)


def _match_channels(chw: np.ndarray, channels: int) -> np.ndarray:
    """Grey -> repeated into every channel; colour -> grey (the mean) for a grey network,
    else the first `channels` (an alpha channel dropped)."""
    if chw.shape[0] == 1:
        return np.repeat(chw, channels, axis=0)
    if channels == 1:
        return chw[:3].mean(axis=0, keepdims=True)
    if chw.shape[0] > channels:
        return chw[:channels]
    return np.concatenate([chw, np.repeat(chw[-1:], channels - chw.shape[0], axis=0)])


def fit_picture(image: np.ndarray, spec: InputSpec):
    """Any picture (H, W) or (H, W, 3|4), 0..255, any size -> a DigitInput-shaped result
    whose image is the network's input in display form ((h, w) grey or (h, w, c) colour,
    0..1) with its steps: the picture as seen, then resized to the network's size.

    For networks that are not MNIST-sized, where cnnviz cannot know how the training
    pictures were framed: the whole picture, stretched to height × width (as Keras's
    image_dataset_from_directory and torchvision's Resize do), nothing inverted."""
    from PIL import Image

    from ..pictures.preprocess import DigitInput, PreprocessStep

    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)) or 0 in a.shape[:2]:
        raise ValueError(f"a picture must be (H, W) or (H, W, 3), not {a.shape}")
    a = np.clip(np.nan_to_num(a.astype(np.float32), nan=0.0), 0.0, 255.0) / 255.0
    if a.ndim == 3:
        a = a[..., :3]
    colour = a.ndim == 3 and spec.channels > 1
    if a.ndim == 3 and not colour:
        a = a.mean(axis=2)
    seen = a.copy()
    planes = [a[..., i] for i in range(3)] if colour else [a]
    resized = [np.asarray(Image.fromarray(np.ascontiguousarray(p), "F").resize(
        (spec.width, spec.height), Image.Resampling.BOX if p.shape[0] > spec.height
        else Image.Resampling.BILINEAR), dtype=np.float32) for p in planes]
    out = np.clip(np.stack(resized, axis=-1) if colour else resized[0], 0.0, 1.0)
    h, w = a.shape[:2]
    steps = [PreprocessStep("colour" if colour else "grey", "Colour" if colour else "Grey",
                  "The picture as loaded" + ("." if colour else ", in grey (the network takes one "
                                             "channel)."), seen),
             PreprocessStep("scale", "Resize", f"Stretched from {w}×{h} to {spec.width}×{spec.height} "
                  "pixels (width × height), the size this network takes. Digit framing is "
                  "only for MNIST-sized networks.", out)]
    flat = float(out.max() - out.min()) <= 0.02  # one shade all over: nothing drawn or shown
    return DigitInput(image=out, steps=steps, inverted=False, empty=flat, bbox=(0, 0, h, w),
                      reason="blank" if flat else "")

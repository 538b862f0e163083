"""Layer specs with methods: each kind of layer knows, for a given input shape, its output
shape, its parameter count, the lecture's formulas with its own numbers, its label, its
torch module and a plain-words description (quoting the course's CNN lecture).

Shapes are (C, H, W) for feature maps and (N,) after Flatten. The arithmetic is
cnnviz.core.convolution.ops's (output_axis, pool_axis, conv_params, dense_params) and every formula
string is cnnviz.core.basics.formulas's: nothing here re-derives either.

    >>> Conv(32).output_shape((1, 28, 28))
    (32, 26, 26)
    >>> Pool().shape_formula((64, 11, 11))
    '(W − F + 2P) / S + 1 = (11 − 2 + 2×0) / 2 + 1 = 5.5 → ⌊5.5⌋ = 5, so 64×5×5'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..basics.formulas import (
    SIZE_RULE,
    TIMES,
    conv_params_formula,
    dense_params_formula,
    fmt_count,
    fmt_pair,
    fmt_shape,
    size_formula,
)
from ..basics.limits import (
    MAX_ARCH_CHANNELS,
    MAX_ARCH_KERNEL_SIDE,
    MAX_ARCH_PADDING,
    MAX_ARCH_STRIDE,
    MAX_ARCH_UNITS,
)
from ..convolution import ops

# What a layer's activation may be: ops's list without "none" (a layer that does nothing
# is no layer).
LAYER_ACTIVATIONS = tuple(kind for kind in ops.ACTIVATIONS if kind != "none")
POOL_KINDS = ops.POOL_KINDS
NO_PARAMETERS = "no trainable parameters"
ACTIVATION_NOTE = " “Activation function is used to introduce non-linearity in the system.”"


def optional(default):
    """A spec field written to files (Architecture.to_dict) only when it differs from its
    default, so the headers of networks that do not use it stay as they always were."""
    return field(default=default, metadata={"optional": True})


def spec_dict(spec) -> dict:
    """A spec as a weights header writes it: its fields, less optional ones at their default."""
    from dataclasses import asdict, fields

    out = asdict(spec)
    for f in fields(spec):
        if f.metadata.get("optional"):
            value = out[f.name]
            if (tuple(value) if isinstance(value, list) else value) == f.default:
                del out[f.name]
    return out


class LayerError(ValueError):
    """Numbers that do not fit this layer; the message says which, in plain words.
    (cnnviz.core.networks.models names the layer and raises ArchitectureError.)"""


def _same_shape(in_shape) -> str:
    return f"{fmt_shape(in_shape)} → {fmt_shape(in_shape)} (same shape)"


def _axes_formula(in_shape, out_shape, kernel, stride, padding) -> str:
    """The size rule for rows and columns (once when both are the same numbers)."""
    rows = size_formula(in_shape[1], kernel[0], stride[0], padding[0])
    if (in_shape[1], kernel[0], stride[0], padding[0]) == (in_shape[2], kernel[1], stride[1],
                                                             padding[1]):
        return f"{SIZE_RULE} = {rows}, so {fmt_shape(out_shape)}"
    cols = size_formula(in_shape[2], kernel[1], stride[1], padding[1])
    return f"rows {rows}; columns {cols}, so {fmt_shape(out_shape)}"


def floor_notes(in_shape, kernel, stride, padding) -> list[str]:
    """'height: (28 − 3 + 2×0) / 2 + 1 = 13.5 → ⌊13.5⌋ = 13: not a whole number, so, like
    PyTorch and Keras, the last row is left out' for each axis whose size is floored (one
    line for both when their numbers are the same)."""
    if len(in_shape) != 3:
        return []
    notes = []
    axes = [(name, unit, in_shape[1 + i], kernel[i], stride[i], padding[i])
            for i, (name, unit) in enumerate((("height", "row"), ("width", "column")))]
    if axes[0][2:] == axes[1][2:]:
        axes = [("height and width", "row and column", *axes[0][2:])]
    for name, unit, size, k, s, p in axes:
        span = size - k + 2 * p
        if span < 0 or s < 1 or span % s == 0:
            continue
        left = span % s
        what = f"the last {unit}" if left == 1 else f"the last {left} {unit}s"
        if "and" in unit and left > 1:
            what = f"the last {left} rows and columns"
        notes.append(f"{name}: {size_formula(size, k, s, p)}: not a whole number, so, like "
                     f"PyTorch and Keras, {what} of the {'padded ' if p else ''}input "
                     f"{'get' if 'and' in unit or left > 1 else 'gets'} no step of "
                     f"{'their' if 'and' in unit or left > 1 else 'its'} own (left out)")
    return notes


def _needs_maps(in_shape, what: str) -> None:
    if len(in_shape) != 3:
        raise LayerError(f"{what} needs a feature map, but the input here is flat")


class _NoParameters:
    """A layer with nothing to learn (its parameter count is 0, said in words)."""

    def parameters(self, in_shape) -> int:
        return 0

    def param_formula(self, in_shape) -> str:
        return NO_PARAMETERS


class _KeepsShape(_NoParameters):
    """A layer whose output has its input's shape and that learns nothing (activation, dropout)."""

    def shape_formula(self, in_shape) -> str:
        return _same_shape(in_shape)


class _KeepsShapeWithParameters:
    """A layer whose output has its input's shape (batch norm: it learns γ and β)."""

    def shape_formula(self, in_shape) -> str:
        return _same_shape(in_shape)


@dataclass(frozen=True)
class Conv:
    filters: int
    kernel: tuple[int, int] = (3, 3)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    bias: bool = True  # Keras's use_bias=False (before batch norm, which adds its own β)
    type: str = field(default="conv", init=False)
    # Grouped (depthwise when groups = input channels) and dilated convolutions, as Keras's
    # DepthwiseConv2D, SeparableConv2D and dilation_rate make them.
    groups: int = optional(1)
    dilation: tuple[int, int] = optional((1, 1))

    base_name = "conv"
    makes_maps = True  # a conv block starts here (cnnviz.core.networks.layer_cards.block_of)
    ends_network = False  # only softmax must be the last layer

    @property
    def label(self) -> str:
        return (f"Conv {self.filters} {self.kernel[0]}{TIMES}{self.kernel[1]}"
                f" s{fmt_pair(self.stride)} p{fmt_pair(self.padding)}"
                + ("" if self.bias else " no bias")
                + (f" groups {self.groups}" if self.groups != 1 else "")
                + (f" dilation {fmt_pair(self.dilation)}" if tuple(self.dilation) != (1, 1) else ""))

    @property
    def reach(self) -> tuple[int, int]:
        """The rows and columns one output looks at: the kernel, spread by the dilation."""
        (kh, kw), (dh, dw) = self.kernel, self.dilation
        return dh * (kh - 1) + 1, dw * (kw - 1) + 1

    @property
    def plain(self) -> bool:
        """An ordinary convolution: every filter sees every input map, with no gaps (the
        views that draw one filter's weights over the input need this)."""
        return self.groups == 1 and tuple(self.dilation) == (1, 1)

    def _check(self, in_shape) -> None:
        _needs_maps(in_shape, "a convolution")
        if not 0 < self.filters <= MAX_ARCH_CHANNELS:
            raise LayerError(f"filters must be 1 to {MAX_ARCH_CHANNELS}, got {self.filters}")
        if not all(0 < k <= MAX_ARCH_KERNEL_SIDE for k in self.kernel):
            raise LayerError(f"kernel must be 1 to {MAX_ARCH_KERNEL_SIDE}, got {self.kernel}")
        if not all(0 < s <= MAX_ARCH_STRIDE for s in self.stride) \
                or not all(0 <= p <= MAX_ARCH_PADDING for p in self.padding):
            raise LayerError(f"stride must be 1 to {MAX_ARCH_STRIDE} and padding 0 to "
                             f"{MAX_ARCH_PADDING}, got stride {self.stride}, padding "
                             f"{self.padding}")
        if not (isinstance(self.groups, int) and self.groups > 0
                and in_shape[0] % self.groups == 0 and self.filters % self.groups == 0):
            raise LayerError(f"groups must divide both the {in_shape[0]} input maps and the "
                             f"{self.filters} filters, got {self.groups}")
        if not all(isinstance(d, int) and 0 < d <= MAX_ARCH_STRIDE for d in self.dilation):
            raise LayerError(f"dilation must be 1 to {MAX_ARCH_STRIDE}, got {self.dilation}")

    def output_shape(self, in_shape) -> tuple[int, ...]:
        self._check(in_shape)
        out = []
        for i, axis_name in ((0, "height"), (1, "width")):
            size, k, p = in_shape[1 + i], self.reach[i], self.padding[i]
            if k > size + 2 * p:
                raise LayerError(f"{axis_name}: kernel {k} is larger than the padded input "
                                 f"{size + 2 * p}")
            # Like PyTorch and Keras: a size that is not whole is floored (floor_notes says so).
            out.append(ops.output_size(size, k, self.stride[i], p, exact=False))
        return (self.filters, out[0], out[1])

    def floor_notes(self, in_shape) -> list[str]:
        """Why an output size was floored, per axis (none when both divide evenly)."""
        return floor_notes(in_shape, self.reach, self.stride, self.padding)

    def parameters(self, in_shape) -> int:
        return ops.conv_params(self.kernel[0], self.kernel[1], in_shape[0] // self.groups,
                               self.filters, self.bias)

    def shape_formula(self, in_shape) -> str:
        text = _axes_formula(in_shape, self.output_shape(in_shape), self.reach, self.stride,
                             self.padding)
        if tuple(self.dilation) != (1, 1):
            text += (f" (the {fmt_pair(self.kernel)} kernel, dilated by "
                     f"{fmt_pair(self.dilation)}, spans F = {fmt_pair(self.reach)})")
        return text

    def param_formula(self, in_shape) -> str:
        depth = in_shape[0] // self.groups
        formula = conv_params_formula(self.kernel[0], self.kernel[1], depth, self.filters,
                                      self.bias)
        seen = "" if self.groups == 1 else f" (each filter sees {depth} of the {in_shape[0]} maps)"
        if not self.bias:
            return f"(height × width × depth) × filters (no bias) = {formula}{seen}"
        return f"((height × width × depth) + bias) × filters = {formula}{seen}"

    def describe(self, in_shape) -> str:
        (kh, kw), c_in = self.kernel, in_shape[0]
        bias = "one bias" if self.bias else "no bias"
        if self.groups == 1:
            sees = f"it looks at all {c_in} input map{'s' if c_in != 1 else ''} at once."
        elif self.groups == c_in:
            sees = (f"depthwise: each filter looks at one input map only "
                    f"({self.filters // c_in} filter{'s' if self.filters // c_in != 1 else ''} "
                    "per map), so the maps are not mixed here.")
        else:
            sees = (f"grouped: the {c_in} input maps are split into {self.groups} groups and "
                    f"each filter looks at the {c_in // self.groups} maps of its group.")
        text = (f"Convolution: “a weighted sum of the pixel values of the image as the window "
                f"slides across the whole image”. Each of the {self.filters} filters holds "
                f"{kh}×{kw}×{c_in // self.groups} learned weights and {bias} and makes one "
                f"feature map; {sees}")
        if tuple(self.dilation) != (1, 1):
            text += (f" Dilated by {fmt_pair(self.dilation)}: the weights are spread out with "
                     f"gaps, so each output sees a {fmt_pair(self.reach)} patch.")
        return text

    step = ""  # (what it does to one channel of a block: the conv makes the channel)

    def build(self, in_shape) -> nn.Module:
        return nn.Conv2d(in_shape[0], self.filters, self.kernel, self.stride, self.padding,
                         dilation=(self.dilation[0], self.dilation[1]), groups=self.groups, bias=self.bias)


_ACTIVATION_LABELS = {"relu": "ReLU", "leaky_relu": "Leaky ReLU", "elu": "ELU", "gelu": "GELU",
                      "swish": "Swish", "tanh": "Tanh", "sigmoid": "Sigmoid",
                      "softmax": "Softmax"}
_ACTIVATION_RULES = {"relu": "max(0, x)", "leaky_relu": "x if x > 0 else 0.01·x",
                     "elu": "x if x > 0 else e^x − 1", "gelu": "x·Φ(x)", "swish": "x·sigmoid(x)",
                     "tanh": "tanh(x)",
                     "sigmoid": "1/(1 + e^(−x))", "softmax": "e^(z_i) / Σ_j e^(z_j)"}
_ACTIVATION_WORDS = {
    "relu": "ReLU: “change all negative values to zero, leave all positive values alone”: "
            "f(x) = max(0, x).",
    "leaky_relu": "Leaky ReLU: like ReLU, but negative values are multiplied by a small slope "
                  "(0.01) instead of set to zero.",
    "elu": "ELU (exponential linear unit): x for x > 0, e^x − 1 below zero.",
    "gelu": "GELU: x·Φ(x), Φ the chance that a standard normal number is below x: close to "
            "ReLU, but smooth, and slightly negative just below zero.",
    "swish": "Swish (SiLU): x·sigmoid(x): close to ReLU for large |x|, smooth near zero.",
    "tanh": "Tanh: “its output always lies between −1 and 1 no matter what inputs are”.",
    "sigmoid": "Sigmoid: “its output always lies between 0 and 1 no matter what inputs are”.",
}
_ACTIVATION_MODULES: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU, "swish": nn.SiLU,
                       "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
                       "softmax": lambda: nn.Softmax(dim=1)}
LEAKY_SLOPE = 0.01  # torch's default negative slope (Keras's LeakyReLU layer: 0.3)


@dataclass(frozen=True)
class Activation(_KeepsShape):
    kind: str = "relu"
    type: str = field(default="activation", init=False)
    slope: float = optional(LEAKY_SLOPE)  # leaky ReLU's slope below zero

    makes_maps = False

    @property
    def base_name(self) -> str:
        return self.kind

    @property
    def ends_network(self) -> bool:
        """Softmax turns the class scores into probabilities: only as the last layer."""
        return self.kind == "softmax"

    @property
    def label(self) -> str:
        label = _ACTIVATION_LABELS.get(self.kind, self.kind)
        return f"{label} {self.slope:g}" if self.slope != LEAKY_SLOPE else label

    @property
    def rule(self) -> str:
        """What it computes, as a formula ('max(0, x)')."""
        if self.kind == "leaky_relu":
            return f"x if x > 0 else {self.slope:g}·x"
        return _ACTIVATION_RULES.get(self.kind, self.kind)

    def output_shape(self, in_shape) -> tuple[int, ...]:
        if self.kind not in LAYER_ACTIVATIONS:
            raise LayerError(f"activation must be one of {', '.join(LAYER_ACTIVATIONS)}, got "
                             f"{self.kind!r}")
        if not (isinstance(self.slope, (int, float)) and 0.0 <= self.slope < 1.0) \
                or (self.slope != LEAKY_SLOPE and self.kind != "leaky_relu"):
            raise LayerError(f"a slope (0 to below 1) belongs to leaky_relu only, got "
                             f"{self.slope!r} on {self.kind}")
        return tuple(in_shape)

    def describe(self, in_shape) -> str:
        if self.ends_network:  # the lecture's reason for activations is not what softmax is for
            return (f"Softmax: turns the {in_shape[0]} scores into probabilities that add up "
                    f"to 1: p_i = {self.rule}. The largest is the network's answer.")
        words = _ACTIVATION_WORDS.get(self.kind, f"Activation {self.kind}.")
        if self.kind == "leaky_relu":
            words = words.replace("(0.01)", f"({self.slope:g})")
        return words + ACTIVATION_NOTE

    def apply(self, values) -> np.ndarray:
        """The activation on numbers (numpy), as the layer computes it."""
        return ops.activate(values, self.kind, negative_slope=self.slope)

    @property
    def step(self) -> str:
        """What it does to one channel of a conv block."""
        return self.rule

    def build(self, in_shape) -> nn.Module:
        if self.kind == "leaky_relu":
            return nn.LeakyReLU(self.slope)
        return _ACTIVATION_MODULES[self.kind]()


class MinPool2d(nn.Module):
    def __init__(self, size: int, stride: int):
        super().__init__()
        self.size, self.stride = size, stride

    def forward(self, x):
        return -F.max_pool2d(-x, self.size, self.stride)


_POOL_KEEPS = {"max": "largest", "min": "smallest", "avg": "average"}


@dataclass(frozen=True)
class Pool(_NoParameters):
    kind: str = "max"
    size: int = 2
    stride: int = 2
    type: str = field(default="pool", init=False)

    base_name = "pool"
    makes_maps = False
    ends_network = False

    @property
    def label(self) -> str:
        return f"{self.kind.capitalize()}Pool {self.size}{TIMES}{self.size} s{self.stride}"

    @property
    def keeps(self) -> str:
        """What each window keeps: 'largest', 'smallest' or 'average'."""
        return _POOL_KEEPS.get(self.kind, self.kind)

    def output_shape(self, in_shape) -> tuple[int, ...]:
        _needs_maps(in_shape, "pooling")
        if self.kind not in POOL_KINDS:
            raise LayerError(f"pooling must be one of {', '.join(POOL_KINDS)}, got "
                             f"{self.kind!r}")
        if not (0 < self.size <= MAX_ARCH_KERNEL_SIDE and 0 < self.stride <= MAX_ARCH_STRIDE):
            raise LayerError(f"pool size must be 1 to {MAX_ARCH_KERNEL_SIDE} and stride 1 to "
                             f"{MAX_ARCH_STRIDE}, got size {self.size}, stride {self.stride}")
        c, h, w = in_shape
        if h < self.size or w < self.size:
            raise LayerError(f"pool size {self.size} is larger than the {h}x{w} input")
        # Like Keras and torch, pooling drops a ragged last row/column (11 -> 5).
        rows = ops.pool_axis(h, self.size, self.stride).value
        cols = ops.pool_axis(w, self.size, self.stride).value
        assert rows is not None and cols is not None  # the window fits, checked above
        return (c, rows, cols)

    def floor_notes(self, in_shape) -> list[str]:
        square = (self.size, self.size)
        return floor_notes(in_shape, square, (self.stride, self.stride), (0, 0))

    def shape_formula(self, in_shape) -> str:
        square = (self.size, self.size)
        return _axes_formula(in_shape, self.output_shape(in_shape), square,
                             (self.stride, self.stride), (0, 0))

    def describe(self, in_shape) -> str:
        return (f"{self.kind.capitalize()} pooling: “a process of subsample (shrink the image) "
                f"to reduce the computation”. Each {self.size}×{self.size} window (stride "
                f"{self.stride}) keeps its {self.keeps} value, separately in each of the "
                f"{in_shape[0]} maps.")

    @property
    def step(self) -> str:
        return f"{self.label}, each window keeps its {self.keeps} value"

    def build(self, in_shape) -> nn.Module:
        if self.kind == "max":
            return nn.MaxPool2d(self.size, self.stride)
        if self.kind == "avg":
            return nn.AvgPool2d(self.size, self.stride)
        return MinPool2d(self.size, self.stride)


@dataclass(frozen=True)
class BatchNorm(_KeepsShapeWithParameters):
    eps: float = 1e-5  # ε in √(σ² + ε): torch's default; Keras's is 1e-3
    type: str = field(default="batchnorm", init=False)

    base_name = "bn"
    label = "BatchNorm"
    makes_maps = False
    ends_network = False

    def output_shape(self, in_shape) -> tuple[int, ...]:
        if not (isinstance(self.eps, float) and 0.0 < self.eps < 1.0):
            raise LayerError(f"batch norm's ε must be a number above 0 and below 1, got {self.eps!r}")
        return tuple(in_shape)

    def parameters(self, in_shape) -> int:
        return 2 * in_shape[0]  # gamma and beta per channel (Keras adds 2 non-trainable)

    def param_formula(self, in_shape) -> str:
        c = in_shape[0]
        return (f"γ and β per channel: 2 × {c} = {fmt_count(self.parameters(in_shape))} (Keras "
                f"also lists μ and σ² as {fmt_count(2 * c)} non-trainable)")

    def describe(self, in_shape) -> str:
        return ("Batch normalisation: x̂ = (x − μ) / √(σ² + ε), then scaled by γ and shifted "
                "by β. While the app runs the model (testing), μ and σ² are the averages "
                "remembered from training.")

    step = "(x − μ)/√(σ² + ε) · γ + β"

    def build(self, in_shape) -> nn.Module:
        norm = nn.BatchNorm2d if len(in_shape) == 3 else nn.BatchNorm1d
        return norm(in_shape[0], eps=self.eps)


@dataclass(frozen=True)
class Dropout(_KeepsShape):
    p: float = 0.5
    type: str = field(default="dropout", init=False)

    base_name = "dropout"
    makes_maps = False
    ends_network = False

    @property
    def label(self) -> str:
        return f"Dropout {self.p:g}"

    def output_shape(self, in_shape) -> tuple[int, ...]:
        if not 0.0 <= self.p < 1.0:
            raise LayerError(f"dropout probability must be in [0, 1), got {self.p}")
        return tuple(in_shape)

    def describe(self, in_shape) -> str:
        return (f"Dropout (p = {self.p:g}): during training it switches off random units; “we "
                "randomly add dropout only during the training time, (testing time, we "
                "activate back all nodes)”. Here the model is being used, not trained, so "
                "this layer passes its input through unchanged.")

    step = "passes through unchanged (dropout acts only in training)"

    def build(self, in_shape) -> nn.Module:
        return nn.Dropout(self.p)


class _ChannelsLast(nn.Module):
    """Keras's layout for flat vectors: (B, C, H, W) read as (B, H, W, C) before
    flattening or reshaping (a network read from a Keras file flattens as Keras did)."""

    def __init__(self, shape: tuple[int, ...] | None):
        super().__init__()
        self.shape = shape  # the target in Keras's order, or None to flatten

    def forward(self, x):
        if x.ndim == 4:
            x = x.permute(0, 2, 3, 1)
        x = x.reshape(x.shape[0], -1) if self.shape is None else x.reshape(x.shape[0], *self.shape)
        return x.permute(0, 3, 1, 2) if x.ndim == 4 else x


_ORDERS = ("chw", "hwc")


@dataclass(frozen=True)
class Flatten(_NoParameters):
    type: str = field(default="flatten", init=False)
    # "chw": channel after channel (torch); "hwc": pixel after pixel, each pixel's channels
    # together (Keras's channels-last order)
    order: str = optional("chw")

    base_name = "flatten"
    label = "Flatten"
    makes_maps = False
    ends_network = False

    def output_shape(self, in_shape) -> tuple[int, ...]:
        if self.order not in _ORDERS:
            raise LayerError(f"flatten's order is chw or hwc, got {self.order!r:.20}")
        return (int(np.prod(in_shape)),)

    def shape_formula(self, in_shape) -> str:
        if len(in_shape) != 3:
            return _same_shape(in_shape)
        c, h, w = in_shape
        n = self.output_shape(in_shape)[0]
        return f"{h} {TIMES} {w} {TIMES} {c} = {fmt_count(n)} numbers in one row"

    def describe(self, in_shape) -> str:
        order = (" Pixel by pixel, each pixel's channels side by side, as Keras lays them "
                 "out." if self.order == "hwc" else "")
        return ("Flatten: lays the feature maps end to end as one long list of numbers for the "
                "fully connected layers (in the lecture's deep CNN: 12 × 12 × 64 = 9,216). "
                "Nothing is computed." + order)

    step = ""

    def build(self, in_shape) -> nn.Module:
        return _ChannelsLast(None) if self.order == "hwc" else nn.Flatten()


@dataclass(frozen=True)
class Reshape(_NoParameters):
    """Keras's Reshape: the same numbers in another shape, read and written in Keras's
    channels-last order. shape: the output in cnnviz's layout, (C, H, W) or (N,)."""

    shape: tuple[int, ...]
    type: str = field(default="reshape", init=False)

    base_name = "reshape"
    makes_maps = False
    ends_network = False

    @property
    def label(self) -> str:
        return f"Reshape {fmt_shape(self.shape)}"

    def output_shape(self, in_shape) -> tuple[int, ...]:
        shape = tuple(self.shape)
        if len(shape) not in (1, 3) or not all(isinstance(v, int) and v > 0 for v in shape):
            raise LayerError(f"a reshape gives (C, H, W) maps or N numbers, not {shape}")
        if int(np.prod(shape)) != int(np.prod(in_shape)):
            raise LayerError(f"{fmt_shape(in_shape)} has {int(np.prod(in_shape)):,} numbers; "
                             f"{fmt_shape(shape)} needs {int(np.prod(shape)):,}")
        return shape

    def shape_formula(self, in_shape) -> str:
        return f"{fmt_shape(in_shape)} → {fmt_shape(self.shape)} (the same {fmt_count(int(np.prod(in_shape)))} numbers)"

    def describe(self, in_shape) -> str:
        return (f"Reshape: the same {fmt_count(int(np.prod(in_shape)))} numbers laid out as "
                f"{fmt_shape(self.shape)}, in Keras's order. Nothing is computed.")

    step = ""

    def build(self, in_shape) -> nn.Module:
        c_last = (self.shape[1], self.shape[2], self.shape[0]) if len(self.shape) == 3 \
            else tuple(self.shape)
        return _ChannelsLast(c_last)


@dataclass(frozen=True)
class Pad(_NoParameters):
    """Zeros around the maps, as many as given on each side (Keras's ZeroPadding2D, and
    'same' padding where it pads one more at the bottom or right)."""

    top: int = 1
    bottom: int = 1
    left: int = 1
    right: int = 1
    type: str = field(default="pad", init=False)

    base_name = "pad"
    makes_maps = False
    ends_network = False

    @property
    def label(self) -> str:
        sides = (self.top, self.bottom, self.left, self.right)
        if len(set(sides)) == 1:
            return f"ZeroPad {self.top}"
        return f"ZeroPad t{self.top} b{self.bottom} l{self.left} r{self.right}"

    def output_shape(self, in_shape) -> tuple[int, ...]:
        _needs_maps(in_shape, "padding")
        sides = (self.top, self.bottom, self.left, self.right)
        if not all(isinstance(v, int) and 0 <= v <= MAX_ARCH_PADDING for v in sides):
            raise LayerError(f"padding must be 0 to {MAX_ARCH_PADDING} on each side, got {sides}")
        c, h, w = in_shape
        return (c, h + self.top + self.bottom, w + self.left + self.right)

    def shape_formula(self, in_shape) -> str:
        c, h, w = in_shape
        _, oh, ow = self.output_shape(in_shape)
        return (f"{h} + {self.top} + {self.bottom} = {oh} rows, {w} + {self.left} + "
                f"{self.right} = {ow} columns, so {fmt_shape((c, oh, ow))}")

    def describe(self, in_shape) -> str:
        return (f"Zero padding: adds rows and columns of zeros around each map ({self.top} "
                f"above, {self.bottom} below, {self.left} left, {self.right} right), so the next "
                "convolution can reach the edges. Nothing is learned.")

    step = "zeros added around the map"

    def build(self, in_shape) -> nn.Module:
        return nn.ZeroPad2d((self.left, self.right, self.top, self.bottom))


class _GlobalPool(nn.Module):
    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def forward(self, x):
        return x.amax(dim=(2, 3)) if self.kind == "max" else x.mean(dim=(2, 3))


@dataclass(frozen=True)
class GlobalPool(_NoParameters):
    """One number per map: its largest value or its average (Keras's GlobalMaxPooling2D
    and GlobalAveragePooling2D), instead of Flatten."""

    kind: str = "avg"
    type: str = field(default="globalpool", init=False)

    base_name = "gpool"
    makes_maps = False
    ends_network = False

    @property
    def label(self) -> str:
        return f"Global{self.kind.capitalize()}Pool"

    def output_shape(self, in_shape) -> tuple[int, ...]:
        _needs_maps(in_shape, "global pooling")
        if self.kind not in ("max", "avg"):
            raise LayerError(f"global pooling is max or avg, got {self.kind!r:.20}")
        return (in_shape[0],)

    def shape_formula(self, in_shape) -> str:
        c, h, w = in_shape
        return f"each {h}{TIMES}{w} map → 1 number, so {c}"

    def describe(self, in_shape) -> str:
        keeps = "largest" if self.kind == "max" else "average"
        return (f"Global {self.kind} pooling: each of the {in_shape[0]} maps becomes one number, "
                f"its {keeps} value, wherever in the map it is; it replaces Flatten, so the "
                "dense layer after it sees one number per feature.")

    @property
    def step(self) -> str:
        return f"the map's {'largest' if self.kind == 'max' else 'average'} value"

    def build(self, in_shape) -> nn.Module:
        return _GlobalPool(self.kind)


class _SlopedReLU(nn.Module):
    """PReLU with its slopes shaped as given ((C, 1, 1): one per channel; (C, H, W): one per
    value; (1,): one for all), as Keras's PReLU shares them."""

    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.weight = nn.Parameter(torch.full(shape, 0.25))

    def forward(self, x):
        return torch.where(x >= 0, x, self.weight * x)


_PRELU_SHARING = ("one", "channel", "each")


@dataclass(frozen=True)
class PReLU(_KeepsShapeWithParameters):
    """ReLU with a learned slope below zero: one for the layer, one per channel, or one
    per value (Keras's PReLU with shared_axes [1, 2, 3], [1, 2], or none)."""

    slopes: str = "channel"
    type: str = field(default="prelu", init=False)

    base_name = "prelu"
    makes_maps = False
    ends_network = False

    @property
    def label(self) -> str:
        return "PReLU" if self.slopes == "channel" else f"PReLU ({self.slopes} slope"  \
            + ("s)" if self.slopes == "each" else ")")

    def slope_shape(self, in_shape) -> tuple[int, ...]:
        if self.slopes == "one":
            return (1,)
        if self.slopes == "each":
            return tuple(in_shape)
        return (in_shape[0],) + (1,) * (len(in_shape) - 1)

    def output_shape(self, in_shape) -> tuple[int, ...]:
        if self.slopes not in _PRELU_SHARING:
            raise LayerError(f"PReLU's slopes are one of {', '.join(_PRELU_SHARING)}, got "
                             f"{self.slopes!r:.20}")
        return tuple(in_shape)

    def parameters(self, in_shape) -> int:
        return int(np.prod(self.slope_shape(in_shape)))

    def param_formula(self, in_shape) -> str:
        n = self.parameters(in_shape)
        return {"one": "one slope for the whole layer = 1",
                "channel": f"one slope per channel = {fmt_count(n)}",
                "each": f"one slope per value, {fmt_shape(in_shape)} = {fmt_count(n)}"}[self.slopes]

    def describe(self, in_shape) -> str:
        return ("PReLU (parametric ReLU): x above zero, a·x below, where the slope a is learned "
                "in training instead of fixed at 0 (ReLU) or 0.01 (leaky ReLU)." + ACTIVATION_NOTE)

    step = "x if x > 0 else a·x (a learned)"

    def build(self, in_shape) -> nn.Module:
        return _SlopedReLU(self.slope_shape(in_shape))


NORMALIZE_EPS = 1e-7  # Keras's backend epsilon: the smallest √variance it divides by


class _Normalize(nn.Module):
    mean: torch.Tensor  # buffers (register_buffer in __init__)
    variance: torch.Tensor

    def __init__(self, channels: int, dims: int):
        super().__init__()
        shape = (channels,) + (1,) * (dims - 1)
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("variance", torch.ones(shape))

    def forward(self, x):
        return (x - self.mean) / self.variance.sqrt().clamp_min(NORMALIZE_EPS)


@dataclass(frozen=True)
class Normalize(_KeepsShape):
    """(x − mean) / √variance per channel, with a mean and variance measured on the
    training data before training (Keras's Normalization layer, after adapt())."""

    type: str = field(default="normalize", init=False)

    base_name = "norm"
    label = "Normalize"
    makes_maps = False
    ends_network = False

    def output_shape(self, in_shape) -> tuple[int, ...]:
        return tuple(in_shape)

    def describe(self, in_shape) -> str:
        return ("Normalization: subtracts the mean and divides by the standard deviation "
                "measured on the training pictures, per channel, so the numbers the first "
                "layer sees are centred on 0. Nothing is learned in training.")

    step = "(x − mean) / √variance"

    def build(self, in_shape) -> nn.Module:
        return _Normalize(in_shape[0], len(in_shape))


@dataclass(frozen=True)
class Dense:
    units: int
    type: str = field(default="dense", init=False)

    base_name = "dense"
    makes_maps = False
    ends_network = False

    @property
    def label(self) -> str:
        return f"Dense {self.units}"

    def output_shape(self, in_shape) -> tuple[int, ...]:
        if len(in_shape) != 1:
            raise LayerError(f"a dense layer needs a flat input; add Flatten before it "
                             f"(the input here is {'x'.join(map(str, in_shape))})")
        if not 0 < self.units <= MAX_ARCH_UNITS:
            raise LayerError(f"units must be 1 to {MAX_ARCH_UNITS}, got {self.units}")
        return (self.units,)

    def parameters(self, in_shape) -> int:
        return ops.dense_params(in_shape[0], self.units)

    def shape_formula(self, in_shape) -> str:
        return f"{fmt_count(in_shape[0])} inputs → {fmt_count(self.units)} units"

    def param_formula(self, in_shape) -> str:
        return ("(input nodes + bias) × output nodes = "
                + dense_params_formula(in_shape[0], self.units))

    def describe(self, in_shape) -> str:
        return (f"Fully connected (dense): every unit is a weighted sum of all "
                f"{fmt_count(in_shape[0])} inputs plus a bias. Fully connected layers “learn "
                "global patterns whereas convolution layers learn local pattern”.")

    step = ""

    def build(self, in_shape) -> nn.Module:
        return nn.Linear(in_shape[0], self.units)


class _Sum(nn.Module):
    def forward(self, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class _Join(nn.Module):
    def forward(self, *xs):
        return torch.cat(xs, dim=1)


def _shapes_text(in_shapes) -> str:
    return " and ".join(fmt_shape(s) for s in in_shapes)


@dataclass(frozen=True)
class Add(_NoParameters):
    """Adds the outputs of two or more layers of the same shape, value by value (Keras's
    Add: the shortcut of a residual block). Its input is a tuple of shapes."""

    type: str = field(default="add", init=False)

    base_name = "add"
    label = "Add"
    makes_maps = False
    ends_network = False
    joins = True  # takes several layers' outputs

    def output_shape(self, in_shapes) -> tuple[int, ...]:
        shapes = [tuple(s) for s in in_shapes]
        if len(shapes) < 2 or len(set(shapes)) != 1:
            raise LayerError(f"add needs two or more inputs of one shape, got {_shapes_text(shapes)}")
        return shapes[0]

    def shape_formula(self, in_shapes) -> str:
        return f"{_shapes_text(in_shapes)} → {fmt_shape(self.output_shape(in_shapes))} (value by value)"

    def describe(self, in_shapes) -> str:
        return (f"Add: the {len(in_shapes)} inputs added value by value. In a residual block "
                "one input is the block's own input (the shortcut), so the layers between "
                "only learn what to change.")

    step = "inputs added value by value"

    def build(self, in_shapes) -> nn.Module:
        return _Sum()


@dataclass(frozen=True)
class Concat(_NoParameters):
    """Stacks the outputs of two or more layers along the channels (maps of one size), or
    end to end (flat vectors): Keras's Concatenate on its last axis."""

    type: str = field(default="concat", init=False)

    base_name = "concat"
    label = "Concatenate"
    makes_maps = False
    ends_network = False
    joins = True

    def output_shape(self, in_shapes) -> tuple[int, ...]:
        shapes = [tuple(s) for s in in_shapes]
        if len(shapes) < 2 or len({s[1:] for s in shapes}) != 1:
            raise LayerError(f"concatenate needs two or more inputs that differ only in "
                             f"channels, got {_shapes_text(shapes)}")
        return (sum(s[0] for s in shapes),) + shapes[0][1:]

    def shape_formula(self, in_shapes) -> str:
        return f"{_shapes_text(in_shapes)} → {fmt_shape(self.output_shape(in_shapes))}"

    def describe(self, in_shapes) -> str:
        return (f"Concatenate: the {len(in_shapes)} inputs side by side, their channels "
                "(or numbers) one after the other. Nothing is computed.")

    step = "inputs stacked"

    def build(self, in_shapes) -> nn.Module:
        return _Join()


LayerSpec = (Conv | Activation | Pool | BatchNorm | Dropout | Flatten | Dense | Pad | GlobalPool
             | PReLU | Normalize | Reshape | Add | Concat)
SPEC_TYPES = {"conv": Conv, "activation": Activation, "pool": Pool, "batchnorm": BatchNorm,
              "dropout": Dropout, "flatten": Flatten, "dense": Dense, "pad": Pad,
              "globalpool": GlobalPool, "prelu": PReLU, "normalize": Normalize,
              "reshape": Reshape, "add": Add, "concat": Concat}

__all__ = ["floor_notes", "LAYER_ACTIVATIONS", "POOL_KINDS", "SPEC_TYPES", "Activation", "Add",
           "BatchNorm", "Concat", "Conv", "Dense", "Dropout", "Flatten", "GlobalPool",
           "LayerError", "LayerSpec", "MinPool2d", "Normalize", "Pad", "PReLU", "Pool", "Reshape",
           "optional", "spec_dict"]

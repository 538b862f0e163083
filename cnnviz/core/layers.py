"""Layer specs with methods: each kind of layer knows, for a given input shape, its output
shape, its parameter count, the lecture's formulas with its own numbers, its label, its
torch module and a plain-words description (quoting the course's CNN lecture).

Shapes are (C, H, W) for feature maps and (N,) after Flatten. The arithmetic is
cnnviz.core.ops's (output_axis, pool_axis, conv_params, dense_params) and every formula
string is cnnviz.core.formulas's: nothing here re-derives either.

    >>> Conv(32).output_shape((1, 28, 28))
    (32, 26, 26)
    >>> Pool().shape_formula((64, 11, 11))
    '(W − F + 2P) / S + 1 = (11 − 2 + 2×0) / 2 + 1 = 5.5 → ⌊5.5⌋ = 5, so 64×5×5'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch.nn.functional as F
from torch import nn

from . import ops
from .formulas import (
    SIZE_RULE,
    TIMES,
    conv_params_formula,
    dense_params_formula,
    fmt_count,
    fmt_pair,
    fmt_shape,
    size_formula,
)
from .limits import (
    MAX_ARCH_CHANNELS,
    MAX_ARCH_KERNEL_SIDE,
    MAX_ARCH_PADDING,
    MAX_ARCH_STRIDE,
    MAX_ARCH_UNITS,
)

# What a layer's activation may be: ops's list without "none" (a layer that does nothing
# is no layer).
LAYER_ACTIVATIONS = tuple(kind for kind in ops.ACTIVATIONS if kind != "none")
POOL_KINDS = ops.POOL_KINDS
NO_PARAMETERS = "no trainable parameters"
ACTIVATION_NOTE = " “Activation function is used to introduce non-linearity in the system.”"


class LayerError(ValueError):
    """Numbers that do not fit this layer; the message says which, in plain words.
    (cnnviz.core.models names the layer and raises ArchitectureError.)"""


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

    base_name = "conv"
    makes_maps = True  # a conv block starts here (cnnviz.core.layer_cards.block_of)
    ends_network = False  # only softmax must be the last layer

    @property
    def label(self) -> str:
        return (f"Conv {self.filters} {self.kernel[0]}{TIMES}{self.kernel[1]}"
                f" s{fmt_pair(self.stride)} p{fmt_pair(self.padding)}"
                + ("" if self.bias else " no bias"))

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

    def output_shape(self, in_shape) -> tuple[int, ...]:
        self._check(in_shape)
        out = []
        for i, axis_name in ((0, "height"), (1, "width")):
            size, k, p = in_shape[1 + i], self.kernel[i], self.padding[i]
            if k > size + 2 * p:
                raise LayerError(f"{axis_name}: kernel {k} is larger than the padded input "
                                 f"{size + 2 * p}")
            # Like PyTorch and Keras: a size that is not whole is floored (floor_notes says so).
            out.append(ops.output_size(size, k, self.stride[i], p, exact=False))
        return (self.filters, out[0], out[1])

    def floor_notes(self, in_shape) -> list[str]:
        """Why an output size was floored, per axis (none when both divide evenly)."""
        return floor_notes(in_shape, self.kernel, self.stride, self.padding)

    def parameters(self, in_shape) -> int:
        return ops.conv_params(self.kernel[0], self.kernel[1], in_shape[0], self.filters,
                               self.bias)

    def shape_formula(self, in_shape) -> str:
        return _axes_formula(in_shape, self.output_shape(in_shape), self.kernel, self.stride,
                             self.padding)

    def param_formula(self, in_shape) -> str:
        formula = conv_params_formula(self.kernel[0], self.kernel[1], in_shape[0], self.filters,
                                      self.bias)
        if not self.bias:
            return f"(height × width × depth) × filters (no bias) = {formula}"
        return f"((height × width × depth) + bias) × filters = {formula}"

    def describe(self, in_shape) -> str:
        (kh, kw), c_in = self.kernel, in_shape[0]
        return (f"Convolution: “a weighted sum of the pixel values of the image as the window "
                f"slides across the whole image”. Each of the {self.filters} filters holds "
                f"{kh}×{kw}×{c_in} learned weights and one bias and makes one feature map; it "
                f"looks at all {c_in} input map{'s' if c_in != 1 else ''} at once.")

    step = ""  # (what it does to one channel of a block: the conv makes the channel)

    def build(self, in_shape) -> nn.Module:
        return nn.Conv2d(in_shape[0], self.filters, self.kernel, self.stride, self.padding,
                         bias=self.bias)


_ACTIVATION_LABELS = {"relu": "ReLU", "leaky_relu": "Leaky ReLU", "elu": "ELU", "tanh": "Tanh",
                      "sigmoid": "Sigmoid", "softmax": "Softmax"}
_ACTIVATION_RULES = {"relu": "max(0, x)", "leaky_relu": "x if x > 0 else 0.01·x",
                     "elu": "x if x > 0 else e^x − 1", "tanh": "tanh(x)",
                     "sigmoid": "1/(1 + e^(−x))", "softmax": "e^(z_i) / Σ_j e^(z_j)"}
_ACTIVATION_WORDS = {
    "relu": "ReLU: “change all negative values to zero, leave all positive values alone”: "
            "f(x) = max(0, x).",
    "leaky_relu": "Leaky ReLU: like ReLU, but negative values are multiplied by a small slope "
                  "(0.01) instead of set to zero.",
    "elu": "ELU (exponential linear unit): x for x > 0, e^x − 1 below zero.",
    "tanh": "Tanh: “its output always lies between −1 and 1 no matter what inputs are”.",
    "sigmoid": "Sigmoid: “its output always lies between 0 and 1 no matter what inputs are”.",
}
_ACTIVATION_MODULES = {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU,
                       "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
                       "softmax": lambda: nn.Softmax(dim=1)}


@dataclass(frozen=True)
class Activation(_KeepsShape):
    kind: str = "relu"
    type: str = field(default="activation", init=False)

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
        return _ACTIVATION_LABELS.get(self.kind, self.kind)

    @property
    def rule(self) -> str:
        """What it computes, as a formula ('max(0, x)')."""
        return _ACTIVATION_RULES.get(self.kind, self.kind)

    def output_shape(self, in_shape) -> tuple[int, ...]:
        if self.kind not in LAYER_ACTIVATIONS:
            raise LayerError(f"activation must be one of {', '.join(LAYER_ACTIVATIONS)}, got "
                             f"{self.kind!r}")
        return tuple(in_shape)

    def describe(self, in_shape) -> str:
        if self.ends_network:  # the lecture's reason for activations is not what softmax is for
            return (f"Softmax: turns the {in_shape[0]} scores into probabilities that add up "
                    f"to 1: p_i = {self.rule}. The largest is the network's answer.")
        return _ACTIVATION_WORDS.get(self.kind, f"Activation {self.kind}.") + ACTIVATION_NOTE

    @property
    def step(self) -> str:
        """What it does to one channel of a conv block."""
        return self.rule

    def build(self, in_shape) -> nn.Module:
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


@dataclass(frozen=True)
class Flatten(_NoParameters):
    type: str = field(default="flatten", init=False)

    base_name = "flatten"
    label = "Flatten"
    makes_maps = False
    ends_network = False

    def output_shape(self, in_shape) -> tuple[int, ...]:
        return (int(np.prod(in_shape)),)

    def shape_formula(self, in_shape) -> str:
        if len(in_shape) != 3:
            return _same_shape(in_shape)
        c, h, w = in_shape
        n = self.output_shape(in_shape)[0]
        return f"{h} {TIMES} {w} {TIMES} {c} = {fmt_count(n)} numbers in one row"

    def describe(self, in_shape) -> str:
        return ("Flatten: lays the feature maps end to end as one long list of numbers for the "
                "fully connected layers (in the lecture's deep CNN: 12 × 12 × 64 = 9,216). "
                "Nothing is computed.")

    step = ""

    def build(self, in_shape) -> nn.Module:
        return nn.Flatten()


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


LayerSpec = Conv | Activation | Pool | BatchNorm | Dropout | Flatten | Dense
SPEC_TYPES = {"conv": Conv, "activation": Activation, "pool": Pool, "batchnorm": BatchNorm,
              "dropout": Dropout, "flatten": Flatten, "dense": Dense}

__all__ = ["floor_notes", "LAYER_ACTIVATIONS", "POOL_KINDS", "SPEC_TYPES", "Activation", "BatchNorm",
           "Conv", "Dense", "Dropout", "Flatten", "LayerError", "LayerSpec", "MinPool2d", "Pool"]

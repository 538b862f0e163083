"""A convolution, its activation and a pooling, one window position at a time.

The lecture's "What is the Output?" slides work a convolution out by hand: the kernel sits
on the top-left window, the nine products are written out and summed, the sum fills the
first output pixel, the window moves on by the stride, row by row. A StepPlan holds every
position of that walk (and then the activation and the pooling windows) so a view can play
it forwards and backwards:

    plan = step_plan(image, kernel, stride=(1, 1), padding=(0, 0), activation="relu",
                     pool_kind="max", pool_size=2, pool_stride=2)
    step = plan.step(4)          # the 5th window of the convolution
    step.products, step.total    # its products and their sum
    plan.conv_filled(4)          # the output with positions 0..4 filled, NaN elsewhere
    products_text(step)          # '(1×0) + (0×1) + … = 2'

Qt-free; the whole output is computed at once with cnnviz.core.convolution.ops, the steps only say in
which order it is filled and what each pixel is made of.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..basics.formulas import MINUS, TIMES, fmt_number
from . import ops

__all__ = ["MAX_STEP_POSITIONS", "PHASES", "ConvStep", "StepPlan", "products_text", "region_for",
           "step_plan"]

PHASES = ("conv", "activation", "pool")
# A photo region is walked at most this many output positions a side (64×64 = 4,096 steps);
# the rest of a big picture is computed at once, never stepped.
MAX_STEP_POSITIONS = 64


@dataclass(frozen=True, eq=False)
class ConvStep:
    """One moment of the walk."""

    phase: str  # "conv", "activation" or "pool"
    index: int  # the position within its phase (0 for the activation)
    row: int  # the output pixel being filled (conv: of the feature map; pool: of the pooled map)
    col: int
    top: int  # the window's top-left in the stage's input (conv: the unpadded input, may be
    left: int  # negative inside the padding; pool: the activated map)
    height: int  # the window's size
    width: int
    window: np.ndarray  # the values under the window (zeros in the padding)
    products: np.ndarray | None  # conv: window × kernel; None otherwise
    total: float  # the output pixel's value (conv: the sum plus the bias; pool: the kept value)
    winner: tuple[int, int] | None = None  # max/min pool: where in the window the kept value is


@dataclass(frozen=True, eq=False)
class StepPlan:
    image: np.ndarray  # (H, W) float64, the convolution's input
    kernel: np.ndarray  # (kh, kw)
    stride: tuple[int, int]
    padding: tuple[int, int]
    bias: float
    activation: str  # ops.ACTIVATIONS ("none" for none)
    pool_kind: str  # "none", "max", "min", "avg"
    pool_size: int
    pool_stride: int
    conv_out: np.ndarray  # (Ho, Wo), all of it
    activated: np.ndarray  # (Ho, Wo)
    pooled: np.ndarray | None  # (Hp, Wp), None without pooling

    @property
    def padded(self) -> np.ndarray:
        ph, pw = self.padding
        return np.pad(self.image, ((ph, ph), (pw, pw)))

    @property
    def conv_positions(self) -> int:
        return int(self.conv_out.size)

    @property
    def pool_positions(self) -> int:
        return 0 if self.pooled is None else int(self.pooled.size)

    @property
    def has_activation(self) -> bool:
        return self.activation != "none"

    def __len__(self) -> int:
        """Every moment of the walk: the conv windows, the activation (one moment, the whole
        map at once), the pooling windows."""
        return self.conv_positions + int(self.has_activation) + self.pool_positions

    def phase_of(self, t: int) -> tuple[str, int]:
        """Moment t of the walk -> (phase, index within the phase)."""
        if not 0 <= t < len(self):
            raise IndexError(f"step {t} is outside 0..{len(self) - 1}")
        if t < self.conv_positions:
            return "conv", t
        t -= self.conv_positions
        if self.has_activation:
            if t == 0:
                return "activation", 0
            t -= 1
        return "pool", t

    def start_of(self, phase: str) -> int:
        """The first moment of a phase (for "jump to the pooling")."""
        if phase == "conv":
            return 0
        if phase == "activation":
            return self.conv_positions
        return self.conv_positions + int(self.has_activation)

    def step(self, t: int) -> ConvStep:
        phase, i = self.phase_of(t)
        if phase == "conv":
            return self._conv_step(i)
        if phase == "activation":
            ho, wo = self.conv_out.shape
            return ConvStep("activation", 0, 0, 0, 0, 0, ho, wo, self.conv_out, None,
                        float(self.activated.max()) if self.activated.size else 0.0)
        return self._pool_step(i)

    def _conv_step(self, i: int) -> ConvStep:
        ho, wo = self.conv_out.shape
        row, col = divmod(i, wo)
        wp = ops.window_products(self.image, self.kernel, self.stride, self.padding, row, col)
        kh, kw = self.kernel.shape
        return ConvStep("conv", i, row, col, wp.top, wp.left, kh, kw, wp.window, wp.products,
                    wp.total + self.bias)

    def _pool_step(self, i: int) -> ConvStep:
        assert self.pooled is not None  # the walk has a pool phase only when it pools
        hp, wp = self.pooled.shape
        row, col = divmod(i, wp)
        top, left, k = row * self.pool_stride, col * self.pool_stride, self.pool_size
        window = self.activated[top:top + k, left:left + k]
        winner = None
        if self.pool_kind in ("max", "min"):
            flat = int(np.argmax(window) if self.pool_kind == "max" else np.argmin(window))
            winner = divmod(flat, window.shape[1])
        return ConvStep("pool", i, row, col, top, left, k, k, window, None,
                    float(self.pooled[row, col]), winner)

    def conv_filled(self, t: int) -> np.ndarray:
        """The feature map as it stands at moment t: positions visited so far, NaN for the rest."""
        return _filled(self.conv_out, min(t + 1, self.conv_positions) if t >= 0 else 0)

    def activated_filled(self, t: int) -> np.ndarray:
        """The activated map at moment t: all NaN before the activation moment."""
        done = t >= self.start_of("activation") and self.has_activation
        return self.activated.copy() if done else np.full_like(self.activated, np.nan)

    def pooled_filled(self, t: int) -> np.ndarray | None:
        if self.pooled is None:
            return None
        return _filled(self.pooled, max(0, t - self.start_of("pool") + 1))


def _filled(full: np.ndarray, count: int) -> np.ndarray:
    out = np.full(full.size, np.nan)
    out[:count] = full.ravel()[:count]
    return out.reshape(full.shape)


def step_plan(image, kernel, stride=(1, 1), padding=(0, 0), *, bias: float = 0.0,
              activation: str = "none", pool_kind: str = "none", pool_size: int = 2,
              pool_stride: int = 2) -> StepPlan:
    """The whole walk over a grey (H, W) image. ValueError (ops.ShapeError) in plain words
    when the kernel does not fit or the walk would be longer than MAX_STEP_POSITIONS a side."""
    x = np.asarray(image, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if x.ndim != 2 or k.ndim != 2:
        raise ops.ShapeError(f"stepping takes a grey (H, W) image and a 2-D kernel, got "
                             f"{x.shape} and {k.shape}")
    stride = (int(stride[0]), int(stride[1]))
    padding = (int(padding[0]), int(padding[1]))
    conv_out = ops.conv2d(x, k, stride, padding, bias=bias)
    if max(conv_out.shape) > MAX_STEP_POSITIONS:
        raise ops.ShapeError(f"the output is {conv_out.shape[0]}×{conv_out.shape[1]}; stepping "
                             f"shows at most {MAX_STEP_POSITIONS}×{MAX_STEP_POSITIONS} positions "
                             "(pick a smaller region)")
    activated = conv_out if activation == "none" else ops.activate(conv_out, activation)
    pooled = None
    if pool_kind != "none":
        if min(activated.shape) < pool_size:
            raise ops.ShapeError(f"the {pool_size}×{pool_size} pooling window is larger than "
                                 f"the {activated.shape[0]}×{activated.shape[1]} map")
        pooled = ops.pool2d(activated, pool_kind, pool_size, pool_stride)
    return StepPlan(x, k, stride, padding, float(bias), activation, pool_kind, int(pool_size),
                    int(pool_stride), conv_out, np.asarray(activated, np.float64), pooled)


def products_text(step: ConvStep, kernel: np.ndarray | None = None, bias: float = 0.0,
                  limit: int = 49) -> str:
    """The sum written out as the lecture's Recap slide does: '(1×0) + (0×1) + … = 2'.
    A conv step needs the kernel; more than `limit` products are shortened with '…'."""
    if step.phase == "pool" or kernel is None or step.products is None:
        return ""
    window = step.window.ravel()
    weights = np.asarray(kernel, dtype=np.float64).ravel()
    terms = [f"({fmt_number(a, 3)}{TIMES}{fmt_number(b, 3)})" for a, b in zip(window, weights)]
    if len(terms) > limit:
        terms = terms[: limit - 1] + ["…"]
    text = " + ".join(terms)
    if bias:
        text += f" + {fmt_number(bias, 3)}" if bias > 0 else f" {MINUS} {fmt_number(-bias, 3)}"
    return f"{text} = {fmt_number(step.total, 4)}"


def region_for(shape: tuple[int, int], top: int, left: int, bottom: int, right: int,
               kernel: tuple[int, int], stride: tuple[int, int],
               padding: tuple[int, int]) -> tuple[int, int, int, int]:
    """A rectangle dragged on a big picture -> the rectangle to step through: inside the
    picture, at least one kernel big, and small enough that the output has at most
    MAX_STEP_POSITIONS positions a side (the top-left corner is kept)."""
    h, w = shape
    top, bottom = sorted((max(0, min(h, int(top))), max(0, min(h, int(bottom)))))
    left, right = sorted((max(0, min(w, int(left))), max(0, min(w, int(right)))))
    out = []
    for lo, hi, size, k, s, p in ((top, bottom, h, kernel[0], stride[0], padding[0]),
                                  (left, right, w, kernel[1], stride[1], padding[1])):
        most = (MAX_STEP_POSITIONS - 1) * s + k - 2 * p  # the longest span with 64 outputs
        span = max(min(hi - lo, most), max(1, k - 2 * p))
        lo = max(0, min(lo, size - span))
        out.append((lo, min(size, lo + span)))
    (t, b), (l_, r) = out
    return t, l_, b, r


def first_conv_input(network, traced_input: np.ndarray) -> tuple[np.ndarray, str]:
    """The values the network's first layer receives for this input (its traced input,
    (C, H, W) or (H, W)), normalised as the network does inside: (H, W) for one channel,
    (H, W, C) for colour (channels last, as pictures are kept); and their scale in words
    ("0..1 input, then (x − 0.1307) / 0.3081"). The slide view and the kernel explorer's
    "Network input" both show these, so they agree."""
    x = np.asarray(traced_input, dtype=np.float64)
    if x.ndim == 3:
        x = x[0] if x.shape[0] == 1 else np.moveaxis(x, 0, -1)
    spec = network.input_spec
    scale = f"{spec.low:g}..{spec.high:g}"
    mean, std = float(network.input_mean), float(network.input_std)
    if (mean, std) == (0.0, 1.0):
        return x, f"values {scale}, as the first layer receives them"
    return (x - mean) / std, (f"values as the first layer receives them: the {scale} input, "
                              f"then (x − {mean:g}) / {std:g}")


def network_filter(network, index: int) -> tuple[np.ndarray, float, float, float, str]:
    """Filter `index` of a network's first conv layer (grey input): (kernel (kh, kw), bias,
    input_mean, input_std, layer name). Stepping it over (x − mean) / std walks exactly what
    that layer computes for map `index` (before any batch norm or activation after it)."""
    info = next((i for i in network.layer_infos if i.kind == "conv"), None)
    if info is None or info.name not in network.layers:
        raise ValueError("this network has no convolution layer")
    if info.in_shape[0] != 1:
        raise ValueError("the first convolution does not take a grey picture")
    if info is not network.layer_infos[0] or info.inputs not in ((), ("input",)):
        raise ValueError(f"the first convolution ({info.name}) does not read the picture "
                         f"itself: {network.layer_infos[0].name} comes first")
    if not info.spec.plain:
        raise ValueError(f"the first convolution ({info.name}) is dilated: its weights are "
                         "spread out with gaps, so it is not one window sliding step by step")
    layer = network.layers[info.name]
    if not 0 <= index < layer.out_channels:
        raise IndexError(f"{info.name} has {layer.out_channels} filters, not {index + 1}")
    kernel = layer.weight[index, 0].detach().double().numpy().copy()
    bias = float(layer.bias[index]) if layer.bias is not None else 0.0
    return kernel, bias, float(network.input_mean), float(network.input_std), info.name

"""What made one pixel of a kernel-explorer result, the lecture's way (its Recap slides):
the input window under a conv output pixel and its products with the kernel, the
activation applied to one value, the pooling window and which value won, and the
receptive field of any output pixel on the input.

    result = run_pipeline(image, settings)
    px = explain_conv_pixel(result, 0, 0)
    px.text        # '(1×0) + (0×1) + … = 2'
    input_window(result, "pool", 0, 1)   # (top, left, height, width) on the input

Windows are cropped from the result's arrays with cnnviz.core.convolution.ops.padded_window (zeros in
the padding): a 12-megapixel photo is never copied. Qt-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..basics.formulas import MINUS, fmt_number
from . import ops
from .filtering import FilterResult

__all__ = [
    "ConvPixel", "InputPixel", "PoolPixel", "activation_text", "channel_names",
    "explain_activation_pixel", "explain_conv_pixel", "explain_input_pixel",
    "explain_pool_pixel", "explained_channels", "input_window", "last_window_left_out",
    "products_text",
]


def channel_names(c: int) -> list[str]:
    return ["R", "G", "B"] if c == 3 else [f"channel {i}" for i in range(c)]


def explained_channels(result: FilterResult, shown: int | None) -> list[int | None]:
    """The channels a pixel's explanation goes through: [None] unless each channel was
    filtered alone; then the one shown, or every channel when all are drawn (shown None)."""
    if result.colour_mode != "per_channel":
        return [None]
    return [shown] if shown is not None else list(range(result.input.shape[0]))


def products_text(window: np.ndarray, kernel: np.ndarray, limit: int = 25) -> str:
    """'(1×0) + (0×1) + …' over a (kh, kw) window, row by row; long ones cut after `limit`."""
    terms = [f"({fmt_number(a)}×{fmt_number(b)})" for a, b in zip(window.ravel(), kernel.ravel())]
    if len(terms) > limit:
        terms = terms[:limit] + [f"… ({len(window.ravel())} products)"]
    return " + ".join(terms)


# --------------------------------------------------------------------------- convolution


@dataclass(frozen=True, eq=False)
class ConvPixel:
    """One conv output pixel taken apart, as the lecture's Recap slides do."""

    row: int
    col: int
    top: int  # the window's top-left in input coordinates (negative inside the padding)
    left: int
    window: np.ndarray  # (kh, kw), or (C, kh, kw) for a summed colour image
    products: np.ndarray  # window * kernel
    total: float  # their sum = the output pixel
    value: float  # the value in the conv output array (equal to total up to float32 rounding)
    channel: int | None  # the channel filtered alone (per-channel mode), else None
    kernel: np.ndarray  # (kh, kw), for the text
    in_padding: bool = False  # the window hangs over the zero padding

    @property
    def bottom(self) -> int:
        """The window's last input row (inclusive)."""
        return self.top + self.kernel.shape[0] - 1

    @property
    def right(self) -> int:
        """The window's last input column (inclusive)."""
        return self.left + self.kernel.shape[1] - 1

    @property
    def text(self) -> str:
        """'(1×0) + (0×1) + (1×0) + … = 2' (per channel and a total for summed colour)."""
        if self.window.ndim == 3:
            parts = []
            for c, name in enumerate(channel_names(self.window.shape[0])):
                sub = float(self.products[c].sum())
                parts.append(f"{name}: {products_text(self.window[c], self.kernel, limit=9)} "
                             f"= {fmt_number(sub)}")
            return "\n".join(parts) + f"\nsum over channels = {fmt_number(self.total)}"
        return f"{products_text(self.window, self.kernel)} = {fmt_number(self.total)}"


def explain_conv_pixel(result: FilterResult, row: int, col: int,
                       channel: int | None = None) -> ConvPixel:
    """The window under conv output pixel (row, col), its products with the kernel and their
    sum, from ops.window_products on a small crop (a 12-megapixel photo is never copied).
    channel: per-channel mode, the channel to explain (default 0)."""
    if result.conv is None:
        raise ValueError("there is no convolution output to explain")
    s, p = result.settings.stride, result.settings.padding
    kh, kw = result.kernel.shape
    top, left = row * s[0] - p[0], col * s[1] - p[1]
    x = result.input
    if result.colour_mode == "per_channel":
        channel = 0 if channel is None else channel
        x = x[channel]
    else:
        channel = None
    h, w = x.shape[-2:]
    ho, wo = result.conv.shape[-2:]
    if not (0 <= row < ho and 0 <= col < wo):
        raise IndexError(f"output pixel ({row}, {col}) is outside the {ho}×{wo} output")
    # The window as the slides draw it: the image under the kernel, zeros in the padding.
    window = ops.padded_window(x, top, left, kh, kw)
    wp = ops.window_products(window, result.kernel, 1, 0, 0, 0)
    value = float(result.conv[(channel, row, col) if channel is not None else (row, col)])
    in_padding = top < 0 or left < 0 or top + kh > h or left + kw > w
    return ConvPixel(row, col, top, left, wp.window, wp.products, wp.total, value, channel,
                     result.kernel, in_padding)


def last_window_left_out(result: FilterResult, row: int, col: int) -> list[tuple[int, tuple[int, int]]]:
    """For conv output pixel (row, col) in the last row or column of windows: the input rows
    (axis 0) or columns (axis 1) left out beyond it because the size was floored, as
    [(axis, (first, last)), ...]; empty when nothing is left out after this pixel."""
    if result.conv is None:
        return []
    ho, wo = result.conv.shape[-2:]
    out = []
    for axis, last in ((0, row == ho - 1), (1, col == wo - 1)):
        gone = result.left_out(axis)
        if last and gone is not None:
            out.append((axis, gone))
    return out


# --------------------------------------------------------------------------- the input


@dataclass(frozen=True, eq=False)
class InputPixel:
    """One input pixel (or a padding zero around the image)."""

    row: int
    col: int
    values: tuple[float, ...] | None  # one per channel; None in the padding
    channels: tuple[str, ...]  # the channels' names ("R", "G", "B"); () for grey
    left_out: bool  # no kernel window reaches it (the output size was floored)


def explain_input_pixel(result: FilterResult, row: int, col: int) -> InputPixel:
    """Input pixel (row, col), padding coordinates allowed (negative, or past the edge)."""
    h, w = result.input.shape[-2:]
    rows, cols = (result.left_out(0), result.left_out(1)) if result.conv is not None else (None, None)
    left_out = bool((rows and rows[0] <= row <= rows[1]) or (cols and cols[0] <= col <= cols[1]))
    names = tuple(channel_names(result.input.shape[0])) if result.input.ndim == 3 else ()
    values = None
    if 0 <= row < h and 0 <= col < w:
        x = result.input
        values = tuple(float(v) for v in (x[:, row, col] if x.ndim == 3 else [x[row, col]]))
    return InputPixel(row, col, values, names, left_out)


# --------------------------------------------------------------------------- activation


def activation_text(kind: str, x: float, y: float) -> str:
    """'ReLU(−3) = max(0, −3) = 0' and friends: the activation applied to one value."""
    a, b = fmt_number(x), fmt_number(y)
    if kind == "relu":
        return f"ReLU({a}) = max(0, {a}) = {b}"
    if kind == "leaky_relu":
        return f"leaky ReLU({a}) = {a if x >= 0 else '0.01×' + a} = {b}"
    if kind == "elu":
        return f"ELU({a}) = {a if x > 0 else 'e^' + a + f' {MINUS} 1'} = {b}"
    if kind == "gelu":
        return f"GELU({a}) = {a} × Φ({a}) = {b}"
    if kind == "swish":
        return f"swish({a}) = {a} × sigmoid({a}) = {b}"
    if kind == "tanh":
        return f"tanh({a}) = {b}"
    if kind == "sigmoid":
        return f"sigmoid({a}) = 1 / (1 + e^{MINUS}{a}) = {b}".replace(f"{MINUS}{MINUS}", "")
    if kind == "softmax":  # one value's share of its whole map (of its channel's map)
        return f"softmax({a}) = e^{a} / (sum of e^v over every value v of the map) = {b}"
    return f"no activation: {b}"


def explain_activation_pixel(result: FilterResult, row: int, col: int,
                             channel: int | None = None) -> str:
    """activation_text for activation output pixel (row, col) (of `channel` per channel)."""
    if result.conv is None or result.activated is None:
        raise ValueError("there is no activation output to explain")
    idx = (row, col) if channel is None else (channel, row, col)
    return activation_text(result.settings.activation, float(result.conv[idx]),
                           float(result.activated[idx]))


# --------------------------------------------------------------------------- pooling


@dataclass(frozen=True, eq=False)
class PoolPixel:
    """One pooled pixel: the activation values it came from and which one won."""

    row: int
    col: int
    top: int  # window top-left in activation-output coordinates
    left: int
    values: np.ndarray  # (size, size) the window (padding cells as nan)
    kind: str  # "max", "min" or "avg"
    value: float  # the pooled output value
    source: tuple[int, int] | None  # (row, col) in the activation output of the max/min

    @property
    def size(self) -> int:
        return self.values.shape[0]

    @property
    def text(self) -> str:
        vals = [v for v in self.values.ravel() if not math.isnan(v)]
        inside = ", ".join(fmt_number(v) for v in vals[:25]) + (" …" if len(vals) > 25 else "")
        if self.kind == "avg":
            n = self.values.size
            return (f"mean({inside}) = ({' + '.join(fmt_number(v) for v in vals[:25])}) / {n} "
                    f"= {fmt_number(self.value)}")
        where = f" (from row {self.source[0]}, column {self.source[1]})" if self.source else ""
        return f"{self.kind}({inside}) = {fmt_number(self.value)}{where}"


def _inside(top: int, left: int, size: int, h: int, w: int) -> np.ndarray:
    """(size, size) True where the window starting at (top, left) lies on the h × w map."""
    rows = (np.arange(top, top + size) >= 0) & (np.arange(top, top + size) < h)
    cols = (np.arange(left, left + size) >= 0) & (np.arange(left, left + size) < w)
    return rows[:, None] & cols[None, :]


def explain_pool_pixel(result: FilterResult, row: int, col: int,
                       channel: int | None = None) -> PoolPixel:
    if result.pooled is None or result.activated is None:
        raise ValueError("there is no pooled output to explain")
    st = result.settings
    size, stride, pad = st.pool_size, st.pool_stride, result.pool_padding
    a = result.activated if result.activated.ndim == 2 else result.activated[channel or 0]
    top, left = row * stride - pad, col * stride - pad
    window = ops.padded_window(a, top, left, size, size).astype(np.float64)
    kind = st.pool_kind
    pooled = result.pooled if result.pooled.ndim == 2 else result.pooled[channel or 0]
    value = float(pooled[row, col])
    if kind == "avg":  # torch counts padded zeros: the window as cropped
        return PoolPixel(row, col, top, left, window, kind, value, None)
    values = np.where(_inside(top, left, size, *a.shape), window, np.nan)
    source = None
    if not np.all(np.isnan(values)):
        i = int(np.nanargmax(values) if kind == "max" else np.nanargmin(values))
        source = (top + i // size, left + i % size)
    return PoolPixel(row, col, top, left, values, kind, value, source)


# --------------------------------------------------------------------------- receptive fields


def input_window(result: FilterResult, stage: str, row: int, col: int) -> tuple[int, int, int, int]:
    """(top, left, height, width) in input pixels of what output pixel (row, col) of `stage`
    ("conv", "activation" or "pool") depends on (its receptive field; may reach into the
    padding, so top/left can be negative)."""
    st = result.settings
    (sh, sw), (ph, pw) = st.stride, st.padding
    kh, kw = result.kernel.shape
    if stage == "pool":
        ps, pp, size = st.pool_stride, result.pool_padding, st.pool_size
        r0, c0 = row * ps - pp, col * ps - pp
        ho, wo = result.conv.shape[-2:] if result.conv is not None else (r0 + size, c0 + size)
        r1, c1 = min(r0 + size, ho) - 1, min(c0 + size, wo) - 1
        r0, c0 = max(r0, 0), max(c0, 0)
    else:
        r0 = r1 = row
        c0 = c1 = col
    top, left = r0 * sh - ph, c0 * sw - pw
    return top, left, (r1 - r0) * sh + kh, (c1 - c0) * sw + kw

"""Drawable copies of a kernel-explorer result: every stage small enough to draw (a
12-megapixel photo becomes at most PREVIEW_SIDE pixels a side), placed on the full array's
pixel coordinates, with the levels of the full array.

    view = compute_view(image, settings, channel_view="all", source_key="image")
    view.conv.preview.array      # (h, w) or (h, w, 3), ready to draw
    view.conv.extent()           # (x, y, width, height) it covers, in full-size pixels
    view.conv.full_index(10, 20) # the full array's (row, col) under preview pixel (10, 20)

Edge kernels (weights summing to 0) are shrunk keeping each block's strongest value, so
thin edges survive; other kernels' outputs are block means. Qt-free: compute_view runs on
the kernel controller's worker thread.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .filter_settings import KernelSettings
from .filtering import FilterResult, run_pipeline

__all__ = [
    "CHANNEL_VIEWS", "PAD_SHOWN", "PREVIEW_SIDE", "KernelPreview", "Preview", "StageView",
    "compute_view", "display_levels", "input_levels", "is_edge_kernel", "preview", "stage_view",
]

PREVIEW_SIDE = 800  # larger arrays are drawn as block means, at most this many pixels a side
PAD_SHOWN = 64  # grey inputs up to this size are drawn with their zero padding
# Per-channel colour results: all channels as colour, or one channel ("0", "1", "2").
CHANNEL_VIEWS = ("all", "0", "1", "2")


# --------------------------------------------------------------------------- shrinking


@dataclass(frozen=True, eq=False)
class Preview:
    """A copy of an array small enough to draw: every `factor` × `factor` block averaged
    (or its strongest value kept, see preview()).
    levels: (min, max) of the FULL array, so colours mean the same as at full size."""

    array: np.ndarray  # (h, w) or (h, w, 3) channels last for colour
    factor: int  # 1 = the array itself
    levels: tuple[float, float]
    shape: tuple[int, ...]  # the full array's shape
    peaks: bool = False  # blocks keep their strongest value instead of their mean


def _reduce_axis(a: np.ndarray, f: int, axis: int, op) -> np.ndarray:
    """op (np.add, np.maximum or np.minimum) over every run of f along `axis` (0 or 1) of a
    2-D array, the ragged last run kept: f element-wise passes over strided views (numpy's
    own reduction over a short axis is many times slower)."""
    n = a.shape[axis]
    runs = -(-n // f)

    def take(offset: int) -> np.ndarray:
        return a[offset::f] if axis == 0 else a[:, offset::f]

    out = np.array(take(0), dtype=np.float32)  # every run has its first element
    for offset in range(1, f):
        part = take(offset)
        count = part.shape[axis]  # runs that reach this far (the ragged one may not)
        if count == runs:
            op(out, part, out=out)
        elif count:
            head = out[:count] if axis == 0 else out[:, :count]
            op(head, part, out=head)
    return out


def _reduce_blocks(a: np.ndarray, f: int, op) -> np.ndarray:
    """op over every f × f block of a 2-D array: columns first, then rows."""
    return _reduce_axis(_reduce_axis(a, f, 1, op), f, 0, op)


def _per_plane(a: np.ndarray, shrink) -> np.ndarray:
    """shrink each (H, W) plane of a (H, W) or channels-last (H, W, C) array."""
    if a.ndim == 2:
        return shrink(a)
    return np.stack([shrink(a[..., c]) for c in range(a.shape[2])], axis=-1)


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """(H, W[, C]) -> (ceil(H / f), ceil(W / f)[, C]): the mean of every f × f block (the
    ragged last row and column of blocks are kept, averaged over the pixels they have)."""
    h, w = a.shape[:2]
    rows = np.full(-(-h // f), f, np.float32)
    cols = np.full(-(-w // f), f, np.float32)
    rows[-1], cols[-1] = h - (len(rows) - 1) * f, w - (len(cols) - 1) * f
    counts = rows[:, None] * cols[None, :]

    def mean(plane: np.ndarray) -> np.ndarray:
        return (_reduce_blocks(plane, f, np.add) / counts).astype(np.float32)

    return _per_plane(a, mean)


def _block_peak(a: np.ndarray, f: int) -> np.ndarray:
    """Like _block_mean, but each block keeps its value of largest magnitude (its max or its
    min, whichever is further from 0): a one-pixel edge survives the shrinking."""
    def peak(plane: np.ndarray) -> np.ndarray:
        hi = _reduce_blocks(plane, f, np.maximum)
        lo = _reduce_blocks(plane, f, np.minimum)
        return np.where(hi >= -lo, hi, lo).astype(np.float32)

    return _per_plane(a, peak)


def preview(array: np.ndarray, max_side: int = PREVIEW_SIDE, colour: bool = False,
            peaks: bool = False) -> Preview:
    """(H, W) or, with colour=True, (C, H, W) -> a Preview no larger than max_side a side
    (colour comes back channels last, (h, w, C), ready to draw). Blocks are averaged, or with
    peaks=True keep their strongest value (for edge maps, where a mean would wash edges out)."""
    a = np.asarray(array)
    h, w = a.shape[-2:]
    factor = max(1, math.ceil(max(h, w) / max_side))
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)  # NaN: made finite below
    if not (math.isfinite(lo) and math.isfinite(hi)):
        finite = a[np.isfinite(a)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    small = np.moveaxis(a, 0, -1) if colour and a.ndim == 3 else a  # (H, W[, C])
    if factor > 1:
        small = (_block_peak if peaks else _block_mean)(small, factor)
    return Preview(small, factor, (lo, hi), tuple(a.shape), peaks and factor > 1)


# --------------------------------------------------------------------------- levels


def display_levels(levels: tuple[float, float]) -> tuple[bool, tuple[float, float]]:
    """(signed, (lo, hi)) to draw an array whose values span `levels`: signed values on a
    scale centred on 0; a map of one value against 0 (all 1s white, all 0s black)."""
    lo, hi = levels
    if lo < 0:
        m = max(abs(lo), abs(hi)) or 1.0
        return True, (-m, m)
    if hi <= lo:
        return False, (min(lo, 0.0), max(lo, 1.0))
    return False, (lo, hi)


def input_levels(levels: tuple[float, float]) -> tuple[float, float]:
    """A grey input's levels: 0 is black and at least 1 white (a 0/1 slide image reads
    like the slide; a photo keeps its own range)."""
    return min(levels[0], 0.0), max(levels[1], 1.0)


# --------------------------------------------------------------------------- stages


def is_edge_kernel(kernel: np.ndarray) -> bool:
    """True when the weights sum to 0 (an edge detector: flat areas turn to 0)."""
    k = np.asarray(kernel, dtype=np.float64)
    return bool(abs(float(k.sum())) <= 1e-9 * max(float(np.abs(k).sum()), 1e-300))


@dataclass(frozen=True, eq=False)
class StageView:
    """One stage ready to draw: the preview, its offset (padding drawn around the input) and
    the channel shown (per-channel mode)."""

    preview: Preview
    offset: tuple[int, int] = (0, 0)  # full-array (row, col) of the preview's pixel (0, 0) is -offset
    channel: int | None = None  # None: all channels (colour) or a single-plane array

    def extent(self) -> tuple[float, float, float, float]:
        """(x, y, width, height) the preview covers in the full array's pixel coordinates:
        a photo shown at 1/5 still spans 0…3000, and the padding drawn around a small
        input lies at −P…0."""
        p = self.preview
        h, w = p.array.shape[:2]
        oy, ox = self.offset
        return -ox, -oy, w * p.factor, h * p.factor

    def full_index(self, row: int, col: int) -> tuple[int, int]:
        """Preview pixel (row, col) -> (row, col) in the full array (a preview pixel of a
        shrunk array stands for the middle of its block)."""
        f = self.preview.factor
        h, w = self.preview.shape[-2:]
        rr, cc = row * f + f // 2 - self.offset[0], col * f + f // 2 - self.offset[1]
        if f > 1:
            rr, cc = min(rr, h - 1), min(cc, w - 1)
        return rr, cc


def stage_view(array: np.ndarray | None, channel_view: str = "all", cache: dict | None = None,
               peaks: bool = False) -> StageView | None:
    """The drawable copy of one stage's array ((H, W) or (C, H, W) per channel); cache:
    arrays already shrunk (activation "none" hands back the conv array itself)."""
    if array is None:
        return None
    cache = {} if cache is None else cache
    if id(array) in cache:
        return cache[id(array)]
    if array.ndim == 3:
        if channel_view == "all":
            view = StageView(preview(array, colour=True, peaks=peaks))
        else:
            c = min(int(channel_view), array.shape[0] - 1)
            view = StageView(preview(array[c], peaks=peaks), channel=c)
    else:
        view = StageView(preview(array, peaks=peaks))
    cache[id(array)] = view
    return view


def _input_view(x: np.ndarray, padding: tuple[int, int]) -> StageView:
    """The input as drawn: a small grey one with the zeros the kernel slides over."""
    if x.ndim == 2 and max(x.shape) <= PAD_SHOWN and any(padding):
        ph, pw = padding
        return StageView(preview(np.pad(x, ((ph, ph), (pw, pw)))), offset=(ph, pw))
    return StageView(preview(x, colour=x.ndim == 3))


@dataclass(frozen=True, eq=False)
class KernelPreview:
    """What the kernel controller's worker hands back: the result and drawable copies of
    every stage."""

    result: FilterResult
    source_key: str
    input: StageView
    conv: StageView | None
    activated: StageView | None
    pooled: StageView | None
    seconds: float  # pipeline + previews, on the worker
    scale: str = ""  # what the input's values are, when that needs saying (the network input)

    def stage(self, key: str) -> StageView | None:
        """"input", "conv", "activation" or "pool"."""
        return {"input": self.input, "conv": self.conv, "activation": self.activated,
                "pool": self.pooled}[key]


def compute_view(image: np.ndarray, settings: KernelSettings, channel_view: str, source_key: str,
                 reuse: FilterResult | None = None, input_view: StageView | None = None,
                 scale: str = "") -> KernelPreview:
    """Runs on the worker thread: the pipeline (or `reuse` when only the view changed) and
    the previews to draw (input_view: the input's, kept from an earlier result)."""
    start = time.perf_counter()
    result = reuse if reuse is not None else run_pipeline(image, settings)
    if input_view is None:
        input_view = _input_view(result.input, settings.padding)
    # Edge kernels keep each block's strongest value, or thin edges would average away.
    peaks = is_edge_kernel(result.kernel)
    cache: dict = {}
    conv = stage_view(result.conv, channel_view, cache, peaks)
    act = stage_view(result.activated, channel_view, cache, peaks)
    pooled = stage_view(result.pooled, channel_view, cache, peaks)
    return KernelPreview(result, source_key, input_view, conv, act, pooled, time.perf_counter() - start,
                      scale)

"""What an edited kernel is: grown or cropped around its centre (resize_centred), one of the
presets (matching_preset), or a preset grown with a border of zeros (grown_preset).

Qt-free; the kernel explorer's grid and preset picker use these to say in words what the
kernel in force is, never a silent "Custom".
"""

from __future__ import annotations

import numpy as np

from .kernels import PRESETS

__all__ = ["grown_preset", "matching_preset", "resize_centred"]


def resize_centred(kernel, rows: int, cols: int) -> np.ndarray:
    """A kernel grown with zeros or cropped to rows × cols, its centre kept in place, so a
    3×3 sharpen grown to 5×5 still sharpens around the same pixel (not shifted by one).

    The centre of an n-long axis is index (n - 1) // 2 (the lower middle when n is even),
    so growing one step at a time from 3 to 7 and back ends where it started."""
    k = np.asarray(kernel, dtype=np.float64)
    out = np.zeros((rows, cols))
    src, dst = [], []
    for n_old, n_new in zip(k.shape, (rows, cols)):
        shift = (n_new - 1) // 2 - (n_old - 1) // 2  # where old index 0 lands in the new grid
        lo, hi = max(0, -shift), min(n_old, n_new - shift)
        src.append(slice(lo, max(lo, hi)))
        dst.append(slice(lo + shift, max(lo, hi) + shift))
    out[tuple(dst)] = k[tuple(src)]
    return out


def matching_preset(kernel) -> str | None:
    """The key of the preset with exactly these values (and this shape), or None."""
    k = np.asarray(kernel)
    for p in PRESETS.values():
        if p.values.shape == k.shape and np.array_equal(p.values, k):
            return p.key
    return None


def grown_preset(kernel) -> str | None:
    """The key of the preset this kernel is, grown with a centred border of zeros (or None)."""
    k = np.asarray(kernel)
    for p in PRESETS.values():
        if (p.values.shape != k.shape and all(a >= b for a, b in zip(k.shape, p.values.shape))
                and np.array_equal(resize_centred(p.values, *k.shape), k)):
            return p.key
    return None

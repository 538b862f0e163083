"""Small numpy tools on masks and shades, shared by the preprocessing steps: connected
regions, grey dilation, stroke width.

numpy and Pillow only (no scipy): the pictures are small working copies.
"""

from __future__ import annotations

import math

import numpy as np

INK_LEVEL = 0.5  # stroke_width counts as ink what is above this shade (unless told)
REGION_LEAST = 0.01  # count_regions counts regions of at least this share of the picture
REGIONS_SIZE = 64  # ... worked out on a copy at most this many pixels a side
PIECES_SIZE = 96  # pieces works on a copy at most this many cells a side


def stroke_width(patch: np.ndarray, level: float = INK_LEVEL) -> float:
    """Mean stroke width in the patch's pixels: 2 x area / perimeter of the ink (> level).

    For a stroke of width d and length L this is d L / (L + d), about d."""
    mask = patch > level
    area = int(mask.sum())
    if area == 0:
        return 0.0
    m = np.pad(mask, 1).astype(np.int8)
    perimeter = int(np.abs(np.diff(m, axis=0)).sum() + np.abs(np.diff(m, axis=1)).sum())
    return 2.0 * area / max(perimeter, 1)


def dilate(a: np.ndarray, radius: int) -> np.ndarray:
    """Grey-level dilation with an octagon of the given radius (3x3 squares and crosses)."""
    out = a
    for i in range(radius):
        p = np.pad(out, 1)
        cross = np.maximum.reduce([p[1:-1, 1:-1], p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])
        if i % 2 == 0:
            out = cross
        else:
            q = np.pad(cross, 1)
            out = np.maximum.reduce([cross, q[:-2, :-2], q[:-2, 2:], q[2:, :-2], q[2:, 2:]])
    return out


def label_regions(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Connected regions (8-neighbours) of a small mask: (labels 1..n, 0 outside; n).
    Minimum-label propagation with pointer jumping, numpy only (fine up to ~100x100)."""
    h, w = mask.shape
    big = h * w
    lab = np.where(mask, np.arange(big).reshape(h, w), big)
    while True:
        p = np.pad(lab, 1, constant_values=big)
        new = lab.copy()
        for dy in range(3):
            for dx in range(3):
                np.minimum(new, p[dy:dy + h, dx:dx + w], out=new)
        new[~mask] = big
        flat = new.ravel()
        inside = flat < big
        for _ in range(4):  # a pixel's label is a pixel of its region: follow it
            flat[inside] = flat[flat[inside]]
        if np.array_equal(new, lab):
            break
        lab = new
    roots, inverse = np.unique(lab.ravel(), return_inverse=True)
    inverse = inverse.reshape(h, w) + 1
    inverse[~mask] = 0
    return inverse, int(len(roots) - (1 if (~mask).any() else 0))


def count_regions(mask: np.ndarray, least: float = REGION_LEAST) -> int:
    """How many connected regions of at least `least` of the picture's area the mask holds
    (worked out on a copy at most 64 pixels a side)."""
    step = max(1, math.ceil(max(mask.shape) / REGIONS_SIZE))
    small = mask[::step, ::step]
    labels, n = label_regions(small)
    if n == 0:
        return 0
    sizes = np.bincount(labels.ravel())[1:]
    return int((sizes >= least * small.size).sum())


def pieces(mask: np.ndarray, most: int = PIECES_SIZE) -> tuple[np.ndarray, int, np.ndarray, int]:
    """The connected pieces of a mask, worked out on a copy at most `most` cells a side (a
    cell is step x step pixels; a cell with any ink is ink): (labels per cell, how many
    pieces, each piece's ink in pixels with index 0 for none, step)."""
    h, w = mask.shape
    step = max(1, math.ceil(max(h, w) / most))
    hs, ws = math.ceil(h / step), math.ceil(w / step)
    padded = np.zeros((hs * step, ws * step), bool)
    padded[:h, :w] = mask
    cells = padded.reshape(hs, step, ws, step).sum(axis=(1, 3))
    labels, n = label_regions(cells > 0)
    mass = np.bincount(labels.ravel(), weights=cells.ravel().astype(np.float64), minlength=n + 1)
    return labels, n, mass, step

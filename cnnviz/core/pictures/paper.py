"""The paper and the ink's contrast: the working copy in grey, the paper's level across the
picture (uneven light), the paper subtracted and the ink stretched to white, and whether
anything in the picture has a sharp edge at all.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .images import to_grey

WORK_SIZE = 640  # larger inputs are shrunk to about this many pixels a side first
INK_THRESHOLD_CLEAN = 0.02  # ink for the crop in a noiseless picture (photos: above the noise)
# The paper's level: the PAPER_PERCENTILE-th percentile of tiles at least TILE_SIDE pixels a
# side, at most TILES_MOST to a side; levels that spread under EVEN_LIGHT are one level.
TILE_SIDE = 24
TILES_MOST = 6
PAPER_PERCENTILE = 20
EVEN_LIGHT = 0.02
# The paper's noise: a normal spread (sigma, from the median absolute deviation times
# MAD_SIGMA) on a sample of at most NOISE_SAMPLE pixels; the noise floor lies NOISE_SIGMAS
# sigmas above the paper, and ink at least INK_ABOVE_FLOOR (or NOISE_SIGMAS sigmas) above it.
NOISE_SAMPLE = 65536
MAD_SIGMA = 1.4826
NOISE_SIGMAS = 3.0
INK_ABOVE_FLOOR = 0.1
INK_PERCENTILE = 99  # the ink's shade: this percentile of the strong ink (white after the stretch)
LEAST_CONTRAST = 0.05  # ink less than this above the noise floor is no ink
WHITE_INK = 0.9  # ink on black paper this bright is white already (dimmer is brightened)
# What counts as ink for the crop after the stretch: INK_MARGIN plus the noise's sigmas
# above the floor, at most INK_THRESHOLD_MOST (and at least INK_THRESHOLD_CLEAN).
INK_MARGIN = 0.1
INK_THRESHOLD_MOST = 0.5
SHARPNESS_SIZE = 64  # sharpness is measured on a copy about this many pixels a side
STEEP_PERCENTILE = 99.5  # the sharpest edges: this percentile of the changes between neighbours
SMALL_PICTURE = 64  # pictures at most this many pixels a side (tiny scans) count as sharp
SHARP = 7.0  # edges at least this sharp (see sharpness) are ink or lines, not shading


def working_grey(image: np.ndarray) -> tuple[np.ndarray, int]:
    """(H, W), (H, W, 1|3|4) uint8 or 0..255 floats -> grey 0..1 float32, shrunk so the
    longest side is at most about WORK_SIZE. Returns (grey, shrink factor)."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"a digit image must be (H, W) or (H, W, 3), not {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"a digit image needs at least one pixel, got {a.shape}")
    if a.dtype == np.bool_:
        a = a.astype(np.float32) * 255
    h, w = a.shape[:2]
    factor = max(1, math.ceil(max(h, w) / WORK_SIZE))
    step = max(1, factor // 3)  # for big shrinks, sample every step-th pixel first (fast)...
    if step > 1:
        a = a[::step, ::step]
    reduce = max(1, math.ceil(max(a.shape[:2]) / WORK_SIZE))  # ...then average blocks
    if a.ndim == 3 and a.shape[2] == 4:
        alpha = a[..., 3].astype(np.float32) / 255.0
        grey = to_grey(a[..., :3]) * alpha + 255.0 * (1.0 - alpha)  # transparent -> white paper
        if not np.isfinite(grey).all():  # a float alpha may hold nan or inf
            grey = np.nan_to_num(grey, nan=0.0, posinf=255.0, neginf=0.0)
    else:
        grey = to_grey(a)  # the one grey conversion (luma; nan -> 0, inf -> 255)
    if reduce > 1:
        grey = np.asarray(Image.fromarray(np.ascontiguousarray(grey, np.float32), "F").reduce(reduce))
    grey = np.clip(grey * np.float32(1 / 255), 0.0, 1.0).astype(np.float32)
    return grey, step * reduce


def paper_level(v: np.ndarray) -> np.ndarray | float:
    """A smooth estimate of the paper's level (ink is bright here), from the 20th percentile
    of tiles (at least 24 pixels a side); pictures under 48 pixels get one level for all."""
    h, w = v.shape
    tiles = min(TILES_MOST, min(h, w) // TILE_SIDE)
    if tiles < 2:
        return float(np.percentile(v, PAPER_PERCENTILE))
    th, tw = h // tiles, w // tiles
    grid = v[: th * tiles, : tw * tiles].reshape(tiles, th, tiles, tw).transpose(0, 2, 1, 3)
    levels = np.percentile(grid.reshape(tiles, tiles, -1), PAPER_PERCENTILE, axis=2).astype(np.float32)
    # A tile mostly covered by ink is not paper: it takes the lowest level among its
    # neighbours. On a small picture (fewer, larger tiles) the lowest would be paper in
    # another light, so there a tile takes its neighbours' median when that is lower.
    padded = np.pad(levels, 1, mode="edge")
    around = [padded[i:i + tiles, j:j + tiles] for i in range(3) for j in range(3)]
    if tiles == TILES_MOST:
        levels = np.min(around, axis=0)
    else:
        levels = np.minimum(levels, np.median(around, axis=0)).astype(np.float32)
    if float(levels.max() - levels.min()) < EVEN_LIGHT:
        return float(levels.mean())
    small = Image.fromarray(levels, "F")
    return np.asarray(small.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)


def subtract_paper(v: np.ndarray) -> tuple[np.ndarray, float, str]:
    """Paper to 0 and ink to about 1.

    Returns (cleaned, ink threshold, explanation); the threshold (above the paper's noise)
    is what counts as ink for the crop, or 0 when no ink was found."""
    background = paper_level(v)
    r = v - background
    sample = r if r.size <= NOISE_SAMPLE else r.ravel()[:: r.size // NOISE_SAMPLE + 1]
    mid = float(np.median(sample))
    sigma = MAD_SIGMA * float(np.median(np.abs(sample - mid)))  # noise of the paper
    floor = mid + NOISE_SIGMAS * sigma
    strong = r[r > floor + max(INK_ABOVE_FLOOR, NOISE_SIGMAS * sigma)]
    if strong.size == 0:
        return np.zeros_like(v), 0.0, "No ink was found: the picture is one even shade."
    ink = float(np.percentile(strong, INK_PERCENTILE))
    if ink - floor < LEAST_CONTRAST:
        return np.zeros_like(v), 0.0, "No ink was found: there is too little contrast."
    if sigma == 0.0 and floor == 0.0 and np.ndim(background) == 0 and background == 0.0:
        # Already black paper without noise (a drawing, an MNIST digit): kept as it is,
        # unless the ink is dim (a grey pen), which is brightened to white.
        if ink >= WHITE_INK:
            return v.copy(), INK_THRESHOLD_CLEAN, ("Not needed: the background is already "
                                                   "black and the ink white.")
        out = np.clip(v * np.float32(1.0 / ink), 0.0, 1.0)
        return out.astype(np.float32), INK_THRESHOLD_CLEAN, ("The background is black but the "
                                                             "ink was dim, so it was brightened "
                                                             "to white.")
    scale = 1.0 / (ink - floor)
    out = np.clip((r - np.float32(floor)) * np.float32(scale), 0.0, 1.0).astype(np.float32)
    threshold = max(INK_THRESHOLD_CLEAN, min(INK_THRESHOLD_MOST, INK_MARGIN + NOISE_SIGMAS * sigma * scale))
    return out, threshold, ("The paper's shade was subtracted and the contrast stretched, so "
                            "the background is black and the ink white, like MNIST.")


def sharpness(grey: np.ndarray) -> float:
    """How sharp the picture's sharpest edges are, whatever its size: the steepest change
    between neighbours (99.5th percentile) on a copy about 64 pixels a side, times that size,
    over the picture's range of shades. Measured on cnnviz/core/pictures/user_pictures.py: a page with
    only uneven light and noise 2-6, pencil, pen and crops of digits 9 and more (a tight
    crop at 300 pixels is the softest); ruled lines are sharp too (they are removed later)."""
    f = max(1, math.ceil(max(grey.shape) / SHARPNESS_SIZE))
    r = np.asarray(Image.fromarray(np.ascontiguousarray(grey), "F").reduce(f)) if f > 1 else grey
    if min(r.shape) < 2:
        return math.inf
    lo, hi = np.percentile(r, [1, 99])
    steep = max(float(np.percentile(np.abs(np.diff(r, axis=0)), STEEP_PERCENTILE)),
                float(np.percentile(np.abs(np.diff(r, axis=1)), STEEP_PERCENTILE)))
    return steep * max(r.shape) / max(float(hi - lo), 1e-3)


def has_sharp_edges(grey: np.ndarray) -> bool:
    """Small pictures (a 32x32 scan blown up smoothly from 8x8) always count as sharp."""
    return max(grey.shape) <= SMALL_PICTURE or sharpness(grey) >= SHARP

"""Any picture of a digit -> the 28x28 input an MNIST network expects, step by step.

MNIST digits were size-normalised to fit a 20x20 box (aspect ratio kept, anti-aliased) and
centred by centre of mass in a 28x28 frame, white ink on black. A drawing or a photo goes
through the same steps, and each step is kept (with a picture and a one-sentence reason) so
the app can show how the network's input was made:

    grey -> invert -> clean -> crop -> thicken -> scale -> center

Fashion-MNIST pictures were made differently (the item's longest side scaled to 28, the
item centred, its shading kept), so preprocess_item does that for a Fashion-MNIST model;
preprocess_for(dataset) picks the right one.

numpy and Pillow only. Huge photos are shrunk first (to at most WORK_SIZE pixels a side), so
a 12-megapixel photo takes tens of milliseconds, a 280x280 drawing about a millisecond.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .images import to_grey

SIZE = 28  # the network's input, pixels a side
BOX = 20  # MNIST's digits fit a 20x20 box inside it
CENTER = 14.0  # MNIST centres of mass (row, column) lie within 14 +- 0.5 (pixel indices)
WORK_SIZE = 640  # larger inputs are shrunk to about this many pixels a side first
INK_THRESHOLD_CLEAN = 0.02  # ink for the crop in a noiseless picture (photos: above the noise)
# Stroke width in 28x28 pixels as _stroke_width measures it (2 x area / perimeter, which
# reads low: MNIST's test digits give 1.26 / 1.75 / 2.53 at the 10th / 50th / 90th
# percentile). Strokes thinner than THIN_STROKE (thinner than ~90% of MNIST) are thickened
# to TARGET_STROKE. Measured on 2000 MNIST test digits redrawn as pen strokes at 280x280: with
# a 3 px pen the lecture's Keras model goes from 82.6% to 95.1% correct, the deep one from
# 93.4% to 97.9%, cnnviz's (trained with thickness changes) from 98.7% to 98.9%; with the
# pad's 20 px brush nothing changes (the strokes are already MNIST-like).
THIN_STROKE = 1.3
TARGET_STROKE = 2.0


@dataclass
class PreprocessStep:
    key: str  # "grey", "invert", "clean", "crop", "thicken", "scale", "center"
    title: str  # short, for a caption
    explanation: str  # one plain sentence, for a tooltip
    image: np.ndarray  # float32 0..1; white ink on black except "grey" (the input as seen)


@dataclass
class DigitInput:
    image: np.ndarray  # (28, 28) float32 in [0, 1], white ink on black: what the network sees
    steps: list[PreprocessStep] = field(default_factory=list)
    inverted: bool = False  # the input was dark ink on a light background
    empty: bool = False  # no ink found: image is all zeros (the caller can say "draw something")
    bbox: tuple[int, int, int, int] | None = None  # ink (top, left, bottom, right) in the input
    # pixels; bottom and right are exclusive, as in image[top:bottom, left:right]
    # Why there is no digit to read, when empty: "blank" (nothing stands out from the paper)
    # or "no single digit" (something is there, but not ink on paper: a colourful photo).
    reason: str = ""


# ----- small numpy tools ---------------------------------------------------------------------


def _to_grey(image: np.ndarray) -> tuple[np.ndarray, int]:
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


def _tile_background(v: np.ndarray) -> np.ndarray | float:
    """A smooth estimate of the paper's level (ink is bright here), from the 20th percentile
    of tiles (at least 24 pixels a side); pictures under 48 pixels get one level for all."""
    h, w = v.shape
    tiles = min(6, min(h, w) // 24)  # tiles at least 24 pixels a side
    if tiles < 2:
        return float(np.percentile(v, 20))
    th, tw = h // tiles, w // tiles
    grid = v[: th * tiles, : tw * tiles].reshape(tiles, th, tiles, tw).transpose(0, 2, 1, 3)
    levels = np.percentile(grid.reshape(tiles, tiles, -1), 20, axis=2).astype(np.float32)
    # A tile mostly covered by ink is not paper: it takes the lowest level among its
    # neighbours. On a small picture (fewer, larger tiles) the lowest would be paper in
    # another light, so there a tile takes its neighbours' median when that is lower.
    padded = np.pad(levels, 1, mode="edge")
    around = [padded[i:i + tiles, j:j + tiles] for i in range(3) for j in range(3)]
    if tiles == 6:
        levels = np.min(around, axis=0)
    else:
        levels = np.minimum(levels, np.median(around, axis=0)).astype(np.float32)
    if float(levels.max() - levels.min()) < 0.02:
        return float(levels.mean())
    small = Image.fromarray(levels, "F")
    return np.asarray(small.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)


def _clean(v: np.ndarray) -> tuple[np.ndarray, float, str]:
    """Paper to 0 and ink to about 1.

    Returns (cleaned, ink threshold, explanation); the threshold (above the paper's noise)
    is what counts as ink for the crop, or 0 when no ink was found."""
    background = _tile_background(v)
    r = v - background
    sample = r if r.size <= 65536 else r.ravel()[:: r.size // 65536 + 1]
    mid = float(np.median(sample))
    sigma = 1.4826 * float(np.median(np.abs(sample - mid)))  # noise of the paper
    floor = mid + 3.0 * sigma
    strong = r[r > floor + max(0.1, 3.0 * sigma)]
    if strong.size == 0:
        return np.zeros_like(v), 0.0, "No ink was found: the picture is one even shade."
    ink = float(np.percentile(strong, 99))
    if ink - floor < 0.05:
        return np.zeros_like(v), 0.0, "No ink was found: there is too little contrast."
    if sigma == 0.0 and floor == 0.0 and np.ndim(background) == 0 and background == 0.0:
        # Already black paper without noise (a drawing, an MNIST digit): kept as it is,
        # unless the ink is dim (a grey pen), which is brightened to white.
        if ink >= 0.9:
            return v.copy(), INK_THRESHOLD_CLEAN, ("Not needed: the background is already "
                                                   "black and the ink white.")
        out = np.clip(v * np.float32(1.0 / ink), 0.0, 1.0)
        return out.astype(np.float32), INK_THRESHOLD_CLEAN, ("The background is black but the "
                                                             "ink was dim, so it was brightened "
                                                             "to white.")
    scale = 1.0 / (ink - floor)
    out = np.clip((r - np.float32(floor)) * np.float32(scale), 0.0, 1.0).astype(np.float32)
    threshold = max(INK_THRESHOLD_CLEAN, min(0.5, 0.1 + 3.0 * sigma * scale))
    return out, threshold, ("The paper's shade was subtracted and the contrast stretched, so "
                            "the background is black and the ink white, like MNIST.")


def _runs(profile: np.ndarray) -> list[tuple[int, int, float]]:
    """Runs of non-zero entries: (start, stop, mass)."""
    on = profile > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
    return [(int(a), int(b), float(profile[a:b].sum())) for a, b in zip(edges[::2], edges[1::2])]


def _span(profile: np.ndarray) -> tuple[int, int] | None:
    """The extent of the ink along one axis, leaving out small specks far from the digit:
    starting from the heaviest run of ink, a neighbouring run joins if it is substantial
    (2% of the ink) or close (within 30% of the extent so far)."""
    runs = _runs(profile)
    if not runs:
        return None
    total = sum(m for _, _, m in runs)
    i = j = max(range(len(runs)), key=lambda k: runs[k][2])
    lo, hi = runs[i][0], runs[i][1]
    while True:
        options = []
        if i > 0:
            options.append((lo - runs[i - 1][1], runs[i - 1][2], -1))
        if j < len(runs) - 1:
            options.append((runs[j + 1][0] - hi, runs[j + 1][2], 1))
        options = [o for o in options if o[1] >= 0.02 * total or o[0] <= max(2, 0.3 * (hi - lo))]
        if not options:
            return lo, hi
        _, _, side = min(options)
        if side < 0:
            i -= 1
            lo = runs[i][0]
        else:
            j += 1
            hi = runs[j][1]


def _ink_box(clean: np.ndarray, threshold: float) -> tuple[int, int, int, int] | None:
    mask = clean > threshold
    if not mask.any():
        return None
    weights = np.where(mask, clean, 0.0)
    rows = _span(weights.sum(axis=1))
    cols = _span(weights.sum(axis=0))
    if rows is None or cols is None:
        return None
    return rows[0], cols[0], rows[1], cols[1]


def _stroke_width(patch: np.ndarray, level: float = 0.5) -> float:
    """Mean stroke width in the patch's pixels: 2 x area / perimeter of the ink (> level).

    For a stroke of width d and length L this is d L / (L + d), about d."""
    mask = patch > level
    area = int(mask.sum())
    if area == 0:
        return 0.0
    m = np.pad(mask, 1).astype(np.int8)
    perimeter = int(np.abs(np.diff(m, axis=0)).sum() + np.abs(np.diff(m, axis=1)).sum())
    return 2.0 * area / max(perimeter, 1)


def _dilate(a: np.ndarray, radius: int) -> np.ndarray:
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


def _resize(a: np.ndarray, height: int, width: int) -> np.ndarray:
    if a.shape == (height, width):
        return a.astype(np.float32, copy=True)
    im = Image.fromarray(np.ascontiguousarray(a, np.float32), "F")
    out = np.asarray(im.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


def _place(patch: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """Put the patch in a 28x28 frame, its centre of mass on CENTER by whole-pixel shifts
    (as MNIST was made), but never pushing ink out of the frame."""
    h, w = patch.shape
    mass = float(patch.sum())
    if mass > 0:
        cy = float((patch.sum(axis=1) * np.arange(h)).sum()) / mass
        cx = float((patch.sum(axis=0) * np.arange(w)).sum()) / mass
    else:
        cy, cx = (h - 1) / 2, (w - 1) / 2
    top = min(max(math.floor(CENTER - cy + 0.5), 0), SIZE - h)
    left = min(max(math.floor(CENTER - cx + 0.5), 0), SIZE - w)
    out = np.zeros((SIZE, SIZE), np.float32)
    out[top:top + h, left:left + w] = patch
    return out, (top, left)


# ----- finding the digit as a person would ---------------------------------------------------

SIDE_PAPER = 0.75  # a side of the picture is paper when this share of it is paper-coloured
TIGHT_PAD = 0.25  # paper added around a tight crop, as a share of its longest side
BAND_CONTACT = 0.6  # a dark region along this share of a side (or more) is background
LINE_COVERAGE = 0.6  # a thin line across this share of the page is a ruled line, not ink
LINE_BITS = 0.8  # ink left on the ruled lines' rows and columns, this share or more: no digit
LINE_BIT = 4  # on ruled paper, ink this thin (pixels) and 20 times as long is a bit of a line
# (a line 1-3 px, blurred, may leave a piece 3-4 px thick)
MIN_FILL = 0.03  # a photo's ink filling less of its box than this is noise, not strokes
FLAT = 4.0  # a photo's ink this many times wider than tall is a bit of a line, not a digit
# A colourful photo, not ink on paper (measured on cnnviz/core/pictures/user_pictures.py's 500 phone
# photos of pen digits, up to 43.5 and 0.32, and 500 colourful scenes):
COLOURFUL = 55.0  # colourfulness (Hasler and Suesstrunk, 2003)
SATURATED = 0.4  # share of the middle strongly coloured


def _otsu(values: np.ndarray) -> tuple[float, float, float, float]:
    """Otsu's two-class split of values in 0..1: (threshold, dark mean, light mean, the
    share of the variance the split explains)."""
    hist, edges = np.histogram(values, bins=64, range=(0.0, 1.0))
    p = hist.astype(np.float64) / max(1, hist.sum())
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(p)
    m = np.cumsum(p * centres)
    total_mean, total_var = m[-1], float((p * (centres - m[-1]) ** 2).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * w0 - m) ** 2 / (w0 * (1 - w0))
    between[~np.isfinite(between)] = 0.0
    k = int(np.argmax(between[:-1]))
    dark = m[k] / w0[k] if w0[k] > 0 else 0.0
    light = (total_mean - m[k]) / (1 - w0[k]) if w0[k] < 1 else 1.0
    return float(edges[k + 1]), float(dark), float(light), float(between[k] / total_var) if total_var > 0 else 0.0


def _thickness(mask: np.ndarray) -> float:
    """2 x area / perimeter of a mask, counting only boundaries inside the picture: about the
    width of a stroke; large for a background that surrounds things."""
    edges = int(np.count_nonzero(mask[1:] != mask[:-1]) + np.count_nonzero(mask[:, 1:] != mask[:, :-1]))
    return 2.0 * float(mask.sum()) / edges if edges else math.inf


def _side_shares(mask: np.ndarray, ring: int) -> list[float]:
    """The share of each side's ring (top, bottom, left, right) that is True."""
    return [float(mask[:ring].mean()), float(mask[-ring:].mean()),
            float(mask[:, :ring].mean()), float(mask[:, -ring:].mean())]


def _label(mask: np.ndarray) -> tuple[np.ndarray, int]:
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


def _regions(mask: np.ndarray, least: float = 0.01) -> int:
    """How many connected regions of at least `least` of the picture's area the mask holds
    (worked out on a copy at most 64 pixels a side)."""
    step = max(1, math.ceil(max(mask.shape) / 64))
    small = mask[::step, ::step]
    labels, n = _label(small)
    if n == 0:
        return 0
    sizes = np.bincount(labels.ravel())[1:]
    return int((sizes >= least * small.size).sum())


SHARP = 7.0  # edges at least this sharp (see _sharpness) are ink or lines, not shading


def _sharpness(grey: np.ndarray) -> float:
    """How sharp the picture's sharpest edges are, whatever its size: the steepest change
    between neighbours (99.5th percentile) on a copy about 64 pixels a side, times that size,
    over the picture's range of shades. Measured on cnnviz/core/pictures/user_pictures.py: a page with
    only uneven light and noise 2-6, pencil, pen and crops of digits 9 and more (a tight
    crop at 300 pixels is the softest); ruled lines are sharp too (they are removed later)."""
    f = max(1, math.ceil(max(grey.shape) / 64))
    r = np.asarray(Image.fromarray(np.ascontiguousarray(grey), "F").reduce(f)) if f > 1 else grey
    if min(r.shape) < 2:
        return math.inf
    lo, hi = np.percentile(r, [1, 99])
    steep = max(float(np.percentile(np.abs(np.diff(r, axis=0)), 99.5)),
                float(np.percentile(np.abs(np.diff(r, axis=1)), 99.5)))
    return steep * max(r.shape) / max(float(hi - lo), 1e-3)


def _sharp(grey: np.ndarray) -> bool:
    """Small pictures (a 32x32 scan blown up smoothly from 8x8) always count as sharp."""
    return max(grey.shape) <= 64 or _sharpness(grey) >= SHARP


@dataclass
class _Polarity:
    flip: bool  # dark ink on light paper: flip to white on black
    tight: bool  # the ink reaches all four sides: the picture has no paper border
    paper: float  # the paper's shade after the flip (0..1)
    two_tone: bool  # a clear split into ink and paper was found
    by_strokes: bool = False  # the sides could not tell; the ink's shape did
    even: bool = False  # the border is one even shade (a drawing pad, a clean page)
    fills: bool = False  # the ink could fill a tight crop (a few strokes, 12% or more)


def _polarity(grey: np.ndarray, invert: bool | str) -> _Polarity:
    """Which shade is ink, and whether the picture is cropped tightly to it.

    Paper surrounds a digit, so the class (of Otsu's two) that fills at least three of the
    four sides is paper. When neither does (a picture cropped tightly to the digit), the
    ink is the class that forms one connected stroke, while the paper falls apart into
    corners and holes (fewer regions; the thinner class on a tie). tight: the ink comes
    within a few pixels of all four sides (the picture gets a paper border before the
    rest)."""
    h, w = grey.shape
    ring = max(1, min(h, w) // 50)
    border = np.concatenate([grey[:ring].ravel(), grey[-ring:].ravel(),
                             grey[:, :ring].ravel(), grey[:, -ring:].ravel()])
    if float(border.max() - border.min()) < 1e-6 and invert == "auto":
        # An even border (a drawing pad, a clean page): it is the paper.
        flip = float(border[0]) > 0.5
        return _Polarity(flip, False, 1.0 - float(border[0]) if flip else float(border[0]), False,
                         even=True)
    step = max(1, int(math.sqrt(grey.size / 16384)))
    sample = grey[::step, ::step]
    t, dark_mean, light_mean, explained = _otsu(sample)
    if light_mean - dark_mean < 0.25 or explained < 0.6 or not _sharp(grey):
        # No clear ink and paper: the border's shade says which is paper; when the border is
        # mid-grey (paper in shadow beside a dark table), the picture's shades do: the paper
        # is the most of it and the ink the longer tail, darker or lighter than it.
        edge = float(np.median(border))
        if invert != "auto":
            flip = bool(invert)
        elif abs(edge - 0.5) < 0.15:
            lo, mid, hi = np.percentile(sample, [0.5, 50, 99.5])
            flip = bool(mid - lo > hi - mid)
        else:
            flip = edge > 0.5
        return _Polarity(flip, False, 1.0 - edge if flip else edge, False)
    light = sample >= t
    shares = _side_shares(light, max(1, ring // step))
    light_sides = sum(f >= SIDE_PAPER for f in shares)
    dark_sides = sum(f <= 1 - SIDE_PAPER for f in shares)
    by_strokes = False
    if invert != "auto":
        flip = bool(invert)
    elif light_sides >= 3 and light_sides > dark_sides:
        flip = True
    elif dark_sides >= 3 and dark_sides > light_sides:
        flip = False
    elif _table_along_a_side(shares):
        flip = True  # the light class is the paper, the dark band along one side the table
    else:
        by_strokes = True
        dark_regions, light_regions = _regions(~light), _regions(light)
        if dark_regions != light_regions:
            flip = dark_regions < light_regions
        else:
            flip = _thickness(~light) < _thickness(light)
    # The paper's shade: the far end of its class (the class also holds the ink's soft edges).
    paper = (1.0 - float(np.percentile(sample[light], 90))) if flip \
        else float(np.percentile(sample[~light], 10))
    # Tight: the ink comes within a few pixels (6% of the picture's size) of all four sides.
    ink = ~light if flip else light
    near = max(1, round(0.06 * min(sample.shape)))
    reach = _side_shares(ink, near)
    # Lines along two opposite sides at once are ruling or a table, not a digit's strokes.
    along = (reach[0] > 0.85 and reach[1] > 0.85) or (reach[2] > 0.85 and reach[3] > 0.85)
    # Ink along the whole of a side's outermost pixels is the table or the ruling, not a
    # digit cropped tightly (a digit's strokes end before the corner).
    loose = dark_mean + (0.7 if flip else 0.3) * (light_mean - dark_mean)  # a pale table too
    full = max(_side_shares(sample < loose if flip else sample > loose, 1)) > 0.95
    # And a digit fills much of its tight crop (15-70% ink measured on MNIST test digits);
    # a photo's few strokes do not.
    # The ink is one stroke or a few, not the many lines of a page.
    fills = float(ink.mean()) >= 0.12 and _regions(ink) <= 3
    # Last, the strokes cut the paper into pieces (corners, holes); uneven light on a blank
    # page leaves it in one.
    # Nor is a grid of lines both ways (squared paper) a digit.
    grid = all(_ruling(m.astype(np.float32), 1.0, 3) is not None for m in (ink, ink.T))
    tight = (fills and min(reach) > 0 and not along and not full and _regions(~ink) >= 2
             and not grid)
    return _Polarity(flip, tight, paper, True, by_strokes, fills=fills)


def _table_along_a_side(light_shares: list[float]) -> bool:
    """A phone photo with the table (dark) along one side, the paper's shading leaving too
    few sides plainly light: one side is all dark, the opposite side mostly light, and the
    light class covers most (60%) of at least two sides. Ink strokes do not: a tight crop's
    ink touches its sides only where its strokes end."""
    opposite = (1, 0, 3, 2)  # top-bottom, left-right
    band = any(f <= 0.05 and light_shares[opposite[i]] >= 0.5 for i, f in enumerate(light_shares))
    return band and sum(f >= 0.6 for f in light_shares) >= 2


def colourfulness(image: np.ndarray) -> float:
    """Hasler and Suesstrunk's colourfulness of an RGB picture (0 for grey; below 45 for our
    phone photos of a pen digit on paper, the table included; 45-180 for a colourful scene).
    Sampled: a few thousand pixels."""
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] < 3:
        return 0.0
    step = max(1, int(math.sqrt(a.shape[0] * a.shape[1] / 8192)))
    rgb = np.nan_to_num(a[::step, ::step, :3].astype(np.float32))
    if a.dtype == np.bool_:
        rgb = rgb * 255
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    return float(math.hypot(rg.std(), yb.std()) + 0.3 * math.hypot(rg.mean(), yb.mean()))


def saturated_share(image: np.ndarray) -> float:
    """The share of the middle of an RGB picture (the table shows at the edges) that is
    strongly coloured: saturation (max - min) / max above 0.3, not near black. Below 0.35
    for our phone photos of a pen digit (a blue pen included); most colourful scenes 0.4-1."""
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] < 3:
        return 0.0
    h, w = a.shape[:2]
    a = a[h // 5:h - h // 5, w // 5:w - w // 5, :3]
    step = max(1, int(math.sqrt(a.shape[0] * a.shape[1] / 8192)))
    rgb = np.nan_to_num(a[::step, ::step].astype(np.float32))
    if rgb.size == 0:
        return 0.0
    top, low = rgb.max(axis=2), rgb.min(axis=2)
    return float((((top - low) > 0.3 * np.maximum(top, 1e-6)) & (top > 40)).mean())


def _colourful_photo(image: np.ndarray) -> bool:
    """A colourful scene, not ink on paper (two measures, as either alone lets some through)."""
    return saturated_share(image) >= SATURATED or colourfulness(image) >= COLOURFUL


def _edge_depths(mask: np.ndarray) -> np.ndarray:
    """For each column, how many pixels of ink run down from the top row without a gap."""
    gaps = ~mask
    first = np.argmax(gaps, axis=0)
    return np.where(gaps.any(axis=0), first, mask.shape[0])


SIDE_NAMES = ("top", "bottom", "left", "right")


def _remove_bands(cleaned: np.ndarray, threshold: float) -> list[str]:
    """Ink that runs along most of a side from the edge inwards is the table (or anything
    behind the paper), not the digit: cleared in place. Returns the sides cleared."""
    mask = cleaned > 0.5 * threshold  # a pale table is still no paper
    h, w = mask.shape
    found = []
    views = (lambda a: a, lambda a: a[::-1], lambda a: a.T, lambda a: a.T[::-1])
    for side, view in zip(SIDE_NAMES, views):
        m = view(mask)
        depth = _edge_depths(m)
        if float((depth > 0).mean()) < BAND_CONTACT:
            continue
        across = m.shape[0]
        typical = float(np.percentile(depth[depth > 0], 90))
        if typical >= 0.45 * across:  # half the picture is no band: leave it to the rest
            continue
        # Each position is cleared to its own depth (or the band's usual depth, where the
        # wood's grain breaks the ink), plus its soft, uneven edge, never much further than
        # the usual depth: a digit near or touching the band keeps the rest of its strokes.
        margin = 2 + across // 50
        usual = float(np.median(depth[depth > 0]))
        cap = int(min(across, typical + margin))
        limit = np.minimum(np.maximum(depth, usual) + margin, cap)
        rows = np.arange(across)[:, None]
        target = view(cleaned)
        target[rows < limit[None, :]] = 0.0
        found.append(side)
    return found


def _run_lengths(mask: np.ndarray) -> np.ndarray:
    """For every pixel, the length of the vertical run of True it belongs to (0 if False)."""
    h, w = mask.shape
    m = np.pad(mask.T, ((0, 0), (1, 0))).ravel()  # one False before each column
    starts = m[1:] & ~m[:-1]
    ids = np.cumsum(starts) * m[1:]
    lengths = np.bincount(ids)
    lengths[0] = 0
    out = np.zeros(w * (h + 1), np.int64)
    out[1:] = lengths[ids]  # index shift: m[1:] lines up with positions 1..
    return out.reshape(w, h + 1)[:, 1:].T


def _ruling(target: np.ndarray, threshold: float, least: int = 2, along: int = 0
            ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray] | None:
    """The horizontal lines of a page's ruling in a cleaned picture (use its transpose for
    the vertical ones): (rows the lines run along, their pixels, k: how far a hand-held
    photo's line strays from one row), or None when there is no ruling: thin lines that run
    across LINE_COVERAGE of the page, at least `least` of them (ruling comes as several
    parallel lines; a margin line, alone, counts only beside a ruling the other way).
    along: average this many pixels either way along the lines first (a faint line in
    noise). Also returns the (averaged) shades on the lines' pixels."""
    if along:
        c = np.cumsum(np.pad(target, ((0, 0), (along + 1, along)), mode="edge"), axis=1)
        target = (c[:, 2 * along + 1:] - c[:, :-(2 * along + 1)]) / np.float32(2 * along + 1)
    # A faint line is a line too (averaged, the noise is a third of what set the threshold).
    mask = target > (0.5 * threshold / (3.0 if along else 1.0))
    h, w = mask.shape
    if h < 60 or w < 60:  # too small for a page of ruled paper
        return None
    k = 1 + h // 200  # a hand-held photo's lines are not quite level
    c = np.cumsum(np.pad(mask, ((k + 1, k), (0, 0))).astype(np.int32), axis=0)
    near = (c[2 * k + 1:] - c[:-(2 * k + 1)]) > 0
    rows = near.mean(axis=1) >= LINE_COVERAGE
    groups = int(np.count_nonzero(np.diff(np.concatenate([[0], rows.astype(np.int8), [0]])) == 1))
    if groups < least:
        return None
    thin = _run_lengths(mask) <= 2 * k + 3 + h // 150
    line = mask & thin & rows[:, None]
    return (rows, line, k, target[line]) if line.any() else None


# Notebook ruling is printed in a light colour (blue to purple, 150-170 of 255 in grey on a
# page of 240) and a pen is darker (navy, blue or black: 30-90): in a cleaned picture, where
# the pen is about 1, the lines reach about 0.35-0.45. Everything up to RULING_MARGIN times
# the ruling's level (the RULING_LEVEL-th percentile of its pixels: the lines in the
# brightest light) is taken as paper, when that floor is below RULING_MOST (the lines are
# plainly lighter than the ink; a ruling as dark as the pen is left to the line removal).
RULING_LEVEL = 90
RULING_MARGIN = 1.3
RULING_MOST = 0.7
RULING_ALONG = 4  # to find a faint ruling in noise, shades are averaged 4 px either way along it


def _lift_ruling(cleaned: np.ndarray, threshold: float) -> np.ndarray | None:
    """A light ruling (horizontal, vertical or both) lifted off the page in place: the
    shades up to a floor above the lines' own go to paper, the rest is stretched back to
    0..1, so the pen's strokes stay whole where lines cross them. Returns where the lines
    ran (a mask, for what is left of them), or None when there was no light ruling."""
    found: list[tuple[tuple[np.ndarray, np.ndarray, int, np.ndarray], np.ndarray]] = []
    for target in (cleaned, cleaned.T):
        ruling = _ruling(target, threshold, 1 if found else 2, RULING_ALONG)
        if ruling is not None:
            found.append((ruling, target))
    if not found:
        return None
    values = np.concatenate([ruling[3] for ruling, _ in found])
    floor = RULING_MARGIN * float(np.percentile(values, RULING_LEVEL))
    if floor >= RULING_MOST:
        return None
    bands = np.zeros(cleaned.shape, bool)
    for (_, line, _, _), target in found:
        band = bands if target is cleaned else bands.T
        band |= _dilate(line.astype(np.float32), 2) > 0
    if len(found) == 2:  # where the lines cross (neither line's thin pixels) is ruling too
        rows, cols = found[0][0][0], found[1][0][0]
        bands |= rows[:, None] & cols[None, :]
    np.clip((cleaned - np.float32(floor)) * np.float32(1 / (1 - floor)), 0, 1, out=cleaned)
    return bands


def _remove_ruled_lines(cleaned: np.ndarray, threshold: float) -> tuple[int, np.ndarray]:
    """Thin lines that run across (nearly) the whole page, horizontal or vertical, are the
    paper's ruling, not ink: cleared in place, except where a stroke of the digit crosses
    them. Returns how many lines were cleared and where they ran (a mask of their pixels,
    grown a little)."""
    count = 0
    bands = np.zeros(cleaned.shape, bool)
    along: list[np.ndarray | None] = [None, None]  # the rows, the columns the lines run along
    for side, (target, band) in enumerate(((cleaned, bands), (cleaned.T, bands.T))):
        found = _ruling(target, threshold, 1 if count else 2)
        if found is None:
            continue
        along[side], line, k, _ = found
        mask = target > 0.5 * threshold
        thin = _run_lengths(mask) <= 2 * k + 3 + target.shape[0] // 150
        # The line's soft edges (just below the ink threshold) go too.
        grown = line.copy()
        grown[1:] |= line[:-1]
        grown[:-1] |= line[1:]
        target[grown & ~(mask & ~thin)] = 0.0
        hit = line.any(axis=1)
        count += int(np.count_nonzero(np.diff(np.concatenate([[0], hit.astype(np.int8), [0]])) == 1))
        band |= _dilate(line.astype(np.float32), k + 2) > 0
    rows, cols = along
    if rows is not None and cols is not None:  # where the lines cross is ruling too
        bands |= rows[:, None] & cols[None, :]
    return count, bands


# How wide the ink left after cleaning is (_stroke_width: 2 x area / perimeter), measured on
# cnnviz/core/pictures/user_pictures.py's pictures of digits (500 a kind): a pen on lined paper 2.1 px
# and more (the small digits in the page's unruled top band), on squared paper 4 and more, in
# phone photos 3.3 and more, but faint pencil (broken by the paper's grain) from 0.55; what
# cleaning leaves of a ruling is hairlines, 0.6-1.8. Ink under THIN_INK may be what is left
# of a ruling that the cleaned picture lost in part (faint lines under uneven light), so the
# page is looked at again for one (_faint_ruling); where one runs, ink under HAIRLINE that
# reaches the picture's edge is a line the edge cut.
HAIRLINE = 1.5
THIN_INK = 2.5
FAINT_RULING = 4.0  # a faint line's pixels stand this many times the noise above the paper


def _ridges(target: np.ndarray) -> tuple[np.ndarray, float]:
    """How far each pixel (averaged RULING_ALONG pixels either way along its row) stands
    above the brighter of the pixels a few rows above and below it: thin horizontal lines
    stand out, uneven light (smooth) and wide strokes do not. Returns that and its noise
    (a sigma: the spread of the averages along the rows, which the lines do not change)."""
    along = RULING_ALONG
    c = np.cumsum(np.pad(target, ((0, 0), (along + 1, along)), mode="edge"), axis=1)
    a = (c[:, 2 * along + 1:] - c[:, :-(2 * along + 1)]) / np.float32(2 * along + 1)
    d = 3 + target.shape[0] // 200  # past a line's width (and its blur) either way
    p = np.pad(a, ((d, d), (0, 0)), mode="edge")
    ridge = a - np.maximum(p[:-2 * d], p[2 * d:])
    apart = a[:, 2 * along + 1:] - a[:, :-(2 * along + 1)]  # independent averages
    noise = 1.4826 * float(np.median(np.abs(apart))) / math.sqrt(2) if apart.size else 0.0
    return ridge, noise


def _faint_ruling(v: np.ndarray) -> np.ndarray | None:
    """A ruling found on the picture's own shades v (ink bright), for when the cleaned
    picture lost it: where the light is uneven a faint line falls below the paper's noise
    floor over much of the page, so it no longer runs across it. Returns where the lines
    ran (grown by 2 pixels, with the squares where they cross), or None."""
    along: list[np.ndarray | None] = [None, None]  # the rows, the columns the lines run along
    bands = np.zeros(v.shape, bool)
    for side, (target, band) in enumerate(((v, bands), (v.T, bands.T))):
        ridge, noise = _ridges(target)
        found = _ruling(ridge, 2 * FAINT_RULING * max(noise, 1 / 255),
                        1 if along[0] is not None else 2)
        if found is not None:
            along[side] = found[0]
            band |= _dilate(found[1].astype(np.float32), 2) > 0
    rows, cols = along
    if rows is None and cols is None:
        return None
    if rows is not None and cols is not None:
        bands |= rows[:, None] & cols[None, :]
    return bands


def _pieces(mask: np.ndarray, most: int = 96) -> tuple[np.ndarray, int, np.ndarray, int]:
    """The connected pieces of a mask, worked out on a copy at most `most` cells a side (a
    cell is step x step pixels; a cell with any ink is ink): (labels per cell, how many
    pieces, each piece's ink in pixels with index 0 for none, step)."""
    h, w = mask.shape
    step = max(1, math.ceil(max(h, w) / most))
    hs, ws = math.ceil(h / step), math.ceil(w / step)
    padded = np.zeros((hs * step, ws * step), bool)
    padded[:h, :w] = mask
    cells = padded.reshape(hs, step, ws, step).sum(axis=(1, 3))
    labels, n = _label(cells > 0)
    mass = np.bincount(labels.ravel(), weights=cells.ravel().astype(np.float64), minlength=n + 1)
    return labels, n, mass, step


def _keep_digit(cleaned: np.ndarray, threshold: float) -> int:
    """Keep the ink that belongs to the digit: the largest connected region of ink and what
    lies near it or is substantial; specks, bits of lines and what touches the picture's
    edge (background) elsewhere are cleared in place.
    Returns how many regions were cleared (worked out on a copy at most 96 pixels a side)."""
    mask = cleaned > threshold
    h, w = mask.shape
    labels, n, mass, step = _pieces(mask)
    if n == 0:
        return 0
    hs, ws = labels.shape
    main = int(np.argmax(mass[1:])) + 1
    ys, xs = np.nonzero(labels == main)
    size = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    margin = 0.3 * size + 1
    top, bottom, left, right = ys.min() - margin, ys.max() + margin, xs.min() - margin, xs.max() + margin
    drop = np.zeros(n + 1, bool)
    for k in range(1, n + 1):
        if k == main or mass[k] >= 0.25 * mass[main]:
            continue
        ky, kx = np.nonzero(labels == k)
        inside = (ky.min() <= bottom and ky.max() >= top and kx.min() <= right and kx.max() >= left)
        edge = ky.min() == 0 or kx.min() == 0 or ky.max() == hs - 1 or kx.max() == ws - 1
        drop[k] = not inside or edge or mass[k] < 0.03 * mass[main]
    # Digits are tall: a main region flatter than 3% of the page (and 2 cells) is the bits of
    # a line or a smudge, not a digit; then everything goes.
    tall = ys.max() - ys.min() + 1 >= max(2, 0.03 * hs)
    if not tall:
        drop[1:] = True
    if not drop.any():
        return 0
    clear = np.repeat(np.repeat(drop[labels], step, axis=0), step, axis=1)[:h, :w]
    cleaned[clear] = 0.0
    return int(drop.sum())


def _not_strokes(cleaned: np.ndarray, threshold: float, bands: np.ndarray | None) -> str:
    """Why the ink left in a photo after the table, the ruling and the specks went is not a
    digit's strokes ('' when it is): nearly all of it lies on the ruled lines' rows and
    columns or, on ruled paper, it is LINE_BIT pixels thin or less and long (bits of those
    lines; where lines cross, neither line's thin pixels, counts as on them),
    or FLAT times wider than tall (digits are taller than wide), or a dot, or it fills under
    MIN_FILL of its box and is on ruled paper or a scatter of specks (_scattered) (strokes fill more: measured on cnnviz/core/pictures/user_pictures.py,
    faint pencil 5% and more, pen 14% and more)."""
    ink = cleaned > threshold
    total = int(np.count_nonzero(ink))
    if total == 0:
        return ""
    if bands is not None and np.count_nonzero(ink & bands) >= LINE_BITS * total:
        return "bits of the ruled lines, not a digit's strokes"
    box = _ink_box(cleaned, threshold)
    if box is None:
        return ""
    top, left, bottom, right = box
    height, width = bottom - top, right - left
    if bands is not None and min(height, width) <= LINE_BIT and max(height, width) >= 20 * min(height, width):
        return "bits of the ruled lines, not a digit's strokes"
    if width >= FLAT * height:
        return "a flat mark (a bit of a line), not a digit's shape"
    if max(height, width) < max(8, 0.03 * min(cleaned.shape)):
        return "a dot too small to be a digit"
    fill = float(np.count_nonzero(ink[top:bottom, left:right])) / (height * width)
    # On ruled paper what little is left is bits of lines and specks; elsewhere a thin pen
    # line on a noisy scan fills little of its box too, so there only a scatter counts.
    if 0 < fill < MIN_FILL and (bands is not None or _scattered(ink[top:bottom, left:right])):
        return "specks of noise, not a digit's strokes"
    return ""


def _scattered(mask: np.ndarray) -> bool:
    """The ink is a scatter of specks, not strokes: its largest connected piece (on a copy
    at most 96 cells a side, which bridges a thin pen line's small gaps) holds under half of
    it. A 1-pixel pen line on a noisy scan stays one piece."""
    _, n, mass, _ = _pieces(mask)
    return n > 1 and float(mass[1:].max()) < 0.5 * float(mass[1:].sum())


def _touches_edge(mask: np.ndarray) -> bool:
    """Some of the mask lies on the picture's outermost rows or columns."""
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _clear_background(cleaned: np.ndarray, threshold: float, v: np.ndarray) -> list[str]:
    """A photo's background cleared in place: a light notebook ruling, the table along its
    edges, ruled lines, marks away from the digit, and what is then left if it is not a
    digit's strokes (v: the picture before cleaning, to look again for a faint ruling).
    Returns what was done, in plain sentences."""
    notes = []
    lifted = _lift_ruling(cleaned, threshold)
    if lifted is not None:
        notes.append("The notebook's ruled lines are lighter than the pen, so every shade "
                     "as light as theirs was taken as paper.")
    sides = _remove_bands(cleaned, threshold)
    if sides:
        notes.append("Ignored a dark band along the " + " and ".join(sides) + " edge"
                     + ("s" if len(sides) > 1 else "") + " (the table, not ink).")
    lines, bands = _remove_ruled_lines(cleaned, threshold)
    if lines:
        notes.append(f"Removed {_plural(lines, 'ruled line')} that run across the page "
                     "(the paper, not ink).")
    ruled = bool(lines) or lifted is not None  # what is left is judged as on ruled paper
    if lifted is not None:
        bands |= lifted
    specks = _keep_digit(cleaned, threshold)
    if specks:
        notes.append(f"Cleared {_plural(specks, 'small mark')} away from the digit.")
    if sides or ruled:  # the band or the lines may have set the contrast: stretch the rest
        rest = cleaned[cleaned > threshold]
        if rest.size:
            top = float(np.percentile(rest, 99))
            if 0 < top < 0.95:
                np.clip(cleaned * np.float32(1 / top), 0, 1, out=cleaned)
    leftover = _not_strokes(cleaned, threshold, bands if ruled else None)
    width = _stroke_width(cleaned, threshold) if not leftover else 0.0
    if 0 < width < THIN_INK:
        # Thinner than a pen's strokes: what is left of a ruling that the cleaned picture
        # lost in part (faint lines under uneven light, lines cut by the picture's edge)?
        faint = _faint_ruling(v)
        if faint is not None:
            leftover = _not_strokes(cleaned, threshold, faint | bands)
            if not leftover and width < HAIRLINE and _touches_edge(cleaned > threshold):
                leftover = "hairlines on ruled paper (bits of its lines), not a pen's strokes"
    if leftover:
        cleaned[:] = 0.0
        notes.append(f"What was left is {leftover}, so it was cleared too.")
    return notes


def _find_ink(v: np.ndarray, tight: bool, paper: float) -> tuple[np.ndarray, float, list[str], int]:
    """White-on-black picture -> (cleaned, ink threshold or 0, notes ending with the
    cleaning's own explanation, paper border added). A tight crop gets a paper border first;
    a photo loses the table along its edges and the ruled lines across its page."""
    pad = 0
    notes = []
    if tight:
        # No paper border: add one, so that the paper is the majority, as in any other picture.
        pad = max(2, round(TIGHT_PAD * max(v.shape)))
        v = np.pad(v, pad, constant_values=np.float32(paper))
        notes.append(f"There is little or no paper around the ink (a tight crop or a small "
                     f"scan), so a {pad}-pixel paper border was added first.")
    cleaned, threshold, why = _clean(v)
    photo = not why.startswith(("Not needed", "The background is black"))
    if threshold > 0 and photo and not tight:
        notes += _clear_background(cleaned, threshold, v)
    return cleaned, threshold, notes + [why], pad


# ----- the pipeline ----------------------------------------------------------------------


def _box_in_input(box: tuple[int, int, int, int], factor: int, image) -> tuple[int, int, int, int]:
    """A box found on the shrunk working copy, in the input's own pixels."""
    top, left, bottom, right = box
    h, w = np.shape(image)[:2]
    return top * factor, left * factor, min(bottom * factor, h), min(right * factor, w)


def _grey_and_invert(image: np.ndarray, invert: bool | str, dataset: str):
    """The first two steps of every preprocessing: grey 0..1 (shrunk if huge), then white on
    black like the dataset. Returns (grey, shrink factor, inverted picture, flipped, steps)."""
    if invert not in ("auto", True, False):
        raise ValueError(f"invert must be 'auto', True or False, not {invert!r}")
    grey, factor = _to_grey(image)
    steps = [PreprocessStep("grey", "Grey", "The picture as shades of grey from black (0) to white (1)."
                  + (f" It was shrunk {factor}x first to keep this fast." if factor > 1 else ""),
                  grey)]
    h, w = grey.shape
    ring = max(1, min(h, w) // 50)  # a light border means a dark subject on light paper
    border = np.concatenate([grey[:ring].ravel(), grey[-ring:].ravel(),
                             grey[:, :ring].ravel(), grey[:, -ring:].ravel()])
    flip = float(np.median(border)) > 0.5 if invert == "auto" else bool(invert)
    if flip:
        v = 1.0 - grey
        why = (f"Dark on a light background was flipped to white on black, like {dataset}."
               if invert == "auto" else "The picture was flipped to white on black, as asked.")
    else:
        v = grey.copy()
        why = (f"Not needed: the picture is already light on a dark background, like {dataset}."
               if invert == "auto" else "Not flipped, as asked.")
    steps.append(PreprocessStep("invert", "Invert" if flip else "Invert (not needed)", why, v))
    return grey, factor, v, flip, steps


def _nothing_found(steps: list[PreprocessStep], flip: bool, why: str, reason: str = "blank") -> DigitInput:
    """The remaining steps, blank, when there is nothing to crop: an empty input."""
    blank = np.zeros((SIZE, SIZE), np.float32)
    steps += [PreprocessStep(key, title, why, blank) for key, title in
              (("crop", "Crop"), ("thicken", "Thicken"), ("scale", "Scale"), ("center", "Center"))]
    return DigitInput(image=blank, steps=steps, inverted=flip, empty=True, bbox=None, reason=reason)


def preprocess_digit(image: np.ndarray, *, invert: bool | str = "auto",
                     already_centered: bool = False, thicken: bool = True) -> DigitInput:
    """A picture of one digit -> the 28x28 MNIST-style network input, with every step.

    image: (H, W) or (H, W, 3) values 0..255 (as load_image gives) or uint8, any size.
    invert: "auto" (decided from the sides: paper surrounds a digit; when the ink reaches
    every side, a tight crop, the ink is the class that forms strokes), True or False.
    already_centered: the input is already an MNIST-style digit (for example a test image):
    only grey, invert and clean are applied, then it is resized to 28x28.
    thicken: strokes much thinner than MNIST's are thickened (a thin pen on a big pad).

    Photos are read as a person would: the table showing along an edge and the ruled lines
    of notebook paper are background, not ink; a tight crop gets a paper border first; a
    colourful photo is "no single digit" (reason), not "blank".
    """
    if invert not in ("auto", True, False):
        raise ValueError(f"invert must be 'auto', True or False, not {invert!r}")
    grey, factor = _to_grey(image)
    steps = [PreprocessStep("grey", "Grey", "The picture as shades of grey from black (0) to white (1)."
                  + (f" It was shrunk {factor}x first to keep this fast." if factor > 1 else ""),
                  grey)]
    reading = _polarity(grey, invert)
    flip = reading.flip
    v = 1.0 - grey if flip else grey.copy()
    if invert != "auto":
        why = "The picture was flipped to white on black, as asked." if flip else "Not flipped, as asked."
    elif flip:
        why = "Dark on a light background was flipped to white on black, like MNIST."
    else:
        why = "Not needed: the picture is already light on a dark background, like MNIST."
    if reading.by_strokes:
        why = why[:-1] + (" (the ink reaches every edge, so its strokes told which shade is "
                          "ink).")
    steps.append(PreprocessStep("invert", "Invert" if flip else ("Invert (not needed)" if invert == "auto"
                                                        else "Invert (off)"), why, v))

    # A small picture (a 32x32 scan) gets a paper border too: its digit fills it.
    small = max(grey.shape) <= 64 and not reading.even
    tight = (reading.tight or small) and not already_centered
    if not reading.even and not _sharp(grey):
        # Nothing with a sharp edge: only uneven light and noise on a blank page.
        steps.append(PreprocessStep("clean", "Clean", "No ink was found: nothing in the picture has a "
                          "sharp edge, only uneven light and noise (a blank page).",
                          np.zeros_like(v)))
        return _nothing_found(steps, flip, "No ink was found, so there is nothing to do here.")
    cleaned, threshold, notes, pad = _find_ink(v, tight, reading.paper)
    box = _ink_box(cleaned, threshold) if threshold > 0 else None
    if box is None and threshold == 0 and reading.fills and not tight and not already_centered:
        # Clear ink and paper, yet no ink found: most likely a crop so tight that the paper
        # is the minority. Read it again with a paper border. (Ink found and then cleared
        # as the page's background, such as squared paper's grid, is not read again.)
        cleaned, threshold, notes, pad = _find_ink(v, True, reading.paper)
        box = _ink_box(cleaned, threshold) if threshold > 0 else None
    why = notes.pop()
    if _colourful_photo(image):
        steps.append(PreprocessStep("clean", "Clean", " ".join(notes + [why]), cleaned))
        return _nothing_found(steps, flip, "The picture is a colourful photo, not ink on paper, "
                              "so no single digit was looked for.", reason="no single digit")
    title = "Clean (not needed)" if why.startswith("Not needed") and not notes else "Clean"
    steps.append(PreprocessStep("clean", title, " ".join(notes + [why]), cleaned))

    if box is None:
        return _nothing_found(steps, flip, "No ink was found, so there is nothing to do here.")
    top, left, bottom, right = box
    bbox = _box_in_input((max(0, top - pad), max(0, left - pad), max(1, bottom - pad),
                          max(1, right - pad)), factor, image)

    if already_centered:
        out = _resize(cleaned, SIZE, SIZE)
        same = "Skipped: the input is already an MNIST-style digit."
        steps += [PreprocessStep("crop", "Crop (skipped)", same, cleaned),
                  PreprocessStep("thicken", "Thicken (skipped)", same, cleaned),
                  PreprocessStep("scale", "Scale" if out.shape != cleaned.shape else "Scale (skipped)",
                       "Resized to 28×28." if cleaned.shape != (SIZE, SIZE) else same, out),
                  PreprocessStep("center", "Center (skipped)", same, out)]
        return DigitInput(image=out, steps=steps, inverted=flip, empty=not out.any(), bbox=bbox)

    crop = cleaned[top:bottom, left:right]
    ch, cw = crop.shape
    steps.append(PreprocessStep("crop", "Crop", f"Cut to the ink's bounding box ({cw}×{ch} pixels).", crop))

    # Thicken: stroke width in final (28x28) pixels, if this crop were scaled to the box.
    longest = max(ch, cw)
    width28 = _stroke_width(crop) * BOX / longest
    if thicken and 0 < width28 < THIN_STROKE and longest >= 2 * BOX:
        # Grow by r on each side: (width + 2r) * BOX / (longest + 2r) = TARGET_STROKE.
        target = TARGET_STROKE / BOX
        width_px = width28 * longest / BOX
        radius = max(1, round((target * longest - width_px) / (2 * (1 - target))))
        crop = _dilate(np.pad(crop, radius), radius)
        ch, cw = crop.shape
        longest = max(ch, cw)
        steps.append(PreprocessStep("thicken", "Thicken",
                          "The strokes were much thinner than MNIST's, so they were widened "
                          f"by {radius} pixels on each side to match.", crop))
    else:
        reason = ("Not needed: the strokes are about as wide as MNIST's." if thicken
                  else "Not applied, as asked.")
        steps.append(PreprocessStep("thicken", "Thicken (not needed)" if thicken else "Thicken (off)",
                          reason, crop))

    # Scale the longest side to 20 pixels, keeping the aspect ratio.
    sh = max(1, min(BOX, round(ch * BOX / longest)))
    sw = max(1, min(BOX, round(cw * BOX / longest)))
    patch = _resize(crop, sh, sw)
    steps.append(PreprocessStep("scale", "Scale", f"Resized to {sw}×{sh} pixels so the longest side is "
                      f"{BOX}, like MNIST's {BOX}×{BOX} box (aspect ratio kept, smoothed).", patch))

    out, (py, px) = _place(patch)
    steps.append(PreprocessStep("center", "Center", "Placed in a 28×28 frame so the centre of mass of the "
                      "ink is in the middle, as in MNIST.", out))
    return DigitInput(image=out, steps=steps, inverted=flip, empty=not out.any(), bbox=bbox,
                      reason="" if out.any() else "blank")


ITEM_INK = 0.08  # what counts as part of the item (not background) for the crop, after invert


def preprocess_item(image: np.ndarray, *, invert: bool | str = "auto") -> DigitInput:
    """A picture of one clothing item -> a 28x28 Fashion-MNIST-style input, with every step.

    Fashion-MNIST was made by trimming each product photo to the item, scaling its longest
    side to 28 pixels and centring it, with the shading kept (light item on black). So: grey,
    invert, crop to the item, scale, centre; no contrast cleaning or stroke thickening, which
    are for pen strokes. A 28x28 picture is taken to be in that format already.
    """
    grey, factor, v, flip, steps = _grey_and_invert(image, invert, "Fashion-MNIST")
    h, w = grey.shape
    keep = "Not needed: Fashion-MNIST keeps the shading of the cloth."
    steps.append(PreprocessStep("clean", "Clean (not needed)", keep, v))
    if (h, w) == (SIZE, SIZE):
        same = "Skipped: a 28×28 picture is taken to be a Fashion-MNIST image already."
        steps += [PreprocessStep(key, f"{title} (skipped)", same, v) for key, title in
                  (("crop", "Crop"), ("thicken", "Thicken"), ("scale", "Scale"), ("center", "Center"))]
        return DigitInput(image=v, steps=steps, inverted=flip, empty=not (v > ITEM_INK).any(),
                          bbox=(0, 0, SIZE, SIZE) if (v > ITEM_INK).any() else None)
    box = _ink_box(v, ITEM_INK)
    if box is None:
        return _nothing_found(steps, flip, "Nothing stands out from the background, so there is "
                                           "nothing to do here.")
    top, left, bottom, right = box
    crop = v[top:bottom, left:right]
    ch, cw = crop.shape
    steps.append(PreprocessStep("crop", "Crop", f"Cut to the item's bounding box ({cw}×{ch} pixels).", crop))
    steps.append(PreprocessStep("thicken", "Thicken (not needed)", "Not needed: for pen strokes only.", crop))
    longest = max(ch, cw)
    sh = max(1, min(SIZE, round(ch * SIZE / longest)))
    sw = max(1, min(SIZE, round(cw * SIZE / longest)))
    patch = _resize(crop, sh, sw)
    steps.append(PreprocessStep("scale", "Scale", f"Resized to {sw}×{sh} pixels so the longest side is "
                      f"{SIZE}, as Fashion-MNIST's pictures were (aspect ratio kept).", patch))
    out = np.zeros((SIZE, SIZE), np.float32)
    y0, x0 = (SIZE - sh) // 2, (SIZE - sw) // 2
    out[y0:y0 + sh, x0:x0 + sw] = patch
    steps.append(PreprocessStep("center", "Center", "Placed in the middle of a 28×28 frame.", out))
    return DigitInput(image=out, steps=steps, inverted=flip, empty=not out.any(),
                      bbox=_box_in_input(box, factor, image))


def preprocess_for(dataset: str | None):
    """The preprocessing that matches how a dataset's pictures were made (MNIST by default)."""
    return preprocess_item if dataset == "fashion-mnist" else preprocess_digit

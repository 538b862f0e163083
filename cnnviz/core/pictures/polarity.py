"""Which shade is ink and which is paper, and whether the picture is cropped tightly to the
ink (no paper border): read from the picture's sides, or, when the sides cannot tell, from
the shape of the ink.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .masks import count_regions
from .paper import has_sharp_edges
from .ruling import find_ruling

BORDER_RING = 50  # the sides' ring is this fraction (1/50) of the shorter side deep
EVEN_BORDER = 1e-6  # a border whose shades spread less than this is one even shade
OTSU_PIXELS = 16384  # Otsu's split is worked out on a sample of about this many pixels
OTSU_BINS = 64  # ... from a histogram of this many shades
# A clear split into ink and paper: the two classes' means at least TWO_TONE_GAP apart and
# the split explaining at least TWO_TONE_EXPLAINED of the variance.
TWO_TONE_GAP = 0.25
TWO_TONE_EXPLAINED = 0.6
MID_GREY = 0.15  # a border this close to 0.5 is paper in shadow: the shades' tails decide
TAIL = 0.5  # ... the tails reaching to this percentile at either end
SIDE_PAPER = 0.75  # a side of the picture is paper when this share of it is paper-coloured
PAPER_SIDES = 3  # paper surrounds a digit: its class is paper on at least this many sides
PAPER_END = 90  # the paper's shade: this percentile of its class, at the far end from the ink
# Tight crops. A digit fills much of its tight crop (15-70% ink on MNIST test digits): the
# ink fills TIGHT_FILL or more of the picture in TIGHT_PIECES connected pieces or fewer.
TIGHT_FILL = 0.12
TIGHT_PIECES = 3
NEAR_SIDE = 0.06  # ink this close to a side (a share of the picture's size) reaches it
ALONG_SIDES = 0.85  # ink along this share of two opposite sides is ruling or a table
FULL_SIDE = 0.95  # ink along this share of a side's outermost pixels is a table or ruling
# ... counting as ink, for that, what lies this far from the ink's mean towards the paper's
# (so a pale table counts): dark ink on light paper, light ink on dark paper.
LOOSE_DARK_INK = 0.7
LOOSE_LIGHT_INK = 0.3
PAPER_PIECES = 2  # a digit's strokes cut the paper into at least this many pieces
GRID_LINES = 3  # lines both ways, at least this many each way, are squared paper's grid
# A table along one side: that side's light share at most TABLE_DARK, the opposite side's
# at least TABLE_OPPOSITE, and at least TABLE_LIGHT_SIDES sides TABLE_LIGHT light or more.
TABLE_DARK = 0.05
TABLE_OPPOSITE = 0.5
TABLE_LIGHT = 0.6
TABLE_LIGHT_SIDES = 2


def _otsu(values: np.ndarray) -> tuple[float, float, float, float]:
    """Otsu's two-class split of values in 0..1: (threshold, dark mean, light mean, the
    share of the variance the split explains)."""
    hist, edges = np.histogram(values, bins=OTSU_BINS, range=(0.0, 1.0))
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


@dataclass
class Polarity:
    """How a picture's shades read: which is ink, and what kind of picture it is."""

    flip: bool  # dark ink on light paper: flip to white on black
    tight: bool  # the ink reaches all four sides: the picture has no paper border
    paper: float  # the paper's shade after the flip (0..1)
    two_tone: bool  # a clear split into ink and paper was found
    by_strokes: bool = False  # the sides could not tell; the ink's shape did
    even: bool = False  # the border is one even shade (a drawing pad, a clean page)
    fills: bool = False  # the ink could fill a tight crop (a few strokes, 12% or more)


def border_pixels(grey: np.ndarray) -> np.ndarray:
    """The shades of the ring along the picture's four sides (BORDER_RING of the shorter side
    deep, at least one pixel)."""
    h, w = grey.shape
    ring = max(1, min(h, w) // BORDER_RING)
    return np.concatenate([grey[:ring].ravel(), grey[-ring:].ravel(),
                           grey[:, :ring].ravel(), grey[:, -ring:].ravel()])


def read_polarity(grey: np.ndarray, invert: bool | str) -> Polarity:
    """Which shade is ink, and whether the picture is cropped tightly to it.

    Paper surrounds a digit, so the class (of Otsu's two) that fills at least three of the
    four sides is paper. When neither does (a picture cropped tightly to the digit), the
    ink is the class that forms one connected stroke, while the paper falls apart into
    corners and holes (fewer regions; the thinner class on a tie). tight: the ink comes
    within a few pixels of all four sides (the picture gets a paper border before the
    rest)."""
    border = border_pixels(grey)
    if float(border.max() - border.min()) < EVEN_BORDER and invert == "auto":
        # An even border (a drawing pad, a clean page): it is the paper.
        flip = float(border[0]) > 0.5
        return Polarity(flip, False, 1.0 - float(border[0]) if flip else float(border[0]), False,
                        even=True)
    step = max(1, int(math.sqrt(grey.size / OTSU_PIXELS)))
    sample = grey[::step, ::step]
    t, dark_mean, light_mean, explained = _otsu(sample)
    if light_mean - dark_mean < TWO_TONE_GAP or explained < TWO_TONE_EXPLAINED or not has_sharp_edges(grey):
        return _without_two_tones(sample, border, invert)
    light = sample >= t
    ring = max(1, min(grey.shape) // BORDER_RING)
    flip, by_strokes = _flip_by_sides(light, _side_shares(light, max(1, ring // step)), invert)
    # The paper's shade: the far end of its class (the class also holds the ink's soft edges).
    paper = (1.0 - float(np.percentile(sample[light], PAPER_END))) if flip \
        else float(np.percentile(sample[~light], 100 - PAPER_END))
    ink = ~light if flip else light
    # A digit fills much of its tight crop (15-70% ink measured on MNIST test digits); a
    # photo's few strokes do not. The ink is one stroke or a few, not the many lines of a page.
    fills = float(ink.mean()) >= TIGHT_FILL and count_regions(ink) <= TIGHT_PIECES
    loose = dark_mean + (LOOSE_DARK_INK if flip else LOOSE_LIGHT_INK) * (light_mean - dark_mean)
    tight = fills and _tight_crop(sample, ink, sample < loose if flip else sample > loose)
    return Polarity(flip, tight, paper, True, by_strokes, fills=fills)


def _without_two_tones(sample: np.ndarray, border: np.ndarray, invert: bool | str) -> Polarity:
    """No clear ink and paper: the border's shade says which is paper; when the border is
    mid-grey (paper in shadow beside a dark table), the picture's shades do: the paper is
    the most of it and the ink the longer tail, darker or lighter than it."""
    edge = float(np.median(border))
    if invert != "auto":
        flip = bool(invert)
    elif abs(edge - 0.5) < MID_GREY:
        lo, mid, hi = np.percentile(sample, [TAIL, 50, 100 - TAIL])
        flip = bool(mid - lo > hi - mid)
    else:
        flip = edge > 0.5
    return Polarity(flip, False, 1.0 - edge if flip else edge, False)


def _flip_by_sides(light: np.ndarray, shares: list[float], invert: bool | str) -> tuple[bool, bool]:
    """Whether the light class is the paper (flip), from the share of each side it covers;
    when the sides cannot tell, from the shape of the two classes (then by_strokes).
    Returns (flip, by_strokes)."""
    light_sides = sum(f >= SIDE_PAPER for f in shares)
    dark_sides = sum(f <= 1 - SIDE_PAPER for f in shares)
    if invert != "auto":
        return bool(invert), False
    if light_sides >= PAPER_SIDES and light_sides > dark_sides:
        return True, False
    if dark_sides >= PAPER_SIDES and dark_sides > light_sides:
        return False, False
    if _table_along_a_side(shares):
        return True, False  # the light class is the paper, the dark band along one side the table
    dark_regions, light_regions = count_regions(~light), count_regions(light)
    if dark_regions != light_regions:
        return dark_regions < light_regions, True
    return _thickness(~light) < _thickness(light), True


def _tight_crop(sample: np.ndarray, ink: np.ndarray, loose_ink: np.ndarray) -> bool:
    """Whether ink that could fill a tight crop is cropped tightly: it comes within a few
    pixels (NEAR_SIDE of the picture's size) of all four sides, but not as lines along two
    opposite sides (ruling or a table) nor along the whole of a side's outermost pixels
    (loose_ink: the ink and a pale table; a digit's strokes end before the corner), the
    strokes cut the paper into pieces (corners, holes; uneven light on a blank page leaves
    it in one), and it is no grid of lines both ways (squared paper)."""
    near = max(1, round(NEAR_SIDE * min(sample.shape)))
    reach = _side_shares(ink, near)
    along = (reach[0] > ALONG_SIDES and reach[1] > ALONG_SIDES) or \
        (reach[2] > ALONG_SIDES and reach[3] > ALONG_SIDES)
    full = max(_side_shares(loose_ink, 1)) > FULL_SIDE
    if min(reach) <= 0 or along or full or count_regions(~ink) < PAPER_PIECES:
        return False
    return not all(find_ruling(m.astype(np.float32), 1.0, GRID_LINES) is not None for m in (ink, ink.T))


def _table_along_a_side(light_shares: list[float]) -> bool:
    """A phone photo with the table (dark) along one side, the paper's shading leaving too
    few sides plainly light: one side is all dark, the opposite side mostly light, and the
    light class covers most (60%) of at least two sides. Ink strokes do not: a tight crop's
    ink touches its sides only where its strokes end."""
    opposite = (1, 0, 3, 2)  # top-bottom, left-right
    band = any(f <= TABLE_DARK and light_shares[opposite[i]] >= TABLE_OPPOSITE
               for i, f in enumerate(light_shares))
    return band and sum(f >= TABLE_LIGHT for f in light_shares) >= TABLE_LIGHT_SIDES

"""A photo's background, cleared so that only the digit's ink is left: a light notebook
ruling, the table along the edges, ruled lines, marks away from the digit, and what is then
left if it is not a digit's strokes. find_ink is the whole cleaning step.
"""

from __future__ import annotations

import numpy as np

from .framing import ink_box
from .masks import pieces, stroke_width
from .paper import subtract_paper
from .ruling import faint_ruling, lift_ruling, remove_ruled_lines

TIGHT_PAD = 0.25  # paper added around a tight crop, as a share of its longest side
TIGHT_PAD_LEAST = 2  # ... and at least this many pixels
BAND_CONTACT = 0.6  # a dark region along this share of a side (or more) is background
PALE_TABLE = 0.5  # a table's pixels are above this share of the ink threshold (a pale one too)
BAND_DEPTH = 90  # a band's typical depth: this percentile of its depths from the side
BAND_MOST = 0.45  # a band this deep (a share of the picture across it) or more is no band
# A band's soft, uneven edge: BAND_EDGE pixels and one per BAND_EDGE_PER of the picture.
BAND_EDGE = 2
BAND_EDGE_PER = 50
# The digit's ink (keep_digit): the largest piece, what lies within NEAR_DIGIT of its size
# (and a cell) of it, and any piece with SUBSTANTIAL of its ink or more; pieces under SPECK
# of its ink, or touching the edge, go. A main piece shorter than FLAT_MAIN of the page (or
# FLAT_MAIN_CELLS cells) is bits of a line or a smudge.
NEAR_DIGIT = 0.3
SUBSTANTIAL = 0.25
SPECK = 0.03
FLAT_MAIN = 0.03
FLAT_MAIN_CELLS = 2
LINE_BITS = 0.8  # ink left on the ruled lines' rows and columns, this share or more: no digit
LINE_BIT = 4  # on ruled paper, ink this thin (pixels) and LINE_BIT_LONG times as long is a bit of a line
# (a line 1-3 px, blurred, may leave a piece 3-4 px thick)
MIN_FILL = 0.03  # a photo's ink filling less of its box than this is noise, not strokes
LINE_BIT_LONG = 20
FLAT = 4.0  # a photo's ink this many times wider than tall is a bit of a line, not a digit
# Ink under DOT pixels and under DOT_SHARE of the picture's shorter side is a dot, no digit.
DOT = 8
DOT_SHARE = 0.03
SCATTER = 0.5  # ink whose largest piece holds under this share of it is a scatter of specks
# After the table or the lines are gone, the rest is stretched so that its STRETCH_LEVEL-th
# percentile is white, when that is under STRETCHED.
STRETCH_LEVEL = 99
STRETCHED = 0.95
# How wide the ink left after cleaning is (stroke_width: 2 x area / perimeter), measured on
# cnnviz/core/pictures/user_pictures.py's pictures of digits (500 a kind): a pen on lined paper 2.1 px
# and more (the small digits in the page's unruled top band), on squared paper 4 and more, in
# phone photos 3.3 and more, but faint pencil (broken by the paper's grain) from 0.55; what
# cleaning leaves of a ruling is hairlines, 0.6-1.8. Ink under THIN_INK may be what is left
# of a ruling that the cleaned picture lost in part (faint lines under uneven light), so the
# page is looked at again for one (faint_ruling); where one runs, ink under HAIRLINE that
# reaches the picture's edge is a line the edge cut.
HAIRLINE = 1.5
THIN_INK = 2.5
SIDE_NAMES = ("top", "bottom", "left", "right")


def _edge_depths(mask: np.ndarray) -> np.ndarray:
    """For each column, how many pixels of ink run down from the top row without a gap."""
    gaps = ~mask
    first = np.argmax(gaps, axis=0)
    return np.where(gaps.any(axis=0), first, mask.shape[0])


def remove_table_bands(cleaned: np.ndarray, threshold: float) -> list[str]:
    """Ink that runs along most of a side from the edge inwards is the table (or anything
    behind the paper), not the digit: cleared in place. Returns the sides cleared."""
    mask = cleaned > PALE_TABLE * threshold
    h, w = mask.shape
    found = []
    views = (lambda a: a, lambda a: a[::-1], lambda a: a.T, lambda a: a.T[::-1])
    for side, view in zip(SIDE_NAMES, views):
        m = view(mask)
        depth = _edge_depths(m)
        if float((depth > 0).mean()) < BAND_CONTACT:
            continue
        across = m.shape[0]
        typical = float(np.percentile(depth[depth > 0], BAND_DEPTH))
        if typical >= BAND_MOST * across:  # half the picture is no band: leave it to the rest
            continue
        # Each position is cleared to its own depth (or the band's usual depth, where the
        # wood's grain breaks the ink), plus its soft, uneven edge, never much further than
        # the usual depth: a digit near or touching the band keeps the rest of its strokes.
        margin = BAND_EDGE + across // BAND_EDGE_PER
        usual = float(np.median(depth[depth > 0]))
        cap = int(min(across, typical + margin))
        limit = np.minimum(np.maximum(depth, usual) + margin, cap)
        rows = np.arange(across)[:, None]
        target = view(cleaned)
        target[rows < limit[None, :]] = 0.0
        found.append(side)
    return found


def keep_digit(cleaned: np.ndarray, threshold: float) -> int:
    """Keep the ink that belongs to the digit: the largest connected region of ink and what
    lies near it or is substantial; specks, bits of lines and what touches the picture's
    edge (background) elsewhere are cleared in place.
    Returns how many regions were cleared (worked out on a copy at most 96 pixels a side)."""
    mask = cleaned > threshold
    h, w = mask.shape
    labels, n, mass, step = pieces(mask)
    if n == 0:
        return 0
    hs, ws = labels.shape
    main = int(np.argmax(mass[1:])) + 1
    ys, xs = np.nonzero(labels == main)
    size = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    margin = NEAR_DIGIT * size + 1
    top, bottom, left, right = ys.min() - margin, ys.max() + margin, xs.min() - margin, xs.max() + margin
    drop = np.zeros(n + 1, bool)
    for k in range(1, n + 1):
        if k == main or mass[k] >= SUBSTANTIAL * mass[main]:
            continue
        ky, kx = np.nonzero(labels == k)
        inside = (ky.min() <= bottom and ky.max() >= top and kx.min() <= right and kx.max() >= left)
        edge = ky.min() == 0 or kx.min() == 0 or ky.max() == hs - 1 or kx.max() == ws - 1
        drop[k] = not inside or edge or mass[k] < SPECK * mass[main]
    # Digits are tall: a main region flatter than 3% of the page (and 2 cells) is the bits of
    # a line or a smudge, not a digit; then everything goes.
    tall = ys.max() - ys.min() + 1 >= max(FLAT_MAIN_CELLS, FLAT_MAIN * hs)
    if not tall:
        drop[1:] = True
    if not drop.any():
        return 0
    clear = np.repeat(np.repeat(drop[labels], step, axis=0), step, axis=1)[:h, :w]
    cleaned[clear] = 0.0
    return int(drop.sum())


def not_strokes(cleaned: np.ndarray, threshold: float, bands: np.ndarray | None) -> str:
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
    box = ink_box(cleaned, threshold)
    if box is None:
        return ""
    top, left, bottom, right = box
    height, width = bottom - top, right - left
    if bands is not None and min(height, width) <= LINE_BIT and max(height, width) >= LINE_BIT_LONG * min(height, width):
        return "bits of the ruled lines, not a digit's strokes"
    if width >= FLAT * height:
        return "a flat mark (a bit of a line), not a digit's shape"
    if max(height, width) < max(DOT, DOT_SHARE * min(cleaned.shape)):
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
    _, n, mass, _ = pieces(mask)
    return n > 1 and float(mass[1:].max()) < SCATTER * float(mass[1:].sum())


def _touches_edge(mask: np.ndarray) -> bool:
    """Some of the mask lies on the picture's outermost rows or columns."""
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _plural(n: int, word: str) -> str:
    """'1 word', '2 words'."""
    return f"{n} {word}" + ("" if n == 1 else "s")


def clear_background(cleaned: np.ndarray, threshold: float, v: np.ndarray) -> list[str]:
    """A photo's background cleared in place: a light notebook ruling, the table along its
    edges, ruled lines, marks away from the digit, and what is then left if it is not a
    digit's strokes (v: the picture before cleaning, to look again for a faint ruling).
    Returns what was done, in plain sentences."""
    notes = []
    lifted = lift_ruling(cleaned, threshold)
    if lifted is not None:
        notes.append("The notebook's ruled lines are lighter than the pen, so every shade "
                     "as light as theirs was taken as paper.")
    sides = remove_table_bands(cleaned, threshold)
    if sides:
        notes.append("Ignored a dark band along the " + " and ".join(sides) + " edge"
                     + ("s" if len(sides) > 1 else "") + " (the table, not ink).")
    lines, bands = remove_ruled_lines(cleaned, threshold)
    if lines:
        notes.append(f"Removed {_plural(lines, 'ruled line')} that run across the page "
                     "(the paper, not ink).")
    ruled = bool(lines) or lifted is not None  # what is left is judged as on ruled paper
    if lifted is not None:
        bands |= lifted
    specks = keep_digit(cleaned, threshold)
    if specks:
        notes.append(f"Cleared {_plural(specks, 'small mark')} away from the digit.")
    if sides or ruled:  # the band or the lines may have set the contrast: stretch the rest
        rest = cleaned[cleaned > threshold]
        if rest.size:
            top = float(np.percentile(rest, STRETCH_LEVEL))
            if 0 < top < STRETCHED:
                np.clip(cleaned * np.float32(1 / top), 0, 1, out=cleaned)
    leftover = not_strokes(cleaned, threshold, bands if ruled else None)
    width = stroke_width(cleaned, threshold) if not leftover else 0.0
    if 0 < width < THIN_INK:
        # Thinner than a pen's strokes: what is left of a ruling that the cleaned picture
        # lost in part (faint lines under uneven light, lines cut by the picture's edge)?
        faint = faint_ruling(v)
        if faint is not None:
            leftover = not_strokes(cleaned, threshold, faint | bands)
            if not leftover and width < HAIRLINE and _touches_edge(cleaned > threshold):
                leftover = "hairlines on ruled paper (bits of its lines), not a pen's strokes"
    if leftover:
        cleaned[:] = 0.0
        notes.append(f"What was left is {leftover}, so it was cleared too.")
    return notes


def find_ink(v: np.ndarray, tight: bool, paper: float) -> tuple[np.ndarray, float, list[str], int]:
    """White-on-black picture -> (cleaned, ink threshold or 0, notes ending with the
    cleaning's own explanation, paper border added). A tight crop gets a paper border first;
    a photo loses the table along its edges and the ruled lines across its page."""
    pad = 0
    notes = []
    if tight:
        # No paper border: add one, so that the paper is the majority, as in any other picture.
        pad = max(TIGHT_PAD_LEAST, round(TIGHT_PAD * max(v.shape)))
        v = np.pad(v, pad, constant_values=np.float32(paper))
        notes.append(f"There is little or no paper around the ink (a tight crop or a small "
                     f"scan), so a {pad}-pixel paper border was added first.")
    cleaned, threshold, why = subtract_paper(v)
    photo = not why.startswith(("Not needed", "The background is black"))
    if threshold > 0 and photo and not tight:
        notes += clear_background(cleaned, threshold, v)
    return cleaned, threshold, notes + [why], pad

"""The ruling of notebook paper (ruled lines, squared grids, margin lines): found, lifted off
when it is lighter than the pen, removed where it is not, and looked for again on the
picture's own shades when the cleaned picture lost it.
"""

from __future__ import annotations

import math

import numpy as np

from .masks import dilate
from .paper import MAD_SIGMA

LINE_COVERAGE = 0.6  # a thin line across this share of the page is a ruled line, not ink
LINE_LEVEL = 0.5  # a line's pixels are above this share of the ink threshold (a pale line too)
AVERAGED_NOISE = 3.0  # averaged along the lines, the noise is a third of what set the threshold
RULED_PAGE = 60  # a picture under this many pixels a side is too small for a page of ruling
RULING_LINES = 2  # ruling comes as parallel lines: at least this many (one beside a ruling the other way)
STRAY_PER = 200  # a hand-held photo's line strays from its row by 1 + a row per this many rows
# A line is thin: its runs across it at most 2 strays + LINE_WIDTH + a pixel per LINE_WIDTH_PER
# rows of the picture long.
LINE_WIDTH = 3
LINE_WIDTH_PER = 150
LINES_GROWN = 2  # where a lifted or faint ruling ran: its lines grown by this many pixels
# A faint line's ridge is measured against the rows RIDGE_GAP + a row per RIDGE_GAP_PER rows
# away either way (past a line's width and its blur).
RIDGE_GAP = 3
RIDGE_GAP_PER = 200
LEAST_NOISE = 1 / 255  # the noise a faint line is measured against is at least one grey level
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
FAINT_RULING = 4.0  # a faint line's pixels stand this many times the noise above the paper


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


def _thin(mask: np.ndarray, k: int) -> np.ndarray:
    """Where the mask's vertical runs are thin enough for a horizontal line that strays k
    rows either way."""
    return _run_lengths(mask) <= 2 * k + LINE_WIDTH + mask.shape[0] // LINE_WIDTH_PER


def find_ruling(target: np.ndarray, threshold: float, least: int = RULING_LINES, along: int = 0
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
    mask = target > (LINE_LEVEL * threshold / (AVERAGED_NOISE if along else 1.0))
    h, w = mask.shape
    if h < RULED_PAGE or w < RULED_PAGE:
        return None
    k = 1 + h // STRAY_PER  # a hand-held photo's lines are not quite level
    c = np.cumsum(np.pad(mask, ((k + 1, k), (0, 0))).astype(np.int32), axis=0)
    near = (c[2 * k + 1:] - c[:-(2 * k + 1)]) > 0
    rows = near.mean(axis=1) >= LINE_COVERAGE
    groups = int(np.count_nonzero(np.diff(np.concatenate([[0], rows.astype(np.int8), [0]])) == 1))
    if groups < least:
        return None
    line = mask & _thin(mask, k) & rows[:, None]
    return (rows, line, k, target[line]) if line.any() else None


def lift_ruling(cleaned: np.ndarray, threshold: float) -> np.ndarray | None:
    """A light ruling (horizontal, vertical or both) lifted off the page in place: the
    shades up to a floor above the lines' own go to paper, the rest is stretched back to
    0..1, so the pen's strokes stay whole where lines cross them. Returns where the lines
    ran (a mask, for what is left of them), or None when there was no light ruling."""
    found: list[tuple[tuple[np.ndarray, np.ndarray, int, np.ndarray], np.ndarray]] = []
    for target in (cleaned, cleaned.T):
        ruling = find_ruling(target, threshold, 1 if found else RULING_LINES, RULING_ALONG)
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
        band |= dilate(line.astype(np.float32), LINES_GROWN) > 0
    if len(found) == 2:  # where the lines cross (neither line's thin pixels) is ruling too
        rows, cols = found[0][0][0], found[1][0][0]
        bands |= rows[:, None] & cols[None, :]
    np.clip((cleaned - np.float32(floor)) * np.float32(1 / (1 - floor)), 0, 1, out=cleaned)
    return bands


def remove_ruled_lines(cleaned: np.ndarray, threshold: float) -> tuple[int, np.ndarray]:
    """Thin lines that run across (nearly) the whole page, horizontal or vertical, are the
    paper's ruling, not ink: cleared in place, except where a stroke of the digit crosses
    them. Returns how many lines were cleared and where they ran (a mask of their pixels,
    grown a little)."""
    count = 0
    bands = np.zeros(cleaned.shape, bool)
    along: list[np.ndarray | None] = [None, None]  # the rows, the columns the lines run along
    for side, (target, band) in enumerate(((cleaned, bands), (cleaned.T, bands.T))):
        found = find_ruling(target, threshold, 1 if count else RULING_LINES)
        if found is None:
            continue
        along[side], line, k, _ = found
        mask = target > LINE_LEVEL * threshold
        thin = _thin(mask, k)
        # The line's soft edges (just below the ink threshold) go too.
        grown = line.copy()
        grown[1:] |= line[:-1]
        grown[:-1] |= line[1:]
        target[grown & ~(mask & ~thin)] = 0.0
        hit = line.any(axis=1)
        count += int(np.count_nonzero(np.diff(np.concatenate([[0], hit.astype(np.int8), [0]])) == 1))
        band |= dilate(line.astype(np.float32), k + LINES_GROWN) > 0
    rows, cols = along
    if rows is not None and cols is not None:  # where the lines cross is ruling too
        bands |= rows[:, None] & cols[None, :]
    return count, bands


def _ridges(target: np.ndarray) -> tuple[np.ndarray, float]:
    """How far each pixel (averaged RULING_ALONG pixels either way along its row) stands
    above the brighter of the pixels a few rows above and below it: thin horizontal lines
    stand out, uneven light (smooth) and wide strokes do not. Returns that and its noise
    (a sigma: the spread of the averages along the rows, which the lines do not change)."""
    along = RULING_ALONG
    c = np.cumsum(np.pad(target, ((0, 0), (along + 1, along)), mode="edge"), axis=1)
    a = (c[:, 2 * along + 1:] - c[:, :-(2 * along + 1)]) / np.float32(2 * along + 1)
    d = RIDGE_GAP + target.shape[0] // RIDGE_GAP_PER
    p = np.pad(a, ((d, d), (0, 0)), mode="edge")
    ridge = a - np.maximum(p[:-2 * d], p[2 * d:])
    apart = a[:, 2 * along + 1:] - a[:, :-(2 * along + 1)]  # independent averages
    noise = MAD_SIGMA * float(np.median(np.abs(apart))) / math.sqrt(2) if apart.size else 0.0
    return ridge, noise


def faint_ruling(v: np.ndarray) -> np.ndarray | None:
    """A ruling found on the picture's own shades v (ink bright), for when the cleaned
    picture lost it: where the light is uneven a faint line falls below the paper's noise
    floor over much of the page, so it no longer runs across it. Returns where the lines
    ran (grown by 2 pixels, with the squares where they cross), or None."""
    along: list[np.ndarray | None] = [None, None]  # the rows, the columns the lines run along
    bands = np.zeros(v.shape, bool)
    for side, (target, band) in enumerate(((v, bands), (v.T, bands.T))):
        ridge, noise = _ridges(target)
        found = find_ruling(ridge, FAINT_RULING * max(noise, LEAST_NOISE) / LINE_LEVEL,
                            1 if along[0] is not None else RULING_LINES)
        if found is not None:
            along[side] = found[0]
            band |= dilate(found[1].astype(np.float32), LINES_GROWN) > 0
    rows, cols = along
    if rows is None and cols is None:
        return None
    if rows is not None and cols is not None:
        bands |= rows[:, None] & cols[None, :]
    return bands

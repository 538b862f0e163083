"""Whether a picture is a colourful scene rather than ink on paper (the preprocessing then
reports "no single digit" instead of looking for one).

Thresholds measured on cnnviz/core/pictures/user_pictures.py's 500 phone photos of pen digits
(colourfulness up to 43.5, strongly coloured share up to 0.32) and 500 colourful scenes.
"""

from __future__ import annotations

import math

import numpy as np

COLOURFUL = 55.0  # colourfulness (Hasler and Suesstrunk, 2003)
SATURATED = 0.4  # share of the middle strongly coloured
COLOUR_SAMPLE = 8192  # both are measured on a sample of about this many pixels
STRONG_COLOUR = 0.3  # a pixel is strongly coloured with saturation (max - min) / max above this
NEAR_BLACK = 40  # ... and its brightest channel above this (of 255): near black is no colour
MIDDLE = 5  # the middle: without a fifth of the picture along each side (where the table shows)


def colourfulness(image: np.ndarray) -> float:
    """Hasler and Suesstrunk's colourfulness of an RGB picture (0 for grey; below 45 for our
    phone photos of a pen digit on paper, the table included; 45-180 for a colourful scene).
    Sampled: a few thousand pixels."""
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] < 3:
        return 0.0
    step = max(1, int(math.sqrt(a.shape[0] * a.shape[1] / COLOUR_SAMPLE)))
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
    a = a[h // MIDDLE:h - h // MIDDLE, w // MIDDLE:w - w // MIDDLE, :3]
    step = max(1, int(math.sqrt(a.shape[0] * a.shape[1] / COLOUR_SAMPLE)))
    rgb = np.nan_to_num(a[::step, ::step].astype(np.float32))
    if rgb.size == 0:
        return 0.0
    top, low = rgb.max(axis=2), rgb.min(axis=2)
    return float((((top - low) > STRONG_COLOUR * np.maximum(top, 1e-6)) & (top > NEAR_BLACK)).mean())


def colourful_photo(image: np.ndarray) -> bool:
    """A colourful scene, not ink on paper (two measures, as either alone lets some through)."""
    return saturated_share(image) >= SATURATED or colourfulness(image) >= COLOURFUL

"""Any picture of a digit -> the 28x28 input an MNIST network expects, step by step.

MNIST digits were size-normalised to fit a 20x20 box (aspect ratio kept, anti-aliased) and
centred by centre of mass in a 28x28 frame, white ink on black. A drawing or a photo goes
through the same steps, and each step is kept (with a picture and a one-sentence reason) so
the app can show how the network's input was made:

    grey -> invert -> clean -> crop -> thicken -> scale -> center

This module composes the steps; each lives with its named thresholds in a module of its
own: paper.py (grey, the paper's level, the ink's contrast), polarity.py (which shade is
ink, tight crops), background.py with ruling.py (a photo's table, notebook ruling and
specks), colour.py (colourful photos) and framing.py (crop, thicken, scale, center).

Fashion-MNIST pictures were made differently (the item's longest side scaled to 28, the
item centred, its shading kept), so preprocess_item does that for a Fashion-MNIST model;
preprocess_for(dataset) picks the right one.

numpy and Pillow only. Huge photos are shrunk first (to at most WORK_SIZE pixels a side), so
a 12-megapixel photo takes tens of milliseconds, a 280x280 drawing about a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .background import find_ink
from .colour import colourful_photo, colourfulness, saturated_share
from .framing import (
    BOX,
    CENTER,
    SIZE,
    box_in_input,
    ink_box,
    place,
    resize,
    scale_to,
    thicken_strokes,
    thickening,
)
from .paper import SMALL_PICTURE, WORK_SIZE, has_sharp_edges, working_grey
from .polarity import Polarity, border_pixels, read_polarity

__all__ = ["BOX", "CENTER", "SIZE", "WORK_SIZE", "DigitInput", "PreprocessStep", "colourfulness",
           "preprocess_digit", "preprocess_for", "preprocess_item", "saturated_share"]


@dataclass
class PreprocessStep:
    """One step of the preprocessing, as the app's preprocessing strip shows it."""

    key: str  # "grey", "invert", "clean", "crop", "thicken", "scale", "center"
    title: str  # short, for a caption
    explanation: str  # one plain sentence, for a tooltip
    image: np.ndarray  # float32 0..1; white ink on black except "grey" (the input as seen)


@dataclass
class DigitInput:
    """The network's input made from a picture, with the steps that made it."""

    image: np.ndarray  # (28, 28) float32 in [0, 1], white ink on black: what the network sees
    steps: list[PreprocessStep] = field(default_factory=list)
    inverted: bool = False  # the input was dark ink on a light background
    empty: bool = False  # no ink found: image is all zeros (the caller can say "draw something")
    bbox: tuple[int, int, int, int] | None = None  # ink (top, left, bottom, right) in the input
    # pixels; bottom and right are exclusive, as in image[top:bottom, left:right]
    # Why there is no digit to read, when empty: "blank" (nothing stands out from the paper)
    # or "no single digit" (something is there, but not ink on paper: a colourful photo).
    reason: str = ""


# ----- the pipeline ----------------------------------------------------------------------


def _grey_and_invert(image: np.ndarray, invert: bool | str, dataset: str):
    """The first two steps of every preprocessing: grey 0..1 (shrunk if huge), then white on
    black like the dataset. Returns (grey, shrink factor, inverted picture, flipped, steps)."""
    if invert not in ("auto", True, False):
        raise ValueError(f"invert must be 'auto', True or False, not {invert!r}")
    grey, factor = working_grey(image)
    steps = [_grey_step(grey, factor)]
    border = border_pixels(grey)  # a light border means a dark subject on light paper
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


NO_INK = "No ink was found, so there is nothing to do here."


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
    grey, factor = working_grey(image)
    reading = read_polarity(grey, invert)
    flip = reading.flip
    v = 1.0 - grey if flip else grey.copy()
    steps = [_grey_step(grey, factor), _invert_step(v, flip, invert, reading.by_strokes)]
    if not reading.even and not has_sharp_edges(grey):
        # Nothing with a sharp edge: only uneven light and noise on a blank page.
        steps.append(PreprocessStep("clean", "Clean", "No ink was found: nothing in the picture has a "
                                    "sharp edge, only uneven light and noise (a blank page).",
                                    np.zeros_like(v)))
        return _nothing_found(steps, flip, NO_INK)
    # A small picture (a 32x32 scan) gets a paper border too: its digit fills it.
    small = max(grey.shape) <= SMALL_PICTURE and not reading.even
    tight = (reading.tight or small) and not already_centered
    cleaned, box, pad, notes = _clean_page(v, reading, tight, retry=not already_centered)
    if colourful_photo(image):
        steps.append(PreprocessStep("clean", "Clean", " ".join(notes), cleaned))
        return _nothing_found(steps, flip, "The picture is a colourful photo, not ink on paper, "
                              "so no single digit was looked for.", reason="no single digit")
    title = "Clean (not needed)" if notes[0].startswith("Not needed") and len(notes) == 1 else "Clean"
    steps.append(PreprocessStep("clean", title, " ".join(notes), cleaned))
    if box is None:
        return _nothing_found(steps, flip, NO_INK)
    top, left, bottom, right = box
    bbox = box_in_input((max(0, top - pad), max(0, left - pad), max(1, bottom - pad),
                         max(1, right - pad)), factor, image)
    if already_centered:
        return _as_mnist_digit(cleaned, steps, flip, bbox)
    return _framed(cleaned[top:bottom, left:right], steps, flip, bbox, thicken)


def _grey_step(grey: np.ndarray, factor: int) -> PreprocessStep:
    """The first step of every preprocessing: the picture in grey (shrunk `factor` times)."""
    return PreprocessStep("grey", "Grey", "The picture as shades of grey from black (0) to white (1)."
                          + (f" It was shrunk {factor}x first to keep this fast." if factor > 1 else ""),
                          grey)


def _invert_step(v: np.ndarray, flip: bool, invert: bool | str, by_strokes: bool) -> PreprocessStep:
    """The invert step of a digit: v is the picture, white ink on black, after it."""
    if invert != "auto":
        why = "The picture was flipped to white on black, as asked." if flip else "Not flipped, as asked."
    elif flip:
        why = "Dark on a light background was flipped to white on black, like MNIST."
    else:
        why = "Not needed: the picture is already light on a dark background, like MNIST."
    if by_strokes:
        why = why[:-1] + (" (the ink reaches every edge, so its strokes told which shade is "
                          "ink).")
    title = "Invert" if flip else ("Invert (not needed)" if invert == "auto" else "Invert (off)")
    return PreprocessStep("invert", title, why, v)


def _clean_page(v: np.ndarray, reading: Polarity, tight: bool, retry: bool
                ) -> tuple[np.ndarray, tuple[int, int, int, int] | None, int, list[str]]:
    """The clean step: (the cleaned picture, the ink's box in it or None, the paper border
    added, what was done in plain sentences with the cleaning's own explanation last).
    retry: when a picture with clear ink and paper shows no ink, read it again as a tight
    crop."""
    cleaned, threshold, notes, pad = find_ink(v, tight, reading.paper)
    box = ink_box(cleaned, threshold) if threshold > 0 else None
    if box is None and threshold == 0 and reading.fills and not tight and retry:
        # Clear ink and paper, yet no ink found: most likely a crop so tight that the paper
        # is the minority. Read it again with a paper border. (Ink found and then cleared
        # as the page's background, such as squared paper's grid, is not read again.)
        cleaned, threshold, notes, pad = find_ink(v, True, reading.paper)
        box = ink_box(cleaned, threshold) if threshold > 0 else None
    return cleaned, box, pad, notes


def _as_mnist_digit(cleaned: np.ndarray, steps: list[PreprocessStep], flip: bool,
                    bbox: tuple[int, int, int, int]) -> DigitInput:
    """The rest of the steps for an input that is already an MNIST-style digit: skipped but
    for a resize to 28x28."""
    out = resize(cleaned, SIZE, SIZE)
    same = "Skipped: the input is already an MNIST-style digit."
    steps += [PreprocessStep("crop", "Crop (skipped)", same, cleaned),
              PreprocessStep("thicken", "Thicken (skipped)", same, cleaned),
              PreprocessStep("scale", "Scale" if out.shape != cleaned.shape else "Scale (skipped)",
                             "Resized to 28×28." if cleaned.shape != (SIZE, SIZE) else same, out),
              PreprocessStep("center", "Center (skipped)", same, out)]
    return DigitInput(image=out, steps=steps, inverted=flip, empty=not out.any(), bbox=bbox)


def _framed(crop: np.ndarray, steps: list[PreprocessStep], flip: bool,
            bbox: tuple[int, int, int, int], thicken: bool) -> DigitInput:
    """The last four steps, as MNIST framed its digits: the crop (the ink's box), its thin
    strokes widened, scaled so its longest side is BOX, centred by centre of mass."""
    ch, cw = crop.shape
    steps.append(PreprocessStep("crop", "Crop", f"Cut to the ink's bounding box ({cw}×{ch} pixels).", crop))
    radius = thickening(crop) if thicken else 0
    if radius:
        crop = thicken_strokes(crop, radius)
        steps.append(PreprocessStep("thicken", "Thicken",
                                    "The strokes were much thinner than MNIST's, so they were widened "
                                    f"by {radius} pixels on each side to match.", crop))
    else:
        reason = ("Not needed: the strokes are about as wide as MNIST's." if thicken
                  else "Not applied, as asked.")
        steps.append(PreprocessStep("thicken", "Thicken (not needed)" if thicken else "Thicken (off)",
                                    reason, crop))
    patch = scale_to(crop, BOX)
    sh, sw = patch.shape
    steps.append(PreprocessStep("scale", "Scale", f"Resized to {sw}×{sh} pixels so the longest side is "
                                f"{BOX}, like MNIST's {BOX}×{BOX} box (aspect ratio kept, smoothed).", patch))
    out, _ = place(patch)
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
    box = ink_box(v, ITEM_INK)
    if box is None:
        return _nothing_found(steps, flip, "Nothing stands out from the background, so there is "
                                           "nothing to do here.")
    top, left, bottom, right = box
    crop = v[top:bottom, left:right]
    ch, cw = crop.shape
    steps.append(PreprocessStep("crop", "Crop", f"Cut to the item's bounding box ({cw}×{ch} pixels).", crop))
    steps.append(PreprocessStep("thicken", "Thicken (not needed)", "Not needed: for pen strokes only.", crop))
    patch = scale_to(crop, SIZE)
    sh, sw = patch.shape
    steps.append(PreprocessStep("scale", "Scale", f"Resized to {sw}×{sh} pixels so the longest side is "
                      f"{SIZE}, as Fashion-MNIST's pictures were (aspect ratio kept).", patch))
    out = np.zeros((SIZE, SIZE), np.float32)
    y0, x0 = (SIZE - sh) // 2, (SIZE - sw) // 2
    out[y0:y0 + sh, x0:x0 + sw] = patch
    steps.append(PreprocessStep("center", "Center", "Placed in the middle of a 28×28 frame.", out))
    return DigitInput(image=out, steps=steps, inverted=flip, empty=not out.any(),
                      bbox=box_in_input(box, factor, image))


def preprocess_for(dataset: str | None):
    """The preprocessing that matches how a dataset's pictures were made (MNIST by default)."""
    return preprocess_item if dataset == "fashion-mnist" else preprocess_digit

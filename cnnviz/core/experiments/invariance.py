"""Is a CNN translation, rotation and scale invariant? Let the student test it.

    x = transform(digit, dx=3, dy=0, angle=0, scale=1)     # the digit shifted 3 px right
    c = curves(network, digit, target=7)                   # probability of 7 against shift
    c.shift_x, c.p_shift_x, c.answer_shift_x               # and rotation
    m = pooling_shift(network, digit)                      # maps before/after pooling, shifted by 1

The lecture: "CNN is translation invariant with the help of convolutional layer. It is not
rotation and scaling invariant unless you let the network learn a lot of rotation and
scaling samples", and "Pooling makes our model more invariant to minor transformations".
raw_pad gives the honest input: the whole pad scaled to 28×28, no crop and no centring (the
preprocessing's centring would undo any shift the student draws).

Qt-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..pictures.images import to_grey

__all__ = ["COMPARISON_MODELS", "InvarianceCurves", "PoolingShift", "curves", "pooling_shift", "raw_pad",
           "why_large_shifts_fail",
           "transform"]

SHIFTS = tuple(range(-10, 11))  # pixels, both axes
ANGLES = tuple(range(-90, 91, 10))  # degrees
SCALES = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5)
# The comparison models shipped for this view: (file in cnnviz/weights/, what it is).
COMPARISON_MODELS = {
    "fully-connected": ("fully-connected-mnist.safetensors",
                        "a fully connected network of about as many parameters (784 → 256 → 10: 203,530 against the CNN's 198,122), trained with the same augmentation"),
    "cnnviz-noaug": ("cnnviz-noaug-mnist.safetensors",
                     "the same CNN trained without augmentation (no shifts, rotations, scaling)"),
}
SAME_TOLERANCE = 0.1  # a unit "stayed the same" when it moved by at most 10% of the map's maximum


def transform(image: np.ndarray, dx: float = 0.0, dy: float = 0.0, angle: float = 0.0,
              scale: float = 1.0) -> np.ndarray:
    """The (H, W) image rotated by `angle` degrees (counter-clockwise, as on screen) and
    scaled by `scale` about its centre, then shifted dx pixels right and dy down; black
    comes in at the edges. Bilinear; a whole-pixel shift alone is exact."""
    a = np.asarray(image, dtype=np.float32)
    h, w = a.shape
    if angle == 0 and scale == 1 and float(dx).is_integer() and float(dy).is_integer():
        out = np.zeros_like(a)
        dx, dy = int(dx), int(dy)
        src = a[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
        out[max(0, dy):max(0, dy) + src.shape[0], max(0, dx):max(0, dx) + src.shape[1]] = src
        return out
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    # PIL's affine maps each output pixel centre to an input point: the inverse transform.
    cx, cy = (w - 1) / 2, (h - 1) / 2
    t = math.radians(angle)
    cos, sin = math.cos(t) / scale, math.sin(t) / scale
    # output (x, y) -> centred, unshifted -> rotate back by -angle (screen y points down)
    # -> unscale -> input
    a_, b_ = cos, -sin
    d_, e_ = sin, cos
    ox, oy = cx + dx, cy + dy
    c_ = cx - a_ * ox - b_ * oy
    f_ = cy - d_ * ox - e_ * oy
    im = Image.fromarray(np.ascontiguousarray(a), "F")
    # PIL samples at pixel centres (x + 0.5); the matrix above is for pixel indices
    c_pil = c_ + 0.5 - 0.5 * (a_ + b_)
    f_pil = f_ + 0.5 - 0.5 * (d_ + e_)
    moved = im.transform((w, h), Image.Transform.AFFINE, (a_, b_, c_pil, d_, e_, f_pil),
                         resample=Image.Resampling.BILINEAR, fillcolor=0.0)
    return np.array(moved, dtype=np.float32)  # a writable copy (PIL's buffer is read-only)


def raw_pad(picture: np.ndarray, inverted: bool = False) -> np.ndarray:
    """The whole picture scaled to 28×28 (no crop, no centring), 0..1, white ink on black
    (inverted=True flips dark ink on light paper)."""
    grey = to_grey(picture) / 255.0
    if inverted:
        grey = 1.0 - grey
    h, w = grey.shape
    side = max(h, w)  # keep the aspect ratio: pad to a square with black first
    square = np.zeros((side, side), np.float32)
    square[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = grey
    small = Image.fromarray(square, "F").resize((28, 28), Image.Resampling.BOX)
    return np.clip(np.asarray(small, dtype=np.float32), 0, 1)


@dataclass(frozen=True, eq=False)
class InvarianceCurves:
    target: int
    shifts: np.ndarray  # pixels (the same for x and y)
    angles: np.ndarray  # degrees
    scales: np.ndarray
    p_shift_x: np.ndarray  # the target's probability at each shift, etc.
    p_shift_y: np.ndarray
    p_angle: np.ndarray
    p_scale: np.ndarray
    answer_shift_x: np.ndarray  # the network's answer at each point
    answer_shift_y: np.ndarray
    answer_angle: np.ndarray
    answer_scale: np.ndarray


def curves(network, image: np.ndarray, target: int, *, base: dict | None = None,
           shifts=SHIFTS, angles=ANGLES, scales=SCALES) -> InvarianceCurves:
    """The target class's probability (and the answer) against shift, rotation and scale,
    each applied alone on top of `base` (dx, dy, angle, scale: the sliders' setting)."""
    base = {"dx": 0.0, "dy": 0.0, "angle": 0.0, "scale": 1.0, **(base or {})}
    images = ([transform(image, **{**base, "dx": base["dx"] + s}) for s in shifts]
              + [transform(image, **{**base, "dy": base["dy"] + s}) for s in shifts]
              + [transform(image, **{**base, "angle": base["angle"] + a}) for a in angles]
              + [transform(image, **{**base, "scale": base["scale"] * s}) for s in scales])
    probs = network.predict_proba(np.stack(images))
    n, m = len(shifts), len(angles)
    parts = np.split(probs, [n, 2 * n, 2 * n + m])
    return InvarianceCurves(int(target), np.asarray(shifts), np.asarray(angles), np.asarray(scales),
                  *(p[:, target] for p in parts), *(p.argmax(axis=1) for p in parts))


@dataclass(frozen=True, eq=False)
class PoolingShift:
    before_name: str  # the layer feeding the first pooling layer
    after_name: str  # the pooling layer
    before: np.ndarray  # (C, H, W) of the digit
    before_shifted: np.ndarray  # of the digit shifted by one pixel
    after: np.ndarray  # (C, Hp, Wp)
    after_shifted: np.ndarray
    same_before: float  # the fraction of active units that stayed the same, before pooling
    same_after: float  # ... and after
    same_before_per_map: np.ndarray  # (C,)
    same_after_per_map: np.ndarray


def stayed_same(a: np.ndarray, b: np.ndarray, tolerance: float = SAME_TOLERANCE) -> tuple[float, np.ndarray]:
    """Of the units active in either map (above `tolerance` of the map's maximum), the
    fraction whose value moved by at most `tolerance` of that maximum. Overall and per map."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    top = np.maximum(np.abs(a).max(axis=(1, 2)), np.abs(b).max(axis=(1, 2)))[:, None, None]
    top = np.where(top > 0, top, 1.0)
    active = (np.abs(a) > tolerance * top) | (np.abs(b) > tolerance * top)
    same = (np.abs(a - b) <= tolerance * top) & active
    per_map = same.sum(axis=(1, 2)) / np.maximum(active.sum(axis=(1, 2)), 1)
    overall = float(same.sum() / max(int(active.sum()), 1))
    return overall, per_map


def pooling_shift(network, image: np.ndarray, dx: int = 0, dy: int = 1) -> PoolingShift:
    """The maps going into and coming out of the first pooling layer, for the digit and
    for the digit shifted by (dx, dy) pixels ("Shifting our C down one pixel")."""
    infos = list(network.layer_infos)
    index = next((i for i, info in enumerate(infos) if info.kind == "pool"), None)
    if index is None or index == 0:
        raise ValueError("this network has no pooling layer after a conv layer")
    before_name, after_name = infos[index - 1].name, infos[index].name
    first = dict(network.trace(image))
    second = dict(network.trace(transform(image, dx, dy)))
    sb, sb_maps = stayed_same(first[before_name], second[before_name])
    sa, sa_maps = stayed_same(first[after_name], second[after_name])
    return PoolingShift(before_name, after_name, first[before_name], second[before_name],
                        first[after_name], second[after_name], sb, sa, sb_maps, sa_maps)


def why_large_shifts_fail(layer_infos, card: dict, name: str) -> tuple[str, str]:
    """Why a CNN's probability holds for small shifts and collapses for large ones, for this
    network: what its pooling forgives and what its training showed it (the lecture says
    "CNN is translation invariant"; this is how far that goes). (In two sentences, in full.)"""
    from ..datasets.augment import AUGMENT_SHIFT_PX

    pools = [i for i in layer_infos if i.kind == "pool"]
    def step(spec) -> int:  # a pool's stride across (an int or (rows, columns))
        stride = getattr(spec, "stride", None) or getattr(spec, "size", 1) or 1
        return int(stride if isinstance(stride, int) else stride[-1])

    side = math.prod(step(i.spec) for i in pools)
    if pools:
        pooling = (f"its {len(pools)} pooling layer{'s' if len(pools) > 1 else ''} shrink the "
                   f"maps {side}× a side, so a shift of a pixel or two often stays inside one "
                   "pooling window and barely changes what comes out")
    else:
        pooling = "it has no pooling, so even a one-pixel shift moves every map"
    augment = card.get("augment")
    if augment is True:
        trained = (f"this network ({name}) was trained on images shifted by up to "
                   f"±{AUGMENT_SHIFT_PX:g} px, so it has seen small shifts and holds up over them")
    elif augment is False:
        trained = (f"this network ({name}) was trained on centred digits only (no shifted "
                   "images), so it falls off sooner")
    else:
        trained = f"how far this network ({name}) holds up depends on the shifts it was trained on"
    return (f"<b>Why it falls at large shifts:</b> convolutions shift their maps with the "
            f"digit and pooling forgives a pixel or two, but the dense layers learned what each "
            f"position means. {trained[0].upper() + trained[1:]}.",
            "Why the probability falls at large shifts: a convolution is translation "
            "<i>equivariant</i> (a shifted digit gives the same maps, shifted), and "
            f"{pooling}. The dense layers at the end are not: they learned what each map "
            f"position means, and a large shift moves strokes to positions they never saw. "
            f"{trained[0].upper() + trained[1:]}. So “translation invariant” holds for small "
            "shifts, not large ones (train without “Vary the training images” in the lab to "
            "see it fall sooner).")

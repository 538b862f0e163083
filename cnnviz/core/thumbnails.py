"""A layer's output as one small picture: every map side by side (1-pixel gaps), or a
vector folded into rows, and that picture as 8-bit colour-table indices. The numbers for
the layer cards' thumbnails; the Qt side only wraps the indices in an image."""

from __future__ import annotations

import numpy as np

GAP_INDEX = 255  # the index of the white gap between maps; 0..254 carry the colour map


def thumbnail_array(value: np.ndarray) -> tuple[np.ndarray, bool]:
    """A small 2-D picture of a layer output (all maps side by side with 1-pixel NaN gaps,
    or a vector folded into rows) as float32, and whether the data is signed."""
    v = np.asarray(value, dtype=np.float32)
    if v.ndim == 3:
        c, h, w = v.shape
        cols = int(np.ceil(np.sqrt(c * 2 * h / max(w, 1)))) if c > 1 else 1
        cols = max(1, min(c, cols))
        rows = -(-c // cols)
        slots = np.full((rows * cols, h, w), np.nan, np.float32)
        slots[:c] = v
        out = np.full((rows, h + 1, cols, w + 1), np.nan, np.float32)
        out[:, :h, :, :w] = slots.reshape(rows, cols, h, w).transpose(0, 2, 1, 3)
        out = out.reshape(rows * (h + 1), cols * (w + 1))[:-1, :-1]
    else:
        n = v.size
        cols = int(np.ceil(np.sqrt(n * 2))) if n > 16 else max(n, 1)
        rows = -(-n // cols)
        out = np.full(rows * cols, np.nan, np.float32)
        out[:n] = v.ravel()
        out = out.reshape(rows, cols)
    signed = bool(np.nanmin(out) < 0) if out.size and np.isfinite(out).any() else False
    return out, signed


def thumbnail_indices(value: np.ndarray) -> tuple[np.ndarray, bool]:
    """The thumbnail as a C-contiguous uint8 array of colour-table indices: 0..254 the
    colour map (a signed map centred on 127), GAP_INDEX for the gaps; and whether the
    data is signed (which colour map to use)."""
    out, signed = thumbnail_array(value)
    finite = np.isfinite(out)
    m = float(np.nanmax(np.abs(out))) if finite.any() else 1.0
    m = m if m > 0 else 1.0
    scaled = (out / m + 1.0) * 127.0 if signed else out / m * 254.0
    u8 = np.where(finite, np.clip(np.nan_to_num(scaled), 0, 254), GAP_INDEX).astype(np.uint8)
    return np.ascontiguousarray(u8), signed

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


def thumbnail_indices(value: np.ndarray, fit: tuple[int, int] | None = None
                      ) -> tuple[np.ndarray, bool]:
    """The thumbnail as a C-contiguous uint8 array of colour-table indices: 0..254 the
    colour map (a signed map centred on 127), GAP_INDEX for the gaps; and whether the
    data is signed (which colour map to use).

    fit (width, height): a thumbnail larger than this is sampled down (nearest pixel, as a
    painter scales a picture without smoothing) to the largest size with its aspect ratio
    that fits, so only the pixels shown are worked out. The colour scale is the whole
    output's either way."""
    v = np.asarray(value, dtype=np.float32)
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
    if not (np.isfinite(lo) and np.isfinite(hi)) or not v.size:
        return _indices_of_array(*thumbnail_array(v), fit)  # NaN or ∞ somewhere (rare)
    signed = lo < 0
    m = max(-lo, hi) if signed else hi
    m = m if m > 0 else 1.0
    where = _pixel_sources(v.shape, fit)  # each pixel's index in v, -1 for the gaps
    out = v.reshape(-1)[where]  # (a gap takes v's last value: replaced below)
    scaled = (out / m + 1.0) * 127.0 if signed else out / m * 254.0
    u8 = np.clip(scaled, 0, 254, out=scaled).astype(np.uint8)
    u8[where < 0] = GAP_INDEX
    return u8, signed


def _indices_of_array(out: np.ndarray, signed: bool, fit: tuple[int, int] | None
                      ) -> tuple[np.ndarray, bool]:
    """thumbnail_indices for a thumbnail_array holding NaN or ∞ (drawn as gaps)."""
    if fit is not None:
        rows, cols = _sampled(out.shape, fit)
        out = out[rows][:, cols]
    finite = np.isfinite(out)
    m = float(np.nanmax(np.abs(out))) if finite.any() else 1.0
    m = m if m > 0 else 1.0
    scaled = (out / m + 1.0) * 127.0 if signed else out / m * 254.0
    u8 = np.where(finite, np.clip(np.nan_to_num(scaled), 0, 254), GAP_INDEX).astype(np.uint8)
    return np.ascontiguousarray(u8), signed


def _sampled(shape: tuple[int, ...], fit: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The rows and columns of a (H, W) picture that a nearest-pixel scaling to fit
    (width, height) shows (all of them when it fits already)."""
    h, w = shape[0], shape[1]
    k = min(1.0, fit[0] / max(w, 1), fit[1] / max(h, 1))
    th, tw = max(1, int(round(h * k))), max(1, int(round(w * k)))
    return ((np.arange(th) + 0.5) * h / th).astype(np.intp), \
        ((np.arange(tw) + 0.5) * w / tw).astype(np.intp)


_SOURCES: dict[tuple, np.ndarray] = {}


def _pixel_sources(shape: tuple[int, ...], fit: tuple[int, int] | None) -> np.ndarray:
    """For each thumbnail pixel, the flat index of the value it shows in an output of this
    shape (-1: a gap), laid out as thumbnail_array lays them; kept per shape and fit."""
    key = (tuple(shape), fit)
    found = _SOURCES.get(key)
    if found is None:
        laid, _ = thumbnail_array(_positions(shape))
        flat = np.where(np.isfinite(laid), laid, -1).astype(np.intp)
        if fit is not None:
            rows, cols = _sampled(flat.shape, fit)
            flat = flat[rows][:, cols]
        found = np.ascontiguousarray(flat)
        if len(_SOURCES) > 256:  # (a few shapes per model; bounded all the same)
            _SOURCES.clear()
        _SOURCES[key] = found
    return found


def _positions(shape: tuple[int, ...]) -> np.ndarray:
    """0, 1, 2, ... in an array of this shape (float32, as thumbnail_array works: exact up
    to 2**24 values, far more than a layer's output holds)."""
    return np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)

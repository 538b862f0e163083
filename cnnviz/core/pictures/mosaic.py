"""Where C maps of H×W go in one mosaic picture, and colour scales that do not jitter:
the layout arithmetic of the CNN explorer's feature-map grids, kernel views and colour
bars. Pure numpy; the Qt side draws what these say."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GAP_X = 1  # empty columns between maps (in map pixels)


@dataclass
class MosaicGeometry:
    n: int
    h: int
    w: int
    cols: int
    gap_x: int
    gap_top: int  # band above each map for its channel number

    @property
    def rows(self) -> int:
        return -(-self.n // self.cols)

    @property
    def cell_h(self) -> int:
        return self.h + self.gap_top

    @property
    def cell_w(self) -> int:
        return self.w + self.gap_x

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows * self.cell_h, self.cols * self.cell_w  # trailing gap: transparent

    def origin(self, c: int) -> tuple[int, int]:
        """(row, col) of map c's top-left pixel in the mosaic."""
        r, k = divmod(c, self.cols)
        return r * self.cell_h + self.gap_top, k * self.cell_w

    def locate(self, y: float, x: float) -> tuple[int, int, int] | None:
        """Mosaic coordinates -> (channel, row, col) inside a map, or None in a gap."""
        if y < 0 or x < 0:
            return None
        r, ry = divmod(int(np.floor(y)), self.cell_h)
        k, kx = divmod(int(np.floor(x)), self.cell_w)
        ry -= self.gap_top
        if not (0 <= ry < self.h and 0 <= kx < self.w) or k >= self.cols:
            return None
        c = r * self.cols + k
        return (c, ry, kx) if c < self.n else None


def best_columns(n: int, h: int, w: int, avail_w: float, avail_h: float) -> int:
    """The column count that makes the maps largest in a box of avail_w × avail_h."""
    best, best_scale = 1, -1.0
    gap_top = band_height(h)
    for cols in range(1, n + 1):
        rows = -(-n // cols)
        width = cols * (w + GAP_X) - GAP_X
        height = rows * (h + gap_top)
        scale = min(avail_w / width, avail_h / height)
        if scale > best_scale + 1e-9:
            best, best_scale = cols, scale
    return best


NICE_STEPS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceil(x: float) -> float:
    """The smallest 'round' number (1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k) >= x."""
    if not (x > 0) or not np.isfinite(x):
        return 1.0
    e = 10.0 ** np.floor(np.log10(x))
    for m in NICE_STEPS:
        if m * e >= x * (1 - 1e-9):
            return float(m * e)
    return float(10 * e)


class StickyScale:
    """The top of a colour scale that follows the data without jittering: it rounds up to
    a round number, grows at once, and shrinks only when the data falls below 45% of it.
    A steady scale is easier to read while drawing, and a colour bar that does not change
    costs nothing to repaint."""

    def __init__(self) -> None:
        self.top = 0.0

    def update(self, peak: float) -> float:
        if peak > self.top or peak < 0.45 * self.top or self.top <= 0:
            self.top = nice_ceil(peak)
        return self.top


def band_height(h: int) -> int:
    return max(2, int(round(h * 0.28)))

"""One picture of what a unit looks for (what `cnnviz visualize` writes): its top (or
lowest) test pictures, each as the crop of the field it looked at enlarged beside the whole
picture with that field outlined and the score under them, and the optimised input
beside them with its score against the best real one. No Qt: drawn with Pillow.

    picture = render_unit(title, cells, optimised)   # (H, W, 3) uint8
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..basics.formulas import fmt_number

__all__ = ["Cell", "render_unit"]

SIDE = 84  # pixels per side of a picture (3× MNIST)
FIELD = (255, 140, 0)  # the field's outline: the app's orange
GAP = 12


@dataclass(frozen=True)
class Cell:
    picture: np.ndarray  # (H, W) or (H, W, 3), 0..1
    box: tuple[int, int, int, int] | None  # the field (top, left, bottom, right); None: whole
    caption: str


def _scaled(picture: np.ndarray, side: int, box=None):
    """A 0..1 picture as an RGB Pillow image `side` pixels across (sharp pixels), with
    `box` outlined."""
    from PIL import Image, ImageDraw

    a = np.clip(np.nan_to_num(np.asarray(picture, dtype=np.float64)), 0.0, 1.0)
    a = np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a[..., :3]
    h, w = a.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    image = Image.fromarray((a * 255).round().astype(np.uint8), "RGB").resize(
        size, Image.Resampling.NEAREST)
    if box is not None:
        top, left, bottom, right = box
        ImageDraw.Draw(image).rectangle(
            (left * scale, top * scale, right * scale - 1, bottom * scale - 1), outline=FIELD,
            width=2)
    return image


def _cell_image(cell: Cell, side: int):
    """The crop enlarged beside the whole picture (or the whole picture alone)."""
    from PIL import Image

    whole = _scaled(cell.picture, side, cell.box)
    if cell.box is None:
        return whole
    top, left, bottom, right = cell.box
    part = _scaled(np.asarray(cell.picture)[top:bottom, left:right], side)
    out = Image.new("RGB", (part.width + 4 + whole.width, side), "white")
    out.paste(part, (0, 0))
    out.paste(whole, (part.width + 4, 0))
    return out


def render_unit(title: str, cells: list[Cell], optimised: Cell, note: str = "") -> np.ndarray:
    """The grid of real examples (captions under them) and the optimised input on the
    right, under a title: an (H, W, 3) uint8 picture."""
    from PIL import Image, ImageDraw

    from ..reading.outliers import pil_font

    font, small = pil_font(16), pil_font(13)
    columns = max(1, math.ceil(math.sqrt(len(cells))))
    rows = max(1, math.ceil(len(cells) / columns))
    cell_w = 2 * SIDE + 4 + GAP
    cell_h = SIDE + 22
    made = _cell_image(optimised, 2 * SIDE)
    grid_w = columns * cell_w
    width = GAP + grid_w + 2 * GAP + made.width + GAP
    height = 40 + max(rows * cell_h, 2 * SIDE + 60) + (24 if note else 0) + GAP
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((GAP, 10), title, fill="black", font=font)
    for k, cell in enumerate(cells):
        r, c = divmod(k, columns)
        x, y = GAP + c * cell_w, 40 + r * cell_h
        image.paste(_cell_image(cell, SIDE), (x, y))
        draw.text((x, y + SIDE + 3), cell.caption, fill="black", font=small)
    x = GAP + grid_w + 2 * GAP
    image.paste(made, (x, 40))
    draw.text((x, 40 + made.height + 6), optimised.caption, fill="black", font=small)
    if note:
        draw.text((GAP, height - GAP - 18), note, fill="#444444", font=small)
    return np.asarray(image)


def score_caption(score: float, position) -> str:
    """'7.16 at (9, 10)' or '7.16'."""
    where = f" at ({position[0]}, {position[1]})" if position is not None else ""
    return f"{fmt_number(score)}{where}"

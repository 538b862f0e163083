"""Pictures of MNIST digits made the way users make pictures (numpy and Pillow only).

Each kind turns one 28x28 MNIST digit (white on black, 0..255) into what a user would load:

    tight_crop       cropped tightly to the ink, either polarity, 12 to 300 pixels tall
    phone_photo      a phone photo of a pen digit on paper: uneven light and a shadow, often
                     ruled notebook lines across the page, often the table as a dark band
                     along one edge, mild blur, noise, JPEG at quality 35-90 (colour)
    faint_pencil     light grey thin strokes on off-white paper, with noise
    low_res_blocky   the digit shrunk to 8x8 and blown up to 32x32 by nearest neighbour
    low_res_smooth   the same, blown up bilinear or bicubic
    blank_page       paper with shading, noise and JPEG, sometimes ruled lines: no digit
    colourful_photo  a colourful photo-like scene with no digit in it
    notebook_lined   a phone photo of a pen digit on lined notebook paper: a cream to white
                     page, blue to purple lines every 24-48 px (1-3 px), sometimes a red
                     margin line, the lines through the digit or the digit in the page's
                     unruled top band, a navy, blue or black pen, blur sigma 0.5-2
    notebook_squared the same on squared paper (lines both ways every 24-48 px)
    empty_notebook   a lined or squared notebook page photographed the same way: no digit

    rng = np.random.default_rng(0)
    picture = make("phone_photo", digit, rng)   # (H, W) or (H, W, 3) float32 0..255
    pictures, labels = make_set("tight_crop", digits, labels, count=500, seed=0)

Everything is drawn from `rng`, so a seed gives the same pictures every time. Two users:
benchmarks/bench_recognition.py and bench_verdict.py measure on MNIST *test* digits (the
network never trained on them), and cnnviz.core.reading.verdict fixes a model's "unsure" threshold
on held-out *training* digits made into these kinds (its own seed), so a real digit a user
photographs or scans is rarely called unsure.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

DIGIT_KINDS = ("tight_crop", "phone_photo", "faint_pencil", "low_res_blocky", "low_res_smooth",
               "notebook_lined", "notebook_squared")
EMPTY_KINDS = ("blank_page", "colourful_photo", "empty_notebook")
# In the order the kinds were added: a kind's seed is its index here, so adding a kind leaves
# the pictures of the others as they were.
KINDS = ("tight_crop", "phone_photo", "faint_pencil", "low_res_blocky", "low_res_smooth",
         "blank_page", "colourful_photo", "notebook_lined", "notebook_squared", "empty_notebook")


# ----- helpers -------------------------------------------------------------------------------


def _ink(digit: np.ndarray, height: int) -> np.ndarray:
    """The digit cropped to its ink and scaled so it is `height` pixels tall: ink 0..1."""
    d = np.asarray(digit, np.float32)
    rows, cols = np.flatnonzero(d.max(1) > 0), np.flatnonzero(d.max(0) > 0)
    d = d[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = d.shape
    width = max(1, round(w * height / h))
    im = Image.fromarray(d, "F").resize((width, height), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(im, np.float32) / 255.0, 0.0, 1.0)


def _jpeg(picture: np.ndarray, quality: int) -> np.ndarray:
    a = np.clip(picture, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf), np.float32)


def _blur(picture: np.ndarray, radius: float) -> np.ndarray:
    if radius <= 0:
        return picture
    a = np.clip(picture, 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(radius)), np.float32)


def _smooth_field(rng, h: int, w: int, cells: int = 4) -> np.ndarray:
    """A smooth random field in -1..1 (bicubic upscale of a few random values)."""
    small = rng.uniform(-1, 1, (cells, cells)).astype(np.float32)
    return np.asarray(Image.fromarray(small, "F").resize((w, h), Image.Resampling.BICUBIC),
                      np.float32).clip(-1.5, 1.5)


def _paper(rng, h: int, w: int, level: float, unevenness: float) -> np.ndarray:
    """Paper lit unevenly: a linear gradient plus a soft shadow, (h, w) 0..255."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (xx / w - 0.5) + np.sin(angle) * (yy / h - 0.5))
    page = level + unevenness * ramp + 0.4 * unevenness * _smooth_field(rng, h, w)
    if rng.random() < 0.6:  # the phone's (or hand's) shadow: a soft dark blob
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        r = rng.uniform(0.3, 0.7) * max(h, w)
        shadow = np.exp(-(((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r)))
        page = page * (1 - rng.uniform(0.1, 0.3) * shadow)
    return page


def _ruled_lines(rng, page: np.ndarray, colour_scale: np.ndarray | None = None) -> np.ndarray:
    """Notebook lines across the whole page (and sometimes a margin line), darkening it."""
    h, w = page.shape[:2]
    gap = rng.uniform(0.06, 0.12) * h
    start = rng.uniform(0, gap)
    darkness = rng.uniform(0.15, 0.35)
    thick = int(rng.integers(1, 4))
    lines = np.zeros((h, w), np.float32)
    tilt = rng.uniform(-0.01, 0.01) * w  # a hand-held phone is never quite level
    xx = np.arange(w, dtype=np.float32)
    for y0 in np.arange(start, h, gap):
        ys = (y0 + tilt * (xx / w - 0.5)).astype(int)
        for t in range(thick):
            ok = (ys + t >= 0) & (ys + t < h)
            lines[ys[ok] + t, xx[ok].astype(int)] = 1.0
    if rng.random() < 0.3:  # the red margin line, top to bottom
        x0 = int(rng.uniform(0.08, 0.2) * w)
        lines[:, x0:x0 + thick] = np.maximum(lines[:, x0:x0 + thick], 0.8)
    factor = 1 - darkness * lines
    return page * (factor[..., None] if page.ndim == 3 else factor)


def _table_band(rng, page: np.ndarray) -> np.ndarray:
    """The table showing along one edge: a dark, slightly textured, uneven-edged band."""
    h, w = page.shape[:2]
    side = int(rng.integers(4))
    across = h if side in (0, 1) else w  # the band's depth runs along this axis
    along = w if side in (0, 1) else h
    depth = rng.uniform(0.05, 0.18) * across
    edge = depth + rng.uniform(-0.02, 0.02) * across * _smooth_field(rng, 1, along, 5)[0]
    pos = np.arange(across, dtype=np.float32)[:, None]
    band = (pos < edge[None, :]).astype(np.float32)  # (across, along)
    if side in (1, 3):
        band = band[::-1]
    if side in (2, 3):
        band = band.T
    band = np.ascontiguousarray(band[:h, :w])
    wood = np.array(rng.uniform([40, 25, 10], [120, 80, 60]), np.float32)
    texture = 1 + 0.15 * _smooth_field(rng, h, w, 12)[..., None]
    colour = wood[None, None, :] * texture
    out = page if page.ndim == 3 else np.repeat(page[..., None], 3, axis=2)
    return out * (1 - band[..., None]) + colour * band[..., None]


# ----- the kinds -----------------------------------------------------------------------------


def tight_crop(digit: np.ndarray, rng) -> np.ndarray:
    """Cropped tightly to the ink: no paper border; either polarity; 12-300 px tall."""
    height = int(rng.choice([int(rng.integers(12, 40)), int(rng.integers(40, 120)),
                             int(rng.integers(120, 300))]))
    ink = _ink(digit, height)
    rows, cols = np.flatnonzero(ink.max(1) > 0.15), np.flatnonzero(ink.max(0) > 0.15)
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    paper, pen = rng.uniform(200, 255), rng.uniform(0, 70)
    if rng.random() < 0.5:  # light ink on dark (a screenshot of a dark-mode pad, MNIST-like)
        paper, pen = rng.uniform(0, 50), rng.uniform(190, 255)
    picture = paper + (pen - paper) * ink + rng.normal(0, rng.uniform(0, 4), ink.shape)
    if rng.random() < 0.4:
        picture = _jpeg(picture, int(rng.integers(60, 95)))
    return np.clip(picture, 0, 255).astype(np.float32)


def phone_photo(digit: np.ndarray, rng) -> np.ndarray:
    """A phone photo of a pen digit on (often ruled) paper, sometimes with the table at an
    edge: colour, uneven light, shadow, blur, noise, JPEG."""
    h, w = int(rng.integers(300, 700)), int(rng.integers(300, 700))
    height = int(rng.uniform(0.3, 0.6) * min(h, w))
    ink = _ink(digit, height)
    ih, iw = ink.shape
    if iw > 0.8 * w:
        ink = _ink(digit, max(8, int(height * 0.8 * w / iw)))
        ih, iw = ink.shape
    top = int(rng.uniform(0.25, 0.75) * (h - ih))
    left = int(rng.uniform(0.25, 0.75) * (w - iw))
    paper = _paper(rng, h, w, rng.uniform(170, 235), rng.uniform(20, 60))
    tint = np.array(rng.uniform([0.92, 0.92, 0.85], [1.0, 1.0, 1.0]), np.float32)  # warm light
    page = paper[..., None] * tint[None, None, :]
    if rng.random() < 0.5:
        page = _ruled_lines(rng, page)
    pen = np.array(rng.choice([[25, 25, 30], [20, 30, 110], [45, 45, 45]]), np.float32)
    pen = pen + rng.uniform(-15, 25)
    alpha = np.zeros((h, w), np.float32)
    alpha[top:top + ih, left:left + iw] = np.clip(ink * rng.uniform(1.0, 1.6), 0, 1)
    page = page * (1 - alpha[..., None]) + pen[None, None, :] * alpha[..., None]
    if rng.random() < 0.5:
        page = _table_band(rng, page)
    page = _blur(page, rng.uniform(0, 1.5))
    page = page + rng.normal(0, rng.uniform(2, 6), page.shape)
    return _jpeg(page, int(rng.integers(35, 90)))


def faint_pencil(digit: np.ndarray, rng) -> np.ndarray:
    """Light grey, thin-ish pencil strokes on off-white paper, with noise."""
    h, w = int(rng.integers(120, 400)), int(rng.integers(120, 400))
    height = int(rng.uniform(0.4, 0.8) * min(h, w))
    ink = _ink(digit, height)
    ink = np.clip((ink - 0.35) / 0.5, 0, 1)  # thinner than MNIST's soft strokes
    ih, iw = ink.shape
    if iw > w - 4:
        ink = ink[:, :w - 4]
        ih, iw = ink.shape
    top = int(rng.uniform(0.2, 0.8) * (h - ih))
    left = int(rng.uniform(0.2, 0.8) * (w - iw))
    page = _paper(rng, h, w, rng.uniform(215, 245), rng.uniform(0, 15))
    alpha = np.zeros((h, w), np.float32)
    alpha[top:top + ih, left:left + iw] = ink
    grain = 1 + 0.25 * rng.standard_normal((h, w)).astype(np.float32)  # pencil on paper grain
    page = page - rng.uniform(45, 90) * alpha * np.clip(grain, 0.4, 1.6)
    page = page + rng.normal(0, rng.uniform(2, 5), page.shape)
    if rng.random() < 0.5:
        page = _jpeg(page, int(rng.integers(60, 95)))
    return np.clip(page, 0, 255).astype(np.float32)


def _low_res(digit: np.ndarray, rng, smooth: bool) -> np.ndarray:
    """The digit (its ink's box, squared, a pixel of margin) at 8x8 with grey ink, blown up
    to 32x32: nearest neighbour (blocky) or bilinear/bicubic (smooth)."""
    d = np.asarray(digit, np.float32)
    rows, cols = np.flatnonzero(d.max(1) > 0), np.flatnonzero(d.max(0) > 0)
    d = d[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = max(d.shape) + 4
    square = np.zeros((side, side), np.float32)
    y0, x0 = (side - d.shape[0]) // 2, (side - d.shape[1]) // 2
    square[y0:y0 + d.shape[0], x0:x0 + d.shape[1]] = d
    small = np.asarray(Image.fromarray(square, "F").resize((8, 8), Image.Resampling.BOX),
                       np.float32) / 255.0
    small = np.clip(small / max(float(small.max()), 1e-6), 0, 1)
    paper, pen = rng.uniform(200, 255), rng.uniform(40, 140)  # grey ink on white
    if rng.random() < 0.5:
        paper, pen = rng.uniform(0, 40), rng.uniform(120, 220)  # grey ink on black
    picture = paper + (pen - paper) * small
    method = (rng.choice([Image.Resampling.BILINEAR, Image.Resampling.BICUBIC]) if smooth
              else Image.Resampling.NEAREST)
    big = np.asarray(Image.fromarray(picture.astype(np.float32), "F").resize((32, 32), method),
                     np.float32)
    return np.clip(big, 0, 255).round().astype(np.float32)


def low_res_blocky(digit: np.ndarray, rng) -> np.ndarray:
    return _low_res(digit, rng, smooth=False)


def low_res_smooth(digit: np.ndarray, rng) -> np.ndarray:
    return _low_res(digit, rng, smooth=True)


def blank_page(digit: np.ndarray | None, rng) -> np.ndarray:
    """Paper with shading, a shadow, sometimes ruled lines; noise and JPEG; no digit."""
    h, w = int(rng.integers(200, 700)), int(rng.integers(200, 700))
    page = _paper(rng, h, w, rng.uniform(160, 240), rng.uniform(10, 60))
    if rng.random() < 0.3:
        page = _ruled_lines(rng, page)
    page = page + rng.normal(0, rng.uniform(1, 6), page.shape)
    if rng.random() < 0.5:
        page = np.repeat(page[..., None], 3, axis=2) * np.array(
            rng.uniform([0.92, 0.92, 0.85], [1.0, 1.0, 1.0]), np.float32)
    return _jpeg(page, int(rng.integers(35, 90)))


def colourful_photo(digit: np.ndarray | None, rng) -> np.ndarray:
    """A photo-like colourful scene (sky, ground, shapes of many colours), no digit in it."""
    h, w = int(rng.integers(200, 600)), int(rng.integers(250, 700))
    sky_top, sky_low = rng.uniform(60, 255, 3), rng.uniform(60, 255, 3)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    picture = sky_top * (1 - t) + sky_low * t + np.zeros((1, w, 1), np.float32)
    im = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    horizon = int(rng.uniform(0.4, 0.8) * h)
    draw.rectangle([0, horizon, w, h], fill=tuple(int(c) for c in rng.uniform(20, 200, 3)))
    for _ in range(int(rng.integers(6, 25))):
        x0, y0 = rng.uniform(-0.1, 1.0) * w, rng.uniform(-0.1, 1.0) * h
        x1, y1 = x0 + rng.uniform(0.05, 0.5) * w, y0 + rng.uniform(0.05, 0.5) * h
        colour = tuple(int(c) for c in rng.uniform(0, 255, 3))
        shape = rng.integers(3)
        if shape == 0:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        elif shape == 1:
            draw.rectangle([x0, y0, x1, y1], fill=colour)
        else:
            pts = [tuple(rng.uniform([x0, y0], [x1, y1])) for _ in range(int(rng.integers(3, 7)))]
            draw.polygon(pts, fill=colour)
    picture = np.asarray(im, np.float32) * (1 + 0.2 * _smooth_field(rng, h, w, 6)[..., None])
    picture = _blur(picture, rng.uniform(0, 2))
    picture = picture + rng.normal(0, rng.uniform(1, 6), picture.shape)
    return _jpeg(picture, int(rng.integers(50, 95)))


# ----- notebook paper ------------------------------------------------------------------------

PENS = {"navy": (25, 30, 90), "blue": (35, 60, 160), "black": (30, 30, 35)}  # RGB, ink in a photo
CREAM, WHITE = (250, 242, 220), (250, 250, 248)  # a notebook page's colour, its two ends
BLUE_LINE, PURPLE_LINE = (150, 170, 220), (165, 150, 215)  # the ruling's colour, its two ends
RED_MARGIN = (225, 110, 120)


def notebook_photo(digit: np.ndarray | None, *, height: int, size: tuple[int, int] = (600, 800),
                   at: tuple[float, float] = (0.5, 0.5), squared: bool = False,
                   gap: float = 36.0, first: float = 10.0, thick: int = 2,
                   line: tuple = BLUE_LINE, margin: float | None = None,
                   ruled_from: float = 0.0, tilt: float = 0.0, paper: tuple = CREAM,
                   pen: tuple = PENS["navy"], strength: float = 1.3, blur: float = 1.0,
                   light=None, noise: float = 0.0, quality: int | None = None,
                   rng=None) -> np.ndarray:
    """A photo of a pen digit (or none) on notebook paper, every part set by hand.

    size (h, w); height: the digit's in pixels, its centre `at` (row, column shares); lines
    every `gap` px from `first`, `thick` px, from the row `ruled_from` (a share of h: the
    page's unruled top band above it) down, both ways when `squared`; a red margin line at
    the column share `margin`; tilt: the lines' slope (rows per column); light: an (h, w)
    field of the paper's brightness (1 = as given) or None; blur: the Gaussian's sigma;
    noise (sigma, grey levels) and JPEG at `quality` need `rng`. (h, w, 3) float32 0..255."""
    h, w = size
    page = np.ones((h, w, 3), np.float32) * np.asarray(paper, np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ruled = np.zeros((h, w), np.float32)
    across = (yy - tilt * (xx - w / 2) - first) % gap  # distance below the last line
    ruled[(across < thick) & (yy >= ruled_from * h)] = 1.0
    if squared:
        down = (xx + tilt * (yy - h / 2) - first) % gap
        ruled[down < thick] = 1.0
    colour = np.asarray(line, np.float32) / 255.0
    page = page * (1 - ruled[..., None] * (1 - colour))
    if margin is not None:
        x0 = int(margin * w)
        page[:, x0:x0 + thick] = page[:, x0:x0 + thick] * (np.asarray(RED_MARGIN, np.float32) / 255)
    if digit is not None:
        ink = _ink(digit, height)
        ih, iw = ink.shape
        top = int(np.clip(at[0] * h - ih / 2, 0, h - ih))
        left = int(np.clip(at[1] * w - iw / 2, 0, w - iw))
        alpha = np.zeros((h, w), np.float32)
        alpha[top:top + ih, left:left + iw] = np.clip(ink[:h - top, :w - left] * strength, 0, 1)
        page = page * (1 - alpha[..., None]) + np.asarray(pen, np.float32) * alpha[..., None]
    if light is not None:
        page = page * light[..., None]
    page = _blur(page, blur)
    if rng is not None and noise > 0:
        page = page + rng.normal(0, noise, page.shape)
    if quality is not None:
        return _jpeg(page, quality)
    return np.clip(page, 0, 255).astype(np.float32)


def _mix(rng, a: tuple, b: tuple, spread: float = 0.0) -> tuple:
    """A colour between a and b (and a little either way)."""
    t = rng.uniform(0, 1)
    c = (1 - t) * np.asarray(a, np.float32) + t * np.asarray(b, np.float32)
    return tuple(np.clip(c + rng.uniform(-spread, spread, 3), 0, 255))


def _notebook(digit: np.ndarray | None, rng, squared: bool) -> np.ndarray:
    """A phone photo of notebook paper with the parameters drawn from rng."""
    h, w = int(rng.integers(360, 1000)), int(rng.integers(360, 1000))
    height = int(rng.uniform(0.25, 0.55) * min(h, w))
    gap = float(rng.uniform(24, 48))
    ruled_from, at = 0.0, (rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))
    if not squared and digit is not None and rng.random() < 0.3:
        # Written in the page's unruled top band: the lines run beside the digit, not through.
        height = int(rng.uniform(0.15, 0.3) * min(h, w))
        at = (0.05 + 0.55 * height / h, rng.uniform(0.3, 0.7))
        ruled_from = at[0] + 0.6 * height / h
    margin = rng.uniform(0.06, 0.2) if (not squared and rng.random() < 0.4) else None
    paper = _paper(rng, h, w, 1.0, rng.uniform(0.04, 0.2))  # the light: 1 +- a little
    pen_a, pen_b = (PENS[k] for k in rng.choice(list(PENS), 2))
    pen = _mix(rng, pen_a, pen_b, spread=15)
    return notebook_photo(
        digit, height=height, size=(h, w), at=at, squared=squared, gap=gap,
        first=rng.uniform(0, gap), thick=int(rng.integers(1, 4)),
        line=_mix(rng, BLUE_LINE, PURPLE_LINE, spread=12), margin=margin,
        ruled_from=ruled_from, tilt=rng.uniform(-0.01, 0.01), paper=_mix(rng, CREAM, WHITE),
        pen=pen, strength=rng.uniform(1.0, 1.6), blur=rng.uniform(0.5, 2.0),
        light=paper * np.float32(rng.uniform(0.75, 1.0)), noise=rng.uniform(2, 6),
        quality=int(rng.integers(35, 90)), rng=rng)


def notebook_lined(digit: np.ndarray, rng) -> np.ndarray:
    """A phone photo of a pen digit on lined notebook paper (see notebook_photo)."""
    return _notebook(digit, rng, squared=False)


def notebook_squared(digit: np.ndarray, rng) -> np.ndarray:
    """A phone photo of a pen digit on squared notebook paper (see notebook_photo)."""
    return _notebook(digit, rng, squared=True)


def empty_notebook(digit: np.ndarray | None, rng) -> np.ndarray:
    """A lined or squared notebook page photographed the same way, with no digit."""
    return _notebook(None, rng, squared=bool(rng.random() < 0.4))


# Each takes (digit, rng); only the EMPTY_KINDS' makers take None for the digit (make checks).
MAKERS: dict[str, Callable[..., np.ndarray]] = {
    "tight_crop": tight_crop,
    "phone_photo": phone_photo,
    "faint_pencil": faint_pencil,
    "low_res_blocky": low_res_blocky,
    "low_res_smooth": low_res_smooth,
    "blank_page": blank_page,
    "colourful_photo": colourful_photo,
    "notebook_lined": notebook_lined,
    "notebook_squared": notebook_squared,
    "empty_notebook": empty_notebook,
}


def make(kind: str, digit: np.ndarray | None, rng) -> np.ndarray:
    """One picture of `kind` made from `digit` (ignored for the EMPTY_KINDS)."""
    if kind not in MAKERS:
        raise ValueError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    if digit is None and kind not in EMPTY_KINDS:
        raise ValueError(f"{kind} pictures are made from a digit; none was given")
    return MAKERS[kind](digit, rng)


def make_set(kind: str, digits: np.ndarray, labels: np.ndarray, count: int = 500,
             seed: int = 0, first: int | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """`count` pictures of `kind` from MNIST digits picked at random (seeded) from `digits`;
    labels are -1 for the kinds without a digit. first: make only the set's first this many
    (the same pictures, sooner)."""
    rng = np.random.default_rng([seed, KINDS.index(kind)] if kind in KINDS else seed)
    pick = rng.choice(len(digits), size=count, replace=count > len(digits))
    pick = pick[:first] if first is not None else pick
    pictures = [make(kind, digits[i], rng) for i in pick]
    out_labels = (np.asarray(labels)[pick].astype(np.int64) if kind in DIGIT_KINDS
                  else np.full(count, -1, np.int64))
    return pictures, out_labels

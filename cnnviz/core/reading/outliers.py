"""Synthetic non-digits, drawn as people draw them: the pictures the verdict learns and is
measured on.

A user who wants to see what the network does with something else draws a letter, a smiley,
a star, a heart, an arrow, a scribble or a few random strokes, hatches an area, fills a blob,
or (on the digit model) sketches a piece of clothing; on the Fashion model, a digit. Each kind
is drawn here with a pen (round caps, a hand's wobble, random size, place, angle and pen
width) on a 280x280 picture (the drawing pad's size), dark ink on white paper or white on
black like the pad, and sent through the real preprocessing (`preprocess_for`), so the
network sees exactly what it would see in the app.

Two seed streams that never meet: STREAM_TRAIN (outlier exposure during training) and
STREAM_MEASURE (benchmarks and tests). numpy and Pillow only; the same seed gives the same
pictures everywhere (letters use Pillow's bundled font, so no system font is needed).

    images, kinds = outlier_inputs(500, "mnist", stream=STREAM_MEASURE, seed=0)
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..pictures.preprocess import preprocess_for

PAD = 280  # the drawing pad's side in pixels
STREAM_TRAIN = 1  # the seed stream outlier exposure trains on ...
STREAM_MEASURE = 2  # ... and the one the verdict is measured on: never the same pictures
PEN_WIDTHS = (8, 30)  # pen diameter in pad pixels (the pad's default brush is 20)

# Letters that no one would take for a digit (O, I, l, S, Z, B, G, q, g are left out).
LETTERS = "AaCEeFHhKkMmNnPRrtUVWwXxYy"
WORDS = ("hi", "cat", "ok", "yes", "no", "abc", "Hey", "CNN", "wow", "max")
DIGIT_CHARS = "0123456789"

# The kinds each model is shown: every model gets the generic ones; the digit model also
# gets clothes, a Fashion model digits (the other dataset's things).
GENERIC_KINDS = ("letter", "pen letter", "word", "smiley", "star", "heart", "arrow",
                 "scribble", "strokes", "hatching", "blob")
KINDS = {"mnist": GENERIC_KINDS + ("clothes",),
         "fashion-mnist": GENERIC_KINDS + ("digit",)}

# Pen-drawn capital letters on a unit square (x right, y down): lists of strokes.
PEN_LETTERS = {
    "A": [[(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)], [(0.22, 0.6), (0.78, 0.6)]],
    "E": [[(0.9, 0.0), (0.1, 0.0), (0.1, 1.0), (0.9, 1.0)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.9, 0.0), (0.1, 0.0), (0.1, 1.0)], [(0.1, 0.48), (0.7, 0.48)]],
    "H": [[(0.1, 0.0), (0.1, 1.0)], [(0.9, 0.0), (0.9, 1.0)], [(0.1, 0.5), (0.9, 0.5)]],
    "K": [[(0.15, 0.0), (0.15, 1.0)], [(0.85, 0.0), (0.15, 0.55)], [(0.35, 0.42), (0.9, 1.0)]],
    "M": [[(0.0, 1.0), (0.1, 0.0), (0.5, 0.7), (0.9, 0.0), (1.0, 1.0)]],
    "N": [[(0.1, 1.0), (0.1, 0.0), (0.9, 1.0), (0.9, 0.0)]],
    "W": [[(0.0, 0.0), (0.25, 1.0), (0.5, 0.35), (0.75, 1.0), (1.0, 0.0)]],
    "X": [[(0.05, 0.0), (0.95, 1.0)], [(0.95, 0.0), (0.05, 1.0)]],
    "Y": [[(0.05, 0.0), (0.5, 0.5), (0.95, 0.0)], [(0.5, 0.5), (0.5, 1.0)]],
    "V": [[(0.0, 0.0), (0.5, 1.0), (1.0, 0.0)]],
    "U": [[(0.1, 0.0), (0.1, 0.7), (0.3, 0.97), (0.7, 0.97), (0.9, 0.7), (0.9, 0.0)]],
    "R": [[(0.15, 1.0), (0.15, 0.0), (0.7, 0.02), (0.85, 0.15), (0.85, 0.35), (0.7, 0.48),
           (0.15, 0.5)], [(0.45, 0.5), (0.9, 1.0)]],
    "P": [[(0.15, 1.0), (0.15, 0.0), (0.7, 0.02), (0.85, 0.15), (0.85, 0.35), (0.7, 0.48),
           (0.15, 0.5)]],
    "C": [[(0.9, 0.15), (0.7, 0.0), (0.3, 0.0), (0.08, 0.25), (0.08, 0.75), (0.3, 1.0),
           (0.7, 1.0), (0.9, 0.85)]],
}

# Pen-drawn digits (for a Fashion model), the same way.
PEN_DIGITS = {
    "0": [[(0.5, 0.0), (0.15, 0.2), (0.1, 0.5), (0.15, 0.8), (0.5, 1.0), (0.85, 0.8),
           (0.9, 0.5), (0.85, 0.2), (0.5, 0.0)]],
    "1": [[(0.3, 0.2), (0.55, 0.0), (0.55, 1.0)]],
    "2": [[(0.1, 0.25), (0.3, 0.0), (0.7, 0.0), (0.9, 0.25), (0.8, 0.5), (0.1, 1.0),
           (0.95, 1.0)]],
    "3": [[(0.1, 0.1), (0.5, 0.0), (0.85, 0.2), (0.5, 0.48), (0.9, 0.75), (0.5, 1.0),
           (0.1, 0.9)]],
    "4": [[(0.7, 1.0), (0.7, 0.0), (0.05, 0.7), (0.95, 0.7)]],
    "5": [[(0.85, 0.0), (0.2, 0.0), (0.15, 0.45), (0.6, 0.4), (0.9, 0.65), (0.7, 0.95),
           (0.1, 0.95)]],
    "6": [[(0.8, 0.0), (0.3, 0.3), (0.1, 0.7), (0.4, 1.0), (0.8, 0.85), (0.8, 0.55),
           (0.4, 0.5), (0.15, 0.7)]],
    "7": [[(0.05, 0.0), (0.95, 0.0), (0.4, 1.0)]],
    "8": [[(0.5, 0.5), (0.15, 0.25), (0.5, 0.0), (0.85, 0.25), (0.5, 0.5), (0.1, 0.75),
           (0.5, 1.0), (0.9, 0.75), (0.5, 0.5)]],
    "9": [[(0.85, 0.3), (0.5, 0.5), (0.15, 0.3), (0.5, 0.0), (0.85, 0.3), (0.8, 1.0)]],
}

# Clothes as a person sketches them (for the digit model): closed outlines on a unit square.
CLOTHES = {
    "t-shirt": [(0.3, 0.0), (0.42, 0.08), (0.58, 0.08), (0.7, 0.0), (1.0, 0.2), (0.88, 0.4),
                (0.78, 0.33), (0.78, 1.0), (0.22, 1.0), (0.22, 0.33), (0.12, 0.4), (0.0, 0.2)],
    "trousers": [(0.2, 0.0), (0.8, 0.0), (0.9, 1.0), (0.6, 1.0), (0.5, 0.3), (0.4, 1.0),
                 (0.1, 1.0)],
    "dress": [(0.38, 0.0), (0.62, 0.0), (0.65, 0.3), (0.95, 1.0), (0.05, 1.0), (0.35, 0.3)],
    "shoe": [(0.05, 0.3), (0.35, 0.35), (0.6, 0.6), (0.95, 0.7), (1.0, 0.95), (0.0, 0.95)],
    "boot": [(0.2, 0.0), (0.55, 0.0), (0.55, 0.6), (0.95, 0.75), (1.0, 1.0), (0.2, 1.0)],
    "bag": [(0.0, 0.35), (1.0, 0.35), (0.95, 1.0), (0.05, 1.0)],
    "shirt": [(0.3, 0.0), (0.7, 0.0), (1.0, 0.15), (1.0, 1.0), (0.83, 1.0), (0.8, 0.35),
              (0.78, 1.0), (0.22, 1.0), (0.2, 0.35), (0.17, 1.0), (0.0, 1.0), (0.0, 0.15)],
}


def pil_font(size: int):
    """Pillow's own font (bundled with Pillow since 10.1, so the same everywhere), else
    DejaVu Sans if installed; None when neither can be had (letters are then pen-drawn)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, AttributeError, OSError):  # old Pillow, or no FreeType
        pass
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return None


class _Pen:
    """A 280x280 sheet and a pen: strokes with round caps and a little hand wobble."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.image = Image.new("L", (PAD, PAD), 0)  # ink is drawn as 255 on 0, inverted later
        self.draw = ImageDraw.Draw(self.image)
        self.width = int(rng.integers(PEN_WIDTHS[0], PEN_WIDTHS[1] + 1))
        # Where the unit square lands: a size, a centre, an angle and a slant.
        self.size = float(rng.uniform(0.45, 0.85)) * PAD
        self.centre = rng.uniform(0.38, 0.62, size=2) * PAD
        self.angle = float(rng.uniform(-0.35, 0.35))
        self.aspect = float(rng.uniform(0.75, 1.25))

    def place(self, points) -> np.ndarray:
        """Unit-square points (x, y) -> pad pixels, with the sheet's size, angle and place."""
        p = (np.asarray(points, dtype=np.float64) - 0.5) * self.size
        p[:, 0] *= self.aspect
        c, s = math.cos(self.angle), math.sin(self.angle)
        p = p @ np.array([[c, s], [-s, c]])
        return p + self.centre

    def wobble(self, p: np.ndarray, amount: float = 0.012) -> np.ndarray:
        """A hand's wobble: slow (smoothed over about a sixth of a long path), not jitter."""
        noise = self.rng.normal(0.0, amount * PAD, size=p.shape)
        k = max(1, len(p) // 6)
        if k > 1:
            kernel = np.ones(k) / math.sqrt(k)
            noise = np.stack([np.convolve(noise[:, i], kernel, mode="same") for i in (0, 1)], 1)
        return p + noise

    def stroke(self, points, *, unit: bool = True, smooth: bool = False) -> None:
        p = self.place(points) if unit else np.asarray(points, dtype=np.float64)
        p = self.wobble(p)
        if smooth and len(p) >= 3:
            p = _smooth_path(p)
        xy = [tuple(q) for q in p]
        r = self.width / 2
        if len(xy) > 1:
            self.draw.line(xy, fill=255, width=self.width, joint="curve")
        for x, y in (xy[0], xy[-1]):
            self.draw.ellipse((x - r, y - r, x + r, y + r), fill=255)

    def fill(self, points, *, unit: bool = True) -> None:
        p = self.place(points) if unit else np.asarray(points, dtype=np.float64)
        self.draw.polygon([tuple(q) for q in self.wobble(p, 0.006)], fill=255)

    def result(self) -> np.ndarray:
        """(280, 280) float32 0..255: dark ink on white paper, or (a third of the time) white
        ink on black as the drawing pad has it."""
        ink = np.asarray(self.image, dtype=np.float32)
        if self.rng.random() < 1 / 3:
            return ink
        return 255.0 - ink


def _smooth_path(p: np.ndarray, per_segment: int = 8) -> np.ndarray:
    """A Catmull-Rom curve through the points (a hand does not draw corners everywhere)."""
    q = np.vstack([p[:1], p, p[-1:]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(q) - 2):
        p0, p1, p2, p3 = q[i - 1], q[i], q[i + 1], q[i + 2]
        out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(p[-1:])
    return np.vstack(out)


def _circle(cx, cy, rx, ry, n=40, start=0.0, stop=2 * math.pi):
    t = np.linspace(start, stop, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


# ----- the kinds -----------------------------------------------------------------------------


def _text(pen: _Pen, text: str) -> None:
    """Text in a font, filled, scaled to the sheet's size and rotated a little."""
    font = pil_font(200)
    if font is None:
        _pen_strokes(pen, PEN_LETTERS if not text.isdigit() else PEN_DIGITS, text[:1])
        return
    sheet = Image.new("L", (PAD * 3, PAD), 0)
    d = ImageDraw.Draw(sheet)
    d.text((10, 10), text, fill=255, font=font, stroke_width=int(pen.rng.integers(0, 8)),
           stroke_fill=255)
    box = sheet.getbbox()
    if box is None:
        return
    glyph = sheet.crop(box)
    scale = pen.size / max(glyph.size)
    glyph = glyph.resize((max(1, int(glyph.width * scale * pen.aspect)),
                          max(1, int(glyph.height * scale))), Image.Resampling.BILINEAR)
    glyph = glyph.rotate(math.degrees(pen.angle), expand=True, resample=Image.Resampling.BILINEAR)
    x = int(pen.centre[0] - glyph.width / 2)
    y = int(pen.centre[1] - glyph.height / 2)
    pen.image.paste(255, (x, y), glyph)


def _pen_strokes(pen: _Pen, table: dict, key: str | None = None) -> None:
    key = key if key in table else str(pen.rng.choice(sorted(table)))
    for stroke in table[key]:
        pen.stroke(stroke, smooth=len(stroke) > 4)


def _letter(pen: _Pen) -> None:
    _text(pen, str(pen.rng.choice(list(LETTERS))))


def _word(pen: _Pen) -> None:
    _text(pen, str(pen.rng.choice(WORDS)))


def _digit(pen: _Pen) -> None:
    if pen.rng.random() < 0.5:
        _text(pen, str(pen.rng.choice(list(DIGIT_CHARS))))
    else:
        _pen_strokes(pen, PEN_DIGITS)


def _smiley(pen: _Pen) -> None:
    rng = pen.rng
    if rng.random() < 0.85:  # the face's outline (sometimes left out)
        pen.stroke(_circle(0.5, 0.5, 0.5, 0.5, 48), smooth=False)
    eye_y, eye_dx = rng.uniform(0.3, 0.4), rng.uniform(0.15, 0.22)
    for side in (-1, 1):
        x = 0.5 + side * eye_dx
        if rng.random() < 0.5:
            pen.stroke([(x, eye_y - 0.02), (x, eye_y + 0.05)])  # a dash
        else:
            pen.stroke([(x, eye_y), (x + 0.001, eye_y)])  # a dot
    sad = rng.random() < 0.25
    mouth = (_circle(0.5, 0.78, 0.25, 0.12, 16, math.pi * 1.15, math.pi * 1.85) if sad
             else _circle(0.5, 0.55, 0.25, 0.17, 16, math.pi * 0.15, math.pi * 0.85))
    pen.stroke(mouth)


def _star(pen: _Pen) -> None:
    rng = pen.rng
    points = int(rng.choice([5, 5, 5, 6, 4, 7, 8]))
    inner = rng.uniform(0.3, 0.5)
    spin = rng.uniform(0, 2 * math.pi)
    if points == 5 and rng.random() < 0.4:  # drawn in one line, a pentagram
        t = spin + np.arange(6) * 4 * math.pi / 5
        pen.stroke(np.stack([0.5 + 0.5 * np.cos(t), 0.5 + 0.5 * np.sin(t)], 1))
        return
    t = spin + np.arange(2 * points + 1) * math.pi / points
    r = np.where(np.arange(2 * points + 1) % 2 == 0, 0.5, 0.5 * inner)
    outline = np.stack([0.5 + r * np.cos(t), 0.5 + r * np.sin(t)], 1)
    if rng.random() < 0.25:
        pen.fill(outline)
    pen.stroke(outline)


def _heart(pen: _Pen) -> None:
    t = np.linspace(0, 2 * math.pi, 40)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    outline = np.stack([0.5 + x / 34, 0.5 + (y + 2) / 34], 1)
    if pen.rng.random() < 0.3:
        pen.fill(outline)
    pen.stroke(outline)


def _arrow(pen: _Pen) -> None:
    rng = pen.rng
    pen.angle = float(rng.uniform(0, 2 * math.pi))  # any direction
    head = rng.uniform(0.2, 0.35)
    pen.stroke([(0.0, 0.5), (1.0, 0.5)])
    pen.stroke([(1.0 - head, 0.5 - head), (1.0, 0.5), (1.0 - head, 0.5 + head)])
    if rng.random() < 0.25:  # double-headed
        pen.stroke([(head, 0.5 - head), (0.0, 0.5), (head, 0.5 + head)])


def _scribble(pen: _Pen) -> None:
    rng = pen.rng
    n = int(rng.integers(12, 40))
    steps = rng.normal(0, 0.28, size=(n, 2))
    walk = np.cumsum(steps, axis=0)
    walk = (walk - walk.min(0)) / np.maximum(np.ptp(walk, 0), 1e-6)  # fills the sheet
    pen.stroke(walk, smooth=True)


def _strokes(pen: _Pen) -> None:
    rng = pen.rng
    for _ in range(int(rng.integers(3, 7))):
        a, b = rng.uniform(0, 1, 2), rng.uniform(0, 1, 2)
        if rng.random() < 0.5:
            pen.stroke([a, b])
        else:
            mid = (a + b) / 2 + rng.normal(0, 0.2, 2)
            pen.stroke([a, mid, b], smooth=True)


def _hatching(pen: _Pen) -> None:
    rng = pen.rng
    pen.width = max(PEN_WIDTHS[0], pen.width // 2)
    for direction in range(1 if rng.random() < 0.6 else 2):  # single or cross-hatched
        lines = int(rng.integers(4, 11))
        slope = rng.uniform(-0.4, 0.4) + (0.8 if direction else 0.0)
        for y in np.linspace(0, 1, lines):
            pen.stroke([(0.0, y - slope / 2), (1.0, y + slope / 2)] if not direction
                       else [(y - slope / 2, 0.0), (y + slope / 2, 1.0)])


def _blob(pen: _Pen) -> None:
    rng = pen.rng
    t = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    r = 0.35 + sum(rng.normal(0, 0.05) * np.cos(k * t + rng.uniform(0, 6)) for k in range(1, 5))
    r = np.clip(r, 0.12, 0.5)
    pen.fill(np.stack([0.5 + r * np.cos(t), 0.5 + r * np.sin(t)], 1))


def _clothes(pen: _Pen) -> None:
    rng = pen.rng
    outline = CLOTHES[str(rng.choice(sorted(CLOTHES)))]
    pen.angle *= 0.3
    closed = list(outline) + [outline[0]]
    if rng.random() < 0.5:
        pen.fill(outline)
    pen.stroke(closed)


DRAW = {"letter": _letter, "pen letter": lambda pen: _pen_strokes(pen, PEN_LETTERS),
        "word": _word, "smiley": _smiley, "star": _star, "heart": _heart, "arrow": _arrow,
        "scribble": _scribble, "strokes": _strokes, "hatching": _hatching, "blob": _blob,
        "clothes": _clothes, "digit": _digit}


def draw(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One drawing of a kind: (280, 280) float32 0..255."""
    pen = _Pen(rng)
    DRAW[kind](pen)
    return pen.result()


def _rng(stream: int, seed: int) -> np.random.Generator:
    return np.random.default_rng([int(stream), int(seed)])


def outlier_drawings(n: int, dataset: str = "mnist", *, stream: int = STREAM_MEASURE,
                     seed: int = 0, kinds=None) -> list[tuple[str, np.ndarray]]:
    """n drawings [(kind, (280, 280) 0..255)], the kinds taken in turn."""
    kinds = tuple(kinds or KINDS[dataset if dataset in KINDS else "mnist"])
    rng = _rng(stream, seed)
    return [(kinds[i % len(kinds)], draw(kinds[i % len(kinds)], rng)) for i in range(n)]


def outlier_inputs(n: int, dataset: str = "mnist", *, stream: int = STREAM_MEASURE,
                   seed: int = 0, kinds=None) -> tuple[np.ndarray, list[str]]:
    """n drawings through the model's preprocessing: ((N, 28, 28) float32 0..1, kinds).
    A drawing in which preprocessing finds no ink (rare) is left out, so N <= n."""
    prep = preprocess_for(dataset)
    images, names = [], []
    for kind, picture in outlier_drawings(n, dataset, stream=stream, seed=seed, kinds=kinds):
        digit = prep(picture)
        if not digit.empty:
            images.append(digit.image)
            names.append(kind)
    return np.asarray(images, dtype=np.float32).reshape(-1, 28, 28), names


def training_outliers(n: int, dataset: str = "mnist", seed: int = 0) -> np.ndarray:
    """Outlier exposure's pictures: (N, 28, 28) uint8, from the training stream only. The
    same arguments give the same pictures, so they are made once (about 15 s for 4,000)
    and then read from cnnviz's cache (cnnviz.core.basics.picture_cache)."""
    from ..basics.picture_cache import cached

    def make() -> np.ndarray:
        images, _ = outlier_inputs(n, dataset, stream=STREAM_TRAIN, seed=seed)
        return np.round(images * 255.0).astype(np.uint8)

    return cached("training-outliers", (n, dataset, STREAM_TRAIN, seed), make)

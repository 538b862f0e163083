"""Drawn stroke pictures and a tiny network, shared by the tests of the user's own set
(training on it, the lab and the dataset window)."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from cnnviz.core.networks.layers import Activation, Conv, Dense, Flatten, Pool
from cnnviz.core.networks.models import Architecture
from cnnviz.core.training.user_set import UserSet

SHAPES = {  # strokes in a unit square around the middle, -1..1
    "circle": [[(math.cos(t), math.sin(t)) for t in np.linspace(0, 2 * math.pi, 25)]],
    "cross": [[(-1, -1), (1, 1)], [(-1, 1), (1, -1)]],
    "zigzag": [[(-1, -1), (1, -1), (-1, 1), (1, 1)]],
}
WRITERS = ("ana", "ben", "cy")


def stroke_drawing(shape: str, rng, writer: int = 0) -> tuple[np.ndarray, list]:
    """A 280×280 pad picture (dark ink on white) of a shape at a random place, size ±30%,
    rotation ±20° and thickness; each writer with a slant and pen of their own."""
    size = 70 * rng.uniform(0.7, 1.3)
    angle = math.radians(rng.uniform(-20, 20) + (writer - 1) * 6)
    cx, cy = rng.uniform(size + 20, 260 - size, 2)
    width = int(rng.integers(8, 20) + writer * 3)
    cos, sin = math.cos(angle), math.sin(angle)
    canvas = Image.new("L", (280, 280), 255)
    draw = ImageDraw.Draw(canvas)
    strokes = []
    for stroke in SHAPES[shape]:
        points = [(cx + size * (x * cos - y * sin), cy + size * (x * sin + y * cos))
                  for x, y in stroke]
        draw.line(points, fill=0, width=width, joint="curve")
        strokes.append([(px / 280, py / 280) for px, py in points])
    return np.asarray(canvas, np.float32), strokes


def stroke_set(folder, per_class: int = 30, seed: int = 0) -> UserSet:
    """Three stroke classes, `per_class` drawings each, shared among three writers."""
    rng = np.random.default_rng(seed)
    made = UserSet.create(folder, list(SHAPES))
    for i in range(per_class):
        for shape in SHAPES:
            writer = i % len(WRITERS)
            picture, strokes = stroke_drawing(shape, rng, writer)
            made.add_drawing(picture, shape, writer=WRITERS[writer], strokes=strokes)
    return made


def tiny_arch(outputs: int = 10) -> Architecture:
    return Architecture("tiny", "a tiny test network", (
        Conv(8, (5, 5)), Pool("max", 2, 2), Activation("relu"), Conv(16, (5, 5)),
        Pool("max", 2, 2), Activation("relu"), Flatten(), Dense(outputs), Activation("softmax")))

"""The hard cases the recognition benchmark found (cnnviz/core/pictures/user_pictures.py, the pictures
made exactly as the benchmark makes them, stored under tests/data/hard_cases by
scripts/make_hard_cases.py), each read wrongly or not at all before the preprocessing
learnt it. The digits are MNIST test digits; the truth is their label, or "no digit" for a
blank page."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz.core.pictures import user_pictures
from cnnviz.core.pictures.preprocess import preprocess_digit


@pytest.fixture(scope="module")
def model():
    from cnnviz.core.networks.weights import load_shipped

    return load_shipped("cnnviz").model


HARD_CASES = Path(__file__).resolve().parents[2] / "data" / "hard_cases"


def pictures(kind: str, count: int, seed: int, picks: list[int]):
    """The stored pictures (scripts/make_hard_cases.py made them with user_pictures, from
    MNIST test digits): (index, picture 0..255, truth: the digit, or None for no digit)."""
    index = {e["file"]: e["label"] for e in json.loads((HARD_CASES / "index.json").read_text())}
    out = []
    for i in picks:
        name = f"{kind}-{count}-seed{seed}-{i}.png"
        out.append((i, np.asarray(Image.open(HARD_CASES / name), np.float32), index[name]))
    return out


def test_ruled_blank_pages_with_margin_lines_are_blank():
    # Bits of the ruled and margin lines, noise specks and a smudge were read as 1, 5, 2, 8.
    for i, page, _ in pictures("blank_page", 500, 1, [17, 104, 175, 215, 266, 342, 436]):
        result = preprocess_digit(page)
        assert result.empty and result.reason == "blank", f"blank page {i} read as a digit"


def test_faint_pencil_on_a_small_shaded_page_is_found(model):
    # A page under 144 px had one paper level for all of it: the shading hid the pencil.
    for i, picture, label in pictures("faint_pencil", 300, 0, [12, 37]):
        result = preprocess_digit(picture)
        assert not result.empty, f"faint pencil {i} (a {label}) was called blank"
        assert int(model.predict_proba(result.image[None]).argmax()) == label


@pytest.mark.parametrize("count,picks", [(300, [108]), (500, [151, 269])],
                         ids=["mid-grey border", "table along a side"])
def test_phone_photos_with_the_table_along_a_side_are_read(model, count, picks):
    # The table made the border mid-grey or left too few sides plainly paper: the paper was
    # taken for ink (or nothing was found).
    for i, picture, label in pictures("phone_photo", count, 0, picks):
        result = preprocess_digit(picture)
        assert not result.empty, f"phone photo {i} (a {label}) was called blank"
        assert result.inverted, f"phone photo {i}: the dark ink on light paper was not flipped"
        assert int(model.predict_proba(result.image[None]).argmax()) == label


def test_the_first_pictures_of_a_set_are_the_sets_own(mnist_test):
    x, y = mnist_test
    whole, labels = user_pictures.make_set("faint_pencil", x, y, count=12, seed=4)
    first, first_labels = user_pictures.make_set("faint_pencil", x, y, count=12, seed=4, first=5)
    assert len(first) == 5 and (first_labels == labels[:5]).all()
    assert all((a == b).all() for a, b in zip(first, whole[:5]))


@pytest.mark.parametrize("noise", [0, 3], ids=["clean", "noisy scan"])
def test_a_one_pixel_pen_digit_on_white_is_read(model, noise):
    # A digit drawn with a 1-pixel pen (an image editor's pencil) fills little of its box, as
    # noise specks do: it must not be taken for them (the first version of the speck rule
    # called these blank on a noisy scan).
    import numpy as np
    from PIL import Image, ImageDraw

    drawings = {0: lambda d: d.ellipse([100, 60, 190, 240], outline=0, width=1),
                1: lambda d: d.line([150, 50, 150, 250], fill=0, width=1),
                7: lambda d: (d.line([100, 60, 200, 60], fill=0, width=1),
                              d.line([200, 60, 130, 250], fill=0, width=1))}
    rng = np.random.default_rng(0)
    for label, draw in drawings.items():
        im = Image.new("L", (300, 300), 255)
        draw(ImageDraw.Draw(im))
        picture = np.clip(np.asarray(im, np.float32) + rng.normal(0, noise, (300, 300)), 0, 255)
        result = preprocess_digit(picture)
        assert not result.empty, f"a 1-pixel {label} was called blank"
        assert int(model.predict_proba(result.image[None]).argmax()) == label

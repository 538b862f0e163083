"""Digits photographed on notebook paper are read; an empty notebook page is blank.

The pictures are MNIST test digits written with a pen on lined or squared paper
(cnnviz.core.user_pictures.notebook_photo); the truth is the digit's MNIST label, or
"no digit" for an empty page."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core import user_pictures as U
from cnnviz.core.preprocess import preprocess_digit

PICKS = (0, 1, 2, 3, 4)  # MNIST test digits 7, 2, 1, 0, 4


@pytest.fixture(scope="module")
def model():
    from cnnviz.core.weights import load_shipped

    return load_shipped("cnnviz").model


def read(model, picture) -> int | None:
    """The digit the app reads in the picture, or None when it finds none."""
    result = preprocess_digit(picture)
    if result.empty:
        return None
    return int(model.predict_proba(result.image[None]).argmax())


def test_a_digit_on_blue_lined_paper_is_read(model, mnist_test):
    # The picture as it was reported: a cream page, lines (150, 170, 220) 2 px every 36 px,
    # a navy pen, slight blur. It was "No digit found": the lines ran through the digit and
    # what the line removal left of it was taken for bits of the lines.
    x, y = mnist_test
    for i in PICKS:
        picture = U.notebook_photo(x[i], height=250, size=(800, 600), gap=36, thick=2,
                                   line=(150, 170, 220), paper=U.CREAM, pen=U.PENS["navy"],
                                   blur=1.0)
        assert read(model, picture) == y[i], f"test digit {i} (a {y[i]})"


@pytest.mark.parametrize("pen", sorted(U.PENS))
def test_lines_through_the_digit_with_a_margin_tilt_and_noise(model, mnist_test, pen):
    x, y = mnist_test
    rng = np.random.default_rng(3)
    for i in PICKS[:3]:
        picture = U.notebook_photo(x[i], height=220, size=(560, 720), at=(0.55, 0.45), gap=24,
                                   first=5, thick=3, line=U.PURPLE_LINE, margin=0.12,
                                   tilt=0.008, paper=U.WHITE, pen=U.PENS[pen], blur=2.0,
                                   noise=4.0, quality=60, rng=rng)
        assert read(model, picture) == y[i], f"test digit {i} (a {y[i]}), {pen} pen"


def test_a_digit_on_squared_paper_is_read(model, mnist_test):
    x, y = mnist_test
    rng = np.random.default_rng(4)
    for i in PICKS:
        picture = U.notebook_photo(x[i], height=200, size=(600, 640), squared=True, gap=30,
                                   thick=1, line=U.BLUE_LINE, tilt=-0.005, pen=U.PENS["blue"],
                                   blur=0.8, noise=3.0, quality=75, rng=rng)
        assert read(model, picture) == y[i], f"test digit {i} (a {y[i]})"


def test_a_digit_in_the_unruled_top_band_is_read(model, mnist_test):
    # The lines run below the digit, not through it.
    x, y = mnist_test
    for i in PICKS[:3]:
        picture = U.notebook_photo(x[i], height=120, size=(600, 600), at=(0.15, 0.5),
                                   ruled_from=0.28, gap=40, margin=0.1, blur=1.5)
        assert read(model, picture) == y[i], f"test digit {i} (a {y[i]})"


@pytest.mark.parametrize("squared", [False, True], ids=["lined", "squared"])
def test_an_empty_notebook_page_is_blank(squared):
    rng = np.random.default_rng(5)
    for gap, thick, blur in ((24, 1, 0.5), (36, 2, 1.0), (48, 3, 2.0)):
        page = U.notebook_photo(None, height=0, size=(700, 900), squared=squared, gap=gap,
                                thick=thick, margin=None if squared else 0.15, blur=blur,
                                noise=5.0, quality=50, rng=rng)
        result = preprocess_digit(page)
        assert result.empty and result.reason == "blank", f"lines every {gap} px, {thick} px"


def test_the_notebook_kinds_are_seeded_and_labelled(mnist_test):
    x, y = mnist_test
    a, labels = U.make_set("notebook_lined", x, y, count=3, seed=7)
    b, _ = U.make_set("notebook_lined", x, y, count=3, seed=7)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert all(p.ndim == 3 and p.shape[2] == 3 for p in a)
    assert set(labels) <= set(range(10))
    _, empty_labels = U.make_set("empty_notebook", x, y, count=3, seed=7)
    assert (empty_labels == -1).all()
    # Adding kinds left the others' pictures as they were (their seed is their place in KINDS).
    assert U.KINDS[:7] == ("tight_crop", "phone_photo", "faint_pencil", "low_res_blocky",
                           "low_res_smooth", "blank_page", "colourful_photo")

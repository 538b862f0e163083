"""MNIST-style preprocessing against independent facts: MNIST digits are already normalised
(so they come through unchanged), centres of mass land on MNIST's centre, the ink fits the
20-pixel box, and odd inputs give finite results instead of exceptions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnviz.core.pictures.preprocess import BOX, CENTER, SIZE, DigitInput, preprocess_digit, preprocess_for

KEYS = ["grey", "invert", "clean", "crop", "thicken", "scale", "center"]
WEIGHTS = Path(__file__).resolve().parents[3] / "cnnviz" / "weights" / "cnnviz-mnist.safetensors"


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    ys, xs = np.mgrid[0:a.shape[0], 0:a.shape[1]]
    return float((a * ys).sum() / a.sum()), float((a * xs).sum() / a.sum())


def ink_box(a: np.ndarray, threshold: float = 0.05) -> tuple[int, int]:
    rows = np.flatnonzero((a > threshold).any(axis=1))
    cols = np.flatnonzero((a > threshold).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def shifted_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """The best correlation over whole-pixel shifts of up to 1 px: centring by whole pixels
    may land one pixel off when a centre of mass is near a half pixel."""
    return max(correlation(np.roll(a, (dy, dx), axis=(0, 1)), b)
               for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def upscale(digit: np.ndarray, size: int = 280) -> np.ndarray:
    return np.asarray(Image.fromarray(digit).resize((size, size), Image.Resampling.BILINEAR),
                      np.float32)


def check_result(result: DigitInput) -> None:
    assert result.image.shape == (SIZE, SIZE) and result.image.dtype == np.float32
    assert np.isfinite(result.image).all()
    assert result.image.min() >= 0 and result.image.max() <= 1
    assert [s.key for s in result.steps] == KEYS
    for step in result.steps:
        assert step.image.dtype == np.float32 and np.isfinite(step.image).all()
        assert step.image.min() >= 0 and step.image.max() <= 1
        assert step.title and step.explanation.endswith(".")


def blob_picture(rng, size: int) -> np.ndarray:
    """A random filled ellipse plus a stroke, white on black, somewhere in a size x size pad."""
    im = Image.new("L", (size, size), 0)
    d = ImageDraw.Draw(im)
    for _ in range(2):
        w, h = rng.uniform(0.1, 0.5, 2) * size
        x, y = rng.uniform(0.1, 0.5, 2) * size
        d.ellipse([x, y, x + w, y + h], fill=int(rng.integers(120, 256)))
    d.line([tuple(rng.uniform(0.2, 0.8, 2) * size), tuple(rng.uniform(0.2, 0.8, 2) * size)],
           fill=255, width=max(1, size // 15))
    return np.asarray(im, np.float32)


# ----- MNIST itself -------------------------------------------------------------------------


def test_mnist_digits_come_through_unchanged(mnist_test):
    x, _ = mnist_test
    close = 0
    for digit in x[:200]:
        result = preprocess_digit(digit)
        check_result(result)
        assert not result.empty and not result.inverted
        want = digit.astype(np.float32) / 255
        if np.abs(result.image - want).max() < 0.05 and correlation(result.image, want) > 0.99:
            close += 1
    assert close >= 195  # MNIST is already normalised: nearly all are identical


def test_mnist_centre_convention(mnist_test):
    # The fact preprocessing copies: MNIST centres of mass lie within 0.5 px of (14, 14).
    x, _ = mnist_test
    coms = np.array([centre_of_mass(d.astype(np.float64)) for d in x[:500]])
    assert np.abs(coms - CENTER).max() <= 0.5 + 1e-9
    assert all(max(ink_box(d / 255.0, 0)) == BOX for d in x[:500])


def test_dark_on_light_upscaled_digit_matches_original(mnist_test):
    x, _ = mnist_test
    scores = []
    for digit in x[:50]:
        result = preprocess_digit(255.0 - upscale(digit), thicken=False)
        check_result(result)
        assert result.inverted and result.steps[1].title == "Invert"
        scores.append(shifted_correlation(result.image, digit / 255.0))
        # With thickening (the default) thin MNIST strokes get bolder, but the digit stays put.
        assert shifted_correlation(preprocess_digit(255.0 - upscale(digit)).image, digit / 255.0) > 0.7
    assert min(scores) > 0.8 and np.median(scores) > 0.95 and np.mean(np.array(scores) > 0.9) >= 0.9


def test_photo_like_digit_is_inverted_and_cleaned(mnist_test):
    x, _ = mnist_test
    rng = np.random.default_rng(3)
    scores = []
    for digit in x[:20]:
        ink = upscale(digit) / 255.0
        gradient = np.linspace(-25, 25, 280, dtype=np.float32)[None, :]  # uneven light
        photo = 200 + gradient - ink * 140 + rng.normal(0, 6, ink.shape)  # ink 60 on paper 200
        result = preprocess_digit(np.clip(photo, 0, 255).astype(np.float32), thicken=False)
        check_result(result)
        assert result.inverted and result.steps[2].title == "Clean"
        cleaned = result.steps[2].image
        assert np.median(cleaned[ink < 0.05]) < 0.02  # paper -> black, across the gradient
        assert np.median(cleaned[ink > 0.9]) > 0.8  # ink -> white
        scores.append(shifted_correlation(result.image, digit / 255.0))
    assert min(scores) > 0.8 and np.median(scores) > 0.9


def test_colour_input(mnist_test):
    digit = mnist_test[0][0]
    rgb = np.stack([255.0 - upscale(digit)] * 3, axis=2)
    rgb[..., 0] = np.maximum(rgb[..., 0], 40)  # a reddish tint, still dark ink on light
    result = preprocess_digit(rgb)
    check_result(result)
    assert result.inverted and correlation(result.image, digit / 255.0) > 0.9


@pytest.mark.skipif(not WEIGHTS.is_file(), reason=f"no shipped model at {WEIGHTS}")
def test_model_reads_preprocessed_digits_like_raw(mnist_test):
    from cnnviz.core.networks.weights import load_weights

    model = load_weights(WEIGHTS).model
    x, y = mnist_test
    x, y = x[:300], y[:300]
    raw = model.predict_proba(x.astype(np.float32) / 255).argmax(1)
    pre = model.predict_proba(np.stack([preprocess_digit(d).image for d in x])).argmax(1)
    assert (pre == raw).mean() >= 0.99
    assert (pre == y).mean() >= (raw == y).mean() - 0.01


# ----- geometry -----------------------------------------------------------------------------


def test_random_blobs_centred_and_boxed():
    rng = np.random.default_rng(7)
    for i in range(40):
        size = int(rng.integers(40, 400))
        result = preprocess_digit(blob_picture(rng, size))
        check_result(result)
        assert not result.empty
        cy, cx = centre_of_mass(result.image.astype(np.float64))
        rows, cols = np.flatnonzero(result.image.any(1)), np.flatnonzero(result.image.any(0))
        # Within half a pixel of MNIST's centre, unless that would push ink out of the frame.
        assert abs(cy - CENTER) <= 0.5 + 1e-6 or rows[0] == 0 or rows[-1] == SIZE - 1, (i, cy)
        assert abs(cx - CENTER) <= 0.5 + 1e-6 or cols[0] == 0 or cols[-1] == SIZE - 1, (i, cx)
        assert BOX - 1 <= max(ink_box(result.image)) <= BOX


def test_bbox_in_input_pixels_and_big_photo_is_shrunk_first():
    from cnnviz.core.pictures.preprocess import WORK_SIZE

    photo = np.full((3000, 4000, 3), 215, np.float32)
    photo[1000:2200, 1800:1950] = 30  # a dark "1" on white paper
    result = preprocess_digit(photo)
    check_result(result)
    # Fast because every step after the first works on a shrunk copy, not 12 megapixels
    # (no timing here: a busy machine would make a timed test fail for nothing).
    grey = result.steps[0].image
    assert result.steps[0].key == "grey" and max(grey.shape) <= WORK_SIZE
    assert result.inverted and not result.empty
    top, left, bottom, right = result.bbox
    assert abs(top - 1000) <= 16 and abs(bottom - 2200) <= 16
    assert abs(left - 1800) <= 16 and abs(right - 1950) <= 16


def test_far_speck_does_not_change_the_crop():
    pad = np.full((280, 280), 255.0, np.float32)
    pad[60:220, 120:150] = 0  # the digit, dark on white
    pad[270:273, 5:8] = 0  # dust in a corner
    clean = pad.copy()
    clean[270:273, 5:8] = 255
    a, b = preprocess_digit(pad), preprocess_digit(clean)
    assert a.bbox == b.bbox == (60, 120, 220, 150)
    np.testing.assert_allclose(a.image, b.image, atol=1e-6)


# ----- steps --------------------------------------------------------------------------------


def test_clean_drawing_is_left_alone():
    pad = np.zeros((280, 280), np.float32)
    pad[50:230, 100:125] = 255
    pad[50:70, 100:200] = 180
    result = preprocess_digit(pad)
    check_result(result)
    assert not result.inverted and result.steps[1].title.startswith("Invert (not")
    np.testing.assert_array_equal(result.steps[2].image, pad / 255)
    assert result.steps[2].explanation.startswith("Not needed")


def _ring(pen: int) -> np.ndarray:
    im = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(im).ellipse([80, 40, 200, 240], outline=255, width=pen)  # a "0"
    return np.asarray(im, np.float32)


def test_thin_strokes_are_thickened():
    thin = preprocess_digit(_ring(3))
    check_result(thin)
    step = thin.steps[4]
    assert step.title == "Thicken" and "widened" in step.explanation
    plain = preprocess_digit(_ring(3), thicken=False)
    assert plain.steps[4].title == "Thicken (off)"
    assert (thin.image > 0.5).sum() > 1.5 * (plain.image > 0.5).sum()
    # A ring drawn with the pad's default brush (20 px) is like MNIST and is left alone.
    normal = preprocess_digit(_ring(20))
    assert normal.steps[4].title == "Thicken (not needed)"
    ink = (normal.image > 0.5).sum()
    assert 1.2 * (plain.image > 0.5).sum() < ink


def test_invert_can_be_forced():
    pad = np.zeros((60, 60), np.float32)
    pad[10:50, 25:35] = 255
    assert preprocess_digit(pad, invert=False).inverted is False
    forced = preprocess_digit(255 - pad, invert=True)
    assert forced.inverted and forced.steps[1].title == "Invert"
    np.testing.assert_allclose(forced.image, preprocess_digit(pad).image, atol=1e-6)
    with pytest.raises(ValueError):
        preprocess_digit(pad, invert="maybe")


def test_already_centered_keeps_an_mnist_digit(mnist_test):
    digit = mnist_test[0][3]
    result = preprocess_digit(digit, already_centered=True)
    check_result(result)
    np.testing.assert_allclose(result.image, digit / 255.0, atol=1e-6)
    assert "skipped" in result.steps[5].title or result.steps[5].title.startswith("Scale")


# ----- odd inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("picture", [
    np.zeros((280, 280), np.float32),  # blank pad (black)
    np.full((280, 280), 255, np.float32),  # blank page (white)
    np.full((50, 70, 3), 128, np.uint8),  # one even grey
], ids=["black", "white", "grey-rgb"])
def test_blank_pictures_are_empty(picture):
    result = preprocess_digit(picture)
    check_result(result)
    assert result.empty and result.bbox is None and not result.image.any()


@pytest.mark.parametrize("shape_fill", [
    ((28, 28), (14, 14)),  # a single-pixel dot
    ((1, 50), (0, slice(5, 45))),  # a 1xN line
    ((50, 1), (slice(5, 45), 0)),  # an Nx1 line
    ((8, 8), (slice(2, 6), 4)),  # a tiny picture
    ((300, 300, 1), (slice(100, 200), slice(140, 160), 0)),  # (H, W, 1)
])
def test_odd_shapes_give_finite_results(shape_fill):
    shape, where = shape_fill
    picture = np.zeros(shape, np.uint8)
    picture[where] = 255
    result = preprocess_digit(picture)
    check_result(result)
    assert not result.empty
    assert result.image.sum() > 0


def test_noise_and_nan_do_not_crash():
    rng = np.random.default_rng(0)
    check_result(preprocess_digit(rng.uniform(0, 255, (100, 120)).astype(np.float32)))
    with_nan = np.zeros((40, 40), np.float32)
    with_nan[10:30, 18:22] = 255
    with_nan[0, 0] = np.nan
    check_result(preprocess_digit(with_nan))


def test_one_pixel_picture():
    check_result(preprocess_digit(np.zeros((1, 1), np.float32)))
    check_result(preprocess_digit(np.full((1, 1), 255, np.uint8)))


def test_bad_shapes_are_refused():
    for bad in (np.zeros(10), np.zeros((4, 4, 2)), np.zeros((0, 5))):
        with pytest.raises(ValueError):
            preprocess_digit(bad)


# ----- Fashion-MNIST framing --------------------------------------------------------------------


def product_photo(item: np.ndarray) -> np.ndarray:
    """A Fashion-MNIST item as a product photo: dark on light paper, 3x bigger, off centre."""
    big = np.asarray(Image.fromarray(item).resize((84, 84), Image.Resampling.BICUBIC), np.float32)
    page = np.zeros((140, 120), np.float32)
    page[30:114, 10:94] = big
    return 255.0 - page


def test_fashion_items_are_framed_as_fashion_mnist_was(fashion_test):
    """Fashion-MNIST scaled each item's longest side to 28 and kept its shading; MNIST's
    20x20 box and contrast cleaning would shrink and flatten it. Checked with the shipped
    Fashion model, whose test accuracy on the raw images is the reference."""
    from cnnviz.core.networks.weights import load_shipped
    from cnnviz.core.reading.inference import analyze

    x, y = fashion_test
    n = 300
    net = load_shipped("cnnviz-fashion").model
    raw = (net.predict_proba(x[:n].astype(np.float32) / 255).argmax(1) == y[:n]).mean()

    def accuracy(pictures, dataset):
        return np.mean([analyze(net, p, dataset=dataset).prediction == label
                        for p, label in zip(pictures, y[:n])])

    as_is = [x[i].astype(np.float32) for i in range(n)]
    photos = [product_photo(x[i]) for i in range(n)]
    assert accuracy(as_is, "fashion-mnist") == raw  # a 28x28 image goes in unchanged
    assert accuracy(photos, "fashion-mnist") >= raw - 0.05
    assert accuracy(photos, "mnist") < raw - 0.15  # digit framing really is wrong for clothes


def test_item_is_scaled_to_28_and_centred():
    page = np.full((200, 300), 240.0, np.float32)
    page[50:150, 100:150] = 30.0  # a dark 50 x 100 item on light paper
    item = preprocess_for("fashion-mnist")(page)
    assert [s.key for s in item.steps] == KEYS and item.inverted and not item.empty
    assert ink_box(item.image, 0.5) == (28, 14)  # longest side 28, aspect ratio kept
    cy, cx = centre_of_mass(item.image)
    assert abs(cy - 13.5) < 0.6 and abs(cx - 13.5) < 0.6
    assert item.bbox == (50, 100, 150, 150)
    assert preprocess_for("fashion-mnist")(np.full((50, 40), 255.0)).empty
    assert preprocess_for("mnist") is preprocess_digit and preprocess_for(None) is preprocess_digit

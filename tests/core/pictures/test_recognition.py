"""Pictures people really load, against independent facts: the MNIST test digit a picture was
made from (its shape, via correlation, and its label, via the shipped model), where a digit
was put on a page (the box preprocessing reports in the input's pixels), and what a page
without a digit is. Each case failed before preprocessing learnt to read it."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnviz.core.pictures.preprocess import preprocess_digit

N = 20  # MNIST test digits per case


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def best_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Over whole-pixel shifts up to 2 px: framing may put the centre of mass a pixel off."""
    return max(correlation(np.roll(a, (dy, dx), axis=(0, 1)), b)
               for dy in range(-2, 3) for dx in range(-2, 3))


def ink_of(digit: np.ndarray, height: int) -> np.ndarray:
    """The MNIST digit cropped to its ink and scaled to `height` pixels tall, ink 0..1."""
    rows, cols = np.flatnonzero(digit.max(1) > 0), np.flatnonzero(digit.max(0) > 0)
    d = digit[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float32)
    width = max(1, round(d.shape[1] * height / d.shape[0]))
    im = Image.fromarray(d, "F").resize((width, height), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(im, np.float32) / 255, 0, 1)


def jpeg(picture: np.ndarray, quality: int = 60) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())), np.float32)


@pytest.fixture(scope="module")
def model():
    from cnnviz.core.networks.weights import load_shipped

    return load_shipped("cnnviz").model


def read(model, picture) -> tuple[int | None, object]:
    digit = preprocess_digit(picture)
    if digit.empty:
        return None, digit
    return int(model.predict_proba(digit.image[None]).argmax()), digit


def digits(mnist_test, start: int):
    x, y = mnist_test
    return x[start:start + N], y[start:start + N]


# ----- tight crops: no paper border, ink may be the majority ----------------------------------


def tight_crop(digit: np.ndarray, height: int, dark_on_light: bool) -> np.ndarray:
    ink = ink_of(digit, height)
    rows, cols = np.flatnonzero(ink.max(1) > 0.15), np.flatnonzero(ink.max(0) > 0.15)
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]  # cropped to the ink
    paper, pen = (235.0, 20.0) if dark_on_light else (15.0, 240.0)
    return paper + (pen - paper) * ink


@pytest.mark.parametrize("dark_on_light", [True, False], ids=["dark-on-light", "light-on-dark"])
def test_tight_crops_are_read(model, mnist_test, dark_on_light):
    x, y = digits(mnist_test, 100)
    right, shapes = 0, []
    for i, (digit, label) in enumerate(zip(x, y)):
        picture = tight_crop(digit, (30, 90, 200)[i % 3], dark_on_light)
        answer, result = read(model, picture)
        assert not result.empty, f"digit {i} (a {label}) was called blank"
        assert result.inverted == dark_on_light
        right += answer == label
        shapes.append(best_correlation(result.image, digit / 255.0))
    assert right >= N - 1
    assert np.median(shapes) > 0.8


def test_tight_crop_border_is_added_and_box_is_the_whole_picture(mnist_test):
    picture = tight_crop(mnist_test[0][7], 120, True)
    result = preprocess_digit(picture)
    assert "paper border was added" in result.steps[2].explanation
    top, left, bottom, right = result.bbox  # the ink fills the crop: its box is the picture
    h, w = picture.shape
    assert top <= 2 and left <= 2 and bottom >= h - 2 and right >= w - 2


# ----- photos: the table along an edge, ruled paper -------------------------------------------


def page_with_digit(digit: np.ndarray, rng, size=(420, 360), height=170):
    """Lit unevenly, dark ink on paper: (page, ink 0..1, box of the ink above 0.3)."""
    h, w = size
    ink = ink_of(digit, height)
    ih, iw = ink.shape
    top, left = (h - ih) // 2 + 20, (w - iw) // 2 + 10
    page = 205 + np.linspace(-20, 20, w, dtype=np.float32)[None, :] + np.zeros((h, 1), np.float32)
    alpha = np.zeros((h, w), np.float32)
    alpha[top:top + ih, left:left + iw] = ink
    page = page * (1 - alpha) + 35 * alpha
    rows, cols = np.flatnonzero((alpha > 0.3).any(1)), np.flatnonzero((alpha > 0.3).any(0))
    return page, alpha, (rows[0], cols[0], rows[-1] + 1, cols[-1] + 1)  # the ink's box


def test_photo_with_the_table_along_an_edge(model, mnist_test):
    x, y = digits(mnist_test, 200)
    rng = np.random.default_rng(1)
    right = 0
    for i, (digit, label) in enumerate(zip(x, y)):
        page, _, (top, left, bottom, r) = page_with_digit(digit, rng)
        band = 40 + i % 4 * 10  # the table: a dark band 40-70 px deep along one edge
        colour = np.stack([page] * 3, axis=2)
        side = i % 4
        if side == 0:
            colour[:band] = (70, 45, 30)
        elif side == 1:
            colour[-band:] = (70, 45, 30)
        elif side == 2:
            colour[:, :band] = (70, 45, 30)
        else:
            colour[:, -band:] = (70, 45, 30)
        picture = jpeg(colour + rng.normal(0, 4, colour.shape), 70)
        answer, result = read(model, picture)
        assert not result.empty and "table" in result.steps[2].explanation
        bt, bl, bb, br = result.bbox  # the digit's own box, not the band's
        assert abs(bt - top) <= 8 and abs(bb - bottom) <= 8 and abs(bl - left) <= 8 and abs(br - r) <= 8
        right += answer == label
    assert right >= N - 1


def test_ruled_notebook_paper(model, mnist_test):
    x, y = digits(mnist_test, 300)
    rng = np.random.default_rng(2)
    right = 0
    for i, (digit, label) in enumerate(zip(x, y)):
        page, alpha, (top, left, bottom, r) = page_with_digit(digit, rng)
        lined = page.copy()
        for y0 in range(12 + i % 7, page.shape[0], 34):  # blue-grey lines across the page
            lined[y0:y0 + 2] *= 0.72
        lined = lined * (1 - alpha) + 35 * alpha  # the ink lies over the lines
        picture = jpeg(lined + rng.normal(0, 3, lined.shape), 75)
        answer, result = read(model, picture)
        assert not result.empty and "ruled line" in result.steps[2].explanation
        bt, bl, bb, br = result.bbox
        assert abs(bt - top) <= 8 and abs(bb - bottom) <= 8 and abs(bl - left) <= 8 and abs(br - r) <= 8
        right += answer == label
    assert right >= N - 1


# ----- low-resolution scans ---------------------------------------------------------------------


def test_smooth_low_res_scan_is_not_blank(model, mnist_test):
    x, y = digits(mnist_test, 400)
    right = 0
    for i, (digit, label) in enumerate(zip(x, y)):
        d = digit.astype(np.float32)
        rows, cols = np.flatnonzero(d.max(1) > 0), np.flatnonzero(d.max(0) > 0)
        d = d[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        side = max(d.shape) + 4
        square = np.zeros((side, side), np.float32)
        square[(side - d.shape[0]) // 2:][:d.shape[0], (side - d.shape[1]) // 2:][:, :d.shape[1]] = d
        small = np.asarray(Image.fromarray(square, "F").resize((8, 8), Image.Resampling.BOX)) / 255
        small = small / small.max()
        grey = 230 - 150 * small if i % 2 else 20 + 150 * small  # grey ink, either polarity
        big = np.asarray(Image.fromarray(grey.astype(np.float32), "F").resize(
            (32, 32), Image.Resampling.BICUBIC), np.float32)
        answer, result = read(model, np.clip(big, 0, 255).round())
        assert not result.empty, f"scan {i} (a {label}) was called blank"
        right += answer == label
    assert right >= N - 4  # the shipped model was never trained on blurred 8x8 digits


# ----- no digit ---------------------------------------------------------------------------------


def test_blank_shaded_jpeg_page_is_blank():
    rng = np.random.default_rng(3)
    for i in range(6):
        h, w = 300 + 40 * i, 400 - 30 * i
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        page = 200 + 30 * (xx / w - 0.5) + 20 * (yy / h - 0.5)
        page *= 1 - 0.2 * np.exp(-((yy - h * 0.3) ** 2 + (xx - w * 0.7) ** 2) / (2 * (0.4 * w) ** 2))
        picture = jpeg(page + rng.normal(0, 5, page.shape), 40 + 8 * i)
        result = preprocess_digit(picture)
        assert result.empty and result.reason == "blank", i
        assert result.bbox is None and not result.image.any()


def test_colourful_picture_is_no_single_digit_not_blank():
    rng = np.random.default_rng(4)
    for i in range(4):
        im = Image.new("RGB", (480, 360), tuple(int(c) for c in rng.integers(60, 255, 3)))
        d = ImageDraw.Draw(im)
        for _ in range(15):
            x0, y0 = rng.uniform(0, 480), rng.uniform(0, 360)
            d.ellipse([x0, y0, x0 + rng.uniform(40, 200), y0 + rng.uniform(40, 200)],
                      fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
        result = preprocess_digit(jpeg(np.asarray(im, np.float32), 80))
        assert result.empty and result.reason == "no single digit", i
        assert "colourful" in result.steps[-1].explanation


def test_a_digit_read_has_no_reason(mnist_test):
    result = preprocess_digit(mnist_test[0][0])
    assert not result.empty and result.reason == ""


def test_predict_says_no_single_digit_for_a_colourful_picture_and_blank_for_a_blank_one(tmp_path, capsys):
    """The command line tells the two kinds of "no digit" apart, as DigitInput.reason does."""
    import json

    from PIL import Image

    from cnnviz.cli import main

    rng = np.random.default_rng(3)
    scene = np.zeros((240, 320, 3), np.uint8)
    for _ in range(12):  # bright colourful blocks, no digit
        y, x = rng.integers(0, 200), rng.integers(0, 280)
        scene[y:y + 60, x:x + 70] = rng.integers(0, 256, 3)
    Image.fromarray(scene).save(tmp_path / "scene.png")
    Image.fromarray(np.full((200, 200), 235, np.uint8)).save(tmp_path / "blank.png")
    assert main(["predict", "--json", str(tmp_path / "scene.png"), str(tmp_path / "blank.png")]) == 1
    records = json.loads(capsys.readouterr().out)
    errors = {r["file"].rsplit("/", 1)[-1]: r.get("error", "") for r in records}
    assert "blank" in errors["blank.png"]
    assert "blank" not in errors["scene.png"] and "no single digit" in errors["scene.png"], errors

"""The input side's small panels on their own: the preprocessing strip, the answer, the
texts they show."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from cnnviz.core.pictures.preprocess import preprocess_digit
from cnnviz.ui.input.answer import AnswerView
from cnnviz.ui.input.drawing_pad import qimage_to_array
from cnnviz.ui.input.strip import PreprocessingStrip
from cnnviz.ui.input.wording import DIGITS, pad_source


def white_on_black_digit() -> np.ndarray:
    picture = np.zeros((280, 280), np.float32)
    picture[40:240, 130:150] = 255.0  # a "1": already white on black, nothing to invert
    return picture


def test_strip_greys_exactly_the_steps_preprocessing_calls_not_needed(qtbot):
    strip = PreprocessingStrip()
    qtbot.addWidget(strip)
    digit = preprocess_digit(white_on_black_digit())
    strip.show_digit(digit)
    keys = [s.key for s in digit.steps]
    shown = [v.key for v in strip.steps]
    assert shown == keys[:len(shown)] and len(shown) >= len(keys) - 1
    for view, step in zip(strip.steps, digit.steps):
        # preprocessing's own words (its titles) are the independent reference here
        not_needed = "(not needed)" in step.title or "(skipped)" in step.title
        assert (view.caption.styleSheet() == "color: gray;") == not_needed, step.title
        assert view.caption.text() == step.title.split(" (")[0]
        assert view.picture.qimage().width() == np.shape(step.image)[1]
    network = qimage_to_array(strip.network_input.picture.qimage())
    np.testing.assert_array_equal(network, np.rint(digit.image * 255).astype(np.uint8))


def test_strip_keeps_its_views_while_the_steps_stay_the_same(qtbot):
    strip = PreprocessingStrip()
    qtbot.addWidget(strip)
    strip.show_digit(preprocess_digit(white_on_black_digit()))
    views = list(strip.steps)
    moved = np.roll(white_on_black_digit(), 30, axis=1)
    strip.show_digit(preprocess_digit(moved))
    assert strip.steps == views  # redrawn in place, not rebuilt on every pen move
    dark_on_light = 255.0 - white_on_black_digit()
    strip.show_digit(preprocess_digit(dark_on_light))
    invert = next(v for v in strip.steps if v.key == "invert")
    assert invert.caption.styleSheet() == ""  # this time the picture was inverted


def test_answer_names_the_class_and_how_sure(qtbot):
    from types import SimpleNamespace

    view = AnswerView()
    qtbot.addWidget(view)
    probabilities = np.array([0.01, 0.02, 0.9, 0.07] + [0.0] * 6)
    analysis = SimpleNamespace(digit=SimpleNamespace(empty=False, steps=[]),
                               top3=[(2, 0.9), (3, 0.07), (1, 0.02)],
                               probabilities=probabilities)
    view.show_analysis(analysis, [str(i) for i in range(10)], DIGITS)
    assert view.label.text() == "2" and view.label.font() == view.big_font
    assert "90.0%" in view.text.text() and "(sure)" in view.text.text()
    view.show_analysis(analysis, ["T-shirt/top", "Trouser", "Pullover", "Dress"] + ["x"] * 6,
                       DIGITS)
    assert view.label.text() == "Pullover" and view.label.font() == view.name_font
    view.show_failure("shape <3>")
    assert view.label.text() == "?" and "shape &lt;3&gt;" in view.text.text()


def test_pad_source_says_where_the_picture_comes_from():
    assert pad_source(True, None, False) == "empty pad"
    assert pad_source(False, None, False) == "your drawing"
    assert pad_source(False, "seven.png", False) == "your drawing over seven.png"
    assert pad_source(False, "seven.png", True) == "seven.png (the pad's 280×280 copy)"


def test_qimage_to_array_gives_the_asked_type_in_one_copy():
    image = QImage(5, 3, QImage.Format.Format_Grayscale8)  # rows padded to 8 bytes
    image.fill(7)
    a = qimage_to_array(image, np.float32)
    assert a.dtype == np.float32 and a.shape == (3, 5) and (a == 7).all()
    a[0, 0] = 1  # a copy: the image is not changed
    assert qimage_to_array(image)[0, 0] == 7


def test_strip_pictures_are_averaged_down_like_torch_avg_pool():
    import torch

    from cnnviz.ui.input.strip import shrink_for

    rng = np.random.default_rng(0)
    picture = rng.random((283, 201), dtype=np.float32)  # not a multiple of the block size
    got = shrink_for(picture, 52)  # 283 // 52 = 5: 5x5 blocks, the last 3 and 1 pixels dropped
    want = torch.nn.functional.avg_pool2d(torch.from_numpy(picture)[None, None], 5)[0, 0].numpy()
    assert got.shape == want.shape == (56, 40)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    small = picture[:60, :40]
    assert shrink_for(small, 52) is small  # nothing to gain: shown as it is

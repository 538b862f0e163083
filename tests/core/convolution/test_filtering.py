"""cnnviz.core.convolution.filtering: the kernel explorer's pipeline (conv -> activation -> pooling)
checked against torch.nn.functional, its plain-words errors and its size formulas; and the
modules beside it: the lecture's worked examples (core.lecture_examples), the hover
explanations (core.pixel_explanations: window products, pooling sources, receptive fields),
the drawable previews (core.kernel_previews) and the stages' names (core.stage_names)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.app_state import KernelSettings
from cnnviz.core.convolution import ops
from cnnviz.core.convolution.filtering import floor_note, run_pipeline
from cnnviz.core.convolution.kernel_previews import preview
from cnnviz.core.convolution.lecture_examples import LECTURE_EXAMPLES
from cnnviz.core.convolution.pixel_explanations import explain_conv_pixel, explain_pool_pixel, input_window

RNG = np.random.default_rng(1234)

from torch_reference import torch_pipeline  # noqa: E402 (tests/ is on sys.path)

CASES = [
    # (image shape, kernel shape, stride, padding, activation, pool kind, pool size, pool stride)
    ((28, 28), (3, 3), (1, 1), (0, 0), "relu", "max", 2, 2),
    ((28, 28), (3, 3), (1, 1), (1, 1), "leaky_relu", "avg", 2, 2),
    ((30, 31), (2, 3), (3, 2), (1, 0), "elu", "min", 3, 2),
    ((17, 12), (5, 1), (2, 1), (2, 0), "tanh", "max", 2, 1),
    ((9, 9), (1, 1), (1, 1), (0, 0), "sigmoid", "none", 2, 2),
    ((10, 14), (7, 7), (1, 1), (3, 3), "none", "avg", 3, 3),
    ((12, 11), (3, 2), (1, 1), (1, 0), "softmax", "max", 2, 2),
]


@pytest.mark.parametrize("colour", ["grey", "summed", "per_channel"])
@pytest.mark.parametrize("case", CASES)
def test_pipeline_matches_torch(case, colour):
    shape, kshape, stride, padding, act, pool, psize, pstride = case
    image = RNG.uniform(0, 255, shape + ((3,) if colour != "grey" else ()))
    kernel = RNG.normal(size=kshape)
    s = KernelSettings(kernel=kernel, stride=stride, padding=padding, activation=act, pool_kind=pool,
                       pool_size=psize, pool_stride=pstride, per_channel=colour == "per_channel")
    r = run_pipeline(image, s)
    assert r.error is None, r.error
    assert r.colour_mode == colour
    conv, activated, pooled = torch_pipeline(image, s)
    np.testing.assert_allclose(r.conv, conv, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(r.activated, activated, rtol=1e-10, atol=1e-9)
    if pool == "none":
        assert r.pooled is None and r.pool_rows is None and not r.pool_formulas
        assert r.final is r.activated
    else:
        np.testing.assert_allclose(r.pooled, pooled, rtol=1e-10, atol=1e-9)
        assert r.final is r.pooled
        assert (r.pool_rows.value, r.pool_cols.value) == r.pooled.shape[-2:]
    # Shapes: summed colour gives one map, per channel one map per channel.
    assert r.conv.ndim == (3 if colour == "per_channel" else 2)
    assert (r.conv_rows.value, r.conv_cols.value) == r.conv.shape[-2:]
    # The input as used: grey (H, W), colour channels first (C, H, W).
    assert r.input.shape == (shape if colour == "grey" else (3,) + shape)


def test_float32_photo_matches_torch():
    image = RNG.uniform(0, 255, (121, 161, 3)).astype(np.float32)
    s = KernelSettings(kernel=np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float),
                       stride=(2, 2), padding=(1, 1), activation="relu", pool_kind="max")
    r = run_pipeline(image, s)
    assert r.error is None and r.conv.dtype == np.float32  # a photo stays float32 (memory)
    conv, act, pooled = torch_pipeline(image, s)
    np.testing.assert_allclose(r.conv, conv, rtol=1e-5, atol=1e-2)
    np.testing.assert_allclose(r.pooled, pooled, rtol=1e-5, atol=1e-2)
    assert set(r.timings) == {"conv", "activation", "pool"}


def test_keyword_changes_override_settings():
    image = RNG.uniform(0, 255, (27, 27))
    base = KernelSettings()
    r = run_pipeline(image, base, stride=(2, 2), padding=(1, 1), pool_kind="none")
    assert r.pooled is None
    # The keywords took effect: the result is torch's stride-2, padding-1 convolution.
    conv, _, _ = torch_pipeline(image, base.with_changes(stride=(2, 2), padding=(1, 1)))
    np.testing.assert_allclose(r.conv, conv, rtol=1e-10, atol=1e-9)
    # ... and the settings passed in were not changed: without keywords, stride 1 again.
    conv1, _, _ = torch_pipeline(image, base)
    np.testing.assert_allclose(run_pipeline(image, base).conv, conv1, rtol=1e-10, atol=1e-9)


def test_formulas_with_current_numbers():
    r = run_pipeline(np.zeros((28, 28)), KernelSettings())  # sharpen 3x3, ReLU, max pool 2x2 s2
    assert r.formulas == [
        "Output height = (28 − 3 + 2×0) / 1 + 1 = 26",
        "Output width = (28 − 3 + 2×0) / 1 + 1 = 26",
        "Pooled height = (26 − 2 + 2×0) / 2 + 1 = 13",  # whole: no floor written
        "Pooled width = (26 − 2 + 2×0) / 2 + 1 = 13",
    ]
    assert r.conv_formulas == r.formulas[:2] and r.pool_formulas == r.formulas[2:]
    # Pooling floors: 13 -> 6 with 2x2 stride 2 (Keras and torch drop the last row).
    r = run_pipeline(np.zeros((27, 27)), KernelSettings(), stride=(2, 2), padding=(1, 1))
    assert "Output height = (27 − 3 + 2×1) / 2 + 1 = 14" in r.formulas
    r = run_pipeline(np.zeros((15, 15)), KernelSettings())
    assert "Pooled width = (13 − 2 + 2×0) / 2 + 1 = 6.5 → ⌊6.5⌋ = 6" in r.formulas
    assert r.pooled.shape == (6, 6)
    torch_pooled = F.max_pool2d(torch.zeros(1, 1, 13, 13), 2, 2).shape[-2:]
    assert tuple(torch_pooled) == (6, 6)


# --------------------------------------------------------------------------- impossible settings


FLOOR_CASES = [
    # (image shape, kernel shape, stride, padding): (W - F + 2P) / S + 1 is not whole somewhere
    ((28, 28), (3, 3), (2, 2), (0, 0)),  # the acceptance scenario: sharpen, stride 2 -> 13.5
    ((280, 280), (3, 3), (2, 2), (0, 0)),  # the drawing pad
    ((28, 28), (3, 3), (3, 3), (2, 2)),
    ((27, 28), (3, 3), (2, 2), (0, 0)),  # only the width is floored
    ((30, 31), (2, 3), (4, 3), (1, 0)),  # two rows left out, one of them padding
    ((5, 5), (2, 2), (2, 2), (0, 0)),
]


@pytest.mark.parametrize("colour", ["grey", "per_channel"])
@pytest.mark.parametrize("shape, kshape, stride, padding", FLOOR_CASES)
def test_fractional_sizes_floor_like_torch(shape, kshape, stride, padding, colour):
    image = RNG.uniform(0, 255, shape + ((3,) if colour != "grey" else ()))
    s = KernelSettings(kernel=RNG.normal(size=kshape), stride=stride, padding=padding,
                       activation="relu", pool_kind="max", per_channel=colour == "per_channel")
    r = run_pipeline(image, s)
    assert r.error is None, r.error
    conv, act, pooled = torch_pipeline(image, s)  # torch floors
    np.testing.assert_allclose(r.conv, conv, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(r.pooled, pooled, rtol=1e-10, atol=1e-9)
    assert (r.conv_rows.value, r.conv_cols.value) == r.conv.shape[-2:]
    # Each floored axis has a note and a floor in its formula; whole axes have neither.
    for axis, a in enumerate((r.conv_rows, r.conv_cols)):
        span = shape[axis] - kshape[axis] + 2 * padding[axis]
        assert r.floored[axis] == bool(span % stride[axis])
        assert ("⌊" in r.formulas[axis]) == r.floored[axis]
        first_unused = a.value * stride[axis] - padding[axis] + kshape[axis] - stride[axis]
        if r.floored[axis]:  # the rows no window reaches, up to the padded edge
            assert r.left_out(axis) == (first_unused, shape[axis] + padding[axis] - 1)
        else:
            assert r.left_out(axis) is None
    assert r.notes and all("not a whole number" in n and "PyTorch and Keras" in n for n in r.notes)


def test_floor_note_for_the_acceptance_scenario():
    """Sharpen with stride 2 on a 28x28 digit: 13.5 is floored to 13 and the note says why,
    which row and column are left out, and that no padding can make it whole."""
    r = run_pipeline(np.zeros((28, 28)), KernelSettings(), stride=(2, 2))
    assert r.ok and r.conv.shape == (13, 13) and r.pooled.shape == (6, 6)
    assert r.formulas[0] == "Output height = (28 − 3 + 2×0) / 2 + 1 = 13.5 → ⌊13.5⌋ = 13"
    [note] = r.notes  # one note for both axes: the numbers are the same
    assert note.startswith("Output height and width: (28 − 3 + 2×0) / 2 + 1 = 13.5 is not a "
                           "whole number")
    assert "the last row and column (27) are left out: ⌊13.5⌋ = 13" in note
    assert "Padding cannot give one here: 28 − 3 = 25 is odd" in note
    assert "never divides by stride 2" in note
    assert "Stride 1 or 5, or a 2×2 or 4×4 kernel, would." in note and "277" not in note
    # Where the formula is on screen already (the kernel explorer), the note leaves it out.
    [brief] = floor_note(r, brief=True)
    assert brief.startswith("Output height and width: 13.5 is not a whole number")
    assert "(28 − 3" not in brief and "(27) are left out" in brief and "Stride 1 or 5" in brief
    # Every fix it names does make the size whole.
    for change in ({"stride": (1, 1)}, {"stride": (5, 5)}, {"kernel": np.ones((2, 2))},
                   {"kernel": np.ones((4, 4))}):
        settings = KernelSettings(stride=(2, 2)).with_changes(**change)
        assert not run_pipeline(np.zeros((28, 28)), settings).notes, change


def test_floor_note_names_a_padding_that_works():
    r = run_pipeline(np.zeros((28, 28)), KernelSettings(), stride=(3, 3))  # 9.333
    [note] = r.notes
    assert "Padding 1 gives one: (28 − 3 + 2×1) / 3 + 1 = 10" in note and "cannot" not in note
    fixed = run_pipeline(np.zeros((28, 28)), KernelSettings(), stride=(3, 3), padding=(1, 1))
    assert fixed.notes == [] and fixed.conv.shape == (10, 10)
    # Padding that lands only in the zeros: the note says so.
    r = run_pipeline(np.zeros((28, 28)), KernelSettings(), stride=(2, 2), padding=(1, 1))
    assert "the last row and column (28, padding zeros only) are left out" in r.notes[0]


def test_fractional_width_only_names_the_width():
    r = run_pipeline(np.zeros((27, 28)), KernelSettings(), stride=(2, 2))
    # rows: (27 - 3) / 2 + 1 = 13 fits; columns: (28 - 3) / 2 + 1 = 13.5 is floored.
    assert r.ok and r.floored == (False, True)
    [note] = r.notes
    assert note.startswith("Output width: (28 − 3 + 2×0) / 2 + 1 = 13.5")
    assert "the last column (27) is left out" in note and "row" not in note.split(".")[0]
    assert "Padding cannot give one here" in note and "a kernel 2 or 4 wide" in note


def test_impossible_sizes_stay_errors():
    # A kernel larger than the padded input cannot be floored into anything.
    r = run_pipeline(np.zeros((5, 5)), KernelSettings(kernel=np.ones((7, 7))), stride=(2, 2))
    assert r.error and "larger than" in r.error and r.conv is None and not r.notes
    r = run_pipeline(np.zeros((5, 5)), KernelSettings(), stride=(0, 0))
    assert r.error and "stride must be at least 1" in r.error and r.conv is None


def test_kernel_larger_than_input():
    r = run_pipeline(np.zeros((5, 5)), KernelSettings(kernel=np.ones((7, 2))))
    assert "7-pixel kernel is larger than the 5-pixel input" in r.error
    # With enough padding it fits: (5 - 7 + 2×1) / 1 + 1 = 1.
    r = run_pipeline(np.zeros((5, 5)), KernelSettings(kernel=np.ones((7, 2)), padding=(1, 0),
                                                      pool_kind="none"))
    assert r.error is None and r.conv.shape == (1, 4)


def test_pooling_problems_keep_the_convolution():
    # Pool window 4 on a 3x3 conv output.
    r = run_pipeline(np.zeros((5, 5)), KernelSettings(pool_size=4, pool_stride=4))
    assert r.error.startswith("Pooling") and "4-pixel pooling window" in r.error and "3-pixel" in r.error
    assert r.conv is not None and r.activated is not None and r.pooled is None
    # Padding more than half the pooling window (torch refuses it too).
    r = run_pipeline(np.zeros((8, 8)), KernelSettings(pool_size=2, pool_stride=2), pool_padding=2)
    assert "padding 2" in r.error and "2-pixel pooling window" in r.error and "at most 1" in r.error
    with pytest.raises(RuntimeError):
        F.max_pool2d(torch.zeros(1, 1, 6, 6), 2, 2, padding=2)


def test_pooling_padding_matches_torch():
    image = RNG.normal(size=(12, 12))
    s = KernelSettings(kernel=np.ones((3, 3)), activation="none", pool_kind="max", pool_size=3,
                       pool_stride=2)
    r = run_pipeline(image, s, pool_padding=1)
    assert r.error is None
    conv = torch.tensor(r.conv)[None, None]
    np.testing.assert_allclose(r.pooled, F.max_pool2d(conv, 3, 2, padding=1)[0, 0].numpy())
    assert r.formulas[2] == "Pooled height = (10 − 3 + 2×1) / 2 + 1 = 5.5 → ⌊5.5⌋ = 5"
    assert r.pooled.shape == F.max_pool2d(conv, 3, 2, padding=1).shape[-2:] == (5, 5)


@pytest.mark.parametrize("settings, image, words", [
    (KernelSettings(activation="mish"), np.zeros((8, 8)), ["mish", "relu"]),
    (KernelSettings(pool_kind="median"), np.zeros((8, 8)), ["median", "max"]),
    (KernelSettings(kernel=np.array([[1.0, np.nan]])), np.zeros((8, 8)), ["finite"]),
    (KernelSettings(kernel=np.ones(3)), np.zeros((8, 8)), ["rows and columns", "(3,)"]),
    (KernelSettings(), np.zeros((8, 8, 5)), ["shape (8, 8, 5)"]),
    (KernelSettings(), np.zeros((0, 8)), ["empty"]),
])
def test_bad_choices_are_plain_errors(settings, image, words):
    r = run_pipeline(image, settings)
    assert r.error and r.conv is None
    for w in words:
        assert w in r.error


def test_colour_inputs_rgba_and_single_channel():
    rgb = RNG.uniform(0, 255, (10, 10, 3))
    rgba = np.concatenate([rgb, np.full((10, 10, 1), 255.0)], axis=-1)
    a, b = run_pipeline(rgb, KernelSettings()), run_pipeline(rgba, KernelSettings())
    np.testing.assert_array_equal(a.conv, b.conv)  # alpha is not a colour channel
    single = run_pipeline(rgb[..., :1], KernelSettings())
    assert single.colour_mode == "grey"
    np.testing.assert_allclose(single.conv, run_pipeline(rgb[..., 0], KernelSettings()).conv)


# --------------------------------------------------------------------------- lecture examples


@pytest.mark.parametrize("key", list(LECTURE_EXAMPLES))
def test_lecture_examples_reproduce_the_slides(key):
    ex = LECTURE_EXAMPLES[key]
    r = run_pipeline(ex.image, ex.settings())
    assert r.error is None
    np.testing.assert_array_equal(r.final, ex.expected)
    conv, act, pooled = torch_pipeline(ex.image, ex.settings())
    np.testing.assert_array_equal(pooled if pooled is not None else act, ex.expected)
    if ex.slide_shows is not None:  # the slide's own numbers are wrong there, and we say why
        assert not np.array_equal(ex.slide_shows, ex.expected) and ex.note


def test_lecture_examples_content():
    ex = LECTURE_EXAMPLES
    np.testing.assert_array_equal(ex["what-is-the-output"].kernel, [[0, 1, 0], [1, 0, -1], [0, 1, 0]])
    np.testing.assert_array_equal(ex["what-is-the-output"].expected, [[2, 1, -1], [-1, 1, 3], [2, 1, 1]])
    np.testing.assert_array_equal(ex["stride-2"].expected, [[2, -1], [2, 1]])
    np.testing.assert_array_equal(ex["stride-laplacian-1"].expected,
                                  [[692, -315, -6], [-680, -194, 305], [153, -59, -86]])
    np.testing.assert_array_equal(ex["stride-laplacian-2"].expected, [[692, -6], [153, -86]])
    np.testing.assert_array_equal(ex["grey-vertical-edge"].kernel, [[1, 0, -1]] * 3)
    np.testing.assert_array_equal(ex["grey-vertical-edge"].expected, [[3, 3, 0]] * 3)
    np.testing.assert_array_equal(ex["max-pool"].expected, [[123, 253], [187, 165]])
    assert ex["max-pool"].stage == "pool" and ex["stride-2"].stage == "conv"
    # The stride slide's 6x6 grid cannot be the input: 6x6 with a 3x3 kernel gives 4x4.
    assert ops.output_shape((6, 6), (3, 3)) == (4, 4)
    assert ex["stride-laplacian-1"].image.shape == (5, 5)
    for e in ex.values():
        assert e.name and e.slide and e.description
        assert not e.image.flags.writeable  # shared by everyone


# --------------------------------------------------------------------------- hover explanations


def test_recap_slide_products():
    ex = LECTURE_EXAMPLES["what-is-the-output"]
    r = run_pipeline(ex.image, ex.settings())
    px = explain_conv_pixel(r, 0, 0)
    assert px.total == 2 and px.value == 2 and (px.top, px.left) == (0, 0)
    assert px.text == "(1×0) + (0×1) + (1×0) + (1×1) + (0×0) + (0×−1) + (0×0) + (1×1) + (1×0) = 2"
    assert explain_conv_pixel(r, 0, 1).total == 1


@pytest.mark.parametrize("colour", ["grey", "summed", "per_channel"])
def test_conv_pixel_matches_window_products(colour):
    shape = (11, 13) + ((3,) if colour != "grey" else ())
    image = RNG.integers(0, 256, shape).astype(np.float64)
    s = KernelSettings(kernel=RNG.integers(-3, 4, (3, 2)).astype(float), stride=(2, 3),
                       padding=(1, 2), per_channel=colour == "per_channel", pool_kind="none")
    r = run_pipeline(image, s)
    assert r.error is None
    ho, wo = r.conv.shape[-2:]
    for row, col in [(0, 0), (ho - 1, wo - 1), (ho // 2, 0), (0, wo - 1)]:
        for ch in ([0, 2] if colour == "per_channel" else [None]):
            px = explain_conv_pixel(r, row, col, ch)
            x = r.input[ch] if ch is not None else r.input
            wp = ops.window_products(x, s.kernel, s.stride, s.padding, row, col)
            assert (px.top, px.left) == (wp.top, wp.left)
            np.testing.assert_array_equal(px.window, wp.window)
            np.testing.assert_array_equal(px.products, wp.products)
            assert px.total == pytest.approx(wp.total) == pytest.approx(px.value)
    if colour == "summed":
        assert "sum over channels" in explain_conv_pixel(r, 0, 0).text
    with pytest.raises(IndexError):
        explain_conv_pixel(r, ho, 0)


def test_pool_pixel_names_its_source():
    ex = LECTURE_EXAMPLES["max-pool"]
    r = run_pipeline(ex.image, ex.settings())
    px = explain_pool_pixel(r, 0, 1)
    assert px.value == 253 and px.source == (1, 3)
    np.testing.assert_array_equal(px.values, [[1, 34], [222, 253]])
    assert px.text == "max(1, 34, 222, 253) = 253 (from row 1, column 3)"
    r = run_pipeline(ex.image, ex.settings().with_changes(pool_kind="min"))
    assert explain_pool_pixel(r, 0, 1).value == 1 and explain_pool_pixel(r, 0, 1).source == (0, 2)
    r = run_pipeline(ex.image, ex.settings().with_changes(pool_kind="avg"))
    px = explain_pool_pixel(r, 1, 0)
    assert px.value == pytest.approx((45 + 122 + 21 + 187) / 4) and px.source is None
    assert px.text.startswith("mean(45, 122, 21, 187)")


@pytest.mark.parametrize("stage", ["conv", "pool"])
def test_input_window_is_the_receptive_field(stage):
    # Every input pixel inside the window changes the output pixel; none outside does.
    s = KernelSettings(kernel=np.arange(1, 7, dtype=float).reshape(2, 3), stride=(2, 1), padding=(1, 1),
                       activation="none", pool_kind="avg" if stage == "pool" else "none",
                       pool_size=2, pool_stride=2)
    image = np.zeros((10, 8))
    base = run_pipeline(image, s)
    out = base.pooled if stage == "pool" else base.conv
    row, col = out.shape[0] - 1, 1
    top, left, height, width = input_window(base, stage, row, col)
    inside = np.zeros(image.shape, bool)
    inside[max(top, 0):top + height, max(left, 0):left + width] = True
    for r in range(image.shape[0]):
        for c in range(image.shape[1]):
            bumped = image.copy()
            bumped[r, c] = 1.0
            res = run_pipeline(bumped, s)
            changed = (res.pooled if stage == "pool" else res.conv)[row, col] != 0
            assert changed == inside[r, c], (r, c)


def test_preview_block_means_and_levels():
    a = RNG.normal(size=(1003, 2001)).astype(np.float32)
    p = preview(a, max_side=800)
    assert p.factor == 3 and p.array.shape == (335, 667) and p.shape == a.shape
    np.testing.assert_allclose(p.array[0, 0], a[:3, :3].mean(), rtol=1e-5)
    np.testing.assert_allclose(p.array[-1, -1], a[1002:, 1998:].mean(), rtol=1e-5)
    assert p.levels == (float(a.min()), float(a.max()))  # levels of the full array
    small = preview(np.arange(6.0).reshape(2, 3))
    assert small.factor == 1 and small.array.shape == (2, 3)
    colour = preview(RNG.uniform(0, 255, (3, 1600, 900)), max_side=800, colour=True)
    assert colour.factor == 2 and colour.array.shape == (800, 450, 3)


def test_fmt_number_of_the_hover_texts():
    from cnnviz.core.basics.formulas import fmt_number

    assert fmt_number(2.0) == "2" and fmt_number(-3) == "−3" and fmt_number(13.5) == "13.5"
    assert fmt_number(1 / 9) == "0.1111" and fmt_number(2.99999999) != "3"


# --------------------------------------------------------------------------- limits, overflow, softmax


def test_huge_padding_is_a_plain_error_before_allocating():
    import tracemalloc

    tracemalloc.start()
    try:
        r = run_pipeline(np.zeros((25, 25)), KernelSettings(), padding=(4000, 4000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # the 64-megapixel padded image was never made
    assert r.error is not None and r.conv is None
    assert "8025×8025 = 64,400,625 pixels" in r.error and "50,000,000" in r.error
    # The formula is still shown, with its (large but whole) result.
    assert r.formulas[0] == "Output height = (25 − 3 + 2×4000) / 1 + 1 = 8023"
    r = run_pipeline(np.zeros((25, 25)), KernelSettings(), padding=(1_000_000, 1_000_000))
    assert "2000025×2000025" in r.error


def test_kernel_values_too_large_for_float32_still_match_torch():
    image = RNG.uniform(0, 255, (9, 9)).astype(np.float32)
    s = KernelSettings(kernel=np.full((3, 3), 1e39), activation="none", pool_kind="max")
    with np.errstate(all="raise"):  # no RuntimeWarning may leak
        r = run_pipeline(image, s)
    assert r.error is None, r.error
    conv, _, pooled = torch_pipeline(image, s)
    np.testing.assert_allclose(r.conv, conv, rtol=1e-12)
    np.testing.assert_allclose(r.pooled, pooled, rtol=1e-12)


def test_a_result_that_overflows_float64_is_a_plain_error():
    s = KernelSettings(kernel=np.full((3, 3), 1e308), activation="none", pool_kind="avg")
    with np.errstate(all="raise"):
        r = run_pipeline(np.full((6, 6), 255.0), s)
    assert r.error is not None and "too large" in r.error and r.conv is None
    # Finite convolution values whose average pooling overflows: caught at the pooling.
    s = KernelSettings(kernel=np.array([[1.7e308]]), activation="none", pool_kind="avg")
    with np.errstate(all="raise"):
        r = run_pipeline(np.ones((4, 4)), s)
    assert r.error is not None and "too large" in r.error and r.conv is not None and r.pooled is None


def test_softmax_is_offered_and_explained():
    from cnnviz.core.convolution.filtering import ACTIVATION_NAMES
    from cnnviz.core.convolution.pixel_explanations import activation_text

    assert set(ACTIVATION_NAMES) == set(ops.ACTIVATIONS)  # every activation has a name to show
    r = run_pipeline(RNG.uniform(0, 255, (8, 8, 3)), KernelSettings(activation="softmax",
                                                                    per_channel=True))
    assert r.error is None
    # One distribution per channel, as torch.softmax over each flattened map gives.
    ref = torch.softmax(torch.tensor(r.conv).flatten(-2), -1).reshape(r.conv.shape).numpy()
    np.testing.assert_allclose(r.activated, ref, rtol=1e-10, atol=1e-300)
    text = activation_text("softmax", 2.0, 0.25)
    assert text.startswith("softmax(2) = e^2 / ") and text.endswith("= 0.25")


def test_resize_centred_keeps_the_centre():
    from cnnviz.core.convolution.kernel_edits import resize_centred

    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], float)
    grown = resize_centred(sharpen, 5, 5)
    np.testing.assert_array_equal(grown[1:4, 1:4], sharpen)
    assert grown.sum() == sharpen.sum() and grown[2, 2] == 5
    # Centred means the same output, one pixel less on each side (nothing shifted).
    image = RNG.uniform(0, 255, (12, 14))
    small = run_pipeline(image, KernelSettings(kernel=sharpen, pool_kind="none"))
    big = run_pipeline(image, KernelSettings(kernel=grown, pool_kind="none"))
    np.testing.assert_allclose(big.conv, small.conv[1:-1, 1:-1], rtol=1e-12)
    # One step at a time, 3 -> 7 and back, ends where it started; so does 3 -> 4 -> 3.
    k = sharpen
    for n in (4, 5, 6, 7, 6, 5, 4, 3):
        k = resize_centred(k, n, n)
    np.testing.assert_array_equal(k, sharpen)
    np.testing.assert_array_equal(resize_centred(sharpen, 7, 7)[2:5, 2:5], sharpen)
    np.testing.assert_array_equal(resize_centred(sharpen, 1, 3), [[-1, 5, -1]])


# --------------------------------------------------------------------------- every formula line


SIZE_SPREAD = [(n, k, s, p) for n in (5, 7, 11, 13, 28) for k in (1, 2, 3, 5) for s in (1, 2, 3)
               for p in (0, 1, 2) if k <= n + 2 * p]


@pytest.mark.parametrize("n, k, s, p", SIZE_SPREAD)
def test_every_formula_line_agrees_with_ops_and_torch(n, k, s, p):
    """Each line the explorer shows ends on the size ops computes and torch's conv2d and
    max_pool2d give, writes ⌊…⌋ exactly when the division is not whole, and is written in
    the lecture's order with the numbers in it (conv k×k stride s padding p, then a 2×2
    pool, stride 2, on the conv output)."""
    image = RNG.uniform(0, 255, (n, n + 1))
    r = run_pipeline(image, KernelSettings(kernel=np.ones((k, k)), stride=(s, s), padding=(p, p),
                                           activation="none", pool_kind="max"))
    x = torch.zeros(1, 1, n, n + 1)
    conv_shape = F.conv2d(x, torch.zeros(1, 1, k, k), stride=s, padding=p).shape[-2:]
    assert r.conv.shape == tuple(conv_shape)
    for line, size, axis in zip(r.lines("conv"), (n, n + 1), (0, 1)):
        a = ops.output_axis(size, k, s, p)
        assert line.text.startswith(f"Output {('height', 'width')[axis]} = ({size} − {k} + 2×{p}) "
                                    f"/ {s} + 1 = ")
        assert line.answer == str(conv_shape[axis]) and not line.problem
        assert ("⌊" in line.text) is (a.value is None) is line.floored
    if min(conv_shape) < 2:
        assert r.error and r.error.startswith("Pooling") and r.pooled is None
        assert [li.problem for li in r.lines("pool")] == [int(v) < 2 for v in conv_shape]
        with pytest.raises(RuntimeError):  # torch cannot pool it either
            F.max_pool2d(torch.zeros(1, 1, *conv_shape), 2, 2)
        return
    pooled_shape = F.max_pool2d(torch.zeros(1, 1, *conv_shape), 2, 2).shape[-2:]
    assert r.pooled.shape == tuple(pooled_shape)
    for line, size, axis in zip(r.lines("pool"), conv_shape, (0, 1)):
        a = ops.pool_axis(int(size), 2, 2)
        assert line.text.startswith(f"Pooled {('height', 'width')[axis]} = ({size} − 2 + 2×0) / 2 + 1")
        assert line.answer == str(a.value) == str(pooled_shape[axis])
        assert ("⌊" in line.text) is bool((size - 2) % 2) is line.floored


def test_keras_second_pool_is_written_with_the_floor():
    # lecture-keras: the second pooling takes an 11×11 map to 5×5 (5.5 floored).
    r = run_pipeline(np.zeros((11, 11)), KernelSettings(kernel=np.ones((1, 1)), pool_kind="max"))
    assert r.pool_formulas[0] == "Pooled height = (11 − 2 + 2×0) / 2 + 1 = 5.5 → ⌊5.5⌋ = 5"
    assert r.pooled.shape == tuple(F.max_pool2d(torch.zeros(1, 1, 11, 11), 2, 2).shape[-2:])


def test_size_lines_are_structured():
    r = run_pipeline(np.zeros((28, 28)), KernelSettings(), stride=(2, 1))
    rows, cols = r.lines("conv")
    assert (rows.stage, rows.axis, rows.floored) == ("conv", 0, True)
    assert (cols.axis, cols.floored) == (1, False)
    assert rows.working == "Output height = (28 − 3 + 2×0) / 2 + 1 = 13.5 → ⌊13.5⌋"
    assert rows.answer == "13" and cols.answer == "26"
    assert r.formulas == [line.text for line in r.size_lines]


# --------------------------------------------------------------------------- names, examples, previews


def test_stage_names_are_one_table_keyed_like_ops():
    from cnnviz.core.convolution import stage_names

    assert tuple(stage_names.ACTIVATION_CHOICES) == ops.ACTIVATIONS
    assert tuple(stage_names.POOL_CHOICES) == ("none",) + ops.POOL_KINDS
    for table in (stage_names.ACTIVATION_CHOICES, stage_names.POOL_CHOICES):
        assert all(c.key == key and c.name and c.label for key, c in table.items())
    assert all(c.description for c in stage_names.ACTIVATION_CHOICES.values())
    assert stage_names.POOL_NAMES["avg"] == "average"
    from cnnviz.core.convolution.filtering import ACTIVATION_NAMES  # what `cnnviz filter` checks against

    assert ACTIVATION_NAMES is stage_names.ACTIVATION_NAMES


def test_lecture_examples_have_short_names_and_check_answers():
    for e in LECTURE_EXAMPLES.values():
        assert e.short and len(e.short_name) <= len(e.name) + 5
        r = run_pipeline(e.image, e.settings())
        assert e.matches(r.final)
        assert not e.matches(None) and not e.matches(r.final + 1)
        if e.slide_shows is not None:
            assert not e.matches(e.slide_shows)


def test_display_levels_and_edge_kernels():
    from cnnviz.core.convolution.kernel_previews import display_levels, input_levels, is_edge_kernel

    assert display_levels((-2.0, 5.0)) == (True, (-5.0, 5.0))
    assert display_levels((1.0, 1.0)) == (False, (0.0, 1.0))  # one value: against 0
    assert display_levels((0.0, 0.0)) == (False, (0.0, 1.0))
    assert display_levels((3.0, 7.0)) == (False, (3.0, 7.0))
    assert input_levels((0.0, 1.0)) == (0.0, 1.0) and input_levels((10.0, 200.0)) == (0.0, 200.0)
    assert is_edge_kernel(np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]]))
    assert not is_edge_kernel(np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]))
    assert not is_edge_kernel(np.full((3, 3), 1 / 9))


def test_compute_view_places_previews_on_full_size_pixels():
    from cnnviz.core.convolution.kernel_previews import compute_view

    photo = RNG.uniform(0, 255, (1700, 2400, 3)).astype(np.float32)
    s = KernelSettings(kernel=np.array([[1.0, 0, -1]] * 3), activation="none",
                       pool_kind="none")  # an edge kernel
    view = compute_view(photo, s, "all", "image")
    f = view.conv.preview.factor
    assert f == 3 and view.conv.preview.peaks  # edge maps keep each block's peak
    x, y, w, h = view.conv.extent()
    assert (x, y) == (0, 0) and abs(w - 2398) < f and abs(h - 1698) < f
    row, col = view.conv.full_index(100, 200)
    assert (row, col) == (100 * f + f // 2, 200 * f + f // 2)
    assert view.conv.full_index(10_000, 10_000) == (1697, 2397)  # clamped to the array
    assert view.activated is view.conv  # activation none: the same array, shrunk once
    # Only the view changed: the result is reused, not recomputed.
    again = compute_view(photo, s, "1", "image", reuse=view.result, input_view=view.input)
    assert again.result is view.result and again.input is view.input
    per = compute_view(photo, s.with_changes(per_channel=True), "1", "image")
    assert per.conv.channel == 1 and per.conv.preview.array.ndim == 2
    np.testing.assert_allclose(per.conv.preview.array[0, 0],
                               per.result.conv[1, :f, :f].flat[np.abs(per.result.conv[1, :f, :f]).argmax()],
                               rtol=1e-5)


def test_small_padded_input_is_drawn_with_its_zeros():
    from cnnviz.core.convolution.kernel_previews import compute_view

    ex = LECTURE_EXAMPLES["padding-1"]
    view = compute_view(ex.image, ex.settings(), "all", "lecture:padding-1")
    assert view.input.offset == (1, 1) and view.input.preview.array.shape == (7, 7)
    assert view.input.extent() == (-1, -1, 7, 7)
    assert view.input.full_index(0, 0) == (-1, -1)  # the padding ring
    np.testing.assert_array_equal(view.input.preview.array[1:-1, 1:-1], ex.image)


def test_input_pixels_and_left_out_windows():
    from cnnviz.core.convolution.pixel_explanations import explain_input_pixel, last_window_left_out

    r = run_pipeline(RNG.uniform(0, 255, (28, 28)), KernelSettings(), stride=(2, 2))
    assert explain_input_pixel(r, 27, 5).left_out and not explain_input_pixel(r, 26, 5).left_out
    px = explain_input_pixel(r, 3, 4)
    assert px.values == (float(r.input[3, 4]),) and px.channels == ()
    assert explain_input_pixel(r, -1, 0).values is None  # the padding
    assert last_window_left_out(r, 12, 3) == [(0, (27, 27))]
    assert last_window_left_out(r, 12, 12) == [(0, (27, 27)), (1, (27, 27))]
    assert last_window_left_out(r, 11, 3) == []
    colour = run_pipeline(RNG.uniform(0, 255, (6, 6, 3)), KernelSettings())
    assert explain_input_pixel(colour, 0, 0).channels == ("R", "G", "B")


def test_explained_channels_and_activation_pixels():
    from cnnviz.core.convolution.pixel_explanations import explain_activation_pixel, explained_channels

    grey = run_pipeline(RNG.uniform(-5, 5, (6, 6)), KernelSettings(activation="relu"))
    assert explained_channels(grey, None) == [None]
    x, y = float(grey.conv[1, 2]), float(grey.activated[1, 2])
    assert y == max(0.0, x)
    assert explain_activation_pixel(grey, 1, 2).startswith("ReLU(")
    per = run_pipeline(RNG.uniform(0, 255, (6, 6, 3)), KernelSettings(per_channel=True))
    assert explained_channels(per, None) == [0, 1, 2] and explained_channels(per, 1) == [1]


def test_conv_pixel_knows_when_it_hangs_over_the_padding():
    ex = LECTURE_EXAMPLES["padding-1"]
    r = run_pipeline(ex.image, ex.settings())
    corner, middle = explain_conv_pixel(r, 0, 0), explain_conv_pixel(r, 2, 2)
    assert corner.in_padding and not middle.in_padding
    assert (corner.top, corner.left, corner.bottom, corner.right) == (-1, -1, 1, 1)


def test_pool_pixel_with_padding_matches_torch():
    image = RNG.normal(size=(9, 9))
    s = KernelSettings(kernel=np.ones((1, 1)), activation="none", pool_kind="max", pool_size=3,
                       pool_stride=2)
    r = run_pipeline(image, s, pool_padding=1)
    ref = F.max_pool2d(torch.tensor(image)[None, None], 3, 2, padding=1)[0, 0].numpy()
    np.testing.assert_allclose(r.pooled, ref)
    px = explain_pool_pixel(r, 0, 0)  # its window starts in the padding
    assert (px.top, px.left) == (-1, -1) and np.isnan(px.values[0]).all()
    assert px.value == ref[0, 0] == image[px.source]
    r = run_pipeline(image, s.with_changes(pool_kind="avg"), pool_padding=1)
    ref = F.avg_pool2d(torch.tensor(image)[None, None], 3, 2, padding=1)[0, 0].numpy()
    px = explain_pool_pixel(r, 0, 0)
    assert px.values[0, 0] == 0 and px.value == pytest.approx(ref[0, 0]) == pytest.approx(px.values.mean())


@pytest.mark.parametrize("shape, side", [((23, 17), 4), ((25, 25), 5), ((7, 30), 3), ((3, 19, 11), 4)])
@pytest.mark.parametrize("peaks", [False, True])
def test_previews_shrink_each_block_as_a_brute_force_loop_does(shape, side, peaks):
    """The quick block reductions (strided passes, ragged last blocks) against a plain loop
    over every block."""
    a = np.random.default_rng(7).normal(size=shape).astype(np.float32)
    colour = a.ndim == 3
    p = preview(a, max_side=side, colour=colour, peaks=peaks)
    f = p.factor
    assert f > 1

    def block(x):
        if not peaks:
            return x.mean()
        return x.max() if x.max() >= -x.min() else x.min()

    planes = a if colour else a[None]
    h, w = planes.shape[-2:]
    ref = np.stack([[[block(plane[i:i + f, j:j + f]) for j in range(0, w, f)]
                     for i in range(0, h, f)] for plane in planes], axis=-1)
    np.testing.assert_allclose(p.array, ref if colour else ref[..., 0], rtol=1e-5, atol=1e-6)
    assert p.levels == (float(a.min()), float(a.max()))


@pytest.mark.parametrize("kind, reference", [("gelu", F.gelu), ("swish", F.silu)])
def test_gelu_and_swish_in_the_kernel_explorer_match_torch(kind, reference):
    from cnnviz.core.convolution.pixel_explanations import explain_activation_pixel

    r = run_pipeline(RNG.uniform(0, 255, (9, 9)), KernelSettings(activation=kind))
    assert r.error is None
    np.testing.assert_allclose(r.activated, reference(torch.tensor(r.conv)).numpy(), rtol=1e-6,
                               atol=1e-6)
    assert explain_activation_pixel(r, 1, 1).startswith(("GELU(", "swish("))

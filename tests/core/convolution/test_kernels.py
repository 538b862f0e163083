"""Kernel presets and kernel text: values checked against the lecture and scipy, every bad
input checked for a message that says what was wrong."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz.core.convolution import ops
from cnnviz.core.convolution.kernels import (
    PRESETS,
    KernelError,
    KernelPreset,
    format_kernel,
    kernel_from_text_or_preset,
    parse_cell,
    parse_kernel,
)

# --------------------------------------------------------------------------- parse_cell


@pytest.mark.parametrize("text, value", [
    ("3", 3.0), ("-1", -1.0), ("0.25", 0.25), (".5", 0.5), ("1e-2", 0.01), ("1/9", 1 / 9),
    ("-1/16", -1 / 16), (" 2 ", 2.0), ("+4", 4.0), ("\u22121", -1.0), ("2.5/5", 0.5),
])
def test_parse_cell_good(text, value):
    assert parse_cell(text) == value


@pytest.mark.parametrize("text, words", [
    ("", "missing"),
    ("   ", "missing"),
    ("abc", "'abc' is not a number; use numbers like 2, -0.5 or 1/9"),
    ("1/0", "'1/0' divides by zero"),
    ("nan", "'nan' is not a finite number"),
    ("inf", "'inf' is not a finite number"),
    ("-Infinity", "not a finite number"),
    ("1e999", "not a finite number"),
    ("1/2/3", "'1/2/3' has more than one '/'"),
    ("1/", "write it as a/b"),
    ("/9", "write it as a/b"),
    ("1/x", "'1/x' is not a number"),
])
def test_parse_cell_bad(text, words):
    with pytest.raises(KernelError) as info:
        parse_cell(text)
    assert words in str(info.value)
    assert "\n" not in str(info.value)  # one line for the command line
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- parse_kernel


@pytest.mark.parametrize("text, want", [
    ("0 -1 0; -1 5 -1; 0 -1 0", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    ("0,-1,0\n-1,5,-1\n0,-1,0\n", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    ("1, 2 , 3;", [[1, 2, 3]]),
    ("7", [[7]]),
    ("1\n\n2", [[1], [2]]),
    ("1/9 1/9; 1/9 1/9", [[1 / 9, 1 / 9], [1 / 9, 1 / 9]]),
    ("1/16 * 1 2 1; 2 4 2; 1 2 1", [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]]),
    ("1/4 x 1 1; 1 1", [[0.25, 0.25], [0.25, 0.25]]),
    ("[[1, 0, -1], [0, 0, 0], [-1, 0, 1]]", [[1, 0, -1], [0, 0, 0], [-1, 0, 1]]),
    ("0.5 * [[2, 4]]", [[1, 2]]),
    # MATLAB style: rows split by ';' inside one pair of brackets
    ("[1 2; 3 4]", [[1, 2], [3, 4]]),
    ("[1, 2\n3, 4]", [[1, 2], [3, 4]]),
    ("1/4 * [1 1; 1 1]", [[0.25, 0.25], [0.25, 0.25]]),
    ("[[1, 2,], [3, 4,]]", [[1, 2], [3, 4]]),  # a trailing comma, as Python lists allow
    ("2 * 3", [[6]]),  # an explicit '*' is a product, even of one value
])
def test_parse_kernel_good(text, want):
    got = parse_kernel(text)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.array(want, dtype=np.float64))


@pytest.mark.parametrize("text, words", [
    ("", "the kernel is empty"),
    (" ;\n; ", "the kernel is empty"),
    ("1 2 3; 4 5", "row 2 has 2 values but row 1 has 3"),
    ("1 2; 3", "row 2 has 1 value but row 1 has 2"),
    ("1 2; 3 x4", "row 2, column 2: 'x4' is not a number"),
    ("1 2; 3 nan", "row 2, column 2: 'nan' is not a finite number"),
    ("inf 1", "row 1, column 1: 'inf' is not a finite number"),
    ("1/0 1", "row 1, column 1: '1/0' divides by zero"),
    ("; ".join(["1 " * 12] * 3), "the kernel is 3x12; the largest allowed is 11x11"),
    ("\n".join(["1"] * 12), "the kernel is 12x1; the largest allowed is 11x11"),
    ("[[1, 2], [3, 4]", "brackets do not match"),
    ("[[1, 2]] 5", "unexpected text '5' outside the brackets"),
    ("abc * 1 2", "the scale factor in front: 'abc' is not a number"),
    # "x" between two numbers reads as a size (or hex), not as a one-value kernel
    ("0x10", "'0x10' looks like a size"),
    ("3x3", "'3x3' looks like a size"),
    ("2 x 3", "'2 x 3' looks like a size"),
    ("5 × 5", "'5 × 5' looks like a size"),
    # an empty cell between commas is a missing value, not nothing
    ("1,,2", "row 1, column 2: a value is missing between two commas"),
    ("1 2; 3, ,4", "row 2, column 2: a value is missing between two commas"),
    (",1 2", "row 1, column 1: a value is missing"),
    ("[1 2; 3]", "row 2 has 1 value but row 1 has 2"),
])
def test_parse_kernel_bad(text, words):
    with pytest.raises(KernelError) as info:
        parse_kernel(text)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_parse_kernel_largest_is_11x11():
    assert parse_kernel("; ".join([" ".join(["1"] * 11)] * 11)).shape == (11, 11)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 11), st.integers(1, 11), st.data())
def test_parse_kernel_reads_back_any_numbers(rows, cols, data):
    values = data.draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=rows * cols,
                                max_size=rows * cols))
    want = np.array(values).reshape(rows, cols)
    sep = data.draw(st.sampled_from([" ", ", ", ",", "  "]))
    text = "\n".join(sep.join(repr(float(v)) for v in row) for row in want)
    np.testing.assert_array_equal(parse_kernel(text), want)


# --------------------------------------------------------------------------- presets


def test_preset_order_and_lecture_values():
    assert list(PRESETS)[:7] == ["identity", "edge-diagonal", "edge-laplacian", "edge-all", "sharpen",
                                 "box-blur", "gaussian-blur"]
    assert list(PRESETS)[7:] == ["sobel-x", "sobel-y", "prewitt-x", "prewitt-y", "emboss",
                                 "gaussian-blur-5x5", "vertical-edge", "lecture-example"]
    # The lecture's "Detected features" table.
    table = {
        "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
        "edge-diagonal": [[1, 0, -1], [0, 0, 0], [-1, 0, 1]],
        "edge-laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
        "edge-all": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
        "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
        "box-blur": np.ones((3, 3)) / 9,
        "gaussian-blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
        "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
        "vertical-edge": [[1, 0, -1]] * 3,
        "lecture-example": [[0, 1, 0], [1, 0, -1], [0, 1, 0]],
    }
    for key, want in table.items():
        np.testing.assert_array_equal(PRESETS[key].values, want, err_msg=key)


def test_presets_are_well_formed():
    for key, p in PRESETS.items():
        assert isinstance(p, KernelPreset) and p.key == key
        assert p.values.dtype == np.float64 and p.values.ndim == 2
        assert not p.values.flags.writeable, key
        with pytest.raises(ValueError):
            p.values[0, 0] = 5
        assert p.name and p.source
        assert p.description and "\n" not in p.description
        assert p.description.lower().startswith(p.name.lower().split(" (")[0]), key


def test_blurs_sum_to_one_and_edge_detectors_to_zero():
    for key in ("box-blur", "gaussian-blur", "gaussian-blur-5x5", "identity", "sharpen"):
        assert PRESETS[key].values.sum() == pytest.approx(1.0), key
    for key in ("edge-diagonal", "edge-laplacian", "edge-all", "sobel-x", "sobel-y", "prewitt-x",
                "prewitt-y", "vertical-edge"):
        assert PRESETS[key].values.sum() == 0, key
    # The 5x5 Gaussian is the binomial 1 4 6 4 1 outer product over 256.
    np.testing.assert_array_equal(PRESETS["gaussian-blur-5x5"].values * 256,
                                  np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]))


def test_identity_and_blur_on_an_image():
    img = np.random.default_rng(0).normal(size=(8, 9))
    np.testing.assert_array_equal(ops.conv2d(img, PRESETS["identity"].values, padding=1), img)
    blurred = ops.conv2d(img, PRESETS["box-blur"].values)
    assert blurred[2, 3] == pytest.approx(img[2:5, 3:6].mean())


@pytest.mark.parametrize("key, scipy_filter, axis", [
    ("sobel-x", ndi.sobel, 1), ("sobel-y", ndi.sobel, 0),
    ("prewitt-x", ndi.prewitt, 1), ("prewitt-y", ndi.prewitt, 0),
])
def test_gradient_presets_match_scipy(key, scipy_filter, axis):
    k = PRESETS[key].values
    # A ramp that gets brighter along `axis`: the "x" kernels respond positively to
    # brightness growing to the right, the "y" kernels to brightness growing downwards.
    r, c = np.mgrid[0:9, 0:10].astype(np.float64)
    ramp = c if axis == 1 else r
    got = ops.conv2d(ramp, k)
    want = scipy_filter(ramp, axis=axis)[1:-1, 1:-1]  # scipy's interior (no border effects)
    np.testing.assert_array_equal(got, want)
    assert (got > 0).all()
    other = ops.conv2d(r if axis == 1 else c, k)  # across the gradient: nothing
    np.testing.assert_array_equal(other, 0)
    # And on a random image, value for value.
    img = np.random.default_rng(1).normal(size=(12, 11))
    np.testing.assert_allclose(ops.conv2d(img, k), scipy_filter(img, axis=axis)[1:-1, 1:-1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("key", list(PRESETS))
def test_preset_text_round_trip(key):
    p = PRESETS[key]
    text = p.text
    assert "\n" not in text  # typeable on a command line
    np.testing.assert_array_equal(parse_kernel(text), p.values)
    np.testing.assert_array_equal(kernel_from_text_or_preset(text), p.values)


def test_normalised_presets_show_fractions():
    assert PRESETS["box-blur"].text == "1/9 1/9 1/9; 1/9 1/9 1/9; 1/9 1/9 1/9"
    assert PRESETS["gaussian-blur"].text == "1/16 2/16 1/16; 2/16 4/16 2/16; 1/16 2/16 1/16"
    assert PRESETS["sharpen"].text == "0 -1 0; -1 5 -1; 0 -1 0"


# --------------------------------------------------------------------------- lookup


def test_kernel_from_text_or_preset():
    np.testing.assert_array_equal(kernel_from_text_or_preset("sharpen"), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(kernel_from_text_or_preset("Box blur"), np.ones((3, 3)) / 9)
    np.testing.assert_array_equal(kernel_from_text_or_preset("  GAUSSIAN BLUR "), PRESETS["gaussian-blur"].values)
    np.testing.assert_array_equal(kernel_from_text_or_preset("outline"), PRESETS["edge-all"].values)
    np.testing.assert_array_equal(kernel_from_text_or_preset("1 2; 3 4"), [[1, 2], [3, 4]])
    got = kernel_from_text_or_preset("sobel-x")
    got[0, 0] = 99  # a copy: the preset itself is untouched
    assert PRESETS["sobel-x"].values[0, 0] == -1


def test_unknown_preset_lists_the_presets():
    with pytest.raises(KernelError) as info:
        kernel_from_text_or_preset("nosuchpreset")
    msg = str(info.value)
    assert "'nosuchpreset' is not a kernel preset" in msg
    for key in PRESETS:
        assert key in msg
    with pytest.raises(KernelError, match="not a finite number"):
        kernel_from_text_or_preset("nan")
    with pytest.raises(KernelError, match="row 2"):
        kernel_from_text_or_preset("1 2; 3")


# --------------------------------------------------------------------------- format_kernel


def test_format_kernel_aligned_short_numbers():
    assert format_kernel([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]) == " 0 -1  0\n-1  5 -1\n 0 -1  0"
    assert format_kernel(np.ones((2, 2)) / 9) == "0.1111 0.1111\n0.1111 0.1111"
    assert format_kernel([[-0.0, 2.5], [123456.0, 1 / 3]]) == "     0    2.5\n123456 0.3333"
    assert format_kernel([1, 2, 3]) == "1 2 3"
    # What it prints reads back (to 4 significant digits).
    for p in PRESETS.values():
        np.testing.assert_allclose(parse_kernel(format_kernel(p.values)), p.values, rtol=1e-3)

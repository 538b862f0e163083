"""cnnviz.core.convolution.ops against independent references: torch.nn.functional, literal loops and
hand-worked numbers. Never against its own output."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnviz.core.convolution import ops

SETTINGS = settings(max_examples=150, deadline=None)


def t(a) -> torch.Tensor:
    return torch.tensor(np.asarray(a), dtype=torch.float64)


# --------------------------------------------------------------------------- conv2d vs torch


@st.composite
def conv_case(draw, channels=False):
    """A valid (floor-mode) convolution: input, kernel, stride and padding per axis."""
    kh, kw = draw(st.integers(1, 11)), draw(st.integers(1, 11))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h = draw(st.integers(max(1, kh - 2 * ph), kh + 10))
    w = draw(st.integers(max(1, kw - 2 * pw), kw + 10))
    c = draw(st.integers(1, 3)) if channels else 1
    f = draw(st.integers(1, 3)) if channels else 1
    seed = draw(st.integers(0, 2**32 - 1))
    return (h, w, kh, kw, sh, sw, ph, pw, c, f, seed)


@SETTINGS
@given(conv_case())
def test_conv2d_grey_matches_torch(case):
    h, w, kh, kw, sh, sw, ph, pw, _, _, seed = case
    rng = np.random.default_rng(seed)
    x, k = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
    got = ops.conv2d(x, k, stride=(sh, sw), padding=(ph, pw))
    ref = F.conv2d(t(x)[None, None], t(k)[None, None], stride=(sh, sw), padding=(ph, pw))[0, 0].numpy()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


@SETTINGS
@given(conv_case(channels=True), st.sampled_from(["filters", "one-filter", "shared-2d"]))
def test_conv2d_channels_and_filters_match_torch(case, form):
    h, w, kh, kw, sh, sw, ph, pw, c, f, seed = case
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(c, h, w))  # (C, H, W)
    if form == "filters":
        k4 = rng.normal(size=(f, c, kh, kw))
        bias = rng.normal(size=f)
        got = ops.conv2d(x, k4, stride=(sh, sw), padding=(ph, pw), bias=bias)  # (F, Ho, Wo)
        ref = F.conv2d(t(x)[None], t(k4), t(bias), stride=(sh, sw), padding=(ph, pw))[0].numpy()
    elif form == "one-filter":
        k3 = rng.normal(size=(c, kh, kw))
        got = ops.conv2d(x, k3, stride=(sh, sw), padding=(ph, pw), bias=0.5)  # (Ho, Wo)
        ref = F.conv2d(t(x)[None], t(k3)[None], stride=(sh, sw), padding=(ph, pw))[0, 0].numpy() + 0.5
    else:
        k2 = rng.normal(size=(kh, kw))  # the same kernel on every channel, summed
        got = ops.conv2d(x, k2, stride=(sh, sw), padding=(ph, pw))
        weight = t(k2)[None, None].repeat(1, c, 1, 1)
        ref = F.conv2d(t(x)[None], weight, stride=(sh, sw), padding=(ph, pw))[0, 0].numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


@SETTINGS
@given(conv_case(channels=True))
def test_conv2d_per_channel_matches_torch_groups(case):
    h, w, kh, kw, sh, sw, ph, pw, c, _, seed = case
    rng = np.random.default_rng(seed)
    x, k = rng.normal(size=(c, h, w)), rng.normal(size=(kh, kw))
    got = ops.conv2d_per_channel(x, k, stride=(sh, sw), padding=(ph, pw))
    weight = t(k)[None, None].repeat(c, 1, 1, 1)  # (C, 1, kh, kw): one kernel per channel
    ref = F.conv2d(t(x)[None], weight, stride=(sh, sw), padding=(ph, pw), groups=c)[0].numpy()
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)


def test_conv2d_float32_stays_float32_and_ints_are_exact():
    x32 = np.random.default_rng(0).normal(size=(9, 8)).astype(np.float32)
    k = np.array([[1, 2], [3, 4]])
    got = ops.conv2d(x32, k)
    assert got.dtype == np.float32
    ref = F.conv2d(torch.tensor(x32)[None, None], torch.tensor(k, dtype=torch.float32)[None, None])
    np.testing.assert_allclose(got, ref[0, 0].numpy(), rtol=1e-5, atol=1e-5)
    xi = np.arange(30, dtype=np.uint8).reshape(5, 6) * 7
    got = ops.conv2d(xi, k)
    assert got.dtype == np.float64
    want = [[sum(int(xi[r + i, c + j]) * int(k[i, j]) for i in range(2) for j in range(2))
             for c in range(5)] for r in range(4)]
    np.testing.assert_array_equal(got, want)


def test_conv2d_exact_refuses_ragged_and_floor_matches_torch():
    x = np.random.default_rng(1).normal(size=(28, 29))
    k = np.ones((3, 3))
    with pytest.raises(ops.ShapeError, match="height.*whole number"):
        ops.conv2d(x, k, stride=2, exact=True)
    got = ops.conv2d(x, k, stride=2)  # floors: (28 - 3) / 2 + 1 = 13.5 -> 13
    ref = F.conv2d(t(x)[None, None], t(k)[None, None], stride=2)[0, 0].numpy()
    assert got.shape == (13, 14)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert ops.conv2d(x, k, stride=(1, 2), exact=True).shape == (26, 14)


def test_conv2d_bad_shapes_say_why():
    with pytest.raises(ops.ShapeError, match="2 channel.*3"):
        ops.conv2d(np.zeros((3, 5, 5)), np.zeros((2, 3, 3)))
    with pytest.raises(ops.ShapeError, match="larger than the 4-pixel input"):
        ops.conv2d(np.zeros((4, 9)), np.zeros((5, 5)))
    with pytest.raises(ops.ShapeError, match="stride must be at least 1"):
        ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3)), stride=(1, 0))
    with pytest.raises(ops.ShapeError, match="padding cannot be negative"):
        ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3)), padding=-1)
    with pytest.raises(ops.ShapeError, match="whole number"):
        ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3)), stride=1.5)
    with pytest.raises(ops.ShapeError, match="one per filter"):
        ops.conv2d(np.zeros((1, 5, 5)), np.zeros((2, 1, 3, 3)), bias=[1.0, 2.0, 3.0])


def test_conv2d_memory_lean_on_a_12_megapixel_photo():
    rng = np.random.default_rng(0)
    image = rng.random((3000, 4000), dtype=np.float32)  # 48 MB
    kernel = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64)
    tracemalloc.start()
    try:
        out = ops.conv2d(image, kernel, padding=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.shape == (3000, 4000) and out.dtype == np.float32
    # A sliding-window copy would need 9x the image; taps over strided slices need about 3x
    # (padded copy, output, one scratch plane).
    assert peak < 4 * image.nbytes, f"peak {peak / 1e6:.0f} MB for a {image.nbytes / 1e6:.0f} MB image"
    crop = image[999:1011, 1999:2011]  # rows 1000..1009 of the padded output need 999..1010
    ref = F.conv2d(torch.tensor(crop)[None, None], torch.tensor(kernel, dtype=torch.float32)[None, None])
    np.testing.assert_allclose(out[1000:1010, 2000:2010], ref[0, 0].numpy(), rtol=1e-5, atol=1e-5)
    # The padded corner: zeros outside the photo.
    corner = 5 * image[0, 0] - image[0, 1] - image[1, 0]
    assert out[0, 0] == pytest.approx(corner, rel=1e-5)


# --------------------------------------------------------------------------- sizes


def test_output_axis_whole():
    a = ops.output_axis(28, 3, 1, 0)
    assert a.value == 26 and a.exact == 26.0 and a.problem is None
    assert a.formula == "(28 − 3 + 2×0) / 1 + 1 = 26"
    assert ops.output_axis(5, 3, 1, 1).formula == "(5 − 3 + 2×1) / 1 + 1 = 5"


def test_output_axis_fractional_suggests_fixes():
    a = ops.output_axis(7, 3, 3, 0)
    assert a.value is None and a.exact == pytest.approx(7 / 3)
    assert a.formula == "(7 − 3 + 2×0) / 3 + 1 = 2.33333 → ⌊2.33333⌋ = 2"
    assert a.problem.startswith("(7 − 3 + 2×0) / 3 + 1 = 2.33333 is not a whole number")
    assert "stride 1, 2 or 4" in a.problem  # the strides that divide 7 - 3 = 4
    assert "padding 1" in a.problem  # (7 - 3 + 2) / 3 + 1 = 3
    assert ops.output_axis(7, 3, 1, 0).value == ops.output_axis(7, 3, 3, 1).value + 2  # 5 and 3
    with pytest.raises(ops.ShapeError, match="not a whole number"):
        ops.output_size(7, 3, 3)
    # exact=False floors, like torch
    torch_size = F.conv2d(torch.zeros(1, 1, 7, 7), torch.zeros(1, 1, 3, 3), stride=3).shape[-1]
    assert ops.output_size(7, 3, 3, exact=False) == torch_size == 2


def _first_fitting_padding(size, kernel, stride, padding):
    """The padding the hint should name, found by trying every one (slow, obviously right)."""
    for p in range(padding + 1, padding + stride + 1):
        if (size - kernel + 2 * p) % stride == 0:
            return p
    return None


@pytest.mark.parametrize("size,kernel,stride,padding",
                         [(7, 3, 3, 0), (28, 5, 3, 0), (28, 3, 4, 0), (29, 4, 5, 2), (100, 6, 9, 3),
                          (10, 3, 2, 0), (27, 2, 6, 1), (28, 3, 7, 4)])
def test_fitting_padding_hint_is_the_smallest_that_fits(size, kernel, stride, padding):
    a = ops.output_axis(size, kernel, stride, padding)
    want = _first_fitting_padding(size, kernel, stride, padding)
    assert a.problem is not None  # every case here does not fit as given
    if want is None:  # an even stride and an odd W - F: no padding fits
        assert "keep stride" not in a.problem
    else:
        assert f"(or keep stride {stride} with padding {want})" in a.problem
        assert (size - kernel + 2 * want) % stride == 0


def test_huge_stride_hint_is_computed_not_searched():
    # The hint used to try every padding up to the stride: 10**8 took minutes. 10**15 now
    # only finishes if it is solved, not searched.
    a = ops.output_axis(28, 3, 10**15 + 1, 0)
    assert a.value is None and "keep stride" in a.problem
    p = int(a.problem.rsplit("padding ", 1)[1].rstrip(")"))
    assert (28 - 3 + 2 * p) % (10**15 + 1) == 0


def test_output_axis_kernel_too_big_zero_stride_negative_padding():
    a = ops.output_axis(3, 5, 1, 0)
    assert a.value is None and a.exact == -1
    assert a.problem.startswith("the 5-pixel kernel is larger than the 3-pixel input plus padding 0")
    assert ops.output_axis(3, 5, 1, 1).value == 1  # padding 1 makes room: 3 + 2 = 5
    a = ops.output_axis(7, 3, 0, 0)
    assert a.value is None and np.isnan(a.exact) and a.problem == "stride must be at least 1 (got 0)"
    a = ops.output_axis(7, 3, -2, 0)
    assert "stride must be at least 1" in a.problem
    a = ops.output_axis(7, 3, 1, -1)
    assert a.value is None and a.problem == "padding cannot be negative (got -1)"
    for bad in [(3, 5, 1, 0), (7, 3, 0, 0), (7, 3, 1, -1)]:
        with pytest.raises(ops.ShapeError):
            ops.output_size(*bad, exact=False)  # floor mode still refuses bad numbers


def test_output_shape_names_the_axis():
    assert ops.output_shape((28, 28), (3, 3)) == (26, 26)
    assert ops.output_shape((10, 28), 3, (1, 2), 0, exact=False) == (8, 13)
    with pytest.raises(ops.ShapeError, match=r"^width: \(28 − 3 \+ 2×0\) / 2 \+ 1 = 13.5 is not a whole"):
        ops.output_shape((10, 28), (3, 3), (1, 2))
    with pytest.raises(ops.ShapeError, match="^height: the 3-pixel kernel is larger"):
        ops.output_shape((2, 28), (3, 3))
    assert issubclass(ops.ShapeError, ValueError)


def test_pool_axis_floor_and_problems():
    a = ops.pool_axis(11, 2, 2, 0)
    assert a.value == 5 and a.formula == "(11 − 2 + 2×0) / 2 + 1 = 5.5 → ⌊5.5⌋ = 5"
    assert a.problem is None
    assert ops.pool_axis(12, 2).formula == "(12 − 2 + 2×0) / 2 + 1 = 6"
    a = ops.pool_axis(5, 3, 1, 2)
    assert a.value is None and "more than half" in a.problem and "torch" in a.problem
    assert "larger" in ops.pool_axis(1, 3, 1, 0).problem
    assert "at least 1" in ops.pool_axis(8, 2, 0).problem
    assert ops.pool_axis(11, 2).value == F.max_pool2d(torch.zeros(1, 1, 11, 11), 2).shape[-1]


# --------------------------------------------------------------------------- pooling vs torch


@st.composite
def pool_case(draw):
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    h = draw(st.integers(max(1, kh - 2 * ph), kh + 10))
    w = draw(st.integers(max(1, kw - 2 * pw), kw + 10))
    c = draw(st.integers(0, 3))  # 0: an (H, W) image
    return h, w, kh, kw, sh, sw, ph, pw, c, draw(st.integers(0, 2**32 - 1))


@SETTINGS
@given(pool_case(), st.sampled_from(ops.POOL_KINDS))
def test_pool2d_matches_torch(case, kind):
    h, w, kh, kw, sh, sw, ph, pw, c, seed = case
    x = np.random.default_rng(seed).normal(size=(c, h, w) if c else (h, w))
    xt = t(x)[None] if c else t(x)[None, None]
    args = dict(kernel_size=(kh, kw), stride=(sh, sw), padding=(ph, pw))
    if kind == "max":
        ref = F.max_pool2d(xt, **args)
    elif kind == "min":
        ref = -F.max_pool2d(-xt, **args)
    else:
        ref = F.avg_pool2d(xt, **args)  # count_include_pad=True
    ref = ref[0].numpy() if c else ref[0, 0].numpy()
    got = ops.pool2d(x, kind, (kh, kw), (sh, sw), (ph, pw))
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_pool2d_padding_semantics_by_hand():
    x = np.array([[-1.0, -2.0], [-3.0, -4.0]])
    # Max ignores the padding (it is -inf), so an all-negative image keeps its values.
    np.testing.assert_array_equal(ops.pool2d(x, "max", 2, 1, 1), [[-1, -1, -2], [-1, -1, -2], [-3, -3, -4]])
    np.testing.assert_array_equal(ops.pool2d(-x, "min", 2, 1, 1), [[1, 1, 2], [1, 1, 2], [3, 3, 4]])
    # Average counts the padded zeros: the corner window holds -1 and three zeros.
    assert ops.pool2d(x, "avg", 2, 1, 1)[0, 0] == -0.25


def test_pool2d_errors():
    with pytest.raises(ops.ShapeError, match="larger"):
        ops.pool2d(np.zeros((2, 2)), "max", 3)
    with pytest.raises(ops.ShapeError, match="stride must be at least 1"):
        ops.pool2d(np.zeros((4, 4)), "max", 2, 0)
    with pytest.raises(ops.ShapeError, match="more than half"):
        ops.pool2d(np.zeros((4, 4)), "max", 2, 2, 2)
    with pytest.raises(ValueError, match="median.*max, min, avg"):
        ops.pool2d(np.zeros((4, 4)), "median")


# --------------------------------------------------------------------------- activations vs torch


@SETTINGS
@given(st.lists(st.floats(-800, 800, allow_nan=False), min_size=1, max_size=40),
       st.floats(0.001, 0.5), st.floats(0.1, 3.0))
def test_activations_match_torch(values, slope, alpha):
    x = np.array(values)
    xt = t(x)
    np.testing.assert_array_equal(ops.activate(x, "relu"), torch.relu(xt).numpy())
    np.testing.assert_allclose(ops.activate(x, "leaky_relu", negative_slope=slope),
                               F.leaky_relu(xt, slope).numpy(), rtol=1e-12)
    np.testing.assert_allclose(ops.activate(x, "elu", alpha=alpha), F.elu(xt, alpha).numpy(),
                               rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(ops.activate(x, "tanh"), torch.tanh(xt).numpy(), rtol=1e-12)
    np.testing.assert_allclose(ops.activate(x, "sigmoid"), torch.sigmoid(xt).numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(ops.activate(x, "none"), x)


def test_sigmoid_and_softmax_with_large_values():
    x = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    with np.errstate(over="raise", invalid="raise"):  # no overflow warnings either
        s = ops.activate(x, "sigmoid")
        sm = ops.softmax(np.array([1000.0, 999.0, 990.0]))
    np.testing.assert_allclose(s, torch.sigmoid(t(x)).numpy(), rtol=1e-12)
    assert s[0] == 0.0 and s[-1] == 1.0
    np.testing.assert_allclose(sm, torch.softmax(t([1000.0, 999.0, 990.0]), 0).numpy(), rtol=1e-12)
    assert sm.sum() == pytest.approx(1.0)


@SETTINGS
@given(st.integers(1, 4), st.integers(1, 6), st.integers(0, 2**32 - 1), st.sampled_from([0, 1, -1]))
def test_softmax_matches_torch(rows, cols, seed, axis):
    x = np.random.default_rng(seed).normal(scale=300, size=(rows, cols))
    np.testing.assert_allclose(ops.softmax(x, axis=axis), torch.softmax(t(x), dim=axis).numpy(),
                               rtol=1e-10, atol=1e-300)


def test_activation_float32_and_unknown_kind():
    x = np.array([-2.0, 3.0], dtype=np.float32)
    for kind in ops.ACTIVATIONS:
        assert ops.activate(x, kind).dtype == np.float32, kind
    with pytest.raises(ValueError, match="'mish'.*none, relu, leaky_relu, elu, gelu, swish"):
        ops.activate(x, "mish")


@pytest.mark.parametrize("kind, reference", [
    ("gelu", lambda t: torch.nn.functional.gelu(t)),  # exact (erf) gelu, as Keras's "gelu"
    ("swish", lambda t: torch.nn.functional.silu(t)),
])
def test_gelu_and_swish_match_torch(kind, reference):
    x = np.linspace(-12, 12, 2001)
    ours = ops.activate(x, kind)
    theirs = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-6)  # float32 precision


# --------------------------------------------------------------------------- window_products


def test_window_products_at_padded_corner():
    x = np.arange(1, 31, dtype=np.float64).reshape(5, 6)
    k = np.arange(-4, 5, dtype=np.float64).reshape(3, 3)
    padded = np.zeros((9, 10))
    padded[2:7, 2:8] = x  # padding 2 all round, written out by hand
    wp = ops.window_products(x, k, 1, 2, 0, 0)
    assert (wp.top, wp.left) == (-2, -2)
    np.testing.assert_array_equal(wp.window, padded[0:3, 0:3])
    np.testing.assert_array_equal(wp.window, [[0, 0, 0], [0, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(wp.products, padded[0:3, 0:3] * k)
    assert wp.total == 4.0  # only x[0, 0] = 1 meets the kernel's last weight, 4
    # Stride (2, 3) with padding (1, 2): output (1, 2) starts at input (1, 4).
    wp = ops.window_products(x, k, (2, 3), (1, 2), 1, 2)
    assert (wp.top, wp.left) == (1, 4)
    np.testing.assert_array_equal(wp.window, padded[1 + 2:4 + 2, 4 + 2:7 + 2])
    ref = F.conv2d(t(x)[None, None], t(k)[None, None], stride=(2, 3), padding=(1, 2))[0, 0].numpy()
    assert wp.total == pytest.approx(ref[1, 2])


def test_window_products_multichannel_sums_channels():
    rng = np.random.default_rng(2)
    x, k = rng.normal(size=(3, 6, 7)), rng.normal(size=(3, 3, 3))
    ref = F.conv2d(t(x)[None], t(k)[None], padding=1)[0, 0].numpy()
    wp = ops.window_products(x, k, 1, 1, 0, 6)
    assert wp.window.shape == wp.products.shape == (3, 3, 3)
    assert (wp.top, wp.left) == (-1, 5)
    np.testing.assert_array_equal(wp.window[:, 0, :], 0)  # the row above the image
    np.testing.assert_array_equal(wp.window[:, :, 2], 0)  # the column right of it
    np.testing.assert_array_equal(wp.window[:, 1:, :2], x[:, 0:2, 5:7])
    assert wp.total == pytest.approx(ref[0, 6])
    with pytest.raises(IndexError):
        ops.window_products(x, k, 1, 1, 6, 0)


# --------------------------------------------------------------------------- parameters


@SETTINGS
@given(st.integers(1, 11), st.integers(1, 11), st.integers(1, 8), st.integers(1, 8), st.booleans())
def test_param_counts_match_torch(kh, kw, c_in, c_out, bias):
    conv = torch.nn.Conv2d(c_in, c_out, (kh, kw), bias=bias)
    assert ops.conv_params(kh, kw, c_in, c_out, bias) == sum(p.numel() for p in conv.parameters())
    dense = torch.nn.Linear(kh * kw, c_out, bias=bias)
    assert ops.dense_params(kh * kw, c_out, bias) == sum(p.numel() for p in dense.parameters())


@pytest.mark.parametrize("call, words", [
    (lambda: ops.conv_params(3, 3, -1, 4), "input channels.*at least 1.*-1"),
    (lambda: ops.conv_params(0, 3, 1, 4), "kernel height.*at least 1"),
    (lambda: ops.conv_params(3, 3, 1, 2.5), "filters.*whole number.*2.5"),
    (lambda: ops.dense_params(9.5, 3), "inputs.*whole number.*9.5"),
    (lambda: ops.dense_params(10, -2), "outputs.*at least 1.*-2"),
    (lambda: ops.dense_params(10, 2, bias="yes"), "bias.*True or False"),
])
def test_param_counts_refuse_impossible_layers(call, words):
    with pytest.raises(ValueError, match=words):
        call()


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), 1e400])
def test_sizes_refuse_infinity_with_a_shape_error(value):
    # int(inf) raises OverflowError and int(nan) ValueError: both must read as plain words.
    with pytest.raises(ops.ShapeError, match="whole number"):
        ops.output_size(value, 3)
    with pytest.raises(ops.ShapeError, match="whole number"):
        ops.output_axis(28, 3, value)
    with pytest.raises(ops.ShapeError, match="whole number"):
        ops.pool_axis(28, 2, 2, value)


@pytest.mark.parametrize("kind", [None, 3, ["relu"]])
def test_activate_refuses_a_kind_that_is_not_a_name(kind):
    with pytest.raises(ValueError, match="activation must be one of.*relu"):
        ops.activate(np.zeros(3), kind)


# --------------------------------------------------------------------------- softmax activation


def test_softmax_activation_over_each_map_matches_torch():
    rng = np.random.default_rng(11)
    grey = rng.normal(scale=50, size=(5, 7))
    got = ops.activate(grey, "softmax")  # (H, W): one distribution over all 35 values
    ref = torch.softmax(t(grey).flatten(), 0).reshape(5, 7).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-300)
    maps = rng.normal(scale=50, size=(3, 4, 6))
    got = ops.activate(maps, "softmax")  # (C, H, W): one distribution per channel
    ref = torch.softmax(t(maps).reshape(3, -1), 1).reshape(3, 4, 6).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-300)
    x32 = rng.normal(scale=1000, size=(6, 6)).astype(np.float32)
    with np.errstate(over="raise", invalid="raise"):
        got = ops.activate(x32, "softmax")
    assert got.dtype == np.float32
    ref = torch.softmax(torch.tensor(x32).flatten(), 0).reshape(6, 6).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-30)


# --------------------------------------------------------------------------- limits and overflow


def test_padding_that_makes_a_huge_output_is_refused_before_allocating():
    img = np.zeros((25, 25), np.float32)
    tracemalloc.start()
    try:
        with pytest.raises(ops.ShapeError) as info:
            ops.conv2d(img, np.ones((3, 3)), padding=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # nothing near the 4-terapixel padded image was allocated
    message = str(info.value)
    assert "2000025x2000025" in message and "50,000,000" in message
    # 25 + 2 x 4000 = 8025: 64,400,625 pixels, over the cap, is refused as well ...
    with pytest.raises(ops.ShapeError, match="8025x8025 = 64,400,625 pixels"):
        ops.conv2d(img, np.ones((3, 3)), padding=4000)
    # ... by the per-channel path too.
    with pytest.raises(ops.ShapeError, match="50,000,000"):
        ops.conv2d_per_channel(np.zeros((3, 25, 25), np.float32), np.ones((3, 3)), padding=4000)


def test_size_limit_boundary():
    # 10000 x 5000 = 50,000,000 exactly is allowed; one more row of padding is not.
    assert ops.size_problem((10_000, 4_998), (0, 1), (10_000, 5_000)) is None
    problem = ops.size_problem((10_000, 4_998), (1, 1), (10_000, 5_000))
    assert problem == ("padding 1 makes the padded input 10002x5000 = 50,010,000 pixels; "
                       "cnnviz filters images up to 50,000,000 pixels")
    problem = ops.size_problem((100, 100), (0, 0), (8000, 7000))
    assert problem == "the output would be 8000x7000 = 56,000,000 pixels; cnnviz filters images up to 50,000,000 pixels"
    # A small padded image filters as before.
    img = np.arange(12, dtype=np.float64).reshape(3, 4)
    out = ops.conv2d(img, np.ones((1, 1)), padding=2)
    np.testing.assert_array_equal(out, F.pad(t(img), (2, 2, 2, 2)).numpy())


def test_the_filter_cap_is_the_image_loaders_cap():
    from cnnviz.core.basics import limits
    from cnnviz.core.pictures import images

    assert images.MAX_PIXELS == limits.MAX_IMAGE_PIXELS
    side = int(limits.MAX_IMAGE_PIXELS ** 0.5) + 1  # a padded input one row past the cap
    assert ops.size_problem((side, side), (0, 0), (1, 1)) is not None
    assert ops.size_problem((side - 1, side - 1), (0, 0), (1, 1)) is None


def test_large_kernel_values_do_not_overflow_float32():
    # 1e39 does not fit float32 (max 3.4e38): computing a float32 photo in float32 gave inf
    # and nan. The result is 1e39 times a pixel sum, well inside float64.
    img = np.random.default_rng(3).integers(0, 256, (6, 7)).astype(np.float32)
    k = np.full((3, 3), 1e39)
    with np.errstate(all="raise"):  # no RuntimeWarning may leak
        got = ops.conv2d(img, k)
    ref = F.conv2d(t(img)[None, None], t(k)[None, None])[0, 0].numpy()
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    # A kernel near float32's range times 255 overflows float32 too: computed in float64.
    k = np.array([[3e36, -3e36]])
    got = ops.conv2d(img, k)
    ref = F.conv2d(t(img)[None, None], t(k)[None, None])[0, 0].numpy()
    # Two equal neighbours cancel to 0 exactly; torch's float64 conv (FMA, another order of
    # sums on some CPUs) leaves rounding noise of about 1e22 there: an absolute tolerance of
    # float64's rounding on the terms (3e36 x 255) covers it and nothing more.
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14 * 3e36 * 255 * k.size)
    # Small values keep the photo's float32 (memory).
    assert ops.conv2d(img, np.ones((3, 3))).dtype == np.float32


def test_a_result_too_large_for_float64_is_a_clear_error():
    img = np.full((4, 4), 255.0, np.float32)
    with np.errstate(all="raise"), pytest.raises(ops.NotFiniteError, match="too large.*1e\\+308"):
        ops.conv2d(img, np.full((3, 3), 1e308))
    with pytest.raises(ops.NotFiniteError, match="not finite"):
        ops.conv2d(np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones((1, 1)))
    assert issubclass(ops.NotFiniteError, ValueError)


def test_pool_size_zero_blames_the_size_not_the_stride():
    # With no stride given the stride is the size; a 0 size must not read "stride must be ...".
    with pytest.raises(ops.ShapeError, match="the pooling window must be at least 1 pixel \\(got 0\\)"):
        ops.pool2d(np.zeros((4, 4)), "max", 0)
    assert ops.pool_axis(8, 0).problem == "the pooling window must be at least 1 pixel (got 0)"

"""Every worked example in the lecture (../shared/seed/cnn-lecture.md), reproduced.

Expected numbers are the lecture's own, checked by hand and against torch. Where a slide
contradicts itself or the arithmetic, the test holds the correct value and the comment
says what the slide shows and why it is wrong.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.core.basics import formulas
from cnnviz.core.convolution import ops
from cnnviz.core.convolution.kernels import PRESETS

# "What is the Output?": the 5x5 binary input image and the 3x3 kernel.
IMAGE_5x5 = np.array([
    [1, 0, 1, 0, 1],
    [1, 0, 0, 1, 1],
    [0, 1, 1, 0, 0],
    [1, 0, 0, 1, 0],
    [0, 0, 1, 1, 0],
])
KERNEL = np.array([
    [0, 1, 0],
    [1, 0, -1],
    [0, 1, 0],
])


def torch_conv(x, k, stride=1, padding=0) -> np.ndarray:
    """The independent reference: torch's conv2d on one (H, W) image and one (kh, kw) kernel."""
    xt = torch.tensor(np.asarray(x), dtype=torch.float64)[None, None]
    kt = torch.tensor(np.asarray(k), dtype=torch.float64)[None, None]
    return F.conv2d(xt, kt, stride=stride, padding=padding)[0, 0].numpy()


# --------------------------------------------------------------------------- What is the Output?


def test_recap_first_product_written_out():
    # The first Recap slide spells out the products of the top-left window:
    # (1x0) + (0x1) + (1x0) + (1x1) + (0x0) + (0x-1) + (0x0) + (1x1) + (1x0) = 2
    wp = ops.window_products(IMAGE_5x5, KERNEL, 1, 0, 0, 0)
    assert (wp.top, wp.left) == (0, 0)
    np.testing.assert_array_equal(wp.window, [[1, 0, 1], [1, 0, 0], [0, 1, 1]])
    np.testing.assert_array_equal(wp.products.ravel(), [1 * 0, 0 * 1, 1 * 0, 1 * 1, 0 * 0, 0 * -1, 0 * 0, 1 * 1, 1 * 0])
    assert wp.total == 2
    # The second Recap slide: (0x0) + (1x1) + (0x0) + (0x1) + (0x0) + (1x-1) + (1x0) + (1x1) + (0x0) = 1
    wp = ops.window_products(IMAGE_5x5, KERNEL, 1, 0, 0, 1)
    np.testing.assert_array_equal(wp.window, [[0, 1, 0], [0, 0, 1], [1, 1, 0]])
    assert wp.total == 1


# The step-by-step Recap slides (one output value added per slide) and the
# "Calculating Feature Map Size" slide agree: 2 1 -1 / -1 1 3 / 2 1 1.
STRIDE1 = np.array([[2, 1, -1], [-1, 1, 3], [2, 1, 1]])


def test_stride_1_matches_the_step_by_step_recap():
    got = ops.conv2d(IMAGE_5x5, KERNEL)
    np.testing.assert_array_equal(got, STRIDE1)
    np.testing.assert_array_equal(torch_conv(IMAGE_5x5, KERNEL), STRIDE1)
    assert got.shape == (5 - 3 + 1, 5 - 3 + 1)  # n - f + 1 = m


def test_stride_1_padding_0_slide_is_wrong():
    # The later "Stride = 1, Padding = 0" slide shows 2 -1 1 / 2 1 0 / 1 -1 1 for the same
    # image and kernel. That contradicts the step-by-step Recap. By hand, output[0, 1]
    # is the window [[0,1,0],[0,0,1],[1,1,0]] times the kernel: 1*1 (top middle)
    # + 1*-1 (middle right) + 1*1 (bottom middle) = 1, not -1; output[0, 2] is the window
    # [[1,0,1],[0,1,1],[1,0,0]]: 0 + 0*1 + 1*-1 + 0 = -1, not 1. The Recap is right; the
    # slide's top-left 2x2 (2 -1 / 2 1) is the stride-2 answer, copied into a 3x3 grid.
    wrong_slide = np.array([[2, -1, 1], [2, 1, 0], [1, -1, 1]])
    got = ops.conv2d(IMAGE_5x5, KERNEL, stride=1, padding=0)
    np.testing.assert_array_equal(got, STRIDE1)
    assert not np.array_equal(got, wrong_slide)
    assert got[0, 1] == 1 and got[0, 2] == -1


def test_stride_2():
    # "Stride of 2" / "Shift by 2" / "Stride = 2, Padding = 0" slides: 2 -1 / 2 1.
    want = np.array([[2, -1], [2, 1]])
    np.testing.assert_array_equal(ops.conv2d(IMAGE_5x5, KERNEL, stride=2), want)
    np.testing.assert_array_equal(torch_conv(IMAGE_5x5, KERNEL, stride=2), want)
    # Stride 2 visits every other position of the stride-1 result.
    np.testing.assert_array_equal(ops.conv2d(IMAGE_5x5, KERNEL)[::2, ::2], want)
    assert ops.output_size(5, 3, stride=2, padding=0) == 2  # (5 + 2x0 - 3) / 2 + 1


# The "Padding = 1" slide's 7x7 padded image is right (it is the 5x5 image with a ring of
# zeros), but its 5x5 output, 2 -1 1 1 0 / 2 1 0 1 2 / 1 -1 1 0 1 / 0 1 2 1 1 / 2 0 1 0 2,
# is not what that image and kernel give. Worked by hand (and by torch), the answer is:
PADDING1 = np.array([
    [1, 0, 0, 1, 1],
    [1, 2, 1, -1, 2],
    [1, -1, 1, 3, 1],
    [0, 2, 1, 1, 1],
    [1, -1, -1, 2, 1],
])
PADDING1_SLIDE = np.array([
    [2, -1, 1, 1, 0],
    [2, 1, 0, 1, 2],
    [1, -1, 1, 0, 1],
    [0, 1, 2, 1, 1],
    [2, 0, 1, 0, 2],
])


def test_padding_1_slide_padded_image():
    padded_slide = np.array([
        [0, 0, 0, 0, 0, 0, 0],
        [0, 1, 0, 1, 0, 1, 0],
        [0, 1, 0, 0, 1, 1, 0],
        [0, 0, 1, 1, 0, 0, 0],
        [0, 1, 0, 0, 1, 0, 0],
        [0, 0, 0, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 0],
    ])
    # window_products shows zeros where the window hangs over the padding.
    for r in range(5):
        for c in range(5):
            wp = ops.window_products(IMAGE_5x5, KERNEL, 1, 1, r, c)
            np.testing.assert_array_equal(wp.window, padded_slide[r:r + 3, c:c + 3])


def test_padding_1_correct_values_and_slide_typos():
    got = ops.conv2d(IMAGE_5x5, KERNEL, padding=1)
    np.testing.assert_array_equal(got, PADDING1)
    np.testing.assert_array_equal(torch_conv(IMAGE_5x5, KERNEL, padding=1), PADDING1)
    # The middle 3x3 of the padded result is the unpadded result: the Recap's numbers.
    np.testing.assert_array_equal(PADDING1[1:4, 1:4], STRIDE1)
    # Hand check of two corners, padded image as on the slide (zeros outside):
    # top-left window [[0,0,0],[0,1,0],[0,1,0]] -> kernel picks (0,1)=0, (1,0)=0, (1,2)=0 * -1,
    # (2,1)=1 -> 1 (slide: 2). Bottom-right window [[1,0,0],[1,0,0],[0,0,0]] -> (0,1)=0,
    # (1,0)=1, (1,2)=0, (2,1)=0 -> 1 (slide: 2).
    assert got[0, 0] == 1 and got[4, 4] == 1
    # The slide's grid starts with the wrong "Stride = 1, Padding = 0" grid in its top-left
    # corner, whose own top-left 2x2 is the stride-2 answer; 16 of its 25 values are wrong.
    np.testing.assert_array_equal(PADDING1_SLIDE[:2, :2], ops.conv2d(IMAGE_5x5, KERNEL, stride=2))
    assert int((got != PADDING1_SLIDE).sum()) == 16
    assert ops.output_shape((5, 5), (3, 3), 1, 1) == (5, 5)  # (5 + 2x1 - 3) / 1 + 1 = 5


def test_7x7_image_3x3_filter_stride_2_positions():
    # "We have 3x3 filter and 7x7 image with a stride of 2. How many positions?"
    # (7 - 3) / 2 + 1 = 3 per axis: 9 positions.
    assert ops.output_size(7, 3, stride=2) == 3
    out = ops.conv2d(np.ones((7, 7)), np.ones((3, 3)), stride=2)
    assert out.shape == (3, 3) and out.size == 9
    np.testing.assert_array_equal(out, torch_conv(np.ones((7, 7)), np.ones((3, 3)), stride=2))


# --------------------------------------------------------------------------- Stride slide (Laplacian)

# The "Stride" slide shows two grids before the kernel. The 6x6 one (131 162 232 84 91 207 /
# 104 ...) is an animation frame from another figure: a kernel -1 0 +1 / -2 0 +2 / -1 0 +1
# is drawn over part of it, hiding the pixels under the window, so it cannot be reproduced
# and it cannot be the input of the outputs shown (a 3x3 kernel on a 6x6 image at stride 1
# gives 4x4, not 3x3). The 5x5 grid is the real input: with the Laplacian it gives exactly
# the slide's 692 -315 -6 / -680 -194 305 / 153 -59 -86 and, at stride 2, 692 -6 / 153 -86.
STRIDE_IMAGE = np.array([
    [95, 242, 186, 152, 39],
    [39, 14, 220, 153, 180],
    [5, 247, 212, 54, 46],
    [46, 77, 133, 110, 74],
    [156, 35, 74, 93, 116],
])
LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])


def test_stride_slide_laplacian_stride_1():
    want = np.array([[692, -315, -6], [-680, -194, 305], [153, -59, -86]])
    np.testing.assert_array_equal(ops.conv2d(STRIDE_IMAGE, LAPLACIAN), want)
    np.testing.assert_array_equal(torch_conv(STRIDE_IMAGE, LAPLACIAN), want)
    # By hand, the first value: 242 + 39 + 220 + 247 - 4 * 14 = 692.
    wp = ops.window_products(STRIDE_IMAGE, LAPLACIAN, 1, 0, 0, 0)
    assert sorted(wp.products[wp.products != 0].tolist()) == sorted([242, 39, 220, 247, -4 * 14])
    assert wp.total == 692
    np.testing.assert_array_equal(PRESETS["edge-laplacian"].values, LAPLACIAN)


def test_stride_slide_laplacian_stride_2():
    want = np.array([[692, -6], [153, -86]])
    np.testing.assert_array_equal(ops.conv2d(STRIDE_IMAGE, LAPLACIAN, stride=2), want)
    np.testing.assert_array_equal(torch_conv(STRIDE_IMAGE, LAPLACIAN, stride=2), want)


def test_stride_slide_6x6_grid_is_not_the_input():
    assert ops.output_shape((6, 6), (3, 3), 1) == (4, 4)  # not the slide's 3x3
    assert ops.output_shape((5, 5), (3, 3), 1) == (3, 3)
    # ... and at stride 2 a 6x6 image does not even fit a 3x3 kernel evenly: (6 - 3) / 2 + 1 = 2.5
    axis = ops.output_axis(6, 3, 2)
    assert axis.value is None and "2.5" in axis.problem


# --------------------------------------------------------------------------- grey and colour


def test_convolution_on_grey_scale_vertical_edge():
    image = np.array([[1, 1, 0, 0, 0]] * 5)
    kernel = np.array([[1, 0, -1]] * 3)
    want = np.array([[3, 3, 0]] * 3)
    np.testing.assert_array_equal(ops.conv2d(image, kernel), want)
    np.testing.assert_array_equal(torch_conv(image, kernel), want)
    np.testing.assert_array_equal(PRESETS["vertical-edge"].values, kernel)


def test_convolution_on_colour_image_two_filters():
    # (n x n x n_c) * (f x f x n_c) x n_f -> (n - f + 1) x (n - f + 1) x n_f:
    # 5x5x3 * two 3x3x3 filters -> 3x3x2.
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (3, 5, 5))  # (C, H, W)
    filters = rng.integers(-2, 3, (2, 3, 3, 3))  # (F, C, kh, kw)
    got = ops.conv2d(image, filters)
    assert got.shape == (2, 3, 3)  # (n_f, n - f + 1, n - f + 1)
    ref = F.conv2d(torch.tensor(image, dtype=torch.float64)[None],
                   torch.tensor(filters, dtype=torch.float64))[0].numpy()
    np.testing.assert_array_equal(got, ref)
    # One value by hand: the first filter over the top-left 3x3x3 block.
    assert got[0, 0, 0] == int((image[:, :3, :3] * filters[0]).sum())


def test_backpropagation_slide_formula():
    # sigma(b + sum_{l=0..4} sum_{m=0..4} w[l, m] * a[j + l, k + m]): a 5x5 kernel, no flip.
    rng = np.random.default_rng(3)
    a = rng.normal(size=(9, 11))
    w = rng.normal(size=(5, 5))
    b = 0.7
    got = ops.activate(ops.conv2d(a, w, bias=b), "relu")
    for j in range(9 - 4):
        for k in range(11 - 4):
            z = b + sum(w[l, m] * a[j + l, k + m] for l in range(5) for m in range(5))  # noqa: E741 (the slide's l, m)
            assert got[j, k] == pytest.approx(max(0.0, z), abs=1e-12)


# --------------------------------------------------------------------------- sizes


def test_alexnet_first_layer():
    # ((227 - 11 + 2(0)) / 4) + 1 = 55
    axis = ops.output_axis(227, 11, stride=4)
    assert axis.value == 55 and axis.exact == 55.0
    assert formulas.size_formula(227, 11, 4, 0) == "(227 − 11 + 2×0) / 4 + 1 = 55"
    x = np.random.default_rng(0).normal(size=(227, 227))
    k = np.random.default_rng(1).normal(size=(11, 11))
    got = ops.conv2d(x, k, stride=4, exact=True)
    assert got.shape == (55, 55)
    np.testing.assert_allclose(got, torch_conv(x, k, stride=4), rtol=1e-10, atol=1e-10)


def test_21x21_filter_on_251x151_stride_10():
    # [(251 - 21) / 10 + 1][(151 - 21) / 10 + 1] = 24 x 14
    assert ops.output_shape((251, 151), (21, 21), (10, 10)) == (24, 14)
    assert ops.conv2d(np.zeros((251, 151)), np.zeros((21, 21)), stride=10, exact=True).shape == (24, 14)


def test_four_layer_cnn_output_sizes():
    # Calculate Output Size table: 28 -> Conv_1 26 -> Conv_2 24 -> Max Pool 12 -> Flatten 9216.
    assert ops.output_size(28, 3, 1, 0) == 26
    assert ops.output_size(26, 3, 1, 0) == 24
    assert ops.pool_axis(24, 2, 2, 0).value == 12
    # Flatten: the 64 pooled 12x12 maps of real 32- and 64-filter layers make 9216 values.
    rng = np.random.default_rng(4)
    maps = ops.conv2d(rng.normal(size=(1, 28, 28)), rng.normal(size=(32, 1, 3, 3)))
    maps = ops.pool2d(ops.conv2d(maps, rng.normal(size=(64, 32, 3, 3))), "max", 2, 2)
    assert maps.shape == (64, 12, 12) and maps.size == 9216
    # The Max Pool slide writes "n = 24, f = 0, s = 2, p = 0"; the pooling window is f = 2
    # (with f = 0 the formula would give (24 - 0) / 2 + 1 = 13, not 12).
    assert ops.pool_axis(24, 2, 2).value == 12
    assert formulas.size_formula(24, 2, 2, 0) == "(24 − 2 + 2×0) / 2 + 1 = 12"
    x = np.random.default_rng(0).normal(size=(28, 28))
    y = ops.pool2d(ops.conv2d(ops.conv2d(x, np.ones((3, 3))), np.ones((3, 3))), "max", 2, 2)
    assert y.shape == (12, 12)


def test_keras_example_model_sizes_floor_on_pooling():
    # The first slides' Keras model: Conv2D(64, 3x3) on 28x28x1, MaxPooling2D(2x2),
    # Conv2D(64, 3x3), MaxPooling2D(2x2), Flatten, Dense(10). Keras floors the second
    # pooling: 11 -> 5 (the last row and column are dropped).
    assert ops.output_size(28, 3) == 26
    assert ops.pool_axis(26, 2).value == 13
    assert ops.output_size(13, 3) == 11
    axis = ops.pool_axis(11, 2)
    assert axis.value == 5 and formulas.size_formula(11, 2, 2, 0) == "(11 − 2 + 2×0) / 2 + 1 = 5.5 → ⌊5.5⌋ = 5"
    assert F.max_pool2d(torch.zeros(1, 1, 11, 11), 2).shape[-2:] == (5, 5)
    flat = ops.pool2d(np.zeros((64, 11, 11)), "max", 2)
    assert flat.shape == (64, 5, 5) and flat.size == 1600
    # Parameters (what model.summary() prints): 640, 36,928, 16,010.
    assert ops.conv_params(3, 3, 1, 64) == 640
    assert ops.conv_params(3, 3, 64, 64) == 36_928
    assert ops.dense_params(1600, 10) == 16_010


# --------------------------------------------------------------------------- parameters


def test_16_filters_3x3x3():
    # ((3 x 3 x 3) + 1) x 16 = 448
    assert ops.conv_params(3, 3, 3, 16) == 448
    assert sum(p.numel() for p in torch.nn.Conv2d(3, 16, 3).parameters()) == 448


def test_conv_patch_parameters():
    # "5 x 5 + 1 = 25 + 1 parameters" per node of a CONV layer looking at a 5x5 patch.
    assert ops.conv_params(5, 5, 1, 1) == 26


def test_fully_connected_examples():
    # 256x256 grey image fully connected to 25 neurons: 256 x 256 x 25 = 1,638,400 weights.
    assert ops.dense_params(256 * 256, 25, bias=False) == 1_638_400
    # ... and to 10 outputs: 256 x 256 x 10 = 655,360. The slides add "+ 1" for a single bias;
    # a real dense layer has one bias per output neuron, as dense_params counts:
    assert ops.dense_params(256 * 256, 10, bias=False) == 655_360
    assert ops.dense_params(256 * 256, 10) == 655_360 + 10
    assert sum(p.numel() for p in torch.nn.Linear(256 * 256, 10).parameters()) == 655_370


def test_four_layer_cnn_parameters_and_slide_typos():
    # Conv_1: the slide writes ((3 x 3 x 1 + 1) x 16 = 320, but (9 + 1) x 16 = 160. The layer
    # has 32 filters (Calculate Output Size table: depth 32), and (9 + 1) x 32 = 320.
    assert ops.conv_params(3, 3, 1, 16) == 160
    conv1 = ops.conv_params(3, 3, 1, 32)
    assert conv1 == 320
    # Conv_2: ((3 x 3 x 32) + 1) x 64 = 18,496. The Total Parameters table says 18494 (typo);
    # its total, 1,199,882, is only right with 18,496.
    conv2 = ops.conv_params(3, 3, 32, 64)
    assert conv2 == 18_496
    fc1 = ops.dense_params(9216, 128)
    assert fc1 == 1_179_776  # (9,216 + 1) x 128
    fc2 = ops.dense_params(128, 10)
    assert fc2 == 1_290  # (128 + 1) x 10
    assert conv1 + conv2 + 0 + 0 + fc1 + fc2 == 1_199_882
    assert 320 + 18494 + fc1 + fc2 != 1_199_882
    # The same network in torch has the same count.
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(9216, 128), torch.nn.Linear(128, 10))
    assert sum(p.numel() for p in net.parameters()) == 1_199_882
    assert net(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


def test_ann_on_mnist_slide_typo():
    # "3 Layers of ANN on MNIST": the slide says 32 x 26 x 26 = 21,631 nodes and
    # 784 x 21,631 = 16,958,704. 32 x 26 x 26 is 21,632 (the product that follows is right
    # for the wrong count), so the weights are 784 x 21,632 = 16,959,488 (without biases).
    nodes = 32 * ops.output_size(28, 3) * ops.output_size(28, 3)
    assert nodes == 21_632
    assert ops.dense_params(784, nodes, bias=False) == 16_959_488
    assert ops.dense_params(784, 21_631, bias=False) == 16_958_704  # what the slide multiplied


# --------------------------------------------------------------------------- activation and pooling


def test_relu_is_max_0_x():
    x = np.array([[-3.5, -1, 0], [0.25, 2, 7]])
    want = np.array([[max(0.0, v) for v in row] for row in x])
    np.testing.assert_array_equal(ops.activate(x, "relu"), want)


def test_tanh_and_sigmoid_ranges():
    # "Its output always lies between -1 and 1" / "between 0 and 1 no matter what inputs are".
    x = np.linspace(-50, 50, 101)
    t, s = ops.activate(x, "tanh"), ops.activate(x, "sigmoid")
    assert t.min() >= -1 and t.max() <= 1 and s.min() >= 0 and s.max() <= 1


def test_max_pool_example_and_slide_typo():
    # MaxPool 2x2 stride 2. The slide shows 123 167 / 187 165, but 167 is not in the input:
    # the top-right block is 1 34 / 222 253, whose max is 253.
    image = np.array([
        [4, 123, 1, 34],
        [56, 99, 222, 253],
        [45, 122, 165, 12],
        [21, 187, 133, 124],
    ])
    want = np.array([[123, 253], [187, 165]])
    np.testing.assert_array_equal(ops.pool2d(image, "max", 2, 2), want)
    ref = F.max_pool2d(torch.tensor(image, dtype=torch.float64)[None, None], 2, 2)[0, 0].numpy()
    np.testing.assert_array_equal(ref, want)
    # No 2x2 window of the image, at any position, has 167 as its max: the slide's value
    # cannot come from this image.
    assert 167 not in ops.pool2d(image, "max", 2, 1)
    assert ops.pool2d(image[:2, 2:], "max", 2)[0, 0] == 253

"""The stepped convolution against torch: every window's products and sum at every step."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz.core.convolution.conv_steps import MAX_STEP_POSITIONS, products_text, region_for, step_plan
from cnnviz.core.convolution.lecture_examples import LECTURE_EXAMPLES
from cnnviz.core.convolution.ops import ShapeError


def _torch_conv(image, kernel, stride, padding, bias=0.0):
    x = torch.tensor(image, dtype=torch.float64)[None, None]
    k = torch.tensor(kernel, dtype=torch.float64)[None, None]
    return F.conv2d(x, k, torch.tensor([bias], dtype=torch.float64), stride=stride,
                    padding=padding)[0, 0].numpy()


@pytest.mark.parametrize("stride,padding", [((1, 1), (0, 0)), ((2, 2), (0, 0)), ((1, 1), (1, 1)),
                                            ((2, 1), (1, 2)), ((3, 2), (2, 0))])
def test_every_step_matches_torch(stride, padding):
    rng = np.random.default_rng(1)
    image = rng.normal(size=(9, 8))
    kernel = rng.normal(size=(3, 4))
    bias = 0.25
    plan = step_plan(image, kernel, stride, padding, bias=bias)
    ref = _torch_conv(image, kernel, stride, padding, bias)
    assert plan.conv_out.shape == ref.shape
    padded = np.pad(image, ((padding[0],) * 2, (padding[1],) * 2))
    wo = ref.shape[1]
    for t in range(plan.conv_positions):
        step = plan.step(t)
        assert (step.row, step.col) == divmod(t, wo)  # row by row
        # the window: the padded input's block at the stride's position (torch's unfold)
        top, left = step.row * stride[0], step.col * stride[1]
        np.testing.assert_allclose(step.window, padded[top:top + 3, left:left + 4])
        # one output pixel from torch on that window alone, and the products' sum
        one = _torch_conv(step.window, kernel, 1, 0, bias)[0, 0]
        np.testing.assert_allclose(step.products, step.window * kernel)
        assert step.total == pytest.approx(ref[step.row, step.col])
        assert step.total == pytest.approx(one)
        filled = plan.conv_filled(t)
        assert np.isnan(filled).sum() == ref.size - t - 1
        np.testing.assert_allclose(filled.ravel()[: t + 1], ref.ravel()[: t + 1])


def test_lecture_recap_slide():
    ex = LECTURE_EXAMPLES["what-is-the-output"]
    plan = step_plan(ex.image, ex.kernel, ex.stride, ex.padding)
    np.testing.assert_array_equal(plan.conv_out, ex.expected)
    # the slide: (1×0) + (0×1) + (1×0) + (1×1) + (0×0) + (0×−1) + (0×0) + (1×1) + (1×0) = 2
    assert products_text(plan.step(0), ex.kernel) == (
        "(1×0) + (0×1) + (1×0) + (1×1) + (0×0) + (0×−1) + (0×0) + (1×1) + (1×0) = 2")
    assert plan.step(1).total == 1 and plan.step(8).total == 1


def test_activation_then_pooling_against_torch():
    rng = np.random.default_rng(2)
    image, kernel = rng.normal(size=(10, 10)), rng.normal(size=(3, 3))
    plan = step_plan(image, kernel, activation="relu", pool_kind="max", pool_size=2, pool_stride=2)
    conv = torch.tensor(_torch_conv(image, kernel, 1, 0))
    pooled = F.max_pool2d(F.relu(conv)[None, None], 2, 2)[0, 0].numpy()
    assert len(plan) == 64 + 1 + 16
    assert plan.phase_of(64) == ("activation", 0)
    assert np.isnan(plan.activated_filled(63)).all()
    np.testing.assert_allclose(plan.activated_filled(64), F.relu(conv).numpy())
    for i in range(16):
        step = plan.step(plan.start_of("pool") + i)
        assert step.phase == "pool"
        assert step.total == pytest.approx(pooled[step.row, step.col])
        r, c = step.winner
        assert step.window[r, c] == pytest.approx(step.total)


def test_lecture_max_pool_example():
    ex = LECTURE_EXAMPLES["max-pool"]
    plan = step_plan(ex.image, ex.kernel, pool_kind="max", pool_size=2, pool_stride=2)
    np.testing.assert_array_equal(plan.pooled, ex.expected)  # 253, not the slide's 167
    assert plan.step(plan.start_of("pool") + 1).total == 253


def test_too_many_positions_and_region():
    with pytest.raises(ShapeError):
        step_plan(np.zeros((100, 100)), np.ones((3, 3)))
    t, l_, b, r = region_for((500, 400), 10, 20, 400, 30, (3, 3), (1, 1), (0, 0))
    assert (b - t) - 3 + 1 == MAX_STEP_POSITIONS  # clipped to 64 outputs
    assert (t, l_) == (10, 20) and r - l_ == 10
    plan = step_plan(np.zeros((b - t, r - l_)), np.ones((3, 3)))
    assert plan.conv_out.shape == (64, 8)


def test_a_network_filter_stepped_is_that_layer_map():
    from cnnviz.core.convolution.conv_steps import network_filter
    from cnnviz.core.networks.models import build_model, get_architecture

    torch.manual_seed(0)
    net = build_model(get_architecture("lecture-keras"))
    x = np.random.default_rng(0).uniform(0, 1, (28, 28)).astype(np.float32)
    kernel, bias, mean, std, name = network_filter(net, 5)
    plan = step_plan((x - mean) / std, kernel, bias=bias)
    traced = dict(net.trace(x))[name][5]
    np.testing.assert_allclose(plan.conv_out, traced, rtol=1e-4, atol=1e-5)
    assert plan.step(30).total == pytest.approx(traced.ravel()[30], rel=1e-4, abs=1e-5)

"""Invariance: transforms against numpy, curves against direct model calls, pooled maps."""

import numpy as np
import pytest
import torch

from cnnviz.core.experiments.invariance import curves, pooling_shift, raw_pad, stayed_same, transform
from cnnviz.core.networks.models import build_model, get_architecture


@pytest.fixture(scope="module")
def digit():
    a = np.zeros((28, 28), np.float32)
    a[5:23, 12:16] = 1.0
    a[5:9, 8:16] = 0.7
    return a


def test_whole_pixel_shifts_are_exact(digit):
    for dx, dy in ((3, 0), (0, -2), (-4, 5)):
        ref = np.roll(np.roll(digit, dy, axis=0), dx, axis=1)
        if dy > 0:
            ref[:dy] = 0
        if dy < 0:
            ref[dy:] = 0
        if dx > 0:
            ref[:, :dx] = 0
        if dx < 0:
            ref[:, dx:] = 0
        np.testing.assert_array_equal(transform(digit, dx, dy), ref)


def test_rotation_and_half_pixel_against_numpy(digit):
    np.testing.assert_allclose(transform(digit, angle=90), np.rot90(digit), atol=1e-5)
    np.testing.assert_allclose(transform(digit, angle=-90), np.rot90(digit, -1), atol=1e-5)
    half = transform(digit, dx=0.5)
    ref = 0.5 * (digit + np.pad(digit, ((0, 0), (1, 0)))[:, :-1])
    np.testing.assert_allclose(half[:, 1:-1], ref[:, 1:-1], atol=1e-5)
    # scaling by 2 about the centre: the centre pixel pair keeps its value, the extent doubles
    wide = transform(digit, scale=2.0)
    cols = np.flatnonzero(wide.max(axis=0) > 0.5)
    assert cols.max() - cols.min() + 1 == pytest.approx(2 * (16 - 8), abs=2)


def test_curves_against_direct_model_calls(digit):
    torch.manual_seed(0)
    net = build_model(get_architecture("lecture-keras"))
    c = curves(net, digit, target=1, base={"angle": 10.0}, shifts=(-3, 0, 2), angles=(-20, 0, 30),
               scales=(0.8, 1.0))
    for i, s in enumerate((-3, 0, 2)):
        p = net.predict_proba(transform(digit, dx=s, angle=10.0)[None])[0]
        assert c.p_shift_x[i] == pytest.approx(p[1], rel=1e-5)
        assert c.answer_shift_x[i] == p.argmax()
        q = net.predict_proba(transform(digit, dy=s, angle=10.0)[None])[0]
        assert c.p_shift_y[i] == pytest.approx(q[1], rel=1e-5)
    for i, a in enumerate((-20, 0, 30)):
        p = net.predict_proba(transform(digit, angle=10.0 + a)[None])[0]
        assert c.p_angle[i] == pytest.approx(p[1], rel=1e-5)
    p = net.predict_proba(transform(digit, angle=10.0, scale=0.8)[None])[0]
    assert c.p_scale[0] == pytest.approx(p[1], rel=1e-5)


def test_pooling_shift_and_stayed_same(digit):
    a = np.zeros((1, 4, 4))
    a[0, 0, 0], a[0, 2, 2] = 1.0, 0.5
    b = a.copy()
    b[0, 2, 2] = 0.0  # one of two active units changed
    overall, per_map = stayed_same(a, b)
    assert overall == 0.5 and per_map[0] == 0.5
    torch.manual_seed(1)
    net = build_model(get_architecture("lecture-keras"))
    m = pooling_shift(net, digit)
    assert (m.before_name, m.after_name) == ("relu1", "pool1")
    assert m.before.shape == (64, 26, 26) and m.after.shape == (64, 13, 13)
    ref = torch.nn.functional.max_pool2d(torch.tensor(m.before_shifted)[None], 2)[0].numpy()
    np.testing.assert_allclose(m.after_shifted, ref, rtol=1e-6)
    assert 0 <= m.same_before <= 1 and 0 <= m.same_after <= 1


def test_raw_pad_keeps_the_position():
    pad = np.zeros((280, 280), np.float32)
    pad[0:100, 0:100] = 255.0  # a blob in the top-left corner stays there
    x = raw_pad(pad)
    assert x.shape == (28, 28) and x[:10, :10].min() == pytest.approx(1.0) and x[15:, 15:].max() == 0

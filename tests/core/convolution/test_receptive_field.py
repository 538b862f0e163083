"""Receptive fields against torch: the non-zero region of one unit's input gradient."""

import numpy as np
import pytest
import torch

from cnnviz.core.convolution.receptive_field import incoming_weights, mosaic, receptive_fields, unit_field
from cnnviz.core.networks.layers import Add, Pad
from cnnviz.core.networks.models import (
    Architecture,
    Conv,
    Dense,
    Flatten,
    Pool,
    build_model,
    get_architecture,
)


def _grad_box(network, name, channel, row, col):
    """The bounding box of the input pixels whose gradient for one unit is not zero."""
    network.eval()
    x = torch.rand(1, 1, 28, 28, dtype=torch.float64, requires_grad=True)
    outputs = dict(network.layer_outputs((x - network.input_mean) / network.input_std))
    outputs[name][0, channel, row, col].backward()
    nz = np.argwhere(x.grad[0, 0].numpy() != 0)
    if nz.size == 0:
        return None
    return (nz[:, 0].min(), nz[:, 1].min(), nz[:, 0].max() + 1, nz[:, 1].max() + 1)


LINEAR = Architecture("rf-linear", "conv, avg pool, strided padded conv: every pixel counts",
                      (Conv(4, (3, 3)), Pool("avg", 2, 2), Conv(4, (5, 3), (2, 1), (2, 1)),
                       Conv(4, (3, 3), (1, 1), (1, 1)), Flatten(), Dense(10)))


@pytest.mark.parametrize("seed", [0, 1])
def test_fields_equal_the_gradient_region_of_a_linear_stack(seed):
    torch.manual_seed(seed)
    net = build_model(LINEAR).double()
    fields = {f.name: f for f in receptive_fields(net.layer_infos)}
    assert fields["conv3"].size == (3 + 1 + 4 * 2 + 2 * 4, 3 + 1 + 2 * 2 + 2 * 2)
    rng = np.random.default_rng(seed)
    for name, f in fields.items():
        c, h, w = f.shape
        for _ in range(6):
            r, q = int(rng.integers(h)), int(rng.integers(w))
            assert _grad_box(net, name, 0, r, q) == unit_field(f, r, q, (28, 28)), (name, r, q)


# A graph: uneven zero padding, a dilated conv, a strided branch beside a 1×1 one, joined
# by add (inputs 0: the picture, k: layer k)
GRAPH = Architecture(
    "rf-graph", "pad, dilation, two branches added: every pixel counts",
    (Pad(2, 0, 1, 3), Conv(4, (3, 3), dilation=(2, 2)), Conv(4, (3, 3), (2, 2), (1, 1)),
     Conv(4, (1, 1), (2, 2)), Add(), Conv(4, (3, 3), groups=2), Flatten(), Dense(10)),
    sources=((0,), (1,), (2,), (2,), (3, 4), (5,), (6,), (7,)))


@pytest.mark.parametrize("seed", [0, 1])
def test_fields_of_a_graph_equal_the_gradient_region(seed):
    torch.manual_seed(seed)
    net = build_model(GRAPH).double()
    fields = {f.name: f for f in receptive_fields(net.layer_infos)}
    assert set(fields) == {"pad1", "conv1", "conv2", "conv3", "add1", "conv4"}
    rng = np.random.default_rng(seed)
    for name, f in fields.items():
        c, h, w = f.shape
        for _ in range(6):
            r, q = int(rng.integers(h)), int(rng.integers(w))
            top, left, bottom, right = unit_field(f, r, q, (28, 28))
            box = _grad_box(net, name, 0, r, q)
            if bottom <= top or right <= left:  # the unit sees padding only
                assert box is None, (name, r, q)
                continue
            t0, l0 = r * f.jump[0] + f.offset[0], q * f.jump[1] + f.offset[1]
            if t0 >= 0 and l0 >= 0 and t0 + f.size[0] <= 28 and l0 + f.size[1] <= 28:
                assert box == (top, left, bottom, right), (name, r, q)  # inside the picture
            else:  # a dilated kernel's gaps may fall on the picture's edge
                assert box is not None and top <= box[0] and left <= box[1] \
                    and box[2] <= bottom and box[3] <= right, (name, r, q)


def test_fields_contain_the_gradient_region_of_the_shipped_architecture():
    """With ReLU and max pooling only some pixels pass a gradient, never one outside."""
    torch.manual_seed(3)
    net = build_model(get_architecture("cnnviz")).double()
    fields = receptive_fields(net.layer_infos)
    assert [f.size[0] for f in fields if f.kind == "conv"] == [3, 5, 10, 14]  # pool1 adds 1, then J = 2
    rng = np.random.default_rng(0)
    for f in fields:
        c, h, w = f.shape
        for _ in range(3):
            ch, r, q = int(rng.integers(c)), int(rng.integers(h)), int(rng.integers(w))
            box = _grad_box(net, f.name, ch, r, q)
            t, l_, b, rr = unit_field(f, r, q, (28, 28))
            if box is not None:
                assert t <= box[0] and l_ <= box[1] and box[2] <= b and box[3] <= rr


def test_dense_weights_as_maps():
    net = build_model(get_architecture("lecture-keras"))
    maps, words = incoming_weights(net, "dense1", 3)
    assert maps.shape == (64, 5, 5) and "64 maps of 5×5" in words
    flat = net.layers["dense1"].weight[3].detach().numpy()
    np.testing.assert_allclose(maps.ravel(), flat)  # torch's flatten order (C, H, W)
    big = mosaic(maps)
    assert big.shape == (8 * 6 - 1, 8 * 6 - 1)
    np.testing.assert_allclose(big[6:11, 0:5], maps[8])
    deep = build_model(get_architecture("cnnviz"))
    vec, words = incoming_weights(deep, "dense2", 0)
    assert vec.shape == (128,)


def test_dense_weights_as_maps_in_kerass_order():
    """A Keras model flattens pixel by pixel (h, w, c): weight k of a dense unit belongs to
    the map, row and column Keras's own Flatten put there."""
    from pathlib import Path

    from cnnviz.core.networks.weights import load_weights

    loaded = load_weights(Path(__file__).resolve().parents[2] / "data" / "keras" / "lecture.keras")
    net = loaded.model
    maps, words = incoming_weights(net, "dense1", 3)
    c, h, w = maps.shape
    row = net.layers["dense1"].weight[3].detach().numpy()
    # Keras's flatten of a (h, w, c) tensor: index (y·w + x)·c + ch
    for ch, y, x in ((0, 0, 0), (5, 2, 3), (c - 1, h - 1, w - 1)):
        assert maps[ch, y, x] == row[(y * w + x) * c + ch]
    assert words.startswith(f"{c} maps of {h}×{w}")

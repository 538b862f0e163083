"""Every formula a layer card shows agrees with the arithmetic (worked out here from the
numbers in the text), with cnnviz.core.convolution.ops, and with what the built torch module really
does (a zeros input through it, and sum(p.numel())). The layer specs' methods agree with
torch for random valid architectures too."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from cnnviz.core.convolution import ops
from cnnviz.core.networks.layer_cards import (
    ROLE_CLASS_SCORES,
    ROLE_PROBABILITIES,
    block_of,
    describe_layers,
    flat_source,
)
from cnnviz.core.networks.layers import Activation, BatchNorm, Conv, Dense, Dropout, Flatten, Pool
from cnnviz.core.networks.models import Architecture, build_model, summarize
from cnnviz.core.networks.weights import SHIPPED, load_shipped
from cnnviz.core.pictures.thumbnails import GAP_INDEX, thumbnail_array, thumbnail_indices

NUM = r"[\d,]+(?:\.\d+)?"
SIZE = re.compile(rf"\((\d+) − (\d+) \+ 2×(\d+)\) / (\d+) \+ 1 = ({NUM})(?: → ⌊({NUM})⌋ = (\d+))?")
CONV = re.compile(r"\(\((\d+)×(\d+)×(\d+)\) \+ 1\) × (\d+) = ([\d,]+)")
DENSE = re.compile(r"\(([\d,]+) \+ 1\) × ([\d,]+) = ([\d,]+)")
SO_SHAPE = re.compile(r"so (\d+(?:×\d+)*)$")
SAME = re.compile(r"^(\d+(?:×\d+)*) → (\d+(?:×\d+)*) \(same shape\)$")


def _n(text: str) -> float:
    return float(text.replace(",", ""))


def _torch_truth(model):
    """Each layer's real input and output shapes and parameter count, from torch."""
    x = torch.zeros((1, *model.arch.input_shape))
    truth = {}
    model.eval()
    with torch.no_grad():
        for name, module in model.layers.items():
            y = module(x)
            truth[name] = (tuple(x.shape[1:]), tuple(y.shape[1:]),
                           sum(p.numel() for p in module.parameters()))
            x = y
    return truth


def _check_sizes(text, in_shape, out_shape) -> int:
    """Every (W − F + 2P) / S + 1 in the text is worked right and gives torch's size."""
    found = SIZE.findall(text.shape_formula)
    for w, f, p, s, exact, floor_of, floored in found:
        w, f, p, s = int(w), int(f), int(p), int(s)
        truth = (w - f + 2 * p) / s + 1
        assert math.isclose(_n(exact), truth, rel_tol=1e-5), text.shape_formula  # 6 digits shown
        result = int(floored) if floored else _n(exact)
        if floored:  # the floor is written out exactly when the division is not whole
            assert _n(floor_of) == _n(exact) and not truth.is_integer()
        else:
            assert truth.is_integer(), f"{text.name}: {text.shape_formula} hides a floor"
        assert result == math.floor(truth)
        assert w in in_shape[1:] and result in out_shape[1:], (text.name, text.shape_formula)
        assert result == (ops.output_axis(w, f, s, p).value if text.kind == "conv"
                          else ops.pool_axis(w, f, s, p).value)
    rows_and_cols = {(m[0], m[4]) for m in found}
    assert len(found) == (1 if len(rows_and_cols) == 1 and in_shape[1] == in_shape[2] else 2)
    shape = SO_SHAPE.search(text.shape_formula)
    assert shape and tuple(int(v) for v in shape.group(1).split("×")) == out_shape
    return len(found)


def _check_params(text, in_shape, numel) -> None:
    assert text.parameters == numel, text.name
    if text.kind == "conv":
        kh, kw, c_in, filters, total = CONV.search(text.param_formula).groups()
        assert int(c_in) == in_shape[0]
        assert (int(kh) * int(kw) * int(c_in) + 1) * int(filters) == _n(total) == numel
        assert ops.conv_params(int(kh), int(kw), int(c_in), int(filters)) == numel
    elif text.kind == "dense":
        n_in, n_out, total = DENSE.search(text.param_formula).groups()
        assert _n(n_in) == in_shape[0]
        assert (_n(n_in) + 1) * _n(n_out) == _n(total) == numel
        assert ops.dense_params(int(_n(n_in)), int(_n(n_out))) == numel
    elif text.kind == "batchnorm":
        two, c, total = re.search(r"(\d+) × (\d+) = ([\d,]+)", text.param_formula).groups()
        assert int(two) * int(c) == _n(total) == numel and int(c) == in_shape[0]
    else:
        assert numel == 0 and "no trainable parameters" in text.param_formula


def check_cards(model) -> int:
    """Check every card of a model against torch; returns how many size formulas it read."""
    truth = _torch_truth(model)
    texts = describe_layers(model)
    assert texts[0].name == "input" and texts[0].shape == tuple(model.arch.input_shape)
    assert [t.name for t in texts[1:]] == list(truth)
    read = 0
    for text in texts[1:]:
        in_shape, out_shape, numel = truth[text.name]
        assert text.in_shape == in_shape and text.shape == out_shape, text.name
        if text.kind in ("conv", "pool"):
            read += _check_sizes(text, in_shape, out_shape)
        elif text.kind == "flatten" and len(in_shape) == 3:
            h, w, c, n = re.match(r"(\d+) × (\d+) × (\d+) = ([\d,]+)", text.shape_formula).groups()
            assert (int(c), int(h), int(w)) == in_shape and int(h) * int(w) * int(c) == _n(n)
            assert (_n(n),) == out_shape
        elif text.kind == "dense":
            n_in, units = re.match(r"([\d,]+) inputs → ([\d,]+) units", text.shape_formula).groups()
            assert (_n(n_in),) == in_shape and (_n(units),) == out_shape
        else:
            a, b = SAME.match(text.shape_formula).groups()
            assert a == b == "×".join(map(str, in_shape)) and in_shape == out_shape
        _check_params(text, in_shape, numel)
    total = sum(p.numel() for p in model.parameters())
    assert sum(t.parameters for t in texts) == total
    return read


@pytest.mark.parametrize("key", list(SHIPPED))
def test_every_shipped_card_formula_agrees_with_ops_and_torch(key):
    loaded = load_shipped(key)
    assert check_cards(loaded.model) >= 2


def test_the_lecture_keras_second_pool_shows_its_floor():
    """The bug this guards: the card said (11 − 2) / 2 + 1 = 5, which is 5.5."""
    text = next(t for t in describe_layers(build_model("lecture-keras")) if t.name == "pool2")
    assert "(11 − 2 + 2×0) / 2 + 1 = 5.5 → ⌊5.5⌋ = 5" in text.shape_formula


def _random_arch(rng) -> Architecture:
    """A valid architecture with random kernels, strides, padding, pools and activations."""
    layers, (c, h, w) = [], (int(rng.integers(1, 4)), int(rng.integers(8, 33)),
                             int(rng.integers(8, 33)))
    shape = (c, h, w)
    for _ in range(int(rng.integers(1, 4))):
        kh, kw = int(rng.integers(1, min(6, shape[1]) + 1)), int(rng.integers(1, min(6, shape[2]) + 1))
        ph, pw = int(rng.integers(0, 3)), int(rng.integers(0, 3))
        # keep the lecture's rule whole: a stride (1 to 3) that divides W − F + 2P
        sh, sw = (int(rng.choice([s for s in (1, 2, 3) if (n - k + 2 * p) % s == 0]))
                  for n, k, p in ((shape[1], kh, ph), (shape[2], kw, pw)))
        conv = Conv(int(rng.integers(1, 9)), (kh, kw), (sh, sw), (ph, pw))
        layers.append(conv)
        shape = conv.output_shape(shape)
        if rng.random() < 0.5:
            layers.append(BatchNorm())
        layers.append(Activation(str(rng.choice(["relu", "leaky_relu", "elu", "tanh", "sigmoid"]))))
        if min(shape[1:]) >= 2 and rng.random() < 0.6:
            size = int(rng.integers(1, min(4, *shape[1:]) + 1))
            pool = Pool(str(rng.choice(list(ops.POOL_KINDS))), size, int(rng.integers(1, 4)))
            layers.append(pool)
            shape = pool.output_shape(shape)
        if rng.random() < 0.3:
            layers.append(Dropout(0.25))
    layers += [Flatten(), Dense(int(rng.integers(2, 20))), BatchNorm(), Activation("relu"),
               Dense(10), Activation("softmax")]
    return Architecture("random", "", tuple(layers), input_shape=(c, h, w))


def test_spec_methods_agree_with_torch_for_random_architectures():
    rng = np.random.default_rng(7)
    floors = 0
    for _ in range(40):
        model = build_model(_random_arch(rng), seed=0)
        check_cards(model)
        floors += sum("⌊" in t.shape_formula for t in describe_layers(model))
        for info, spec in zip(summarize(model.arch), model.arch.layers):
            assert spec.output_shape(info.in_shape) == info.output_shape
    assert floors > 0  # the random pools did exercise the floor


def test_roles_and_blocks():
    texts = {t.name: t for t in describe_layers(build_model("cnnviz"))}
    assert texts["softmax"].role == ROLE_PROBABILITIES
    assert texts["dense2"].role == ROLE_CLASS_SCORES and texts["dense1"].role == ""
    assert texts["flatten"].flattens_maps and not texts["dense1"].has_maps
    infos = build_model("cnnviz").layer_infos
    assert block_of(infos, "relu2") == ["conv2", "bn2", "relu2", "pool1"]
    assert block_of(infos, "flatten") == []
    # a model without softmax: its last dense layer gives the class scores
    arch = Architecture("t", "", (Conv(2), Flatten(), Dense(10)))
    texts = describe_layers(build_model(arch))
    assert texts[-1].role == ROLE_CLASS_SCORES


def test_flat_source_matches_torch_flatten():
    x = torch.arange(3 * 4 * 5).reshape(1, 3, 4, 5)
    flat = torch.nn.Flatten()(x)[0]
    for i in (0, 7, 20, 59):
        c, r, k = flat_source((3, 4, 5), i)
        assert int(x[0, c, r, k]) == int(flat[i])


def test_thumbnail_lays_maps_side_by_side_with_gaps():
    v = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4) - 5
    out, signed = thumbnail_array(v)
    assert signed
    maps = [out[r:r + 3, c:c + 4] for r in range(0, out.shape[0], 4)
            for c in range(0, out.shape[1], 5)]
    found = [m for m in maps if m.shape == (3, 4) and np.isfinite(m).all()]
    assert any(np.array_equal(m, v[0]) for m in found)
    assert any(np.array_equal(m, v[1]) for m in found)
    u8, _ = thumbnail_indices(v)
    assert u8.dtype == np.uint8 and u8.flags.c_contiguous
    assert (u8[~np.isfinite(out)] == GAP_INDEX).all() and u8[np.isfinite(out)].max() <= 254

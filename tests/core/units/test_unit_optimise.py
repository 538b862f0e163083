"""Optimised inputs: on a network whose preferred input is known (one oriented kernel) the
ascent finds it; the regularisers damp the high frequencies plain ascent makes; ideal
digits are read as their class; the energy measure against hand-worked pictures; the
drawing as a start, stopping, and bad requests."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnviz.core.networks.arch_text import parse_architecture
from cnnviz.core.networks.models import Network
from cnnviz.core.networks.weights import load_shipped
from cnnviz.core.units import unit_optimise as uo
from cnnviz.core.units.unit_examples import UnitProblem, crop_box


def _oriented_kernel(size: int = 7) -> np.ndarray:
    """A diagonal bar: positive along the main diagonal, negative beside it."""
    r, c = np.mgrid[:size, :size]
    d = (r - c).astype(np.float64)
    return np.exp(-d ** 2 / 2.0) - 0.5 * np.exp(-d ** 2 / 8.0)


def _one_kernel_network(kernel: np.ndarray) -> Network:
    k = kernel.shape[0]
    net = Network(parse_architecture(f"conv 1 {k}, relu, flatten, dense 10"))
    with torch.no_grad():
        net.layers["conv1"].weight.copy_(torch.from_numpy(kernel).float()[None, None])
        net.layers["conv1"].bias.zero_()
    return net.eval()


@pytest.mark.parametrize("layer", ["conv1", "relu1"])
def test_the_optimised_input_of_one_oriented_kernel_is_that_kernel(layer):
    kernel = _oriented_kernel()
    net = _one_kernel_network(kernel)
    result = uo.optimise_unit(net, layer, 0, starts=3, seed=1)
    top, left, bottom, right = crop_box(net, layer, result.position)
    assert (bottom - top, right - left) == kernel.shape
    for picture in result.pictures:
        crop = picture[top:bottom, left:right]
        assert np.corrcoef(crop.ravel(), kernel.ravel())[0, 1] >= 0.8
    # its score beats a picture of the kernel's transpose (the other diagonal)
    other = np.zeros((1, 1, 28, 28), np.float32)
    other[0, 0, top:bottom, left:right] = np.clip(kernel[::-1], 0, 1)
    assert result.scores.min() > uo.unit_score(net, layer, 0, other)[0]


def test_a_relu_off_at_every_start_is_still_optimised():
    """A bias of −1 keeps the ReLU at 0 on faint noise, with no gradient: what it reads is
    ascended instead, and the kernel is found all the same."""
    kernel = _oriented_kernel()
    net = _one_kernel_network(kernel)
    with torch.no_grad():
        net.layers["conv1"].bias.fill_(-1.0)
    result = uo.optimise_unit(net, "relu1", 0, starts=2, seed=3)
    assert (result.scores > 0).all()
    top, left, bottom, right = crop_box(net, "relu1", result.position)
    crop = result.pictures[0][top:bottom, left:right]
    assert np.corrcoef(crop.ravel(), kernel.ravel())[0, 1] >= 0.8


def test_the_weights_are_left_as_they_were():
    net = load_shipped("lecture-keras").model
    before = {k: v.clone() for k, v in net.state_dict().items()}
    flags = [p.requires_grad for p in net.parameters()]
    uo.optimise_unit(net, "conv2", 3, starts=1, reg=uo.with_steps(uo.DEFAULT, 8))
    assert flags == [p.requires_grad for p in net.parameters()]
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_high_frequency_energy_on_hand_worked_pictures():
    checker = (np.indices((28, 28)).sum(0) % 2).astype(float)  # 0.5 cycles per pixel
    assert uo.high_frequency_energy(checker) == pytest.approx(np.var(checker))  # = 0.25
    slow = np.sin(2 * np.pi * np.arange(28) / 28)[None].repeat(28, 0)  # 1/28 cycles per pixel
    assert uo.high_frequency_energy(slow) == pytest.approx(0.0, abs=1e-12)
    assert uo.high_frequency_energy(np.full((28, 28), 0.7)) == 0.0
    mixed = np.random.default_rng(0).normal(size=(3, 28, 28))  # Parseval: all bands = variance
    assert uo.high_frequency_energy(mixed, cutoff=-1) == pytest.approx(
        np.var(mixed, axis=(1, 2)).mean())


@pytest.fixture(scope="module")
def default_model():
    return load_shipped("cnnviz").model


def test_ideal_digits_are_read_as_their_class_and_smoother_than_plain_ascent(default_model):
    ideal = uo.ideal_digits(default_model, starts=1, reg=uo.with_steps(uo.DEFAULT, 60))
    plain = uo.ideal_digits(default_model, starts=1, reg=uo.with_steps(uo.PLAIN, 60))
    assert ideal.shape == (10, 1, 1, 28, 28)
    assert ideal.min() >= 0.0 and ideal.max() <= 1.0
    assert uo.read_rate(default_model, ideal) >= 0.9
    assert uo.high_frequency_energy(ideal) <= 0.5 * uo.high_frequency_energy(plain)


def test_live_steps_and_stop(default_model):
    seen = []

    def on_step(step, steps, pictures, scores):
        seen.append((step, steps, pictures.shape, scores.shape))

    calls = iter(range(100))
    result = uo.optimise_unit(default_model, "dense1", 4, starts=2, on_step=on_step, every=4,
                              stop=lambda: next(calls) >= 12)
    assert result.stopped and result.steps == 12
    assert [s[0] for s in seen] == [4, 8, 12]
    assert seen[0][1:] == (uo.DEFAULT.steps, (2, 28, 28), (2,))
    assert result.inputs.shape == (2, 1, 28, 28) and result.inputs.dtype == np.float32


def test_the_drawing_is_a_start(default_model):
    drawing = np.zeros((28, 28), np.float32)
    drawing[6:22, 13:15] = 1.0  # a "1"
    result = uo.optimise_unit(default_model, "softmax", 1, starts=2, start_picture=drawing,
                              reg=uo.Regularisers(steps=1, learning_rate=1e-3, low_res_steps=0,
                                                  blur_every=0))
    assert np.abs(result.pictures[0] - drawing).max() < 0.01
    assert np.abs(result.pictures[1] - drawing).max() > 0.5


def test_the_score_is_the_top_examples_score(default_model):
    picture = np.random.default_rng(0).uniform(0, 1, (2, 1, 28, 28)).astype(np.float32)
    out = {}
    hooks = [default_model.layers[name].register_forward_hook(
        lambda _m, _i, o, name=name: out.__setitem__(name, o.detach())) for name in
        ("conv2", "dense2")]
    with torch.no_grad():
        default_model(torch.from_numpy(picture))  # the module's own forward, normalised inside
    for h in hooks:
        h.remove()
    np.testing.assert_allclose(uo.unit_score(default_model, "conv2", 7, picture),
                               out["conv2"][:, 7].amax((1, 2)).numpy(), rtol=1e-5)
    np.testing.assert_allclose(uo.unit_score(default_model, "softmax", 2, picture),
                               out["dense2"][:, 2].numpy(), rtol=1e-5)


def test_bad_requests(default_model):
    with pytest.raises(UnitProblem, match="dense2 has 10 units"):
        uo.optimise_unit(default_model, "softmax", 10)
    with pytest.raises(UnitProblem, match="no layer 'nope'"):
        uo.optimise_unit(default_model, "nope", 0)
    with pytest.raises(ValueError, match="out of range"):
        uo.Regularisers(steps=0)

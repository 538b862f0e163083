"""Top examples of a unit: checked against a brute-force pass through torch (forward hooks
on the network's own modules, scores sorted by numpy), the crops against the receptive
field torch autograd finds, the cache, and each bad input's message."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnviz.core import unit_examples as ue
from cnnviz.core.arch_text import parse_architecture
from cnnviz.core.models import Network
from cnnviz.core.weights import LoadedModel, load_shipped

SUBSET = 500  # test images (the benchmark scores all 10,000)


@pytest.fixture(scope="module")
def shipped():
    return load_shipped("cnnviz")


@pytest.fixture(scope="module")
def found(shipped, mnist_dir):
    return ue.unit_examples(shipped, data_dir=mnist_dir, limit=SUBSET)


@pytest.fixture(scope="module")
def hooked(shipped, mnist_test):
    return _hooked_outputs(shipped.model, mnist_test[0][:SUBSET])


def _hooked_outputs(network, images) -> dict[str, np.ndarray]:
    """Every layer's output for `images` through the module's own forward (hooks)."""
    seen = {}
    handles = [module.register_forward_hook(
        lambda _m, _i, out, name=name: seen.__setitem__(name, out.detach().numpy().copy()))
        for name, module in network.layers.items()]
    try:
        with torch.no_grad():
            network.eval()(torch.from_numpy(images.astype(np.float32) / 255.0)[:, None])
    finally:
        for h in handles:
            h.remove()
    return seen


def _brute_force(values: np.ndarray, n: int, lowest: bool):
    """(units, n) image indices and scores, best first, ties to the earlier image."""
    scores = values.reshape(len(values), values.shape[1], -1).max(2).T  # (units, images)
    order = np.stack([np.lexsort((np.arange(s.size), s if lowest else -s)) for s in scores])
    return order[:, :n], np.take_along_axis(scores, order[:, :n], 1)


@pytest.mark.parametrize("layer", ["conv1", "relu2", "pool1", "conv4", "dense1", "dense2"])
@pytest.mark.parametrize("lowest", [False, True])
def test_top_examples_match_a_brute_force_pass(found, hooked, layer, lowest):
    values = hooked[layer]
    index, score = _brute_force(values, 9, lowest)
    for unit in range(values.shape[1]):
        got = found.examples(layer, unit, n=9, lowest=lowest)
        got_scores = np.array([e.score for e in got])
        np.testing.assert_allclose(got_scores, score[unit], rtol=1e-4, atol=1e-4)
        # each image named really has that score for the unit (ties may order differently
        # by a float's last bit between batch sizes; the scores may not)
        own = values[[e.index for e in got], unit].reshape(9, -1).max(1)
        np.testing.assert_allclose(own, got_scores, rtol=1e-4, atol=1e-4)
        clear = np.abs(np.diff(score[unit])) > 1e-3  # no near-tie on either side
        sure = np.r_[clear[:1], clear[1:] & clear[:-1], clear[-1:]]
        assert [e.index for e, s in zip(got, sure) if s] == list(index[unit][sure])
        for e in got:
            if values.ndim == 4:  # the winning position holds the score
                assert e.position is not None
                assert values[e.index, unit][e.position] == pytest.approx(e.score, abs=1e-4)
            else:
                assert e.position is None


def test_a_class_is_scored_by_its_logit_not_its_probability(found, hooked):
    softmax = found.examples("softmax", 3, n=9)
    assert softmax == found.examples("dense2", 3, n=9)
    logits = hooked["dense2"]
    assert softmax[0].index == int(np.argmax(logits[:, 3]))
    assert softmax[0].score > 1.0  # a logit, not a probability saturated at 1


def _field_by_autograd(network, layer: str, unit: int, position, picture) -> np.ndarray:
    """The input pixels with a non-zero gradient of the unit's value at `position`."""
    x = torch.from_numpy(picture.astype(np.float32))[None, None].requires_grad_(True)
    for name, out in network.layer_outputs((x - network.input_mean) / network.input_std):
        if name == layer:
            (grad,) = torch.autograd.grad(out[0, unit][position], x)
            return grad[0, 0].numpy() != 0
    raise KeyError(layer)


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def test_crop_is_the_field_torch_autograd_finds_on_a_linear_network():
    """No ReLU or pooling to zero a gradient: every pixel of the field counts, so the
    pixels with a gradient are exactly the crop (padding clips it at the edges)."""
    torch.manual_seed(0)
    arch = parse_architecture("conv 4 3 padding=1, conv 4 5 stride=2, conv 2 3, flatten, "
                              "dense 10")
    net = Network(arch).eval()
    picture = np.random.default_rng(0).uniform(0.1, 1.0, (28, 28))
    for layer, size in (("conv1", 28), ("conv2", 12), ("conv3", 10)):
        for position in ((0, 0), (size // 2, size // 3), (size - 1, size - 1)):
            box = ue.crop_box(net, layer, position)
            assert _box(_field_by_autograd(net, layer, 1, position, picture)) == box


def test_crops_of_the_shipped_model_hold_every_pixel_with_a_gradient(found, shipped,
                                                                     mnist_test):
    for layer in ("conv2", "pool1", "relu3", "pool2"):
        for e in found.examples(layer, 5, n=3):
            top, left, bottom, right = ue.crop_box(shipped.model, layer, e.position)
            mask = _field_by_autograd(shipped.model, layer, 5, e.position,
                                      mnist_test[0][e.index] / 255.0)
            assert mask.any()
            outside = mask.copy()
            outside[top:bottom, left:right] = False
            assert not outside.any(), f"{layer} {e}: a pixel outside the crop has a gradient"
    assert ue.crop_box(shipped.model, "dense1", None) == (0, 0, 28, 28)


def test_second_call_comes_from_the_cache_and_a_damaged_cache_is_redone(shipped, mnist_dir,
                                                                         found):
    again = ue.unit_examples(shipped, data_dir=mnist_dir, limit=SUBSET)
    assert again.from_cache
    assert again.examples("conv3", 7) == found.examples("conv3", 7)
    path = ue._cache_path(ue.cache_key(shipped.model, "mnist", SUBSET))
    path.write_bytes(b"not an npz file")
    redone = ue.unit_examples(shipped, data_dir=mnist_dir, limit=SUBSET)
    assert not redone.from_cache
    assert redone.examples("conv3", 7) == found.examples("conv3", 7)


def test_progress_and_stop(shipped, mnist_test):
    shares = []
    with pytest.raises(ue.Stopped):
        ue.score_images(shipped.model, mnist_test[0][:300], progress=shares.append,
                        stop=lambda: len(shares) >= 1, batch=100)
    assert shares == [pytest.approx(1 / 3)]


def test_bad_requests_get_one_plain_message(found, shipped, mnist_dir):
    with pytest.raises(ue.UnitProblem, match="conv1 has 32 units .0 to 31.; there is no unit 32"):
        found.examples("conv1", 32)
    with pytest.raises(ue.UnitProblem, match="no unit -1"):
        found.examples("conv1", -1)
    with pytest.raises(ue.UnitProblem, match="no layer 'conv9'"):
        ue.scored_layer(shipped.model, "conv9")
    with pytest.raises(ue.UnitProblem, match="the input is the picture"):
        ue.scored_layer(shipped.model, "input")
    with pytest.raises(ue.UnitProblem, match="dataset is one of"):
        ue.unit_examples(shipped, dataset="cifar", data_dir=mnist_dir)
    made_elsewhere = LoadedModel(shipped.model, {"made_with": "Keras 3"}, None)
    with pytest.raises(ue.UnitProblem, match="does not say which pictures"):
        ue.unit_examples(made_elsewhere, data_dir=mnist_dir)
    # ... unless the user says which (its cache key differs: 300 images)
    assert ue.unit_examples(made_elsewhere, "mnist", mnist_dir, limit=300).count == 300
    wide = Network(parse_architecture("conv 2 3, flatten, dense 10", input_shape=(1, 32, 32)))
    with pytest.raises(ue.UnitProblem, match="this network takes 32×32"):
        ue.unit_examples(LoadedModel(wide, {"dataset": "mnist"}, None), data_dir=mnist_dir)


def test_a_missing_dataset_is_a_message(shipped, tmp_path):
    with pytest.raises(ue.UnitProblem, match="mnist"):
        ue.unit_examples(shipped, data_dir=tmp_path)

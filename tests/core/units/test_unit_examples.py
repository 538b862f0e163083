"""Top examples of a unit: checked against a brute-force pass through torch (forward hooks
on the network's own modules, scores sorted by numpy), the crops against the receptive
field torch autograd finds, the cache, and each bad input's message."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnviz.core.networks.arch_text import parse_architecture
from cnnviz.core.networks.models import Network
from cnnviz.core.networks.weights import LoadedModel, load_shipped
from cnnviz.core.units import unit_examples as ue

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


@pytest.mark.parametrize("layer", ["conv1", "pool1", "relu4", "dense2"])
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
    for layer in ("conv2", "pool2"):
        for e in found.examples(layer, 5, n=2):
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


# ---------------------------------------------------------------------------------------
# cnnviz visualize (on the first SUBSET test pictures: the benchmark scores all of them)


@pytest.fixture
def subset_only(monkeypatch, mnist_test):
    from cnnviz.core.datasets.data import load_split

    def first(dataset, split, data_dir=None, verify=True):
        images, labels = load_split(dataset, split, data_dir, verify=False)
        return images[:SUBSET], labels[:SUBSET]

    monkeypatch.setattr(ue, "load_split", first)
    monkeypatch.setattr("cnnviz.core.datasets.data.load_split", first)


def test_visualize_writes_the_picture_the_input_and_json(capsys, tmp_path, subset_only,
                                                         found, hooked):
    import json

    from cli_runs import run

    out = tmp_path / "unit.png"
    r = run(capsys, "visualize", "--layer", "conv2", "--unit", "3", "--top", "5", "--json",
            "-o", str(out))
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert set(answer) == {"layer", "unit", "dataset", "top", "optimized", "optimized_score"}
    assert (answer["layer"], answer["unit"], answer["dataset"]) == ("conv2", 3, "mnist")
    expected = found.examples("conv2", 3, n=5)
    assert [t["index"] for t in answer["top"]] == [e.index for e in expected]
    for t in answer["top"]:  # the score and position, read from the brute-force values
        assert hooked["conv2"][t["index"], 3][tuple(t["position"])] == pytest.approx(t["score"],
                                                                                    abs=1e-4)
    assert out.is_file() and answer["optimized"] == str(tmp_path / "unit.npy")
    made = np.load(answer["optimized"])
    assert made.shape == (1, 28, 28) and made.dtype == np.float32
    assert made.min() >= 0.0 and made.max() <= 1.0
    seen = _hooked_outputs(load_shipped("cnnviz").model, (made[None, 0] * 255.0))
    assert seen["conv2"][0, 3].max() == pytest.approx(answer["optimized_score"], rel=0.02)
    assert answer["optimized_score"] > 0.5 * expected[0].score


def test_visualize_a_class_and_its_lowest(capsys, tmp_path, subset_only, found):
    import json

    from cli_runs import run

    r = run(capsys, "visualize", "--class", "7", "--lowest", "--json", "-o",
            str(tmp_path / "seven.png"))
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert (answer["layer"], answer["unit"]) == ("dense2", 7)
    assert [t["index"] for t in answer["top"]] == \
        [e.index for e in found.examples("dense2", 7, lowest=True)]
    assert all(t["position"] is None for t in answer["top"])


@pytest.mark.parametrize("args, message", [
    (["--layer", "conv1", "--unit", "32"], "conv1 has 32 units (0 to 31); there is no unit 32"),
    (["--layer", "nope", "--unit", "0"], "the network has no layer 'nope'"),
    (["--class", "10"], "has 10 units (0 to 9); there is no unit 10"),
    (["--class", "1", "--layer", "conv1"], "not both"),
    (["--layer", "conv1"], "say which unit"),
    (["--class", "1", "--top", "0"], "--top must be 1 to 25"),
])
def test_visualize_bad_choices_are_one_line(capsys, tmp_path, args, message):
    from cli_runs import one_line, run

    r = run(capsys, "visualize", *args, "-o", str(tmp_path / "x.png"))
    assert r.returncode == 1 and one_line(r.stderr) and message in r.stderr
    assert not list(tmp_path.iterdir())


def test_visualize_bad_outputs_and_missing_data_are_one_line(capsys, tmp_path):
    from cli_runs import one_line, run

    r = run(capsys, "visualize", "--class", "1", "-o", str(tmp_path / "x.txt"))
    assert r.returncode == 1 and one_line(r.stderr) and "cannot save x.txt" in r.stderr
    r = run(capsys, "visualize", "--class", "1", "-o", str(tmp_path / "none" / "x.png"))
    assert r.returncode == 1 and one_line(r.stderr) and "does not exist" in r.stderr
    r = run(capsys, "visualize", "--class", "1", "--data-dir", str(tmp_path), "-o",
            str(tmp_path / "x.png"))
    assert r.returncode == 1 and one_line(r.stderr) and "mnist" in r.stderr.lower()
    assert not list(tmp_path.glob("x.*"))


def test_an_opened_keras_model(mnist_dir, mnist_test):
    """A Keras file (the lecture's model, with a Rescaling layer: 0..255 inside) does not
    say its data: it asks, then scores on the set chosen, through its own input scaling;
    a colour 32×32 network cannot take MNIST's pictures, but is optimised all the same."""
    from pathlib import Path

    from cnnviz.core.networks.weights import load_weights
    from cnnviz.core.units.unit_optimise import DEFAULT, optimise_unit, with_steps

    keras = Path(__file__).resolve().parents[2] / "data" / "keras"
    loaded = load_weights(keras / "rescaled.keras")
    with pytest.raises(ue.UnitProblem, match="does not say which pictures"):
        ue.unit_examples(loaded, data_dir=mnist_dir, limit=200)
    found = ue.unit_examples(loaded, "mnist", mnist_dir, limit=200)
    values = _hooked_outputs(loaded.model, mnist_test[0][:200])
    for layer in ("relu1", "dense2"):
        scores = values[layer].reshape(200, values[layer].shape[1], -1).max(2)
        for unit in (0, 3):
            got = [e.score for e in found.examples(layer, unit, n=5)]
            np.testing.assert_allclose(got, np.sort(scores[:, unit])[::-1][:5], rtol=1e-4,
                                       atol=1e-4)
    colour = Network(parse_architecture("conv 4 3, relu, conv 4 3, flatten, dense 10",
                                        input_shape=(3, 32, 32)))
    with pytest.raises(ue.UnitProblem, match="this network takes 32×32"):
        ue.unit_examples(LoadedModel(colour, {"dataset": "mnist"}, None), data_dir=mnist_dir)
    made = optimise_unit(colour, "conv2", 1, starts=2, reg=with_steps(DEFAULT, 20))
    assert made.pictures.shape == (2, 32, 32, 3) and made.inputs.shape == (2, 3, 32, 32)

"""Batch norm's statistics against torch in training mode; dropout samples."""

import numpy as np
import pytest
import torch

from cnnviz.core.experiments.bn_dropout import batch_statistics, dropout_samples, layer_names
from cnnviz.core.networks.models import build_model, get_architecture
from cnnviz.core.networks.weights import load_shipped


@pytest.fixture(scope="module")
def shipped():
    return load_shipped("cnnviz").model


def _batch(n=32, seed=0):
    from cnnviz.core.pictures.samples import load_samples

    images, _labels, _index = load_samples()
    return images[:n].astype(np.float32) / 255.0


@pytest.mark.parametrize("name", ["bn1", "bn3", "bn5"])
def test_batch_statistics_against_torch_in_train_mode(shipped, name):
    images = _batch()
    s = batch_statistics(shipped, images, name)
    # torch in training mode with momentum 1: the running mean becomes the batch mean and the
    # running variance the batch's unbiased variance; the output uses the biased one.
    layer = type(shipped.layers[name])(s.batch_mean.size, eps=s.eps, momentum=1.0).double()
    layer.load_state_dict(shipped.layers[name].state_dict())
    layer.train()
    x = torch.tensor(s.inputs, dtype=torch.float64)
    y = layer(x)
    np.testing.assert_allclose(s.batch_mean, layer.running_mean.numpy(), rtol=1e-6, atol=1e-9)
    n = x.numel() / x.shape[1]
    np.testing.assert_allclose(s.batch_var * n / (n - 1), layer.running_var.numpy(), rtol=1e-6)
    # the formula's numbers for one value give torch's training-mode output
    idx = (3, 1, 2, 2) if x.ndim == 4 else (3, 5)
    c = idx[1]
    f = s.normalise(float(x[idx]), c, training=True)
    assert f["y"] == pytest.approx(float(y[idx]), rel=1e-6, abs=1e-9)
    # and with the running statistics, eval mode's output
    shipped.eval()
    y_eval = shipped.layers[name].double()(x)
    shipped.layers[name].float()
    g = s.normalise(float(x[idx]), c, training=False)
    assert g["y"] == pytest.approx(float(y_eval[idx]), rel=1e-5, abs=1e-7)
    assert not np.allclose(s.batch_mean, s.running_mean)  # a batch is not the training set


def test_dropout_samples(shipped):
    image = _batch(1)[0]
    d = dropout_samples(shipped, image, samples=200, seed=1)
    assert d.probabilities.shape == (200, 10)
    np.testing.assert_allclose(d.eval_probabilities, shipped.predict_proba(image[None])[0],
                               rtol=1e-5, atol=1e-7)
    assert set(d.masks) == set(layer_names(shipped, "dropout"))
    for name, mask in d.masks.items():
        assert abs(mask.mean() - d.rates[name]) < 0.02  # about p of the units dropped
    assert d.answer_counts.sum() == 200
    assert len({tuple(m) for m in d.masks["dropout1"][:20]}) == 20  # each sample its own mask
    assert not shipped.training


def test_dropout_masks_reproduce_the_outputs():
    """Re-running the network by hand with the recorded masks gives the same probabilities."""
    torch.manual_seed(0)
    net = build_model(get_architecture("cnnviz"))
    net.eval()
    image = np.random.default_rng(0).uniform(0, 1, (28, 28)).astype(np.float32)
    d = dropout_samples(net, image, samples=5, seed=3)
    for k in range(5):
        h = (torch.tensor(image)[None, None] - net.input_mean) / net.input_std
        with torch.no_grad():
            for name, layer in list(net.layers.items())[:-1]:
                if name in d.masks:
                    keep = torch.tensor(~d.masks[name][k]).reshape(h.shape).float()
                    h = h * keep / (1 - d.rates[name])
                else:
                    h = layer(h)
        p = torch.softmax(h, dim=1)[0].numpy()
        np.testing.assert_allclose(d.probabilities[k], p, rtol=1e-4, atol=1e-6)

"""Saliency maps: shapes, a network that only looks at one pixel, Grad-CAM against a
hand-written torch reference, and the map laid back on the user's picture."""

import numpy as np
import pytest
import torch

from cnnviz.core.networks.models import (
    Architecture,
    Conv,
    Dense,
    Flatten,
    Network,
    build_model,
    get_architecture,
)
from cnnviz.core.pictures.preprocess import preprocess_digit
from cnnviz.core.units.saliency import METHODS, eval_copy, explain, to_picture

PIXEL = (12, 17)


def _one_pixel_network() -> Network:
    """Class 3's score is 5 × the input pixel (12, 17); every other class scores 0."""
    arch = Architecture("one-pixel", "looks at one pixel", (Conv(1, (1, 1)), Flatten(), Dense(10)))
    net = build_model(arch)
    with torch.no_grad():
        net.layers["conv1"].weight.fill_(1.0)
        net.layers["conv1"].bias.zero_()
        net.layers["dense1"].weight.zero_()
        net.layers["dense1"].bias.zero_()
        net.layers["dense1"].weight[3, PIXEL[0] * 28 + PIXEL[1]] = 5.0
    return net


@pytest.mark.parametrize("method", ["saliency", "integrated", "occlusion"])
def test_a_network_that_looks_at_one_pixel_lights_up_that_pixel(method):
    net = eval_copy(_one_pixel_network())
    image = np.random.default_rng(0).uniform(0.2, 1.0, (28, 28)).astype(np.float32)
    e = explain(net, image, method, target=3)
    assert e.raw.shape == e.map.shape == (28, 28)
    assert e.raw[PIXEL] == pytest.approx(e.raw.max()) and e.raw.max() > 0
    if method != "occlusion":  # occlusion's 4×4 window spreads it over the windows covering it
        assert np.count_nonzero(e.raw) == 1
    else:
        assert (e.raw[e.raw != 0] > 0).all()
        ys, xs = np.nonzero(e.raw)
        assert ys.min() >= PIXEL[0] - 3 and ys.max() <= PIXEL[0] + 3
        assert xs.min() >= PIXEL[1] - 3 and xs.max() <= PIXEL[1] + 3
    assert e.map.max() == pytest.approx(1.0)
    # integrated gradients sums to the score's change from the black baseline (completeness)
    if method == "integrated":
        assert e.raw.sum() == pytest.approx(5.0 * image[PIXEL], rel=1e-3)


def test_gradcam_against_a_hand_written_reference():
    torch.manual_seed(0)
    net = eval_copy(build_model(get_architecture("lecture-keras")))
    image = np.random.default_rng(1).uniform(0, 1, (28, 28)).astype(np.float32)
    e = explain(net, image, "gradcam", target=7, layer="relu2")
    # reference: A = relu2's maps, alpha_k = mean of d score / d A_k, cam = relu(sum alpha_k A_k)
    store = {}
    handle = net.layers["relu2"].register_forward_hook(lambda m, i, o: store.setdefault("a", o))
    x = torch.tensor(image)[None, None].requires_grad_()
    score = net(x)[0, 7]
    handle.remove()
    a = store["a"]
    (grad,) = torch.autograd.grad(score, a)
    cam = torch.relu((grad.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1, keepdim=True))
    cam = torch.nn.functional.interpolate(cam, (28, 28), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(e.raw, cam[0, 0].detach().numpy(), rtol=1e-4, atol=1e-7)
    assert e.layer == "relu2"


def test_every_method_on_the_shipped_architecture_keeps_the_model_untouched():
    model = build_model(get_architecture("cnnviz"))
    model.train()
    net = eval_copy(model)
    image = np.zeros((28, 28), np.float32)
    image[6:22, 12:16] = 1.0
    seen = []
    for method in METHODS:
        e = explain(net, image, method, target=1, layer="conv3", progress=seen.append)
        assert e.map.shape == (28, 28) and np.isfinite(e.map).all()
    assert model.training  # the app's model was never switched to eval by a copy
    assert seen and seen[-1] == pytest.approx(1.0)
    assert not any(p.grad is not None for p in model.parameters())


def test_map_laid_back_on_the_picture():
    """The network's input itself, laid back through the crop and scale, lands on the ink."""
    picture = np.zeros((280, 300), np.float32)
    picture[60:200, 150:175] = 255.0  # a thick "1", off centre
    picture[60:80, 120:175] = 255.0
    digit = preprocess_digit(picture)
    back = to_picture(digit.image, digit, picture.shape)
    assert back.shape == picture.shape
    inside = np.isfinite(back)
    assert inside[100, 160] and not inside[10, 10]
    ink = picture[inside] / 255
    corr = np.corrcoef(back[inside], ink)[0, 1]
    assert corr > 0.8
    small = to_picture(digit.image, digit, picture.shape, max_side=150)
    assert max(small.shape) == 150

"""One drawing through preprocessing and the shipped model, every layer kept."""

import numpy as np

from cnnviz.core.networks.weights import load_shipped
from cnnviz.core.pictures.samples import load_samples
from cnnviz.core.reading.inference import analyze


def test_shipped_samples_are_read_correctly():
    net = load_shipped("cnnviz").model
    images, labels, _ = load_samples()
    right = 0
    for img, label in zip(images, labels):
        # as the app gets them from its drawing pad: 280x280, white ink on black
        big = np.kron(img.astype(np.float32), np.ones((10, 10), np.float32))
        a = analyze(net, big)
        right += a.prediction == label
    assert right / len(labels) >= 0.98, right


def test_analysis_holds_every_layer():
    net = load_shipped("cnnviz").model
    img, _ = load_samples()[0][0], None
    a = analyze(net, img.astype(np.float32))
    names = [n for n, _ in a.layers]
    assert names == ["input"] + [i.name for i in a.layer_infos]
    assert a.layer("conv1").shape == (32, 26, 26)
    assert abs(a.probabilities.sum() - 1) < 1e-5 and a.prediction == int(np.argmax(a.probabilities))
    assert a.top3[0][0] == a.prediction


def test_blank_input_is_flagged_empty():
    net = load_shipped("cnnviz").model
    a = analyze(net, np.zeros((280, 280), np.float32))
    assert a.digit.empty
    assert np.isfinite(a.probabilities).all()

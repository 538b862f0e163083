"""Architectures as data: summaries against Keras's and the lecture's published counts,
and against torch's own parameter count; errors that name the bad layer; tracing."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from cnnviz.core.networks.models import (
    ARCHITECTURES,
    Activation,
    Architecture,
    ArchitectureError,
    Conv,
    Dense,
    Flatten,
    Pool,
    build_model,
    format_summary,
    get_architecture,
    summarize,
)


def test_lecture_keras_matches_keras_summary():
    # Keras's model.summary() for the lecture's example: 640, 0, 36928, 0, 0, 16010 = 53,578.
    infos = summarize(get_architecture("lecture-keras"))
    by_name = {i.name: i for i in infos}
    assert by_name["conv1"].output_shape == (64, 26, 26) and by_name["conv1"].parameters == 640
    assert by_name["pool1"].output_shape == (64, 13, 13)
    assert by_name["conv2"].output_shape == (64, 11, 11) and by_name["conv2"].parameters == 36928
    assert by_name["pool2"].output_shape == (64, 5, 5)  # 11 -> 5: the ragged row is dropped
    assert by_name["flatten"].output_shape == (1600,)
    assert by_name["dense1"].parameters == 16010
    assert sum(i.parameters for i in infos) == 53578


def test_lecture_deep_matches_lecture_table():
    # The lecture's "Calculate Output Size" and "Total Parameters" tables.
    infos = {i.name: i for i in summarize(get_architecture("lecture-deep"))}
    assert infos["conv1"].output_shape == (32, 26, 26) and infos["conv1"].parameters == 320
    assert infos["conv2"].output_shape == (64, 24, 24) and infos["conv2"].parameters == 18496
    assert infos["pool1"].output_shape == (64, 12, 12)
    assert infos["flatten"].output_shape == (9216,)
    assert infos["dense1"].parameters == 1_179_776
    assert infos["dense2"].parameters == 1290
    assert sum(i.parameters for i in infos.values()) == 1_199_882
    assert "Total parameters: 1,199,882" in format_summary(get_architecture("lecture-deep"))


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_summary_agrees_with_torch(name):
    arch = get_architecture(name)
    model = build_model(arch)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert sum(i.parameters for i in summarize(arch)) == trainable
    # and the shapes agree with what torch really produces
    traced = dict(model.trace(np.random.default_rng(0).random((28, 28), dtype=np.float32)))
    for info in summarize(arch):
        assert traced[info.name].shape == info.output_shape, info.name


def test_json_round_trip():
    for arch in ARCHITECTURES.values():
        assert Architecture.from_json(arch.to_json()) == arch


def test_a_named_architecture_read_from_a_file_gets_the_current_description():
    """Files keep the description they were saved with; the About box and tooltips should use
    this version's wording for a named architecture (a custom one keeps its own)."""
    old = replace(ARCHITECTURES["cnnviz"], description="worded by an older cnnviz")
    assert Architecture.from_json(old.to_json()).description == ARCHITECTURES["cnnviz"].description
    custom = replace(old, layers=old.layers[:-3] + (Dense(10),))
    assert Architecture.from_json(custom.to_json()).description == "worded by an older cnnviz"


def _arch(*layers):
    return Architecture("t", "", tuple(layers))


@pytest.mark.parametrize("layers, words", [
    ((Conv(8, (3, 3), (0, 0)), Flatten(), Dense(10)), ["layer 1", "conv1", "stride"]),
    ((Conv(8, (3, 3)), Dense(10)), ["layer 2", "dense1", "Flatten"]),
    ((Conv(8, (3, 3)), Pool("max", 2, 2), Conv(8, (15, 15)), Flatten(), Dense(10)),
     ["layer 3", "conv2", "larger than the padded input"]),
    ((Flatten(), Dense(10), Activation("softmax"), Dense(3)), ["layer 3", "softmax", "last layer"]),
    ((Conv(0, (3, 3)), Flatten(), Dense(10)), ["layer 1", "filters"]),
    ((Conv(8, (3, 3)),), ["flat output"]),
    ((Flatten(), Dense(10), Activation("mish")), ["layer 3", "activation must be one of"]),
])
def test_invalid_architectures_name_the_layer(layers, words):
    with pytest.raises(ArchitectureError) as info:
        summarize(_arch(*layers))
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("data, words", [
    ({"layers": []}, ["1 to 64 layers"]),
    ({"layers": [{"type": "rm -rf"}]}, ["layer 1", "unknown layer type"]),
    ({"layers": [{"type": "conv", "filters": "many"}]}, ["layer 1 (conv)"]),
    ({"layers": [{"type": "flatten"}, {"type": "dense", "units": 10**9}]}, ["units must be"]),
    ({"layers": [{"type": "conv", "filters": 1024, "kernel": 3},
                 {"type": "conv", "filters": 1024, "kernel": 15},
                 {"type": "flatten"}, {"type": "dense", "units": 10}]}, ["parameters"]),
    # 1,290 parameters but a 64x6028x6028 map: predict would need gigabytes
    ({"layers": [{"type": "conv", "filters": 64, "kernel": 3, "padding": 3000},
                 {"type": "pool", "size": 1, "stride": 10000}, {"type": "flatten"},
                 {"type": "dense", "units": 10}]}, ["layer 1 (conv1)", "padding 0 to 16"]),
    ({"layers": [{"type": "conv", "filters": 1024, "kernel": 1, "padding": 16},
                 {"type": "conv", "filters": 1024, "kernel": 1, "padding": 16},
                 {"type": "flatten"}, {"type": "dense", "units": 10}]},
     ["layer 2 (conv2)", "1024x92x92", "values, more than"]),
    ({"layers": [{"type": "conv", "filters": 8, "kernel": 3},
                 {"type": "pool", "size": 2, "stride": 10**6}, {"type": "flatten"},
                 {"type": "dense", "units": 10}]}, ["layer 2 (pool1)", "stride 1 to 16"]),
])
def test_hostile_descriptions_rejected_before_building(data, words):
    with pytest.raises(ArchitectureError) as info:
        Architecture.from_dict(data)
    for word in words:
        assert word in str(info.value)


def test_trace_matches_forward_and_names():
    model = build_model("cnnviz", seed=1)
    x = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    layers = model.trace(x)
    names = [n for n, _ in layers]
    assert names[0] == "input" and names[-1] == "softmax"
    assert names[1:5] == ["conv1", "bn1", "relu1", "conv2"]
    probs = layers[-1][1]
    assert probs.shape == (10,) and abs(probs.sum() - 1) < 1e-5
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(x)[None, None]), 1)[0].numpy()
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    # ReLU really is max(0, x) of the layer before it
    d = dict(layers)
    np.testing.assert_array_equal(d["relu1"], np.maximum(d["bn1"], 0))


def test_min_pool_keeps_each_windows_smallest_value():
    """Checked against the definition (the smallest of each 2x2 window, found by reshaping),
    not against -max_pool2d(-x), which is how the layer is built."""
    arch = _arch(Conv(2, (3, 3)), Pool("min", 2, 2), Flatten(), Dense(3))
    model = build_model(arch, seed=0)
    d = dict(model.trace(np.random.default_rng(2).random((28, 28), dtype=np.float32)))
    conv = d["conv1"]  # (2, 26, 26)
    expected = conv.reshape(2, 13, 2, 13, 2).min(axis=(2, 4))
    np.testing.assert_array_equal(d["pool1"], expected)
    assert not np.array_equal(d["pool1"], conv.reshape(2, 13, 2, 13, 2).max(axis=(2, 4)))


def test_specs_agree_with_torch_layer_by_layer():
    """Each spec's output shape and parameter count is what its torch module really does."""
    from cnnviz.core.networks.layers import BatchNorm, Dropout

    cases = [((3, 28, 28), Conv(5, (3, 5), (3, 1), (1, 2))), ((5, 10, 28), Pool("avg", 3, 2)),
             ((5, 11, 11), Pool("max", 2, 2)), ((5, 6, 7), BatchNorm()), ((40,), BatchNorm()),
             ((5, 6, 7), Activation("elu")), ((5, 6, 7), Dropout(0.3)), ((5, 6, 7), Flatten()),
             ((210,), Dense(17))]
    for in_shape, spec in cases:
        module = spec.build(in_shape).eval()
        with torch.no_grad():
            out = module(torch.zeros((2, *in_shape)))
        assert spec.output_shape(in_shape) == tuple(out.shape[1:]), spec
        assert spec.parameters(in_shape) == sum(p.numel() for p in module.parameters()), spec

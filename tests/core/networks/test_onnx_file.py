"""ONNX files read without onnxruntime, checked against the framework that made them: the
fixtures under tests/data/torch were exported by torch.onnx.export
(scripts/make_torch_fixtures.py, in its own environment), with PyTorch's own outputs of
every module and onnxruntime's of the file beside them.

| Op / case                                        | Fixture  |
|--------------------------------------------------|----------|
| Conv, Relu, MaxPool, Reshape to a row, Gemm,     | examples |
|   LogSoftmax, a dynamic batch (the new exporter) |          |
| MNIST-normalised input, worked out by cnnviz     | examples |
| Conv with pads, Add of two branches,             | graph    |
|   BatchNormalization, LeakyRelu, AveragePool,    |          |
|   Sigmoid, Tanh, Concat, GlobalAveragePool,      |          |
|   Flatten, a fixed batch of 1 (the old exporter) |          |
| Keras 3's export (tf2onnx, in tests/data/keras): | lecture  |
|   channels-last input, Transpose, MatMul, the    |          |
|   flatten's Shape/Gather/Slice/Concat/Cast       |          |
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnviz.core.networks.onnx_file import OnnxFileError, read_onnx
from cnnviz.core.networks.weights import WeightsError, load_weights

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "torch"
NAMES = ["examples", "graph"]
# module (PyTorch's name) -> the cnnviz layer that ends it
MODULES = {"examples": {"conv1": "conv1", "conv2": "conv2", "fc1": "dense1", "fc2": "dense2"},
           "graph": {"stem": "conv1", "inner": "conv2", "bn": "bn1", "pool": "pool1",
                     "left": "conv3", "right": "conv4", "head": "dense1"}}


@functools.cache
def opened(name: str):
    return load_weights(FIXTURES / f"{name}.onnx")


def as_ours(x: np.ndarray, loaded) -> np.ndarray:
    """What the file takes -> the 0..1 picture cnnviz feeds (the network undoes it inside)."""
    return (x * float(loaded.model.input_std) + float(loaded.model.input_mean)).astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_the_output_agrees_with_pytorch_and_onnxruntime(name):
    loaded, ref = opened(name), np.load(FIXTURES / f"{name}.npz")
    with torch.no_grad():
        logits = loaded.model(torch.from_numpy(as_ours(ref["__input__"], loaded)))
    ours = torch.log_softmax(logits, 1).numpy() if name == "examples" else logits.numpy()
    np.testing.assert_allclose(ours, ref["__output__"], atol=1e-4)
    np.testing.assert_allclose(ours, ref["__onnxruntime__"], atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_every_module_agrees_with_pytorch(name):
    loaded, ref = opened(name), np.load(FIXTURES / f"{name}.npz")
    for i, x in enumerate(as_ours(ref["__layers_input__"], loaded)):
        trace = dict(loaded.model.trace(x))
        for module, layer in MODULES[name].items():
            np.testing.assert_allclose(trace[layer], ref[module][i], atol=1e-4, err_msg=module)


def test_the_input_convention_and_accuracy_are_pytorchs(mnist_test):
    from cnnviz.core.training.loop import evaluate

    examples = opened("examples")
    assert examples.card["input_scale"] == "mnist"  # as pytorch/examples normalises
    x, y = mnist_test
    accuracy = evaluate(examples.model, x, y)["accuracy"]
    assert abs(accuracy * 10_000 - float(np.load(FIXTURES / "examples.npz")["__accuracy__"])
               * 10_000) <= 2
    assert sum(i.parameters for i in examples.model.layer_infos) == 75_338


def test_a_graph_is_shown_as_a_graph():
    graph = opened("graph")
    assert not graph.model.arch.is_chain
    joins = {i.name: i.inputs for i in graph.model.layer_infos if len(i.inputs) > 1}
    assert joins == {"add1": ("relu1", "conv2"), "concat1": ("sigmoid1", "tanh1")}


def _model_bytes(change) -> bytes:
    import onnx

    model = onnx.load(FIXTURES / "graph.onnx")
    change(model)
    return model.SerializeToString()


def _set_op(model, index: int, op: str) -> None:
    model.graph.node[index].op_type = op


def _external(model) -> None:
    from onnx import TensorProto

    tensor = model.graph.initializer[0]
    tensor.data_location = TensorProto.EXTERNAL
    tensor.ClearField("raw_data")
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../../../../etc/passwd"


@pytest.mark.parametrize("change, words", [
    (lambda m: _set_op(m, 1, "Mish"), "is Mish, which cnnviz does not read yet; it reads Conv"),
    (_external, "kept in a separate file, which cnnviz does not read"),
    (lambda m: m.graph.input.add().CopyFrom(m.graph.input[0]), "2 inputs"),
])
def test_what_cannot_be_read_is_said_in_one_line(change, words):
    with pytest.raises(OnnxFileError, match=words):
        read_onnx(_model_bytes(change))


@pytest.mark.parametrize("damage", [lambda raw: raw[: len(raw) // 2], lambda raw: b"\x08\x07" + bytes(300)])
def test_a_damaged_onnx_file_is_one_message(damage, tmp_path):
    path = tmp_path / "damaged.onnx"
    path.write_bytes(damage((FIXTURES / "examples.onnx").read_bytes()))
    with pytest.raises(WeightsError, match="ONNX"):
        load_weights(path)


def test_the_layer_cards_say_what_a_join_reads():
    from cnnviz.core.networks.layer_cards import describe_layers

    texts = {t.name: t for t in describe_layers(opened("graph").model)}
    assert texts["add1"].reads == ("relu1", "conv2")
    assert texts["conv4"].reads == ("pool1",)  # the second branch starts from pool1
    assert texts["conv3"].reads == ()  # reads the layer before it


def test_a_keras_export_agrees_with_keras():
    """Keras 3's model.export(format="onnx") (through tf2onnx): a channels-last input made
    channels-first by a Reshape, Keras's flatten order by a Transpose, the flatten's shape
    worked out by Shape, Gather, Slice and Concat nodes."""
    keras_dir = FIXTURES.parent / "keras"
    loaded = load_weights(keras_dir / "lecture.onnx")
    ref = np.load(keras_dir / "lecture_onnx.npz")
    x = np.ascontiguousarray(ref["__input__"].transpose(0, 3, 1, 2))  # Keras's (N, H, W, C)
    np.testing.assert_allclose(loaded.model.predict_proba(x), ref["__output__"], atol=1e-4)
    assert sum(i.parameters for i in loaded.model.layer_infos) == 53_578  # count_params()
    assert [i.kind for i in loaded.model.layer_infos] == [
        "conv", "activation", "pool", "conv", "activation", "pool", "flatten", "dense",
        "activation"]
    assert loaded.model.layer_infos[6].spec.order == "hwc"


def test_a_safetensors_file_is_never_taken_for_onnx(tmp_path):
    """A safetensors header length can start with 0x08 like an ONNX file's IR version, and
    its JSON holds ':' bytes: content sniffing must not read it as ONNX."""
    from cnnviz.core.networks.onnx_file import is_onnx
    from cnnviz.core.networks.weights import save_weights

    loaded = load_weights(FIXTURES / "graph.onnx")
    for pad in range(0, 300, 7):  # headers of many lengths, so one starts with 0x08
        card = {**loaded.card, "model_name": "x" * pad}
        path = save_weights(loaded.model, tmp_path / "m.safetensors", card=card)
        raw = path.read_bytes()
        assert not is_onnx(raw, ".safetensors") and not is_onnx(raw, ".onnx")
        assert load_weights(path).model.layer_infos
    for name in ("examples.onnx", "graph.onnx"):
        assert is_onnx((FIXTURES / name).read_bytes())
    assert is_onnx((FIXTURES.parent / "keras" / "lecture.onnx").read_bytes())

"""Keras files read without TensorFlow, checked against Keras itself: the fixtures under
tests/data/keras were saved by Keras 3 (scripts/make_keras_fixtures.py, in its own
environment) with Keras's own outputs beside them, so every number here is the
framework's, not cnnviz's.

Which fixture uses which layer and option:

| Layer / option                          | Fixture  |
|-----------------------------------------|----------|
| InputLayer, Conv2D valid + relu         | lecture  |
| MaxPooling2D, Flatten (channels-last)   | lecture  |
| Dense + softmax (probabilities out)     | lecture  |
| Rescaling 1/255 (the file takes 0..255) | rescaled |
| Conv2D 'same', no bias, 5×3 kernel      | rescaled |
| BatchNormalization (Keras's epsilon)    | rescaled |
| Activation, ReLU layers                 | rescaled |
| AveragePooling2D, Dropout               | rescaled |
| Dense + tanh, Dense logits out          | rescaled |
| 32×32×3 input, Conv2D stride 2, sigmoid | colour   |
| Keras 2's .h5 (input_shape on a layer,  | keras2   |
|   layer/layer/kernel:0 weight names)    |          |
| Normalization first (adapted, 0..1)     | modern   |
| ZeroPadding2D (uneven sides)            | modern   |
| Conv2D 'same' at stride 2 (pads one more| modern   |
|   at the bottom and right), gelu        |          |
| LeakyReLU (its slope), ELU, PReLU       | modern   |
|   (one slope per channel)               |          |
| DepthwiseConv2D (depth_multiplier 2,    | modern   |
|   swish), SeparableConv2D               |          |
| Conv2D dilation 2, groups 4             | modern   |
| SpatialDropout2D, GlobalAveragePooling2D| modern   |
| Functional: Add (a residual block),     | residual |
|   Concatenate (maps and flat vectors),  |          |
|   GlobalMaxPooling2D, Reshape to maps,  |          |
|   leaky_relu as an activation           |          |
| Keras 2 Functional: Add, Concatenate,   | keras2_  |
|   LeakyReLU alpha, PReLU per value,     |  graph   |
|   depthwise + swish, gelu               |          |
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnviz.core.networks.keras_file import KerasFileError, read_keras
from cnnviz.core.networks.models import format_summary
from cnnviz.core.networks.weights import WeightsError, load_weights

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "keras"
NAMES = ["lecture", "rescaled", "colour", "modern", "residual"]
# every file: the Keras 3 models in both forms, and legacy .h5 files as Keras 2 wrote them
FILES = [(n, ext) for n in NAMES for ext in (".keras", ".h5")] + [("keras2", ".h5"),
                                                                  ("keras2_graph", ".h5")]
TAKES_0_255 = {"rescaled"}  # a Rescaling layer inside: the file takes 0..255


@functools.cache
def opened(filename: str):
    """A fixture opened once per test session (reading HDF5 starts a child process); the
    tests only read it."""
    return load_weights(FIXTURES / filename)


def reference(name):
    return np.load(FIXTURES / f"{name}.npz")


def as_ours(x: np.ndarray, name: str) -> np.ndarray:
    """Keras's (N, H, W, C) input, in the model's convention -> cnnviz's (N, C, H, W) 0..1."""
    scale = 255.0 if name in TAKES_0_255 else 1.0
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2) / scale, dtype=np.float32)


@pytest.mark.parametrize("name, ext", FILES)
def test_the_final_output_agrees_with_keras(name, ext):
    loaded = opened(f"{name}{ext}")
    ref = reference(name)
    probs = loaded.model.predict_proba(as_ours(ref["__input__"], name))
    theirs = ref["__output__"]
    if not loaded.model.ends_in_softmax:  # the file gives logits: compare logits
        with torch.no_grad():
            ours = loaded.model(torch.from_numpy(as_ours(ref["__input__"], name))).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-4)
    else:  # the file gives probabilities: never softmax twice
        np.testing.assert_allclose(probs, theirs, atol=1e-4)
    assert (probs.argmax(1) == theirs.argmax(1)).all()


@pytest.mark.parametrize("name, ext", FILES)
def test_every_layer_agrees_with_keras(name, ext):
    loaded = opened(f"{name}{ext}")
    ref = reference(name)
    # the cnnviz layer that ends each Keras layer (a Conv2D with an activation is conv + relu)
    last_of = {}
    for ours, theirs in loaded.card["keras_layers"].items():
        last_of[theirs] = ours
    keras_layers = [k for k in ref.files if not k.startswith("__") and "input" not in k]
    assert set(keras_layers) <= set(last_of)
    compared = 0
    for i, x in enumerate(as_ours(ref["__layers_input__"], name)):
        trace = dict(loaded.model.trace(x))
        for keras_name in keras_layers:
            theirs = ref[keras_name][i]
            theirs = theirs.transpose(2, 0, 1) if theirs.ndim == 3 else theirs
            ours = trace[last_of[keras_name]]  # flat layers in Keras's order, as Keras has them
            np.testing.assert_allclose(ours, theirs, atol=1e-4, err_msg=keras_name)
            compared += 1
    assert compared >= 3 * len(keras_layers)


def test_accuracy_on_the_mnist_test_set_is_keras_own(mnist_test):
    from cnnviz.core.training.loop import evaluate

    x, y = mnist_test
    for name, ext in (("lecture", ".keras"), ("rescaled", ".keras"), ("keras2", ".h5"),
                      ("modern", ".h5"), ("residual", ".keras")):
        loaded = opened(f"{name}{ext}")
        keras_accuracy = float(reference(name)["__accuracy__"])
        ours = evaluate(loaded.model, x, y)
        assert abs(ours["accuracy"] * 10_000 - keras_accuracy * 10_000) <= 2, name


def test_parameter_counts_are_keras_counts():
    # count_params() as Keras printed it when it made the files
    for name, keras_count in (("lecture", 53_578), ("colour", 1_809)):
        loaded = load_weights(FIXTURES / f"{name}.keras")
        assert sum(i.parameters for i in loaded.model.layer_infos) == keras_count
    keras2 = opened("keras2.h5")  # 13,642 with batch norm's 2 × 8 moving
    assert sum(i.parameters for i in keras2.model.layer_infos) + 2 * 8 == 13_642
    # batch norm: Keras counts its moving mean and variance too (2 × 8 non-trainable)
    rescaled = opened("rescaled.keras")
    assert sum(i.parameters for i in rescaled.model.layer_infos) + 2 * 8 == 21_130
    # grouped, depthwise, separable and PReLU weights; Normalization's mean, variance and
    # count are Keras's 3 non-trainable numbers
    modern = opened("modern.keras")
    assert sum(i.parameters for i in modern.model.layer_infos) + 3 == 1_437
    assert "1,437" in format_summary(modern.model.arch)
    residual = opened("residual.h5")
    assert sum(i.parameters for i in residual.model.layer_infos) == 1_388
    graph = opened("keras2_graph.h5")  # PReLU: one slope per value, 28×28×6
    assert sum(i.parameters for i in graph.model.layer_infos) == 4_996


def test_a_graph_keeps_its_wiring_through_a_cnnviz_file(tmp_path):
    from cnnviz.core.networks.weights import save_weights

    residual = opened("residual.keras")
    assert not residual.model.arch.is_chain
    adds = [i for i in residual.model.layer_infos if i.kind == "add"]
    assert len(adds) == 1 and len(adds[0].inputs) == 2
    save_weights(residual.model, tmp_path / "residual.safetensors", card=residual.card)
    again = load_weights(tmp_path / "residual.safetensors")
    assert again.model.arch == residual.model.arch
    x = as_ours(reference("residual")["__input__"], "residual")
    np.testing.assert_allclose(again.model.predict_proba(x), reference("residual")["__output__"],
                               atol=1e-4)


def test_what_the_files_say_about_their_input():
    lecture, rescaled = (opened(f"{n}.keras") for n in ("lecture", "rescaled"))
    colour = opened("colour.h5")
    assert lecture.input_spec.shape == (1, 28, 28) and colour.input_spec.shape == (3, 32, 32)
    assert (lecture.model.arch.input_mean, lecture.model.arch.input_std) == (0.0, 1.0)
    assert rescaled.model.arch.input_std == pytest.approx(1.0)  # 0..255 × 1/255 = cnnviz's 0..1
    assert rescaled.model.layers["bn1"].eps == pytest.approx(1e-3)  # Keras's, not torch's
    assert lecture.model.ends_in_softmax and not rescaled.model.ends_in_softmax
    assert len(colour.classes) == 5


def test_an_opened_keras_model_reads_a_drawn_digit(mnist_test):
    from cnnviz.core.reading.inference import analyze

    x, y = mnist_test
    loaded = opened("lecture.keras")
    drawn = np.kron(x[0].astype(np.float32), np.ones((10, 10), np.float32))  # a 280×280 pad
    result = analyze(loaded.model, drawn, card=loaded.card)
    assert result.prediction == y[0]
    assert [name for name, _ in result.layers][:3] == ["input", "conv1", "relu1"]


def _zip(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


def _lecture_with(change) -> bytes:
    with zipfile.ZipFile(FIXTURES / "lecture.keras") as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    change(config)
    files["config.json"] = json.dumps(config).encode()
    return _zip(files)


def _replace_layer(config, index, class_name):
    config["config"]["layers"][index]["class_name"] = class_name


@pytest.mark.parametrize("raw, words", [
    (lambda: _lecture_with(lambda c: _replace_layer(c, 1, "UpSampling2D")),
     "'conv2d_2' is a UpSampling2D, which cnnviz does not read yet; it reads InputLayer"),
    (lambda: _lecture_with(lambda c: c["config"]["layers"][1]["config"].update(activation="selu")),
     "the activation 'selu' is not one cnnviz shows"),
    (lambda: _zip({"config.json": b"{not json", "model.weights.h5": b""}), "not valid JSON"),
    (lambda: _zip({"config.json": b"{}"}), "no model.weights.h5"),
    (lambda: (FIXTURES / "lecture.keras").read_bytes()[:5000], "not a valid zip"),
    (lambda: b"\x89HDF\r\n\x1a\n" + b"\0" * 100, "HDF5 data is damaged"),
    (lambda: _lecture_with(lambda c: c.update(class_name="Lambda")), "Sequential and Functional"),
])
def test_unreadable_files_get_one_clear_message(tmp_path, raw, words):
    path = tmp_path / "bad.keras"
    path.write_bytes(raw())
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_a_weights_file_of_the_wrong_shape_is_named():
    def widen(c):
        c["config"]["layers"][1]["config"]["filters"] = 65
    with pytest.raises(KerasFileError, match="'conv2d_2': a weight has shape"):
        read_keras(_lecture_with(widen))


def test_an_opened_keras_model_saves_in_cnnviz_format(tmp_path):
    from cnnviz.core.networks.weights import save_weights

    loaded = opened("rescaled.h5")
    again = load_weights(save_weights(loaded.model, tmp_path / "r.safetensors", loaded.card))
    x = as_ours(reference("rescaled")["__input__"][:5], "rescaled")
    np.testing.assert_allclose(again.model.predict_proba(x), loaded.model.predict_proba(x),
                               rtol=1e-6)


def test_summary_says_both_parameter_counts(capsys):
    from cnnviz.cli import main

    assert main(["summary", "--weights", str(FIXTURES / "rescaled.keras")]) == 0
    out = capsys.readouterr().out
    assert "Total parameters: 21,114" in out and "count_params() says 21,130" in out
    assert "no bias" in out  # the first conv has none, as in the file


def test_the_input_contract_is_read_or_worked_out():
    """A Rescaling layer says 0..255; otherwise the convention is worked out on the shipped
    digits: a network whose first convolution expects 0..255 (or MNIST-normalised values)
    is recognised as such, and the lecture's own file stays 0..1."""
    from cnnviz.core.networks.input_scale import INPUT_SCALES, settle, with_input_scale

    lecture = opened("lecture.keras")
    assert lecture.card["input_scale"] == "0-1" and "300 MNIST" in lecture.card["input_scale_source"]
    assert opened("rescaled.h5").card["input_scale"] == "0-255"
    mean, std = INPUT_SCALES["mnist"]
    for scale in ("0-255", "mnist"):
        changed = load_weights(FIXTURES / "lecture.keras")  # changed below: its own copy
        changed.card.pop("input_scale")
        with torch.no_grad():
            conv = changed.model.layers["conv1"]
            if scale == "0-255":  # the same network, trained on raw pixel values
                conv.weight /= 255.0
            else:  # the same network, trained on (x − mean) / std
                conv.bias += mean * conv.weight.sum(dim=(1, 2, 3))
                conv.weight *= std
        settled = settle(changed)
        assert settled.card["input_scale"] == scale
        x = as_ours(reference("lecture")["__input__"][:20], "lecture")
        np.testing.assert_allclose(settled.model.predict_proba(x),
                                   lecture.model.predict_proba(x), atol=1e-4)
    back = with_input_scale(with_input_scale(lecture, "0-255"), "0-1")
    np.testing.assert_allclose(back.model.predict_proba(x), lecture.model.predict_proba(x),
                               rtol=1e-6)


def test_input_scale_on_the_command_line(capsys):
    from cnnviz.cli import main

    assert main(["summary", "--weights", str(FIXTURES / "lecture.h5"), "--input-scale",
                 "mnist"]) == 0
    assert "Input: MNIST-normalised" in capsys.readouterr().out
    assert main(["summary", "--weights", str(FIXTURES / "rescaled.h5"), "--input-scale",
                 "0-1"]) == 1
    assert "Rescaling" in capsys.readouterr().err


def test_the_editor_says_why_it_cannot_edit_a_network_made_elsewhere():
    from cnnviz.core.networks.arch_text import architecture_from_json, editing_problem, format_architecture
    from cnnviz.core.networks.models import ArchitectureError

    residual = opened("residual.keras").model.arch
    assert "not one chain" in editing_problem(residual) and "add1" in editing_problem(residual)
    modern = opened("modern.keras").model.arch
    assert "Normalize" in editing_problem(modern)
    for arch in (residual, modern):
        with pytest.raises(ArchitectureError, match="not be edited here|but not edited here"):
            architecture_from_json(arch.to_json())
        with pytest.raises(ArchitectureError):
            format_architecture(arch)
    assert editing_problem(opened("lecture.keras").model.arch) is not None  # hwc


def test_hdf5_is_read_in_a_child_so_a_crash_is_one_message(monkeypatch):
    """HDF5 is parsed by a C library: a hostile file that crashed it would take the window
    with it, so a child process reads it; its crash (a signal), its hang or its damage
    comes back as one clear line."""
    import subprocess

    from cnnviz.core.networks import hdf5_reader

    raw = (FIXTURES / "keras2.h5").read_bytes()
    contents = hdf5_reader.read_hdf5(raw)
    assert contents.datasets["model_weights/conv2d/conv2d/kernel:0"].shape == (3, 3, 1, 8)
    assert "Conv2D" in contents.attr("", "model_config")

    def crashed(*args, **kwargs):
        return subprocess.CompletedProcess(args, -11, b"", b"")

    monkeypatch.setattr(hdf5_reader.subprocess, "run", crashed)
    with pytest.raises(WeightsError, match="signal 11: the data is damaged"):
        load_weights(FIXTURES / "keras2.h5")

    def hung(*args, **kwargs):
        raise subprocess.TimeoutExpired(args, hdf5_reader.CHILD_SECONDS)

    monkeypatch.setattr(hdf5_reader.subprocess, "run", hung)
    with pytest.raises(WeightsError, match="took more than"):
        load_weights(FIXTURES / "keras2.h5")


@pytest.mark.parametrize("damage", [
    lambda raw: raw[:len(raw) // 2],  # cut short
    lambda raw: raw[:600] + bytes(200) + raw[800:],  # its object headers zeroed
])
def test_damaged_hdf5_gets_one_message(damage, tmp_path):
    path = tmp_path / "damaged.h5"
    path.write_bytes(damage((FIXTURES / "keras2.h5").read_bytes()))
    with pytest.raises(WeightsError, match="damaged|missing|no Keras model"):
        load_weights(path)


def test_a_network_too_heavy_to_run_is_refused_from_its_shapes():
    """Within every size limit, wide padded convolutions can cost minutes per picture: every
    reader's builder counts the multiply-adds from the layer shapes before the network is
    built or run."""
    from cnnviz.core.networks.graph_builder import GraphBuilder
    from cnnviz.core.networks.layers import Conv, Dense, GlobalPool

    builder = GraphBuilder((128, 200, 200), KerasFileError)
    for name in ("a", "b"):
        builder.add(Conv(128, (9, 9), padding=(4, 4)), None, name)  # 5.3e10 each
    builder.add(GlobalPool("max"), None, "pool")
    builder.add(Dense(10), None, "dense")
    with pytest.raises(KerasFileError, match="multiply-adds"):
        builder.network("heavy", "too heavy")

"""Weights files that nest too deep or compute NaN are refused in one line."""

import json
import struct

import numpy as np
import pytest
import torch

from cnnviz.core.networks.models import build_model
from cnnviz.core.networks.weights import WeightsError, load_weights, save_weights


@pytest.fixture
def saved(tmp_path):
    model = build_model("lecture-keras", seed=3)
    path = save_weights(model, tmp_path / "m.safetensors", {"epochs": 2, "seed": 3})
    return model, path


def _forge(path, tmp_path, edit):
    """A copy of a cnnviz weights file whose JSON header was changed by edit(header)."""
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    edit(header)
    return _write(tmp_path / "forged.safetensors", _with_header(json.dumps(header).encode(), raw[8 + n:]))


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- damaged and hostile weight files


def _with_header(header: bytes, body: bytes = b"") -> bytes:
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + body


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_header_is_one_clear_error(tmp_path, depth):
    """json.loads recursed once per level: 100,000 levels were a RecursionError traceback."""
    deep = tmp_path / "deep.safetensors"
    deep.write_bytes(_with_header(b'{"x": ' + b"[" * depth + b"]" * depth + b"}"))
    with pytest.raises(WeightsError, match="nests more than 32 levels"):
        load_weights(deep)


def test_brackets_inside_header_strings_are_not_nesting(saved, tmp_path):
    _, path = saved

    def edit(header):
        header["__metadata__"]["note"] = "[" * 500 + '\\"{' * 100

    loaded = load_weights(_forge(path, tmp_path, edit))
    assert loaded.card == {"epochs": 2, "seed": 3}


def test_deeply_nested_architecture_is_refused_and_card_dropped(saved, tmp_path):
    _, path = saved
    nest = "[" * 50_000 + "]" * 50_000

    def deep_architecture(header):
        header["__metadata__"]["architecture"] = '{"layers": ' + nest + "}"

    with pytest.raises(WeightsError, match="architecture nests more than"):
        load_weights(_forge(path, tmp_path, deep_architecture))

    def deep_card(header):
        header["__metadata__"]["card"] = '{"epochs": ' + nest + "}"

    assert load_weights(_forge(path, tmp_path, deep_card)).card == {}


def _scaled(model, factor):
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if key.endswith("weight"):
                value.mul_(factor)
    return model


def test_weights_that_compute_nan_are_refused(tmp_path):
    """Every weight finite, yet x1e30 overflows float32 a few layers in: predict said
    "0 (nan%)" and exit 0, the app showed NaN maps."""
    model = _scaled(build_model("cnnviz", seed=0), 1e30)
    assert all(torch.isfinite(v).all() for v in model.state_dict().values() if v.is_floating_point())
    with torch.no_grad():  # the reference: plain torch gives non-finite scores
        assert not torch.isfinite(model.eval()(torch.zeros(1, 1, 28, 28))).all()
    path = save_weights(model, tmp_path / "huge.safetensors")
    with pytest.raises(WeightsError, match="NaN or infinite values in layer"):
        load_weights(path)


def test_lecture_model_scaled_up_is_refused(tmp_path):
    path = save_weights(_scaled(build_model("lecture-keras", seed=0), 1e25),
                        tmp_path / "huge.safetensors")
    with pytest.raises(WeightsError, match="NaN or infinite"):
        load_weights(path)


@pytest.mark.parametrize("variance", [-1.0, -1e-9])
def test_negative_batchnorm_variance_is_refused(tmp_path, variance):
    model = build_model("cnnviz", seed=0)
    with torch.no_grad():
        model.layers["bn2"].running_var[3] = variance
    path = save_weights(model, tmp_path / "negvar.safetensors")
    with pytest.raises(WeightsError, match="bn2.running_var holds negative variances"):
        load_weights(path)


def test_a_moderately_scaled_model_still_opens(tmp_path):
    """The probe refuses only non-finite results, not unusual but working weights."""
    path = save_weights(_scaled(build_model("lecture-keras", seed=0), 10.0),
                        tmp_path / "x10.safetensors")
    probs = load_weights(path).model.predict_proba(np.zeros((1, 28, 28), np.float32))
    assert np.isfinite(probs).all()


@pytest.mark.parametrize("command, extra", [("predict", ["IMAGE"]), ("evaluate", [])])
def test_cli_refuses_nan_and_deep_weights_in_one_line(tmp_path, capsys, command, extra):
    from PIL import Image

    from cnnviz.cli import main

    image = tmp_path / "one.png"
    picture = np.zeros((28, 28), np.uint8)
    picture[5:23, 13:15] = 255
    Image.fromarray(picture).save(image)
    extra = [str(image) if e == "IMAGE" else e for e in extra]
    huge = save_weights(_scaled(build_model("cnnviz", seed=0), 1e30), tmp_path / "huge.safetensors")
    deep = tmp_path / "deep.safetensors"
    deep.write_bytes(_with_header(b"[" * 100_000 + b"]" * 100_000))
    for path, words in [(huge, "NaN or infinite"), (deep, "nests more than")]:
        assert main([command, *extra, "--weights", str(path)]) == 1
        captured = capsys.readouterr()
        assert captured.out == ""
        assert words in captured.err and len(captured.err.strip().splitlines()) == 1

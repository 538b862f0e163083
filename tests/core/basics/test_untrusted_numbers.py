"""Numbers a file or a person can write that Python cannot hold as they are: a whole number of
thousands of digits, one past a float's range, Infinity where a count goes, a fraction where
a whole number goes, JSON nested 100,000 deep, tensors of a type a network cannot compute
with. Each is one plain sentence (ArchitectureError, WeightsError), a dropped card field, or
one line among the models folder's problems: never a traceback, never the whole folder."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from cnnviz.core.networks import catalogue
from cnnviz.core.networks.arch_text import architecture_from_json, parse_architecture, resolve_architecture
from cnnviz.core.networks.models import Architecture, ArchitectureError, build_model
from cnnviz.core.networks.weights import FORMAT, WeightsError, load_weights, save_weights
from cnnviz.core.reading.verdict import DEFAULT_RULE, rule_for

HUGE = "9" * 5000  # more digits than Python's int() reads from text (4,300)


def _header_of(path) -> tuple[dict, bytes]:
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def _write_header(path, header_text: str, body: bytes) -> None:
    data = header_text.encode()
    data += b" " * (-len(data) % 8)
    path.write_bytes(struct.pack("<Q", len(data)) + data + body)


def _with_card_text(tmp_path, card_text: str, name: str = "m.safetensors"):
    """A working lecture-keras file whose card is card_text, written as it is."""
    path = save_weights(build_model("lecture-keras", seed=1), tmp_path / name)
    header, body = _header_of(path)
    header["__metadata__"]["card"] = card_text
    _write_header(path, json.dumps(header), body)
    return path


# --------------------------------------------------------------------------- the models folder


def test_one_unreadable_file_leaves_the_other_kept_models_in_the_picker(tmp_path, monkeypatch):
    """Whatever one file raises, it is one line among the problems; the others still come."""
    model = build_model("lecture-keras", seed=1)
    for name in ("first", "broken", "second"):
        catalogue.save_user_model(model, name, {}, tmp_path)
    import cnnviz.core.networks.weights as weights

    real = weights.load_weights

    def load(path):
        if "broken" in str(path):
            raise OverflowError("int too large to convert to float")
        return real(path)

    monkeypatch.setattr(weights, "load_weights", load)
    entries, problems = catalogue.user_entries(tmp_path)
    assert sorted(e.loaded.name for e in entries) == ["first", "second"]
    assert len(problems) == 1 and problems[0].startswith("broken.safetensors: ")


def test_card_numbers_past_a_floats_range_are_dropped(tmp_path, capsys):
    """10**400 is an int to JSON, so the card kept it; float() of it overflowed in the
    picker's label (and hid every kept model) and in the verdict of `cnnviz predict`."""
    big = "1" + "0" * 400
    card = ('{"model_name": "x", "epochs": 2, "test_accuracy": ' + big + ', "verdict": '
            '{"score": "max_logit", "threshold": ' + big + ', "held_out": 5}, '
            '"lr": -' + big + ', "note": [1, ' + big + ']}')
    path = _with_card_text(tmp_path, card, "big.safetensors")
    loaded = load_weights(path)
    assert loaded.card == {}  # 401 digits: more than any number cnnviz writes (20)
    assert rule_for(loaded.card) == DEFAULT_RULE
    entries, problems = catalogue.user_entries(tmp_path)
    assert problems == [] and entries[0].label == "lecture-keras (yours) — MNIST"
    assert "accuracy" not in catalogue.model_tooltip(loaded)

    from PIL import Image

    from cnnviz.cli import main

    picture = np.zeros((28, 28), np.uint8)
    picture[5:23, 13:15] = 255
    Image.fromarray(picture).save(tmp_path / "one.png")
    assert main(["predict", str(tmp_path / "one.png"), "--weights", str(path)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_a_card_drops_each_field_holding_a_number_past_a_floats_range():
    """However a card comes (a file, a Keras file's facts), each such field goes alone."""
    from cnnviz.core.networks.card import read_card

    big = 10**400
    card = {"model_name": "big", "epochs": 2, "test_accuracy": big, "lr": -big,
            "verdict": {"score": "max_logit", "threshold": big}, "note": [1, big],
            "seed": 2**64, "training_seconds": float("inf"), "extra": {"x": [float("nan")]}}
    assert read_card(card, 10, ["mnist"]) == {"model_name": "big", "epochs": 2, "seed": 2**64}


def test_a_card_with_a_number_of_thousands_of_digits_is_dropped(tmp_path):
    path = _with_card_text(tmp_path, '{"model_name": "x", "epochs": ' + HUGE + "}")
    assert load_weights(path).card == {}
    entries, problems = catalogue.user_entries(tmp_path)
    assert problems == [] and len(entries) == 1


# --------------------------------------------------------------------------- weights headers


@pytest.mark.parametrize("where", ["header", "architecture"])
def test_a_number_of_thousands_of_digits_in_a_header_is_one_sentence(tmp_path, where):
    path = save_weights(build_model("lecture-keras", seed=1), tmp_path / "m.safetensors")
    header, body = _header_of(path)
    if where == "header":
        header["extra"] = "__HUGE__"
        text = json.dumps(header).replace('"__HUGE__"', HUGE)
    else:
        arch = header["__metadata__"]["architecture"]
        header["__metadata__"]["architecture"] = arch.replace('"filters": 64', '"filters": ' + HUGE, 1)
        text = json.dumps(header)
    _write_header(path, text, body)
    with pytest.raises(WeightsError, match="5,000 digits"):
        load_weights(path)


def _lecture_tensors() -> dict:
    return {k: v.clone() for k, v in build_model("lecture-keras", seed=1).state_dict().items()}


def _safetensors(tmp_path, tensors: dict):
    arch = build_model("lecture-keras").arch.to_json()
    path = tmp_path / "t.safetensors"
    path.write_bytes(st_save(tensors, metadata={"format": FORMAT, "architecture": arch,
                                                "card": "{}"}))
    return path


@pytest.mark.parametrize("dtype, words", [
    (torch.uint8, "uint8"), (torch.int32, "int32"), (torch.int64, "int64"), (torch.bool, "bool"),
    (torch.float8_e4m3fn, "float8_e4m3fn"), (torch.float8_e5m2, "float8_e5m2"),
])
def test_weights_of_a_type_a_network_cannot_use_are_refused(tmp_path, dtype, words):
    """They were cast to float32 without a word (an integer weight, an 8-bit float)."""
    tensors = _lecture_tensors()
    tensors["layers.conv1.weight"] = (tensors["layers.conv1.weight"] * 4).to(dtype)
    with pytest.raises(WeightsError, match=rf"conv1.weight is stored as {words}"):
        load_weights(_safetensors(tmp_path, tensors))


def test_a_double_that_float32_cannot_hold_is_refused(tmp_path):
    tensors = _lecture_tensors()
    tensors["layers.dense1.bias"] = tensors["layers.dense1.bias"].double()
    tensors["layers.dense1.bias"][3] = 1e300  # finite as a double, infinite as float32
    with pytest.raises(WeightsError, match="dense1.bias holds values too large"):
        load_weights(_safetensors(tmp_path, tensors))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.bfloat16])
def test_other_float_types_of_ordinary_values_open(tmp_path, dtype):
    tensors = {k: v.to(dtype) for k, v in _lecture_tensors().items()}
    loaded = load_weights(_safetensors(tmp_path, tensors))
    want = tensors["layers.conv1.weight"].float()
    assert torch.equal(loaded.model.state_dict()["layers.conv1.weight"], want)


# --------------------------------------------------------------------------- architectures


def _lecture_json(**conv) -> dict:
    data = build_model("lecture-keras").arch.to_dict()
    data["layers"][0].update(conv)
    return data


@pytest.mark.parametrize("text, words", [
    (json.dumps(_lecture_json(filters="__HUGE__")).replace('"__HUGE__"', HUGE), "5,000 digits"),
    (json.dumps(_lecture_json(filters=float("inf"))), "filters must be a whole number"),
    (json.dumps(_lecture_json(filters="__X__")).replace('"__X__"', "1e400"),
     "filters must be a whole number"),
    (json.dumps(_lecture_json(filters=64.5)), "filters must be a whole number, got 64.5"),
    (json.dumps(_lecture_json(kernel=[3.7, 3.2])), "kernel must be a whole number, got 3.7"),
    (json.dumps(_lecture_json(filters="64")), "filters must be a whole number"),
    (json.dumps(_lecture_json(filters=10**30)), "filters must be"),
    (json.dumps({**_lecture_json(), "input_mean": "__X__"}).replace('"__X__"', "1e400"),
     "input_mean must be a finite number"),
    (json.dumps({**_lecture_json(), "input_std": "__X__"}).replace('"__X__"', "1" + "0" * 400),
     "401 digits"),
    (json.dumps({**_lecture_json(), "input_shape": [1, 28.5, 28]}), "whole number"),
    ('{"layers": ' + "[" * 100_000 + "]" * 100_000 + "}", "nests more than 32 levels"),
])
def test_hostile_numbers_in_architecture_json_are_one_sentence(tmp_path, text, words):
    for read in (Architecture.from_json, architecture_from_json):
        with pytest.raises(ArchitectureError, match=words) as info:
            read(text)
        assert len(str(info.value)) < 300
    arch_file = tmp_path / "arch.json"
    arch_file.write_text(text)
    with pytest.raises(ArchitectureError, match=words):
        resolve_architecture(str(arch_file))


@pytest.mark.parametrize("field, value, words", [
    ("input_mean", 10**400, "input_mean must be a finite number"),
    ("input_std", 10**5000, "input_std must be a finite number"),
    ("input_shape", [1, 10**5000, 28], "of 5,001 digits"),
], ids=["mean", "std", "shape"])
def test_hostile_numbers_handed_to_from_dict_are_one_sentence(field, value, words):
    """The training job hands Architecture.from_dict a dict, not JSON text."""
    with pytest.raises(ArchitectureError, match=words) as info:
        Architecture.from_dict({**_lecture_json(), field: value})
    assert len(str(info.value)) < 300


def test_whole_numbers_written_as_floats_still_read():
    data = _lecture_json(filters=64.0, kernel=[3.0, 3])
    assert Architecture.from_dict(data) == build_model("lecture-keras").arch


@pytest.mark.parametrize("text, words", [
    (f"conv {HUGE} 3, relu, flatten, dense 10", "the number of filters has 5,000 digits"),
    (f"conv 8 3x{HUGE}, relu, flatten, dense 10", "the kernel size has 5,000 digits"),
    (f"conv 8 3 stride={HUGE}, relu, flatten, dense 10", "the stride has 5,000 digits"),
    (f"conv 8 3, flatten, dense {HUGE}", "the number of units has 5,000 digits"),
    (f"conv 8 3, maxpool {'9' * 40}, flatten, dense 10", "the pooling size has 40 digits"),
])
def test_hostile_numbers_in_the_text_form_are_one_sentence(text, words):
    with pytest.raises(ArchitectureError, match=words) as info:
        parse_architecture(text)
    assert len(str(info.value)) < 300

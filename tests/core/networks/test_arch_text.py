"""The one-line architecture text both ways, its JSON form, and the editor's layer check:
round trips for every preset and for random valid architectures, shapes and parameter
counts against the torch module really built (forward shapes, numel()), and bad text
answered with one message naming the layer."""

from __future__ import annotations

import json

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnnviz.core.networks.arch_text import (
    architecture_from_json,
    architecture_to_json,
    check_layers,
    format_architecture,
    parse_architecture,
    resolve_architecture,
    total_parameters,
)
from cnnviz.core.networks.models import (
    ARCHITECTURES,
    Activation,
    Architecture,
    ArchitectureError,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    Pool,
    build_model,
)

KERAS_TEXT = "conv 64 3, relu, maxpool 2, conv 64 3, relu, maxpool 2, flatten, dense 10"


def torch_shapes_and_counts(arch: Architecture) -> list[tuple[tuple[int, ...], int]]:
    """Every layer's real output shape (one image) and parameter count, from torch itself."""
    model = build_model(arch, seed=0).eval()
    x = torch.rand(2, *arch.input_shape)
    out = []
    with torch.no_grad():
        for layer in model.layers.values():
            x = layer(x)
            out.append((tuple(x.shape[1:]), sum(p.numel() for p in layer.parameters())))
    return out


def test_the_issue_example_parses_to_the_lecture_keras_layers():
    arch = parse_architecture(KERAS_TEXT)
    keras = ARCHITECTURES["lecture-keras"]
    assert arch.layers == keras.layers[:-1]  # the same but the optional softmax
    assert parse_architecture(KERAS_TEXT + ", softmax").layers == keras.layers
    # "->" separates as well as ",", and case and spacing do not matter
    arrows = KERAS_TEXT.replace(",", " ->").upper().replace("  ", " ")
    assert parse_architecture(arrows).layers == arch.layers
    assert total_parameters(check_layers(arch)) == 53_578  # Keras's model.summary()


def test_options_rows_by_columns_and_defaults():
    arch = parse_architecture("conv 8 4x5 stride=2x1 pad=1x2, avgpool 2, minpool 3 stride=1, "
                              "maxpool 2 stride=1, flatten, dense 10")
    conv, avg, mn, mx = arch.layers[:4]
    assert conv == Conv(8, (4, 5), (2, 1), (1, 2))
    assert avg == Pool("avg", 2, 2)  # the stride defaults to the size
    assert mn == Pool("min", 3, 1) and mx == Pool("max", 2, 1)
    assert format_architecture(arch) == ("conv 8 4x5 stride=2x1 pad=1x2, avgpool 2, minpool 3 "
                                         "stride=1, maxpool 2 stride=1, flatten, dense 10")
    # torch agrees on the rows x columns order: (28 - 4 + 2) / 2 + 1 = 14 rows,
    # (28 - 5 + 4) / 1 + 1 = 28 columns
    assert torch_shapes_and_counts(arch)[0][0] == (8, 14, 28)
    assert check_layers(arch)[0].output_shape == (8, 14, 28)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_every_preset_round_trips_text_architecture_json(name):
    arch = ARCHITECTURES[name]
    text = format_architecture(arch)
    again = parse_architecture(text, name=arch.name, description=arch.description,
                               input_mean=arch.input_mean, input_std=arch.input_std)
    assert again == arch
    assert format_architecture(again) == text
    from_json = architecture_from_json(architecture_to_json(arch))
    assert from_json == arch
    assert Architecture.from_dict(json.loads(json.dumps(arch.to_dict()))) == arch


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_every_preset_check_agrees_with_torch(name):
    arch = ARCHITECTURES[name]
    checks = check_layers(arch)
    assert all(c.ok for c in checks), [c.problem for c in checks]
    real = torch_shapes_and_counts(arch)
    assert [(c.output_shape, c.parameters) for c in checks] == real
    model = build_model(arch)
    assert total_parameters(checks) == sum(p.numel() for p in model.parameters())


# ---------------------------------------------------------------------------------------
# Random architectures


_ACTIVATIONS = ["relu", "leaky_relu", "elu", "tanh", "sigmoid"]


@st.composite
def conv_part(draw):
    kind = draw(st.sampled_from(["conv", "conv", "pool", "act", "bn", "dropout"]))
    if kind == "conv":
        pair = st.tuples(st.integers(1, 5), st.integers(1, 5))
        return Conv(draw(st.integers(1, 12)), draw(pair),
                    draw(st.tuples(st.integers(1, 3), st.integers(1, 3))),
                    draw(st.tuples(st.integers(0, 2), st.integers(0, 2))))
    if kind == "pool":
        size = draw(st.integers(1, 4))
        return Pool(draw(st.sampled_from(["max", "avg", "min"])), size,
                    draw(st.integers(1, 4)))
    if kind == "act":
        return Activation(draw(st.sampled_from(_ACTIVATIONS)))
    if kind == "bn":
        return BatchNorm()
    return Dropout(draw(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.123456789])))


@st.composite
def dense_part(draw):
    kind = draw(st.sampled_from(["dense", "act", "bn", "dropout"]))
    if kind == "dense":
        return Dense(draw(st.integers(1, 64)))
    if kind == "act":
        return Activation(draw(st.sampled_from(_ACTIVATIONS)))
    if kind == "bn":
        return BatchNorm()
    return Dropout(draw(st.floats(0.0, 0.9, allow_nan=False)))


@st.composite
def valid_architectures(draw):
    layers = (draw(st.lists(conv_part(), max_size=7)) + [Flatten()]
              + draw(st.lists(dense_part(), max_size=4)) + [Dense(10)])
    if draw(st.booleans()):
        layers.append(Activation("softmax"))
    arch = Architecture(name="custom", description="", layers=tuple(layers))
    checks = check_layers(arch)
    assume(all(c.ok for c in checks))
    return arch, checks


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.filter_too_much])
@given(valid_architectures())
def test_random_valid_architectures_round_trip_and_agree_with_torch(drawn):
    arch, checks = drawn
    text = format_architecture(arch)
    assert parse_architecture(text).layers == arch.layers
    assert format_architecture(parse_architecture(text)) == text
    assert architecture_from_json(architecture_to_json(arch)) == arch
    real = torch_shapes_and_counts(arch)
    assert [(c.output_shape, c.parameters) for c in checks] == real
    # every shape formula ends in the shape torch really made
    for check, (shape, _) in zip(checks, real):
        assert check.shape_formula.endswith("×".join(map(str, shape))) \
            or "same shape" in check.shape_formula or "numbers in one row" in \
            check.shape_formula or "units" in check.shape_formula


# ---------------------------------------------------------------------------------------
# Bad text and impossible layers


@pytest.mark.parametrize("text, layer, words", [
    ("conv 64 3, relu, dense 10", "layer 3 (dense 10)", "add Flatten before it"),
    ("conv 16 5, maxpool 2, conv 16 5, maxpool 2, conv 16 5, flatten, dense 10",
     "layer 5 (conv 16 5)", "shrunk below the window"),
    ("conv 8 3, flatten, dense 12", "layer 3 (dense 12)", "must give 10"),
    ("conv 8 3, flatten", "layer 2 (flatten)", "must give 10"),
    ("conv 8 3, relu", "layer 2 (relu)", "must give 10"),
    ("conv x 3, flatten, dense 10", "layer 1 (conv x 3)", "number of filters"),
    ("conv 8, flatten, dense 10", "layer 1 (conv 8)", "kernel size"),
    ("conv 8 3 strde=2, flatten, dense 10", "layer 1 (conv 8 3 strde=2)", "unknown option"),
    ("conv 8 3 stride=0, flatten, dense 10", "layer 1 (conv 8 3 stride=0)", "stride"),
    ("conv 8 3, maxpool 2x3, flatten, dense 10", "layer 2 (maxpool 2x3)", "square"),
    ("conv 8 3, softmax, flatten, dense 10", "layer 2 (softmax)", "last layer"),
    ("conv 8 3,, flatten, dense 10", "layer 2 (empty)", "empty"),
    ("conv 8 3, pool 2, flatten, dense 10", "layer 2 (pool 2)", "unknown layer"),
    ("flatten, dropout 1.5, dense 10", "layer 2 (dropout 1.5)", "below 1"),
    ("flatten, dense ten", "layer 2 (dense ten)", "whole number"),
    ("conv 2000 3, flatten, dense 10", "layer 1 (conv 2000 3)", "filters must be"),
    ("flatten, relu 3, dense 10", "layer 2 (relu 3)", "takes no numbers"),
])
def test_bad_text_gives_one_message_naming_the_layer(text, layer, words):
    with pytest.raises(ArchitectureError) as info:
        parse_architecture(text)
    message = str(info.value)
    assert message.startswith(layer + ":"), message
    assert words in message, message
    assert "\n" not in message


@pytest.mark.parametrize("text", ["", "  ", ",", "x" * 20_000, ", ".join(["relu"] * 100)])
def test_no_layers_or_far_too_many_is_one_message(text):
    with pytest.raises(ArchitectureError) as info:
        parse_architecture(text)
    assert "\n" not in str(info.value)


def test_check_layers_marks_the_impossible_layer_and_never_raises():
    arch = Architecture("x", "", (Conv(8, (5, 5)), Pool("max", 2, 2), Conv(8, (5, 5)),
                                  Pool("max", 2, 2), Conv(8, (5, 5)), Dense(10)))
    checks = check_layers(arch)
    assert [c.output_shape for c in checks[:4]] == [(8, 24, 24), (8, 12, 12), (8, 8, 8),
                                                   (8, 4, 4)]
    assert "shrunk below the window" in checks[4].problem
    assert "4×4" in checks[4].problem or "8×4×4" in checks[4].problem
    assert checks[5].output_shape is None and checks[5].problem is None  # unknown after it
    # a dense layer before flatten, said in words
    checks = check_layers(Architecture("x", "", (Conv(4, (3, 3)), Dense(10))))
    assert "add Flatten before it" in checks[1].problem
    # nonsense numbers from an editor field never raise
    odd = Architecture("x", "", (Conv(0, (0, 3)), Pool("max", 99, 0), Dropout(7.0),
                                 Dense(-1), Activation("swish")))
    checks = check_layers(odd)
    assert checks[0].problem and all(c.output_shape is None for c in checks)


def test_check_layers_formulas_are_the_lectures():
    checks = check_layers(ARCHITECTURES["lecture-deep"])
    by_name = {c.name: c for c in checks}
    assert by_name["conv1"].shape_formula.startswith("(W − F + 2P) / S + 1 = (28 − 3 + 2×0)")
    assert "((3×3×1) + 1) × 32 = 320" in by_name["conv1"].param_formula
    assert "(9,216 + 1) × 128 = 1,179,776" in by_name["dense1"].param_formula


def hints_of(text: str) -> list[str]:
    return [h for c in check_layers(parse_architecture(text)) for h in c.hints]


def test_rules_of_thumb_are_hints_where_they_apply():
    good = ("conv 32 3 pad=1, bn, relu, maxpool 2, conv 64 3 pad=1, bn, relu, maxpool 2, "
            "flatten, dense 128, relu, dropout 0.5, dense 10")
    assert hints_of(good) == []
    assert any("small" in h for h in hints_of("conv 8 3, bn, conv 8 9, bn, flatten, dense 10"))
    assert not any("small" in h for h in hints_of("conv 8 7, bn, flatten, dense 10"))  # first conv
    assert any("max pooling with a 2×2" in h
               for h in hints_of("conv 8 3 pad=1, bn, avgpool 2, flatten, dense 10"))
    assert any("stride 1" in h
               for h in hints_of("conv 8 3 stride=3 pad=1, bn, maxpool 2, flatten, dense 10"))
    # a stride-2 conv in a network without pooling replaces the pooling: no stride hint
    assert not any("stride 1" in h for h in hints_of("conv 8 4 stride=2 pad=1, bn, flatten, "
                                                     "dense 10"))
    assert any("batch norm" in h for h in hints_of("conv 8 3, relu, flatten, dense 10"))
    assert any("dropout" in h for h in hints_of("flatten, dense 64, relu, dense 10"))
    assert any("divisible by two" in h  # 11x11 into maxpool 2: a ragged row is dropped
               for h in hints_of(KERAS_TEXT))


def test_resolve_takes_a_preset_a_json_file_or_text(tmp_path):
    assert resolve_architecture("lecture-keras") is ARCHITECTURES["lecture-keras"]
    arch = parse_architecture("conv 4 3, relu, flatten, dense 10", name="mine")
    path = tmp_path / "mine.json"
    path.write_text(architecture_to_json(arch))
    assert resolve_architecture(str(path)) == arch
    assert resolve_architecture(KERAS_TEXT).layers == parse_architecture(KERAS_TEXT).layers
    with pytest.raises(ArchitectureError, match="unknown architecture 'lenet'"):
        resolve_architecture("lenet")
    with pytest.raises(ArchitectureError, match="no such file"):
        resolve_architecture(str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text('{"layers": [{"type": "conv"}]}')
    with pytest.raises(ArchitectureError, match="bad.json: layer 1"):
        resolve_architecture(str(tmp_path / "bad.json"))
    (tmp_path / "eleven.json").write_text(architecture_to_json(
        Architecture("e", "", (Flatten(), Dense(11)))))
    with pytest.raises(ArchitectureError, match="must give 10"):
        resolve_architecture(str(tmp_path / "eleven.json"))


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_every_preset_has_a_description_whose_counts_are_torchs(name):
    import re

    arch = ARCHITECTURES[name]
    assert len(arch.description) > 40
    counted = sum(p.numel() for p in build_model(arch).parameters())
    said = re.search(r"\(([\d,]+) parameters\)", arch.description) or re.search(
        r"needs ([\d,]+) parameters", arch.description)
    assert said, arch.description
    assert int(said.group(1).replace(",", "")) == counted


def test_the_fully_connected_preset_compares_itself_with_the_keras_cnn():
    mlp, cnn = ARCHITECTURES["fully-connected"], ARCHITECTURES["lecture-keras"]
    assert not any(isinstance(s, Conv) for s in mlp.layers)
    ratio = sum(p.numel() for p in build_model(mlp).parameters()) / sum(
        p.numel() for p in build_model(cnn).parameters())
    assert f"{ratio:.1f} times" in mlp.description

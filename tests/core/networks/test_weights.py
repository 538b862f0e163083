"""Weight files: exact round trip, and every kind of bad file refused with a clear
message, executing nothing."""

import json
import os
import pickle
import struct

import numpy as np
import pytest
import torch

from cnnviz.core.networks.models import Architecture, Conv, Dense, Flatten, Network, build_model
from cnnviz.core.networks.weights import SHIPPED, WeightsError, load_shipped, load_weights, save_weights


@pytest.fixture
def saved(tmp_path):
    model = build_model("lecture-keras", seed=3)
    path = save_weights(model, tmp_path / "m.safetensors", {"epochs": 2, "seed": 3})
    return model, path


def test_round_trip_is_exact(saved):
    model, path = saved
    loaded = load_weights(path)
    assert loaded.card == {"epochs": 2, "seed": 3}
    assert loaded.model.arch == model.arch
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.model.state_dict()[key]), key
    x = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(model.predict_proba(x), loaded.model.predict_proba(x))


def test_round_trip_keeps_batchnorm_statistics(tmp_path):
    model = build_model("cnnviz", seed=0)
    model.train()
    model(torch.rand(8, 1, 28, 28))  # moves the running mean/var away from their defaults
    path = save_weights(model, tmp_path / "bn.safetensors")
    loaded = load_weights(path).model
    assert torch.equal(model.layers["bn1"].running_mean, loaded.layers["bn1"].running_mean)
    assert not torch.equal(loaded.layers["bn1"].running_mean, torch.zeros(32))


def test_no_partial_file_left_after_failed_write(tmp_path, monkeypatch):
    model = build_model("lecture-keras")
    target = tmp_path / "w.safetensors"

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        save_weights(model, target)
    assert list(tmp_path.iterdir()) == []


def test_truncated_file(saved, tmp_path):
    _, path = saved
    raw = path.read_bytes()
    bad = tmp_path / "trunc.safetensors"
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(WeightsError, match="damaged or truncated"):
        load_weights(bad)


def test_garbage_and_empty_files(tmp_path):
    for name, data in [("empty", b""), ("text", b"hello, I am not weights at all"),
                       ("zeros", bytes(1000))]:
        p = tmp_path / f"{name}.safetensors"
        p.write_bytes(data)
        with pytest.raises(WeightsError):
            load_weights(p)


def test_an_old_file_stays_when_a_save_fails(saved, tmp_path, monkeypatch):
    model, path = saved
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_weights(model, path, {"epochs": 99})
    assert path.read_bytes() == before  # the complete old file, never half of the new one


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    import subprocess
    import sys

    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    # In a child with a deadline: reading a FIFO that nobody writes would block forever.
    code = ("import sys\nfrom cnnviz.core.networks.weights import WeightsError, load_weights\n"
            "try:\n    load_weights(sys.argv[1])\nexcept WeightsError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(fifo)], capture_output=True, text=True,
                         timeout=120, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.returncode == 0, out.stderr
    assert "not a regular weights file" in out.stdout


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_dev_zero_is_refused_before_reading():
    # /dev/zero never ends: read_bytes() would fill the memory.
    with pytest.raises(WeightsError, match="not a regular weights file"):
        load_weights("/dev/zero")


def test_a_file_over_the_cap_is_refused_before_reading(tmp_path, monkeypatch):
    import cnnviz.core.networks.weights as weights

    big = tmp_path / "big.safetensors"
    big.write_bytes(bytes(2048))
    monkeypatch.setattr(weights, "MAX_WEIGHTS_FILE_BYTES", 1024)
    with pytest.raises(WeightsError, match="at most"):
        load_weights(big)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(WeightsError, match="no such file"):
        load_weights(tmp_path / "nope.safetensors")
    with pytest.raises(WeightsError, match="folder"):
        load_weights(tmp_path)


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_pickle_executes_nothing(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.safetensors"
    evil.write_bytes(pickle.dumps(_Evil(marker)))
    with pytest.raises(WeightsError, match="pickle"):
        load_weights(evil)
    pt = tmp_path / "evil.pt"
    torch.save({"x": _Evil(marker)}, pt)  # a zip-based torch file holding the same payload
    with pytest.raises(WeightsError):
        load_weights(pt)
    assert not marker.exists()


def test_file_for_another_architecture(tmp_path):
    deep = build_model("lecture-deep")
    path = save_weights(deep, tmp_path / "deep.safetensors")
    raw = bytearray(path.read_bytes())
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    # Claim it is the Keras architecture: the tensors no longer fit.
    keras = build_model("lecture-keras").arch.to_json()
    header["__metadata__"]["architecture"] = keras
    new_header = json.dumps(header).encode()
    new_header += b" " * (-len(new_header) % 8)
    forged = tmp_path / "forged.safetensors"
    forged.write_bytes(struct.pack("<Q", len(new_header)) + new_header + bytes(raw[8 + n:]))
    with pytest.raises(WeightsError, match="do not fit the architecture"):
        load_weights(forged)


def _forge(path, tmp_path, edit) -> object:
    """A copy of a cnnviz weights file whose JSON header was changed by edit(header)."""
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    edit(header)
    new_header = json.dumps(header).encode()
    new_header += b" " * (-len(new_header) % 8)
    forged = tmp_path / "forged.safetensors"
    forged.write_bytes(struct.pack("<Q", len(new_header)) + new_header + raw[8 + n:])
    return forged


@pytest.mark.parametrize("edit, words", [
    (lambda h: h.update(__metadata__=["format"]), "not written by cnnviz"),
    (lambda h: h["__metadata__"].update(architecture={"layers": []}), "not all text"),
    (lambda h: h["__metadata__"].update(architecture=7), "not all text"),
    (lambda h: h["__metadata__"].update(card={"epochs": 2}), "not all text"),
])
def test_header_with_wrong_types_is_refused(saved, tmp_path, edit, words):
    _, path = saved
    with pytest.raises(WeightsError, match=words):
        load_weights(_forge(path, tmp_path, edit))


@pytest.mark.parametrize("card", ["not json {", "[1, 2]", json.dumps({"classes": [1, 2]})])
def test_damaged_card_is_dropped_not_fatal(saved, tmp_path, card):
    _, path = saved

    def edit(header):
        header["__metadata__"]["card"] = card

    loaded = load_weights(_forge(path, tmp_path, edit))
    assert loaded.classes == [str(i) for i in range(10)]  # a bad class list falls back too
    np.testing.assert_allclose(loaded.model.predict_proba(np.zeros((1, 28, 28), np.float32)).sum(), 1,
                               rtol=1e-5)


@pytest.mark.parametrize("layers, input_shape, words", [
    ([Conv(4, (3, 3)), Flatten(), Dense(10)], (3, 28, 28), "3x28x28 inputs"),
    ([Conv(4, (3, 3)), Flatten(), Dense(10)], (1, 32, 32), "1x32x32 inputs"),
    ([Conv(4, (3, 3)), Flatten(), Dense(5)], (1, 28, 28), "5 outputs"),
    ([Conv(4, (3, 3)), Flatten(), Dense(12)], (1, 28, 28), "12 outputs"),
])
def test_a_network_of_any_input_and_class_count_opens(tmp_path, layers, input_shape, words):
    """A network that does not take MNIST's 1x28x28 or give ten scores opens with its own
    input spec and class count (the views follow it); only MNIST's own steps decline."""
    from cnnviz.core.networks.network import digit_mismatch

    model = Network(Architecture("odd", "", tuple(layers), input_shape))
    loaded = load_weights(save_weights(model, tmp_path / "odd.safetensors"))
    assert loaded.input_spec.shape == input_shape
    assert len(loaded.classes) == layers[-1].units
    assert digit_mismatch(loaded.input_spec, len(loaded.classes)) is not None


def test_safetensors_without_cnnviz_header(tmp_path):
    from safetensors.torch import save_file

    p = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, p)
    with pytest.raises(WeightsError, match="not written by cnnviz"):
        load_weights(p)


def test_nan_weights_refused(tmp_path):
    model = build_model("lecture-keras")
    with torch.no_grad():
        model.layers["conv1"].weight[0, 0, 0, 0] = float("nan")
    path = save_weights(model, tmp_path / "nan.safetensors")
    with pytest.raises(WeightsError, match="NaN"):
        load_weights(path)


@pytest.mark.parametrize("name", list(SHIPPED))
def test_shipped_files_load(name):
    loaded = load_shipped(name)
    assert loaded.name == name  # what the picker, the status bar and --model all call it
    assert loaded.card["dataset"] in ("mnist", "fashion-mnist")
    assert loaded.card["seed"] == 0 and loaded.card["epochs"] >= 1
    assert len(loaded.classes) == 10


@pytest.mark.parametrize("field, value", [("dataset", ["mnist"]), ("dataset", "imagenet"),
                                          ("model_name", {"x": 1}), ("test_accuracy", "99%"),
                                          ("command", 7)])
def test_odd_card_values_are_dropped(saved, tmp_path, field, value):
    """A card is informative: a value of the wrong kind is dropped when the file is read, so
    nothing that shows the card (labels, the About box, the dataset's preprocessing) can trip
    on it."""
    _, path = saved

    def edit(header):
        header["__metadata__"]["card"] = json.dumps({field: value, "seed": 3})

    loaded = load_weights(_forge(path, tmp_path, edit))
    assert field not in loaded.card and loaded.card["seed"] == 3
    assert loaded.dataset == "mnist" and loaded.name == "lecture-keras"


def test_a_card_keeps_known_fields_of_the_right_type_only():
    """One schema (cnnviz.core.networks.card): a number where text belongs, NaN, True for a count and
    a class list of the wrong length are dropped; unknown fields stay."""
    from cnnviz.core.networks.card import read_card

    card = read_card({"model_name": 7, "test_accuracy": float("nan"), "epochs": True,
                      "seed": 3, "classes": ["a", "b"], "dataset": "mnist", "lr": 0.003,
                      "made_by": "a newer cnnviz"}, outputs=10, datasets={"mnist"})
    assert card == {"seed": 3, "dataset": "mnist", "lr": 0.003, "made_by": "a newer cnnviz"}
    assert read_card(["not", "a", "card"], 10, {"mnist"}) == {}


def test_a_training_card_and_its_epochs():
    from cnnviz.core.networks.card import training_card, with_epochs
    from cnnviz.core.training.loop import EpochResult, TrainConfig

    card = training_card(dataset="mnist", config=TrainConfig(optimizer="sgd", lr=0.01),
                         train_images=100, architecture="tiny")
    assert card["classes"] == [str(i) for i in range(10)] and card["momentum"] == 0.0
    assert "adam_beta1" not in card and "init" not in card
    done = with_epochs(card, [EpochResult(1, 1.0, 0.5, 0.9, 0.6, 2.04),
                              EpochResult(2, 0.8, 0.7, 0.7, 0.8, 1.96)], seconds=4.33)
    assert (done["epochs"], done["test_accuracy"], done["seconds_per_epoch"],
            done["training_seconds"]) == (2, 0.8, [2.0, 2.0], 4.3)


@pytest.mark.parametrize("command, shown", [
    ("cnnviz train --arch fast --out runs/today/a.safetensors",
     "cnnviz train --arch fast --out a.safetensors"),
    ("cnnviz train --init=/home/ana/base.safetensors -o 'my runs/b.safetensors' --data-dir /srv/d",
     "cnnviz train --init=base.safetensors -o b.safetensors --data-dir d"),
    ("cnnviz train --arch 'conv 8 3, relu, flatten, dense 10' --out c.safetensors",
     "cnnviz train --arch 'conv 8 3, relu, flatten, dense 10' --out c.safetensors"),
])
def test_a_cards_command_names_files_not_folders(command, shown):
    from cnnviz.core.networks.card import shareable_command

    assert shareable_command(command) == shown


def test_a_model_trained_on_the_users_set_says_so_not_mnist():
    from dataclasses import replace

    loaded = load_shipped("cnnviz")
    own = replace(loaded, card={**{k: v for k, v in loaded.card.items() if k != "dataset"},
                                "user_set": "shapes"})
    assert own.trained_on == "the set “shapes”"
    both = replace(loaded, card={**loaded.card, "user_set": "our-digits"})
    assert both.trained_on == "MNIST + the set “our-digits”"
    assert loaded.trained_on == "MNIST"

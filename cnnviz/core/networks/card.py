"""The model card: what a weights file says about how its network was made.

One schema (CARD_FIELDS), built in one place for every training run (`training_card`,
then `with_epochs` after each epoch: the command line, every process of a multi-process
run and the training lab), and checked in one place when a file is read (`read_card`).
A card is informative only: a field of the wrong type is dropped, never fatal, and a
damaged card is an empty one. It is written as JSON in the weights file's header
(cnnviz.core.networks.weights.save_weights).
"""

from __future__ import annotations

import math
import platform
import sys
from dataclasses import asdict
from pathlib import PurePath

__all__ = ["CARD_FIELDS", "read_card", "shareable_command", "training_card", "with_epochs"]

_NUMBER = (int, float)
BFLOAT16_FORWARD = "bfloat16 forward pass"  # a card's precision when training used it
# Every field a card may hold, with the types it must have to be kept.
CARD_FIELDS: dict[str, tuple[type, ...]] = {
    "model_name": (str,),  # what the picker, the status bar and --model call it
    "architecture": (str,),  # the preset's name or the layers as text
    "layers": (str,),  # the layers as text (cnnviz.core.networks.arch_text)
    "dataset": (str,),  # "mnist" or "fashion-mnist"
    "classes": (list,),  # one name per output
    "dataset_sha256": (dict,),
    "train_images": (int,),
    "test_images": (int,),
    "batch_size": (int,),
    "optimizer": (str,),
    "lr": _NUMBER,
    "schedule": (str,),
    "momentum": _NUMBER,
    "adam_beta1": _NUMBER,
    "augment": (bool,),
    "precision": (str,),  # "bfloat16 forward pass" where training used it
    "outlier_exposure": _NUMBER,
    "init": (str,),  # the file it was fine-tuned from
    "seed": (int,),
    "device": (str,),
    "processes": (int,),
    "epochs": (int,),
    "test_accuracy": _NUMBER,
    "test_loss": _NUMBER,
    "training_seconds": _NUMBER,
    "seconds_per_epoch": (list,),
    "trained_in": (str,),
    "command": (str,),
    "versions": (dict,),
    "verdict": (dict,),  # cnnviz.core.reading.verdict's stored rule (checked there)
    "made_with": (str,),  # a model made elsewhere: "Keras 3.15.1"
    "input_scale": (str,),  # what such a model takes: cnnviz.core.networks.input_scale.INPUT_SCALES
    "input_scale_source": (str,),  # how that was found
    "keras_layers": (dict,),  # cnnviz layer -> the Keras layer it came from
    "user_set": (str,),  # trained on the user's own set: its folder's name
    "user_set_sha256": (str,),  # that set's manifest, as it was
}


def training_card(*, dataset: str, config, train_images: int, model_name: str | None = None,
                  architecture: str | None = None, layers: str | None = None,
                  device: str | None = None, init: str | None = None, command: str | None = None,
                  trained_in: str | None = None, test_images: int | None = None,
                  processes: int | None = None) -> dict:
    """What a card says about how a network is being trained (config: a TrainConfig); the
    per-epoch figures are added by with_epochs."""
    import torch

    from ... import __version__
    from ..datasets.data import dataset_checksums, get_dataset_info

    settings = asdict(config)
    card = {
        "model_name": model_name,
        "architecture": architecture,
        "layers": layers,
        "dataset": dataset,
        "classes": list(get_dataset_info(dataset).classes),
        "dataset_sha256": dataset_checksums(dataset),
        "train_images": int(train_images),
        "test_images": test_images,
        **{k: settings[k] for k in ("batch_size", "optimizer", "lr", "schedule", "augment",
                                    "outlier_exposure", "seed")},
        "init": init,
        "device": device,
        "processes": processes,
        "trained_in": trained_in,
        "command": shareable_command(command) if command else command,
        "versions": {"cnnviz": __version__, "torch": torch.__version__,
                     "python": platform.python_version()},
    }
    if config.optimizer == "sgd":
        card["momentum"] = config.sgd_momentum
    if config.optimizer == "adam":
        card["adam_beta1"] = config.adam_beta1
    from ..basics.machine import bfloat16_forward

    if bfloat16_forward(getattr(config, "bfloat16", False), device):
        card["precision"] = BFLOAT16_FORWARD
    return {k: v for k, v in card.items() if v is not None}


def with_epochs(card: dict, epochs: list, seconds: float | None = None) -> dict:
    """The card after these epochs (EpochResults or dicts with epoch, test_accuracy,
    test_loss and seconds): the last one's figures, the time of each."""
    def get(e, key):
        return e.get(key) if isinstance(e, dict) else getattr(e, key, None)

    out = dict(card)
    if epochs:
        last = epochs[-1]
        out.update(epochs=int(get(last, "epoch") or len(epochs)),
                   test_accuracy=get(last, "test_accuracy"), test_loss=get(last, "test_loss"),
                   seconds_per_epoch=[round(float(get(e, "seconds") or 0.0), 1) for e in epochs])
    if seconds is not None:
        out["training_seconds"] = round(seconds, 1)
    return {k: v for k, v in out.items() if v is not None}


_MAX_CARD_NESTING = 64  # a card's JSON nests no deeper (the weights header's own limit is less)


def _usable_numbers(value, depth: int = 0) -> bool:
    """Every number in value (at any depth of its lists and dicts) is one every reader can
    use as a float: finite, and an int no larger than a float holds. JSON's 10**400 is an
    int, and float() of it (an accuracy, a verdict threshold) raised OverflowError."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return abs(value) <= sys.float_info.max  # exact: Python compares int and float exactly
    if isinstance(value, float):
        return math.isfinite(value)
    if depth >= _MAX_CARD_NESTING:
        return False
    if isinstance(value, (list, tuple)):
        return all(_usable_numbers(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_usable_numbers(v, depth + 1) for v in value.values())
    return True


def read_card(card, outputs: int, datasets) -> dict:
    """A card as read from a file, every field checked: unknown fields are kept as they
    are (a newer cnnviz may write more), known ones of the wrong type are dropped, and so is
    any field holding a number that is not finite or past a float's range; class
    names are kept only when there is one (text) per output, the dataset only when cnnviz
    knows it."""
    if not isinstance(card, dict):
        return {}
    out = {}
    for key, value in card.items():
        kinds = CARD_FIELDS.get(key)
        if kinds is not None:
            if isinstance(value, bool) and bool not in kinds:
                continue  # True is an int to Python, not a number to a card
            if not isinstance(value, kinds):
                continue
        if not _usable_numbers(value):
            continue  # a field with an unusable number anywhere in it, known or not
        out[key] = value
    classes = out.get("classes")
    if classes is not None and not (len(classes) == outputs
                                    and all(isinstance(c, str) for c in classes)):
        out.pop("classes")  # the network's classes fall back to "0", "1", ...
    if "dataset" in out and out["dataset"] not in datasets:
        out.pop("dataset")  # LoadedModel.dataset falls back to "mnist"
    return out


# The options of `cnnviz train` whose value is a path on the computer that trained.
_PATH_OPTIONS = ("--out", "-o", "--init", "--data-dir")


def shareable_command(command: str) -> str:
    """A training command as a card shows it: the files it names by their names only
    (`--out mine.safetensors`), never the folders of the computer that trained (a shared
    model would show a stranger's temporary or home folder)."""
    import shlex

    try:
        words = shlex.split(command)
    except ValueError:  # an unbalanced quote: the words as they are
        words = command.split()
    out, previous = [], ""
    for word in words:
        option, eq, value = word.partition("=")
        if previous in _PATH_OPTIONS:
            word = PurePath(word).name or word
        elif eq and option in _PATH_OPTIONS:
            word = f"{option}={PurePath(value).name or value}"
        out.append(word)
        previous = word
    return shlex.join(out)

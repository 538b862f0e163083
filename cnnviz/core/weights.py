"""Weight files: safetensors with the architecture and a model card in its header.

safetensors holds raw tensors and a JSON header, nothing executable, so opening a file
can never run code (a pickle-based .pt file can). Files are written atomically: a crash
or Ctrl-C mid-write never leaves a half file under the final name.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .card import read_card
from .data import DATASETS
from .files import FileProblem, read_regular_file, write_atomically
from .limits import MAX_HEADER_DEPTH, MAX_WEIGHTS_FILE_BYTES
from .models import Architecture, ArchitectureError, Network, summarize

FORMAT = "cnnviz-weights/1"
INPUT_SHAPE = (1, 28, 28)  # what MNIST-trained models take ...
CLASSES = 10  # ... and give (other networks open too: their own input spec and classes)

# The shipped models: name -> (file in cnnviz/weights/, what it is)
SHIPPED = {
    "cnnviz": ("cnnviz-mnist.safetensors", "cnnviz default model, MNIST"),
    "lecture-keras": ("lecture-keras-mnist.safetensors", "the lecture's Keras model, MNIST"),
    "lecture-deep": ("lecture-deep-mnist.safetensors", "the lecture's 4-layer deep CNN, MNIST"),
    "cnnviz-fashion": ("cnnviz-fashion-mnist.safetensors", "cnnviz default model, Fashion-MNIST"),
}


class WeightsError(ValueError):
    """A weights file that cannot be used; the message says why in plain words."""


@dataclass
class LoadedModel:
    model: Network
    card: dict  # training facts: dataset, checksums, epochs, seed, accuracy, versions, ...
    path: Path | None
    shipped_as: str | None = None  # the name load_shipped knows it by ("cnnviz-fashion")

    @property
    def name(self) -> str:
        """How to call the model: its shipped name (what --model takes), else the name its
        card gives, else its architecture's."""
        return self.shipped_as or self.card.get("model_name") or self.model.arch.name

    @property
    def dataset(self) -> str:
        """What the model was trained on: "mnist" (also when the card does not say) or
        "fashion-mnist"; it decides how pictures are preprocessed for it."""
        dataset = self.card.get("dataset")
        return dataset if isinstance(dataset, str) and dataset in DATASETS else "mnist"

    @property
    def trained_on(self) -> str:
        """The training set's name as written ("MNIST", "Fashion-MNIST"); "" for a network
        that is not MNIST-sized and whose card does not say."""
        from .data import DATASET_NAMES

        made_elsewhere = "made_with" in self.card  # (a Keras file does not say its data)
        if "dataset" not in self.card and (made_elsewhere or not self.model.input_spec.is_digit_sized):
            return ""
        return DATASET_NAMES[self.dataset]

    @property
    def classes(self) -> list[str]:
        """The names of the network's outputs (the network's own, from its card)."""
        return list(self.model.class_names)

    @property
    def input_spec(self):
        """What the network takes (cnnviz.core.network.InputSpec)."""
        return self.model.input_spec


def save_weights(model: Network, path: str | os.PathLike, card: dict | None = None) -> Path:
    path = Path(path)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "architecture": model.arch.to_json(),
                "card": json.dumps(card or {})}
    data = st_save(tensors, metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(path, lambda fh: fh.write(data))  # FileProblem (an OSError)


def _read_header(raw: bytes) -> dict:
    """The safetensors JSON header, read by hand so bad files get our own message."""
    if len(raw) < 8:
        raise WeightsError("the file is too short to be a weights file")
    n = int.from_bytes(raw[:8], "little")
    if n <= 0 or n > min(len(raw) - 8, 100_000_000):
        if raw[:2] == b"\x80\x02" or raw[:1] == b"\x80" or raw[:2] == b"PK":
            raise WeightsError("this is a pickle-based PyTorch file (.pt/.pth); cnnviz opens "
                               ".safetensors files, which cannot run code when opened, and "
                               "Keras .keras and .h5 files")
        raise WeightsError("not a safetensors weights file (its header is missing or damaged)")
    header = _json_within_depth(raw[8:8 + n], "the file's header")
    if header is None:
        raise WeightsError("the file's header is damaged (not valid JSON)")
    if not isinstance(header, dict):
        raise WeightsError("the file's header is damaged")
    return header


# A JSON string, escapes included: its brackets are text, not nesting.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def _json_depth(text: bytes) -> int:
    """How deeply text's arrays and objects nest, counted without parsing (a parser would
    recurse once per level: "[[[[..." 100,000 deep is a RecursionError)."""
    data = np.frombuffer(_JSON_STRING.sub(b'""', text), np.uint8)
    if data.size == 0:
        return 0
    step = np.isin(data, (ord("["), ord("{"))).astype(np.int64)
    step -= np.isin(data, (ord("]"), ord("}")))
    return int(np.cumsum(step).max())


def _json_within_depth(text: bytes | str, what: str):
    """json.loads(text), None if it is not JSON; WeightsError if it nests deeper than
    MAX_HEADER_DEPTH (a cnnviz header nests 3 levels, an architecture 4)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if _json_depth(raw) > MAX_HEADER_DEPTH:
        raise WeightsError(f"{what} nests more than {MAX_HEADER_DEPTH} levels deep; a cnnviz "
                           "weights file never does (damaged or made to crash readers)")
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None


def _probe_pictures(shape=INPUT_SHAPE) -> torch.Tensor:
    """Two fixed test pictures of the network's (C, H, W): a blank page and a vertical
    stroke like a "1" (for 28x28: rows 5..22, columns 13..14)."""
    c, h, w = shape
    pictures = torch.zeros(2, c, h, w)
    top, bottom = round(h * 5 / 28), max(round(h * 23 / 28), round(h * 5 / 28) + 1)
    left = round(w * 13 / 28)
    pictures[1, :, top:bottom, left:left + max(1, round(w * 2 / 28))] = 1.0
    return pictures


@torch.no_grad()
def check_computes_numbers(model: Network) -> None:
    """Run the model on the probe pictures; WeightsError naming the first layer whose output
    is NaN or infinite. Finite weights can still compute NaN (weights x1e30 overflow, a
    negative batch-norm variance), and predict and the app would show "0 (nan%)"."""
    model.eval()
    h = (_probe_pictures(model.input_spec.shape) - model.input_mean) / model.input_std
    if not torch.isfinite(h).all():
        raise WeightsError("the architecture's input scaling (mean, std) gives NaN or infinite "
                           "values on a test picture")
    for name, out in model.layer_outputs(h):
        if not torch.isfinite(out).all():
            raise WeightsError(f"the network computes NaN or infinite values in layer {name} on "
                               "a test picture (a blank page, a simple stroke): its weights "
                               "are unusable (far too large, or otherwise damaged)")


def load_weights_bytes(raw: bytes, path: Path | None = None) -> LoadedModel:
    header = _read_header(raw)
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "architecture" not in meta:
        raise WeightsError("this safetensors file was not written by cnnviz "
                           "(it has no cnnviz architecture description)")
    if not all(isinstance(v, str) for v in meta.values()):  # safetensors allows text only
        raise WeightsError("the file's header is damaged (its metadata is not all text)")
    _json_within_depth(meta["architecture"], "the file's architecture")
    try:
        arch = Architecture.from_json(meta["architecture"])
    except ArchitectureError as exc:
        raise WeightsError(f"the file's architecture is invalid: {exc}") from None
    # The card is informative only: a damaged one is dropped, never fatal.
    try:
        card = _json_within_depth(meta.get("card") or "{}", "the file's model card")
    except WeightsError:
        card = None
    card = read_card(card, int(np.prod(summarize(arch)[-1].output_shape)), DATASETS)
    try:
        tensors = st_load(raw)
    except (SafetensorError, ValueError, RuntimeError, OSError) as exc:
        raise WeightsError(f"the file's tensor data is damaged or truncated ({exc})") from None
    model = Network(arch, class_names=card.get("classes"), card=card)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise WeightsError(f"the tensors do not fit the architecture {arch.name!r} "
                           f"(missing: {missing[:3]}, unexpected: {extra[:3]})")
    for key, value in tensors.items():
        want = expected[key]
        if tuple(value.shape) != tuple(want.shape):
            raise WeightsError(f"tensor {key} has shape {tuple(value.shape)}, the architecture "
                               f"needs {tuple(want.shape)}")
        if value.is_floating_point() and not torch.isfinite(value).all():
            raise WeightsError(f"tensor {key} holds NaN or infinite values")
        if key.endswith("running_var") and bool((value < 0).any()):
            raise WeightsError(f"tensor {key} holds negative variances (a batch-norm "
                               "variance is never below 0)")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
    check_computes_numbers(model)
    return LoadedModel(model, card, path)


def load_weights(path: str | os.PathLike) -> LoadedModel:
    """Open a cnnviz .safetensors file, or a Keras .keras or .h5 file (by its content: see
    cnnviz.core.keras_file); raise WeightsError with a plain reason if unusable.
    A FIFO, a device (/dev/zero), a folder or a file over MAX_WEIGHTS_FILE_BYTES is refused
    before anything is read."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise WeightsError(f"no such file: {path}")
    if path.is_dir():
        raise WeightsError(f"{path} is a folder, not a weights file")
    try:
        raw = read_regular_file(path, MAX_WEIGHTS_FILE_BYTES, "weights file")
    except FileProblem as exc:
        raise WeightsError(str(exc)) from None
    from .keras_file import KerasFileError, is_hdf5, is_keras_zip, read_keras

    keras_suffix = path.suffix.lower() in (".keras", ".h5", ".hdf5")
    if is_keras_zip(raw) or is_hdf5(raw) or (keras_suffix and raw[:2] == b"PK"):
        try:
            loaded = read_keras(raw, path)
        except KerasFileError as exc:
            raise WeightsError(f"this Keras file cannot be opened: {exc}") from None
        check_computes_numbers(loaded.model)
        return loaded
    return load_weights_bytes(raw, path)


def shipped_weights_path(name: str) -> Path:
    if name not in SHIPPED:
        raise WeightsError(f"no shipped model named {name!r} (shipped: {', '.join(SHIPPED)})")
    ref = resources.files("cnnviz") / "weights" / SHIPPED[name][0]
    return Path(str(ref))


def load_shipped(name: str = "cnnviz") -> LoadedModel:
    path = shipped_weights_path(name)
    if not path.is_file():
        raise WeightsError(f"the shipped model {name!r} is missing from the installation "
                           f"({path})")
    loaded = load_weights(path)
    loaded.shipped_as = name
    return loaded

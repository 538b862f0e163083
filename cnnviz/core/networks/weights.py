"""Weight files: safetensors with the architecture and a model card in its header.

safetensors holds raw tensors and a JSON header, nothing executable, so opening a file
can never run code (a pickle-based .pt file can). Files are written atomically: a crash
or Ctrl-C mid-write never leaves a half file under the final name.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ..basics.files import FileProblem, read_regular_file, write_atomically
from ..basics.json_input import JsonProblem, read_json
from ..basics.limits import MAX_HEADER_BYTES, MAX_MULTIPLY_ADDS, MAX_WEIGHTS_FILE_BYTES, multiply_adds
from ..datasets.data import DATASETS
from .card import read_card
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
        from ..datasets.data import DATASET_NAMES

        user_set = self.card.get("user_set")
        if isinstance(user_set, str) and user_set:  # trained on the user's own set
            builtin = self.card.get("dataset")
            plus = f"{DATASET_NAMES[builtin]} + " if builtin in DATASET_NAMES else ""
            return f"{plus}the set “{user_set}”"
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
        """What the network takes (cnnviz.core.networks.network.InputSpec)."""
        return self.model.input_spec


def save_weights(model: Network, path: str | os.PathLike, card: dict | None = None) -> Path:
    path = Path(path)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": FORMAT, "architecture": model.arch.to_json(),
                "card": json.dumps(card or {})}
    data = st_save(tensors, metadata=metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(path, lambda fh: fh.write(data))  # FileProblem (an OSError)


def _header_size_problem(n: int) -> str | None:
    """Why a header of n bytes is not read (more than a cnnviz header ever needs), or None."""
    if n > MAX_HEADER_BYTES:
        return (f"the file's header is {n:,} bytes; a cnnviz weights header is at most "
                f"{MAX_HEADER_BYTES:,} (the shipped models' are under 7,000), so it is "
                "damaged or not a cnnviz file")
    return None


def _read_header(raw: bytes) -> dict:
    """The safetensors JSON header, read by hand so bad files get our own message."""
    if len(raw) < 8:
        raise WeightsError("the file is too short to be a weights file")
    n = int.from_bytes(raw[:8], "little")
    if n <= 0 or n > min(len(raw) - 8, 100_000_000):
        if raw[:2] == b"\x80\x02" or raw[:1] == b"\x80" or raw[:2] == b"PK":
            raise WeightsError("this is a pickle-based PyTorch file (torch.save, .pt/.pth), "
                               "which cnnviz never opens: unpickling can run code. Save the "
                               "network with torch.jit.save, torch.export.save (.pt2) or "
                               "torch.onnx.export (.onnx), or call cnnviz.show(model) on it "
                               "in Python; cnnviz opens those, cnnviz's .safetensors and "
                               "Keras's .keras and .h5 files")
        raise WeightsError("not a safetensors weights file (its header is missing or damaged)")
    too_large = _header_size_problem(n)
    if too_large:  # before parsing: Python's objects for 99 MB of "{}," take 2.8 GB
        raise WeightsError(too_large)
    header = _read_json(raw[8:8 + n], "the file's header")
    if not isinstance(header, dict):
        raise WeightsError("the file's header is damaged")
    return header


def _read_json(text: bytes | str, what: str):
    """cnnviz.core.basics.json_input.read_json, its problem said as a WeightsError."""
    try:
        return read_json(text, what)
    except JsonProblem as exc:
        raise WeightsError(str(exc)) from None


def _probe_pictures(shape=INPUT_SHAPE) -> torch.Tensor:
    """Two fixed test pictures of the network's (C, H, W): a blank page and a vertical
    stroke like a "1" (for 28x28: rows 5..22, columns 13..14)."""
    c, h, w = shape
    pictures = torch.zeros(2, c, h, w)
    top, bottom = round(h * 5 / 28), max(round(h * 23 / 28), round(h * 5 / 28) + 1)
    left = round(w * 13 / 28)
    pictures[1, :, top:bottom, left:left + max(1, round(w * 2 / 28))] = 1.0
    return pictures


def check_multiply_adds(layer_infos) -> None:
    """WeightsError when one picture through the network needs more than
    MAX_MULTIPLY_ADDS multiply-adds (cnnviz.core.basics.limits.multiply_adds, from the layer
    shapes: nothing is run). Within every other limit, a 10 MB file of wide padded
    convolutions took four minutes to open and two for every picture."""
    work = multiply_adds(layer_infos)
    if work > MAX_MULTIPLY_ADDS:
        raise WeightsError(f"one picture through this network takes {work:,} multiply-adds "
                           f"({work:.1e}); cnnviz runs networks of up to {MAX_MULTIPLY_ADDS:,} "
                           f"({MAX_MULTIPLY_ADDS:.0e}: ResNet-18 on a 224×224 picture needs "
                           "1.8e9), or every picture would take minutes")


@torch.no_grad()
def check_computes_numbers(model: Network) -> None:
    """Run the model on the probe pictures; WeightsError naming the first layer whose output
    is NaN or infinite. Finite weights can still compute NaN (weights x1e30 overflow, a
    negative batch-norm variance), and predict and the app would show "0 (nan%)"."""
    check_multiply_adds(model.layer_infos)  # before running anything
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


# The types a tensor may be stored as: the network's weights and statistics are float32,
# read from any of these floats; a batch norm's count of batches is a whole number.
_FLOAT_TYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_WHOLE_TYPES = (torch.int8, torch.int16, torch.int32, torch.int64)


def _type_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _as_the_network_keeps_it(key: str, value: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """value in the network's own dtype, or WeightsError: stored as a type that does not hold
    such numbers (an integer or unsigned type, bool, an 8-bit float were cast without a
    word), NaN or infinite, too large for float32 (a float64 1e300 became infinite), or a
    negative batch-norm variance."""
    kinds = _FLOAT_TYPES if dtype.is_floating_point else _WHOLE_TYPES
    if value.dtype not in kinds:
        what = "numbers with a fraction" if dtype.is_floating_point else "a whole number"
        raise WeightsError(f"tensor {key} is stored as {_type_name(value.dtype)}; it holds "
                           f"{what}, read from {', '.join(_type_name(k) for k in kinds)}")
    if value.is_floating_point() and not torch.isfinite(value).all():
        raise WeightsError(f"tensor {key} holds NaN or infinite values")
    converted = value.to(dtype)
    if converted.is_floating_point() and not torch.isfinite(converted).all():
        raise WeightsError(f"tensor {key} holds values too large for {_type_name(dtype)} "
                           f"(at most {torch.finfo(dtype).max:.1e}), the type the network "
                           "computes in")
    if key.endswith("running_var") and bool((converted < 0).any()):
        raise WeightsError(f"tensor {key} holds negative variances (a batch-norm "
                           "variance is never below 0)")
    return converted


def load_weights_bytes(raw: bytes, path: Path | None = None) -> LoadedModel:
    header = _read_header(raw)
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "architecture" not in meta:
        raise WeightsError("this safetensors file was not written by cnnviz "
                           "(it has no cnnviz architecture description)")
    if not all(isinstance(v, str) for v in meta.values()):  # safetensors allows text only
        raise WeightsError("the file's header is damaged (its metadata is not all text)")
    try:  # JSON nested too deep or with a number of thousands of digits is refused there
        arch = Architecture.from_json(meta["architecture"])
    except ArchitectureError as exc:
        raise WeightsError(f"the file's architecture is invalid: {exc}") from None
    infos = summarize(arch)
    check_multiply_adds(infos)  # before a tensor is read or anything runs
    # The card is informative only: a damaged one is dropped, never fatal.
    try:
        card = read_json(meta.get("card") or "{}", "the file's model card")
    except JsonProblem:
        card = None
    card = read_card(card, int(np.prod(infos[-1].output_shape)), DATASETS)
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
    state = {}
    for key, value in tensors.items():
        want = expected[key]
        if tuple(value.shape) != tuple(want.shape):
            raise WeightsError(f"tensor {key} has shape {tuple(value.shape)}, the architecture "
                               f"needs {tuple(want.shape)}")
        state[key] = _as_the_network_keeps_it(key, value, want.dtype)
    model.load_state_dict(state)
    check_computes_numbers(model)
    return LoadedModel(model, card, path)


def _header_length(path: Path) -> int:
    """The header length a safetensors file's first 8 bytes give, when path is a regular
    file holding that many bytes after them; else 0 (a Keras file, a damaged one, a FIFO or
    a device: those are judged once read, or refused by read_regular_file)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return 0
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return 0
    n = int.from_bytes(head, "little") if len(head) == 8 else 0
    return n if n <= info.st_size - 8 else 0


def _other_formats():  # (built when needed: the readers import torch and onnx late)
    """(what it is called, is_it(raw, suffix), read(raw, path), its reader's error) for each
    format made elsewhere, in the order their contents are told apart."""
    from .keras_file import KerasFileError, is_hdf5, is_keras_zip, read_keras
    from .onnx_file import OnnxFileError, is_onnx, read_onnx
    from .torch_graph import TorchGraphError, is_pt2, is_torchscript, read_pt2, read_torchscript

    def is_keras(raw, suffix):
        return is_keras_zip(raw) or is_hdf5(raw) or (suffix in (".keras", ".h5", ".hdf5")
                                                     and raw[:2] == b"PK")

    return (("Keras", is_keras, read_keras, KerasFileError),
            ("torch.export", lambda raw, _s: is_pt2(raw), read_pt2, TorchGraphError),
            ("TorchScript", lambda raw, _s: is_torchscript(raw), read_torchscript,
             TorchGraphError),
            ("ONNX", is_onnx, read_onnx, OnnxFileError))


def load_weights(path: str | os.PathLike) -> LoadedModel:
    """Open a cnnviz .safetensors file, or a Keras .keras or .h5 file (by its content: see
    cnnviz.core.networks.keras_file); raise WeightsError with a plain reason if unusable.
    A FIFO, a device (/dev/zero), a folder or a file over MAX_WEIGHTS_FILE_BYTES is refused
    before anything is read, a header over MAX_HEADER_BYTES from the file's first 8 bytes,
    and a network of more than MAX_MULTIPLY_ADDS per picture before its tensors are read
    (check_multiply_adds)."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise WeightsError(f"no such file: {path}")
    if path.is_dir():
        raise WeightsError(f"{path} is a folder, not a weights file")
    too_large = _header_size_problem(_header_length(path))
    if too_large:  # said before the rest of the file is read
        raise WeightsError(too_large)
    try:
        raw = read_regular_file(path, MAX_WEIGHTS_FILE_BYTES, "weights file")
    except FileProblem as exc:
        raise WeightsError(str(exc)) from None
    for kind, is_kind, read, refusal in _other_formats():
        if is_kind(raw, path.suffix.lower()):
            try:
                loaded = read(raw, path)
            except refusal as exc:
                raise WeightsError(f"this {kind} file cannot be opened: {exc}") from None
            loaded.path = path
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

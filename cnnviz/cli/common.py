"""What the commands share: the options that name a model or a data folder, opening a
model, reading a dataset, and the one-line errors every command gives."""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from pathlib import Path


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder holding mnist/ and fashion-mnist/ (default: $CNNVIZ_DATA_DIR, "
                        "then the per-user cache folder)")


def add_model_choice(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--model", default=None, metavar="NAME",
                   help="a shipped model: cnnviz (default), lecture-keras, lecture-deep, "
                        "cnnviz-fashion")
    g.add_argument("--weights", metavar="FILE", help="a model file: a .safetensors file written "
                   "by cnnviz, a Keras .keras or .h5 file, an ONNX .onnx file, a torch.export .pt2 or "
                   "TorchScript .pt file")
    add_input_scale(p)


def add_input_scale(p: argparse.ArgumentParser) -> None:
    """The options that say how to read a model made elsewhere: its input values and the
    names of its outputs."""
    p.add_argument("--input-scale", choices=["0-1", "0-255", "mnist"], default=None,
                   help="what a model made elsewhere takes: 0..1 (x / 255, as the lecture), "
                        "0..255, or MNIST-normalised; default: read from the file or worked "
                        "out on MNIST test digits")
    p.add_argument("--labels", metavar="FILE", default=None,
                   help="a text file naming the model's outputs, one name per line in output "
                        "order (a labels.txt from Teachable Machine or Keras)")


ARCH_HELP = ("a preset (cnnviz, lecture-keras, lecture-deep, fast, all-conv, fully-connected), "
             "a .json file (the layout of a weights file's header), a .py file of Keras "
             "model code (read, never run), or the layers as text, "
             "e.g. 'conv 64 3, relu, maxpool 2, flatten, dense 10'")


def open_model(args):
    from ..core.networks.input_scale import fixed_by_file, with_input_scale
    from ..core.networks.weights import WeightsError, load_shipped, load_weights

    try:
        if getattr(args, "weights", None):
            loaded = load_weights(args.weights)
        else:
            loaded = load_shipped(getattr(args, "model", None) or "cnnviz")
    except WeightsError as exc:
        raise CliError(str(exc)) from None
    scale = getattr(args, "input_scale", None)
    if scale and scale != loaded.card.get("input_scale"):
        if fixed_by_file(loaded):
            raise CliError("--input-scale is for models made elsewhere that do not say what "
                           "they take; this one does (cnnviz's own, or a Rescaling layer)")
        loaded = with_input_scale(loaded, scale)
    labels = getattr(args, "labels", None)
    if labels:
        from ..core.networks.class_names import LabelsError, read_labels, with_class_names

        try:
            loaded = with_class_names(loaded, read_labels(labels, len(loaded.classes)),
                                      Path(labels).name)
        except LabelsError as exc:
            raise CliError(f"--labels {labels}: {exc}") from None
    attach_cached_verdict(loaded)
    return loaded


def attach_cached_verdict(loaded) -> None:
    """A digit model made elsewhere gets the unsure verdict the app calibrated for it
    (cached by file), else the default rule (the app calibrates when it opens one)."""
    from ..core.reading import opened_verdict

    if opened_verdict.needs_calibration(loaded):
        verdict = opened_verdict.cached(loaded)
        if verdict is not None:
            loaded.card["verdict"] = verdict


def load_data(dataset, split, data_dir):
    from ..core.datasets.data import DataError, load_split

    try:
        return load_split(dataset, split, data_dir)
    except DataError as exc:
        raise CliError(str(exc)) from None


DATASET_HELP = ("mnist, fashion-mnist, a folder of your own pictures (a cnnviz set, or one "
                "subfolder of pictures per class), or mnist+FOLDER (both together)")


def dataset_choice(text: str):
    """--dataset as cnnviz.core.training.user_training reads it; a one-line CliError if not."""
    from ..core.training.user_set import UserSetError
    from ..core.training.user_training import parse_dataset

    try:
        return parse_dataset(text)
    except UserSetError as exc:
        raise CliError(str(exc)) from None


def raise_if_out_of_memory(exc: BaseException, hint: str) -> None:
    """An allocation that failed (numpy's MemoryError, torch's "not enough memory"): one
    line with the hint (what to change). Any other error: nothing (the caller raises it)."""
    from ..core.networks.memory import out_of_memory

    what = out_of_memory(exc)
    if what is not None:
        raise CliError(f"not enough memory ({what}); {hint}") from None


def strict_json(value) -> str:
    """JSON without NaN or Infinity (which are not JSON): a non-finite number is refused."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        raise CliError("the result holds a number that is not finite (NaN or infinity), "
                       "which JSON cannot carry; the model's weights are probably broken") from None


def writing_output_failed(exc: OSError) -> bool:
    """An error from writing standard output (> /dev/full, a disk that filled up): no file
    name (files are opened by name; their errors carry it or are said as CliError) and an
    error a write gives."""
    return getattr(exc, "filename", None) is None and exc.errno in (
        errno.ENOSPC, errno.EIO, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC))


def silence_stdout() -> None:
    """Point standard output at the null device, so that Python's own flush at exit does
    not fail again ("Exception ignored ... BrokenPipeError")."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test's capture)
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass


def os_error_line(exc: OSError) -> str:
    where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
    return f"{where}{exc.strerror or exc}"

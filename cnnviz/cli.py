"""The command line: cnnviz [gui] | train | evaluate | predict | summary | filter | kernels | data.

Every failure a user can cause prints one clear line to stderr and exits non-zero.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from .core.text_safety import printable  # (light: no torch)

EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 1."""


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder holding mnist/ and fashion-mnist/ (default: $CNNVIZ_DATA_DIR, "
                        "then the per-user cache folder)")


def _add_model_choice(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--model", default=None, metavar="NAME",
                   help="a shipped model: cnnviz (default), lecture-keras, lecture-deep, "
                        "cnnviz-fashion")
    g.add_argument("--weights", metavar="FILE", help="a model file: a .safetensors file written "
                   "by cnnviz, a Keras .keras or .h5 file, an ONNX .onnx file, a torch.export .pt2 or "
                   "TorchScript .pt file")
    _add_input_scale(p)


def _add_input_scale(p: argparse.ArgumentParser) -> None:
    """The options that say how to read a model made elsewhere: its input values and the
    names of its outputs."""
    p.add_argument("--input-scale", choices=["0-1", "0-255", "mnist"], default=None,
                   help="what a model made elsewhere takes: 0..1 (x / 255, as the lecture), "
                        "0..255, or MNIST-normalised; default: read from the file or worked "
                        "out on MNIST test digits")
    p.add_argument("--labels", metavar="FILE", default=None,
                   help="a text file naming the model's outputs, one name per line in output "
                        "order (a labels.txt from Teachable Machine or Keras)")


def _add_gui(sub) -> None:
    p = sub.add_parser("gui", help="open the desktop app (the default)")
    p.add_argument("image", nargs="?", metavar="FILE", help="a picture (the input) or a model "
                   "(cnnviz .safetensors, Keras, ONNX, torch.export or TorchScript) to open at start, by its content")
    _add_input_scale(p)
    _add_data_dir(p)


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a network on MNIST or Fashion-MNIST")
    p.add_argument("--arch", default="cnnviz", metavar="NAME|FILE.json|TEXT", help=ARCH_HELP)
    p.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
    p.add_argument("--epochs", type=int, default=None,
                   help="passes over the training set (default: the preset's recipe; 15)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="images per step (default: the preset's recipe; 128)")
    p.add_argument("--optimizer", choices=["sgd", "adam"], default=None,
                   help="default: the preset's recipe (adam)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default 0.003 for adam, 0.01 for sgd)")
    p.add_argument("--schedule", choices=["onecycle", "constant"], default=None,
                   help="learning-rate schedule (default onecycle for adam, constant for sgd)")
    p.add_argument("--no-augment", action="store_true",
                   help="train on the images as they are (no shifts, rotations, thickness)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="train on the first N training images only (quick experiments)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--outlier-exposure", type=float, default=0.5, metavar="W",
                   help="weight of the loss that teaches the network to give drawn "
                        "non-digits (letters, stars, scribbles) no confident answer, so it "
                        "can say 'does not look like a digit' (default 0.5; 0 = off)")
    p.add_argument("--hold-out", type=int, default=None, metavar="N",
                   help="keep the last N training images out of training to fix the 'does not "
                        "look like a digit' threshold on (default 2000; 0 trains on every "
                        "image and the model gets the default rule)")
    p.add_argument("--init", metavar="FILE", default=None,
                   help="start from the weights in this .safetensors file (same architecture) "
                        "instead of random ones: fine-tuning, e.g. to add outlier exposure")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help="where to train: auto picks a CUDA GPU, then Apple's MPS, then the CPU")
    p.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="train with N processes on this machine (torch.distributed "
                        "DistributedDataParallel; gloo on CPU, NCCL on GPUs); under torchrun "
                        "the processes come from torchrun instead")
    p.add_argument("--out", "-o", required=True, metavar="FILE",
                   help="where to write the .safetensors weights")
    _add_data_dir(p)


ARCH_HELP = ("a preset (cnnviz, lecture-keras, lecture-deep, fast, all-conv, fully-connected), "
             "a .json file (the layout of a weights file's header), or the layers as text, "
             "e.g. 'conv 64 3, relu, maxpool 2, flatten, dense 10'")


def _add_model_commands(sub) -> None:
    """evaluate, predict and summary: the commands that open a model."""
    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix")
    _add_model_choice(p)
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default=None,
                   help="default: the dataset the model was trained on")
    p.add_argument("--json", action="store_true", help="print JSON")
    _add_data_dir(p)

    p = sub.add_parser("predict", help="read the digit in one or more image files")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    _add_model_choice(p)
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per image")

    p = sub.add_parser("summary", help="layers, output shapes and parameter counts")
    p.add_argument("arch", nargs="?", default=None, metavar="ARCH", help=ARCH_HELP)
    p.add_argument("--arch", dest="arch_option", default=None, metavar="NAME|FILE.json|TEXT",
                   help="the same as the ARCH argument")
    p.add_argument("--weights", metavar="FILE", help="summarise the network in a model file")
    _add_input_scale(p)


def _add_filter(sub) -> None:
    p = sub.add_parser("filter", help="apply a kernel (and activation, pooling) to an image")
    p.add_argument("image")
    p.add_argument("--kernel", required=True,
                   help="a preset name (see `cnnviz kernels`) or values like '0 -1 0; -1 5 -1; 0 -1 0'")
    p.add_argument("--stride", default="1", help="S or SH,SW")
    p.add_argument("--padding", default="0", help="P or PH,PW (zero padding)")
    p.add_argument("--activation", default="none",
                   help="none, relu, leaky_relu, elu, tanh, sigmoid or softmax (softmax: over "
                        "the whole output map, per channel with --per-channel)")
    p.add_argument("--pool", default=None, metavar="KIND:SIZE[:STRIDE]",
                   help="pooling after the activation, e.g. max:2:2 (kinds: max, min, avg; the "
                        "stride defaults to the size; 'none' for no pooling)")
    p.add_argument("--per-channel", action="store_true",
                   help="filter each colour channel on its own (default: sum over channels "
                        "like a conv layer)")
    p.add_argument("--out", "-o", required=True,
                   help="OUT.npy keeps raw float values; OUT.png a normalised picture (the "
                        "folder must exist)")
    sub.add_parser("kernels", help="list the kernel presets")


def _add_data(sub) -> None:
    p = sub.add_parser("data", help="find, check or download the datasets")
    p.add_argument("action", choices=["where", "verify", "download"])
    p.add_argument("dataset", nargs="?", default="mnist", choices=["mnist", "fashion-mnist"])
    _add_data_dir(p)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="cnnviz",
        description="See inside convolutional neural networks. With no command, opens the app.")
    parser.add_argument("--version", action="version", version=f"cnnviz {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_gui, _add_train, _add_model_commands, _add_filter, _add_data):
        add(sub)
    return parser


# ---------------------------------------------------------------------------------------


def _open_model(args):
    from .core.input_scale import fixed_by_file, with_input_scale
    from .core.weights import WeightsError, load_shipped, load_weights

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
        from .core.class_names import LabelsError, read_labels, with_class_names

        try:
            loaded = with_class_names(loaded, read_labels(labels, len(loaded.classes)),
                                      Path(labels).name)
        except LabelsError as exc:
            raise CliError(f"--labels {labels}: {exc}") from None
    _attach_cached_verdict(loaded)
    return loaded


def _attach_cached_verdict(loaded) -> None:
    """A digit model made elsewhere gets the unsure verdict the app calibrated for it
    (cached by file), else the default rule (the app calibrates when it opens one)."""
    from .core import opened_verdict

    if opened_verdict.needs_calibration(loaded):
        verdict = opened_verdict.cached(loaded)
        if verdict is not None:
            loaded.card["verdict"] = verdict


def _load_data(dataset, split, data_dir):
    from .core.data import DataError, load_split

    try:
        return load_split(dataset, split, data_dir)
    except DataError as exc:
        raise CliError(str(exc)) from None


class _stop_on_ctrl_c:
    """While training: the first Ctrl-C asks training to stop after the current batch (so
    an epoch's file is never cut off mid-save), a second one stops at once.

    Installed whatever SIGINT disposition was inherited: a process started in the
    background by a non-interactive shell inherits SIGINT ignored and could not be stopped.
    """

    def __init__(self):
        self.requested = False
        self.installed = False
        self.previous = None

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        from .core.parent import launcher_gone

        if threading.current_thread() is threading.main_thread():  # signals: main thread only
            self.previous = signal.signal(signal.SIGINT, self._handle)
            self.installed = True
        # A process started by a launcher (--nproc N) also stops once the launcher is gone.
        return lambda: self.requested or launcher_gone()

    def __exit__(self, *exc):
        if self.installed:
            # None: the old handler was not set from Python; the default is the best guess
            signal.signal(signal.SIGINT, signal.SIG_DFL if self.previous is None else self.previous)
        return False


def cmd_train(args) -> int:
    from .core.distributed import DistributedTrainingError, process_place

    try:
        place = process_place()  # one of several processes (--nproc N, or torchrun)?
        # Ctrl-C from the start: during data loading it stops training before the first batch.
        with _stop_on_ctrl_c() as stop_requested, _output_held(args, place):
            return _train(args, stop_requested, place)
    except DistributedTrainingError as exc:
        raise CliError(str(exc)) from None


@contextlib.contextmanager
def _output_held(args, place):
    """--out checked by writing next to it, then locked (OUT.lock) for the whole run so a
    second training to the same file is refused, and cleared of what killed saves left."""
    from .core.files import FileProblem
    from .core.run_output import OutputLock, prepare_output

    out = _train_output(args)
    launcher = args.nproc > 1 and place is None  # its rank 0 takes the lock
    if (place is not None and place.rank != 0) or launcher:  # the first process writes the file
        yield out
        return
    lock = OutputLock(out)
    try:
        lock.acquire()
    except FileProblem as exc:
        raise CliError(str(exc)) from None
    try:
        for part in prepare_output(out):
            print(f"note: removed {part.name}, left by a save of {out.name} that was cut short",
                  file=sys.stderr)
        yield out
    finally:
        lock.release()


def _train_settings(args) -> tuple[float, str]:
    """The learning rate and schedule, every number checked before any data is read."""
    from .core.limits import MAX_TRAIN_SEED

    if args.epochs < 1 or args.batch_size < 1:
        raise CliError("--epochs and --batch-size must be at least 1")
    if args.limit is not None and args.limit < 1:  # 0 would mean all, -5 all but five
        raise CliError(f"--limit must be at least 1 (got {args.limit}); leave it out to "
                       "train on every image")
    if not 0 <= args.seed <= MAX_TRAIN_SEED:  # torch takes 64 bits, the lab's box 31
        raise CliError(f"--seed must be a whole number from 0 to {MAX_TRAIN_SEED:,} "
                       f"(got {args.seed:,})")
    from .core.training import OPTIMIZER_DEFAULTS

    default_lr, default_schedule = OPTIMIZER_DEFAULTS[args.optimizer]
    lr = args.lr if args.lr is not None else default_lr
    if not (math.isfinite(lr) and lr > 0):  # inf or nan would only train NaN weights
        raise CliError(f"--lr must be a positive number like 0.003 (got {lr:g})")
    return lr, args.schedule or default_schedule


def _train_output(args) -> Path:
    from .core.run_output import writing_problem

    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise CliError("--out must end in .safetensors")
    if out.is_dir():  # said now, not after the first epoch
        raise CliError(f"--out {out} is a folder; give a file name ending in .safetensors")
    problem = writing_problem(out)  # a missing, read-only or full folder: now, not later
    if problem:
        raise CliError(f"--out: {problem}")
    return out


def _refuse_what_cannot_fit(args, arch, train_images: int, test_images: int, device,
                            batch_size: int | None = None, available: int | None = None) -> None:
    """The memory one batch needs (estimated from the layer shapes) against what there is:
    the out-of-memory killer would end the run without a word. batch_size and available:
    one process's share of a multi-process run."""
    from .core.memory import training_memory_problem

    problem = training_memory_problem(arch, batch_size or args.batch_size, train_images,
                                      test_images, device, available=available)
    if problem:
        raise CliError(f"--batch-size {args.batch_size}: {problem}; give a smaller --batch-size")


class _BatchBar:
    """The progress bar of one epoch (only on a terminal), made at its first batch."""

    def __init__(self):
        self.bar = None

    def on_batch(self, i, total, loss):
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=total, unit="batch", leave=False, dynamic_ncols=True,
                            disable=not sys.stderr.isatty())
        self.bar.update(1)
        if i % 20 == 0:
            self.bar.set_postfix(loss=f"{loss:.4f}")

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _EpochSaver:
    """Prints each epoch and saves the weights after it to the side file (OUT.partial.
    safetensors), so a crash or Ctrl-C keeps the last complete epoch there and OUT is
    untouched; finish() makes the side file OUT once the run is done. `saved_epoch` is
    the epoch really in the side file."""

    def __init__(self, args, out: Path, card_facts: dict, bar: _BatchBar, held_out=None):
        from .core.run_output import partial_path

        self.args, self.out, self.facts, self.bar = args, out, card_facts, bar
        self.side = partial_path(out)
        self.held_out = held_out  # images never trained on: the verdict's threshold
        self.verdict_outliers = None  # drawn non-digits, made once
        self.verdict_views = None  # the held-out digits as users' pictures, made once
        self.started = time.perf_counter()
        self.epochs: list = []
        self.saved_epoch = None  # set only once its file is complete

    def card(self) -> dict:
        from .core.card import with_epochs

        return with_epochs(self.facts, self.epochs, time.perf_counter() - self.started)

    def on_epoch(self, res, model):
        from .core.files import FileProblem
        from .core.weights import save_weights

        self.bar.close()
        self.epochs.append(res)
        if self.held_out is not None and len(self.held_out):
            from .core import verdict

            if self.verdict_outliers is None:
                self.verdict_outliers = verdict.measurement_outliers(self.args.dataset)
                self.verdict_views = verdict.user_views(
                    self.held_out, self.args.dataset,
                    share=verdict.user_share(self.facts["train_images"]))
            self.facts["verdict"] = verdict.calibrate_for_card(
                model, self.held_out, self.args.dataset, outliers=self.verdict_outliers,
                views=self.verdict_views,
                source=f"the last {len(self.held_out):,} {self.args.dataset} training images, "
                       "kept out of training" + (" (the --init weights may have seen them)"
                                                 if self.args.init else ""))
        print(f"epoch {res.epoch:>3}/{self.args.epochs}  loss {res.train_loss:.4f}  "
              f"train acc {res.train_accuracy:.4f}  test loss {res.test_loss:.4f}  "
              f"test acc {res.test_accuracy:.4f}  {res.seconds:.1f} s", flush=True)
        try:
            save_weights(model, self.side, self.card())
        except FileProblem as exc:
            raise CliError(f"cannot write {self.side}: {exc}; {self.kept()}") from None
        except OSError as exc:
            raise CliError(f"cannot write {self.side}: {exc.strerror or exc}; "
                           f"{self.kept()}") from None
        self.saved_epoch = res.epoch

    def finish(self) -> None:
        """The run is done: its side file becomes OUT (atomically; the old OUT until then)."""
        from .core.files import FileProblem
        from .core.run_output import promote

        try:
            promote(self.out)
        except FileProblem as exc:
            raise CliError(f"cannot write {self.out}: {exc}; the trained model is in "
                           f"{self.side}") from None

    def kept(self) -> str:
        unchanged = f" ({self.out} is unchanged)" if self.out.exists() else ""
        if self.saved_epoch is None:
            return f"nothing written (no epoch finished saving){unchanged}."
        return f"kept epoch {self.saved_epoch} in {self.side}{unchanged}"


def _card_facts(args, arch, config, train_images: int, device, processes=None) -> dict:
    """What the model card says about how the model is trained (cnnviz.core.card; the
    per-epoch figures are added by _EpochSaver)."""
    from .core.arch_text import format_architecture
    from .core.card import training_card

    return training_card(
        model_name=args.arch if args.dataset == "mnist" else f"{args.arch}-{args.dataset}",
        architecture=args.arch, layers=format_architecture(arch),
        dataset=args.dataset, config=config, train_images=train_images, device=device.type,
        init=Path(args.init).name if args.init else None,  # fine-tuned from these weights
        processes=processes,
        command="cnnviz " + " ".join(args.argv) if args.argv[:1] == ["train"] else None)


def _initial_weights(args, model):
    """--init: the file's network, which must have the architecture being trained."""
    from .core.weights import WeightsError, load_weights

    try:
        start = load_weights(args.init)
    except WeightsError as exc:
        raise CliError(f"--init {args.init}: {exc}") from None
    if start.model.arch.to_dict() != model.arch.to_dict():
        raise CliError(f"--init {args.init} holds a different network than --arch {args.arch}")
    return start.model


def _train_architecture(args):
    """--arch as the editor reads it (a preset, a .json file or the text form), and the
    settings left out filled from the preset's own recipe: `cnnviz train --arch fast
    --out FILE` trains the way the fast preset is meant to be trained."""
    from .core.arch_text import resolve_architecture
    from .core.models import ArchitectureError
    from .core.training import recipe_for

    try:
        arch = resolve_architecture(args.arch)
    except ArchitectureError as exc:
        raise CliError(str(exc)) from None
    recipe = recipe_for(arch.name)
    if args.optimizer is None:  # the recipe's optimizer comes with its lr and schedule
        args.optimizer = recipe.optimizer
        args.lr = recipe.lr if args.lr is None else args.lr
        args.schedule = args.schedule or recipe.schedule
    args.epochs = recipe.epochs if args.epochs is None else args.epochs
    args.batch_size = recipe.batch_size if args.batch_size is None else args.batch_size
    args.arch = arch.name  # what the card and the messages call it
    return arch, recipe


def _train_device(args):
    from .core.training import resolve_device

    try:
        return resolve_device(args.device)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _train_in_processes(args, arch, config, device) -> int:
    """--nproc N: the same command in N processes here (each joins the group and runs the
    one training loop); every option is checked here first, so a mistake is said once."""
    from .core.distributed import run_local
    from .core.memory import available_memory_bytes

    if args.init:
        _initial_weights(args, _build_model(arch, args.seed))
    train_images = min(args.limit or 60_000, 60_000 - _held_out_count(args, 60_000))
    have = available_memory_bytes()  # N processes share the memory, each with its data
    _refuse_what_cannot_fit(args, arch, train_images, 10_000, device,
                            batch_size=math.ceil(args.batch_size / args.nproc),
                            available=have // args.nproc if have else None)
    return run_local(_without_nproc(args.argv), args.nproc)


def _without_nproc(argv: list[str]) -> list[str]:
    """The command's own words without --nproc N (each process is one of the N)."""
    out, skip = [], False
    for word in argv:
        if skip:
            skip = False
            continue
        if word == "--nproc":
            skip = True
            continue
        if word.startswith("--nproc="):
            continue
        out.append(word)
    return out


def _build_model(arch, seed):
    from .core.models import ArchitectureError, build_model

    try:
        return build_model(arch, seed=seed)
    except ArchitectureError as exc:
        raise CliError(str(exc)) from None


def _held_out_count(args, train_images: int) -> int:
    """--hold-out: the last N training images, never trained on, fix the verdict's threshold."""
    from .core.verdict import HELD_OUT

    held = HELD_OUT if args.hold_out is None else args.hold_out
    if not 0 <= held <= train_images // 2:
        raise CliError(f"--hold-out must be from 0 to {train_images // 2:,} (got {held})")
    return held


def _train(args, stop_requested, place) -> int:
    from dataclasses import replace

    import torch

    from .core.distributed import join, leave, nproc_problem
    from .core.training import batch_problem, config_problem, train

    started = time.perf_counter()
    arch, recipe = _train_architecture(args)
    lr, schedule = _train_settings(args)
    if not (math.isfinite(args.outlier_exposure) and 0 <= args.outlier_exposure <= 100):
        raise CliError(f"--outlier-exposure must be a number from 0 to 100 (got "
                       f"{args.outlier_exposure:g}); 0.5 is the default, 0 turns it off")
    device = _train_device(args)
    launched = place is not None  # one of several processes (--nproc N, or torchrun)
    problem = nproc_problem(place.local_world if launched else args.nproc, device.type)
    if problem:
        raise CliError(problem)
    config = replace(recipe, epochs=args.epochs, batch_size=args.batch_size,
                     optimizer=args.optimizer, lr=lr, schedule=schedule,
                     augment=recipe.augment and not args.no_augment, seed=args.seed,
                     outlier_exposure=args.outlier_exposure, outlier_dataset=args.dataset)
    if config.optimizer != recipe.optimizer:
        config.adam_beta1 = 0.9
    problem = config_problem(config)  # the lab's checks too (the flags were checked above)
    if problem is None:  # batch norm after a dense layer and one image a batch
        problem = batch_problem(arch, config, args.limit,
                                place.world if launched else args.nproc)
    if problem:
        raise CliError(problem)
    if args.nproc > 1 and not launched:
        return _train_in_processes(args, arch, config, device)
    model = _build_model(arch, args.seed)
    if args.init:
        model = _initial_weights(args, model)
    out = _train_output(args)
    x_train, y_train = _load_data(args.dataset, "train", args.data_dir)
    x_test, y_test = _load_data(args.dataset, "test", args.data_dir)
    held = _held_out_count(args, len(x_train))
    # the end of the training set, never trained on, fixes the verdict's threshold
    held_out = x_train[len(x_train) - held:]
    x_train, y_train = x_train[:len(x_train) - held], y_train[:len(y_train) - held]
    if args.limit is not None:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    parallel = join(device.type) if launched else None
    try:
        world = parallel.world if parallel else 1
        if parallel is None:  # (a launched process was checked by its launcher)
            _refuse_what_cannot_fit(args, model.arch, len(x_train), len(x_test), device)
        leader = parallel is None or parallel.leader
        if leader:
            processes = f" in {world} processes ({'NCCL' if parallel.cuda else 'gloo'})" \
                if parallel else ""
            print(f"Training {args.arch} on {args.dataset} ({len(x_train):,} images) for "
                  f"{args.epochs} epochs on {device.type}{processes}, "
                  f"{torch.get_num_threads()} threads; {args.optimizer} lr {lr:g} ({schedule}), "
                  f"batch {args.batch_size}, augment {'on' if config.augment else 'off'}, "
                  f"seed {args.seed}", flush=True)
        facts = _card_facts(args, arch, config, len(x_train), device,
                            world if parallel else None)
        bar = _BatchBar()
        saver = _EpochSaver(args, out, facts, bar, held_out)
        try:
            result = train(model, x_train, y_train, config, x_test, y_test,
                           on_batch=bar.on_batch, on_epoch=saver.on_epoch,
                           should_stop=stop_requested, device=device, parallel=parallel)
        except (MemoryError, RuntimeError) as exc:
            _raise_if_out_of_memory(exc, f"give a smaller --batch-size (now {args.batch_size}); "
                                         f"{saver.kept()}")
            raise
        finally:
            bar.close()
    finally:
        if parallel is not None:
            leave()
    if result.diverged:
        if leader:
            print(f"Stopped: {result.diverged} (the learning rate {lr:g} is probably too "
                  f"high); {saver.kept()}", file=sys.stderr)
        return 1
    if result.interrupted:
        if leader:
            print(f"Stopped; {saver.kept()}", file=sys.stderr)
        return 130
    if leader:
        saver.finish()
        print(f"Done in {result.seconds:.1f} s of training ({time.perf_counter() - started:.1f} "
              f"s since the command started); test accuracy "
              f"{result.epochs[-1].test_accuracy:.4f}. Wrote {out}")
    return 0


def _raise_if_out_of_memory(exc: BaseException, hint: str) -> None:
    """An allocation that failed (numpy's MemoryError, torch's "not enough memory"): one
    line with the hint (what to change). Any other error: nothing (the caller raises it)."""
    from .core.memory import out_of_memory

    what = out_of_memory(exc)
    if what is not None:
        raise CliError(f"not enough memory ({what}); {hint}") from None


def cmd_evaluate(args) -> int:
    from .core.network import digit_mismatch
    from .core.training import evaluate

    loaded = _open_model(args)
    dataset = args.dataset or loaded.card.get("dataset", "mnist")
    mismatch = digit_mismatch(loaded.input_spec, len(loaded.classes), "evaluate")
    if mismatch:
        raise CliError(mismatch)
    x, y = _load_data(dataset, "test", args.data_dir)
    t0 = time.perf_counter()
    m = evaluate(loaded.model, x, y)
    seconds = time.perf_counter() - t0
    if args.json:
        out = {k: v for k, v in m.items() if k not in ("predictions", "confidence")}
        out.update(model=loaded.name, dataset=dataset, seconds=round(seconds, 2),
                   input_scale=loaded.card.get("input_scale", "0-1"), classes=loaded.classes)
        print(json.dumps(out))
        return 0
    classes = [printable(c) for c in loaded.classes]  # names from a file: no terminal codes
    print(f"Model {printable(loaded.name)} on the {dataset} test set ({m['count']:,} images, "
          f"{seconds:.1f} s)")
    right = round(m["accuracy"] * m["count"])
    print(f"Accuracy: {m['accuracy'] * 100:.2f}%  ({right:,} right, "
          f"{m['count'] - right:,} wrong)   mean loss {m['loss']:.4f}")
    print("\nPer class:")
    for i, acc in enumerate(m["per_class_accuracy"]):
        print(f"  {classes[i]:>12}  {acc * 100:6.2f}%")
    print("\nConfusion matrix (rows: true class, columns: predicted):")
    print("      " + "".join(f"{i:>6}" for i in range(len(classes))))
    for i, row in enumerate(m["confusion"]):
        print(f"{i:>6}" + "".join(f"{v:>6}" for v in row))
    return 0


def cmd_summary(args) -> int:
    from .core.arch_text import format_architecture, resolve_architecture
    from .core.models import ArchitectureError, format_summary

    if args.arch and args.arch_option and args.arch != args.arch_option:
        raise CliError("give the architecture once (as ARCH or --arch), not both")
    args.arch = args.arch or args.arch_option
    if args.weights:
        if args.arch:  # the file's own architecture would silently win
            raise CliError(f"give an architecture name ({args.arch}) or --weights FILE, not both")
        loaded = _open_model(args)
        print(printable(format_summary(loaded.model.arch)))  # names from the file
        if "input_scale" in loaded.card:
            from .core.input_scale import WORDS

            print(f"Input: {WORDS.get(loaded.card['input_scale'], loaded.card['input_scale'])}, "
                  f"{loaded.card.get('input_scale_source', '')}")
        return 0
    try:
        arch = resolve_architecture(args.arch or "cnnviz")
    except ArchitectureError as exc:
        raise CliError(str(exc)) from None
    print(format_summary(arch))
    print(f"As text: {format_architecture(arch)}")
    return 0


def _strict_json(value) -> str:
    """JSON without NaN or Infinity (which are not JSON): a non-finite number is refused."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        raise CliError("the result holds a number that is not finite (NaN or infinity), "
                       "which JSON cannot carry; the model's weights are probably broken") from None


def cmd_predict(args) -> int:
    import numpy as np

    from .core import verdict
    from .core.formulas import percent
    from .core.images import ImageError, load_image
    from .core.inference import analyze

    loaded = _open_model(args)
    results, failed = [], False
    for name in args.images:
        try:
            # The app's own path: the picture framed for the network, traced, judged.
            result = analyze(loaded.model, load_image(name), dataset=loaded.dataset,
                             card=loaded.card)
        except (ImageError, ValueError) as exc:
            failed = True
            results.append({"file": name, "error": str(exc)})
            continue
        except (MemoryError, RuntimeError) as exc:
            from .core.memory import out_of_memory

            what = out_of_memory(exc)
            if what is None:
                raise
            failed = True
            results.append({"file": name, "error": f"not enough memory to read it ({what}); "
                                                   "try a smaller picture"})
            continue
        prep = result.digit
        if prep.empty:  # an all-zero input still gets a confident answer; it means nothing
            failed = True
            why = ("there is something in the picture, but no single digit-sized shape "
                   "(crop it to one digit)" if getattr(prep, "reason", "") == "no single digit"
                   else "the picture is blank (no ink stands out from the background)")
            results.append({"file": name, "error": f"no digit found: {why}"})
            continue
        probs = result.probabilities
        if not np.isfinite(probs).all():  # "0 (nan%)" would be no answer at all
            failed = True
            results.append({"file": name, "error": "the network's output is not a number "
                            "(NaN or infinity): the model's weights are broken"})
            continue
        # Full precision: rounding shows small probabilities as 0.0
        results.append({"file": name, "prediction": result.prediction,
                        "probabilities": [float(p) for p in probs], "unsure": result.unsure})
    if args.json:
        print(_strict_json(results))
    else:
        classes = [printable(c) for c in loaded.classes]  # names from a file: no terminal codes
        for r in results:
            if "error" in r:  # stderr, so stdout holds only results
                print(f"{r['file']}: error: {r['error']}", file=sys.stderr)
                continue
            top = sorted(range(len(classes)), key=lambda i: -r["probabilities"][i])[:3]
            tops = ", ".join(f"{classes[i]} {percent(r['probabilities'][i])}" for i in top)
            unsure = (f"   unsure: {verdict.not_like(loaded.dataset)}" if r["unsure"] else "")
            print(f"{r['file']}: {classes[r['prediction']]}   ({tops}){unsure}")
    return 1 if failed else 0


def cmd_kernels(args) -> int:
    from .core.kernels import ALIASES, PRESETS, format_kernel

    print("Pass the name at the start of a line to --kernel, e.g. "
          "cnnviz filter IMAGE --kernel sharpen -o out.png\n")
    for preset in PRESETS.values():
        aliases = [a for a, key in ALIASES.items() if key == preset.key]
        also = f"  (also: {', '.join(aliases)})" if aliases else ""
        print(f"{preset.key}  {preset.name}, {preset.values.shape[0]}x{preset.values.shape[1]}{also}")
        print(f"    {preset.description}")
        for line in format_kernel(preset.values).splitlines():
            print(f"        {line}")
        print()
    return 0


def _parse_pair(text: str, what: str, most: int) -> tuple[int, int]:
    """--stride / --padding: one whole number or two (rows, columns), at most `most` each
    (a shell passes any number; 1e20 must be one clear line, not minutes of arithmetic)."""
    try:
        parts = [int(p) for p in text.replace("x", ",").split(",")]
    except ValueError:
        raise CliError(f"--{what} must be a whole number or two like 2,1; got {text!r}") from None
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2:
        raise CliError(f"--{what} takes one or two numbers, got {text!r}")
    if max(parts) > most:
        raise CliError(f"--{what} may be at most {most:,} (got {text})")
    return parts[0], parts[1]


def _parse_pool(text: str | None) -> tuple[str, int, int] | None:
    """--pool KIND[:SIZE[:STRIDE]] -> (kind, size, stride), or None for no pooling."""
    from .core.ops import POOL_KINDS

    if text is None:
        return None
    example = "like max:2:2 (KIND:SIZE:STRIDE), or none"
    if not text.strip():
        raise CliError(f"--pool is empty; give the pooling {example}")
    bits = [b.strip() for b in text.split(":")]
    if len(bits) > 3:
        raise CliError(f"--pool takes at most KIND:SIZE:STRIDE (three parts), got {text!r}")
    kind = bits[0].lower()
    if kind == "none":
        if len(bits) > 1:
            raise CliError(f"--pool none takes no size or stride, got {text!r}")
        return None
    if kind not in POOL_KINDS:
        raise CliError(f"--pool: unknown pooling {bits[0]!r}; choose one of: none, {', '.join(POOL_KINDS)}")
    numbers = []
    for what, bit in zip(("size", "stride"), bits[1:]):
        try:
            n = int(bit)
        except ValueError:
            raise CliError(f"--pool {what} must be a whole number, got {bit!r}; write the pooling "
                           f"{example}") from None
        if n < 1:
            raise CliError(f"--pool: the pooling {what} must be at least 1 (got {n})")
        numbers.append(n)
    size = numbers[0] if numbers else 2
    return kind, size, numbers[1] if len(numbers) > 1 else size


def _write_filter_output(out: Path, result) -> None:
    """.npy: the raw values under the exact name (np.save on a path would add ".npy");
    .png: a picture stretched to 0..255. Never half a file."""
    import numpy as np

    from .core.files import FileProblem, write_atomically
    from .core.images import ImageError, save_image

    try:
        if out.suffix.lower() == ".npy":
            write_atomically(out, lambda fh: np.save(fh, result))
        else:
            save_image(out, result, normalize=True)
    except (ImageError, FileProblem) as exc:
        raise CliError(str(exc)) from None


def cmd_filter(args) -> int:
    import numpy as np

    from .core.files import output_problem
    from .core.filter_settings import KernelSettings
    from .core.filtering import ACTIVATION_NAMES, run_pipeline
    from .core.images import ImageError, load_image
    from .core.kernels import KernelError, kernel_from_text_or_preset
    from .core.limits import MAX_FILTER_PADDING, MAX_FILTER_STRIDE

    try:
        kernel = kernel_from_text_or_preset(args.kernel)
    except KernelError as exc:
        raise CliError(str(exc)) from None
    stride = _parse_pair(args.stride, "stride", MAX_FILTER_STRIDE)
    padding = _parse_pair(args.padding, "padding", MAX_FILTER_PADDING)
    pool = _parse_pool(args.pool)
    out = Path(args.out).expanduser()
    if out.suffix.lower() not in (".npy", ".png"):
        raise CliError("--out must end in .npy (raw values) or .png (picture)")
    problem = output_problem(out)  # said now, not after the filtering
    if problem:
        raise CliError(problem)
    try:
        image = load_image(args.image).astype(np.float32)
    except ImageError as exc:
        raise CliError(str(exc)) from None
    if args.activation not in ACTIVATION_NAMES:
        raise CliError(f"--activation: unknown activation {args.activation!r}; choose one of: "
                       f"{', '.join(ACTIVATION_NAMES)}")
    kind, size, pool_stride = pool or ("none", 2, 2)
    settings = KernelSettings(kernel=kernel, preset_key=None, stride=stride, padding=padding,
                              activation=args.activation, pool_kind=kind, pool_size=size,
                              pool_stride=pool_stride, per_channel=args.per_channel)
    try:
        # The kernel explorer's pipeline, so both floor a size that is not whole (like torch
        # and Keras) and say so in the same words.
        r = run_pipeline(image, settings)
    except MemoryError:
        raise CliError(f"not enough memory to filter {args.image}; try a smaller image or "
                       "less padding") from None
    if r.error:
        raise CliError(r.error)
    for note in r.notes:
        print(f"note: {note}", file=sys.stderr)
    result = r.final
    if result.ndim == 3:
        result = np.moveaxis(result, 0, -1)  # per channel: (H, W, C), as images are stored
    _write_filter_output(out, result)
    shape = "x".join(map(str, result.shape))
    print(f"{args.image} -> {out}  ({shape}, min {float(result.min()):g}, max {float(result.max()):g})")
    return 0


def cmd_data(args) -> int:
    from .core.data import DataError, find_file, get_dataset_info, resolve_data_dir, verify_file

    info = get_dataset_info(args.dataset)
    folder = resolve_data_dir(args.data_dir) / info.key
    if args.action == "where":
        print(folder)
        return 0
    if args.action == "download":
        from .core.download import DownloadError, download_dataset

        try:
            download_dataset(args.dataset, args.data_dir, progress=sys.stderr.isatty())
        except (DownloadError, DataError) as exc:
            raise CliError(str(exc)) from None
    bad = 0
    for part, expected in info.files.items():
        path = find_file(args.dataset, part, args.data_dir)  # the .gz file, else unpacked
        try:
            verify_file(path, expected)
            print(f"ok       {path}")
        except DataError as exc:
            bad += 1
            print(f"problem  {exc}")
    return 1 if bad else 0


def run_gui(args) -> int:
    image = getattr(args, "image", None)
    if image:  # said here, before a window opens only to say it
        path = Path(image).expanduser()
        if not path.exists():
            raise CliError(f"cannot open {image}: no such file")
        image = str(path)
    from .ui.window.app import display_problem, run_app

    problem = display_problem()
    if problem:
        raise CliError(problem)
    scale, labels = getattr(args, "input_scale", None), getattr(args, "labels", None)
    if (scale or labels) and not image:
        raise CliError("--input-scale and --labels are for a model file opened at start "
                       "(cnnviz gui MODEL --input-scale 0-255)")
    if labels and not Path(labels).expanduser().is_file():
        raise CliError(f"--labels {labels}: no such file")
    return run_app(image=image, data_dir=getattr(args, "data_dir", None),
                   model_options={"input_scale": scale, "labels": labels})


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "summary": cmd_summary, "kernels": cmd_kernels, "filter": cmd_filter,
            "data": cmd_data, "gui": run_gui}


def _writing_output_failed(exc: OSError) -> bool:
    """An error from writing standard output (> /dev/full, a disk that filled up): no file
    name (files are opened by name; their errors carry it or are said as CliError) and an
    error a write gives."""
    return getattr(exc, "filename", None) is None and exc.errno in (
        errno.ENOSPC, errno.EIO, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC))


def _silence_stdout() -> None:
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


def _os_error_line(exc: OSError) -> str:
    where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
    return f"{where}{exc.strerror or exc}"


# numpy's floating-point warnings ("overflow encountered in multiply"): every result is
# checked and its problem said in words, so the warning would only be noise before that line.
_NUMPY_FLOAT_WARNINGS = (r"(overflow|underflow|invalid value|divide by zero) encountered"
                         r"|Mean of empty slice|Degrees of freedom <= 0")


def _names_a_file(word: str) -> bool:
    """Whether the first word is a file for the app rather than a command: a file that is
    there, or a name the app would open as a picture or a model (the one rule,
    cnnviz.core.files.open_as), so a missing photo.png is "no such file", not "invalid
    choice"."""
    from .core.files import open_as

    path = Path(word).expanduser()
    return path.exists() or open_as(path) is not None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if words and not words[0].startswith("-") and words[0] not in COMMANDS \
            and _names_a_file(words[0]):
        words = ["gui", *words]  # `cnnviz FILE` opens FILE in the app, by what it is
    args = parser.parse_args(words)
    args.argv = words  # (--nproc runs it again)
    command = args.command or "gui"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=_NUMPY_FLOAT_WARNINGS, category=RuntimeWarning)
            code = COMMANDS[command](args)
        sys.stdout.flush()  # a full disk is said here, not as "Exception ignored" at exit
        return code
    except CliError as exc:
        print(f"cnnviz {command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except (MemoryError, RuntimeError) as exc:  # an allocation anywhere else: one line too
        from .core.memory import out_of_memory

        what = out_of_memory(exc)
        if what is None:
            raise
        print(f"cnnviz {command}: error: not enough memory ({what})", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader stopped reading (| head): nothing more to say
        _silence_stdout()
        return 1
    except OSError as exc:  # whatever the environment refused: one line, never a traceback
        if _writing_output_failed(exc):
            _silence_stdout()
            print(f"cnnviz {command}: error: cannot write the output ({exc.strerror or exc})",
                  file=sys.stderr)
        else:
            print(f"cnnviz {command}: error: {_os_error_line(exc)}", file=sys.stderr)
        return 1

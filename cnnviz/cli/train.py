"""`cnnviz train`: the one training loop, with a model card, Ctrl-C that keeps the last
complete epoch, and --nproc / torchrun."""

from __future__ import annotations

import contextlib
import math
import signal
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .common import (
    ARCH_HELP,
    DATASET_HELP,
    CliError,
    add_data_dir,
    dataset_choice,
    load_data,
    raise_if_out_of_memory,
)

if TYPE_CHECKING:
    import numpy as np

NAME = "train"


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train a network on MNIST, Fashion-MNIST or your own pictures")
    p.add_argument("--arch", default="cnnviz", metavar="NAME|FILE.json|FILE.py|TEXT", help=ARCH_HELP)
    p.add_argument("--dataset", default="mnist", metavar="NAME|DIR|mnist+DIR", help=DATASET_HELP)
    p.add_argument("--test-share", type=float, default=0.2, metavar="S",
                   help="the share of your own set kept out of training for the test curve, "
                        "whole writers at a time when there are several (default 0.2)")
    p.add_argument("--only-last-layer", action="store_true",
                   help="with --init: train only the last layer (transfer learning: the early "
                        "layers' local patterns are reused as they are)")
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
    p.add_argument("--float32", action="store_true",
                   help="compute every step in float32, also where the preset's recipe would "
                        "use the CPU's bfloat16 (the fast preset, on a CPU with AMX or "
                        "AVX-512 BF16)")
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
                   help="start from the weights in this file (same architecture; on your own "
                        "set any network, its last layer replaced when the classes differ) "
                        "instead of random ones: fine-tuning")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help="where to train: auto picks a CUDA GPU, then Apple's MPS, then the CPU")
    p.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="train with N processes on this machine (torch.distributed "
                        "DistributedDataParallel; gloo on CPU, NCCL on GPUs); under torchrun "
                        "the processes come from torchrun instead")
    p.add_argument("--out", "-o", required=True, metavar="FILE",
                   help="where to write the .safetensors weights")
    add_data_dir(p)


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
        from ..core.training.parent import launcher_gone

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


def run(args) -> int:
    from ..core.training.distributed import DistributedTrainingError, process_place

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
    from ..core.basics.files import FileProblem
    from ..core.training.run_output import OutputLock, prepare_output

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
    from ..core.basics.limits import MAX_TRAIN_SEED

    if args.epochs < 1 or args.batch_size < 1:
        raise CliError("--epochs and --batch-size must be at least 1")
    if args.limit is not None and args.limit < 1:  # 0 would mean all, -5 all but five
        raise CliError(f"--limit must be at least 1 (got {args.limit}); leave it out to "
                       "train on every image")
    if not 0 <= args.seed <= MAX_TRAIN_SEED:  # torch takes 64 bits, the lab's box 31
        raise CliError(f"--seed must be a whole number from 0 to {MAX_TRAIN_SEED:,} "
                       f"(got {args.seed:,})")
    from ..core.training.loop import OPTIMIZER_DEFAULTS

    default_lr, default_schedule = OPTIMIZER_DEFAULTS[args.optimizer]
    lr = args.lr if args.lr is not None else default_lr
    if not (math.isfinite(lr) and lr > 0):  # inf or nan would only train NaN weights
        raise CliError(f"--lr must be a positive number like 0.003 (got {lr:g})")
    return lr, args.schedule or default_schedule


def _train_output(args) -> Path:
    from ..core.training.run_output import writing_problem

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
    from ..core.networks.memory import training_memory_problem

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
        from ..core.training.run_output import partial_path

        self.args, self.out, self.facts, self.bar = args, out, card_facts, bar
        self.side = partial_path(out)
        self.held_out = held_out  # images never trained on: the verdict's threshold
        self.verdict_outliers: np.ndarray | None = None  # drawn non-digits, made once
        # the held-out digits as users' pictures, made once
        self.verdict_views: dict[str, np.ndarray] | None = None
        self.started = time.perf_counter()
        self.epochs: list = []
        self.saved_epoch = None  # set only once its file is complete
        self.verdict_seconds = self.saving_seconds = 0.0  # (the run's split)

    def card(self) -> dict:
        from ..core.networks.card import with_epochs

        return with_epochs(self.facts, self.epochs, time.perf_counter() - self.started)

    def on_epoch(self, res, model):
        from ..core.basics.files import FileProblem
        from ..core.networks.weights import save_weights

        self.bar.close()
        self.epochs.append(res)
        t0 = time.perf_counter()
        if self.held_out is not None and len(self.held_out):
            from ..core.reading import verdict

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
        t1 = time.perf_counter()
        self.verdict_seconds += t1 - t0
        print(f"epoch {res.epoch:>3}/{self.args.epochs}  loss {res.train_loss:.4f}  "
              f"train acc {res.train_accuracy:.4f}  test loss {res.test_loss:.4f}  "
              f"test acc {res.test_accuracy:.4f}  {res.seconds:.1f} s", flush=True)
        try:
            save_weights(model, self.side, self.card())
            self.saving_seconds += time.perf_counter() - t1
        except FileProblem as exc:
            raise CliError(f"cannot write {self.side}: {exc}; {self.kept()}") from None
        except OSError as exc:
            raise CliError(f"cannot write {self.side}: {exc.strerror or exc}; "
                           f"{self.kept()}") from None
        self.saved_epoch = res.epoch

    def finish(self) -> None:
        """The run is done: its side file becomes OUT (atomically; the old OUT until then)."""
        from ..core.basics.files import FileProblem
        from ..core.training.run_output import promote

        t0 = time.perf_counter()
        try:
            promote(self.out)
            self.saving_seconds += time.perf_counter() - t0
        except FileProblem as exc:
            raise CliError(f"cannot write {self.out}: {exc}; the trained model is in "
                           f"{self.side}") from None

    def kept(self) -> str:
        unchanged = f" ({self.out} is unchanged)" if self.out.exists() else ""
        if self.saved_epoch is None:
            return f"nothing written (no epoch finished saving){unchanged}."
        return f"kept epoch {self.saved_epoch} in {self.side}{unchanged}"


def _card_facts(args, arch, config, train_images: int, device, processes=None,
                user_data=None) -> dict:
    """What the model card says about how the model is trained (cnnviz.core.networks.card; the
    per-epoch figures are added by _EpochSaver)."""
    from ..core.networks.arch_text import format_architecture
    from ..core.networks.card import training_card
    from ..core.training.user_training import set_card_facts

    folder = user_data.choice.folder.name if user_data else None
    card = training_card(
        model_name=(f"{args.arch}-{folder}" if folder else args.arch if args.dataset == "mnist"
                    else f"{args.arch}-{args.dataset}"),
        architecture=args.arch, layers=format_architecture(arch),
        dataset=user_data.choice.builtin or "mnist" if user_data else args.dataset,
        config=config, train_images=train_images, device=device.type,
        init=Path(args.init).name if args.init else None,  # fine-tuned from these weights
        processes=processes,
        command="cnnviz " + " ".join(args.argv) if args.argv[:1] == ["train"] else None)
    return set_card_facts(card, user_data) if user_data else card


def _model_and_data(args, arch):
    """The network to train (fresh, or --init's; on your own set its last layer sized to
    the set's classes) and the pictures: (train, labels, test, labels, held out for the
    verdict), and the set's TrainingData (None for MNIST and Fashion-MNIST)."""
    choice = dataset_choice(args.dataset)
    if choice.folder is None and not args.only_last_layer:
        model = _build_model(arch, args.seed)
        if args.init:
            model = _initial_weights(args, model)
        return model, _builtin_arrays(args), None
    from ..core.networks.models import ArchitectureError
    from ..core.training.user_set import UserSetError
    from ..core.training.user_training import fine_tune_start, load_training_data, with_class_count

    if args.only_last_layer and not args.init:
        raise CliError("--only-last-layer trains the last layer of a trained network: give "
                       "--init FILE (a network trained before)")
    try:
        data = load_training_data(choice, args.data_dir, args.test_share, args.seed,
                                  limit=args.limit)
        if args.init:
            model, notes = fine_tune_start(_init_file(args).model, data.classes,
                                           args.only_last_layer)
        else:
            resized, note = with_class_count(arch, len(data.classes))
            model, notes = _build_model(resized, args.seed), [note] if note else []
            model.class_names = model.names_for_outputs(data.classes)
    except (UserSetError, ArchitectureError) as exc:
        raise CliError(str(exc)) from None
    except KeyboardInterrupt:
        raise CliError("stopped while reading the set") from None
    for line in [data.description, *data.notes, *notes]:
        print(line, flush=True)
    return model, (data.x_train, data.y_train, data.x_test, data.y_test, None), data


def _builtin_arrays(args):
    x_train, y_train = load_data(args.dataset, "train", args.data_dir)
    x_test, y_test = load_data(args.dataset, "test", args.data_dir)
    held = _held_out_count(args, len(x_train))
    # the end of the training set, never trained on, fixes the verdict's threshold
    held_out = x_train[len(x_train) - held:]
    x_train, y_train = x_train[:len(x_train) - held], y_train[:len(y_train) - held]
    if args.limit is not None:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    return x_train, y_train, x_test, y_test, held_out


def _init_file(args):
    from ..core.networks.weights import WeightsError, load_weights

    try:
        return load_weights(args.init)
    except WeightsError as exc:
        raise CliError(f"--init {args.init}: {exc}") from None


def _initial_weights(args, model):
    """--init: the file's network, which must have the architecture being trained."""
    start = _init_file(args)
    if start.model.arch.to_dict() != model.arch.to_dict():
        raise CliError(f"--init {args.init} holds a different network than --arch {args.arch}")
    return start.model


def _train_architecture(args):
    """--arch as the editor reads it (a preset, a .json file or the text form), and the
    settings left out filled from the preset's own recipe: `cnnviz train --arch fast
    --out FILE` trains the way the fast preset is meant to be trained."""
    from ..core.networks.arch_text import resolve_architecture
    from ..core.networks.models import ArchitectureError
    from ..core.training.loop import recipe_for

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
    from ..core.training.loop import resolve_device

    try:
        return resolve_device(args.device)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _train_in_processes(args, arch, config, device) -> int:
    """--nproc N: the same command in N processes here (each joins the group and runs the
    one training loop); every option is checked here first, so a mistake is said once."""
    from ..core.networks.memory import available_memory_bytes
    from ..core.training.distributed import run_local

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
    from ..core.networks.models import ArchitectureError, build_model

    try:
        return build_model(arch, seed=seed)
    except ArchitectureError as exc:
        raise CliError(str(exc)) from None


def _held_out_count(args, train_images: int) -> int:
    """--hold-out: the last N training images, never trained on, fix the verdict's threshold."""
    from ..core.reading.verdict import HELD_OUT

    held = HELD_OUT if args.hold_out is None else args.hold_out
    if not 0 <= held <= train_images // 2:
        raise CliError(f"--hold-out must be from 0 to {train_images // 2:,} (got {held})")
    return held


def _checked_run(args, place):
    """The architecture, device and training settings, every one checked (with the lab's
    own checks) before any data is read."""
    from dataclasses import replace

    from ..core.training.distributed import nproc_problem
    from ..core.training.loop import batch_problem, config_problem

    arch, recipe = _train_architecture(args)
    lr, schedule = _train_settings(args)
    if not (math.isfinite(args.outlier_exposure) and 0 <= args.outlier_exposure <= 100):
        raise CliError(f"--outlier-exposure must be a number from 0 to 100 (got "
                       f"{args.outlier_exposure:g}); 0.5 is the default, 0 turns it off")
    device = _train_device(args)
    if not 0 <= args.test_share < 1:
        raise CliError(f"--test-share must be from 0 to below 1 (got {args.test_share:g})")
    builtin = dataset_choice(args.dataset).folder is None  # (your own symbols are not outliers)
    if not builtin and (args.nproc > 1 or place is not None):
        raise CliError("your own set trains in one process (it is small): leave out --nproc")
    launched = place is not None  # one of several processes (--nproc N, or torchrun)
    problem = nproc_problem(place.local_world if launched else args.nproc, device.type)
    if problem:
        raise CliError(problem)
    config = replace(recipe, epochs=args.epochs, batch_size=args.batch_size,
                     optimizer=args.optimizer, lr=lr, schedule=schedule,
                     augment=recipe.augment and not args.no_augment, seed=args.seed,
                     outlier_exposure=args.outlier_exposure if builtin else 0.0,
                     outlier_dataset=args.dataset if builtin else "mnist",
                     bfloat16=recipe.bfloat16 and not args.float32)
    if config.optimizer != recipe.optimizer:
        config.adam_beta1 = 0.9
    problem = config_problem(config)  # the lab's checks too (the flags were checked above)
    if problem is None:  # batch norm after a dense layer and one image a batch
        problem = batch_problem(arch, config, args.limit,
                                place.world if launched else args.nproc)
    if problem:
        raise CliError(problem)
    return arch, config, device


def _train(args, stop_requested, place) -> int:
    import torch

    from ..core.training.distributed import join, leave
    from ..core.training.loop import train, uses_bfloat16

    arch, config, device = _checked_run(args, place)
    _import_ahead("torch._dynamo")  # (the optimizer's first step needs it: ~1 s of imports)
    lr, schedule = config.lr, config.schedule
    launched = place is not None
    if args.nproc > 1 and not launched:
        return _train_in_processes(args, arch, config, device)
    out = _train_output(args)
    data_started = time.perf_counter()
    model, (x_train, y_train, x_test, y_test, held_out), user_data = _model_and_data(args, arch)
    split = {"start-up": data_started - args.started, "data": time.perf_counter() - data_started}
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
                  f"seed {args.seed}"
                  + (", bfloat16 forward pass" if uses_bfloat16(config, device.type) else ""),
                  flush=True)
        facts = _card_facts(args, model.arch, config, len(x_train), device,
                            world if parallel else None, user_data)
        bar = _BatchBar()
        saver = _EpochSaver(args, out, facts, bar, held_out)
        try:
            train_started = time.perf_counter()
            result = train(model, x_train, y_train, config, x_test, y_test,
                           on_batch=bar.on_batch, on_epoch=saver.on_epoch,
                           should_stop=stop_requested, device=device, parallel=parallel)
            # before the first epoch: outlier exposure's pictures (made once, then cached)
            split["pictures"] = time.perf_counter() - train_started - result.seconds
            split["training"] = sum(e.seconds for e in result.epochs)
        except (MemoryError, RuntimeError) as exc:
            raise_if_out_of_memory(exc, f"give a smaller --batch-size (now {args.batch_size}); "
                                         f"{saver.kept()}")
            raise
        finally:
            bar.close()
    finally:
        if parallel is not None:
            leave()
    return _said_and_kept(result, saver, leader, split, config.lr, args.started)


def _import_ahead(module: str) -> None:
    """Import a module on a thread of its own while this one reads the data (which mostly
    waits on gzip and hashing, outside the GIL); a later import finds it done or waits."""
    import importlib

    def work() -> None:
        with contextlib.suppress(Exception):  # then it is imported, and said, where needed
            importlib.import_module(module)

    threading.Thread(target=work, name=f"cnnviz-import-{module}", daemon=True).start()


def _said_and_kept(result, saver, leader, split: dict[str, float], lr: float,
                   started: float) -> int:
    """How the run ended, said once (by the first process), and its exit code; a finished
    run's side file becomes --out."""
    if result.diverged:
        if leader:
            print(f"Stopped: {result.diverged} (the learning rate {lr:g} is probably "
                  f"too high); {saver.kept()}", file=sys.stderr)
        return 1
    if result.interrupted:
        if leader:
            print(f"Stopped; {saver.kept()}", file=sys.stderr)
        return 130
    if leader:
        saver.finish()
        split.update(verdict=saver.verdict_seconds, saving=saver.saving_seconds)
        epochs = len(result.epochs)
        words = {"start-up": "start-up", "data": "reading the data",
                 "pictures": "outlier pictures",
                 "training": f"{epochs} epoch{'s' if epochs > 1 else ''}",
                 "verdict": "calibrating the verdict", "saving": "saving"}
        print(f"Done in {time.perf_counter() - started:.1f} s since the command started: "
              + ", ".join(f"{words[k]} {v:.1f} s" for k, v in split.items())
              + f". Test accuracy {result.epochs[-1].test_accuracy:.4f}. Wrote {saver.out}")
    return 0

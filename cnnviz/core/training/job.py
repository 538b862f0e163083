"""Training in a separate process, for the lab: the window never waits and keeps a CPU.

The parent side (`TrainingJob`) has no Qt: the lab's controller calls `poll()` from a
timer. The child process runs `cnnviz.core.training.loop.train` (the same code as
`cnnviz train`) and talks back in typed events (dataclasses that pickle; `as_event` is the
one place where what arrives becomes one; `event.type` is its name on the wire):

    RunStarted   train_images, test_images, batches_per_epoch, epochs, threads, classes
                 (the names of the network's outputs), notes (what was said of the data),
                 and on the user's own set set_sha256
    HeldOutSet   images (N, H, W) uint8, labels: the held-out pictures (on the user's own
                 set, whose split the child makes), before the first epoch
    BatchDone    epoch, batch, batches, loss, elapsed_s, eta_s
    FiltersNow   weights (the first convolution's, float32 (F, C, kh, kw)), epoch, batch
    ProbeAnswer  probabilities (classes,), prediction (the user's drawing, read by the
                 network being trained)
    EpochDone    epoch, train_loss, train_accuracy, test_loss, test_accuracy, confusion
                 (classes x classes), test_predictions (int), test_confidence (float),
                 test_labels, seconds
    WeightsKept  state (dict of numpy arrays): the last good weights, after each epoch
    RunPaused, RunResumed, RunFinished, RunStopped (epoch: the last complete one)
    RunFailed    message (in words), kind: missing_data | diverged | out_of_memory |
                 bad_setting | failed | ended

The run's phase (`RunPhase`) is one state machine: `phase_after(phase, event)`, kept by
the job alone as `job.phase` (stop() makes it STOPPING, more_epochs() RUNNING);
poll_phases() hands each event with the phase just after it, for views that show every
step.

Why a process and not a thread: torch's intra-op threads cannot be given a lower
priority than the GUI's, and on 2 cores a training thread with torch's threads limited
to 1 still takes the interpreter lock between its kernels, so strokes wait for it. A
child process has its own interpreter, runs at a lower priority (nice 10), and uses
`training_threads()` torch threads: one fewer than the CPUs there are, so one is left for
the window (the measurements are in the README). Spawned (not forked) because the parent
holds Qt's and torch's threads, which fork does not copy safely.

Commands reach the child between batches (and between the test set's evaluation
batches), so stop, pause and a new drawing take effect within one batch. A failure keeps
the weights of the last complete epoch in the child and in the parent (`last_weights`).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import sys
import time
from dataclasses import asdict, dataclass, field, fields, replace
from enum import Enum
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any, ClassVar

import numpy as np

from ..networks.models import Architecture
from ..networks.network import probabilities

__all__ = ["TrainingJob", "TrainingJobError", "training_threads", "RunPhase", "RunEvent",
           "RunStarted", "HeldOutSet", "BatchDone", "FiltersNow", "ProbeAnswer", "EpochDone",
           "WeightsKept", "RunPaused", "RunResumed", "RunFinished", "RunStopped", "RunFailed",
           "as_event", "phase_after"]

FILTERS_EVERY = 20  # batches between two "filters" events
PROBE_EVERY = 10  # batches between two readings of the user's drawing
CHILD_NICE = 10  # the child's priority below the window's


# ---------------------------------------------------------------------------------------
# What the child says: typed events (module-level dataclasses, so they pickle across the
# process boundary); read their fields as attributes (event.loss), their wire name as event.type.


class RunPhase(Enum):
    """The run's phase: the one state machine of a run (phase_after() moves it on)."""

    IDLE = "idle"  # nothing started yet
    STARTING = "starting"  # the child is reading the data
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"  # stop asked; stopped follows within a batch
    FINISHED = "finished"  # every epoch asked for is done (more epochs may follow)
    STOPPED = "stopped"  # stopped by the user (more epochs may follow)
    FAILED = "failed"  # an error (the last complete epoch's weights are kept)
    CLOSED = "closed"  # the child has ended

    @property
    def active(self) -> bool:
        """Training is going (or about to, or stopping): the settings cannot change."""
        return self in _ACTIVE

    @property
    def done(self) -> bool:
        """Finished or stopped: the network can be kept or trained more."""
        return self in (RunPhase.FINISHED, RunPhase.STOPPED)


_ACTIVE = (RunPhase.STARTING, RunPhase.RUNNING, RunPhase.PAUSED, RunPhase.STOPPING)


@dataclass(frozen=True, eq=False)
class RunEvent:
    """One thing the child said. eq=False: events carry arrays, compared by identity."""

    type: ClassVar[str] = ""  # its name on the wire (a stand-in's dict says it so)


@dataclass(frozen=True, eq=False)
class RunStarted(RunEvent):
    """The data is read and the network made; training begins."""

    type: ClassVar[str] = "started"
    train_images: int = 0
    test_images: int = 0
    batches_per_epoch: int = 0
    epochs: int = 0
    threads: int = 1
    classes: list = field(default_factory=list)  # the names of the network's outputs
    notes: list = field(default_factory=list)  # what was said of the data
    set_sha256: str | None = None  # the user's set's manifest (on the user's own set)


@dataclass(frozen=True, eq=False)
class HeldOutSet(RunEvent):
    """The held-out pictures of the user's own set (the child makes the split)."""

    type: ClassVar[str] = "test_set"
    images: np.ndarray  # (N, H, W) uint8
    labels: np.ndarray


@dataclass(frozen=True, eq=False)
class BatchDone(RunEvent):
    type: ClassVar[str] = "batch"
    epoch: int = 1
    batch: int = 1  # from 1 within its epoch
    batches: int = 1
    loss: float = float("nan")
    elapsed_s: float | None = None
    eta_s: float | None = None


@dataclass(frozen=True, eq=False)
class FiltersNow(RunEvent):
    """The first convolution's weights, float32 (F, C, kh, kw)."""

    type: ClassVar[str] = "filters"
    weights: np.ndarray
    epoch: int = 0
    batch: int = 0


@dataclass(frozen=True, eq=False)
class ProbeAnswer(RunEvent):
    """The user's drawing read by the network being trained."""

    type: ClassVar[str] = "probe"
    probabilities: np.ndarray  # (classes,)
    prediction: int | None = None  # (None: the most probable)

    @property
    def answer(self) -> int:
        return (int(self.prediction) if self.prediction is not None
                else int(np.argmax(self.probabilities)))


@dataclass(frozen=True, eq=False)
class EpochDone(RunEvent):
    """An epoch's figures on the training and test sets."""

    type: ClassVar[str] = "epoch"
    epoch: int = 0
    train_loss: float | None = None
    train_accuracy: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None
    confusion: np.ndarray | None = None  # classes x classes
    test_predictions: np.ndarray | None = None  # int, of the test images in order
    test_confidence: np.ndarray | None = None  # float
    test_labels: np.ndarray | None = None
    seconds: float = 0.0

    def figures(self) -> dict:
        """The epoch's fields as a dict (what the model card reads)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, eq=False)
class WeightsKept(RunEvent):
    """The last good weights (state dict of numpy arrays), after an epoch."""

    type: ClassVar[str] = "weights"
    state: dict
    epoch: int = 0
    evaluated: bool = True  # False: stopped while testing (its accuracy is not known)


@dataclass(frozen=True, eq=False)
class RunPaused(RunEvent):
    type: ClassVar[str] = "paused"
    epoch: int = 0


@dataclass(frozen=True, eq=False)
class RunResumed(RunEvent):
    type: ClassVar[str] = "resumed"
    epoch: int = 0


@dataclass(frozen=True, eq=False)
class RunFinished(RunEvent):
    type: ClassVar[str] = "finished"
    epoch: int = 0  # the last complete one


@dataclass(frozen=True, eq=False)
class RunStopped(RunEvent):
    type: ClassVar[str] = "stopped"
    epoch: int = 0  # the last complete one


@dataclass(frozen=True, eq=False)
class RunFailed(RunEvent):
    """kind: missing_data | diverged | out_of_memory | bad_setting | failed | ended."""

    type: ClassVar[str] = "error"
    message: str = "training failed"
    kind: str = "failed"


EVENT_TYPES: dict[str, type[RunEvent]] = {cls.type: cls for cls in (
    RunStarted, HeldOutSet, BatchDone, FiltersNow, ProbeAnswer, EpochDone, WeightsKept,
    RunPaused, RunResumed, RunFinished, RunStopped, RunFailed)}

_PHASE_AFTER = {RunStarted: RunPhase.RUNNING, RunResumed: RunPhase.RUNNING,
                RunPaused: RunPhase.PAUSED, RunFinished: RunPhase.FINISHED,
                RunStopped: RunPhase.STOPPED, RunFailed: RunPhase.FAILED}


def as_event(message) -> RunEvent:
    """A message received from the child (or a stand-in's dict with a "type") as its typed
    event: the one place where what arrives becomes an event. Unknown fields are left out."""
    if isinstance(message, RunEvent):
        return message
    cls = EVENT_TYPES.get(str(message.get("type"))) if isinstance(message, dict) else None
    if cls is None:
        raise ValueError(f"not a training event: {message!r:.80}")
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in message.items() if k in known})


def phase_after(phase: RunPhase, event: RunEvent) -> RunPhase:
    """The run's phase once event has arrived (a closed run stays closed)."""
    if phase is RunPhase.CLOSED:
        return phase
    return _PHASE_AFTER.get(type(event), phase)


class TrainingJobError(RuntimeError):
    """Asking the job for something it cannot do now (more epochs before it started)."""


def training_threads(cpus: int | None = None) -> int:
    """Torch threads for the training process: all but one CPU (one is left for the
    window), at least one. 2 cores -> 1 thread."""
    if cpus is None:
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # macOS, Windows
            cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


@dataclass(frozen=True)
class _Setup:
    """What the child needs (picklable; the images are read in the child)."""

    architecture: dict
    dataset: str
    data_dir: str | None
    config: dict
    limit: int | None
    test_limit: int | None
    initial_state: dict | None
    threads: int
    device: str
    user_set: str | None = None  # cnnviz.core.training.user_training.parse_dataset's text: DIR, mnist+DIR
    test_share: float = 0.2  # of the user's set, held out by writer
    only_last_layer: bool = False  # fine-tuning: every other layer frozen


def _set_problem(text: str, test_share: float) -> tuple[str | None, str | None]:
    """(why the user's set cannot be trained on, or None; the built-in dataset trained
    beside it, or None). Only looks at the folder's name; the child reads the set."""
    from .user_set import UserSetError
    from .user_training import parse_dataset

    if not 0.0 <= test_share < 1.0:
        return f"the held-out share must be from 0 to less than 1, got {test_share:g}", None
    try:
        return None, parse_dataset(text).builtin
    except UserSetError as exc:
        return str(exc), None


class TrainingJob:
    """One network trained in a child process. Not thread-safe: call from one thread.

    start() starts it; pause(), resume(), stop(), more_epochs(n) and set_probe(image) ask
    the child; poll() returns the events that have arrived (never waits); close() ends
    the child (also mid-training, as when the window closes)."""

    def __init__(self, architecture: Architecture, dataset: str = "mnist",
                 data_dir: str | os.PathLike | None = None, config=None,
                 limit: int | None = None, test_limit: int | None = None,
                 initial_state: dict | None = None, threads: int | None = None,
                 device: str = "cpu",  # "auto", "cpu", "cuda" or "mps"
                 user_set: str | None = None, test_share: float = 0.2,
                 only_last_layer: bool = False):
        from .loop import TrainConfig

        self.architecture = architecture
        self.dataset = dataset
        self.data_dir = None if data_dir is None else str(data_dir)
        self.config = config if config is not None else TrainConfig()
        self.limit, self.test_limit = limit, test_limit
        self.initial_state = initial_state
        self.threads = threads if threads is not None else training_threads()
        self.device = device
        self.user_set, self.test_share = user_set, float(test_share)
        self.only_last_layer = bool(only_last_layer)
        self.phase = RunPhase.IDLE
        self.last_weights: dict | None = None  # state dict of the last complete epoch
        self.last_weights_epoch: int | None = None
        self.epochs_done = 0
        self._pending: list[RunEvent] = []  # events made here (missing data, ended)
        self._process: BaseProcess | None = None
        self._commands: Queue | None = None
        self._events: Queue | None = None
        self._ended_reported = False

    # -- the child's life ---------------------------------------------------------------

    def start(self) -> None:
        """Start training. Problems found before any work (a bad setting, the dataset
        missing from the data folder) come back from poll() as an error event."""
        if self.phase is not RunPhase.IDLE:
            raise TrainingJobError("this job has already been started; make a new one")
        from ..datasets.data import DATASETS, find_file, missing_message
        from .loop import batch_problem, config_problem

        problem = config_problem(self.config) or batch_problem(self.architecture, self.config,
                                                               self.limit)
        builtin: str | None = self.dataset
        if problem is None and self.user_set is not None:
            problem, builtin = _set_problem(self.user_set, self.test_share)
        if problem is None and self.dataset not in DATASETS:
            problem = f"unknown dataset {self.dataset!r} (known: {', '.join(DATASETS)})"
        if problem is None and self.limit is not None and self.limit < 1:
            problem = f"the image limit must be at least 1, got {self.limit}"
        if problem:
            self._fail(problem, "bad_setting")
            return
        # The training set must be there (the lab offers the download otherwise); only
        # names are looked at here, the child reads and checks the files.
        parts = ("train-images", "train-labels", "test-images", "test-labels")
        if builtin and not all(find_file(builtin, part, self.data_dir).is_file()
                               for part in parts):
            self._fail(missing_message(builtin, self.data_dir), "missing_data")
            return
        ctx = mp.get_context("spawn")
        self._commands = ctx.Queue()
        self._events = ctx.Queue()
        setup = _Setup(self.architecture.to_dict(), self.dataset, self.data_dir,
                       asdict(self.config), self.limit, self.test_limit, self.initial_state,
                       self.threads, self.device, self.user_set, self.test_share,
                       self.only_last_layer)
        self._process = process = ctx.Process(target=_child_main,
                                              args=(setup, self._commands, self._events),
                                              name="cnnviz-training", daemon=True)
        process.start()
        self.phase = RunPhase.STARTING

    def _fail(self, message: str, kind: str) -> None:
        self._pending.append(RunFailed(message, kind))
        self.phase = RunPhase.FAILED

    def _send(self, *command) -> None:
        if self._process is None or self._commands is None or not self._process.is_alive():
            return
        self._commands.put(command)

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self) -> None:
        """Stop after the current batch; the network keeps its last complete epoch."""
        if self.phase in (RunPhase.STARTING, RunPhase.RUNNING, RunPhase.PAUSED):
            self.phase = RunPhase.STOPPING
        self._send("stop")

    def more_epochs(self, n: int) -> None:
        """Train n more epochs on the same network (after finished or stopped)."""
        if not self.is_alive:
            raise TrainingJobError("the training process is not running; start a new job")
        if not (isinstance(n, int) and 1 <= n <= 10_000):
            raise TrainingJobError(f"more epochs must be 1 to 10,000, got {n!r}")
        if not self.phase.done:
            raise TrainingJobError(f"more epochs can be asked for when training has finished "
                                   f"or stopped (it is {self.phase.value})")
        self._send("more", n)
        self.phase = RunPhase.RUNNING

    def set_probe(self, image28) -> None:
        """The user's current preprocessed drawing ((28, 28) in [0, 1]), or None."""
        self._send("probe", None if image28 is None else np.asarray(image28, np.float32))

    @property
    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def poll(self) -> list[RunEvent]:
        """The events that have arrived since the last call, oldest first (never waits);
        the run's phase follows them."""
        return [event for event, _phase in self.poll_phases()]

    def poll_phases(self) -> list[tuple[RunEvent, RunPhase]]:
        """poll(), each event with the run's phase just after it: what a view that shows
        every step of the run follows (the job alone moves the phase)."""
        events = [(event, self.phase) for event in self._pending]
        self._pending = []
        for message in self._received():
            event = as_event(message)
            self._note(event)
            events.append((event, self.phase))
        if (self._process is not None and not self._process.is_alive()
                and self.phase.active and not self._ended_reported):
            # Died without a word (killed, out of memory in the C++ side): say so.
            self._ended_reported = True
            code = self._process.exitcode
            ended = RunFailed(f"the training process ended unexpectedly (exit code {code}); "
                              f"the last complete epoch's weights are kept", "ended")
            self._note(ended)
            events.append((ended, self.phase))
        return events

    def _received(self) -> list:
        """What the child has sent since the last call (never waits)."""
        messages: list = []
        if self._events is not None:
            while True:
                try:
                    messages.append(self._events.get_nowait())
                except (queue.Empty, OSError, ValueError, EOFError):
                    break
        return messages

    def _note(self, event: RunEvent) -> None:
        if isinstance(event, WeightsKept):
            self.last_weights = event.state
            self.last_weights_epoch = event.epoch
        elif isinstance(event, EpochDone):
            self.epochs_done = event.epoch
        self.phase = phase_after(self.phase, event)

    def close(self, timeout: float = 3.0) -> None:
        """End the child (asking first, then terminating); safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            if process.is_alive() and self._commands is not None:  # (made with the process)
                with contextlib.suppress(OSError, ValueError):
                    self._commands.put(("close",))
                process.join(timeout)
            if process.is_alive():
                process.terminate()
                process.join(1.0)
            if process.is_alive():
                process.kill()
                process.join(1.0)
        for q in (self._commands, self._events):
            if q is not None:
                q.cancel_join_thread()  # never wait on data the child will not read
                q.close()
        self._commands = self._events = None
        self.phase = RunPhase.CLOSED

    def __del__(self):  # a job dropped without close() must not leave a process behind
        try:
            if self._process is not None and self._process.is_alive():
                self._process.terminate()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


# ---------------------------------------------------------------------------------------
# The child process


class _Stop(Exception):
    """Internal: stop was asked for (or the parent went away)."""


class _Child:
    def __init__(self, setup: _Setup, commands, events):
        self.setup, self.commands, self.events = setup, commands, events
        self.paused = False
        self.stop_asked = False
        self.closing = False
        self.probe: np.ndarray | None = None
        self.more: list[int] = []
        self.parent = mp.parent_process()
        self.epoch = 0  # epochs completed over the whole job
        self.session_epochs = 0
        self.batch_count = 0
        self.session_started = 0.0
        self.paused_seconds = 0.0
        self.batches_per_epoch = 1
        self.classes = 10  # outputs of the network trained

    def emit(self, event: RunEvent) -> None:
        self.events.put(event)

    # Commands ---------------------------------------------------------------------------

    def _handle(self, command: tuple) -> None:
        name = command[0]
        if name == "pause" and not self.paused:
            self.paused = True
            self.emit(RunPaused(self.epoch + 1))
        elif name == "resume" and self.paused:
            self.paused = False
            self.emit(RunResumed(self.epoch + 1))
        elif name == "stop":
            self.stop_asked = True
        elif name == "close":
            self.closing = self.stop_asked = True
        elif name == "more":
            self.more.append(int(command[1]))
        elif name == "probe":
            self.probe = command[1]
            self.read_probe()

    def _parent_gone(self) -> bool:
        from .parent import parent_gone

        pid = None if self.parent is None else self.parent.pid
        return pid is not None and parent_gone(pid)

    def check(self) -> None:
        """Between batches: read every waiting command; wait while paused; _Stop to stop
        (also when the window was killed: nobody would see the rest)."""
        while True:
            try:
                self._handle(self.commands.get_nowait())
            except queue.Empty:
                break
        if self._parent_gone():
            self.closing = self.stop_asked = True
        if self.paused and not self.stop_asked:
            since = time.perf_counter()
            while self.paused and not self.stop_asked:
                try:
                    self._handle(self.commands.get(timeout=0.2))
                except queue.Empty:
                    if self._parent_gone():
                        self.closing = self.stop_asked = True
            self.paused_seconds += time.perf_counter() - since
        if self.stop_asked:
            raise _Stop

    def wait_for_more(self) -> int | None:
        """After finishing or stopping: the next 'more epochs' (None: close)."""
        self.stop_asked = self.paused = False
        while not self.closing:
            if self.more:
                return self.more.pop(0)
            try:
                self._handle(self.commands.get(timeout=0.5))
            except queue.Empty:
                if self._parent_gone():
                    return None
            self.stop_asked = False  # a stop while idle means nothing
        return None

    # What the lab shows -----------------------------------------------------------------

    def read_probe(self) -> None:
        if self.probe is None or getattr(self, "model", None) is None:
            return
        import torch

        model = self.model
        if tuple(model.input_spec.shape) != (1, 28, 28):
            return  # the drawing is 28x28; a set of another size has no live answer
        was_training = model.training
        device = next(model.parameters()).device
        model.eval()
        with torch.no_grad():
            x = torch.as_tensor(self.probe, dtype=torch.float32).reshape(1, 1, 28, 28)
            probs = probabilities(model(x.to(device)))[0].cpu().numpy()
        model.train(was_training)
        self.emit(ProbeAnswer(probs.astype(np.float32), int(probs.argmax())))

    def send_filters(self, batch: int) -> None:
        from torch import nn

        for layer in self.model.layers.values():
            if isinstance(layer, nn.Conv2d):
                weights = layer.weight.detach().float().cpu().contiguous().numpy().copy()
                self.emit(FiltersNow(weights, self.epoch + 1, batch))
                return

    def send_weights(self, model, evaluated: bool = True) -> None:
        state = {k: v.detach().cpu().contiguous().numpy().copy()
                 for k, v in model.state_dict().items()}
        self.emit(WeightsKept(state, self.epoch, evaluated))

    # Callbacks of training.train ------------------------------------------------------

    def should_stop(self) -> bool:
        try:
            self.check()
        except _Stop:
            return True
        return False

    def on_batch(self, b: int, steps: int, loss: float) -> None:
        self.batch_count += 1
        done = self.session_epochs_done * steps + b + 1
        total = self.session_epochs * steps
        elapsed = time.perf_counter() - self.session_started - self.paused_seconds
        eta = elapsed / done * (total - done) if done else float("nan")
        self.emit(BatchDone(self.epoch + 1, b + 1, steps, loss, elapsed, eta))
        if (b + 1) % FILTERS_EVERY == 0:
            self.send_filters(b + 1)
        if self.probe is not None and (b + 1) % PROBE_EVERY == 0:
            self.read_probe()

    def on_epoch(self, result, model) -> None:
        from .loop import evaluate

        self.epoch += 1
        self.session_epochs_done += 1
        t0 = time.perf_counter()
        try:
            metrics = evaluate(model, self.x_test, self.y_test, device=self.device,
                               between_batches=self.check)
        except _Stop:
            self.send_weights(model, evaluated=False)  # the epoch is complete; keep it
            raise KeyboardInterrupt from None  # train() stops and keeps these weights
        k = self.classes  # evaluate() makes at least 10x10; fewer classes: their own rows
        self.emit(EpochDone(epoch=self.epoch, train_loss=result.train_loss,
                            train_accuracy=result.train_accuracy, test_loss=metrics["loss"],
                            test_accuracy=metrics["accuracy"],
                            confusion=np.asarray(metrics["confusion"], np.int64)[:k, :k],
                            test_predictions=np.asarray(metrics["predictions"], np.int64),
                            test_confidence=np.asarray(metrics["confidence"], np.float32),
                            test_labels=self.y_test_numpy,
                            seconds=result.seconds + time.perf_counter() - t0))
        self.send_weights(model)
        self.send_filters(self.batches_per_epoch)
        if self.probe is not None:
            self.read_probe()
        model.train()  # evaluate() left it in eval mode; the next epoch trains

    # The run --------------------------------------------------------------------------

    def run(self) -> None:
        import torch

        from .loop import TrainConfig, resolve_device, steps_per_epoch, to_tensor, train

        setup = self.setup
        torch.set_num_threads(setup.threads)
        arch = Architecture.from_dict(setup.architecture)
        config = TrainConfig(**setup.config)
        data = self._load_data(config.seed)
        if data is None:
            return
        x_train, y_train, x_test, y_test, facts = data
        try:
            self.device = resolve_device(setup.device)
        except ValueError as exc:
            self.emit(RunFailed(str(exc), "bad_setting"))
            return
        self.x_test = to_tensor(x_test)
        self.y_test = y_test
        self.y_test_numpy = np.asarray(y_test, np.int64)
        torch.manual_seed(config.seed)
        self.classes = len(facts["classes"])
        self.model = model = self._network(arch, self.classes)
        if model is None:
            return
        self.batches_per_epoch = steps_per_epoch(arch, len(x_train), config)
        self.emit(RunStarted(train_images=int(len(x_train)), test_images=int(len(x_test)),
                             batches_per_epoch=self.batches_per_epoch, epochs=config.epochs,
                             threads=torch.get_num_threads(), **facts))
        if setup.user_set is not None:  # the held-out split is made here: the lab shows it
            self.emit(HeldOutSet(np.asarray(x_test, np.uint8), self.y_test_numpy))
        self.send_filters(0)
        self.read_probe()  # a drawing sent before the network existed: the random answer
        epochs: int | None = config.epochs
        session = 0
        while epochs is not None:
            self.session_epochs, self.session_epochs_done = epochs, 0
            self.session_started, self.paused_seconds = time.perf_counter(), 0.0
            # A later session: new data order, a fresh schedule over its own epochs.
            run_config = replace(config, epochs=epochs, seed=config.seed + session)
            result = self._train_once(train, model, x_train, y_train, run_config)
            if result is None:  # out of memory or another failure, already said
                return
            if result.diverged:
                self.emit(RunFailed(f"training stopped: {result.diverged} (the learning rate "
                                    f"{config.lr:g} is probably too high; try one ten times "
                                    f"smaller).", "diverged"))
            elif result.interrupted:
                self.emit(RunStopped(self.epoch))
            else:
                self.emit(RunFinished(self.epoch))
            if self.closing:
                return
            session += 1
            epochs = self.wait_for_more()

    def _load_data(self, seed: int):
        """(x_train, y_train, x_test, y_test, facts for the started event), or None when
        the data cannot be read (said as an error event)."""
        from ..datasets.data import DATASETS, DataError, load_split
        from .user_set import UserSetError
        from .user_training import load_training_data, parse_dataset

        setup = self.setup
        facts: dict[str, Any] = {"classes": list(DATASETS[setup.dataset].classes), "notes": []}
        try:
            if setup.user_set is None:
                x_train, y_train = load_split(setup.dataset, "train", setup.data_dir)
                x_test, y_test = load_split(setup.dataset, "test", setup.data_dir)
                if setup.limit is not None:
                    x_train, y_train = x_train[:setup.limit], y_train[:setup.limit]
            else:
                data = load_training_data(parse_dataset(setup.user_set), setup.data_dir,
                                          setup.test_share, seed, should_stop=self.should_stop,
                                          limit=setup.limit)
                x_train, y_train, x_test, y_test = (data.x_train, data.y_train, data.x_test,
                                                    data.y_test)
                facts = {"classes": data.classes, "notes": [data.description, *data.notes],
                         "set_sha256": data.set_sha256}
        except DataError as exc:
            self.emit(RunFailed(str(exc), "missing_data"))
            return None
        except UserSetError as exc:
            self.emit(RunFailed(str(exc), "bad_setting"))
            return None
        except KeyboardInterrupt:  # stopped while the set was read
            self.emit(RunStopped(0))
            return None
        if setup.test_limit is not None:
            x_test, y_test = x_test[:setup.test_limit], y_test[:setup.test_limit]
        return x_train, y_train, x_test, y_test, facts

    def _network(self, arch: Architecture, classes: int):
        """The network to train: fresh (seeded), or from the starting weights (and with
        only its last layer trainable when asked); None when they do not fit (said)."""
        import torch

        from ..networks.models import Network
        from .user_training import train_only_last_layer

        model = Network(arch)
        outputs = int(np.prod(model.layer_infos[-1].output_shape))
        if outputs != classes:
            self.emit(RunFailed(f"the network gives {outputs} outputs but the data has "
                                f"{classes} classes (choose the dataset again so the last "
                                f"layer follows)", "bad_setting"))
            return None
        if self.setup.initial_state is not None:
            try:
                model.load_state_dict({k: torch.as_tensor(np.asarray(v))
                                       for k, v in self.setup.initial_state.items()})
            except (RuntimeError, KeyError, ValueError, TypeError) as exc:
                self.emit(RunFailed(f"the starting weights do not fit this network "
                                    f"({str(exc).splitlines()[0]})", "bad_setting"))
                return None
        if self.setup.only_last_layer:
            train_only_last_layer(model)
        return model

    def _train_once(self, train, model, x_train, y_train, config):
        last_good = {k: v.detach().clone() for k, v in model.state_dict().items()}
        try:
            return train(model, x_train, y_train, config, on_batch=self.on_batch,
                         on_epoch=self.on_epoch, should_stop=self.should_stop,
                         device=self.device)
        except (MemoryError, RuntimeError) as exc:  # torch.cuda.OutOfMemoryError is one
            from ..networks.memory import out_of_memory

            what = out_of_memory(exc)
            if what is not None:
                message, kind = (f"out of memory: try a smaller batch size or a smaller "
                                 f"network ({what})"), "out_of_memory"
            else:
                text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                message, kind = f"training failed: {text}", "failed"
        except ValueError as exc:  # a setting train() refuses
            message, kind = str(exc), "bad_setting"
        model.to("cpu")
        model.load_state_dict(last_good)
        self.emit(RunFailed(message + ".", kind))  # (the lab says what is kept)
        return None


def _child_main(setup: _Setup, commands, events) -> None:
    with contextlib.suppress(AttributeError, OSError):  # not on Windows
        os.nice(CHILD_NICE)  # the window before training, when both want the CPU
    child = _Child(setup, commands, events)
    try:
        child.run()
    except Exception as exc:  # noqa: BLE001 - the parent must hear it in words
        events.put(RunFailed(f"training failed: {type(exc).__name__}: {exc}", "failed"))
    finally:
        events.close()
        if child.closing or child._parent_gone():
            events.cancel_join_thread()  # nobody reads what is left; do not wait for it
        else:
            events.join_thread()  # everything said reaches the parent before the exit
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    # Everything is said: skip the interpreter's teardown of torch (seconds on a busy
    # machine), so closing the window is quick.
    os._exit(0)

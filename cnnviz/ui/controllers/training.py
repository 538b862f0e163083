"""The training lab's run: one training at a time, polled, never blocking.

TrainingController owns the cnnviz.core.training.job.TrainingJob (which trains in a child
process), a QTimer that polls the job's typed events and writes them into the lab's run
model (cnnviz.ui.lab.run_model.RunModel, evented: the views subscribe to it), the last
good weights (a failure keeps them), the user's drawing sent to the training, and the
network being trained as a model the CNN explorer can show (with its card). The lab's
file work (test set, download, keep, save as) is lab_files.LabFilesController's.

    controller.start(arch, "mnist", data_dir, config)   # run.phase STARTING, RUNNING, …
    controller.stop()                                   # within a second: STOPPED
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from cnnviz.core.training.job import (
    BatchDone,
    EpochDone,
    FiltersNow,
    HeldOutSet,
    ProbeAnswer,
    RunEvent,
    RunFailed,
    RunFinished,
    RunPhase,
    RunStarted,
    RunStopped,
    WeightsKept,
)

from ..lab.run_model import RunModel
from .runner import LatestRequestRunner

if TYPE_CHECKING:
    from cnnviz.core.networks.models import Architecture
    from cnnviz.core.training.job import TrainingJob
    from cnnviz.core.training.loop import TrainConfig

POLL_MS = 50  # how often the job's events are read (each poll is a queue drain, no wait)
FOLLOW_MIN_S = 1.5  # the CNN explorer follows the training's weights at most this often
BUSY_KEY = "training"


@dataclass
class RunSettings:
    """What a run was started with (the model card's training settings)."""

    dataset: str  # the built-in dataset ("mnist" also for the user's own set: its drawings)
    config: TrainConfig
    limit: int | None
    test_limit: int | None
    user_set: str | None = None  # parse_dataset's text (DIR or mnist+DIR)
    test_share: float = 0.2
    start_name: str | None = None  # the network fine-tuned, by name
    only_last_layer: bool = False

    def job_options(self) -> dict:
        """What a job is told beyond the built-in dataset (nothing for a plain run)."""
        if self.user_set is None and not self.only_last_layer:
            return {}
        return {"user_set": self.user_set, "test_share": self.test_share,
                "only_last_layer": self.only_last_layer}


def training_set_problem(dataset: str, data_dir) -> str | None:
    """Why the lab cannot train on dataset from data_dir (the files are not there), or None.
    Only looks whether the files exist (no reading)."""
    from cnnviz.core.datasets.data import find_file, get_dataset_info, resolve_data_dir

    info = get_dataset_info(dataset)
    missing = [part for part in info.files if not find_file(dataset, part, data_dir).is_file()]
    if not missing:
        return None
    folder = resolve_data_dir(data_dir) / info.key
    what = "training set" if any(p.startswith("train") for p in missing) else "test set"
    return (f"The {info.name} {what} is not in {folder}: the lab trains on the 60,000 "
            f"training images and checks itself on the 10,000 test images.")


class TrainingController(QObject):
    """See the module docstring. All signals are emitted on the GUI thread."""

    # The run itself (phase, batches, epochs, filters, the drawing's reading, the error)
    # is told through self.run, an evented RunModel the lab's views subscribe to.
    message = Signal(str)  # a sentence for the lab's status line

    def __init__(self, state, parent: QObject | None = None, job_factory=None) -> None:
        super().__init__(parent)
        self.state = state
        self._job_factory = job_factory  # tests may give one; default TrainingJob
        self.job: TrainingJob | None = None  # (or what the tests' job_factory makes)
        self.run = RunModel()  # what the run has said, for the lab's views
        self.arch: Architecture | None = None  # the architecture of the current (or last) run
        self.settings: RunSettings | None = None
        self.weights: dict | None = None  # the last good weights (state dict of numpy arrays)
        self.weights_epoch = 0  # the epoch those weights finished (0: none yet)
        self.classes: list[str] = []  # the names of the network's outputs
        self.set_sha256: str | None = None  # the user's set's manifest, as the run read it
        self._started_event: RunStarted | None = None
        self.following = False  # the CNN explorer shows the network being trained
        self.same_job = False  # the last "train more" went on in the same job (its epochs count on)
        self._followed_at = 0.0
        self._follow_pending = False
        self._shut = False
        self._started_at = 0.0
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.probe_runner = LatestRequestRunner("lab-probe", self)
        self.probe_runner.finished.connect(lambda _g, image: self._send_probe(image))
        self._published = None  # the LoadedModel this controller last made the state's model
        state.analysis_ready.connect(self._on_analysis)
        state.events.model.connect(self._on_model_changed)

    # ----- the run ------------------------------------------------------------------------

    @property
    def phase(self) -> RunPhase:
        """The job's phase, event by event (FAILED also when no job could start)."""
        return self.run.phase

    @property
    def epochs(self) -> list[EpochDone]:
        return self.run.epochs

    @property
    def error(self) -> str | None:
        return self.run.error

    @property
    def running(self) -> bool:
        return self.phase.active

    def _set_phase(self, phase: RunPhase) -> None:
        if phase is RunPhase.CLOSED:
            return  # (a job closed for the next one: the lab shows how the last one ended)
        if phase != self.phase:
            self.state.training = phase.active
            self.state.busy_changed.emit(BUSY_KEY, phase in (
                RunPhase.STARTING, RunPhase.RUNNING, RunPhase.STOPPING))
            self.run.phase = phase

    def start(self, arch, dataset: str, data_dir, config, limit: int | None = None,
              test_limit: int | None = None, *, user_set: str | None = None,
              test_share: float = 0.2, classes: list[str] | None = None, start_from=None,
              only_last_layer: bool = False) -> bool:
        """Train arch from random weights (seeded by config.seed), on a built-in dataset or
        the user's set (user_set: DIR or mnist+DIR, `classes` its classes); or fine-tune
        start_from (a LoadedModel: its weights, the last layer replaced when the class count
        differs, optionally the only one trained). False (with a message) when a run is
        going or the job cannot be made."""
        from cnnviz.core.datasets.data import get_dataset_info

        if self.running:
            self.message.emit("A training is running: stop it first.")
            return False
        self._close_job()
        classes = list(classes or get_dataset_info(dataset).classes)
        initial_state = None
        if start_from is not None:
            initial_state, arch = self._fine_tune_state(start_from, classes, only_last_layer)
            if initial_state is None:
                return False
        self.arch, self.classes, self.set_sha256 = arch, classes, None
        self.settings = RunSettings(dataset, config, limit, test_limit, user_set, test_share,
                                    start_from.name if start_from is not None else None,
                                    only_last_layer)
        self.weights, self.weights_epoch = None, 0
        self.run.new_run(classes)
        return self._launch(initial_state=initial_state)

    def _fine_tune_state(self, start_from, classes, only_last_layer):
        """(the starting weights as numpy arrays, the architecture) of fine-tuning a model;
        (None, None) with the reason said when it cannot be."""
        from cnnviz.core.training.user_training import fine_tune_start

        try:
            model, notes = fine_tune_start(start_from.model, classes, only_last_layer)
        except Exception as exc:  # a network without a last dense layer, in words
            self._fail(f"{start_from.name} cannot be fine-tuned: {exc}")
            return None, None
        for line in notes:
            self.message.emit(line)
        state = {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
        return state, model.arch

    def more_epochs(self, n: int) -> bool:
        """Train the same network n more epochs (the job's own more_epochs when it is still
        there, else a new job from the last good weights)."""
        if self.arch is None or self.settings is None or self.running or n < 1:
            return False
        self.same_job = False
        if self.job is not None and self.error is None:
            try:
                self.job.more_epochs(n)
            except Exception as exc:  # a job that has ended cannot go on: start one below
                self.message.emit(f"Starting a new run from the last weights ({exc}).")
            else:
                self.same_job = True
                self._started_at = time.monotonic()
                self._set_phase(self.job.phase)
                self.timer.start()
                return True
        from dataclasses import replace

        self.settings.config = replace(self.settings.config, epochs=n)
        self._close_job()
        return self._launch(initial_state=self.weights)

    def _launch(self, initial_state) -> bool:
        settings = self.settings
        assert settings is not None and self.arch is not None  # both set before any launch
        self.run.error = None
        try:
            factory = self._job_factory or _default_job_factory()
            self.job = job = factory(self.arch, settings.dataset, self._data_dir,
                                     settings.config, limit=settings.limit,
                                     test_limit=settings.test_limit,
                                     initial_state=initial_state, **settings.job_options())
            job.start()
        except Exception as exc:  # a bad setting: said in the lab, the app stays up
            self.job = None
            self._fail(f"Training could not start: {exc}")
            return False
        self._started_at = time.monotonic()
        self._set_phase(job.phase)
        self.timer.start()
        self._send_current_probe()
        return True

    _data_dir = None

    def set_data_dir(self, data_dir) -> None:
        self._data_dir = data_dir

    @property
    def data_dir(self):
        return self._data_dir

    def pause(self) -> None:
        if self.job is not None and self.phase is RunPhase.RUNNING:
            self.job.pause()

    def resume(self) -> None:
        if self.job is not None and self.phase is RunPhase.PAUSED:
            self.job.resume()

    def stop(self) -> None:
        """Ask the job to stop; 'stopped' follows within a second (the last good weights
        are kept)."""
        if self.job is not None and self.running:
            self.job.stop()
            self._set_phase(self.job.phase)

    def poll(self) -> None:
        """Read the job's events (never waits) and publish each."""
        if self.job is None:
            self.timer.stop()
            return
        try:
            events = self.job.poll_phases()
        except Exception as exc:
            self._fail(f"Training stopped: {exc}")
            return
        for event, phase in events:
            self._set_phase(phase)  # the job's phase just after this event
            self._on_event(event)
        if self._follow_pending:
            self._follow_now()

    def _on_event(self, event: RunEvent) -> None:
        if isinstance(event, RunStarted):
            if event.classes:
                self.classes = [str(c) for c in event.classes]
                self.run.classes = list(self.classes)
            self.set_sha256 = event.set_sha256
            self._started_event = event
        elif isinstance(event, HeldOutSet):  # the held-out part of the user's set
            self.run.held_out = event
        elif isinstance(event, BatchDone):
            self.run.add_batch(event)
        elif isinstance(event, FiltersNow):
            self.run.filters = np.asarray(event.weights)
        elif isinstance(event, ProbeAnswer):
            self.run.probe = event
        elif isinstance(event, EpochDone):
            self.run.add_epoch(event)
        elif isinstance(event, WeightsKept):
            if not event.evaluated:
                return  # stopped while testing: keep the weights whose accuracy is known
            self.weights = event.state
            self.weights_epoch = len(self.epochs)
            if self.following:
                self._follow_pending = True
        elif isinstance(event, (RunFinished, RunStopped)):
            self.timer.stop()
            done = len(self.epochs)
            what = "finished" if isinstance(event, RunFinished) else "stopped"
            self.message.emit(f"Training {what} after {done} epoch{'s' if done != 1 else ''}."
                              + (" Name the network to keep it." if self.weights else ""))
            if self.following:
                self._follow_pending = True
        elif isinstance(event, RunFailed):
            self._fail(event.message or "training failed")

    def _fail(self, message: str) -> None:
        self.timer.stop()
        kept = (f" The weights after epoch {self.weights_epoch} are kept."
                if self.weights is not None else
                " No epoch finished, so there are no trained weights to keep.")
        message = message.rstrip()
        self.run.error = message + ("" if message.endswith((".", "!", "?")) else ".") + kept
        self._set_phase(RunPhase.FAILED)

    def _close_job(self) -> None:
        if self.job is not None:
            with contextlib.suppress(Exception):  # closing must never stop the app closing
                self.job.close()
            self.job = None

    # ----- the network being trained, as a model -------------------------------------------

    def run_card(self) -> dict:
        """The model card of the current weights (cnnviz.core.networks.card): architecture, dataset,
        accuracy, training settings, seed, and the epochs' figures."""
        from cnnviz.core.networks.card import training_card, with_epochs

        settings = self.settings
        if settings is None:
            return {"architecture": self.architecture_text(), "trained_in": "cnnviz training lab"}
        card = training_card(dataset=settings.dataset, config=settings.config,
                             train_images=settings.limit or 60_000,
                             architecture=self.architecture_text(),
                             test_images=settings.test_limit or None,
                             init=settings.start_name, trained_in="cnnviz training lab")
        card = self._set_facts(card, settings)
        epochs = [dict(e.figures(), epoch=i + 1)
                  for i, e in enumerate(self.epochs[:self.weights_epoch])]
        return with_epochs(card, epochs)

    def _set_facts(self, card: dict, settings: RunSettings) -> dict:
        """The card said for the data the run learned: its classes, and on the user's own
        set the set's name and manifest (cnnviz.core.training.user_training.card_for_set)."""
        card = dict(card, classes=list(self.classes)) if self.classes else card
        if settings.user_set is None:
            return card
        from cnnviz.core.training.user_training import card_for_set, parse_dataset

        started = self._started_event or RunStarted()
        try:
            choice = parse_dataset(settings.user_set)
        except ValueError:  # the folder went away since: the card keeps the classes
            return card
        return card_for_set(card, self.classes, choice, self.set_sha256,
                            started.train_images, started.test_images)

    def architecture_text(self) -> str:
        from cnnviz.core.networks.arch_text import format_architecture

        return format_architecture(self.arch) if self.arch is not None else ""

    def current_model(self, name: str | None = None):
        """The last good weights as a LoadedModel (None before the first epoch's weights)."""
        if self.weights is None or self.arch is None:
            return None
        import torch

        from cnnviz.core.networks.models import Network
        from cnnviz.core.networks.weights import LoadedModel

        net = Network(self.arch, class_names=self.classes or None)
        net.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in self.weights.items()})
        net.eval()
        card = self.run_card()
        card["model_name"] = name or f"{self.arch.name} (training)"
        return LoadedModel(net, card, None)

    def follow(self, on: bool = True) -> bool:
        """Show the network being trained in the CNN explorer (the state's model), and keep
        showing its newest weights. False when there are no weights yet."""
        self.following = on
        if on:
            if self.weights is None:
                self.message.emit("No weights yet: the CNN explorer shows the network once "
                                  "its first weights arrive.")
                self._follow_pending = True
                return False
            self._follow_now(force=True)
        return True

    def _follow_now(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._followed_at < FOLLOW_MIN_S and self.running:
            return  # again at a later poll, with the newest weights
        self._follow_pending = False
        loaded = self.current_model()
        if loaded is None:
            return
        self._followed_at = time.monotonic()
        from cnnviz.core.networks import catalogue

        entries = [e for e in self.state.catalogue
                   if self._published is None or e.loaded is not self._published]
        self._published = loaded
        self.state.catalogue = catalogue.with_entry(entries, self._training_entry(loaded))
        self.state.model = loaded

    def _training_entry(self, loaded):
        """The model picker's line for the network being trained."""
        from cnnviz.core.datasets.data import DATASET_NAMES
        from cnnviz.core.networks.catalogue import ModelEntry

        assert self.arch is not None  # current_model() gave `loaded`: there is a run
        acc = loaded.card.get("test_accuracy")
        data = loaded.card.get("user_set") or DATASET_NAMES[loaded.dataset]
        facts = data + (f", {100 * acc:.1f}%" if acc is not None else "")
        label = f"{self.arch.name} — being trained, epoch {self.weights_epoch} — {facts}"
        return ModelEntry(f"training:{self.arch.name}", label, loaded, None, False)

    @property
    def published(self):
        """The LoadedModel of the network being trained that the CNN explorer was given."""
        return self._published

    def show_kept(self, kept) -> None:
        """The network shown while training was kept: the explorer shows it as kept."""
        self._published = kept
        self.state.model = kept

    def _on_model_changed(self, loaded) -> None:
        if loaded is not self._published:
            self.following = False  # the user chose another model in the picker

    # ----- the user's drawing, read by the network being trained ----------------------------

    def _on_analysis(self, analysis) -> None:
        if self.job is None or not self.running:
            return
        model = self.state.model
        if model is not None and self.settings is not None and model.dataset == self.settings.dataset:
            self._send_probe(analysis.digit.image)  # already framed for this dataset
        else:
            self._send_current_probe()

    def _send_current_probe(self) -> None:
        """The current image, preprocessed for the run's dataset on a worker."""
        image = self.state.image
        if image is None or self.settings is None:
            return
        from cnnviz.core.pictures.preprocess import preprocess_for

        self.probe_runner.submit(lambda img, ds: preprocess_for(ds)(img).image, image,
                                 self.settings.dataset)

    def _send_probe(self, image28) -> None:
        if self.job is not None and self.running:
            image28 = np.asarray(image28, dtype=np.float32)
            self.run.probe_input = image28
            try:
                self.job.set_probe(image28)
            except Exception as exc:  # the probe is a nicety: never stop training for it
                self.message.emit(f"Your drawing could not be sent to the training: {exc}")

    # ----- shutdown ------------------------------------------------------------------------

    def shutdown(self) -> None:
        """End a running training cleanly (the window is closing). Safe to call twice."""
        if self._shut:
            return
        self._shut = True
        self.timer.stop()
        self._close_job()
        self.probe_runner.shutdown(timeout=1.0)
        self.state.analysis_ready.disconnect(self._on_analysis)
        self.state.events.model.disconnect(self._on_model_changed)
        self.state.training = False


def _default_job_factory():
    from cnnviz.core.training.job import TrainingJob

    return TrainingJob

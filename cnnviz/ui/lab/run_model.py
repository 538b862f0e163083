"""The lab's run as an evented model: what one training run has said so far.

The lifecycle controller (cnnviz.ui.controllers.training) writes it from the job's typed
events, on the GUI thread; the lab's views subscribe to its fields
(`run.events.<field>.connect(...)`) and read it, never each other: the epoch count is
`len(run.epochs)`, the buttons follow `run.phase`. A field emits when it is given a new
value that differs from the old one, so lists are replaced, never changed in place.
No Qt here (psygnal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from psygnal import SignalGroupDescriptor

from cnnviz.core.training.job import BatchDone, EpochDone, HeldOutSet, ProbeAnswer, RunPhase


@dataclass
class RunModel:
    """One run of the lab (train more on the same network goes on in the same model).
    Evented (psygnal, as the app's state): each field has a signal in `run.events`."""

    events: ClassVar[SignalGroupDescriptor] = SignalGroupDescriptor()

    phase: RunPhase = RunPhase.IDLE
    classes: list[str] = field(default_factory=list)  # the names of the network's outputs
    progress: BatchDone | None = None  # the newest batch: epoch, batch of batches, eta
    batch_losses: list[float] = field(default_factory=list)  # each batch's loss (finite)
    epochs: list[EpochDone] = field(default_factory=list)  # every epoch's figures, in order
    confusion: np.ndarray | None = None  # the newest epoch's confusion matrix
    filters: np.ndarray | None = None  # the first convolution's newest weights
    probe_input: np.ndarray | None = None  # the user's drawing as sent to the training
    probe: ProbeAnswer | None = None  # the network's reading of it
    error: str | None = None  # why the run failed, in words (what is kept said)
    held_out: HeldOutSet | None = None  # on the user's set: its held-out pictures

    def new_run(self, classes: list[str]) -> None:
        """A fresh run: everything said before is gone."""
        self.epochs, self.batch_losses, self.progress = [], [], None
        self.confusion = self.filters = self.probe = self.probe_input = None
        self.error = self.held_out = None
        self.classes = list(classes)

    def add_batch(self, batch: BatchDone) -> None:
        if math.isfinite(batch.loss):
            self.batch_losses = [*self.batch_losses, float(batch.loss)]
        self.progress = batch

    def add_epoch(self, epoch: EpochDone) -> None:
        if epoch.confusion is not None:
            self.confusion = np.asarray(epoch.confusion)
        self.epochs = [*self.epochs, epoch]

    @property
    def last_epoch(self) -> EpochDone | None:
        return self.epochs[-1] if self.epochs else None

    def last_test_accuracy(self) -> float | None:
        epoch = self.last_epoch
        return None if epoch is None or epoch.test_accuracy is None else float(epoch.test_accuracy)

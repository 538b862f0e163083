"""A scripted stand-in for cnnviz.core.training.job.TrainingJob: the controller's tests
drive every event (and failures) by hand, with no training and no timing. It is the real
job with the child process taken out, so the run's phase follows the same state machine."""

from __future__ import annotations

import numpy as np

from cnnviz.core.training.job import RunPhase, TrainingJob


class ScriptedJob(TrainingJob):
    """Same constructor and methods as TrainingJob; events are queued by the test with
    push() (in the wire form: a type and its fields), and the commands the controller gave
    are recorded in .calls."""

    made: list[ScriptedJob] = []

    def __init__(self, architecture, dataset, data_dir, config, limit=None, test_limit=None,
                 initial_state=None, **options):
        super().__init__(architecture, dataset, data_dir, config, limit=limit,
                         test_limit=test_limit, initial_state=initial_state, threads=1,
                         **options)
        self.events: list[dict] = []
        self.calls: list[str] = []
        self.probes: list[np.ndarray] = []
        self.closed = False
        ScriptedJob.made.append(self)

    def push(self, kind: str, **fields) -> None:
        self.events.append({"type": kind, **fields})

    def start(self):
        self.calls.append("start")
        self.phase = RunPhase.STARTING

    @property
    def is_alive(self) -> bool:
        return not self.closed

    def _send(self, *command) -> None:
        if command[0] == "probe":
            self.probes.append(np.asarray(command[1]))
        else:
            self.calls.append(" ".join(str(part) for part in command))

    def _received(self) -> list:
        events, self.events = self.events, []
        return events

    def close(self, timeout: float = 0.0):
        self.closed = True
        self.calls.append("close")
        self.phase = RunPhase.CLOSED

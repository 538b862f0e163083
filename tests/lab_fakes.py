"""A scripted stand-in for cnnviz.core.training.job.TrainingJob: the controller's tests
drive every event (and failures) by hand, with no training and no timing."""

from __future__ import annotations

import numpy as np


class ScriptedJob:
    """Same constructor and methods as TrainingJob; events are queued by the test with
    push(), and the commands the controller gave are recorded in .calls."""

    made: list[ScriptedJob] = []

    def __init__(self, architecture, dataset, data_dir, config, limit=None, test_limit=None,
                 initial_state=None):
        self.architecture, self.dataset, self.data_dir = architecture, dataset, data_dir
        self.config, self.limit, self.test_limit = config, limit, test_limit
        self.initial_state = initial_state
        self.events: list[dict] = []
        self.calls: list[str] = []
        self.probes: list[np.ndarray] = []
        self.closed = False
        ScriptedJob.made.append(self)

    def push(self, kind: str, **fields) -> None:
        self.events.append({"type": kind, **fields})

    def start(self):
        self.calls.append("start")

    def pause(self):
        self.calls.append("pause")

    def resume(self):
        self.calls.append("resume")

    def stop(self):
        self.calls.append("stop")

    def more_epochs(self, n):
        self.calls.append(f"more {n}")

    def set_probe(self, image28):
        self.probes.append(np.asarray(image28))

    def poll(self):
        events, self.events = self.events, []
        return events

    def close(self):
        self.closed = True
        self.calls.append("close")

"""Calibrating the unsure verdict of a digit model made elsewhere, off the GUI thread.

When the window's model is a Keras file that reads MNIST-sized digits, the verdict it
shows until now is the default rule (it hesitates); VerdictCalibrator fixes the model's
own threshold (cnnviz.core.reading.opened_verdict: from the cache when this file was seen before,
else on MNIST test digits, some seconds, with progress) and answers with ready(loaded,
verdict) for the model it was asked about.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from .runner import LatestRequestRunner


def lower_this_threads_priority() -> None:
    """On Linux a thread has a priority of its own: the calibration yields the CPU to the
    pen and the analysis while it works (elsewhere it simply runs)."""
    import contextlib
    import os
    import threading

    with contextlib.suppress(AttributeError, OSError):  # (not Linux)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class _Stopped(Exception):
    """A calibration no longer wanted (the window closes, another model was opened)."""


def _calibrate(loaded, data_dir, progress):
    from cnnviz.core.reading import opened_verdict

    lower_this_threads_priority()

    key = opened_verdict.cache_key(loaded)
    verdict = opened_verdict.cached(loaded, key)
    if verdict is None:
        verdict = opened_verdict.calibrate_opened(loaded, data_dir, progress)
        opened_verdict.store(key, verdict)
    return loaded, verdict


class VerdictCalibrator(QObject):
    """consider(loaded) starts a calibration when the model needs one (else cancels any
    running one). progress(share 0..1) while it works; ready(loaded, verdict) or
    failed(message) on the GUI thread, for the newest request only."""

    ready = Signal(object, object)
    progress = Signal(float)
    failed = Signal(str)
    _progress_from_worker = Signal(int, float)

    def __init__(self, data_dir=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.runner = LatestRequestRunner("verdict", self)
        self.runner.finished.connect(lambda _g, result: self.ready.emit(*result))
        self.runner.failed.connect(lambda _g, message: self.failed.emit(message))
        self._progress_from_worker.connect(self._on_progress)
        self._stopping = threading.Event()

    def consider(self, loaded) -> bool:
        """Calibrate this model if it needs it; True when a calibration started."""
        from cnnviz.core.reading.opened_verdict import needs_calibration

        if loaded is None or not needs_calibration(loaded):
            self.runner.cancel()
            return False
        generation = self.runner.generation + 1
        self.runner.submit(_calibrate, loaded, self.data_dir,
                           lambda share: self._step(generation, share))
        return True

    def _step(self, generation: int, share: float) -> None:
        """On the worker, between the calibration's steps: stop when the window is closing
        or a newer model is waiting, else report the progress."""
        if self._stopping.is_set() or generation != self.runner.generation:
            raise _Stopped
        self._progress_from_worker.emit(generation, share)

    def _on_progress(self, generation: int, share: float) -> None:
        if generation == self.runner.generation:
            self.progress.emit(share)

    def join(self, timeout: float = 60.0) -> bool:
        return self.runner.join(timeout)

    def shutdown(self) -> None:
        self._stopping.set()  # the running calibration stops at its next step; the window
        self.runner.shutdown(timeout=0.5)  # does not wait for it (a daemon thread)

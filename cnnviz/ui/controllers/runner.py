"""The controllers' tools for threads: LatestRequestRunner, where the newest request wins,
and TaskRunner, where every task runs and reaches its own callback.

LatestRequestRunner runs a function on its own worker thread. While the user draws,
requests arrive faster than they can be served, so only the newest pending request is
kept (older ones are dropped unstarted) and a result whose generation is older than the
newest request is dropped too. Results reach the GUI thread through Qt signals (queued
across threads), so slots may touch widgets.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, Signal

T = TypeVar("T")


class LatestRequestRunner(QObject):
    """submit(fn, *args) -> generation. Emits finished(generation, result) or
    failed(generation, message) on the GUI thread, only for the newest request."""

    finished = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, name: str = "worker", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._cond = threading.Condition()
        self._pending: tuple[int, Callable, tuple] | None = None
        self._generation = 0
        self._running = False
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name=f"cnnviz-{name}", daemon=True)
        self._thread.start()
        # Emitting on our own signals from the worker thread: Qt queues them to this
        # object's (GUI) thread. The extra hop drops results that went stale in transit.
        self._deliver_ok.connect(self._on_deliver_ok)
        self._deliver_err.connect(self._on_deliver_err)

    _deliver_ok = Signal(int, object)
    _deliver_err = Signal(int, str)

    @property
    def generation(self) -> int:
        return self._generation

    def submit(self, fn: Callable, *args) -> int:
        with self._cond:
            if self._stopping:
                return self._generation
            self._generation += 1
            self._pending = (self._generation, fn, args)  # replaces any unstarted request
            self._cond.notify_all()
            return self._generation

    def cancel(self) -> int:
        """Nothing more is wanted: an unstarted request is dropped and the answer of one
        still running is dropped when it comes. Returns the new generation."""
        with self._cond:
            self._generation += 1
            self._pending = None
            return self._generation

    def is_idle(self) -> bool:
        with self._cond:
            return self._pending is None and not self._running

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until no request is pending or running (for tests and shutdown).
        Results still have to pass through the Qt event loop to be delivered."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending is not None or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def shutdown(self, timeout: float = 5.0) -> None:
        """Drop pending work, let the running job finish, and stop the thread."""
        with self._cond:
            self._stopping = True
            self._pending = None
            self._cond.notify_all()
        self._thread.join(timeout)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stopping:
                    self._cond.wait()
                if self._stopping or self._pending is None:  # (None only when stopping)
                    return
                generation, fn, args = self._pending
                self._pending = None
                self._running = True
            try:
                result = fn(*args)
            except Exception as exc:  # reported to the GUI as a message, never a crash
                detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                self._emit_safely(self._deliver_err, generation, detail)
            else:
                self._emit_safely(self._deliver_ok, generation, result)
            with self._cond:
                self._running = False
                self._cond.notify_all()

    def _emit_safely(self, signal, generation, payload) -> None:
        if self._stopping:
            return
        with contextlib.suppress(RuntimeError):  # the QObject was deleted while we worked
            signal.emit(generation, payload)

    def _on_deliver_ok(self, generation: int, result: object) -> None:
        if generation == self._generation and not self._stopping:
            self.finished.emit(generation, result)

    def _on_deliver_err(self, generation: int, message: str) -> None:
        if generation == self._generation and not self._stopping:
            self.failed.emit(generation, message)


class TaskRunner(QObject):
    """run(fn, done, failed) runs fn() on a thread of its own and hands its result to
    done(result), or its error in words to failed(message), on the GUI thread. Unlike
    LatestRequestRunner nothing is dropped: a save asked for is a save done, and tasks run
    side by side (a download does not hold up a save). After shutdown() no callback runs."""

    _deliver = Signal(object)  # (callback, payload), queued to the GUI thread

    def __init__(self, name: str = "task", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._threads: list[threading.Thread] = []
        self._closing = False
        self._deliver.connect(self._on_deliver)

    def run(self, fn: Callable[[], T], done: Callable[[T], object] | None = None,
            failed: Callable[[str], object] | None = None, name: str = "task") -> None:
        def work() -> None:
            try:
                result = fn()
            except Exception as exc:  # said by the caller, never a crash
                message = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                self._hand_over(failed, message)
            else:
                self._hand_over(done, result)

        thread = threading.Thread(target=work, name=f"cnnviz-{self._name}-{name}", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def busy(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until every task has ended (for tests and shutdown); True when they have.
        Their callbacks still have to pass through the Qt event loop."""
        deadline = time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.busy()

    def shutdown(self, timeout: float = 1.0) -> bool:
        """No callback runs any more; wait up to timeout for the tasks (those that can
        stop, like the pictures made ahead, see `closing`). True when none is left."""
        self._closing = True
        return self.join(timeout)

    @property
    def closing(self) -> bool:
        return self._closing

    def _hand_over(self, callback, payload) -> None:
        if callback is None or self._closing:
            return
        with contextlib.suppress(RuntimeError):  # the QObject was deleted while we worked
            self._deliver.emit((callback, payload))

    def _on_deliver(self, item: tuple) -> None:
        callback, payload = item
        if not self._closing:
            callback(payload)

"""What a unit looks for, worked out off the GUI thread (cnnviz.core.units.unit_examples and
cnnviz.core.units.unit_optimise).

UnitsController has two workers where the newest request wins: one scores every unit of a
network on its test set (progress while it works, then examples_ready; a network scored
in this window, or cached on disk, comes back at once), the other makes optimised inputs
(optimise_step as the pictures sharpen, then optimise_ready). stop_examples() and
stop_optimising() end the work at its next batch or step; a newer request stops an older
one the same way. Everything arrives on the GUI thread, for the newest request only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from .runner import LatestRequestRunner
from .verdict import lower_this_threads_priority  # (the one way a worker yields the CPU)

if TYPE_CHECKING:
    from cnnviz.core.units.unit_examples import UnitExamples

KNOWN_NETWORKS = 4  # scored networks kept in memory (each holds its test set, 8 MB)


@dataclass(frozen=True)
class ExamplesResult:
    """A network's scored units and the test pictures they point into."""

    found: UnitExamples
    images: np.ndarray  # (N, 28, 28) uint8, the dataset's test pictures in their own order
    labels: np.ndarray  # (N,)


class _Stopped(Exception):
    pass


class UnitsController(QObject):
    """request_examples(loaded, dataset) and request_optimise(loaded, layer, unit, ...)."""

    examples_progress = Signal(float)
    examples_ready = Signal(object)  # ExamplesResult
    examples_failed = Signal(str)
    examples_stopped = Signal()
    optimise_step = Signal(int, int, object, object)  # step, steps, pictures, scores
    optimise_ready = Signal(object)  # cnnviz.core.units.unit_optimise.Optimised
    optimise_failed = Signal(str)
    _progress_from_worker = Signal(int, float)
    _step_from_worker = Signal(int, int, int, object, object)

    def __init__(self, data_dir=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from cnnviz.core.units.unit_optimise import DEFAULT

        self.data_dir = data_dir
        self.limit: int | None = None  # score only the first test pictures (tests)
        self.regularisers = DEFAULT
        self.examples_runner = LatestRequestRunner("unit-examples", self)
        self.optimise_runner = LatestRequestRunner("unit-optimise", self)
        self.examples_runner.finished.connect(self._on_examples)
        self.examples_runner.failed.connect(lambda _g, m: self.examples_failed.emit(m))
        self.optimise_runner.finished.connect(self._on_optimised)
        self.optimise_runner.failed.connect(lambda _g, m: self.optimise_failed.emit(m))
        self._progress_from_worker.connect(self._on_progress)
        self._step_from_worker.connect(self._on_step)
        self._examples_stop = threading.Event()
        self._optimise_stop = threading.Event()
        self._known: dict[tuple, tuple] = {}  # (id(model), dataset) -> (model, ExamplesResult)
        self._scoring: tuple | None = None  # (id(model), dataset) of the newest request

    # ----- top examples ---------------------------------------------------------------

    def known_examples(self, loaded, dataset: str) -> ExamplesResult | None:
        entry = self._known.get((id(loaded.model), dataset))
        return entry[1] if entry is not None and entry[0] is loaded.model else None

    def request_examples(self, loaded, dataset: str) -> int:
        """Score the network's units on `dataset` (a request for the network and dataset
        already being scored only waits for that answer: another unit of the same network
        needs nothing new)."""
        key = (id(loaded.model), dataset)
        if key == self._scoring and not self.examples_runner.is_idle():
            return self.examples_runner.generation
        self._scoring = key
        self._examples_stop.set()
        self._examples_stop = stop = threading.Event()
        generation = self.examples_runner.generation + 1

        def progress(share: float) -> None:
            self._progress_from_worker.emit(generation, share)

        return self.examples_runner.submit(self._examples, loaded, dataset, progress, stop)

    def _examples(self, loaded, dataset, progress, stop):
        """On the worker: the result, a message in plain words, or None when stopped."""
        from cnnviz.core.datasets.data import DataError, load_split
        from cnnviz.core.units.unit_examples import Stopped, UnitProblem, unit_examples

        lower_this_threads_priority()  # the pen and the analysis first
        try:
            found = unit_examples(loaded, dataset, self.data_dir, self.limit, progress,
                                  stop.is_set)
            images, labels = load_split(found.dataset, "test", self.data_dir, verify=False)
        except Stopped:
            return None
        except UnitProblem as exc:
            return str(exc)[:1].upper() + str(exc)[1:] + "."
        except (DataError, OSError) as exc:
            return f"The test pictures cannot be read: {exc}"
        return loaded, ExamplesResult(found, images[:found.count], labels[:found.count])

    def _on_progress(self, generation: int, share: float) -> None:
        if generation == self.examples_runner.generation:
            self.examples_progress.emit(share)

    def _on_examples(self, _generation: int, result) -> None:
        if result is None:
            self.examples_stopped.emit()
        elif isinstance(result, str):
            self.examples_failed.emit(result)
        else:
            loaded, found = result
            self._known[(id(loaded.model), found.found.dataset)] = (loaded.model, found)
            for key in list(self._known)[:-KNOWN_NETWORKS]:  # the oldest forgotten (on disk)
                del self._known[key]
            self.examples_ready.emit(found)

    def stop_examples(self) -> None:
        self._scoring = None
        self._examples_stop.set()

    # ----- optimised inputs -----------------------------------------------------------

    def request_optimise(self, loaded, layer: str, unit: int, starts: int = 4,
                         start_picture=None, seed: int = 0) -> int:
        self._optimise_stop.set()
        self._optimise_stop = stop = threading.Event()
        generation = self.optimise_runner.generation + 1

        def on_step(step, steps, pictures, scores) -> None:
            self._step_from_worker.emit(generation, step, steps, pictures, scores)

        return self.optimise_runner.submit(self._optimise, loaded.model, layer, unit, starts,
                                           start_picture, seed, on_step, stop)

    def _optimise(self, network, layer, unit, starts, start_picture, seed, on_step, stop):
        from cnnviz.core.units.unit_examples import UnitProblem
        from cnnviz.core.units.unit_optimise import optimise_unit

        lower_this_threads_priority()
        try:
            return optimise_unit(network, layer, unit, starts, start_picture, self.regularisers,
                                 seed, on_step, stop.is_set)
        except UnitProblem as exc:
            return str(exc)[:1].upper() + str(exc)[1:] + "."

    def _on_step(self, generation, step, steps, pictures, scores) -> None:
        if generation == self.optimise_runner.generation:
            self.optimise_step.emit(step, steps, pictures, scores)

    def _on_optimised(self, _generation: int, result) -> None:
        if isinstance(result, str):
            self.optimise_failed.emit(result)
        else:
            self.optimise_ready.emit(result)

    def stop_optimising(self) -> None:
        self._optimise_stop.set()

    # ----- lifecycle ------------------------------------------------------------------

    def is_busy(self) -> bool:
        return not (self.examples_runner.is_idle() and self.optimise_runner.is_idle())

    def join(self, timeout: float = 60.0) -> bool:
        return self.examples_runner.join(timeout) and self.optimise_runner.join(timeout)

    def shutdown(self) -> None:
        self._examples_stop.set()
        self._optimise_stop.set()
        self.examples_runner.shutdown()
        self.optimise_runner.shutdown()

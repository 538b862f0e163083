"""Computing report cards off the GUI thread (cnnviz.core.training.report_card).

ReportCardController.request(first, second) computes the card of the window's model and,
when asked, of a second one to compare it with (a shipped model's name or a file, opened on
the worker), one after the other on its worker: progress(share, words) while it works, then
ready(Comparison) on the GUI thread. stop() ends the work at its next batch (stopped()
follows); a newer request stops an older one the same way. A model whose card was computed
in this window is not computed again (and a model file's card is cached on disk).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

from .runner import LatestRequestRunner

MOST_DIGITS = 120  # shown of each kind of disagreement (the first in test order)


@dataclass
class Comparison:
    """What the report window shows: each model's name and card, and (for two models read
    on the same test set) the test pictures one reads right and the other wrong."""

    names: list[str]
    cards: list  # [cnnviz.core.training.report_card.ReportCard]
    dataset: str = "mnist"
    # for each direction (first right & second wrong, the reverse): test indices, pictures
    # (N, 28, 28) uint8, labels, each model's answers
    right_wrong: list = field(default_factory=list)
    total_disagreements: tuple[int, int] = (0, 0)
    why_no_digits: str = ""
    loaded: list = field(default_factory=list)  # the LoadedModels (the second may be opened here)


class _Stopped(Exception):
    pass


def _open(spec):
    """A LoadedModel, a shipped model's name, or a file's path -> a LoadedModel."""
    from cnnviz.core.networks.weights import LoadedModel, load_shipped, load_weights

    if spec is None or isinstance(spec, LoadedModel):
        return spec
    kind, value = spec
    return load_shipped(value) if kind == "shipped" else load_weights(value)


def _right_wrong(comparison: Comparison, data_dir) -> None:
    from cnnviz.core.training.report_card import disagreements, test_set

    first, second = comparison.cards
    f, s = first.figures, second.figures
    if first.predictions is None or second.predictions is None:
        comparison.why_no_digits = "One of the models reads no test pictures."
        return
    if f.get("dataset") != s.get("dataset") or len(first.predictions) != len(second.predictions):
        comparison.why_no_digits = ("The two models were made for different test sets, so "
                                    "their answers cannot be set side by side.")
        return
    images, labels, _ = test_set(f["dataset"], data_dir)
    labels = labels[:len(first.predictions)]
    a_only, b_only = disagreements(first.predictions, second.predictions, labels)
    comparison.total_disagreements = (len(a_only), len(b_only))
    for index in (a_only, b_only):
        index = index[:MOST_DIGITS]
        comparison.right_wrong.append((index, np.asarray(images[index]), labels[index],
                                       first.predictions[index], second.predictions[index]))


def _work(specs, known, data_dir, stop: threading.Event, progress, options: dict):
    """On the worker: each model's card (known ones reused), then the disagreements."""
    from cnnviz.core.training.report_card import ReportStopped, compute

    loaded = [_open(spec) for spec in specs]
    todo = [i for i, card in enumerate(known) if card is None and loaded[i] is not None]
    cards = list(known)
    for n, i in enumerate(todo):
        def step(share, words, n=n, i=i):
            progress((n + share) / len(todo), f"{loaded[i].name}: {words}")
        try:
            cards[i] = compute(loaded[i], data_dir, progress=step, stop=stop, **options)
        except ReportStopped:
            raise _Stopped from None
    comparison = Comparison([m.name for m in loaded if m is not None],
                            [c for c in cards if c is not None], loaded[0].dataset,
                            loaded=loaded)
    if len(comparison.cards) == 2:
        _right_wrong(comparison, data_dir)
    return comparison


class ReportCardController(QObject):
    """request(first, second=None): first a LoadedModel; second None, ("shipped", name) or
    ("file", path). Signals on the GUI thread, for the newest request only."""

    progress = Signal(float, str)
    ready = Signal(object)  # Comparison
    failed = Signal(str)
    stopped = Signal()
    _progress_from_worker = Signal(int, float, str)

    def __init__(self, data_dir=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.options: dict = {}  # for compute (its counts: the tests use small ones)
        self.runner = LatestRequestRunner("report-card", self)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(lambda _g, message: self.failed.emit(message))
        self._progress_from_worker.connect(self._on_progress)
        self._stop = threading.Event()
        self._known: dict[int, tuple] = {}  # id(model) -> (model, its card), in this window

    def request(self, first, second=None) -> int:
        self._stop.set()  # an older request stops at its next batch
        self._stop = stop = threading.Event()
        specs = (first, second)
        known = [self._card_of(getattr(s, "model", None)) for s in specs]
        generation = self.runner.generation + 1

        def progress(share: float, words: str) -> None:
            if stop.is_set():
                raise _Stopped
            self._progress_from_worker.emit(generation, share, words)

        return self.runner.submit(self._guarded, specs, known, stop, progress)

    def _card_of(self, model):
        entry = self._known.get(id(model))
        return entry[1] if entry is not None and entry[0] is model else None

    def _guarded(self, specs, known, stop, progress):
        """The comparison; None when stopped; a message in plain words for a model file
        that cannot be opened or a test set that cannot be read."""
        from cnnviz.core.datasets.data import DataError
        from cnnviz.core.networks.weights import WeightsError

        try:
            return _work(specs, known, self.data_dir, stop, progress, dict(self.options))
        except _Stopped:
            return None
        except WeightsError as exc:
            return f"That model cannot be opened: {exc}"
        except (DataError, OSError) as exc:
            return f"The test pictures cannot be read: {exc}"

    def stop(self) -> None:
        """Stop the running work at its next batch; stopped() follows."""
        self._stop.set()

    def is_busy(self) -> bool:
        return not self.runner.is_idle()

    def _on_progress(self, generation: int, share: float, words: str) -> None:
        if generation == self.runner.generation:
            self.progress.emit(share, words)

    def _on_finished(self, _generation: int, comparison) -> None:
        if comparison is None:
            self.stopped.emit()
            return
        if isinstance(comparison, str):
            self.failed.emit(comparison)
            return
        for loaded, card in zip(comparison.loaded, comparison.cards):
            if loaded is not None:  # (the model kept too: an id is only unique while it lives)
                self._known[id(loaded.model)] = (loaded.model, card)
        self.ready.emit(comparison)

    def join(self, timeout: float = 120.0) -> bool:
        return self.runner.join(timeout)

    def shutdown(self) -> None:
        self._stop.set()
        self.runner.shutdown(timeout=0.5)

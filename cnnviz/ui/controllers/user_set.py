"""The set browser's long work off the GUI thread: importing an image folder into a set
and evaluating a model on a set, with progress and Stop (cnnviz.core.training.user_set and
cnnviz.core.training.user_training do the work; this only runs it and reports back)."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from .runner import LatestRequestRunner


class UserSetController(QObject):
    """import_folder(...) / evaluate(...): one job at a time on a worker.

    progress(done, total), finished(kind, result) with kind "import" or "evaluate",
    failed(message): on the GUI thread."""

    progress = Signal(int, int)
    finished = Signal(str, object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = LatestRequestRunner("user-set", self)
        self._stop = threading.Event()
        self._kind = ""
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)

    @property
    def busy(self) -> bool:
        return not self._runner.is_idle()

    def import_folder(self, user_set, source: str, preprocess: bool = False) -> None:
        self._start("import", self._import, user_set, source, preprocess)

    def evaluate(self, model, folder, data_dir=None) -> None:
        self._start("evaluate", self._evaluate, model, folder, data_dir)

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 30.0) -> bool:
        return self._runner.join(timeout)

    def shutdown(self) -> None:
        self._stop.set()
        self._runner.shutdown()

    def _start(self, kind: str, fn, *args) -> None:
        self._stop.clear()
        self._kind = kind
        self._runner.submit(fn, *args)

    def _import(self, user_set, source, preprocess):
        from cnnviz.core.training.user_set import UserSetError

        try:
            return user_set.import_folder(source, preprocess=preprocess, progress=self.progress.emit,
                                          should_stop=self._stop.is_set)
        except UserSetError as exc:
            return exc

    def _evaluate(self, model, folder, data_dir):
        from cnnviz.core.training.user_set import UserSetError
        from cnnviz.core.training.user_training import evaluate_on_set

        try:
            return evaluate_on_set(model, folder, data_dir, progress=self.progress.emit,
                                   should_stop=self._stop.is_set)
        except UserSetError as exc:
            return exc
        except KeyboardInterrupt:
            return ValueError("Stopped.")

    def _on_finished(self, _generation: int, result: object) -> None:
        if isinstance(result, ValueError):
            self.failed.emit(str(result))
        else:
            self.finished.emit(self._kind, result)

    def _on_failed(self, _generation: int, message: str) -> None:
        self.failed.emit(message.strip().splitlines()[-1] if message.strip() else "failed")

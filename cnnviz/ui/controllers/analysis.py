"""The analysis controller: runs the network on the current image whenever the image or
the model changes, on its own worker, newest request wins, and publishes the result on
the app state (GUI thread). Views never see requests, generations or threads."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Signal

from .runner import LatestRequestRunner


class AnalysisController(QObject):
    """Runs cnnviz.core.inference.analyze on a worker whenever the image or model
    changes, and publishes the newest result on the AppState (GUI thread)."""

    analysis_failed = Signal(str)

    def __init__(self, state, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.runner = LatestRequestRunner("analysis", self)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        state.image_changed.connect(self._on_input_changed)
        state.model_changed.connect(self._on_input_changed)

    def request(self) -> int | None:
        from cnnviz.core.inference import analyze

        if self.state.image is None or self.state.model is None:
            return None
        # The model object is only read by the worker; a model switch makes a new one.
        loaded = self.state.model
        return self.runner.submit(partial(analyze, dataset=loaded.dataset), loaded.model,
                                  self.state.image)

    def _on_input_changed(self, *_args) -> None:
        self.request()

    def _on_finished(self, _generation: int, analysis) -> None:
        self.state.publish_analysis(analysis)

    def _on_failed(self, _generation: int, message: str) -> None:
        self.analysis_failed.emit(message)

    def join(self, timeout: float = 10.0) -> bool:
        return self.runner.join(timeout)

    def shutdown(self) -> None:
        self.runner.shutdown()

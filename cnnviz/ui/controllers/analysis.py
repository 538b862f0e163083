"""The analysis controller: runs the network on the current image whenever the image or
the model changes, on its own worker, and publishes the result on the app state (GUI
thread). It alone owns requests, pacing and the busy state; views never see requests,
generations or threads.

The stroke's path:

    pad stroke -> state.input_image -> AnalysisController -> worker (analyze)
               -> state.publish_analysis / publish_analysis_failure -> views

Pacing. While the pen moves (state.drawing), images arrive faster than they can be
analysed. Sending each at once would make every running analysis stale before it is shown
(newest wins), so nothing would appear until the pen stops. Instead at most one request is
in flight while drawing: a newer image waits here (only the newest is kept) and goes out the
moment the running one is answered. Otherwise (a file, the gallery, undo, the pen lifted)
the new image goes out at once and an older result still on its way is dropped.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Signal

from .runner import LatestRequestRunner

BUSY_KEY = "analysis"  # the name this worker goes by in state.busy_changed


class AnalysisController(QObject):
    """Runs cnnviz.core.reading.inference.analyze on a worker whenever the image or model changes,
    and publishes the newest result on the AppState (GUI thread).

    analysis_failed(str): also published as state.analysis_failed; kept for listeners that
    connected here before the state carried failures."""

    analysis_failed = Signal(str)

    def __init__(self, state, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.runner = LatestRequestRunner("analysis", self)
        self._requested = 0  # the newest request's generation (0: none yet)
        self._answered = 0  # the newest generation answered (result or failure)
        self._waiting = False  # an image arrived while drawing and busy; sent on the answer
        self._busy_said = False  # the busy state last published on state.busy_changed
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        # After every other listener (the views' own small updates): the worker then starts
        # with the GUI thread idle instead of the two taking turns at Python's lock.
        state.events.input_image.connect(self._on_image_changed, priority=-10)
        state.events.model.connect(self._on_model_changed)

    # ----- requests -------------------------------------------------------------------

    @property
    def requested(self) -> int:
        """The newest request's generation (0: none yet)."""
        return self._requested

    @property
    def answered(self) -> int:
        """The newest answered request's generation: while a result is being published,
        the generation it answers."""
        return self._answered

    def is_busy(self) -> bool:
        """True while the newest request has not been answered."""
        return self._requested > self._answered

    def is_waiting(self) -> bool:
        """True while an image waits for the running analysis to be answered."""
        return self._waiting

    def request(self) -> int | None:
        """Analyse the current image with the current model now; returns the request's
        generation, or None when there is no image or no model yet."""
        self._waiting = False
        if self.state.image is None or self.state.model is None:
            return None
        from cnnviz.core.reading.inference import analyze  # (torch: not before a model exists)

        # The model object is only read by the worker; a model switch makes a new one.
        loaded = self.state.model
        self._requested = self.runner.submit(
            # the card holds the verdict's threshold (a stand-in model may have none)
            partial(analyze, dataset=loaded.dataset, card=getattr(loaded, "card", None)),
            loaded.model, self.state.image)
        self._say_busy()
        return self._requested

    def _on_image_changed(self, *_args) -> None:
        if self.state.drawing and self.is_busy():
            self._waiting = True  # newest wins: an older waiting image is simply replaced
            return
        self.request()

    def _on_model_changed(self, *_args) -> None:
        self.request()  # a result for the old model is of no use: never wait for it

    # ----- answers (GUI thread; the runner delivers only its newest request's) --------

    def _on_finished(self, generation: int, analysis) -> None:
        self._answered = generation
        # Send the waiting image first, so the worker analyses it while the views draw.
        self._send_waiting()
        self.state.publish_analysis(analysis)
        self._say_busy()

    def _on_failed(self, generation: int, message: str) -> None:
        self._answered = generation
        self._send_waiting()
        self.state.publish_analysis_failure(message)
        self.analysis_failed.emit(message)
        self._say_busy()

    def _send_waiting(self) -> None:
        if self._waiting:
            self.request()

    def _say_busy(self) -> None:
        """Publish the busy state when it changed (a waiting image sent on the answer keeps
        the worker busy: no False-True flicker between the two)."""
        busy = self.is_busy()
        if busy != self._busy_said:
            self._busy_said = busy
            self.state.busy_changed.emit(BUSY_KEY, busy)

    # ----- tests and shutdown --------------------------------------------------------------

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until the worker has nothing pending or running. The result still has to
        pass through the Qt event loop to be published (qtbot.waitUntil / waitSignal)."""
        return self.runner.join(timeout)

    def shutdown(self) -> None:
        self._waiting = False
        self.runner.shutdown()

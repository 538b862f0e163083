"""What every experiment view shares: the state, a worker where the newest request wins,
work only while shown, a status line, and small widget helpers."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..controllers.runner import LatestRequestRunner
from .grid_view import ArrayGrid, ColourKey


def label(text: str = "", tip: str = "", wrap: bool = True, rich: bool = False) -> QLabel:
    w = QLabel(text)
    w.setWordWrap(wrap)
    if rich:
        w.setTextFormat(Qt.TextFormat.RichText)
    if tip:
        w.setToolTip(tip)
    w.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return w


def plain(message: str) -> str:
    """A worker's error without Python's exception name: 'ValueError: no dropout' -> 'no dropout'."""
    head, sep, rest = message.partition(": ")
    return rest if sep and head.isidentifier() and head[:1].isupper() else message


class TitledGrid(QWidget):
    """An ArrayGrid with a title above it and, once set, its colour key under it."""

    def __init__(self, title: str, tip: str = "", minimum: int = 90) -> None:
        super().__init__()
        self.title = QLabel(title)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.grid = ArrayGrid(minimum=minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.grid, 1)
        self.key = ColourKey()
        layout.addWidget(self.key)
        if tip:
            self.setToolTip(tip)

    def set_title(self, text: str) -> None:
        self.title.setText(text)


class ExperimentView(QWidget):
    """A view of the Experiments tab. Subclasses set TITLE and TIP, build their widgets,
    call self.mark_dirty() when an input changed and do the work in refresh(), which runs
    only while the view is shown."""

    TITLE = ""
    TIP = ""
    status_message = Signal(str)

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.active = False
        self._dirty = True
        self._shut = False
        self.runner = LatestRequestRunner(f"teach-{type(self).__name__}", self)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self._connections: list[tuple] = []
        self.delivered = 0  # the generation of the last answer shown

    def listen(self, signal, slot) -> None:
        """Connect to a state signal (disconnected again at shutdown)."""
        signal.connect(slot)
        self._connections.append((signal, slot))

    def mark_dirty(self, *_args) -> None:
        self._dirty = True
        if self.active:
            self._dirty = False
            self.refresh()

    def set_active(self, active: bool) -> None:
        self.active = active
        if active and self._dirty:
            self._dirty = False
            self.refresh()

    def refresh(self) -> None:  # pragma: no cover (each view has its own)
        raise NotImplementedError

    def declined_for_digits(self, grid: ArrayGrid) -> bool:
        """For a view tied to MNIST digits: True, with one line on `grid` naming the
        mismatch, when the current network is not a 1×28×28, ten-class one."""
        from cnnviz.core.networks.network import digit_mismatch

        loaded = self.state.model
        if loaded is None:
            return False
        why = digit_mismatch(loaded.input_spec, len(loaded.classes), "This experiment")
        if why:
            grid.set_message(why)
            # an answer for the previous model still on its way must not overwrite this line
            self.delivered = self.runner.cancel()
        return why is not None

    def submit(self, fn, *args) -> int:
        return self.runner.submit(fn, *args)

    def _on_finished(self, generation: int, result) -> None:
        self.delivered = generation
        if not self._shut:
            self.show_result(result)

    def _on_failed(self, generation: int, message: str) -> None:
        self.delivered = generation
        if not self._shut:
            self.show_failure(plain(message))

    def is_settled(self) -> bool:
        """Nothing running and the newest request's answer shown (for tests)."""
        return self.runner.is_idle() and self.delivered == self.runner.generation

    def show_result(self, result) -> None:  # pragma: no cover (each view has its own)
        raise NotImplementedError

    def show_failure(self, message: str) -> None:
        self.status_message.emit(f"{self.TITLE}: {message}")

    def is_idle(self) -> bool:
        return self.runner.is_idle()

    def shutdown(self) -> None:
        if self._shut:
            return
        self._shut = True
        for signal, slot in self._connections:
            with contextlib.suppress(RuntimeError, ValueError, TypeError):
                signal.disconnect(slot)
        self.runner.shutdown()

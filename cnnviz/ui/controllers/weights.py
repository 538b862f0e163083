"""Opening weights files off the GUI thread.

Reading a weights file and checking it (header, architecture, tensors) can take a while
and, for a path that is not a regular file, could block: the GUI thread never does it.
WeightsLoader reads and checks on its own worker (a LatestRequestRunner: a newer request
replaces an older one) and answers on the GUI thread with opened or refused.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from .runner import LatestRequestRunner


def read_weights(path: Path):
    """Runs on the loader's thread: ("ok", LoadedModel) or ("error", reason in plain words).
    Anything that is not a regular file (a FIFO, a device, a folder) is refused by
    load_weights before a byte is read."""
    from cnnviz.core.networks.weights import WeightsError, load_weights

    try:
        return "ok", load_weights(path)
    except WeightsError as exc:
        return "error", str(exc)
    except MemoryError:
        return "error", "there is not enough memory to read it"
    except Exception as exc:  # never crash on a file; say what happened
        return "error", f"unexpected error while reading it ({type(exc).__name__}: {exc})"


class WeightsLoader(QObject):
    """open(path, quiet) reads and checks a weights file on a worker thread.

    opened(path, loaded, quiet) or refused(path, reason, quiet) follow on the GUI thread,
    for the newest request only. quiet is the caller's flag, passed back (a remembered
    file restored at start-up is reported in the status bar, not in a dialog)."""

    opened = Signal(object, object, bool)
    refused = Signal(object, str, bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = LatestRequestRunner("weights-loader", self)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self._request: tuple[Path, bool] | None = None  # the newest request, until answered

    @property
    def loading(self) -> Path | None:
        """The file being read now (None when idle)."""
        return self._request[0] if self._request is not None else None

    def open(self, path, quiet: bool = False) -> None:
        path = Path(path)
        self._request = (path, quiet)
        self.runner.submit(_answer, path, quiet)

    def _on_finished(self, _generation: int, result) -> None:
        self._request = None
        kind, payload, path, quiet = result
        if kind == "ok":
            self.opened.emit(path, payload, quiet)
        else:
            self.refused.emit(path, payload, quiet)

    def _on_failed(self, _generation: int, message: str) -> None:
        path, quiet = self._request or (Path("?"), False)
        self._request = None
        self.refused.emit(path, f"unexpected error while reading it ({message})", quiet)

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until the worker is idle (tests); the answer still needs the event loop."""
        return self.runner.join(timeout)

    def shutdown(self) -> None:
        self._request = None
        self.runner.shutdown()


def _answer(path: Path, quiet: bool):
    kind, payload = read_weights(path)
    return kind, payload, path, quiet

"""The file a training run writes, made safe before the first epoch: checked by really
writing into its folder, held by one run at a time, and cleared of the temporary files a
killed save left behind.

The weights of every epoch go to a side file next to it (`partial_path`: OUT.partial.
safetensors); OUT itself is replaced only when the run finishes (`promote`), so stopping
a run never leaves an early epoch where a good model was.

`cnnviz train` uses it; the training lab can too.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from ..basics.files import FileProblem, output_problem, write_atomically

PROBE_BYTES = 64 * 1024  # a save is ~1 MB; a folder that cannot take this cannot take that
# A lock file that holds no process id yet is being written by a run starting now; one that
# stays empty this long was left by a run killed in that instant.
EMPTY_LOCK_STALE_SECONDS = 10.0


def partial_path(path: str | os.PathLike) -> Path:
    """Where a run keeps its epochs until it finishes: OUT.partial.safetensors next to OUT
    (the stem, ".partial", the suffix: it is still a file cnnviz opens by its name)."""
    path = Path(path).expanduser()
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def promote(path: str | os.PathLike) -> Path:
    """The finished run's side file becomes `path` (written atomically, so the old file
    stays until the new one is complete, with the old file's permissions), then the side
    file is removed. FileProblem in words."""
    path = Path(path).expanduser()
    side = partial_path(path)
    try:
        source = open(side, "rb")  # noqa: SIM115 (closed by "with source" below)
    except OSError as exc:
        raise FileProblem(f"cannot read {side.name}: {exc.strerror or exc}") from None
    with source:
        write_atomically(path, lambda fh: shutil.copyfileobj(source, fh))
    with contextlib.suppress(OSError):
        side.unlink()
    return path


def lock_path(path: str | os.PathLike) -> Path:
    """Where the lock of an output lives: next to it, OUT.lock."""
    path = Path(path).expanduser()
    return path.with_name(path.name + ".lock")


def writing_problem(path: str | os.PathLike) -> str | None:
    """Why `path` cannot be saved, found by writing a small probe file next to it and
    removing it (a read-only or full disk says so now, not after the first epoch), or None."""
    path = Path(path).expanduser()
    problem = output_problem(path)
    if problem:
        return problem
    folder = path.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        return f"cannot save {path.name} in {folder}: {exc.strerror or exc}"
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(PROBE_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return f"cannot save {path.name} in {folder}: {exc.strerror or exc}"
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)
    return None


def leftover_parts(path: str | os.PathLike) -> list[Path]:
    """Temporary files a killed save of `path` left: write_atomically names them
    ".NAME.<random>.part" in the same folder. Nothing else matches (a download's resumable
    "FILE.gz.part" has no leading dot and another name)."""
    path = Path(path).expanduser()
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]+\.part")
    try:
        names = os.listdir(path.parent)
    except OSError:
        return []
    return sorted(path.parent / n for n in names
                  if pattern.fullmatch(n) and (path.parent / n).is_file())


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, run by someone else
        return True
    except OSError:  # (Windows: no such process, or cannot tell)
        return False
    return True


class OutputLock:
    """OUT.lock, made with O_CREAT | O_EXCL and holding the process id: a second run to the
    same file is refused while the first runs; a lock whose process is gone is taken over.
    Use as a context manager; FileProblem (one line) when the output is taken."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).expanduser()
        self.lock = lock_path(self.path)
        self.held = False

    def _create(self) -> bool:
        try:
            fd = os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        except OSError as exc:
            raise FileProblem(f"cannot lock {self.path.name} (making {self.lock.name}): "
                              f"{exc.strerror or exc}") from None
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{os.getpid()}\n")
        return True

    def _holder(self) -> int | None:
        """The process id in the lock; None if it is empty or unreadable."""
        try:
            return int(self.lock.read_text().strip())
        except (OSError, ValueError):
            return None

    def _stale(self) -> bool:
        pid = self._holder()
        if pid is not None:
            return pid != os.getpid() and not _pid_alive(pid)
        try:
            age = time.time() - self.lock.stat().st_mtime
        except FileNotFoundError:
            return True
        return age > EMPTY_LOCK_STALE_SECONDS

    def acquire(self) -> None:
        for _ in range(2):  # once more after removing a stale lock
            if self._create():
                self.held = True
                return
            if not self._stale():
                break
            with contextlib.suppress(FileNotFoundError):
                self.lock.unlink()
        pid = self._holder()
        who = f" (process {pid})" if pid is not None else ""
        raise FileProblem(f"another training{who} is writing {self.path} now; wait for it "
                          f"to finish or choose another file (if none runs, delete "
                          f"{self.lock})")

    def release(self) -> None:
        if self.held and self._holder() == os.getpid():
            with contextlib.suppress(OSError):
                self.lock.unlink()
        self.held = False

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def prepare_output(path: str | os.PathLike) -> list[Path]:
    """With the lock held: remove what killed saves of `path` (and of its side file)
    left. The removed files."""
    removed = []
    for part in leftover_parts(path) + leftover_parts(partial_path(path)):
        with contextlib.suppress(OSError):
            part.unlink()
            removed.append(part)
    return removed

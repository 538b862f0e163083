"""Writing files safely: the one atomic-write helper (temporary file in the same folder,
fsync, rename), so a full disk or a crash never leaves half a file and an old file stays
until the new one is complete; a file written over keeps its permissions, and a read-only
one is never replaced. Reading: refuse what is not a regular file, with a cap."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


class FileProblem(OSError):
    """A file that cannot be written or read, said in plain words on one line."""


def output_problem(path: str | os.PathLike) -> str | None:
    """Why `path` cannot be written to, or None (checked before any work is done)."""
    path = Path(path).expanduser()
    folder = path.parent
    if path.is_dir():
        return f"cannot save to {path}: it is a folder"
    if not folder.exists():
        return f"cannot save {path.name}: the folder {folder} does not exist"
    if not folder.is_dir():
        return f"cannot save {path.name}: {folder} is a file, not a folder"
    if not os.access(folder, os.W_OK):
        return f"cannot save {path.name}: the folder {folder} is not writable"
    if path.exists() and not path.is_file():
        return f"cannot save to {path}: it is not a regular file"
    if path.is_file() and _read_only(path):
        return (f"cannot save to {path}: the file is read-only (mode "
                f"{stat.S_IMODE(path.stat().st_mode):04o}); make it writable (chmod u+w) or "
                "choose another file")
    return None


def _read_only(path: Path) -> bool:
    """A file nobody may write (no write bit: as a read-only file to its owner, even root,
    who may write anything), or one this user may not write."""
    try:
        return not path.stat().st_mode & 0o222 or not os.access(path, os.W_OK)
    except OSError:
        return False


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object],
                     mode: int = 0o644) -> Path:
    """Write through write(binary file) under a temporary name, then rename it into place.

    The name is used exactly as given (np.save on a path would add ".npy"). The folder must
    exist (never created behind the user's back). A new file gets `mode`; a file written
    over keeps its own (a private 0600 model stays private), and a read-only one is
    refused. FileProblem in plain words otherwise."""
    path = Path(path).expanduser()
    problem = output_problem(path)
    if problem:
        raise FileProblem(problem)
    with contextlib.suppress(OSError):
        mode = stat.S_IMODE(path.stat().st_mode)
    folder = path.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise FileProblem(f"cannot save {path.name} in {folder}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # mkstemp makes 0600; a new output is for sharing
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FileProblem(f"cannot save {path.name}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_regular_file(path: str | os.PathLike, max_bytes: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most max_bytes. A FIFO, a device (/dev/zero), a
    folder or a file too large is refused before anything is read (no hang, no huge read)."""
    path = Path(path).expanduser()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise FileProblem(f"cannot open {path.name}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileProblem(f"{path.name} is not a regular {what} (a folder, pipe or device)")
        if info.st_size > max_bytes:
            raise FileProblem(f"{path.name} is {info.st_size / 2**20:,.0f} MB; a {what} may be at "
                              f"most {max_bytes / 2**20:,.0f} MB")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:  # grew while we read
                raise FileProblem(f"{path.name} is larger than {max_bytes / 2**20:,.0f} MB")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        if isinstance(exc, FileProblem):
            raise
        raise FileProblem(f"cannot read {path.name}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def zip_names(source: bytes | str | os.PathLike) -> list[str]:
    """The names in a zip (its bytes, or a file's path: only its directory is read); [] for
    anything that is not a readable zip."""
    import io
    import zipfile

    opened: str | os.PathLike | io.BytesIO
    if isinstance(source, bytes):
        if source[:2] != b"PK":
            return []
        opened = io.BytesIO(source)
    else:
        opened = source
    try:
        with zipfile.ZipFile(opened) as z:
            return z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return []

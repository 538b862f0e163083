"""Pictures made by code rather than learned (outlier exposure's drawn non-digits, the
unsure verdict's user pictures, a dataset's decoded files): the same inputs always give the
same pictures, and making them takes longer than a whole epoch of the fast preset. So they are kept on disk, keyed by
their content: a name, the arguments, the bytes of any input images, and the source of
cnnviz.core with the numpy and Pillow versions (a change to the code that draws or
preprocesses them makes a new key; nothing stale is ever read).

    pictures = cached("training-outliers", ("mnist", 4000), lambda: draw(...))

A file that is missing, damaged or not what was asked for is made again; a cache that
cannot be written is left alone (the pictures are simply made again next time).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FOLDER", "MAX_FILES", "cached", "cached_dict", "code_fingerprint", "content_key"]

FOLDER = "pictures"  # under cnnviz's cache folder (cache_dir below)
MAX_FILES = 48  # the newest are kept: a few datasets, held-out sets and pool sizes
MAX_FILE_BYTES = 64 * 1024 * 1024  # above any entry (the largest: MNIST's 60,000 training digits)


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of cnnviz.core's source files and the versions of the libraries that draw and
    resample: the pictures depend on nothing else."""
    import PIL

    digest = hashlib.sha256(f"numpy {np.__version__} pillow {PIL.__version__}".encode())
    core = Path(__file__).resolve().parents[1]
    for path in sorted(core.rglob("*.py")):
        digest.update(path.relative_to(core).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def content_key(name: str, parts: tuple, arrays: tuple = ()) -> str:
    """The key of one entry: its name, the repr of its (plain) arguments, the exact bytes,
    dtype and shape of each input array, and the code fingerprint."""
    digest = hashlib.sha256(f"{name}\n{parts!r}\n{code_fingerprint()}".encode())
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(a.data)
    return f"{name}-{digest.hexdigest()[:40]}"


def cache_dir() -> Path:
    """cnnviz's cache folder for what it works out about a model once (CNNVIZ_CACHE_DIR,
    else the per-user cache folder): the pictures here, the verdicts and report cards too."""
    import platformdirs

    return Path(os.environ.get("CNNVIZ_CACHE_DIR") or platformdirs.user_cache_dir(
        "cnnviz", appauthor=False, opinion=False))


def _folder() -> Path:
    return cache_dir() / FOLDER


def _read(path: Path) -> dict[str, np.ndarray] | None:
    from .files import FileProblem, read_regular_file

    try:
        raw = read_regular_file(path, MAX_FILE_BYTES, "cache file")
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (FileProblem, OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None  # none yet, or damaged: made again


def _write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    from .files import FileProblem, write_atomically

    with contextlib.suppress(FileProblem, OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        named: dict[str, Any] = dict(arrays)  # (numpy's stub takes the names for its flags)
        write_atomically(path, lambda fh: np.savez(fh, **named), mode=0o600)
        _forget_oldest(path.parent)


def _forget_oldest(folder: Path) -> None:
    entries = []
    for p in folder.glob("*.npz"):
        with contextlib.suppress(OSError):
            entries.append((p.stat().st_mtime, p))
    for _, p in sorted(entries)[:-MAX_FILES]:
        with contextlib.suppress(OSError):
            p.unlink()


def _checked(found: dict[str, np.ndarray] | None, dtype: str, tail: tuple | dict) -> bool:
    """A read entry holds what this code writes: arrays of `dtype`, each (N, *tail) (tail:
    one for all, or {name: tail} naming every array)."""
    if not found or (isinstance(tail, dict) and set(found) != set(tail)):
        return False
    return all(a.dtype == np.dtype(dtype)
               and a.shape[1:] == (tail[k] if isinstance(tail, dict) else tail)
               for k, a in found.items())


def cached_dict(name: str, parts: tuple, make: Callable[[], dict[str, np.ndarray]],
                arrays: tuple = (), dtype: str = "uint8",
                tail: tuple | dict = (28, 28)) -> dict[str, np.ndarray]:
    """make()'s {name: (N, *tail) array of dtype}, read from the cache when an entry with
    the same content key is there, else made and stored: fresh arrays, the caller's own."""
    path = _folder() / f"{content_key(name, parts, arrays)}.npz"
    found = _read(path)
    if not _checked(found, dtype, tail):
        found = {k: np.asarray(v, dtype) for k, v in make().items()}
        if found:
            _write(path, found)
        else:
            return found
    else:
        with contextlib.suppress(OSError):
            path.touch()  # recently used: kept longest
    assert found is not None
    return found


def cached(name: str, parts: tuple, make: Callable[[], np.ndarray], arrays: tuple = (),
           dtype: str = "uint8", tail: tuple = (28, 28)) -> np.ndarray:
    """make()'s array, read from the cache when there (see cached_dict)."""
    return cached_dict(name, parts, lambda: {"pictures": make()}, arrays, dtype,
                       tail)["pictures"]

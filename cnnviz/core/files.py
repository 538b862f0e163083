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


# What a file is, by its first bytes (never by its name): cnnviz opens pictures as the input
# and models as the network, whatever the file is called.
_PICTURE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM",
                  b"II*\x00", b"MM\x00*")
ACCEPTED_KINDS = ("a picture (PNG, JPEG, BMP, GIF, TIFF, WebP) or a model (a cnnviz "
                  ".safetensors file, a Keras .keras or .h5 file, an ONNX .onnx file, a torch.export "
                  ".pt2 or TorchScript .pt file)")


MODEL_SUFFIXES = (".safetensors", ".keras", ".h5", ".hdf5", ".onnx", ".pt2", ".pt", ".pth")
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm",
                    ".ppm", ".pbm")


def open_as(path: str | os.PathLike) -> str | None:
    """How cnnviz opens a file: "model" or "picture" by its content; by its name when the
    content does not say (a damaged model is opened as one, so its message is a model's);
    None when it is neither (the caller names ACCEPTED_KINDS)."""
    kind = file_kind(path)
    if kind is not None:
        return kind
    suffix = Path(path).suffix.lower()
    if suffix in MODEL_SUFFIXES:
        return "model"
    if suffix in PICTURE_SUFFIXES:
        return "picture"
    return None


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


def file_kind(path: str | os.PathLike) -> str | None:
    """"model", "picture" or None (not a regular file, unreadable, or neither), from the
    file's first bytes. A FIFO or a device is never opened (reading one could block)."""
    import stat

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as fh:
            head = fh.read(64)
    except OSError:
        return None
    from .hdf5_reader import HDF5_MAGIC

    if head.startswith(HDF5_MAGIC):
        return "model"  # HDF5: a Keras .h5
    if head.startswith(b"PK"):  # a plain torch.save zip is opened as a model only by name
        from .keras_file import keras_zip_names
        from .torch_graph import pt2_names, torchscript_names

        names = zip_names(path)
        return "model" if any(rule(names) for rule in (keras_zip_names, pt2_names,
                                                        torchscript_names)) else None
    if len(head) >= 9 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") < 100_000_000:
        return "model"  # safetensors: an 8-byte header length, then its JSON
    if head.startswith(_PICTURE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "picture"
    from .onnx_file import is_onnx

    if is_onnx(head):
        return "model"  # ONNX: a protobuf ModelProto
    return None

"""A set of the user's own labelled pictures, kept as a plain folder a person can read and
share:

    my-set/
      cnnviz-set.json        {"format": "cnnviz-set", "version": 1, "input_shape": [1, 28, 28],
                              "classes": [{"name", "folder"}],
                              "samples": [{"file", "class", "writer", "time", "strokes"}]}
      arrow-up/0001-….png    one subfolder per class, one PNG per sample (the network input)

A folder without `cnnviz-set.json` is read as the image-folder layout torchvision's
ImageFolder and Keras's image_dataset_from_directory read (one subfolder per class, any
pictures, grey or colour), every picture resized to the set's input size.

Every write is atomic (cnnviz.core.basics.files): a sample's PNG is complete before the manifest
names it, and the manifest is replaced whole, never half-written. Two windows collecting
into one set never lose a sample: each change is made under a lock on the set, on the
manifest as it is on disk then (re-read, changed, written).

    >>> s = UserSet.create(folder, ["circle", "cross"])          # doctest: +SKIP
    >>> s.add_drawing(picture, "circle", writer="Ana")           # doctest: +SKIP
    >>> images, labels = s.arrays()                              # (N, 28, 28) uint8, (N,)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..basics.files import FileProblem, read_regular_file, write_atomically
from ..basics.limits import MAX_SET_CLASSES, MAX_SET_FILES, MAX_SET_MANIFEST_BYTES
from ..basics.text_safety import printable

__all__ = ["MANIFEST", "SetClass", "Sample", "UserSet", "UserSetError", "folder_name_for",
           "read_set", "split_by_writer", "set_warnings"]

MANIFEST = "cnnviz-set.json"
FORMAT, VERSION = "cnnviz-set", 1
DIGIT_SHAPE = (1, 28, 28)
MAX_CLASS_NAME = 60  # characters of a class's display name (what a model card keeps)
MIN_PER_CLASS = 10  # fewer samples in a class: the set browser warns that it is tiny
UNBALANCED_RATIO = 3.0  # the largest class this many times the smallest: a warning
_IMPORT_BATCH = 256  # pictures imported between two manifest writes (and stop checks)
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}
_PICTURES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


class UserSetError(ValueError):
    """A set that cannot be read or changed as asked; the message says why in one line."""


@dataclass(frozen=True)
class SetClass:
    name: str  # what the user typed, shown everywhere
    folder: str  # a safe folder name for it


@dataclass(frozen=True)
class Sample:
    file: str  # relative to the set's folder, with "/" ("circle/0001-ab12.png")
    cls: str  # the class's name
    writer: str = ""
    time: str = ""  # ISO 8601, local time with its offset
    strokes: list = field(default_factory=list, compare=False)  # [[[x, y], ...], ...] 0..1

    def to_dict(self) -> dict:
        return {"file": self.file, "class": self.cls, "writer": self.writer, "time": self.time,
                "strokes": self.strokes}


# ----- names ------------------------------------------------------------------------------


def clean_class_name(name: object) -> str:
    """A display name as kept: printable, trimmed; UserSetError when empty or too long."""
    text = " ".join(printable(name).split())
    if not text:
        raise UserSetError("a class needs a name (letters, digits or any symbol)")
    if len(text) > MAX_CLASS_NAME:
        raise UserSetError(f"a class name may have at most {MAX_CLASS_NAME} characters "
                           f"({text[:20]}… has {len(text)})")
    return text


def folder_name_for(name: str, taken: Iterable[str] = ()) -> str:
    """A folder name that is safe on every system for a display name ("7", "arrow up",
    "a/b" -> "a_b", "CON" -> "CON_", "?" -> "class"), unique (ignoring case) among `taken`."""
    base = re.sub(r"[^\w\-. ]", "_", name, flags=re.ASCII).strip(" .")
    base = re.sub(r"\s+", "-", base)[:40] or "class"
    if set(base) <= {"_"}:
        base = "class"
    if base.lower() in _WINDOWS_RESERVED or base.startswith("."):
        base = base + "_"
    lowered = {t.lower() for t in taken}
    out, n = base, 2
    while out.lower() in lowered or out == MANIFEST:
        out, n = f"{base}-{n}", n + 1
    return out


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


# ----- the lock ---------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(folder: Path):
    """Holds the set's lock (.cnnviz-set.lock, an OS file lock released when the process
    ends, so a crash never leaves the set locked) while the body changes the set."""
    path = folder / ".cnnviz-set.lock"
    try:
        fh = open(path, "a+b")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise UserSetError(f"cannot change the set in {folder.name}: {exc.strerror or exc}") from None
    try:
        if sys.platform == "win32":  # pragma: no cover (Windows)
            import msvcrt

            fh.seek(0)
            while True:
                try:
                    msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        fh.close()  # (closing releases the lock)


def _write_bytes(path: Path, data: bytes) -> Path:
    """`data` written to `path` atomically; UserSetError in words."""
    try:
        return write_atomically(path, lambda fh: fh.write(data))
    except FileProblem as exc:
        raise UserSetError(str(exc)) from None


# ----- reading ----------------------------------------------------------------------------


def _manifest_from(raw: bytes, folder: Path) -> tuple[tuple[int, int, int], list[SetClass],
                                                      list[Sample]]:
    from ..basics.json_input import JsonProblem, read_json

    try:
        data = read_json(raw.decode("utf-8"), MANIFEST)
    except (JsonProblem, UnicodeDecodeError) as exc:
        raise UserSetError(f"{folder.name}/{MANIFEST} is damaged ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserSetError(f"{folder.name}/{MANIFEST} is not a cnnviz set (no \"format\": "
                           f"\"{FORMAT}\")")
    if data.get("version") != VERSION:
        raise UserSetError(f"{folder.name}/{MANIFEST} is version {data.get('version')!r}; "
                           f"this cnnviz reads version {VERSION}")
    shape = data.get("input_shape")
    if not (isinstance(shape, list) and len(shape) == 3
            and all(isinstance(v, int) and not isinstance(v, bool) for v in shape)
            and shape[0] in (1, 3) and all(4 <= v <= 512 for v in shape[1:])):
        raise UserSetError(f"{folder.name}/{MANIFEST}: input_shape must be [1 or 3, height, "
                           f"width] with sides from 4 to 512, got {shape!r}")
    classes = []
    for c in data.get("classes") or []:
        if not (isinstance(c, dict) and isinstance(c.get("name"), str)
                and isinstance(c.get("folder"), str)):
            raise UserSetError(f"{folder.name}/{MANIFEST}: a class needs a name and a folder")
        if folder_name_for(c["folder"]) != c["folder"]:
            raise UserSetError(f"{folder.name}/{MANIFEST}: the class folder {c['folder']!r} is "
                               "not a plain folder name")
        classes.append(SetClass(clean_class_name(c["name"]), c["folder"]))
    names = {c.name for c in classes}
    samples = []
    for s in data.get("samples") or []:
        if not (isinstance(s, dict) and isinstance(s.get("file"), str)
                and s.get("class") in names):
            continue  # a sample of no known class: left out, not fatal
        file = s["file"]
        if file.startswith("/") or ".." in file.split("/"):
            continue
        strokes = s.get("strokes")
        if not isinstance(strokes, list):
            strokes = []
        samples.append(Sample(file, s["class"], str(s.get("writer") or "")[:MAX_CLASS_NAME],
                              str(s.get("time") or "")[:40], strokes))
    depth, height, width = shape
    return ((depth, height, width), classes, samples)


def _picture_files(folder: Path, limit: int) -> list[Path]:
    out = []
    with os.scandir(folder) as it:
        for entry in it:
            if entry.is_file() and Path(entry.name).suffix.lower() in _PICTURES \
                    and not entry.name.startswith("."):
                out.append(Path(entry.path))
                if len(out) > limit:
                    break
    return sorted(out)


def _image_folder(folder: Path, shape: tuple[int, int, int]) -> tuple[list[SetClass], list[Sample]]:
    """The image-folder layout: each subfolder a class (sorted by name, as torchvision
    does), each picture in it a sample. Refused above MAX_SET_FILES pictures."""
    subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    classes, samples, total = [], [], 0
    for sub in subs:
        files = _picture_files(sub, MAX_SET_FILES - total)
        total += len(files)
        if total > MAX_SET_FILES:
            raise UserSetError(f"{folder.name} holds more than {MAX_SET_FILES:,} pictures; "
                               f"cnnviz reads sets of up to {MAX_SET_FILES:,}")
        name = clean_class_name(sub.name)
        classes.append(SetClass(name, sub.name))
        samples += [Sample(f"{sub.name}/{f.name}", name) for f in files]
    if not classes:
        raise UserSetError(f"{folder.name} has no {MANIFEST} and no subfolders: a set is a "
                           "folder with one subfolder of pictures per class")
    if not samples:
        raise UserSetError(f"{folder.name} holds no pictures (PNG, JPEG, BMP, GIF, TIFF, WebP) "
                           "in its class folders")
    return classes, samples


def read_set(folder: str | os.PathLike) -> UserSet:
    """The set in `folder`: its manifest, or else the image-folder layout (input 1×28×28)."""
    return UserSet.open(folder)


# ----- the set ----------------------------------------------------------------------------


@dataclass
class UserSet:
    folder: Path
    input_shape: tuple[int, int, int]
    classes: list[SetClass]
    samples: list[Sample]
    has_manifest: bool = True

    # -- making and opening

    @classmethod
    def create(cls, folder: str | os.PathLike, classes: list[str],
               input_shape: tuple[int, int, int] = DIGIT_SHAPE) -> UserSet:
        """A new, empty set in `folder` (made if missing; an existing set is refused)."""
        folder = Path(folder).expanduser()
        if (folder / MANIFEST).exists():
            raise UserSetError(f"{folder.name} already holds a set; open it instead")
        c, h, w = (int(v) for v in input_shape)
        if c not in (1, 3) or not (4 <= h <= 512 and 4 <= w <= 512):
            raise UserSetError("a set's pictures are 1 (grey) or 3 (colour) channels, 4 to 512 "
                               "pixels a side")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserSetError(f"cannot make the folder {folder}: {exc.strerror or exc}") from None
        made = cls(folder, (c, h, w), [], [])
        with _locked(folder):
            for name in classes:
                made._add_class(name)
            made._write()
        return made

    @classmethod
    def open(cls, folder: str | os.PathLike) -> UserSet:
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            raise UserSetError(f"{folder} is not a folder")
        manifest = folder / MANIFEST
        if not manifest.exists():
            classes, samples = _image_folder(folder, DIGIT_SHAPE)
            return cls(folder, DIGIT_SHAPE, classes, samples, has_manifest=False)
        shape, classes, samples = cls._read_manifest(folder)
        return cls(folder, shape, classes, samples)

    @staticmethod
    def _read_manifest(folder: Path):
        try:
            raw = read_regular_file(folder / MANIFEST, MAX_SET_MANIFEST_BYTES, "set manifest")
        except FileProblem as exc:
            raise UserSetError(str(exc)) from None
        return _manifest_from(raw, folder)

    def reload(self) -> None:
        """The set as it is on disk now (another window may have added to it)."""
        fresh = UserSet.open(self.folder)
        self.input_shape, self.classes, self.samples = fresh.input_shape, fresh.classes, fresh.samples

    # -- what it holds

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(self.class_names, 0)
        for s in self.samples:
            out[s.cls] += 1
        return out

    def writers(self) -> list[str]:
        return sorted({s.writer for s in self.samples})

    def class_of(self, name: str) -> SetClass:
        for c in self.classes:
            if c.name == name:
                return c
        raise UserSetError(f"the set has no class {name!r}")

    def path_of(self, sample: Sample) -> Path:
        return self.folder / sample.file

    def picture(self, sample: Sample) -> np.ndarray:
        """One sample as the network input: (H, W) or (H, W, 3) uint8 at the set's size."""
        return _read_picture(self.path_of(sample), self.input_shape)

    def arrays(self, progress: Callable[[int, int], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every sample: images (N, H, W) uint8 (or (N, 3, H, W)) and labels (N,) int64, the
        class's position in the set. progress(done, total) now and then; should_stop() ends
        early with KeyboardInterrupt."""
        c, h, w = self.input_shape
        images = np.zeros((len(self.samples), h, w) if c == 1 else (len(self.samples), c, h, w),
                          np.uint8)
        index = {n: i for i, n in enumerate(self.class_names)}
        labels = np.array([index[s.cls] for s in self.samples], np.int64)
        for i, s in enumerate(self.samples):
            if should_stop is not None and i % 64 == 0 and should_stop():
                raise KeyboardInterrupt
            a = self.picture(s)
            images[i] = a if c == 1 else np.moveaxis(a, -1, 0)
            if progress is not None and (i % 256 == 0 or i == len(self.samples) - 1):
                progress(i + 1, len(self.samples))
        return images, labels

    def writer_of_each(self) -> list[str]:
        return [s.writer for s in self.samples]

    # -- changing it (each change under the lock, on the manifest as it is on disk)

    @contextlib.contextmanager
    def _change(self):
        if not self.has_manifest:
            raise UserSetError(f"{self.name} is an image folder, not a cnnviz set: import it "
                               "into a new set to change it")
        with _locked(self.folder):
            self.reload()
            yield
            self._write()

    def _write(self) -> None:
        data = {"format": FORMAT, "version": VERSION, "input_shape": list(self.input_shape),
                "classes": [{"name": c.name, "folder": c.folder} for c in self.classes],
                "samples": [s.to_dict() for s in self.samples]}
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            write_atomically(self.folder / MANIFEST, lambda fh: fh.write(text))
        except FileProblem as exc:
            raise UserSetError(str(exc)) from None

    def _add_class(self, name: str) -> SetClass:
        name = clean_class_name(name)
        if name in self.class_names:
            return self.class_of(name)
        if len(self.classes) >= MAX_SET_CLASSES:
            raise UserSetError(f"a set may have at most {MAX_SET_CLASSES} classes")
        made = SetClass(name, folder_name_for(name, {c.folder for c in self.classes}))
        try:
            (self.folder / made.folder).mkdir(exist_ok=True)
        except OSError as exc:
            raise UserSetError(f"cannot make the folder for {name!r}: {exc.strerror or exc}") from None
        self.classes.append(made)
        return made

    def add_class(self, name: str) -> SetClass:
        with self._change():
            return self._add_class(name)

    def remove_class(self, name: str) -> None:
        """Remove an empty class (a class with samples is refused: delete them first)."""
        with self._change():
            if self.counts().get(name):
                raise UserSetError(f"{name!r} still has {self.counts()[name]} samples; delete "
                                   "them first")
            self.classes = [c for c in self.classes if c.name != name]

    def add_picture(self, picture: np.ndarray, class_name: str, writer: str = "",
                    strokes: list | None = None) -> Sample:
        """Add one sample: `picture` is the network input ((H, W) or (H, W, 3), uint8 or
        0..1 floats) at the set's size. Its PNG is written first, then the manifest."""
        pixels = _as_uint8(picture, self.input_shape)
        with self._change():
            cls = self._add_class(class_name)
            sample = Sample(self._new_file(cls), cls.name, " ".join(printable(writer).split())[:60],
                            _now(), _rounded_strokes(strokes))
            _write_png(self.folder / sample.file, pixels)
            self.samples.append(sample)
        return sample

    def add_drawing(self, picture: np.ndarray, class_name: str, writer: str = "",
                    strokes: list | None = None, dataset: str | None = None) -> Sample:
        """A drawing (any size, 0..255, as the pad gives it) through the preprocessing the app
        shows (cnnviz.core.pictures.preprocess: digit framing), then added. UserSetError when it
        preprocesses to nothing (a blank pad, a colourful photo)."""
        digit = network_input_of(picture, self.input_shape, dataset)
        return self.add_picture(digit, class_name, writer, strokes)

    def _new_file(self, cls: SetClass) -> str:
        taken = {s.file for s in self.samples}
        while True:
            name = f"{cls.folder}/{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}.png"
            if name not in taken and not (self.folder / name).exists():
                return name

    def delete(self, files: list[str]) -> list[tuple[Sample, bytes]]:
        """Remove these samples (manifest first, then their files); what was removed, with
        each PNG's bytes, so `restore` can undo it."""
        gone = []
        with self._change():
            wanted = set(files)
            for s in self.samples:
                if s.file in wanted:
                    with contextlib.suppress(OSError):
                        gone.append((s, self.path_of(s).read_bytes()))
            self.samples = [s for s in self.samples if s.file not in wanted]
        for s, _ in gone:
            with contextlib.suppress(OSError):
                self.path_of(s).unlink()
        return gone

    def restore(self, removed: list[tuple[Sample, bytes]]) -> None:
        """Undo a delete: the files written back, then the samples listed again."""
        with self._change():
            for s, data in removed:
                self._add_class(s.cls)
                _write_bytes(self.path_of(s), data)
                if s.file not in {x.file for x in self.samples}:
                    self.samples.append(s)

    def relabel(self, files: list[str], class_name: str) -> list[tuple[str, str]]:
        """Move samples to another class (their files move to its folder); the (old file,
        new file) pairs, so a relabel can be undone by relabelling back."""
        moves = []
        with self._change():
            cls = self._add_class(class_name)
            wanted = set(files)
            out = []
            for s in self.samples:
                if s.file in wanted and s.cls != cls.name:
                    new = f"{cls.folder}/{Path(s.file).name}"
                    try:
                        os.replace(self.path_of(s), self.folder / new)
                    except OSError as exc:
                        raise UserSetError(f"cannot move {s.file}: {exc.strerror or exc}") from None
                    moves.append((s.file, new))
                    s = Sample(new, cls.name, s.writer, s.time, s.strokes)
                out.append(s)
            self.samples = out
        return moves

    # -- import and export

    def import_folder(self, source: str | os.PathLike, *, preprocess: bool = False,
                      progress: Callable[[int, int], None] | None = None,
                      should_stop: Callable[[], bool] | None = None) -> ImportReport:
        """Copy an image folder (a subfolder per class) into this set: each picture grey or
        colour as the set is, resized to its input size (preprocess=True: through the digit
        framing the app shows instead). Pictures that cannot be read are skipped and counted.
        Stopping keeps what was imported so far."""
        source = Path(source).expanduser()
        if not source.is_dir():
            raise UserSetError(f"{source} is not a folder")
        other = UserSet.open(source)
        report = ImportReport(total=len(other.samples))
        step = _IMPORT_BATCH
        for start in range(0, len(other.samples), step):
            if should_stop is not None and should_stop():
                report.stopped = True
                break
            batch = []
            for s in other.samples[start:start + step]:
                try:
                    batch.append((_fit(other.path_of(s), self.input_shape, preprocess), s))
                except UserSetError as exc:
                    report.skipped.append(f"{s.file}: {exc}")
            self._add_batch(batch)
            report.imported += len(batch)
            if progress is not None:
                progress(min(start + step, len(other.samples)), len(other.samples))
        return report

    def _add_batch(self, batch: list[tuple[np.ndarray, Sample]]) -> None:
        with self._change():
            for pixels, s in batch:
                cls = self._add_class(s.cls)
                sample = Sample(self._new_file(cls), cls.name, s.writer, s.time or _now(), s.strokes)
                _write_png(self.folder / sample.file, pixels)
                self.samples.append(sample)

    def export_npz(self, path: str | os.PathLike) -> Path:
        """x (N, H, W) or (N, 3, H, W) uint8, y (N,), classes, writers, files: one .npz file."""
        x, y = self.arrays()
        buf = io.BytesIO()
        np.savez_compressed(buf, x=x, y=y, classes=np.array(self.class_names),
                            writers=np.array(self.writer_of_each()),
                            files=np.array([s.file for s in self.samples]))
        try:
            return write_atomically(path, lambda fh: fh.write(buf.getvalue()))
        except FileProblem as exc:
            raise UserSetError(str(exc)) from None

    def export_idx(self, folder: str | os.PathLike, prefix: str = "set") -> tuple[Path, Path]:
        """MNIST's IDX format: PREFIX-images-idx3-ubyte (magic 2051, count, rows, columns,
        then the pixels row by row) and PREFIX-labels-idx1-ubyte (magic 2049, count, labels).
        Grey sets only (IDX3 has no channels)."""
        if self.input_shape[0] != 1:
            raise UserSetError("the IDX files of MNIST hold grey pictures; this set is in colour "
                               "(export it as .npz)")
        x, y = self.arrays()
        folder = Path(folder).expanduser()
        _, h, w = self.input_shape
        images = np.array([2051, len(x), h, w], ">u4").tobytes() + x.tobytes()
        labels = np.array([2049, len(y)], ">u4").tobytes() + y.astype(np.uint8).tobytes()
        out = []
        for name, data in ((f"{prefix}-images-idx3-ubyte", images),
                           (f"{prefix}-labels-idx1-ubyte", labels)):
            out.append(_write_bytes(folder / name, data))
        return out[0], out[1]


@dataclass
class ImportReport:
    total: int = 0
    imported: int = 0
    skipped: list[str] = field(default_factory=list)  # "file: why"
    stopped: bool = False

    @property
    def summary(self) -> str:
        text = f"Imported {self.imported:,} of {self.total:,} pictures"
        if self.skipped:
            text += f"; {len(self.skipped):,} could not be read (first: {self.skipped[0]})"
        return text + (" (stopped)." if self.stopped else ".")


# ----- pictures ---------------------------------------------------------------------------


def _as_uint8(picture: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    a = np.asarray(picture)
    c, h, w = shape
    want = (h, w) if c == 1 else (h, w, c)
    if a.shape != want:
        raise UserSetError(f"a sample of this set is {w}×{h}"
                           f"{'' if c == 1 else ' colour'}; got a picture of shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.clip(np.rint(np.nan_to_num(a.astype(np.float64)) * 255.0), 0, 255).astype(np.uint8)
    return a


def _write_png(path: Path, pixels: np.ndarray) -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGB").save(buf, format="PNG")
    try:
        write_atomically(path, lambda fh: fh.write(buf.getvalue()))
    except FileProblem as exc:
        raise UserSetError(str(exc)) from None


def _read_picture(path: Path, shape: tuple[int, int, int]) -> np.ndarray:
    """A sample's file as (H, W) or (H, W, 3) uint8 at the set's size (resized when not)."""
    return _fit(path, shape, preprocess=False)


def _fit(path: Path, shape: tuple[int, int, int], preprocess: bool) -> np.ndarray:
    from ..pictures.images import ImageError, load_image

    c, h, w = shape
    try:
        a = load_image(path, mode="grey" if c == 1 else "rgb")
    except ImageError as exc:
        raise UserSetError(str(exc)) from None
    if preprocess:
        return _as_uint8(network_input_of(a, shape), shape)
    if a.shape[:2] == (h, w):
        return np.clip(np.rint(a), 0, 255).astype(np.uint8)
    from PIL import Image

    im = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L" if c == 1 else "RGB")
    return np.asarray(im.resize((w, h), Image.Resampling.BOX if a.shape[0] > h
                                else Image.Resampling.BILINEAR), np.uint8)


def network_input_of(picture: np.ndarray, shape: tuple[int, int, int] = DIGIT_SHAPE,
                     dataset: str | None = None) -> np.ndarray:
    """A drawing or photo (0..255, any size) -> the network input the app shows for it:
    MNIST's digit framing for a 1×28×28 set (cnnviz.core.pictures.preprocess.preprocess_for), the
    whole picture resized otherwise (cnnviz.core.networks.network.fit_picture). (H, W[, 3]) in 0..1;
    UserSetError when nothing is found in it."""
    from ..networks.network import InputSpec, fit_picture
    from ..pictures.preprocess import preprocess_for

    spec = InputSpec(*shape)
    digit = preprocess_for(dataset)(picture) if spec.is_digit_sized else fit_picture(picture, spec)
    if digit.empty:
        why = digit.reason or "blank"
        raise UserSetError(f"nothing to keep: the picture reads as {why!r} (no drawing was found "
                           "in it); draw the symbol, then add it")
    return np.asarray(digit.image, np.float32)


def _rounded_strokes(strokes) -> list:
    """Strokes as [[[x, y], ...], ...] in 0..1 of the pad, 4 decimals (a small manifest)."""
    out = []
    for stroke in strokes or []:
        try:
            out.append([[round(float(x), 4), round(float(y), 4)] for x, y in stroke])
        except (TypeError, ValueError):
            continue
    return out


# ----- checks and splits ------------------------------------------------------------------


def set_warnings(counts: dict[str, int]) -> list[str]:
    """What to tell the user about a set before training on it: empty, tiny or unbalanced
    classes, or a single class."""
    out = []
    empty = [n for n, k in counts.items() if k == 0]
    if empty:
        out.append(f"No samples yet in {', '.join(map(repr, empty))}: a class needs pictures to "
                   "be learned (add some, or remove the class).")
    full = {n: k for n, k in counts.items() if k > 0}
    if len(full) < 2:
        out.append("A network needs at least two classes with samples to tell apart.")
    tiny = [n for n, k in full.items() if k < MIN_PER_CLASS]
    if tiny:
        out.append(f"Few samples in {', '.join(map(repr, tiny))} (under {MIN_PER_CLASS}): the "
                   "network will learn these poorly; aim for 20 or more each.")
    if len(full) >= 2 and max(full.values()) >= UNBALANCED_RATIO * min(full.values()):
        big, small = max(full, key=full.__getitem__), min(full, key=full.__getitem__)
        out.append(f"Unbalanced: {big!r} has {full[big]} samples, {small!r} only {full[small]}; "
                   "the network will lean towards the larger classes.")
    return out


def training_problem(counts: dict[str, int]) -> str | None:
    """Why a set cannot be trained on, in one line (None when it can)."""
    empty = [n for n, k in counts.items() if k == 0]
    if empty:
        return (f"the class {empty[0]!r} has no samples; add some or remove the class "
                "before training")
    if len(counts) < 2:
        return "a set needs at least two classes to train on (one class is always right)"
    return None


def split_by_writer(labels: np.ndarray, writers: list[str], test_share: float,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, test indices). With several writers, whole writers are held out
    (a new writer is what the network meets next): writers in a seeded order until about
    `test_share` of the samples, at least one writer in each part. With one writer, that
    share of each class, chosen at random."""
    n = len(labels)
    if not 0 <= test_share < 1:
        raise UserSetError(f"the test share is from 0 to below 1, got {test_share!r}")
    if test_share == 0 or n < 2:
        return np.arange(n), np.zeros(0, np.int64)
    rng = np.random.default_rng(seed)
    names = sorted(set(writers))
    if len(names) >= 2:
        order = [names[i] for i in rng.permutation(len(names))]
        per = {w: sum(1 for x in writers if x == w) for w in names}
        held: set[str] = set()
        count = 0
        for w in order[:-1]:
            if held and count + per[w] / 2 > test_share * n:
                break
            held.add(w)
            count += per[w]
        test = np.array([i for i, w in enumerate(writers) if w in held], np.int64)
    else:
        picks = []
        for c in np.unique(labels):
            idx = np.flatnonzero(labels == c)
            k = int(round(len(idx) * test_share))
            picks += list(rng.permutation(idx)[:min(k, len(idx) - 1)])
        test = np.sort(np.array(picks, np.int64))
    train = np.setdiff1d(np.arange(n), test)
    return train, test

"""Files in and out of the window: images opened on a worker (file, drop, clipboard), and
exports (a PNG of a view, the shown array as .npy) written atomically, so an existing file
is never truncated in place (a full disk keeps the old file)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, QMimeData, QObject, QUrl, Signal
from PySide6.QtGui import QImage, QPixmap

from cnnviz.core.basics import limits
from cnnviz.core.basics.files import FileProblem, write_atomically
from cnnviz.core.networks.file_kinds import PICTURE_SUFFIXES
from cnnviz.core.pictures.images import ImageError, load_image

from ..controllers import LatestRequestRunner

IMAGE_FILTER = f"Images ({' '.join('*' + s for s in PICTURE_SUFFIXES)});;All files (*)"
MAX_PIXELS = limits.MAX_IMAGE_PIXELS


def sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _load_in_worker(source: str | bytes, name: str):
    """Runs on the image-loader thread: ("ok", array, name) or ("error", reason, name)."""
    try:
        return "ok", load_image(source), name
    except ImageError as exc:  # a plain reason that names the file
        return "error", str(exc), name
    except (OSError, ValueError, MemoryError) as exc:
        return "error", f"{name} cannot be read ({exc})", name


def _rgba_to_png(rgba: np.ndarray) -> bytes:
    """Encode a pasted picture as PNG so it goes through the same loader as a file."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _load_pasted(rgba: np.ndarray, name: str):
    try:
        kind, payload, name = _load_in_worker(_rgba_to_png(rgba), name)
    except (OSError, ValueError) as exc:
        return "error", f"the {name} cannot be read ({exc})", name
    if kind == "error":
        payload = payload.replace("the image data", f"the {name}")
    return kind, payload, name


def qimage_to_rgba(image: QImage) -> np.ndarray:
    """(H, W, 4) uint8 copy of a QImage."""
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    h, w, stride = rgba.height(), rgba.width(), rgba.bytesPerLine()
    raw = np.frombuffer(rgba.constBits(), dtype=np.uint8, count=stride * h)
    return raw.reshape(h, stride)[:, : 4 * w].reshape(h, w, 4).copy()


class ImageOpener(QObject):
    """Opens images off the GUI thread. Emits opened(array, name) on success, problem(title,
    text) when there is nothing usable (the current input is kept), status(text) meanwhile."""

    opened = Signal(object, str)
    problem = Signal(str, str)
    status = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.loader = LatestRequestRunner("image-loader", self)
        self.loader.finished.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self._loading_name = ""

    def open_file(self, path: str | Path) -> None:
        path = Path(path)
        self._loading_name = path.name
        self.status.emit(f"Opening {path.name}…")
        self.loader.submit(_load_in_worker, str(path), path.name)

    def open_qimage(self, image: QImage, name: str) -> bool:
        """A picture from the clipboard or a drop: checked and decoded like a file."""
        if image.width() * image.height() > MAX_PIXELS:
            self.problem.emit("Cannot open image", f"The {name} is {image.width()}×{image.height()} "
                              f"pixels, more than the {MAX_PIXELS:,} cnnviz accepts.\n\nThe current "
                              "input is kept.")
            return False
        self._loading_name = name
        self.status.emit(f"Opening the {name}…")
        self.loader.submit(_load_pasted, qimage_to_rgba(image), name)
        return True

    def open_mime_data(self, mime: QMimeData | None) -> Path | bool:
        """Open what a drop or the clipboard holds: an image file, or a picture. Returns the
        file's path, True for a picture, False (after a problem) if nothing is usable."""
        if mime is None:
            self.problem.emit("Nothing to open", "The clipboard is empty.")
            return False
        if mime.hasUrls():
            for url in mime.urls():
                if url.isLocalFile():
                    return self._open_path(url.toLocalFile())
            self.problem.emit("Cannot open image", "Only image files on this computer can be "
                              "opened (cnnviz does not download web addresses).")
            return False
        if mime.hasImage():
            image = mime.imageData()
            if isinstance(image, QImage) and not image.isNull():
                return self.open_qimage(image, "pasted image")
        if mime.hasText():
            text = mime.text().strip()
            if text.startswith("file:"):
                text = QUrl(text.splitlines()[0]).toLocalFile()
            if text and "\n" not in text and Path(text).expanduser().is_file():
                return self._open_path(Path(text).expanduser())
        self.problem.emit("Nothing to open", "The clipboard or the dropped item holds no picture "
                          "and no image file.")
        return False

    def _open_path(self, path) -> Path:
        path = Path(path)
        self.open_file(path)
        return path

    def _on_loaded(self, _generation: int, result) -> None:
        kind, payload, name = result
        if kind == "ok":
            self.opened.emit(payload, name)
        else:
            self.problem.emit("Cannot open image", sentence(payload) + "\n\nThe current input is kept.")

    def _on_failed(self, _generation: int, message: str) -> None:
        self.problem.emit("Cannot open image", f"{self._loading_name} could not be opened: "
                          f"{sentence(message)}\n\nThe current input is kept.")

    def shutdown(self) -> None:
        self.loader.shutdown()


def lesson_kind(path: str | Path) -> str | None:
    """"lesson" or "session" when the file is a cnnviz lesson or session (by its first
    bytes), else None."""
    import contextlib
    import stat

    from cnnviz.core.lessons.lesson import is_lesson
    from cnnviz.core.lessons.session import is_session

    with contextlib.suppress(OSError):
        if stat.S_ISREG(Path(path).stat().st_mode):
            with open(path, "rb") as fh:
                head = fh.read(4096)
            return "lesson" if is_lesson(head) else "session" if is_session(head) else None
    return None


def safe_stem(text: str, default: str = "cnnviz-array") -> str:
    """A file-name stem from a layer or view name ('conv1 (32×26×26)' -> 'conv1-32-26-26')."""
    return re.sub(r"[^\w.-]+", "-", text).strip("-") or default


def save_png(pixmap: QPixmap, path: str | Path) -> Path:
    """Encode in memory, then write atomically (FileProblem in plain words on failure)."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not pixmap.save(buffer, "PNG"):
        raise FileProblem("the picture could not be encoded as PNG")
    data = buffer.data().data()
    return write_atomically(path, lambda fh: fh.write(data))


def save_npy(array: np.ndarray, path: str | Path) -> Path:
    array = np.asarray(array)
    return write_atomically(path, lambda fh: np.save(fh, array, allow_pickle=False))

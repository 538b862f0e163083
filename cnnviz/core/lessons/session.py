"""Sessions: a `.cnnviz-session` file keeps exactly where a user was, to come back to later.

    {"format": "cnnviz-session", "version": 1, "tab": "kernel-explorer",
     "model": "cnnviz"  |  {"file": "mine.safetensors", "sha256": "…"},
     "input": {"sample": 30}
            | {"picture": {"png": "<base64>", "name": "photo.jpg"}}
            | {"drawing": {"base": {"png": …, "name": …} or null, "ink": 255, "paper": 0,
                           "strokes": [{"erase": false, "points": [[x, y, width], …]}, …]}},
     "brush": 20, "layer": "conv1",
     "settings": {"KernelExplorer/stride": "1,1", "CnnExplorer/splitter": {"bytes": "<base64>"}, …}}

The drawing is kept as its strokes, in the pad's 280×280 coordinates, over the picture it was
drawn on (if any); "settings" are every tab's own settings, as the window saves them between
runs. The same JSON style as lessons (cnnviz.core.lessons.lesson), and the same pieces: pictures
embedded as base64 PNG, models by their shipped name or by file name plus SHA-256
(model_reference, find_model), so a session made on another computer names what is missing.

A file that is damaged, too large or holds what cnnviz does not know is refused with one
SessionError that says what and where. Qt-free.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..basics.files import FileProblem, read_regular_file, write_atomically
from ..basics.json_input import JsonProblem, read_json
from ..basics.limits import MAX_LESSON_FILE_BYTES
from ..basics.text_safety import printable

__all__ = ["SESSION_FORMAT", "SESSION_SUFFIX", "Session", "SessionError", "decode_picture",
           "encode_picture", "find_model", "is_session", "model_reference", "parse_session",
           "read_session", "session_document", "write_json_file"]

SESSION_FORMAT = "cnnviz-session"
SESSION_VERSION = 1
SESSION_SUFFIX = ".cnnviz-session"
MAX_SESSION_FILE_BYTES = MAX_LESSON_FILE_BYTES  # 5 MB, as a lesson
MAX_PICTURE_BYTES = 4 * 1024 * 1024  # one embedded PNG (the file holds it as base64)
MAX_STROKES = 2000
MAX_STROKE_POINTS = 200_000  # of all the strokes together
PAD_SIDE = 280.0  # the drawing pad's canvas side (cnnviz.ui.input.drawing_pad.PAD_SIZE)
MAX_SETTINGS = 400
MAX_SETTING_TEXT = 100_000
MAX_SETTING_BYTES = 64 * 1024
TABS = ("cnn-explorer", "kernel-explorer", "training-lab", "experiments")
TOP_KEYS = ("format", "version", "tab", "model", "input", "brush", "layer", "settings")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class SessionError(ValueError):
    """A session file that cannot be used; the message says why (and where) in plain words."""


# --------------------------------------------------------------------------- shared pieces

def encode_picture(array: np.ndarray, name: str = "") -> dict:
    """A picture (H, W) or (H, W, 3), values 0..255, as {"png": base64 PNG, "name": …}."""
    from PIL import Image

    from ..pictures.images import to_uint8

    pixels = to_uint8(array)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L" if pixels.ndim == 2 else "RGB").save(buffer, format="PNG")
    return {"png": base64.b64encode(buffer.getvalue()).decode("ascii"), "name": printable(name)[:200]}


def check_picture(value, what: str = "the picture") -> dict:
    """An embedded picture's shape checked (its pixels are read by decode_picture)."""
    if not isinstance(value, dict) or not isinstance(value.get("png"), str) or \
            set(value) - {"png", "name"}:
        raise ValueError(f"{what} must be {{\"png\": \"<base64 PNG>\", \"name\": \"…\"}}")
    name = value.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise ValueError(f"{what}'s name must be text of at most 200 characters")
    if len(value["png"]) > MAX_PICTURE_BYTES * 4 // 3 + 4:
        raise ValueError(f"{what} is larger than {MAX_PICTURE_BYTES // 2**20} MB")
    try:
        head = base64.b64decode(value["png"][:16], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64 text") from None
    if not head.startswith(_PNG_MAGIC):
        raise ValueError(f"{what} is not a PNG picture")
    return {"png": value["png"], "name": printable(name)}


def decode_picture(value: dict, what: str = "the picture") -> np.ndarray:
    """The pixels of an embedded picture, float32 0..255; ValueError in words if unusable."""
    from ..pictures.images import ImageError, load_image

    value = check_picture(value, what)
    try:
        data = base64.b64decode(value["png"], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not base64 text") from None
    try:
        return load_image(data)
    except (ImageError, OSError, MemoryError) as exc:
        raise ValueError(f"{what} cannot be read ({exc})") from None


def model_reference(loaded) -> str | dict | None:
    """How a file names a model: its shipped name, or its file's name and SHA-256 (None: a
    model with no file, e.g. one trained in this run and not saved)."""
    if loaded is None:
        return None
    if getattr(loaded, "shipped_as", None):
        return loaded.shipped_as
    path = getattr(loaded, "path", None)
    if path is None or not Path(path).is_file():
        return None
    from ..datasets.data import sha256_of

    return {"file": Path(path).name, "sha256": sha256_of(Path(path))}


def check_model_reference(value, what: str = "the model"):
    """A model reference checked: a shipped model's name, or {"file": name, "sha256": hex}."""
    from ..networks.weights import SHIPPED

    if isinstance(value, str):
        if value not in SHIPPED:
            raise ValueError(f"{what} {printable(value)[:40]!r} is not one shipped with cnnviz "
                             f"(known: {', '.join(SHIPPED)}); a model of your own is "
                             "{\"file\": NAME, \"sha256\": HEX}")
        return value
    if not isinstance(value, dict) or set(value) != {"file", "sha256"}:
        raise ValueError(f"{what} must be a shipped model's name or {{\"file\": NAME, "
                         "\"sha256\": HEX}")
    name, digest = value["file"], value["sha256"]
    if not isinstance(name, str) or not 0 < len(name) <= 255 or "/" in name or "\\" in name \
            or name in (".", "..") or "\0" in name:
        raise ValueError(f"{what}'s \"file\" must be a file name (no folders)")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise ValueError(f"{what}'s \"sha256\" must be 64 hexadecimal digits (lower case)")
    return {"file": printable(name), "sha256": digest}


def find_model(reference: dict, folders) -> tuple[Path | None, str]:
    """The file a {"file", "sha256"} reference names: the same name with the same content
    in one of `folders` (the lesson's or session's own folder first), else any file of the
    folders with that content. (None, why) when none is there."""
    from ..datasets.data import sha256_of

    wanted, digest = reference["file"], reference["sha256"]
    candidates: list[Path] = []
    for folder in folders:
        if folder is not None and Path(folder).is_dir():
            candidates.append(Path(folder) / wanted)
    same_name_wrong_content = False
    for path in candidates:
        try:
            if path.is_file():
                if sha256_of(path) == digest:
                    return path, ""
                same_name_wrong_content = True
        except OSError:
            continue
    if same_name_wrong_content:
        return None, (f"the model file {wanted} was found but its content is not the one "
                      "saved (it was changed or retrained); put the original beside the file")
    return None, f"the model file {wanted} is not here; put it beside the file and open it again"


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"the key {printable(dup)[:40]!r} appears twice in one object")
    return dict(pairs)


def load_json_document(data: bytes, name: str, limit: int):
    """A JSON document of at most `limit` bytes (depth, digits, duplicate keys checked);
    ValueError naming `name` otherwise."""
    if len(data) > limit:
        raise ValueError(f"{name} is larger than {limit // 2**20} MB")
    try:
        read_json(data, name)  # depth and digits first: never a crash
        return json.loads(data.decode("utf-8-sig"), object_pairs_hook=_no_duplicates)
    except JsonProblem as exc:
        raise ValueError(str(exc)) from None
    except UnicodeDecodeError:
        raise ValueError(f"{name} is not UTF-8 text") from None
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def write_json_file(path: str | os.PathLike, doc: dict, limit: int = MAX_SESSION_FILE_BYTES) -> Path:
    """Write a document as readable JSON, atomically (FileProblem in words if it cannot be,
    or if it would be larger than `limit`: nothing is written then)."""
    text = (json.dumps(doc, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    if len(text) > limit:
        raise FileProblem(f"the file would be {len(text) / 2**20:.1f} MB; at most "
                          f"{limit // 2**20} MB (fewer or smaller pictures)")
    return write_atomically(path, lambda fh: fh.write(text))


# --------------------------------------------------------------------------- sessions

@dataclass(frozen=True)
class Session:
    tab: str = "cnn-explorer"
    model: str | dict | None = None
    input: dict = field(default_factory=dict)  # {"sample": n} | {"picture": …} | {"drawing": …}
    brush: float | None = None
    layer: str | None = None
    settings: dict = field(default_factory=dict)  # "group/key" -> a JSON value
    name: str = ""
    folder: Path | None = None  # where the file is: models are looked for there first


def is_session(head: bytes) -> bool:
    """Whether a file's first bytes look like a session (how it is told by its content)."""
    text = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"' + SESSION_FORMAT.encode() + b'"' in text


def session_document(session: Session) -> dict:
    doc = {"format": SESSION_FORMAT, "version": SESSION_VERSION, "tab": session.tab}
    if session.model is not None:
        doc["model"] = session.model
    doc["input"] = session.input
    if session.brush is not None:
        doc["brush"] = session.brush
    if session.layer:
        doc["layer"] = session.layer
    doc["settings"] = session.settings
    return doc


def read_session(path: str | os.PathLike) -> Session:
    path = Path(path)
    try:
        data = read_regular_file(path, MAX_SESSION_FILE_BYTES, "session file")
    except FileProblem as exc:
        raise SessionError(str(exc)) from None
    session = parse_session(data, path.name)
    return Session(**{**session.__dict__, "folder": path.parent})


def parse_session(data: bytes, name: str = "the session") -> Session:
    name = printable(name)[:80]
    try:
        doc = load_json_document(data, name, MAX_SESSION_FILE_BYTES)
    except ValueError as exc:
        raise SessionError(str(exc)) from None
    try:
        return _session(doc, name)
    except ValueError as exc:
        raise SessionError(f"{name}: {exc}") from None


def _session(doc, name: str) -> Session:
    if not isinstance(doc, dict) or doc.get("format") != SESSION_FORMAT:
        raise ValueError(f"not a cnnviz session (it must be a JSON object with \"format\": "
                         f"\"{SESSION_FORMAT}\")")
    if doc.get("version") != SESSION_VERSION:
        raise ValueError(f"session version {printable(doc.get('version'))[:20]} is not one this "
                         f"cnnviz reads (it reads version {SESSION_VERSION}); a newer cnnviz may")
    unknown = [printable(k)[:40] for k in doc if k not in TOP_KEYS]
    if unknown:
        raise ValueError(f"the session has keys cnnviz does not know: {', '.join(unknown[:5])}")
    tab = doc.get("tab", "cnn-explorer")
    if tab not in TABS:
        raise ValueError(f"the tab {printable(tab)[:40]!r} is not one cnnviz knows "
                         f"(known: {', '.join(TABS)})")
    model = doc.get("model")
    model = None if model is None else check_model_reference(model)
    brush = doc.get("brush")
    if brush is not None and (isinstance(brush, bool) or not isinstance(brush, (int, float))
                              or not 1 <= brush <= 100):
        raise ValueError("\"brush\" must be a number from 1 to 100")
    layer = doc.get("layer")
    if layer is not None and (not isinstance(layer, str) or not 0 < len(layer) <= 60):
        raise ValueError("\"layer\" must be a layer's name (text, at most 60 characters)")
    return Session(tab, model, _input(doc.get("input", {})), brush,
                   printable(layer) if layer else None, _settings(doc.get("settings", {})), name)


def _input(value) -> dict:
    if not isinstance(value, dict) or len(value) > 1:
        raise ValueError("\"input\" must be {\"sample\": N}, {\"picture\": …} or {\"drawing\": …}")
    if not value:
        return {}
    (kind, item), = value.items()
    if kind == "sample":
        if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item < 70_000:
            raise ValueError("the input's \"sample\" must be a test-set number")
        return {"sample": item}
    if kind == "picture":
        return {"picture": check_picture(item, "the input picture")}
    if kind == "drawing":
        return {"drawing": check_drawing(item)}
    raise ValueError(f"the input {printable(kind)[:40]!r} is not one cnnviz knows (sample, "
                     "picture, drawing)")


def _level(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
        raise ValueError(f"the drawing's \"{what}\" must be a grey level from 0 to 255")
    return value


def _number(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def check_drawing(value) -> dict:
    """A drawing: the picture it was drawn over (or none), its ink and paper levels, and
    its strokes in the pad's 280×280 coordinates, each point [x, y, width]."""
    if not isinstance(value, dict) or set(value) - {"base", "ink", "paper", "strokes"}:
        raise ValueError("the drawing must be {\"base\", \"ink\", \"paper\", \"strokes\"}")
    base = value.get("base")
    base = None if base is None else check_picture(base, "the picture under the drawing")
    strokes = value.get("strokes", [])
    if not isinstance(strokes, list) or len(strokes) > MAX_STROKES:
        raise ValueError(f"the drawing's \"strokes\" must be a list of at most {MAX_STROKES}")
    checked, total = [], 0
    for i, stroke in enumerate(strokes, 1):
        if not isinstance(stroke, dict) or set(stroke) != {"erase", "points"} or \
                not isinstance(stroke["erase"], bool) or not isinstance(stroke["points"], list) \
                or not stroke["points"]:
            raise ValueError(f"stroke {i} must be {{\"erase\": true/false, \"points\": "
                             "[[x, y, width], …]}")
        total += len(stroke["points"])
        if total > MAX_STROKE_POINTS:
            raise ValueError(f"the drawing has more than {MAX_STROKE_POINTS:,} points")
        for p in stroke["points"]:
            if not isinstance(p, list) or len(p) != 3 or not all(_number(v) for v in p) or \
                    not (-PAD_SIDE <= p[0] <= 2 * PAD_SIDE and -PAD_SIDE <= p[1] <= 2 * PAD_SIDE
                         and 0 < p[2] <= 100):
                raise ValueError(f"stroke {i} has a point that is not [x, y, width] on the pad")
        checked.append({"erase": stroke["erase"],
                        "points": [[float(x), float(y), float(w)] for x, y, w in stroke["points"]]})
    return {"base": base, "ink": _level(value.get("ink", 255), "ink"),
            "paper": _level(value.get("paper", 0), "paper"), "strokes": checked}


def _setting_value(value, key: str):
    if isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value)):
        return value
    if isinstance(value, str):
        if len(value) > MAX_SETTING_TEXT:
            raise ValueError(f"the setting {key!r} is too long")
        return value
    if isinstance(value, list) and len(value) <= 100 and all(isinstance(v, str) and len(v) <= 4096
                                                              for v in value):
        return list(value)
    if isinstance(value, dict) and set(value) == {"bytes"} and isinstance(value["bytes"], str) \
            and len(value["bytes"]) <= MAX_SETTING_BYTES * 4 // 3 + 4:
        try:
            base64.b64decode(value["bytes"], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"the setting {key!r} is not base64 text") from None
        return {"bytes": value["bytes"]}
    raise ValueError(f"the setting {key!r} is not text, a number, true/false, a list of text "
                     "or {\"bytes\": base64}")


def _settings(value) -> dict:
    if not isinstance(value, dict) or len(value) > MAX_SETTINGS:
        raise ValueError(f"\"settings\" must be an object of at most {MAX_SETTINGS} settings")
    checked = {}
    for key, item in value.items():
        if not re.fullmatch(r"[A-Za-z0-9_]+(/[A-Za-z0-9_]+)*", key) or len(key) > 120:
            raise ValueError(f"the setting name {printable(key)[:40]!r} is not one cnnviz writes")
        checked[key] = _setting_value(item, key)
    return checked


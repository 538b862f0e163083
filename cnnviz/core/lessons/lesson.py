"""Lessons: a `.cnnviz-lesson` file walks the app through a course, step by step.

    {"format": "cnnviz-lesson", "version": 1, "title": "…", "seed": 0,
     "steps": [{"title": "Stride", "text": "…", "formula": "(W − F + 2P) / S + 1",
                "try": "…", "setup": {"tab": "kernel-explorer", "stride": 2, …},
                "exercise": {"lecture": "alexnet"}}, …]}

Each step says what the lecture says (text and formula), what to try, how the app is set
up for it (setup: SETUP_KEYS) and, optionally, an exercise (one of the lecture's own
questions, or a kind with its numbers; see cnnviz.core.experiments.exercises). A file that is damaged,
too large, or holds a key or value cnnviz does not know is refused with one LessonError
that says what and where. The lecture's tour ships inside the package (shipped_lesson_path).

A lesson a teacher records in the app (cnnviz.ui.lesson.recorder) may also set: "model" as
{"file": NAME, "sha256": HEX} (a model of one's own, looked for beside the lesson), "picture"
({"png": base64 PNG, "name": …}: the input picture or drawing), "kernel_values" (a typed
kernel, rows of numbers) and "lab_architecture" (the lab's network, its JSON form). A missing
model or a picture that cannot be read is named when the step is shown, never fatal.

Scores: ScoreBook keeps, per lesson (by its content's SHA-256), which exercises were
answered right and at which try, in a small JSON file written atomically. Qt-free.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..basics.files import FileProblem, read_regular_file, write_atomically
from ..basics.json_input import JsonProblem, read_json
from ..basics.limits import (
    MAX_LESSON_FILE_BYTES,
    MAX_LESSON_STEPS,
    MAX_LESSON_TEXT,
    MAX_TYPED_PADDING,
    MAX_TYPED_POOL,
    MAX_TYPED_STRIDE,
)
from ..basics.text_safety import printable
from ..experiments import exercises

__all__ = ["EXPERIMENTS", "HIGHLIGHTS", "LESSON_FORMAT", "LESSON_SUFFIX", "Lesson", "LessonError",
           "LessonStep", "ScoreBook", "TABS", "is_lesson", "lesson_document", "parse_lesson",
           "read_lesson", "shipped_lesson", "shipped_lesson_path", "write_lesson"]

LESSON_FORMAT = "cnnviz-lesson"
LESSON_VERSION = 1
LESSON_SUFFIX = ".cnnviz-lesson"
SHIPPED_LESSON = "lecture-tour.cnnviz-lesson"

TABS = ("cnn-explorer", "kernel-explorer", "training-lab", "experiments")
# The Experiments tab's views, by a name that does not change with their titles.
EXPERIMENTS = ("slide-the-window", "receptive-fields", "what-it-looked-at", "invariance",
               "max-pooling-shifts", "batch-norm", "dropout", "parameters")
# The controls a step can point at (briefly framed on screen).
HIGHLIGHTS = ("model-picker", "layer-strip", "pad", "kernel-source", "kernel-preset", "stride",
              "padding", "activation", "pooling", "formula", "experiment-list", "lab-layers")

TOP_KEYS = ("format", "version", "title", "about", "seed", "steps")
STEP_KEYS = ("title", "text", "formula", "try", "setup", "exercise")
SETUP_KEYS = ("tab", "model", "sample", "picture", "kernel_source", "kernel", "kernel_values",
              "stride", "padding", "activation", "pooling", "pool_size", "pool_stride",
              "experiment", "layer", "lab_architecture", "highlight")
EXERCISE_KEYS = ("lecture", "kind", "values")


class LessonError(ValueError):
    """A lesson file that cannot be used; the message says why (and where) in plain words."""


@dataclass(frozen=True)
class LessonStep:
    title: str
    text: str
    formula: str = ""
    try_text: str = ""
    setup: tuple[tuple[str, object], ...] = ()  # (key, value) in SETUP_KEYS order
    exercise: exercises.Exercise | None = None
    exercise_spec: tuple[tuple[str, object], ...] = ()  # as the file gives it (for variants)

    def setting(self, key: str, default=None):
        return dict(self.setup).get(key, default)


@dataclass(frozen=True)
class Lesson:
    title: str
    steps: tuple[LessonStep, ...]
    about: str = ""
    seed: int = 0
    key: str = ""  # SHA-256 of the file's bytes: scores are kept under it
    name: str = ""  # the file's name
    folder: Path | None = None  # the file's folder: a step's model file is looked for there

    @property
    def exercise_count(self) -> int:
        return sum(step.exercise is not None for step in self.steps)


def is_lesson(head: bytes) -> bool:
    """Whether a file's first bytes look like a lesson (a JSON object naming the format
    near its start): how the window and `cnnviz gui FILE` tell one by its content."""
    text = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"' + LESSON_FORMAT.encode() + b'"' in text


# --------------------------------------------------------------------------- reading

def read_lesson(path: str | os.PathLike) -> Lesson:
    """A lesson file, checked; LessonError in plain words if it cannot be used."""
    path = Path(path)
    try:
        data = read_regular_file(path, MAX_LESSON_FILE_BYTES, "lesson file")
    except FileProblem as exc:
        raise LessonError(str(exc)) from None
    lesson = parse_lesson(data, path.name)
    return Lesson(**{**lesson.__dict__, "folder": path.parent})


def lesson_document(title: str, steps: list[dict], about: str = "", seed: int = 0) -> dict:
    """A lesson as its file's JSON object (steps as the file writes them)."""
    doc = {"format": LESSON_FORMAT, "version": LESSON_VERSION, "title": title}
    if about:
        doc["about"] = about
    if seed:
        doc["seed"] = seed
    doc["steps"] = steps
    return doc


def write_lesson(path: str | os.PathLike, doc: dict) -> Lesson:
    """Check `doc` as a lesson file would be read, then write it atomically (LessonError in
    words, and nothing written, if it is not one cnnviz can open again)."""
    from .session import write_json_file

    data = json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")
    lesson = parse_lesson(data, Path(path).name)
    try:
        write_json_file(path, doc, MAX_LESSON_FILE_BYTES)
    except FileProblem as exc:
        raise LessonError(str(exc)) from None
    return Lesson(**{**lesson.__dict__, "folder": Path(path).parent})


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise LessonError(f"the key {printable(dup)[:40]!r} appears twice in one object")
    return dict(pairs)


def parse_lesson(data: bytes, name: str = "the lesson") -> Lesson:
    """The lesson in `data` (a file's bytes), checked; LessonError naming `name` if not."""
    name = printable(name)[:80]
    if len(data) > MAX_LESSON_FILE_BYTES:
        raise LessonError(f"{name} is larger than {MAX_LESSON_FILE_BYTES // 2**20} MB")
    try:
        read_json(data, f"{name}")  # depth and digits first: never a crash
        doc = json.loads(data.decode("utf-8-sig"), object_pairs_hook=_no_duplicates)
    except JsonProblem as exc:
        raise LessonError(str(exc)) from None
    except UnicodeDecodeError:
        raise LessonError(f"{name} is not UTF-8 text") from None
    except LessonError as exc:
        raise LessonError(f"{name}: {exc}") from None
    try:
        return _lesson(doc, hashlib.sha256(data).hexdigest(), name)
    except (LessonError, exercises.ExerciseError) as exc:
        raise LessonError(f"{name}: {exc}") from None


def _lesson(doc, key: str, name: str) -> Lesson:
    if not isinstance(doc, dict) or doc.get("format") != LESSON_FORMAT:
        raise LessonError(f"not a cnnviz lesson (it must be a JSON object with \"format\": "
                          f"\"{LESSON_FORMAT}\")")
    if doc.get("version") != LESSON_VERSION:
        raise LessonError(f"lesson version {printable(doc.get('version'))[:20]} is not one this "
                          f"cnnviz reads (it reads version {LESSON_VERSION}); a newer cnnviz may")
    _known(doc, TOP_KEYS, "the lesson")
    steps = doc.get("steps")
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_LESSON_STEPS:
        raise LessonError(f"\"steps\" must be a list of 1 to {MAX_LESSON_STEPS} steps")
    seed = doc.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise LessonError("\"seed\" must be a whole number from 0 to 2147483647")
    parsed = []
    for i, step in enumerate(steps, 1):
        try:
            parsed.append(_step(step))
        except (LessonError, exercises.ExerciseError) as exc:
            raise LessonError(f"step {i}: {exc}") from None
    return Lesson(_text(doc, "title", "the lesson", required=True), tuple(parsed),
                  _text(doc, "about", "the lesson"), seed, key, name)


def _known(obj: dict, allowed: tuple[str, ...], where: str) -> None:
    unknown = [printable(k)[:40] for k in obj if k not in allowed]
    if unknown:
        raise LessonError(f"{where} has {'keys' if len(unknown) > 1 else 'a key'} cnnviz does "
                          f"not know: {', '.join(repr(k) for k in unknown[:5])} (known: "
                          f"{', '.join(allowed)})")


def _text(obj: dict, key: str, where: str, required: bool = False) -> str:
    value = obj.get(key, "")
    if not isinstance(value, str):
        raise LessonError(f"{where}'s \"{key}\" must be text")
    if required and not value.strip():
        raise LessonError(f"{where} needs a \"{key}\"")
    if len(value) > MAX_LESSON_TEXT:
        raise LessonError(f"{where}'s \"{key}\" is {len(value):,} characters; at most "
                          f"{MAX_LESSON_TEXT:,}")
    return printable(value).strip()


def _step(step) -> LessonStep:
    if not isinstance(step, dict):
        raise LessonError("a step must be an object with a title and a text")
    _known(step, STEP_KEYS, "the step")
    setup = step.get("setup", {})
    if not isinstance(setup, dict):
        raise LessonError("\"setup\" must be an object")
    _known(setup, SETUP_KEYS, "the setup")
    checked = tuple((k, _setting(k, setup[k])) for k in SETUP_KEYS if k in setup)
    exercise, spec = _exercise(step.get("exercise"))
    return LessonStep(_text(step, "title", "the step", True), _text(step, "text", "the step", True),
                _text(step, "formula", "the step"), _text(step, "try", "the step"), checked,
                exercise, spec)


def _exercise(spec) -> tuple[exercises.Exercise | None, tuple]:
    if spec is None:
        return None, ()
    if not isinstance(spec, dict):
        raise LessonError("\"exercise\" must be an object")
    _known(spec, EXERCISE_KEYS, "the exercise")
    if "lecture" in spec:
        if set(spec) != {"lecture"}:
            raise LessonError("an exercise is either {\"lecture\": …} or {\"kind\": …, \"values\": …}")
        return exercises.lecture_question(spec["lecture"]), (("lecture", spec["lecture"]),)
    kind, values = spec.get("kind"), spec.get("values")
    if not isinstance(kind, str) or not isinstance(values, dict):
        raise LessonError("an exercise needs \"lecture\", or \"kind\" and \"values\"")
    return exercises.make(kind, values, source="the lesson"), (("kind", kind), ("values", values))


def _choice(value, options, what: str):
    if value not in options:
        raise LessonError(f"{what} {printable(value)[:40]!r} is not one cnnviz knows "
                          f"(known: {', '.join(str(o) for o in options)})")
    return value


def _number_or_pair(value, low: int, high: int, what: str) -> tuple[int, int]:
    items = value if isinstance(value, list) else [value, value]
    if len(items) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high
                              for v in items):
        raise LessonError(f"{what} must be a whole number from {low} to {high}, or two of them "
                          "[rows, columns]")
    return int(items[0]), int(items[1])


def _pool_number(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TYPED_POOL:
        raise LessonError(f"{what} must be a whole number from 1 to {MAX_TYPED_POOL}")
    return value


def _kernel_source(value) -> str:
    from ..convolution.lecture_examples import LECTURE_EXAMPLES

    options = ("image", "network", *(f"lecture:{k}" for k in LECTURE_EXAMPLES))
    return _choice(value, options, "the kernel source")


def _sample(value) -> int:
    from ..pictures.samples import load_samples

    index = load_samples("mnist")[2]
    if isinstance(value, bool) or not isinstance(value, int) or value not in set(index.tolist()):
        raise LessonError(f"the sample {printable(value)[:20]} is not one of the MNIST test digits "
                          "shipped with cnnviz (give its test-set number, e.g. 30)")
    return value


def _setting(key: str, value):
    """One setup value, checked (LessonError naming it otherwise)."""
    from ..convolution.kernels import PRESETS
    from ..convolution.ops import ACTIVATIONS, POOL_KINDS

    if key == "tab":
        return _choice(value, TABS, "the tab")
    if key in ("model", "picture", "kernel_values", "lab_architecture"):
        return _recorded(key, value)
    if key == "sample":
        return _sample(value)
    if key == "kernel_source":
        return _kernel_source(value)
    if key == "kernel":
        return _choice(value, tuple(PRESETS), "the kernel preset")
    if key == "stride":
        return _number_or_pair(value, 1, MAX_TYPED_STRIDE, "the stride")
    if key == "padding":
        return _number_or_pair(value, 0, MAX_TYPED_PADDING, "the padding")
    if key == "activation":
        return _choice(value, ACTIVATIONS, "the activation")
    if key == "pooling":
        return _choice(value, ("none", *POOL_KINDS), "the pooling")
    if key in ("pool_size", "pool_stride"):
        return _pool_number(value, f"the {key.replace('_', ' ')}")
    if key == "experiment":
        return _choice(value, EXPERIMENTS, "the experiment")
    if key == "highlight":
        return _choice(value, HIGHLIGHTS, "the control to highlight")
    if not isinstance(value, str) or not 0 < len(value) <= 60:  # layer
        raise LessonError("the layer must be a layer's name (text, at most 60 characters)")
    return printable(value)


def _recorded(key: str, value):
    """The setup values a recorded lesson adds: a model of one's own (file name and
    SHA-256), an embedded picture, a typed kernel, the lab's network."""
    from . import session

    try:
        if key == "model":
            return session.check_model_reference(value)
        if key == "picture":
            return session.check_picture(value)
        if key == "kernel_values":
            return _kernel_values(value)
        return _architecture(value)
    except LessonError:
        raise
    except ValueError as exc:
        raise LessonError(str(exc)) from None


def _kernel_values(value) -> tuple[tuple[float, ...], ...]:
    from ..basics.limits import MAX_TYPED_KERNEL_SIDE

    side = MAX_TYPED_KERNEL_SIDE
    if not isinstance(value, list) or not 1 <= len(value) <= side or not all(
            isinstance(row, list) and len(row) == len(value[0]) and 1 <= len(row) <= side
            and all(not isinstance(v, bool) and isinstance(v, (int, float))
                    and abs(v) <= 1e6 for v in row) for row in value):
        raise LessonError(f"the kernel values must be rows of numbers (at most {side}×{side}, "
                          "each row as long, every number within ±1,000,000)")
    return tuple(tuple(float(v) for v in row) for row in value)


def _architecture(value) -> str:
    """The lab's network as its JSON text (checked layer by layer)."""
    from ..networks.arch_text import architecture_from_json

    if not isinstance(value, dict):
        raise LessonError("the lab architecture must be an object (the lab's JSON form)")
    text = json.dumps(value)
    try:
        architecture_from_json(text)
    except (ValueError, TypeError, KeyError) as exc:
        raise LessonError(f"the lab architecture is not a working network ({exc})") from None
    return text


# --------------------------------------------------------------------------- the shipped tour

def shipped_lesson_path() -> Path:
    return Path(str(resources.files("cnnviz").joinpath("resources", SHIPPED_LESSON)))


def shipped_lesson() -> Lesson:
    """The lecture's tour, as shipped (LessonError if the installation lacks it)."""
    return read_lesson(shipped_lesson_path())


# --------------------------------------------------------------------------- scores

SCORES_ENV_VAR = "CNNVIZ_SCORES_DIR"  # overrides the folder (tests, a shared class computer)
MAX_SCORED_LESSONS = 50
MAX_SCORES_FILE_BYTES = 1_000_000


def scores_path() -> Path:
    """$CNNVIZ_SCORES_DIR/lesson-scores.json, else in the per-user data folder (platformdirs:
    ~/.local/share/cnnviz on Linux, ~/Library/Application Support/cnnviz on macOS,
    %LOCALAPPDATA%\\cnnviz on Windows)."""
    import platformdirs

    base = os.environ.get(SCORES_ENV_VAR) or platformdirs.user_data_dir(
        "cnnviz", appauthor=False, roaming=False)
    return Path(base) / "lesson-scores.json"


@dataclass(frozen=True)
class Score:
    answered: int  # exercises answered right
    first_try: int  # of those, right at the first try
    tried: int  # exercises tried at all
    total: int  # exercises in the lesson

    @property
    def text(self) -> str:
        return (f"{self.answered} of {self.total} exercises right"
                + (f" ({self.first_try} at the first try)" if self.answered else ""))


class ScoreBook:
    """Per lesson, per step: tries and whether (and at which try) it was answered right.
    A file that cannot be read starts empty; one that cannot be written is left as it was
    (the score so far is still shown, from memory)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else scores_path()
        self.data = self._read()
        self.problem = ""  # why the last save failed, if it did

    def _read(self) -> dict:
        try:
            data = json.loads(read_regular_file(self.path, MAX_SCORES_FILE_BYTES, "scores file"))
        except (FileProblem, ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}

    def _entry(self, lesson: Lesson) -> dict:
        entry = self.data.get(lesson.key)
        if not isinstance(entry, dict) or not isinstance(entry.get("steps"), dict):
            entry = {"title": lesson.title, "steps": {}}
        self.data.pop(lesson.key, None)
        self.data[lesson.key] = entry  # the newest last
        return entry

    def record(self, lesson: Lesson, step: int, right: bool) -> None:
        """One checked answer to step `step`'s exercise (0-based)."""
        steps = self._entry(lesson)["steps"]
        mark = steps.get(str(step))
        if not isinstance(mark, dict):
            mark = {"tries": 0, "right_at": 0}
        tries = mark.get("tries", 0)
        mark["tries"] = (tries if isinstance(tries, int) and tries >= 0 else 0) + 1
        if right and not mark.get("right_at"):
            mark["right_at"] = mark["tries"]
        steps[str(step)] = mark
        self.data = dict(list(self.data.items())[-MAX_SCORED_LESSONS:])
        self.save()

    def mark(self, lesson: Lesson, step: int) -> dict:
        entry = self.data.get(lesson.key)
        steps = entry.get("steps", {}) if isinstance(entry, dict) else {}
        mark = steps.get(str(step)) if isinstance(steps, dict) else None
        return mark if isinstance(mark, dict) else {}

    def score(self, lesson: Lesson) -> Score:
        right = first = tried = 0
        for i, step in enumerate(lesson.steps):
            if step.exercise is None:
                continue
            mark = self.mark(lesson, i)
            tried += bool(mark.get("tries"))
            right += bool(mark.get("right_at"))
            first += mark.get("right_at") == 1
        return Score(right, first, tried, lesson.exercise_count)

    def save(self) -> None:
        text = json.dumps(self.data, indent=1).encode()
        self.problem = ""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, lambda fh: fh.write(text), mode=0o600)
        except (FileProblem, OSError) as exc:
            self.problem = f"the scores could not be saved ({exc})"

    def position(self, lesson: Lesson) -> int:
        """The step the student was last at (0 for a new lesson)."""
        entry = self.data.get(lesson.key)
        at = entry.get("at", 0) if isinstance(entry, dict) else 0
        return at if isinstance(at, int) and 0 <= at < len(lesson.steps) else 0

    def set_position(self, lesson: Lesson, step: int) -> None:
        entry = self._entry(lesson)
        if entry.get("at") != step:
            entry["at"] = int(step)
            self.save()

    def forget(self, lesson: Lesson) -> None:
        """Start the lesson's score again."""
        with contextlib.suppress(KeyError):
            del self.data[lesson.key]
        self.save()

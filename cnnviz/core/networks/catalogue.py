"""The models the CNN explorer offers: the shipped ones (present or missing) and the
weights files the user opened, with the label and tooltip each shows. The list lives in
the app state (AppState.catalogue, heard on AppState.events.catalogue); these functions
make new lists.

    >>> entries = shipped_entries()
    >>> [e.key for e in entries][:1]
    ['cnnviz']
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

from ..basics.text_safety import shown
from .weights import SHIPPED, LoadedModel, WeightsError, load_shipped

NOT_LOADED = "(not loaded yet)"  # a remembered file, read when it is chosen
MAX_RECENT_MODELS = 20  # files opened in earlier sessions that come back in the picker


@dataclass(frozen=True)
class ModelEntry:
    key: str  # shipped name, or the resolved file path for a model the user opened
    label: str
    loaded: LoadedModel | None
    path: Path | None
    shipped: bool
    problem: str = ""  # why it cannot be chosen (a missing shipped file)

    @property
    def missing(self) -> bool:
        """A shipped model whose file is not there (shown, but cannot be chosen)."""
        return self.shipped and self.loaded is None


def _accuracy(loaded: LoadedModel) -> float | None:
    """The card's test accuracy as a finite float, else None (read_card already drops a
    number past a float's range; a card set from elsewhere may still hold one)."""
    acc = loaded.card.get("test_accuracy")
    if isinstance(acc, bool) or not isinstance(acc, (int, float)):
        return None
    try:
        acc = float(acc)
    except OverflowError:
        return None
    return acc if math.isfinite(acc) else None


def model_label(key: str, loaded: LoadedModel, shipped: bool) -> str:
    """'cnnviz — MNIST, 99.7%'; an opened file: 'name (file.safetensors) — MNIST, …'."""
    acc = _accuracy(loaded)
    facts = ", ".join(x for x in (loaded.trained_on, loaded.card.get("made_with", ""),
                                  f"{100 * acc:.1f}%" if acc is not None else "") if x)
    name = key if shipped else f"{loaded.name} ({loaded.path.name if loaded.path else 'file'})"
    return f"{name} — {facts}" if facts else name


def model_tooltip(loaded: LoadedModel) -> str:
    lines = [shown(loaded.model.description or loaded.name, 400)]  # file text: printable, short
    acc = _accuracy(loaded)
    if acc is not None:
        lines.append(f"Test accuracy {100 * acc:.2f}% on {loaded.trained_on or 'its test set'} "
                     "(images it never saw in training).")
    if loaded.path is not None:
        lines.append(f"File: {loaded.path}")
    return "\n".join(lines)


def shipped_entries() -> list[ModelEntry]:
    """Every shipped model, loaded; a missing or damaged one as an entry that says why."""
    entries = []
    for key, (_filename, what) in SHIPPED.items():
        try:
            loaded = load_shipped(key)
        except WeightsError as exc:
            entries.append(ModelEntry(key, f"{key} — not installed", None, None, True,
                                      f"{what}: {exc}"))
        else:
            entries.append(ModelEntry(key, model_label(key, loaded, True), loaded, loaded.path,
                                      True))
    return entries


def file_key(path) -> str:
    return str(Path(path).resolve())


def file_entry(path, loaded: LoadedModel) -> ModelEntry:
    key = file_key(path)
    return ModelEntry(key, model_label(key, loaded, False), loaded, Path(path), False)


def remembered_entry(path) -> ModelEntry:
    """A file opened in an earlier session, not read yet."""
    return ModelEntry(file_key(path), f"{Path(path).name} {NOT_LOADED}", None, Path(path), False)


def model_entry(loaded: LoadedModel) -> ModelEntry:
    """An entry for a model set from elsewhere (the main window, a test)."""
    key = str(loaded.path) if loaded.path else loaded.name
    return ModelEntry(key, model_label(key, loaded, False), loaded, loaded.path, False)


def with_entry(entries: list[ModelEntry], entry: ModelEntry) -> list[ModelEntry]:
    """The list with entry in place of an opened file of the same key, else added last.
    Entries that would read the same in the picker (two kept models of one name and
    accuracy) get their file's name added."""
    for i, e in enumerate(entries):
        if not e.shipped and e.key == entry.key:
            return _distinct_labels(entries[:i] + [entry] + entries[i + 1:])
    return _distinct_labels(list(entries) + [entry])


def _distinct_labels(entries: list[ModelEntry]) -> list[ModelEntry]:
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.label] = counts.get(e.label, 0) + 1
    return [dataclasses.replace(e, label=f"{e.label} · {Path(e.path).name}")
            if counts[e.label] > 1 and e.path is not None and not e.shipped else e
            for e in entries]


def index_of(entries: list[ModelEntry], loaded) -> int:
    """Which entry holds this model (the same object, else the same file); -1 if none."""
    for i, entry in enumerate(entries):
        if entry.loaded is loaded:
            return i
    if loaded is not None and loaded.path is not None:
        for i, entry in enumerate(entries):
            if entry.path is not None and Path(entry.path).resolve() == Path(loaded.path).resolve():
                return i
    return -1


def shipped_loaded(entries: list[ModelEntry], key: str) -> LoadedModel:
    """A shipped model as the catalogue loaded it (one copy in memory); WeightsError if it
    is missing or damaged."""
    for entry in entries:
        if entry.shipped and entry.key == key and entry.loaded is not None:
            return entry.loaded
    return load_shipped(key)  # raises WeightsError with the reason


# ---------------------------------------------------------------------------------------
# The user's own models: networks trained in the lab, kept in a per-user folder so they are
# in the model picker after a restart.

MODELS_ENV_VAR = "CNNVIZ_MODELS_DIR"  # overrides the folder (tests, a shared class folder)
MAX_USER_MODELS = 200  # files read from the folder at start (the newest first)
MAX_MODEL_NAME = 60


def user_models_dir() -> Path:
    """$CNNVIZ_MODELS_DIR, else the per-user data folder's models/ (platformdirs:
    ~/.local/share/cnnviz/models on Linux, ~/Library/Application Support/cnnviz/models on
    macOS, %LOCALAPPDATA%\\cnnviz\\models on Windows)."""
    import os

    import platformdirs

    chosen = os.environ.get(MODELS_ENV_VAR)
    if chosen:
        return Path(os.path.abspath(Path(chosen).expanduser()))
    return Path(platformdirs.user_data_dir("cnnviz", appauthor=False)) / "models"


def model_name_problem(name: str) -> str | None:
    """Why a name cannot name a model, or None."""
    name = name.strip()
    if not name:
        return "give the network a name"
    if len(name) > MAX_MODEL_NAME:
        return f"a name may have at most {MAX_MODEL_NAME} characters"
    if any(ord(c) < 32 for c in name):
        return "a name cannot hold control characters"
    return None


def file_stem_for(name: str) -> str:
    """A file name stem from a model's name: letters, digits, '-', '_' and '.' inside it
    (so 'mine-98.5' is kept as mine-98.5.safetensors; never a leading dot: a hidden file)."""
    import re

    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.strip()).strip("-_.")
    stem = re.sub(r"\.{2,}", ".", stem)  # no '..' in a file name
    return stem[:MAX_MODEL_NAME] or "model"


def user_model_path(name: str, folder: Path | None = None) -> Path:
    """Where a model of this name is kept: <folder>/<stem>.safetensors, with -2, -3, ...
    added when a file of that name is there already (a model is never replaced)."""
    folder = Path(folder) if folder is not None else user_models_dir()
    stem = file_stem_for(name)
    path = folder / f"{stem}.safetensors"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}.safetensors"
        n += 1
    return path


def save_user_model(model, name: str, card: dict, folder: Path | None = None) -> Path:
    """Keep a trained network in the user's models folder (written atomically; the folder
    is made if needed). Returns the file's path; FileProblem (an OSError) if it cannot be
    written, ValueError for a bad name."""
    from ..basics.files import FileProblem
    from .weights import save_weights

    problem = model_name_problem(name)
    if problem:
        raise ValueError(problem)
    folder = Path(folder) if folder is not None else user_models_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileProblem(f"cannot make the models folder {folder}: {exc.strerror or exc}") from None
    return save_weights(model, user_model_path(name, folder), {**card, "model_name": name.strip()})


def user_entries(folder: Path | None = None) -> tuple[list[ModelEntry], list[str]]:
    """The models in the user's folder, loaded (newest first), and one line for each file
    that could not be read. Reads files: call it off the GUI thread."""
    from .weights import load_weights

    folder = Path(folder) if folder is not None else user_models_dir()
    if not folder.is_dir():
        return [], []
    try:
        paths = [p for p in folder.iterdir() if p.suffix == ".safetensors" and p.is_file()]
    except OSError as exc:
        return [], [f"cannot list {folder}: {exc.strerror or exc}"]
    paths.sort(key=_modified, reverse=True)
    entries, problems = [], []
    for path in paths[:MAX_USER_MODELS]:
        # Each file is judged alone: whatever one raises (a refusal in words, or a mistake
        # of cnnviz's own that a strange file found), it is one line here and the other
        # kept models are still offered.
        try:
            entries.append(user_entry(path, load_weights(path)))
        except WeightsError as exc:
            problems.append(f"{path.name}: {exc}")
        except Exception as exc:  # noqa: BLE001 (one file must never hide the others)
            problems.append(f"{path.name}: cannot be read ({type(exc).__name__}: "
                            f"{shown(str(exc), 200)})")
    return entries, problems


def _modified(path: Path) -> float:
    """When a file was last written; 0 for one that went away meanwhile (it is then one
    problem line when read, not a failure of the whole folder)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def user_entry(path, loaded: LoadedModel) -> ModelEntry:
    """A model from the user's folder: 'name (yours) — MNIST, 98.9%'."""
    acc = _accuracy(loaded)
    facts = ", ".join(x for x in (loaded.trained_on,
                                  f"{100 * acc:.1f}%" if acc is not None else "") if x)
    label = f"{loaded.name} (yours) — {facts}" if facts else f"{loaded.name} (yours)"
    return ModelEntry(file_key(path), label, loaded, Path(path), False)


def recent_files(entries: list[ModelEntry]) -> list[str]:
    """The files to offer again next time: the last MAX_RECENT_MODELS opened files (in the
    catalogue's order), leaving out those of the user's models folder (they come back from
    the folder by themselves)."""
    try:
        folder = user_models_dir().resolve()
    except (OSError, RuntimeError):
        folder = None
    opened = []
    for e in entries:
        if e.shipped or e.path is None:
            continue
        try:
            in_folder = folder is not None and Path(e.path).resolve().parent == folder
        except (OSError, RuntimeError):
            in_folder = False
        if not in_folder:
            opened.append(str(e.path))
    return opened[-MAX_RECENT_MODELS:]


def with_entries(entries: list[ModelEntry], extra: list[ModelEntry]) -> list[ModelEntry]:
    """with_entry for each of extra, in order."""
    for entry in extra:
        entries = with_entry(entries, entry)
    return entries

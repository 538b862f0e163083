"""The unsure verdict for a digit model made elsewhere (a Keras file), fixed when it is
opened: cnnviz's own models carry theirs in their card (cnnviz.core.reading.verdict), a model
trained elsewhere does not, so cnnviz calibrates it the same way on real MNIST test
digits it never trained on (the first CALIBRATION_DIGITS of the test set when the data
folder has it, else the 300 shipped ones) and on those digits made into the pictures
users load; a share of each kind. The answer is cached by the file's SHA-256 and the
input convention, so a model is calibrated once.

    verdict = cached(loaded) or calibrate_opened(loaded, progress=print)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..basics.picture_cache import cache_dir

__all__ = ["CALIBRATION_DIGITS", "USER_SHARE", "cache_dir", "cache_key", "cached", "calibrate_opened",
           "needs_calibration", "store"]

CALIBRATION_DIGITS = 2000  # MNIST test digits (the network never trained on them)
USER_SHARE = 0.25  # of verdict.USER_PICTURES per kind: 475 pictures, a few seconds
MAX_CACHED = 200  # models remembered; the oldest are forgotten
MAX_CACHE_BYTES = 2_000_000


def needs_calibration(loaded) -> bool:
    """A model made elsewhere that reads MNIST-sized digits into ten classes and has no
    verdict of its own."""
    from ..networks.network import digit_mismatch

    return ("made_with" in loaded.card and "verdict" not in loaded.card
            and loaded.path is not None
            and digit_mismatch(loaded.input_spec, len(loaded.classes)) is None)


def cache_key(loaded) -> str:
    """The file's SHA-256 and the input convention it is fed (the logits depend on both)."""
    digest = hashlib.sha256(Path(loaded.path).read_bytes()).hexdigest()
    return f"{digest}:{loaded.card.get('input_scale', '0-1')}"


def _cache_path() -> Path:
    return cache_dir() / "verdicts.json"


def _read_cache() -> dict:
    from ..basics.files import FileProblem, read_regular_file

    try:
        data = json.loads(read_regular_file(_cache_path(), MAX_CACHE_BYTES, "cache file"))
    except (FileProblem, ValueError, RecursionError):
        return {}  # none yet, or damaged: calibrate again
    return data if isinstance(data, dict) else {}


def cached(loaded, key: str | None = None) -> dict | None:
    """The verdict stored for this file and input convention, checked; None if none."""
    from .verdict import SCORES

    entry = _read_cache().get(key or cache_key(loaded))
    if isinstance(entry, dict) and entry.get("score") in SCORES \
            and isinstance(entry.get("threshold"), float) and np.isfinite(entry["threshold"]):
        return entry
    return None


def store(key: str, verdict: dict) -> None:
    """Remember a verdict (the newest MAX_CACHED); a cache that cannot be written is left
    alone: the model is simply calibrated again next time."""
    from ..basics.files import FileProblem, write_atomically

    data = _read_cache()
    data.pop(key, None)
    data[key] = verdict
    data = dict(list(data.items())[-MAX_CACHED:])
    path = _cache_path()
    with contextlib.suppress(FileProblem, OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda fh: fh.write(json.dumps(data).encode()), mode=0o600)


def _digits(data_dir) -> tuple[np.ndarray, str]:
    from ..datasets.data import DataError, load_split
    from ..pictures.samples import load_samples

    try:
        images, _ = load_split("mnist", "test", data_dir)
        return images[:CALIBRATION_DIGITS], f"the first {CALIBRATION_DIGITS:,} MNIST test digits"
    except (DataError, OSError):
        images = load_samples("mnist")[0]
        return images, f"cnnviz's {len(images)} shipped MNIST test digits"


def calibrate_opened(loaded, data_dir=None,
                     progress: Callable[[float], None] | None = None) -> dict:
    """The verdict for an opened digit model: card["verdict"]'s form (cnnviz.core.reading.verdict),
    its threshold the largest of the held-out digits' and each kind of user picture's.
    progress(share done, 0..1) is called between the steps; it may raise to stop the work."""
    from . import verdict as v

    report = progress or (lambda _share: None)
    report(0.0)
    digits, words = _digits(data_dir)
    views = v.user_views(digits, "mnist", share=USER_SHARE,
                         progress=lambda share: report(0.5 * share))
    report(0.5)
    outliers = v.measurement_outliers("mnist")
    report(0.6)
    card = v.calibrate_for_card(loaded.model, digits, "mnist", source=f"calibrated when opened, "
                                f"on {words}", outliers=outliers, views=views,
                                progress=lambda share: report(0.6 + 0.4 * share))
    report(1.0)
    return card

"""A report card for any network cnnviz opens: more than one accuracy number, so a
teacher can judge a homework and set two models side by side.

    card = compute(loaded, progress=lambda share, words: print(f"{share:.0%} {words}"))
    card.figures["accuracy"], card.figures["accuracy_interval"]    # 0.9912, [0.9891, 0.9929]
    rows(card.figures, other.figures)                               # each figure, the better marked

The figures (card.figures, what `cnnviz report --json` prints):

    parameters           the network's trainable numbers (as the summary table counts them)
    accuracy             on the test set of the dataset the model was made for (its card says
                         MNIST or Fashion-MNIST; a model made elsewhere: MNIST)
    accuracy_interval    its Wilson score 95% interval: where the accuracy on all such
                         pictures lies, given this many test pictures
    per_class_accuracy   {class name: accuracy on the test pictures of that class}
    picture_kinds        {kind: accuracy} on KIND_COUNT test digits made into each kind of
                         picture users load (cnnviz.core.pictures.user_pictures: tight crops, phone
                         photos, faint pencil, low-res scans), through the app's preprocessing;
                         a picture in which no digit is found counts as wrong. Digits only.
    shift_accuracy       {pixels: accuracy} on the first INVARIANCE_COUNT test pictures moved
                         1..5 px (picture i to the right, down, left or up, in turn: i % 4)
    rotation_accuracy    {degrees: accuracy} on the same pictures turned 10, 20, 30 degrees
                         (counter-clockwise for even i, clockwise for odd i; bilinear)
    non_digits_flagged   the share of drawn non-digits (cnnviz.core.reading.outliers, the measurement
                         stream) the model's unsure verdict (cnnviz.core.reading.verdict) flags
    ece                  expected calibration error: |accuracy - confidence| over ECE_BINS
                         equal-width bins of the top probability, weighted by their share
    ms_per_image         one picture at a time on one CPU thread: the median of TIMED_RUNS
    omitted              {figure: why it is not given} (a network that does not read digits)

Figures that do not depend on the model (the test set, the pictures made from it, the drawn
non-digits) are made once per process, the pictures users load also once per cache folder;
a computed card is cached by the model file's content (cnnviz.core.reading.opened_verdict.cache_key)
so reopening it is instant. No Qt.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ANGLES", "ECE_BINS", "FIGURES", "KIND_COUNT", "SHIFTS", "ReportCard", "ReportStopped",
           "compute", "disagreements", "expected_calibration_error", "rotated", "rows",
           "shifted", "test_set", "wilson_interval"]

VERSION = 2  # of how the figures are computed: a cached card of another version is not used
KIND_COUNT = 500  # test digits made into each kind of picture users load
INVARIANCE_COUNT = 1000  # test pictures shifted and rotated
SHIFTS = (1, 2, 3, 4, 5)  # pixels
ANGLES = (10, 20, 30)  # degrees
DIRECTIONS = ((1, 0), (0, 1), (-1, 0), (0, -1))  # (dx, dy): right, down, left, up
ECE_BINS = 15
Z95 = 1.959963984540054  # the standard normal's 97.5th percentile
TIMED_RUNS = 20
BATCH = 500
KIND_SEED = 0  # the pictures users load, made from MNIST test digits (as the benchmarks do)
OUTLIERS_IN_CARD = 600  # drawn non-digits (as many as the verdict's own share in a model card)
MAX_CACHED_BYTES = 64_000_000  # a cached card or the cached pictures; larger is not read

# The figures in the order the table shows them: (key, label, which is better, what it is)
FIGURES = (
    ("parameters", "Parameters", None, "How many numbers the network learned"),
    ("accuracy", "Accuracy", "higher", "Share of the test pictures it reads right"),
    ("accuracy_interval", "95% interval", None,
     "Where its accuracy on all such pictures lies (Wilson score interval)"),
    ("per_class_accuracy", "Class", "higher", "Share of the test pictures of this class it reads right"),
    ("picture_kinds", "Kind", "higher",
     f"Share of {KIND_COUNT} test digits made into this kind of picture it reads right"),
    ("shift_accuracy", "Shifted", "higher", "Accuracy on test pictures moved this many pixels"),
    ("rotation_accuracy", "Rotated", "higher", "Accuracy on test pictures turned this many degrees"),
    ("non_digits_flagged", "Non-digits flagged", "higher",
     "Share of drawn non-digits (letters, smileys, stars…) its unsure verdict flags"),
    ("ece", "Calibration error (ECE)", "lower",
     "How far its confidence is from its accuracy (0 = says 90% sure when right 90% of the time)"),
    ("ms_per_image", "ms per picture", "lower",
     "Time the network takes for one picture on one CPU thread of this computer"),
)
UNITS = {"shift_accuracy": " px", "rotation_accuracy": "°"}
KIND_LABELS = {"tight_crop": "tight crops", "phone_photo": "phone photos",
               "faint_pencil": "faint pencil", "low_res_blocky": "blocky low-res",
               "low_res_smooth": "smooth low-res", "notebook_lined": "lined notebook",
               "notebook_squared": "squared notebook"}


class ReportStopped(Exception):
    """The report is no longer wanted (the stop flag was set, or progress raised it)."""


@dataclass
class ReportCard:
    """figures: the JSON keys above; predictions: the answer to each test picture in order
    (None when the network reads no test set); cached: read from the cache."""

    figures: dict
    predictions: np.ndarray | None = None
    cached: bool = False
    labels: np.ndarray | None = field(default=None, repr=False)  # the test set's, when computed


# ----- the formulas ------------------------------------------------------------------------


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of k successes in n trials (95% by default):
    (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n), p = k / n."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"an interval needs 0 <= k <= n and n > 0, not k={k}, n={n}")
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def expected_calibration_error(confidence, correct, bins: int = ECE_BINS) -> float:
    """Σ over equal-width bins of the top probability ((0, 1/bins], ..., ((bins−1)/bins, 1]) of
    (share of pictures in the bin) × |accuracy in the bin − mean confidence in the bin|
    (Guo et al., 2017). A confidence of 0 falls in the first bin."""
    conf = np.asarray(confidence, dtype=np.float64).reshape(-1)
    right = np.asarray(correct, dtype=np.float64).reshape(-1)
    if conf.shape != right.shape or conf.size == 0:
        raise ValueError("the ECE needs as many confidences as answers, at least one")
    which = np.clip(np.ceil(conf * bins).astype(np.int64) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            total += inside.mean() * abs(right[inside].mean() - conf[inside].mean())
    return float(total)


def shifted(images: np.ndarray, pixels: int, first: int = 0) -> np.ndarray:
    """(N, H, W) pictures, picture i (counted from `first`) moved `pixels` to the right,
    down, left or up in turn (DIRECTIONS[i % 4]); black comes in at the edges."""
    from ..experiments.invariance import transform

    out = np.empty(np.shape(images), np.float32)
    for i, image in enumerate(images):
        dx, dy = DIRECTIONS[(first + i) % len(DIRECTIONS)]
        out[i] = transform(image, dx=dx * pixels, dy=dy * pixels)
    return out


def rotated(images: np.ndarray, degrees: float, first: int = 0) -> np.ndarray:
    """(N, H, W) pictures, picture i turned `degrees` about its centre, counter-clockwise
    for even i and clockwise for odd i (bilinear; black comes in at the corners)."""
    from ..experiments.invariance import transform

    out = np.empty(np.shape(images), np.float32)
    for i, image in enumerate(images):
        out[i] = transform(image, angle=degrees if (first + i) % 2 == 0 else -degrees)
    return out


# ----- the data ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def test_set(dataset: str, data_dir=None) -> tuple[np.ndarray, np.ndarray, str]:
    """(images (N, 28, 28) uint8, labels, what they are in words): the dataset's whole test
    split when the data folder has it, else the test pictures shipped with cnnviz."""
    from ..datasets.data import DATASET_NAMES, DataError, load_split
    from ..pictures.samples import has_samples, load_samples

    title = DATASET_NAMES.get(dataset, dataset)
    what = "digits" if dataset == "mnist" else "pictures"
    try:
        images, labels = load_split(dataset, "test", data_dir)
        words = f"the {len(labels):,} {title} test {what}"
    except (DataError, OSError, ValueError):
        if not has_samples(dataset):
            raise
        images, labels, _ = load_samples(dataset)
        words = (f"the {len(labels)} {title} test {what} shipped with cnnviz (the data folder "
                 f"has no {title} test files)")
    for a in (images, labels):
        a.setflags(write=False)
    return images, labels, words


def _kinds_cache_key(digits: np.ndarray, count: int) -> str:
    from ..pictures.user_pictures import DIGIT_KINDS

    h = hashlib.sha256(np.ascontiguousarray(digits).tobytes())
    h.update(json.dumps([VERSION, count, KIND_SEED, DIGIT_KINDS]).encode())
    return h.hexdigest()[:32]


def _read_npz(path) -> dict | None:
    from ..basics.files import FileProblem, read_regular_file

    try:
        with np.load(io.BytesIO(read_regular_file(path, MAX_CACHED_BYTES, "cache file")),
                     allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (FileProblem, OSError, ValueError, EOFError):
        return None


def _write_cache(path, data: bytes) -> None:
    """Cached for next time; a cache that cannot be written is left alone (recomputed)."""
    import contextlib

    from ..basics.files import FileProblem, write_atomically

    with contextlib.suppress(FileProblem, OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda fh: fh.write(data), mode=0o600)


_kinds_in_memory: dict[str, dict] = {}


def picture_kinds(digits: np.ndarray, labels: np.ndarray, count: int = KIND_COUNT,
                  progress: Callable[[float], None] | None = None) -> dict:
    """{kind: (inputs (count, 28, 28) float32 0..1, labels, found (count,) bool)}: `count`
    of the test digits made into each kind of picture users load (seeded) and preprocessed as
    the app does; where no digit was found the input is blank and found is False. Made once
    per process and cached in the cache folder (the phone photos take half a minute)."""
    from ..basics.picture_cache import cache_dir
    from ..pictures.preprocess import preprocess_digit
    from ..pictures.user_pictures import DIGIT_KINDS, make_set

    key = _kinds_cache_key(digits, count)
    if key in _kinds_in_memory:
        return _kinds_in_memory[key]
    path = cache_dir() / "report-cards" / f"pictures-{key}.npz"
    stored = _read_npz(path)
    if stored is not None and all(f"{k}_{part}" in stored for k in DIGIT_KINDS
                                  for part in ("inputs", "labels", "found")):
        out = {k: tuple(stored[f"{k}_{part}"] for part in ("inputs", "labels", "found"))
               for k in DIGIT_KINDS}
    else:
        out = {}
        for done, kind in enumerate(DIGIT_KINDS):
            if progress is not None:
                progress(done / len(DIGIT_KINDS))
            pictures, kind_labels = make_set(kind, digits, labels, count=count, seed=KIND_SEED)
            prepared = [preprocess_digit(p) for p in pictures]
            found = np.array([not d.empty for d in prepared])
            inputs = np.stack([d.image if not d.empty else np.zeros((28, 28), np.float32)
                               for d in prepared]).astype(np.float32)
            out[kind] = (inputs, kind_labels, found)
        buf = io.BytesIO()
        np.savez_compressed(buf, **{f"{k}_{part}": v for k, parts in out.items()
                                    for part, v in zip(("inputs", "labels", "found"), parts)})
        _write_cache(path, buf.getvalue())
    _kinds_in_memory.clear()  # (one set kept: the test set rarely changes in a process)
    _kinds_in_memory[key] = out
    return out


# ----- running the network -----------------------------------------------------------------


def _answers(model, inputs, check: Callable[[], None]) -> tuple[np.ndarray, np.ndarray]:
    """(predictions, top probabilities) of (N, H, W) or (N, C, H, W) pictures, uint8 0..255
    or float 0..1, in batches (check() between them: it raises to stop)."""
    import torch

    from ..networks.network import probabilities

    a = np.asarray(inputs)
    scale = 255.0 if a.dtype == np.uint8 else 1.0
    preds, confs = [], []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(a), BATCH):
            check()
            x = torch.from_numpy(a[start:start + BATCH].astype(np.float32) / scale)
            if x.ndim == 3:
                x = x[:, None]
            top = probabilities(model(x)).max(1)
            preds.append(top.indices.numpy())
            confs.append(top.values.numpy())
    if not preds:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(preds), np.concatenate(confs)


def _ms_per_image(model, spec) -> float:
    """The median time of TIMED_RUNS single-picture runs on one CPU thread, after three to
    warm up. One thread: a picture this small gains nothing from more, and on a busy
    machine torch's threads waiting for each other made it a hundred times slower (200 ms
    against 1 ms measured), which says nothing about the model."""
    import torch

    x = torch.zeros((1, *spec.shape))
    model.eval()
    times = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            for i in range(TIMED_RUNS + 3):
                t0 = time.perf_counter()
                model(x)
                if i >= 3:
                    times.append(time.perf_counter() - t0)
    finally:
        torch.set_num_threads(threads)
    return float(np.median(times) * 1000.0)


def _unsure_verdict_card(loaded, data_dir, progress) -> dict:
    """The card whose verdict the app uses for this model: a digit model made elsewhere gets
    its calibrated one (cached by file, else calibrated now and cached, as the app does)."""
    from ..reading import opened_verdict

    if not opened_verdict.needs_calibration(loaded):
        return loaded.card
    key = opened_verdict.cache_key(loaded)
    verdict = opened_verdict.cached(loaded, key)
    if verdict is None:
        verdict = opened_verdict.calibrate_opened(loaded, data_dir, progress)
        opened_verdict.store(key, verdict)
    return {**loaded.card, "verdict": verdict}


# ----- the card ----------------------------------------------------------------------------


class _Steps:
    """Progress over the card's steps: each step a share of the whole; the stop flag and
    progress(share, words) (which may raise) are checked between batches."""

    def __init__(self, progress, stop) -> None:
        self.progress = progress or (lambda _share, _words: None)
        self.stop = stop
        self.start, self.width, self.words = 0.0, 0.0, ""

    def check(self) -> None:
        stop = self.stop
        if stop is not None and (stop.is_set() if hasattr(stop, "is_set") else stop()):
            raise ReportStopped("the report card was stopped")

    def begin(self, start: float, width: float, words: str) -> None:
        self.check()
        self.start, self.width, self.words = start, width, words
        self.progress(start, words)

    def within(self, share: float) -> None:
        self.check()
        self.progress(self.start + self.width * min(max(share, 0.0), 1.0), self.words)


def _accuracy(predictions, labels) -> float:
    return float(np.mean(np.asarray(predictions) == np.asarray(labels))) if len(labels) else float("nan")


def _test_figures(loaded, images, labels, steps: _Steps) -> tuple[dict, np.ndarray]:
    """accuracy, its interval, per-class accuracy and the ECE on the test set."""
    steps.begin(0.02, 0.1, "Reading the test set")
    preds, conf = _answers(loaded.model, images, steps.check)
    right = preds == labels
    k, n = int(right.sum()), len(labels)
    per_class = {}
    for i, name in enumerate(loaded.classes):
        mine = labels == i
        if mine.any():
            per_class[str(name)] = float(right[mine].mean())
    return {"accuracy": k / n, "accuracy_interval": list(wilson_interval(k, n)),
            "per_class_accuracy": per_class,
            "ece": expected_calibration_error(conf, right)}, preds


def _kind_figures(loaded, images, labels, kind_count: int, steps: _Steps) -> dict:
    steps.begin(0.12, 0.5, "Making the pictures users load (the first time: about a minute)")
    kinds = picture_kinds(images, labels, kind_count, steps.within)
    out = {}
    for kind, (inputs, kind_labels, found) in kinds.items():
        preds, _ = _answers(loaded.model, inputs, steps.check)
        out[kind] = float(np.mean((preds == kind_labels) & found))
    return out


def _invariance_figures(loaded, images, labels, count: int, steps: _Steps) -> dict:
    steps.begin(0.62, 0.13, "Shifting and rotating test pictures")
    x = np.asarray(images[:count], np.float32) / 255.0
    y = labels[:count]
    shifts, turns = {}, {}
    for done, d in enumerate(SHIFTS):
        steps.within(done / (len(SHIFTS) + len(ANGLES)))
        shifts[str(d)] = _accuracy(_answers(loaded.model, shifted(x, d), steps.check)[0], y)
    for done, a in enumerate(ANGLES):
        steps.within((len(SHIFTS) + done) / (len(SHIFTS) + len(ANGLES)))
        turns[str(a)] = _accuracy(_answers(loaded.model, rotated(x, a), steps.check)[0], y)
    return {"shift_accuracy": shifts, "rotation_accuracy": turns}


def _flagged(loaded, dataset: str, data_dir, count: int, steps: _Steps) -> float:
    from ..reading.verdict import logits_of, measurement_outliers, unsure_scores

    steps.begin(0.75, 0.2, "Fixing its unsure verdict and drawing non-digits")
    card = _unsure_verdict_card(loaded, data_dir, steps.within)
    outliers = measurement_outliers(dataset, count)
    steps.check()
    unsure, _ = unsure_scores(logits_of(loaded.model, outliers), card)
    return float(np.mean(unsure))


def _card_key(loaded, dataset: str, images, labels, counts) -> str | None:
    """What the card depends on (the file's content, its input values, the test set, the
    counts, the class names, the stored verdict); None for a network without a file."""
    from ..reading.opened_verdict import cache_key

    if loaded.path is None:
        return None
    h = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    h.update(np.ascontiguousarray(labels).tobytes())
    h.update(json.dumps([VERSION, cache_key(loaded), dataset, list(counts), loaded.classes,
                         loaded.card.get("verdict")], default=str).encode())
    return h.hexdigest()[:40]


def _cached(key: str | None) -> ReportCard | None:
    from ..basics.picture_cache import cache_dir

    if key is None:
        return None
    stored = _read_npz(cache_dir() / "report-cards" / f"card-{key}.npz")
    if not stored:
        return None
    try:
        figures = json.loads(str(stored["figures"]))
    except (KeyError, ValueError, RecursionError):
        return None
    if not isinstance(figures, dict) or figures.get("version") != VERSION:
        return None
    preds = stored.get("predictions")
    return ReportCard(figures, preds if preds is not None and preds.size else None, cached=True)


def _store(key: str | None, card: ReportCard) -> None:
    from ..basics.picture_cache import cache_dir

    if key is None:
        return
    buf = io.BytesIO()
    np.savez_compressed(buf, figures=np.array(json.dumps(card.figures)),
                        predictions=np.asarray(card.predictions if card.predictions is not None
                                               else np.zeros(0), np.int64))
    _write_cache(cache_dir() / "report-cards" / f"card-{key}.npz", buf.getvalue())


def compute(loaded, data_dir=None, *, test_limit: int | None = None,
            kind_count: int = KIND_COUNT, invariance_count: int = INVARIANCE_COUNT,
            outlier_count: int = OUTLIERS_IN_CARD, progress: Callable[[float, str], None] | None = None, stop=None,
            use_cache: bool = True) -> ReportCard:
    """The report card of a LoadedModel (cnnviz.core.networks.weights). progress(share 0..1, what it
    is doing) between steps (it may raise to stop); stop: a threading.Event (or a callable)
    checked between batches: set, the work ends with ReportStopped. test_limit: only the first
    this many test pictures (tests use a few hundred); the other counts: how many pictures
    each figure is measured on."""
    from ..networks.network import digit_mismatch

    steps = _Steps(progress, stop)
    figures = {"version": VERSION, "model": loaded.name,
               "parameters": int(sum(info.parameters for info in loaded.model.layer_infos)),
               "omitted": {}}
    mismatch = digit_mismatch(loaded.input_spec, len(loaded.classes), "The report card's test set")
    if mismatch:
        figures["ms_per_image"] = _ms_per_image(loaded.model, loaded.input_spec)
        figures["omitted"] = {k: mismatch for k, *_ in FIGURES
                              if k not in ("parameters", "ms_per_image")}
        steps.progress(1.0, "Done")
        return ReportCard(figures)
    dataset = loaded.dataset
    images, labels, words = test_set(dataset, data_dir)
    if test_limit is not None and test_limit < len(labels):
        images, labels = images[:test_limit], labels[:test_limit]
        words = f"the first {len(labels):,} of {words}"
    key = _card_key(loaded, dataset, images, labels, (kind_count, invariance_count, outlier_count)) \
        if use_cache else None
    found = _cached(key)
    if found is not None:
        found.labels = labels
        steps.progress(1.0, "Done (remembered from before)")
        return found
    steps.begin(0.0, 0.02, "Timing one picture")
    figures.update(dataset=dataset, test_images=int(len(labels)), test_source=words,
                   ms_per_image=_ms_per_image(loaded.model, loaded.input_spec))
    tested, preds = _test_figures(loaded, images, labels, steps)
    figures.update(tested)
    if dataset == "mnist":
        figures["picture_kinds"] = _kind_figures(loaded, images, labels, kind_count, steps)
    else:
        from ..datasets.data import DATASET_NAMES

        figures["omitted"]["picture_kinds"] = (
            "The pictures users load are digits made into photos and scans; this model reads "
            f"{DATASET_NAMES.get(dataset, dataset)} pictures.")
    figures.update(_invariance_figures(loaded, images, labels, invariance_count, steps))
    figures["non_digits_flagged"] = _flagged(loaded, dataset, data_dir, outlier_count, steps)
    card = ReportCard(figures, preds, labels=labels)
    _store(key, card)
    steps.progress(1.0, "Done")
    return card


# ----- side by side ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure (or one entry of a figure that has several, under a
    heading row), its value for each card as text, and which card is better (0, 1 or None)."""

    key: str
    label: str
    tip: str
    values: tuple[str, ...]
    better: int | None = None
    heading: bool = False


def _text(key: str, value) -> str:
    if value is None:
        return "—"
    if key == "parameters":
        return f"{int(value):,}"
    if key == "ms_per_image":
        return f"{value:.2f}"
    if key == "ece":
        return f"{value:.4f}"
    if key == "accuracy_interval":
        return f"{100 * value[0]:.2f}–{100 * value[1]:.2f}%"
    if key == "accuracy":
        return f"{100 * value:.2f}%"
    return f"{100 * value:.1f}%"


def _better(direction: str | None, values: list, texts: list[str]) -> int | None:
    """The index of the better value (by the figure's direction); None when there is one
    value, one is missing, or they read the same as shown."""
    if direction is None or len(values) < 2 or any(v is None for v in values) \
            or len(set(texts)) == 1:
        return None
    pick = max if direction == "higher" else min
    return values.index(pick(values))


def rows(*cards: dict) -> list[Row]:
    """The figures of one card or several (the `figures` of each), as table rows: a figure
    given as {name: value} gets a heading row and a row per name; a figure a card omits
    shows '—' (the reason is in its tip)."""
    out = []
    for key, label, direction, tip in FIGURES:
        values = [card.get(key) for card in cards]
        reasons = " ".join(dict.fromkeys(card.get("omitted", {}).get(key, "") for card in cards)).strip()
        tip_text = f"{tip}. {reasons}" if reasons else tip
        if any(isinstance(v, dict) for v in values):
            out.append(Row(key, _heading(key), tip_text, tuple("" for _ in cards), heading=True))
            names = list(dict.fromkeys(n for v in values if isinstance(v, dict) for n in v))
            for name in names:
                entry = [v.get(name) if isinstance(v, dict) else None for v in values]
                texts = [_text(key, e) for e in entry]
                out.append(Row(key, f"{KIND_LABELS.get(name, name)}{UNITS.get(key, '')}", tip_text,
                               tuple(texts), _better(direction, entry, texts)))
            continue
        texts = [_text(key, v) for v in values]
        out.append(Row(key, label, tip_text, tuple(texts), _better(direction, values, texts)))
    return out


def _heading(key: str) -> str:
    return {"per_class_accuracy": "Accuracy per class", "picture_kinds": "Pictures users load",
            "shift_accuracy": "Shifted test pictures",
            "rotation_accuracy": "Rotated test pictures"}.get(key, key)


def disagreements(predictions_a, predictions_b, labels) -> tuple[np.ndarray, np.ndarray]:
    """(indices the first model reads right and the second wrong, the reverse), in test
    order: where two models part ways on the same test pictures."""
    a, b, y = (np.asarray(v) for v in (predictions_a, predictions_b, labels))
    if not (a.shape == b.shape == y.shape):
        raise ValueError("the two models' answers are not for the same test pictures")
    return np.flatnonzero((a == y) & (b != y)), np.flatnonzero((b == y) & (a != y))

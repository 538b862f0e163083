"""A map of what the network learned: one flat layer's values (by default the layer just
before the output) for the test set of the dataset the network was made for, laid out in
2-D, so that digits the network thinks alike lie close together.

    m = make_map(network, dataset="mnist", method="pca")        # or "tsne"
    m.coords          # (N, 2): where each test digit lies on the map
    m.place(values)   # (M, 2): where new values of the same layer fall (a drawing)
    m.nearest(values) # the map's digits whose values are closest

- The values are first reduced to their first REDUCED_DIMENSIONS principal components
  (numpy's SVD of the centred values): the PCA map is their first two, t-SNE runs on them
  (as is usual for t-SNE), and a new picture is projected with the same centre and axes.
- t-SNE is openTSNE's. A new point is placed on the fixed map as openTSNE's `transform`
  places it (its 15 nearest map points in the reduced space, their affinities at
  perplexity 5, the median of their positions to start, then gradient steps with the map
  held still), done here exactly with numpy for one point against the whole map, so a pen
  step takes milliseconds rather than openTSNE's seconds (measured: 7.9 s for one point on
  5,000, most of it rebuilding a Barnes-Hut tree every step).
- A map is stored in the cache folder (CNNVIZ_CACHE_DIR, else the per-user one) under the
  network's content hash, the layer, the dataset, the method and the points, so reopening it
  is instant.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..basics.formulas import fmt_count, fmt_shape

__all__ = ["METHODS", "DEFAULT_POINTS", "EmbeddingError", "EmbeddingMap", "Stopped",
           "default_layer", "flat_layers", "check_layer", "dataset_problem", "layer_values",
           "principal_axes", "tsne_coords", "build_map", "make_map", "network_hash", "cache_path",
           "class_colours", "render_map"]

METHODS = {"pca": "PCA", "tsne": "t-SNE"}
# Test digits on the map: PCA takes all of them at once; t-SNE took 67 s for 10,000 on a
# 2-core Xeon (Dec 2026, benchmarks/bench_embedding.py) and half that for 5,000.
DEFAULT_POINTS = {"pca": 10_000, "tsne": 5_000}
POINT_CHOICES = (2_000, 5_000, 10_000)
REDUCED_DIMENSIONS = 50
SUBSET_SEED = 0  # which test digits a subset takes (spread over the whole test set)
TSNE_SEED = 0
TRANSFORM_NEIGHBOURS = 15  # openTSNE's transform: 3 × perplexity 5
TRANSFORM_PERPLEXITY = 5.0
TRANSFORM_STEPS = 100
NEAREST = 6  # test digits listed beside the drawing
CACHE_FORMAT = 1


class EmbeddingError(ValueError):
    """Why a map cannot be made, in one plain line."""


class Stopped(Exception):
    """The user stopped the work (raised by a progress callback)."""


# ---------------------------------------------------------------------------------------
# Which layer, which data


def _output_index(network) -> int:
    """The index of the output layer: the last one, or the one before a trailing softmax."""
    last = len(network.layer_infos) - 1
    return last - 1 if last > 0 and network.ends_in_softmax else last


def flat_layers(network) -> list[str]:
    """The names of the flat layers before the output (those a map can be made of)."""
    infos = network.layer_infos
    return [i.name for i in infos[:_output_index(network)] if len(i.output_shape) == 1]


def default_layer(network) -> str:
    """The layer the output layer reads (a dropout's source: the same values in eval mode)."""
    infos = network.layer_infos
    out = _output_index(network)
    names = [i.name for i in infos]
    source = infos[out].inputs[0] if infos[out].inputs else (names[out - 1] if out else "input")
    while source in names and infos[names.index(source)].kind == "dropout":
        index = names.index(source)
        dropout = infos[index]
        source = dropout.inputs[0] if dropout.inputs else (names[index - 1] if index else "input")
    if source not in names or len(infos[names.index(source)].output_shape) != 1:
        shape = "its input" if source not in names else \
            f"{source} ({fmt_shape(infos[names.index(source)].output_shape)})"
        raise EmbeddingError(f"This network has no flat layer just before its output ({shape} "
                             "is not a list of values), so there is nothing to map; a map needs "
                             "a Flatten or Dense layer before the last one.")
    return source


def check_layer(network, name: str | None) -> str:
    """The layer a map is made of: `name` when it is a flat layer before the output, the
    default layer when name is None; EmbeddingError in words otherwise."""
    if name is None:
        return default_layer(network)
    infos = {i.name: i for i in network.layer_infos}
    flat = flat_layers(network)
    listed = ", ".join(flat) if flat else "none"
    if name not in infos:
        raise EmbeddingError(f"This network has no layer named {name!r}; its flat layers "
                             f"before the output are: {listed}.")
    if name not in flat:
        raise EmbeddingError(f"Layer {name} gives {fmt_shape(infos[name].output_shape)} values, "
                             f"not one list before the output; pick a flat layer: {listed}.")
    return name


def dataset_problem(network) -> str | None:
    """Why cnnviz has no test set for this network (it is not 1×28×28), else None."""
    from ..networks.network import digit_mismatch

    why = digit_mismatch(network.input_spec, None, "The map")
    if why:
        return why[:-1] + ", and cnnviz has test sets only for MNIST and Fashion-MNIST."
    return None


def subset(count: int, total: int) -> np.ndarray:
    """Which test digits a map of `count` points shows: all, or a seeded spread (sorted)."""
    if count >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(SUBSET_SEED).choice(total, count, replace=False))


# ---------------------------------------------------------------------------------------
# The values


def _network_input(network, images) -> np.ndarray:
    """(N, 28, 28) uint8 test digits -> (N, C, H, W) in the network's value convention."""
    spec = network.input_spec
    a = np.asarray(images, dtype=np.float32) / 255.0
    a = spec.low + a * (spec.high - spec.low)
    a = ((a - spec.mean) / spec.std)[:, None]
    return np.repeat(a, spec.channels, axis=1) if spec.channels > 1 else a


def layer_values(network, images, layer: str, batch: int = 500,
                 progress: Callable[[float], None] | None = None):
    """(values (N, D) float32 of `layer`, answers (N,) int) for (N, 28, 28) uint8 images,
    in eval mode. progress(share done) between batches; it may raise Stopped."""
    x = _network_input(network, images)
    values, answers = [], []
    for start in range(0, len(x), batch):
        v, out = _batch_values(network, x[start:start + batch], layer)
        values.append(v.reshape(len(v), -1))
        answers.append(out.argmax(axis=1))
        if progress is not None:
            progress(min(1.0, (start + batch) / len(x)))
    if not values:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    return np.concatenate(values).astype(np.float32), np.concatenate(answers)


def _batch_values(network, x: np.ndarray, layer: str):
    """One batch: the layer's values and the last layer's output (torch, in one pass when
    the network can give every layer of a batch; else one picture at a time)."""
    if hasattr(network, "layer_outputs"):
        import torch

        network.eval()
        with torch.no_grad():
            h = (torch.from_numpy(x) - network.input_mean) / network.input_std
            found = last = None
            for name, out in network.layer_outputs(h):
                found = out if name == layer else found
                last = out
        if found is None or last is None:
            raise EmbeddingError(f"This network has no layer named {layer!r}.")
        return found.numpy(), last.float().numpy()
    traces = [dict(network.trace(one)) for one in x]
    last = network.layer_infos[-1].name
    return (np.stack([t[layer] for t in traces]), np.stack([t[last] for t in traces]))


def principal_axes(values: np.ndarray, count: int = REDUCED_DIMENSIONS):
    """(mean (D,), axes (k, D)) of the values: the first k right singular vectors of the
    centred values (numpy's SVD), each signed so its largest loading is positive (PCA's
    signs are arbitrary; this makes a map the same every time)."""
    v = np.asarray(values, dtype=np.float64)
    mean = v.mean(axis=0)
    _, _, vt = np.linalg.svd(v - mean, full_matrices=False)
    axes = vt[:min(count, vt.shape[0])]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    return mean, axes * signs[:, None]


def tsne_coords(reduced: np.ndarray, progress: Callable[[float], None] | None = None,
                seed: int = TSNE_SEED) -> np.ndarray:
    """openTSNE's t-SNE of (N, k) values -> (N, 2), centred as openTSNE's transform centres
    it. progress(share done) about every 25 steps; it may raise Stopped."""
    from openTSNE import TSNE

    report = progress or (lambda _share: None)
    steps = {"done": 0}
    total = 750  # openTSNE's defaults: 250 steps with early exaggeration, then 500

    def callback(_iteration, _error, _embedding):
        steps["done"] += 25
        report(min(1.0, steps["done"] / total))
        return False

    report(0.0)
    tsne = TSNE(n_jobs=max(1, (os.cpu_count() or 2) - 1), random_state=seed,
                callbacks=callback, callbacks_every_iters=25, verbose=False)
    coords = np.asarray(tsne.fit(np.ascontiguousarray(reduced, dtype=np.float64)))
    return coords - (coords.max(axis=0) + coords.min(axis=0)) / 2


# ---------------------------------------------------------------------------------------
# The map


@dataclass
class EmbeddingMap:
    """A map of one layer of one network over (a subset of) a test set."""

    method: str  # "pca" or "tsne"
    layer: str
    dataset: str  # "mnist" or "fashion-mnist"
    class_names: list[str]
    indices: np.ndarray  # (N,) positions in the dataset's test set, in its own order
    labels: np.ndarray  # (N,) true classes
    answers: np.ndarray  # (N,) the network's answers
    coords: np.ndarray  # (N, 2) float32
    mean: np.ndarray  # (D,) the layer's mean value over the map's digits
    axes: np.ndarray  # (k, D) principal axes
    reduced: np.ndarray  # (N, k) the digits' values on those axes
    images: np.ndarray | None = None  # (N, 28, 28) uint8 thumbnails, when loaded

    @property
    def misread(self) -> np.ndarray:
        """(N,) True where the network's answer is not the true class."""
        return self.answers != self.labels

    def reduce(self, values) -> np.ndarray:
        """(D,) or (M, D) values of the layer -> (M, k) on the map's principal axes."""
        v = np.asarray(values, dtype=np.float64).reshape(-1, self.mean.size)
        return (v - self.mean) @ self.axes.T

    def place(self, values) -> np.ndarray:
        """(M, 2): where new values of the layer fall on this map (PCA: projected on its
        two axes; t-SNE: placed as openTSNE's transform places points, the map held still)."""
        r = self.reduce(values)
        if self.method == "pca":
            return r[:, :2].astype(np.float32)
        return place_on_tsne(self.reduced, self.coords, r)

    def nearest(self, values, count: int = NEAREST) -> np.ndarray:
        """The map's points (indices into it) whose values are closest to each of `values`'
        rows, nearest first: (M, count)."""
        d = _squared_distances(self.reduce(values), self.reduced)
        count = min(count, d.shape[1])
        part = np.argpartition(d, count - 1, axis=1)[:, :count]
        order = np.take_along_axis(d, part, axis=1).argsort(axis=1)
        return np.take_along_axis(part, order, axis=1)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(centres (classes, k), typical (classes,)): each class's mean on the principal
        axes and the median distance of its digits to it (NaN for a class not on the map)."""
        k = len(self.class_names)
        centres = np.full((k, self.reduced.shape[1]), np.nan)
        typical = np.full(k, np.nan)
        for c in range(k):
            members = self.reduced[self.labels == c]
            if len(members):
                centres[c] = members.mean(axis=0)
                typical[c] = float(np.median(np.linalg.norm(members - centres[c], axis=1)))
        return centres, typical

    def distance_to_classes(self, values) -> tuple[int, float, float]:
        """(nearest class, its distance from the values, that class's typical distance): how
        far a picture lies from the class it is nearest, against that class's own digits."""
        centres, typical = self.centres()
        d = np.linalg.norm(centres - self.reduce(values)[0], axis=1)
        c = int(np.nanargmin(d))
        return c, float(d[c]), float(typical[c])


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, N) squared euclidean distances between the rows of a and of b."""
    d = (a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None, :]
    return np.maximum(d, 0.0)


def _perplexity_weights(d2: np.ndarray, perplexity: float) -> np.ndarray:
    """Each row's Gaussian affinities over its neighbours' squared distances, the width found
    by bisection so the row's perplexity is `perplexity` (as openTSNE's); rows sum to 1."""
    target = np.log(perplexity)
    d2 = d2 - d2.min(axis=1, keepdims=True)
    lo = np.zeros(len(d2))
    hi = np.full(len(d2), np.inf)
    beta = np.ones(len(d2))
    for _ in range(64):
        p = np.exp(-d2 * beta[:, None])
        p /= p.sum(axis=1, keepdims=True)
        entropy = -(p * np.log(np.maximum(p, 1e-300))).sum(axis=1)
        too_flat = entropy > target
        lo = np.where(too_flat, beta, lo)
        hi = np.where(too_flat, hi, beta)
        beta = np.where(np.isinf(hi), beta * 2, (lo + hi) / 2)
    return p


def place_on_tsne(reduced: np.ndarray, coords: np.ndarray, new: np.ndarray,
                  steps: int = TRANSFORM_STEPS) -> np.ndarray:
    """New points (M, k) on a fixed t-SNE map of `reduced` (N, k) at `coords` (N, 2), as
    openTSNE's transform does: affinities to the 15 nearest at perplexity 5, the median of
    their positions to start, then gradient descent (exaggeration 1.5, learning rate 0.1,
    momentum 0.8, gradients clipped to 0.25) against every map point, exactly."""
    d2 = _squared_distances(np.asarray(new, np.float64), np.asarray(reduced, np.float64))
    k = min(TRANSFORM_NEIGHBOURS, d2.shape[1])
    near = np.argpartition(d2, k - 1, axis=1)[:, :k]
    p = _perplexity_weights(np.take_along_axis(d2, near, axis=1), TRANSFORM_PERPLEXITY)
    ref = np.asarray(coords, np.float64)
    y = np.median(ref[near], axis=1)
    update = np.zeros_like(y)
    gains = np.ones_like(y)
    for _ in range(steps):
        diff = y[:, None, :] - ref[None, :, :]  # (M, N, 2)
        q = 1.0 / (1.0 + (diff ** 2).sum(-1))  # (M, N)
        repulse = ((q ** 2)[..., None] * diff).sum(1) / q.sum(1, keepdims=True)
        qn = np.take_along_axis(q, near, axis=1)
        attract = ((1.5 * p * qn)[..., None] * diff[np.arange(len(y))[:, None], near]).sum(1)
        grad = attract - repulse
        norm = np.linalg.norm(grad, axis=1, keepdims=True)
        grad = np.where(norm > 0.25, grad * 0.25 / np.maximum(norm, 1e-12), grad)
        same = np.sign(grad) == np.sign(update)
        gains = np.maximum(np.where(same, gains * 0.8, gains + 0.2), 0.01)
        update = 0.8 * update - 0.1 * gains * grad
        y = y + update
    return y.astype(np.float32)


# ---------------------------------------------------------------------------------------
# Making a map, and the cache


def network_hash(network) -> str:
    """SHA-256 of what decides a network's values: its layers, input convention and every
    weight (the same file opened twice, or the same network trained twice alike, match)."""
    h = hashlib.sha256()
    h.update(repr(network.input_spec).encode())
    for info in network.layer_infos:
        h.update(repr((info.name, info.kind, info.label, info.output_shape, info.inputs)).encode())
    state = network.state_dict() if hasattr(network, "state_dict") else {}
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update((t.float() if t.dtype.is_floating_point else t.long()).numpy().tobytes())
    for name in ("input_mean", "input_std"):
        value = getattr(network, name, None)
        if value is not None:
            h.update(f"{name}:{float(value)}".encode())
    return h.hexdigest()


def cache_path(key: str) -> Path:
    import platformdirs

    base = os.environ.get("CNNVIZ_CACHE_DIR") or platformdirs.user_cache_dir(
        "cnnviz", appauthor=False, opinion=False)
    return Path(base) / "maps" / f"{key}.npz"


def _cache_key(network, layer: str, dataset: str, method: str, points: int) -> str:
    text = f"{CACHE_FORMAT}:{network_hash(network)}:{layer}:{dataset}:{method}:{points}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]


_ARRAYS = ("indices", "labels", "answers", "coords", "mean", "axes", "reduced")


def _store(key: str, m: EmbeddingMap) -> None:
    """Keep a map; a cache that cannot be written is left alone (the map is made again)."""
    import contextlib

    from ..basics.files import FileProblem, write_atomically

    path = cache_path(key)
    arrays = {name: getattr(m, name) for name in _ARRAYS}
    with contextlib.suppress(FileProblem, OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda fh: np.savez(fh, **arrays), mode=0o600)


def _cached(key: str, method: str, layer: str, dataset: str, names) -> EmbeddingMap | None:
    """The stored map, checked (shapes agree, numbers finite); None when none or damaged."""
    from ..basics.files import FileProblem, read_regular_file
    from ..basics.limits import MAX_MAP_CACHE_BYTES

    try:
        raw = read_regular_file(cache_path(key), MAX_MAP_CACHE_BYTES, "cache file")
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            a = {name: np.asarray(data[name]) for name in _ARRAYS}
    except (FileProblem, OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    n = len(a["indices"])
    ok = (a["labels"].shape == a["answers"].shape == (n,) and a["coords"].shape == (n, 2)
          and a["reduced"].shape[0] == n and a["axes"].shape == (a["reduced"].shape[1], a["mean"].size)
          and all(np.isfinite(a[name]).all() for name in ("coords", "mean", "axes", "reduced")))
    if not ok:
        return None
    return EmbeddingMap(method, layer, dataset, list(names), **a)


def build_map(network, images, labels, layer: str, method: str, dataset: str = "mnist",
              progress: Callable[[float], None] | None = None) -> EmbeddingMap:
    """A map of `layer` over these (N, 28, 28) uint8 test digits and their labels.
    progress(share done) as it works (values: the first fifth, or all of a PCA map); it
    may raise Stopped."""
    if method not in METHODS:
        raise EmbeddingError(f"A map is made with {' or '.join(METHODS)}, not {method!r}.")
    report = progress or (lambda _share: None)
    share = 0.2 if method == "tsne" else 0.95
    values, answers = layer_values(network, images, layer, progress=lambda s: report(share * s))
    if len(values) < 3:
        raise EmbeddingError("A map needs at least 3 test pictures.")
    mean, axes = principal_axes(values)
    reduced = (values - mean) @ axes.T
    if method == "pca":
        coords = reduced[:, :2]
    else:
        coords = tsne_coords(reduced, lambda s: report(share + (1 - share) * s))
    report(1.0)
    return EmbeddingMap(method, layer, dataset, list(network.class_names),
                        np.arange(len(values)), np.asarray(labels).astype(np.int64),
                        np.asarray(answers).astype(np.int64), np.asarray(coords, np.float32),
                        mean, axes, reduced.astype(np.float32))


def make_map(network, dataset: str = "mnist", method: str = "pca", layer: str | None = None,
             points: int | None = None, data_dir=None,
             progress: Callable[[float], None] | None = None) -> EmbeddingMap:
    """The map of a network over its dataset's test set (a seeded subset of `points`
    digits, by default DEFAULT_POINTS[method]), from the cache when it was made before,
    with the thumbnails. EmbeddingError in words when it cannot be made (no flat layer, no
    such layer, not MNIST-sized, the dataset's files missing)."""
    from ..datasets.data import DataError, load_split

    if method not in METHODS:
        raise EmbeddingError(f"A map is made with {' or '.join(METHODS)}, not {method!r}.")
    problem = dataset_problem(network)
    if problem:
        raise EmbeddingError(problem)
    layer = check_layer(network, layer)
    try:
        images, labels = load_split(dataset, "test", data_dir)
    except DataError as exc:
        raise EmbeddingError(f"The map needs the {dataset} test set. {exc}") from None
    chosen = subset(points or DEFAULT_POINTS[method], len(images))
    key = _cache_key(network, layer, dataset, method, len(chosen))
    m = _cached(key, method, layer, dataset, network.class_names)
    if m is None or not np.array_equal(m.indices, chosen):
        m = build_map(network, images[chosen], labels[chosen], layer, method, dataset, progress)
        m.indices = chosen
        _store(key, m)
    m.images = images[m.indices]
    return m


def describe(m: EmbeddingMap) -> str:
    """'t-SNE of relu5 (128 values) for 5,000 MNIST test digits' in plain words."""
    from ..datasets.data import DATASET_NAMES

    return (f"{METHODS[m.method]} of {m.layer} ({fmt_count(m.mean.size)} values) for "
            f"{fmt_count(len(m.indices))} {DATASET_NAMES.get(m.dataset, m.dataset)} test "
            f"{'digits' if m.dataset == 'mnist' else 'pictures'}")


# ---------------------------------------------------------------------------------------
# The map as a picture (the command line's PNG; no display needed)

# Ten distinct colours (matplotlib's "tab10"), one per class, in the app and in the PNG.
_TAB10 = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def class_colours(count: int) -> list[tuple[int, int, int]]:
    """One (r, g, b) colour per class, the ten of tab10 repeated beyond ten classes."""
    return [(int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)) for c in
            (_TAB10[k % len(_TAB10)] for k in range(count))]


def _plot_positions(coords: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Map coordinates -> pixel positions inside box (left, top, right, bottom), the aspect
    kept, y upwards."""
    left, top, right, bottom = box
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    scale = min((right - left) / max(hi[0] - lo[0], 1e-9), (bottom - top) / max(hi[1] - lo[1], 1e-9))
    centre = (lo + hi) / 2
    x = (left + right) / 2 + (coords[:, 0] - centre[0]) * scale
    y = (top + bottom) / 2 - (coords[:, 1] - centre[1]) * scale
    return np.stack([x, y], axis=1)


def render_map(m: EmbeddingMap, width: int = 1000, height: int = 760) -> np.ndarray:
    """The map as an (H, W, 3) uint8 picture: every point coloured by its true class,
    misread ones ringed in black, a legend of the classes and a title."""
    from PIL import Image, ImageDraw

    from ..reading.outliers import pil_font

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font, small = pil_font(18), pil_font(15)
    legend = 190
    xy = _plot_positions(m.coords.astype(np.float64), (30, 50, width - legend - 20, height - 30))
    colours = class_colours(len(m.class_names))
    r = 2.5 if len(xy) > 3000 else 3.5
    for (x, y), c in zip(xy, m.labels):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colours[int(c)])
    for x, y in xy[m.misread]:
        draw.ellipse((x - r - 3, y - r - 3, x + r + 3, y + r + 3), outline="black", width=2)
    misread = int(m.misread.sum())
    draw.text((20, 12), describe(m), fill="black", font=font)
    left = width - legend
    for k, name in enumerate(m.class_names):
        top = 60 + 26 * k
        draw.rectangle((left, top, left + 16, top + 16), fill=colours[k])
        draw.text((left + 24, top - 1), name[:18], fill="black", font=small)
    top = 70 + 26 * len(m.class_names)
    draw.ellipse((left + 1, top, left + 15, top + 14), outline="black", width=2)
    draw.text((left + 24, top - 3), f"misread ({fmt_count(misread)})", fill="black", font=small)
    return np.asarray(image)

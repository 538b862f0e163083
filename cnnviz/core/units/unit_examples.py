"""What a unit looks for in real pictures: the test images it answers most (and least) to.

A conv channel's score for an image is its largest value over the map's positions; the
winning position's receptive field (cnnviz.core.convolution.receptive_field) is the part of the image
it looked at. A dense unit's score is its single value. A class's score is its logit, the
value before softmax: probabilities saturate at 1 for thousands of digits, so a softmax
unit is scored on the layer it reads. Every unit of every layer is scored in one batched
pass over the test set of the dataset the network was made for, keeping each unit's
TOP_KEPT best and worst images; the answer is cached on disk by the network's content hash.

    found = unit_examples(loaded, progress=print)      # computed once, then from the cache
    found.examples("conv2", 5, n=9)                     # [Example(index, score, position), ...]
    crop_box(loaded.model, "conv2", (11, 4))            # (top, left, bottom, right)

No Qt, no app state.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..convolution.receptive_field import receptive_fields, unit_field
from ..datasets.data import DATASET_NAMES, DataError, load_split

__all__ = ["TOP_KEPT", "Example", "LayerExamples", "Stopped", "UnitExamples", "UnitProblem",
           "cache_key", "crop_box", "dataset_for", "layer_outputs", "network_input",
           "score_images", "scored_layer", "unit_count", "unit_examples"]

TOP_KEPT = 25  # best and worst images kept per unit (the view shows 9; --top takes up to this)
BATCH = 250  # test images per pass (the default model's largest layer: 250 × 32 × 26 × 26)
MAX_CACHE_BYTES = 64 * 1024 * 1024  # a cached answer (the default model's: about 3 MB)
CACHE_FOLDER = "unit-examples"


class UnitProblem(ValueError):
    """A layer, unit or dataset that cannot be looked at, said in one plain line."""


class Stopped(Exception):
    """The work was stopped before it finished (the caller asked)."""


@dataclass(frozen=True)
class Example:
    index: int  # in the dataset's test set, in its own order
    score: float  # the unit's score for that image
    position: tuple[int, int] | None  # (row, column) of the winning map position; None: flat


@dataclass(frozen=True)
class LayerExamples:
    """One layer's units: each unit's best images (descending) and worst (ascending)."""

    name: str
    top_index: np.ndarray  # (units, kept) int32
    top_score: np.ndarray  # (units, kept) float32
    top_position: np.ndarray  # (units, kept) int32: the flat map position (-1: a flat layer)
    low_index: np.ndarray
    low_score: np.ndarray
    low_position: np.ndarray
    map_width: int  # 0 for a flat layer

    @property
    def units(self) -> int:
        return int(self.top_index.shape[0])


@dataclass(frozen=True)
class UnitExamples:
    """Every unit's best and worst test images for one network and dataset."""

    dataset: str  # "mnist" or "fashion-mnist"
    count: int  # test images scored
    layers: dict[str, LayerExamples]
    from_cache: bool = False
    scored_on: dict[str, str] = field(default_factory=dict)  # a softmax -> its logits' layer

    def examples(self, layer: str, unit: int, n: int = 9, lowest: bool = False) -> list[Example]:
        """The n images unit `unit` of `layer` scores highest (or lowest), best first."""
        layer = self.scored_on.get(layer, layer)
        if layer not in self.layers:
            raise UnitProblem(f"no layer {layer!r} was scored (scored: {', '.join(self.layers)})")
        found = self.layers[layer]
        check_unit(layer, unit, found.units)
        n = max(0, min(int(n), found.top_index.shape[1]))
        index, score, pos = ((found.low_index, found.low_score, found.low_position) if lowest
                             else (found.top_index, found.top_score, found.top_position))
        out = []
        for k in range(n):
            p = int(pos[unit, k])
            where = divmod(p, found.map_width) if p >= 0 and found.map_width else None
            out.append(Example(int(index[unit, k]), float(score[unit, k]), where))
        return out


def check_unit(layer: str, unit, units: int) -> None:
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)) or not 0 <= unit < units:
        raise UnitProblem(f"{layer} has {units} unit{'s' if units != 1 else ''} (0 to "
                          f"{units - 1}); there is no unit {unit}")


# ---------------------------------------------------------------------------------------
# Layers and units


def _infos(network) -> list:
    return list(network.layer_infos)


def scored_layer(network, layer: str) -> str:
    """The layer whose values score `layer`'s units: itself, except a softmax at the end,
    whose classes are scored on the logits it reads. UnitProblem for a name the network
    does not have."""
    infos = _infos(network)
    names = [i.name for i in infos]
    if layer == "input":
        raise UnitProblem("the input is the picture itself: pick a layer of the network")
    if layer not in names:
        shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
        raise UnitProblem(f"the network has no layer {str(layer)[:60]!r} (its layers: {shown})")
    info = infos[names.index(layer)]
    if info.spec is not None and getattr(info.spec, "ends_network", False):
        at = names.index(layer)
        reads: tuple[str, ...] = info.inputs or ((names[at - 1],) if at else ())
        if len(reads) == 1 and reads[0] in names:
            return reads[0]
    return layer


def unit_count(network, layer: str) -> int:
    """How many units (channels of a map layer, values of a flat one) `layer` has."""
    infos = {i.name: i for i in _infos(network)}
    return int(infos[scored_layer(network, layer)].output_shape[0])


def dataset_for(loaded, chosen: str | None = None) -> str:
    """The dataset a network's examples come from: `chosen` (the user's pick, --dataset),
    else the one its card names (cnnviz.core.networks.weights.LoadedModel.trained_on). UnitProblem
    when neither says, or the network does not take the dataset's 28×28 grey pictures."""
    if chosen is not None and chosen not in DATASET_NAMES:
        raise UnitProblem(f"the dataset is one of {', '.join(DATASET_NAMES)}, not {chosen!r}")
    dataset = chosen or (loaded.dataset if loaded.trained_on else None)
    if dataset is None:
        raise UnitProblem("this network's card does not say which pictures it was made for: "
                          "choose its dataset (MNIST or Fashion-MNIST) to see its top examples")
    spec = loaded.model.input_spec
    if (spec.height, spec.width) != (28, 28):
        raise UnitProblem(f"{DATASET_NAMES[dataset]} pictures are 28×28; this network takes "
                          f"{spec.size_text}, so its top examples cannot come from them")
    return dataset


def crop_box(network, layer: str, position: tuple[int, int] | None) -> tuple[int, int, int, int]:
    """The input pixels (top, left, bottom, right; bottom and right exclusive) that the map
    unit at `position` of `layer` sees: its receptive field, clipped to the picture. The
    whole picture for a flat layer (position None) or a map made again from flat values."""
    spec = network.input_spec
    whole = (0, 0, spec.height, spec.width)
    if position is None:
        return whole
    found = next((f for f in receptive_fields(_infos(network)) if f.name == layer), None)
    if found is None:
        return whole
    return unit_field(found, int(position[0]), int(position[1]), (spec.height, spec.width))


# ---------------------------------------------------------------------------------------
# One batched pass


def network_input(pictures01: torch.Tensor, spec) -> torch.Tensor:
    """(B, H, W) or (B, C, H, W) pictures in 0..1 -> what the network is fed (its channels,
    its value range low..high, then (x − mean) / std), as network.to_network_layout does
    for one picture."""
    x = pictures01[:, None] if pictures01.ndim == 3 else pictures01
    if x.shape[1] != spec.channels:
        x = x.mean(1, keepdim=True).expand(-1, spec.channels, -1, -1) if spec.channels != 1 \
            or x.shape[1] != 1 else x
    x = spec.low + x * (spec.high - spec.low)
    return (x - spec.mean) / spec.std


def layer_outputs(network, fed: torch.Tensor):
    """(name, output) of every layer for what the network is fed (network_input's answer),
    its own normalisation applied first, as Network.forward does; softmax included."""
    arch = getattr(network, "arch", None)
    if arch is not None:
        fed = (fed - network.input_mean) / network.input_std
    yield from network.layer_outputs(fed)


def _batch_scores(out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A layer's (B, C, H, W) or (B, U) output -> (U, B) scores and (U, B) positions."""
    if out.ndim == 4:
        score, where = out.flatten(2).max(2)
        return score.T, where.T.to(torch.int32)
    flat = out.flatten(1)
    return flat.T, torch.full(flat.T.shape, -1, dtype=torch.int32)


def _merge(kept, new, descending: bool, limit: int):
    """Keep the `limit` best of what was kept and a new batch (ties: the earlier image)."""
    score = torch.cat([kept[0], new[0]], 1) if kept is not None else new[0]
    index = torch.cat([kept[1], new[1]], 1) if kept is not None else new[1]
    where = torch.cat([kept[2], new[2]], 1) if kept is not None else new[2]
    key = torch.nan_to_num(score, nan=-np.inf if descending else np.inf)
    order = torch.sort(key, dim=1, descending=descending, stable=True).indices[:, :limit]
    return score.gather(1, order), index.gather(1, order), where.gather(1, order)


def score_images(network, images, progress: Callable[[float], None] | None = None,
                 stop: Callable[[], bool] | None = None, kept: int = TOP_KEPT,
                 batch: int = BATCH) -> dict[str, LayerExamples]:
    """Every unit's `kept` best and worst of `images` ((N, H, W) uint8 0..255), in one pass.
    progress(share done) between batches; stop() -> True raises Stopped."""
    network.eval()
    images = np.asarray(images)
    names = {scored_layer(network, i.name) for i in _infos(network)}
    best: dict[str, tuple] = {}
    worst: dict[str, tuple] = {}
    shapes: dict[str, tuple] = {}
    for start in range(0, len(images), batch):
        if stop is not None and stop():
            raise Stopped()
        x = torch.from_numpy(images[start:start + batch].astype(np.float32) / 255.0)
        index = torch.arange(start, start + len(x), dtype=torch.int32)
        with torch.no_grad():
            for name, out in layer_outputs(network, network_input(x, network.input_spec)):
                if name not in names:
                    continue
                shapes[name] = tuple(out.shape[1:])
                score, where = _batch_scores(out.float())
                new = (score, index.expand(score.shape[0], -1), where)
                best[name] = _merge(best.get(name), new, True, kept)
                worst[name] = _merge(worst.get(name), new, False, kept)
        if progress is not None:
            progress(min(1.0, (start + len(x)) / len(images)))
    return {name: _layer_examples(name, best[name], worst[name], shapes[name]) for name in best}


def _layer_examples(name: str, best: tuple, worst: tuple, shape: tuple) -> LayerExamples:
    """(score, index, position) tensors kept for the best and the worst -> LayerExamples."""
    def arrays(kept) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        score, index, where = kept
        return (index.numpy().astype(np.int32), score.numpy().astype(np.float32),
                where.numpy().astype(np.int32))

    return LayerExamples(name, *arrays(best), *arrays(worst), shape[2] if len(shape) == 3 else 0)


# ---------------------------------------------------------------------------------------
# The cache


def cache_key(network, dataset: str, count: int) -> str:
    """The network's content (cnnviz.core.units.embedding.network_hash: its layers, input
    convention and every weight) and what it was scored on: the same network opened again,
    from any file, finds its answer."""
    from .embedding import network_hash

    return f"{network_hash(network)[:40]}-{dataset}-{count}-{TOP_KEPT}"


def _cache_path(key: str) -> Path:
    from ..basics.picture_cache import cache_dir

    return cache_dir() / CACHE_FOLDER / f"{key}.npz"


FIELDS = ("top_index", "top_score", "top_position", "low_index", "low_score", "low_position")


def _store(key: str, layers: dict[str, LayerExamples]) -> None:
    """Write the answer (atomically); a cache that cannot be written is left alone."""
    from ..basics.files import FileProblem, write_atomically

    arrays = {"names": np.array(list(layers), dtype=str),
              "widths": np.array([v.map_width for v in layers.values()], dtype=np.int32)}
    for i, found in enumerate(layers.values()):
        arrays.update({f"{i}_{f}": getattr(found, f) for f in FIELDS})
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    path = _cache_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda fh: fh.write(buffer.getvalue()), mode=0o600)
    except (FileProblem, OSError):
        pass


def _stored_layer(name: str, a: list[np.ndarray], width: int) -> LayerExamples:
    """A layer's examples from its stored arrays, in the order of FIELDS."""
    return LayerExamples(name, a[0], a[1], a[2], a[3], a[4], a[5], width)


def _cached(key: str, network) -> dict[str, LayerExamples] | None:
    """The stored answer for this key, checked against the network's layers; None if none
    or damaged (then it is worked out again)."""
    from ..basics.files import FileProblem, read_regular_file

    try:
        raw = read_regular_file(_cache_path(key), MAX_CACHE_BYTES, "cache file")
        with np.load(io.BytesIO(raw), allow_pickle=False) as data:
            names = [str(n) for n in data["names"]]
            widths = [int(w) for w in data["widths"]]
            layers = {name: _stored_layer(name, [np.asarray(data[f"{i}_{f}"]) for f in FIELDS],
                                          widths[i]) for i, name in enumerate(names)}
    except (FileProblem, OSError, ValueError, KeyError, EOFError):
        return None
    expected = {scored_layer(network, i.name) for i in _infos(network)}
    units = {i.name: int(i.output_shape[0]) for i in _infos(network)}
    if set(layers) != expected or any(
            f.top_index.shape != f.low_score.shape or f.top_index.shape[0] != units[f.name]
            for f in layers.values()):
        return None
    return layers


def unit_examples(loaded, dataset: str | None = None, data_dir=None, limit: int | None = None,
                  progress: Callable[[float], None] | None = None,
                  stop: Callable[[], bool] | None = None) -> UnitExamples:
    """Every unit's best and worst test images for a LoadedModel (dataset_for picks the
    dataset); from the cache when it has them, else worked out and stored. limit: only the
    first `limit` test images (tests). UnitProblem when there is nothing to score on."""
    dataset = dataset_for(loaded, dataset)
    try:
        images, _labels = load_split(dataset, "test", data_dir, verify=False)
    except DataError as exc:
        raise UnitProblem(str(exc)) from None
    if limit is not None:
        images = images[:limit]
    network = loaded.model
    key = cache_key(network, dataset, len(images))
    aliases = {i.name: scored_layer(network, i.name) for i in _infos(network)}
    layers = _cached(key, network)
    if layers is not None:
        if progress is not None:
            progress(1.0)
        return UnitExamples(dataset, len(images), layers, True, aliases)
    layers = score_images(network, images, progress, stop)
    _store(key, layers)
    return UnitExamples(dataset, len(images), layers, False, aliases)

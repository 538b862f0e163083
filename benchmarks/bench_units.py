"""What each unit looks for: the work and how good the answers are. Prints figures; asserts
nothing.

    CNNVIZ_DATA_DIR=../shared/data python benchmarks/bench_units.py [--quick]

- top examples: every unit of the default model scored on all 10,000 MNIST test digits in
  one batched pass (cold, no cache), then the same answer from the disk cache; checked
  against a brute-force pass (forward hooks, numpy sort) for every unit of five layers;
- one optimised input (four starts side by side, the app's default regularisers) for a map
  unit and for a class;
- ideal digits: 10 random starts per class (100 pictures) with the default regularisers,
  and with plain gradient ascent (values kept in range, nothing else): how often the
  default model reads them as their class, how often each other shipped MNIST model does,
  and their high-frequency energy (readable: at most half of plain ascent's).
--quick: 2,000 test digits and 3 starts per class (a smoke run).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

from cnnviz.core.datasets.data import load_split  # noqa: E402
from cnnviz.core.networks.weights import SHIPPED, load_shipped  # noqa: E402
from cnnviz.core.units import unit_examples as ue  # noqa: E402
from cnnviz.core.units import unit_optimise as uo  # noqa: E402

CHECKED = ("conv1", "relu2", "pool1", "relu4", "dense1", "dense2")


def _hooked(network, images, layers, batch: int = 500) -> dict[str, np.ndarray]:
    """Each layer's per-image scores (N, units) through the module's own forward (hooks)."""
    seen = {name: [] for name in layers}
    handles = [network.layers[name].register_forward_hook(
        lambda _m, _i, out, name=name: seen[name].append(
            out.detach().flatten(2).amax(2).numpy() if out.ndim == 4 else out.detach().numpy()))
        for name in layers]
    with torch.no_grad():
        for start in range(0, len(images), batch):
            network.eval()(torch.from_numpy(images[start:start + batch] / np.float32(255.0))[:, None])
    for h in handles:
        h.remove()
    return {name: np.concatenate(v) for name, v in seen.items()}


def top_examples(loaded, images) -> None:
    t0 = time.perf_counter()
    layers = ue.score_images(loaded.model, images)
    cold = time.perf_counter() - t0
    units = sum(found.units for found in layers.values())
    print(f"top examples, all {units:,} units of {len(layers)} layers of the default model on "
          f"{len(images):,} test digits, one batched pass: {cold:.1f} s")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["CNNVIZ_CACHE_DIR"] = cache
        ue.unit_examples(loaded, limit=len(images))  # computed and stored
        t0 = time.perf_counter()
        again = ue.unit_examples(loaded, limit=len(images))
        print(f"  opened again from the disk cache: {1000 * (time.perf_counter() - t0):.0f} ms "
              f"(from cache: {again.from_cache})")
    brute = _hooked(loaded.model, images, CHECKED)
    agree = total = 0
    for name in CHECKED:
        scores = brute[name]
        for unit in range(scores.shape[1]):
            best = np.sort(scores[:, unit])[::-1][:9]
            got = np.array([e.score for e in ue.UnitExamples("mnist", len(images), layers)
                            .examples(name, unit)])
            agree += int(np.allclose(got, best, rtol=1e-4, atol=1e-4))
            total += 1
    print(f"  against a brute-force pass (hooks, numpy sort), top 9 scores of every unit of "
          f"{', '.join(CHECKED)}: {agree} of {total} units agree")


def one_optimised(network) -> None:
    for layer, unit, what in (("relu3", 12, "map 12 of relu3"), ("softmax", 3, "class 3")):
        t0 = time.perf_counter()
        result = uo.optimise_unit(network, layer, unit, starts=4)
        print(f"one optimised input, {what}, 4 starts x {result.steps} steps: "
              f"{time.perf_counter() - t0:.1f} s (scores {', '.join(f'{s:.2f}' for s in result.scores)})")


def ideal_digits(network, others: dict, starts: int) -> None:
    for name, reg in (("default regularisers", uo.DEFAULT), ("plain gradient ascent", uo.PLAIN)):
        t0 = time.perf_counter()
        pictures = uo.ideal_digits(network, starts=starts, reg=reg)
        seconds = time.perf_counter() - t0
        rates = ", ".join(f"{k} {100 * uo.read_rate(m, pictures):.0f}%" for k, m in others.items())
        print(f"ideal digits, {name}: {pictures.shape[0] * pictures.shape[1]} pictures in "
              f"{seconds:.1f} s; read as their class by the default model "
              f"{100 * uo.read_rate(network, pictures):.0f}%; by the other shipped models: "
              f"{rates}; high-frequency energy (above {uo.HIGH_FREQUENCY} cycles/pixel) "
              f"{uo.high_frequency_energy(pictures):.2e}")


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"CPU: {cpu_model()}; {os.cpu_count()} cores; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.1f}; "
          f"{date.today():%b %Y}")
    loaded = load_shipped("cnnviz")
    images, _ = load_split("mnist", "test")
    top_examples(loaded, images[:2000] if quick else images)
    one_optimised(loaded.model)
    others = {k: load_shipped(k).model for k in SHIPPED
              if k != "cnnviz" and load_shipped(k).dataset == "mnist"}
    extra = Path(__file__).resolve().parents[1] / "cnnviz" / "weights"
    for stem in ("cnnviz-noaug-mnist", "fully-connected-mnist"):
        path = extra / f"{stem}.safetensors"
        if path.is_file():
            from cnnviz.core.networks.weights import load_weights

            others[stem.removesuffix("-mnist")] = load_weights(path).model
    ideal_digits(loaded.model, others, 3 if quick else 10)


if __name__ == "__main__":
    main()

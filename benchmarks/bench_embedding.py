"""The map of what a network learned (cnnviz.core.units.embedding), timed. Prints figures;
asserts nothing.

    CNNVIZ_DATA_DIR=../shared/data python benchmarks/bench_embedding.py [--model cnnviz]
        [--tsne-points 5000 --tsne-points 10000]

1. The layer before the output for all 10,000 test digits (the network's forward passes).
2. PCA of those values (numpy's SVD).
3. t-SNE (openTSNE) of the first 50 principal components, for each --tsne-points.
4. Placing one drawing on the t-SNE map: cnnviz's placement (what a pen step costs) against
   openTSNE's own transform, and how far apart the two put it.
5. The 5-nearest-neighbour accuracy in 2-D of each map (how well classes stay together).
Nothing is read from or written to the cache. Also the CPU model and the load.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # machine.py beside this file

from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

from cnnviz.core.datasets.data import load_split  # noqa: E402
from cnnviz.core.networks.weights import load_shipped  # noqa: E402
from cnnviz.core.units import embedding as E  # noqa: E402


def knn_accuracy(coords: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-NN in 2-D, in blocks (10,000 points)."""
    right = 0
    for start in range(0, len(coords), 1000):
        block = coords[start:start + 1000]
        d = ((block[:, None] - coords[None]) ** 2).sum(-1)
        d[np.arange(len(block)), start + np.arange(len(block))] = np.inf
        near = np.argpartition(d, k, axis=1)[:, :k]
        votes = np.array([np.bincount(labels[n], minlength=10).argmax() for n in near])
        right += int((votes == labels[start:start + len(block)]).sum())
    return right / len(coords)


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t


def tsne_run(reduced, labels, n: int) -> None:
    from openTSNE import TSNE

    chosen = E.subset(n, len(reduced))
    coords, seconds = timed(E.tsne_coords, reduced[chosen])
    print(f"t-SNE, {n:,} points: {seconds:.1f} s; 5-NN accuracy in 2-D "
          f"{knn_accuracy(coords, labels[chosen]):.3f}")
    # Placing a drawing: a test digit that is not on the map, both ways.
    others = np.setdiff1d(np.arange(len(reduced)), chosen)[:5]
    if len(others) == 0:  # every test digit is on the map: place five of them again
        others = chosen[:5]
    ours, s_ours = timed(E.place_on_tsne, reduced[chosen], coords, reduced[others])
    with warnings.catch_warnings():  # (the map's own coordinates are not a small random start)
        warnings.simplefilter("ignore")
        embedding = TSNE(n_jobs=max(1, (os.cpu_count() or 2) - 1), random_state=0
                         ).prepare_initial(reduced[chosen], initialization=coords)
        embedding.optimize(0)  # (an embedding with its affinities, at the same coordinates)
    theirs, s_theirs = timed(embedding.transform, reduced[others[:1]])
    spread = float(np.ptp(coords, axis=0).max())
    print(f"  placing 5 drawings: cnnviz {1000 * s_ours / 5:.1f} ms each; openTSNE's transform "
          f"{s_theirs:.1f} s for one; apart by {np.linalg.norm(ours[0] - theirs[0]) / spread:.1%} "
          "of the map's width")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="cnnviz")
    p.add_argument("--tsne-points", type=int, action="append", default=None)
    args = p.parse_args()
    os.environ["CNNVIZ_CACHE_DIR"] = os.devnull  # nothing cached: every figure is computed
    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores), {platform.system()}, "
          f"load {os.getloadavg()[0]:.1f}")
    loaded = load_shipped(args.model)
    network, dataset = loaded.model, loaded.dataset
    images, labels = load_split(dataset, "test")
    layer = E.default_layer(network)
    (values, answers), s_values = timed(E.layer_values, network, images, layer)
    print(f"{args.model} on {dataset}: {layer} ({values.shape[1]} values) for {len(values):,} "
          f"test digits: {s_values:.1f} s")
    (mean, axes), s_pca = timed(E.principal_axes, values)
    reduced = (values - mean) @ axes.T
    print(f"PCA (numpy SVD, {len(axes)} axes): {s_pca:.2f} s; 5-NN accuracy in 2-D "
          f"{knn_accuracy(reduced[:, :2], labels.astype(int)):.3f}")
    for n in args.tsne_points or [5000, 10000]:
        tsne_run(reduced, labels.astype(int), n)


if __name__ == "__main__":
    main()

"""Opening a model made elsewhere: from the file chosen to the first prediction, with torch
already loaded (as in the app once it has started), for the lecture's Keras homework model
saved by Keras (.keras and .h5), a residual Keras graph, a pytorch/examples-shaped network
exported to ONNX and torch.export, and the lecture's network in cnnviz's own format. Prints
figures; asserts nothing. Target: <= 2 s for the lecture-sized model.

    python benchmarks/bench_open_model.py [--runs 20]

The stroke latency on an opened model against the same network in cnnviz's format:

    python benchmarks/bench_stroke_latency.py --model tests/data/keras/lecture.keras
    python benchmarks/bench_stroke_latency.py --model lecture-keras
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    import torch  # noqa: F401 (already loaded in the app: not part of the figure)

    from cnnviz.core.networks.weights import load_weights, shipped_weights_path
    from cnnviz.core.pictures.samples import default_sample
    from cnnviz.core.reading.inference import analyze

    drawing = np.kron(default_sample()[0].astype(np.float32), np.ones((10, 10), np.float32))
    files = {"Keras .keras": ROOT / "tests/data/keras/lecture.keras",
             "Keras .h5": ROOT / "tests/data/keras/lecture.h5",
             "Keras .keras, residual graph": ROOT / "tests/data/keras/residual.keras",
             "ONNX (pytorch/examples-shaped)": ROOT / "tests/data/torch/examples.onnx",
             "torch.export .pt2 (the same)": ROOT / "tests/data/torch/examples.pt2",
             "cnnviz .safetensors (lecture-keras)": shipped_weights_path("lecture-keras")}
    analyze(load_weights(files["Keras .keras"]).model, drawing)  # imports, caches: once
    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores), load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"file chosen -> first prediction (open + check + analyze a 280x280 drawing), "
          f"{args.runs} runs; target <= 2 s")
    for what, path in files.items():
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            loaded = load_weights(path)
            analyze(loaded.model, drawing, card=loaded.card)
            times.append(time.perf_counter() - t0)
        print(f"  {what:38s} p50 {1000 * np.median(times):7.1f} ms   max {1000 * max(times):7.1f} ms"
              f"   ({path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()

"""The Experiments tab's work per request, on the CPU. Prints figures; asserts nothing.

    python benchmarks/bench_teach.py

Each figure is the median of 5 runs on a real MNIST test digit with the shipped cnnviz
model, and its ratio to one plain analyze() (preprocessing + forward pass, what every pen
stroke costs) timed in the same run. All of it runs on worker threads in the app.
"""

from __future__ import annotations

import platform
import statistics
import time

import numpy as np
import torch

from cnnviz.core.bn_dropout import batch_statistics, dropout_samples
from cnnviz.core.conv_steps import step_plan
from cnnviz.core.inference import analyze
from cnnviz.core.invariance import curves, pooling_shift
from cnnviz.core.saliency import eval_copy, explain
from cnnviz.core.samples import default_sample, load_samples
from cnnviz.core.weights import load_shipped


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _median(fn, runs: int = 5) -> float:
    fn()  # warm-up (imports, first-call allocations)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    print(f"CPU: {_cpu()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    loaded = load_shipped("cnnviz")
    image, _label = default_sample()
    a = analyze(loaded.model, image.astype(np.float32))
    x = a.digit.image
    net = eval_copy(loaded.model)
    images = load_samples()[0][:31].astype(np.float32) / 255.0
    reference = _median(lambda: analyze(loaded.model, image.astype(np.float32)))
    print(f"reference: one analyze() {1000 * reference:.1f} ms")
    jobs = {
        "Slide the window: plan for 28x28, 3x3, ReLU, pool": lambda: step_plan(
            x, np.ones((3, 3)), activation="relu", pool_kind="max"),
        "Grad-CAM (pool2)": lambda: explain(net, x, "gradcam", a.prediction, "pool2"),
        "Gradient saliency": lambda: explain(net, x, "saliency", a.prediction),
        "Integrated gradients (50 steps)": lambda: explain(net, x, "integrated", a.prediction),
        "Occlusion (4x4, stride 2)": lambda: explain(net, x, "occlusion", a.prediction),
        "Invariance curves (21+21+19+11 inputs)": lambda: curves(loaded.model, x, a.prediction),
        "Max pooling & shifts": lambda: pooling_shift(loaded.model, x),
        "Batch norm statistics (batch of 32, bn3)": lambda: batch_statistics(
            loaded.model, np.concatenate([x[None], images]), "bn3"),
        "Dropout (100 samples)": lambda: dropout_samples(loaded.model, x, 100),
    }
    for name, job in jobs.items():
        t = _median(job)
        print(f"  {name:45s} {1000 * t:8.1f} ms  ({t / reference:5.1f}x analyze)")


if __name__ == "__main__":
    main()

"""The Experiments tab's work per request, on the CPU. Prints figures; asserts nothing.

    python benchmarks/bench_experiments.py

Each figure is the fastest and the median of 7 runs on a real MNIST test digit with the shipped cnnviz
model, and its ratio to one plain analyze() (preprocessing + forward pass, what every pen
stroke costs) timed in the same run. All of it runs on worker threads in the app.
"""

from __future__ import annotations

import platform
import statistics
import time

import numpy as np
import torch

from cnnviz.core.convolution.conv_steps import step_plan
from cnnviz.core.experiments.bn_dropout import batch_statistics, dropout_samples
from cnnviz.core.experiments.invariance import curves, pooling_shift
from cnnviz.core.networks.weights import load_shipped
from cnnviz.core.pictures.samples import default_sample, load_samples
from cnnviz.core.reading.inference import analyze
from cnnviz.core.units.saliency import eval_copy, explain


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _times(fn, runs: int = 7) -> tuple[float, float]:
    """(fastest, median) of `runs` calls after a warm-up. On a busy machine the fastest
    run is the better estimate of the work itself."""
    fn()  # warm-up (imports, first-call allocations)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def _load() -> str:
    try:
        import os

        return f"{os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):
        return "unknown"


def main() -> None:
    print(f"CPU: {_cpu()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    loaded = load_shipped("cnnviz")
    image, _label = default_sample()
    a = analyze(loaded.model, image.astype(np.float32))
    x = a.digit.image
    net = eval_copy(loaded.model)
    images = load_samples()[0][:31].astype(np.float32) / 255.0
    reference, ref_median = _times(lambda: analyze(loaded.model, image.astype(np.float32)))
    print(f"reference: one analyze() {1000 * reference:.1f} ms fastest, "
          f"{1000 * ref_median:.1f} ms median (load average {_load()})")
    print(f"  {'':45s} {'fastest':>9s} {'median':>9s}  fastest / analyze")
    from cnnviz.app_state import KernelSettings
    from cnnviz.ui.experiments.conv_view import _prepare  # the view's worker function (no Qt used)

    photo = np.random.default_rng(0).uniform(0, 255, (3000, 4000, 3)).astype(np.float32)
    jobs = {
        "Slide the window: a region of a 12-MP colour photo": lambda: _prepare(
            "picture", photo, None, KernelSettings(), (1000, 1000, 1100, 1100)),
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
        fastest, median = _times(job)
        print(f"  {name:45s} {1000 * fastest:6.1f} ms {1000 * median:6.1f} ms  "
              f"{fastest / reference:5.1f}x")


if __name__ == "__main__":
    main()

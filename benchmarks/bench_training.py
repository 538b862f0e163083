"""Training and inference speed on this machine. Prints figures; asserts nothing.

    CNNVIZ_DATA_DIR=../shared/data python benchmarks/bench_training.py [--quick]

1. cnnviz (default architecture, Adam + one-cycle, augmentation): seconds per epoch and
   wall time until the test accuracy first reaches 99%.
2. lecture-keras trained as the lecture does (SGD lr 0.01, batch 128, no augmentation):
   seconds per epoch and accuracy after 5 epochs; benchmarks/keras_lecture.py runs the
   lecture's own Keras script on the same machine to compare.
3. Single-image latency of predict-with-full-trace (preprocessing + every layer's output).
4. --fast: `cnnviz train --arch fast --seed S --out FILE` (the fast preset's own recipe)
   for seeds 0-4: the wall time from the process's start to the weights written, with the
   command's own split of it (start-up, data, outlier pictures, epochs, verdict, saving),
   against the time the lecture's own Keras script spends in fit() (benchmarks/
   keras_lecture.py, run in the same benchmark run with a TensorFlow venv: --keras-python or
   $CNNVIZ_KERAS_PYTHON). The target: the slowest seed at 0.10 of the Keras time or less,
   every seed at 99% test accuracy (read back from the file it wrote) with its verdict
   calibrated. A first run with an empty cache (the pictures made) is printed apart.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

from cnnviz.core.datasets.data import load_split
from cnnviz.core.networks.models import build_model
from cnnviz.core.networks.weights import load_shipped
from cnnviz.core.pictures.samples import load_samples
from cnnviz.core.reading.inference import analyze
from cnnviz.core.training.loop import TrainConfig, train


class Reached(Exception):
    pass


def bench_cnnviz(x, y, xt, yt, max_epochs):
    model = build_model("cnnviz", seed=0)
    cfg = TrainConfig(epochs=15, batch_size=128, optimizer="adam", lr=3e-3, schedule="onecycle",
                      augment=True, seed=0)
    t0 = time.perf_counter()
    log = []

    def on_epoch(res, _m):
        log.append(res)
        print(f"  cnnviz epoch {res.epoch}: {res.seconds:.1f} s, test accuracy {res.test_accuracy:.4f}",
              flush=True)

    def stop():
        return bool(log) and (log[-1].test_accuracy >= 0.99 or len(log) >= max_epochs)

    train(model, x, y, cfg, xt, yt, on_epoch=on_epoch, should_stop=stop)
    wall = time.perf_counter() - t0
    reached = next((r for r in log if r.test_accuracy >= 0.99), None)
    per_epoch = statistics.mean(r.seconds for r in log)
    print(f"cnnviz: {per_epoch:.1f} s per epoch (incl. test-set evaluation); "
          + (f"99% test accuracy after epoch {reached.epoch}, {wall:.0f} s wall time"
             if reached else f"did not reach 99% in {len(log)} epochs"))


def bench_keras_like(x, y, xt, yt, epochs):
    model = build_model("lecture-keras", seed=0)
    cfg = TrainConfig(epochs=epochs, batch_size=128, optimizer="sgd", lr=0.01,
                      schedule="constant", augment=False, seed=0)
    result = train(model, x, y, cfg, xt, yt)
    per_epoch = statistics.mean(r.seconds for r in result.epochs)
    print(f"lecture-keras (SGD 0.01, batch 128): {per_epoch:.1f} s per epoch, "
          f"{sum(r.seconds for r in result.epochs):.0f} s for {epochs} epochs, "
          f"test accuracy {result.epochs[-1].test_accuracy:.4f}  "
          f"(compare: benchmarks/keras_lecture.py runs the lecture's own Keras script)")


def bench_trace_latency(n=300):
    net = load_shipped("cnnviz").model
    images, _, _ = load_samples()
    canvas = np.kron(images[:n].astype(np.float32), np.ones((10, 10), np.float32))  # 280x280 drawings
    for img in canvas[:10]:
        analyze(net, img)
    times = []
    for img in canvas:
        t0 = time.perf_counter()
        analyze(net, img)
        times.append((time.perf_counter() - t0) * 1000)
    p50, p95 = np.percentile(times, [50, 95])
    print(f"predict with full trace (280x280 drawing -> preprocessing -> all {len(net.layer_infos)} "
          f"layers): p50 {p50:.2f} ms, p95 {p95:.2f} ms over {n} images")


def load_average() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def children_cpu_seconds() -> float:
    """User + system CPU seconds of the finished child processes so far: unlike wall time
    it hardly depends on what else the (shared) machine is doing."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_keras(keras_python: str) -> float:
    """Seconds the lecture's Keras script spends in fit() (5 epochs, SGD, batch 128)."""
    script = Path(__file__).with_name("keras_lecture.py")
    cpu0 = children_cpu_seconds()
    proc = subprocess.run([keras_python, str(script)], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    found = re.search(r"5 epochs in ([\d.]+) s .*test accuracy ([\d.]+)", proc.stdout)
    if proc.returncode or not found:
        raise SystemExit(f"the Keras script failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    print(f"  Keras: {found.group(0)}; the whole script used "
          f"{children_cpu_seconds() - cpu0:.1f} CPU seconds", flush=True)
    return float(found.group(1))


TARGET_RATIO = 0.10  # command start to weights written, against the Keras script's fit()
SEEDS = (0, 1, 2, 3, 4)


def run_fast_command(xt, yt, seed: int, cache: str) -> dict:
    """`cnnviz train --arch fast --seed S --out FILE` with no other option, its cache folder
    `cache`: its wall time from process start to the weights written, the split it prints,
    and the test accuracy and verdict read back from the file it wrote."""
    from cnnviz.core.networks.weights import load_weights
    from cnnviz.core.training.loop import evaluate

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "fast.safetensors"
        t0, cpu0 = time.perf_counter(), children_cpu_seconds()
        proc = subprocess.run([sys.executable, "-m", "cnnviz", "train", "--arch", "fast",
                               "--seed", str(seed), "--out", str(out)], capture_output=True,
                              text=True, env={**os.environ, "CNNVIZ_CACHE_DIR": cache})
        wall = time.perf_counter() - t0
        cpu = children_cpu_seconds() - cpu0
        found = re.search(r"since the command started: (.*?)\. Test accuracy", proc.stdout)
        if proc.returncode or not found or not out.is_file():
            raise SystemExit(f"cnnviz train failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
        loaded = load_weights(out)
        accuracy = evaluate(loaded.model, xt, yt)["accuracy"]
        verdict = loaded.card.get("verdict", {})
    calibrated = len(verdict.get("thresholds", {})) > 1 and "flagged_outliers" in verdict
    print(f"  seed {seed}: {wall:.1f} s from start to weights written ({found.group(1)}; "
          f"{cpu:.1f} CPU seconds); test accuracy {accuracy:.4f} read from the file; verdict "
          f"{'calibrated' if calibrated else 'MISSING'}", flush=True)
    return {"wall": wall, "accuracy": accuracy, "calibrated": calibrated}


def bench_fast_vs_keras(keras_python: str | None, xt, yt, seeds) -> None:
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; load average {load_average()}")
    keras_fit = run_keras(keras_python) if keras_python else None
    with tempfile.TemporaryDirectory() as cache:
        print("first run, nothing cached yet (outlier exposure's pictures and the verdict's "
              "user pictures are made):", flush=True)
        cold = run_fast_command(xt, yt, seeds[0], cache)
        print("then with the pictures cached, as every later run:", flush=True)
        runs = [run_fast_command(xt, yt, seed, cache) for seed in seeds]
    print(f"load average after: {load_average()}")
    slowest = max(r["wall"] for r in runs)
    worst = min(r["accuracy"] for r in runs)
    every_verdict = all(r["calibrated"] for r in runs)
    summary = (f"fast preset, {len(runs)} seeds: slowest {slowest:.1f} s, median "
               f"{statistics.median(r['wall'] for r in runs):.1f} s from start to weights "
               f"written (first run ever {cold['wall']:.1f} s); lowest test accuracy {worst:.4f}; "
               f"verdict calibrated in {'every' if every_verdict else 'NOT every'} run")
    if keras_fit is None:
        print(f"{summary}; no Keras time (give --keras-python)")
        return
    ratio = slowest / keras_fit
    met = ratio <= TARGET_RATIO and worst >= 0.99 and every_verdict
    print(f"{summary}\nagainst the lecture's Keras fit() in the same run: {slowest:.1f} s / "
          f"{keras_fit:.1f} s = {ratio:.3f} of the time (first run ever "
          f"{cold['wall'] / keras_fit:.3f}); target <= {TARGET_RATIO} at >= 99% in every "
          f"seed: {'MET' if met else 'NOT MET'}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="latency only, no training")
    parser.add_argument("--max-epochs", type=int, default=5)
    parser.add_argument("--fast", action="store_true",
                        help="only the fast preset against the lecture's Keras script")
    parser.add_argument("--keras-python", default=os.environ.get("CNNVIZ_KERAS_PYTHON"),
                        help="a Python with TensorFlow, for benchmarks/keras_lecture.py")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS),
                        help="the fast command's seeds (default 0 1 2 3 4)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.fast:
        xt, yt = load_split("mnist", "test")
        bench_fast_vs_keras(args.keras_python, xt, yt, args.seeds)
        return
    bench_trace_latency()
    if args.quick:
        return
    x, y = load_split("mnist", "train")
    xt, yt = load_split("mnist", "test")
    bench_cnnviz(x, y, xt, yt, args.max_epochs)
    bench_keras_like(x, y, xt, yt, 5)


if __name__ == "__main__":
    main()

"""Training and inference speed on this machine. Prints figures; asserts nothing.

    CNNVIZ_DATA_DIR=../shared/data python benchmarks/bench_training.py [--quick]

1. cnnviz (default architecture, Adam + one-cycle, augmentation): seconds per epoch and
   wall time until the test accuracy first reaches 99%.
2. lecture-keras trained as the lecture does (SGD lr 0.01, batch 128, no augmentation):
   seconds per epoch and accuracy after 5 epochs; benchmarks/keras_lecture.py runs the
   lecture's own Keras script on the same machine to compare.
3. Single-image latency of predict-with-full-trace (preprocessing + every layer's output).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from cnnviz.core.data import load_split
from cnnviz.core.inference import analyze
from cnnviz.core.models import build_model
from cnnviz.core.samples import load_samples
from cnnviz.core.training import TrainConfig, train
from cnnviz.core.weights import load_shipped


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="latency only, no training")
    parser.add_argument("--max-epochs", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    bench_trace_latency()
    if args.quick:
        return
    x, y = load_split("mnist", "train")
    xt, yt = load_split("mnist", "test")
    bench_cnnviz(x, y, xt, yt, args.max_epochs)
    bench_keras_like(x, y, xt, yt, 5)


if __name__ == "__main__":
    main()

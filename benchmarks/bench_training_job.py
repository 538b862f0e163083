"""Where the lab trains: a child process (1 or 2 torch threads) or a thread in the app's
process. Prints figures; asserts nothing.

    CNNVIZ_DATA_DIR=../shared/data python benchmarks/bench_training_job.py [--seconds 25]

The window's own work for one pen step is cnnviz.core.reading.inference.analyze() on the drawing
(preprocessing and every layer of the shown model). This times it idle, then while the
cnnviz network trains in each of:

  process-1   TrainingJob, child process at nice 10 with 1 torch thread (the lab's choice
              on 2 cores: training_threads())
  process-2   TrainingJob, child process at nice 10 with 2 torch threads
  thread-1    a Python thread in this process running training.train() with torch's
              threads limited to 1 (the limit is per process, so the window's analyze()
              gets 1 thread too)

and prints p50/p95 of the pen step's latency, its ratio to idle (target: p95 while
training <= 2x idle) and the training speed (images per second) in each case, with the CPU.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np
import torch
from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

from cnnviz.core.datasets.data import load_split
from cnnviz.core.networks.models import ARCHITECTURES, build_model
from cnnviz.core.networks.weights import load_shipped
from cnnviz.core.pictures.samples import load_samples
from cnnviz.core.reading.inference import analyze
from cnnviz.core.training.job import BatchDone, RunFailed, TrainingJob
from cnnviz.core.training.loop import TrainConfig, train

CONFIG = TrainConfig(epochs=50, batch_size=128, optimizer="adam", lr=3e-3,
                     schedule="constant", augment=True)


def strokes(net, canvas, seconds: float) -> list[float]:
    """analyze() again and again for `seconds`, a pen step every 1/60 s at most: ms each."""
    times = []
    end = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        analyze(net, canvas[i % len(canvas)])
        took = time.perf_counter() - t0
        times.append(took * 1000)
        i += 1
        time.sleep(max(0.0, 1 / 60 - took))  # a pen moves at the screen's rate
    return times


def summary(name: str, times: list[float], idle_p95: float | None, rate: float | None) -> None:
    p50, p95 = np.percentile(times, [50, 95])
    ratio = f", p95 {p95 / idle_p95:.2f}x idle" if idle_p95 else ""
    speed = f"; training {rate:,.0f} images/s" if rate else ""
    print(f"{name:<11} pen step p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({len(times)} steps"
          f"{ratio}){speed}", flush=True)


def with_process(threads: int, net, canvas, seconds: float, idle_p95: float) -> None:
    job = TrainingJob(ARCHITECTURES["cnnviz"], "mnist", None, CONFIG, threads=threads)
    job.start()
    images, t_first = 0, None
    try:
        while True:  # wait for training to run
            events = job.poll()
            if any(isinstance(e, RunFailed) for e in events):
                raise SystemExit(f"training failed: {events}")
            if any(isinstance(e, BatchDone) for e in events):
                t_first = time.perf_counter()
                break
            time.sleep(0.05)
        times = strokes(net, canvas, seconds)
        events = job.poll()
        images = sum(1 for e in events if isinstance(e, BatchDone)) * CONFIG.batch_size
        rate = images / (time.perf_counter() - t_first)
    finally:
        job.close()
    summary(f"process-{threads}", times, idle_p95, rate)


def with_thread(net, canvas, seconds: float, idle_p95: float, x, y) -> None:
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    stop = threading.Event()
    batches = []
    model = build_model("cnnviz", seed=0)
    worker = threading.Thread(target=train, args=(model, x, y, CONFIG),
                              kwargs={"on_batch": lambda *a: batches.append(time.perf_counter()),
                                      "should_stop": stop.is_set, "device": torch.device("cpu")},
                              daemon=True)
    worker.start()
    while not batches:
        time.sleep(0.05)
    first = len(batches)
    t0 = time.perf_counter()
    times = strokes(net, canvas, seconds)
    rate = (len(batches) - first) * CONFIG.batch_size / (time.perf_counter() - t0)
    stop.set()
    worker.join()
    torch.set_num_threads(previous)
    summary("thread-1", times, idle_p95, rate)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=25.0)
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; torch {torch.__version__}; load "
          f"average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    net = load_shipped("cnnviz").model
    images, _, _ = load_samples()
    canvas = np.kron(images[:50].astype(np.float32), np.ones((10, 10), np.float32))
    for c in canvas[:5]:
        analyze(net, c)
    idle = strokes(net, canvas, args.seconds)
    idle_p95 = float(np.percentile(idle, 95))
    summary("idle", idle, None, None)
    x, y = load_split("mnist", "train")
    with_process(1, net, canvas, args.seconds, idle_p95)
    with_process(2, net, canvas, args.seconds, idle_p95)
    with_thread(net, canvas, args.seconds, idle_p95, x, y)
    print(f"load average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()

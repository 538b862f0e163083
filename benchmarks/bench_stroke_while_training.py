"""Pen-stroke latency while the training lab trains a network, against the same window idle.
Prints figures, the ratio and the target; asserts nothing.

    CNNVIZ_DATA_DIR=... QT_QPA_PLATFORM=offscreen python benchmarks/bench_stroke_while_training.py
        [--strokes 200] [--arch lecture-keras] [--batch-size 128] [--layer conv1]

The method is benchmarks/bench_stroke_latency.py's (its Clock, pen path and steps are
reused): the whole main window at 1366x768 gets real mouse events on its drawing pad, and
the clock stops when the CNN explorer's feature maps have painted that pen step's result.
First N steps with nothing else running (idle), then the lab starts training (the lab's
own controller and TrainingJob, the whole MNIST training set, as a user would) and, once
batches arrive, N more steps of the same stroke. Target: p95 while training <= 2x idle.
The training's own pace (batches per second) is printed too, from its batch events.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_stroke_latency as base  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402

TARGET_RATIO = 2.0  # p95 while training / p95 idle


def wait_until(app, done, timeout_s: float) -> bool:
    """Run the event loop until done() or the timeout (the GUI stays live meanwhile)."""
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if done() or time.monotonic() > deadline else None)
    timer.start(50)
    loop.exec()
    timer.stop()
    return bool(done())


def figures(clock) -> dict[str, float]:
    total = [f["total"] * 1e3 for f in clock.frames]
    return {"p50": base.pct(total, 50), "p95": base.pct(total, 95),
            "max": max(total or [float("nan")]), "frames": len(total)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=200, help="pen steps measured, each phase")
    ap.add_argument("--arch", default="lecture-keras", help="the network the lab trains")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--model", default="cnnviz", help="the model the CNN explorer shows")
    ap.add_argument("--layer", default=None)
    ap.add_argument("--block", action="store_true")
    args = ap.parse_args()
    n = args.strokes
    args.explorer_only, args.rate = False, 0.0
    args.strokes = 2 * n + 2 * base.WARM_UP + 2  # one long stroke for both phases

    from cnnviz.core.networks.models import ARCHITECTURES
    from cnnviz.core.networks.weights import load_shipped
    from cnnviz.core.training.loop import TrainConfig
    from cnnviz.ui.controllers.training import training_set_problem

    problem = training_set_problem("mnist", None)
    if problem:
        print(f"cannot run: {problem} Set CNNVIZ_DATA_DIR.")
        return 1
    bare = base.bare_figures(load_shipped(args.model))
    app, state, controller, explorer, step, finish = base.window_setup(args)
    window = explorer.window()
    lab = window.lab
    clock = base.Clock(state, controller, explorer.grid)

    offset = {"at": 0}

    def shifted(i):
        step(offset["at"] + i)

    wall_idle = base.run_steps(app, clock, shifted, n, 0.0)
    idle = figures(clock)

    batches: list[tuple[float, int]] = []
    lab.run.events.progress.connect(  # each batch (None: a new run)
        lambda e: e is not None and batches.append((time.perf_counter(), 1)))
    config = TrainConfig(epochs=50, batch_size=args.batch_size, optimizer="adam", lr=0.003,
                         schedule="constant", augment=False, seed=0)
    t_start = time.perf_counter()
    lab.controller.start(ARCHITECTURES[args.arch], "mnist", None, config)
    if not wait_until(app, lambda: len(batches) >= 5, 180.0):
        print(f"the training did not start within 3 minutes (phase {lab.controller.phase}, "
              f"{lab.controller.error})")
        lab.controller.stop()
        finish()
        return 1
    first_batch_s = batches[0][0] - t_start
    offset["at"] = n + base.WARM_UP + 1
    clock.frames.clear()
    before = len(batches)
    t0 = time.perf_counter()
    wall_training = base.run_steps(app, clock, shifted, n, 0.0)
    rate = (len(batches) - before) / max(1e-9, time.perf_counter() - t0)
    training = figures(clock)
    threads = getattr(lab.controller.job, "threads", "?")
    stop_t = time.perf_counter()
    lab.controller.stop()
    wait_until(app, lambda: not lab.controller.running, 10.0)
    stop_s = time.perf_counter() - stop_t

    cpus = os.cpu_count()
    print(f"CPU: {base.cpu_model()} ({cpus} cores), load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"whole window 1366x768 offscreen, CNN explorer showing {args.model} "
          f"({args.shown_layer}); the lab trains {args.arch} on all of MNIST, batch "
          f"{args.batch_size}, Adam, in its own process ({threads} torch thread(s), nice 10)")
    print(f"bare analyze() p50 {base.pct(bare['analyze'], 50):.2f} ms (no GUI, nothing else "
          "running)")
    print(f"idle:     {idle['frames']} frames in {wall_idle:.1f} s, pen move -> repainted p50 "
          f"{idle['p50']:.1f} ms, p95 {idle['p95']:.1f} ms, max {idle['max']:.1f} ms")
    print(f"training: {training['frames']} frames in {wall_training:.1f} s, pen move -> "
          f"repainted p50 {training['p50']:.1f} ms, p95 {training['p95']:.1f} ms, max "
          f"{training['max']:.1f} ms; the training ran {rate:.1f} batches/s meanwhile "
          f"(first batch {first_batch_s:.1f} s after Start)")
    ratio50 = training["p50"] / idle["p50"] if idle["p50"] else float("nan")
    ratio95 = training["p95"] / idle["p95"] if idle["p95"] else float("nan")
    verdict = "met" if ratio95 <= TARGET_RATIO else "NOT met"
    print(f"ratio training / idle: p50 {ratio50:.2f}x, p95 {ratio95:.2f}x (target p95 <= "
          f"{TARGET_RATIO:g}x: {verdict})")
    print(f"Stop -> the lab says stopped: {stop_s:.2f} s")
    finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())

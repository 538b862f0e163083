"""Pen-stroke latency: a pen move on the drawing pad -> every visible plot repainted.
Prints figures beside the targets; asserts nothing.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_stroke_latency.py [--strokes 300]
        [--rate 0] [--layer conv1] [--model cnnviz] [--block] [--explorer-only]

By default the whole main window (1366x768, a laptop screen) gets real mouse events on its
drawing pad, and the clock stops when the CNN explorer's feature maps have painted the
result of that pen step, in the same pass that repaints the pad, the preprocessing strip,
the answer and the probability bars. This is what a user feels.

--explorer-only: the CNN explorer alone (1100x800); a disc stamped along an '8' on a
280x280 canvas goes to AppState.set_image after each step, as the pad does.

--rate 0 (default): the next step starts when the previous one is on screen (latency).
--rate N: steps arrive N times per second whether or not the GUI keeps up (a fast pen).
The newest request must win and nothing may queue up: the run reports the analyses
requested, how many were sent while an earlier one was unanswered (work thrown away), the
latency of the frames shown and the lag from the last pen step to its result on screen.

The same run first times the bare cnnviz.core.inference.analyze() (preprocessing + every
layer) on a drawing, and every figure is also printed as a ratio to it, so runs on
different machines compare. --window is accepted for older command lines (it is the
default now).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cnnviz.app_state import AppState  # noqa: E402
from cnnviz.core.inference import analyze  # noqa: E402
from cnnviz.core.preprocess import preprocess_for  # noqa: E402
from cnnviz.core.weights import SHIPPED, load_shipped, load_weights  # noqa: E402


def _model(name: str):
    """--model: a shipped model's name, or a model file (cnnviz or Keras)."""
    return load_shipped(name) if name in SHIPPED else load_weights(name)

TARGET_TOTAL_P95_MS = 16.0  # pen move -> every visible plot repainted, p95
TARGET_PREPROCESS_MS = 1.0  # preprocessing a 280x280 drawing
TARGET_PAINT_MS = 6.0  # painting, once the views have their new data
WARM_UP = 20


def pen_path(steps: int) -> np.ndarray:
    """Points (y, x) along an '8' that fills most of a 280x280 pad, repeated as needed."""
    t = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    x = 140 + 55 * np.sin(2 * t)
    y = 140 - 95 * np.sin(t)
    pts = np.stack([y, x], axis=1)
    reps = -(-steps // len(pts))
    return np.concatenate([pts] * reps)[:steps]


def stamp(canvas: np.ndarray, y: float, x: float, radius: float = 10.0) -> None:
    y0, y1 = int(max(0, y - radius - 1)), int(min(canvas.shape[0], y + radius + 2))
    x0, x1 = int(max(0, x - radius - 1)), int(min(canvas.shape[1], x + radius + 2))
    yy, xx = np.mgrid[y0:y1, x0:x1]
    d = np.sqrt((yy - y) ** 2 + (xx - x) ** 2)
    ink = np.clip(radius + 0.5 - d, 0, 1) * 255.0
    np.maximum(canvas[y0:y1, x0:x1], ink, out=canvas[y0:y1, x0:x1])


def pct(values, q) -> float:
    return float(np.percentile(np.asarray(values), q)) if len(values) else float("nan")


def drawing(steps: int = 120) -> np.ndarray:
    """A 280x280 drawing of an '8' (float32 0..255), like the pad sends."""
    canvas = np.zeros((280, 280), np.float32)
    for y, x in pen_path(steps):
        stamp(canvas, y, x)
    return canvas


def time_ms(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def bare_figures(loaded, runs: int = 100) -> dict[str, list[float]]:
    """analyze(), preprocessing and the forward pass alone, with no GUI work, on a thread of
    their own as the app runs them. (On the main thread torch's OpenMP threads can be far
    slower on a busy machine: 100+ ms instead of 3 for the same analyze() here.)"""
    picture = drawing()
    pre = preprocess_for(loaded.dataset)
    digit = pre(picture)
    figures: dict[str, list[float]] = {}

    def measure():
        for _ in range(10):  # warm up
            analyze(loaded.model, picture, dataset=loaded.dataset)
        figures["analyze"] = time_ms(
            lambda: analyze(loaded.model, picture, dataset=loaded.dataset), runs)
        figures["preprocess"] = time_ms(lambda: pre(picture), runs)
        figures["trace"] = time_ms(lambda: loaded.model.trace(digit.image), runs)

    worker = threading.Thread(target=measure, name="bench-bare-analyze")
    worker.start()
    worker.join()
    return figures


class Clock:
    """Follows each pen step to the screen. A step's image is sent to the analysis worker
    (runner.submit, wrapped here) now or later (the controller paces while the pen moves);
    its result is shown when the feature-map grid paints after the views took it."""

    def __init__(self, state, controller, grid) -> None:
        self.controller = controller
        self.runner = runner = controller.runner
        self.step_t0 = 0.0  # when the newest pen step started
        self.step_image_t = 0.0  # when that step reached state.set_image
        # generation -> (its pen step's t0, when it reached set_image, when it was sent)
        self.sent: dict[int, tuple[float, float, float]] = {}
        self.requests = 0
        self.superseding = 0  # requests sent while an earlier one was still unanswered
        self.frames: list[dict] = []
        self.pending: dict = {}
        self.on_frame = None  # called after each frame is recorded
        self.last_step = 0.0
        submit = runner.submit

        def counted_submit(fn, *args):
            # an earlier request not answered yet: its work is thrown away (an older
            # controller without is_busy: whether the worker is still at it)
            busy = controller.is_busy() if hasattr(controller, "is_busy") else not runner.is_idle()
            generation = submit(fn, *args)
            self.requests += 1
            self.superseding += busy
            self.sent[generation] = (self.step_t0, self.step_image_t, time.perf_counter())
            return generation

        runner.submit = counted_submit
        state.image_changed.connect(self._on_image, priority=1000)  # before the controller
        state.analysis_ready.connect(self._views_start, priority=1000)
        state.analysis_ready.connect(self._views_end, priority=-1000)
        grid.painted.connect(self._on_painted)

    def start_step(self) -> None:
        self.step_t0 = time.perf_counter()

    def _on_image(self, _image, _source) -> None:
        self.step_image_t = time.perf_counter()

    def _views_start(self, analysis) -> None:
        generation = self.controller.answered if hasattr(self.controller, "answered") \
            else self.runner.generation  # (an older controller: only the newest is delivered)
        if generation in self.sent:
            t0, image_t, submitted = self.sent.pop(generation)
            self.pending = dict(t0=t0, submitted=submitted, image=image_t,
                                model=analysis.seconds, views_start=time.perf_counter())
            for old in [g for g in self.sent if g < generation]:
                del self.sent[old]  # dropped unstarted or stale

    def _views_end(self, _analysis) -> None:
        if self.pending:
            self.pending["views_end"] = time.perf_counter()

    def _on_painted(self) -> None:
        if "views_end" in self.pending and "painted" not in self.pending:
            self.pending["painted"] = True
            QTimer.singleShot(0, self._finish)  # the rest of the window paints in this pass

    def _finish(self) -> None:
        p, self.pending = self.pending, {}
        if not p:
            return
        now = time.perf_counter()
        self.frames.append(dict(
            total=now - p["t0"], pen=p["image"] - p["t0"], held=p["submitted"] - p["image"],
            model=p["model"], handover=p["views_start"] - p["submitted"] - p["model"],
            views=p["views_end"] - p["views_start"], paint=now - p["views_end"], end=now))
        if self.on_frame is not None:
            self.on_frame()


def run_steps(app, clock: Clock, step, count: int, rate: float) -> float:
    """Warm up, then run `count` pen steps; returns the wall time of the measured part."""
    loop = QEventLoop()
    guard = QTimer()  # never wait forever for a frame
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    clock.on_frame = loop.quit

    def one(i):
        clock.start_step()
        step(i)
        guard.start(5000)
        loop.exec()
        guard.stop()

    for i in range(WARM_UP):
        one(i)
    clock.frames.clear()
    clock.requests = clock.superseding = 0
    t_start = time.perf_counter()
    if rate <= 0:
        for i in range(WARM_UP, WARM_UP + count):
            one(i)
        return time.perf_counter() - t_start
    clock.on_frame = None
    timer = QTimer()
    timer.setInterval(max(1, int(round(1000.0 / rate))))
    state = {"i": WARM_UP, "last": 0.0}

    def tick():
        if state["i"] >= WARM_UP + count:
            timer.stop()
            state["last"] = clock.step_t0
            QTimer.singleShot(1000, app.quit)
            return
        clock.start_step()
        step(state["i"])
        state["i"] += 1

    timer.timeout.connect(tick)
    timer.start()
    app.exec()
    clock.last_step = state["last"]
    return time.perf_counter() - t_start


def window_setup(args):
    """A real MainWindow, 1366x768, conv1 shown; returns (window, step function)."""
    import tempfile

    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtTest import QTest

    from cnnviz.ui.window.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # never the user's settings
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app.setOrganizationName("cnnviz-bench")
    window = MainWindow(AppState())
    window.state.set_model(_model(args.model))
    window.load_defaults()
    window.resize(1366, 768)
    window.show()
    show_layer(window.state, window.cnn_explorer, args)
    panel = window.input_panel
    pad = panel.pad
    panel.clear()
    sq = pad._square()
    pts = [QPoint(int(sq.x() + x / 280 * sq.width()), int(sq.y() + y / 280 * sq.height()))
           for y, x in pen_path(args.strokes + WARM_UP + 1)]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])

    def step(i):
        QTest.mouseMove(pad, pts[i + 1])

    def finish():
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
        window.close()

    return app, window.state, window.controller, window.cnn_explorer, step, finish


def explorer_setup(args):
    """The CNN explorer alone, fed by state.set_image as the pad would."""
    from cnnviz.ui.cnn.explorer import CnnExplorer
    from cnnviz.ui.controllers import AnalysisController

    app = QApplication.instance() or QApplication(sys.argv[:1])
    state = AppState()
    controller = AnalysisController(state)
    state.set_model(_model(args.model))
    explorer = CnnExplorer(state, controller)
    explorer.resize(1100, 800)
    explorer.show()
    show_layer(state, explorer, args)
    canvas = np.zeros((280, 280), np.float32)
    pts = pen_path(args.strokes + WARM_UP)

    def step(i):
        stamp(canvas, *pts[i])
        state.set_image(canvas.copy(), "benchmark")

    def finish():
        explorer.shutdown()
        controller.shutdown()

    return app, state, controller, explorer, step, finish


def show_layer(state, explorer, args) -> None:
    infos = state.model.model.layer_infos
    layer = args.layer or max((i for i in infos if len(i.output_shape) == 3),
                              key=lambda i: int(np.prod(i.output_shape))).name
    state.set_layer(layer)
    explorer.show_block.setChecked(args.block)
    args.shown_layer = layer


def report(args, clock: Clock, wall: float, bare: dict, state) -> None:
    base = pct(bare["analyze"], 50)
    c, h, w = state.analysis.layer(args.shown_layer).shape
    where = "CNN explorer alone, 1100x800" if args.explorer_only else "whole window, 1366x768"
    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores), load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{where} offscreen, model {args.model}, {args.shown_layer} shown "
          f"({c}x{h}x{w}{', whole block' if args.block else ''})")
    print(f"bare analyze() on a 280x280 drawing: p50 {base:.2f} ms, p95 "
          f"{pct(bare['analyze'], 95):.2f} ms (the ratios below are to its p50)")
    pre = pct(bare["preprocess"], 50)
    print(f"  preprocessing alone  p50 {pre:.2f} ms  (target <= {TARGET_PREPROCESS_MS:g} ms, "
          f"{pre / base:.2f}x analyze)")
    print(f"  forward pass (trace) p50 {pct(bare['trace'], 50):.2f} ms")
    mode = "wait for each frame" if args.rate <= 0 else f"pen at {args.rate:g} steps/s"
    frames = clock.frames
    print(f"{args.strokes} pen steps ({mode}): {len(frames)} frames shown in {wall:.1f} s, "
          f"{clock.requests} analyses requested, {clock.superseding} of them while an earlier "
          "one was unanswered (its work thrown away)")
    ms = {k: [f[k] * 1e3 for f in frames] for k in frames[0]} if frames else {}
    total = ms.get("total", [])
    print(f"pen move -> every visible plot repainted: p50 {pct(total, 50):.1f} ms, p95 "
          f"{pct(total, 95):.1f} ms, max {max(total or [0]):.1f} ms  (target p95 <= "
          f"{TARGET_TOTAL_P95_MS:g} ms; p95 = {pct(total, 95) / base:.1f}x analyze)")
    print("split, p50 / p95 ms (x analyze p50):")
    for key, what, target in (
            ("pen", "pen move -> state.set_image", None),
            ("held", "held by the controller (pacing)", None),
            ("model", "analysis on the worker", None),
            ("handover", "hand-over to the GUI thread", None),
            ("views", "views take the result", None),
            ("paint", "paint", TARGET_PAINT_MS)):
        values = ms.get(key, [])
        goal = f"  target <= {target:g}" if target else ""
        print(f"  {what:34s} {pct(values, 50):6.1f} / {pct(values, 95):6.1f}  "
              f"({pct(values, 50) / base:4.1f}x){goal}")
    if args.rate > 0 and frames:
        lag = (frames[-1]["end"] - clock.last_step) * 1e3
        print(f"last pen step -> its result on screen: {lag:.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=300)
    ap.add_argument("--model", default="cnnviz", help="a shipped model, or a model file")
    ap.add_argument("--layer", default=None, help="layer to show (default: most pixels)")
    ap.add_argument("--block", action="store_true", help="show the whole conv block")
    ap.add_argument("--rate", type=float, default=0.0, help="pen steps per second (0: wait)")
    ap.add_argument("--explorer-only", action="store_true", help="the CNN explorer alone")
    ap.add_argument("--window", action="store_true", help="(the default) the whole window")
    args = ap.parse_args()
    bare = bare_figures(_model(args.model))
    setup = explorer_setup if args.explorer_only else window_setup
    app, state, controller, explorer, step, finish = setup(args)
    clock = Clock(state, controller, explorer.grid)
    wall = run_steps(app, clock, step, args.strokes, args.rate)
    report(args, clock, wall, bare, state)
    finish()


if __name__ == "__main__":
    main()

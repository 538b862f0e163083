"""Pen-stroke latency: a pen move on the drawing pad -> every visible plot repainted.
Prints figures beside the targets; asserts nothing.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_stroke_latency.py [--strokes 300]
        [--rate 0] [--layer conv1] [--model cnnviz] [--block] [--explorer-only] [--views]
        [--compare OTHER_CHECKOUT [--rounds 3]]

By default the whole main window (1366x768, a laptop screen) gets real mouse events on its
drawing pad, and the clock stops when every view of the window has painted the result of
that pen step: once the views have taken the result, the clock waits until the window is
quiet (no paint, no layout pass and no repaint request left: a fence event posted below
every other priority comes back with nothing painted since, and a 0 ms timer after it
too), and stops at the end of the last paint. The pad, the preprocessing strip, the
answer, the probability bars, the layer cards and the feature maps all count, whether they
paint in the same pass as the feature maps or in one a layout pass causes after it. This is
what a user feels. The layout passes (LayoutRequest events on widgets with a layout) per pen
step are printed too.

--views: each view's share of the paint time (ms per pen step), timed around every paint
event (the timing itself adds a little).

--compare DIR: the same measurement of another checkout of cnnviz (e.g. a git worktree of
an older commit), run in turn with this one in child processes (--rounds times each,
alternating, on the same CPU), then both side by side with the load average of each run
and the best run of each (lowest total p95).

--explorer-only: the CNN explorer alone (1100x800); a disc stamped along an '8' on a
280x280 canvas goes to AppState.set_image after each step, as the pad does.

--rate 0 (default): the next step starts when the previous one is on screen (latency).
--rate N: steps arrive N times per second whether or not the GUI keeps up (a fast pen).
The newest request must win and nothing may queue up: the run reports the analyses
requested, how many were sent while an earlier one was unanswered (work thrown away), the
latency of the frames shown and the lag from the last pen step to its result on screen.

The same run first times the bare cnnviz.core.reading.inference.analyze() (preprocessing + every
layer) on a drawing, and every figure is also printed as a ratio to it, so runs on
different machines compare. --window is accepted for older command lines (it is the
default now).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from cnnviz.app_state import AppState, InputImage  # noqa: E402
from cnnviz.core.networks.weights import SHIPPED, load_shipped, load_weights  # noqa: E402
from cnnviz.core.pictures.preprocess import preprocess_for  # noqa: E402
from cnnviz.core.reading.inference import analyze  # noqa: E402


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


FENCE = QEvent.Type(QEvent.registerEventType())  # posted below every other priority
FENCE_PRIORITY = int(Qt.EventPriority.LowEventPriority.value) - 10  # repaints are Low


class Clock(QObject):
    """Follows each pen step to the screen. A step's image is sent to the analysis worker
    (runner.submit, wrapped here) now or later (the controller paces while the pen moves);
    its result is on screen when, after the views took it, every view has painted: the
    window is quiet (see the module docstring) and the feature-map grid has painted."""

    def __init__(self, state, controller, grid) -> None:
        super().__init__()
        self.controller = controller
        self.runner = runner = controller.runner
        self.grid = grid
        self.step_t0 = 0.0  # when the newest pen step started
        self.step_image_t = 0.0  # when that step reached state.input_image
        # generation -> (its pen step's t0, when it reached set_image, when it was sent)
        self.sent: dict[int, tuple[float, float, float]] = {}
        self.requests = 0
        self.superseding = 0  # requests sent while an earlier one was still unanswered
        self.frames: list[dict] = []
        self.pending: dict = {}
        self.on_frame = None  # called after each frame is recorded
        self.last_step = 0.0
        self.paints = 0  # paint events in the window (all of them, since the start)
        self.layouts = 0  # LayoutRequest events on widgets with a layout
        self.grid_paints = 0
        self.unpainted_grid = 0  # frames whose feature maps did not paint (a view's bug)
        self._seen = 0  # self.paints + self.layouts when the last fence was posted
        self._timer_checked = False
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
        state.events.input_image.connect(self._on_image, priority=1000)  # before the controller
        state.analysis_ready.connect(self._views_start, priority=1000)
        state.analysis_ready.connect(self._views_end, priority=-1000)
        app = QCoreApplication.instance()
        assert app is not None
        app.installEventFilter(self)

    def start_step(self) -> None:
        self.step_t0 = time.perf_counter()

    def _on_image(self, _picture: InputImage) -> None:
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
        if self.pending and "views_end" not in self.pending:
            now = time.perf_counter()
            self.pending.update(views_end=now, painted_end=now, grid_paints=self.grid_paints)
            self._post_fence()

    # -- waiting until every view has painted ---------------------------------------------

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind == QEvent.Type.Paint:
            self.paints += 1
            if watched is self.grid or (isinstance(watched, QWidget)
                                        and watched.parentWidget() is self.grid):
                self.grid_paints += 1  # (the grid, or its viewport)
        elif kind == QEvent.Type.LayoutRequest and isinstance(watched, QWidget) \
                and watched.layout() is not None:  # (without a layout Qt drops the request)
            self.layouts += 1
        return False

    def _post_fence(self) -> None:
        self._seen = self.paints + self.layouts
        self._timer_checked = False
        QCoreApplication.postEvent(self, QEvent(FENCE), FENCE_PRIORITY)

    def event(self, event) -> bool:  # noqa: D102 (Qt override)
        if event.type() == FENCE:
            self._on_fence()
            return True
        return super().event(event)

    def _quiet(self) -> bool:
        """True when nothing painted or asked for a layout since the last fence was posted;
        else the end of that activity is noted and another fence goes out."""
        if self.paints + self.layouts == self._seen:
            return True
        self.pending["painted_end"] = time.perf_counter()  # (the fence follows the pass)
        self._post_fence()
        return False

    def _on_fence(self) -> None:
        if "views_end" not in self.pending or not self._quiet():
            return
        if not self._timer_checked:  # a repaint asked for by a 0 ms timer is awaited too
            self._timer_checked = True
            QTimer.singleShot(0, self._after_timer)
            return
        self._finish()

    def _after_timer(self) -> None:
        if "views_end" in self.pending and self._quiet():
            self._finish()

    def _finish(self) -> None:
        p, self.pending = self.pending, {}
        if not p:
            return
        if self.grid_paints == p["grid_paints"]:
            self.unpainted_grid += 1
        end = p["painted_end"]
        self.frames.append(dict(
            total=end - p["t0"], pen=p["image"] - p["t0"], held=p["submitted"] - p["image"],
            model=p["model"], handover=p["views_start"] - p["submitted"] - p["model"],
            views=p["views_end"] - p["views_start"], paint=end - p["views_end"], end=end))
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
    clock.requests = clock.superseding = clock.unpainted_grid = 0
    clock.layouts = 0
    if isinstance(app, TimedApp):
        app.timing = True
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
    from PySide6.QtCore import QPoint, QSettings
    from PySide6.QtTest import QTest

    from cnnviz.ui.window.main_window import MainWindow

    app = make_app(args)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # never the user's settings
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app.setOrganizationName("cnnviz-bench")
    window = MainWindow(AppState())
    window.state.model = _model(args.model)
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
    """The CNN explorer alone, fed by state.input_image as the pad would."""
    from cnnviz.ui.cnn.explorer import CnnExplorer
    from cnnviz.ui.controllers import AnalysisController

    app = make_app(args)
    state = AppState()
    controller = AnalysisController(state)
    state.model = _model(args.model)
    explorer = CnnExplorer(state, controller)
    explorer.resize(1100, 800)
    explorer.show()
    show_layer(state, explorer, args)
    canvas = np.zeros((280, 280), np.float32)
    pts = pen_path(args.strokes + WARM_UP)

    def step(i):
        stamp(canvas, *pts[i])
        state.input_image = InputImage(canvas.copy(), "benchmark")

    def finish():
        explorer.shutdown()
        controller.shutdown()

    return app, state, controller, explorer, step, finish


class TimedApp(QApplication):
    """--views: a QApplication that times every paint event, by the view it belongs to."""

    def __init__(self, argv: list[str]) -> None:
        super().__init__(argv)
        self.timing = False
        self.views: dict[int, str] = {}  # id(widget) -> the view's name
        self.seconds: dict[str, float] = {}
        self.count: dict[str, int] = {}

    def notify(self, receiver, event) -> bool:  # noqa: D102 (Qt override)
        if not self.timing or event.type() != QEvent.Type.Paint:
            return super().notify(receiver, event)
        t0 = time.perf_counter()
        done = super().notify(receiver, event)
        name = self.view_of(receiver)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
        self.count[name] = self.count.get(name, 0) + 1
        return done

    def view_of(self, widget) -> str:
        w = widget
        while w is not None:
            name = self.views.get(id(w))
            if name is not None:
                return name
            w = w.parentWidget() if isinstance(w, QWidget) else None
        return "the rest of the window"


def make_app(args) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = TimedApp(sys.argv[:1]) if args.views else QApplication(sys.argv[:1])
    return app  # type: ignore[return-value]


def name_views(app, explorer) -> None:
    """The views --views reports, by name (the innermost named one owns a widget)."""
    if not isinstance(app, TimedApp):
        return
    window = explorer.window()
    named = [("CNN explorer, the rest", explorer),
             ("answer and probability bars", getattr(explorer, "answer", None)),
             ("layer cards", explorer.strip), ("feature maps", explorer.grid),
             ("map detail", explorer.detail),
             ("layer page (info, options)", getattr(explorer, "page", None))]
    panel = getattr(window, "input_panel", None)
    if panel is not None:
        named += [("input panel, the rest", panel), ("pad", panel.pad),
                  ("preprocessing strip", panel.preprocessing), ("answer under the pad",
                                                                 panel.answer)]
    if window is not explorer:
        named += [("status bar", window.statusBar())]
    app.views = {id(w): name for name, w in named if w is not None}


def show_layer(state, explorer, args) -> None:
    infos = state.model.model.layer_infos
    layer = args.layer or max((i for i in infos if len(i.output_shape) == 3),
                              key=lambda i: int(np.prod(i.output_shape))).name
    state.layer = layer
    explorer.show_block.setChecked(args.block)
    args.shown_layer = layer


def report(args, clock: Clock, wall: float, bare: dict, state) -> None:
    base = pct(bare["analyze"], 50)
    c, h, w = state.analysis.layer(args.shown_layer).shape
    where = "CNN explorer alone, 1100x800" if args.explorer_only else "whole window, 1366x768"
    app = QApplication.instance()
    platform = app.platformName() if isinstance(app, QApplication) else "?"
    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores), load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    import cnnviz

    print(f"cnnviz from {Path(cnnviz.__file__).resolve().parents[1]}")
    print(f"{where} (Qt platform {platform}), model {args.model}, {args.shown_layer} shown "
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
            ("pen", "pen move -> state.input_image", None),
            ("held", "held by the controller (pacing)", None),
            ("model", "analysis on the worker", None),
            ("handover", "hand-over to the GUI thread", None),
            ("views", "views take the result", None),
            ("paint", "paint", TARGET_PAINT_MS)):
        values = ms.get(key, [])
        goal = f"  target <= {target:g}" if target else ""
        print(f"  {what:34s} {pct(values, 50):6.1f} / {pct(values, 95):6.1f}  "
              f"({pct(values, 50) / base:4.1f}x){goal}")
    steps = max(1, len(frames))
    print(f"layout passes (LayoutRequest events on the window's widgets with a layout): "
          f"{clock.layouts / steps:.2f} per pen step ({clock.layouts} in {len(frames)} steps)")
    if clock.unpainted_grid:
        print(f"frames whose feature maps did not paint: {clock.unpainted_grid}")
    if args.rate > 0 and frames:
        lag = (frames[-1]["end"] - clock.last_step) * 1e3
        print(f"last pen step -> its result on screen: {lag:.1f} ms")
    if isinstance(app, TimedApp) and frames:
        print("paint time by view, ms per pen step (paint events per pen step):")
        for name, seconds in sorted(app.seconds.items(), key=lambda kv: -kv[1]):
            print(f"  {name:34s} {seconds / steps * 1e3:6.2f}  ({app.count[name] / steps:5.1f})")
        print(f"  {'all of them':34s} {sum(app.seconds.values()) / steps * 1e3:6.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(
            cpu=cpu_model(), load=os.getloadavg(), platform=platform,
            total_p50=pct(total, 50), total_p95=pct(total, 95),
            paint_p50=pct(ms.get("paint", []), 50), paint_p95=pct(ms.get("paint", []), 95),
            model_p50=pct(ms.get("model", []), 50), layouts_per_step=clock.layouts / steps,
            frames=len(frames), analyze_p50=base)))


def compare(args, argv: list[str]) -> None:
    """Run this checkout and args.compare in turn (child processes), then print both."""
    here = Path(__file__).resolve().parents[1]
    other = Path(args.compare).resolve()
    child, skip = [], False
    for a in argv:  # the same options, less those of the comparison itself
        if skip:
            skip = False
        elif a in ("--compare", "--rounds", "--json"):
            skip = True
        elif not a.startswith(("--compare=", "--rounds=", "--json=")):
            child.append(a)
    runs: dict[str, list[dict]] = {"this": [], "other": []}
    for i in range(args.rounds):
        for which, root in (("other", other), ("this", here)) if i % 2 else \
                (("this", here), ("other", other)):
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "figures.json"
                env = dict(os.environ, PYTHONPATH=str(root))
                print(f"\n=== round {i + 1}: {which} ({root}) ===", flush=True)
                # each checkout's own copy of this benchmark: it speaks that checkout's API
                script = root / "benchmarks" / Path(__file__).name
                subprocess.run([sys.executable, str(script if script.is_file() else __file__),
                                *child, "--json", str(out)], cwd=root, env=env, check=True)
                runs[which].append(json.loads(out.read_text()))
    print(f"\nCPU: {cpu_model()} ({os.cpu_count()} cores); this = {here}, other = {other}")
    print("run     load (1 min)  total p50 / p95 ms   paint p50 / p95 ms   layouts/step")
    for which in ("other", "this"):
        for r in runs[which]:
            print(f"{which:7s} {r['load'][0]:6.2f}        {r['total_p50']:6.1f} / {r['total_p95']:6.1f}"
                  f"      {r['paint_p50']:6.1f} / {r['paint_p95']:6.1f}       "
                  f"{r['layouts_per_step']:.2f}")
    best = {k: min(v, key=lambda r: r["total_p95"]) for k, v in runs.items()}
    o, t = best["other"], best["this"]
    print("best run of each (lowest total p95):")
    for key in ("total_p50", "total_p95", "paint_p50", "paint_p95"):
        print(f"  {key:10s} other {o[key]:6.1f} ms  this {t[key]:6.1f} ms  "
              f"({o[key] / t[key]:.1f}x lower)" if t[key] else "")
    print(f"  load average (1 min) during them: other {o['load'][0]:.2f}, this {t['load'][0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=300)
    ap.add_argument("--model", default="cnnviz", help="a shipped model, or a model file")
    ap.add_argument("--layer", default=None, help="layer to show (default: most pixels)")
    ap.add_argument("--block", action="store_true", help="show the whole conv block")
    ap.add_argument("--rate", type=float, default=0.0, help="pen steps per second (0: wait)")
    ap.add_argument("--explorer-only", action="store_true", help="the CNN explorer alone")
    ap.add_argument("--window", action="store_true", help="(the default) the whole window")
    ap.add_argument("--views", action="store_true", help="each view's share of the paint time")
    ap.add_argument("--compare", metavar="DIR", help="another checkout, measured in turn")
    ap.add_argument("--rounds", type=int, default=3, help="--compare: runs of each")
    ap.add_argument("--json", metavar="FILE", help="also write the main figures here")
    args = ap.parse_args()
    if args.compare:
        compare(args, sys.argv[1:])
        return
    bare = bare_figures(_model(args.model))
    setup = explorer_setup if args.explorer_only else window_setup
    app, state, controller, explorer, step, finish = setup(args)
    name_views(app, explorer)
    clock = Clock(state, controller, explorer.grid)
    wall = run_steps(app, clock, step, args.strokes, args.rate)
    report(args, clock, wall, bare, state)
    finish()


if __name__ == "__main__":
    main()

"""Pen-stroke latency of the CNN explorer. Prints figures; asserts nothing.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_stroke_latency.py [--strokes 300]
        [--layer conv2] [--model cnnviz] [--block] [--rate 0]

A digit is "drawn" on a 280x280 canvas one pen step at a time (a disc stamped along a
path shaped like an 8), and after each step the canvas goes to AppState.set_image, as the
drawing pad does. The explorer shows a big layer (by default the one with the most pixels)
in a window shown offscreen. For each step we measure the time from set_image to the
moment the explorer's feature-map view has been painted for that step, which includes
the worker's preprocessing + inference, the queued delivery to the GUI thread, the
explorer's update and the paint.

--window: the whole main window instead (1366x768, a laptop screen): real mouse events
on the drawing pad, and the clock stops when the feature-map grid has painted the result
of that pen step, in the same pass that repaints the pad, the preprocessing strip, the
answer and the probability bars. This is what a user feels.

--rate 0 (default): the next step starts when the previous one is on screen (latency).
--rate N: steps arrive N times per second whether or not the GUI kept up (a fast pen;
the newest request wins, older ones are dropped): reports how many were shown and the
latency of those.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cnnviz.app_state import AppState  # noqa: E402
from cnnviz.core.weights import load_shipped  # noqa: E402
from cnnviz.ui.cnn.explorer import CnnExplorer  # noqa: E402
from cnnviz.ui.controllers import AnalysisController  # noqa: E402


def pen_path(steps: int) -> np.ndarray:
    """Points along an '8' that fills most of a 280x280 pad, repeated as needed."""
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


def pct(values, q):
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=300)
    ap.add_argument("--model", default="cnnviz")
    ap.add_argument("--layer", default=None, help="layer to show (default: most pixels)")
    ap.add_argument("--block", action="store_true", help="show the whole conv block")
    ap.add_argument("--per-map", action="store_true", help="per-map colour scale")
    ap.add_argument("--rate", type=float, default=0.0, help="pen steps per second (0: wait)")
    ap.add_argument("--window", action="store_true", help="the whole window, real mouse events")
    args = ap.parse_args()
    if args.window:
        run_window(args)
        return

    app = QApplication.instance() or QApplication(sys.argv[:1])
    state = AppState()
    controller = AnalysisController(state)
    state.set_model(load_shipped(args.model))
    explorer = CnnExplorer(state, controller)
    explorer.resize(1100, 800)
    explorer.show()
    infos = state.model.model.layer_infos
    layer = args.layer or max((i for i in infos if len(i.output_shape) == 3),
                              key=lambda i: int(np.prod(i.output_shape))).name
    state.set_layer(layer)
    explorer.show_block.setChecked(args.block)
    explorer.shared_scale.setChecked(not args.per_map)

    canvas = np.zeros((280, 280), np.float32)
    pts = pen_path(args.strokes + 20)
    grid = explorer.grid
    submitted: dict[int, float] = {}
    shown: list[dict] = []
    pending: dict = {}

    def on_finished(generation, analysis):  # runs right after the explorer's redraw
        pending.clear()
        pending.update(gen=generation, model=analysis.seconds,
                       start=explorer.last_update_started, end=explorer.last_update_finished)

    def on_painted():
        if pending.get("gen") in submitted and "painted" not in pending:
            pending["painted"] = time.perf_counter()
            # the rest of the window paints in the same pass; a 0 ms timer runs after it
            QTimer.singleShot(0, finish_frame)

    def finish_frame():
        if not pending or "painted" not in pending:
            return
        now = time.perf_counter()
        t0 = submitted.pop(pending["gen"])
        shown.append(dict(total=now - t0, model=pending["model"],
                          deliver=pending["start"] - t0 - pending["model"],
                          update=pending["end"] - pending["start"],
                          paint=now - pending["end"]))
        pending.clear()
        loop.quit()

    controller.runner.finished.connect(on_finished)  # connected after the controller's slot
    grid.painted.connect(on_painted)
    loop = QEventLoop()

    def step(i):
        y, x = pts[i]
        stamp(canvas, y, x)
        t0 = time.perf_counter()
        state.set_image(canvas.copy(), "benchmark")
        submitted[controller.runner.generation] = t0

    guard = QTimer()  # never wait forever for a frame
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)

    def wait_for_frame():
        guard.start(5000)
        loop.exec()
        guard.stop()

    # warm up: first inference, first paint, layout
    for i in range(20):
        step(i)
        wait_for_frame()
    shown.clear()
    submitted.clear()

    t_start = time.perf_counter()
    if args.rate <= 0:
        for i in range(20, 20 + args.strokes):
            step(i)
            wait_for_frame()
    else:
        period = 1.0 / args.rate
        i = 20
        timer = QTimer()
        timer.setInterval(max(1, int(round(period * 1000))))

        def tick():
            nonlocal i
            if i >= 20 + args.strokes:
                timer.stop()
                QTimer.singleShot(500, app.quit)
                return
            step(i)
            i += 1

        timer.timeout.connect(tick)
        loop.quit = lambda: None  # frames do not stop the run in rate mode
        timer.start()
        app.exec()
    wall = time.perf_counter() - t_start

    c, h, w = state.analysis.layer(layer).shape
    shown_ms = {k: [f[k] * 1e3 for f in shown] for k in ("total", "model", "deliver", "update",
                                                          "paint")}
    print(f"model {args.model}, layer {layer} ({c}x{h}x{w}{', whole block' if args.block else ''}"
          f"{', per-map scale' if args.per_map else ''}), window 1100x800 offscreen, "
          f"{os.cpu_count()} CPU cores")
    mode = "wait for each frame" if args.rate <= 0 else f"pen at {args.rate:g} steps/s"
    print(f"{args.strokes} pen steps ({mode}): {len(shown)} frames shown in {wall:.1f} s")
    print("latency set_image -> painted (ms): p50 {:.1f}  p95 {:.1f}  max {:.1f}".format(
        pct(shown_ms["total"], 50), pct(shown_ms["total"], 95), max(shown_ms["total"] or [0])))
    print("split, p50 / p95 (ms):")
    for key, what in (("model", "preprocessing + model (worker)"),
                      ("deliver", "queue + hand-over to GUI thread"),
                      ("update", "explorer update (setImage etc.)"),
                      ("paint", "paint")):
        print(f"  {what:34s} {pct(shown_ms[key], 50):6.1f} / {pct(shown_ms[key], 95):6.1f}")
    explorer.shutdown()
    controller.shutdown()


def run_window(args) -> None:
    """Mouse events on the pad of a real MainWindow -> every visible plot repainted."""
    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtTest import QTest

    from cnnviz.ui.window.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)  # never the user's settings
    import tempfile
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app.setOrganizationName("cnnviz-bench")
    window = MainWindow(AppState())
    window.state.set_model(load_shipped(args.model))
    window.load_defaults()
    window.resize(1366, 768)
    window.show()
    state, controller = window.state, window.controller
    explorer = window.cnn_explorer
    infos = state.model.model.layer_infos
    layer = args.layer or max((i for i in infos if len(i.output_shape) == 3),
                              key=lambda i: int(np.prod(i.output_shape))).name
    state.set_layer(layer)
    explorer.show_block.setChecked(args.block)
    pad = window.input_panel.pad
    window.input_panel.clear()

    sq = pad._square()
    pts = pen_path(args.strokes + 21)
    widget_pts = [QPoint(int(sq.x() + x / 280 * sq.width()), int(sq.y() + y / 280 * sq.height()))
                  for y, x in pts]
    frame: dict = {}
    shown: list[float] = []
    loop = QEventLoop()

    def on_image(_image, _source):
        if "t0" in frame and "gen" not in frame:
            frame["gen"] = controller.runner.generation

    def on_finished(generation, _analysis):
        if frame.get("gen") == generation:
            frame["delivered"] = True

    def on_painted():
        if frame.get("delivered") and "done" not in frame:
            frame["done"] = True
            QTimer.singleShot(0, finish)  # the rest of the window paints in the same pass

    def finish():
        shown.append(time.perf_counter() - frame["t0"])
        loop.quit()

    state.image_changed.connect(on_image)
    controller.runner.finished.connect(on_finished)
    explorer.grid.painted.connect(on_painted)
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)

    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_pts[0])
    t_start = 0.0
    for i, p in enumerate(widget_pts[1:], 1):
        if i == 21:  # after 20 warm-up steps
            shown.clear()
            t_start = time.perf_counter()
        frame.clear()
        frame["t0"] = time.perf_counter()
        QTest.mouseMove(pad, p)
        guard.start(5000)
        loop.exec()
        guard.stop()
    wall = time.perf_counter() - t_start
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, widget_pts[-1])
    ms = [1e3 * t for t in shown]
    c, h, w = state.analysis.layer(layer).shape
    print(f"whole window 1366x768 offscreen, model {args.model}, CNN explorer on {layer} "
          f"({c}x{h}x{w}{', whole block' if args.block else ''}), {os.cpu_count()} CPU cores")
    print(f"{args.strokes} mouse moves on the pad: {len(shown)} frames in {wall:.1f} s")
    print("latency mouse move -> pad, strip, answer, bars and feature maps painted (ms): "
          f"p50 {pct(ms, 50):.1f}  p95 {pct(ms, 95):.1f}  max {max(ms or [0]):.1f}")
    window.close()


if __name__ == "__main__":
    main()

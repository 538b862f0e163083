"""Start-up time and memory while drawing.

1. Time to first window: `run_app()` in a fresh subprocess (offscreen Qt, or a real X
   server with QT_QPA_PLATFORM=xcb), timed from the moment the process is spawned until the
   window is shown, until its pad takes strokes (target 1.0 s), and until the first prediction
   is on screen; with the longest event-loop stall while torch loads (what a pen stroke would
   wait), and each figure's ratio to the bare analyze() time of the same run. Repeated a few times (the first run pays for cold disk caches).
2. Memory: resident set size (RSS) of a window after 100 and after 10,000 simulated pen
   strokes on the drawing pad (mouse events -> pad.changed -> state.input_image -> analysis on
   the worker -> explorers redraw), processing events after each stroke. Flat numbers mean
   nothing grows per stroke (the undo history is bounded, stale results are dropped).

Prints figures; asserts nothing about time.

    python benchmarks/bench_startup.py [--runs 3] [--strokes 10000] [--input-only]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv)
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[1])
marks = {"qt_ready": time.time()}

last_tick = [None]
gaps = []  # event-loop stalls while the network loads: how long a pen stroke would wait

def probe():
    now = time.time()
    windows = [w for w in app.topLevelWidgets() if w.objectName() == "cnnviz_main_window"]
    if windows and windows[0].isVisible():
        w = windows[0]
        marks.setdefault("shown", now)
        if w.input_panel.pad.isVisible() and w.input_panel.pad.width() > 50:
            marks.setdefault("pad_ready", now)
        if last_tick[0] is not None:
            gaps.append(now - last_tick[0])
        last_tick[0] = now
        if w.state.analysis is not None and w.input_panel.prediction_label.text() not in ("", "–"):
            marks["first_prediction"] = now
            gaps.sort()
            marks["stall_max"] = gaps[-1] if gaps else 0.0
            marks["stall_p95"] = gaps[int(0.95 * (len(gaps) - 1))] if gaps else 0.0
            print(json.dumps(marks), flush=True)
            w.close()
            return
    QTimer.singleShot(5, probe)

QTimer.singleShot(0, probe)
from cnnviz.ui.window.app import run_app
sys.exit(run_app())
"""


def rss_mib() -> float:
    """Current resident set size in MiB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2**20 if sys.platform == "darwin" else 2**10)


def bare_analyze_ms(repeats: int = 50) -> float:
    """Median time of cnnviz.core.reading.inference.analyze on the default digit, on a worker thread
    as the app runs it (the reference every figure is divided by, so machines compare)."""
    import statistics
    import threading

    from cnnviz.core.networks.weights import load_shipped
    from cnnviz.core.pictures.samples import default_sample
    from cnnviz.core.reading.inference import analyze

    model = load_shipped("cnnviz").model
    digit = default_sample()[0].astype("float32")
    times = []

    def work():
        for _ in range(5):
            analyze(model, digit)
        for _ in range(repeats):
            t = time.perf_counter()
            analyze(model, digit)
            times.append(time.perf_counter() - t)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return 1000 * statistics.median(times)


def time_startup(runs: int) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
               PYTHONPATH=str(ROOT))
    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores); load average {os.getloadavg()[0]:.1f}")
    print(f"Time from the command's start (run_app in a new process, {env['QT_QPA_PLATFORM']}), "
          f"{runs} runs; target: window with a pad that takes strokes <= 1.0 s")
    rows = []
    for i in range(runs):
        with tempfile.TemporaryDirectory() as settings_dir:
            t0 = time.time()
            proc = subprocess.run([sys.executable, "-c", CHILD, settings_dir], env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=300)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            print(f"  run {i + 1}: failed (exit {proc.returncode})\n{proc.stderr[-2000:]}")
            return
        m = json.loads(lines[-1])
        rows.append((m["shown"] - t0, m["pad_ready"] - t0, m["first_prediction"] - t0,
                     m["stall_max"], m["stall_p95"]))
        print(f"  run {i + 1}: Qt ready {m['qt_ready'] - t0:5.2f} s, window shown {rows[-1][0]:5.2f} s, "
              f"pad ready {rows[-1][1]:5.2f} s, first prediction {rows[-1][2]:5.2f} s; while loading "
              f"the longest event-loop stall {1000 * m['stall_max']:.0f} ms (p95 "
              f"{1000 * m['stall_p95']:.0f} ms)")
    med = [sorted(col)[len(col) // 2] for col in zip(*rows)]
    ref = bare_analyze_ms()
    print(f"  median: window shown {med[0]:.2f} s, pad ready {med[1]:.2f} s (target 1.0 s), first "
          f"prediction {med[2]:.2f} s; longest stall while loading {1000 * med[3]:.0f} ms")
    print(f"  bare analyze() in this run: {ref:.1f} ms; ratios: pad ready {1000 * med[1] / ref:.0f}x, "
          f"first prediction {1000 * med[2] / ref:.0f}x")


def memory_while_drawing(total: int, input_only: bool) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    settings_dir = tempfile.mkdtemp(prefix="cnnviz-bench-")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
    app.setOrganizationName("cnnviz-bench")

    from cnnviz.app_state import AppState
    from cnnviz.core.networks.weights import load_shipped

    state = AppState()
    if input_only:
        from cnnviz.ui.controllers import AnalysisController
        from cnnviz.ui.input.panel import InputPanel

        controller = AnalysisController(state)
        widget = InputPanel(state, controller)
        state.model = load_shipped("cnnviz")
        what = "input panel + analysis worker"
    else:
        from cnnviz.ui.window.main_window import MainWindow

        widget = MainWindow(state)
        widget.load_defaults()
        controller = widget.controller
        what = "whole main window (both explorers)"
    widget.resize(1366, 768)
    widget.show()
    pad = widget.pad if input_only else widget.input_panel.pad
    analyses = []
    state.analysis_ready.connect(lambda a: analyses.append(1))
    side = min(pad.width(), pad.height())
    x0, y0 = (pad.width() - side) // 2, (pad.height() - side) // 2

    def one_stroke(k: int) -> None:
        if k % 20 == 0:
            pad.clear()
        fx = 0.2 + 0.6 * ((k * 7) % 10) / 10
        pts = [QPoint(int(x0 + side * (fx + 0.05 * (j % 3))), int(y0 + side * (0.15 + 0.09 * j)))
               for j in range(8)]
        QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
        for p in pts[1:]:
            QTest.mouseMove(pad, p)
            app.processEvents()
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
        app.processEvents()

    def settle() -> float:
        controller.join(30)
        for _ in range(5):
            app.processEvents()
        gc.collect()
        return rss_mib()

    print(f"\nMemory while drawing ({what}, offscreen 1366x768):")
    base = settle()
    print(f"  after start-up:        RSS {base:7.1f} MiB")
    t0 = time.perf_counter()
    done = 0
    checkpoints = sorted({100, 1000, total} & set(range(1, total + 1)))
    for mark in checkpoints:
        while done < mark:
            one_stroke(done)
            done += 1
        rss = settle()
        rate = done / (time.perf_counter() - t0)
        print(f"  after {done:6,d} strokes: RSS {rss:7.1f} MiB  ({rate:5.0f} strokes/s, "
              f"{len(analyses):,} analyses shown, undo depth {pad.undo_depth()})")
    widget.close()
    if input_only:
        controller.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="start-up runs (default 3)")
    parser.add_argument("--strokes", type=int, default=10_000, help="strokes to draw (default 10000)")
    parser.add_argument("--input-only", action="store_true",
                        help="draw on the input panel alone (no explorers): the pad's own pipeline")
    parser.add_argument("--skip-startup", action="store_true")
    args = parser.parse_args()
    if not args.skip_startup:
        time_startup(args.runs)
    memory_while_drawing(args.strokes, args.input_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())

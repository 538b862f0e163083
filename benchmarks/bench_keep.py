"""Keep in my models and Save as, in the training lab: how soon the lab shows it is working
and how long until the file is written. Prints figures; asserts nothing.

    CNNVIZ_DATA_DIR=../shared/data python benchmarks/bench_keep.py [--epochs 1]

A real lab run of the fast preset (the lab's own training job, in its child process), then
Keep and Save as, each timed from the click: to the progress bar painted, and to the lab
saying the file is written. The run starts with an empty cache folder, as on a new machine:
the pictures the unsure verdict is calibrated on are made while the run trains (on a thread
of low priority), so the first Keep is what a new user feels; a second Keep and Save as
follow, as every later one. Targets: progress shown within 0.2 s, done within 3 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from machine import cpu_model  # noqa: E402  (benchmarks/machine.py)
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

TARGET_SHOWN_S = 0.2
TARGET_DONE_S = 3.0


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    while not condition():
        if time.monotonic() > deadline:
            return False
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return True


def timed_save(lab, click) -> tuple[float, float, str]:
    """(seconds to the progress bar painted, seconds to saved or failed, the message)."""
    ended: list[str] = []
    c = lab.files
    on_saved = lambda tag, path: ended.append(f"saved {Path(path).name}")  # noqa: E731
    on_failed = lambda text: ended.append(f"FAILED: {text}")  # noqa: E731
    c.saved.connect(on_saved)
    c.save_failed.connect(on_failed)
    t0 = time.perf_counter()
    click()
    lab.save_bar.repaint()  # painted now, as the event loop would at its next pass
    shown = time.perf_counter() - t0 if lab.save_bar.isVisible() else float("nan")
    wait_until(lambda: bool(ended), 300)
    done = time.perf_counter() - t0
    c.saved.disconnect(on_saved)
    c.save_failed.disconnect(on_failed)
    return shown, done, ended[0] if ended else "no answer in 300 s"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cnnviz-bench-keep-"))
    os.environ["CNNVIZ_CACHE_DIR"] = str(folder / "cache")  # nothing made yet
    os.environ["CNNVIZ_MODELS_DIR"] = str(folder / "models")
    app = QApplication.instance() or QApplication(sys.argv)

    from cnnviz.app_state import AppState
    from cnnviz.core.networks import catalogue
    from cnnviz.core.training.job import RunPhase
    from cnnviz.ui.lab.explorer import TrainingLab

    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; load average "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    state = AppState()
    state.catalogue = catalogue.shipped_entries()
    lab = TrainingLab(state)
    lab.resize(1366, 768)
    lab.show()
    lab.editor.choose_preset("fast")
    lab.settings.epochs.setValue(args.epochs)
    t0 = time.perf_counter()
    if not lab.start():
        print(f"the run did not start: {lab.message.text()}")
        return 1
    if not wait_until(lambda: lab.run.phase.done or lab.run.phase is RunPhase.FAILED, 600):
        print("the run did not finish in 10 minutes")
        return 1
    print(f"lab run of the fast preset, {args.epochs} epoch(s): {time.perf_counter() - t0:.1f} s "
          f"({lab.run.phase.value}); the pictures made ahead "
          f"{'were' if not lab.files.tasks.busy() else 'were not yet all'} ready")
    rows = []
    lab.name_edit.setText("bench keep")
    rows.append(("Keep (first, just after the run)", *timed_save(lab, lab.keep_button.click)))
    lab.name_edit.setText("bench keep again")
    rows.append(("Keep (again)", *timed_save(lab, lab.keep_button.click)))
    out = folder / "saved.safetensors"
    rows.append(("Save as", *timed_save(lab, lambda: lab.save_as(str(out)))))
    for what, shown, done, said in rows:
        print(f"  {what}: progress shown after {shown * 1000:.0f} ms (target "
              f"{TARGET_SHOWN_S * 1000:.0f} ms), done after {done:.2f} s (target "
              f"{TARGET_DONE_S:.0f} s): {said}")
    met = all(shown <= TARGET_SHOWN_S and done <= TARGET_DONE_S for _, shown, done, _ in rows)
    print(f"targets {'MET' if met else 'NOT MET'}; load average after "
          f"{' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    lab.shutdown()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())

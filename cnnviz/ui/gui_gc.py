"""Python's cyclic garbage collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when a generation fills up. When
that is a worker thread and the garbage holds a Qt object, its C++ destructor runs there: it
takes Qt's signal-slot lock and then waits for the interpreter lock, while the GUI thread
holds the interpreter lock and waits for the signal-slot lock (a deadlock found in the test
suite: the window froze for good in QLabel::setText). So automatic collection is switched
off and the GUI thread collects on a timer, as pyqtgraph's GarbageCollector does (same
thresholds as the automatic collector).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """While it runs, cyclic garbage is collected only on the thread that made it (the GUI
    thread). stop() gives automatic collection back, collecting once first."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.was_enabled = gc.isenabled()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations that are over their thresholds, youngest first."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.threshold[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        self.timer.stop()
        gc.collect()
        if self.was_enabled:
            gc.enable()

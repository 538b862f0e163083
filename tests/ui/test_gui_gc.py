"""Cyclic garbage made on a worker thread dies on the GUI thread (cnnviz.ui.gui_gc): a Qt
object's destructor run on a worker thread can deadlock with the GUI thread."""

from __future__ import annotations

import gc
import threading

from cnnviz.ui.gui_gc import GuiThreadCollector


class _Cycle:
    """An object in a reference cycle that records the thread it is destroyed on."""

    def __init__(self, died_on: list):
        self.me = self
        self.died_on = died_on

    def __del__(self):
        self.died_on.append(threading.current_thread().name)


def _make_garbage_on_a_worker(died_on: list) -> None:
    def work():
        _Cycle(died_on)  # garbage at once: only the cyclic collector can free it
        for _ in range(20):  # allocations that would start an automatic collection here
            junk = [[] for _ in range(1000)]
            for a in junk:
                a.append(a)
            del junk

    t = threading.Thread(target=work, name="worker")
    t.start()
    t.join()


def test_garbage_from_a_worker_is_collected_on_the_gui_thread(qtbot):
    # The conftest fixture already runs one collector for a Qt test; this test's own shows
    # what it does. (With automatic collection, the worker's allocations collect there.)
    died_on: list = []
    collector = GuiThreadCollector(interval_ms=50)
    try:
        assert not gc.isenabled()
        _make_garbage_on_a_worker(died_on)
        assert died_on == []  # not collected on the worker
        qtbot.waitUntil(lambda: died_on != [], timeout=10000)
        assert died_on == [threading.main_thread().name]
    finally:
        collector.stop()


def test_without_it_the_worker_collects():
    # The reference behaviour the collector exists to prevent (so the test above can fail).
    died_on: list = []
    was = gc.isenabled()
    gc.enable()
    try:
        _make_garbage_on_a_worker(died_on)
    finally:
        if not was:
            gc.disable()
    assert died_on == ["worker"]

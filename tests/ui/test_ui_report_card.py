"""The report card window: computed off the GUI thread with progress, stopped by its Stop
button, two models side by side with the better marked, and a click on a test picture one
reads right and the other wrong makes it the app's input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cnnviz.app_state import AppState
from cnnviz.core.networks.weights import load_shipped

KERAS = Path(__file__).resolve().parents[1] / "data" / "keras"
SMALL = {"test_limit": 300, "kind_count": 6, "invariance_count": 40, "outlier_count": 60}


@pytest.fixture
def report(qtbot, mnist_test):
    from cnnviz.ui.report import ReportCardWindow

    state = AppState()
    state.model = load_shipped("lecture-keras")
    w = ReportCardWindow(state)
    w.controller.options = dict(SMALL)
    qtbot.addWidget(w)
    yield w
    w.shutdown()


def _wait(qtbot, w, timeout=60_000):
    qtbot.waitUntil(lambda: not w.stop_button.isEnabled(), timeout=timeout)


def test_a_students_model_beside_the_lectures(qtbot, report, mnist_test, monkeypatch, tmp_path):
    from cnnviz.core.networks.weights import load_weights
    from cnnviz.core.reading import opened_verdict

    # the student's model was opened in the app before: its unsure verdict is cached
    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(tmp_path))
    student = load_weights(KERAS / "rescaled.keras")
    opened_verdict.store(opened_verdict.cache_key(student), {"score": "max_logit", "threshold": -4.0})
    report.show()
    progress = []
    report.controller.progress.connect(lambda share, _words: progress.append(share))
    report.show_for_model()
    _wait(qtbot, report)
    assert progress and report.status.text() in ("Done.", "Remembered from before.")
    assert report.table.columnCount() == 2
    report.compare_with(("file", str(KERAS / "rescaled.keras")))
    _wait(qtbot, report)
    t = report.table
    assert t.columnCount() == 3
    assert [t.horizontalHeaderItem(c).text() for c in (1, 2)] == ["lecture-keras", "rescaled"]
    accuracy = next(r for r in range(t.rowCount()) if t.cell_text(r, 0) == "Accuracy")
    marked = [c for c in (1, 2) if "★" in t.cell_text(accuracy, c)]
    values = [float(t.cell_text(accuracy, c).split("%")[0]) for c in (1, 2)]
    assert marked == [1 + int(np.argmax(values))] and values[0] != values[1]
    assert report.compare_box.currentText() == "rescaled.keras"
    # the pictures one model reads right and the other wrong; a click makes one the input
    lists = [d for d in report.digit_lists if d.count()]
    assert lists, "two models this different disagree on some of 300 test digits"
    images, labels = mnist_test
    lists[0].list.itemClicked.emit(lists[0].list.item(0))
    source = report.state.image_source
    index = int(source.split("#")[1].split(",")[0])
    np.testing.assert_array_equal(report.state.image, images[index].astype(np.float32))
    assert f"labelled {labels[index]}" in source


def test_stop(qtbot, report):
    report.controller.options = dict(SMALL, test_limit=None)  # the whole test set: slow
    report.compare_with(("shipped", "cnnviz"))
    assert report.compare_box.currentText().startswith("cnnviz (")
    assert report.stop_button.isEnabled()
    report.stop_button.click()
    _wait(qtbot, report)
    assert report.status.text() == "Stopped."
    report.compare_with(("file", str(KERAS / "no-such-model.keras")))
    qtbot.waitUntil(lambda: "cannot be opened" in report.status.text(), timeout=30_000)


def test_the_model_menu_opens_it(qtbot, settings_sandbox, monkeypatch):
    from cnnviz.ui.window.main_window import MainWindow

    w = MainWindow(AppState())
    qtbot.addWidget(w)
    monkeypatch.setattr("cnnviz.ui.report.window.ReportCardWindow.show_for_model", lambda self: None)
    titles = [a.text() for a in w.menuBar().actions()]
    model_menu = w.menuBar().actions()[titles.index("&Model")].menu()
    assert w.report_card_action in model_menu.actions() and w.report_card_action.toolTip()
    w.report_card_action.trigger()
    assert w.report_window.isVisible()
    w.close()


def test_the_table_names_its_columns_before_the_first_card(qtbot):
    from cnnviz.ui.report.table import FigureTable

    table = FigureTable()
    qtbot.addWidget(table)
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["Figure", "This model"]

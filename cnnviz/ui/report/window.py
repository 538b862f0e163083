"""The report card window (Model › Report card…): the window's model's card, computed off
the GUI thread with progress and a Stop button; "Compare with" sets a second model beside
it (a shipped one, or a file), each figure in two columns with the better marked, and the
test pictures one reads right and the other wrong, clickable: a click makes that picture the
app's input. Not modal: it follows the window's model while it is open."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnviz.app_state import InputImage
from cnnviz.core.datasets.gallery import CLASS_NAMES, sample_source
from cnnviz.core.networks.weights import SHIPPED
from cnnviz.ui.controllers.report_card import ReportCardController
from cnnviz.ui.widgets.tooltips import wrap_long_tooltips

from .digits import DigitList
from .table import FigureTable

NOTHING = "Nothing (this model alone)"
OPEN_FILE = "A model file…"
MODEL_FILES = ("Models (*.safetensors *.keras *.h5 *.hdf5 *.onnx *.pt2 *.pt);;All files (*)")


class ReportCardWindow(QWidget):
    """show_for_model(): computes the state's model's card (and the comparison's) and shows
    it. The window's controller owns the work; shutdown() stops it."""

    def __init__(self, state, data_dir=None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Report card")
        self.state = state
        self.controller = ReportCardController(data_dir, self)
        self._compare = None  # None, ("shipped", name) or ("file", path)
        self._intro = ""
        self._lay_out()
        self._connect()
        wrap_long_tooltips(self)
        self.resize(1000, 640)

    # ----- building --------------------------------------------------------------------

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)  # model names come from files
        layout.addWidget(self.intro)
        layout.addLayout(self._controls())
        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = FigureTable()
        split.addWidget(self.table)
        side = QWidget()
        digits = QVBoxLayout(side)
        digits.setContentsMargins(0, 0, 0, 0)
        self.digit_lists = [DigitList(), DigitList()]
        for d in self.digit_lists:
            digits.addWidget(d, 1)
        self.digits_note = QLabel()
        self.digits_note.setWordWrap(True)
        digits.addWidget(self.digits_note)
        split.addWidget(side)
        split.setSizes([560, 420])
        layout.addWidget(split, 1)
        self.splitter = split

    def _controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Compare with:"))
        self.compare_box = QComboBox()
        self.compare_box.addItem(NOTHING, "")
        for name, (_file, words) in SHIPPED.items():
            self.compare_box.addItem(f"{name} ({words})", _key(("shipped", name)))
        self.compare_box.addItem(OPEN_FILE, "open")
        self.compare_box.setToolTip("Set a second model beside this one: one shipped with "
                                    "cnnviz (the lecture's Keras model, lecture-keras, for "
                                    "a homework), or a model file of your own")
        row.addWidget(self.compare_box, 1)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop working out the report card (it can take a "
                                    "minute the first time)")
        self.stop_button.setEnabled(False)
        row.addWidget(self.stop_button)
        self.again_button = QPushButton("Compute")
        self.again_button.setToolTip("Work out the report card of the main window's model "
                                     "(and of the one it is compared with) again")
        row.addWidget(self.again_button)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setToolTip("How far the report card has got")
        self.progress_bar.setMaximumWidth(160)
        row.addWidget(self.progress_bar)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        row.addWidget(self.status, 2)
        return row

    def _connect(self) -> None:
        self.compare_box.activated.connect(self._on_compare_chosen)
        self.stop_button.clicked.connect(self.controller.stop)
        self.again_button.clicked.connect(self.show_for_model)
        self.controller.progress.connect(self._on_progress)
        self.controller.ready.connect(self._on_ready)
        self.controller.failed.connect(lambda message: self._finish(message))
        self.controller.stopped.connect(lambda: self._finish("Stopped."))
        for d in self.digit_lists:
            d.picked.connect(self._on_digit_picked)
        self.state.events.model.connect(self._on_model_changed)

    # ----- requests --------------------------------------------------------------------

    def show_for_model(self) -> None:
        """Work out the card of the window's model (and the comparison's)."""
        loaded = self.state.model
        if loaded is None:
            self.status.setText("The network is still loading.")
            return
        self._intro = (f"How {loaded.name} reads pictures it never trained on, beyond one "
                       "accuracy figure. Hover over a figure to see what it measures.")
        self.intro.setText(self._intro)
        self.stop_button.setEnabled(True)
        self.progress_bar.setValue(0)
        self.status.setText("Starting…")
        self.controller.request(loaded, self._compare)

    def compare_with(self, spec) -> None:
        """None, ("shipped", name) or ("file", path): the model set beside this one."""
        self._compare = spec
        if spec is not None and spec[0] == "file" and self.compare_box.findData(_key(spec)) < 0:
            self.compare_box.insertItem(self.compare_box.count() - 1, Path(spec[1]).name, _key(spec))
        self.compare_box.setCurrentIndex(max(0, self.compare_box.findData(_key(spec))))
        self.show_for_model()

    def _on_compare_chosen(self, index: int) -> None:
        data = self.compare_box.itemData(index)
        if data == "open":
            path, _ = QFileDialog.getOpenFileName(self, "Compare with a model file", "", MODEL_FILES)
            if not path:
                self.compare_box.setCurrentIndex(max(0, self.compare_box.findData(_key(self._compare))))
                return
            self.compare_with(("file", path))
            return
        self.compare_with(None if data in (None, "") else tuple(data.split(":", 1)))

    def _on_model_changed(self, _loaded) -> None:
        if self.isVisible():
            self.show_for_model()

    # ----- answers ---------------------------------------------------------------------

    def _on_progress(self, share: float, words: str) -> None:
        self.progress_bar.setValue(round(100 * share))
        self.status.setText(words)

    def _finish(self, message: str) -> None:
        self.stop_button.setEnabled(False)
        self.status.setText(message)

    def _on_ready(self, comparison) -> None:
        from cnnviz.core.training.report_card import rows

        self.progress_bar.setValue(100)
        remembered = all(card.cached for card in comparison.cards)
        self._finish("Remembered from before." if remembered else "Done.")
        names = _distinct(comparison.names)
        self.table.show_rows(rows(*(card.figures for card in comparison.cards)), names)
        self._show_digits(comparison, names)
        source = comparison.cards[0].figures.get("test_source")
        if source:
            self.intro.setText(f"{self._intro} Tested on {source}.")

    def _show_digits(self, comparison, names: list[str]) -> None:
        for d in self.digit_lists:
            d.show_digits("", [], [], [])
        if len(names) < 2:
            self.digits_note.setText("Choose a model to compare with: the test pictures one "
                                     "reads right and the other wrong appear here.")
            return
        self.digits_note.setText(comparison.why_no_digits or "Click a picture to make it the "
                                 "input. Under each: its true class → the other model's answer.")
        classes = CLASS_NAMES.get(comparison.dataset)
        title = "MNIST" if comparison.dataset == "mnist" else "Fashion-MNIST"
        for k, (index, images, labels, first, second) in enumerate(comparison.right_wrong):
            right, wrong = names[k], names[1 - k]
            html_right, html_wrong = html.escape(right), html.escape(wrong)  # (names from files)
            answers = (second, first)[k]
            name = (lambda c: classes[int(c)]) if classes else (lambda c: str(int(c)))
            total = comparison.total_disagreements[k]
            shown = f" (the first {len(index)})" if total > len(index) else ""
            self.digit_lists[k].show_digits(
                f"<b>{html_right}</b> right, <b>{html_wrong}</b> wrong: {total:,} test "
                f"pictures{shown}",
                images.astype("float32"),
                [f"{sample_source(int(i), int(y), title, classes)}; {wrong} says "
                 f"{name(a)}" for i, y, a in zip(index, labels, answers)],
                [f"{name(y)}→{name(a)}" for y, a in zip(labels, answers)])

    def _on_digit_picked(self, image, source: str) -> None:
        self.state.input_image = InputImage(image, source)

    # ----- closing ---------------------------------------------------------------------

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.controller.stop()  # no work for a window nobody sees
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.controller.shutdown()


def _key(spec) -> str:
    """A comparison as the picker keeps it: "" (none), "shipped:NAME" or "file:PATH"."""
    return "" if spec is None else f"{spec[0]}:{spec[1]}"


def _distinct(names: list[str]) -> list[str]:
    """Two models of the same name get told apart in the column headers."""
    if len(names) == 2 and names[0] == names[1]:
        return [f"{names[0]} (this)", f"{names[1]} (compared)"]
    return list(names)

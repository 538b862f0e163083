"""The training lab tab: build a network, train it, and watch it learn.

Left: the architecture editor (editor.py) and the training settings (settings_panel.py).
Right: where the data folder lacks the training set, a banner offering the download or a
folder; Start, Pause/Resume, Stop, Train more and Show in CNN explorer; the progress bar;
the live curves, the first convolution's filters and the user's drawing read by the
network being trained (live.py); after each epoch the confusion matrix and a clicked
cell's test images (confusion.py); and, when it stops, naming and keeping the network.

This class composes the panels: the banner (data_banner.py), the keep group
(keep_panel.py), and the run's views, which follow the run model (run_model.py, drawn by
run_views.py) that the training controller (cnnviz.ui.controllers.training: the job and
its timer) writes; the file controller (cnnviz.ui.controllers.lab_files) reads and writes
every file.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnviz.app_state import InputImage
from cnnviz.core.datasets.data import DATASET_NAMES, get_dataset_info
from cnnviz.core.networks.catalogue import user_models_dir
from cnnviz.core.training.job import RunPhase

from ..controllers import training as tc
from ..controllers.lab_files import LabFilesController, cell_members
from ..widgets.scrolling import scrolling
from . import wording as W
from .confusion import MAX_CELL_IMAGES, CellImages, ConfusionView
from .data_banner import DataBanner
from .editor import ArchitectureEditor
from .keep_panel import KeepPanel
from .live import FilterView, LossCurves, ProbeView, Progress
from .own_data_flow import OwnDataFlow
from .run_model import RunModel
from .run_views import RunViews
from .settings_panel import SETTINGS_GROUP, TrainingSettings

ERROR_STYLE = "color: #b00020;"
OK_STYLE = "color: #1b5e20;"


def _button(text: str, tip: str, slot) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.clicked.connect(lambda _c=False: slot())
    return button


# Below this size (width, height) the lab's table shows one line a layer.
COMPACT_BELOW = (1100, 720)


class TrainingLab(QWidget):
    """See the module docstring. Contract with the main window: status_message,
    show_explorer (the user asked to see the network in the CNN explorer), set_active(),
    export_array(), save_settings(), restore_settings(), shutdown()."""

    status_message = Signal(str)
    show_explorer = Signal()

    def __init__(self, state, data_dir=None, parent: QWidget | None = None, job_factory=None):
        super().__init__(parent)
        self.state = state
        self.controller = tc.TrainingController(state, self, job_factory=job_factory)
        self.controller.set_data_dir(data_dir)
        self.files = LabFilesController(state, self.controller, self)  # test set, keep, …
        self._pending_cell: tuple[int, int] | None = None
        self._cell: tuple[int, int] | None = None  # the cell whose images are shown
        self._shown_results = False
        self._sized = False
        self.test_limit: int | None = None  # test on the first N test images only (tests)
        self._shut = False
        self._compact = False
        self._build_ui()
        self._connect()
        self.own_data = OwnDataFlow(self)  # your own set, fine-tuning, the preview
        self.run_views = RunViews(self)  # the run model drawn in the views and buttons
        self._check_data()
        self.files.load_user_models()

    # ----- building -------------------------------------------------------------------

    def _build_ui(self) -> None:
        root = QHBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        root.addWidget(self.splitter)
        self.left_tabs = QTabWidget()
        self.editor = ArchitectureEditor()
        self.settings = TrainingSettings()
        self.left_tabs.addTab(scrolling(self.editor), "1 Network")
        self.left_tabs.addTab(scrolling(self.settings), "2 Settings")
        self.left_tabs.setTabToolTip(0, "The layers of the network to train, with their shapes "
                                        "and parameter counts.")
        self.left_tabs.setTabToolTip(1, "The dataset, optimizer, learning rate, batch size, "
                                        "epochs and the rest.")
        self.splitter.addWidget(self.left_tabs)
        right = QWidget()
        box = QVBoxLayout(right)
        box.setContentsMargins(0, 0, 0, 0)
        self.data_banner = DataBanner(self)  # the training set missing: download or a folder
        banner = self.data_banner  # (its parts, as the lab's: tests use them)
        self.data_label, self.download_button = banner.data_label, banner.download_button
        self.folder_button = banner.folder_button
        box.addWidget(banner)
        box.addLayout(self._build_controls())
        self.progress = Progress()
        box.addWidget(self.progress)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        box.addWidget(self.message)
        self.curves = LossCurves()
        self.live_splitter = QSplitter(Qt.Orientation.Vertical)  # curves above, the rest below
        self.live_splitter.setChildrenCollapsible(False)
        self.live_splitter.addWidget(self.curves)
        middle = QWidget()
        row = QHBoxLayout(middle)
        row.setContentsMargins(0, 0, 0, 0)
        self.filter_view = FilterView()
        row.addWidget(self.filter_view, 1)
        self.probe_view = ProbeView()
        row.addWidget(self.probe_view, 1)
        self.live_splitter.addWidget(middle)
        self.live_splitter.setStretchFactor(0, 1)
        self.live_splitter.setStretchFactor(1, 1)
        box.addWidget(self.live_splitter, 1)
        self.keep_panel = self.finish_group = KeepPanel(self)
        panel = self.keep_panel  # (its parts, as the lab's: tests and benchmarks use them)
        self.name_edit, self.keep_button = panel.name_edit, panel.keep_button
        self.save_as_button, self.save_bar = panel.save_as_button, panel.save_bar
        box.addWidget(panel)
        self.left_tabs.addTab(self._build_results(), "3 Confusion")
        self.left_tabs.setTabToolTip(2, W.CONFUSION_TIP)
        right_scroll = scrolling(right)
        # The live panels shrink with the window instead of scrolling sideways.
        right_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right.setMinimumWidth(300)
        self.splitter.addWidget(right_scroll)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([540, 640])

    def _build_results(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        self.confusion_title = QLabel("<b>Confusion matrix</b> on the test set: it fills in "
                                      "after the first epoch. Rows: the true class; columns: "
                                      "the network's answer.")
        self.confusion_title.setWordWrap(True)
        self.confusion_title.setToolTip(W.CONFUSION_TIP)
        box.addWidget(self.confusion_title)
        self.confusion = ConfusionView()
        box.addWidget(self.confusion, 3)
        self.cell_images = CellImages()
        box.addWidget(self.cell_images, 2)
        return page

    def _build_controls(self) -> QVBoxLayout:
        rows = QVBoxLayout()
        first, second = QHBoxLayout(), QHBoxLayout()
        self.start_button = _button("Start training", W.START_TIP, self.start)
        self.pause_button = _button("Pause", W.PAUSE_TIP, self.toggle_pause)
        self.stop_button = _button("Stop", W.STOP_TIP, self.controller.stop)
        self.more_button = _button("Train more", W.MORE_TIP, self.train_more)
        self.more_count = QSpinBox()
        self.more_count.setRange(1, 100)
        self.more_count.setValue(1)
        self.more_count.setSuffix(" epoch(s)")
        self.more_count.setToolTip(W.MORE_COUNT_TIP)
        self.follow_button = _button("Show in CNN explorer", W.FOLLOW_TIP, self.show_in_explorer)
        for widget in (self.start_button, self.pause_button, self.stop_button):
            first.addWidget(widget)
        first.addStretch(1)
        for later in (self.more_button, self.more_count, self.follow_button):
            second.addWidget(later)
        second.addStretch(1)
        self._control_rows = (second, QHBoxLayout())  # a narrow window: Show… on a third row
        rows.addLayout(first)
        rows.addLayout(second)
        rows.addLayout(self._control_rows[1])
        return rows

    def _connect(self) -> None:
        c = self.controller
        c.message.connect(self._say)
        f = self.files
        f.message.connect(self._say)
        f.test_set_ready.connect(self._on_test_set)
        self.settings.dataset_changed.connect(lambda _d: self._check_data())
        self.confusion.cell_clicked.connect(self.show_cell)
        self.cell_images.image_chosen.connect(self.use_test_image)
        self.editor.changed.connect(self._on_architecture_changed)
        self.editor.preset_chosen.connect(self._on_preset_chosen)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        # a small window: one line a layer, so the table shows six or more; the buttons
        # that would be cut off go on rows of their own
        size = event.size()
        compact = size.height() < COMPACT_BELOW[1] or size.width() < COMPACT_BELOW[0]
        self.editor.set_compact(compact)
        if compact == self._compact:
            return
        self._compact = compact
        wide, narrow = self._control_rows
        (narrow if compact else wide).insertWidget(0 if compact else 2, self.follow_button)
        self.keep_panel.set_compact(compact)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self._sized:  # first shown: the editor gets the room its formulas need
            self._sized = True
            total = sum(self.splitter.sizes()) or self.width()
            left = int(min(max(400, 0.46 * total), total - 300))
            self.splitter.setSizes([left, total - left])

    # ----- the run ------------------------------------------------------------------------

    def start(self) -> bool:
        problem = self.editor.problem()
        if problem:
            self._say(f"Cannot train this network: {problem}.", error=True)
            self.left_tabs.setCurrentIndex(0)
            return False
        dataset = self.settings.dataset()
        missing = self.own_data.data_problem()
        if missing:
            self._check_data()
            self._say(missing, error=True)
            return False
        options = self.own_data.run_options()
        if options is None:
            return False
        config = self.settings.config()
        self.curves.clear()
        self.progress.reset_run(config.epochs)
        self.confusion.set_classes(options["classes"])
        self.probe_view.set_classes(options["classes"])
        self.probe_view.clear()
        self.cell_images.show_text("Click a cell of the matrix to see its test images.")
        self._cell = None
        self._shown_results = False
        self._arch_trained = self.editor.architecture()
        self.filter_view.new_run()
        if not self._has_conv(self._arch_trained):
            self.filter_view.show_none("This network has no convolution: no filters to draw")
        ok = self.controller.start(self._arch_trained, dataset, self.controller.data_dir, config,
                                   limit=self.settings.limit_value(), test_limit=self.test_limit,
                                   **options)
        arch = self.controller.arch
        if ok and arch is not None:  # (a started run always has its architecture)
            what = ("your set" if options["user_set"] and not options["user_set"].startswith(
                "mnist+") else "MNIST + your set" if options["user_set"] else
                    DATASET_NAMES[dataset])
            self._say(f"Training {html.escape(arch.name)} on {what}…")
            self.files.new_run(on_user_set=options["user_set"] is not None)
            self.files.load_test_set(dataset, self.controller.data_dir)
        return ok

    @staticmethod
    def _has_conv(arch) -> bool:
        return any(getattr(spec, "type", "") == "conv" for spec in arch.layers)

    def toggle_pause(self) -> None:
        if self.controller.phase is RunPhase.PAUSED:
            self.controller.resume()
        else:
            self.controller.pause()

    def train_more(self) -> bool:
        n = self.more_count.value()
        done = len(self.run.epochs)
        ok = self.controller.more_epochs(n)
        if ok:
            if not self.controller.same_job:  # a new job counts its epochs from 1 again
                self.curves.continue_run()
            self.progress.reset_run(n, first_epoch=done + 1)
            self._say(f"Training {n} more epoch{'s' if n != 1 else ''}…")
        return ok

    def show_in_explorer(self) -> None:
        if self.controller.follow(True):
            self._say("The CNN explorer shows the network being trained, with its newest "
                      "weights.")
            self.show_explorer.emit()

    @property
    def run(self) -> RunModel:
        """The run model the controller writes and the lab's views follow."""
        return self.controller.run

    @property
    def last_epoch(self):
        return self.run.last_epoch

    def _on_architecture_changed(self, _arch) -> None:
        if not self.controller.running:
            problem = self.editor.problem()
            self.start_button.setToolTip(W.START_TIP if not problem else
                                         f"{W.START_TIP} Not now: {problem}.")

    def _on_preset_chosen(self, key: str) -> None:
        """A preset with its own training recipe (the fast one) brings its settings."""
        from cnnviz.core.training.loop import RECIPES

        if key in RECIPES:
            self.settings.apply_recipe(RECIPES[key])
            self._say(f"The {key} preset comes with its own training recipe: the training "
                      "settings now follow it.")

    # ----- the confusion matrix's cells ---------------------------------------------------

    def show_cell(self, true: int, predicted: int) -> None:
        self._cell = (true, predicted)
        epoch = self.last_epoch
        if epoch is None or epoch.test_predictions is None:
            self.cell_images.show_text("The matrix fills in after the first epoch.")
            return
        if self.files.test_images is None:
            self._pending_cell = (true, predicted)
            self.cell_images.show_text("Reading the test images…")
            settings = self.controller.settings
            if settings is not None:
                self.files.load_test_set(settings.dataset, self.controller.data_dir)
            return
        predictions = np.asarray(epoch.test_predictions)
        confidence = (np.asarray(epoch.test_confidence) if epoch.test_confidence is not None
                      else None)
        indices, count = cell_members(self.files.test_labels, predictions, confidence,
                                         true, predicted, MAX_CELL_IMAGES)
        self.cell_images.show_cell(true, predicted, indices, self.files.test_images,
                                   predictions, confidence, self.confusion.classes, count)

    def _on_test_set(self, _images, _labels) -> None:
        if self._pending_cell is not None:
            cell, self._pending_cell = self._pending_cell, None
            self.show_cell(*cell)

    def use_test_image(self, index: int) -> None:
        images, labels = self.files.test_images, self.files.test_labels
        if images is None or labels is None or not 0 <= index < len(images):
            return
        settings = self.controller.settings
        dataset = settings.dataset if settings is not None else "mnist"
        names = self.controller.classes or get_dataset_info(dataset).classes
        name = names[int(labels[index])]
        source = ("your set's held-out" if settings is not None and settings.user_set
                  else DATASET_NAMES[dataset])
        self.state.input_image = InputImage(images[index].astype(np.float32),
                                            f"{source} test image #{index} (a {name})")
        self.status_message.emit(f"Test image #{index} is the input now")

    # ----- data -------------------------------------------------------------------------

    def _check_data(self) -> bool:
        return self.data_banner.check()

    def download(self) -> None:
        self.data_banner.download()

    def set_data_dir(self, folder) -> None:
        self.controller.set_data_dir(folder)
        if self._check_data():
            self._say(f"Using the data in {html.escape(str(folder))}.")

    # ----- keeping (keep_panel.py) ----------------------------------------------------------

    def keep(self) -> bool:
        return self.keep_panel.keep()

    def save_as(self, path: str | None = None) -> bool:
        return self.keep_panel.save_as(path)

    # ----- messages -------------------------------------------------------------------------

    def _say(self, text: str, error: bool = False, ok: bool = False, escaped: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else OK_STYLE if ok else "")
        self.message.setText(text if escaped or "<" in text else html.escape(text))
        self.status_message.emit(_plain(text))

    # ----- contract with the main window ----------------------------------------------------

    def set_active(self, active: bool) -> None:
        """Training goes on while the tab is hidden; the curves keep their data."""

    def export_array(self) -> tuple[str, np.ndarray] | None:
        if self.run.confusion is not None:
            return "training-lab-confusion", np.asarray(self.run.confusion)
        if self.run.batch_losses:
            return "training-lab-loss", np.asarray(self.run.batch_losses)
        return None

    def save_settings(self, settings: QSettings) -> None:
        self.settings.save_settings(settings)
        settings.setValue(f"{SETTINGS_GROUP}/architecture", self.editor.architecture().to_json())
        if self.controller.data_dir:
            settings.setValue(f"{SETTINGS_GROUP}/data_dir", str(self.controller.data_dir))

    def restore_settings(self, settings: QSettings) -> None:
        self.settings.restore_settings(settings)
        text = settings.value(f"{SETTINGS_GROUP}/architecture")
        if text:
            self.editor.restore(str(text))
        folder = settings.value(f"{SETTINGS_GROUP}/data_dir")
        if folder and not self.controller.data_dir and Path(str(folder)).is_dir():
            self.controller.set_data_dir(str(folder))
        self._check_data()

    def models_folder(self) -> Path:
        return user_models_dir()

    def shutdown(self) -> None:
        if self._shut:
            return
        self._shut = True
        self.controller.shutdown()
        self.files.shutdown()


def _plain(text: str, most: int = 160) -> str:
    """Rich text as one status-bar line (a long message is cut; the lab shows all of it)."""
    import re

    line = " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())
    return line if len(line) <= most else line[:most - 1] + "…"

"""The main window: the input on the left, the explorers in tabs on the right.

Structure after Qt for Python's application.py example: actions, menus and toolbar in
actions.py, settings (geometry and layout in QSettings, saved in closeEvent) in settings.py,
files in and out in files.py, Help's dialogs in dialogs.py. This class composes them and
routes the state's events to the status bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QToolBar,
    QWidget,
)

from cnnviz.app_state import AppState, InputImage
from cnnviz.core.basics.files import FileProblem
from cnnviz.core.pictures.samples import default_sample, load_samples

from ..controllers import AnalysisController
from ..input.panel import InputPanel
from ..widgets.file_text import as_html, literal, shown
from ..widgets.paint_pass import OnePaintPass
from ..widgets.scrolling import scrolling
from ..widgets.text_slot import TextSlot
from ..widgets.tooltips import wrap_long_tooltips
from . import actions, dialogs, files, settings
from .model_options import ModelOptions
from .shortcuts import WindowShortcutsInFields

if TYPE_CHECKING:  # (imported lazily at run time: they load torch and pyqtgraph)
    from ..cnn.explorer import CnnExplorer
    from ..experiments.explorer import ExperimentsExplorer
    from ..kernel.explorer import KernelExplorer
    from ..lab.explorer import TrainingLab

TAB_NAMES = ("cnn-explorer", "kernel-explorer", "training-lab", "experiments")
TAB_TITLES = ("CNN explorer", "Kernel explorer", "Training lab")
TAB_TIPS = ("A trained network, layer by layer: feature maps after each convolution, ReLU and "
            "pooling, the dense layers and the softmax.",
            "One kernel on the input: pick or type a filter, set stride, padding, activation and "
            "pooling, and watch the output and its size (W − F + 2P) / S + 1.",
            "Build a network layer by layer, train it on MNIST or Fashion-MNIST and watch it "
            "learn: loss curves, filters, your drawing's answer, the confusion matrix.")
LOADING_TEXT = "Loading the network (PyTorch, pyqtgraph and the trained model)…"
STATUS_TIP = "What the current tab is doing (e.g. how long its last update took)"
EXPERIMENTS_TITLE = "Experiments"  # the teaching views, after the explorers
EXPERIMENTS_TIP = ("Experiments on your own drawing: slide a kernel window step by step, "
                   "receptive fields, what the network looked at, shift and rotation invariance, "
                   "batch norm, dropout, and the parameters of a fully connected layer against a "
                   "conv layer.")


def import_explorers() -> tuple[type, type, type]:
    """The explorer classes. Importing them loads pyqtgraph and torch (seconds): a lazy
    start does it on a thread after the window is on screen."""
    import torch  # noqa: F401  (the slow part, first)

    from ..cnn.explorer import CnnExplorer
    from ..kernel.explorer import KernelExplorer
    from ..lab.explorer import TrainingLab

    return CnnExplorer, KernelExplorer, TrainingLab


def default_sample_and_source() -> tuple[np.ndarray, str]:
    """The digit the app opens with, as float32 0..255, and its source text."""
    image, label = default_sample()
    images, _labels, index = load_samples()
    same = np.flatnonzero((images == image).all(axis=(1, 2)))
    number = f" #{int(index[same[0]])}" if same.size else ""
    return image.astype(np.float32), f"MNIST test digit{number} (a {label})"


class MainWindow(QMainWindow):
    """lazy=True (the real start): the window, the pad and the menus come first; the
    explorers, torch and the model follow from a thread (start_loading), so the window is
    on screen in well under a second. lazy=False builds everything at once (tests)."""

    _explorers_imported = Signal(object)  # (classes) or (Exception) from the import thread

    # Made by actions.create_actions, create_menus and create_toolbar
    open_action: QAction
    open_weights_action: QAction
    input_scale_group: QActionGroup
    input_scale_actions: dict[str, QAction]  # by input scale: "0-1", "0-255", "mnist"
    class_names_action: QAction
    user_set_action: QAction
    report_card_action: QAction
    paste_action: QAction
    export_png_action: QAction
    export_window_action: QAction
    export_npy_action: QAction
    open_lesson_action: QAction
    record_lesson_action: QAction
    save_session_action: QAction
    open_session_action: QAction
    presenter_action: QAction
    quit_action: QAction
    undo_action: QAction
    redo_action: QAction
    clear_action: QAction
    random_action: QAction
    gallery_action: QAction
    tab_group: QActionGroup
    tab_actions: list[QAction]  # one per tab, in order
    experiments_tab_action: QAction
    reset_layout_action: QAction
    fullscreen_action: QAction
    shortcuts_action: QAction
    tour_action: QAction
    about_action: QAction
    about_qt_action: QAction
    input_scale_menu: QMenu
    view_menu: QMenu
    toolbar: QToolBar

    def __init__(self, state: AppState | None = None, data_dir: str | None = None,
                 parent: QWidget | None = None, lazy: bool = False) -> None:
        super().__init__(parent)
        self.state = state if state is not None else AppState()
        self.data_dir = data_dir
        self.last_dir = ""
        self._shut_down = False
        self._explorer_status: dict[int, str] = {}
        self.setWindowTitle("cnnviz — see inside a convolutional neural network")
        self.setObjectName("cnnviz_main_window")

        self.controller = AnalysisController(self.state, self)
        # a new result is painted in one pass once every view has taken it (not one pass
        # per plot): after the views' own listeners
        self.paint_pass = OnePaintPass(self)
        self.state.analysis_ready.connect(self._paint_result, priority=-100)
        self.opener = files.ImageOpener(self)
        self.model_options = ModelOptions(self, data_dir)
        self.image_loader = self.opener.loader  # (tests wait on it)
        self.opener.opened.connect(self._on_image_opened)
        self.opener.problem.connect(self._on_open_problem)
        self.opener.status.connect(self.statusBar().showMessage)

        self.input_panel = InputPanel(self.state, self.controller, self, data_dir=data_dir)
        self.cnn_explorer: CnnExplorer | None = None
        self.kernel_explorer: KernelExplorer | None = None
        self.lab: TrainingLab | None = None
        self._model_to_open: Path | None = None  # a model asked for before the explorers exist
        self.explorers: tuple = ()  # the explorers, one per tab, once built
        self._build_tabs()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("main_splitter")
        self.splitter.addWidget(self.input_panel)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 1)  # a bigger window grows the pad a little,
        self.splitter.setStretchFactor(1, 3)  # the explorers more
        self.splitter.setChildrenCollapsible(False)
        self.input_panel.setMinimumWidth(280)
        self.setCentralWidget(self.splitter)

        actions.create_actions(self)
        actions.create_menus(self)
        actions.create_toolbar(self)
        self.create_status_bar()
        self._default_window_state = self.saveState()

        self._connect()
        self.setAcceptDrops(True)
        self.shortcuts_in_fields = WindowShortcutsInFields(self)
        settings.read_settings(self)
        if self.state.model is not None:
            self._on_model_changed(self.state.model)
        if self.state.input_image is not None:
            self._on_image_changed(self.state.input_image)
        self._on_tab_changed(self.tabs.currentIndex())
        self._explorers_imported.connect(self._on_explorers_imported)
        if not lazy:
            self._build_explorers(*import_explorers())

    # ----- construction -------------------------------------------------------------------

    def _build_tabs(self) -> None:
        """Tabs with a "Loading…" page each; _build_explorers puts the explorers in."""
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for i, title in enumerate(TAB_TITLES):
            page = QLabel(LOADING_TEXT)
            page.setAlignment(Qt.AlignmentFlag.AlignCenter)
            page.setStyleSheet("color: #666;")
            self.tabs.addTab(page, title)
            self.tabs.setTabToolTip(i, TAB_TIPS[i])
        self.experiments_explorer: ExperimentsExplorer | None = None
        self.experiments_placeholder = QLabel(LOADING_TEXT)
        self.experiments_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.experiments_page: QWidget = self.experiments_placeholder
        self.tabs.addTab(self.experiments_placeholder, EXPERIMENTS_TITLE)
        self.tabs.setTabToolTip(self.tabs.count() - 1, EXPERIMENTS_TIP)

    def _build_experiments_tab(self) -> None:
        """The Experiments tab in place of its placeholder, after the other explorers."""
        from ..experiments.explorer import ExperimentsExplorer

        self.experiments_explorer = experiments = ExperimentsExplorer(self.state)
        index = self.tabs.indexOf(self.experiments_placeholder)
        self.tabs.removeTab(index)
        self.experiments_page = scrolling(experiments)
        self.tabs.insertTab(index, self.experiments_page, EXPERIMENTS_TITLE)
        self.tabs.setTabToolTip(index, EXPERIMENTS_TIP)
        self.experiments_placeholder.deleteLater()
        self.explorers = (*self.explorers, experiments)
        experiments.status_message.connect(
            lambda text, i=index: self._on_explorer_status(i, text))

    def show_experiments_tab(self) -> None:
        self.tabs.setCurrentWidget(self.experiments_page)

    def _build_explorers(self, cnn_class: type, kernel_class: type, lab_class: type) -> None:
        self.cnn_explorer = cnn_class(self.state, self.controller)
        self.kernel_explorer = kernel_class(self.state)
        self.lab = lab = lab_class(self.state, data_dir=self.data_dir)
        lab.show_explorer.connect(lambda: self.tabs.setCurrentIndex(0))
        self.explorers = (self.cnn_explorer, self.kernel_explorer, lab)
        self.paint_pass.forget_views()  # (the explorers' plots are new)
        current = self.tabs.currentIndex()
        self.tabs.blockSignals(True)  # the current tab stays; _on_tab_changed runs once below
        for i, explorer in enumerate(self.explorers):
            placeholder = self.tabs.widget(i)
            self.tabs.removeTab(i)
            self.tabs.insertTab(i, scrolling(explorer), TAB_TITLES[i])
            self.tabs.setTabToolTip(i, TAB_TIPS[i])
            if placeholder is not None:
                placeholder.deleteLater()
            explorer.status_message.connect(lambda text, i=i: self._on_explorer_status(i, text))
        self._build_experiments_tab()
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(False)
        settings.restore_explorers(self)
        from ..presenter.access import name_controls

        name_controls(self)  # every control gets an accessible name from what names it
        self._on_tab_changed(self.tabs.currentIndex())

    # ----- the lazy start ---------------------------------------------------------------

    def start_loading(self) -> None:
        """Import torch, pyqtgraph and the explorers on a thread, then build them and load
        the default model here (the GUI thread). The pad works meanwhile."""
        import threading

        self.state.model_loading = True
        self.model_status_label.setText(LOADING_TEXT)
        self.statusBar().showMessage(LOADING_TEXT)

        def work() -> None:
            result: tuple[type, type, type] | Exception
            try:
                result = import_explorers()
            except Exception as exc:  # a broken install: said in the window, never a crash
                result = exc
            if not self._shut_down:
                self._explorers_imported.emit(result)

        threading.Thread(target=work, name="cnnviz-import", daemon=True).start()

    def _on_explorers_imported(self, result) -> None:
        if self._shut_down:
            return
        if isinstance(result, Exception):
            self.state.model_loading = False
            self.show_model_problem(f"the network could not be loaded ({result})")
            return
        self._build_explorers(*result)
        self.load_defaults()
        if self._model_to_open is not None:  # cnnviz gui MODEL, or a model dropped meanwhile
            self.open_model_file(self._model_to_open)
            self._model_to_open = None
        self.state.model_loading = False
        notice = getattr(self, "settings_notice", "")  # a settings file repaired at start
        if notice:
            self.statusBar().showMessage(notice, 30000)
        elif self.state.model is not None:
            self.statusBar().showMessage("Ready: draw on the pad, or open or drop an image", 6000)

    def _connect(self) -> None:
        self.input_panel.open_requested.connect(self.open_image_dialog)
        self.input_panel.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.input_panel.undo_available.connect(self.undo_action.setEnabled)
        self.input_panel.redo_available.connect(self.redo_action.setEnabled)
        self.redo_action.setEnabled(False)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.state.analysis_failed.connect(
            lambda message: self.statusBar().showMessage(f"Analysis failed: {message}", 8000))
        self.state.events.model.connect(self._on_model_changed)
        self.state.events.input_image.connect(self._on_image_changed)

    def create_status_bar(self) -> None:
        bar = self.statusBar()
        self.explorer_status_label = QLabel()
        self.explorer_status_label.setToolTip(STATUS_TIP)
        self.input_status_label = QLabel()
        self.model_status_label = QLabel()
        self.model_status_label.setTextFormat(Qt.TextFormat.RichText)
        for label in (self.explorer_status_label, self.input_status_label, self.model_status_label):
            label.setContentsMargins(6, 0, 6, 0)
        # "Updated in 1.5 ms" changes with every pen step: its room only grows (no layout
        # pass of the window for a narrower number), until another tab is shown
        self.explorer_status_slot = TextSlot(self.explorer_status_label, grow_only=True)
        for widget in (self.explorer_status_slot, self.input_status_label, self.model_status_label):
            bar.addPermanentWidget(widget)
        bar.showMessage("Ready: draw on the pad, or open or drop an image", 6000)

    def load_defaults(self) -> bool:
        """The shipped model and a real MNIST "3", so the window is never empty.
        False (with a visible message) if the model is missing or damaged."""
        from cnnviz.core.networks.weights import WeightsError

        ok = True
        if self.state.model is None and self.cnn_explorer is not None:
            try:
                self.state.model = self.cnn_explorer.shipped_model("cnnviz")
            except WeightsError as exc:
                ok = False
                self.show_model_problem(str(exc))
        self.show_default_image()
        return ok

    def show_default_image(self) -> None:
        """A real MNIST "3" on the pad, unless there is an input already."""
        if self.state.image is None:
            image, source = default_sample_and_source()
            self.state.input_image = InputImage(image, source)

    def show_model_problem(self, reason: str) -> None:
        text = (f"No model loaded: {reason}. The kernel explorer works without one; load a "
                "model with File › Open model… (Ctrl+Shift+O), or reinstall cnnviz.")
        self.model_status_label.setText("<span style='color:#c0392b'>No model loaded</span>")
        self.model_status_label.setToolTip(text)
        self.statusBar().showMessage(text, 15000)
        QTimer.singleShot(0, self, lambda: QMessageBox.warning(self, "cnnviz: no model", text))

    # ----- settings and layout (settings.py) ------------------------------------------

    def read_settings(self) -> None:
        settings.read_settings(self)

    def write_settings(self) -> None:
        settings.write_settings(self)

    def reset_layout(self) -> None:
        settings.reset_layout(self)

    def toggle_full_screen(self) -> None:
        settings.toggle_full_screen(self)

    # ----- opening images (files.py) ---------------------------------------------------------

    def _start_dir(self) -> str:
        return self.last_dir if self.last_dir and Path(self.last_dir).is_dir() else str(Path.home())

    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self._start_dir(), files.IMAGE_FILTER)
        if path:
            self.open_image_file(path)

    def open_image_file(self, path: str | Path) -> None:
        """Load an image off the GUI thread; on success it becomes the input, on failure a
        message says why and the current input stays."""
        self.last_dir = str(Path(path).parent)
        self.opener.open_file(path)

    def open_mime_data(self, mime: QMimeData | None) -> bool:
        """Open what a drop or the clipboard holds. False (after a message) if nothing usable."""
        opened = self.opener.open_mime_data(mime)
        if isinstance(opened, Path):
            self.last_dir = str(opened.parent)
        return bool(opened)

    def open_qimage(self, image: QImage, name: str) -> bool:
        return self.opener.open_qimage(image, name)

    def _on_image_opened(self, array: np.ndarray, name: str) -> None:
        h, w = array.shape[:2]
        self.input_panel.show_image(array, name)
        self.statusBar().showMessage(f"Opened {name} ({w}×{h})", 5000)

    def _on_open_problem(self, title: str, text: str) -> None:
        self.statusBar().clearMessage()
        self.warn(title, text)

    def warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def paste(self) -> None:
        self.open_mime_data(QGuiApplication.clipboard().mimeData())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasImage() or any(u.isLocalFile() for u in mime.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        from cnnviz.core.networks.file_kinds import open_as

        mime = event.mimeData()
        files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
        kind = open_as(files[0]) if files else None
        if files and kind != "picture":  # a model, or one message naming both kinds
            self.open_file(files[0], kind)
            event.acceptProposedAction()
            return
        if self.open_mime_data(mime):
            event.acceptProposedAction()

    # ----- saving (files.py) --------------------------------------------------------------

    def current_explorer(self):
        """The explorer of the shown tab (None while a lazy start is still loading)."""
        if not self.explorers:
            return None
        return self.explorers[max(0, self.tabs.currentIndex())]

    def open_file(self, path: str | Path, kind: str | None = None,
                  input_scale: str | None = None, labels: str | None = None) -> None:
        """Open a file by what it is (its content, not its name): a model becomes the
        network, a picture the input; anything else gets one message naming both kinds.
        kind: what cnnviz.core.networks.file_kinds.open_as already said of it. input_scale, labels: for
        a model, as the Model menu sets them, once it has opened."""
        from cnnviz.core.networks.file_kinds import ACCEPTED_KINDS, open_as

        kind = kind or files.lesson_kind(path) or open_as(path)
        if kind == "lesson":
            self.open_lesson_file(path)
        elif kind == "session":
            self.open_session_file(path)
        elif kind == "model":
            self.model_options.give_with_file(path, input_scale, labels)
            self.open_model_file(path)
        elif kind == "picture":
            self.open_image_file(path)
        else:
            self.warn("Cannot open file", f"{Path(path).name} is neither {ACCEPTED_KINDS}.")

    def take_tour(self):
        """Help › Take the lecture tour: the lesson panel with the lecture's tour."""
        from ..lesson.tour import take_tour

        return take_tour(self)

    def open_lesson_file(self, path: str | Path):
        from ..lesson.tour import open_lesson

        return open_lesson(self, path)

    # ----- lessons one records, sessions, presenter mode (ui/lesson, ui/presenter) -------

    def open_lesson_dialog(self):
        from ..lesson.tour import open_lesson_dialog

        return open_lesson_dialog(self)

    def record_lesson(self):
        from ..lesson.tour import show_recorder

        return show_recorder(self)

    def save_session(self, path: str | None = None):
        from ..lesson.session import save_session

        return save_session(self, path)

    def open_session_dialog(self):
        from ..lesson.session import open_session

        return open_session(self)

    def open_session_file(self, path: str | Path):
        from ..lesson.session import open_session

        return open_session(self, str(path))

    def toggle_presenter(self) -> None:
        if getattr(self, "presenter", None) is None:
            from ..presenter import Presenter

            self.presenter = Presenter(self)
        self.presenter.toggle()

    def open_model_file(self, path: str | Path) -> None:
        """A model file becomes the network (read on the loader's thread); during the
        lazy start it is opened as soon as the explorers are there."""
        if self.cnn_explorer is None:
            self._model_to_open = Path(path)
            return
        self.tabs.setCurrentIndex(0)
        self.cnn_explorer.load_weights_file(path)

    # ----- the Model menu (model_options.py) ------------------------------------------------

    def set_input_scale(self, scale: str) -> None:
        self.model_options.set_input_scale(scale)

    def name_classes_dialog(self) -> None:
        self.model_options.name_classes_dialog()

    def replace_model(self, loaded) -> None:
        """Show this model, in place of the picker's entry for its file."""
        self.model_options.replace_model(loaded)

    def show_report_card(self) -> None:
        """Model › Report card…: the model's report card, in a window of its own."""
        if getattr(self, "report_window", None) is None:
            from cnnviz.ui.report import ReportCardWindow

            self.report_window = ReportCardWindow(self.state, self.data_dir, self)
        self.report_window.show()
        self.report_window.raise_()
        self.report_window.activateWindow()
        self.report_window.show_for_model()

    def show_user_set(self) -> None:
        """Model › Your own set…: collect, browse and evaluate the user's own set."""
        if getattr(self, "user_set_window", None) is None:
            from cnnviz.ui.dataset import SetWindow

            self.user_set_window = SetWindow(self.state, self.data_dir, self.input_panel.pad, self)
        self.user_set_window.show()
        self.user_set_window.raise_()
        self.user_set_window.activateWindow()

    def open_weights(self) -> None:
        if self.cnn_explorer is None:
            self.statusBar().showMessage(LOADING_TEXT + " Open a model once it is ready.", 5000)
            return
        self.tabs.setCurrentIndex(0)
        self.cnn_explorer.open_weights_dialog()

    def _save_path(self, title: str, suggested: str, file_filter: str, suffix: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path(self._start_dir()) / suggested),
                                              file_filter)
        if not path:
            return None
        if not path.lower().endswith(suffix):
            path += suffix
        return path

    def export_view_png(self, path: str | None = None, whole_window: bool = False) -> str | None:
        """Save a picture of the current tab (or the whole window) as PNG. Returns the path."""
        widget = self if whole_window else self.current_explorer()
        if widget is None:
            widget = self.tabs
        stem = "cnnviz-window" if whole_window else f"cnnviz-{TAB_NAMES[self.tabs.currentIndex()]}"
        if path is None:
            path = self._save_path("Export view as PNG", f"{stem}.png", "PNG images (*.png)", ".png")
            if path is None:
                return None
        pixmap = widget.grab()
        try:
            files.save_png(pixmap, path)
        except FileProblem as exc:
            self.warn("Export failed", f"{files.sentence(str(exc))}\n\nNothing was overwritten.")
            return None
        self.last_dir = str(Path(path).parent)
        self.statusBar().showMessage(f"Saved {pixmap.width()}×{pixmap.height()} picture to {path}", 6000)
        return path

    def export_feature_maps(self, path: str | None = None) -> str | None:
        """Save the array the current tab shows (e.g. a layer's feature maps) as .npy."""
        explorer = self.current_explorer()
        exported = explorer.export_array() if explorer is not None else None
        if exported is None:
            QMessageBox.information(self, "Nothing to export",
                                    "This tab shows no array yet: draw or open an input first.")
            return None
        stem, array = exported
        if path is None:
            path = self._save_path("Export feature maps", f"{files.safe_stem(stem)}.npy",
                                   "NumPy arrays (*.npy)", ".npy")
            if path is None:
                return None
        array = np.asarray(array)
        try:
            files.save_npy(array, path)
        except (FileProblem, ValueError) as exc:
            self.warn("Export failed", f"{files.sentence(str(exc))}\n\nNothing was overwritten.")
            return None
        self.last_dir = str(Path(path).parent)
        self.statusBar().showMessage(f"Saved a {array.shape} {array.dtype} array to {path}", 6000)
        return path

    # ----- Help (dialogs.py) ---------------------------------------------------------------

    def about_text(self) -> str:
        return dialogs.about_text(self.state)

    def show_about(self) -> None:
        QMessageBox.about(self, "About cnnviz", self.about_text())

    def shortcut_rows(self) -> list[tuple[str, str]]:
        from ..experiments.shortcuts import SHORTCUT_ROWS as EXPERIMENTS_ROWS
        from ..lab.wording import SHORTCUT_ROWS as LAB_ROWS
        from ..lesson.panel import SHORTCUT_ROWS as LESSON_ROWS

        return dialogs.shortcut_rows(self) + list(LAB_ROWS) + list(EXPERIMENTS_ROWS) + list(LESSON_ROWS)

    def show_shortcuts(self) -> None:
        dialogs.show_shortcuts(self, self.shortcut_rows())

    # ----- shutdown ----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop every worker thread (explorers, analysis, image loading). Safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        self.shortcuts_in_fields.stop()
        self.input_panel.close_gallery()
        for explorer in self.explorers:
            explorer.shutdown()
        self.controller.shutdown()
        self.opener.shutdown()
        self.model_options.shutdown()
        if getattr(self, "report_window", None) is not None:
            self.report_window.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self._shut_down:
            settings.write_settings(self)
        self.shutdown()
        event.accept()

    # ----- state -> status bar --------------------------------------------------------------

    def _on_model_changed(self, loaded) -> None:
        if loaded is None:
            return
        self.model_options.model_changed(loaded)
        # The input panel words things for the model's dataset (digits, or clothes)
        what = "digit" if self.input_panel.words.dataset == "mnist" else "image"
        self.random_action.setText(f"&Random test {what}")
        self.gallery_action.setText(f"&Gallery of test {what}s…")
        for action, tip in ((self.random_action, self.input_panel.random_button.toolTip()),
                            (self.gallery_action, self.input_panel.gallery_button.toolTip())):
            action.setStatusTip(tip)
            action.setToolTip(tip)
        wrap_long_tooltips(self)  # the panels reworded theirs for the model's dataset
        card = loaded.card
        acc = card.get("test_accuracy")
        dataset = loaded.trained_on or "its"
        acc_text = f" · {acc:.2%} ({dataset} test)" if isinstance(acc, (int, float)) else ""
        # The name and description come from the model file: escaped and shortened
        self.model_status_label.setText(f"Model: <b>{as_html(loaded.name, 60)}</b>{acc_text}")
        on_test = f"{acc:.2%} right on the {dataset} test set. " if isinstance(acc, (int, float)) else ""
        self.model_status_label.setToolTip(literal(
            f"{on_test}{shown(loaded.model.description, 400)}\nHelp › About cnnviz shows "
            "the full model card."))

    COMPACT_STATUS_WIDTH = 1200  # narrower: the status bar leaves out "Input: …" (the
    # input panel shows it under the pad), so its messages are not cut off

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.input_status_label.setVisible(self.width() >= self.COMPACT_STATUS_WIDTH)

    def _paint_result(self, _analysis) -> None:
        if not self._shut_down and self.isVisible():
            self.paint_pass.run()

    def _on_image_changed(self, picture: InputImage | None) -> None:
        source = picture.source if picture is not None else ""
        text = f"Input: {source}" if source else ""
        metrics = self.input_status_label.fontMetrics()
        self.input_status_label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, 260))
        self.input_status_label.setToolTip(text)

    def _on_explorer_status(self, index: int, text: str) -> None:
        self._explorer_status[index] = text
        if index == self.tabs.currentIndex():
            self.explorer_status_slot.set_text(text)

    def _on_tab_changed(self, index: int) -> None:
        for i, explorer in enumerate(self.explorers):
            explorer.set_active(i == index)
        if 0 <= index < len(self.tab_actions):
            self.tab_actions[index].setChecked(True)
        self.explorer_status_slot.set_text(self._explorer_status.get(index, ""))
        self.explorer_status_slot.reset_width()
        explorer = self.current_explorer()
        self.explorer_status_label.setToolTip(getattr(explorer, "status_tip", STATUS_TIP))
        wrap_long_tooltips(self)  # the shown tab may have reworded some

"""The main window: the input on the left, the explorers in tabs on the right.

Structure after Qt for Python's application.py example: create_actions / create_menus /
create_toolbar / read_settings / write_settings, with geometry and layout in QSettings,
saved in closeEvent (which also stops every worker thread).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QEvent, QMimeData, QObject, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QImage,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from cnnviz import __version__
from cnnviz.app_state import AppState
from cnnviz.core.data import DATASET_NAMES
from cnnviz.core.images import MAX_PIXELS, ImageError, load_image
from cnnviz.core.samples import default_sample, load_samples
from cnnviz.core.weights import WeightsError

from ..cnn.explorer import CnnExplorer
from ..controllers import AnalysisController, LatestRequestRunner
from ..input.panel import InputPanel
from ..kernel.explorer import KernelExplorer
from ..widgets.tooltips import wrap_long_tooltips

IMAGE_FILTER = ("Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.pgm *.ppm *.pbm);;"
                "All files (*)")

KEY_IDEAS = (
    "A convolution is a weighted sum of the pixel values of the image as the window slides "
    "across the whole image. Each filter (kernel) looks at a small patch only (locality), and "
    "the same few weights are used at every position, so a CNN needs far fewer parameters than "
    "a fully connected network (5×5 + 1 = 26 per filter) and the patterns it learns are "
    "translation invariant. Stacking convolution, activation (ReLU) and pooling layers builds a "
    "hierarchy of patterns, from edges to strokes to whole digits. Each layer's output size is "
    "(W − F + 2P) / S + 1; 2×2 pooling with stride 2 halves the width and height. At the end the "
    "feature maps are flattened, fully connected layers combine them, and a softmax turns the "
    "scores into class probabilities.")

TAB_NAMES = ("cnn-explorer", "kernel-explorer")


def _icon(theme, standard: QStyle.StandardPixmap) -> QIcon:
    """A theme icon where the desktop has one, else Qt's built-in standard icon."""
    fallback = QApplication.style().standardIcon(standard)
    try:
        return QIcon.fromTheme(theme, fallback)
    except TypeError:  # older Qt without QIcon.ThemeIcon
        return fallback


def _load_in_worker(source: str | bytes, name: str):
    """Runs on the image-loader thread: ("ok", array, name) or ("error", reason, name)."""
    try:
        return "ok", load_image(source), name
    except ImageError as exc:  # a plain reason that names the file
        return "error", str(exc), name
    except (OSError, ValueError, MemoryError) as exc:
        return "error", f"{name} cannot be read ({exc})", name


def _rgba_to_png(rgba: np.ndarray) -> bytes:
    """Encode a pasted picture as PNG so it goes through the same loader as a file."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _load_pasted(rgba: np.ndarray, name: str):
    try:
        kind, payload, name = _load_in_worker(_rgba_to_png(rgba), name)
    except (OSError, ValueError) as exc:
        return "error", f"the {name} cannot be read ({exc})", name
    if kind == "error":
        payload = payload.replace("the image data", f"the {name}")
    return kind, payload, name


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def default_sample_and_source() -> tuple[np.ndarray, str]:
    """The digit the app opens with, as float32 0..255, and its source text."""
    image, label = default_sample()
    images, _labels, index = load_samples()
    same = np.flatnonzero((images == image).all(axis=(1, 2)))
    number = f" #{int(index[same[0]])}" if same.size else ""
    return image.astype(np.float32), f"MNIST test digit{number} (a {label})"


class _FitToViewport(QWidget):
    """Holds an explorer in a scroll area: it fills the visible area exactly and scrolls only
    when the window is smaller than the explorer's minimum size. (Without this, a word-wrapped
    label inside makes QScrollArea size the explorer by height-for-width, taller than the view.)"""

    def __init__(self, child: QWidget) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(child)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return False

    def heightForWidth(self, _width: int) -> int:  # noqa: N802 (Qt override; QScrollArea asks)
        return -1


class WindowShortcutsInFields(QObject):
    """A text field (a kernel cell, a spin box) claims keys like Ctrl+E (end of line on X11)
    before the window's shortcuts see them. For the window's own shortcuts that are not
    editing keys, this lets the shortcut win: Ctrl+E exports even while a cell is focused.
    Undo, paste, copy, cut, select all and delete stay with the field.

    It filters only the focused field (the one widget that gets ShortcutOverride), never the
    whole application: an application-wide filter would run for every event of every widget."""

    EDITING = tuple(QKeySequence.StandardKey(k) for k in (
        QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo,
        QKeySequence.StandardKey.Paste, QKeySequence.StandardKey.Copy,
        QKeySequence.StandardKey.Cut, QKeySequence.StandardKey.SelectAll,
        QKeySequence.StandardKey.Delete))

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        QApplication.instance().focusChanged.connect(self._on_focus_changed)

    def stop(self) -> None:
        QApplication.instance().focusChanged.disconnect(self._on_focus_changed)

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if old is not None:
            old.removeEventFilter(self)
        if isinstance(new, (QLineEdit, QAbstractSpinBox)) and self._window.isAncestorOf(new):
            new.installEventFilter(self)

    def window_keys(self) -> set[str]:
        editing = {k.toString() for key in self.EDITING for k in QKeySequence.keyBindings(key)}
        return {k.toString() for a in self._window.findChildren(QAction)
                for k in a.shortcuts()} - editing

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if (event.type() == QEvent.Type.ShortcutOverride
                and QKeySequence(event.keyCombination()).toString() in self.window_keys()):
            event.ignore()  # not overridden: the window's shortcut fires
            return True
        return False


class MainWindow(QMainWindow):
    def __init__(self, state: AppState | None = None, data_dir: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state if state is not None else AppState()
        self.data_dir = data_dir
        self.last_dir = ""
        self._shut_down = False
        self._explorer_status: dict[int, str] = {}
        self.setWindowTitle("cnnviz — see inside a convolutional neural network")
        self.setObjectName("cnnviz_main_window")

        self.controller = AnalysisController(self.state, self)
        self.image_loader = LatestRequestRunner("image-loader", self)
        self.image_loader.finished.connect(self._on_image_loaded)
        self.image_loader.failed.connect(self._on_image_load_failed)
        self._loading_name = ""

        self.input_panel = InputPanel(self.state, self.controller, self, data_dir=data_dir)
        self.cnn_explorer = CnnExplorer(self.state, self.controller)
        self.kernel_explorer = KernelExplorer(self.state)
        self.explorers = (self.cnn_explorer, self.kernel_explorer)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for explorer, title in zip(self.explorers, ("CNN explorer", "Kernel explorer")):
            # On a small screen the window may be narrower than an explorer needs: it scrolls
            # instead of pushing the window off the screen.
            scroll = QScrollArea()
            scroll.setWidget(_FitToViewport(explorer))
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            self.tabs.addTab(scroll, title)
        self.tabs.setTabToolTip(0, "A trained network, layer by layer: feature maps after each "
                                   "convolution, ReLU and pooling, the dense layers and the softmax.")
        self.tabs.setTabToolTip(1, "One kernel on the input: pick or type a filter, set stride, "
                                   "padding, activation and pooling, and watch the output and its "
                                   "size (W − F + 2P) / S + 1.")
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("main_splitter")
        self.splitter.addWidget(self.input_panel)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 1)  # a bigger window grows the pad a little,
        self.splitter.setStretchFactor(1, 3)  # the explorers more
        self.splitter.setChildrenCollapsible(False)
        self.input_panel.setMinimumWidth(280)
        self.setCentralWidget(self.splitter)

        self.create_actions()
        self.create_menus()
        self.create_toolbar()
        self.create_status_bar()
        self._default_window_state = self.saveState()

        self.input_panel.open_requested.connect(self.open_image_dialog)
        self.input_panel.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.input_panel.undo_available.connect(self.undo_action.setEnabled)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        for i, explorer in enumerate(self.explorers):
            explorer.status_message.connect(lambda text, i=i: self._on_explorer_status(i, text))
        self.controller.analysis_failed.connect(
            lambda message: self.statusBar().showMessage(f"Analysis failed: {message}", 8000))
        self.state.model_changed.connect(self._on_model_changed)
        self.state.image_changed.connect(self._on_image_changed)
        self.setAcceptDrops(True)
        self.shortcuts_in_fields = WindowShortcutsInFields(self)
        self.read_settings()
        if self.state.model is not None:
            self._on_model_changed(self.state.model)
        if self.state.image is not None:
            self._on_image_changed(self.state.image, self.state.image_source)
        self._on_tab_changed(self.tabs.currentIndex())

    # ----- construction -------------------------------------------------------------------

    def _action(self, text: str, slot, shortcut=None, tip: str = "", icon: QIcon | None = None) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(icon)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                              if shortcut is not None else tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def create_actions(self) -> None:
        SP = QStyle.StandardPixmap  # noqa: N806
        TI = QIcon.ThemeIcon  # noqa: N806
        K = QKeySequence.StandardKey  # noqa: N806
        self.open_action = self._action(
            "&Open image…", self.open_image_dialog, K.Open,
            "Open an image file as the input: any size, grey or colour", _icon(TI.DocumentOpen, SP.SP_DialogOpenButton))
        self.open_weights_action = self._action(
            "Open &weights…", self.open_weights, "Ctrl+Shift+O",
            "Load a trained model (.safetensors written by cnnviz) into the CNN explorer",
            _icon(TI.DocumentOpenRecent, SP.SP_DirOpenIcon))
        self.paste_action = self._action(
            "&Paste image", self.paste, K.Paste,
            "Use the picture (or image file) on the clipboard as the input",
            _icon(TI.EditPaste, SP.SP_FileDialogDetailedView))
        self.export_png_action = self._action(
            "&Export view as PNG…", lambda: self.export_view_png(), "Ctrl+E",
            "Save a picture of the current tab as a PNG file", _icon(TI.DocumentSaveAs, SP.SP_DialogSaveButton))
        self.export_window_action = self._action(
            "Export &window as PNG…", lambda: self.export_view_png(whole_window=True), None,
            "Save a picture of the whole window as a PNG file")
        self.export_npy_action = self._action(
            "Export feature &maps (.npy)…", lambda: self.export_feature_maps(), "Ctrl+Shift+E",
            "Save the array shown in the current tab (e.g. a layer's feature maps) as a NumPy .npy file")
        self.quit_action = self._action("&Quit", self.close, K.Quit, "Close cnnviz",
                                        _icon(TI.ApplicationExit, SP.SP_DialogCloseButton))
        self.quit_action.setShortcuts([QKeySequence("Ctrl+Q")])
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        self.undo_action = self._action("&Undo", self.input_panel.undo, K.Undo,
                                        "Undo the last stroke, clear or loaded image",
                                        _icon(TI.EditUndo, SP.SP_ArrowBack))
        self.clear_action = self._action("&Clear pad", self.input_panel.clear, "Ctrl+L",
                                         "Clear the drawing pad (Delete works too while the pad has focus)",
                                         _icon(TI.EditClear, SP.SP_DialogResetButton))
        self.random_action = self._action("&Random test digit", self.input_panel.random_digit, "Ctrl+R",
                                          "A random real digit from the MNIST test set",
                                          _icon(TI.MediaPlaylistShuffle, SP.SP_BrowserReload))
        self.gallery_action = self._action("&Gallery of test digits…", self.input_panel.show_gallery,
                                           "Ctrl+G", "Browse 300 real MNIST test digits and pick one",
                                           _icon(TI.FolderOpen, SP.SP_FileDialogContentsView))

        self.tab_group = QActionGroup(self)
        self.tab_actions = []
        for i, (name, key) in enumerate((("&CNN explorer", "Ctrl+1"), ("&Kernel explorer", "Ctrl+2"))):
            action = self._action(name, lambda i=i: self.tabs.setCurrentIndex(i), key,
                                  f"Show the {name.replace('&', '')} tab")
            action.setCheckable(True)
            self.tab_group.addAction(action)
            self.tab_actions.append(action)
        self.reset_layout_action = self._action("&Reset layout", self.reset_layout, None,
                                                "Default window size, panel widths and toolbar")
        # F11 everywhere: the platform's own full-screen key is empty on some X11 desktops
        platform_keys = [k.toString() for k in QKeySequence.keyBindings(K.FullScreen)]
        self.fullscreen_action = self._action("&Full screen", self.toggle_full_screen,
                                              ["F11"] + [k for k in platform_keys if k and k != "F11"],
                                              "Fill the screen (handy on a projector)")
        self.fullscreen_action.setCheckable(True)

        self.shortcuts_action = self._action("&Keyboard shortcuts", self.show_shortcuts, K.HelpContents,
                                             "All keyboard shortcuts and mouse gestures")
        self.about_action = self._action("&About cnnviz", self.show_about, None,
                                         "Version, the key ideas, and the current model's card",
                                         _icon(TI.HelpAbout, SP.SP_MessageBoxInformation))
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_qt_action = self._action("About &Qt", QApplication.aboutQt, None,
                                            "The Qt version cnnviz runs on")
        self.about_qt_action.setMenuRole(QAction.MenuRole.AboutQtRole)

    def create_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for a in (self.open_action, self.open_weights_action, self.paste_action, None,
                  self.export_png_action, self.export_window_action, self.export_npy_action, None,
                  self.quit_action):
            file_menu.addSeparator() if a is None else file_menu.addAction(a)
        edit_menu = bar.addMenu("&Edit")
        for a in (self.undo_action, self.clear_action, None, self.random_action, self.gallery_action):
            edit_menu.addSeparator() if a is None else edit_menu.addAction(a)
        self.view_menu = bar.addMenu("&View")
        for a in self.tab_actions:
            self.view_menu.addAction(a)
        self.view_menu.addSeparator()
        help_menu = bar.addMenu("&Help")
        for a in (self.shortcuts_action, None, self.about_action, self.about_qt_action):
            help_menu.addSeparator() if a is None else help_menu.addAction(a)

    def create_toolbar(self) -> None:
        self.toolbar = QToolBar("Main toolbar")
        self.toolbar.setObjectName("main_toolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.setMovable(True)
        for a in (self.open_action, self.open_weights_action, self.export_png_action, None,
                  self.undo_action, self.clear_action, self.random_action, self.gallery_action, None,
                  self.about_action):
            self.toolbar.addSeparator() if a is None else self.toolbar.addAction(a)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        toggle = self.toolbar.toggleViewAction()
        toggle.setText("Show &toolbar")
        toggle.setStatusTip("Show or hide the toolbar")
        for a in (toggle, self.fullscreen_action, None, self.reset_layout_action):
            self.view_menu.addSeparator() if a is None else self.view_menu.addAction(a)

    def create_status_bar(self) -> None:
        bar = self.statusBar()
        self.explorer_status_label = QLabel()
        self.explorer_status_label.setToolTip("What the current tab is doing (e.g. how long the "
                                              "last update took)")
        self.input_status_label = QLabel()
        self.model_status_label = QLabel()
        self.model_status_label.setTextFormat(Qt.TextFormat.RichText)
        for label in (self.explorer_status_label, self.input_status_label, self.model_status_label):
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)
        bar.showMessage("Ready: draw on the pad, or open or drop an image", 6000)

    # ----- defaults, settings ----------------------------------------------------------------

    def load_defaults(self) -> bool:
        """The shipped model and a real MNIST "3", so the window is never empty.
        False (with a visible message) if the model is missing or damaged."""
        ok = True
        if self.state.model is None:
            try:
                self.state.set_model(self.cnn_explorer.shipped_model("cnnviz"))
            except WeightsError as exc:
                ok = False
                self.show_model_problem(str(exc))
        if self.state.image is None:
            image, source = default_sample_and_source()
            self.state.set_image(image, source)
        return ok

    def show_model_problem(self, reason: str) -> None:
        text = (f"No model loaded: {reason}. The kernel explorer works without one; load a "
                "model with File › Open weights… (Ctrl+Shift+O), or reinstall cnnviz.")
        self.model_status_label.setText("<span style='color:#c0392b'>No model loaded</span>")
        self.model_status_label.setToolTip(text)
        self.statusBar().showMessage(text, 15000)
        QTimer.singleShot(0, self, lambda: QMessageBox.warning(self, "cnnviz: no model", text))

    def settings(self) -> QSettings:
        return QSettings()

    def _apply_default_geometry(self) -> None:
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(1280, 800)
            return
        avail = screen.availableGeometry()
        # 90% of a laptop screen; on big screens up to 1500x950 or 70% of the screen,
        # whichever is larger (so a 4K screen at 100% scaling doesn't get a tiny window).
        width = int(min(avail.width() * 0.9, max(1500, avail.width() * 0.7)))
        height = int(min(avail.height() * 0.9, max(950, avail.height() * 0.7)))
        self.resize(width, height)
        frame = self.frameGeometry()
        frame.moveCenter(avail.center())
        self.move(frame.topLeft())

    def _apply_default_splitter(self) -> None:
        total = max(self.width(), 800)
        left = int(min(max(0.3 * total, 320), 470))
        self.splitter.setSizes([left, total - left])

    def read_settings(self) -> None:
        s = self.settings()
        geometry = s.value("window/geometry", QByteArray())
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self._apply_default_geometry()
        window_state = s.value("window/state", QByteArray())
        if isinstance(window_state, QByteArray) and not window_state.isEmpty():
            self.restoreState(window_state)
        splitter = s.value("window/splitter", QByteArray())
        if not (isinstance(splitter, QByteArray) and not splitter.isEmpty()
                and self.splitter.restoreState(splitter)):
            self._apply_default_splitter()
        self.tabs.setCurrentIndex(min(max(self._int(s, "window/tab", 0), 0), self.tabs.count() - 1))
        self.input_panel.set_brush_size(self._int(s, "input/brush", self.input_panel.brush_size()))
        self.last_dir = str(s.value("files/last_dir", "") or "")
        for explorer in self.explorers:
            try:
                explorer.restore_settings(s)
            except Exception as exc:  # old or hand-edited settings must never stop the app
                self.statusBar().showMessage(f"Some saved settings were ignored: {exc}", 8000)

    @staticmethod
    def _int(s: QSettings, key: str, default: int) -> int:
        try:
            return int(s.value(key, default))
        except (TypeError, ValueError):
            return default

    def write_settings(self) -> None:
        s = self.settings()
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.setValue("window/tab", self.tabs.currentIndex())
        s.setValue("input/brush", self.input_panel.brush_size())
        s.setValue("files/last_dir", self.last_dir)
        for explorer in self.explorers:
            explorer.save_settings(s)
        s.sync()

    def reset_layout(self) -> None:
        if self.isFullScreen():
            self.showNormal()
            self.fullscreen_action.setChecked(False)
        self.restoreState(self._default_window_state)
        self.toolbar.show()
        self._apply_default_geometry()
        self._apply_default_splitter()

    def toggle_full_screen(self) -> None:
        if self.isFullScreen():
            self.showNormal()
        else:
            self.showFullScreen()
        self.fullscreen_action.setChecked(self.isFullScreen())

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
        self.image_loader.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if not self._shut_down:
            self.write_settings()
        self.shutdown()
        event.accept()

    # ----- opening images --------------------------------------------------------------------

    def _start_dir(self) -> str:
        return self.last_dir if self.last_dir and Path(self.last_dir).is_dir() else str(Path.home())

    def open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open image", self._start_dir(), IMAGE_FILTER)
        if path:
            self.open_image_file(path)

    def open_image_file(self, path: str | Path) -> None:
        """Load an image off the GUI thread; on success it becomes the input, on failure a
        message says why and the current input stays."""
        path = Path(path)
        self.last_dir = str(path.parent)
        self._loading_name = path.name
        self.statusBar().showMessage(f"Opening {path.name}…")
        self.image_loader.submit(_load_in_worker, str(path), path.name)

    def _on_image_loaded(self, _generation: int, result) -> None:
        kind, payload, name = result
        if kind == "ok":
            h, w = payload.shape[:2]
            self.input_panel.show_image(payload, name)
            self.statusBar().showMessage(f"Opened {name} ({w}×{h})", 5000)
        else:
            self.statusBar().clearMessage()
            self.warn("Cannot open image", _sentence(payload) + "\n\nThe current input is kept.")

    def _on_image_load_failed(self, _generation: int, message: str) -> None:
        self.statusBar().clearMessage()
        self.warn("Cannot open image", f"{self._loading_name} could not be opened: "
                  f"{_sentence(message)}\n\nThe current input is kept.")

    def warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    def open_mime_data(self, mime: QMimeData | None) -> bool:
        """Open what a drop or the clipboard holds: an image file, or a picture.
        Returns False (after a message) if there is nothing usable."""
        if mime is None:
            self.warn("Nothing to open", "The clipboard is empty.")
            return False
        if mime.hasUrls():
            for url in mime.urls():
                if url.isLocalFile():
                    self.open_image_file(url.toLocalFile())
                    return True
            self.warn("Cannot open image", "Only image files on this computer can be opened "
                      "(cnnviz does not download web addresses).")
            return False
        if mime.hasImage():
            image = mime.imageData()
            if isinstance(image, QImage) and not image.isNull():
                return self.open_qimage(image, "pasted image")
        if mime.hasText():
            text = mime.text().strip()
            if text.startswith("file:"):
                text = QUrl(text.splitlines()[0]).toLocalFile()
            if text and "\n" not in text and Path(text).expanduser().is_file():
                self.open_image_file(Path(text).expanduser())
                return True
        self.warn("Nothing to open", "The clipboard or the dropped item holds no picture and no "
                  "image file.")
        return False

    def open_qimage(self, image: QImage, name: str) -> bool:
        """A picture from the clipboard or a drop: checked and decoded like a file."""
        if image.width() * image.height() > MAX_PIXELS:
            self.warn("Cannot open image", f"The {name} is {image.width()}×{image.height()} "
                      f"pixels, more than the {MAX_PIXELS:,} cnnviz accepts.\n\nThe current input "
                      "is kept.")
            return False
        rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
        h, w, stride = rgba.height(), rgba.width(), rgba.bytesPerLine()
        raw = np.frombuffer(rgba.constBits(), dtype=np.uint8, count=stride * h)
        array = raw.reshape(h, stride)[:, : 4 * w].reshape(h, w, 4).copy()
        self._loading_name = name
        self.statusBar().showMessage(f"Opening the {name}…")
        self.image_loader.submit(_load_pasted, array, name)
        return True

    def paste(self) -> None:
        self.open_mime_data(QGuiApplication.clipboard().mimeData())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasImage() or any(u.isLocalFile() for u in mime.urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        if self.open_mime_data(event.mimeData()):
            event.acceptProposedAction()

    # ----- other actions -------------------------------------------------------------------

    def current_explorer(self):
        return self.explorers[max(0, self.tabs.currentIndex())]

    def open_weights(self) -> None:
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
        stem = "cnnviz-window" if whole_window else f"cnnviz-{TAB_NAMES[self.tabs.currentIndex()]}"
        if path is None:
            path = self._save_path("Export view as PNG", f"{stem}.png", "PNG images (*.png)", ".png")
            if path is None:
                return None
        pixmap = widget.grab()
        if not pixmap.save(path, "PNG"):
            self.warn("Export failed", f"Could not write {path} (is the folder writable?).")
            return None
        self.last_dir = str(Path(path).parent)
        self.statusBar().showMessage(f"Saved {pixmap.width()}×{pixmap.height()} picture to {path}", 6000)
        return path

    def export_feature_maps(self, path: str | None = None) -> str | None:
        """np.save the array the current tab shows (e.g. a layer's feature maps)."""
        exported = self.current_explorer().export_array()
        if exported is None:
            QMessageBox.information(self, "Nothing to export",
                                    "This tab shows no array yet: draw or open an input first.")
            return None
        stem, array = exported
        stem = re.sub(r"[^\w.-]+", "-", stem).strip("-") or "cnnviz-array"
        if path is None:
            path = self._save_path("Export feature maps", f"{stem}.npy", "NumPy arrays (*.npy)", ".npy")
            if path is None:
                return None
        try:
            np.save(path, np.asarray(array), allow_pickle=False)
        except (OSError, ValueError) as exc:
            self.warn("Export failed", f"Could not write {path}: {exc}")
            return None
        self.last_dir = str(Path(path).parent)
        array = np.asarray(array)
        self.statusBar().showMessage(f"Saved a {array.shape} {array.dtype} array to {path}", 6000)
        return path

    def about_text(self) -> str:
        loaded = self.state.model
        if loaded is None:
            card_html = "<p><i>No model is loaded.</i></p>"
        else:
            card = loaded.card
            rows = []
            acc = card.get("test_accuracy")
            facts = [
                ("Model", loaded.name),
                ("Architecture", getattr(loaded.model.arch, "description", "")),
                ("Dataset", DATASET_NAMES[loaded.dataset]),
                ("Test accuracy", f"{acc:.2%}" if isinstance(acc, (int, float)) else None),
                ("Training images", f"{card['train_images']:,}"
                 if isinstance(card.get("train_images"), int) else None),
                ("Epochs", card.get("epochs")),
                ("Optimizer", f"{card.get('optimizer', '')} lr {card.get('lr', '')} "
                              f"{card.get('schedule', '')}".strip() if card.get("optimizer") else None),
                ("Augmentation", {True: "yes", False: "no"}.get(card.get("augment"))),
                ("Seed", card.get("seed")),
                ("Trained with", card.get("command")),
                ("File", str(loaded.path) if loaded.path else None),
            ]
            for key, value in facts:
                if value not in (None, ""):
                    rows.append(f"<tr><td><b>{key}</b></td><td>{value}</td></tr>")
            card_html = "<table cellspacing='2'>" + "".join(rows) + "</table>"
        return (f"<h3>cnnviz {__version__}</h3>"
                "<p>See inside convolutional neural networks: draw a digit, pick kernels, "
                "watch every layer.</p>"
                f"<p><b>The key ideas.</b> {KEY_IDEAS}</p>"
                f"<p><b>Current model</b></p>{card_html}"
                "<p>MIT licence. Built with PySide6 (Qt), pyqtgraph, NumPy and PyTorch.</p>")

    def show_about(self) -> None:
        QMessageBox.about(self, "About cnnviz", self.about_text())

    def shortcut_rows(self) -> list[tuple[str, str]]:
        rows = []
        for a in (self.open_action, self.open_weights_action, self.paste_action, self.export_png_action,
                  self.export_npy_action, self.quit_action, self.undo_action, self.clear_action,
                  self.random_action, self.gallery_action, *self.tab_actions, self.fullscreen_action,
                  self.shortcuts_action):
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
            if keys:
                rows.append((a.text().replace("&", "").rstrip("…"), keys))
        rows += [("Clear the pad (pad focused)", "Delete"),
                 ("Draw", "Left mouse button, pen or finger on the pad"),
                 ("Erase", "Right mouse button, or a pen's eraser end"),
                 ("Open an image", "Drop an image file on the window")]
        return rows

    def show_shortcuts(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard shortcuts")
        layout = QVBoxLayout(dialog)
        rows = self.shortcut_rows()
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Keys"])
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        table.setAlternatingRowColors(True)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for r, (what, keys) in enumerate(rows):
            table.setItem(r, 0, QTableWidgetItem(what))
            table.setItem(r, 1, QTableWidgetItem(keys))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout.addWidget(buttons)
        dialog.resize(580, 470)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    # ----- state -> status bar --------------------------------------------------------------

    def _on_model_changed(self, loaded) -> None:
        if loaded is None:
            return
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
        dataset = DATASET_NAMES[loaded.dataset]
        acc_text = f" · {acc:.2%} ({dataset} test)" if isinstance(acc, (int, float)) else ""
        self.model_status_label.setText(f"Model: <b>{loaded.name}</b>{acc_text}")
        on_test = f"{acc:.2%} right on the {dataset} test set. " if isinstance(acc, (int, float)) else ""
        self.model_status_label.setToolTip(
            f"{on_test}{getattr(loaded.model.arch, 'description', '')}\nHelp › About cnnviz shows "
            "the full model card.")

    def _on_image_changed(self, image, source: str) -> None:
        text = f"Input: {source}" if source else ""
        metrics = self.input_status_label.fontMetrics()
        self.input_status_label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, 260))
        self.input_status_label.setToolTip(text)

    def _on_explorer_status(self, index: int, text: str) -> None:
        self._explorer_status[index] = text
        if index == self.tabs.currentIndex():
            self.explorer_status_label.setText(text)

    def _on_tab_changed(self, index: int) -> None:
        for i, explorer in enumerate(self.explorers):
            explorer.set_active(i == index)
        if 0 <= index < len(self.tab_actions):
            self.tab_actions[index].setChecked(True)
        self.explorer_status_label.setText(self._explorer_status.get(index, ""))
        wrap_long_tooltips(self)  # the shown tab may have reworded some

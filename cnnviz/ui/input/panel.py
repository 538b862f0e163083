"""The input side of the window: the drawing pad and its tools, the network's answer, and
the preprocessing strip that shows how a drawing becomes the network's 28x28 input.

A composition of small panels, bound to the AppState:
- whatever sets state.input_image (a file, a paste, the gallery, a random test digit)
  appears on the pad, scaled to fit;
- drawing on the pad makes the pad's picture the input, live, as the pen moves:
  state.drawing = ... and state.input_image = InputImage(picture, source). The analysis
  controller paces the requests; the results come back through the state (analysis_ready,
  analysis_failed) and this panel only draws them.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from cnnviz.app_state import InputImage
from cnnviz.core.networks.network import default_class_names

from .answer import AnswerView
from .drawing_pad import MAX_BRUSH, MIN_BRUSH, DrawingPad
from .gallery import GalleryDialog, ModelPictures
from .strip import PreprocessingStrip
from .tools import PadTools
from .wording import DIGITS, PAD_HELP, heading, pad_source, wording


class InputPanel(QWidget):
    """Pad + tools + the network's answer + preprocessing strip.

    state: the AppState. controller: accepted for the window's call; the panel needs only
    the state (requests and pacing are the AnalysisController's, results arrive through the
    state). data_dir: where the test pictures are looked for.

    open_requested(): the Open… button (the main window shows its file dialog).
    message(str): a short text for the status bar.
    undo_available(bool): whether Undo can do something now.
    """

    open_requested = Signal()
    message = Signal(str)
    undo_available = Signal(bool)
    redo_available = Signal(bool)

    def __init__(self, state, controller=None, parent: QWidget | None = None,
                 data_dir: str | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.words = DIGITS
        self._from_pad = False  # True while we set state.image from the pad
        self.pictures = ModelPictures(data_dir, self)
        self.test_digits = self.pictures.digits
        self.hint = _label(DIGITS.heading, PAD_HELP)
        self.pad = DrawingPad()
        self.answer = AnswerView()
        self.tools = PadTools()
        self.source_label = _label("", "Where the current input comes from")
        self.source_label.setStyleSheet("color: palette(placeholder-text);")
        self.preprocessing = PreprocessingStrip()
        # the parts the window and the tests reach for
        self.prediction_label, self.prediction_text = self.answer.label, self.answer.text
        self.random_button, self.gallery_button = self.tools.random_button, self.tools.gallery_button
        self.undo_button = self.tools.undo_button
        self.network_input = self.preprocessing.network_input
        self._lay_out()
        self._connect()
        self._apply_wording()
        self._show_state()

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        # the pad is as tall as it is wide (height-for-width) when there is room; the answer
        # right under it, so it is visible from both tabs
        for widget in (self.hint, self.pad, self.answer, self.tools, self.source_label, line,
                       self.preprocessing):
            layout.addWidget(widget)
        layout.addStretch(1)

    def _connect(self) -> None:
        tools = self.tools
        tools.brush_changed.connect(self.set_brush_size)
        tools.undo_button.clicked.connect(self.undo)
        tools.clear_button.clicked.connect(self.clear)
        tools.open_button.clicked.connect(self.open_requested)
        tools.random_button.clicked.connect(self.random_digit)
        tools.gallery_button.clicked.connect(self.show_gallery)
        self.pictures.picked.connect(self.show_image)
        self.pad.changed.connect(self._on_pad_changed)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self, self.clear,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.state.events.input_image.connect(self._on_image_changed)
        self.state.analysis_ready.connect(self._on_analysis)
        self.state.analysis_failed.connect(self.answer.show_failure)
        self.state.events.model.connect(self._on_model_changed)
        self.state.events.model_loading.connect(self._on_model_loading)

    def _show_state(self) -> None:
        state = self.state
        if state.input_image is not None:
            self._on_image_changed(state.input_image)
        if state.analysis is not None:
            self._on_analysis(state.analysis)
        else:
            self.answer.show_waiting(state.model, self.words, state.model_loading)
        self._refresh_undo()

    # ----- actions ----------------------------------------------------------------------

    def brush_size(self) -> int:
        return self.tools.brush()

    def set_brush_size(self, size: int) -> None:
        size = int(min(MAX_BRUSH, max(MIN_BRUSH, size)))
        self.tools.show_brush(size)
        self.pad.set_brush_size(size)

    def undo(self) -> bool:
        done = self.pad.undo()
        if not done:
            self.message.emit("Nothing to undo")
        return done

    def redo(self) -> bool:
        done = self.pad.redo()
        if not done:
            self.message.emit("Nothing to redo")
        return done

    def clear(self) -> None:
        self.pad.clear()

    def show_image(self, image: np.ndarray, source: str) -> None:
        """Make `image` (full resolution) the input; the pad shows it scaled to fit."""
        self.state.input_image = InputImage(image, source)

    def random_digit(self) -> None:
        self.show_image(*self.pictures.random())
        self.message.emit(f"{self.words.random}: {self.test_digits.note}")

    def gallery(self) -> GalleryDialog:
        return self.pictures.gallery(self.window())

    def show_gallery(self) -> None:
        dialog = self.gallery()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def close_gallery(self) -> None:
        self.pictures.close()

    # ----- pad -> state -----------------------------------------------------------------

    def _on_pad_changed(self, picture: np.ndarray) -> None:
        """Make the pad's picture the input (or, after undo, the original it shows)."""
        self._refresh_undo()
        pad = self.pad
        origin = pad.origin()
        if isinstance(origin, tuple):  # undo went back to a loaded image: use it at full resolution
            image, source = origin  # (the (image, source) _show_image gave the pad)
        else:
            image, source = picture, pad_source(pad.is_empty(), pad.base(), pad.is_pristine())
        self.state.drawing = pad.is_drawing()
        self._from_pad = True
        try:
            self.state.input_image = InputImage(image, source)
        finally:
            self._from_pad = False

    def _refresh_undo(self) -> None:
        can = self.pad.can_undo()
        self.tools.undo_button.setEnabled(can)
        self.undo_available.emit(can)
        self.redo_available.emit(self.pad.can_redo())

    # ----- state -> views -----------------------------------------------------------------

    def _on_image_changed(self, picture: InputImage | None) -> None:
        image, source = (None, "") if picture is None else (picture.pixels, picture.source)
        if not self._from_pad and image is not None:
            try:
                self.pad.set_image(image, origin=(image, source), label=source)
            except ValueError as exc:
                self.message.emit(f"Cannot show this image on the pad: {exc}")
        self.source_label.setText(f"Input: {source}" if source else "")
        if image is not None and np.ndim(image) >= 2:
            h, w = np.shape(image)[:2]
            colour = "colour" if np.ndim(image) == 3 else "grey"
            self.source_label.setToolTip(f"Where the current input comes from ({w}×{h} pixels, "
                                         f"{colour})")
        self._refresh_undo()

    def _on_model_loading(self, loading: bool) -> None:
        if self.state.analysis is None:
            self.answer.show_waiting(self.state.model, self.words, loading)

    def _on_model_changed(self, _loaded) -> None:
        self._apply_wording()
        if self.state.image is None:
            self.answer.show_waiting(self.state.model, self.words, self.state.model_loading)

    def _apply_wording(self) -> None:
        """Headings, hints and tooltips that fit the model's dataset (digits or clothes)."""
        words = self.words = wording(self.state.model)
        shipped_only = self.pictures.shipped_only(words.dataset)
        self.hint.setText(heading(words, shipped_only))
        self.preprocessing.set_dataset_title(words.title, words.resized_to)
        self.pad.set_hint(words.pad_hint)
        self.tools.set_wording(words, shipped_only)
        self.pictures.set_dataset(words.dataset)

    def _on_analysis(self, analysis) -> None:
        model = self.state.model
        classes = model.classes if model is not None else default_class_names(10)
        self.preprocessing.show_digit(analysis.digit)
        self.answer.show_analysis(analysis, classes, self.words)


def _label(text: str, tip: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setToolTip(tip)
    return label

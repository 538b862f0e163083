"""The input side of the window: the drawing pad, its tools, the network's answer, and the
preprocessing strip that shows how a drawing becomes the network's 28x28 input.

The pad follows the AppState: whatever sets state.image (a file, a paste, the gallery, a
random test digit) appears on the pad, scaled to fit, and drawing on the pad makes the pad's
picture the input (state.set_image(pad.image(), "your drawing")), live, as the pen moves.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QKeySequence, QPainter, QPaintEvent, QPen, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.data import DATASET_NAMES
from ...core.inference import percent
from ...core.samples import load_samples
from .drawing_pad import DEFAULT_BRUSH, MAX_BRUSH, MIN_BRUSH, DrawingPad, array_to_qimage
from .gallery import GalleryDialog, TestDigits
from .wording import DIGITS, Wording, blank_input, model_dataset, nothing_to_read, wording  # noqa: F401

PACE_TIMEOUT_MS = 400  # while drawing, send the newest picture at least this often
NETWORK_INPUT_LINES = ["Result", "28×28"]  # short enough for the narrowest column

PREPROCESS_HELP = (
    "MNIST digits were size-normalised to fit a 20×20 box (aspect ratio kept) and centred by "
    "their centre of mass in a 28×28 frame, white ink on black. A drawing or a photo goes "
    "through the same steps before the network sees it; otherwise it would read it badly. "
    "Hover over a step to see what it does; a grey step was not needed for this picture.")


class ArrayView(QWidget):
    """A small image drawn to fit a square: crisp pixels when enlarged, smooth when shrunk."""

    def __init__(self, side: int = 56, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._side = side
        self.setMinimumSize(28, 28)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(side)

    def set_array(self, array: np.ndarray | None,
                  value_range: tuple[float, float] | None = None) -> None:
        self._image = None if array is None else array_to_qimage(array, value_range)
        self.update()

    def qimage(self) -> QImage | None:
        return self._image

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._side, self._side)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        side = min(self.width(), self.height())
        box = QRect((self.width() - side) // 2, (self.height() - side) // 2, side, side)
        painter.fillRect(box, QColor(0, 0, 0))
        if self._image is not None:
            iw, ih = self._image.width(), self._image.height()
            k = min(side / iw, side / ih)
            w, h = max(1, round(iw * k)), max(1, round(ih * k))
            target = QRect(box.x() + (side - w) // 2, box.y() + (side - h) // 2, w, h)
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, k < 1)
            painter.drawImage(target, self._image)
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.drawRect(box.adjusted(0, 0, -1, -1))
        painter.end()


class FitCaption(QLabel):
    """A caption of one or more short lines, each cut with "…" when the column is narrower
    than the word (word wrap would split "needed)" over the column's edge)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_lines(self, lines: list[str]) -> None:
        self._lines = list(lines)
        self._fit()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(0, self.fontMetrics().height() * max(1, len(self._lines)))

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        fm = self.fontMetrics()
        width = max((fm.horizontalAdvance(line) for line in self._lines), default=0)
        return QSize(width, fm.height() * max(1, len(self._lines)))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        fm = self.fontMetrics()
        width = max(1, self.width())
        text = "\n".join(fm.elidedText(line, Qt.TextElideMode.ElideRight, width)
                         for line in self._lines)
        if text != self.text():
            self.setText(text)


class StepView(QWidget):
    """One preprocessing step: its picture over its title; the explanation is the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture = ArrayView(52)
        self.caption = FitCaption()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        font = self.caption.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        self.caption.setFont(font)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.picture)
        layout.addWidget(self.caption, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(28)  # seven steps fit the narrowest input panel (280 px)
        self.key = ""

    def set_side(self, side: int) -> None:
        if self.picture.height() != side:
            self.picture.setFixedHeight(side)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        strip = self.parentWidget()
        if isinstance(strip, StepStrip):  # one picture size for the whole row
            strip.fit_pictures()

    def set_step(self, key: str, title: str, explanation: str, image: np.ndarray | None,
                 tooltip: str | None = None, lines: list[str] | None = None,
                 idle: bool = False) -> None:
        """image: float 0..1 (preprocessing's convention). lines: the caption (default: the
        title without its note in brackets). idle: the step had nothing to work on."""
        self.key = key
        # a step that did nothing ("Invert (not needed)") is shown in grey, with one short
        # word under it; the tooltip gives the whole title and why
        self.caption.set_lines(lines or [title.split(" (")[0]])
        style = "color: gray;" if "(" in title or idle else ""
        if self.caption.styleSheet() != style:  # a style sheet change re-polishes the widget
            self.caption.setStyleSheet(style)
        self.picture.set_array(image, (0.0, 1.0))
        size = "" if image is None else f" ({image.shape[1]}×{image.shape[0]})"
        self.setToolTip(tooltip or f"<b>{title}</b>{size}<br>{explanation}")


class StepStrip(QWidget):
    """The row of preprocessing steps. All pictures get one size, as big as the narrowest
    column allows (28..96 px): the layout's columns differ by a pixel, and pictures sized
    each to its own column would put the captions at different heights."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views: list[StepView] = []

    def fit_pictures(self) -> None:
        if self.views:
            side = min(96, max(28, min(v.width() for v in self.views)))
            for view in self.views:
                view.set_side(side)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)  # (the layout has already placed the columns)
        self.fit_pictures()


class InputPanel(QWidget):
    """Pad + tools + the network's answer + preprocessing strip.

    open_requested(): the Open… button (the main window shows its file dialog).
    message(str): a short text for the status bar.
    undo_available(bool): whether Undo can do something now.
    """

    open_requested = Signal()
    message = Signal(str)
    undo_available = Signal(bool)

    def __init__(self, state, controller=None, parent: QWidget | None = None,
                 data_dir: str | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.controller = controller
        self.test_digits = TestDigits(data_dir)
        self._gallery: GalleryDialog | None = None
        self._from_pad = False  # True while we set state.image from the pad
        self._pad_pending = False  # the pad changed while an analysis was running
        self._delivered = 0  # newest analysis generation shown (or failed)
        self._pace_timer = QTimer(self)
        self._pace_timer.setSingleShot(True)
        self._pace_timer.setInterval(PACE_TIMEOUT_MS)
        self._pace_timer.timeout.connect(self._forward_pending)
        self._steps: list[StepView] = []
        self._arrows: list[QLabel] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        self.hint = QLabel(DIGITS.heading)
        self.hint.setWordWrap(True)
        self.hint.setToolTip("Left button, pen or finger draws; right button erases.\n"
                             "Or open an image (Ctrl+O), drop a file here, paste (Ctrl+V), "
                             "or pick a real test picture from the gallery.")
        layout.addWidget(self.hint)

        self.pad = DrawingPad()
        self.pad.changed.connect(self._on_pad_changed)
        layout.addWidget(self.pad)  # as tall as it is wide (height-for-width) when there is room

        # The network's answer, right under the pad, so it is visible from both tabs.
        answer = QHBoxLayout()
        answer.setSpacing(10)
        self.prediction_label = QLabel("–")
        base = self.prediction_label.font().pointSizeF()
        self._big_font = QFont(self.prediction_label.font())
        self._big_font.setPointSizeF(base * 2.4)
        self._big_font.setBold(True)
        self._name_font = QFont(self._big_font)  # a class name ("Sandal", "T-shirt/top")
        self._name_font.setPointSizeF(base * 1.3)
        self.prediction_label.setFont(self._big_font)
        self.prediction_label.setMinimumWidth(self.prediction_label.fontMetrics().horizontalAdvance("88"))
        self.prediction_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prediction_label.setToolTip("The class with the highest softmax probability: "
                                         "the network's answer for the input.")
        self.prediction_text = QLabel("Draw a digit")
        self.prediction_text.setWordWrap(True)
        self.prediction_text.setTextFormat(Qt.TextFormat.RichText)
        self.prediction_text.setToolTip(
            "The softmax layer turns the last layer's scores into probabilities that add up "
            "to 100%. 'Sure' is the top probability; a low value means the network hesitates.")
        answer.addWidget(self.prediction_label)
        answer.addWidget(self.prediction_text, 1)
        layout.addLayout(answer)

        # Tools: brush, undo, clear / open, random, gallery.
        row1 = QHBoxLayout()
        brush_label = QLabel("Brush")
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(MIN_BRUSH, MAX_BRUSH)
        self.brush_slider.setValue(int(DEFAULT_BRUSH))
        self.brush_value = QLabel()
        self.brush_value.setMinimumWidth(self.brush_value.fontMetrics().horizontalAdvance("48 px "))
        brush_tip = (f"Brush width in pad pixels (the pad is 280×280, ten per MNIST pixel). "
                     f"MNIST strokes are 2–3 pixels wide in 28×28; with about {int(DEFAULT_BRUSH)} px "
                     "a digit drawn to fill the pad ends up just as thick after preprocessing.")
        for w in (brush_label, self.brush_slider, self.brush_value):
            w.setToolTip(brush_tip)
        self.brush_slider.valueChanged.connect(self.set_brush_size)
        self.undo_button = self._tool("Undo", QStyle.StandardPixmap.SP_ArrowBack,
                                      "Undo the last stroke, clear or loaded image (Ctrl+Z)",
                                      self.undo)
        self.clear_button = self._tool("Clear", QStyle.StandardPixmap.SP_DialogResetButton,
                                       "Clear the pad to draw a new digit (Ctrl+L or Delete)",
                                       self.clear)
        row1.addWidget(brush_label)
        row1.addWidget(self.brush_slider, 1)
        row1.addWidget(self.brush_value)
        row1.addWidget(self.undo_button)
        row1.addWidget(self.clear_button)
        layout.addLayout(row1)

        row2 = QHBoxLayout()
        self.open_button = self._tool("Open…", QStyle.StandardPixmap.SP_DialogOpenButton,
                                      "Open an image file (PNG, JPEG, BMP, …) as the input (Ctrl+O). "
                                      "Any size or colour; it is preprocessed like MNIST.",
                                      self.open_requested.emit)
        self.random_button = self._tool(DIGITS.random, QStyle.StandardPixmap.SP_BrowserReload,
                                        "A random real digit from the MNIST test set, which the "
                                        "network never saw while training (Ctrl+R)",
                                        self.random_digit)
        self.gallery_button = self._tool("Gallery…", QStyle.StandardPixmap.SP_FileDialogContentsView,
                                         "Browse 300 real MNIST test digits by label and click one "
                                         "to use it", self.show_gallery)
        for b in (self.open_button, self.random_button, self.gallery_button):
            row2.addWidget(b)
        row2.addStretch(1)
        layout.addLayout(row2)

        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        self.source_label.setToolTip("Where the current input comes from")
        self.source_label.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(self.source_label)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        self.strip_title = strip_title = QLabel()
        strip_title.setWordWrap(True)
        strip_title.setToolTip(PREPROCESS_HELP)
        layout.addWidget(strip_title)
        self.strip = StepStrip()
        self.strip.setToolTip(PREPROCESS_HELP)
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(0, 0, 0, 0)
        self.strip_layout.setSpacing(1)
        self.network_input = StepView()
        self.network_input.set_step("network-input", "Network input 28×28",
                                    "The 28×28 picture, values 0..1, that goes into the first "
                                    "convolution layer.", None, lines=NETWORK_INPUT_LINES)
        self.strip_layout.addWidget(self.network_input)
        self.strip.views = [self.network_input]
        layout.addWidget(self.strip)
        layout.addStretch(1)

        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self, self.clear,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        self.set_brush_size(int(DEFAULT_BRUSH))
        self.words = DIGITS
        self._gallery_for = ""  # the dataset the gallery was filled for
        self._apply_wording()
        state.image_changed.connect(self._on_image_changed)
        state.analysis_ready.connect(self._on_analysis)
        state.model_changed.connect(self._on_model_changed)
        if controller is not None:
            controller.analysis_failed.connect(self._on_analysis_failed)
            controller.runner.finished.connect(self._on_analysis_done)
            controller.runner.failed.connect(self._on_analysis_done)
        if state.image is not None:
            self._on_image_changed(state.image, state.image_source)
        if state.analysis is not None:
            self._on_analysis(state.analysis)
        else:
            self._show_waiting()
        self._refresh_undo()

    def _tool(self, text: str, icon, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setIcon(self.style().standardIcon(icon))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setToolTip(tip)
        button.setAutoRaise(False)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    # ----- actions ----------------------------------------------------------------------

    def brush_size(self) -> int:
        return int(self.brush_slider.value())

    def set_brush_size(self, size: int) -> None:
        size = int(min(MAX_BRUSH, max(MIN_BRUSH, size)))
        if self.brush_slider.value() != size:
            self.brush_slider.setValue(size)  # calls us again
            return
        self.pad.set_brush_size(size)
        self.brush_value.setText(f"{size} px")

    def undo(self) -> bool:
        done = self.pad.undo()
        if not done:
            self.message.emit("Nothing to undo")
        return done

    def clear(self) -> None:
        self.pad.clear()

    def show_image(self, image: np.ndarray, source: str) -> None:
        """Make `image` (full resolution) the input; the pad shows it scaled to fit."""
        self.state.set_image(image, source)

    def random_digit(self) -> None:
        image, source, _label = self.test_digits.random(model_dataset(self.state.model))
        self.show_image(image, source)
        self.message.emit(f"{self.words.random}: {self.test_digits.note}")

    def gallery(self) -> GalleryDialog:
        if self._gallery is None:
            self._gallery = GalleryDialog(self.window())
            self._gallery.digit_picked.connect(self.show_image)
            self._gallery_for = "mnist"
        self._sync_gallery()
        return self._gallery

    def _sync_gallery(self) -> None:
        """Fill the gallery with test pictures of the model's dataset, or say why not."""
        dataset = model_dataset(self.state.model)
        if self._gallery is None or dataset == self._gallery_for:
            return
        self._gallery_for = dataset
        samples = self.test_digits.gallery_samples(dataset) if dataset != "mnist" else None
        if samples is not None:
            self._gallery.set_samples(dataset, *samples)
            return
        note = ""
        if dataset != "mnist":
            note = (f"Only MNIST digits ship with cnnviz: the {DATASET_NAMES[dataset]} test "
                    f"files are not in the data folder (run cnnviz data download {dataset}), "
                    "so these are digits, which this model was not trained to read.")
        self._gallery.set_samples("mnist", *load_samples(), note=note)

    def show_gallery(self) -> None:
        dialog = self.gallery()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def close_gallery(self) -> None:
        if self._gallery is not None:
            self._gallery.close()

    # ----- state -> view ------------------------------------------------------------------

    def _on_pad_changed(self, picture: np.ndarray) -> None:
        self._refresh_undo()
        if self.pad.is_drawing() and self._analysis_busy():
            # Pace live updates to the analysis: the worker keeps only the newest request and
            # drops results that are stale on arrival, so sending every pen sample would
            # starve the views until the pen stops. The newest picture goes out as soon as
            # the current analysis is shown (or after PACE_TIMEOUT_MS, whichever is first).
            self._pad_pending = True
            if not self._pace_timer.isActive():
                self._pace_timer.start()
            return
        self._forward_pad(picture)

    def _analysis_busy(self) -> bool:
        if self.controller is None:
            return False
        return self.controller.runner.generation > self._delivered

    def _on_analysis_done(self, generation: int, _payload) -> None:
        self._delivered = max(self._delivered, generation)
        self._forward_pending()

    def _forward_pending(self) -> None:
        if self._pad_pending:
            self._forward_pad()

    def _forward_pad(self, picture: np.ndarray | None = None) -> None:
        """Make the pad's picture the input (or, after undo, the original it shows).
        picture: the pad's picture if the caller has it at hand (saves a copy per stroke)."""
        self._pad_pending = False
        self._pace_timer.stop()
        if picture is None:
            picture = self.pad.image()
        origin = self.pad.origin()
        if origin is not None:  # undo went back to a loaded image: use it at full resolution
            image, source = origin
        else:
            image = picture
            base = self.pad.base()
            if self.pad.is_empty():
                source = "empty pad"
            elif base is None:
                source = "your drawing"
            elif self.pad.is_pristine():  # undo to an original that was too big to keep
                source = f"{base} (the pad's 280×280 copy)"
            else:
                source = f"your drawing over {base}"
        self._from_pad = True
        try:
            self.state.set_image(image, source)
        finally:
            self._from_pad = False

    def _on_image_changed(self, image: np.ndarray, source: str) -> None:
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

    def _refresh_undo(self) -> None:
        can = self.pad.can_undo()
        self.undo_button.setEnabled(can)
        self.undo_available.emit(can)

    def _on_model_changed(self, loaded) -> None:
        self._apply_wording()
        if self.state.image is None:
            self._show_waiting()

    def _apply_wording(self) -> None:
        """Headings, hints and tooltips that fit the model's dataset (digits or clothes)."""
        words = self.words = wording(self.state.model)
        dataset = words.dataset
        title = DATASET_NAMES.get(dataset, dataset)
        heading = words.heading
        shipped_only = dataset != "mnist" and not self.test_digits.available(dataset)
        if shipped_only:
            heading += (f"<br><span style='color:gray'>Only MNIST digits ship with cnnviz, so "
                        f"{words.random} and the gallery give digits; run <i>cnnviz data "
                        f"download {dataset}</i> for {title} pictures.</span>")
        self.hint.setText(heading)
        self.strip_title.setText(f"<b>What the network sees</b> — preprocessing, as {title} was "
                                 "made (grey: not needed):")
        self.pad.set_hint(words.pad_hint)
        self.random_button.setText(words.random)
        what = "digit" if dataset == "mnist" else "picture"
        tip = (f"A random real {what} from the {title} test set, which the network never saw "
               "while training (Ctrl+R)")
        gallery_tip = (f"Browse 300 real {title} test {what}s by label and click one to use it")
        if shipped_only:
            extra = (f". The {title} test files are not in the data folder and only MNIST "
                     "digits ship with cnnviz, so for now this gives an MNIST digit.")
            tip += extra
            gallery_tip += extra
        self.random_button.setToolTip(tip)
        self.gallery_button.setToolTip(gallery_tip)
        self._sync_gallery()

    def _show_waiting(self) -> None:
        self.prediction_label.setText("")
        if self.state.model is None:
            self.prediction_text.setText("No model loaded: choose one with File › Open weights…")
        else:
            self.prediction_text.setText(self.words.prompt)

    def _on_analysis_failed(self, message: str) -> None:
        self.prediction_label.setText("?")
        self.prediction_text.setText(f"<span style='color:#c0392b'>The network could not read "
                                     f"this input: {message}</span>")

    def _class_name(self, k: int) -> str:
        model = self.state.model
        classes = model.classes if model is not None else [str(i) for i in range(10)]
        return classes[k] if 0 <= k < len(classes) else str(k)

    def _on_analysis(self, analysis) -> None:
        digit = analysis.digit
        self._update_strip(digit)
        if digit.empty:
            short, why = nothing_to_read(digit, self.words)
            self._set_answer("")
            self.prediction_text.setText(short if blank_input(digit)
                                         else f"<b>{short}</b>.<br><span style='color:gray'>"
                                              f"{why}</span>")
            self.prediction_label.setToolTip(why)
            return
        self.prediction_label.setToolTip("The class with the highest softmax probability: "
                                         "the network's answer for the input.")
        top = analysis.top3
        k, p = top[0]
        name = self._class_name(k)
        self._set_answer(name)
        others = " · ".join(html.escape(f"{self._class_name(i)} {percent(q)}")
                            for i, q in top[1:])  # rich text: "<0.1%" must not be a tag
        sure = "sure" if p >= 0.9 else ("fairly sure" if p >= 0.6 else "unsure")
        self.prediction_text.setText(
            f"The network reads <b>{html.escape(name)}</b> — {html.escape(percent(p))} "
            f"({sure}).<br>"
            f"<span style='color:gray'>Next: {others}</span>")

    def _set_answer(self, name: str) -> None:
        """The answer in large type: a digit big, a class name ("Sandal") smaller."""
        font = self._big_font if len(name) <= 2 else self._name_font
        if self.prediction_label.font() != font:
            self.prediction_label.setFont(font)
        self.prediction_label.setText(name)

    def _update_strip(self, digit) -> None:
        steps = list(digit.steps or [])
        final_tip = ("<b>Network input 28×28</b><br>The 28×28 picture, values 0..1, that goes into "
                     "the first convolution layer.")
        last = steps[-1] if steps else None
        if last is not None and np.shape(last.image) == np.shape(digit.image) and \
                np.array_equal(last.image, digit.image):
            # the last step made the network input: show it once, explained in the tooltip
            steps = steps[:-1]
            final_tip += f"<br><br><b>{last.title}</b>: {last.explanation}"
        if [s.key for s in steps] != [v.key for v in self._steps]:
            for view in self._steps:
                view.deleteLater()
            for arrow in self._arrows:
                arrow.deleteLater()
            self._steps, self._arrows = [], []
            self.strip_layout.removeWidget(self.network_input)
            for _ in steps:
                view = StepView()
                arrow = QLabel("›")
                arrow.setStyleSheet("color: gray;")
                arrow.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
                arrow.setContentsMargins(0, 16, 0, 0)
                self.strip_layout.addWidget(view, 1)
                self.strip_layout.addWidget(arrow)
                self._steps.append(view)
                self._arrows.append(arrow)
            self.strip_layout.addWidget(self.network_input, 1)
            self.strip.views = self._steps + [self.network_input]
        for view, step in zip(self._steps, steps):
            # no ink found: the steps after cleaning had nothing to do (grey, like "not needed")
            view.set_step(step.key, step.title, step.explanation, np.asarray(step.image),
                          idle=digit.empty and step.key not in ("grey", "invert", "clean"))
        self.network_input.set_step("network-input", "Network input 28×28", "",
                                    np.asarray(digit.image), tooltip=final_tip,
                                    lines=NETWORK_INPUT_LINES)

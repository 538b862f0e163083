"""The input side of the window: the drawing pad, its tools, the network's answer, and the
preprocessing strip that shows how a drawing becomes the network's 28x28 input.

The pad follows the AppState: whatever sets state.image (a file, a paste, the gallery, a
random test digit) appears on the pad, scaled to fit, and drawing on the pad makes the pad's
picture the input (state.set_image(pad.image(), "your drawing")), live, as the pen moves.
"""

from __future__ import annotations

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

from .drawing_pad import DEFAULT_BRUSH, MAX_BRUSH, MIN_BRUSH, DrawingPad, array_to_qimage
from .gallery import GalleryDialog, TestDigits

PACE_TIMEOUT_MS = 400  # while drawing, send the newest picture at least this often

PREPROCESS_HELP = (
    "MNIST digits were size-normalised to fit a 20×20 box (aspect ratio kept) and centred by "
    "their centre of mass in a 28×28 frame, white ink on black. A drawing or a photo goes "
    "through the same steps before the network sees it; otherwise it would read it badly. "
    "Hover over a step to see what it does.")


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


class StepView(QWidget):
    """One preprocessing step: its picture over its title; the explanation is the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture = ArrayView(52)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.caption.setWordWrap(True)
        font = self.caption.font()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        self.caption.setFont(font)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.picture)
        layout.addWidget(self.caption, 1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(36)
        self.key = ""

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        # pictures as big as the column allows (36..96 px), so a wide panel shows more detail
        side = min(96, max(36, self.width()))
        if self.picture.height() != side:
            self.picture.setFixedHeight(side)
        super().resizeEvent(event)

    def set_step(self, key: str, title: str, explanation: str, image: np.ndarray | None,
                 tooltip: str | None = None) -> None:
        """image: float 0..1 (preprocessing's convention)."""
        self.key = key
        self.caption.setText(title)
        # a step that did nothing ("Invert (not needed)") is shown in grey
        self.caption.setStyleSheet("color: gray;" if "(" in title else "")
        self.picture.set_array(image, (0.0, 1.0))
        size = "" if image is None else f" ({image.shape[1]}×{image.shape[0]})"
        self.setToolTip(tooltip or f"<b>{title}</b>{size}<br>{explanation}")


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

        self.hint = QLabel("<b>Draw a digit</b>: the network reads it as you draw.")
        self.hint.setWordWrap(True)
        self.hint.setToolTip("Left button, pen or finger draws; right button erases.\n"
                             "Or open an image (Ctrl+O), drop a file here, paste (Ctrl+V), "
                             "or pick a real MNIST digit from the gallery.")
        layout.addWidget(self.hint)

        self.pad = DrawingPad()
        self.pad.changed.connect(self._on_pad_changed)
        layout.addWidget(self.pad)  # as tall as it is wide (height-for-width) when there is room

        # The network's answer, right under the pad, so it is visible from both tabs.
        answer = QHBoxLayout()
        answer.setSpacing(10)
        self.prediction_label = QLabel("–")
        big = QFont(self.prediction_label.font())
        big.setPointSizeF(big.pointSizeF() * 2.4)
        big.setBold(True)
        self.prediction_label.setFont(big)
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
        self.random_button = self._tool("Random test digit", QStyle.StandardPixmap.SP_BrowserReload,
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
        strip_title = QLabel("<b>What the network sees</b> — preprocessing, as MNIST was made:")
        strip_title.setWordWrap(True)
        strip_title.setToolTip(PREPROCESS_HELP)
        layout.addWidget(strip_title)
        self.strip = QWidget()
        self.strip.setToolTip(PREPROCESS_HELP)
        self.strip_layout = QHBoxLayout(self.strip)
        self.strip_layout.setContentsMargins(0, 0, 0, 0)
        self.strip_layout.setSpacing(3)
        self.network_input = StepView()
        self.network_input.set_step("network-input", "Network input 28×28",
                                    "The 28×28 picture, values 0..1, that goes into the first "
                                    "convolution layer.", None)
        self.strip_layout.addWidget(self.network_input)
        layout.addWidget(self.strip)
        layout.addStretch(1)

        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self, self.clear,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

        self.set_brush_size(int(DEFAULT_BRUSH))
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
        model = self.state.model
        dataset = (model.card.get("dataset") if model is not None else None) or "mnist"
        image, source, _label = self.test_digits.random(dataset)
        self.show_image(image, source)
        self.message.emit(f"Random test digit: {self.test_digits.note}")

    def gallery(self) -> GalleryDialog:
        if self._gallery is None:
            self._gallery = GalleryDialog(self.window())
            self._gallery.digit_picked.connect(self.show_image)
        return self._gallery

    def show_gallery(self) -> None:
        dialog = self.gallery()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def close_gallery(self) -> None:
        if self._gallery is not None:
            self._gallery.close()

    # ----- state -> view ------------------------------------------------------------------

    def _on_pad_changed(self, _picture: np.ndarray) -> None:
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
        self._forward_pad()

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

    def _forward_pad(self) -> None:
        """Make the pad's picture the input (or, after undo, the original it shows)."""
        self._pad_pending = False
        self._pace_timer.stop()
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
        if self.state.image is None:
            self._show_waiting()

    def _show_waiting(self) -> None:
        self.prediction_label.setText("")
        if self.state.model is None:
            self.prediction_text.setText("No model loaded: choose one with File › Open weights…")
        else:
            self.prediction_text.setText("Draw a digit")

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
            self.prediction_label.setText("")
            self.prediction_text.setText("Draw a digit")
            self.prediction_label.setToolTip("The pad is empty: there is nothing to read yet.")
            return
        top = analysis.top3
        k, p = top[0]
        name = self._class_name(k)
        self.prediction_label.setText(name if len(name) <= 3 else str(k))
        others = " · ".join(f"{self._class_name(i)} {q:.1%}" for i, q in top[1:])
        sure = "sure" if p >= 0.9 else ("fairly sure" if p >= 0.6 else "unsure")
        self.prediction_text.setText(
            f"The network reads <b>{name}</b> — {p:.1%} ({sure}).<br>"
            f"<span style='color:gray'>Next: {others}</span>")

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
        for view, step in zip(self._steps, steps):
            view.set_step(step.key, step.title, step.explanation, np.asarray(step.image))
        self.network_input.set_step("network-input", "Network input 28×28", "",
                                    np.asarray(digit.image), tooltip=final_tip)

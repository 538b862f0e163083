"""The pad's tools: brush width, Undo and Clear on one row; Open…, Random and Gallery… on
the next. Buttons only: the input panel connects them to what they do."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QVBoxLayout, QWidget

from .drawing_pad import DEFAULT_BRUSH, MAX_BRUSH, MIN_BRUSH
from .wording import CLEAR_HELP, DIGITS, OPEN_HELP, UNDO_HELP, Wording, brush_tip, gallery_tip, random_tip


class PadTools(QWidget):
    """brush_changed(int): the slider moved (pad pixels)."""

    brush_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        SP = QStyle.StandardPixmap
        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(MIN_BRUSH, MAX_BRUSH)
        self.brush_slider.setValue(int(DEFAULT_BRUSH))
        self.brush_value = QLabel()
        self.brush_value.setMinimumWidth(self.brush_value.fontMetrics().horizontalAdvance("48 px "))
        brush_label = QLabel("Brush")
        for w in (brush_label, self.brush_slider, self.brush_value):
            w.setToolTip(brush_tip(DEFAULT_BRUSH))
        self.brush_slider.valueChanged.connect(self.brush_changed)
        self.undo_button = self._button("Undo", SP.SP_ArrowBack, UNDO_HELP)
        self.clear_button = self._button("Clear", SP.SP_DialogResetButton, CLEAR_HELP)
        self.open_button = self._button("Open…", SP.SP_DialogOpenButton, OPEN_HELP)
        self.random_button = self._button(DIGITS.random, SP.SP_BrowserReload,
                                          random_tip(DIGITS, False))
        self.gallery_button = self._button("Gallery…", SP.SP_FileDialogContentsView,
                                           gallery_tip(DIGITS, False))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(_row(brush_label, (self.brush_slider, 1), self.brush_value,
                              self.undo_button, self.clear_button))
        layout.addLayout(_row(self.open_button, self.random_button, self.gallery_button,
                              stretch=True))
        self.show_brush(int(DEFAULT_BRUSH))

    def _button(self, text: str, icon, tip: str) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setIcon(self.style().standardIcon(icon))
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setToolTip(tip)
        button.setAutoRaise(False)
        return button

    def brush(self) -> int:
        return int(self.brush_slider.value())

    def show_brush(self, size: int) -> None:
        """Move the slider (without emitting brush_changed) and show the width."""
        if self.brush_slider.value() != size:
            blocked = self.brush_slider.blockSignals(True)
            self.brush_slider.setValue(size)
            self.brush_slider.blockSignals(blocked)
        self.brush_value.setText(f"{size} px")

    def set_wording(self, words: Wording, shipped_only: bool) -> None:
        self.random_button.setText(words.random)
        self.random_button.setToolTip(random_tip(words, shipped_only))
        self.gallery_button.setToolTip(gallery_tip(words, shipped_only))


def _row(*items, stretch: bool = False) -> QHBoxLayout:
    """A row of widgets; an item (widget, n) gets stretch factor n."""
    row = QHBoxLayout()
    for item in items:
        widget, factor = item if isinstance(item, tuple) else (item, 0)
        row.addWidget(widget, factor)
    if stretch:
        row.addStretch(1)
    return row

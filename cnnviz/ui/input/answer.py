"""The network's answer under the pad: the class in large type, and a line that says how
sure the network is and what comes next. Visible from both tabs."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from cnnviz.core.basics.formulas import percent
from cnnviz.core.basics.text_safety import shown
from cnnviz.core.reading.verdict import not_like, trained_only_on, unsure_help

from ..widgets.text_slot import TextSlot
from .wording import (
    ANSWER_HELP,
    LOADING_MODEL,
    NO_MODEL,
    SOFTMAX_HELP,
    Wording,
    blank_input,
    confidence,
    nothing_to_read,
)

UNSURE_COLOUR = "#b35c00"  # the verdict's words (dark orange: a warning, not an error)
DOUBTFUL_COLOUR = "#9a9a9a"  # the best guess in large type, when it should not be trusted


class AnswerView(QWidget):
    """show_analysis / show_failure / show_waiting; class names come from the model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("–")
        base = self.label.font().pointSizeF()
        self.big_font = QFont(self.label.font())
        self.big_font.setPointSizeF(base * 2.4)
        self.big_font.setBold(True)
        self.name_font = QFont(self.big_font)  # a class name ("Sandal", "T-shirt/top")
        self.name_font.setPointSizeF(base * 1.3)
        self.label.setFont(self.big_font)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setToolTip(ANSWER_HELP)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # a class name from the model file
        self.text = QLabel("Draw a digit")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setToolTip(SOFTMAX_HELP)
        # new words with every pen step, without a layout pass (see TextSlot)
        self.label_slot = TextSlot(self.label)
        self.label_slot.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("88"))
        self.text_slot = TextSlot(self.text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self.label_slot)
        layout.addWidget(self.text_slot, 1)

    def show_waiting(self, model, words: Wording, loading: bool = False) -> None:
        self.label_slot.set_text("")
        if model is None:
            self.text_slot.set_text(LOADING_MODEL if loading else NO_MODEL)
        else:
            self.text_slot.set_text(words.prompt)

    def show_failure(self, message: str) -> None:
        self.label_slot.set_text("?")
        self.text_slot.set_text(f"<span style='color:#c0392b'>The network could not read this input: "
                          f"{html.escape(message)}</span>")

    def show_analysis(self, analysis, classes: list[str], words: Wording) -> None:
        digit = analysis.digit
        if digit.empty:
            short, why = nothing_to_read(digit, words)
            self._set_answer("")
            self.text.setToolTip(SOFTMAX_HELP)
            self.text_slot.set_text(short if blank_input(digit)
                              else f"<b>{short}</b>.<br><span style='color:gray'>{why}</span>")
            self.label.setToolTip(why)
            return
        top = analysis.top3
        k, p = top[0]
        name = class_name(classes, k)
        unsure = bool(getattr(analysis, "unsure", False))
        self._set_answer(name, doubtful=unsure)
        others = " · ".join(html.escape(f"{class_name(classes, i)} {percent(q)}")
                            for i, q in top[1:])  # rich text: "<0.1%" must not be a tag
        if unsure:
            # The verdict beside the unchanged softmax: the best guess is still named.
            self.label.setToolTip(unsure_help(words.dataset))
            self.text.setToolTip(unsure_help(words.dataset))
            self.text_slot.set_text(
                f"<span style='color:{UNSURE_COLOUR}'><b>This {not_like(words.dataset)}</b></span>"
                f" — the network's best guess is <b>{html.escape(name)}</b> "
                f"({html.escape(percent(p))}), but it was trained only on "
                f"{html.escape(trained_only_on(words.dataset))}."
                f"<br><span style='color:gray'>Next: {others}</span>")
            return
        self.label.setToolTip(ANSWER_HELP)
        self.text.setToolTip(SOFTMAX_HELP)
        self.text_slot.set_text(
            f"The network reads <b>{html.escape(name)}</b> — {html.escape(percent(p))} "
            f"({confidence(p)}).<br><span style='color:gray'>Next: {others}</span>")

    def _set_answer(self, name: str, doubtful: bool = False) -> None:
        """The answer in large type: a digit big, a class name ("Sandal") smaller; grey when
        the input does not look like what the network knows."""
        font = self.big_font if len(name) <= 2 else self.name_font
        if self.label.font() != font:
            self.label.setFont(font)
            self.label_slot.refit()
        self.label_slot.set_text(name)
        style = f"color: {DOUBTFUL_COLOUR};" if doubtful else ""
        if self.label.styleSheet() != style:
            self.label.setStyleSheet(style)


MAX_CLASS_NAME = 40  # characters of a class name shown (the names come from the model file)


def class_name(classes: list[str], k: int) -> str:
    return shown(classes[k], MAX_CLASS_NAME) if 0 <= k < len(classes) else str(k)

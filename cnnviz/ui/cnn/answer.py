"""The network's answer in large type, how sure it is, and the class probabilities."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...core.basics.formulas import percent
from ...core.reading.verdict import not_like, trained_only_on, unsure_help
from ..input.answer import class_name
from ..input.wording import DIGITS, blank_input, nothing_to_read
from ..widgets.text_slot import TextSlot
from .bar_plot import BarPlot

PROB_TITLE = "Class probabilities (softmax)"
UNSURE_COLOUR = "#b35c00"  # the verdict's words (dark orange: a warning, not an error)
DOUBTFUL_COLOUR = "#9a9a9a"  # the best guess in large type, when it should not be trusted
ANSWER_TIP = "The class with the highest probability after the softmax layer: the network's answer."
SURE_TIP = ("How sure the network is: the softmax probability of its answer (all of them add "
            "up to 100%).")


class AnswerPanel(QWidget):
    """digit_label (the answer), prob_label (how sure, the runner-up) and prob_plot (one
    bar per class). set_classes when the model changes, show(analysis, classes, words)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        answer = QVBoxLayout()
        answer.setSpacing(0)
        cap = QLabel("The network reads")
        cap.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        answer.addWidget(cap)
        self.digit_label = QLabel("—")
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setToolTip(ANSWER_TIP)
        self.digit_label.setTextFormat(Qt.TextFormat.PlainText)  # a class name from the file
        # both change with every pen step, without a layout pass (see TextSlot); the sizes
        # are the slots'
        self.digit_slot = TextSlot(self.digit_label)
        self.digit_slot.setMinimumWidth(150)
        self._set_font(64)
        answer.addWidget(self.digit_slot)
        self.prob_label = QLabel(DIGITS.prompt)
        self.prob_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.prob_label.setWordWrap(True)
        self.prob_label.setToolTip("How sure the network is: the softmax probability of its "
                                   "answer (all 10 add up to 100%).")
        self.prob_slot = TextSlot(self.prob_label)
        self.prob_slot.setMaximumWidth(230)  # the verdict's sentence wraps instead of widening
        answer.addWidget(self.prob_slot)
        row.addLayout(answer)
        self.prob_plot = BarPlot(title=PROB_TITLE, grid=False)
        self.prob_plot.setToolTip("The softmax layer's output: one probability per class, "
                                  "adding up to 1. The orange bar is the answer. Point at a "
                                  "bar to read its class and probability.")
        self.prob_plot.setMinimumHeight(128)
        self.prob_plot.setMaximumHeight(140)
        self.prob_plot.getAxis("left").setLabel("p")
        plot_column = QVBoxLayout()
        plot_column.setSpacing(0)
        plot_column.addWidget(self.prob_plot, 1)
        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip("Show the probabilities on a log scale (100%, 1%, 0.01%, …), so "
                                "the classes the network all but rules out show too, not only "
                                "the winner.")
        self.log_box.toggled.connect(self._on_log_toggled)
        plot_column.addWidget(self.log_box, 0, Qt.AlignmentFlag.AlignRight)
        row.addLayout(plot_column, 1)

    def _on_log_toggled(self, on: bool) -> None:
        self.prob_plot.set_log_scale(on)
        self.prob_plot.getAxis("left").setLabel("p (log)" if on else "p")

    def _set_font(self, points: int) -> None:
        font = QFont()
        font.setPointSize(points)
        font.setBold(True)
        self.digit_label.setFont(font)
        self.digit_slot.refit()

    def set_classes(self, classes: list[str]) -> None:
        self.prob_plot.configure(len(classes), names=classes, highlight_top=True,
                                 title=PROB_TITLE, fixed_range=(0.0, 1.05))
        self.prob_plot.set_values(np.zeros(len(classes)))

    def show_analysis(self, analysis, classes: list[str], words) -> None:
        if analysis.digit.empty:
            self._show_nothing(analysis, len(classes), words)
            return
        name = class_name(classes, analysis.prediction)  # printable, shortened
        unsure = bool(getattr(analysis, "unsure", False))
        self._set_answer(name, 64 if len(name) <= 2 else 24, doubtful=unsure)
        top3 = analysis.top3
        extra = (f"<br><span style='color:#666'>next: {html.escape(class_name(classes, top3[1][0]))} "
                 f"{html.escape(percent(top3[1][1]))}</span>" if len(top3) > 1 else "")
        probs = analysis.probabilities
        sure = html.escape(percent(probs[analysis.prediction]))  # ">99.9%" is rich text too
        if unsure:  # the verdict beside the unchanged softmax; the best guess is still named
            dataset = words.dataset
            self.prob_label.setToolTip(unsure_help(dataset))
            self.digit_label.setToolTip(unsure_help(dataset))
            self.prob_slot.set_text(
                f"<span style='color:{UNSURE_COLOUR}'><b>This {not_like(dataset)}</b></span><br>"
                f"best guess {html.escape(name)} ({sure}), but it was trained only on "
                f"{html.escape(trained_only_on(dataset))}")
        else:
            self.prob_label.setToolTip(SURE_TIP)
            self.digit_label.setToolTip(ANSWER_TIP)
            self.prob_slot.set_text(f"<b>{sure}</b> sure{extra}")
        self.prob_plot.set_values(probs)

    def _show_nothing(self, analysis, n: int, words) -> None:
        short, why = nothing_to_read(analysis.digit, words)
        blank = blank_input(analysis.digit)
        self._set_answer("—" if blank else "", 24)
        self.digit_label.setToolTip(ANSWER_TIP)  # (a 64 pt dash is a black bar)
        # a blank pad asks for a drawing; a picture without ink says so, in bold
        self.prob_slot.set_text(short if blank else f"<b>{short}</b>")
        self.prob_label.setToolTip(why)
        self.prob_plot.set_values(np.zeros(n))

    def _set_answer(self, text: str, points: int, doubtful: bool = False) -> None:
        if self.digit_label.font().pointSize() != points:
            self._set_font(points)
        if self.digit_label.text() != text:
            self.digit_slot.set_text(text)
        style = f"color: {DOUBTFUL_COLOUR};" if doubtful else ""  # grey: not to be trusted
        if self.digit_label.styleSheet() != style:
            self.digit_label.setStyleSheet(style)

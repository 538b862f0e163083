"""A step's exercise in the lesson panel: the question, an answer box, Check, another
variant from the seed, and after a check the verdict, the likely slip and the working."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from ...core.basics.limits import MAX_ANSWER_CHARS, MAX_TRAIN_SEED
from ...core.experiments import exercises

PLACEHOLDERS = {"count": "e.g. 448", "pair": "rows × columns, e.g. 24x14",
                "size": "one number, e.g. 55", "grid": "rows split by ';', e.g. 2 1; 0 3"}


def wrapped_label(text: str = "", tip: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if tip:
        label.setToolTip(tip)
    return label


class ExerciseBox(QGroupBox):
    """checked(right) after each answer the box could read (the panel keeps the score)."""

    checked = Signal(bool)

    def __init__(self) -> None:
        super().__init__("Exercise")
        self.exercise: exercises.Exercise | None = None
        self.base: exercises.Exercise | None = None  # the step's own exercise
        self.step_index = 0
        self.variant_number = 0
        self.source_label = wrapped_label(tip="Where the question comes from: the lecture's slide, or "
                                       "a variant made from the seed")
        self.source_label.setStyleSheet("color: #666;")
        self.question = wrapped_label()
        self.answer = QLineEdit()
        self.answer.setMaxLength(MAX_ANSWER_CHARS)
        self.answer.setToolTip("Type your answer, then press Enter or Check. Sizes as 24x14 or "
                               "(24, 14); grids row by row, rows split by ';'")
        self.answer.returnPressed.connect(self.check)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Check the answer: right or not, the likely slip, and the "
                                     "working with the lecture's formula (Enter)")
        self.check_button.clicked.connect(self.check)
        self.another_button = QPushButton("Another like this")
        self.another_button.setToolTip("A new question of the same kind, made from the seed: "
                                       "everyone with the same seed gets the same numbers")
        self.another_button.clicked.connect(self.another)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, MAX_TRAIN_SEED)
        self.seed_spin.setPrefix("seed ")
        self.seed_spin.setToolTip("The seed of the variants: a teacher gives the class one seed "
                                  "so that everyone answers the same questions")
        self.verdict = wrapped_label()
        self.working = wrapped_label(tip="How the answer is worked out, with the lecture's formula")
        self.working.setStyleSheet("color: #333; background: #f4f4f4; padding: 4px;")
        self._lay_out()

    def _lay_out(self) -> None:
        buttons = QHBoxLayout()
        for widget in (self.check_button, self.another_button):
            buttons.addWidget(widget)
        layout = QVBoxLayout(self)
        for part in (self.source_label, self.question, self.answer):
            layout.addWidget(part)
        layout.addLayout(buttons)
        layout.addWidget(self.seed_spin)  # its own row: the panel stays narrow at large text
        layout.addWidget(self.verdict)
        layout.addWidget(self.working)

    def show_exercise(self, exercise: exercises.Exercise | None, step_index: int, seed: int) -> None:
        """The step's own exercise (None: the box hides)."""
        self.base, self.step_index, self.variant_number = exercise, step_index, 0
        self.seed_spin.setValue(seed)
        self.setVisible(exercise is not None)
        if exercise is not None:
            self._show(exercise)

    def _show(self, exercise: exercises.Exercise) -> None:
        self.exercise = exercise
        title = exercises.KIND_TITLES[exercise.kind]
        self.setTitle(f"Exercise: {title}")
        self.source_label.setText(exercise.source)
        self.question.setText(exercise.question)
        self.answer.clear()
        self.answer.setPlaceholderText(PLACEHOLDERS[exercise.form])
        self.verdict.clear()
        self.working.clear()
        self.working.hide()

    def another(self) -> None:
        if self.base is None:
            return
        self.variant_number += 1
        n = self.step_index * 1000 + self.variant_number  # each step its own numbers
        self._show(exercises.variant(self.base.kind, self.seed_spin.value(), n))
        self.answer.setFocus()

    def check(self) -> exercises.Check | None:
        if self.exercise is None:
            return None
        result = exercises.check(self.exercise, self.answer.text())
        colour = "#1e8449" if result.right else "#c0392b" if result.understood else "#7f6000"
        self.verdict.setText(f"<span style='color:{colour}'><b>{html.escape(result.message)}</b></span>")
        if result.understood:
            self.working.setText("<br>".join(html.escape(line) for line in result.working))
            self.working.show()
            self.checked.emit(result.right)
        return result

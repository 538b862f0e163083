"""The lesson panel: a dock beside the tabs that walks a lesson's steps. Each step sets the
app up (setup.StepApplier), shows the lecture's point with its formula and what to try,
and may ask an exercise (exercise_box.ExerciseBox). PageDown / PageUp step through it
wherever the focus is; leaving the tour keeps the step, and the score is kept per lesson
(cnnviz.core.lessons.lesson.ScoreBook)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...core.lessons.lesson import Lesson, ScoreBook
from .exercise_box import ExerciseBox, wrapped_label
from .setup import StepApplier

NEXT_KEYS = ("PgDown",)
PREVIOUS_KEYS = ("PgUp",)
SHORTCUT_ROWS = (("Lesson: next step / previous step (wherever the focus is)", "PgDown / PgUp"),
                 ("Lesson: check the answer", "Enter in the answer box"))
PANEL_WIDTH = 280  # at least; narrow windows keep room for the tabs


class LessonPanel(QDockWidget):
    def __init__(self, window, lesson: Lesson, scores: ScoreBook | None = None) -> None:
        super().__init__("Lesson", window)
        self.setObjectName("lesson_dock")
        self.setToolTip("")
        self.main = window
        self.applier = StepApplier(window)
        self.scores = scores if scores is not None else ScoreBook()
        self.lesson = lesson
        self.index = 0
        self.problems: list[str] = []
        self._build()
        self._create_actions()
        self.visibilityChanged.connect(self._on_visibility)
        self.set_lesson(lesson)

    # ----- building ----------------------------------------------------------------------

    def _build(self) -> None:
        self.lesson_label = wrapped_label(tip="The lesson being followed")
        self.lesson_label.setStyleSheet("color: #666;")
        self.step_label = wrapped_label()
        font = self.step_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.step_label.setFont(font)
        self.text_label = wrapped_label(tip="What the lecture says at this step")
        self.formula_label = wrapped_label(tip="The lecture's formula for this step")
        self.formula_label.setStyleSheet("background: #eef3fb; border: 1px solid #c7d5ee; "
                                         "padding: 6px; font-size: 12pt;")
        self.try_label = wrapped_label(tip="What to try in the app now (the tour waits while you play)")
        self.problem_label = wrapped_label()
        self.problem_label.setStyleSheet("color: #9a6700;")
        self.exercise_box = ExerciseBox()
        self.exercise_box.checked.connect(self._on_checked)
        self.score_label = wrapped_label(tip="This lesson's exercises answered right, kept on this "
                                      "computer")
        self.score_label.setStyleSheet("color: #444;")
        column = QWidget()
        layout = QVBoxLayout(column)
        for widget in (self.lesson_label, self.step_label, self.text_label, self.formula_label,
                       self.try_label, self.problem_label, self.exercise_box, self.score_label):
            layout.addWidget(widget)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(column)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer = QWidget()
        outer_layout = QVBoxLayout(outer)
        outer_layout.setContentsMargins(4, 4, 4, 4)
        outer_layout.addWidget(scroll, 1)
        outer_layout.addLayout(self._buttons())
        self.setWidget(outer)
        self.setMinimumWidth(PANEL_WIDTH)

    def _buttons(self) -> QVBoxLayout:
        def button(text: str, tip: str, slot) -> QPushButton:
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            return b

        self.previous_button = button("◀ Previous", "The previous step (PgUp)", self.previous)
        self.next_button = button("Next ▶", "The next step (PgDown)", self.next)
        self.again_button = button("Set up again", "Put this step's setup back in force after "
                                   "you have played with the app", self.setup_again)
        self.leave_button = button("Leave the tour", "Close the panel and play freely; Help › "
                                   "Take the lecture tour brings you back to this step", self.hide)
        nav = QHBoxLayout()
        nav.addWidget(self.previous_button)
        nav.addWidget(self.next_button)
        more = QHBoxLayout()
        more.addWidget(self.again_button)
        more.addWidget(self.leave_button)
        rows = QVBoxLayout()
        rows.addLayout(nav)
        rows.addLayout(more)
        return rows

    def _create_actions(self) -> None:
        """Window-wide keys (a presenter's clicker sends PgDown / PgUp), on only while the
        panel is shown, so the keys keep their usual meaning otherwise."""
        self.next_action = QAction("Next lesson step", self.main)
        self.previous_action = QAction("Previous lesson step", self.main)
        for action, keys, slot in ((self.next_action, NEXT_KEYS, self.next),
                                   (self.previous_action, PREVIOUS_KEYS, self.previous)):
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.triggered.connect(lambda _checked=False, s=slot: s())
            self.main.addAction(action)

    def _on_visibility(self, visible: bool) -> None:
        for action in (self.next_action, self.previous_action):
            action.setEnabled(visible)

    # ----- steps -------------------------------------------------------------------------

    def set_lesson(self, lesson: Lesson) -> None:
        """Follow `lesson` from the step the student was last at."""
        self.lesson = lesson
        self.applier.folders = (lesson.folder,) if lesson.folder is not None else ()
        self.setWindowTitle(f"Lesson: {lesson.title}")
        self.lesson_label.setText(lesson.title)
        self.lesson_label.setToolTip(lesson.about or lesson.title)
        self.go(self.scores.position(lesson))

    @property
    def step(self):
        return self.lesson.steps[self.index]

    def go(self, index: int) -> None:
        """Show step `index` (0-based) and set the app up for it."""
        self.index = min(max(int(index), 0), len(self.lesson.steps) - 1)
        step, count = self.step, len(self.lesson.steps)
        self.step_label.setText(f"Step {self.index + 1} of {count}: {step.title}")
        self.text_label.setText(step.text)
        self.formula_label.setText(step.formula)
        self.formula_label.setVisible(bool(step.formula))
        self.try_label.setText(f"<b>Try:</b> {html.escape(step.try_text)}" if step.try_text else "")
        self.try_label.setVisible(bool(step.try_text))
        self.exercise_box.show_exercise(step.exercise, self.index, self.lesson.seed)
        self.previous_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < count - 1)
        self.scores.set_position(self.lesson, self.index)
        self.setup_again()
        self._show_score()

    def next(self) -> None:
        if self.index < len(self.lesson.steps) - 1:
            self.go(self.index + 1)

    def previous(self) -> None:
        if self.index > 0:
            self.go(self.index - 1)

    def setup_again(self) -> None:
        self.problems = self.applier.apply(self.step)
        self.problem_label.setText(" ".join(self.problems))
        self.problem_label.setVisible(bool(self.problems))

    def _on_checked(self, right: bool) -> None:
        self.scores.record(self.lesson, self.index, right)
        self._show_score()

    def _show_score(self) -> None:
        score = self.scores.score(self.lesson)
        text = f"Score: {score.text}." if score.total else ""
        if self.scores.problem:
            text += f" ({self.scores.problem})"
        self.score_label.setText(text)
        self.score_label.setVisible(bool(text))

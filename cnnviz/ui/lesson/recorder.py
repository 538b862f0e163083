"""Recording a lesson (File › Record a lesson…): a dock where a teacher sets the app up,
writes a caption and adds the step; steps can be edited, retaken, reordered, deleted, shown
again, and the lesson saved as a `.cnnviz-lesson` file (checked as it will be read, written
atomically) or played at once in the lesson panel."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...core.experiments.exercises import LECTURE_QUESTIONS
from ...core.lessons.lesson import LESSON_SUFFIX, LessonError, lesson_document, parse_lesson, write_lesson
from ..window.files import safe_stem
from .capture import capture_setup, missing_from_capture
from .setup import StepApplier

FILE_FILTER = f"cnnviz lessons (*{LESSON_SUFFIX});;All files (*)"


class RecorderPanel(QDockWidget):
    def __init__(self, window) -> None:
        super().__init__("Record a lesson", window)
        self.setObjectName("lesson_recorder_dock")
        self.main = window
        self.steps: list[dict] = []
        self.saved_path: Path | None = None
        self.applier = StepApplier(window)
        self._build()
        self._refresh()

    # ----- building ----------------------------------------------------------------------

    def _build(self) -> None:
        self.title_edit = QLineEdit("My lesson")
        self.title_edit.setToolTip("The lesson's title, shown at the top of the lesson panel")
        self.list = QListWidget()
        self.list.setToolTip("The lesson's steps in order; pick one to edit, show, move or delete it")
        self.list.currentRowChanged.connect(self._on_row)
        self.step_title = QLineEdit()
        self.step_title.setPlaceholderText("e.g. Stride")
        self.step_title.setToolTip("The step's title")
        self.step_text = QPlainTextEdit()
        self.step_text.setPlaceholderText("What the class should see here")
        self.step_text.setToolTip("The caption: what this step shows, in your words")
        self.step_text.setTabChangesFocus(True)
        self.step_text.setMaximumHeight(110)
        self.try_edit = QLineEdit()
        self.try_edit.setPlaceholderText("optional: what to try")
        self.try_edit.setToolTip("Optional: what the students should try in the app at this step")
        self.exercise_combo = QComboBox()
        self.exercise_combo.setToolTip("Optional: one of the lecture's questions, asked at this step "
                                       "and checked with the working")
        self.exercise_combo.addItem("No exercise", None)
        for key, (_kind, _values, slide, _note) in LECTURE_QUESTIONS.items():
            self.exercise_combo.addItem(slide, key)
        form = QFormLayout()
        form.addRow("Lesson title", self.title_edit)
        form.addRow("Step title", self.step_title)
        form.addRow("Caption", self.step_text)
        form.addRow("Try", self.try_edit)
        form.addRow("Exercise", self.exercise_combo)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555;")
        column = QWidget()
        layout = QVBoxLayout(column)
        layout.addLayout(form)
        layout.addLayout(self._buttons())
        layout.addWidget(QLabel("Steps:"))
        layout.addWidget(self.list, 1)
        layout.addLayout(self._order_buttons())
        layout.addWidget(self.note)
        self.setWidget(column)
        self.setMinimumWidth(300)

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    def _buttons(self) -> QGridLayout:
        self.add_button = self._button("Add this step", "Add a step that sets the app up exactly "
                                       "as it is now (tab, model, picture, kernel and settings, lab "
                                       "network, experiment, layer) with the caption above",
                                       self.add_step)
        self.update_button = self._button("Save text", "Put the title, caption, try line and "
                                          "exercise above into the chosen step", self.update_text)
        self.retake_button = self._button("Retake setup", "Make the chosen step set the app up as "
                                          "it is now (its text stays)", self.retake)
        self.show_button = self._button("Show step", "Set the app up as the chosen step does",
                                        self.show_step)
        grid = QGridLayout()
        for i, b in enumerate((self.add_button, self.update_button, self.retake_button,
                               self.show_button)):
            grid.addWidget(b, i // 2, i % 2)
        return grid

    def _order_buttons(self) -> QGridLayout:
        self.up_button = self._button("Move up", "Move the chosen step one place earlier",
                                      lambda: self.move_step(-1))
        self.down_button = self._button("Move down", "Move the chosen step one place later",
                                        lambda: self.move_step(1))
        self.delete_button = self._button("Delete step", "Remove the chosen step from the lesson",
                                          self.delete)
        self.play_button = self._button("Play lesson", "Follow the lesson in the lesson panel, as "
                                        "students will", self.play)
        self.save_button = self._button("Save lesson…", f"Save the lesson as a {LESSON_SUFFIX} "
                                        "file to share (pictures are inside it; a model of your "
                                        "own goes beside it)", lambda: self.save())
        grid = QGridLayout()
        for i, b in enumerate((self.up_button, self.down_button, self.delete_button,
                               self.play_button, self.save_button)):
            grid.addWidget(b, i // 2, i % 2)
        return grid

    # ----- steps -------------------------------------------------------------------------

    def _text_of_fields(self) -> dict:
        step: dict[str, object] = {"title": self.step_title.text().strip() or f"Step {len(self.steps) + 1}",
                "text": self.step_text.toPlainText().strip() or "(no caption)"}
        if self.try_edit.text().strip():
            step["try"] = self.try_edit.text().strip()
        key = self.exercise_combo.currentData()
        if key is not None:
            step["exercise"] = {"lecture": key}
        return step

    def add_step(self) -> None:
        step = self._text_of_fields()
        step["setup"] = capture_setup(self.main)
        self.steps.append(step)
        self._refresh(len(self.steps) - 1)
        self.step_title.clear()
        self.step_text.clear()
        self.try_edit.clear()
        self.exercise_combo.setCurrentIndex(0)
        self._say(f"Step {len(self.steps)} added.", missing_from_capture(self.main))

    def _chosen(self) -> int | None:
        row = self.list.currentRow()
        return row if 0 <= row < len(self.steps) else None

    def update_text(self) -> None:
        row = self._chosen()
        if row is not None:
            setup = self.steps[row]["setup"]
            self.steps[row] = {**self._text_of_fields(), "setup": setup}
            self._refresh(row)
            self._say(f"Step {row + 1}'s text saved.")

    def retake(self) -> None:
        row = self._chosen()
        if row is not None:
            self.steps[row]["setup"] = capture_setup(self.main)
            self._say(f"Step {row + 1} now sets the app up as it is now.",
                      missing_from_capture(self.main))

    def show_step(self) -> None:
        row = self._chosen()
        if row is None:
            return
        try:
            lesson = parse_lesson(self._document_bytes([self.steps[row]]), "the step")
        except LessonError as exc:
            self._say(str(exc))
            return
        applier = self.applier
        applier.folders = (self.saved_path.parent,) if self.saved_path else ()
        self._say(f"Showing step {row + 1}.", applier.apply(lesson.steps[0]))

    def move_step(self, by: int) -> None:
        row = self._chosen()
        if row is None or not 0 <= row + by < len(self.steps):
            return
        self.steps[row], self.steps[row + by] = self.steps[row + by], self.steps[row]
        self._refresh(row + by)

    def delete(self) -> None:
        row = self._chosen()
        if row is not None:
            del self.steps[row]
            self._refresh(min(row, len(self.steps) - 1))
            self._say(f"Step {row + 1} deleted.")

    # ----- the file ----------------------------------------------------------------------

    def document(self) -> dict:
        return lesson_document(self.title_edit.text().strip() or "My lesson", self.steps)

    def _document_bytes(self, steps: list[dict]) -> bytes:
        import json

        return json.dumps(lesson_document(self.title_edit.text().strip() or "My lesson",
                                          steps)).encode()

    def save(self, path: str | None = None):
        if not self.steps:
            self._say("Add a step first.")
            return None
        if path is None:
            suggested = Path(self.main._start_dir()) / f"{safe_stem(self.title_edit.text(), 'lesson')}{LESSON_SUFFIX}"
            path, _ = QFileDialog.getSaveFileName(self, "Save lesson", str(suggested), FILE_FILTER)
            if not path:
                return None
            if not path.endswith(LESSON_SUFFIX):
                path += LESSON_SUFFIX
        try:
            lesson = write_lesson(path, self.document())
        except LessonError as exc:
            self.main.warn("Cannot save lesson", f"{exc}.\n\nNothing was written.")
            return None
        self.saved_path = Path(path)
        self.main.last_dir = str(Path(path).parent)
        self._say(f"Saved {Path(path).name} ({len(self.steps)} steps).")
        return lesson

    def play(self) -> None:
        if not self.steps:
            self._say("Add a step first.")
            return
        from .tour import show_lesson

        try:
            lesson = parse_lesson(self._document_bytes(self.steps), self.title_edit.text())
        except LessonError as exc:
            self._say(str(exc))
            return
        if self.saved_path is not None:
            from dataclasses import replace

            lesson = replace(lesson, folder=self.saved_path.parent)
        show_lesson(self.main, lesson)

    # ----- showing -----------------------------------------------------------------------

    def _refresh(self, row: int | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for i, step in enumerate(self.steps, 1):
            self.list.addItem(f"{i}. {step['title']}")
        self.list.blockSignals(False)
        if row is not None and row >= 0:
            self.list.setCurrentRow(row)
        self._refresh_enabled()
        for b in (self.play_button, self.save_button):
            b.setEnabled(bool(self.steps))

    def _on_row(self, row: int) -> None:
        self._refresh_enabled()
        if not 0 <= row < len(self.steps):
            return
        step = self.steps[row]
        self.step_title.setText(step["title"])
        self.step_text.setPlainText(step["text"])
        self.try_edit.setText(step.get("try", ""))
        key = step.get("exercise", {}).get("lecture")
        self.exercise_combo.setCurrentIndex(max(0, self.exercise_combo.findData(key)))

    def _refresh_enabled(self) -> None:
        chosen = self._chosen() is not None
        for b in (self.update_button, self.retake_button, self.show_button, self.up_button,
                  self.down_button, self.delete_button):
            b.setEnabled(chosen)

    def _say(self, text: str, problems=()) -> None:
        self.note.setText(" ".join([text, *problems]))

"""Opening lessons in the window: Help › Take the lecture tour, a lesson file opened or
dropped, and `cnnviz gui FILE.cnnviz-lesson`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from ...core.lessons.lesson import Lesson, LessonError, read_lesson, shipped_lesson


def show_lesson(window, lesson: Lesson):
    """The lesson panel with `lesson`, shown. The same lesson again: the panel comes back at
    the step the student left, as the app is now (play is not undone)."""
    from .panel import LessonPanel

    panel = getattr(window, "lesson_panel", None)
    if panel is None:
        panel = LessonPanel(window, lesson)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
        window.lesson_panel = panel
    elif panel.lesson.key != lesson.key:
        panel.set_lesson(lesson)
    panel.show()
    panel.raise_()
    _presenting(window)
    return panel


def _presenting(window) -> None:
    """A panel shown in presenter mode takes its large text and names too."""
    presenter = getattr(window, "presenter", None)
    if presenter is not None:
        presenter.refresh()


def take_tour(window):
    try:
        lesson = shipped_lesson()
    except LessonError as exc:
        window.warn("Cannot start the tour", f"The lecture tour could not be read: {exc}. "
                    "Reinstalling cnnviz brings it back.")
        return None
    return show_lesson(window, lesson)


def open_lesson(window, path: str | Path):
    try:
        lesson = read_lesson(path)
    except LessonError as exc:
        window.warn("Cannot open lesson", f"{exc}.\n\nNothing was changed.")
        return None
    window.statusBar().showMessage(f"Opened the lesson {lesson.title!r} ({len(lesson.steps)} steps)",
                                   6000)
    return show_lesson(window, lesson)


def open_lesson_dialog(window):
    """File › Open lesson…"""
    from PySide6.QtWidgets import QFileDialog

    from ...core.lessons.lesson import LESSON_SUFFIX

    path, _ = QFileDialog.getOpenFileName(window, "Open lesson", window._start_dir(),
                                          f"cnnviz lessons (*{LESSON_SUFFIX});;All files (*)")
    if not path:
        return None
    window.last_dir = str(Path(path).parent)
    return open_lesson(window, path)


def show_recorder(window):
    """File › Record a lesson…: the recorder dock, shown (the same one again, with its steps)."""
    from .recorder import RecorderPanel

    panel = getattr(window, "recorder_panel", None)
    if panel is None:
        panel = RecorderPanel(window)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, panel)
        window.recorder_panel = panel
    panel.show()
    panel.raise_()
    _presenting(window)
    return panel

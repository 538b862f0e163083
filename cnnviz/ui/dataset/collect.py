"""Collecting from the pad: prompted ("draw a circle", cycling through the classes, N per
class, with what is left) or free with a class picker. The pad's strokes are followed
through an event filter (the pad itself is unchanged) and kept with each sample."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

PROMPTED, FREE = "Prompted", "Free"


class StrokeRecorder(QObject):
    """Follows the pen on a widget: strokes as [[x, y], ...] in 0..1 of the widget."""

    def __init__(self, widget, parent=None) -> None:
        super().__init__(parent)
        self.widget = widget
        self.strokes: list[list[tuple[float, float]]] = []
        widget.installEventFilter(self)

    def clear(self) -> None:
        self.strokes = []

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove):
            if kind == QEvent.Type.MouseButtonPress:
                self.strokes.append([])
            if self.strokes and hasattr(event, "position"):
                side = max(1, min(self.widget.width(), self.widget.height()))
                p = event.position()
                self.strokes[-1].append((p.x() / side, p.y() / side))
        return False


class CollectBox(QGroupBox):
    """add_requested(class name, writer): the user wants the pad's drawing kept."""

    add_requested = Signal(str, str)

    def __init__(self, parent=None) -> None:
        super().__init__("Collect from the pad", parent)
        self.writer = QLineEdit()
        self.writer.setPlaceholderText("your name")
        self.writer.setToolTip("Who is drawing: kept with each sample, so accuracy can be "
                               "measured per writer and a whole writer can be held out")
        self.mode = QComboBox()
        self.mode.addItems([PROMPTED, FREE])
        self.mode.setToolTip("Prompted: cnnviz asks for each class in turn, N times each. "
                             "Free: draw anything and pick its class yourself")
        self.per_class = QSpinBox()
        self.per_class.setRange(1, 500)
        self.per_class.setValue(20)
        self.per_class.setToolTip("How many drawings of each class to ask for")
        self.picker = QComboBox()
        self.picker.setToolTip("The class of the drawing on the pad")
        self.prompt = QLabel("")
        self.prompt.setWordWrap(True)
        self.prompt.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.add_button = QPushButton("Keep the drawing")
        self.add_button.setToolTip("Add the drawing on the pad to the set, as the network sees "
                                   "it after preprocessing (Ctrl+Return); the pad is cleared")
        self.add_button.setShortcut("Ctrl+Return")
        self.skip_button = QPushButton("Skip")
        self.skip_button.setToolTip("Ask for the next class instead")
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Writer"), 0, 0)
        grid.addWidget(self.writer, 0, 1, 1, 3)
        grid.addWidget(self.mode, 1, 0)
        grid.addWidget(QLabel("per class"), 1, 1)
        grid.addWidget(self.per_class, 1, 2)
        grid.addWidget(self.picker, 1, 3)
        grid.addWidget(self.prompt, 2, 0, 1, 4)
        grid.addWidget(self.add_button, 3, 0, 1, 3)
        grid.addWidget(self.skip_button, 3, 3)
        self._counts: dict[str, int] = {}
        self._start: dict[str, int] = {}
        self._turn = 0
        self.mode.currentTextChanged.connect(lambda _t: self._refresh())
        self.per_class.valueChanged.connect(lambda _v: self._refresh())
        self.add_button.clicked.connect(self._add)
        self.skip_button.clicked.connect(self._skip)

    def set_classes(self, counts: dict[str, int], restart: bool = False) -> None:
        """The set's classes and how many samples each has now."""
        names = list(counts)
        if restart or set(names) != set(self._start):
            self._start = dict(counts)
            self._turn = 0
        self._counts = dict(counts)
        current = self.picker.currentText()
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.addItems(names)
        if current in names:
            self.picker.setCurrentText(current)
        self.picker.blockSignals(False)
        self._refresh()

    def left(self, name: str) -> int:
        """Drawings of this class still asked for in this round."""
        done = self._counts.get(name, 0) - self._start.get(name, 0)
        return max(0, self.per_class.value() - done)

    def wanted(self) -> str | None:
        """The class the prompt asks for now (cycling), None when the round is done."""
        names = [n for n in self._counts if self.left(n) > 0]
        if not names:
            return None
        order = list(self._counts)
        for step in range(len(order)):
            name = order[(self._turn + step) % len(order)]
            if name in names:
                return name
        return None

    def _refresh(self) -> None:
        prompted = self.mode.currentText() == PROMPTED
        self.picker.setVisible(not prompted)
        self.skip_button.setVisible(prompted)
        enabled = bool(self._counts)
        if not self._counts:
            self.prompt.setText("Add a class to the set first (the box on the left).")
        elif prompted:
            want = self.wanted()
            total = sum(self.left(n) for n in self._counts)
            self.prompt.setText(f"Draw: {want}   ({total} left in this round)" if want else
                                "Done: every class has its drawings. Raise 'per class' for more.")
            enabled = want is not None
        else:
            self.prompt.setText("Draw anything, pick its class, then keep it.")
        self.add_button.setEnabled(enabled)

    def current_class(self) -> str | None:
        if self.mode.currentText() == PROMPTED:
            return self.wanted()
        return self.picker.currentText() or None

    def _add(self) -> None:
        name = self.current_class()
        if name is not None:
            self.add_requested.emit(name, self.writer.text().strip())

    def added(self) -> None:
        """A sample was kept: the prompt moves on to the next class."""
        self._turn += 1
        self._refresh()

    def _skip(self) -> None:
        self._turn += 1
        self._refresh()

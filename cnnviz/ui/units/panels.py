"""The unit window's two halves: the real test pictures a unit answers most (or least) to,
and the pictures made up to excite it, shown live as they sharpen."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .pictures import (
    PICTURE,
    ExampleCell,
    PictureLabel,
    crop,
    kernel_pixmap,
    picture_pixmap,
    side_by_side,
)

SHOWN = 9  # real examples in the grid (3 × 3)
STARTS = 4  # optimised pictures side by side


def _progress_row(stop_tip: str) -> tuple[QHBoxLayout, QProgressBar, QPushButton]:
    row = QHBoxLayout()
    bar = QProgressBar()
    bar.setRange(0, 100)
    bar.setTextVisible(True)
    stop = QPushButton("Stop")
    stop.setToolTip(stop_tip)
    row.addWidget(bar, 1)
    row.addWidget(stop)
    return row, bar, stop


class ExamplesPanel(QGroupBox):
    """picked(index in the test set) when an example is clicked; lowest_toggled(bool)."""

    picked = Signal(int)
    lowest_toggled = Signal(bool)
    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Real test pictures", parent)
        layout = QVBoxLayout(self)
        self.lowest = QPushButton(f"Show the lowest {SHOWN}")
        self.lowest.setCheckable(True)
        self.lowest.setToolTip(f"Switch between the {SHOWN} test pictures this unit answers "
                               f"most strongly to and the {SHOWN} it answers least to.")
        self.lowest.toggled.connect(self._on_lowest)
        layout.addWidget(self.lowest, 0, Qt.AlignmentFlag.AlignLeft)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        row, self.progress, self.stop = _progress_row(
            "Stop scoring the test pictures (it starts again the next time you ask).")
        self.stop.clicked.connect(self.stop_clicked)
        layout.addLayout(row)
        grid = QGridLayout()
        self.cells = []
        for i in range(SHOWN):
            cell = ExampleCell()
            cell.clicked.connect(lambda _checked=False, c=cell: self.picked.emit(c.index))
            grid.addWidget(cell, i // 3, i % 3)
            self.cells.append(cell)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.show_busy(None)

    def _on_lowest(self, lowest: bool) -> None:
        self.lowest.setText(f"Show the top {SHOWN}" if lowest else f"Show the lowest {SHOWN}")
        self.lowest_toggled.emit(lowest)

    def show_busy(self, share: float | None, words: str = "") -> None:
        """A progress bar while the test pictures are scored (share 0..1); None: hidden."""
        busy = share is not None
        self.progress.setVisible(busy)
        self.stop.setVisible(busy)
        if share is not None:
            self.progress.setValue(int(round(100 * share)))
            self.progress.setFormat(f"{words} %p%")
            for cell in self.cells:
                cell.clear()

    def show_message(self, text: str) -> None:
        self.note.setText(text)
        for cell in self.cells:
            cell.clear()

    def show_examples(self, note: str, cells: list[tuple]) -> None:
        """cells: (index, picture (28, 28) 0..255, crop box, whole, score text, tip)."""
        self.note.setText(note)
        self.show_busy(None)
        for cell, shown in zip(self.cells, cells + [None] * (SHOWN - len(cells))):
            if shown is None:
                cell.clear()
            else:
                cell.show_example(*shown)


class OptimisedPanel(QGroupBox):
    """again_clicked, from_drawing_clicked, stop_clicked."""

    again_clicked = Signal()
    from_drawing_clicked = Signal()
    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Made up to excite it (optimised inputs)", parent)
        layout = QVBoxLayout(self)
        self.note = QLabel()
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        grid = QGridLayout()
        self.pictures, self.captions = [], []
        for i in range(STARTS):
            label = PictureLabel("One optimised input: gradient ascent from its own random start "
                                 "(or from your drawing), kept smooth and in the input's range. "
                                 "The orange square is the field the unit sees.")
            caption = QLabel()
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setToolTip("What the unit gives this picture (for a map: its largest value "
                               "anywhere on the map), the score its real examples have.")
            grid.addWidget(label, 2 * (i // 2), i % 2)
            grid.addWidget(caption, 2 * (i // 2) + 1, i % 2)
            self.pictures.append(label)
            self.captions.append(caption)
        layout.addLayout(grid)
        row, self.progress, self.stop = _progress_row("Stop the optimisation where it is.")
        self.stop.clicked.connect(self.stop_clicked)
        layout.addLayout(row)
        self.compare = QLabel()
        self.compare.setWordWrap(True)
        layout.addWidget(self.compare)
        buttons = QHBoxLayout()
        self.again = QPushButton("Optimise again")
        self.again.setToolTip("Start again from new random pictures: a unit may like more than "
                              "one pattern, and each start can find another.")
        self.again.clicked.connect(self.again_clicked)
        self.from_drawing = QPushButton("Start from my drawing")
        self.from_drawing.setToolTip("Start the first picture from the input you drew or loaded, "
                                     "and watch how it is changed to excite this unit more.")
        self.from_drawing.clicked.connect(self.from_drawing_clicked)
        buttons.addWidget(self.again)
        buttons.addWidget(self.from_drawing)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self._kernel_row(layout)
        layout.addStretch(1)
        self.show_running(False)

    def _kernel_row(self, layout: QVBoxLayout) -> None:
        self.kernel_box = QWidget()
        box = QVBoxLayout(self.kernel_box)
        box.setContentsMargins(0, 0, 0, 0)
        words = QLabel("The learned kernel that makes this map (left; mid-grey is 0) and the "
                       "first optimised input cut to the same square (right): what the filter "
                       "looks for is the pattern of its own weights.")
        words.setWordWrap(True)
        box.addWidget(words)
        row = QHBoxLayout()
        box.addLayout(row)
        self.kernel = PictureLabel("The learned kernel that makes this map (mid-grey is 0, "
                                   "white the largest weight, black the most negative).")
        self.kernel_field = PictureLabel("The first optimised input, cut to the kernel's "
                                         "square: for an edge filter, an edge of the same "
                                         "orientation.")
        row.addWidget(self.kernel)
        row.addWidget(self.kernel_field)
        row.addStretch(1)
        layout.addWidget(self.kernel_box)
        self.kernel_box.hide()

    def show_running(self, running: bool, step: int = 0, steps: int = 1) -> None:
        self.progress.setVisible(running)
        self.stop.setVisible(running)
        self.again.setEnabled(not running)
        self.from_drawing.setEnabled(not running and self.from_drawing.property("ok") is True)
        if running:
            self.progress.setValue(int(round(100 * step / max(1, steps))))
            self.progress.setFormat(f"step {step} of {steps}")

    def allow_drawing(self, ok: bool, why: str = "") -> None:
        self.from_drawing.setProperty("ok", ok)
        self.from_drawing.setEnabled(ok and not self.progress.isVisible())
        if why:
            self.from_drawing.setToolTip(why)

    def show_pictures(self, pictures, captions: list[str], box, whole: bool) -> None:
        """The optimised pictures ((N, H, W) 0..1), each with its field and crop."""
        for i, (label, caption) in enumerate(zip(self.pictures, self.captions)):
            if i >= len(pictures):
                label.clear()
                caption.clear()
                continue
            full = picture_pixmap(pictures[i], 2 * PICTURE, None if whole else box,
                                  value_range=(0.0, 1.0))
            if not whole:
                full = side_by_side(picture_pixmap(crop(pictures[i], box), 2 * PICTURE,
                                                   value_range=(0.0, 1.0)), full)
            label.setPixmap(full)
            label.setAccessibleName(f"optimised input {i + 1}, score {captions[i]}")
            caption.setText(f"score {captions[i]}")

    def show_kernel(self, kernel, field_picture) -> None:
        """The learned kernel beside the first optimised input's field (first conv layer);
        None: hidden."""
        if kernel is None:
            self.kernel_box.hide()
            return
        self.kernel.setPixmap(kernel_pixmap(kernel, 2 * PICTURE))
        self.kernel_field.setPixmap(picture_pixmap(field_picture, 2 * PICTURE,
                                                   value_range=(0.0, 1.0)))
        self.kernel_box.show()

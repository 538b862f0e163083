"""File › Your own set…: a window to make or open a set, collect the pad's drawings into
it, browse it class by class (delete, move to another class, undo), import a folder or
drop photos on a class, export it, and see how the current model reads it beside its
MNIST accuracy, with the samples it misreads most confidently.

A thin view: cnnviz.core.training.user_set keeps the set, the UserSetController runs imports and
evaluations off the GUI thread."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnviz.app_state import InputImage
from cnnviz.core.training.user_set import Sample, UserSet, UserSetError, set_warnings

from ..controllers.user_set import UserSetController
from .collect import CollectBox, StrokeRecorder

MAX_SHOWN = 400  # samples of one class shown in the grid at a time
# What undo goes back over: a delete (the samples and their files' bytes) or a move
# (the class they came from, and their files as they are named now).
_Undo = (tuple[Literal["delete"], list[tuple[Sample, bytes]]]
         | tuple[Literal["move"], tuple[str, list[str]]])


def _icon(picture: np.ndarray) -> QIcon:
    a = np.ascontiguousarray(picture)
    fmt = QImage.Format.Format_Grayscale8 if a.ndim == 2 else QImage.Format.Format_RGB888
    image = QImage(a.data, a.shape[1], a.shape[0], a.strides[0], fmt).copy()
    return QIcon(QPixmap.fromImage(image).scaled(56, 56, Qt.AspectRatioMode.KeepAspectRatio))


def _button(text: str, tip: str, slot) -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    b.clicked.connect(slot)
    return b


class SampleGrid(QListWidget):
    """The samples of one class as thumbnails; photos dropped here join the class."""

    def __init__(self, dropped) -> None:
        super().__init__()
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(56, 56))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.setAcceptDrops(True)
        self.setToolTip("The samples of the chosen class, as the network sees them. Select "
                        "some to delete or move them; drop photos here to add them to the class")
        self._dropped = dropped

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self._dropped(paths)


class SetWindow(QWidget):
    """state: the AppState (the pad's picture, the model); pad: the drawing pad (its strokes
    are followed, and it is cleared after each kept drawing)."""

    def __init__(self, state, data_dir=None, pad=None, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Your own set")
        self.state, self.data_dir, self.pad = state, data_dir, pad
        self.user_set: UserSet | None = None
        self._undo: list[_Undo] = []
        self.controller = UserSetController(self)
        self.recorder = StrokeRecorder(pad, self) if pad is not None else None
        self._build()
        self._connect()
        self._show_set()

    # ----- building ---------------------------------------------------------------------

    def _build(self) -> None:
        self.title = QLabel("No set open. Make a new one or open a folder.")
        self.title.setWordWrap(True)
        top = QHBoxLayout()
        for text, tip, slot in (
                ("New set…", "Make a new set in an empty folder (28×28 grey pictures)", self.new_set),
                ("Open set…", "Open a set, or any folder with one subfolder of pictures per class",
                 self.open_set),
                ("Import folder…", "Copy the pictures of a folder (one subfolder per class) into "
                 "this set, resized to its input size", self.import_folder),
                ("Export .npz…", "Save the set as one NumPy .npz file (x, y, classes, writers)",
                 self.export_npz),
                ("Export IDX…", "Save the set as MNIST's IDX files (images and labels)",
                 self.export_idx)):
            top.addWidget(_button(text, tip, slot))
        self.classes = QListWidget()
        self.classes.setToolTip("The set's classes and how many samples each has; pick one to "
                                "see its samples")
        self.new_class = QLineEdit()
        self.new_class.setPlaceholderText("new class name")
        self.new_class.setToolTip("A name for a new class: a digit, a letter, a word, a symbol")
        self.warnings = QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #b35900;")
        self.grid = SampleGrid(self.add_files)
        self.move_to = QComboBox()
        self.move_to.setToolTip("The class to move the selected samples to")
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.misread = QListWidget()
        self.misread.setViewMode(QListWidget.ViewMode.IconMode)
        self.misread.setIconSize(QSize(56, 56))
        self.misread.setMaximumHeight(110)
        self.misread.setToolTip("The samples the model misreads most confidently; click one to "
                                "make it the input and see why")
        self.misread.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.stop_button = _button("Stop", "Stop the import or evaluation", self.controller.stop)
        self.stop_button.setVisible(False)
        self.collect = CollectBox()
        self._lay_out(top)

    def _lay_out(self, top) -> None:
        left = QVBoxLayout()
        left.addWidget(self.classes, 1)
        row = QHBoxLayout()
        row.addWidget(self.new_class)
        row.addWidget(_button("Add class", "Add the class named on the left", self.add_class))
        left.addLayout(row)
        left.addWidget(self.warnings)
        middle = QVBoxLayout()
        middle.addWidget(self.grid, 1)
        row = QHBoxLayout()
        row.addWidget(_button("Delete", "Delete the selected samples (Undo brings them back)",
                              self.delete_selected))
        row.addWidget(self.move_to)
        row.addWidget(_button("Move", "Move the selected samples to the class chosen beside",
                              self.move_selected))
        row.addWidget(_button("Undo", "Undo the last delete or move", self.undo))
        middle.addLayout(row)
        middle.addWidget(self.collect)
        row = QHBoxLayout()
        row.addWidget(_button("Evaluate the model on this set", "How the current model reads "
                              "this set: accuracy per writer beside its MNIST test accuracy",
                              self.evaluate))
        row.addWidget(self.progress, 1)
        row.addWidget(self.stop_button)
        middle.addLayout(row)
        middle.addWidget(self.result)
        middle.addWidget(self.misread)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(middle, 3)
        outer = QVBoxLayout(self)
        outer.addLayout(top)
        outer.addWidget(self.title)
        outer.addLayout(body, 1)
        self.resize(900, 640)

    def _connect(self) -> None:
        self.classes.currentRowChanged.connect(lambda _r: self._show_class())
        self.new_class.returnPressed.connect(self.add_class)
        self.collect.add_requested.connect(self.keep_drawing)
        self.misread.itemClicked.connect(self._show_misread)
        c = self.controller
        c.progress.connect(self._on_progress)
        c.finished.connect(self._on_finished)
        c.failed.connect(self._on_failed)

    # ----- the set ----------------------------------------------------------------------

    def set_folder(self, folder) -> bool:
        try:
            self.user_set = UserSet.open(folder)
        except UserSetError as exc:
            self.title.setText(f"Cannot open it: {exc}")
            return False
        self._undo.clear()
        self._show_set(restart=True)
        return True

    def new_set(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "An empty folder for the new set")
        if folder:
            self.make_set(folder)

    def make_set(self, folder, classes=()) -> bool:
        try:
            self.user_set = UserSet.create(folder, list(classes))
        except UserSetError as exc:
            self.title.setText(f"Cannot make a set there: {exc}")
            return False
        self._show_set(restart=True)
        return True

    def open_set(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a set (or an image folder)")
        if folder:
            self.set_folder(folder)

    def _act(self, fn, *args):
        """Run a change to the set; a problem is said in the title line, never raised."""
        if self.user_set is None:
            self.title.setText("Make or open a set first.")
            return None
        try:
            return fn(*args)
        except UserSetError as exc:
            self.title.setText(str(exc))
            return None

    def add_class(self) -> None:
        name = self.new_class.text()
        if self._act(self.user_set.add_class if self.user_set else None, name) is not None:
            self.new_class.clear()
            self._show_set()
            self._select_class(name.strip())

    def keep_drawing(self, name: str, writer: str) -> None:
        image = self.state.image
        if image is None:
            self.title.setText("Draw on the pad first.")
            return
        strokes = self.recorder.strokes if self.recorder else []
        if self._act(self.user_set.add_drawing if self.user_set else None, image, name, writer,
                     strokes) is None:
            return
        self.title.setText(f"Kept a drawing of {name!r}.")
        if self.recorder:
            self.recorder.clear()
        if self.pad is not None:
            self.pad.clear()
        self._show_set()
        self.collect.added()

    def add_files(self, paths: list[str]) -> None:
        """Photos dropped on the grid: each through the app's preprocessing, into the class."""
        name = self._current_class()
        if name is None or self.user_set is None:
            return
        from cnnviz.core.pictures.images import ImageError, load_image

        kept, problems = 0, []
        for path in paths:
            try:
                self.user_set.add_drawing(load_image(path), name)
                kept += 1
            except (ImageError, UserSetError) as exc:
                problems.append(f"{Path(path).name}: {exc}")
        self.title.setText(f"Added {kept} of {len(paths)} pictures to {name!r}."
                           + (f" {problems[0]}" if problems else ""))
        self._show_set()

    def delete_selected(self) -> None:
        files = [i.data(Qt.ItemDataRole.UserRole) for i in self.grid.selectedItems()]
        if files and self.user_set:
            removed = self._act(self.user_set.delete, files)
            if removed:
                self._undo.append(("delete", removed))
            self._show_set()

    def move_selected(self) -> None:
        files = [i.data(Qt.ItemDataRole.UserRole) for i in self.grid.selectedItems()]
        target, source = self.move_to.currentText(), self._current_class()
        if files and self.user_set and target and source is not None and target != source:
            moves = self._act(self.user_set.relabel, files, target)
            if moves:
                self._undo.append(("move", (source, [new for _, new in moves])))
            self._show_set()

    def undo(self) -> None:
        if not self._undo or self.user_set is None:
            self.title.setText("Nothing to undo.")
            return
        step = self._undo.pop()
        if step[0] == "delete":
            self._act(self.user_set.restore, step[1])
        else:
            source, files = step[1]
            self._act(self.user_set.relabel, files, source)
        self._show_set()

    def export_npz(self) -> None:
        if self.user_set is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export the set", f"{self.user_set.name}.npz",
                                              "NumPy arrays (*.npz)")
        if path and self._act(self.user_set.export_npz, path) is not None:
            self.title.setText(f"Saved {Path(path).name}.")

    def export_idx(self) -> None:
        if self.user_set is None:
            return
        folder = QFileDialog.getExistingDirectory(self, "A folder for the IDX files")
        if folder and self._act(self.user_set.export_idx, folder, self.user_set.name):
            self.title.setText(f"Saved {self.user_set.name}-images-idx3-ubyte and "
                               f"{self.user_set.name}-labels-idx1-ubyte.")

    # ----- long work ----------------------------------------------------------------------

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A folder with one subfolder per class")
        if folder and self.user_set is not None:
            self.start_import(folder)

    def start_import(self, folder: str) -> None:
        self._busy(True)
        self.controller.import_folder(self.user_set, folder)

    def evaluate(self) -> None:
        if self.user_set is None or self.state.model is None:
            self.title.setText("Open a set and a model first.")
            return
        self._busy(True)
        self.controller.evaluate(self.state.model.model, self.user_set.folder, self.data_dir)

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.stop_button.setVisible(busy)
        self.progress.setRange(0, 0)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_failed(self, message: str) -> None:
        self._busy(False)
        self.title.setText(message)

    def _on_finished(self, kind: str, result) -> None:
        self._busy(False)
        if kind == "import":
            self._show_set()
            self.title.setText(result.summary)
            return
        self.evaluation = result
        lines = [f"{self.state.model.name} reads " + result.sentence.replace(
            "your set", "your group's drawings") + "."]
        lines.append("Per writer: " + ", ".join(f"{w}: {a:.1%}" for w, a in result.per_writer.items()))
        self.result.setText("\n".join(lines))
        self.misread.clear()
        folder = None if self.user_set is None else self.user_set.folder
        for m in result.misread:
            item = QListWidgetItem(f"{m['truth']} → {m['answer']}\n{m['confidence']:.0%}")
            item.setData(Qt.ItemDataRole.UserRole, m["file"])
            path = None if folder is None else folder / m["file"]
            if path is not None and path.is_file():
                item.setIcon(QIcon(str(path)))
            self.misread.addItem(item)
        self.misread.setVisible(bool(result.misread))

    def _show_misread(self, item) -> None:
        if self.user_set is None:
            return
        path = self.user_set.folder / item.data(Qt.ItemDataRole.UserRole)
        if path.is_file():
            from cnnviz.core.pictures.images import load_image

            self.state.input_image = InputImage(load_image(path), f"your set: {path.name}")

    # ----- showing -----------------------------------------------------------------------

    def _current_class(self) -> str | None:
        item = self.classes.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _select_class(self, name: str) -> None:
        for row in range(self.classes.count()):
            if self.classes.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.classes.setCurrentRow(row)

    def _show_set(self, restart: bool = False) -> None:
        s = self.user_set
        current = self._current_class()
        self.classes.blockSignals(True)
        self.classes.clear()
        counts = s.counts() if s else {}
        for name, count in counts.items():
            item = QListWidgetItem(f"{name}  ({count})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.classes.addItem(item)
        self.classes.blockSignals(False)
        self.move_to.clear()
        self.move_to.addItems(list(counts))
        if s is not None:
            kind = "" if s.has_manifest else " (an image folder: import it into a set to change it)"
            writers = len(s.writers())
            self.title.setText(f"{s.name}: {len(s.samples):,} samples in {len(counts)} "
                               f"class{'' if len(counts) == 1 else 'es'}, {writers} "
                               f"writer{'' if writers == 1 else 's'}{kind}")
        self.warnings.setText("\n".join(set_warnings(counts)) if counts else "")
        self.collect.set_classes(counts, restart)
        self._select_class(current) if current in counts else self.classes.setCurrentRow(0)
        self._show_class()

    def _show_class(self) -> None:
        self.grid.clear()
        name, s = self._current_class(), self.user_set
        if s is None or name is None:
            return
        samples = [x for x in s.samples if x.cls == name]
        for sample in samples[-MAX_SHOWN:]:
            try:
                icon = _icon(s.picture(sample))
            except UserSetError:
                continue
            item = QListWidgetItem(icon, sample.writer)
            item.setData(Qt.ItemDataRole.UserRole, sample.file)
            item.setToolTip(f"{sample.file}\n{sample.writer or 'no writer'}, {sample.time}")
            self.grid.addItem(item)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.controller.stop()
        super().closeEvent(event)

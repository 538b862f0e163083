"""The lab's "Keep the trained network" group: a name, Keep in my models and Save as…, and
the steps of keeping or saving as they go (the lab's file controller,
cnnviz.ui.controllers.lab_files, does the work on a worker)."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from cnnviz.core.networks.catalogue import model_name_problem

from . import wording as W


def _button(text: str, tip: str, slot) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    button.clicked.connect(lambda _c=False: slot())
    return button


class KeepPanel(QGroupBox):
    """See the module docstring. `lab` gives the file controller (lab.files), the lab's
    message line (lab._say), its status bar (lab.status_message) and the suggested name."""

    def __init__(self, lab):
        super().__init__("Keep the trained network")
        self.lab = lab
        self._saving_what = "the network"  # said while it is kept or saved
        self.setToolTip(W.NAME_TIP)
        column = QVBoxLayout(self)
        row, buttons = QHBoxLayout(), QHBoxLayout()  # (buttons: a narrow window's second row)
        column.addLayout(row)
        column.addLayout(buttons)
        self._rows = (row, buttons)
        row.addWidget(QLabel("Name"))
        self.name_edit = QLineEdit()
        self.name_edit.setToolTip(W.NAME_TIP)
        self.name_edit.setPlaceholderText("e.g. my-keras-98")
        self.name_edit.returnPressed.connect(self.keep)
        row.addWidget(self.name_edit, 1)
        self.keep_button = _button("Keep in my models", W.KEEP_TIP, self.keep)
        self.save_as_button = _button("Save as…", W.SAVE_AS_TIP, self.save_as)
        row.addWidget(self.keep_button)
        row.addWidget(self.save_as_button)
        self.save_bar = QProgressBar()  # keeping or saving: the steps as they go
        self.save_bar.setToolTip(W.SAVE_PROGRESS_TIP)
        self.save_bar.setRange(0, 100)
        self.save_bar.setVisible(False)
        column.addWidget(self.save_bar)
        files = lab.files
        files.saved.connect(self._on_saved)
        files.save_failed.connect(self._on_save_failed)
        files.save_progress.connect(self._on_save_progress)

    def set_compact(self, compact: bool) -> None:
        """A narrow window: the buttons on a row of their own."""
        row, buttons = self._rows
        for i, button in enumerate((self.keep_button, self.save_as_button)):
            (buttons if compact else row).insertWidget(i if compact else row.count(), button)

    def keep(self) -> bool:
        name = self.name_edit.text().strip()
        problem = model_name_problem(name)
        if problem:
            self.lab._say(f"Not kept: {problem}.", error=True)
            return False
        self._saving_what = f"Keeping “{name}”"
        return self.lab.files.keep(name)

    def save_as(self, path: str | None = None) -> bool:
        name = self.name_edit.text().strip() or self.lab.run_views.suggested_name()
        if path is None:
            suggested = str(Path.home() / f"{name}.safetensors")
            path, _ = QFileDialog.getSaveFileName(self, "Save the trained network", suggested,
                                                  "cnnviz weights (*.safetensors)")
            if not path:
                return False
        if not str(path).endswith(".safetensors"):
            path = f"{path}.safetensors"
        self._saving_what = f"Saving {Path(path).name}"
        return self.lab.files.save_as(path, name)

    def _on_save_progress(self, step: str, share: float) -> None:
        """Keeping or saving has started (said at once) or moved on a step; the buttons
        wait until it is done."""
        for button in (self.keep_button, self.save_as_button):
            button.setEnabled(False)
        self.save_bar.setVisible(True)
        self.save_bar.setValue(round(100 * share))
        self.save_bar.setFormat(f"%p% · {step}")
        self.lab._say(f"{self._saving_what}: {step}…")

    def _end_saving(self) -> None:
        self.save_bar.setVisible(False)
        for button in (self.keep_button, self.save_as_button):
            button.setEnabled(True)

    def _on_save_failed(self, text: str) -> None:
        self._end_saving()
        self.lab._say(f"Not saved: {text}", error=True)

    def _on_saved(self, how: str, path) -> None:
        self._end_saving()
        if how == "keep":
            self.lab._say(f"Kept as <b>{html.escape(Path(path).stem)}</b> in "
                          f"{html.escape(str(Path(path).parent))}: it is in the CNN explorer's "
                          "model picker, now and after a restart.", ok=True, escaped=True)
        else:
            self.lab._say(f"Saved {html.escape(str(path))}. Try <code>cnnviz evaluate "
                          f"--weights {html.escape(str(path))}</code>.", ok=True, escaped=True)
        self.lab.status_message.emit(f"Saved {path}")

"""The lab's banner for a data folder that lacks the training set: what is missing, the
download (with its progress) and choosing another folder. The lab's file controller
(cnnviz.ui.controllers.lab_files) downloads; the lab keeps the data folder."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from cnnviz.core.datasets.data import DATASET_NAMES, resolve_data_dir

from . import wording as W


class DataBanner(QFrame):
    """See the module docstring. `lab` gives the file controller (lab.files), the data
    folder (lab.controller.data_dir, lab.set_data_dir), what the choice lacks
    (lab.own_data.data_problem) and the lab's message line (lab._say)."""

    def __init__(self, lab):
        super().__init__()
        self.lab = lab
        self.setStyleSheet("QFrame { background: #fff4e5; border-radius: 4px; }")
        box = QVBoxLayout(self)
        self.data_label = QLabel()
        self.data_label.setWordWrap(True)
        box.addWidget(self.data_label)
        row = QHBoxLayout()
        self.download_button = QPushButton("Download it")
        self.download_button.setToolTip(W.DOWNLOAD_TIP)
        self.download_button.clicked.connect(lambda _c=False: self.download())
        self.folder_button = QPushButton("Choose a folder…")
        self.folder_button.setToolTip(W.CHOOSE_FOLDER_TIP)
        self.folder_button.clicked.connect(lambda _c=False: self.choose_folder())
        self.download_bar = QProgressBar()
        self.download_bar.setToolTip("How much of the four files is here.")
        self.download_bar.setVisible(False)
        row.addWidget(self.download_button)
        row.addWidget(self.folder_button)
        row.addWidget(self.download_bar, 1)
        box.addLayout(row)
        self.setVisible(False)
        files = lab.files
        files.download_progress.connect(self._on_download_progress)
        files.download_finished.connect(self._on_download_finished)
        files.download_failed.connect(self._on_download_failed)

    def check(self) -> bool:
        """Shown when the data chosen lacks its files; True when they are there."""
        problem = self.lab.own_data.data_problem()
        self.setVisible(problem is not None)
        if problem:
            self.data_label.setText(f"{problem} Download it, or choose a folder that has it.")
        return problem is None

    def download(self) -> None:
        dataset = self.lab.settings.dataset()
        self.download_button.setEnabled(False)
        self.download_bar.setVisible(True)
        self.download_bar.setRange(0, 0)
        self.data_label.setText(f"Downloading {DATASET_NAMES[dataset]} from its public "
                                "mirrors, each file checked against its published SHA-256…")
        self.lab.files.download(dataset, self.lab.controller.data_dir)

    def _on_download_progress(self, done: int, total: int) -> None:
        self.download_bar.setRange(0, max(1, total))
        self.download_bar.setValue(done)
        self.download_bar.setFormat(f"{done / 2**20:.1f} of {total / 2**20:.1f} MB")

    def _on_download_finished(self, dataset: str) -> None:
        self.download_button.setEnabled(True)
        self.download_bar.setVisible(False)
        if self.check():
            self.lab._say(f"{DATASET_NAMES.get(dataset, dataset)} is here: ready to train.")

    def _on_download_failed(self, message: str) -> None:
        self.download_button.setEnabled(True)
        self.download_bar.setVisible(False)
        self.data_label.setText(message)

    def choose_folder(self) -> None:
        start = str(resolve_data_dir(self.lab.controller.data_dir))
        folder = QFileDialog.getExistingDirectory(self, "Folder with the datasets", start)
        if folder:
            self.lab.set_data_dir(folder)

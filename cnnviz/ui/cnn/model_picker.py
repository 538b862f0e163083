"""The model picker: which trained network reads the input. Shows the state's catalogue
(shipped models and opened files), opens weights files, and says why a file was refused."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from ...core.networks import catalogue
from ...core.networks.weights import WeightsError
from ..controllers import WeightsLoader
from ..widgets.combo import combo_item
from ..widgets.file_text import literal, shown

OPEN_ITEM = "Open model file…"


class ModelPicker(QWidget):
    """The combo box of state.catalogue, the "Open weights file…" button and a message line.
    Choosing an entry sets state.model; opening a file adds it to state.catalogue.

    Files are read and checked by a WeightsLoader on its own thread (never here: a FIFO or
    a slow disk must not freeze the window). opened(path) once a file became the model,
    refused(path, reason) once the refusal was said."""

    status_message = Signal(str)
    opened = Signal(object)
    refused = Signal(object, str)

    def __init__(self, state, parent: QWidget | None = None,
                 loader: WeightsLoader | None = None):
        super().__init__(parent)
        self.state = state
        self.loader = loader if loader is not None else WeightsLoader(self)
        self.loader.opened.connect(self._on_opened)
        self.loader.refused.connect(self._on_refused)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(QLabel("<b>Model</b>"))
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.setToolTip("Which trained network reads your digit. The percentage is its "
                              "accuracy on the 10,000 test images it never saw in training.")
        self.combo.setPlaceholderText("Choose a model")
        self.combo.activated.connect(self._on_activated)
        box.addWidget(self.combo)
        self.open_button = QPushButton(OPEN_ITEM)
        self.open_button.setToolTip("Load a network you trained yourself: a cnnviz "
                                    ".safetensors file, or your Keras homework's .keras or .h5 "
                                    "file (read without TensorFlow; nothing in it can run code).")
        self.open_button.clicked.connect(self.open_weights_dialog)
        box.addWidget(self.open_button)
        self.message_label = QLabel("")
        self.message_label.setStyleSheet("color: #b00020;")
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)  # may name a model from a file
        self.message_label.setMaximumWidth(260)
        box.addWidget(self.message_label)
        box.addStretch(1)
        state.events.catalogue.connect(self._fill)
        state.events.model.connect(self._on_model_changed)
        self._fill(state.catalogue)

    def disconnect_state(self) -> None:
        """Stop listening to the state and stop the loader's thread (the window closes)."""
        self.state.events.catalogue.disconnect(self._fill)
        self.state.events.model.disconnect(self._on_model_changed)
        self.loader.shutdown()

    @property
    def entries(self) -> list[catalogue.ModelEntry]:
        return self.state.catalogue

    def set_narrow(self, narrow: bool) -> None:
        """Narrow: the combo box shows the first 16 letters or so of a model's label (the
        rest in its tooltip and the list) instead of growing to the whole label."""
        combo = self.combo
        policy = (QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon if narrow
                  else QComboBox.SizeAdjustPolicy.AdjustToContents)
        if combo.sizeAdjustPolicy() != policy:
            combo.setMinimumContentsLength(16 if narrow else 0)
            combo.setSizeAdjustPolicy(policy)
            self.setMaximumWidth(combo.sizeHint().width() + 8 if narrow else 16777215)

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)

    # -- the combo box --------------------------------------------------------------------

    def _fill(self, entries) -> None:
        combo = self.combo
        combo.blockSignals(True)
        combo.clear()
        for i, entry in enumerate(entries):
            combo.addItem(shown(entry.label), i)  # a name from a file: shortened
            row = combo.count() - 1
            if entry.missing:
                item = combo_item(combo, row)
                if item is not None:
                    item.setEnabled(False)
                tip = f"{entry.problem}. Reinstall cnnviz to get it back, or open a weights file."
            elif entry.loaded is not None:
                tip = catalogue.model_tooltip(entry.loaded)
            else:
                tip = str(entry.path)
            combo.setItemData(row, literal(tip), Qt.ItemDataRole.ToolTipRole)
        combo.insertSeparator(combo.count())
        combo.addItem(OPEN_ITEM, -1)
        combo.setItemData(combo.count() - 1, "Choose a model file: cnnviz .safetensors, Keras "
                          ".keras or .h5, ONNX .onnx, torch.export .pt2 or TorchScript .pt",
                          Qt.ItemDataRole.ToolTipRole)
        combo.blockSignals(False)
        self._sync()

    def _sync(self) -> None:
        """Show the state's model as the current item (the placeholder if none)."""
        i = catalogue.index_of(self.entries, self.state.model)
        combo = self.combo
        combo.blockSignals(True)
        if i >= 0:
            combo.setCurrentIndex(combo.findData(i))
            loaded = self.entries[i].loaded
            if loaded is not None:
                combo.setToolTip(literal(catalogue.model_tooltip(loaded)))
        else:
            combo.setCurrentIndex(-1)
        combo.blockSignals(False)

    def _on_model_changed(self, loaded) -> None:
        if loaded is not None and catalogue.index_of(self.entries, loaded) < 0:
            self.state.catalogue = catalogue.with_entry(self.entries,
                                                        catalogue.model_entry(loaded))
        self._sync()
        self.show_message("")

    def _on_activated(self, row: int) -> None:
        data = self.combo.itemData(row)
        if data == -1:
            self._sync()  # show the current model until a file is chosen
            self.open_weights_dialog()
            return
        if data is None or not 0 <= data < len(self.entries):
            return
        entry = self.entries[data]
        if entry.loaded is None:  # a remembered file: read now (the combo follows the answer)
            if entry.path is None:
                self._sync()
            else:
                self.load_weights_file(entry.path)
            return
        if entry.loaded is not self.state.model:
            self.state.model = entry.loaded

    # -- files ----------------------------------------------------------------------------

    def open_weights_dialog(self) -> None:
        start = ""
        current = self.state.model
        i = catalogue.index_of(self.entries, current)
        shipped = i >= 0 and self.entries[i].shipped
        if current is not None and current.path is not None and not shipped:
            start = str(Path(current.path).parent)
        path, _ = QFileDialog.getOpenFileName(
            self, "Open model file", start,
            "Models (*.safetensors *.keras *.h5 *.onnx *.pt2 *.pt);;cnnviz weights "
            "(*.safetensors);;Keras models (*.keras *.h5);;ONNX models (*.onnx);;PyTorch "
            "(torch.export *.pt2, TorchScript *.pt) (*.pt2 *.pt);;All files (*)")
        if path:
            self.load_weights_file(path)

    def load_weights_file(self, path) -> None:
        """Read and check a .safetensors file on the loader's thread; once read it becomes
        the current model (opened), or a message says why not and the current model stays
        (refused). Returns at once."""
        path = Path(path)
        self.show_message("")
        self.status_message.emit(f"Opening {path.name}…")
        self.loader.open(path)

    def load_quietly(self, path: Path) -> None:
        """Restore a remembered file without a dialog (a problem goes to the status bar),
        read on the loader's thread like any other."""
        self.loader.open(Path(path), quiet=True)

    def is_loading(self) -> bool:
        return self.loader.loading is not None

    def _on_opened(self, path: Path, loaded, quiet: bool) -> None:
        self.state.catalogue = catalogue.with_entry(self.entries,
                                                    catalogue.file_entry(path, loaded))
        self.state.model = loaded
        if not quiet:
            self.status_message.emit(f"Opened {path.name}: {shown(loaded.name)}")
        self.opened.emit(path)

    def _on_refused(self, path: Path, reason: str, quiet: bool) -> None:
        self._sync()  # the combo shows the model that stays
        if quiet:  # a remembered file may have changed or gone (or now computes NaN)
            text = f"Could not reopen {path.name}: {reason}"
            if self.state.model is None:  # at start-up: the default model, and it says so
                with contextlib.suppress(WeightsError):  # else the window says no model loaded
                    self.state.model = catalogue.shipped_loaded(self.entries, "cnnviz")
            current = self.state.model
            if current is not None:
                default = getattr(current, "shipped_as", None) == "cnnviz"
                text += (". The default model is used instead." if default
                         else f". {shown(current.name)} is used instead.")
            self.status_message.emit(text)
            self.show_message(text)  # after set_model, which clears the message line
        else:
            self._refuse(path, reason)
        self.refused.emit(path, reason)

    def remember(self, paths) -> None:
        """Files opened in an earlier session, listed but not read until chosen: the last
        catalogue.MAX_RECENT_MODELS of them, each looked at once (a set of the keys known,
        never a comparison with every entry: a long saved list froze the start)."""
        known = {e.key for e in self.entries}
        added = []
        for p in list(paths)[-catalogue.MAX_RECENT_MODELS:]:
            path = Path(str(p))
            try:
                key = catalogue.file_key(path)
                if key in known or not path.is_file():
                    continue
            except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL in the name
                continue
            known.add(key)
            added.append(catalogue.remembered_entry(path))
        if added:
            self.state.catalogue = [*self.entries, *added]

    def _refuse(self, path: Path, reason: str) -> None:
        current = shown(self.state.model.name) if self.state.model is not None else "none"
        QMessageBox.warning(self, "Cannot open weights file",
                            literal(f"{path.name} cannot be used: {shown(reason, 600)}.\n\n"
                                    f"The current model ({current}) is kept."))
        self.status_message.emit(f"Not opened: {path.name}")

"""The architecture editor: the network as a list of layers, its one-line text and its JSON.

The editor holds a tuple of layer specs and the rest of the architecture (name,
description, input shape, normalisation). Every change (a field, add, remove, move, a
preset, the text, the JSON) is a QUndoCommand holding the before and after, so Undo and
Redo go over all of them; typing in one field makes one undo step. Each layer's output
shape, parameters, formulas, problem and hints come from cnnviz.core.networks.arch_text's
check_layers, redrawn on every change.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.basics.files import FileProblem, write_atomically
from cnnviz.core.basics.formulas import fmt_count, fmt_shape
from cnnviz.core.basics.limits import MAX_ARCH_LAYERS
from cnnviz.core.basics.text_safety import shown
from cnnviz.core.networks.arch_text import (
    CLASSES,
    architecture_from_json,
    architecture_to_json,
    check_layers,
    format_architecture,
    parse_architecture,
    parse_layer,
    total_parameters,
)
from cnnviz.core.networks.code_export import CodeExportError, keras_code, pytorch_code
from cnnviz.core.networks.keras_code import looks_like_code, read_keras_code
from cnnviz.core.networks.models import ARCHITECTURES, Architecture, ArchitectureError

from . import wording as W
from .fields import LayerFields
from .rich_cells import RICH_ROLE, RichTextDelegate

COLUMNS = ("#", "Layer", "Output", "Parameters", "Worked out")
TABLE_MIN_HEIGHT = 180
COMPACT_ROWS = 6  # a small window's table still shows this many layers
BAD_BG = QColor("#fde2e1")
DEFAULT_PRESET = "lecture-keras"


MAX_MESSAGE = 300  # characters of a parser's message shown (it may quote the pasted text)


_Read = TypeVar("_Read")  # what the parser gives: an Architecture, or a reading of code


def read_architecture(parse: Callable[..., _Read], *args, **kwargs) -> tuple[_Read | None, str]:
    """(the architecture, "") or (None, why not in one sentence) for text typed or pasted
    into the lab. Besides ArchitectureError, the parser lets some hostile text through as
    other errors (an integer of more than 4,300 digits: ValueError; Infinity or 1e400 where
    a whole number goes: OverflowError; JSON nested thousands deep: RecursionError): each
    becomes a message here, never a traceback."""
    try:
        return parse(*args, **kwargs), ""
    except ArchitectureError as exc:
        return None, shown(str(exc), MAX_MESSAGE)
    except RecursionError:
        return None, "the text is nested too deep to be a network"
    except OverflowError:
        return None, "a number is infinite or too large where a whole number goes"
    except ValueError as exc:
        if "digits" in str(exc):
            return None, "a number has more digits than any network could use"
        return None, f"the text cannot be read ({shown(str(exc), MAX_MESSAGE)})"
    except Exception as exc:  # whatever else hostile text finds: a message, never a crash
        return None, f"the text cannot be read ({type(exc).__name__}: {shown(str(exc), MAX_MESSAGE)})"


@dataclass(frozen=True)
class EditorState:
    """What one undo step restores: the layers, the rest of the architecture, the row."""

    layers: tuple
    name: str
    description: str = ""
    input_shape: tuple = (1, 28, 28)
    input_mean: float = 0.0
    input_std: float = 1.0
    row: int = -1
    preset: str = field(default="", compare=False)

    @classmethod
    def of(cls, arch: Architecture, row: int = -1, preset: str = "") -> EditorState:
        return cls(tuple(arch.layers), arch.name, arch.description, tuple(arch.input_shape),
                   float(arch.input_mean), float(arch.input_std), row, preset)

    def architecture(self) -> Architecture:
        return Architecture(name=self.name, description=self.description, layers=self.layers,
                            input_shape=self.input_shape, input_mean=self.input_mean,
                            input_std=self.input_std)


class _Edit(QUndoCommand):
    """One change; consecutive changes of one field of one layer merge into one step."""

    MERGE_ID = 0x1AB

    def __init__(self, editor: ArchitectureEditor, before: EditorState, after: EditorState,
                 text: str, merge_key=None):
        super().__init__(text)
        self.editor, self.before, self.after, self.merge_key = editor, before, after, merge_key

    def id(self) -> int:  # noqa: A003 (Qt's name)
        return self.MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt override)
        if not isinstance(other, _Edit) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True

    def redo(self) -> None:
        self.editor._show_state(self.after)

    def undo(self) -> None:
        self.editor._show_state(self.before)


class _LayerTable(QTableWidget):
    """The layer table: the "Worked out" column fills what is left, but never narrower
    than WORKED_OUT_MIN (a narrow window scrolls the table sideways instead of squeezing
    the formulas into a column of single words)."""

    WORKED_OUT_MIN = 230
    fixed_rows = False  # compact: rows one line high

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.fit_last_column()

    def fit_last_column(self) -> None:
        last = self.columnCount() - 1
        used = sum(self.columnWidth(i) for i in range(last))
        want = max(self.WORKED_OUT_MIN, self.viewport().width() - used)
        if self.columnWidth(last) != want:
            self.setColumnWidth(last, want)
            self.resizeRowsToContents()

    def resizeRowsToContents(self) -> None:  # noqa: N802 (Qt override)
        if not self.fixed_rows:  # (compact: one line a row, whatever the text)
            super().resizeRowsToContents()


def read_any(text: str, state: EditorState) -> tuple[Architecture | None, str, str]:
    """(the architecture, "", a note) or (None, why not, "") for text typed or pasted into
    the lab: cnnviz's one-line form, or Keras code (read, never run; the note says what was
    read: Keras's parameter count, the lines left out)."""
    s = state
    if not looks_like_code(text):
        arch, problem = read_architecture(
            parse_architecture, text, name=s.name, description=s.description,
            input_shape=s.input_shape, input_mean=s.input_mean, input_std=s.input_std)
        return arch, problem, ""
    reading, problem = read_architecture(read_keras_code, text, input_shape=s.input_shape)
    if reading is None:
        return None, problem, ""
    arch = reading.architecture
    if tuple(arch.input_shape) != tuple(s.input_shape):
        return None, (f"the lab trains on {fmt_shape(s.input_shape)} pictures; this code's "
                      f"input is {fmt_shape(arch.input_shape)} (channels × height × width)"), ""
    return arch, "", W.code_note(reading)


class ExportButton(QToolButton):
    """Export ▾: the network as Keras or PyTorch code, copied to the clipboard or saved as a
    .py file (written atomically: an existing file is replaced whole or not at all)."""

    def __init__(self, architecture, tell, parent: QWidget | None = None):
        super().__init__(parent)
        self.architecture, self.tell = architecture, tell  # tell(text, error)
        self.setText("Export")
        self.setToolTip(W.EXPORT_TIP)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self)
        menu.setToolTipsVisible(True)
        for title, what, to_file, tip in W.EXPORT_ACTIONS:
            action = menu.addAction(title)
            action.setToolTip(tip)
            action.triggered.connect(lambda _c=False, w=what, f=to_file:
                                     self._ask_and_save(w) if f else self.copy(w))
        self.setMenu(menu)

    def code(self, what: str) -> str | None:
        try:
            return (keras_code if what == "keras" else pytorch_code)(self.architecture())
        except CodeExportError as exc:
            self.tell(f"Not exported: {shown(str(exc), MAX_MESSAGE)}", True)
            return None

    def copy(self, what: str) -> bool:
        code = self.code(what)
        if code is None:
            return False
        QGuiApplication.clipboard().setText(code)
        self.tell(f"Copied as {W.CODE_NAMES[what]} code: paste it into your notebook.", False)
        return True

    def save(self, what: str, path: str) -> bool:
        code = self.code(what)
        if code is None:
            return False
        try:
            write_atomically(path, lambda fh: fh.write(code.encode("utf-8")))
        except FileProblem as exc:
            self.tell(f"Not saved: {shown(str(exc), MAX_MESSAGE)}", True)
            return False
        self.tell(f"Saved as {W.CODE_NAMES[what]} code in {shown(path, MAX_MESSAGE)}.", False)
        return True

    def _ask_and_save(self, what: str) -> None:
        suggested = f"{self.architecture().name}-{what}.py"
        path, _ = QFileDialog.getSaveFileName(self, f"Save as {W.CODE_NAMES[what]} code",
                                              suggested, "Python files (*.py)")
        if path:
            self.save(what, path if path.lower().endswith(".py") else path + ".py")


class ArchitectureEditor(QWidget):
    """architecture() -> the Architecture being edited (it may not work: valid() says);
    changed(arch) after every change; set_architecture(arch) as one undoable step."""

    changed = Signal(object)
    preset_chosen = Signal(str)  # the user picked a preset (its recipe may come with it)
    # Made in _build_ui (and set_compact), read by methods defined before it:
    compact: bool
    table: _LayerTable
    json_message: QLabel

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.state = EditorState.of(ARCHITECTURES[DEFAULT_PRESET], preset=DEFAULT_PRESET)
        self.checks: list = []
        self.class_names: list[str] = []  # a set's classes; none: the ten of MNIST
        self._class_text = ""
        self._build_ui()
        self._show_state(self.state)

    # ----- building -------------------------------------------------------------------

    def set_compact(self, compact: bool) -> None:
        """A small window: one line a layer in the table, tall enough for six (the lab's
        left side scrolls when the rest does not fit), the hints in each row's tooltip."""
        if compact == self.compact:
            return
        self.compact = compact
        table, rows = self.table, self.table.verticalHeader()
        table.setWordWrap(not compact)
        table.fixed_rows = compact
        if compact:
            line = table.fontMetrics().height() + 8
            rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            rows.setDefaultSectionSize(line)
            table.setMinimumHeight(table.horizontalHeader().sizeHint().height()
                                   + COMPACT_ROWS * line + 2 * table.frameWidth() + 4)
        else:
            rows.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            table.setMinimumHeight(TABLE_MIN_HEIGHT)
        self._fill_table()

    def _build_ui(self) -> None:
        self.compact = False
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.addLayout(self._build_top_row())
        self.table = _LayerTable(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setToolTip(W.TABLE_TIP)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for i in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(TABLE_MIN_HEIGHT)
        self.table.setItemDelegateForColumn(len(COLUMNS) - 1, RichTextDelegate(self.table))
        header.sectionResized.connect(lambda *_a: self.table.resizeRowsToContents())
        self.table.itemSelectionChanged.connect(self._on_row_selected)
        root.addWidget(self.table, 1)
        root.addLayout(self._build_buttons())
        self.total_label = QLabel()
        self.total_label.setToolTip(W.TOTAL_TIP)
        self.total_label.setWordWrap(True)
        root.addWidget(self.total_label)
        self.class_note = QLabel()  # the classes the last layer gives, and what changed it
        self.class_note.setWordWrap(True)
        self.class_note.setToolTip("The classes the network learns: its last layer gives one "
                                   "output for each.")
        self.class_note.setStyleSheet("color: #1a4f8b;")
        self.class_note.setVisible(False)
        root.addWidget(self.class_note)
        self.layer_title = QLabel()
        self.layer_title.setWordWrap(True)
        root.addWidget(self.layer_title)
        self.fields = LayerFields()
        self.fields.edited.connect(self._on_field_edited)
        root.addWidget(self.fields)
        self.layer_notes = QLabel()
        self.layer_notes.setWordWrap(True)
        self.layer_notes.setTextFormat(Qt.TextFormat.RichText)
        root.addWidget(self.layer_notes)
        root.addLayout(self._build_text_row())
        self.text_message = QLabel()
        self.text_message.setTextFormat(Qt.TextFormat.PlainText)  # it quotes the pasted text
        self.text_message.setWordWrap(True)
        self.text_message.setStyleSheet("color: #b00020;")
        root.addWidget(self.text_message)
        self.code_note = QLabel()
        self.code_note.setTextFormat(Qt.TextFormat.PlainText)
        self.code_note.setWordWrap(True)
        self.code_note.setToolTip(W.CODE_NOTE_TIP)
        self.code_note.setStyleSheet("color: #555555;")
        root.addWidget(self.code_note)
        self._build_json(root)

    def _build_top_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Start from"))
        self.preset_combo = QComboBox()
        for key, arch in ARCHITECTURES.items():
            self.preset_combo.addItem(key, key)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, arch.description,
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setToolTip(W.PRESET_TIP)
        self.preset_combo.activated.connect(self._on_preset_chosen)
        row.addWidget(self.preset_combo, 1)
        self.undo_button = QToolButton()
        self.undo_button.setText("Undo")
        self.undo_button.setToolTip(W.UNDO_TIP)
        self.undo_button.clicked.connect(self.undo_stack.undo)
        self.undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.redo_button = QToolButton()
        self.redo_button.setText("Redo")
        self.redo_button.setToolTip(W.REDO_TIP)
        self.redo_button.clicked.connect(self.undo_stack.redo)
        self.undo_stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(False)
        self.redo_button.setEnabled(False)
        row.addWidget(self.undo_button)
        row.addWidget(self.redo_button)
        # No Ctrl+Z here: the window's Undo (Ctrl+Z) is the pad's, and a second action on
        # the same keys would make both ambiguous (Qt then fires neither).
        return row

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.add_button = QToolButton()
        self.add_button.setText("Add layer")
        self.add_button.setToolTip(W.ADD_TIP)
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add_button)
        menu.setToolTipsVisible(True)
        for title, text, tip in W.ADD_KINDS:
            action = menu.addAction(title)
            action.setToolTip(tip)
            action.triggered.connect(lambda _c=False, t=text, n=title: self.add_layer(t, n))
        self.add_button.setMenu(menu)
        row.addWidget(self.add_button)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip(W.REMOVE_TIP)
        self.remove_button.clicked.connect(self.remove_layer)
        self.up_button = QPushButton("Up")
        self.up_button.setToolTip(W.UP_TIP)
        self.up_button.clicked.connect(lambda: self.move_layer(-1))
        self.down_button = QPushButton("Down")
        self.down_button.setToolTip(W.DOWN_TIP)
        self.down_button.clicked.connect(lambda: self.move_layer(1))
        for button in (self.remove_button, self.up_button, self.down_button):
            row.addWidget(button)
        row.addStretch(1)
        self.export_button = ExportButton(self.architecture, self._tell)
        row.addWidget(self.export_button)
        return row

    def _tell(self, text: str, error: bool) -> None:
        (self.text_message if error else self.code_note).setText(text)
        (self.code_note if error else self.text_message).setText("")

    def _build_text_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("As text"))
        self.text_edit = QLineEdit()
        self.text_edit.setToolTip(W.TEXT_TIP)
        self.text_edit.setPlaceholderText("conv 64 3, relu, maxpool 2, flatten, dense 10")
        self.text_edit.returnPressed.connect(self.apply_text)
        self.text_edit.textEdited.connect(self._on_text_typed)
        row.addWidget(self.text_edit, 1)
        self.apply_text_button = QPushButton("Use")
        self.apply_text_button.setToolTip(W.APPLY_TEXT_TIP)
        self.apply_text_button.clicked.connect(self.apply_text)
        row.addWidget(self.apply_text_button)
        return row

    def _build_json(self, root: QVBoxLayout) -> None:
        self.json_toggle = QToolButton()
        self.json_toggle.setText("Show as JSON")
        self.json_toggle.setCheckable(True)
        self.json_toggle.setToolTip(W.JSON_TIP)
        root.addWidget(self.json_toggle)
        self.json_edit = QPlainTextEdit()
        self.json_edit.setToolTip(W.JSON_TIP)
        self.json_edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.json_edit.setMinimumHeight(160)
        self.json_edit.textChanged.connect(lambda: self.json_message.setText(""))
        self.apply_json_button = QPushButton("Use this JSON")
        self.apply_json_button.setToolTip(W.APPLY_JSON_TIP)
        self.apply_json_button.clicked.connect(self.apply_json)
        self.json_message = QLabel()
        self.json_message.setTextFormat(Qt.TextFormat.PlainText)  # it quotes the pasted text
        self.json_message.setWordWrap(True)
        self.json_message.setStyleSheet("color: #b00020;")
        for widget in (self.json_edit, self.apply_json_button, self.json_message):
            root.addWidget(widget)
            widget.setVisible(False)
        self.json_toggle.toggled.connect(self._on_json_toggled)

    # ----- reading ----------------------------------------------------------------------

    def architecture(self) -> Architecture:
        return self.state.architecture()

    def valid(self) -> bool:
        """The network can be built and gives 10 outputs (no layer with a problem)."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def problem(self) -> str | None:
        """The first problem, in words, naming the layer; None when the network works."""
        if not self.checks:
            return "the network has no layers: add some, or start from a preset"
        for c in self.checks:
            if c.problem:
                return f"layer {c.index + 1} ({c.text}): {c.problem}"
        return None

    @property
    def row(self) -> int:
        return self.state.row

    # ----- changes (each one undoable) -------------------------------------------------

    def _push(self, after: EditorState, text: str, merge_key=None) -> None:
        if after == self.state and merge_key is None:
            return
        self.undo_stack.push(_Edit(self, self.state, after, text, merge_key))

    def _with_layers(self, layers, row: int) -> EditorState:
        """The state with new layers; a preset's name and description go once its layers
        are changed (they would describe another network)."""
        s = self.state
        name, description = s.name, s.description
        known = ARCHITECTURES.get(name)
        if known is not None and tuple(layers) != tuple(known.layers):
            name, description = f"{name}-edited", ""
        return EditorState(tuple(layers), name, description, s.input_shape, s.input_mean,
                           s.input_std, row, s.preset)

    def set_architecture(self, arch: Architecture, text: str = "Use a network",
                         preset: str = "") -> None:
        self._push(EditorState.of(arch, row=-1, preset=preset or self.state.preset), text)

    def restore(self, json_text: str) -> bool:
        """The network of an earlier session, as the starting point (no undo step). False,
        and the default kept, when the saved text is not a working network."""
        arch = read_architecture(architecture_from_json, json_text)[0]
        if arch is None:
            return False
        preset = arch.name if arch.name in ARCHITECTURES else ""
        self.undo_stack.clear()
        self._show_state(EditorState.of(arch, preset=preset))
        return True

    def choose_preset(self, key: str) -> None:
        arch, note = self.fitted(ARCHITECTURES[key])
        self.set_architecture(arch, f"Start from {key}", preset=key)
        if note:
            self._show_class_note(note)

    def fitted(self, arch: Architecture) -> tuple[Architecture, str | None]:
        """arch with its last layer giving one output per class of the data chosen (the
        set's, else ten), and what was changed in words (None: nothing)."""
        from cnnviz.core.training.user_training import with_class_count

        try:
            return with_class_count(arch, len(self.class_names) or CLASSES)
        except ArchitectureError as exc:
            return arch, str(exc)

    def set_classes(self, names: list[str], note: str = "") -> None:
        """The classes the network is to learn (none: the ten of a built-in dataset): the
        last layer is resized to their count as one undoable step, and the line under the
        total names them and says what was changed (note: said before it)."""
        self.class_names = [str(n) for n in names]
        arch, resized = self.fitted(self.architecture())
        if arch.layers != self.state.layers:
            self.set_architecture(arch, "Resize the last layer to the classes")
        else:
            self._show_state(self.state)
        self._show_class_note(" ".join(t for t in (note, resized or "") if t))

    def _show_class_note(self, changed: str = "") -> None:
        names = self.class_names
        if not names:  # a built-in dataset's ten: nothing to say
            self._class_text = ""
        else:
            listed = ", ".join(names[:20]) + (f" and {len(names) - 20} more"
                                               if len(names) > 20 else "")
            self._class_text = (f"The last layer gives {len(names)} outputs, one per class: "
                                f"{listed}." + (f" {changed}" if changed else ""))
        self.class_note.setText(self._class_text)
        self.class_note.setVisible(bool(self._class_text))
        self._name_outputs()

    def _name_outputs(self) -> None:
        """The last layer's row says which class each output is."""
        if not self.class_names or not self.checks:
            return
        row = len(self.checks) - 1
        if getattr(self.checks[row].spec, "ends_network", False) and row > 0:
            row -= 1
        for col in range(self.table.columnCount()):
            item = self.table.item(row, col)
            if item is not None:
                item.setToolTip(f"{self._row_tip(self.checks[row])}\nOutputs: "
                                f"{', '.join(self.class_names)}")

    def add_layer(self, text: str, title: str = "layer") -> None:
        if len(self.state.layers) >= MAX_ARCH_LAYERS:
            self.text_message.setText(f"A network has at most {MAX_ARCH_LAYERS} layers.")
            return
        spec = parse_layer(text)
        layers = list(self.state.layers)
        at = self.state.row + 1 if self.state.row >= 0 else len(layers)
        if self.state.row < 0 and layers and getattr(layers[-1], "ends_network", False):
            at = len(layers) - 1  # nothing selected: before the closing softmax
        layers.insert(at, spec)
        self._push(self._with_layers(layers, at), f"Add {title}")

    def remove_layer(self) -> None:
        row = self.state.row
        if not 0 <= row < len(self.state.layers):
            return
        layers = list(self.state.layers)
        removed = layers.pop(row)
        self._push(self._with_layers(layers, min(row, len(layers) - 1)),
                   f"Remove {removed.label}")

    def move_layer(self, step: int) -> None:
        row, layers = self.state.row, list(self.state.layers)
        to = row + step
        if not (0 <= row < len(layers) and 0 <= to < len(layers)):
            return
        layers[row], layers[to] = layers[to], layers[row]
        self._push(self._with_layers(layers, to), f"Move {layers[to].label}")

    def _on_field_edited(self, spec, field_name: str) -> None:
        row = self.state.row
        if not 0 <= row < len(self.state.layers):
            return
        layers = list(self.state.layers)
        layers[row] = spec
        self._push(self._with_layers(layers, row), f"Change {field_name}", (row, field_name))

    def apply_text(self) -> bool:
        """Use the one-line text; False (with the parser's message, naming the layer) if it
        does not describe a working network."""
        arch, problem, note = read_any(self.text_edit.text(), self.state)
        if arch is None:
            self.text_message.setText(f"Not used: {problem}")
            return False
        self.text_message.setText("")
        arch = self.fitted(arch)[0]  # ten outputs read; a set's classes wanted
        after = self._with_layers(arch.layers, -1)
        if note:  # Keras code says the whole network, its input normalisation too
            after = replace(after, input_mean=arch.input_mean, input_std=arch.input_std)
        self._push(after, "Use the Keras code" if note else "Use the text")
        self._show_text()
        self.code_note.setText(note)
        return True

    def apply_json(self) -> bool:
        arch, problem = read_architecture(architecture_from_json, self.json_edit.toPlainText())
        if arch is None:
            self.json_message.setText(f"Not used: {problem}")
            return False
        self.json_message.setText("")
        self.set_architecture(self.fitted(arch)[0], "Use the JSON")
        return True

    def _on_text_typed(self, text: str) -> None:
        """Say at once what is wrong with the text being typed (it is used on Enter)."""
        self.text_message.setText(read_any(text, self.state)[1])

    def _on_preset_chosen(self, index: int) -> None:
        key = self.preset_combo.itemData(index)
        if key in ARCHITECTURES:
            self.choose_preset(key)
            self.preset_chosen.emit(key)

    def _on_row_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        row = min(rows) if rows else -1
        if row != self.state.row:
            # Selecting is not an edit: no undo step, only the state's row.
            self.state = EditorState(self.state.layers, self.state.name, self.state.description,
                                     self.state.input_shape, self.state.input_mean,
                                     self.state.input_std, row, self.state.preset)
            self._show_selected()

    def _on_json_toggled(self, shown: bool) -> None:
        for widget in (self.json_edit, self.apply_json_button, self.json_message):
            widget.setVisible(shown)
        self.json_toggle.setText("Hide the JSON" if shown else "Show as JSON")
        if shown:
            self._show_json()

    def set_editable(self, editable: bool) -> None:
        """While a network trains its layers cannot change (the lab says so)."""
        for widget in (self.preset_combo, self.add_button, self.remove_button, self.up_button,
                       self.down_button, self.fields, self.text_edit, self.apply_text_button,
                       self.apply_json_button, self.json_edit):
            widget.setEnabled(editable)
        self.undo_button.setEnabled(editable and self.undo_stack.canUndo())
        self.redo_button.setEnabled(editable and self.undo_stack.canRedo())

    # ----- drawing ------------------------------------------------------------------------

    def _show_state(self, state: EditorState) -> None:
        self.state = state
        self.checks = check_layers(state.architecture(), len(self.class_names) or CLASSES)
        i = self.preset_combo.findData(state.preset)
        if i >= 0:
            self.preset_combo.setCurrentIndex(i)
        self._fill_table()
        self._name_outputs()
        self._show_total()
        self._show_text()
        if self.json_toggle.isChecked():
            self._show_json()
        self._show_selected()
        self.changed.emit(state.architecture())

    def _fill_table(self) -> None:
        table = self.table
        table.blockSignals(True)
        table.setRowCount(len(self.checks))
        for r, c in enumerate(self.checks):
            out = fmt_shape(c.output_shape) if c.output_shape is not None else "—"
            params = fmt_count(c.parameters) if c.output_shape is not None else "—"
            how = self._how(c)
            cells = (str(r + 1), c.text, out, params, how)
            tip = self._row_tip(c)
            for col, text in enumerate(cells):
                item = table.item(r, col)
                if item is None:
                    item = QTableWidgetItem()
                    table.setItem(r, col, item)
                item.setText(text)
                item.setToolTip(tip)
                item.setBackground(BAD_BG if c.problem else QColor(0, 0, 0, 0))
                item.setForeground(QColor("#000000") if c.output_shape is not None or c.problem
                                   else QColor("#888888"))
                if col == 4:
                    item.setData(RICH_ROLE, self._how_html(c, self.compact))
                if col in (2, 3):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        table.fit_last_column()
        if self.compact:  # rows made before it went compact keep their height otherwise
            line = table.verticalHeader().defaultSectionSize()
            for r in range(table.rowCount()):
                table.setRowHeight(r, line)
        table.clearSelection()
        if 0 <= self.state.row < len(self.checks):
            table.selectRow(self.state.row)
        table.blockSignals(False)

    @staticmethod
    def _how(c) -> str:
        if c.problem:
            return f"✗ {c.problem}"
        if c.output_shape is None:
            return "(unknown until the layer before works)"
        lines = [c.shape_formula]
        if c.parameters:
            lines.append(c.param_formula)
        lines += [f"⚑ {h}" for h in c.hints]
        return "\n".join(lines)

    @staticmethod
    def _how_html(c, compact: bool = False) -> str:
        """The worked-out column: the formulas and hints; compact (a small window), one line
        a row with the hints as a ⚑ (the row's tooltip and the layer's details say them)."""
        def esc(text: str) -> str:
            return html.escape(text).replace("\n", "<br>")

        if c.problem:
            if compact:
                return "<span style='color:#b00020'><b>✗ Cannot work</b> (select the row)</span>"
            return f"<span style='color:#b00020'><b>✗ Cannot work:</b> {esc(c.problem)}</span>"
        if c.output_shape is None:
            return "<span style='color:#888'>(unknown until the layer before works)</span>"
        if compact:
            flag = " <span style='color:#9a6700'>⚑</span>" if c.hints else ""
            # the numbers without the general formula: "(28 − 3 + 2×0) / 1 + 1 = 26"
            first = c.shape_formula.splitlines()[0] if c.shape_formula else ""
            return esc(first.split(" = ", 1)[-1]) + flag
        parts = [esc(c.shape_formula)]
        if c.parameters:
            parts.append(esc(c.param_formula))
        parts += [f"<span style='color:#9a6700'>⚑ {esc(h)}</span>" for h in c.hints]
        return "<br>".join(parts)

    @staticmethod
    def _row_tip(c) -> str:
        lines = [f"{c.name}: {c.spec.label}"]
        if c.in_shape is not None:
            lines.append(f"Input {fmt_shape(c.in_shape)}")
        if c.shape_formula:
            lines.append(f"Output: {c.shape_formula}")
        if c.param_formula:
            lines.append(f"Parameters: {c.param_formula}")
        if c.problem:
            lines.append(f"Cannot work: {c.problem}")
        lines += c.hints
        return "\n".join(lines)

    def _show_total(self) -> None:
        total = total_parameters(self.checks)
        problem = self.problem()
        if problem:
            self.total_label.setText(f"<b>Total: {fmt_count(total)} parameters so far.</b> "
                                     f"<span style='color:#b00020'>Cannot train yet: "
                                     f"{problem}.</span>")
        else:
            out = fmt_shape(self.checks[-1].output_shape)
            self.total_label.setText(f"<b>Total: {fmt_count(total)} parameters</b> · "
                                     f"{len(self.checks)} layers · input "
                                     f"{fmt_shape(self.state.input_shape)} → {out} outputs")

    def _show_text(self) -> None:
        text = format_architecture(self.state.architecture()) if self.state.layers else ""
        if self.text_edit.text() != text:
            self.text_edit.setText(text)
        self.text_message.setText("")
        self.code_note.setText("")

    def _show_json(self) -> None:
        self.json_edit.blockSignals(True)
        self.json_edit.setPlainText(architecture_to_json(self.state.architecture()))
        self.json_edit.blockSignals(False)
        self.json_message.setText("")

    def _show_selected(self) -> None:
        row = self.state.row
        has = 0 <= row < len(self.checks)
        self.remove_button.setEnabled(has)
        self.up_button.setEnabled(has and row > 0)
        self.down_button.setEnabled(has and row < len(self.checks) - 1)
        if not has:
            self.layer_title.setText("<b>Layer</b>: select one in the list to edit it.")
            self.fields.show_spec(None)
            self.layer_notes.setText("")
            return
        c = self.checks[row]
        self.layer_title.setText(f"<b>Layer {row + 1}: {c.spec.label}</b> ({c.name})")
        self.fields.show_spec(c.spec)
        notes = []
        if c.problem:
            notes.append(f"<span style='color:#b00020'><b>Cannot work:</b> {c.problem}</span>")
        notes += [f"<span style='color:#9a6700'>{h}</span>" for h in c.hints]
        self.layer_notes.setText("<br>".join(notes))

"""An editable kernel: a grid of cells (1x1 up to 7x7, rows and columns chosen apart) that
take numbers and fractions like 1/9.

A cell is used when its editing is finished (Enter, Tab, clicking elsewhere) or after a short
pause in typing, never on each keystroke: typing "1/0" must not put 1 in force on the way.
A cell that is not a number is marked red with the reason, and no cell is used until it is
fixed; the message says which kernel is in force meanwhile. Changing the size keeps the kernel centred (zeros added or cut
evenly around it)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.basics.formulas import fmt_number
from ...core.basics.limits import MAX_GRID_KERNEL_SIDE, MAX_KERNEL_VALUE
from ...core.convolution.kernel_edits import resize_centred
from ...core.convolution.kernels import KernelError, parse_cell

MAX_SIDE = MAX_GRID_KERNEL_SIDE
CELL_WIDTH = 36
CELL_SPACING = 2
# Room kept for a kernel this tall, so the boxes below stay put while it grows up to it
# (all of MAX_SIDE pushed the controls into their compact form at 1100×800; 5 would scroll
# them at 1024×700).
RESERVED_ROWS = 5
COMPACT_RESERVED_ROWS = 4
APPLY_DELAY_MS = 800  # a pause in typing this long applies the cell
BAD_STYLE = "QLineEdit { border: 2px solid #d32f2f; background: #ffebee; }"
CELL_TIP = ("Row {r}, column {c} of the kernel: one weight. Type a number (2, -0.5) or a fraction "
            "(1/9); it is used when you press Enter or Tab, click elsewhere, or pause typing. "
            "\"A convolution is a weighted sum of the pixel values of the image as the "
            "window slides across the whole image.\"")
HINT = "Numbers or fractions (1/9). A cell is used after Enter, Tab or a pause in typing."
HINT_STYLE = "color: #666;"
PROBLEM_STYLE = "color: #c62828;"
LIMIT_STYLE = "color: #8a5300;"


def read_weight(text: str) -> float:
    """One cell's weight, or KernelError with the reason: a number or a fraction no larger
    than MAX_KERNEL_VALUE either way (a weight of 1e308 overflowed the drawing)."""
    value = parse_cell(text)
    if abs(value) > MAX_KERNEL_VALUE:
        raise KernelError(f"{text.strip()!r} is too large: a weight goes from "
                          f"−{MAX_KERNEL_VALUE:,.0f} to {MAX_KERNEL_VALUE:,.0f} here")
    return value


class LimitSpinBox(QSpinBox):
    """A spin box that lets a number past its limits be typed and, when editing finishes,
    sets the nearest limit and says so (limited(message)) instead of silently dropping keys.

    what: the name the message uses ("the kernel size"); note: an optional sentence added."""

    limited = Signal(str)

    def __init__(self, what: str, note: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._what = what
        self._note = note

    def _number(self, text: str) -> str:
        body = text
        if self.prefix() and body.startswith(self.prefix()):
            body = body[len(self.prefix()):]
        if self.suffix() and body.endswith(self.suffix()):
            body = body[:-len(self.suffix())]
        return body.strip()

    def validate(self, text: str, pos: int):  # Qt override
        result = super().validate(text, pos)
        state = result[0] if isinstance(result, tuple) else result
        if state == QValidator.State.Invalid and self._number(text).isdigit():
            return QValidator.State.Intermediate, text, pos  # let it be typed; fixup clamps it
        return result

    def fixup(self, text: str) -> str:  # Qt override: editing finished on an out-of-range value
        number = self._number(text)
        if not number.isdigit():
            return text
        typed = int(number)
        used = min(max(typed, self.minimum()), self.maximum())
        if used != typed:
            self.limited.emit(f"{self._what.capitalize()} goes from {self.minimum()} to "
                              f"{self.maximum()} here: {typed} became {used}.{self._note}")
        return f"{self.prefix()}{used}{self.suffix()}"


def _fraction(v: float) -> str | None:
    """1/9 -> '1/9', -0.0625 -> '-1/16'; None when no denominator up to 256 is exact."""
    for d in range(2, 257):
        n = round(v * d)
        if n != 0 and n / d == v and math.gcd(int(n), d) == 1:
            return f"{int(n)}/{d}"
    return None


def format_cell(value: float, fractions: bool = True) -> str:
    """1.0 -> '1', 1/9 -> '1/9', 0.5 -> '0.5' (short decimals stay decimals), anything else as
    the shortest text that reads back to the same number."""
    v = float(value)
    if v == 0:
        return "0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    short = np.format_float_positional(v, trim="-")
    if len(short) <= 5 and not fractions:
        return short
    return (_fraction(v) if fractions else None) or short


def cell_texts(kernel) -> list[list[str]]:
    """Texts for a whole kernel: short decimals when every value has one (0.5, 0.25),
    otherwise exact fractions (the Gaussian blur's 1/16 1/8 1/16, the box blur's 1/9)."""
    k = np.asarray(kernel, dtype=np.float64)
    loose = [float(v) for v in k.flat if not float(v).is_integer()]
    decimals = all(len(np.format_float_positional(v, trim="-")) <= 5 for v in loose)
    return [[format_cell(v, fractions=not decimals) for v in row] for row in k]


class KernelGrid(QWidget):
    """kernel_changed(np.ndarray (rows, cols)) when a new, fully readable kernel is in force;
    problem_changed(str) with the first bad cell's message, or "" when all cells read."""

    kernel_changed = Signal(object)
    problem_changed = Signal(str)

    def __init__(self, kernel=None, parent: QWidget | None = None):
        super().__init__(parent)
        self._kernel = np.zeros((3, 3)) if kernel is None else np.array(kernel, dtype=np.float64)
        self._filling = False
        self._problem = ""
        self._notice = ""  # a limit that was hit, shown until the next edit
        self._notice_fresh = False
        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.setInterval(APPLY_DELAY_MS)
        self._apply_timer.timeout.connect(self.apply_now)

        size_row = self._build_size_row()
        cell_area = self._build_cells()

        self.sum_label = QLabel()
        self.sum_label.setToolTip("The sum of all weights. 1 keeps the image's brightness (blurs, "
                                  "sharpen, identity); 0 turns flat areas black (edge detectors).")
        # One place, always there, for the typing hint, a bad cell or a limit: nothing below
        # it moves when a message comes or goes.
        self.problem_label = QLabel(HINT)
        self.problem_label.setWordWrap(True)
        self.problem_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.problem_label.setStyleSheet(HINT_STYLE)
        self.set_compact(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(size_row)
        layout.addWidget(cell_area)
        layout.addWidget(self.sum_label)
        layout.addWidget(self.problem_label)
        self.set_kernel(self._kernel)

    def _build_size_row(self) -> QHBoxLayout:
        """Rows × columns spin boxes and the limit, on one line."""
        self.rows_spin = LimitSpinBox("the kernel size")
        self.cols_spin = LimitSpinBox("the kernel size")
        for spin, word in ((self.rows_spin, "rows"), (self.cols_spin, "columns")):
            spin.setRange(1, MAX_SIDE)
            spin.setToolTip(f"How many {word} the kernel has: 1 to {MAX_SIDE}. Kernels need not be "
                            "square: 1×3 or 3×1 kernels find edges in one direction only. Growing "
                            "or shrinking keeps the kernel centred (zeros are added or cut on both "
                            "sides). \"CONV layers should be small size such as 3 × 3, 5 × 5, or "
                            "1 × 1.\" A kernel larger than the image can be tried on the lecture's "
                            "5×5 examples (Input › Source).")
            spin.valueChanged.connect(self._on_size_changed)
            spin.limited.connect(self._show_limit)
        size_row = QHBoxLayout()
        size_row.setContentsMargins(0, 0, 0, 0)
        size_label = QLabel("Size")
        size_label.setToolTip(self.rows_spin.toolTip())
        size_row.addWidget(size_label)
        size_row.addWidget(self.rows_spin)
        times = QLabel("×")
        times.setAlignment(Qt.AlignmentFlag.AlignCenter)
        size_row.addWidget(times)
        size_row.addWidget(self.cols_spin)
        limit = QLabel(f"(up to {MAX_SIDE}×{MAX_SIDE})")
        limit.setStyleSheet(HINT_STYLE)
        limit.setToolTip(self.rows_spin.toolTip())
        size_row.addWidget(limit)
        size_row.addStretch(1)
        return size_row

    def _build_cells(self) -> QWidget:
        """MAX_SIDE × MAX_SIDE cells, the ones outside the kernel hidden."""
        self.cells: list[list[QLineEdit]] = []
        cell_area = QWidget()
        grid = QGridLayout(cell_area)
        grid.setSpacing(CELL_SPACING)
        grid.setContentsMargins(0, 0, 0, 0)
        # Room for the widest kernel always: the column never grows (or cuts) when it widens.
        cell_area.setMinimumWidth(MAX_SIDE * CELL_WIDTH + (MAX_SIDE - 1) * CELL_SPACING)
        for r in range(MAX_SIDE):
            row = []
            for c in range(MAX_SIDE):
                cell = QLineEdit("0")
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setFixedWidth(CELL_WIDTH)
                cell.setToolTip(CELL_TIP.format(r=r + 1, c=c + 1))
                cell.textEdited.connect(self._on_text_edited)
                cell.editingFinished.connect(self.apply_now)
                grid.addWidget(cell, r, c, Qt.AlignmentFlag.AlignLeft)
                row.append(cell)
            self.cells.append(row)
        grid.setColumnStretch(MAX_SIDE, 1)
        grid.setRowStretch(MAX_SIDE, 1)  # (the cells stay at the top of the reserved room)
        self._cell_area = cell_area
        self._reserve_height(True)
        return cell_area

    def _reserve_height(self, full: bool) -> None:
        """Room for a 5×5 kernel (4×4 on a short screen), so the boxes under the grid do not
        move while the kernel grows up to it (they moved under the mouse)."""
        rows = min(MAX_SIDE, RESERVED_ROWS if full else COMPACT_RESERVED_ROWS)
        line = self.cells[0][0].sizeHint().height()
        self._cell_area.setMinimumHeight(rows * line + (rows - 1) * CELL_SPACING)

    # ----------------------------------------------------------------- public

    def set_compact(self, compact: bool) -> None:
        """Lines kept for the message: 4 fit the longest (a bad cell's reason and the kernel
        still in force), 3 on a short screen (the whole message is in its tooltip)."""
        lines = 3 if compact else 4
        self._reserve_height(not compact)
        self.problem_label.setFixedHeight(self.problem_label.fontMetrics().lineSpacing() * lines + 4)

    def kernel(self) -> np.ndarray:
        """The kernel in force (the last one whose every cell was a number)."""
        return self._kernel.copy()

    def shape(self) -> tuple[int, int]:
        return self.rows_spin.value(), self.cols_spin.value()

    def cell(self, row: int, col: int) -> QLineEdit:
        return self.cells[row][col]

    def problem(self) -> str:
        return self._problem

    def message(self) -> str:
        """What the message line says now (the hint, a bad cell or a limit)."""
        return self.problem_label.text()

    def pending(self) -> bool:
        """True while typed text waits to be applied (editing not finished yet)."""
        return self._apply_timer.isActive()

    def apply_now(self) -> None:
        """Use what the cells say now (Enter, Tab, focus out or the typing pause)."""
        self._apply_timer.stop()
        self._read_cells(emit=True)

    def set_kernel(self, values) -> None:
        """Show these values (fractions like 1/9 written as fractions when exact). Emits
        nothing: the caller already knows the kernel."""
        k = np.array(values, dtype=np.float64)
        if k.ndim == 1:
            k = k[None]
        if k.ndim != 2 or not (1 <= k.shape[0] <= MAX_SIDE and 1 <= k.shape[1] <= MAX_SIDE):
            raise ValueError(f"the kernel grid holds 1×1 to {MAX_SIDE}×{MAX_SIDE}; got shape {k.shape}")
        self._apply_timer.stop()  # typed text is replaced, so nothing is left to apply
        self._notice = ""
        self._fill(k)
        self._kernel = k
        self._read_cells(emit=False)

    def text(self) -> str:
        """The kernel in force as text parse_kernel reads back exactly: '0 -1 0; -1 5 -1; 0 -1 0'."""
        return "; ".join(" ".join(row) for row in cell_texts(self._kernel))

    # ----------------------------------------------------------------- internals

    def _fill(self, k: np.ndarray) -> None:
        texts = cell_texts(k)
        self._filling = True
        try:
            self.rows_spin.setValue(k.shape[0])
            self.cols_spin.setValue(k.shape[1])
            for r in range(MAX_SIDE):
                for c in range(MAX_SIDE):
                    inside = r < k.shape[0] and c < k.shape[1]
                    cell = self.cells[r][c]
                    cell.setText(texts[r][c] if inside else "0")
                    cell.setVisible(inside)
        finally:
            self._filling = False

    def _on_size_changed(self, _value: int) -> None:
        if self._filling:
            return
        if not self._notice_fresh:  # a new size that hit no limit: the old notice is done
            self._notice = ""
        # Typed values first (they may be mid-pause), then grow or crop around the centre.
        self._apply_timer.stop()
        self._read_cells(emit=False, shape=self._kernel.shape)
        resized = resize_centred(self._kernel, *self.shape())
        self._fill(resized)
        self._read_cells(emit=True)

    def _on_text_edited(self, _text: str) -> None:
        if not self._filling:
            self._notice = ""
            self._apply_timer.start()  # restarts: applied after a pause, not per keystroke

    def _show_limit(self, message: str) -> None:
        # Said where the eye is, until the next edit (the size change it causes comes next).
        self._notice = message
        self._notice_fresh = True
        QTimer.singleShot(0, self._notice_settled)
        self.problem_label.setText(message)
        self.problem_label.setStyleSheet(LIMIT_STYLE)

    def _notice_settled(self) -> None:
        self._notice_fresh = False

    def _in_force(self) -> str:
        """What is used while a cell is bad: the whole last kernel whose every cell read
        (no cell of the new one counts, not even the good ones)."""
        k = self._kernel
        text = "; ".join(" ".join(row) for row in cell_texts(k))
        shown = text if len(text) <= 40 else f"the {k.shape[0]}×{k.shape[1]} one"
        return f"No cell is used until it is fixed: the kernel in force is still {shown} (panel ②)."

    def _read_cells(self, emit: bool, shape: tuple[int, int] | None = None) -> None:
        rows, cols = shape or self.shape()
        values = np.zeros((rows, cols))
        first = ""
        for r in range(rows):
            for c in range(cols):
                cell = self.cells[r][c]
                try:
                    values[r, c] = read_weight(cell.text())
                except KernelError as exc:
                    message = (f"Row {r + 1}, column {c + 1}: {exc}. {self._in_force()}")
                    cell.setStyleSheet(BAD_STYLE)
                    cell.setToolTip(message)
                    first = first or message
                else:
                    if cell.styleSheet():
                        cell.setStyleSheet("")
                        cell.setToolTip(CELL_TIP.format(r=r + 1, c=c + 1))
        if first:
            self.problem_label.setText(first)
            self.problem_label.setStyleSheet(PROBLEM_STYLE)
            self.problem_label.setToolTip(first)
        elif self._notice:
            self.problem_label.setText(self._notice)
            self.problem_label.setStyleSheet(LIMIT_STYLE)
        elif self.problem_label.text() != HINT:
            self.problem_label.setText(HINT)
            self.problem_label.setStyleSheet(HINT_STYLE)
        if first != self._problem:
            self._problem = first
            self.problem_changed.emit(first)
        if first:
            return
        changed = values.shape != self._kernel.shape or not np.array_equal(values, self._kernel)
        self._kernel = values
        total = float(values.sum())
        self.sum_label.setText(f"Sum of weights = {fmt_number(round(total, 9))}")
        if changed and emit:
            self.kernel_changed.emit(values.copy())

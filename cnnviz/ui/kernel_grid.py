"""An editable kernel: a grid of cells (1x1 up to 7x7, rows and columns chosen apart) that
take numbers and fractions like 1/9. A cell that is not a number is marked red with the
reason in its tooltip and is not used: the last good kernel stays in force."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QVBoxLayout, QWidget

from ..core.filtering import fmt_number
from ..core.kernels import KernelError, parse_cell

MAX_SIDE = 7
BAD_STYLE = "QLineEdit { border: 2px solid #d32f2f; background: #ffebee; }"
CELL_TIP = ("Row {r}, column {c} of the kernel: one weight. Type a number (2, -0.5) or a fraction "
            "(1/9). \"A convolution is a weighted sum of the pixel values of the image as the "
            "window slides across the whole image.\"")


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

        self.rows_spin = QSpinBox()
        self.cols_spin = QSpinBox()
        for spin, word in ((self.rows_spin, "rows"), (self.cols_spin, "columns")):
            spin.setRange(1, MAX_SIDE)
            spin.setToolTip(f"How many {word} the kernel has (1 to {MAX_SIDE}). Kernels need not be "
                            "square: 1×3 or 3×1 kernels find edges in one direction only. "
                            "\"CONV layers should be small size such as 3 × 3, 5 × 5, or 1 × 1.\"")
            spin.valueChanged.connect(self._on_size_changed)
        size_row = QHBoxLayout()
        size_row.setContentsMargins(0, 0, 0, 0)
        size_row.addWidget(QLabel("Size"))
        size_row.addWidget(self.rows_spin)
        times = QLabel("×")
        times.setAlignment(Qt.AlignmentFlag.AlignCenter)
        size_row.addWidget(times)
        size_row.addWidget(self.cols_spin)
        size_row.addStretch(1)

        self.cells: list[list[QLineEdit]] = []
        grid = QGridLayout()
        grid.setSpacing(2)
        grid.setContentsMargins(0, 0, 0, 0)
        for r in range(MAX_SIDE):
            row = []
            for c in range(MAX_SIDE):
                cell = QLineEdit("0")
                cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
                cell.setFixedWidth(38)
                cell.setToolTip(CELL_TIP.format(r=r + 1, c=c + 1))
                cell.textChanged.connect(self._on_text_changed)
                grid.addWidget(cell, r, c)
                row.append(cell)
            self.cells.append(row)
        grid_box = QHBoxLayout()
        grid_box.setContentsMargins(0, 0, 0, 0)
        grid_box.addLayout(grid)
        grid_box.addStretch(1)

        self.sum_label = QLabel()
        self.sum_label.setToolTip("The sum of all weights. 1 keeps the image's brightness (blurs, "
                                  "sharpen, identity); 0 turns flat areas black (edge detectors).")
        self.problem_label = QLabel()
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #c62828;")
        self.problem_label.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(size_row)
        layout.addLayout(grid_box)
        layout.addWidget(self.sum_label)
        layout.addWidget(self.problem_label)
        self.set_kernel(self._kernel)

    # ----------------------------------------------------------------- public

    def kernel(self) -> np.ndarray:
        """The kernel in force (the last one whose every cell was a number)."""
        return self._kernel.copy()

    def shape(self) -> tuple[int, int]:
        return self.rows_spin.value(), self.cols_spin.value()

    def cell(self, row: int, col: int) -> QLineEdit:
        return self.cells[row][col]

    def problem(self) -> str:
        return self._problem

    def set_kernel(self, values) -> None:
        """Show these values (fractions like 1/9 written as fractions when exact). Emits
        nothing: the caller already knows the kernel."""
        k = np.array(values, dtype=np.float64)
        if k.ndim == 1:
            k = k[None]
        if k.ndim != 2 or not (1 <= k.shape[0] <= MAX_SIDE and 1 <= k.shape[1] <= MAX_SIDE):
            raise ValueError(f"the kernel grid holds 1×1 to {MAX_SIDE}×{MAX_SIDE}; got shape {k.shape}")
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
        self._kernel = k
        self._read_cells(emit=False)

    def text(self) -> str:
        """The kernel in force as text parse_kernel reads back exactly: '0 -1 0; -1 5 -1; 0 -1 0'."""
        return "; ".join(" ".join(row) for row in cell_texts(self._kernel))

    # ----------------------------------------------------------------- internals

    def _on_size_changed(self, _value: int) -> None:
        if self._filling:
            return
        rows, cols = self.shape()
        for r in range(MAX_SIDE):
            for c in range(MAX_SIDE):
                cell = self.cells[r][c]
                inside = r < rows and c < cols
                if inside and not cell.isVisibleTo(self):
                    # A newly shown cell starts from the kernel in force, or 0.
                    old = self._kernel
                    self._filling = True
                    cell.setText(format_cell(old[r, c]) if r < old.shape[0] and c < old.shape[1] else "0")
                    self._filling = False
                cell.setVisible(inside)
        self._read_cells(emit=True)

    def _on_text_changed(self, _text: str) -> None:
        if not self._filling:
            self._read_cells(emit=True)

    def _read_cells(self, emit: bool) -> None:
        rows, cols = self.shape()
        values = np.zeros((rows, cols))
        first = ""
        for r in range(rows):
            for c in range(cols):
                cell = self.cells[r][c]
                try:
                    values[r, c] = parse_cell(cell.text())
                except KernelError as exc:
                    message = f"Row {r + 1}, column {c + 1}: {exc}. This cell is not used until it is fixed."
                    cell.setStyleSheet(BAD_STYLE)
                    cell.setToolTip(message)
                    first = first or message
                else:
                    if cell.styleSheet():
                        cell.setStyleSheet("")
                        cell.setToolTip(CELL_TIP.format(r=r + 1, c=c + 1))
        if first:
            self.problem_label.setText(f"{first} The kernel in force is still the last good one.")
            self.problem_label.show()
        else:
            self.problem_label.hide()
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

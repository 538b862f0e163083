"""The report card's figures as a table: a column per model, the better one marked."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from cnnviz.ui.widgets.tooltips import wrapped_tooltip

BETTER_MARK = "★"
BETTER_COLOUR = QColor(214, 240, 214)  # a light green behind the better figure


class FigureTable(QTableWidget):
    """show(rows, names): rows from cnnviz.core.training.report_card.rows, names the models'."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, 2, parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.verticalHeader().setVisible(False)
        self.setToolTip("Each figure of the report card; hover over a row to see what it "
                        "measures. ★ marks the better of two models.")
        self.setWordWrap(False)
        # (before the first card: named columns, not Qt's bare "1" and "2")
        self.setHorizontalHeaderLabels(["Figure", "This model"])
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)

    def show_rows(self, rows, names: list[str]) -> None:
        self.clear()
        self.setColumnCount(1 + len(names))
        self.setHorizontalHeaderLabels(["Figure", *names])
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 1 + len(names)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.setRowCount(len(rows))
        bold = QFont(self.font())
        bold.setBold(True)
        for r, row in enumerate(rows):
            tip = wrapped_tooltip(row.tip)
            label = QTableWidgetItem(row.label if row.heading else f"   {row.label}"
                                     if row.key in _GROUPED else row.label)
            label.setToolTip(tip)
            if row.heading:
                label.setFont(bold)
            self.setItem(r, 0, label)
            for c, text in enumerate(row.values):
                better = row.better == c
                item = QTableWidgetItem(f"{text} {BETTER_MARK}" if better else text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(tip)
                if better:
                    item.setFont(bold)
                    item.setBackground(QBrush(BETTER_COLOUR))
                self.setItem(r, 1 + c, item)
        self.resizeRowsToContents()

    def cell_text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text() if item is not None else ""


_GROUPED = ("per_class_accuracy", "picture_kinds", "shift_accuracy", "rotation_accuracy")

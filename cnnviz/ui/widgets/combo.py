"""A combo box's own items (to enable, disable or give a row its tooltip)."""

from __future__ import annotations

from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox


def combo_item(combo: QComboBox, row: int) -> QStandardItem | None:
    """The item at `row` of the combo box's list (Qt's default QStandardItemModel); None
    for a row that is not there."""
    model = combo.model()
    return model.item(row) if isinstance(model, QStandardItemModel) else None

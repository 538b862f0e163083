"""The Experiments tab: a list of views on the left, the chosen view on the right.

Contract with the main window (as the other explorers): status_message, set_active(),
export_array(), save_settings(), restore_settings(), shutdown(). Only the shown view works;
the others wait until they are picked.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from .base import ExperimentView
from .bn_view import BatchNormView
from .conv_view import ConvStepView
from .dropout_view import DropoutView
from .invariance_view import InvarianceView
from .map_view import MapView
from .params_view import ParametersView
from .pooling_view import PoolingShiftView
from .receptive_view import ReceptiveFieldView
from .saliency_view import SaliencyView


def view_classes() -> list[type[ExperimentView]]:
    return [ConvStepView, ReceptiveFieldView, SaliencyView, InvarianceView, PoolingShiftView,
            BatchNormView, DropoutView, ParametersView, MapView]


class ExperimentsExplorer(QWidget):
    status_message = Signal(str)

    def __init__(self, state, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.active = False
        self.list = QListWidget()
        self.list.setToolTip("The experiments: pick one to see the lecture's claim on your own "
                             "drawing")
        self.stack = QStackedWidget()
        self.views = []
        self._status: dict[int, str] = {}  # each view's last status line (by id)
        for cls in view_classes():
            view = cls(state)
            view.status_message.connect(lambda text, v=view: self._on_view_status(v, text))
            self.views.append(view)
            self.stack.addWidget(view)
            item = QListWidgetItem(cls.TITLE)
            item.setToolTip(cls.TIP)
            self.list.addItem(item)
        self.list.setFixedWidth(160)
        self.list.currentRowChanged.connect(self._on_row)
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.about.setFixedWidth(160)
        self.about.setStyleSheet("color: #444;")
        self.about.setAlignment(Qt.AlignmentFlag.AlignTop)
        side = QVBoxLayout()
        side.addWidget(self.list, 2)
        side.addWidget(self.about, 3)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(side)
        layout.addWidget(self.stack, 1)
        self.list.setCurrentRow(0)

    def _on_view_status(self, view, text: str) -> None:
        self._status[id(view)] = text
        if self.stack.currentWidget() is view:
            self.status_message.emit(text)

    def view(self, cls_name: str):
        return next(v for v in self.views if type(v).__name__ == cls_name)

    def show_view(self, cls_name: str) -> None:
        self.list.setCurrentRow(self.views.index(self.view(cls_name)))

    def _on_row(self, row: int) -> None:
        if row < 0:
            return
        self.stack.setCurrentIndex(row)
        # Only the shown view's size counts (a stack is otherwise as big as its biggest page).
        for i, view in enumerate(self.views):
            policy = QSizePolicy.Policy.Preferred if i == row else QSizePolicy.Policy.Ignored
            view.setSizePolicy(policy, policy)
        self.stack.updateGeometry()
        self.about.setText(type(self.views[row]).TIP)
        # the status line is the shown view's, never one left by the view shown before
        self.status_message.emit(self._status.get(id(self.views[row]), ""))
        for i, view in enumerate(self.views):
            view.set_active(self.active and i == row)

    def set_active(self, active: bool) -> None:
        self.active = active
        self._on_row(self.list.currentRow())

    def is_idle(self) -> bool:
        return all(v.is_idle() for v in self.views)

    def export_array(self):
        view = self.views[self.list.currentRow()]
        exported = getattr(view, "export_array", None)
        return exported() if exported is not None else None

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("teach/view", self.list.currentRow())

    def restore_settings(self, settings: QSettings) -> None:
        try:
            row = int(str(settings.value("teach/view", 0)))
        except (TypeError, ValueError):
            row = 0
        self.list.setCurrentRow(min(max(row, 0), len(self.views) - 1))

    def shutdown(self) -> None:
        for view in self.views:
            view.shutdown()

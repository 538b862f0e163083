"""“What does this unit look for?”: a window of its own for one unit of the CNN explorer's
network (window.py), its two halves (panels.py) and small pictures (pictures.py).

UnitLauncher is what the CNN explorer holds: open(layer, unit) shows the window (made on
first use) for the state's model; shutdown() stops its work when the app closes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:  # (imported when first opened: it loads torch)
    from .window import UnitWindow

__all__ = ["UnitLauncher"]


class UnitLauncher:
    def __init__(self, state, parent: QWidget) -> None:
        self.state = state
        self.parent = parent
        self.window: UnitWindow | None = None

    def open(self, layer: str | None, unit: int) -> None:
        if self.state.model is None or not layer:
            return
        if self.window is None:
            from .window import UnitWindow

            # the main window's data folder (--data-dir), else the usual places
            data_dir = getattr(self.parent.window(), "data_dir", None)
            self.window = UnitWindow(self.state, data_dir, self.parent)
        self.window.show_unit(self.state.model, layer, int(unit))

    def shutdown(self) -> None:
        if self.window is not None:
            self.window.shutdown()
            self.window = None

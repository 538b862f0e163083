"""One of the kernel explorer's panels, large, in a window of its own (small screens,
projectors): the mouse wheel zooms around the pointer, dragging moves, Reset zoom shows
it whole. It follows the panel as it is redrawn, with the same colours, scale, numbers on
the cells and note; pointing at a pixel explains it in the explorer as on the panel."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..widgets.plots import ImagePanel
from .cell_numbers import CellNumbers

HINT = "Mouse wheel: zoom around the pointer · drag: move · point at a pixel: its details in the explorer"


class EnlargedPanel(QDialog):
    """A large, zoomable copy of `source` (an ImagePanel), redrawn whenever it is."""

    def __init__(self, source: ImagePanel, numbers: CellNumbers | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.source, self.source_numbers = source, numbers
        self.panel = ImagePanel("")
        self.panel.set_zoomable(True)
        self.panel.setToolTip(source.toolTip())
        self.numbers = CellNumbers(self.panel)
        hint = QLabel(HINT)
        hint.setStyleSheet("color: #555;")
        hint.setWordWrap(True)
        self.reset_button = QPushButton("Reset zoom")
        self.reset_button.setToolTip("Show the whole image again.")
        self.reset_button.clicked.connect(self.panel.reset_zoom)
        close = QPushButton("Close")
        close.setToolTip("Close this window; the panel stays in the explorer.")
        close.clicked.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(hint, 1)
        row.addWidget(self.reset_button)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel, 1)
        layout.addLayout(row)
        # Redrawn once the explorer has finished drawing the panel (its numbers, title and
        # fading come after the image), not halfway.
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(0)
        self._later.timeout.connect(self.refresh)
        source.drawn.connect(self._later.start)
        self._size_to_screen()
        self.refresh()

    def _size_to_screen(self) -> None:
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(900, 700)
            return
        avail = screen.availableGeometry()
        self.resize(int(avail.width() * 0.8), int(avail.height() * 0.85))

    def refresh(self) -> None:
        """Draw what the source panel shows now (a new result, a new title, faded when stale)."""
        src = self.source
        args = src.drawn_args()
        title = src.title()
        self.setWindowTitle(f"cnnviz · {title.replace('<br>', ' ')}")
        if args is None:
            self.numbers.clear()
            self.panel.show_message(src.message() or "Nothing to show.", title=title)
            return
        array, levels, cmap, rect = args
        self.panel.set_array(array, title=title, levels=levels, cmap=cmap, rect=rect)
        self.panel.image_item.setOpacity(src.image_item.opacity())
        if self.source_numbers is not None and self.source_numbers.shape != (0, 0):
            self.numbers.copy_from(self.source_numbers)
        else:
            self.numbers.clear()

    def done(self, result: int) -> None:  # noqa: D102 (Qt override: closing in any way)
        with contextlib.suppress(RuntimeError, TypeError):  # already gone with the explorer
            self.source.drawn.disconnect(self._later.start)
        super().done(result)

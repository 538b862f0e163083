"""The kernel explorer tab: one kernel on one image, the lecture's way.

Left: the controls (controls.py: input source, kernel preset and editable grid, stride,
padding, activation, pooling, colour mode). Right: the output-size formulas with the current
numbers (formula_bar.py), the red banner and amber note (banners.py), the five image panels
(stage_panels.py, laid out by panel_grid.py), the pixel under the mouse taken apart
(details.py) and the status line (status_line.py).

This class only puts them together. The kernel controller (cnnviz.ui.controllers.kernel)
owns the source, the requests and the worker; every number drawn comes from cnnviz.core
(filtering, pixel_explanations, kernel_previews).
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QRect, QSettings, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from ...app_state import KERNEL_SOURCE_IMAGE, InputImage
from ...core.basics.formulas import fmt_shape
from ...core.convolution.kernel_previews import KernelPreview
from ..controllers.kernel import KernelController
from ..input.wording import made_on_the_pad
from . import persistence
from .banners import Banners
from .controls import KernelControls
from .details import PixelDetails
from .enlarged import EnlargedPanel
from .formula_bar import FormulaBar
from .panel_grid import PanelGrid
from .stage_panels import StagePanels
from .status_line import StatusLine


class SideToggle(QToolButton):
    """A slim full-height button with its text written upwards (a side tab)."""

    def __init__(self) -> None:
        super().__init__()
        self.setAutoRaise(True)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setFixedWidth(self.fontMetrics().height() + 6)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self):  # noqa: D102 (Qt override)
        hint = super().sizeHint()
        hint.setHeight(self.fontMetrics().horizontalAdvance(self.text()) + 16)
        return hint

    def minimumSizeHint(self):  # noqa: D102 (Qt override)
        return self.sizeHint()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        if self.underMouse():
            painter.fillRect(self.rect(), self.palette().midlight())
        painter.setPen(self.palette().buttonText().color())
        painter.translate(0, self.height())
        painter.rotate(-90)  # written upwards, read with the head tilted left
        painter.drawText(QRect(0, 0, self.height(), self.width()), Qt.AlignmentFlag.AlignCenter,
                         self.text())
        painter.end()


class KernelExplorer(QWidget):
    """See the module docstring. Contract with the main window: status_message, set_active(),
    export_array(), save_settings(), restore_settings(), shutdown()."""

    status_message = Signal(str)
    updated = Signal()  # after each redraw of a new result (tests, benchmarks)

    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.controller = KernelController(state, self)
        self.last_draw_seconds = 0.0
        self._shut = False
        self.controls = KernelControls(state, self.controller)
        self.formula_bar = FormulaBar()
        self.banners = Banners()
        self.stages = StagePanels(self)
        self.details = PixelDetails(self.stages)
        self.status_line = StatusLine()
        self._lay_out()
        c = self.controller
        c.result_ready.connect(self._on_result)
        c.failed.connect(self._on_failed)
        c.emptied.connect(self._on_empty)
        c.busy_changed.connect(self.status_line.set_busy)
        c.notice.connect(self.status_message.emit)
        self.controls.status.connect(self.status_message.emit)
        self.controls.kernel_too_large.connect(self.banners.show_error)
        # A new picture while a lecture example is shown: the picture is what the user wants
        # to see now (before, nothing changed and nothing was said).
        self._had_image = state.image is not None
        self._told_example: str | None = None  # the example the notice above was given for
        state.events.input_image.connect(self._on_new_image)
        c.request()

    def _lay_out(self) -> None:
        s = self.stages
        self.panel_grid = PanelGrid([s.input, s.kernel, self.details, s.conv, s.activation, s.pool])
        self.enlarged: dict[str, EnlargedPanel] = {}
        for key, panel in s.panels.items():
            panel.set_enlargeable(True)
            panel.enlarge_requested.connect(lambda k=key: self.enlarge(k))
        # Hides the control column (small screens, projectors): the panels take its room.
        self.controls_toggle = SideToggle()
        self.controls_toggle.clicked.connect(lambda: self.set_controls_hidden(self.controls.isVisible()))
        self._show_toggle_state()
        right = QVBoxLayout()
        right.setContentsMargins(0, 4, 4, 4)
        right.setSpacing(4)
        for widget in (self.formula_bar, self.banners.error, self.banners.note):
            right.addWidget(widget)
        right.addWidget(self.panel_grid, 1)
        right.addWidget(self.status_line)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.controls)
        layout.addWidget(self.controls_toggle)
        layout.addLayout(right, 1)

    # ----------------------------------------------------------------- room on screen

    def controls_hidden(self) -> bool:
        return self.controls.isHidden()

    def set_controls_hidden(self, hidden: bool) -> None:
        self.controls.setHidden(hidden)
        self._show_toggle_state()

    def _show_toggle_state(self) -> None:
        hidden = self.controls.isHidden()
        # Written upwards: ▼ reads as an arrow to the right, ▲ to the left.
        self.controls_toggle.setText("▼  Show controls" if hidden else "▲  Hide controls")
        self.controls_toggle.setToolTip("Show the controls again." if hidden else
                                        "Hide the controls: the panels get their room (small "
                                        "screens, projectors). Click again to bring them back.")

    def enlarge(self, key: str) -> EnlargedPanel:
        """Panel `key` large in its own window, with mouse-wheel zoom (one window per panel)."""
        view = self.enlarged.get(key)
        if view is None:
            view = EnlargedPanel(self.stages.panels[key], self.stages.numbers.get(key), self)
            view.panel.hovered.connect(lambda r, c, k=key: self.stages.hovered.emit(k, r, c))
            view.destroyed.connect(lambda _obj=None, k=key: self.enlarged.pop(k, None))
            self.enlarged[key] = view
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    # ----------------------------------------------------------------- results

    def _on_result(self, view: KernelPreview) -> None:
        start = time.perf_counter()
        r = view.result
        self.formula_bar.draw(r)
        self.stages.draw(view)
        self.banners.draw(r, kept_last_result=bool(self.stages.stale))
        example = self.controller.example()
        matches = example is not None and r.ok and example.matches(r.final)
        self.status_line.show_result(r.seconds, example, matches)
        self.details.set_example(example)
        self.details.refresh()
        self.last_draw_seconds = time.perf_counter() - start
        self.updated.emit()
        shape = fmt_shape(r.final.shape) if r.final is not None else "—"
        drawing = 1000 * (view.seconds - r.seconds + self.last_draw_seconds)
        self.status_message.emit(f"Kernel: {fmt_shape(r.input.shape)} → {shape} in "
                                 f"{1000 * r.seconds:.1f} ms (+{drawing:.0f} ms drawing)")

    def _on_new_image(self, picture: InputImage | None) -> None:
        """A new picture while a lecture example is chosen. One the user opened, pasted or
        picked replaces the example (it is what they want to see filtered); a stroke on the
        pad does not (the example was chosen): the first time, a notice says how to filter
        the drawing instead."""
        had, self._had_image = self._had_image, picture is not None
        example = self.controller.example()
        if example is None or picture is None or not had:  # not the first image of a start-up
            return
        if not made_on_the_pad(picture.source):
            text = (f"The new image replaced the lecture example \"{example.short_name}\" "
                    "(your own kernel and settings are back).")
            self.controller.set_source(KERNEL_SOURCE_IMAGE)
            self.controls.input_box.show_source(self.state.kernel_source)
        elif self._told_example != example.key:
            text = (f"Still showing the lecture example \"{example.short_name}\". To filter "
                    "your drawing, pick Current image or Network input under Input › Source.")
        else:
            return
        self._told_example = example.key
        self.status_line.show_notice(text)
        self.status_message.emit(text)

    def _on_failed(self, message: str) -> None:
        self.banners.show_error(f"Filtering failed: {message}. The panels show the last valid result.")

    def _on_empty(self) -> None:
        self.formula_bar.show_empty()
        self.stages.show_empty(self.state.kernel.kernel)
        self.banners.hide()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.formula_bar.fit_font(event.size().height())

    # ----------------------------------------------------------------- contract

    @property
    def runner(self):
        return self.controller.runner

    @property
    def view(self) -> KernelPreview | None:
        """The newest result delivered."""
        return self.controller.view

    @property
    def grid(self):
        return self.controls.grid

    def source(self) -> str:
        return self.controller.source()

    def set_source(self, key: str, apply_example: bool = True) -> None:
        self.controller.set_source(key, apply_example)

    def set_active(self, active: bool) -> None:
        self.controller.set_active(active)

    def request(self, reuse: bool = False) -> int | None:
        return self.controller.request(reuse)

    def is_idle(self) -> bool:
        """True when the newest request's result has been drawn and no typed kernel cell
        waits to be applied (for tests)."""
        return self.controller.is_idle() and not self.grid.pending()

    def join(self, timeout: float = 30.0) -> bool:
        return self.controller.join(timeout)

    def formula_text(self) -> str:
        """The output-size formulas shown, as plain text, one per line."""
        return self.formula_bar.plain_text()

    def export_array(self) -> tuple[str, np.ndarray] | None:
        """The last stage shown, at full size."""
        array = self.stages.export_array()
        return None if array is None else ("kernel-output", array)

    def save_settings(self, settings: QSettings) -> None:
        persistence.save(settings, self.state.kernel, self.state.kernel_source,
                         self.state.channel_view, self.controls.conv_box.link_check.isChecked(),
                         self.controls_hidden())

    def restore_settings(self, settings: QSettings) -> None:
        """Bring back saved choices; anything unusable keeps its current value (and is said)."""
        restored, source, view, linked, dropped = persistence.read(settings, self.state.kernel)
        self.set_controls_hidden(persistence.read_controls_hidden(settings, dropped))
        self.controls.conv_box.link_check.setChecked(linked)
        self.state.channel_view = view
        self.controller.restore(source, restored)
        if dropped:
            self.status_message.emit("Kernel explorer: saved settings that could not be used "
                                     f"were reset ({', '.join(dropped)}).")

    def shutdown(self) -> None:
        """Stop listening to the state and stop the worker (the window is closing)."""
        if self._shut:
            return
        self._shut = True
        for view in list(self.enlarged.values()):
            view.close()
        self.state.events.input_image.disconnect(self._on_new_image)
        self.controls.disconnect_state()
        self.controller.shutdown()

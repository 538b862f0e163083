"""The selected layer in full: the info line (the lecture's formulas with this layer's
numbers), the options (one colour scale, the block side by side) with the hover hint,
and every feature map (FeatureMapGrid) or one bar per value (BarPlot)."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.basics.formulas import fmt_count, fmt_shape
from ...core.networks.layer_cards import ROLE_CLASS_SCORES, ROLE_PROBABILITIES
from ..widgets.file_text import as_html
from .bar_plot import BarPlot
from .feature_maps import FeatureMapGrid

MAP_HINT = ("Point at a map to read it; click one to enlarge it; double-click one to see what "
            "it looks for.")
BAR_HINT = ("Point at a bar to read it; click one for details; double-click one to see what "
            "it looks for.")
BLOCK_OFF = "Show the block side by side"  # (the check box, when no block is selected)
BLOCK_TIP = ("Show the stages of this convolution block side by side: what the filters "
             "compute, after batch norm, after the activation (“change all negative values to "
             "zero”) and after pooling (“subsample (shrink the image)”). Same map number = "
             "same channel.")


class HintLabel(QLabel):
    """One line of rich text that never pushes its neighbours: in a narrow row it shows as
    much as fits, cut with "…", rather than running over the controls beside it."""

    def __init__(self, text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt override)
        self._full = text
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        doc = QTextDocument()
        doc.setDefaultFont(self.font())
        doc.setDocumentMargin(0)
        doc.setHtml(self._full)
        shown = self._full
        if doc.idealWidth() > self.width():
            shown = html.escape(self.fontMetrics().elidedText(
                doc.toPlainText(), Qt.TextElideMode.ElideRight, max(0, self.width())))
        if shown != super().text():
            super().setText(shown)


class LayerPage(QWidget):
    """info_label, shared_scale, show_block, hover_label, and pages showing grid or bars."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(4)
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        self.info_label.setTextFormat(Qt.TextFormat.RichText)
        self.info_label.setToolTip("The lecture's size and parameter formulas worked with "
                                   "this layer's numbers.")
        root.addWidget(self.info_label)
        root.addLayout(self._options())
        self.empty_note = QLabel("")
        self.empty_note.setWordWrap(True)
        self.empty_note.setStyleSheet("color: #555; background: #f2f2f2; padding: 4px;")
        self.empty_note.setToolTip("With nothing to read, the network's input is all zeros and "
                                   "each layer outputs only its biases: one flat value per map, "
                                   "which would fill the colour scale and mean nothing.")
        self.empty_note.hide()
        root.addWidget(self.empty_note)
        self.pages = QStackedWidget()
        self.grid = FeatureMapGrid()
        self.grid.setToolTip("Every feature map of the selected layer (number = channel). "
                             "Click a map to enlarge it and see the kernel that made it. "
                             "Pointing at a unit outlines, on the network input beside the "
                             "enlarged map, the pixels it sees (its receptive field).")
        self.bars = BarPlot()
        # the maps scroll (up and down) rather than shrink below a readable size
        self.grid_area = QScrollArea()
        self.grid_area.setWidget(self.grid)
        self.grid_area.setWidgetResizable(True)
        self.grid_area.setFrameShape(QFrame.Shape.NoFrame)
        self.grid_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.grid.set_scroll_area(self.grid_area)
        self.pages.addWidget(self.grid_area)
        self.pages.addWidget(self.bars)

    def _options(self) -> QHBoxLayout:
        options = QHBoxLayout()
        self.shared_scale = QCheckBox("Same colour scale for all maps")
        self.shared_scale.setChecked(True)
        self.shared_scale.setToolTip(
            "On: one colour scale for every map of the layer, so you can compare how strongly "
            "each filter responds. Off: each map is stretched to its own largest value, so "
            "weak maps show their pattern too.")
        options.addWidget(self.shared_scale)
        self.show_block = QCheckBox(BLOCK_OFF)
        self.show_block.setToolTip(BLOCK_TIP)
        options.addWidget(self.show_block)
        options.addSpacing(12)
        # takes only the room the check boxes leave (cut with "…" if need be), so it never
        # runs over them
        self.hover_label = HintLabel(MAP_HINT)
        self.hover_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.hover_label.setToolTip("What the mouse points at: layer, map, position and value.")
        options.addWidget(self.hover_label, 1)
        return options

    def idle_hint(self) -> str:
        return MAP_HINT if self.pages.currentWidget() is self.grid_area else BAR_HINT

    def show_layer(self, text, block: list[str], labels: dict[str, str]) -> None:
        """The info line and the options for a newly selected layer."""
        # A layer's name and words may come from a model file: escaped inside rich text.
        reads = (f" &nbsp;·&nbsp; <b>reads</b> {as_html(' + '.join(text.reads))}"
                 if getattr(text, "reads", ()) else "")
        self.info_label.setText(
            f"<b>{as_html(text.name)}</b> — {as_html(text.label)}{reads} &nbsp;·&nbsp; <b>output "
            f"{fmt_shape(text.shape)}</b>: {html.escape(text.shape_formula)}<br>"
            f"<b>parameters</b>: {html.escape(text.param_formula)}")
        self.show_block.setEnabled(len(block) > 1)
        if len(block) > 1:
            self.show_block.setText("Side by side: " + " → ".join(block))
            self.show_block.setToolTip(BLOCK_TIP + "\nThis block: " + " → ".join(
                f"{n} ({labels[n]})" for n in block))
        else:
            self.show_block.setText(BLOCK_OFF)
            self.show_block.setToolTip(BLOCK_TIP + "\n(Select a layer inside a convolution "
                                       "block to use this.)")
        self.shared_scale.setEnabled(text.has_maps)

    def show_maps(self, stages: list) -> None:
        """stages: the LayerTexts shown side by side (one, or a whole block)."""
        self.hover_label.setText(MAP_HINT)
        self.pages.setCurrentWidget(self.grid_area)
        one = len(stages) == 1
        self.grid.set_stages([(t.name, f"<b>{as_html(t.name)}</b> {as_html(t.label)} · "
                               f"{fmt_shape(t.shape)}" if one
                               else f"<b>{as_html(t.name)}</b> {fmt_shape(t.shape)}", t.shape)
                              for t in stages])

    def show_bars(self, text, classes: list[str]) -> None:
        self.hover_label.setText(BAR_HINT)
        self.pages.setCurrentWidget(self.bars)
        n = text.shape[0]
        per_class = n == len(classes)
        names, groups, top, fixed = None, 0, False, None
        name = as_html(text.name)  # the plot's title is rich text
        title = f"{name} — {as_html(text.label)}: {fmt_count(n)} values"
        if text.role == ROLE_PROBABILITIES and per_class:
            names, top, fixed = classes, True, (0.0, 1.05)
            title = f"{name}: the probability of each class"
        elif text.role == ROLE_CLASS_SCORES and per_class:
            names = classes
            title = f"{name}: one score per class (before softmax)"
        elif text.flattens_maps:
            c, h, w = text.in_shape
            groups = c
            title = (f"flatten: the {c} maps of {h}×{w} end to end (alternate shades = next "
                     "map)")
        self.bars.configure(n, names=names, groups=groups, highlight_top=top, title=title,
                            fixed_range=fixed)

    def draw(self, analysis, text, stage_names: list[str], empty_note: str = "") -> None:
        """Draw the layer's output; empty_note (no digit found): the maps are left empty, the
        bars at zero, and the note says why."""
        self.empty_note.setText(empty_note)
        self.empty_note.setVisible(bool(empty_note))
        if empty_note:
            if text.has_maps:
                self.grid.set_empty()
            else:
                self.bars.set_values(np.zeros(text.shape[0]))
            return
        if text.has_maps:
            self.grid.set_data({name: analysis.layer(name) for name in stage_names},
                               self.shared_scale.isChecked())
        else:
            self.bars.set_values(analysis.layer(text.name))

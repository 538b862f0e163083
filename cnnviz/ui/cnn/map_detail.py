"""The CNN explorer's detail panel: one map enlarged beside the network's 28×28 input, the
same channel through its block, and the learned kernel that made it with its bias and the
sum it computes; for a flat layer, one unit and the weights into it.

Pointing at a unit of a map (in the grid or the enlarged map) outlines its receptive field
on the input: the square of pixels it is worked out from (cnnviz.core.convolution.receptive_field)."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...core.basics.formulas import fmt_number
from ...core.convolution.receptive_field import LayerField, receptive_fields, unit_field
from ...core.pictures.mosaic import StickyScale
from ..widgets.file_text import as_html
from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP, ImagePanel
from .bar_plot import BarPlot
from .kernel_view import LayerKernelsView, StageStrip

FIELD_PEN = QColor(255, 140, 0)  # the receptive field's outline: the grid's selection orange
# opens the unit window (the explorer listens to look_requested); a double-click on a map or
# a bar does the same
LOOK_LINK = ' · <a href="look">What does it look for?</a>'
FIELD_HINT = ("Point at a unit of a map to outline, on the network's input, the square of "
              "pixels it is worked out from: its receptive field.")
INPUT_TIP = ("The network's input: your drawing after the preprocessing (28×28 for an MNIST "
             "model). Pointing at a "
             "unit of a map outlines its receptive field here, the pixels that unit can see: a "
             "unit of a deeper layer sees a larger square (the lecture's “spatial hierarchies "
             "of patterns”).")


def _words(text: str) -> str:
    """Plain words (an explanation, a note) inside rich text: escaped, lines kept."""
    return html.escape(str(text)).replace("\n", "<br>")


def _title(text: str) -> str:
    """A plot title (a QLabel that guesses the format): the text escaped, marked as rich
    text so the escapes are drawn as the characters they stand for."""
    return f"<span>{as_html(text)}</span>"


class MapDetail(QScrollArea):
    """One map enlarged, the same channel through its block, and the learned kernel that
    made it with its bias and the sum it computes. For flat layers: one unit."""

    hover_text = Signal(str)
    look_requested = Signal()  # "What does it look for?" (the explorer opens the unit window)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumWidth(300)
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.setSpacing(3)
        self.header = QLabel("")
        self.header.setWordWrap(True)
        lay.addWidget(self.header)
        self.header.linkActivated.connect(lambda _link: self.look_requested.emit())
        self.map_panel = ImagePanel("", colorbar=True)
        self.map_panel.setFixedHeight(200)
        self.map_panel.setToolTip("The chosen map, enlarged. Point at a pixel to read it.")
        self.map_panel.hovered.connect(self._on_map_hover)
        # beside the input it is narrow: the map before its colour bar (hover reads values)
        self.map_panel.compact_below = 420
        self.input_panel = ImagePanel("network input", colorbar=False)
        self.input_panel.setFixedHeight(200)
        self.input_panel.setToolTip(INPUT_TIP)
        for axis in ("left", "bottom"):  # (no room for axes beside the map)
            self.input_panel.plot.hideAxis(axis)
        self.field_outline = QGraphicsRectItem()
        pen = QPen(FIELD_PEN)
        pen.setCosmetic(True)
        pen.setWidthF(2.0)
        self.field_outline.setPen(pen)
        self.field_outline.setZValue(10)  # above the image and its frame
        self.field_outline.hide()
        self.input_panel.plot.addItem(self.field_outline, ignoreBounds=True)
        self.map_row = QWidget()
        row = QHBoxLayout(self.map_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.map_panel, 3)
        row.addWidget(self.input_panel, 2)
        lay.addWidget(self.map_row)
        self.field_caption = QLabel(FIELD_HINT)
        self.field_caption.setWordWrap(True)
        self.field_caption.setToolTip(INPUT_TIP)
        lay.addWidget(self.field_caption)
        self.unit_bars = BarPlot()
        # fixed, not expanding: with room to spare it would grow past the panel's bottom and
        # take its x axis out of sight
        self.unit_bars.setFixedHeight(220)
        self.unit_bars.setToolTip("The weights this unit multiplies its inputs by: one bar per "
                                  "input.")
        lay.addWidget(self.unit_bars)
        self.stage_caption = QLabel("The same channel through its block:")
        self.stages = StageStrip()
        self.stages.setToolTip("One channel after each stage of its block, each on its own "
                               "colour scale: the conv output, then batch norm, the activation "
                               "(negatives become 0) and pooling (half the size).")
        self.kernel_caption = QLabel("")
        self.kernel_caption.setWordWrap(True)
        lay.addWidget(self.kernel_caption)
        self.kernels = LayerKernelsView()
        self.kernels.setFixedHeight(170)
        self.kernels.setToolTip("The learned weights of this filter: one small kernel per "
                                "input map, blue = negative, red = positive. Training chose "
                                "these numbers.")
        self.kernels.hovered.connect(self._on_kernel_hover)
        lay.addWidget(self.kernels)
        self.explain = QLabel("")
        self.explain.setWordWrap(True)
        self.explain.setTextFormat(Qt.TextFormat.RichText)
        self.explain.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        lay.addWidget(self.explain)
        lay.addWidget(self.stage_caption)
        lay.addWidget(self.stages)
        lay.addStretch(1)
        self.setWidget(inner)
        self.map_value: np.ndarray | None = None
        self.kernel_layer: str | None = None
        self.kernel_channel: int | None = None
        self._name = ""
        self._big_key: str | None = None
        self.channel = 0
        self.fields: dict[str, LayerField] = {}
        self.input_hw = (28, 28)
        self.pointed: tuple[str, int, int, int] | None = None  # the unit whose field is shown

    def scroll_to_top(self) -> None:
        self.verticalScrollBar().setValue(0)

    def _show_parts(self, map_: bool, unit: bool, stages: bool, kernel: bool) -> None:
        self.map_row.setVisible(map_)
        self.field_caption.setVisible(map_)
        if not map_:
            self.clear_field()
        self.map_panel.setVisible(map_)
        self.unit_bars.setVisible(unit)
        self.stage_caption.setVisible(stages)
        self.stages.setVisible(stages)
        self.kernel_caption.setVisible(kernel)
        self.kernels.setVisible(kernel)

    # A layer's name and words, and a class's name, may come from a model file: inside the
    # rich text of these labels they are escaped (as_html; _words for the long explanations).

    def show_text(self, text) -> None:
        self.header.setText(f"<b>{as_html(text.name)}</b> — {as_html(text.label)}")
        self.explain.setText(_words(text.explanation))
        self._show_parts(False, False, False, False)

    def show_map(self, text, c: int, value: np.ndarray, stage_maps: dict) -> None:
        self._name = text.name
        self.map_value = value
        self.channel = c
        n = text.shape[0]
        self._set_header(f"<b>{as_html(text.name)} · map {c}</b> of {n} · "
                         f"{value.shape[0]}×{value.shape[1]} · {as_html(text.label)}")
        self._set_big_map(_title(f"{text.name}[{c}]"), value)
        has_stages = len(stage_maps) > 1
        if has_stages:
            self.stages.set_stages(list(stage_maps))
            self.stages.set_maps(stage_maps)
        self._show_parts(True, False, has_stages, self.kernels.weights is not None)

    def show_map_empty(self, text, c: int, note: str) -> None:
        """No digit found: the map's place says why it is empty (the kernel, learned in
        training, is still shown)."""
        self._name = text.name
        self.map_value = None
        self.channel = c
        self._big_key = None
        self._set_header(f"<b>{as_html(text.name)} · map {c}</b> of {text.shape[0]} · "
                         f"{as_html(text.label)}")
        self.map_panel.show_message(note, title=_title(f"{text.name}[{c}]"))
        self._show_parts(True, False, False, self.kernels.weights is not None)

    def show_unit_empty(self, text, i: int, note: str) -> None:
        """No digit found: a flat layer's unit has nothing to show either."""
        self._name = text.name
        self.kernels.clear_kernels()
        self.kernel_layer = None
        self._set_header(f"<b>{as_html(text.name)} · value {i}</b> · {as_html(text.label)}")
        self.explain.setText(f"{note}<br>{_words(text.explanation)}")  # (note: rich text)
        self._show_parts(False, False, False, False)

    def _set_header(self, html: str) -> None:
        html += LOOK_LINK  # (a link, not a button: no row of its own in a tight panel)
        if self.header.text() != html:
            self.header.setText(html)

    def _set_big_map(self, key: str, value: np.ndarray) -> None:
        """Update the enlarged map in place: setImage, and the colour bar only when its
        (rounded, sticky) scale changes."""
        panel = self.map_panel
        colorbar = panel.colorbar
        assert colorbar is not None  # the big map's panel is made with its colour bar
        if key != self._big_key:
            self._big_key = key
            self._big_scale = StickyScale()
            self._big_signed = False
            self._big_levels = None
            self._big_cmap = None
            panel.set_title(key)
        self._big_signed = self._big_signed or bool(value.size and float(value.min()) < 0)
        top = self._big_scale.update(float(np.abs(value).max()) if value.size else 0.0)
        levels = (-top, top) if self._big_signed else (0.0, top)
        cmap = SIGNED_CMAP if self._big_signed else UNSIGNED_CMAP
        if cmap is not self._big_cmap:
            self._big_cmap = cmap
            colorbar.setColorMap(cmap)
        if panel.message():  # it said "nothing to show": back to the plot
            panel.set_array(value, levels=levels, cmap=cmap)
        panel.image_item.setImage(value, autoLevels=False, levels=levels)
        if levels != self._big_levels:
            self._big_levels = levels
            colorbar.setLevels(levels)
        if panel.array is None or panel.array.shape != value.shape:
            panel.plot.setRange(xRange=(0, value.shape[1]), yRange=(0, value.shape[0]),
                                padding=0.02)
        panel.array = value  # what hover reads

    def show_kernel(self, kernel, steps, text, first_conv: bool = False, arch=None) -> None:
        """kernel: a cnnviz.core.networks.layer_cards.Filter (None: no conv made this map); steps:
        the StageSteps after the conv."""
        if kernel is None:
            self.kernels.clear_kernels()
            self.kernel_layer = None
            self.kernels.setVisible(False)
            self.kernel_caption.setVisible(False)
            self.explain.setText(_words(text.explanation))
            return
        conv, c, bias = as_html(kernel.layer), kernel.channel, kernel.bias
        n_in, kh, kw = kernel.weight.shape
        self.kernel_layer, self.kernel_channel = conv, c
        self.kernels.set_kernels(kernel.weight)
        self.bias = bias
        self.kernel_caption.setText(
            f"<b>Kernel that made it</b>: {conv}.weight[{c}] — {n_in} kernel"
            f"{'s' if n_in != 1 else ''} of {kh}×{kw} (one per input map), bias b = "
            f"<b>{fmt_number(bias)}</b>")
        inputs = "the input image" if first_conv else f"the {n_in} input maps"
        norm = ""
        if first_conv and arch is not None and (arch.input_mean, arch.input_std) != (0.0, 1.0):
            norm = (f" (the input is first normalised: (x − {arch.input_mean:g}) / "
                    f"{arch.input_std:g})")
        if n_in == 1:
            formula = f"{conv}[{c}] = (input ⋆ kernel) + bias{norm}"
        else:
            formula = (f"{conv}[{c}] = sum over the {n_in} input maps of "
                       f"(input map ⋆ kernel) + bias")
        lines = [f"This map: {formula}.",
                 f"⋆ slides the {kh}×{kw} window across {inputs}, multiplies and adds: “a "
                 f"weighted sum of the pixel values of the image as the window slides across the "
                 f"whole image”. Point at a kernel cell to read its weight."]
        lines += [f"then <b>{as_html(step.name)}</b>: {_words(step.text)}" for step in steps]
        self.explain.setText("<br>".join(lines))
        self.kernels.setVisible(True)
        self.kernel_caption.setVisible(True)

    def show_unit(self, text, i: int, value: float, incoming, bias, label) -> None:
        self._name = text.name
        self.kernels.clear_kernels()
        self.kernel_layer = None
        what = f"class {as_html(label)}" if label is not None else f"value {i}"
        self._set_header(f"<b>{as_html(text.name)} · {what}</b> = <b>{fmt_number(value)}</b> · "
                         f"{as_html(text.label)}")
        if incoming is not None:
            n = incoming.size
            self.unit_bars.configure(n, title=f"weights into unit {i} ({n:,} inputs)")
            self.unit_bars.set_values(incoming)
            explain = (f"unit {i} = Σ over the {n:,} inputs of (weight × input) + bias, bias b = "
                       f"<b>{fmt_number(bias)}</b>. {_words(text.explanation)}")
        else:
            explain = _words(text.explanation)
        self.explain.setText(explain + "<br><i>Click a bar to choose the unit shown here.</i>")
        self._show_parts(False, incoming is not None, False, False)

    def _on_map_hover(self, row: int, col: int) -> None:
        if row < 0 or self.map_value is None:
            self.clear_field()
            return
        value = float(self.map_value[row, col])
        self.hover_text.emit(f"{as_html(self._name)} · map {self.channel} · row {row}, column {col} · "
                             f"value <b>{fmt_number(value)}</b>")
        self.show_field(self._name, self.channel, row, col, value)

    # -- the receptive field on the input ----------------------------------------------

    def set_network(self, layer_infos, input_shape) -> None:
        """The model's layers (their fields) and its input's (C, H, W)."""
        self.fields = {f.name: f for f in receptive_fields(layer_infos)}
        self.input_hw = tuple(input_shape[-2:])
        self.clear_field()

    def set_input(self, image: np.ndarray | None) -> None:
        """The network's input now, (H, W) or (H, W, 3) colour in 0…1 (None: there is none,
        e.g. an empty pad)."""
        if image is None:
            self.input_panel.show_message("nothing to read", title="network input")
            self.clear_field()
            return
        image = np.asarray(image)
        if image.ndim == 3:  # a colour network's input: its own colours
            self.input_panel.set_array(image[..., :3] * 255.0)
            return
        self.input_panel.set_array(image, levels=(0.0, 1.0), cmap=UNSIGNED_CMAP)

    def show_field(self, layer: str, c: int, row: int, col: int, value: float) -> None:
        """Outline the receptive field of unit (row, col) of map c of a layer on the input,
        with its value; a layer without one (stage "": the pointer left) clears it."""
        field = self.fields.get(layer)
        if field is None or row < 0 or self.input_panel.array is None:
            self.clear_field()
            return
        top, left, bottom, right = unit_field(field, row, col, self.input_hw)
        self.field_outline.setRect(QRectF(left, top, right - left, bottom - top))
        self.field_outline.show()
        self.pointed = (layer, c, row, col)
        self.field_caption.setText(
            f"<b>{as_html(layer)}</b> map {c}, row {row}, column {col} = <b>{fmt_number(value)}</b> "
            f"is worked out from input rows {top}–{bottom - 1}, columns {left}–{right - 1} "
            f"({self._field_words(field, bottom - top, right - left)}).")

    @staticmethod
    def _field_words(field: LayerField, rows: int, cols: int) -> str:
        size = f"{field.size[0]}×{field.size[1]}"
        if (rows, cols) == tuple(field.size):
            return f"its {size} receptive field"
        return f"the {rows}×{cols} of its {size} receptive field inside the picture"

    def clear_field(self) -> None:
        if self.pointed is None and not self.field_outline.isVisible():
            return
        self.pointed = None
        self.field_outline.hide()
        self.field_caption.setText(FIELD_HINT)

    def _on_kernel_hover(self, c: int, r: int, k: int, value: float) -> None:
        self.hover_text.emit(f"{as_html(self.kernel_layer)}.weight[{self.kernel_channel}, {c}, {r}, {k}]"
                             f" = <b>{fmt_number(value)}</b>")


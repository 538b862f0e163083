"""Receptive fields: point at a unit of any conv or pool layer and see which input pixels it
sees; for a dense unit or a class, its incoming weights shaped as the maps they come from."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from cnnviz.core.basics.formulas import fmt_number, fmt_shape
from cnnviz.core.convolution.receptive_field import (
    LayerField,
    incoming_weights,
    mosaic,
    receptive_fields,
    unit_field,
)

from .base import ExperimentView, TitledGrid, label

FIELD = QColor("#e67e22")


class ReceptiveFieldView(ExperimentView):
    TITLE = "Receptive fields"
    TIP = ("Which input pixels one unit sees: “they can learn spatial hierarchies of patterns”. "
           "A unit of conv1 sees 3×3 pixels; deeper layers see larger squares, worked out from "
           "each layer's kernel, stride and padding. For a dense unit or a class: its incoming "
           "weights, shaped as the maps they come from.")

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.fields: list[LayerField] = []
        self.unit = (0, 0)
        self._build()
        self.listen(state.analysis_ready, self.mark_dirty)
        self.listen(state.events.model, self._on_model)

    def _build(self) -> None:
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The layer whose units to point at: conv, batch norm, ReLU and "
                                  "pool layers have maps; dense layers show incoming weights")
        self.layer_box.currentIndexChanged.connect(self._on_layer)
        self.channel = QSpinBox()
        self.channel.setPrefix("map ")
        self.channel.setToolTip("Which feature map (channel) of the layer")
        self.channel.valueChanged.connect(lambda _v: self._draw())
        self.unit_spin = QSpinBox()
        self.unit_spin.setPrefix("unit ")
        self.unit_spin.setToolTip("Which unit of the dense layer (for the last layer: which class)")
        self.unit_spin.valueChanged.connect(lambda _v: self._draw())
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer"))
        top.addWidget(self.layer_box, 1)
        top.addWidget(self.channel)
        top.addWidget(self.unit_spin)

        self.input_grid = TitledGrid("Network input", "The picture the network sees (28×28 for an MNIST model); "
                                     "the orange square is the pointed-at unit's receptive field.")
        self.map_grid = TitledGrid("Feature map", "Point at a unit (or click it) to outline what "
                                   "it sees on the input.")
        self.map_grid.grid.hovered.connect(self._on_hover)
        self.map_grid.grid.clicked.connect(self._on_hover)
        self.info = label(rich=True)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Layer", "Output", "Receptive field", "Jump"])
        self.table.setToolTip("The receptive field's size per layer: how many input pixels one "
                              "unit of the layer sees (jump: input pixels between neighbouring "
                              "units). Deeper layers see more: “spatial hierarchies of patterns”.")
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellClicked.connect(lambda r, _c: self.layer_box.setCurrentIndex(r))

        grids = QGridLayout()
        grids.addWidget(self.input_grid, 0, 0)
        grids.addWidget(self.map_grid, 0, 1)
        grids.addWidget(self.table, 1, 0)
        grids.addWidget(self.info, 1, 1)
        for i in range(2):
            grids.setColumnStretch(i, 1)
        grids.setRowStretch(0, 3)
        grids.setRowStretch(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grids, 1)

    def _on_model(self, *_args) -> None:
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.blockSignals(False)
        self.mark_dirty()

    def refresh(self) -> None:
        loaded, analysis = self.state.model, self.state.analysis
        if loaded is None or analysis is None:
            self.input_grid.grid.set_message("No model or input yet")
            return
        net = loaded.model
        self.fields = receptive_fields(net.layer_infos)
        if self.layer_box.count() == 0:
            self.layer_box.blockSignals(True)
            for info in net.layer_infos:
                if len(info.output_shape) == 3 or info.kind == "dense":
                    self.layer_box.addItem(f"{info.name} · {info.label} · {fmt_shape(info.output_shape)}",
                                           info.name)
            self.layer_box.blockSignals(False)
            self._fill_table()
            self._on_layer()
        else:
            self._draw()

    def _fill_table(self) -> None:
        self.table.setRowCount(0)
        infos = [i for i in self.state.model.model.layer_infos
                 if len(i.output_shape) == 3 or i.kind == "dense"]
        by_name = {f.name: f for f in self.fields}
        size = self.state.model.input_spec.size_text
        self.table.setRowCount(len(infos))
        for r, info in enumerate(infos):
            f = by_name.get(info.name)
            rf = f"{f.size[0]}×{f.size[1]}" if f else f"all {size} (dense)"
            jump = str(f.jump[0]) if f else "—"
            for c, text in enumerate((info.name, fmt_shape(info.output_shape), rf, jump)):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def _current(self):
        name = self.layer_box.currentData()
        info = next((i for i in self.state.model.model.layer_infos if i.name == name), None)
        return name, info

    def _on_layer(self, *_args) -> None:
        if self.state.model is None or self.layer_box.count() == 0:
            return
        _name, info = self._current()
        maps = info is not None and len(info.output_shape) == 3
        self.channel.setVisible(maps)
        self.unit_spin.setVisible(not maps)
        if maps:
            self.channel.setRange(0, info.output_shape[0] - 1)
            self.unit = (info.output_shape[1] // 2, info.output_shape[2] // 2)
        elif info is not None:
            self.unit_spin.setRange(0, info.output_shape[0] - 1)
            if self.state.analysis is not None and info.output_shape[0] == 10:
                self.unit_spin.setValue(self.state.analysis.prediction)
        self._draw()

    def _on_hover(self, row: int, col: int) -> None:
        if row >= 0:
            self.unit = (row, col)
            self._draw()

    def _draw(self) -> None:
        analysis, loaded = self.state.analysis, self.state.model
        if analysis is None or loaded is None or self.layer_box.count() == 0:
            return
        name, info = self._current()
        x = analysis.layer("input")[0]
        self.input_grid.grid.set_array(x, signed=False, levels=(0, 1), numbers=False)
        if info is None:
            return
        if len(info.output_shape) == 3:
            field = next(f for f in self.fields if f.name == name)
            c = min(self.channel.value(), info.output_shape[0] - 1)
            fmap = analysis.layer(name)[c]
            r, q = min(self.unit[0], fmap.shape[0] - 1), min(self.unit[1], fmap.shape[1] - 1)
            self.map_grid.grid.set_array(fmap, numbers=False)
            self.map_grid.grid.set_outlines([(r, q, 1, 1, FIELD)])
            self.map_grid.set_title(f"{name}[{c}] · {fmt_shape(fmap.shape)}: point at a unit")
            t, l_, b, rr = unit_field(field, r, q, x.shape)
            self.input_grid.grid.set_outlines([(t, l_, b - t, rr - l_, FIELD, 3)])
            self.input_grid.set_title(f"Network input: unit ({r}, {q}) sees rows {t}–{b - 1}, "
                                      f"columns {l_}–{rr - 1}")
            clipped = (b - t, rr - l_) != field.size
            self.info.setText(
                f"<b>{name}[{c}] at ({r}, {q}) = {fmt_number(fmap[r, q], 4)}</b><br>"
                f"Receptive field {field.size[0]}×{field.size[1]} input pixels"
                + (f" ({b - t}×{rr - l_} inside the image, the rest is padding)" if clipped else "")
                + f"; neighbouring units are {field.jump[0]} pixel(s) apart.<br>"
                "Worked out layer by layer: R' = R + (k − 1)·J, J' = J·s, where k is a layer's "
                "kernel (or pooling window) and s its stride. Batch norm, ReLU and dropout keep "
                "the field: they work pixel by pixel.")
        else:
            unit = self.unit_spin.value()
            weights, words = incoming_weights(loaded.model, name, unit)
            self.input_grid.grid.set_outlines([])
            self.input_grid.set_title(f"Network input {loaded.input_spec.size_text}")
            grid = mosaic(weights)
            self.map_grid.grid.set_array(grid, signed=True, numbers=weights.ndim == 1 and grid.size <= 64)
            self.map_grid.grid.set_outlines([])
            classes = loaded.classes
            what = (f"class {classes[unit]}" if info.output_shape[0] == len(classes)
                    and name == [i.name for i in loaded.model.layer_infos if i.kind == "dense"][-1]
                    else f"unit {unit}")
            value = analysis.layer(name)[unit]
            self.map_grid.set_title(f"{name} {what}: its {weights.size:,} incoming weights as "
                                    f"{words}")
            self.info.setText(
                f"<b>{name} {what} = {fmt_number(value, 4)}</b> (before its activation)<br>"
                f"Red weights push this unit up where the maps are bright, blue ones push it "
                "down. " + ("Each small image is one map of the flatten, so you can see where on "
                            "the map the unit looks." if weights.ndim == 3 else
                            "This layer reads the previous dense layer, not maps, so its weights "
                            "are shown as a grid of numbers, one per incoming unit."))

    def export_array(self):
        a = self.map_grid.grid.values
        return None if a is None else ("receptive-field-view", a)

    def show_result(self, result) -> None:  # no worker: everything here is already computed
        pass

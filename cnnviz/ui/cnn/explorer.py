"""The CNN explorer tab: what a trained network does with the digit you draw, layer by layer.

Top: the model picker, the network's answer in large type and the 10 class probabilities.
Middle: the network as a row of layer cards (name, type, output shape, parameters and a
live thumbnail of every layer's output). Bottom: the selected layer's output in full
(every feature map, or bars for flat layers) and, on the right, one map enlarged with
the learned kernel that made it.

CnnExplorer only composes the panels (model_picker, answer, network_strip, layer_page,
map_detail) and keeps which layer and channel are shown. Everything updates from
AppState.analysis_ready (the AnalysisController runs the model off the GUI thread); an
update only copies numbers into existing plot items.
"""

from __future__ import annotations

import html
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QSplitter, QVBoxLayout, QWidget

from ...core.basics.formulas import fmt_number, probability_text
from ...core.networks import catalogue
from ...core.networks.layer_cards import (
    LayerText,
    block_of,
    conv_filter,
    dense_unit,
    describe_layers,
    first_conv,
    flat_source,
    stage_steps,
)
from ...core.networks.weights import LoadedModel
from ..input.wording import DIGITS, nothing_to_read, wording
from .answer import PROB_TITLE, AnswerPanel
from .layer_page import BAR_HINT, BLOCK_OFF, MAP_HINT, LayerPage
from .map_detail import MapDetail
from .model_picker import OPEN_ITEM, ModelPicker
from .network_strip import NetworkStrip

SETTINGS_GROUP = "CnnExplorer"

# Names tests and other modules read from here (they moved to the panels and to core).
__all__ = ["BAR_HINT", "BLOCK_OFF", "MAP_HINT", "OPEN_ITEM", "PROB_TITLE", "SETTINGS_GROUP",
           "CnnExplorer", "block_of"]


class CnnExplorer(QWidget):
    """See the module docstring. Contract: shutdown(), export_array(), save_settings /
    restore_settings, set_active(), shipped_model(), status_message,
    open_weights_dialog(), load_weights_file(path) (read on a worker: picker.opened or
    picker.refused follow)."""

    status_message = Signal(str)
    updated = Signal()  # after each redraw from a new analysis (tests, benchmarks)
    # what its status line ("Updated in 1.5 ms (network 17.7 ms)") means, for its tooltip
    status_tip = ("How fast the CNN explorer follows your input. “Updated in”: the time to "
                  "draw the newest results on screen (maps, cards, bars). “network”: the time "
                  "to prepare the picture and run it through every layer, done on a "
                  "background thread so the window never waits for it.")

    def __init__(self, state, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.controller = controller
        self.analysis = None  # the analysis now drawn
        self.layer: str | None = None
        self.channel = 0  # the map (or unit) shown enlarged
        # (stage, map) under the pointer: shown enlarged while pointed at, so the outlined
        # field and the enlarged map are the same map's; None: the clicked one
        self._preview: tuple[str, int] | None = None
        self.detail_layer: str | None = None  # the stage it was clicked in (block view)
        self.texts: list[LayerText] = []  # per card of the current model
        self._model: LoadedModel | None = None
        self._kernel_key: tuple | None = None  # what the kernel panel shows
        self.last_update_ms = 0.0
        self.last_update_started = 0.0  # time.perf_counter() at the start of the last redraw
        self.last_update_finished = 0.0
        self._shut = False
        self.words = DIGITS  # what the input is called (digits, or pictures of clothes)
        self._active = True  # False while the tab is hidden: results are kept, not drawn
        self._redraw_when_active = False
        if not state.catalogue:
            state.catalogue = catalogue.shipped_entries()
        self._build_ui()
        self._connect()
        if state.model is None:  # the main window loads the default model
            self.picker.show_message("No model chosen yet: pick one above or open a weights "
                                     "file.")
        else:
            self._on_model_changed(state.model)
        if state.analysis is not None:
            self._on_analysis(state.analysis)

    # ------------------------------------------------------------------------------------
    # building

    def _build_ui(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)
        root.setSpacing(4)
        top = QHBoxLayout()
        self.picker = ModelPicker(self.state)
        self.picker.status_message.connect(self.status_message)
        top.addWidget(self.picker)
        self.answer = AnswerPanel()
        top.addWidget(self.answer, 1)
        root.addLayout(top)
        self.strip = NetworkStrip()
        root.addWidget(self.strip)
        self.page = LayerPage()
        root.addWidget(self.page)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.page.pages)
        self.detail = MapDetail()
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([720, 340])
        root.addWidget(self.splitter, 1)
        # the parts tests, benchmarks and the main window reach for
        self.model_combo, self.open_button = self.picker.combo, self.picker.open_button
        self.digit_label, self.prob_label = self.answer.digit_label, self.answer.prob_label
        self.prob_plot = self.answer.prob_plot
        self.info_label, self.hover_label = self.page.info_label, self.page.hover_label
        self.shared_scale, self.show_block = self.page.shared_scale, self.page.show_block
        self.pages, self.grid, self.bars = self.page.pages, self.page.grid, self.page.bars

    def _connect(self) -> None:
        self.prob_plot.hovered.connect(self._on_prob_hover)
        self.strip.layer_clicked.connect(self._on_card_clicked)
        self.shared_scale.toggled.connect(self._on_option_changed)
        self.show_block.toggled.connect(self._on_option_changed)
        self.grid.hovered.connect(self._on_grid_hover)
        self.grid.hovered.connect(self.detail.show_field)  # the unit's receptive field
        self.grid.map_clicked.connect(self._on_map_clicked)
        self.bars.hovered.connect(self._on_bar_hover)
        self.bars.bar_clicked.connect(self._on_bar_clicked)
        self.detail.hover_text.connect(self.hover_label.setText)
        self.state.events.model.connect(self._on_model_changed)
        self.state.analysis_ready.connect(self._on_analysis)
        self.state.events.layer.connect(self._on_layer_changed)
        self.state.analysis_failed.connect(self._on_analysis_failed)
        self._connect_unit_window()

    def _connect_unit_window(self) -> None:
        """What does a unit look for? A double-click on a map, a bar or a class, or the
        detail panel's button, opens the unit window (cnnviz.ui.units)."""
        from ..units import UnitLauncher

        self.units = UnitLauncher(self.state, self)
        self.grid.map_double_clicked.connect(self.units.open)
        self.bars.bar_double_clicked.connect(lambda i: self.units.open(self.layer, i))
        self.prob_plot.bar_double_clicked.connect(
            lambda i: self.units.open(self._infos()[-1].name, i))
        self.detail.look_requested.connect(lambda: self.units.open(
            self.detail_layer if self.detail_layer in self._stage_names() else self.layer,
            self.channel))

    # ------------------------------------------------------------------------------------
    # models

    @property
    def entries(self) -> list[catalogue.ModelEntry]:
        return self.state.catalogue

    def shipped_model(self, key: str) -> LoadedModel:
        """A shipped model as the picker loaded it (one copy in memory); WeightsError if it
        is missing or damaged."""
        return catalogue.shipped_loaded(self.entries, key)

    def open_weights_dialog(self) -> None:
        self.picker.open_weights_dialog()

    def load_weights_file(self, path) -> None:
        """Read a .safetensors file off the GUI thread and make it the current model; on
        failure a message says why and the current model stays."""
        self.picker.load_weights_file(path)

    def _on_model_changed(self, loaded) -> None:
        if self._shut:
            return
        self._model = loaded
        self._kernel_key = None
        self.analysis = None
        if loaded is None:
            return
        self.words = wording(loaded)
        self.detail.scroll_to_top()
        self.texts = describe_layers(loaded.model)
        self.detail.set_network(loaded.model.layer_infos, loaded.model.input_spec.shape)
        self.strip.set_network(self.texts)
        self.answer.set_classes(loaded.classes)
        self._fit_answer_width(loaded.classes)
        names = [t.name for t in self.texts]
        keep = self.state.layer if self.state.layer in names else None
        if keep is None:
            keep = first_conv(loaded.model.layer_infos) or names[-1]
        self.layer = None
        if keep != self.state.layer:
            self.state.layer = keep  # -> _on_layer_changed
        else:
            self._select_layer(keep)

    def _fit_answer_width(self, classes: list[str]) -> None:
        """One width for the answer column, wide enough for the longest class name as the
        answer shows it ("Ankle boot" in 24 pt): a wider answer took its room from the
        probability plot, which then changed size with every prediction."""
        big = QFont(self.answer.digit_label.font())
        big.setBold(True)
        widest = 0
        for name in classes:
            big.setPointSize(64 if len(name) <= 2 else 24)  # (the answer panel's two sizes)
            widest = max(widest, QFontMetrics(big).horizontalAdvance(name))
        width = max(150, widest + 16)
        self.answer.digit_slot.setFixedWidth(width)
        self.answer.prob_slot.setFixedWidth(width)  # "next: Pullover 12.3%" wraps, never widens
        self.answer.prob_label.setWordWrap(True)
        self.answer.prob_slot.refit()

    # ------------------------------------------------------------------------------------
    # layer selection

    def _on_card_clicked(self, name: str) -> None:
        self.state.layer = name
        if name == self.layer:  # clicking the selected card again still shows it
            self._select_layer(name)

    def _on_layer_changed(self, name: str) -> None:
        if not self._shut:
            self._select_layer(name)

    def _text(self, name: str | None):
        return next((t for t in self.texts if t.name == name), None)

    def _infos(self):
        return self._model.model.layer_infos if self._model is not None else []

    def _select_layer(self, name: str) -> None:
        text = self._text(name)
        if text is None:
            return
        changed = name != self.layer
        self.layer = name
        self.strip.set_selected(name)
        if changed:
            self.channel = 0
            self._preview = None
            self.detail_layer = None
            self.grid.select_channel(0)
            self.bars.select(None)
            self.detail.scroll_to_top()  # a new layer's details start at their top
        labels = {i.name: i.label for i in self._infos()}
        self.page.show_layer(text, block_of(self._infos(), name), labels)
        self._configure_page()
        if self.analysis is not None:
            self._draw_layer(self.analysis)
            self._draw_detail(self.analysis)
        else:
            self.detail.show_text(text)

    def _stage_names(self) -> list[str]:
        if self.layer is None:
            return []
        block = block_of(self._infos(), self.layer)
        if self.show_block.isChecked() and len(block) > 1:
            return block
        return [self.layer]

    def _configure_page(self) -> None:
        text = self._text(self.layer)
        if text is None:
            return
        if text.has_maps:
            self.page.show_maps([self._text(name) for name in self._stage_names()])
            self.grid.select_channel(self.channel)
        else:
            self.page.show_bars(text, self._model.classes if self._model is not None else [])

    def _on_option_changed(self, _checked: bool = False) -> None:
        if self.layer is None:
            return
        self._configure_page()
        if self.analysis is not None:
            self._draw_layer(self.analysis)

    TWO_ROW_HEIGHT = 660  # this tall or more, the layer cards may wrap onto two rows
    NARROW_WIDTH = 900  # narrower than this, the model picker gives up room

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        # Tall enough: every card on screen at once (two rows); on a short screen the maps
        # need the height more, and the one row scrolls.
        self.strip.set_max_rows(2 if self.height() >= self.TWO_ROW_HEIGHT else 1)
        # Narrow (a 1024-px screen): the model's name is cut short ("cnnviz-fashion — Fa…",
        # its tooltip has it all) so the probability plot keeps room for the class names.
        self.picker.set_narrow(self.width() < self.NARROW_WIDTH)

    # ------------------------------------------------------------------------------------
    # live updates

    def set_active(self, active: bool) -> None:
        """The main window calls this when the tab is shown or hidden. While hidden, new
        results are not drawn (the pad's own answer still updates); the newest one is drawn
        when the tab comes back."""
        self._active = active
        if active and self._redraw_when_active:
            self._redraw_when_active = False
            if self.state.analysis is not None:
                self._on_analysis(self.state.analysis)

    def _on_analysis(self, analysis) -> None:
        if self._shut or self._model is None:
            return
        if list(analysis.layer_infos) != list(self._model.model.layer_infos):
            return  # a result for a model that is no longer chosen
        if not self._active:
            self._redraw_when_active = True
            return
        t0 = time.perf_counter()
        self.analysis = analysis
        self.answer.show_analysis(analysis, self._model.classes, self.words)
        # while the pen moves the thumbnails in view take turns (all take the final result)
        self.strip.set_outputs(analysis.layers, blank=analysis.digit.empty,
                               paced=bool(getattr(self.state, "drawing", False)))
        self._draw_layer(analysis)
        self._draw_detail(analysis)
        t1 = time.perf_counter()
        ms = (t1 - t0) * 1e3
        self.last_update_ms = ms
        self.last_update_started, self.last_update_finished = t0, t1
        self.status_message.emit(f"Updated in {ms:.1f} ms (network {analysis.seconds * 1e3:.1f} ms)")
        self.updated.emit()

    def _on_analysis_failed(self, message: str) -> None:
        if not self._shut:
            self.picker.show_message(f"The model could not read this input: {message}")

    def empty_note(self, analysis) -> str:
        """What the layers say when there is nothing to read ("" when there is)."""
        if not analysis.digit.empty:
            return ""
        short, _why = nothing_to_read(analysis.digit, self.words)
        return (f"<b>{html.escape(short)}</b>: the layers have nothing to show, so the maps "
                "are left empty. (With no ink every map would be one flat colour: only the "
                "biases.)")

    def _draw_layer(self, analysis) -> None:
        text = self._text(self.layer)
        if text is not None:
            self.page.draw(analysis, text, self._stage_names(), self.empty_note(analysis))

    # ------------------------------------------------------------------------------------
    # hover, click, detail

    def _on_grid_hover(self, stage: str, c: int, row: int, col: int, value: float) -> None:
        preview = (stage, c) if stage and (stage, c) != (self._detail_name(), self.channel) \
            else None
        if preview != self._preview:
            self._preview = preview
            if self.analysis is not None:
                self._draw_detail(self.analysis)
        if not stage:
            self.hover_label.setText(MAP_HINT)
            return
        self.hover_label.setText(f"{stage} · map {c} · row {row}, column {col} · "
                                 f"value <b>{fmt_number(value)}</b>")

    def _on_prob_hover(self, i: int, p: float) -> None:
        name = self.prob_plot.full_name(i)
        if i < 0 or name is None:
            self.hover_label.setText(self.page.idle_hint())
            return
        self.hover_label.setText(f"softmax · class {i} <b>{html.escape(name)}</b> · "
                                 f"p = <b>{html.escape(probability_text(p))}</b>")

    def _class_of(self, text, i: int) -> str | None:
        """The class a flat layer's value i stands for (None unless one value per class)."""
        classes: list[str] = self._model.classes if self._model is not None else []
        per_class = text is not None and not text.has_maps and text.shape[0] == len(classes)
        return classes[i] if per_class and 0 <= i < len(classes) else None

    def _on_bar_hover(self, i: int, value: float) -> None:
        if i < 0:
            self.hover_label.setText(BAR_HINT)
            return
        text = self._text(self.layer)
        where = ""
        if text is not None and text.flattens_maps:
            ch, row, col = flat_source(text.in_shape, i)
            where = f" = map {ch}, row {row}, column {col} of the layer before"
        label = self._class_of(text, i)
        name = f" ({label})" if label is not None else ""
        self.hover_label.setText(f"{self.layer} · value {i}{name}{where} · <b>{fmt_number(value)}</b>")

    def _on_map_clicked(self, stage: str, c: int) -> None:
        self.channel = c
        self._preview = None
        self.detail_layer = stage  # in block view: the stage whose map was clicked
        self.grid.select_channel(c)
        if self.analysis is not None:
            self._draw_detail(self.analysis)

    def _on_bar_clicked(self, i: int) -> None:
        self.channel = i
        self.bars.select(i)
        if self.analysis is not None:
            self._draw_detail(self.analysis)

    def _detail_name(self) -> str | None:
        """The layer whose map the user clicked (a stage of the block, else the layer)."""
        return self.detail_layer if self.detail_layer in self._stage_names() else self.layer

    def _draw_detail(self, analysis) -> None:
        preview = self._preview if self._preview and self._preview[0] in self._stage_names() \
            else None
        name = preview[0] if preview else self._detail_name()
        text = self._text(name)
        if text is None or name is None or self._model is None:  # (texts come with a model)
            return
        value = analysis.layer(name)
        if text.has_maps:
            self._draw_map_detail(analysis, text, value)
            return
        i = min(self.channel, value.shape[0] - 1)
        note = self.empty_note(analysis)
        if note:
            self._kernel_key = None
            self.detail.show_unit_empty(text, i, note)
            return
        incoming = bias = None
        if text.kind == "dense":
            incoming, bias = dense_unit(self._model.model, name, i)
        self._kernel_key = None
        self.detail.show_unit(text, i, float(value[i]), incoming, bias, self._class_of(text, i))

    def _draw_map_detail(self, analysis, text, value) -> None:
        if self._model is None:  # (maps come with a model)
            return
        shown = self._preview[1] if self._preview and self._preview[0] == text.name \
            else self.channel
        c = min(shown, value.shape[0] - 1)
        block = block_of(self._infos(), text.name)
        self.detail.set_input(None if analysis.digit.empty else analysis.digit.image)
        stages = block if len(block) > 1 else []
        upto = block[:block.index(text.name) + 1] if text.name in block else []
        if analysis.digit.empty:
            short, _why = nothing_to_read(analysis.digit, self.words)
            self.detail.show_map_empty(text, c, f"{short}: nothing to show.")
        else:
            self.detail.show_map(text, c, value[c], {s: analysis.layer(s)[c] for s in stages})
        conv = block[0] if block else None
        key = (id(self._model), conv, c, tuple(upto))
        if key == self._kernel_key:
            return
        self._kernel_key = key
        net = self._model.model
        if conv is None:
            self.detail.show_kernel(None, [], text)
            return
        self.detail.show_kernel(conv_filter(net, conv, c), stage_steps(net, upto, c), text,
                                first_conv=first_conv(self._infos()) == conv, arch=getattr(net, "arch", None))

    # ------------------------------------------------------------------------------------
    # contract with the main window

    def export_array(self) -> tuple[str, np.ndarray] | None:
        if self.analysis is None or self.layer is None or self._model is None:
            return None
        try:
            value = self.analysis.layer(self.layer)
        except KeyError:
            return None
        stem = f"{self._model.name}-{self.layer}".replace("/", "_")
        return stem, np.array(value, copy=True)

    def save_settings(self, settings: QSettings) -> None:
        settings.beginGroup(SETTINGS_GROUP)
        settings.setValue("shared_scale", self.shared_scale.isChecked())
        settings.setValue("show_block", self.show_block.isChecked())
        if self.layer:
            settings.setValue("layer", self.layer)
        settings.setValue("splitter", self.splitter.saveState())
        i = catalogue.index_of(self.entries, self.state.model)
        if i >= 0:
            entry = self.entries[i]
            settings.setValue("model", entry.key if entry.shipped else str(entry.path))
        settings.setValue("opened", catalogue.recent_files(self.entries))
        settings.endGroup()

    def restore_settings(self, settings: QSettings) -> None:
        settings.beginGroup(SETTINGS_GROUP)
        try:
            self.shared_scale.setChecked(_as_bool(settings.value("shared_scale", True)))
            self.show_block.setChecked(_as_bool(settings.value("show_block", False)))
            # Saved values are checked as they are read: a hand-edited or damaged file must
            # not stop the window from starting (a wrong type is dropped, the default kept).
            splitter = settings.value("splitter")
            if isinstance(splitter, QByteArray) and not splitter.isEmpty():
                self.splitter.restoreState(splitter)
            opened = settings.value("opened", []) or []
            opened = [opened] if isinstance(opened, str) else opened
            if isinstance(opened, (list, tuple)):  # the most recent last: the picker keeps those
                self.picker.remember([p for p in opened[-catalogue.MAX_RECENT_MODELS:]
                                      if isinstance(p, str) and 0 < len(p) < 4096])
            model = settings.value("model")
            if isinstance(model, str) and model and "\0" not in model:
                self._restore_model(str(model))
            layer = settings.value("layer")
            if layer and self._text(str(layer)) is not None:
                self.state.layer = str(layer)
        finally:
            settings.endGroup()

    def _restore_model(self, model: str) -> None:
        chosen = next((e for e in self.entries if e.shipped and e.key == model), None)
        if chosen is not None and chosen.loaded is not None:
            if chosen.loaded is not self.state.model:
                self.state.model = chosen.loaded
        elif chosen is None and Path(model).is_file():
            current = self.state.model
            if current is None or current.path is None or \
                    Path(current.path).resolve() != Path(model).resolve():
                self.picker.load_quietly(Path(model))

    def shutdown(self) -> None:
        """Stop listening to the state (the window is closing). The analysis controller is
        shared with the input panel: whoever made it stops it."""
        if self._shut:
            return
        self._shut = True
        self.picker.disconnect_state()
        self.state.events.model.disconnect(self._on_model_changed)
        self.state.analysis_ready.disconnect(self._on_analysis)
        self.state.events.layer.disconnect(self._on_layer_changed)
        self.units.shutdown()


def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)

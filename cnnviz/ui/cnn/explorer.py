"""The CNN explorer tab: what a trained network does with the digit you draw, layer by layer.

Top: the model picker, the network's answer in large type and the 10 class probabilities.
Middle: the network as a row of layer cards (name, type, output shape, parameters and a
live thumbnail of every layer's output). Bottom: the selected layer's output in full
(every feature map, or bars for flat layers) and, on the right, one map enlarged with
the learned kernel that made it.

Everything updates from AppState.analysis_ready (the AnalysisController runs the model
off the GUI thread); an update only copies numbers into existing plot items.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QFont, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.data import DATASET_NAMES
from ...core.inference import percent
from ...core.weights import SHIPPED, LoadedModel, WeightsError, load_shipped, load_weights
from ..input.wording import DIGITS, blank_input, nothing_to_read, wording
from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP, ImagePanel
from .feature_maps import BarPlot, FeatureMapGrid, KernelView, StageStrip, StickyScale
from .network_strip import NetworkStrip, describe_layers, fmt_shape

OPEN_ITEM = "Open weights file…"
SETTINGS_GROUP = "CnnExplorer"
MAP_HINT = "Point at a map to read it; click one to enlarge it."
BAR_HINT = "Point at a bar to read it; click one for details."
BLOCK_OFF = "Show the block side by side"  # (the check box, when no block is selected)
PROB_TITLE = "Class probabilities (softmax)"


@dataclass
class ModelEntry:
    key: str  # shipped name, or the file path for a model the user opened
    label: str
    loaded: LoadedModel | None
    path: Path | None
    shipped: bool
    problem: str = ""  # why it cannot be chosen (a missing shipped file)


def model_label(key: str, loaded: LoadedModel, shipped: bool) -> str:
    card = loaded.card
    dataset = DATASET_NAMES[loaded.dataset]
    acc = card.get("test_accuracy")
    facts = ", ".join(x for x in (dataset, f"{100 * float(acc):.1f}%"
                                  if isinstance(acc, (int, float)) else "") if x)
    name = key if shipped else f"{loaded.name} ({loaded.path.name if loaded.path else 'file'})"
    return f"{name} — {facts}" if facts else name


def model_tooltip(loaded: LoadedModel) -> str:
    card = loaded.card
    lines = [loaded.model.arch.description or loaded.name]
    acc = card.get("test_accuracy")
    if isinstance(acc, (int, float)):
        lines.append(f"Test accuracy {100 * float(acc):.2f}% on "
                     f"{DATASET_NAMES[loaded.dataset]} "
                     "(images it never saw in training).")
    if loaded.path is not None:
        lines.append(f"File: {loaded.path}")
    return "\n".join(lines)


def block_of(infos, name: str) -> list[str]:
    """The conv block a feature-map layer belongs to: a conv and the BN / activation /
    pooling / dropout layers after it, up to the next conv or flatten."""
    names = [i.name for i in infos]
    if name not in names:
        return []
    idx = names.index(name)
    if len(infos[idx].output_shape) != 3:
        return []
    j = idx
    while j >= 0 and infos[j].kind != "conv":
        if len(infos[j].output_shape) != 3:
            return []
        j -= 1
    if j < 0:
        return []
    block = [infos[j].name]
    k = j + 1
    while (k < len(infos) and infos[k].kind in ("batchnorm", "activation", "pool", "dropout")
           and len(infos[k].output_shape) == 3):
        block.append(infos[k].name)
        k += 1
    return block


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


class CnnExplorer(QWidget):
    """See the class docstring of the module. Contract: shutdown(), export_array(),
    save_settings / restore_settings, status_message, open_weights_dialog(),
    load_weights_file(path) -> bool."""

    status_message = Signal(str)
    updated = Signal()  # after each redraw from a new analysis (tests, benchmarks)

    def __init__(self, state, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.controller = controller
        self.entries: list[ModelEntry] = []
        self.analysis = None  # the analysis now drawn
        self.layer: str | None = None
        self.channel = 0  # the map (or unit) shown enlarged
        self.detail_layer: str | None = None  # the stage it was clicked in (block view)
        self.texts = []  # LayerText per card of the current model
        self._model = None
        self._kernel_key = None
        self.last_update_ms = 0.0
        self.last_update_started = 0.0  # time.perf_counter() at the start of the last redraw
        self.last_update_finished = 0.0
        self.update_count = 0
        self._shut = False
        self.words = DIGITS  # what the input is called (digits, or pictures of clothes)
        self._active = True  # False while the tab is hidden: results are kept, not drawn
        self._redraw_when_active = False
        self._build_ui()
        self._load_shipped_entries()
        state.model_changed.connect(self._on_model_changed)
        state.analysis_ready.connect(self._on_analysis)
        state.layer_changed.connect(self._on_layer_changed)
        controller.analysis_failed.connect(self._on_analysis_failed)
        if state.model is None:  # the main window loads the default model
            self._show_message("No model chosen yet: pick one above or open a weights file.")
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

        # -- top row: model picker | the answer | probabilities
        top = QHBoxLayout()
        picker_box = QVBoxLayout()
        picker_box.addWidget(QLabel("<b>Model</b>"))
        self.model_combo = QComboBox()
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.model_combo.setToolTip("Which trained network reads your digit. The percentage "
                                    "is its accuracy on the 10,000 test images it never "
                                    "saw in training.")
        self.model_combo.setPlaceholderText("Choose a model")
        self.model_combo.activated.connect(self._on_combo_activated)
        picker_box.addWidget(self.model_combo)
        self.open_button = QPushButton("Open weights file…")
        self.open_button.setToolTip("Load a network you trained yourself (a cnnviz "
                                    ".safetensors file: the architecture and the weights, "
                                    "nothing that can run code).")
        self.open_button.clicked.connect(self.open_weights_dialog)
        picker_box.addWidget(self.open_button)
        self.message_label = QLabel("")
        self.message_label.setStyleSheet("color: #b00020;")
        self.message_label.setWordWrap(True)
        self.message_label.setMaximumWidth(260)
        picker_box.addWidget(self.message_label)
        picker_box.addStretch(1)
        top.addLayout(picker_box)

        answer = QVBoxLayout()
        answer.setSpacing(0)
        cap = QLabel("The network reads")
        cap.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        answer.addWidget(cap)
        self.digit_label = QLabel("—")
        self.digit_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digit_label.setMinimumWidth(150)
        self.digit_label.setToolTip("The class with the highest probability after the "
                                    "softmax layer: the network's answer.")
        self._set_digit_font(64)
        answer.addWidget(self.digit_label)
        self.prob_label = QLabel(DIGITS.prompt)
        self.prob_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.prob_label.setToolTip("How sure the network is: the softmax probability of its "
                                   "answer (all 10 add up to 100%).")
        answer.addWidget(self.prob_label)
        top.addLayout(answer)

        self.prob_plot = BarPlot(title=PROB_TITLE, grid=False)
        self.prob_plot.setToolTip("The softmax layer's output: one probability per class, "
                                  "adding up to 1. The orange bar is the answer. Point at a "
                                  "bar to read its class and probability.")
        self.prob_plot.hovered.connect(self._on_prob_hover)
        self.prob_plot.setMinimumHeight(128)
        self.prob_plot.setMaximumHeight(140)
        self.prob_plot.getAxis("left").setLabel("p")
        top.addWidget(self.prob_plot, 1)
        root.addLayout(top)

        # -- the network row
        self.strip = NetworkStrip()
        self.strip.layer_clicked.connect(self._on_card_clicked)
        root.addWidget(self.strip)

        # -- selected layer: formulas and options
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        self.info_label.setTextFormat(Qt.TextFormat.RichText)
        self.info_label.setToolTip("The lecture's size and parameter formulas worked with "
                                   "this layer's numbers.")
        root.addWidget(self.info_label)
        options = QHBoxLayout()
        self.shared_scale = QCheckBox("Same colour scale for all maps")
        self.shared_scale.setChecked(True)
        self.shared_scale.setToolTip(
            "On: one colour scale for every map of the layer, so you can compare how strongly "
            "each filter responds. Off: each map is stretched to its own largest value, so "
            "weak maps show their pattern too.")
        self.shared_scale.toggled.connect(self._on_option_changed)
        options.addWidget(self.shared_scale)
        self.show_block = QCheckBox(BLOCK_OFF)
        self._block_tooltip = (
            "Show the stages of this convolution block side by side: what the filters "
            "compute, after batch norm, after the activation (“change all negative values to "
            "zero”) and after pooling (“subsample (shrink the image)”). Same map number = "
            "same channel.")
        self.show_block.setToolTip(self._block_tooltip)
        self.show_block.toggled.connect(self._on_option_changed)
        options.addWidget(self.show_block)
        options.addSpacing(12)
        # takes only the room the check boxes leave (cut with "…" if need be), so it never
        # runs over them
        self.hover_label = HintLabel(MAP_HINT)
        self.hover_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.hover_label.setToolTip("What the mouse points at: layer, map, position and value.")
        options.addWidget(self.hover_label, 1)
        root.addLayout(options)

        # -- the layer's output | the detail panel
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.pages = QStackedWidget()
        self.grid = FeatureMapGrid()
        self.grid.setToolTip("Every feature map of the selected layer (number = channel). "
                             "Click a map to enlarge it and see the kernel that made it.")
        self.grid.hovered.connect(self._on_grid_hover)
        self.grid.map_clicked.connect(self._on_map_clicked)
        self.bars = BarPlot()
        self.bars.hovered.connect(self._on_bar_hover)
        self.bars.bar_clicked.connect(self._on_bar_clicked)
        self.pages.addWidget(self.grid)
        self.pages.addWidget(self.bars)
        self.splitter.addWidget(self.pages)
        self.detail = MapDetail()
        self.detail.hover_text.connect(self.hover_label.setText)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([720, 340])
        root.addWidget(self.splitter, 1)

    def _set_digit_font(self, points: int) -> None:
        font = QFont()
        font.setPointSize(points)
        font.setBold(True)
        self.digit_label.setFont(font)

    # ------------------------------------------------------------------------------------
    # models

    def _load_shipped_entries(self) -> None:
        for key, (_filename, what) in SHIPPED.items():
            try:
                loaded = load_shipped(key)
            except WeightsError as exc:
                self.entries.append(ModelEntry(key, f"{key} — not installed", None, None, True,
                                               f"{what}: {exc}"))
            else:
                self.entries.append(ModelEntry(key, model_label(key, loaded, True), loaded,
                                               loaded.path, True))
        self._fill_combo()

    def shipped_model(self, key: str) -> LoadedModel:
        """A shipped model as the picker loaded it (one copy in memory); WeightsError if it
        is missing or damaged."""
        for entry in self.entries:
            if entry.shipped and entry.key == key and entry.loaded is not None:
                return entry.loaded
        return load_shipped(key)  # raises WeightsError with the reason

    def _fill_combo(self) -> None:
        combo = self.model_combo
        combo.blockSignals(True)
        combo.clear()
        for i, entry in enumerate(self.entries):
            combo.addItem(entry.label, i)
            if entry.loaded is None and entry.shipped:
                item = combo.model().item(combo.count() - 1)
                item.setEnabled(False)
                combo.setItemData(combo.count() - 1, entry.problem + ". Reinstall cnnviz "
                                  "to get it back, or open a weights file.",
                                  Qt.ItemDataRole.ToolTipRole)
            elif entry.loaded is not None:
                combo.setItemData(combo.count() - 1, model_tooltip(entry.loaded),
                                  Qt.ItemDataRole.ToolTipRole)
            else:
                combo.setItemData(combo.count() - 1, str(entry.path),
                                  Qt.ItemDataRole.ToolTipRole)
        combo.insertSeparator(combo.count())
        combo.addItem(OPEN_ITEM, -1)
        combo.setItemData(combo.count() - 1, "Choose a .safetensors weights file",
                          Qt.ItemDataRole.ToolTipRole)
        combo.blockSignals(False)
        self._sync_combo()

    def _entry_index(self, loaded) -> int:
        for i, entry in enumerate(self.entries):
            if entry.loaded is loaded:
                return i
        if loaded is not None and loaded.path is not None:
            for i, entry in enumerate(self.entries):
                if entry.path is not None and Path(entry.path).resolve() == Path(loaded.path).resolve():
                    return i
        return -1

    def _sync_combo(self) -> None:
        i = self._entry_index(self.state.model) if hasattr(self, "state") else -1
        combo = self.model_combo
        combo.blockSignals(True)
        if i >= 0:
            combo.setCurrentIndex(combo.findData(i))
            combo.setToolTip(model_tooltip(self.entries[i].loaded) if self.entries[i].loaded
                             else combo.toolTip())
        else:
            combo.setCurrentIndex(-1)  # shows the placeholder
        combo.blockSignals(False)

    def _on_combo_activated(self, row: int) -> None:
        data = self.model_combo.itemData(row)
        if data == -1:
            self._sync_combo()  # show the current model until a file is chosen
            self.open_weights_dialog()
            return
        if data is None or not 0 <= data < len(self.entries):
            return
        entry = self.entries[data]
        if entry.loaded is None:
            if entry.path is not None and self.load_weights_file(entry.path):
                return
            self._sync_combo()
            return
        if entry.loaded is not self.state.model:
            self.state.set_model(entry.loaded)

    def open_weights_dialog(self) -> None:
        start = ""
        current = self.state.model
        if current is not None and current.path is not None and not self._is_shipped(current):
            start = str(Path(current.path).parent)
        path, _ = QFileDialog.getOpenFileName(
            self, "Open weights file", start,
            "cnnviz weights (*.safetensors);;All files (*)")
        if path:
            self.load_weights_file(path)

    def _is_shipped(self, loaded) -> bool:
        i = self._entry_index(loaded)
        return i >= 0 and self.entries[i].shipped

    def load_weights_file(self, path) -> bool:
        """Open a .safetensors file and make it the current model. On failure show why and
        keep the current model."""
        path = Path(path)
        try:
            loaded = load_weights(path)
        except WeightsError as exc:
            self._refuse(path, str(exc))
            return False
        except Exception as exc:  # never crash on a file; say what happened
            self._refuse(path, f"unexpected error while reading it ({type(exc).__name__}: {exc})")
            return False
        key = str(path.resolve())
        entry = ModelEntry(key, model_label(key, loaded, False), loaded, path, False)
        for i, old in enumerate(self.entries):
            if not old.shipped and old.key == key:
                self.entries[i] = entry
                break
        else:
            self.entries.append(entry)
        self._fill_combo()
        self.state.set_model(loaded)
        self.status_message.emit(f"Opened {path.name}: {loaded.name}")
        return True

    def _refuse(self, path: Path, reason: str) -> None:
        current = self.state.model.name if self.state.model is not None else "none"
        QMessageBox.warning(self, "Cannot open weights file",
                            f"{path.name} cannot be used: {reason}.\n\n"
                            f"The current model ({current}) is kept.")
        self.status_message.emit(f"Not opened: {path.name}")

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)

    def _on_model_changed(self, loaded) -> None:
        if self._shut:
            return
        self._model = loaded
        self._kernel_key = None
        self.analysis = None
        if self._entry_index(loaded) < 0 and loaded is not None:
            key = str(loaded.path) if loaded.path else loaded.name
            self.entries.append(ModelEntry(key, model_label(key, loaded, False), loaded,
                                           loaded.path, False))
            self._fill_combo()
        self._sync_combo()
        self._show_message("")
        if loaded is None:
            return
        self.words = wording(loaded)
        self.detail.scroll_to_top()
        self.texts = describe_layers(loaded.model)
        self.strip.set_network(self.texts)
        classes = loaded.classes
        self.prob_plot.configure(len(classes), names=classes, highlight_top=True,
                                 title=PROB_TITLE,
                                 fixed_range=(0.0, 1.05))
        self.prob_plot.set_values(np.zeros(len(classes)))
        names = [t.name for t in self.texts]
        keep = self.state.layer if self.state.layer in names else None
        if keep is None:
            keep = next((t.name for t in self.texts if t.kind == "conv"), names[-1])
        self.layer = None
        if keep != self.state.layer:
            self.state.set_layer(keep)  # -> _on_layer_changed
        else:
            self._select_layer(keep)

    # ------------------------------------------------------------------------------------
    # layer selection

    def _on_card_clicked(self, name: str) -> None:
        self.state.set_layer(name)
        if name == self.layer:  # clicking the selected card again still shows it
            self._select_layer(name)

    def _on_layer_changed(self, name: str) -> None:
        if not self._shut:
            self._select_layer(name)

    def _text(self, name: str):
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
            self.detail_layer = None
            self.grid.select_channel(0)
            self.bars.select(None)
            self.detail.scroll_to_top()  # a new layer's details start at their top
        self.info_label.setText(
            f"<b>{text.name}</b> — {text.label} &nbsp;·&nbsp; <b>output {fmt_shape(text.shape)}</b>"
            f": {text.shape_formula}<br><b>parameters</b>: {text.param_formula}")
        block = block_of(self._infos(), name)
        self.show_block.setEnabled(len(block) > 1)
        if len(block) > 1:
            infos = {i.name: i for i in self._infos()}
            self.show_block.setText("Side by side: " + " → ".join(block))
            self.show_block.setToolTip(self._block_tooltip + "\nThis block: " + " → ".join(
                f"{n} ({infos[n].label})" for n in block))
        else:
            self.show_block.setText(BLOCK_OFF)
            self.show_block.setToolTip(self._block_tooltip + "\n(Select a layer inside a "
                                       "convolution block to use this.)")
        self.shared_scale.setEnabled(len(text.shape) == 3)
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
        if len(text.shape) == 3:
            self.hover_label.setText(MAP_HINT)
            self.pages.setCurrentWidget(self.grid)
            stages = []
            names = self._stage_names()
            for name in names:
                t = self._text(name)
                title = (f"<b>{name}</b> {t.label} · {fmt_shape(t.shape)}" if len(names) == 1
                         else f"<b>{name}</b> {fmt_shape(t.shape)}")
                stages.append((name, title, t.shape))
            self.grid.set_stages(stages)
            self.grid.select_channel(self.channel)
        else:
            self.hover_label.setText(BAR_HINT)
            self.pages.setCurrentWidget(self.bars)
            n = text.shape[0]
            classes = self._model.classes if self._model is not None else []
            names, groups, top, fixed = None, 0, False, None
            title = f"{text.name} — {text.label}: {n:,} values"
            if text.name == self._last_layer_name() and n == len(classes):
                names, top, fixed = classes, True, (0.0, 1.05)
                title = f"{text.name}: the probability of each class"
            elif n == len(classes) and self._is_last_dense(text.name):
                names = classes
                title = f"{text.name}: one score per class (before softmax)"
            elif text.kind == "flatten" and len(text.in_shape) == 3:
                groups = text.in_shape[0]
                title = (f"flatten: the {text.in_shape[0]} maps of {text.in_shape[1]}×"
                         f"{text.in_shape[2]} end to end (alternate shades = next map)")
            self.bars.configure(n, names=names, groups=groups, highlight_top=top, title=title,
                                fixed_range=fixed)

    def _last_layer_name(self) -> str | None:
        infos = self._infos()
        if infos and infos[-1].kind == "activation" and infos[-1].label == "Softmax":
            return infos[-1].name
        return None

    def _is_last_dense(self, name: str) -> bool:
        dense = [i.name for i in self._infos() if i.kind == "dense"]
        return bool(dense) and dense[-1] == name

    def _on_option_changed(self, _checked: bool = False) -> None:
        if self.layer is None:
            return
        self._configure_page()
        if self.analysis is not None:
            self._draw_layer(self.analysis)

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
        self._draw_answer(analysis)
        self.strip.set_outputs(analysis.layers)
        self._draw_layer(analysis)
        self._draw_detail(analysis)
        t1 = time.perf_counter()
        ms = (t1 - t0) * 1e3
        self.last_update_ms = ms
        self.last_update_started, self.last_update_finished = t0, t1
        self.update_count += 1
        self.status_message.emit(f"update {ms:.1f} ms (model {analysis.seconds * 1e3:.1f} ms)")
        self.updated.emit()

    def _on_analysis_failed(self, message: str) -> None:
        if not self._shut:
            self._show_message(f"The model could not read this input: {message}")

    def _draw_answer(self, analysis) -> None:
        classes = self._model.classes
        probs = analysis.probabilities
        if analysis.digit.empty:
            short, why = nothing_to_read(analysis.digit, self.words)
            blank = blank_input(analysis.digit)
            self._set_answer("—" if blank else "", 24)  # (a 64 pt dash is a black bar)
            # a blank pad asks for a drawing; a picture without ink says so, in bold
            self.prob_label.setText(short if blank else f"<b>{short}</b>")
            self.prob_label.setToolTip(why)
            self.prob_plot.set_values(np.zeros(len(classes)))
            return
        self.prob_label.setToolTip("How sure the network is: the softmax probability of its "
                                   "answer (all of them add up to 100%).")
        name = classes[analysis.prediction]
        self._set_answer(name, 64 if len(name) <= 2 else 24)
        runner_up = analysis.top3[1] if len(analysis.top3) > 1 else None
        extra = (f"<br><span style='color:#666'>next: {classes[runner_up[0]]} "
                 f"{html.escape(percent(runner_up[1]))}</span>" if runner_up else "")
        sure = html.escape(percent(probs[analysis.prediction]))  # ">99.9%" is rich text too
        self.prob_label.setText(f"<b>{sure}</b> sure{extra}")
        self.prob_plot.set_values(probs)

    def _set_answer(self, text: str, points: int) -> None:
        if self.digit_label.font().pointSize() != points:
            self._set_digit_font(points)
        if self.digit_label.text() != text:
            self.digit_label.setText(text)

    def _draw_layer(self, analysis) -> None:
        if self.layer is None:
            return
        value = analysis.layer(self.layer)
        if value.ndim == 3:
            arrays = {name: analysis.layer(name) for name in self._stage_names()}
            self.grid.set_data(arrays, self.shared_scale.isChecked())
        else:
            self.bars.set_values(value)

    # ------------------------------------------------------------------------------------
    # hover, click, detail

    def _on_grid_hover(self, stage: str, c: int, row: int, col: int, value: float) -> None:
        if not stage:
            self.hover_label.setText(MAP_HINT)
            return
        self.hover_label.setText(f"{stage} · map {c} · row {row}, column {col} · "
                                 f"value <b>{value:.4g}</b>")

    def _on_prob_hover(self, i: int, p: float) -> None:
        name = self.prob_plot.full_name(i)
        if i < 0 or name is None:
            self.hover_label.setText(MAP_HINT if self.pages.currentWidget() is self.grid
                                     else BAR_HINT)
            return
        self.hover_label.setText(f"softmax · class {i} <b>{html.escape(name)}</b> · "
                                 f"p = <b>{p:.4g}</b> ({html.escape(percent(p))})")

    def _on_bar_hover(self, i: int, value: float) -> None:
        if i < 0:
            self.hover_label.setText(BAR_HINT)
            return
        text = self._text(self.layer)
        where = ""
        if text is not None and text.kind == "flatten" and len(text.in_shape) == 3:
            c, h, w = text.in_shape
            ch, rest = divmod(i, h * w)
            where = f" = map {ch}, row {rest // w}, column {rest % w} of the layer before"
        classes = self._model.classes if self._model else []
        name = f" ({classes[i]})" if text is not None and len(text.shape) == 1 and \
            text.shape[0] == len(classes) and i < len(classes) else ""
        self.hover_label.setText(f"{self.layer} · value {i}{name}{where} · <b>{value:.4g}</b>")

    def _on_map_clicked(self, stage: str, c: int) -> None:
        self.channel = c
        self.detail_layer = stage  # in block view: the stage whose map was clicked
        self.grid.select_channel(c)
        if self.analysis is not None:
            self._draw_detail(self.analysis)

    def _on_bar_clicked(self, i: int) -> None:
        self.channel = i
        self.bars.select(i)
        if self.analysis is not None:
            self._draw_detail(self.analysis)

    def _draw_detail(self, analysis) -> None:
        name = self.detail_layer if self.detail_layer in self._stage_names() else self.layer
        text = self._text(name)
        if text is None:
            return
        value = analysis.layer(name)
        net = self._model.model
        if value.ndim == 3:
            c = min(self.channel, value.shape[0] - 1)
            block = block_of(self._infos(), name)
            stages = block if len(block) > 1 else []
            upto = block[:block.index(name) + 1] if name in block else []
            self.detail.show_map(text, c, value[c],
                                 {s: analysis.layer(s)[c] for s in stages})
            conv = block[0] if block else None
            key = (id(self._model), conv, c, tuple(upto))
            if key != self._kernel_key:
                self._kernel_key = key
                if conv is None:
                    self.detail.show_kernel(None, None, None, [], text)
                else:
                    layer = net.layers[conv]
                    weight = layer.weight.detach().cpu().numpy()[c]
                    bias = float(layer.bias.detach().cpu().numpy()[c]) if layer.bias is not None \
                        else 0.0
                    self.detail.show_kernel(conv, weight, bias, self._stage_steps(upto, c), text,
                                            first_conv=self._is_first_conv(conv),
                                            arch=net.arch)
        else:
            i = min(self.channel, value.shape[0] - 1)
            incoming = None
            bias = None
            if text.kind == "dense":
                layer = net.layers[name]
                incoming = layer.weight.detach().cpu().numpy()[i]
                bias = float(layer.bias.detach().cpu().numpy()[i])
            self._kernel_key = None
            classes = self._model.classes
            label = classes[i] if len(text.shape) == 1 and text.shape[0] == len(classes) else None
            self.detail.show_unit(text, i, float(value[i]), incoming, bias, label)

    def _is_first_conv(self, conv: str) -> bool:
        return next((i.name for i in self._infos() if i.kind == "conv"), None) == conv

    def _stage_steps(self, upto: list[str], c: int) -> list[str]:
        """Plain-words description of what happens after the conv, for channel c."""
        steps = []
        net = self._model.model
        infos = {i.name: i for i in self._infos()}
        for name in upto[1:]:
            info = infos[name]
            layer = net.layers[name]
            if info.kind == "batchnorm":
                mu = float(layer.running_mean[c])
                var = float(layer.running_var[c])
                gamma = float(layer.weight.detach()[c]) if layer.weight is not None else 1.0
                beta = float(layer.bias.detach()[c]) if layer.bias is not None else 0.0
                steps.append(f"then <b>{name}</b>: (x − μ)/√(σ² + ε) · γ + β with μ = {mu:.3g}, "
                             f"σ² = {var:.3g}, γ = {gamma:.3g}, β = {beta:.3g}")
            elif info.kind == "activation":
                rule = {"ReLU": "max(0, x)", "Tanh": "tanh(x)", "Sigmoid": "1/(1 + e^(−x))",
                        "ELU": "x if x > 0 else e^x − 1",
                        "Leaky ReLU": "x if x > 0 else 0.01·x"}.get(info.label, info.label)
                steps.append(f"then <b>{name}</b>: {rule}")
            elif info.kind == "pool":
                keep = {"Max": "largest", "Min": "smallest", "Avg": "average"}.get(
                    info.label[:3], "one")
                steps.append(f"then <b>{name}</b>: {info.label}, each window keeps its {keep} "
                             "value")
            elif info.kind == "dropout":
                steps.append(f"then <b>{name}</b>: passes through unchanged (dropout acts only "
                             "in training)")
        return steps

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
        i = self._entry_index(self.state.model)
        if i >= 0:
            entry = self.entries[i]
            settings.setValue("model", entry.key if entry.shipped else str(entry.path))
        settings.setValue("opened", [str(e.path) for e in self.entries
                                     if not e.shipped and e.path is not None])
        settings.endGroup()

    def restore_settings(self, settings: QSettings) -> None:
        settings.beginGroup(SETTINGS_GROUP)
        try:
            self.shared_scale.setChecked(_as_bool(settings.value("shared_scale", True)))
            self.show_block.setChecked(_as_bool(settings.value("show_block", False)))
            splitter = settings.value("splitter")
            if splitter:
                self.splitter.restoreState(splitter)
            opened = settings.value("opened", []) or []
            if isinstance(opened, str):
                opened = [opened]
            added = False
            for p in opened:
                path = Path(str(p))
                key = str(path.resolve())
                if path.is_file() and not any(e.key == key for e in self.entries):
                    self.entries.append(ModelEntry(key, f"{path.name} (not loaded yet)", None,
                                                   path, False))
                    added = True
            if added:
                self._fill_combo()
            model = settings.value("model")
            if model:
                chosen = next((e for e in self.entries if e.shipped and e.key == model), None)
                if chosen is not None and chosen.loaded is not None:
                    if chosen.loaded is not self.state.model:
                        self.state.set_model(chosen.loaded)
                elif chosen is None and Path(str(model)).is_file():
                    current = self.state.model
                    if current is None or current.path is None or \
                            Path(current.path).resolve() != Path(str(model)).resolve():
                        self._load_quietly(Path(str(model)))
            layer = settings.value("layer")
            if layer and self._text(str(layer)) is not None:
                self.state.set_layer(str(layer))
        finally:
            settings.endGroup()

    def _load_quietly(self, path: Path) -> None:
        """Restore a remembered file without a dialog: a problem goes to the status bar."""
        try:
            loaded = load_weights(path)
        except Exception as exc:  # a remembered file may have changed or gone
            self.status_message.emit(f"Could not reopen {path.name}: {exc}")
            return
        key = str(path.resolve())
        self.entries = [e for e in self.entries if e.key != key]
        self.entries.append(ModelEntry(key, model_label(key, loaded, False), loaded, path, False))
        self._fill_combo()
        self.state.set_model(loaded)

    def shutdown(self) -> None:
        """Stop listening to the state (the window is closing). The analysis controller is
        shared with the input panel: whoever made it stops it."""
        if self._shut:
            return
        self._shut = True
        self.state.model_changed.disconnect(self._on_model_changed)
        self.state.analysis_ready.disconnect(self._on_analysis)
        self.state.layer_changed.disconnect(self._on_layer_changed)


def _as_bool(value) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


# ---------------------------------------------------------------------------------------
# The detail panel


class MapDetail(QScrollArea):
    """One map enlarged, the same channel through its block, and the learned kernel that
    made it with its bias and the sum it computes. For flat layers: one unit."""

    hover_text = Signal(str)

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
        self.map_panel = ImagePanel("", colorbar=True)
        self.map_panel.setFixedHeight(200)
        self.map_panel.setToolTip("The chosen map, enlarged. Point at a pixel to read it.")
        self.map_panel.hovered.connect(self._on_map_hover)
        lay.addWidget(self.map_panel)
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
        self.kernels = KernelView()
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
        self._big_key = None

    def scroll_to_top(self) -> None:
        self.verticalScrollBar().setValue(0)

    def _show_parts(self, map_: bool, unit: bool, stages: bool, kernel: bool) -> None:
        self.map_panel.setVisible(map_)
        self.unit_bars.setVisible(unit)
        self.stage_caption.setVisible(stages)
        self.stages.setVisible(stages)
        self.kernel_caption.setVisible(kernel)
        self.kernels.setVisible(kernel)

    def show_text(self, text) -> None:
        self.header.setText(f"<b>{text.name}</b> — {text.label}")
        self.explain.setText(text.explanation)
        self._show_parts(False, False, False, False)

    def show_map(self, text, c: int, value: np.ndarray, stage_maps: dict) -> None:
        self._name = text.name
        self.map_value = value
        self.channel = c
        n = text.shape[0]
        self._set_header(f"<b>{text.name} · map {c}</b> of {n} · "
                         f"{value.shape[0]}×{value.shape[1]} · {text.label}")
        self._set_big_map(f"{text.name}[{c}]", value)
        has_stages = len(stage_maps) > 1
        if has_stages:
            self.stages.set_stages(list(stage_maps))
            self.stages.set_maps(stage_maps)
        self._show_parts(True, False, has_stages, self.kernels.weights is not None)

    def _set_header(self, html: str) -> None:
        if self.header.text() != html:
            self.header.setText(html)

    def _set_big_map(self, key: str, value: np.ndarray) -> None:
        """Update the enlarged map in place: setImage, and the colour bar only when its
        (rounded, sticky) scale changes."""
        panel = self.map_panel
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
            panel.colorbar.setColorMap(cmap)
        panel.image_item.setImage(value, autoLevels=False, levels=levels)
        if levels != self._big_levels:
            self._big_levels = levels
            panel.colorbar.setLevels(levels)
        if panel.array is None or panel.array.shape != value.shape:
            panel.plot.setRange(xRange=(0, value.shape[1]), yRange=(0, value.shape[0]),
                                padding=0.02)
        panel.array = value  # what hover reads

    def show_kernel(self, conv: str | None, weight, bias, steps: list[str], text,
                    first_conv: bool = False, arch=None) -> None:
        if conv is None:
            self.kernels.clear_kernels()
            self.kernel_layer = None
            self.kernels.setVisible(False)
            self.kernel_caption.setVisible(False)
            self.explain.setText(text.explanation)
            return
        c = self.channel
        n_in, kh, kw = weight.shape
        self.kernel_layer, self.kernel_channel = conv, c
        self.kernels.set_kernels(weight)
        self.bias = bias
        self.kernel_caption.setText(
            f"<b>Kernel that made it</b>: {conv}.weight[{c}] — {n_in} kernel"
            f"{'s' if n_in != 1 else ''} of {kh}×{kw} (one per input map), bias b = "
            f"<b>{bias:.4g}</b>")
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
        lines += steps
        self.explain.setText("<br>".join(lines))
        self.kernels.setVisible(True)
        self.kernel_caption.setVisible(True)

    def show_unit(self, text, i: int, value: float, incoming, bias, label) -> None:
        self._name = text.name
        self.kernels.clear_kernels()
        self.kernel_layer = None
        what = f"class {label}" if label is not None else f"value {i}"
        self._set_header(f"<b>{text.name} · {what}</b> = <b>{value:.4g}</b> · {text.label}")
        if incoming is not None:
            n = incoming.size
            self.unit_bars.configure(n, title=f"weights into unit {i} ({n:,} inputs)")
            self.unit_bars.set_values(incoming)
            explain = (f"unit {i} = Σ over the {n:,} inputs of (weight × input) + bias, bias b = "
                       f"<b>{bias:.4g}</b>. {text.explanation}")
        else:
            explain = text.explanation
        self.explain.setText(explain + "<br><i>Click a bar to choose the unit shown here.</i>")
        self._show_parts(False, incoming is not None, False, False)

    def _on_map_hover(self, row: int, col: int) -> None:
        if row < 0 or self.map_value is None:
            return
        self.hover_text.emit(f"{self._name} · map {self.channel} · row {row}, column {col} · "
                             f"value <b>{float(self.map_value[row, col]):.4g}</b>")

    def _on_kernel_hover(self, c: int, r: int, k: int, value: float) -> None:
        self.hover_text.emit(f"{self.kernel_layer}.weight[{self.kernel_channel}, {c}, {r}, {k}]"
                             f" = <b>{value:.4g}</b>")


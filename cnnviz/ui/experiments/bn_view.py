"""Batch norm on a batch of test digits: the batch's statistics against the running ones,
and the lecture's formula with the numbers for the pointed-at value."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout

from cnnviz.core.basics.formulas import BATCHNORM_RULE, MINUS, fmt_number
from cnnviz.core.convolution.receptive_field import mosaic
from cnnviz.core.experiments.bn_dropout import batch_statistics, layer_names

from ..widgets import plots  # noqa: F401  (pyqtgraph's row-major and white-background set-up)
from .base import ExperimentView, TitledGrid, label

BATCH_SIZES = (8, 32, 100, 300)
# x̂ in a serif face: Qt's rich text misplaces the combining hat in the default sans face
# (a zero-width non-joiner after the hat ends the cluster inside the span: without it Qt
# drew a second hat over a later letter of the line)
XHAT = "<span style='font-family: \"DejaVu Serif\", serif'>x\u0302\u200c</span>"


def _test_images(dataset: str, count: int) -> tuple[np.ndarray, str]:
    """The first `count` test images of the model's dataset: the shipped 300 MNIST digits,
    or the data folder's Fashion-MNIST test set (MNIST digits, said so, if it is missing)."""
    from cnnviz.core.datasets.data import DATASET_NAMES, DataError, load_split
    from cnnviz.core.pictures.samples import load_samples

    if dataset != "mnist":
        try:
            images, _labels = load_split(dataset, "test", verify=False)
            return images[:count], f"{DATASET_NAMES[dataset]} test images"
        except DataError:
            words = (f"MNIST test digits ({DATASET_NAMES[dataset]}'s test files were not found; "
                     "`cnnviz data download` fetches them)")
            return load_samples()[0][:count], words
    return load_samples()[0][:count], "MNIST test digits"


def _work(network, x, name, size, dataset):
    """x: your input as the network takes it, (C, H, W)."""
    from cnnviz.core.networks.network import fit_picture, to_network_layout

    images, words = _test_images(dataset, size - 1)
    spec = network.input_spec
    if spec.is_digit_sized:
        batch = images.astype(np.float32)[:, None] / 255.0
    else:  # a network of another size: the test pictures resized to its input, as yours was
        batch = np.stack([to_network_layout(fit_picture(img, spec).image, spec) for img in images])
        words += f", resized to {spec.size_text}"
    batch = np.concatenate([np.asarray(x, np.float32)[None], batch])  # yours first
    return batch_statistics(network, batch, name), words


def _n(v: float) -> str:
    return fmt_number(v, 4)


def _term(v: float) -> str:
    """A number after a minus or plus sign: a negative one in brackets, '0.5 − (−0.1142)',
    never '0.5 − −0.1142'."""
    text = _n(v)
    return f"({text})" if text.startswith(("-", "−")) else text


class BatchNormView(ExperimentView):
    TITLE = "Batch norm"
    TIP = ("“BN calculates the mean and standard deviation of each input variable, to a layer "
           "per mini-batch and uses this to perform the standardization”: x̂ = (x − μ) / √(σ² + ε). "
           "In training μ and σ² come from the batch; at test time from the running statistics "
           "gathered while training.")

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.stats = None
        self.batch_words = ""
        self.unit = (0, 0)
        self._build()
        self.listen(state.analysis_ready, self.mark_dirty)
        self.listen(state.events.model, self._on_model)

    def _build(self) -> None:
        self.layer = QComboBox()
        self.layer.setToolTip("Which batch-norm layer of the network")
        self.layer.currentIndexChanged.connect(self.mark_dirty)
        self.batch_combo = QComboBox()
        for n in BATCH_SIZES:
            self.batch_combo.addItem(f"batch of {n}", n)
        self.batch_combo.setCurrentIndex(1)
        self.batch_combo.setToolTip("How many digits make the batch: your digit and that many − 1 real "
                             "MNIST test digits. Small batches give noisier statistics.")
        self.batch_combo.currentIndexChanged.connect(self.mark_dirty)
        self.channel = QSpinBox()
        self.channel.setPrefix("channel ")
        self.channel.setToolTip("Which channel (feature map) to point at")
        self.channel.valueChanged.connect(lambda _v: self._draw())
        top = QHBoxLayout()
        for text, w in (("Layer", self.layer), ("", self.batch_combo), ("", self.channel)):
            if text:
                top.addWidget(QLabel(text))
            top.addWidget(w)
        top.addStretch(1)
        self.mean_plot = pg.PlotWidget(title="μ per channel: batch (bars), running (dots)")
        self.var_plot = pg.PlotWidget(title="σ² per channel: batch (bars), running (dots)")
        for w in (self.mean_plot, self.var_plot):
            w.setMouseEnabled(False, False)
            w.hideButtons()
            w.setMinimumSize(160, 110)
            w.setLabel("bottom", "channel")
            w.setToolTip("Bars: this batch's μ or σ² per channel (what training mode uses); "
                         "dots: the running statistics the network uses at test time")
        self.map_grid = TitledGrid("Your digit's input to the layer", "Point at a value to see "
                                   "the formula with its numbers")
        self.map_grid.grid.hovered.connect(self._on_hover)
        self.map_grid.grid.clicked.connect(self._on_hover)
        self.formula = label(rich=True)
        grid = QGridLayout()
        grid.addWidget(self.mean_plot, 0, 0)
        grid.addWidget(self.var_plot, 1, 0)
        grid.addWidget(self.map_grid, 0, 1, 2, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid, 1)
        layout.addWidget(self.formula)

    def _on_model(self, loaded) -> None:
        self._fill_layers(loaded)
        self.mark_dirty()

    def _fill_layers(self, loaded) -> None:
        self.layer.blockSignals(True)
        self.layer.clear()
        if loaded is not None:
            for name in layer_names(loaded.model, "batchnorm"):
                self.layer.addItem(name, name)
        self.layer.blockSignals(False)

    def refresh(self) -> None:
        loaded, analysis = self.state.model, self.state.analysis
        if loaded is None or analysis is None:
            self.map_grid.grid.set_message("No model or input yet")
            return
        if self.layer.count() == 0:
            self._fill_layers(loaded)
        if self.layer.count() == 0:
            self.stats = None
            self.map_grid.grid.set_message(f"{loaded.name} has no batch-norm layer")
            self.formula.setText("Pick a model with batch norm (cnnviz's default has six).")
            for w in (self.mean_plot, self.var_plot):
                w.clear()
            return
        self.submit(_work, loaded.model, analysis.layers[0][1], self.layer.currentData(),
                    int(self.batch_combo.currentData()), loaded.dataset)

    def show_result(self, result) -> None:
        stats, self.batch_words = result
        self.stats = stats
        c = stats.batch_mean.size
        self.channel.setRange(0, c - 1)
        xs = np.arange(c)
        for w, batch, running in ((self.mean_plot, stats.batch_mean, stats.running_mean),
                                  (self.var_plot, stats.batch_var, stats.running_var)):
            w.clear()
            w.addItem(pg.BarGraphItem(x=xs, height=batch, width=0.7, brush="#85c1e9"))
            w.plot(xs, running, pen=None, symbol="o", symbolSize=5, symbolBrush="#c0392b",
                   symbolPen=None)
        self._draw()

    def _on_hover(self, row: int, col: int) -> None:
        if row >= 0:
            self.unit = (row, col)
            self._draw()

    def _draw(self) -> None:
        s = self.stats
        if s is None:
            return
        c = min(self.channel.value(), s.batch_mean.size - 1)
        mine = s.inputs[0]  # your digit is the first of the batch
        if mine.ndim == 3:
            fmap = mine[c]
            r, q = min(self.unit[0], fmap.shape[0] - 1), min(self.unit[1], fmap.shape[1] - 1)
            value, where = float(fmap[r, q]), f"channel {c} at ({r}, {q})"
            self.map_grid.grid.set_array(fmap, numbers=False)
            self.map_grid.grid.set_outlines([(r, q, 1, 1, "#e67e22")])
            self.map_grid.set_title(f"Your digit's input to {s.name}, channel {c}")
        else:
            grid = mosaic(mine)
            cols = grid.shape[1]
            r, q = self.unit
            unit = min(r * cols + q, mine.size - 1)
            c = unit
            value, where = float(mine[unit]), f"unit {unit}"
            self.map_grid.grid.set_array(grid, numbers=False)
            self.map_grid.grid.set_outlines([(unit // cols, unit % cols, 1, 1, "#e67e22")])
            self.map_grid.set_title(f"Your digit's input to {s.name} ({mine.size} units)")
        t, e = s.normalise(value, c, True), s.normalise(value, c, False)
        n = s.inputs.shape[0]
        per = n * (s.inputs[0, 0].size if s.inputs.ndim == 4 else 1)

        def line(f, mode, mu, var):
            return (f"<b>{mode}</b>: {XHAT} = ({_n(f['x'])} {MINUS} {_term(f['mu'])}) / √({_n(f['var'])} + "
                    f"{fmt_number(f['eps'])}) = <b>{_n(f['x_hat'])}</b>; y = γ·{XHAT} + β = "
                    f"{_n(f['gamma'])} × {_term(f['x_hat'])} + {_term(f['beta'])} = <b>{_n(f['y'])}</b> "
                    f"(μ = {mu}, σ² = {var})")

        self.formula.setText(
            f"{BATCHNORM_RULE.replace('x̂', XHAT)} for your digit's value x = {_n(value)} ({where}):<br>"
            + f"The batch: your picture and {n - 1} {self.batch_words}.<br>"
            + line(t, "Training mode", f"the batch's mean over {per:,} values",
                   "the batch's variance")
            + "<br>" + line(e, "Evaluation mode", "the running mean", "the running variance")
            + "<br><span style='color:#555'>The network uses evaluation mode when it reads your "
              "digit, so its answer does not depend on which other digits are in the batch.</span>")

    def export_array(self):
        return None if self.stats is None else ("batchnorm-inputs", self.stats.inputs)

"""Dropout: many samples of the current input with only the dropout layers in training
mode; which units were dropped, and how the answer spreads against the evaluation answer."""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout

from cnnviz.core.basics.formulas import percent
from cnnviz.core.convolution.receptive_field import mosaic
from cnnviz.core.experiments.bn_dropout import dropout_samples

from ..widgets import plots  # noqa: F401  (pyqtgraph's row-major and white-background set-up)
from .base import ExperimentView, TitledGrid, label
from .grid_view import grey_ramp

SAMPLE_COUNTS = (20, 100, 500)


def _work(network, image, samples, seed):
    return dropout_samples(network, image, samples, seed)


class DropoutView(ExperimentView):
    TITLE = "Dropout"
    TIP = ("“The idea is to keep turn off some neural so that we use many good neural nodes for "
           "prediction (not relying only on one)”, and “we randomly add dropout only during the "
           "training time”: your digit run many times with dropout on, against the one answer "
           "with it off.")

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.samples = None
        self.seed = 0
        self._build()
        self.listen(state.analysis_ready, self.mark_dirty)
        self.listen(state.events.model, self.mark_dirty)

    def _build(self) -> None:
        self.count = QComboBox()
        for n in SAMPLE_COUNTS:
            self.count.addItem(f"{n} samples", n)
        self.count.setCurrentIndex(1)
        self.count.setToolTip("How many times to run your digit with dropout on (each time "
                              "other units are turned off)")
        self.count.currentIndexChanged.connect(self.mark_dirty)
        again = QPushButton("Sample again")
        again.setToolTip("New random masks")
        again.clicked.connect(self._again)
        self.layer = QComboBox()
        self.layer.setToolTip("Which dropout layer's mask to show")
        self.layer.currentIndexChanged.connect(lambda _i: self._draw_mask())
        self.which = QSlider(Qt.Orientation.Horizontal)
        self.which.setToolTip("Which sample's mask to show")
        self.which.valueChanged.connect(lambda _v: self._draw_mask())
        top = QHBoxLayout()
        top.addWidget(self.count)
        top.addWidget(again)
        top.addWidget(QLabel("Mask of"))
        top.addWidget(self.layer)
        top.addWidget(QLabel("sample"))
        top.addWidget(self.which, 1)
        self.plot = pg.PlotWidget(title="Answers with dropout on (bars; dots: mean p), off (▲)")
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setLabel("bottom", "class")
        self.plot.setYRange(0, 1.05)
        self.plot.setToolTip("Blue bars: the share of samples that gave each answer; orange dots: "
                             "the mean probability with dropout on; red triangles: the probability with "
                             "dropout off (evaluation mode), what the app shows")
        self.mask_grid = TitledGrid("Dropped units", "Black: dropped in this sample (turned off); "
                                    "white: kept (and scaled by 1 / (1 − p) so the sum stays the "
                                    "same on average)")
        self.rate_grid = TitledGrid("How often each unit was dropped", "Over all samples: every "
                                    "unit is dropped about p of the time, none more than others")
        self.summary = label(rich=True)
        grid = QGridLayout()
        grid.addWidget(self.plot, 0, 0, 1, 2)
        grid.addWidget(self.mask_grid, 1, 0)
        grid.addWidget(self.rate_grid, 1, 1)
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid, 1)
        layout.addWidget(self.summary)

    def _again(self) -> None:
        self.seed += 1
        self.mark_dirty()

    def refresh(self) -> None:
        loaded, analysis = self.state.model, self.state.analysis
        if loaded is None or analysis is None or analysis.digit.empty:
            self.mask_grid.grid.set_message("Draw a digit first")
            return
        self.submit(_work, loaded.model, analysis.layers[0][1], int(self.count.currentData()),
                    self.seed)

    def show_failure(self, message: str) -> None:
        self.samples = None
        self.mask_grid.grid.set_message(message)
        self.rate_grid.grid.set_message("")
        self.plot.clear()
        self.summary.setText(f"{message}: pick a model with dropout (cnnviz's default has two).")

    def show_result(self, d) -> None:
        self.samples = d
        names = list(d.masks)
        if [self.layer.itemData(i) for i in range(self.layer.count())] != names:
            self.layer.blockSignals(True)
            self.layer.clear()
            for n in names:
                self.layer.addItem(f"{n} (p = {d.rates[n]:g})", n)
            self.layer.blockSignals(False)
        n = d.probabilities.shape[0]
        self.which.setRange(0, n - 1)
        xs = np.arange(d.probabilities.shape[1])
        self.plot.clear()
        self.plot.addItem(pg.BarGraphItem(x=xs, height=d.answer_counts / n, width=0.6,
                                          brush="#85c1e9"))
        self.plot.plot(xs, d.probabilities.mean(axis=0), pen=None, symbol="o", symbolSize=7,
                       symbolBrush="#e67e22", symbolPen=None)
        self.plot.plot(xs, d.eval_probabilities, pen=None, symbol="t1", symbolSize=12,
                       symbolBrush="#c0392b", symbolPen=None)
        classes = self.state.model.classes if self.state.model is not None else []
        if len(classes) != len(xs):
            classes = [str(i) for i in xs]
        self.plot.getAxis("bottom").setTicks([list(enumerate(classes))])
        eval_answer = int(np.argmax(d.eval_probabilities))
        agree = float((d.answers == eval_answer).mean())
        spread = d.probabilities[:, eval_answer]
        self.summary.setText(
            f"With dropout off (evaluation mode) the network reads "
            f"<b>{html.escape(classes[eval_answer])}</b> "
            f"({percent(d.eval_probabilities[eval_answer])}). With dropout on, <b>{percent(agree)}"
            f"</b> of {n} samples gave the same answer; its probability ranged from "
            f"{percent(spread.min())} to {percent(spread.max())}. Batch norm stayed in evaluation "
            "mode throughout (a batch of copies of one input would break its statistics).")
        self._draw_mask()

    def _draw_mask(self) -> None:
        d = self.samples
        name = self.layer.currentData()
        if d is None or name not in d.masks:
            return
        k = min(self.which.value(), d.masks[name].shape[0] - 1)
        mask = d.masks[name][k]
        shape = self._maps_shape(name, mask.size)
        self.mask_grid.grid.set_array(mosaic((~mask).astype(float).reshape(shape)), signed=False,
                                      levels=(0, 1), numbers=False)
        self.mask_grid.set_title(f"{name}, sample {k + 1}: {int(mask.sum())} of {mask.size} units "
                                 f"dropped ({percent(mask.mean())}; p = {d.rates[name]:g})")
        self.mask_grid.key.set_swatches([((0, 0, 0), "dropped (turned off)"),
                                         ((255, 255, 255), "kept (× 1 / (1 − p))")])
        rate = d.masks[name].mean(axis=0)
        self.rate_grid.grid.set_array(mosaic(rate.reshape(shape)), signed=False, levels=(0, 1),
                                      numbers=False)
        self.rate_grid.key.set_ramp(grey_ramp(), [(0.0, "never dropped"), (1.0, "always")])
        self.rate_grid.set_title(f"How often each unit of {name} was dropped (mean "
                                 f"{percent(rate.mean())})")

    def _maps_shape(self, name: str, units: int) -> tuple[int, ...]:
        """A dropout right after a flatten of C maps of H×W: its units shown as those maps
        (the same layout as the receptive-field view's dense weights)."""
        loaded = self.state.model
        infos = [] if loaded is None else list(loaded.model.layer_infos)
        names = [i.name for i in infos]
        if name in names:
            j = names.index(name) - 1
            if j >= 0 and infos[j].kind == "flatten" and len(infos[j].in_shape) == 3:
                c, h, w = infos[j].in_shape
                if c * h * w == units:
                    return (c, h, w)
        return (units,)

    def export_array(self):
        return None if self.samples is None else ("dropout-probabilities", self.samples.probabilities)

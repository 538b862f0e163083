"""What the lab shows while a network trains: the loss and accuracy curves (pyqtgraph), the
progress bar with elapsed time and time left, the first convolution's filters, and the
user's drawing read by the network being trained. Views only: they draw what the lab's run
model (run_model.py) holds, at most every REDRAW_MS."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from cnnviz.core.basics.formulas import fmt_number, percent
from cnnviz.core.training.job import BatchDone, EpochDone

from ..cnn.bar_plot import BarPlot
from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP
from . import wording as W

REDRAW_MS = 100  # curves are redrawn at most this often, however fast batches arrive
LOSS_PEN = pg.mkPen("#1f77b4", width=1)
TEST_PEN = pg.mkPen("#d62728", width=2)
TRAIN_ACC_PEN = pg.mkPen("#7f7f7f", width=1, style=Qt.PenStyle.DashLine)


def clock(seconds: float | None) -> str:
    """75 -> '1:15', 3725 -> '1:02:05'; None or not finite -> '…'."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "…"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def filter_mosaic(weights: np.ndarray, gap: int = 1, per_filter: bool = True) -> np.ndarray:
    """(out, in, kh, kw) conv weights -> one 2-D picture of the out filters (input channel
    0), each scaled to its own largest magnitude (so a faint filter shows its pattern) or,
    per_filter False, as they are; gap-pixel zero borders. Rows of about sqrt(out) filters."""
    w = np.asarray(weights, dtype=np.float32)
    if w.ndim == 4:
        w = w[:, 0]
    n, kh, kw = w.shape
    cols = max(1, int(math.ceil(math.sqrt(n))))
    rows = int(math.ceil(n / cols))
    out = np.zeros((rows * (kh + gap) + gap, cols * (kw + gap) + gap), np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        peak = (float(np.abs(w[i]).max()) or 1.0) if per_filter else 1.0
        y, x = gap + r * (kh + gap), gap + c * (kw + gap)
        out[y:y + kh, x:x + kw] = w[i] / peak
    return out


def _key(colour: str, text: str) -> str:
    return f"<span style='color:{colour}'>━ {text}</span>"


MIN_PLOT_HEIGHT = 160  # the live plots never get shorter (the right side scrolls instead)


def _plot(title: str, y_label: str, tip: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setToolTip(tip)
    plot.setMinimumHeight(MIN_PLOT_HEIGHT)
    plot.setMinimumWidth(140)
    plot.setMenuEnabled(False)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.getAxis("bottom").setLabel("epoch")
    plot.getAxis("bottom").enableAutoSIPrefix(False)  # (not "epoch (x0.001)" early on)
    plot.getAxis("left").enableAutoSIPrefix(False)
    plot.getAxis("left").setLabel(y_label)
    return plot


class LossCurves(QWidget):
    """The loss (per batch, and the test loss per epoch) and accuracy (per epoch) curves."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        key = QLabel(f"{_key('#1f77b4', 'training loss, each batch')} &nbsp; "
                     f"{_key('#d62728', 'test, each epoch')} &nbsp; "
                     f"{_key('#7f7f7f', 'training accuracy, each epoch')}")
        key.setWordWrap(True)
        key.setToolTip(W.LOSS_TIP)
        outer.addWidget(key)
        row = QHBoxLayout()
        outer.addLayout(row, 1)
        self.loss_plot = _plot("Loss", "cross-entropy", W.LOSS_TIP)
        self.batch_curve = self.loss_plot.plot([], [], pen=LOSS_PEN)
        self.test_loss_curve = self.loss_plot.plot([], [], pen=TEST_PEN, symbol="o", symbolSize=6,
                                                   symbolBrush="#d62728")
        self.acc_plot = _plot("Accuracy", "right answers (%)", W.ACC_TIP)
        self.acc_plot.setYRange(0, 100, padding=0.02)
        self.test_acc_curve = self.acc_plot.plot([], [], pen=TEST_PEN, symbol="o", symbolSize=6,
                                                 symbolBrush="#d62728")
        self.train_acc_curve = self.acc_plot.plot([], [], pen=TRAIN_ACC_PEN)
        row.addWidget(self.loss_plot, 1)
        row.addWidget(self.acc_plot, 1)
        self.clear()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)

    def clear(self) -> None:
        self.batch_x: list[float] = []
        self.batch_loss: list[float] = []
        self.epoch_x: list[float] = []
        self.test_loss: list[float] = []
        self.test_acc: list[float] = []
        self.train_acc: list[float] = []
        self.epoch_offset = 0  # epochs of earlier runs of the same network ("train more")
        self.redraw()

    def continue_run(self) -> None:
        """The next run trains the same network on: its epochs count on from here."""
        self.epoch_offset = len(self.epoch_x)

    def add_batch(self, batch: BatchDone) -> None:
        """A batch (counted from 1 within its epoch)."""
        batches = max(1, int(batch.batches))
        x = self.epoch_offset + int(batch.epoch) - 1 + int(batch.batch) / batches
        loss = float(batch.loss)
        if math.isfinite(loss):
            self.batch_x.append(x)
            self.batch_loss.append(loss)
        self._schedule()

    def add_epoch(self, epoch: EpochDone) -> None:
        self.epoch_x.append(float(self.epoch_offset + int(epoch.epoch or len(self.epoch_x) + 1)))
        for values, value in ((self.test_loss, epoch.test_loss),
                              (self.test_acc, epoch.test_accuracy),
                              (self.train_acc, epoch.train_accuracy)):
            values.append(float(value) if value is not None else float("nan"))
        self.redraw()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def redraw(self) -> None:
        self.batch_curve.setData(np.asarray(self.batch_x), np.asarray(self.batch_loss))
        self.test_loss_curve.setData(np.asarray(self.epoch_x), np.asarray(self.test_loss))
        test = 100 * np.asarray(self.test_acc, dtype=float)
        train = 100 * np.asarray(self.train_acc, dtype=float)
        self.test_acc_curve.setData(np.asarray(self.epoch_x), test)
        self.train_acc_curve.setData(np.asarray(self.epoch_x), train)
        last = max(self.epoch_x + self.batch_x + [1.0])
        self.acc_plot.setXRange(0, last, padding=0.03)  # from the start, like the loss
        seen = np.concatenate([test, train])
        seen = seen[np.isfinite(seen)]
        # Zoomed to what was reached, so 97% against 98% shows; never above 100%.
        low = max(0.0, float(seen.min()) - 3.0) if seen.size else 0.0
        self.acc_plot.setYRange(low, 100, padding=0.02)


class Progress(QProgressBar):
    """Batches done of the run, with 'epoch 2 of 5 · batch 120 of 469 · 0:42 so far · about
    1:05 left'."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip(W.PROGRESS_TIP)
        self.setTextVisible(True)
        self.reset_run(1)

    def reset_run(self, epochs: int, first_epoch: int = 1) -> None:
        """A run of epochs epochs, numbered from first_epoch ("train more" goes on counting)."""
        self.first_epoch = max(1, first_epoch)
        self.last_epoch = self.first_epoch + max(1, epochs) - 1
        self.setRange(0, 1000)
        self.setValue(0)
        self.setFormat("Not started")

    def show_batch(self, event: BatchDone) -> None:
        """A batch: its epoch (counted over the whole network's training) and batch
        (from 1), the time so far and the time left."""
        epoch = int(event.epoch)
        batch, batches = int(event.batch), max(1, int(event.batches))
        run = self.last_epoch - self.first_epoch + 1
        done = ((epoch - self.first_epoch) * batches + batch) / (run * batches)
        self.setValue(int(round(1000 * min(1.0, max(0.0, done)))))
        self.setFormat(f"epoch {epoch} of {self.last_epoch} · batch {batch}/{batches} · "
                       f"{clock(event.elapsed_s)} so far · about {clock(event.eta_s)} left")

    def show_text(self, text: str, full: bool | None = None) -> None:
        if full:
            self.setValue(1000)
        self.setFormat(text)


class FilterView(QWidget):
    """The first convolution's filters as one mosaic, redrawn as they change: as they are
    now (each at its own scale, so a faint one shows its pattern), or as the change since
    the run's start (one scale for all, so the filters that learned most stand out; at the
    start random noise and a learned edge detector look alike at their own scales)."""

    MODES = (("now", "Filters now"), ("change", "Change since the start"))

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip(W.FILTERS_TIP)
        self.setMinimumSize(110, MIN_PLOT_HEIGHT + 30)  # (+ the mode picker)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        self.mode = QComboBox()
        for key, text in self.MODES:
            self.mode.addItem(text, key)
        self.mode.setToolTip(W.FILTER_MODE_TIP)
        self.mode.currentIndexChanged.connect(lambda _i: self._draw())
        column.addWidget(self.mode)
        self.plot = pg.GraphicsLayoutWidget()
        self.title = self.plot.addLabel("First convolution's filters", row=0, col=0)
        self.view = self.plot.addViewBox(row=1, col=0, lockAspect=True, invertY=True,
                                         enableMouse=False)
        self.image = pg.ImageItem()
        self.image.setColorMap(SIGNED_CMAP)
        self.view.addItem(self.image)
        column.addWidget(self.plot, 1)
        self.shape: tuple | None = None
        self.start_weights: np.ndarray | None = None  # the run's first filters
        self.weights: np.ndarray | None = None  # the newest
        self.show_none("Filters appear when training starts")

    def new_run(self) -> None:
        """A run starts: its first filters become the start the change is measured from."""
        self.start_weights = self.weights = None

    def show_weights(self, weights: np.ndarray) -> None:
        w = np.asarray(weights, dtype=np.float32)
        if w.ndim != 4 or not w.size:
            return
        if self.start_weights is None or self.start_weights.shape != w.shape:
            self.start_weights = w.copy()
        self.weights = w
        self._draw()

    def _draw(self) -> None:
        w = self.weights
        if w is None:
            return
        kh, kw = w.shape[2:]
        if self.mode.currentData() == "change":
            change = w - self.start_weights
            peak = float(np.abs(change[:, 0]).max())
            mosaic = filter_mosaic(change, per_filter=False) / (peak or 1.0)
            title = (f"Change of the {w.shape[0]} filters since the start (one scale: largest "
                     f"|Δw| {fmt_number(peak, 2)})" if peak else
                     f"The {w.shape[0]} filters have not changed yet")
        else:
            mosaic = filter_mosaic(w)
            peaks = np.abs(w[:, 0]).reshape(w.shape[0], -1).max(axis=1)
            title = (f"First convolution's {w.shape[0]} filters ({kh}×{kw}), each at its own "
                     f"scale (largest |w| {fmt_number(peaks.min(), 2)} to "
                     f"{fmt_number(peaks.max(), 2)})")
        self.image.setImage(mosaic, levels=(-1.0, 1.0), autoLevels=False)
        self.shape = mosaic.shape
        self.view.autoRange(padding=0.02)
        self.title.setText(title, size="8pt")

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if getattr(self, "shape", None) is not None:
            self.view.autoRange(padding=0.02)

    def show_none(self, text: str) -> None:
        self.image.clear()
        self.shape = None
        self.weights = None
        self.title.setText(text)


class ProbeView(QWidget):
    """The user's drawing as the network reads it, its answer and the ten probabilities."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setToolTip(W.PROBE_TIP)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        left.setSpacing(2)
        cap = QLabel("<b>Your drawing</b>, read by this network")
        cap.setWordWrap(True)
        cap.setToolTip(W.PROBE_TIP)
        left.addWidget(cap)
        self.input_view = pg.GraphicsLayoutWidget()
        self.input_view.setFixedSize(64, 64)
        box = self.input_view.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.input_image = pg.ImageItem()
        self.input_image.setColorMap(UNSIGNED_CMAP)
        box.addItem(self.input_image)
        self._box = box
        self.answer = QLabel("—")
        font = QFont()
        font.setPointSize(26)
        font.setBold(True)
        self.answer.setFont(font)
        self.answer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pair = QHBoxLayout()
        pair.addWidget(self.input_view)
        pair.addWidget(self.answer, 1)
        left.addLayout(pair)
        self.sure = QLabel("")
        self.sure.setAlignment(Qt.AlignmentFlag.AlignCenter)
        left.addWidget(self.sure)
        left.addStretch(1)
        row.addLayout(left)
        self.bars = BarPlot(title="Probabilities", grid=False)
        self.bars.setMinimumHeight(MIN_PLOT_HEIGHT)
        self.bars.setMinimumWidth(120)
        row.addWidget(self.bars, 1)
        self.classes: list[str] = []
        self.set_classes([str(i) for i in range(10)])

    def set_classes(self, classes: list[str]) -> None:
        if classes == self.classes:
            return
        self.classes = list(classes)
        self.bars.configure(len(classes), names=classes, highlight_top=True,
                            title="Probabilities", fixed_range=(0.0, 1.05))
        self.bars.set_values(np.zeros(len(classes)))

    def show_input(self, image28: np.ndarray) -> None:
        self.input_image.setImage(np.asarray(image28, np.float32), levels=(0.0, 1.0),
                                  autoLevels=False)
        self._box.autoRange(padding=0)

    def show_answer(self, probabilities: np.ndarray, prediction: int) -> None:
        p = np.asarray(probabilities, dtype=np.float64)
        if p.shape != (len(self.classes),) or not 0 <= prediction < len(self.classes):
            return
        self.answer.setText(self.classes[prediction])
        self.sure.setText(f"{percent(float(p[prediction]))} sure")
        self.bars.set_values(p)

    def clear(self) -> None:
        self.answer.setText("—")
        self.sure.setText("")
        self.bars.set_values(np.zeros(len(self.classes)))

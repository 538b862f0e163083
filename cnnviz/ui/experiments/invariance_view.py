"""Is a CNN translation, rotation and scale invariant? Sliders on the digit, curves for the
current model and the comparison models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from cnnviz.core.basics.formulas import percent
from cnnviz.core.experiments.invariance import (
    COMPARISON_MODELS,
    curves,
    raw_pad,
    transform,
    why_large_shifts_fail,
)

from ..widgets import plots  # noqa: F401  (pyqtgraph's row-major and white-background set-up)
from .base import ExperimentView, TitledGrid, label


def answer_labels(xs, ps, answers, target: int) -> list[tuple[float, float, int]]:
    """Where to write the wrong answers on a curve: at the first point of each run of the
    same wrong answer (not over every point: labels piled up into '7777799')."""
    out, previous = [], None
    for xv, pv, a in zip(xs, ps, answers):
        a = int(a)
        if a != target and a != previous:
            out.append((float(xv), float(pv), a))
        previous = a
    return out

COLOURS = ("#c0392b", "#2471a3", "#229954", "#7d3c98")


def _weights_dir() -> Path:
    from importlib import resources

    return Path(str(resources.files("cnnviz") / "weights"))


def _load_comparisons(cache: dict) -> tuple[dict, list[str]]:
    """On the worker: the comparison models found in cnnviz/weights/, and those missing."""
    from cnnviz.core.networks.weights import WeightsError, load_weights

    if "models" not in cache:
        models, missing = {}, []
        for name, (file, words) in COMPARISON_MODELS.items():
            path = _weights_dir() / file
            try:
                models[name] = load_weights(path)
            except WeightsError as exc:
                reason = "not trained yet" if not path.exists() else str(exc)
                missing.append(f"{name}, {words} ({file}: {reason})")
        cache["models"], cache["missing"] = models, missing
    return cache["models"], cache["missing"]


def _work(cache, current, image, target, base):
    comparisons, missing = _load_comparisons(cache)
    # only models that read the same kind of picture (no MNIST models for a Fashion one)
    models = {current.name: current, **{n: m for n, m in comparisons.items()
                                        if n != current.name and m.dataset == current.dataset}}
    x = transform(image, **base)
    out = {}
    for name, loaded in models.items():
        probs = loaded.model.predict_proba(x[None])[0]
        out[name] = (curves(loaded.model, image, target, base=base), probs)
    return x, out, missing


class InvarianceView(ExperimentView):
    TITLE = "Invariance"
    TIP = ("“CNN is translation invariant with the help of convolutional layer. It is not "
           "rotation and scaling invariant unless you let the network learn a lot of rotation "
           "and scaling samples.” Shift, rotate and scale your digit and watch the answer, for "
           "this network, a fully connected one and the same CNN trained without augmentation.")

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self._cache: dict = {}
        self._build()
        self.listen(state.analysis_ready, self.mark_dirty)
        self.listen(state.events.model, self.mark_dirty)

    def _slider(self, lo: int, hi: int, tip: str) -> QSlider:
        s = QSlider(Qt.Orientation.Horizontal)
        s.setRange(lo, hi)
        s.setValue(0)
        s.setToolTip(tip)
        s.valueChanged.connect(self._on_slider)
        return s

    def _build(self) -> None:
        self.dx = self._slider(-10, 10, "Shift the digit right (or left) by whole pixels")
        self.dy = self._slider(-10, 10, "Shift the digit down (or up) by whole pixels")
        self.angle = self._slider(-180, 180, "Rotate the digit (degrees, counter-clockwise)")
        self.scale = self._slider(-50, 50, "Shrink or grow the digit (percent)")
        self.raw = QCheckBox("Raw pad (no centring)")
        self.raw.setToolTip("Feed the network the whole pad scaled to 28×28, as drawn: the "
                            "preprocessing's centring would undo any shift you draw, so this is "
                            "the honest translation test. Draw in a corner and see.")
        self.raw.toggled.connect(self.mark_dirty)
        self.target = QComboBox()
        self.target.setToolTip("Whose probability the curves show: the answer for the digit as "
                               "it is, or any class")
        self.target.addItem("the answer", -1)
        for i in range(10):
            self.target.addItem(f"class {i}", i)
        self.target.currentIndexChanged.connect(self.mark_dirty)
        reset = QPushButton("Reset")
        reset.setToolTip("Back to no shift, no rotation, no scaling")
        reset.clicked.connect(self._reset)
        sliders = QGridLayout()
        self.value_labels = []
        for r, (text, s) in enumerate((("Shift x", self.dx), ("Shift y", self.dy),
                                       ("Rotation", self.angle), ("Scale", self.scale))):
            sliders.addWidget(QLabel(text), r, 0)
            sliders.addWidget(s, r, 1)
            v = QLabel()
            v.setMinimumWidth(48)
            self.value_labels.append(v)
            sliders.addWidget(v, r, 2)
        row = QHBoxLayout()
        row.addWidget(QLabel("Curves for"))
        row.addWidget(self.target)
        row.addWidget(reset)
        row.addStretch(1)
        self.input_grid = TitledGrid("What the network is fed", "The 28×28 input after your "
                                     "shift, rotation and scaling", minimum=140)
        self.answers = label(rich=True)
        self.missing = label()
        self.missing.setStyleSheet("color: #a04000;")
        left = QVBoxLayout()
        left.addLayout(sliders)
        left.addWidget(self.raw)
        left.addLayout(row)
        left.addWidget(self.input_grid, 1)
        left.addWidget(self.answers)
        left.addWidget(self.missing)
        left_box = QWidget()
        left_box.setLayout(left)

        self.plots = {}
        plot_grid = QGridLayout()
        for i, (key, title, unit) in enumerate((("shift_x", "Shift x", "pixels"),
                                                ("shift_y", "Shift y", "pixels"),
                                                ("angle", "Rotation", "degrees"),
                                                ("scale", "Scale", "×"))):
            w = pg.PlotWidget()
            w.setMinimumSize(100, 100)
            w.setTitle(title, size="9pt")
            w.setLabel("left", "p")
            w.setLabel("bottom", unit)
            w.setYRange(0, 1.02)
            w.setMouseEnabled(False, False)
            w.hideButtons()
            # (no legend in the plot: it covered the curves; the list on the left is the key)
            w.setToolTip(f"The class's probability against {title.lower()}, each applied on top "
                         "of the other sliders' setting (dashed: where the sliders are now). "
                         "Colours: the models listed on the left. Hollow points: a wrong answer; "
                         "the digit above one is what the current model reads instead")
            self.plots[key] = w
            plot_grid.addWidget(w, i // 2, i % 2)
        self.why = label(rich=True, tip="What the lecture's “CNN is translation invariant” "
                                        "means, and how far it goes, for this network")
        self.why.setStyleSheet("color: #444;")
        plot_grid.addWidget(self.why, 2, 0, 1, 2)
        plots_box = QWidget()
        plots_box.setLayout(plot_grid)
        layout = QHBoxLayout(self)
        layout.addWidget(left_box, 2)
        layout.addWidget(plots_box, 3)
        left_box.setMinimumWidth(200)
        self._on_slider()

    def _reset(self) -> None:
        for s in (self.dx, self.dy, self.angle, self.scale):
            s.blockSignals(True)
            s.setValue(0)
            s.blockSignals(False)
        self._on_slider()

    def _base(self) -> dict:
        return {"dx": float(self.dx.value()), "dy": float(self.dy.value()),
                "angle": float(self.angle.value()), "scale": 1.0 + self.scale.value() / 100}

    def _on_slider(self, *_args) -> None:
        b = self._base()
        for v, text in zip(self.value_labels, (f"{b['dx']:+.0f} px", f"{b['dy']:+.0f} px",
                                               f"{b['angle']:+.0f}°", f"{100 * b['scale']:.0f}%")):
            v.setText(text)
        self.mark_dirty()

    def _input(self):
        analysis = self.state.analysis
        if self.raw.isChecked():
            if self.state.image is None:
                return None
            return raw_pad(self.state.image, inverted=analysis.digit.inverted if analysis else False)
        return None if analysis is None or analysis.digit.empty else analysis.digit.image

    def refresh(self) -> None:
        loaded, analysis = self.state.model, self.state.analysis
        if self.declined_for_digits(self.input_grid.grid):  # shifts and turns of drawn digits
            return
        image = self._input() if loaded is not None else None
        if image is None or analysis is None:
            self.input_grid.grid.set_message("Draw a digit first")
            return
        target = self.target.currentData()
        target = analysis.prediction if target is None or target < 0 else int(target)
        self._target = target
        self._asked_base = self._base()
        self.submit(_work, self._cache, loaded, image, target, self._asked_base)

    def show_result(self, result) -> None:
        x, out, missing = result
        self.input_grid.grid.set_array(x, signed=False, levels=(0, 1), numbers=False)
        target = self._target
        rows = []
        for i, (name, (_c, probs)) in enumerate(out.items()):
            colour = COLOURS[i % len(COLOURS)]
            answer = int(np.argmax(probs))
            rows.append(f"<span style='color:{colour}'>■</span> <b>{name}</b>: reads "
                        f"<b>{answer}</b> ({percent(probs[answer])}); class {target}: "
                        f"{percent(probs[target])}")
        self.answers.setText("<br>".join(rows))
        if self.state.model is not None and self.state.model.dataset != "mnist":
            text = ("The comparison models read MNIST digits, so they are left out for a model "
                    "of another dataset.")
        elif missing:
            text = ("Missing comparison models: " + "; ".join(missing) + ". "
                    "scripts/train_shipped.sh trains them; the curves show the models that are "
                    "there.")
        else:
            text = ""
        self.missing.setText(text)
        loaded = self.state.model
        short, full = ("", "") if loaded is None else why_large_shifts_fail(
            loaded.model.layer_infos, loaded.card, loaded.name)
        self.why.setText(short)
        self.why.setToolTip(full)
        for key, w in self.plots.items():
            w.clear()
            for i, (name, (c, _p)) in enumerate(out.items()):
                colour = COLOURS[i % len(COLOURS)]
                b = self._asked_base
                # on the axes: the whole transform (the sliders' setting plus the curve's step)
                xs, ps, answers = {"shift_x": (b["dx"] + c.shifts, c.p_shift_x, c.answer_shift_x),
                                   "shift_y": (b["dy"] + c.shifts, c.p_shift_y, c.answer_shift_y),
                                   "angle": (b["angle"] + c.angles, c.p_angle, c.answer_angle),
                                   "scale": (b["scale"] * c.scales, c.p_scale, c.answer_scale)}[key]
                wrong = np.asarray(answers) != target
                w.plot(xs, ps, pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=5,
                       symbolBrush=[None if bad else colour for bad in wrong],
                       symbolPen=[pg.mkPen(colour) if bad else None for bad in wrong], name=name)
                if i == 0:  # the current model's wrong answers, once per run of the same one
                    for xv, pv, a in answer_labels(xs, ps, answers, target):
                        t = pg.TextItem(str(int(a)), color=colour, anchor=(0.5, 1.0))
                        t.setPos(float(xv), float(pv) + 0.02)
                        w.addItem(t)
            now = {"shift_x": b["dx"], "shift_y": b["dy"], "angle": b["angle"],
                   "scale": b["scale"]}[key]
            w.addItem(pg.InfiniteLine(now, angle=90, pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine)))
            w.setTitle(f"{ {'shift_x': 'Shift x', 'shift_y': 'Shift y', 'angle': 'Rotation', 'scale': 'Scale'}[key]}"
                       f": p(class {target})", size="9pt")
        self.status_message.emit(f"Invariance: {len(out)} model(s)")

    def show_failure(self, message: str) -> None:
        self.input_grid.grid.set_message(f"Could not run the models: {message}")

    def export_array(self):
        """The 28×28 input after the sliders' shift, rotation and scale."""
        a = self.input_grid.grid.values
        return None if a is None else ("transformed-input", a)

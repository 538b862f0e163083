"""Slide the window: a convolution, its activation and a pooling, one position at a time."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from cnnviz.core.basics.formulas import fmt_number, size_formula
from cnnviz.core.convolution.conv_steps import (
    MAX_STEP_POSITIONS,
    StepPlan,
    first_conv_input,
    network_filter,
    products_text,
    region_for,
    step_plan,
)
from cnnviz.core.convolution.lecture_examples import LECTURE_EXAMPLES
from cnnviz.core.pictures.images import to_grey

from .base import ExperimentView, TitledGrid, label

SPEEDS = (0.5, 1, 2, 4, 8, 16, 32, 64)  # steps a second
OVERVIEW_SIDE = 320  # a big picture is shown shrunk to about this many pixels a side
WINDOW = QColor("#e67e22")  # the kernel window
CURRENT = QColor("#27ae60")  # the output pixel being filled
PHASE_WORDS = {"conv": "convolution", "activation": "activation", "pool": "pooling"}


def _prepare(source: str, image, digit, settings, region, network=None, filter_index=None):
    """On the worker: the grey input, the plan, and for a picture its shrunk overview.
    filter_index: step the network's own first-layer filter instead of the Kernel
    explorer's kernel (over the input normalised as the network does it)."""
    overview = None
    offset = (0, 0)
    bias, note, scale = 0.0, "", ""
    if source.startswith("lecture:"):
        ex = LECTURE_EXAMPLES[source.split(":", 1)[1]]
        x = np.asarray(ex.image, float)
        k, stride, padding = ex.kernel, ex.stride, ex.padding
        act, pk, ps, pst = ex.activation, ex.pool_kind, ex.pool_size, ex.pool_stride
    else:
        k, stride, padding = settings.kernel, settings.stride, settings.padding
        act, pk, ps, pst = (settings.activation, settings.pool_kind, settings.pool_size,
                            settings.pool_stride)
        if act == "softmax":
            act = "none"  # a softmax over the map is not a per-pixel step; said in the note
        norm = None
        if filter_index is not None and network is not None:
            k, bias, mean, std, name = network_filter(network, filter_index)
            stride, padding, act, pk = (1, 1), (0, 0), "none", "none"
            stride = tuple(network.layers[name].stride)
            padding = tuple(network.layers[name].padding)
            norm = (mean, std)
            note = (f"This is {name}[{filter_index}] of the network, the map the CNN explorer "
                    f"shows, over the input normalised as the network does it: "
                    f"(x − {mean:g}) / {std:g}.")
        if source == "network":
            if digit is None:
                raise ValueError("no network input yet: draw a digit first")
            if network is not None:  # what the first layer receives: the same numbers as
                x, scale = first_conv_input(network, digit)  # the kernel explorer's
                if x.ndim == 3:  # a colour network's input: the window slides over its grey
                    x, scale = x.mean(axis=2), scale + ", its channels averaged"
            else:
                x = np.asarray(digit, float)
                x, scale = (x.mean(axis=0) if x.ndim == 3 else x), "values 0..1"
        else:
            if image is None:
                raise ValueError("no picture yet: draw or open one first")
            grey = to_grey(image).astype(np.float64)
            h, w = grey.shape
            factor = max(1, int(np.ceil(max(h, w) / OVERVIEW_SIDE)))
            overview = (grey[::factor, ::factor], factor)
            if region is None:  # the middle, as much as fits
                side = MAX_STEP_POSITIONS * min(stride) + k.shape[0]
                region = (max(0, h // 2 - side // 2), max(0, w // 2 - side // 2), h, w)
            top, left, bottom, right = region
            t, l_, b, r = region_for((h, w), top, left, bottom, right, (k.shape[0], k.shape[1]),
                                     stride, padding)
            x, offset = grey[t:b, l_:r], (t, l_)
            scale = "grey 0..255"
            if norm is not None:
                x = (x / 255.0 - norm[0]) / norm[1]
                scale = f"grey 0..1, then (x − {norm[0]:g}) / {norm[1]:g}"
    plan = step_plan(x, k, stride, padding, bias=bias, activation=act, pool_kind=pk,
                     pool_size=ps, pool_stride=pst)
    return plan, overview, offset, note, scale


class ConvStepView(ExperimentView):
    TITLE = "Slide the window"
    TIP = ("Step through a convolution as the lecture's “What is the Output?” slides do by hand: "
           "the kernel window slides over the padded input by the stride, row by row, each "
           "output pixel is the sum of the window's products; then the activation, then the "
           "pooling window.")

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.plan: StepPlan | None = None
        self.t = 0
        self.overview = None
        self.offset = (0, 0)
        self.region: tuple[int, int, int, int] | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._build()
        self.picture_grid.setVisible(False)
        self.kernel_box.setEnabled(False)  # a lecture example brings its own kernel
        self.listen(state.events.input_image, self._on_image)
        self.listen(state.analysis_ready, self._on_analysis)
        self.listen(state.events.kernel, self._on_kernel)
        self.listen(state.events.model, self._on_model)

    # ----- widgets

    def _build(self) -> None:
        self.source = QComboBox()
        self.source.setToolTip("What to convolve: one of the lecture's worked examples (with its "
                               "own kernel, stride, padding and pooling), the network's input "
                               "input, or a region of your picture (drag a rectangle on it). "
                               "The last two use the Kernel explorer's kernel and settings.")
        for key, ex in LECTURE_EXAMPLES.items():
            self.source.addItem(f"Lecture: {ex.short_name}", f"lecture:{key}")
        self.source.addItem("The network's input", "network")
        self.source.addItem("A region of your picture (drag on it)", "picture")
        self.source.currentIndexChanged.connect(self._on_source)
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source.setMinimumContentsLength(14)

        self.kernel_box = QComboBox()
        self.kernel_box.setToolTip("Which kernel slides over the network's input or your picture: "
                                   "the Kernel explorer's (with its stride, padding, activation "
                                   "and pooling), or one of the network's own first-layer "
                                   "filters (then the output is exactly that feature map)")
        self.kernel_box.addItem("Kernel explorer's kernel", None)
        self.kernel_box.currentIndexChanged.connect(self.mark_dirty)
        self.back_button = QPushButton("◀ Step")
        self.back_button.setToolTip("One window position back (Alt+Left)")
        self.play_button = QPushButton("▶ Play")
        self.play_button.setToolTip("Slide the window on its own, at the speed chosen (Alt+P)")
        self.play_button.setCheckable(True)
        self.next_button = QPushButton("Step ▶")
        self.next_button.setToolTip("One window position forward (Alt+Right)")
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{fmt_number(s)} steps/s", s)
        self.speed.setCurrentIndex(2)
        self.speed.setToolTip("How fast Play slides the window (Alt+Up faster, Alt+Down slower)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Every moment of the walk: drag to any output position of the "
                               "convolution, the activation, or any pooling window")
        self.phase_label = label()
        self.back_button.clicked.connect(lambda: self.go(self.t - 1))
        self.next_button.clicked.connect(lambda: self.go(self.t + 1))
        self.play_button.toggled.connect(self._on_play)
        self.speed.currentIndexChanged.connect(self._on_speed)
        self.slider.valueChanged.connect(self.go)

        self.input_grid = TitledGrid("Input (padded)", "The convolution's input with its zero "
                                     "padding shaded; the orange square is the kernel window.")
        self.kernel_grid = TitledGrid("Kernel", "The weights the window multiplies with.")
        self.conv_grid = TitledGrid("Feature map", "Each output pixel fills in as its window "
                                    "is visited; green: the one being computed.")
        self.act_grid = TitledGrid("After the activation", "“Activation function is used to "
                                   "introduce non-linearity in the system”: applied to every "
                                   "pixel of the feature map at once.")
        self.pool_grid = TitledGrid("Pooled", "The pooling window slides over the activated map "
                                    "and keeps one value per window.")
        self.picture_grid = TitledGrid("Your picture: drag a rectangle", "Drag a rectangle on "
                                       "the picture to step through that region (at most "
                                       f"{MAX_STEP_POSITIONS}×{MAX_STEP_POSITIONS} output "
                                       "positions); the orange frame is the region stepped.")
        self.picture_grid.grid.drag_enabled = True
        self.picture_grid.grid.dragged.connect(self._on_drag)
        self.sum_label = label(tip="The current output pixel written out: each input value "
                               "times its weight, added up (“a weighted sum of the pixel values "
                               "of the image as the window slides across the whole image”).")
        self.sum_label.setStyleSheet("font-family: monospace;")
        self.size_label = label(tip="The lecture's output size (W − F + 2P) / S + 1")
        self.note_label = label()
        self.note_label.setStyleSheet("color: #555;")

        controls = QHBoxLayout()
        controls.addWidget(self.source, 1)
        controls.addWidget(self.kernel_box, 1)
        controls.addWidget(self.speed)
        walk = QHBoxLayout()
        for w in (self.back_button, self.play_button, self.next_button):
            walk.addWidget(w)
        walk.addWidget(self.slider, 1)
        self.grids = grids = QGridLayout()
        grids.addWidget(self.input_grid, 0, 0)
        grids.addWidget(self.kernel_grid, 0, 1)
        grids.addWidget(self.conv_grid, 0, 2)
        grids.addWidget(self.picture_grid, 1, 0)
        grids.addWidget(self.act_grid, 1, 1)
        grids.addWidget(self.pool_grid, 1, 2)
        for i in range(3):
            grids.setColumnStretch(i, 1)
            grids.setRowStretch(i, 1) if i < 2 else None
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(walk)
        layout.addWidget(self.phase_label)
        layout.addLayout(grids, 1)
        layout.addWidget(self.sum_label)
        layout.addWidget(self.size_label)
        layout.addWidget(self.note_label)

        for keys, slot in (("Alt+P", lambda: self.play_button.toggle()),
                           ("Alt+Right", lambda: self.go(self.t + 1)),
                           ("Alt+Left", lambda: self.go(self.t - 1)),
                           ("Alt+Up", lambda: self._speed_by(1)),
                           ("Alt+Down", lambda: self._speed_by(-1)),
                           ("Alt+Home", lambda: self.go(0)),
                           ("Alt+End", lambda: self.go(len(self.plan) - 1 if self.plan else 0))):
            QShortcut(QKeySequence(keys), self, slot)

    # ----- inputs

    def _on_image(self, *_args) -> None:
        self.region = None
        if self.source.currentData() == "picture":
            self.mark_dirty()

    def _on_analysis(self, *_args) -> None:
        if self.source.currentData() == "network":
            self.mark_dirty()

    def _on_kernel(self, *_args) -> None:
        if not str(self.source.currentData()).startswith("lecture:"):
            self.mark_dirty()

    def _on_model(self, loaded) -> None:
        self.kernel_box.blockSignals(True)
        while self.kernel_box.count() > 1:
            self.kernel_box.removeItem(1)
        info = None if loaded is None else next(
            (i for i in loaded.model.layer_infos if i.kind == "conv"), None)
        if info is not None and info.in_shape[0] == 1:
            for f in range(info.output_shape[0]):
                self.kernel_box.addItem(f"the network's {info.name} filter {f}", f)
        self.kernel_box.setCurrentIndex(0)
        self.kernel_box.blockSignals(False)
        if not str(self.source.currentData()).startswith("lecture:"):
            self.mark_dirty()

    def _on_source(self, *_args) -> None:
        self.picture_grid.setVisible(self.source.currentData() == "picture")
        self.kernel_box.setEnabled(not str(self.source.currentData()).startswith("lecture:"))
        self.mark_dirty()

    def _on_drag(self, top, left, bottom, right) -> None:
        if self.overview is None:
            return
        f = self.overview[1]
        self.region = (top * f, left * f, bottom * f, right * f)
        self.mark_dirty()

    def select_source(self, data: str) -> None:
        self.source.setCurrentIndex(max(0, self.source.findData(data)))

    def refresh(self) -> None:
        analysis = self.state.analysis
        # the network's input as traced (its own scale), not the 0..1 framed picture
        digit = None if analysis is None or analysis.digit.empty else analysis.layers[0][1]
        if self.kernel_box.count() == 1 and self.state.model is not None:
            self._on_model(self.state.model)
        loaded = self.state.model
        self.submit(_prepare, str(self.source.currentData()), self.state.image, digit,
                    self.state.kernel, self.region, None if loaded is None else loaded.model,
                    self.kernel_box.currentData())

    def show_result(self, result) -> None:
        plan, self.overview, self.offset, model_note, scale = result
        same_walk = self.plan is not None and len(self.plan) == len(plan)
        self.plan = plan
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(plan) - 1)
        self.slider.blockSignals(False)
        k = plan.kernel
        self.kernel_grid.grid.set_array(k, signed=True)
        self.kernel_grid.set_title(f"Kernel {k.shape[0]}×{k.shape[1]}" + (
            f", bias {fmt_number(plan.bias)}" if plan.bias else ""))
        ph, pw = plan.padding
        self.input_grid.grid.ring = (ph, pw) if ph or pw else None
        h, w = plan.image.shape
        self.input_grid.set_title(f"Input {h}×{w}" + (f", padded to {h + 2 * ph}×{w + 2 * pw}"
                                                      if ph or pw else "")
                                  + (f"<br><small>{scale}</small>" if scale else ""))
        self.size_label.setText(
            "Output size, rows: " + size_formula(h, k.shape[0], plan.stride[0], ph)
            + "; columns: " + size_formula(w, k.shape[1], plan.stride[1], pw))
        notes = [model_note] if model_note else []
        lecture = str(self.source.currentData()).startswith("lecture:")
        if not lecture and self.kernel_box.currentData() is None \
                and self.state.kernel.activation == "softmax":
            notes.append("The Kernel explorer's softmax works on a whole map, not pixel by "
                         "pixel, so it is left out here.")
        if self.overview is not None:
            small, f = self.overview
            self.picture_grid.grid.set_array(small, signed=False, numbers=False)
            t, l_ = self.offset
            self.picture_grid.grid.set_outlines([(t / f, l_ / f, h / f, w / f, WINDOW)])
            notes.append(f"Stepping rows {t}–{t + h - 1}, columns {l_}–{l_ + w - 1} of your "
                         f"picture.")
        self.note_label.setText(" ".join(notes))
        self.go(min(self.t, len(plan) - 1) if same_walk else 0, force=True)

    def show_failure(self, message: str) -> None:
        self.plan = None
        self.phase_label.setText(f"Nothing to step through: {message}.")
        for g in (self.input_grid, self.kernel_grid, self.conv_grid, self.act_grid, self.pool_grid):
            g.grid.set_message("—")
        self.sum_label.setText("")

    # ----- the walk

    def go(self, t: int, force: bool = False) -> None:
        if self.plan is None:
            return
        t = max(0, min(int(t), len(self.plan) - 1))
        if t == self.t and not force:
            return
        self.t = t
        self.slider.blockSignals(True)
        self.slider.setValue(t)
        self.slider.blockSignals(False)
        self._draw()
        if self.play_button.isChecked() and t >= len(self.plan) - 1:
            self.play_button.setChecked(False)

    def _draw(self) -> None:
        plan, t = self.plan, self.t
        if plan is None:
            return
        step = plan.step(t)
        ph, pw = plan.padding
        padded = plan.padded
        outlines_in = []
        if step.phase == "conv":
            outlines_in = [(step.top + ph, step.left + pw, step.height, step.width, WINDOW)]
        self.input_grid.grid.set_outlines(outlines_in)
        self.input_grid.grid.set_array(padded)
        conv = plan.conv_filled(t)
        levels = _levels(plan.conv_out)
        self.conv_grid.grid.set_array(conv, signed=levels[0] < 0, levels=levels)
        self.conv_grid.grid.set_outlines(
            [(step.row, step.col, 1, 1, CURRENT)] if step.phase == "conv" else [])
        ho, wo = plan.conv_out.shape
        self.conv_grid.set_title(f"Feature map {ho}×{wo}")
        act_levels = _levels(plan.activated)
        act = plan.activated_filled(t) if plan.has_activation else plan.conv_out
        self.act_grid.setVisible(plan.has_activation)
        self.act_grid.grid.set_array(act, signed=act_levels[0] < 0, levels=act_levels)
        self.act_grid.set_title(f"After {plan.activation}" if plan.has_activation else "")
        pool_outline = []
        if step.phase == "pool":
            pool_outline = [(step.top, step.left, step.height, step.width, WINDOW)]
        if plan.pooled is not None:
            self.pool_grid.show()
            pooled = plan.pooled_filled(t)
            self.pool_grid.grid.set_array(pooled, signed=act_levels[0] < 0, levels=act_levels)
            self.pool_grid.grid.set_outlines(
                [(step.row, step.col, 1, 1, CURRENT)] if step.phase == "pool" else [])
            self.pool_grid.set_title(f"{plan.pool_kind.capitalize()} pooled "
                                     f"{plan.pooled.shape[0]}×{plan.pooled.shape[1]} "
                                     f"({plan.pool_size}×{plan.pool_size}, stride {plan.pool_stride})")
            target = self.act_grid if plan.has_activation else self.conv_grid
            target.grid.set_outlines(pool_outline)
            if step.winner is not None:
                r, c = step.winner
                target.grid.set_marks([(step.top + r, step.left + c, CURRENT)])
            else:
                target.grid.set_marks([])
        else:
            self.pool_grid.hide()
            self.act_grid.grid.set_marks([])
            self.conv_grid.grid.set_marks([])
        if step.phase != "pool":
            (self.act_grid if plan.has_activation else self.conv_grid).grid.set_marks([])
        word = PHASE_WORDS[step.phase]
        total = len(plan)
        if step.phase == "conv":
            self.phase_label.setText(
                f"Step {t + 1} of {total} · {word}: output ({step.row}, {step.col}) of {ho}×{wo}; "
                f"the window's top-left is at ({step.top + ph}, {step.left + pw}) of the padded "
                f"input, {plan.stride[0]}×{plan.stride[1]} stride")
            self.sum_label.setText(products_text(step, plan.kernel, plan.bias))
        elif step.phase == "activation":
            self.phase_label.setText(f"Step {t + 1} of {total} · {word}: {plan.activation} on "
                                     f"every pixel of the {ho}×{wo} feature map")
            negatives = int((plan.conv_out < 0).sum())
            self.sum_label.setText(
                "ReLU: f(x) = max(0, x), “change all negative values to zero, leave all positive "
                f"value alone”: {negatives} of {plan.conv_out.size} pixels were negative."
                if plan.activation == "relu" else f"{plan.activation} applied to each pixel.")
        else:
            assert plan.pooled is not None  # the walk has a pool phase only when it pools
            hp, wp = plan.pooled.shape
            self.phase_label.setText(
                f"Step {t + 1} of {total} · {word}: pooled pixel ({step.row}, {step.col}) of "
                f"{hp}×{wp}, window at ({step.top}, {step.left})")
            values = ", ".join(fmt_number(v, 3) for v in step.window.ravel())
            self.sum_label.setText(f"{plan.pool_kind}({values}) = {fmt_number(step.total, 4)}")
        second_row = (self.picture_grid.isVisibleTo(self) or plan.has_activation
                      or plan.pooled is not None)
        self.grids.setRowStretch(1, 1 if second_row else 0)
        self.back_button.setEnabled(t > 0)
        self.next_button.setEnabled(t < total - 1)

    def _on_play(self, playing: bool) -> None:
        self.play_button.setText("❚❚ Pause" if playing else "▶ Play")
        if playing:
            if self.plan is not None and self.t >= len(self.plan) - 1:
                self.go(0)
            self._on_speed()
            self.timer.start()
        else:
            self.timer.stop()

    def _on_speed(self, *_args) -> None:
        self.timer.setInterval(int(1000 / float(self.speed.currentData())))

    def _speed_by(self, delta: int) -> None:
        self.speed.setCurrentIndex(max(0, min(self.speed.count() - 1,
                                              self.speed.currentIndex() + delta)))

    def _tick(self) -> None:
        if self.plan is None or not self.isVisible():
            self.play_button.setChecked(False)
            return
        self.go(self.t + 1)

    def export_array(self):
        """The whole feature map of the walk (the stage shown last: pooled if there is one)."""
        if self.plan is None:
            return None
        return ("stepped-" + ("pooled" if self.plan.pooled is not None else "feature-map"),
                self.plan.pooled if self.plan.pooled is not None else self.plan.conv_out)

    def shutdown(self) -> None:
        self.timer.stop()
        super().shutdown()


def _levels(a: np.ndarray) -> tuple[float, float]:
    finite = a[np.isfinite(a)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo, hi) if hi > lo else (min(lo, 0.0), max(hi, 1.0))

"""Parameters: a fully connected layer against the convolution layer it would replace."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QVBoxLayout

from cnnviz.core.basics.formulas import TIMES, conv_params_formula, dense_params_formula, fmt_count, fmt_shape
from cnnviz.core.experiments.fc_vs_conv import LECTURE_SLIDE, compare, compare_shapes

from .base import ExperimentView, label


def _rows(c) -> str:
    ch, h, w = c.input_shape
    f, ho, wo = c.output_shape
    kh, kw = c.kernel
    return (
        "<table cellspacing='4'>"
        f"<tr><td><b>Input</b></td><td>{ch} {TIMES} {h} {TIMES} {w} = {fmt_count(c.inputs)} values</td></tr>"
        f"<tr><td><b>{html.escape(c.conv_name)}</b></td><td>{f} filters of {kh}{TIMES}{kw}, "
        f"output {fmt_shape(c.output_shape)}: {c.units_formula} units</td></tr>"
        f"<tr><td><b>Fully connected</b><br>to as many units</td><td>every input to every unit: "
        f"{c.dense_weights_formula} weights,<br>with a bias per unit {c.dense_formula} "
        f"parameters</td></tr>"
        f"<tr><td><b>Convolution</b></td><td>the same {f} small kernels at every position "
        f"(“parameter sharing”): {c.conv_formula} parameters</td></tr>"
        f"<tr><td><b>Ratio</b></td><td>the fully connected layer needs <b>{c.ratio:,.0f} times</b> "
        f"as many parameters for the same {fmt_count(c.units)} outputs</td></tr></table>")


class ParametersView(ExperimentView):
    TITLE = "Parameters: FC vs conv"
    TIP = ("“Every input pixel is combined with every other to produce the output results in "
           "large number of parameters”: the fully connected layer that would replace the first "
           "conv layer, against the conv layer's shared weights, for the current network.")

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.text = label(rich=True)
        self.text.setToolTip("Worked out for the current model with the lecture's rules "
                             "(N_in + 1) × N_out and ((F_h × F_w × C_in) + 1) × C_out")
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addStretch(1)
        self.listen(state.events.model, self.mark_dirty)

    def refresh(self) -> None:
        parts = []
        loaded = self.state.model
        if loaded is not None:
            c = compare(loaded.model)
            total = sum(i.parameters for i in loaded.model.layer_infos)
            parts.append(f"<h3>The current network: {html.escape(loaded.name)} "
                         f"({fmt_count(total)} parameters in all)</h3>")
            parts.append(_rows(c) if c is not None else
                         "<p>This network has no convolution layer: every layer is fully "
                         "connected.</p>")
        lecture = compare_shapes((1, 28, 28), (3, 3), 32, (32, 26, 26))
        parts.append("<h3>The lecture's “3 Layers of ANN on MNIST”</h3>" + _rows(lecture))
        parts.append(
            f"<p><b>Note:</b> the slide writes 32 {TIMES} 26 {TIMES} 26 = "
            f"{fmt_count(LECTURE_SLIDE['units_slide'])} nodes and 784 {TIMES} "
            f"{fmt_count(LECTURE_SLIDE['units_slide'])} = {fmt_count(LECTURE_SLIDE['weights_slide'])}. "
            f"But 32 {TIMES} 26 {TIMES} 26 = <b>{fmt_count(LECTURE_SLIDE['units'])}</b>, so the "
            f"weights are 784 {TIMES} 21,632 = <b>{fmt_count(LECTURE_SLIDE['weights'])}</b> "
            f"({fmt_count(LECTURE_SLIDE['weights'] - LECTURE_SLIDE['weights_slide'])} more: "
            f"one unit's 784 weights), and {fmt_count(lecture.dense_parameters)} with the biases.</p>")
        parts.append(
            "<h3>The lecture's 256 × 256 example</h3>"
            f"<p>Fully connected to 25 units: {dense_params_formula(256 * 256, 25, bias=False)} "
            f"weights (+ biases: {dense_params_formula(256 * 256, 25)}); one 5 {TIMES} 5 "
            f"convolution filter: {conv_params_formula(5, 5, 1, 1)} parameters, whatever the "
            "size of the image.</p>")
        self.text.setText("".join(parts))

    def show_result(self, result) -> None:  # no worker: a few multiplications
        pass

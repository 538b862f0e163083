"""The output-size formulas with the current numbers, above the panels: the pipeline in
one line, then the convolution's and the pooling's (W − F + 2P) / S + 1 per axis (red with
✗ when they cannot work, amber when a conv size was floored)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from ...core.basics.formulas import fmt_shape
from ...core.convolution.filtering import FilterResult, SizeLine
from ...core.convolution.stage_names import ACTIVATION_NAMES, POOL_NAMES
from . import wording as w

FORMULA_BIG_FROM = 760  # tab heights from which the formulas are drawn 1.2 times larger
TIP = ("The lecture's output size: ((W − F + 2P) / S) + 1, with W the input size, F the kernel "
       "size, P the padding and S the stride, for the rows (height) and the columns (width). "
       "\"To guarantee the integer output size\" the division must come out whole. "
       "Pooling floors it, like Keras and torch.")
EMPTY = ("No image yet: draw a digit, open an image, or pick a lecture example under "
         "Input › Source.")


def _line_html(line: SizeLine) -> str:
    if line.problem:
        text = f"<span style='color:{w.ERROR_COLOUR}'>{html.escape(line.text)} ✗</span>"
    else:
        body = f"{html.escape(line.working)} = <b>{html.escape(line.answer)}</b>"
        # amber: a floored conv size, which the note under the formulas explains
        floored = line.floored and line.stage == "conv"
        text = f"<span style='color:{w.FLOOR_COLOUR}'>{body}</span>" if floored else body
    return text.replace(" ", "&nbsp;")  # wrap between formulas, not inside


def pipeline_text(r: FilterResult) -> str:
    """'input 28×28  ⟶  conv 3×3 s1,1 p0,0 → 26×26  ⟶  ReLU  ⟶  max pool 2×2 s2 → 13×13'."""
    s = r.settings
    kh, kw = r.kernel.shape
    conv = fmt_shape(r.conv.shape) if r.conv is not None else "?"
    mode = {"summed": " summed over channels", "per_channel": " per channel"}.get(r.colour_mode, "")
    parts = [f"input {fmt_shape(r.input.shape)}",
             f"conv {kh}×{kw} s{s.stride[0]},{s.stride[1]} p{s.padding[0]},{s.padding[1]}{mode} → {conv}"]
    if s.activation != "none":
        parts.append(ACTIVATION_NAMES.get(s.activation, s.activation))
    if r.pooling:
        pooled = fmt_shape(r.pooled.shape) if r.pooled is not None else "?"
        parts.append(f"{POOL_NAMES[s.pool_kind]} pool {s.pool_size}×{s.pool_size} "
                     f"s{s.pool_stride} → {pooled}")
    return "  ⟶  ".join(parts)


class FormulaBar(QLabel):
    """draw(result) / show_empty(); plain_text() is what it shows, one formula a line."""

    def __init__(self) -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self._points = self.font().pointSizeF()  # the base size
        self._plain = ""
        self.fit_font(1000)
        self.setStyleSheet("QLabel { background: #f3f6fb; border: 1px solid #c5d3e8; "
                           "border-radius: 4px; padding: 6px; }")
        self.setToolTip(TIP)

    def draw(self, r: FilterResult) -> None:
        self._plain = "\n".join(r.formulas)
        lines = [f"<span style='color:#37474f'>{html.escape(pipeline_text(r))}</span>"]
        for stage, label in (("conv", "Convolution"), ("pool", "Pooling")):
            if r.lines(stage):
                parts = [_line_html(line) for line in r.lines(stage)]
                lines.append(f"<b>{label}</b>&nbsp; " + " &nbsp;·&nbsp; ".join(parts))
        self.setText("<br>".join(lines))

    def show_empty(self) -> None:
        self.setText(EMPTY)

    def plain_text(self) -> str:
        return self._plain

    def fit_font(self, height: int) -> None:
        """Larger formulas when there is room; at 1366×768 the panels need every line."""
        points = self._points * (1.2 if height >= FORMULA_BIG_FROM else 1.0)
        font = self.font()
        if font.pointSizeF() != points:
            font.setPointSizeF(points)
            self.setFont(font)

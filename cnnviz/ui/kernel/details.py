"""What the pixel under the mouse is made of: the input window (outlined on the input),
the products of the kernel's weights and the pixels under them, their sum; the activation
applied; the pooling window and which value won. Texts from cnnviz.core.convolution.pixel_explanations."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea

from ...core.basics.formulas import fmt_number
from ...core.convolution.filtering import FilterResult
from ...core.convolution.kernel_previews import StageView
from ...core.convolution.pixel_explanations import (
    channel_names,
    explain_activation_pixel,
    explain_conv_pixel,
    explain_input_pixel,
    explain_pool_pixel,
    explained_channels,
    input_window,
    last_window_left_out,
)
from ...core.convolution.stage_names import POOL_NAMES
from . import wording as w

HINT = ("<b>Point at a pixel</b> of the convolution, activation or pooling output to see how it "
        "was made: the input window (orange box on the input), the products of the kernel's "
        "weights and the pixels under them, and their sum.")


def _mono(text: str) -> str:
    return f"<span style='font-family:monospace'>{html.escape(text)}".replace("\n", "<br>") + "</span>"


def _names(r: FilterResult) -> list[str]:
    return channel_names(r.input.shape[0]) if r.input.ndim == 3 else []


def conv_html(r: FilterResult, stage: StageView, row: int, col: int) -> str:
    names, out = _names(r), [f"<b>Convolution output ({row}, {col})</b>"]
    for ch in explained_channels(r, stage.channel):
        px = explain_conv_pixel(r, row, col, ch)
        where = f"window rows {px.top}…{px.bottom}, columns {px.left}…{px.right} of the input"
        if px.in_padding:
            where += " (zeros where it hangs over the padding)"
        label = f"{names[ch]}: " if ch is not None else ""
        out += [f"{label}{html.escape(where)}", _mono(label + px.text)]
    for axis, (first, last) in last_window_left_out(r, row, col):
        unit = ("rows", "columns")[axis]
        which = f"{unit[:-1]} {first} is" if first == last else f"{unit} {first}…{last} are"
        out.append(f"<span style='color:{w.FLOOR_COLOUR}'>This is the last window: input {which} "
                   "left out (the size was floored, like PyTorch and Keras).</span>")
    return "<br>".join(out)


def activation_html(r: FilterResult, stage: StageView, row: int, col: int) -> str:
    names, out = _names(r), [f"<b>Activation output ({row}, {col})</b>"]
    for ch in explained_channels(r, stage.channel):
        label = f"{names[ch]}: " if ch is not None else ""
        out.append(_mono(label + explain_activation_pixel(r, row, col, ch)))
    return "<br>".join(out)


def input_html(r: FilterResult, row: int, col: int) -> str:
    px = explain_input_pixel(r, row, col)
    gone = (f"<br><span style='color:{w.FLOOR_COLOUR}'>Left out: no kernel window reaches this "
            "pixel, because (W − F + 2P) / S + 1 was not whole and was floored (see the note "
            "above).</span>") if px.left_out else ""
    if px.values is None:
        return f"<b>Padding ({row}, {col})</b>: a zero added around the image.{gone}"
    if px.channels:
        values = ", ".join(f"{n} {fmt_number(v)}" for n, v in zip(px.channels, px.values))
        return f"<b>Input ({row}, {col})</b>: {values}{gone}"
    return f"<b>Input ({row}, {col})</b> = {fmt_number(px.values[0])}{gone}"


def slide_html(example) -> str:
    """The slide's answer (and what the slide prints, where that is wrong)."""
    parts = [f"<b>Slide \"{html.escape(example.slide)}\"</b>", html.escape(example.description),
             f"The answer:{_grid_html(example.expected)}"]
    if example.slide_shows is not None:
        parts.append(f"The slide prints:{_grid_html(example.slide_shows, w.ERROR_COLOUR)}")
    if example.note:
        parts.append(f"<i>{html.escape(example.note)}</i>")
    return "<br>".join(parts)


def _grid_html(a: np.ndarray, colour: str = "#1b5e20") -> str:
    """A small grid of numbers as an HTML table, like the slides draw them."""
    rows = "".join("<tr>" + "".join(f"<td align='right' style='padding: 0 4px'>{fmt_number(v)}</td>"
                                    for v in row) + "</tr>" for row in np.asarray(a)[:8])
    return (f"<table cellspacing='0' style='font-family: monospace; color: {colour}; "
            f"margin: 2px 0 4px 8px'>{rows}</table>")


class PixelDetails(QScrollArea):
    """The text beside the panels; show_pixel(key, row, col) for a preview pixel of a
    panel ((-1, -1): the mouse left), refresh() after a new result."""

    def __init__(self, stages) -> None:
        super().__init__()
        self.stages = stages
        self.hover: tuple[str, int, int] | None = None
        self._slide = ""
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self.setMinimumWidth(150)
        self.setToolTip("What the pixel under the mouse is made of.")
        stages.hovered.connect(self.show_pixel)
        self._show_hint()

    def set_example(self, example) -> None:
        self._slide = "" if example is None else slide_html(example)
        if self.hover is None:
            self._show_hint()

    def refresh(self) -> None:
        if self.hover is not None:
            self.show_pixel(*self.hover)

    def _show_hint(self) -> None:
        self.label.setText(f"{self._slide}<br><br>{HINT}" if self._slide else HINT)

    def show_pixel(self, key: str, row: int, col: int) -> None:
        shown = self.stages.shown.get(key)
        if row < 0 or col < 0 or shown is None:
            self.hover = None
            self.stages.clear_outlines()
            self._show_hint()
            return
        self.hover = (key, row, col)
        r, stage = shown
        rr, cc = stage.full_index(row, col)
        self.stages.clear_outlines()
        if key == "input":
            self.label.setText(input_html(r, rr, cc))
        elif key in ("conv", "activation") and r.conv is not None:
            self.stages.outline_pixel(key, rr, cc)
            text = conv_html(r, stage, rr, cc)
            if key == "activation":
                text = activation_html(r, stage, rr, cc) + "<br><br>" + text
            self.stages.outline_input(*input_window(r, "conv", rr, cc))
            self.label.setText(text)
        elif key == "pool" and r.pooled is not None:
            self.stages.outline_pixel(key, rr, cc)
            self.label.setText(self._pool_html(r, stage, rr, cc))
            self.stages.outline_input(*input_window(r, "pool", rr, cc))

    def _pool_html(self, r: FilterResult, stage: StageView, row: int, col: int) -> str:
        s, names = r.settings, _names(r)
        out = [f"<b>Pooled output ({row}, {col})</b>: {POOL_NAMES[s.pool_kind]} of a "
               f"{s.pool_size}×{s.pool_size} window of the activation output"]
        for ch in explained_channels(r, stage.channel):
            px = explain_pool_pixel(r, row, col, ch)
            label = f"{names[ch]}: " if ch is not None else ""
            out.append(html.escape(f"{label}rows {px.top}…{px.top + px.size - 1}, columns "
                                   f"{px.left}…{px.left + px.size - 1}"))
            out.append(_mono(label + px.text))
            if ch in (None, stage.channel) and "activation" in self.stages.shown:
                self.stages.outline_pool_window(px.top, px.left, px.size)
                if px.source is not None:
                    self.stages.outline_pixel("activation", *px.source)
        return "<br>".join(out)

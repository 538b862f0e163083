"""Application-wide behaviour set up by run_app: long tooltips wrap."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QLabel

from cnnviz.ui.app import TooltipWrapper, wrapped_tooltip


def test_long_plain_tooltips_become_wrappable_rich_text():
    long = "Stride: how many pixels the kernel moves between positions.\nBigger means a smaller <output>."
    wrapped = wrapped_tooltip(long)
    assert wrapped.startswith("<p>") and "<br>" in wrapped and "&lt;output&gt;" in wrapped
    assert wrapped_tooltip("Clear the pad") == "Clear the pad"  # short: one line is fine
    rich = "<b>Network input</b> the 28×28 picture that goes into the first convolution layer"
    assert wrapped_tooltip(rich) == rich


def test_the_filter_rewrites_a_tooltip_when_it_is_about_to_show(qapp):
    label = QLabel("x")
    long = "A tooltip long enough that, on one line, it would stretch across most of a laptop screen."
    label.setToolTip(long)
    wrapper = TooltipWrapper()
    qapp.installEventFilter(wrapper)
    try:
        QApplication.sendEvent(label, QHelpEvent(QEvent.Type.ToolTip, QPoint(1, 1), QPoint(1, 1)))
    finally:
        qapp.removeEventFilter(wrapper)
    assert label.toolTip() == wrapped_tooltip(long) != long

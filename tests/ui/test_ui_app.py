"""Long tooltips wrap (rewritten as rich text in one pass over a window's widgets)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from cnnviz.ui.widgets.tooltips import wrap_long_tooltips, wrapped_tooltip


def test_long_plain_tooltips_become_wrappable_rich_text():
    long = "Stride: how many pixels the kernel moves between positions.\nBigger means a smaller <output>."
    wrapped = wrapped_tooltip(long)
    assert wrapped.startswith("<p>") and "<br>" in wrapped and "&lt;output&gt;" in wrapped
    assert wrapped_tooltip("Clear the pad") == "Clear the pad"  # short: one line is fine
    rich = "<b>Network input</b> the 28×28 picture that goes into the first convolution layer"
    assert wrapped_tooltip(rich) == rich


def test_one_pass_wraps_every_long_tooltip_in_a_window(qtbot):
    root = QWidget()
    qtbot.addWidget(root)
    layout = QVBoxLayout(root)
    long = "A tooltip long enough that, on one line, it would stretch across most of a laptop screen."
    labels = [QLabel("a"), QLabel("b"), QLabel("c")]
    for label in labels:
        layout.addWidget(label)
    labels[0].setToolTip(long)
    labels[1].setToolTip("short")
    root.setToolTip(long)
    assert wrap_long_tooltips(root) == 2
    assert labels[0].toolTip() == root.toolTip() == wrapped_tooltip(long) != long
    assert labels[1].toolTip() == "short"
    assert wrap_long_tooltips(root) == 0  # already wrapped


def test_the_main_window_has_no_long_plain_tooltips(qtbot, tmp_path):
    """After start-up, a first analysis and a look at each tab, as a user would hover them."""
    from PySide6.QtCore import QSettings

    from cnnviz.app_state import AppState
    from cnnviz.ui.window.main_window import MainWindow

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    window = MainWindow(AppState())
    qtbot.addWidget(window)
    window.load_defaults()
    window.show()
    qtbot.waitUntil(lambda: window.state.analysis is not None)
    for tab in (1, 0):
        window.tabs.setCurrentIndex(tab)
        qtbot.waitUntil(lambda: window.kernel_explorer.is_idle())
        long_plain = [(type(w).__name__, w.toolTip()[:60]) for w in window.findChildren(QWidget)
                      if wrapped_tooltip(w.toolTip()) != w.toolTip()]
        assert long_plain == []
    window.close()

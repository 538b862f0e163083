"""Saved settings are checked as they are read: a value out of range, of the wrong type or
one that would crash (a kernel weight of 1e308 segfaulted the app at every start, since the
kernel and the tab are saved) is dropped and the default used, with a word in the status bar."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMessageBox

from cnnviz.app_state import AppState, KernelSettings
from cnnviz.core.convolution.kernels import PRESETS
from cnnviz.ui.kernel import persistence
from cnnviz.ui.window.main_window import MainWindow


@pytest.fixture
def sandbox(settings_sandbox, monkeypatch):
    """The settings sandbox, with warning dialogs answered at once."""
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Ok))


def _save(values: dict) -> None:
    s = QSettings()
    for key, value in values.items():
        s.setValue(key, value)
    s.sync()


def _start(qtbot) -> MainWindow:
    window = MainWindow(AppState())
    qtbot.addWidget(window)
    window.load_defaults()
    window.show()
    window.resize(1600, 1000)  # large enough for every colour bar (narrow panels leave it out)
    qtbot.waitExposed(window)
    ex = window.kernel_explorer
    qtbot.waitUntil(ex.is_idle, timeout=20000)
    assert ex.stages.kernel.colorbar_shown()
    window.grab()  # paint everything: a 1e308 kernel crashed here, in the colour bar's axis
    return window


def test_a_saved_1e308_kernel_starts_the_window_fine(qtbot, sandbox):
    _save({"window/tab": 1, "KernelExplorer/kernel": "0 -1 0; -1 1e308 -1; 0 -1 0",
           "KernelExplorer/stride": "1,1"})
    window = _start(qtbot)
    ex = window.kernel_explorer
    assert "Kernel" in window.tabs.tabText(window.tabs.currentIndex())
    kernel = window.state.kernel.kernel
    assert np.isfinite(kernel).all() and np.abs(kernel).max() < 1e6  # dropped: the default used
    np.testing.assert_array_equal(kernel, KernelSettings().kernel)
    assert ex.view is not None and np.isfinite(ex.view.result.conv).all()
    window.close()


@pytest.mark.parametrize("text", ["1e308", "inf", "nan", "1 2; 3", "9 " * 3000, "2e6", "1e7/2"])
def test_an_unusable_saved_kernel_is_dropped(qtbot, tmp_path, text):
    s = QSettings(str(tmp_path / "k.ini"), QSettings.Format.IniFormat)
    s.setValue("KernelExplorer/kernel", text)
    current = KernelSettings(kernel=PRESETS["box-blur"].values)
    restored, *_rest, dropped = persistence.read(s, current)
    np.testing.assert_array_equal(restored.kernel, current.kernel)
    assert dropped == ["kernel"]


def test_every_kernel_setting_is_checked(qtbot, tmp_path):
    s = QSettings(str(tmp_path / "k.ini"), QSettings.Format.IniFormat)
    bad = {"stride": "0,99", "padding": [1, 2, 3], "activation": 5, "pool_kind": "largest",
           "pool_size": "1e9", "pool_stride": True, "per_channel": "perhaps",
           "channel_view": "7", "source": ["a", "b"], "linked": 3.5}
    for key, value in bad.items():
        s.setValue(f"KernelExplorer/{key}", value)
    s.sync()
    current = KernelSettings()
    restored, source, view, linked, dropped = persistence.read(
        QSettings(str(tmp_path / "k.ini"), QSettings.Format.IniFormat), current)
    assert sorted(dropped) == sorted(bad)
    assert (restored.stride, restored.padding, restored.activation, restored.pool_kind,
            restored.pool_size, restored.pool_stride, restored.per_channel) == (
        current.stride, current.padding, current.activation, current.pool_kind,
        current.pool_size, current.pool_stride, current.per_channel)
    assert (source, view, linked) == ("image", "all", True)


def test_window_settings_out_of_range_or_of_the_wrong_type_use_the_defaults(qtbot, sandbox):
    _save({"window/tab": 99, "input/brush": "1e9", "window/geometry": QByteArray(b"junk"),
           "window/splitter": "not bytes", "files/last_dir": 12})
    window = _start(qtbot)
    assert window.tabs.currentIndex() == 0
    assert 4 <= window.input_panel.brush_size() <= 48
    assert window.last_dir == ""
    message = window.statusBar().currentMessage()
    assert "could not be used" in message and "window/tab" in message and "input/brush" in message
    window.close()

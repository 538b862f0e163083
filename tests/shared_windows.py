"""One main window for several tests of a module (opening one takes seconds): opened once,
and brought back before each test to how it opened: its model, picture, layer and tab, the
kernel explorer's source, and the default model's analysis of the picture shown. A test
that changes more than that about the window keeps a window of its own."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtTest import QTest

from cnnviz.app_state import AppState, InputImage
from cnnviz.ui.window.main_window import MainWindow


class OpenedWindow:
    """A main window and what it showed when it opened."""

    def __init__(self, window: MainWindow) -> None:
        state = window.state
        self.window = window
        self.model, self.image, self.source = state.model, state.image, state.image_source
        self.layer, self.kernel_source = state.layer, state.kernel_source
        self.tab = window.tabs.currentIndex()

    def as_opened(self, qtbot) -> MainWindow:
        w, state = self.window, self.window.state
        w.tabs.setCurrentIndex(self.tab)
        w.kernel_explorer.controller.set_source(self.kernel_source)
        state.model = self.model
        state.input_image = InputImage(self.image, self.source)
        state.layer = self.layer
        w.controller.join()
        qtbot.waitUntil(lambda: state.analysis is not None and state.analysis.layer_infos
                        == list(self.model.model.layer_infos)
                        and state.analysis.layers[0][1].shape == self.model.input_spec.shape,
                        timeout=20000)
        w.kernel_explorer.controller.join()
        assert state.kernel_source == self.kernel_source and state.layer == self.layer
        assert w.tabs.currentIndex() == self.tab
        return w


@contextmanager
def window_opened_once(size: tuple[int, int] | None = None):
    """A main window with the default model and picture, shown (at `size`, if given) and
    its first analysis published; closed after the block."""
    w = MainWindow(AppState())
    try:
        w.load_defaults()
        if size is not None:
            w.resize(*size)
        w.show()
        assert QTest.qWaitForWindowExposed(w)
        w.controller.join()
        deadline = 20000
        while w.state.analysis is None and deadline > 0:
            QTest.qWait(50)
            deadline -= 50
        assert w.state.analysis is not None
        yield OpenedWindow(w)
    finally:
        w.close()
        w.deleteLater()

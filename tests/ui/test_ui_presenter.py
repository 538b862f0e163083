"""Presenter mode at a projector's 1024×768: no visible text under 16 pt, the shown tab fills
the window with the controls folded away, colour-blind-safe colour maps, Tab reaches every
enabled control of the visible tab and each has an accessible name, PgDown/PgUp step a lesson
from a table, a scroll area or a spin box, and F5/Escape bring everything back as it was."""

from __future__ import annotations

import numpy as np
import pytest
from lesson_windows import open_window
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QTableView, QWidget

from cnnviz.ui.presenter.access import is_control
from cnnviz.ui.presenter.mode import MIN_POINT_SIZE, _point_size


@pytest.fixture
def window(qtbot, settings_sandbox, tmp_path, monkeypatch):
    return open_window(qtbot, tmp_path, monkeypatch, size=(1024, 768), keep_warnings=False)


def _shown(root: QWidget) -> list[QWidget]:
    return [c for c in root.findChildren(QWidget) if c.isVisible() and c.window() is root]


def _small_text(w) -> list[str]:
    return [f"{type(c).__name__} {c.objectName()!r} {_point_size(c.font()):.1f} pt"
            for c in _shown(w) if _point_size(c.font()) < MIN_POINT_SIZE - 0.01]


def _focus_chain(qtbot, w, first: QWidget) -> list[QWidget]:
    first.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(first.hasFocus, timeout=2000)
    seen = [first]
    for _ in range(400):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        now = QApplication.focusWidget()
        if now is first or now in seen:
            break
        seen.append(now)
    return seen


def _controls_of(page: QWidget) -> list[QWidget]:
    return [c for c in page.findChildren(QWidget) if is_control(c) and c.isVisible()
            and c.isEnabled() and c.focusPolicy() & Qt.FocusPolicy.TabFocus]


def test_presenter_mode_at_1024x768(qtbot, window):
    w = window
    w.tabs.setCurrentIndex(1)  # the kernel explorer
    before = {"input": w.input_panel.isVisible(), "menu": w.menuBar().isVisible(),
              "hidden": w.kernel_explorer.controls_hidden(), "style": w.styleSheet(),
              "maps": _map_colours()}
    qtbot.keyClick(w, Qt.Key.Key_F5)
    assert w.presenter.active and w.presenter_action.isChecked()
    assert not w.input_panel.isVisible() and not w.menuBar().isVisible()
    assert not w.toolbar.isVisible() and not w.tabs.tabBar().isVisible()
    assert w.kernel_explorer.controls_hidden()
    assert w.tabs.width() >= w.width() - 40  # the shown tab fills the window
    assert not _small_text(w), _small_text(w)
    assert QApplication.overrideCursor().pixmap().width() >= 48  # the pointer, large
    assert _safe_maps()

    w.take_tour()  # a lesson, stepped by the keyboard alone
    panel = w.lesson_panel
    assert not _small_text(w), _small_text(w)
    for index in (3, 4):
        panel.go(index)
        holder = _holder(w)
        holder.setFocus()
        qtbot.waitUntil(holder.hasFocus, timeout=2000)
        qtbot.keyClick(holder, Qt.Key.Key_PageDown)
        assert panel.index == index + 1, type(holder).__name__
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_PageUp)
        assert panel.index == index

    page = w.tabs.currentWidget()
    controls = _controls_of(page) + _controls_of(panel)
    chain = _focus_chain(qtbot, w, controls[0])
    missed = [f"{type(c).__name__} {c.accessibleName()!r}" for c in controls if c not in chain]
    assert not missed, missed
    unnamed = [f"{type(c).__name__} {c.objectName()!r}" for c in controls
               if not QAccessible.queryAccessibleInterface(c).text(QAccessible.Text.Name).strip()]
    assert not unnamed, unnamed

    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert not w.presenter.active and not w.presenter_action.isChecked()
    assert w.input_panel.isVisible() == before["input"] and w.menuBar().isVisible() == before["menu"]
    assert w.kernel_explorer.controls_hidden() == before["hidden"] and w.styleSheet() == before["style"]
    assert QApplication.overrideCursor() is None
    assert _map_colours() == before["maps"]
    qtbot.keyClick(w, Qt.Key.Key_F5)
    assert w.presenter.active
    qtbot.keyClick(w, Qt.Key.Key_F5)
    assert not w.presenter.active and w.tabs.tabBar().isVisible()


def _holder(w) -> QWidget:
    """A spin box (step 4: the kernel explorer's stride) or a table / scroll area."""
    tables = [t for t in w.findChildren(QTableView) if t.isVisible()]
    if tables:
        return tables[0]
    spins = w.kernel_explorer.controls.conv_box.stride_spins
    if spins[0].isVisible():
        return spins[0]
    return next(a for a in w.findChildren(QAbstractScrollArea) if a.isVisible())


def _map_colours():
    from cnnviz.ui.widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP

    return [np.asarray(m.getLookupTable(nPts=8)).tolist() for m in (SIGNED_CMAP, UNSIGNED_CMAP)]


def _safe_maps() -> bool:
    """The maps are cividis and CET-CBD1, compared with pyqtgraph's own files of them."""
    import pyqtgraph as pg

    return _map_colours() == [np.asarray(pg.colormap.get(n).getLookupTable(nPts=8)).tolist()
                              for n in ("CET-CBD1", "cividis")]


def test_every_control_of_every_tab_has_an_accessible_name(qtbot, window):
    w = window
    for index in range(w.tabs.count()):
        w.tabs.setCurrentIndex(index)
        qtbot.wait(10)
        unnamed = [f"{type(c).__name__} {c.objectName()!r} {c.toolTip()[:30]!r}"
                   for c in _shown(w) if is_control(c)
                   and not QAccessible.queryAccessibleInterface(c).text(QAccessible.Text.Name).strip()]
        assert not unnamed, (index, unnamed)

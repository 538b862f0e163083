"""Presenter mode (F5 or View › Presenter) for a projector at 1024×768 or 1280×720: the
shown tab fills the window (the input panel, toolbar, status bar, menus and the kernel
explorer's controls folded away), a high-contrast theme with no text under 16 pt, colour
maps safe for colour-blind viewers (cividis; the signed maps CET-CBD1, diverging blue to
yellow), a large pointer, and the focus ringed. A lesson steps with PgDown / PgUp (or a
presenter's clicker) wherever the focus is. F5 or Escape leave it, and everything comes
back as it was."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, Qt
from PySide6.QtGui import QAction, QColor, QCursor, QFont, QKeySequence, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from .access import FOCUS_STYLE, name_controls

MIN_POINT_SIZE = 16
THEME = (f"QWidget {{ font-size: {MIN_POINT_SIZE}pt; color: black; }}"
         " QMainWindow, QDockWidget, QScrollArea, QTabWidget, QStackedWidget, QWidget#presenter_page"
         " { background: white; }"
         " QPushButton, QToolButton { border: 2px solid black; border-radius: 4px; padding: 4px 10px;"
         " background: #f4f4f4; } QPushButton:disabled { color: #555; border-color: #888; }"
         " QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QListWidget, QTableView"
         " { border: 2px solid black; background: white; color: black; }"
         " QAbstractItemView::item:selected { background: black; color: white; }"
         " QToolTip { font-size: 16pt; color: black; background: #ffffe0; border: 1px solid black; }"
         f" {FOCUS_STYLE}")
CURSOR_SIDE = 48


def big_pointer() -> QCursor:
    """An arrow three times the usual size, black with a white edge (seen on any picture)."""
    pixmap = QPixmap(CURSOR_SIDE, CURSOR_SIDE)
    pixmap.fill(Qt.GlobalColor.transparent)
    k = CURSOR_SIDE / 16
    path = QPainterPath(QPointF(1 * k, 1 * k))
    for x, y in ((1, 13), (4.5, 10), (7, 15), (9, 14), (6.8, 9.2), (11, 9.2)):
        path.lineTo(QPointF(x * k, y * k))
    path.closeSubpath()
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("white"), 2.5))
    painter.setBrush(QColor("black"))
    painter.drawPath(path)
    painter.end()
    return QCursor(pixmap, int(k), int(k))


class _ColourMaps:
    """Swaps the app's two colour maps (cnnviz.ui.widgets.plots) in place for safe ones,
    so every view that holds them draws with the safe ones, and back."""

    def __init__(self) -> None:
        self.saved: list | None = None

    @staticmethod
    def _maps():
        from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP

        return SIGNED_CMAP, UNSIGNED_CMAP

    def use_safe(self, root: QWidget) -> None:
        import pyqtgraph as pg

        signed, unsigned = self._maps()
        self.saved = [(m, m.pos, m.color, m.name) for m in (signed, unsigned)]
        for cmap, safe in ((signed, pg.colormap.get("CET-CBD1")), (unsigned, pg.colormap.get("cividis"))):
            cmap.pos, cmap.color, cmap.name = safe.pos, safe.color, safe.name
            cmap.stopsCache = {}
        self.redraw(root)

    def restore(self, root: QWidget) -> None:
        if self.saved is None:
            return
        for cmap, pos, color, name in self.saved:
            cmap.pos, cmap.color, cmap.name = pos, color, name
            cmap.stopsCache = {}
        self.saved = None
        self.redraw(root)

    def redraw(self, root: QWidget) -> None:
        """Every image and colour bar drawn with one of the two maps, drawn again."""
        import pyqtgraph as pg

        maps = self._maps()
        for view in root.findChildren(pg.GraphicsView):
            for item in view.scene().items() if view.scene() is not None else ():
                cmap = getattr(item, "_colorMap", None) if isinstance(item, pg.ImageItem) else (
                    item.colorMap() if isinstance(item, pg.ColorBarItem) else None)
                if any(cmap is m for m in maps):
                    item.setColorMap(cmap)


class Presenter(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.active = False
        self._saved: dict = {}
        self._styled: list[tuple[QWidget, str]] = []
        self.colour_maps = _ColourMaps()
        self.leave_action = QAction("Leave presenter mode", window)
        self.leave_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.leave_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.leave_action.setEnabled(False)
        self.leave_action.triggered.connect(self.leave)
        window.addAction(self.leave_action)

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        if self.active:
            return
        w = self.window
        self._saved = {
            "style": w.styleSheet(), "splitter": w.splitter.saveState(), "docks": w.saveState(),
            "input": w.input_panel.isVisible(), "toolbar": w.toolbar.isVisible(),
            "status": w.statusBar().isVisible(), "menu": w.menuBar().isVisible(),
            "tab_bar": w.tabs.tabBar().isVisible(),
            "controls_hidden": w.kernel_explorer.controls_hidden() if w.kernel_explorer else None,
        }
        self.active = True
        w.input_panel.hide()
        w.toolbar.hide()
        w.statusBar().hide()
        w.menuBar().hide()
        w.tabs.tabBar().hide()
        if w.kernel_explorer is not None:
            w.kernel_explorer.set_controls_hidden(True)
        w.setStyleSheet(THEME)
        self._lift_small_text()
        self.colour_maps.use_safe(w)
        name_controls(w)
        self._widen_lesson()
        QApplication.setOverrideCursor(big_pointer())
        self.leave_action.setEnabled(True)
        self._sync_action()

    def leave(self) -> None:
        if not self.active:
            return
        w, saved = self.window, self._saved
        self.active = False
        QApplication.restoreOverrideCursor()
        self.leave_action.setEnabled(False)
        from shiboken6 import isValid

        for widget, style in self._styled:
            if isValid(widget):  # (a view may have rebuilt some of its labels meanwhile)
                widget.setStyleSheet(style)
        self._styled = []
        w.setStyleSheet(saved["style"])
        self.colour_maps.restore(w)
        w.input_panel.setVisible(saved["input"])
        w.toolbar.setVisible(saved["toolbar"])
        w.statusBar().setVisible(saved["status"])
        w.menuBar().setVisible(saved["menu"])
        w.tabs.tabBar().setVisible(saved["tab_bar"])
        w.splitter.restoreState(saved["splitter"])
        w.restoreState(saved["docks"])
        if w.kernel_explorer is not None and saved["controls_hidden"] is not None:
            w.kernel_explorer.set_controls_hidden(saved["controls_hidden"])
        self._sync_action()

    def _lift_small_text(self) -> None:
        """Widgets whose own style sheet sets a smaller font get MIN_POINT_SIZE on top of it
        (kept, to be put back on leaving)."""
        from shiboken6 import isValid

        QApplication.processEvents()  # the theme polished first
        for widget in self.window.findChildren(QWidget):
            if _point_size(widget.font()) >= MIN_POINT_SIZE - 0.01 or \
                    any(widget is done for done, _ in self._styled if isValid(done)):
                continue
            style = widget.styleSheet()
            self._styled.append((widget, style))
            extra = f"font-size: {MIN_POINT_SIZE}pt;"
            widget.setStyleSheet(f"{style}\n* {{ {extra} }}" if "{" in style else
                                 f"{style}; {extra}" if style.strip() else extra)

    def refresh(self) -> None:
        """After a panel was added while presenting (a lesson, the recorder): its text too."""
        if self.active:
            self._lift_small_text()
            name_controls(self.window)
            self._widen_lesson()

    def _widen_lesson(self) -> None:
        """The lesson beside the view, wide enough for its large text (about 45%)."""
        panel = getattr(self.window, "lesson_panel", None)
        if panel is not None and panel.isVisible():
            self.window.resizeDocks([panel], [int(self.window.width() * 0.45)],
                                    Qt.Orientation.Horizontal)

    def _sync_action(self) -> None:
        action = getattr(self.window, "presenter_action", None)
        if action is not None:
            action.setChecked(self.active)


def _point_size(font: QFont) -> float:
    """A font's size in points (a pixel size counted at 96 dpi, as on a projector's desktop)."""
    if font.pointSizeF() > 0:
        return font.pointSizeF()
    return font.pixelSize() * 72 / 96

"""Start the cnnviz window: `cnnviz` (or `cnnviz gui [IMAGE]`) ends up here."""

from __future__ import annotations

import html
import sys
from importlib import resources

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtGui import Qt as QtGuiNamespace  # mightBeRichText lives in QtGui's Qt
from PySide6.QtWidgets import QApplication, QWidget

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    """The app icon (cnnviz/resources/icon.svg), rendered at the usual sizes.

    Read through importlib.resources, so it works from an installed wheel too. An empty icon
    if the file or Qt's SVG module is missing (never a reason not to start)."""
    try:
        from PySide6.QtSvg import QSvgRenderer

        data = resources.files("cnnviz").joinpath("resources", "icon.svg").read_bytes()
    except (ImportError, OSError):
        return QIcon()
    renderer = QSvgRenderer(QByteArray(data))
    if not renderer.isValid():
        return QIcon()
    icon = QIcon()
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(QPixmap.fromImage(image))
    return icon


WRAP_TOOLTIPS_LONGER_THAN = 70  # characters; shorter tips stay on one line


def wrapped_tooltip(text: str) -> str:
    """A long plain-text tooltip as rich text, which Qt word-wraps (plain text it shows as one
    line as wide as the screen). Rich text and short tips are returned as they are."""
    if len(text) <= WRAP_TOOLTIPS_LONGER_THAN or QtGuiNamespace.mightBeRichText(text):
        return text
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"


class TooltipWrapper(QObject):
    """Application-wide event filter: just before any widget shows its tooltip, a long plain
    one is rewritten by wrapped_tooltip (so no widget has to remember to do it)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.ToolTip and isinstance(watched, QWidget):
            tip = watched.toolTip()
            wrapped = wrapped_tooltip(tip)
            if wrapped != tip:
                watched.setToolTip(wrapped)
        return False  # never consume the event: Qt shows the (rewritten) tooltip as usual


def run_app(image: str | None = None, data_dir: str | None = None) -> int:
    """Open the main window (with the shipped model and a real MNIST digit, or `image`) and
    run the event loop. Returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv)
    app.setOrganizationName("cnnviz")
    app.setApplicationName("cnnviz")
    app.setWindowIcon(app_icon())
    tooltip_wrapper = TooltipWrapper(app)
    app.installEventFilter(tooltip_wrapper)

    from .main_window import MainWindow  # after QApplication: widgets need it

    window = MainWindow(data_dir=data_dir)
    window.load_defaults()
    window.show()
    if image:
        window.open_image_file(image)
    try:
        return app.exec()
    finally:
        window.shutdown()

"""Start the cnnviz window: `cnnviz` (or `cnnviz gui [IMAGE]`) ends up here."""

from __future__ import annotations

import sys
from importlib import resources

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def display_problem(environ=None, platform: str | None = None) -> str | None:
    """Why the window cannot open here, in one line (None when it can): on Linux without
    an X or Wayland display Qt would abort with its own message (and a crash log)."""
    import os

    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    qpa = environ.get("QT_QPA_PLATFORM", "")
    if not platform.startswith("linux") or (qpa and qpa.split(":")[0] not in ("xcb", "wayland")):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return ("cnnviz's window needs a display, and DISPLAY and WAYLAND_DISPLAY are not set "
            "(over ssh: ssh -X; on a server: xvfb-run cnnviz). The command line works "
            "without one: cnnviz predict, evaluate, summary, filter, train.")


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


def run_app(image: str | None = None, data_dir: str | None = None,
            model_options: dict | None = None) -> int:
    """Open the main window (with the shipped model and a real MNIST digit) and run the
    event loop; `image`: a file to open by what it is (a picture as the input, a model as
    the network); model_options: {"input_scale", "labels"} for that model, as the Model
    menu would set them. Returns the exit code."""
    from .crash_log import enable_crash_log

    enable_crash_log()
    running = QApplication.instance()
    app = running if isinstance(running, QApplication) else QApplication(sys.argv)
    app.setOrganizationName("cnnviz")
    app.setApplicationName("cnnviz")
    app.setWindowIcon(app_icon())
    from ..gui_gc import GuiThreadCollector

    collector = GuiThreadCollector(app)  # garbage holding Qt objects dies on this thread

    from .main_window import MainWindow  # after QApplication: widgets need it

    # The window and the pad first (plain Qt, well under a second); torch, pyqtgraph, the
    # explorers and the model load on a thread after it is on screen (MainWindow.start_loading).
    window = MainWindow(data_dir=data_dir, lazy=True)
    window.show_default_image()
    window.show()
    QTimer.singleShot(0, window.start_loading)
    if image:
        window.open_file(image, **{k: v for k, v in (model_options or {}).items() if v})
    try:
        return app.exec()
    finally:
        window.shutdown()
        collector.stop()

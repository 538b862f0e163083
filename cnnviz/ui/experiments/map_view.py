"""What the network learned: a map. The layer before the output, for every test digit, laid
out in 2-D (PCA at once, t-SNE in about half a minute), coloured by true class; the user's
drawing is a live point on it, with its nearest test digits."""

from __future__ import annotations

import html
import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from cnnviz.app_state import InputImage
from cnnviz.core.basics.formulas import fmt_count
from cnnviz.core.units.embedding import (
    DEFAULT_POINTS,
    METHODS,
    NEAREST,
    POINT_CHOICES,
    EmbeddingMap,
    describe,
)

from ..controllers.runner import LatestRequestRunner
from .base import ExperimentView, label

THUMB = 56  # pixels: a test digit under the pointer and the drawing's nearest digits
METHOD_TIPS = {
    "pca": "PCA: the two directions in which the layer's values differ most over the test "
           "digits. Straight from the numbers, made in seconds; classes may overlap.",
    "tsne": "t-SNE: places digits whose values are alike close together, so classes show as "
            "islands. Takes about half a minute for 5,000 digits (with progress; Stop ends it); "
            "distances between islands mean little.",
}


def _make_map(network, dataset, method, layer, points, progress):
    from cnnviz.core.units.embedding import make_map

    from ..controllers.verdict import lower_this_threads_priority

    lower_this_threads_priority()  # the pen and the analysis keep the CPU while it works
    return make_map(network, dataset, method, layer, points, progress=progress)


def _place(m, values):
    """Where the drawing falls, its nearest test digits, its distance to the nearest class
    centre and that class's typical distance (worker thread; milliseconds)."""
    return m.place(values)[0], m.nearest(values)[0], m.distance_to_classes(values)


def pixmap(image: np.ndarray, side: int = THUMB) -> QPixmap:
    a = np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    q = QImage(a.data, a.shape[1], a.shape[0], a.shape[1], QImage.Format.Format_Grayscale8).copy()
    return QPixmap.fromImage(q).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.FastTransformation)


class MapView(ExperimentView):
    TITLE = "Map of what it learned"
    TIP = ("The values of the layer before the output for the test digits, laid out in 2-D: "
           "digits the network sees as alike lie close together. Points are coloured by their "
           "true class, misread ones ringed; your drawing is the star and moves as you draw. "
           "Hover a point to see the digit, click it to make it the input.")
    map_progress = Signal(int, float)

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.map: EmbeddingMap | None = None  # the map shown
        self._wanted = None  # (network, method, layer, points) of the map shown or being made
        self._stop = threading.Event()
        self._held = False  # stopped, or failed: made again only when asked
        self.maps = LatestRequestRunner("teach-map", self)
        self.maps.finished.connect(self._on_map)
        self.maps.failed.connect(self._on_map_failed)
        self.map_progress.connect(self._on_progress)
        self._build()
        self.listen(state.analysis_ready, self.mark_dirty)
        self.listen(state.events.model, self._on_model)

    # ----- widgets -------------------------------------------------------------------

    def _build(self) -> None:
        self.method = QComboBox()
        for key, name in METHODS.items():
            self.method.addItem(name, key)
            self.method.setItemData(self.method.count() - 1, METHOD_TIPS[key],
                                    Qt.ItemDataRole.ToolTipRole)
        self.method.setToolTip("How the layer's many values become two: PCA (at once) or "
                               "t-SNE (islands of alike digits, about half a minute)")
        self.points = QComboBox()
        for n in POINT_CHOICES:
            self.points.addItem(f"{fmt_count(n)} digits", n)
        self.points.setCurrentIndex(POINT_CHOICES.index(DEFAULT_POINTS["tsne"]))
        self.points.setToolTip("How many test digits t-SNE maps: 5,000 take about 35 s on a "
                               "2-core CPU, all 10,000 about 70 s. PCA always maps all of them.")
        self.layer = QComboBox()
        self.layer.setToolTip("Which layer's values are mapped: by default the one the output "
                              "layer reads (what the network's answer is made from)")
        self.make = QPushButton("Make the map")
        self.make.setToolTip("Make the map again with these choices (after Stop, or a problem)")
        self.stop = QPushButton("Stop")
        self.stop.setToolTip("Stop making the map (the window stays usable meanwhile)")
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setMaximumWidth(180)
        self.bar.setToolTip("Making the map: the test digits through the network, then the layout")
        for box in (self.method, self.points, self.layer):
            box.currentIndexChanged.connect(self._on_choice)
        self.points.setEnabled(self.method.currentData() == "tsne")
        self.make.clicked.connect(self.make_again)
        self.stop.clicked.connect(self.stop_map)
        top = QHBoxLayout()
        for text, w in (("Method", self.method), ("Digits", self.points), ("Layer", self.layer)):
            top.addWidget(QLabel(text))
            top.addWidget(w)
        for widget in (self.make, self.stop, self.bar):
            top.addWidget(widget)
        top.addStretch(1)
        self._build_plot()
        side = self._build_side()
        body = QHBoxLayout()
        body.addWidget(self.plot, 1)
        body.addLayout(side)
        self.title = label()
        self.legend = label(rich=True)
        self.where = label("", rich=True, tip="Where your picture lies on the map, measured in the layer's "
                           "values: its distance to the nearest class's centre beside how far "
                           "that class's own test digits typically are from it.")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.title)
        layout.addLayout(body, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.where)
        self._set_busy(False)

    def _build_plot(self) -> None:
        self.plot = pg.PlotWidget(background="w")
        self.plot.setToolTip("Each point is a test digit. Hover to see it, click to make it "
                             "the input; drag to move, wheel to zoom.")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMinimumSize(240, 200)
        self.scatter = pg.ScatterPlotItem(hoverable=True, tip=None, hoverSize=12,
                                          hoverPen=pg.mkPen("k", width=2))
        self.scatter.sigHovered.connect(self._on_hover)
        self.scatter.sigClicked.connect(self._on_click)
        self.drawing = pg.ScatterPlotItem(size=22, symbol="star", brush=pg.mkBrush("k"),
                                          pen=pg.mkPen("w", width=1.5))
        self.drawing.setZValue(10)
        self.plot.addItem(self.scatter)
        self.plot.addItem(self.drawing)
        self.message = pg.TextItem("", color="#444", anchor=(0.5, 0.5))
        self.plot.addItem(self.message)

    def _build_side(self) -> QVBoxLayout:
        self.hover_image = QLabel()
        self.hover_image.setFixedSize(2 * THUMB, 2 * THUMB)
        self.hover_image.setStyleSheet("background: black;")
        self.hover_image.setToolTip("The test digit under the pointer")
        self.hover_text = label("Point at a digit", "Which test digit is under the pointer, "
                                "its true class and the network's answer")
        self.hover_text.setFixedWidth(2 * THUMB + 40)
        self.near_title = label("Nearest test digits to your drawing", "The test digits whose "
                                "values in this layer are closest to your drawing's")
        self.near_title.setFixedWidth(2 * THUMB + 40)
        self.near = []
        grid = QGridLayout()
        for i in range(NEAREST):
            cell = QLabel()
            cell.setFixedSize(THUMB, THUMB)
            cell.setStyleSheet("background: black;")
            grid.addWidget(cell, i // 2, i % 2)
            self.near.append(cell)
        side = QVBoxLayout()
        for w in (self.hover_image, self.hover_text, self.near_title):
            side.addWidget(w)
        side.addLayout(grid)
        side.addStretch(1)
        return side

    # ----- the map -------------------------------------------------------------------

    def _wanted_now(self):
        loaded = self.state.model
        method = self.method.currentData()
        points = DEFAULT_POINTS["pca"] if method == "pca" else self.points.currentData()
        return (loaded, method, self.layer.currentData(), points)

    def _on_model(self, loaded) -> None:
        from cnnviz.core.units.embedding import EmbeddingError, default_layer, flat_layers

        self.layer.blockSignals(True)
        self.layer.clear()
        if loaded is not None:
            names = flat_layers(loaded.model)
            try:
                chosen = default_layer(loaded.model)
            except EmbeddingError:
                chosen = None
            for name in names:
                self.layer.addItem(name + (" (before the output)" if name == chosen else ""), name)
            if chosen in names:
                self.layer.setCurrentIndex(names.index(chosen))
        self.layer.blockSignals(False)
        self._held = False
        self.mark_dirty()

    def _on_choice(self, *_args) -> None:
        self.points.setEnabled(self.method.currentData() == "tsne")
        self._held = False
        self.mark_dirty()

    def make_again(self) -> None:
        self._held = False
        self._wanted = None
        self.mark_dirty()

    def stop_map(self) -> None:
        self._stop.set()
        self.maps.cancel()
        self._held = True
        self._wanted = None
        self._set_busy(False)
        self._show_message("Stopped. Press “Make the map” to start again.")

    def refresh(self) -> None:
        loaded = self.state.model
        if loaded is None:
            self._show_message("No network yet")
            return
        if self.layer.count() == 0 and self.layer.property("filled") != id(loaded):
            self.layer.setProperty("filled", id(loaded))
            self._on_model(loaded)  # fills the layer picker, then runs this again (once)
            return
        wanted = self._wanted_now()
        if wanted != self._wanted and not self._held:
            self._start_map(wanted)
        self._place_drawing()

    def _start_map(self, wanted) -> None:
        from cnnviz.core.units.embedding import Stopped

        loaded, method, layer, points = wanted
        self._stop.set()  # an older map still being made stops at its next step
        self._stop = stop = threading.Event()
        self._wanted = wanted
        self.map = None
        self.delivered = self.runner.cancel()  # a placement on the old map is not wanted
        self.where.setText("")
        for cell in self.near:
            cell.clear()
        generation = self.maps.generation + 1

        def progress(share: float) -> None:
            if stop.is_set():
                raise Stopped
            self.map_progress.emit(generation, share)

        self._set_busy(True)
        words = "t-SNE takes about half a minute" if method == "tsne" else "a few seconds"
        self._show_message(f"Making the map… ({words}; the first time for this network only)")
        self.maps.submit(_make_map, loaded.model, loaded.dataset, method, layer, points, progress)

    def _on_progress(self, generation: int, share: float) -> None:
        if generation == self.maps.generation:
            self.bar.setValue(int(100 * share))

    def _on_map(self, _generation: int, m) -> None:
        if self._shut:
            return
        self._set_busy(False)
        self.map = m
        self._draw_map(m)
        self._place_drawing()

    def _on_map_failed(self, _generation: int, message: str) -> None:
        from .base import plain

        if self._shut:
            return
        self._set_busy(False)
        self._held = True
        self._wanted = None
        self._show_message(plain(message))
        self.status_message.emit(f"{self.TITLE}: {plain(message)}")

    def _set_busy(self, busy: bool) -> None:
        self.bar.setVisible(busy)
        self.bar.setValue(0)
        self.stop.setVisible(busy)
        self.make.setEnabled(not busy)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setPos(0, 0)
        self.message.setVisible(bool(text))
        if text:
            self.scatter.clear()
            self.drawing.clear()
            self.plot.setRange(xRange=(-1, 1), yRange=(-1, 1))
            self.title.setText("")
            self.legend.setText("")

    def _draw_map(self, m) -> None:
        from cnnviz.core.units.embedding import class_colours

        self.message.setVisible(False)
        colours = class_colours(len(m.class_names))
        brushes = [pg.mkBrush(*c, 200) for c in colours]
        ring, none = pg.mkPen("k", width=1.5), pg.mkPen(None)
        misread = m.misread
        self.scatter.setData(x=m.coords[:, 0], y=m.coords[:, 1], data=np.arange(len(m.coords)),
                             brush=[brushes[int(c)] for c in m.labels],
                             pen=[ring if w else none for w in misread],
                             size=np.where(misread, 8, 5))
        self.plot.autoRange()
        self.title.setText(f"{describe(m)}; {fmt_count(int(misread.sum()))} misread (ringed).")
        keys = " &nbsp; ".join(f"<span style='color:#{r:02x}{g:02x}{b:02x}'>■</span> "
                               f"{html.escape(name)}"
                               for (r, g, b), name in zip(colours, m.class_names))
        self.legend.setText(f"{keys} &nbsp; ◯ misread &nbsp; ★ your drawing")

    # ----- the drawing ---------------------------------------------------------------

    def _place_drawing(self) -> None:
        m, analysis = self.map, self.state.analysis
        if m is None or analysis is None:
            return
        if analysis.digit.empty:
            self.drawing.clear()
            self.where.setText("Draw something: it appears on the map as a star.")
            return
        try:
            values = analysis.layer(m.layer)
        except KeyError:  # the analysis of another network, still on its way
            return
        self.submit(_place, m, np.asarray(values).reshape(-1))

    def show_result(self, result) -> None:
        xy, nearest, (c, distance, typical) = result
        m = self.map
        if m is None or m.images is None:  # (a map is made with its thumbnails)
            return
        self.drawing.setData(pos=[xy])
        for cell, i in zip(self.near, nearest):
            cell.setPixmap(pixmap(m.images[i]))
            cell.setToolTip(self._digit_words(int(i)))
        name = html.escape(m.class_names[c])
        analysis = self.state.analysis
        if analysis is not None and analysis.unsure:
            from cnnviz.core.reading.verdict import not_like

            self.where.setText(
                f"<b>Your picture {not_like(m.dataset)}</b>: it lies {distance:.1f} from the "
                f"centre of the {name}s, its nearest class, whose own test digits lie a typical "
                f"{typical:.1f} from it ({distance / max(typical, 1e-9):.1f}× as far).")
        else:
            self.where.setText(f"Your drawing lies {distance:.1f} from the centre of the {name}s "
                               f"(their own test digits: typically {typical:.1f}).")

    def _digit_words(self, i: int) -> str:
        m = self.map
        assert m is not None  # (said only of a digit on the map shown)
        truth, answer = m.class_names[int(m.labels[i])], m.class_names[int(m.answers[i])]
        read = f"read as {answer}" + ("" if truth == answer else " (misread)")
        return f"Test digit #{int(m.indices[i])}: a {truth}, {read}"

    def _on_hover(self, _item, points, _ev) -> None:
        if self.map is None or self.map.images is None or len(points) == 0:
            return
        i = int(points[0].data())
        self.hover_image.setPixmap(pixmap(self.map.images[i], 2 * THUMB))
        self.hover_text.setText(self._digit_words(i))

    def _on_click(self, _item, points, _ev=None) -> None:
        if self.map is not None and len(points):
            self.use_digit(int(points[0].data()))

    def use_digit(self, i: int) -> None:
        """Make the map's i-th test digit the app's input."""
        from cnnviz.core.datasets.data import DATASET_NAMES

        m = self.map
        if m is None or m.images is None:
            return
        name = m.class_names[int(m.labels[i])]
        source = (f"{DATASET_NAMES.get(m.dataset, m.dataset)} test image "
                  f"#{int(m.indices[i])} (a {name})")
        self.state.input_image = InputImage(m.images[i].astype(np.float32), source)
        self.status_message.emit(f"Test digit #{int(m.indices[i])} is the input now")

    def is_idle(self) -> bool:
        return super().is_idle() and self.maps.is_idle()

    def is_settled(self) -> bool:
        return super().is_settled() and self.maps.is_idle()

    def shutdown(self) -> None:
        self._stop.set()
        self.maps.shutdown(timeout=0.5)
        super().shutdown()

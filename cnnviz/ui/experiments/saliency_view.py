"""What the network looked at: Grad-CAM, gradient saliency, integrated gradients and
occlusion, on the network's input and on the user's own picture."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout

from cnnviz.core.basics.formulas import fmt_number, percent
from cnnviz.core.pictures.images import to_grey
from cnnviz.core.units.saliency import LIVE_METHODS, METHODS, conv_layers, eval_copy, explain, to_picture

from .base import ExperimentView, TitledGrid, label
from .grid_view import overlay_rgb, signed_ramp

PICTURE_SIDE = 320  # the picture is shown (and the map laid on it) at most this big
WORDS = {
    "gradcam": "Grad-CAM: the chosen layer's maps, each weighted by how much the class's score "
               "rises with it (its mean gradient), added up and kept where positive. Coarse (the "
               "layer's resolution), but it says which part of the digit the class is made of.",
    "saliency": "Gradient saliency: how much the class's score changes when one input pixel "
                "changes a little (the size of the gradient). Sharp but noisy.",
    "integrated": "Integrated gradients: the gradients averaged along a path from a black "
                  "picture to yours, times the pixels; they add up to how much the score changed "
                  "from black to your picture.",
    "occlusion": "Occlusion: a 4×4 black square slid over the input (stride 2); where covering "
                 "the picture lowers the class's score most is where the network looked.",
}


def _work(cache: dict, network, x, method, target, layer, picture, digit, progress):
    key = id(network)
    if cache.get("key") != key:
        cache.clear()
        cache.update(key=key, net=eval_copy(network))
    e = explain(cache["net"], x, method, target, layer, progress)
    on_picture = base = None
    if picture is not None:
        on_picture = to_picture(e.map, digit, picture.shape[:2], max_side=PICTURE_SIDE)
        grey = to_grey(picture) / 255.0
        f = max(1, int(np.ceil(max(grey.shape) / PICTURE_SIDE)))
        base = grey[::f, ::f] if on_picture is None else _resize(grey, on_picture.shape)
    return e, on_picture, base


def _resize(a: np.ndarray, shape) -> np.ndarray:
    from PIL import Image

    if a.shape == tuple(shape):
        return a
    return np.asarray(Image.fromarray(np.ascontiguousarray(a, np.float32), "F").resize(
        (shape[1], shape[0]), Image.Resampling.BILINEAR), dtype=np.float64)


class SaliencyView(ExperimentView):
    TITLE = "What it looked at"
    TIP = ("Which pixels made the network answer as it did: Grad-CAM, gradient saliency, "
           "integrated gradients and occlusion (with captum), for the answer or any class you "
           "pick, on the network's input and on your own picture.")
    progress = Signal(float)

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self._cache: dict = {}
        self._build()
        self.progress.connect(self._on_progress)
        self.listen(state.analysis_ready, self.mark_dirty)
        self.listen(state.events.model, self._on_model)

    def _build(self) -> None:
        self.method = QComboBox()
        for key, name in METHODS.items():
            self.method.addItem(name + (" (live)" if key in LIVE_METHODS else ""), key)
        self.method.setToolTip("How to find what the network looked at. Grad-CAM and gradient "
                               "saliency follow the pen; integrated gradients and occlusion take "
                               "about a second and show their progress.")
        self.target = QComboBox()
        self.target.setToolTip("Explain the network's answer, or any class you pick (what in the "
                               "picture speaks for a 7?)")
        self.layer = QComboBox()
        self.layer.setToolTip("Grad-CAM's layer: a deeper layer is coarser but closer to the "
                              "answer; conv1 is sharp but sees only strokes")
        for box in (self.method, self.target, self.layer):
            box.currentIndexChanged.connect(self.mark_dirty)
        self.method.currentIndexChanged.connect(self._on_method)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setMaximumWidth(160)
        self.bar.setToolTip("Integrated gradients and occlusion run many forward passes")
        self.bar.hide()
        top = QHBoxLayout()
        for text, w in (("Method", self.method), ("Class", self.target), ("Layer", self.layer)):
            top.addWidget(QLabel(text))
            top.addWidget(w)
        top.addWidget(self.bar)
        top.addStretch(1)
        self.input_grid = TitledGrid("On the network's input", "The network's input (28×28 "
                                     "for an MNIST model) with the map over it: bright yellow = "
                                     "looked at most.")
        self.picture_grid = TitledGrid("On your picture", "The same map laid back on your "
                                       "picture through the preprocessing's crop and scale.")
        self.raw_grid = TitledGrid("The attribution itself (signed)", "captum's numbers: red "
                                   "raises the class's score, blue lowers it.")
        self.words = label()
        self.timing = label()
        self.timing.setStyleSheet("color: #555;")
        grids = QGridLayout()
        grids.addWidget(self.input_grid, 0, 0)
        grids.addWidget(self.picture_grid, 0, 1)
        grids.addWidget(self.raw_grid, 0, 2)
        for i in range(3):
            grids.setColumnStretch(i, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grids, 1)
        layout.addWidget(self.words)
        layout.addWidget(self.timing)
        self._on_method()

    def _on_method(self, *_args) -> None:
        key = self.method.currentData()
        self.layer.setEnabled(key == "gradcam")
        self.words.setText(WORDS[key])

    def _on_model(self, loaded) -> None:
        for box in (self.target, self.layer):
            box.blockSignals(True)
            box.clear()
        if loaded is not None:
            self.target.addItem("the answer", -1)
            for i, name in enumerate(loaded.classes):
                self.target.addItem(f"class {name}", i)
            names = conv_layers(loaded.model)
            for name in names:
                self.layer.addItem(name, name)
            # the last conv block's output: Grad-CAM's usual choice
            self.layer.setCurrentIndex(max(0, len(names) - 1))
        for box in (self.target, self.layer):
            box.blockSignals(False)
        self.mark_dirty()

    def refresh(self) -> None:
        loaded, analysis = self.state.model, self.state.analysis
        if loaded is None or analysis is None:
            self.input_grid.grid.set_message("No model or input yet")
            return
        if self.target.count() == 0:
            self._on_model(loaded)  # fills the pickers, then runs this again (once)
            return
        if analysis.digit.empty:
            self.input_grid.grid.set_message("Draw something first")
            return
        target = self.target.currentData()
        target = analysis.prediction if target is None or target < 0 else int(target)
        method = self.method.currentData()
        slow = method not in LIVE_METHODS
        self.bar.setVisible(slow)
        self.bar.setValue(0)
        picture = self.state.image
        progress = self.progress.emit if slow else None
        if self.input_grid.grid.values is None:
            self.input_grid.grid.set_message("Working… (the first map loads captum: a few "
                                             "seconds, once)")
        self.submit(_work, self._cache, loaded.model, analysis.layers[0][1], method, target,
                    self.layer.currentData(), picture, analysis.digit, progress)

    def _on_progress(self, fraction: float) -> None:
        self.bar.setValue(int(100 * fraction))

    def show_result(self, result) -> None:
        e, on_picture, base = result
        self.bar.hide()
        analysis = self.state.analysis
        x = analysis.digit.image
        grey = x.mean(axis=-1) if x.ndim == 3 else x  # a colour input: the map over its grey
        self.input_grid.grid.set_array(e.map, rgb=overlay_rgb(grey, e.map), numbers=False)
        heat = overlay_rgb(np.zeros((1, 64)), np.linspace(0.0, 1.0, 64)[None])[0]
        for grid in (self.input_grid, self.picture_grid):
            grid.key.set_ramp(heat, [(0.0, "low"), (1.0, "high: counts most for that class")])
        name = self.state.model.classes[e.target] if self.state.model else str(e.target)
        p = analysis.probabilities[e.target]
        what = f"class {name} ({percent(p)})" + (", the answer" if e.target == analysis.prediction
                                                 else "")
        self.input_grid.set_title(f"{METHODS[e.method]}{' on ' + e.layer if e.layer else ''} "
                                  f"for {what}")
        if base is None:
            self.picture_grid.grid.set_message("No picture")
        elif on_picture is None:
            self.picture_grid.grid.set_message("The map cannot be laid back on this picture "
                                               "(no ink was found)")
        else:
            self.picture_grid.grid.set_array(on_picture, rgb=overlay_rgb(base, on_picture),
                                             numbers=False)
        self.raw_grid.grid.set_array(e.raw, signed=True, numbers=False)
        bound = float(np.nanmax(np.abs(e.raw))) if np.isfinite(e.raw).any() else 0.0
        self.raw_grid.key.set_ramp(signed_ramp(), [
            (0.0, fmt_number(-bound)), (0.5, "0"), (1.0, fmt_number(bound))])
        self.timing.setText(f"{METHODS[e.method]} took {1000 * e.seconds:.0f} ms on the CPU "
                            "(worker thread; the window never waits).")
        self.status_message.emit(f"{METHODS[e.method]}: {1000 * e.seconds:.0f} ms")

    def show_failure(self, message: str) -> None:
        self.bar.hide()
        for grid in (self.picture_grid, self.raw_grid):
            grid.grid.set_message("")
        self.input_grid.grid.set_message(f"Could not compute the map: {message}")
        self.timing.setText("")

    def export_array(self):
        a = self.raw_grid.grid.values
        return None if a is None else ("saliency", a)

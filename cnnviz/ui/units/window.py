"""“What does this unit look for?”: a window of its own (not modal) for one unit of the
CNN explorer's network (a conv channel, a dense unit, a class): the real test pictures it
answers most (or least) to, each cropped to the field it looked at, beside pictures made
up to excite it (several random starts, or the user's drawing, shown live as they
sharpen), and how the made-up ones score against the best real one. For the first conv
layer the learned kernel stands beside its optimised input. A click on a real example
makes it the app's input. The work runs on the controller's workers."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnviz.app_state import InputImage
from cnnviz.core.basics.formulas import fmt_count, fmt_number
from cnnviz.core.datasets.data import DATASET_NAMES
from cnnviz.core.datasets.gallery import CLASS_NAMES, sample_source
from cnnviz.ui.controllers.units import UnitsController
from cnnviz.ui.widgets.tooltips import wrap_long_tooltips

from .panels import SHOWN, STARTS, ExamplesPanel, OptimisedPanel

if TYPE_CHECKING:
    from cnnviz.core.networks.weights import LoadedModel
    from cnnviz.core.units.unit_optimise import Optimised
    from cnnviz.ui.controllers.units import ExamplesResult

CHOOSE = "Choose…"


class UnitWindow(QWidget):
    """show_unit(loaded, layer, unit) shows one unit; shutdown() stops the work."""

    def __init__(self, state, data_dir=None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("What does this unit look for?")
        self.state = state
        self.controller = UnitsController(data_dir, self)
        self.loaded: LoadedModel | None = None
        self.layer: str | None = None  # as asked (a softmax); the scored layer: self.scored
        self.scored: str | None = None
        self.unit = 0
        self.result: ExamplesResult | None = None  # the examples shown
        self.optimised: Optimised | None = None  # the last optimised pictures
        self.lowest = False
        self._seed = 0
        self._chosen: dict[int, str] = {}  # id(model) -> the dataset the user picked
        self._lay_out()
        self._connect()
        wrap_long_tooltips(self)
        self.resize(960, 640)

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        self.header = QLabel()
        self.header.setWordWrap(True)
        layout.addWidget(self.header)
        row = QHBoxLayout()
        row.addWidget(QLabel("Real examples from:"))
        self.dataset = QComboBox()
        self.dataset.setToolTip("The test pictures the unit is scored on: those of the dataset "
                                "the network was made for (its card says which, when it does).")
        for key, name in DATASET_NAMES.items():
            self.dataset.addItem(name, key)
        row.addWidget(self.dataset)
        row.addStretch(1)
        layout.addLayout(row)
        halves = QHBoxLayout()
        self.examples = ExamplesPanel()
        self.made = OptimisedPanel()
        halves.addWidget(self.examples, 1)
        halves.addWidget(self.made, 1)
        layout.addLayout(halves, 1)

    def _connect(self) -> None:
        c = self.controller
        c.examples_progress.connect(lambda share: self.examples.show_busy(share, "Scoring"))
        c.examples_ready.connect(self._on_examples)
        c.examples_failed.connect(self._on_examples_failed)
        c.examples_stopped.connect(lambda: self._on_examples_failed(
            "Stopped. Choose the dataset again, or reopen the window, to score the test "
            "pictures."))
        c.optimise_step.connect(self._on_step)
        c.optimise_ready.connect(self._on_optimised)
        c.optimise_failed.connect(self._on_optimise_failed)
        self.examples.picked.connect(self._on_picked)
        self.examples.lowest_toggled.connect(self._on_lowest)
        self.examples.stop_clicked.connect(c.stop_examples)
        self.made.again_clicked.connect(lambda: self._optimise(from_drawing=False))
        self.made.from_drawing_clicked.connect(lambda: self._optimise(from_drawing=True))
        self.made.stop_clicked.connect(c.stop_optimising)
        self.dataset.activated.connect(self._on_dataset_chosen)
        self.state.events.model.connect(self._on_model_changed)
        self.state.analysis_ready.connect(self._on_analysis)

    # ----- which unit -----------------------------------------------------------------

    def show_unit(self, loaded, layer: str, unit: int) -> None:
        """Show unit `unit` of `layer` of the LoadedModel (a softmax's: the class's)."""
        from cnnviz.core.units.unit_examples import UnitProblem, check_unit, scored_layer, unit_count

        self.loaded, self.layer, self.unit = loaded, layer, unit
        self.result = self.optimised = None
        self.show()
        self.raise_()
        self.activateWindow()
        try:
            self.scored = scored_layer(loaded.model, layer)
            check_unit(self.scored, unit, unit_count(loaded.model, layer))
        except UnitProblem as exc:
            self.scored = None
            self.header.setText(html.escape(f"Nothing to show: {exc}.", quote=False))
            self.examples.show_message("")
            self.made.show_pictures([], [], None, True)
            return
        self.header.setText(self._header_text())
        self.made.note.setText(self._made_words())
        self._on_analysis(self.state.analysis)
        self._request_examples()
        self._optimise(from_drawing=False)

    def _shown(self) -> tuple[LoadedModel, str]:
        """The model and the scored layer of the unit shown (what follows runs only then)."""
        assert self.loaded is not None and self.scored is not None, "no unit is shown"
        return self.loaded, self.scored

    def _what(self) -> str:
        """'map 12 of conv3', 'unit 5 of dense1' or 'class 7' in plain words."""
        loaded, scored = self._shown()
        classes = loaded.classes
        info = next(i for i in loaded.model.layer_infos if i.name == scored)
        if scored == self._class_layer() and len(classes) == info.output_shape[0]:
            return f"class {classes[self.unit]}"
        kind = "map" if len(info.output_shape) == 3 else "unit"
        return f"{kind} {self.unit} of {self.layer}"

    def _class_layer(self) -> str:
        from cnnviz.core.units.unit_examples import scored_layer

        model = self._shown()[0].model
        return scored_layer(model, model.layer_infos[-1].name)

    def _has_maps(self) -> bool:
        loaded, scored = self._shown()
        info = next(i for i in loaded.model.layer_infos if i.name == scored)
        return len(info.output_shape) == 3

    def _header_text(self) -> str:
        what = html.escape(self._what())
        name = html.escape(self._shown()[0].name)
        score = ("its largest value anywhere on the map" if self._has_maps() else
                 "its score before softmax" if self.scored == self._class_layer() else
                 "its value")
        return (f"<b>What does {what} look for?</b> ({name}) On the left, the real test "
                f"pictures it answers most to; a picture's score is {score}. On the right, "
                "pictures made up to excite it as much as possible. The real ones are the "
                "evidence; the made-up ones show what it has learned to want.")

    def _made_words(self) -> str:
        where = ("its map's centre unit (the orange square: what that unit sees, enlarged "
                 "on the left)" if self._has_maps() else "it")
        size = self._shown()[0].model.input_spec.size_text
        return (f"Gradient ascent on the {size} input for "
                f"{where}, from {STARTS} faint random starts, kept smooth (jitter, blur) and "
                "in the input's range.")

    # ----- real examples --------------------------------------------------------------

    def _request_examples(self) -> None:
        from cnnviz.core.units.unit_examples import UnitProblem, dataset_for

        loaded = self._shown()[0]
        chosen = self._chosen.get(id(loaded.model))
        try:
            dataset = dataset_for(loaded, chosen)
        except UnitProblem as exc:
            self._set_dataset(None)
            self.examples.show_message(html.escape(f"{str(exc)[:1].upper()}{str(exc)[1:]}.", quote=False))
            return
        self._set_dataset(dataset)
        known = self.controller.known_examples(loaded, dataset)
        if known is not None:
            self._on_examples(known)
            return
        self.examples.show_message("")
        self.examples.show_busy(0.0, "Scoring")
        self.controller.request_examples(loaded, dataset)

    def _set_dataset(self, dataset: str | None) -> None:
        if self.dataset.findData(None) < 0 and dataset is None:
            self.dataset.insertItem(0, CHOOSE, None)
        i = self.dataset.findData(dataset)
        self.dataset.setCurrentIndex(max(0, i))

    def _on_dataset_chosen(self, index: int) -> None:
        dataset = self.dataset.itemData(index)
        if dataset is None or self.loaded is None:
            return
        self._chosen[id(self.loaded.model)] = dataset
        self._request_examples()

    def _on_examples(self, result) -> None:
        if self.loaded is None or self.scored is None:
            return
        self.result = result
        self._draw_examples()
        self._draw_compare()

    def _on_examples_failed(self, message: str) -> None:
        self.examples.show_busy(None)
        self.examples.show_message(html.escape(message, quote=False))

    def _on_lowest(self, lowest: bool) -> None:
        self.lowest = lowest
        if self.result is not None:
            self._draw_examples()

    def _draw_examples(self) -> None:
        from cnnviz.core.units.unit_examples import crop_box

        result = self.result
        if result is None:
            return
        loaded, scored = self._shown()
        found = result.found
        title = DATASET_NAMES[found.dataset]
        names = CLASS_NAMES.get(found.dataset)
        cells = []
        for e in found.examples(scored, self.unit, SHOWN, self.lowest):
            label = int(result.labels[e.index])
            where = f", at row {e.position[0]}, column {e.position[1]}" if e.position else ""
            tip = (f"{sample_source(e.index, label, title, names)}. Score {fmt_number(e.score)}"
                   f"{where}. Click to make it the input.")
            cells.append((e.index, result.images[e.index],
                          crop_box(loaded.model, scored, e.position),
                          e.position is None, fmt_number(e.score), tip))
        which = "least" if self.lowest else "most"
        crop = (" Each is cut to the field of the position that won, enlarged beside the whole "
                "picture where it is outlined." if self._has_maps() else "")
        self.examples.show_examples(
            f"The {SHOWN} of {fmt_count(found.count)} {title} test pictures {self._what()} "
            f"answers {which} to.{crop} Click one to make it the input.", cells)

    def _on_picked(self, index: int) -> None:
        if self.result is None or index < 0:
            return
        found = self.result.found
        source = sample_source(index, int(self.result.labels[index]),
                               DATASET_NAMES[found.dataset], CLASS_NAMES.get(found.dataset))
        self.state.input_image = InputImage(self.result.images[index].astype(np.float32), source)

    # ----- optimised inputs -----------------------------------------------------------

    def _drawing(self):
        """The input drawn or loaded, as the network sees it (0..1), or None."""
        analysis = self.state.analysis
        if analysis is None or analysis.digit.empty or self.loaded is None:
            return None
        image = np.asarray(analysis.digit.image)
        spec = self.loaded.model.input_spec
        return image if image.shape[:2] == (spec.height, spec.width) else None

    def _on_analysis(self, _analysis=None) -> None:
        ok = self._drawing() is not None
        self.made.allow_drawing(ok, "Start the first picture from your input and watch how it "
                                "is changed to excite this unit more." if ok else
                                "Draw or load an input first: it can then be the first start.")

    def _optimise(self, from_drawing: bool) -> None:
        if self.loaded is None or self.scored is None or self.layer is None:
            return
        self._seed += 1
        self.optimised = None
        self.made.compare.setText("")
        self.made.show_running(True, 0, self.controller.regularisers.steps)
        self.controller.request_optimise(self.loaded, self.layer, self.unit, STARTS,
                                         self._drawing() if from_drawing else None,
                                         seed=self._seed)

    def _box(self):
        from cnnviz.core.units.unit_examples import crop_box
        from cnnviz.core.units.unit_optimise import optimised_position

        loaded, scored = self._shown()
        position = optimised_position(loaded.model, scored)
        return crop_box(loaded.model, scored, position), position is None

    def _on_step(self, step: int, steps: int, pictures, scores) -> None:
        if self.loaded is None or self.scored is None:
            return
        box, whole = self._box()
        self.made.show_pictures(pictures, [fmt_number(s) for s in scores], box, whole)
        self.made.show_running(True, step, steps)

    def _on_optimised(self, result) -> None:
        if self.loaded is None or self.scored is None:
            return
        self.optimised = result
        box, whole = self._box()
        self.made.show_pictures(result.pictures, [fmt_number(s) for s in result.scores], box,
                                whole)
        self.made.show_running(False)
        self.made.show_kernel(self._first_kernel(), result.pictures[0][box[0]:box[2],
                                                                       box[1]:box[3]])
        self._draw_compare()

    def _on_optimise_failed(self, message: str) -> None:
        self.made.show_running(False)
        self.made.compare.setText(html.escape(message, quote=False))

    def _first_kernel(self):
        """The learned kernel behind the map (in_channels averaged) when the unit is a map
        of the first conv layer's block; else None."""
        from cnnviz.core.networks.layer_cards import block_of, conv_filter, first_conv

        loaded, scored = self._shown()
        infos = list(loaded.model.layer_infos)
        block = block_of(infos, scored)
        if not block or block[0] != first_conv(infos) or infos[0].kind != "conv":
            return None
        return conv_filter(loaded.model, block[0], self.unit).weight.mean(axis=0)

    def _draw_compare(self) -> None:
        if self.optimised is None:
            return
        best = float(np.max(self.optimised.scores))
        words = f"The best optimised input scores <b>{fmt_number(best)}</b>"
        if self.optimised.stopped:
            words += f" (stopped after {self.optimised.steps} steps)"
        if self.result is not None and self.scored is not None:
            real = self.result.found.examples(self.scored, self.unit, 1)[0].score
            words += f"; the best real test picture <b>{fmt_number(real)}</b>"
            if real > 0 and best > 0:
                words += f" ({best / real:.1f} times as much)"
        self.made.compare.setText(words + ".")

    # ----- the window's model, closing ------------------------------------------------

    def _on_model_changed(self, loaded) -> None:
        if self.isVisible() and self.layer is not None and loaded is not None:
            self.show_unit(loaded, self.layer, self.unit)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.controller.stop_examples()
        self.controller.stop_optimising()
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.state.events.model.disconnect(self._on_model_changed)
        self.state.analysis_ready.disconnect(self._on_analysis)
        self.controller.shutdown()
        self.close()

"""The Model menu's work on the window's model: what a model made elsewhere is fed (its
input values), what its outputs are called (a labels file), the options given with a model
file at start, and its unsure verdict calibrated in the background (VerdictCalibrator).

ModelOptions owns these requests and its thread; the window composes it, its actions call
it, and every change of model reaches it through the state's model_changed."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog

from ..controllers.verdict import VerdictCalibrator
from ..widgets.file_text import shown

VERDICT_WORK = "Working out when this model should say “unsure”"


class ModelOptions(QObject):
    def __init__(self, window, data_dir=None) -> None:
        super().__init__(window)
        self.window = window
        self.state = window.state
        self.calibrator = VerdictCalibrator(data_dir, self)
        self.calibrator.progress.connect(self._on_verdict_progress)
        self.calibrator.ready.connect(self._on_verdict_ready)
        self.calibrator.failed.connect(self._on_verdict_failed)
        self.given: tuple | None = None  # (model file, input scale, labels file) to apply

    def _status(self, text: str, ms: int) -> None:
        self.window.statusBar().showMessage(text, ms)

    # ----- the model shown ---------------------------------------------------------------------

    def replace_model(self, loaded) -> None:
        """The current model's entry in the picker becomes this one, and it is shown."""
        from cnnviz.core.networks import catalogue

        self.state.catalogue = catalogue.with_entry(self.state.catalogue,
                                                    catalogue.model_entry(loaded))
        self.state.model = loaded

    def model_changed(self, loaded) -> None:
        """A new model is shown: apply the options given with its file, sync the menu, and
        calibrate its verdict when it needs it."""
        self._apply_given(loaded)
        self._sync_menu(loaded)
        if self.calibrator.consider(loaded):
            self._on_verdict_progress(0.0)

    def shutdown(self) -> None:
        self.calibrator.shutdown()

    # ----- input values and class names ------------------------------------------------------

    def set_input_scale(self, scale: str) -> None:
        """Feed the current model another input convention (a model made elsewhere that
        does not say what it takes); cnnviz's own and self-describing models keep theirs."""
        from cnnviz.core.networks.input_scale import WORDS, fixed_by_file, with_input_scale

        loaded = self.state.model
        if loaded is None or scale == loaded.card.get("input_scale"):
            return
        if fixed_by_file(loaded):
            self._sync_menu(loaded)
            self.window.warn("Input values", "This model says what it takes (it is one of "
                             "cnnviz's own, or its file has a Rescaling or Normalization "
                             "layer), so there is nothing to choose.")
            return
        self.replace_model(with_input_scale(loaded, scale, "chosen in the app"))
        self._status(f"The model is now fed {WORDS[scale]}.", 6000)

    def name_classes_dialog(self) -> None:
        from cnnviz.core.networks.class_names import LabelsError, read_labels, with_class_names

        loaded = self.state.model
        if loaded is None:
            return
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Name the classes from a file", self.window._start_dir(),
            "Text files (*.txt *.labels *.names *.csv);;All files (*)")
        if not path:
            return
        self.window.last_dir = str(Path(path).parent)
        try:
            names = read_labels(path, len(loaded.classes))
        except LabelsError as exc:
            self.window.warn("Cannot name the classes", str(exc))
            return
        self.replace_model(with_class_names(loaded, names, Path(path).name))
        self._status(f"Classes named from {shown(Path(path).name)}: {shown(', '.join(names))}",
                     8000)

    def give_with_file(self, path, input_scale: str | None, labels: str | None) -> None:
        """Options given with a model file at start (cnnviz gui MODEL --input-scale 0-255
        --labels labels.txt): applied once that file has opened."""
        if input_scale or labels:
            self.given = (Path(path).resolve(), input_scale, labels)

    def _apply_given(self, loaded) -> None:
        from cnnviz.core.networks.class_names import LabelsError, read_labels, with_class_names
        from cnnviz.core.networks.input_scale import fixed_by_file, with_input_scale

        if self.given is None or loaded.path is None \
                or Path(loaded.path).resolve() != self.given[0]:
            return
        _, scale, labels = self.given
        self.given = None
        changed = loaded
        if scale and scale != loaded.card.get("input_scale"):
            if fixed_by_file(loaded):
                self.window.warn("Input values", "This model says what it takes, so "
                                 "--input-scale is left aside.")
            else:
                changed = with_input_scale(changed, scale, "chosen with --input-scale")
        if labels:
            try:
                changed = with_class_names(changed, read_labels(labels, len(changed.classes)),
                                           Path(labels).name)
            except LabelsError as exc:
                self.window.warn("Cannot name the classes", str(exc))
        if changed is not loaded:
            # after every view has had this model: a model set inside the signal's delivery
            # would reach some views before the one being delivered
            QTimer.singleShot(0, lambda: self.replace_model(changed))

    def _sync_menu(self, loaded) -> None:
        from cnnviz.core.networks.input_scale import fixed_by_file

        chosen = loaded.card.get("input_scale", "0-1")
        for scale, action in self.window.input_scale_actions.items():
            action.setChecked(scale == chosen)
        self.window.input_scale_menu.setEnabled(not fixed_by_file(loaded))
        self.window.input_scale_menu.setToolTip(
            str(loaded.card.get("input_scale_source", "cnnviz's own model: it takes 0..1")))

    # ----- the unsure verdict ----------------------------------------------------------------

    def _on_verdict_progress(self, share: float) -> None:
        self._status(f"{VERDICT_WORK} (on MNIST test digits): {share:.0%}…", 30000)

    def _on_verdict_ready(self, loaded, verdict: dict) -> None:
        """The model's own threshold: its card holds it from now on, and the current
        picture is read again with it (only if it is still the model shown)."""
        for card in {id(loaded.card): loaded.card, id(loaded.model.card): loaded.model.card}.values():
            card["verdict"] = verdict
        if self.state.model is loaded:
            self.state.model = loaded
        self._status(f"The unsure verdict is calibrated for this model "
                     f"({verdict.get('source', '')}).", 8000)

    def _on_verdict_failed(self, message: str) -> None:
        self._status(f"The unsure verdict stays the default rule: {message}", 8000)

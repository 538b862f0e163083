"""How the lab's own-data settings reach the rest of the lab: the set's classes (read by the
lab's file controller on a worker) resize the editor's last layer and name the confusion
matrix's rows and the probability bars; a network chosen to fine-tune is shown in the
editor with its last layer fitted to the classes; the augmentation preview is asked for
when the Settings tab is shown and again on request. The lab's start() asks run_options()
for what to pass the controller."""

from __future__ import annotations

import html

from cnnviz.core.datasets.data import get_dataset_info

from .settings_panel import MNIST_AND_SET, OWN_SET


class OwnDataFlow:
    """Connects the lab's settings, editor and live views for training on the user's own
    set and fine-tuning (the lab keeps one)."""

    def __init__(self, lab):
        self.lab = lab
        self.settings, self.editor, self.controller = lab.settings, lab.editor, lab.controller
        self.known: tuple[str, list[str]] | None = None  # (dataset text, its classes)
        self.start_waiting = False  # Start was pressed while the set's classes were read
        self.preview_seed = 0
        self.previewed = False
        c, self.files = self.controller, lab.files
        self.files.set_classes.connect(self._on_set_classes)
        self.files.set_failed.connect(self._on_set_failed)
        c.run.events.classes.connect(self._on_run_classes)
        self.files.preview_ready.connect(self.settings.preview.show_pictures)
        self.files.preview_failed.connect(lambda text: self.settings.preview.show_text(
            f"no pictures to show ({text.split(': ', 1)[-1]})"))
        self.settings.dataset_changed.connect(self._on_dataset)
        self.settings.start_from.changed.connect(self._on_start_from)
        self.settings.preview.again.connect(self.preview_again)
        lab.state.events.catalogue.connect(self.settings.start_from.set_models)
        self.settings.start_from.set_models(lab.state.catalogue)
        lab.left_tabs.currentChanged.connect(self._on_tab)

    # ----- the classes -------------------------------------------------------------------

    def classes(self) -> list[str]:
        """The classes of the data chosen now (a set's once read)."""
        text = self.settings.dataset_text()
        if self.settings.user_set() is None:
            return list(get_dataset_info(self.settings.dataset()).classes)
        return list(self.known[1]) if self.known and self.known[0] == text else []

    def _on_dataset(self, text: str) -> None:
        self.known = None
        if self.settings.user_set():
            self.files.read_set_classes(text)
        elif self.settings.user_set() is None:
            self.editor.set_classes([])  # ten outputs again
            self._name_views(self.classes())
        if self.previewed:
            self.preview_again(same=True)

    def _on_set_classes(self, text: str, names) -> None:
        if text != self.settings.dataset_text():
            return  # another choice since
        self.known = (text, list(names))
        self.editor.set_classes(list(names))
        self._name_views(list(names))
        if self.start_waiting:
            self.start_waiting = False
            self.lab.start()

    def _on_set_failed(self, _text: str, message: str) -> None:
        self.start_waiting = False
        self.lab._say(f"Your set cannot be trained on: {message}", error=True)

    def _name_views(self, names: list[str]) -> None:
        """Before a run: the matrix and the bars with the classes chosen (not mid-run)."""
        if not self.controller.running and names != self.lab.confusion.classes:
            self.lab.confusion.set_classes(names)
            self.lab.probe_view.set_classes(names)

    def _on_run_classes(self, names: list[str]) -> None:
        """The run's own classes (MNIST + a set merges them) name the live views."""
        if names and names != self.lab.confusion.classes:
            self.lab.confusion.set_classes(names)
        if names and names != self.lab.probe_view.classes:
            self.lab.probe_view.set_classes(names)

    # ----- fine-tuning -------------------------------------------------------------------

    def _on_start_from(self) -> None:
        loaded = self.settings.start_from.model()
        if loaded is None:
            return
        self.editor.set_architecture(loaded.model.arch, f"Fine-tune {loaded.name}")
        self.editor.set_classes(self.editor.class_names,
                                note=f"Fine-tuning {loaded.name}: its layers start with "
                                     "their trained weights.")

    # ----- Start -------------------------------------------------------------------------

    def run_options(self) -> dict | None:
        """The controller's start() options for the data and the start chosen; None when
        it cannot start now (said in the lab; Start is pressed again by itself once the
        set's classes are read)."""
        user_set = self.settings.user_set()
        if user_set == "":
            self.lab._say("Choose your set's folder first (Settings, Your set, Choose…).",
                          error=True)
            return None
        classes = self.classes()
        if not classes:
            self.start_waiting = True
            self.files.read_set_classes(user_set)
            self.lab._say("Reading your set's classes…")
            return None
        loaded = self.settings.start_from.model()
        if loaded is not None:
            fitted = self.editor.fitted(loaded.model.arch)[0]
            if fitted.layers != self.editor.architecture().layers:
                self.lab._say(f"The Network tab no longer shows {html.escape(loaded.name)}'s "
                              "layers: choose it again under Start from to fine-tune it, or "
                              "New random weights to train the edited network.", error=True)
                return None
        return {"user_set": user_set, "test_share": self.settings.set_choice.test_share(),
                "classes": classes, "start_from": loaded,
                "only_last_layer": self.settings.start_from.only_last_layer()}

    def data_problem(self) -> str | None:
        """Which built-in files the choice needs and lacks (none for a set alone)."""
        from ..controllers.training import training_set_problem

        choice = self.settings.choice()
        if choice == OWN_SET:
            return None
        dataset = "mnist" if choice == MNIST_AND_SET else choice
        return training_set_problem(dataset, self.controller.data_dir)

    # ----- the augmentation preview ---------------------------------------------------------

    def _on_tab(self, index: int) -> None:
        if index == 1 and not self.previewed:
            self.preview_again(same=True)

    def preview_again(self, same: bool = False) -> None:
        """Augmented pictures of the data chosen (same: the seed of the last ones)."""
        if self.settings.user_set() == "":
            self.settings.preview.show_text("choose your set's folder first")
            return
        if not same:
            self.preview_seed += 1
        self.previewed = True
        self.settings.preview.show_text("making the pictures…")
        self.files.preview(self.settings.dataset_text(),
                           self.settings.seed.value() + self.preview_seed,
                           self.controller.data_dir)

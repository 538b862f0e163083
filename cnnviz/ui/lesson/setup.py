"""Puts a lesson step's setup in force in the main window, through the state and the
explorers' public methods (never by clicking widgets), and frames the control the step
points at for a moment.

    applier = StepApplier(window)
    problems = applier.apply(step)   # [] when everything the step asks was set
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QPoint, QRect, Qt, QTimer
from PySide6.QtWidgets import QFrame, QWidget

from ...core.lessons.lesson import TABS, LessonStep

# The Experiments views by the names lesson files use (cnnviz.core.lessons.lesson.EXPERIMENTS).
EXPERIMENT_VIEWS = {
    "slide-the-window": "ConvStepView", "receptive-fields": "ReceptiveFieldView",
    "what-it-looked-at": "SaliencyView", "invariance": "InvarianceView",
    "max-pooling-shifts": "PoolingShiftView", "batch-norm": "BatchNormView",
    "dropout": "DropoutView", "parameters": "ParametersView",
}
HIGHLIGHT_MS = 2500
_KERNEL_CONTROLS = ("kernel-source", "kernel-preset", "stride", "padding", "activation", "pooling")
_KERNEL_KEYS = {"stride": "stride", "padding": "padding", "activation": "activation",
                "pooling": "pool_kind", "pool_size": "pool_size", "pool_stride": "pool_stride"}


def sample_picture(test_index: int) -> tuple[np.ndarray, str]:
    """A shipped MNIST test digit by its number in the test set, as the pad takes it."""
    from ...core.pictures.samples import load_samples

    images, labels, index = load_samples("mnist")
    i = int(np.flatnonzero(index == test_index)[0])
    return images[i].astype(np.float32), f"MNIST test digit #{test_index} (a {int(labels[i])})"


def show_tab(window, tab: str | None) -> None:
    """Show a tab by the name lesson and session files use (cnnviz.core.lessons.lesson.TABS)."""
    if tab == "experiments":
        window.show_experiments_tab()
    elif tab is not None:
        window.tabs.setCurrentIndex(TABS.index(tab))


def current_tab(window) -> str:
    if window.tabs.currentWidget() is window.experiments_page:
        return "experiments"
    return TABS[max(0, min(window.tabs.currentIndex(), len(TABS) - 1))]


def model_folders(window, first=()) -> list:
    """Where a model file named by a lesson or session is looked for: the file's own folder
    first, then the folders of models opened before and the lab's models folder."""
    folders = [f for f in first if f is not None]
    explorer = window.cnn_explorer
    for entry in (explorer.entries if explorer is not None else []):
        if entry.path is not None and not entry.shipped:
            folders.append(Path(entry.path).parent)
    if window.lab is not None:
        folders.append(window.lab.models_folder())
    return list(dict.fromkeys(folders))


def use_model_file(window, reference: dict, folders=()) -> tuple[str, bool]:
    """Make the model a file reference names the current one: (what went wrong, in words
    or "", whether it is being read on the loader's thread)."""
    from ...core.datasets.data import sha256_of
    from ...core.lessons.session import find_model

    current = window.state.model
    if current is not None and current.path is not None and not current.shipped_as and \
            Path(current.path).is_file() and sha256_of(Path(current.path)) == reference["sha256"]:
        return "", False
    path, problem = find_model(reference, model_folders(window, folders))
    if path is None:
        return f"{problem[:1].upper()}{problem[1:]} (the current model is kept).", False
    window.cnn_explorer.load_weights_file(path)
    return "", True


class Highlight(QFrame):
    """A coloured frame over a control, for a moment; clicks go through it."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setObjectName("lesson_highlight")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("#lesson_highlight { border: 3px solid #e67e22; border-radius: 4px;"
                           " background: rgba(230, 126, 34, 40); }")
        self.target: QWidget | None = None
        self.timer = QTimer(self, singleShot=True, interval=HIGHLIGHT_MS)
        self.timer.timeout.connect(self.hide)
        self.hide()

    def show_over(self, widgets: list[QWidget]) -> bool:
        shown = [w for w in widgets if w is not None and w.isVisible()]
        window = self.parentWidget()
        if not shown or window is None:  # (its parent is the main window)
            self.hide()
            return False
        rect = QRect()
        for w in shown:
            rect = rect.united(QRect(w.mapTo(window, QPoint(0, 0)), w.size()))
        self.target = shown[0]
        self.setGeometry(rect.adjusted(-4, -4, 4, 4))
        self.raise_()
        self.show()
        self.timer.start()
        return True


class StepApplier(QObject):
    """Applies steps to a MainWindow. Steps asked for before the explorers exist (the lazy
    start) are applied once they do."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.highlight = Highlight(window)
        self._waiting: LessonStep | None = None
        self._layer_after_model: str | None = None  # a model file loads on a worker first
        self.folders: tuple = ()  # where a step's model file is looked for (the lesson's folder)
        window.state.events.model_loading.connect(self._on_loading)
        window.state.events.model.connect(self._on_model_arrived)

    def ready(self) -> bool:
        w = self.window
        return w.cnn_explorer is not None and w.experiments_explorer is not None

    def _on_loading(self, loading: bool) -> None:
        if not loading and self._waiting is not None and self.ready():
            step, self._waiting = self._waiting, None
            self.apply(step)

    def apply(self, step: LessonStep) -> list[str]:
        """Set the app up as the step says; what could not be set, in words."""
        if not self.ready():
            self._waiting = step
            return []
        problems = []
        self._layer_after_model = None
        for part in (self._model, self._sample, self._kernel, self._lab, self._experiment,
                     self._tab, self._layer):
            problem = part(step)
            if problem:
                problems.append(problem)
        name = step.setting("highlight")
        if name:  # once the tab is laid out
            QTimer.singleShot(50, self, lambda: self.show_highlight(name))
        return problems

    # ----- one part of the setup each -------------------------------------------------

    def _model(self, step: LessonStep) -> str:
        key = step.setting("model")
        if key is None:
            return ""
        if isinstance(key, dict):
            problem, pending = use_model_file(self.window, key, self.folders)
            if pending:
                self._layer_after_model = step.setting("layer")
            return problem
        from ...core.networks.weights import WeightsError

        try:
            loaded = self.window.cnn_explorer.shipped_model(key)
        except WeightsError as exc:
            return f"The model {key} could not be loaded ({exc})."
        if loaded is not self.window.state.model:
            self.window.state.model = loaded
        return ""

    def _sample(self, step: LessonStep) -> str:
        number, picture = step.setting("sample"), step.setting("picture")
        if number is None and picture is None:
            return ""
        if number is None:
            from ...core.lessons.session import decode_picture

            try:
                image = decode_picture(picture, "the step's picture")
            except ValueError as exc:
                return f"{str(exc)[:1].upper()}{str(exc)[1:]}; the current input is kept."
            source = picture.get("name") or "the lesson's picture"
        else:
            image, source = sample_picture(number)
        state = self.window.state
        if state.image is None or state.image.shape != image.shape or not np.array_equal(state.image, image):
            self.window.input_panel.show_image(image, source)
        return ""

    def _kernel(self, step: LessonStep) -> str:
        from ...core.convolution.kernels import PRESETS

        explorer, state = self.window.kernel_explorer, self.window.state
        source = step.setting("kernel_source")
        if source is not None and source != state.kernel_source:
            explorer.set_source(source)
        changes = {field: step.setting(key) for key, field in _KERNEL_KEYS.items()
                   if step.setting(key) is not None}
        preset, values = step.setting("kernel"), step.setting("kernel_values")
        if preset is not None:
            changes.update(kernel=PRESETS[preset].values.astype(np.float64), preset_key=preset)
        elif values is not None:
            changes.update(kernel=np.array(values, dtype=np.float64), preset_key=None)
        if changes:
            settings = state.kernel.with_changes(**changes)
            if not settings.same_as(state.kernel):
                state.kernel = settings
        return ""

    def _lab(self, step: LessonStep) -> str:
        text = step.setting("lab_architecture")
        if text is None or self.window.lab is None:
            return ""
        from ...core.networks.arch_text import architecture_from_json, architecture_to_json

        if architecture_to_json(self.window.lab.editor.architecture()) == \
                architecture_to_json(architecture_from_json(text)):
            return ""  # the same network: its undo history stays
        if not self.window.lab.editor.restore(text):
            return "The lab's network could not be set up."
        return ""

    def _on_model_arrived(self, _loaded) -> None:
        layer, self._layer_after_model = self._layer_after_model, None
        if layer:
            self.window.state.layer = layer

    def _experiment(self, step: LessonStep) -> str:
        name = step.setting("experiment")
        if name is not None:
            self.window.experiments_explorer.show_view(EXPERIMENT_VIEWS[name])
        return ""

    def _tab(self, step: LessonStep) -> str:
        show_tab(self.window, step.setting("tab"))
        return ""

    def _layer(self, step: LessonStep) -> str:
        name = step.setting("layer")
        if name is None or self._layer_after_model is not None:
            return ""
        model = self.window.state.model
        names = [info.name for info in model.model.layer_infos] if model is not None else []
        if name not in names:
            return f"The model has no layer {name!r} (it has {', '.join(names[:12])})."
        self.window.state.layer = name
        return ""

    # ----- the highlighted control -------------------------------------------------------

    def targets(self, name: str) -> list[QWidget]:
        w = self.window
        if not self.ready() or w.kernel_explorer is None:  # the explorers come together
            return []
        k = w.kernel_explorer.controls
        found = {
            "model-picker": lambda: [w.cnn_explorer.picker.combo],
            "layer-strip": lambda: [w.cnn_explorer.strip],
            "pad": lambda: [w.input_panel.pad],
            "kernel-source": lambda: [k.input_box.source_combo],
            "kernel-preset": lambda: [k.kernel_box.preset_combo],
            "stride": lambda: list(k.conv_box.stride_spins),
            "padding": lambda: list(k.conv_box.padding_spins),
            "activation": lambda: [k.pool_box.activation_combo],
            "pooling": lambda: [k.pool_box.pool_combo, k.pool_box.pool_size_spin,
                                k.pool_box.pool_stride_spin],
            "formula": lambda: [w.kernel_explorer.formula_bar],
            "experiment-list": lambda: [w.experiments_explorer.list],
            "lab-layers": lambda: [w.lab.editor],
        }.get(name)
        return found() if found is not None else []

    def show_highlight(self, name: str) -> bool:
        if name in _KERNEL_CONTROLS and self.window.kernel_explorer.controls_hidden():
            self.window.kernel_explorer.set_controls_hidden(False)  # the step is about them
        return self.highlight.show_over(self.targets(name))

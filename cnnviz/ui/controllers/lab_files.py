"""The training lab's file work, beside the run's lifecycle (training.py): the test set for
the confusion matrix's pictures, the download of a dataset, keeping a trained network in
the user's models folder and saving it as a .safetensors file (with the unsure verdict
calibrated on test pictures made ahead), reading a user's set's classes, the augmentation
preview, and the models kept in the user's folder. Every file read or write and download
runs on one TaskRunner (a thread per task, each with its own callback); the preview on a
LatestRequestRunner (only the newest is wanted). The GUI thread only copies what arrives.

    files.keep("my-net")        # -> save_progress …, then saved("keep", path)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from .runner import LatestRequestRunner, TaskRunner

if TYPE_CHECKING:
    from .training import TrainingController

DOWNLOAD_TICK_MS = 250  # how often the download's progress is read from the folder


def download_progress(dataset: str, data_dir) -> tuple[int, int]:
    """(bytes there, bytes in all) of the dataset's four files, finished or part-downloaded."""
    from cnnviz.core.datasets.data import get_dataset_info, resolve_data_dir

    info = get_dataset_info(dataset)
    folder = resolve_data_dir(data_dir) / info.key
    done = 0
    for f in info.files.values():
        for path in (folder / f.name, folder / (f.name + ".part")):
            try:
                done += min(path.stat().st_size, f.size)
                break
            except OSError:
                continue
    return done, sum(f.size for f in info.files.values())


def offline_message(exc: Exception) -> str:
    text = str(exc)
    words = ("urlopen", "Name or service", "Temporary failure", "Network is unreachable",
             "timed out", "getaddrinfo", "No route", "Connection refused", "nodename")
    if any(w in text for w in words):
        return ("Could not reach the download mirrors: this computer seems to be offline. "
                "Connect to the internet and try again, or choose a folder that has the "
                f"files. ({text})")
    return f"The download failed: {text}"


def cell_members(labels, predictions, confidence, true: int, predicted: int,
                 limit: int) -> tuple[np.ndarray, int]:
    """The test images of one confusion-matrix cell: (indices, most confident first, at most
    limit; how many there are). predictions are of the first len(predictions) test images."""
    predictions = np.asarray(predictions)
    labels = np.asarray(labels)[:len(predictions)]
    members = np.flatnonzero((labels == true) & (predictions == predicted))
    if confidence is not None and members.size:
        order = np.argsort(-np.asarray(confidence)[members], kind="stable")
        members = members[order]
    return members[:limit], int(members.size)


class LabFilesController(QObject):
    """See the module docstring. `training` is the run's lifecycle controller: the weights
    kept or saved are its current model, and the run's own held-out pictures (on the
    user's set) come from its run model. All signals are emitted on the GUI thread."""

    message = Signal(str)  # a sentence for the lab's status line
    test_set_ready = Signal(object, object)  # (images (N, 28, 28) uint8, labels (N,))
    download_progress = Signal(int, int)  # bytes there, bytes in all
    download_finished = Signal(str)  # dataset
    download_failed = Signal(str)  # the message (offline said as such)
    saved = Signal(str, object)  # ("keep" or "save-as", path)
    save_failed = Signal(str)
    save_progress = Signal(str, float)  # (the step in words, share done 0..1) while saving
    set_classes = Signal(str, object)  # (the dataset text, its class names) read on a worker
    set_failed = Signal(str, str)  # (the dataset text, why it cannot be trained on)
    preview_ready = Signal(object, object, str)  # (originals, augmented, what they are)
    preview_failed = Signal(str)

    def __init__(self, state, training: TrainingController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state, self.training = state, training
        self.tasks = TaskRunner("lab", self)
        self.preview_runner = LatestRequestRunner("lab-preview", self)
        self.preview_runner.finished.connect(lambda _g, r: self.preview_ready.emit(*r))
        self.preview_runner.failed.connect(lambda _g, text: self.preview_failed.emit(text))
        self._preview_key: tuple[str, str] | None = None
        self._preview_pictures: tuple[np.ndarray, str] | None = None
        self._test_key: tuple[str, ...] | None = None  # (dataset, data_dir) of the test set
        self.test_images: np.ndarray | None = None
        self.test_labels: np.ndarray | None = None
        self._download: tuple[str, object] | None = None  # (dataset, data_dir) while downloading
        self._download_timer = QTimer(self)
        self._download_timer.setInterval(DOWNLOAD_TICK_MS)
        self._download_timer.timeout.connect(self._on_download_tick)
        self._saving = False  # a model is being kept or saved: the pictures made ahead give way
        self._shut = False
        training.run.events.held_out.connect(self._on_held_out)

    # ----- the test set ---------------------------------------------------------------------

    def new_run(self, on_user_set: bool) -> None:
        """A run has started: on the user's set its held-out pictures are the test set (the
        job sends them); a built-in dataset's are read by load_test_set."""
        if on_user_set:
            self._test_key, self.test_images, self.test_labels = ("run",), None, None

    def _on_held_out(self, held) -> None:
        if held is not None and not self._shut:
            self._test_key = ("run",)
            self.test_images, self.test_labels = held.images, held.labels
            self.test_set_ready.emit(self.test_images, self.test_labels)

    def load_test_set(self, dataset: str, data_dir) -> None:
        """The test split for the confusion matrix's pictures, read on a worker
        (test_set_ready follows); nothing when it is loaded or loading already."""
        settings = self.training.settings
        if settings is not None and settings.user_set is not None:
            return  # the run's own held-out pictures come from the job
        key = (dataset, str(data_dir))
        if key == self._test_key:
            if self.test_images is not None:
                self.test_set_ready.emit(self.test_images, self.test_labels)
            return
        self._test_key = key
        self.test_images = self.test_labels = None
        from cnnviz.core.datasets.data import load_split

        def done(split) -> None:
            if key != self._test_key:
                return  # another test set was asked for since
            self.test_images, self.test_labels = split
            self.test_set_ready.emit(*split)
            # what keeping a model calibrates on, made now (quietly) rather than then
            images = split[0]
            self.tasks.run(lambda: _make_calibration_pictures(
                images, key[0], lambda: self._saving or self.tasks.closing),
                name="calibration-pictures")

        def failed(message: str) -> None:
            self._test_key = None
            self.message.emit(f"The test pictures could not be read: {message}")

        self.tasks.run(lambda: load_split(dataset, "test", data_dir), done, failed,
                       name="test-set")

    # ----- the download ---------------------------------------------------------------------

    def download(self, dataset: str, data_dir) -> None:
        if self._download is not None:
            return
        from cnnviz.core.datasets.download import download_dataset

        self._download = (dataset, data_dir)

        def done(_result) -> None:
            self._end_download()
            self.download_finished.emit(dataset)

        def failed(message: str) -> None:
            self._end_download()
            self.download_failed.emit(offline_message(Exception(message)))

        self.tasks.run(lambda: download_dataset(dataset, data_dir), done, failed,
                       name="download")
        self._download_timer.start()
        self._on_download_tick()

    @property
    def downloading(self) -> bool:
        return self._download is not None

    def _on_download_tick(self) -> None:
        if self._download is not None:
            self.download_progress.emit(*download_progress(*self._download))

    def _end_download(self) -> None:
        self._download = None
        self._download_timer.stop()

    # ----- keeping and saving ---------------------------------------------------------------

    def keep(self, name: str, folder=None) -> bool:
        """Keep the last good weights in the user's models folder under name (written on a
        worker; saved('keep', path) follows and the network joins the model picker)."""
        from cnnviz.core.networks.catalogue import model_name_problem, save_user_model

        problem = model_name_problem(name)
        loaded = None if problem else self.training.current_model(name.strip())
        if problem or loaded is None:
            self.save_failed.emit(problem or "there are no trained weights yet")
            return False
        images, labels = self._calibration_images()
        progress = self._saving_progress()
        self.tasks.run(lambda: save_user_model(
            loaded.model, name, _with_calibration(loaded, images, labels, progress), folder),
            lambda path: self._on_saved("keep", loaded, path), self._on_save_failed,
            name="keep")
        return True

    def save_as(self, path, name: str) -> bool:
        """Write the last good weights and their card to path (.safetensors), atomically."""
        from cnnviz.core.networks.weights import save_weights

        loaded = self.training.current_model(name.strip() or None)
        if loaded is None:
            self.save_failed.emit("there are no trained weights yet")
            return False
        images, labels = self._calibration_images()
        progress = self._saving_progress()
        self.tasks.run(lambda: save_weights(
            loaded.model, path, _with_calibration(loaded, images, labels, progress)),
            lambda written: self._on_saved("save-as", loaded, written), self._on_save_failed,
            name="save-as")
        return True

    def _saving_progress(self) -> Callable[[str, float], None]:
        """Said at once (the lab shows it before any work starts), then from the worker as
        the steps go (a queued signal: it reaches the lab on the GUI thread)."""
        self._saving = True  # the pictures made ahead stop at their next kind
        self.save_progress.emit("calibrating the unsure verdict", 0.0)
        return self.save_progress.emit

    def _calibration_images(self):
        """The test pictures the unsure threshold is measured on: a built-in dataset's (the
        threshold is about digits and clothes; a network of the user's own classes has
        none)."""
        settings = self.training.settings
        if settings is not None and settings.user_set is not None:
            return None, None
        return self.test_images, self.test_labels

    def _on_saved(self, how: str, loaded, path) -> None:
        from cnnviz.core.networks import catalogue
        from cnnviz.core.networks.weights import load_weights

        self._saving = False
        try:  # the file as written, so the picker holds what a restart would read
            kept = load_weights(path)
        except Exception:
            kept = loaded
            kept.path = path
        entry = (catalogue.user_entry(path, kept) if how == "keep"
                 else catalogue.file_entry(path, kept))
        shown = self.training.published
        entries = self.state.catalogue
        if how == "keep" and shown is not None:
            # the network shown while training now has a name: one entry, not two
            entries = [e for e in entries if e.loaded is not shown]
        self.state.catalogue = catalogue.with_entry(entries, entry)
        if how == "keep" and shown is not None and self.state.model is shown:
            self.training.show_kept(kept)
        self.saved.emit(how, path)

    def _on_save_failed(self, message: str) -> None:
        self._saving = False
        self.save_failed.emit(message)

    # ----- the user's set and models ----------------------------------------------------------

    def read_set_classes(self, text: str) -> None:
        """The classes of a dataset text (DIR or mnist+DIR), read on a worker: set_classes
        or set_failed follows."""
        from cnnviz.core.training.user_training import classes_of_choice, parse_dataset

        def failed(message: str) -> None:
            self.set_failed.emit("", message.split(": ", 1)[-1] if "Error: " in message
                                 else message)

        self.tasks.run(lambda: classes_of_choice(parse_dataset(text)),
                       lambda names: self.set_classes.emit(text, names), failed,
                       name="set-classes")

    def preview(self, text: str, seed: int, data_dir=None) -> None:
        """Augmented training pictures of a dataset text (mnist, fashion-mnist, DIR,
        mnist+DIR: the set's own), made on a worker: preview_ready or preview_failed."""
        from cnnviz.core.training.user_training import PREVIEW_SIZE, augment_preview

        key = (text, str(data_dir))

        def work():
            if self._preview_key != key:
                self._preview_pictures = _preview_source(text, data_dir)
                self._preview_key = key
            assert self._preview_pictures is not None  # (read just above when missing)
            pictures, what = self._preview_pictures
            return (*augment_preview(pictures, PREVIEW_SIZE, seed), what)

        self.preview_runner.submit(work)

    def load_user_models(self, folder=None) -> None:
        """The models kept in the user's folder, read on a worker, added to the catalogue."""
        from cnnviz.core.networks import catalogue

        def done(result) -> None:
            entries, problems = result
            if entries:
                self.state.catalogue = catalogue.with_entries(self.state.catalogue, entries)
            for line in problems[:3]:
                self.message.emit(f"A kept model could not be read: {line}")

        self.tasks.run(lambda: catalogue.user_entries(folder), done,
                       lambda text: self.message.emit(f"Your kept models could not be read: "
                                                      f"{text}"), name="user-models")

    # ----- shutdown ---------------------------------------------------------------------------

    def shutdown(self) -> None:
        """The window is closing: no more callbacks, the download's clock stops, the
        pictures made ahead stop at their next kind. Safe to call twice."""
        if self._shut:
            return
        self._shut = True
        self._end_download()
        self.preview_runner.shutdown(timeout=1.0)
        self.tasks.shutdown(timeout=1.0)


def _preview_source(text: str, data_dir):
    """(pictures, what they are) of a dataset text, for the augmentation preview."""
    from cnnviz.core.datasets.data import DATASETS
    from cnnviz.core.training.user_training import DatasetChoice, parse_dataset, preview_pictures

    choice = DatasetChoice(text, None) if text in DATASETS else parse_dataset(text)
    if choice.folder is not None and choice.builtin is not None:
        choice = DatasetChoice(None, choice.folder)  # MNIST + a set: the set's pictures
    return preview_pictures(choice, data_dir)


CALIBRATION_IMAGES = 2000  # test images the unsure threshold is measured on (as cnnviz train)
# Of cnnviz train's user pictures per kind (cnnviz.core.reading.verdict.USER_PICTURES): half, so that
# keeping a model takes seconds; made once per set of test images (they do not depend on it).
CALIBRATION_SHARE = 0.5
_views_cache: dict = {}
_views_lock = threading.Lock()


def _with_calibration(loaded, images, _labels=None, progress=None) -> dict:
    """The card, with card["verdict"] (the unsure threshold) when cnnviz.core.reading.verdict can
    compute one: on test images, which the lab never trains on. progress(step in words,
    share done) as the work goes."""
    report = progress or (lambda _step, _share: None)
    card = dict(loaded.card)
    try:
        from cnnviz.core.reading.verdict import calibrate_for_card
    except ImportError:
        return card
    if images is not None:
        try:
            held = images[:CALIBRATION_IMAGES]
            views = _views_for(held, loaded.dataset, lambda share: report(
                "making the pictures users load (once)", 0.6 * share))
            verdict = calibrate_for_card(
                loaded.model, held, loaded.dataset, views=views,
                source="test images the lab never trained on",
                progress=lambda share: report("calibrating the unsure verdict",
                                              0.6 + 0.35 * share))
        except Exception:  # a threshold is a nicety; the model is kept without one
            verdict = None
        if isinstance(verdict, dict):
            card["verdict"] = verdict
    report("writing the file", 0.95)
    return card


def _views_for(images, dataset: str, progress=None) -> dict:
    """cnnviz.core.reading.verdict.user_views of these images, made once per images and dataset
    (and kept on disk: cnnviz.core.basics.picture_cache); one thread makes them at a time."""
    import hashlib

    from cnnviz.core.reading.verdict import user_views

    key = (hashlib.sha1(np.ascontiguousarray(images).tobytes()).hexdigest(), dataset)
    with _views_lock:
        if key not in _views_cache:
            views = user_views(images, dataset, share=CALIBRATION_SHARE, progress=progress)
            _views_cache.clear()
            _views_cache[key] = views
        return _views_cache[key]


class _GaveWay(Exception):
    """The pictures made ahead are wanted now: Keep makes the rest itself."""


def _make_calibration_pictures(images, dataset: str, give_way: Callable[[], bool]) -> None:
    """What keeping a model calibrates on, made ahead on a low-priority thread: the pictures
    do not depend on the weights, so Keep and Save as then take about a second. Stops
    between kinds once give_way() (what was made stays cached) so that a Keep clicked
    meanwhile never waits for a thread of low priority."""
    from cnnviz.core.reading.verdict import measurement_outliers

    from .verdict import lower_this_threads_priority

    def check(_share: float) -> None:
        if give_way():
            raise _GaveWay

    lower_this_threads_priority()
    _views_for(images[:CALIBRATION_IMAGES], dataset, check)
    check(1.0)
    measurement_outliers(dataset)

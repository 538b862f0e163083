"""Test session set-up: Qt runs offscreen here (not in the user's real run), the MNIST
files are found through the product's own data-folder setting, and xdist's workers share
the cores."""

from __future__ import annotations

import os
from contextlib import contextmanager

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from data_policy import need_data as _need_data  # noqa: E402 (the one data policy)

from cnnviz.core.datasets.data import load_split  # noqa: E402


def pytest_configure(config):
    """Under pytest-xdist each worker runs torch on its share of the cores (one each when
    there are as many workers as cores, as with -n auto): with torch's default of one
    thread per core in every worker, the workers' threads wait for each other and the
    whole run takes longer. A run without xdist keeps torch's default."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(workers)))


@pytest.fixture(scope="session")
def mnist_test():
    """(images (10000, 28, 28) uint8, labels (10000,)) of the real MNIST test set."""
    _need_data("mnist")
    return load_split("mnist", "test")


@pytest.fixture(scope="session")
def mnist_dir() -> str:
    """The data folder holding the MNIST files (found as the product finds it), with the
    same policy as the data fixtures: skipped with the reason without it, failed in CI."""
    return _need_data("mnist")


@pytest.fixture(scope="session")
def fashion_test():
    """(images, labels) of the real Fashion-MNIST test set."""
    _need_data("fashion-mnist")
    return load_split("fashion-mnist", "test")


@pytest.fixture(scope="session")
def mnist_train():
    _need_data("mnist")
    return load_split("mnist", "train")


@pytest.fixture(scope="session")
def shipped_mnist_evaluation(mnist_test):
    """training.evaluate() of the shipped default model ("cnnviz") on all 10,000 MNIST test
    images, computed once a session (once per xdist worker) and shared by every test that
    needs it: the dict evaluate returns (count, accuracy, loss, per_class_accuracy,
    confusion, predictions). Treat it as read-only."""
    from cnnviz.core.networks.weights import load_shipped
    from cnnviz.core.training.loop import evaluate

    xt, yt = mnist_test
    return evaluate(load_shipped("cnnviz").model, xt, yt)


@pytest.fixture(scope="session", autouse=True)
def _folders_of_the_tests(tmp_path_factory):
    """Every window reads the user's models folder (the training lab keeps models there) and
    caches the verdicts calibrated for opened models: tests use folders of their own,
    shared by the session (a model is calibrated once), never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CNNVIZ_MODELS_DIR", str(tmp_path_factory.mktemp("user-models")))
        cache = tmp_path_factory.mktemp("cache")
        patch.setenv("CNNVIZ_CACHE_DIR", str(cache))
        yield cache


@pytest.fixture(scope="session")
def tests_cache_dir(_folders_of_the_tests):
    """The cache folder the tests share (CNNVIZ_CACHE_DIR, unless a test sets its own)."""
    return _folders_of_the_tests


@pytest.fixture(autouse=True)
def _verdicts_calibrated_on_the_shipped_digits(monkeypatch):
    """Window tests open digit models made elsewhere, whose unsure verdict is then calibrated
    on a background thread: on the 300 shipped digits (as without the data folder), so that
    work does not compete with the tests for a quarter of a minute each time."""
    from cnnviz.core.pictures.samples import load_samples
    from cnnviz.core.reading import opened_verdict

    monkeypatch.setattr(opened_verdict, "_digits", lambda data_dir: (
        load_samples("mnist")[0], "cnnviz's 300 shipped MNIST test digits"))


@pytest.fixture(autouse=True)
def _no_calibration_pictures_made_ahead(request, monkeypatch):
    """The training lab makes the pictures Keep calibrates on as soon as its test set is
    read, on a thread of its own: in window tests that thread would compete with the tests
    for the CPU, and outlive its window. Off, except for tests marked `made_ahead`."""
    if request.node.get_closest_marker("made_ahead") is None:
        from cnnviz.ui.controllers import lab_files

        monkeypatch.setattr(lab_files, "_make_calibration_pictures", lambda *args: None)


@contextmanager
def _settings_in(qapp, folder):
    """QSettings in `folder` under a test organisation while the block runs."""
    from PySide6.QtCore import QSettings

    old = (qapp.organizationName(), qapp.applicationName(), QSettings.defaultFormat())
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    qapp.setOrganizationName("cnnviz-test")
    qapp.setApplicationName("cnnviz-test")
    try:
        yield folder
    finally:
        qapp.setOrganizationName(old[0])
        qapp.setApplicationName(old[1])
        QSettings.setDefaultFormat(old[2])


@pytest.fixture
def settings_sandbox(qapp, tmp_path):
    """QSettings go to a temporary folder under a test organisation, never the user's or
    the other tests' (a model or tab saved in one test must not follow into the next).
    Yields the folder."""
    with _settings_in(qapp, tmp_path / "settings") as folder:
        yield folder


@pytest.fixture(scope="module")
def module_settings_sandbox(qapp, tmp_path_factory):
    """settings_sandbox for a module whose tests share one window: a folder of the
    module's own, never the user's or another module's."""
    with _settings_in(qapp, tmp_path_factory.mktemp("settings")) as folder:
        yield folder


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread(request):
    """A Qt test collects cyclic garbage on the GUI thread only, as the app does
    (cnnviz.ui.gui_gc): collected on a worker thread, a Qt object's destructor can deadlock
    with the GUI thread (the suite once hung in QLabel::setText)."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("qapp")  # the timer needs the application's event loop
    from cnnviz.ui.gui_gc import GuiThreadCollector

    collector = GuiThreadCollector(interval_ms=200)
    try:
        yield
    finally:
        collector.stop()

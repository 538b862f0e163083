"""The training controller: a job's events become signals and curves; pause, resume, stop
and train more reach the job; a failure keeps the last good weights; the network being
trained can be shown in the CNN explorer; a kept network is in the user's models folder
and in the model picker after the catalogue is made again. The events come from a
scripted job here (every case, no timing); test_lab_training_runs_for_real trains."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lab_fakes import ScriptedJob  # (tests/ is on sys.path)

from cnnviz.app_state import AppState, InputImage
from cnnviz.core.networks import catalogue
from cnnviz.core.networks.models import ARCHITECTURES, Network
from cnnviz.core.training.job import EpochDone, RunPhase
from cnnviz.core.training.loop import TrainConfig
from cnnviz.ui.controllers import lab_files
from cnnviz.ui.lab.explorer import TrainingLab

ARCH = ARCHITECTURES["lecture-keras"]


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv(catalogue.MODELS_ENV_VAR, str(folder))
    return folder


@pytest.fixture
def lab(qtbot, models_dir, monkeypatch, mnist_dir):
    monkeypatch.setenv("CNNVIZ_DATA_DIR", mnist_dir)
    ScriptedJob.made.clear()
    state = AppState()
    state.catalogue = catalogue.shipped_entries()
    widget = TrainingLab(state, job_factory=ScriptedJob)
    qtbot.addWidget(widget)
    yield widget
    widget.shutdown()


def weights_of(seed: int) -> dict:
    torch.manual_seed(seed)
    return {k: v.numpy().copy() for k, v in Network(ARCH).state_dict().items()}


def run_epoch(job: ScriptedJob, epoch: int, batches: int = 4, acc: float = 0.9, seed: int = 0):
    for b in range(batches):
        job.push("batch", epoch=epoch, batch=b + 1, batches=batches, loss=2.0 / (epoch + b),
                 elapsed_s=1.0 * b, eta_s=3.0)
    confusion = np.diag([10] * 10)
    job.push("epoch", epoch=epoch, train_loss=0.5, train_accuracy=acc - 0.02,
             test_loss=0.3, test_accuracy=acc, confusion=confusion.tolist(),
             test_predictions=np.repeat(np.arange(10), 10), test_confidence=np.full(100, 0.8),
             seconds=2.0)
    job.push("weights", state=weights_of(seed))


def start(lab: TrainingLab) -> ScriptedJob:
    lab.editor.choose_preset("lecture-keras")
    lab.settings.epochs.setValue(2)
    assert lab.start()
    job = ScriptedJob.made[-1]
    assert job.calls == ["start"] and job.architecture == ARCH and job.initial_state is None
    assert isinstance(job.config, TrainConfig) and job.config.epochs == 2
    return job


def test_events_become_curves_progress_and_a_confusion_matrix(lab):
    job = start(lab)
    assert lab.controller.phase == RunPhase.STARTING and lab.state.training
    assert not lab.start_button.isEnabled() and not lab.editor.add_button.isEnabled()
    job.push("started", epochs=2)
    lab.controller.poll()
    assert lab.controller.phase == RunPhase.RUNNING and lab.stop_button.isEnabled()
    run_epoch(job, 1)
    filters = np.random.default_rng(0).normal(size=(64, 1, 3, 3)).astype(np.float32)
    job.push("filters", weights=filters)
    lab.controller.poll()
    lab.curves.redraw()
    x, y = lab.curves.batch_curve.getData()
    assert list(y) == [2.0, 1.0, 2 / 3, 0.5] and x[-1] == 1.0
    assert list(lab.curves.test_acc_curve.getData()[1]) == [90.0]  # per cent
    assert lab.confusion.item(4, 4).text() == "10"
    assert "epoch 1 of 2 · batch 4/4" in lab.progress.format()
    assert lab.filter_view.image.image.shape == (8 * 4 + 1, 8 * 4 + 1)
    assert lab.controller.weights_epoch == 1


def test_the_run_model_hears_each_event_once_and_views_follow_it(lab):
    run = lab.controller.run
    phases, epochs = [], []
    run.events.phase.connect(phases.append)
    run.events.epochs.connect(lambda e: epochs.append(len(e)))
    job = start(lab)
    job.push("started", classes=[str(i) for i in range(10)])
    run_epoch(job, 1, acc=0.93)
    job.push("finished")
    lab.controller.poll()
    assert phases == [RunPhase.STARTING, RunPhase.RUNNING, RunPhase.FINISHED]
    assert epochs == [1] and isinstance(run.epochs[0], EpochDone)
    assert run.progress.batch == 4 and run.batch_losses == [2.0, 1.0, 2 / 3, 0.5]
    assert run.confusion.shape == (10, 10) and run.last_test_accuracy() == 0.93
    assert lab.name_edit.text() == "lecture-keras-93.0"  # the lab reads the model
    run.add_epoch(EpochDone(epoch=2, test_accuracy=0.5, confusion=np.eye(10, dtype=int)))
    assert "after epoch 2 on 10 test images" in lab.confusion_title.text()
    assert lab.confusion.item(0, 0).text() == "1"


def test_pause_resume_stop_and_train_more_reach_the_job(lab):
    job = start(lab)
    job.push("started")
    lab.controller.poll()
    lab.pause_button.click()
    job.push("paused")
    lab.controller.poll()
    assert lab.controller.phase == RunPhase.PAUSED and lab.pause_button.text() == "Resume"
    lab.pause_button.click()
    job.push("resumed")
    lab.controller.poll()
    assert lab.controller.phase == RunPhase.RUNNING
    run_epoch(job, 1)
    lab.controller.poll()
    lab.stop_button.click()
    assert lab.controller.phase == RunPhase.STOPPING
    job.push("stopped")
    lab.controller.poll()
    assert job.calls == ["start", "pause", "resume", "stop"]
    assert lab.controller.phase is RunPhase.STOPPED and not lab.state.training
    assert lab.progress.format() == "Stopped: 90.0% of the test images right"
    assert lab.finish_group.isEnabled() and lab.name_edit.text() == "lecture-keras-90.0"
    assert lab.more_button.isEnabled() and lab.start_button.isEnabled()
    lab.more_count.setValue(2)
    assert lab.train_more()
    assert job.calls[-1] == "more 2" and lab.controller.phase == RunPhase.RUNNING
    run_epoch(job, 2, acc=0.95, seed=1)  # the same job: its epochs count on
    lab.controller.poll()
    assert list(lab.curves.epoch_x) == [1.0, 2.0] and len(lab.run.epochs) == 2
    assert "epoch 2 of 3" in lab.progress.format()


def test_a_failure_is_a_message_and_the_last_good_weights_stay(lab):
    job = start(lab)
    job.push("started")
    run_epoch(job, 1, seed=3)
    lab.controller.poll()
    job.push("error", message="the loss became nan in epoch 2, batch 5")
    lab.controller.poll()
    assert lab.controller.phase == RunPhase.FAILED and not lab.state.training
    assert "Training failed" in lab.message.text() and "nan" in lab.message.text()
    assert "after epoch 1 are kept" in lab.message.text()
    kept = lab.controller.current_model("x")
    for k, v in weights_of(3).items():
        assert np.array_equal(kept.model.state_dict()[k].numpy(), v)
    assert lab.start_button.isEnabled() and lab.finish_group.isEnabled()


def test_a_job_that_cannot_start_is_a_message(lab, qtbot):
    class Broken(ScriptedJob):
        def start(self):
            raise ValueError("the batch size must be a whole number of at least 1")

    lab.controller._job_factory = Broken
    assert not lab.start()
    assert "could not start" in lab.message.text() and "batch size" in lab.message.text()
    assert lab.controller.phase == RunPhase.FAILED and lab.start_button.isEnabled()


def test_an_impossible_network_is_not_started(lab):
    lab.editor.text_edit.setText("conv 8 3, relu, flatten, dense 10")
    lab.editor.apply_text()
    lab.editor.set_architecture(ARCH.__class__("x", "", ARCH.layers[:3]))
    assert not lab.start()
    assert "Cannot train this network" in lab.message.text()
    assert ScriptedJob.made == []


def test_the_drawing_is_sent_to_the_training_and_its_answer_shown(lab, qtbot):
    job = start(lab)
    job.push("started")
    lab.controller.poll()
    image = np.zeros((280, 280), np.float32)
    image[60:220, 130:150] = 255  # a "1"
    lab.state.input_image = InputImage(image, "drawing")
    lab.controller._send_current_probe()
    qtbot.waitUntil(lambda: len(job.probes) >= 1, timeout=5000)
    probe = job.probes[-1]
    assert probe.shape == (28, 28) and probe.dtype == np.float32 and 0.5 < probe.max() <= 1.0
    p = np.full(10, 0.02)
    p[1] = 0.82
    job.push("probe", probabilities=p, prediction=1)
    lab.controller.poll()
    assert lab.probe_view.answer.text() == "1" and "82.0%" in lab.probe_view.sure.text()


def test_the_cnn_explorer_can_show_the_network_being_trained(lab):
    job = start(lab)
    job.push("started")
    lab.controller.poll()
    assert not lab.controller.follow(True)  # no weights yet: it follows once they come
    run_epoch(job, 1, seed=5)
    lab.controller.poll()
    shown = lab.state.model
    assert shown is not None and shown.model.arch == ARCH
    for k, v in weights_of(5).items():
        assert np.array_equal(shown.model.state_dict()[k].numpy(), v)
    run_epoch(job, 2, seed=6)
    lab.controller.poll()
    lab.controller._follow_now(force=True)
    labels = [e.label for e in lab.state.catalogue if "being trained" in e.label]
    assert labels == ["lecture-keras — being trained, epoch 2 — MNIST, 90.0%"]  # one line
    lab.state.model = catalogue.shipped_loaded(lab.state.catalogue, "cnnviz")
    assert not lab.controller.following  # the user chose another model


def test_a_kept_network_is_in_the_folder_and_the_picker_after_a_restart(lab, qtbot, models_dir):
    from cnnviz.ui.cnn.explorer import CnnExplorer
    from cnnviz.ui.controllers import AnalysisController

    job = start(lab)
    job.push("started")
    run_epoch(job, 1, acc=0.981, seed=7)
    job.push("finished")
    lab.controller.poll()
    lab.name_edit.setText("my keras 98")
    steps = []
    lab.files.save_progress.connect(lambda step, share: steps.append((step, share)))
    with qtbot.waitSignal(lab.files.saved, timeout=30000):
        assert lab.keep()
        # said before any work is done (the signal from the worker comes later)
        assert not lab.save_bar.isHidden() and "Keeping “my keras 98”" in lab.message.text()
        assert not lab.keep_button.isEnabled() and not lab.save_as_button.isEnabled()
    assert lab.save_bar.isHidden() and lab.keep_button.isEnabled()
    assert steps[0] == ("calibrating the unsure verdict", 0.0)
    assert steps[-1] == ("writing the file", 0.95)
    assert [share for _, share in steps] == sorted(share for _, share in steps)
    files = list(models_dir.glob("*.safetensors"))
    assert [f.name for f in files] == ["my-keras-98.safetensors"]
    assert any(e.label.startswith("my keras 98 (yours)") for e in lab.state.catalogue)
    # a restart: a new state, the catalogue made again from the shipped models and the folder
    entries, problems = catalogue.user_entries()
    assert problems == [] and [e.loaded.name for e in entries] == ["my keras 98"]
    card = entries[0].loaded.card
    assert card["test_accuracy"] == 0.981 and card["dataset"] == "mnist"
    assert card["architecture"] == ("conv 64 3, relu, maxpool 2, conv 64 3, relu, maxpool 2, "
                                    "flatten, dense 10, softmax")
    assert card["epochs"] == 1 and card["seed"] == 0 and card["optimizer"] == "adam"
    state = AppState()
    state.catalogue = catalogue.with_entries(catalogue.shipped_entries(), entries)
    controller = AnalysisController(state)
    explorer = CnnExplorer(state, controller)
    qtbot.addWidget(explorer)
    row = next(i for i in range(explorer.model_combo.count())
               if explorer.model_combo.itemText(i).startswith("my keras 98"))
    explorer.model_combo.setCurrentIndex(row)
    explorer.model_combo.activated.emit(row)
    assert state.model.name == "my keras 98"
    for k, v in weights_of(7).items():
        assert np.array_equal(state.model.model.state_dict()[k].numpy(), v)
    image = np.zeros((28, 28), np.float32)
    image[4:24, 12:16] = 255
    state.input_image = InputImage(image, "drawing")
    qtbot.waitUntil(lambda: explorer.analysis is not None, timeout=10000)
    assert explorer.analysis.layer("conv1").shape == (64, 26, 26)
    explorer.shutdown()
    controller.shutdown()


def test_save_as_writes_a_file_cnnviz_predict_reads(lab, qtbot, tmp_path, capsys):
    from cnnviz.core.networks.weights import load_weights

    job = start(lab)
    job.push("started")
    run_epoch(job, 1, seed=2)
    job.push("finished")
    lab.controller.poll()
    path = tmp_path / "out.safetensors"
    with qtbot.waitSignal(lab.files.saved, timeout=10000):
        assert lab.save_as(str(path))
    loaded = load_weights(path)
    assert loaded.card["trained_in"] == "cnnviz training lab"
    assert loaded.card["batch_size"] == 128 and loaded.card["lr"] == pytest.approx(0.003)
    from PIL import Image

    from cnnviz.cli import main

    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = 255
    Image.fromarray(digit).save(tmp_path / "one.png")
    assert main(["predict", "--weights", str(path), "--json", str(tmp_path / "one.png")]) == 0
    out = capsys.readouterr().out
    assert '"prediction"' in out and '"probabilities"' in out
    # (evaluate opens --weights through the same load_weights; it reads 10,000 images)


@pytest.mark.made_ahead
def test_keep_finds_its_pictures_made_ahead(lab, qtbot, tmp_path, monkeypatch):
    """Once the test set is read, the pictures Keep calibrates on are made on a thread of
    their own; Keep then only runs the network over them (no step makes pictures)."""
    from cnnviz.core.basics import picture_cache
    from cnnviz.core.reading import verdict
    from cnnviz.ui.controllers import verdict as verdict_controller

    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(lab_files, "CALIBRATION_SHARE", 0.05)  # 10 to 20 pictures of each kind
    # (a thread of low priority may wait long on a busy machine; its priority is not tested)
    monkeypatch.setattr(verdict_controller, "lower_this_threads_priority", lambda: None)
    lab_files._views_cache.clear()
    verdict.measurement_outliers.cache_clear()
    job = start(lab)
    qtbot.waitUntil(lambda: lab.files.test_images is not None, timeout=30000)
    assert lab.files.tasks.join(timeout=120)  # the pictures made ahead
    made = [p.name.rsplit("-", 1)[0] for p in
            (tmp_path / "cache" / picture_cache.FOLDER).glob("*.npz")]
    assert made.count("user-view") == len(verdict.USER_PICTURES)
    assert made.count("measurement-outliers") == 1
    job.push("started")
    run_epoch(job, 1)
    job.push("finished")
    lab.controller.poll()
    steps = []
    lab.files.save_progress.connect(lambda step, share: steps.append(step))
    with qtbot.waitSignal(lab.files.saved, timeout=30000):
        assert lab.save_as(str(tmp_path / "out.safetensors"))
    assert "making the pictures users load (once)" not in steps
    assert steps[-1] == "writing the file"


def test_a_save_that_fails_says_so_and_gives_the_buttons_back(lab, qtbot, tmp_path):
    job = start(lab)
    job.push("started")
    run_epoch(job, 1)
    job.push("finished")
    lab.controller.poll()
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    with qtbot.waitSignal(lab.files.save_failed, timeout=30000):
        assert lab.save_as(str(blocker / "out.safetensors"))
        assert not lab.save_as_button.isEnabled()
    assert lab.message.text().startswith("Not saved:")
    assert lab.save_bar.isHidden()
    assert lab.keep_button.isEnabled() and lab.save_as_button.isEnabled()


def test_a_bad_name_is_said_and_nothing_written(lab, models_dir):
    job = start(lab)
    job.push("started")
    run_epoch(job, 1)
    job.push("finished")
    lab.controller.poll()
    lab.name_edit.setText("   ")
    assert not lab.keep()
    assert "give the network a name" in lab.message.text()
    assert not models_dir.exists() or not list(models_dir.iterdir())


def test_missing_training_set_is_said_with_a_download_and_a_folder(lab, tmp_path, mnist_dir):
    lab.set_data_dir(tmp_path)
    assert lab.data_banner.isVisibleTo(lab)
    assert "training set is not in" in lab.data_label.text()
    assert lab.download_button.toolTip() and lab.folder_button.toolTip()
    assert not lab.start()
    assert ScriptedJob.made == []
    lab.set_data_dir(mnist_dir)
    assert not lab.data_banner.isVisibleTo(lab)


def test_offline_download_says_so(lab, qtbot, tmp_path, monkeypatch):
    import urllib.request

    def offline(*_a, **_k):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setattr("cnnviz.core.datasets.download.RETRY_DELAY_S", 0.0)
    lab.set_data_dir(tmp_path)
    with qtbot.waitSignal(lab.files.download_failed, timeout=20000):
        lab.download()
    assert "offline" in lab.data_label.text()
    assert lab.download_button.isEnabled()


def test_closing_mid_training_ends_the_job(lab):
    job = start(lab)
    job.push("started")
    lab.controller.poll()
    lab.shutdown()
    assert job.closed and not lab.state.training and not lab.controller.timer.isActive()


def test_the_task_runner_runs_tasks_side_by_side_and_calls_back_on_the_gui_thread(qtbot):
    import threading

    from cnnviz.ui.controllers.runner import TaskRunner

    runner = TaskRunner("test")
    gate = threading.Event()
    results, errors, threads = [], [], []

    def note(value):
        threads.append(threading.current_thread() is threading.main_thread())
        results.append(value)

    runner.run(lambda: gate.wait(10) and "slow", note, name="slow")
    runner.run(lambda: "quick", note, name="quick")  # not held up by the slow one
    runner.run(lambda: 1 / 0, note, errors.append, name="broken")
    qtbot.waitUntil(lambda: results == ["quick"] and bool(errors), timeout=5000)
    assert errors == ["ZeroDivisionError: division by zero"] and runner.busy()
    gate.set()
    qtbot.waitUntil(lambda: results == ["quick", "slow"], timeout=5000)
    assert threads == [True, True] and runner.join(5)
    gate.clear()
    runner.run(lambda: gate.wait(10), note)
    assert not runner.shutdown(timeout=0.05)  # still running: it is waited for, briefly
    gate.set()
    assert runner.join(5)
    qtbot.wait(50)
    assert results == ["quick", "slow"]  # after shutdown no callback runs


def test_cell_members_against_a_loop():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 500)
    predictions = np.where(rng.random(400) < 0.8, labels[:400], rng.integers(0, 10, 400))
    confidence = rng.random(400)
    for t in range(10):
        for p in range(10):
            want = [i for i in range(400) if labels[i] == t and predictions[i] == p]
            got, count = lab_files.cell_members(labels, predictions, confidence, t, p, 1000)
            assert count == len(want) and sorted(got.tolist()) == want
            assert list(confidence[got]) == sorted(confidence[want], reverse=True)


# ---------------------------------------------------------------------------------------
# For real: the lab trains a tiny network in its child process


def test_lab_training_runs_for_real(qtbot, models_dir, monkeypatch, mnist_test, mnist_dir):
    """A few hundred images: the curves fill, pause, resume and stop reach the child, the
    epoch's confusion matrix is what the published weights give on the same test images
    (evaluated here with torch), train more goes on, the CNN explorer shows the network,
    and closing ends the child process."""
    from cnnviz.ui.controllers import AnalysisController

    monkeypatch.setenv("CNNVIZ_DATA_DIR", mnist_dir)
    state = AppState()
    state.catalogue = catalogue.shipped_entries()
    lab = TrainingLab(state)
    qtbot.addWidget(lab)
    lab.test_limit = 200
    lab.editor.text_edit.setText("conv 4 3, relu, maxpool 2, flatten, dense 10")
    assert lab.editor.apply_text()
    lab.settings.apply({"optimizer": "adam", "lr": 0.01, "batch_size": 16, "epochs": 2,
                        "schedule": "constant", "augment": False, "limit": 640})
    assert lab.start()
    job = lab.controller.job
    qtbot.waitUntil(lambda: len(lab.run.batch_losses) >= 3, timeout=180_000)
    lab.pause_button.click()
    qtbot.waitUntil(lambda: lab.controller.phase == RunPhase.PAUSED, timeout=30_000)
    lab.pause_button.click()
    qtbot.waitUntil(lambda: lab.controller.phase == RunPhase.RUNNING, timeout=30_000)
    qtbot.waitUntil(lambda: lab.last_epoch is not None and lab.controller.weights is not None,
                    timeout=120_000)
    lab.stop_button.click()
    qtbot.waitUntil(lambda: lab.controller.phase in (RunPhase.STOPPED, RunPhase.FINISHED, RunPhase.FAILED), timeout=30_000)
    assert lab.controller.phase is RunPhase.STOPPED, lab.message.text()
    assert lab.filter_view.image.image is not None  # the first conv's 4 filters
    # the confusion matrix shown against the weights kept, evaluated here
    images, labels = mnist_test
    net = lab.controller.current_model().model.eval()
    epoch = lab.controller.epochs[lab.controller.weights_epoch - 1]
    with torch.no_grad():
        predicted = net(torch.tensor(images[:200]).float()[:, None] / 255).argmax(1).numpy()
    confusion = np.zeros((10, 10), int)
    np.add.at(confusion, (labels[:200], predicted), 1)
    assert np.array_equal(np.asarray(epoch.confusion), confusion)
    assert epoch.test_accuracy == pytest.approx((predicted == labels[:200]).mean())
    shown = [[lab.confusion.item(r, c).text() for c in range(10)] for r in range(10)]
    assert shown == [[str(n) if n else "" for n in row] for row in confusion.tolist()]
    # train more on the same network, shown in the CNN explorer meanwhile
    controller = AnalysisController(state)
    before = len(lab.controller.epochs)
    lab.more_count.setValue(1)
    assert lab.train_more()
    lab.show_in_explorer()
    qtbot.waitUntil(lambda: lab.controller.phase in (RunPhase.STOPPED, RunPhase.FINISHED, RunPhase.FAILED), timeout=180_000)
    assert len(lab.controller.epochs) == before + 1, lab.message.text()
    qtbot.waitUntil(lambda: state.model is not None and state.model.card.get("epochs") == before + 1,
                    timeout=10_000)
    process = job._process if lab.controller.same_job else lab.controller.job._process
    lab.shutdown()
    controller.shutdown()
    assert process is None or not process.is_alive()


def test_the_unsure_threshold_is_stored_when_verdict_is_there(lab, qtbot, models_dir,
                                                              monkeypatch):
    """cnnviz.core.reading.verdict (another branch) may be missing; where it is, keeping a network
    stores its calibrate_for_card result as card["verdict"], measured on test images."""
    import sys
    import types

    calls = []

    def calibrate_for_card(model, images, dataset, **kwargs):
        calls.append((model, images.shape, dataset, kwargs))
        return {"score": "max_logit", "threshold": 4.5, "held_out": len(images)}

    made = []

    def user_views(images, dataset, share=1.0, progress=None):  # the test pictures as users' pictures
        made.append((images.shape, dataset, share))
        return {"tight_crop": np.zeros((3, 28, 28), np.float32)}

    monkeypatch.setattr(lab_files, "_views_cache", {})  # (none made for these images yet)
    fake = types.ModuleType("cnnviz.core.reading.verdict")
    fake.calibrate_for_card = calibrate_for_card
    fake.user_views = user_views
    monkeypatch.setitem(sys.modules, "cnnviz.core.reading.verdict", fake)
    job = start(lab)  # reads the test set on a worker
    qtbot.waitUntil(lambda: lab.files.test_images is not None, timeout=30000)
    job.push("started")
    run_epoch(job, 1)
    job.push("finished")
    lab.controller.poll()
    lab.name_edit.setText("calibrated")
    with qtbot.waitSignal(lab.files.saved, timeout=10000):
        lab.keep()
    [(model, shape, dataset, kw)] = calls
    assert shape == (lab_files.CALIBRATION_IMAGES, 28, 28) and dataset == "mnist"
    assert made == [((lab_files.CALIBRATION_IMAGES, 28, 28), "mnist", lab_files.CALIBRATION_SHARE)]
    assert list(kw["views"]) == ["tight_crop"]
    kept = catalogue.user_entries()[0][0].loaded
    assert kept.card["verdict"] == {"score": "max_logit", "threshold": 4.5, "held_out": 2000}


def test_a_run_that_blows_up_before_its_first_epoch_says_so(lab):
    """Adam at lr 1.0: no epoch finished, so nothing is kept and nothing can be shown; the
    progress bar stops counting down; the box takes a learning rate above 1."""
    lab.settings.lr.setValue(5.0)
    assert lab.settings.config().lr == 5.0
    job = start(lab)
    job.push("started")
    job.push("batch", epoch=1, batch=3, batches=100, loss=2.3, elapsed_s=1.0, eta_s=45.0)
    lab.controller.poll()
    assert "left" in lab.progress.format()  # counting down while it runs
    job.push("error",
             message="training stopped: the loss became nan in epoch 1, batch 4 (the learning "
                     "rate 5 is probably too high; try one ten times smaller).")
    lab.controller.poll()
    text = lab.message.text()
    assert lab.controller.phase == RunPhase.FAILED
    assert "Training stopped" in text and "No epoch finished" in text
    assert "last complete epoch" not in text and ".." not in text
    assert "left" not in lab.progress.format() and "no epoch finished" in lab.progress.format()
    assert not lab.follow_button.isEnabled() and not lab.finish_group.isEnabled()


def test_the_filters_panel_shows_what_training_changed(lab):
    """At their own scales random filters and learned ones look alike; 'Change since the
    start' shows now − start at one scale: here only filter 2 changed, and only it shows."""
    job = start(lab)
    job.push("started", epochs=2)
    start_filters = np.random.default_rng(1).normal(size=(9, 1, 3, 3)).astype(np.float32)
    job.push("filters", weights=start_filters)
    later = start_filters.copy()
    delta = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32) * 0.25
    later[2, 0] += delta
    job.push("filters", weights=later)
    lab.controller.poll()
    view = lab.filter_view
    view.mode.setCurrentIndex(view.mode.findData("change"))
    shown = view.image.image
    block = lambda i: shown[1 + (i // 3) * 4:1 + (i // 3) * 4 + 3, 1 + (i % 3) * 4:1 + (i % 3) * 4 + 3]  # noqa: E731
    np.testing.assert_allclose(block(2), delta / np.abs(delta).max(), atol=1e-6)
    assert all(np.abs(block(i)).max() == 0 for i in range(9) if i != 2)
    assert "0.5" in view.title.text  # the largest |Δw|
    view.mode.setCurrentIndex(view.mode.findData("now"))
    np.testing.assert_allclose(view.image.image[1:4, 1:4], start_filters[0, 0]
                               / np.abs(start_filters[0, 0]).max(), atol=1e-6)


def test_a_run_stopped_before_its_first_epoch_does_not_say_done(lab):
    job = start(lab)
    job.push("started")
    job.push("batch", epoch=1, batch=3, batches=100, loss=2.3, elapsed_s=1.0, eta_s=45.0)
    lab.controller.poll()
    lab.stop_button.click()
    job.push("stopped")
    lab.controller.poll()
    assert lab.controller.phase is RunPhase.STOPPED
    assert lab.progress.format() == "Stopped before the first epoch finished"
    assert not lab.finish_group.isEnabled() and not lab.more_button.isEnabled()

"""A training run and the files cnnviz writes, when things go wrong: a stopped run never
replaces a good model, a file's permissions survive a rewrite, a last batch of one image
with batch norm trains, a training process whose parent died stops, a broken
multi-process environment is one line, a picture named first opens the app, and memory
limits the system's free-memory figure cannot see are read before training."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_runs import one_line, run  # (tests/ is on sys.path)

from cnnviz.cli import main
from cnnviz.core.basics.files import FileProblem, write_atomically

ROOT = Path(__file__).resolve().parents[3]




def child_env(**extra) -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]), **extra)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ------------------------------------------------------------------ permissions of outputs


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_rewriting_a_private_file_keeps_it_private(tmp_path):
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"old")
    target.chmod(0o600)
    write_atomically(target, lambda fh: fh.write(b"new"))
    assert target.read_bytes() == b"new"
    assert mode_of(target) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_new_file_is_readable_by_others(tmp_path):
    target = tmp_path / "new.npy"
    write_atomically(target, lambda fh: fh.write(b"new"))
    assert mode_of(target) == 0o644


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_read_only_file_is_never_replaced(tmp_path):
    target = tmp_path / "export.png"
    target.write_bytes(b"keep me")
    target.chmod(0o400)
    with pytest.raises(FileProblem, match="read-only"):
        write_atomically(target, lambda fh: fh.write(b"new"))
    assert target.read_bytes() == b"keep me" and mode_of(target) == 0o400
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.png"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_filter_onto_a_read_only_output_is_one_line(tmp_path, capsys):
    picture = tmp_path / "in.png"
    from cnnviz.core.pictures.images import save_image

    save_image(picture, np.arange(64, dtype=np.float32).reshape(8, 8), normalize=True)
    target = tmp_path / "out.npy"
    target.write_bytes(b"keep me")
    target.chmod(0o400)
    out = run(capsys, "filter", str(picture), "--kernel", "sharpen", "-o", str(target))
    assert out.returncode == 1 and one_line(out.stderr), out.stderr
    assert "read-only" in out.stderr
    assert target.read_bytes() == b"keep me"


# ------------------------------------------------------------------ a stopped run's file

TINY = ["--arch", "lecture-keras", "--limit", "64", "--batch-size", "32", "--no-augment",
        "--outlier-exposure", "0", "--hold-out", "0"]


def test_a_stopped_run_leaves_the_good_model_and_names_its_side_file(
        tmp_path, capsys, monkeypatch, mnist_dir):
    """Ctrl-C after the first epoch: the model that was at --out is still there; the
    epoch went to OUT.partial.safetensors, which the one line names."""
    import signal

    from cnnviz.cli import train
    from cnnviz.core.networks.weights import load_weights

    out = tmp_path / "good.safetensors"
    out.write_bytes(b"a good model")
    first_epoch = train._EpochSaver.on_epoch

    def then_ctrl_c(self, res, model):
        first_epoch(self, res, model)
        os.kill(os.getpid(), signal.SIGINT)  # as a user's Ctrl-C, after the epoch's save

    monkeypatch.setattr(train._EpochSaver, "on_epoch", then_ctrl_c)
    got = run(capsys, "train", *TINY, "--epochs", "3", "--data-dir", mnist_dir,
              "--out", str(out))
    assert got.returncode == 130
    assert out.read_bytes() == b"a good model"
    side = tmp_path / "good.partial.safetensors"
    assert one_line(got.stderr) and str(side) in got.stderr, got.stderr
    assert load_weights(side).card["epochs"] == 1


def test_a_finished_run_replaces_the_file_and_removes_the_side_file(tmp_path, capsys, mnist_dir):
    from cnnviz.core.networks.weights import load_weights

    out = tmp_path / "good.safetensors"
    out.write_bytes(b"an old model")
    if os.name == "posix":
        out.chmod(0o600)
    got = run(capsys, "train", *TINY, "--epochs", "1", "--data-dir", mnist_dir, "--out", str(out))
    assert got.returncode == 0, got.stderr
    assert load_weights(out).card["epochs"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.safetensors"]
    if os.name == "posix":
        assert mode_of(out) == 0o600


# ------------------------------------------------------------------ a last batch of one

DENSE_BN = "conv 4 3, relu, maxpool 2, flatten, dense 16, bn, relu, dense 10"


def dense_bn_model():
    from cnnviz.core.networks.arch_text import resolve_architecture
    from cnnviz.core.networks.models import build_model

    return build_model(resolve_architecture(DENSE_BN), seed=0)


def test_a_last_batch_of_one_image_trains_with_batch_norm_after_dense(mnist_test):
    """5 images in batches of 2: the last batch holds one image, which batch norm after a
    dense layer cannot normalise ("Expected more than 1 value per channel"): it is left
    out of that epoch (a different image each epoch, as the order is shuffled)."""
    from cnnviz.core.training.loop import TrainConfig, train

    x, y = mnist_test
    steps = []
    result = train(dense_bn_model(), x[:5], y[:5],
                   TrainConfig(epochs=2, batch_size=2, augment=False, outlier_exposure=0),
                   on_batch=lambda b, total, loss: steps.append(total))
    assert len(result.epochs) == 2 and not result.diverged
    assert steps == [2, 2, 2, 2]  # two batches of two in each epoch


def test_batch_size_one_with_batch_norm_after_dense_is_refused_in_words(tmp_path, capsys, mnist_dir):
    got = run(capsys, "train", "--arch", DENSE_BN, "--batch-size", "1", "--outlier-exposure",
              "0", "--limit", "10", "--epochs", "1", "--data-dir", mnist_dir,
              "--out", str(tmp_path / "w.safetensors"))
    assert got.returncode == 1 and one_line(got.stderr), got.stderr
    assert "at least 2 images" in got.stderr and "Training" not in got.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_command_line_run_whose_last_batch_is_one_image_finishes(tmp_path, capsys, mnist_dir):
    """`--batch-size 3 --outlier-exposure 0` on the 58,000 images left after the hold-out
    (58,000 = 3 x 19,333 + 1) failed after an epoch's work; the same with --limit 7."""
    got = run(capsys, "train", "--arch", DENSE_BN, "--batch-size", "3", "--outlier-exposure",
              "0", "--limit", "7", "--hold-out", "0", "--epochs", "1", "--no-augment",
              "--data-dir", mnist_dir, "--out", str(tmp_path / "w.safetensors"))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "w.safetensors").is_file()


def test_batch_size_one_with_outlier_exposure_still_trains(mnist_test):
    """Outlier exposure adds non-digits to every batch, so batch norm sees two images."""
    from cnnviz.core.training.loop import TrainConfig, train

    x, y = mnist_test
    result = train(dense_bn_model(), x[:3], y[:3],
                   TrainConfig(epochs=1, batch_size=1, augment=False, outlier_exposure=0.5))
    assert len(result.epochs) == 1


# ------------------------------------------------------------------ a broken process group

GROUP_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                   "MASTER_PORT")
FULL_GROUP = {"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29511"}


@pytest.mark.parametrize("env, words", [
    ({"RANK": "abc", "WORLD_SIZE": "2"}, "RANK=abc"),
    ({"WORLD_SIZE": "2"}, "RANK"),
    ({"RANK": "1"}, "WORLD_SIZE"),
    ({"LOCAL_RANK": "0"}, "RANK"),
    ({**FULL_GROUP, "RANK": "3"}, "RANK=3"),
    ({**FULL_GROUP, "WORLD_SIZE": "0", "RANK": "0"}, "WORLD_SIZE=0"),
    ({**FULL_GROUP, "LOCAL_RANK": "x"}, "LOCAL_RANK=x"),
    ({**FULL_GROUP, "LOCAL_WORLD_SIZE": "5"}, "LOCAL_WORLD_SIZE=5"),
    ({"RANK": "0", "WORLD_SIZE": "2"}, "MASTER_ADDR"),
    ({**FULL_GROUP, "MASTER_PORT": "http"}, "MASTER_PORT=http"),
    ({**FULL_GROUP, "MASTER_PORT": "70000"}, "MASTER_PORT=70000"),
])
def test_a_broken_process_group_environment_is_one_line(tmp_path, capsys, monkeypatch,
                                                         mnist_dir, env, words):
    for name in GROUP_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    got = run(capsys, "train", *TINY, "--epochs", "1", "--data-dir", mnist_dir,
              "--out", str(tmp_path / "w.safetensors"))
    assert got.returncode == 1 and one_line(got.stderr), got.stderr
    assert words in got.stderr and "Training" not in got.stdout
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ a parent that died

LAB_PARENT = '''
import sys, time
from cnnviz.core.networks.models import get_architecture
from cnnviz.core.training.loop import TrainConfig
from cnnviz.core.training.job import BatchDone, TrainingJob

if __name__ == "__main__":
    job = TrainingJob(get_architecture("lecture-keras"), "mnist", sys.argv[1],
                      TrainConfig(epochs=1000, batch_size=16, augment=False), limit=2000,
                      test_limit=100, threads=1)
    job.start()
    while not any(isinstance(e, BatchDone) for e in job.poll()):
        time.sleep(0.05)
    print(job._process.pid, flush=True)
    time.sleep(600)
'''

CLI_PARENT = '''
import os, subprocess, sys, time

if __name__ == "__main__":
    log = sys.argv[2] + ".log"  # not a pipe: a closed pipe would stop it for another reason
    with open(log, "w") as out:
        child = subprocess.Popen([sys.executable, "-m", "cnnviz", "train", "--arch",
                                  "lecture-keras", "--epochs", "1000", "--limit", "2000",
                                  "--batch-size", "16", "--hold-out", "0",
                                  "--outlier-exposure", "0", "--data-dir", sys.argv[1],
                                  "--out", sys.argv[2]],
                                 env={**os.environ, "CNNVIZ_PARENT_PID": str(os.getpid())},
                                 stdout=out, stderr=subprocess.STDOUT)
    while "Training" not in open(log).read() and child.poll() is None:
        time.sleep(0.05)
    print(child.pid, flush=True)
    time.sleep(600)
'''


def gone(pid: int) -> bool:
    """The process has ended (a zombie nobody reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def orphan_ends(tmp_path, script: str, *args) -> bool:
    """Run `script` (which starts a training process and prints its id), kill it as a
    window is killed, and say whether the training process ends within a minute."""
    import signal

    path = tmp_path / "parent.py"
    path.write_text(script)
    parent = subprocess.Popen([sys.executable, str(path), *map(str, args)], cwd=ROOT,
                              env=child_env(), stdout=subprocess.PIPE, text=True)
    pid = None
    try:
        pid = int(parent.stdout.readline())
        parent.kill()  # SIGKILL: no chance to close the child
        parent.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not gone(pid):
            time.sleep(0.2)
        return gone(pid)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if pid is not None and not gone(pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
def test_the_labs_training_process_stops_when_the_window_is_killed(tmp_path, mnist_dir):
    assert orphan_ends(tmp_path, LAB_PARENT, mnist_dir)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="reads /proc")
def test_a_launched_training_stops_when_its_launcher_is_killed(tmp_path, mnist_dir):
    assert orphan_ends(tmp_path, CLI_PARENT, mnist_dir, tmp_path / "w.safetensors")
    assert not (tmp_path / "w.safetensors").exists()  # a stopped run leaves OUT alone


def test_the_launcher_tells_each_process_who_started_it(monkeypatch):
    from cnnviz.core.training import distributed

    seen = []

    class Started:
        returncode = 0

        def __init__(self, argv, env, **kwargs):
            seen.append(env)

        def poll(self):
            return 0

        def wait(self):
            return 0

    monkeypatch.setattr(distributed.subprocess, "Popen", Started)
    assert distributed.run_local(["train"], 2) == 0
    assert [env["CNNVIZ_PARENT_PID"] for env in seen] == [str(os.getpid())] * 2


# ------------------------------------------------------------------ a picture named first


@pytest.fixture
def window_opens(monkeypatch):
    """What `cnnviz FILE` asks the app to open (no window is started)."""
    from cnnviz.ui.window import app

    opened = []
    monkeypatch.setattr(app, "run_app", lambda image=None, data_dir=None, model_options=None:
                        opened.append(image) or 0)
    return opened


def test_a_picture_named_first_opens_the_app(tmp_path, window_opens, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("HOME", str(tmp_path))
    Image.new("L", (28, 28)).save(tmp_path / "photo.png")
    Image.new("L", (28, 28)).save(tmp_path / "scan", format="PNG")  # a picture by its content alone
    assert main([str(tmp_path / "photo.png")]) == 0
    assert main(["~/photo.png"]) == 0  # quoted, so the shell left the ~ alone
    assert main([str(tmp_path / "scan")]) == 0
    assert window_opens == [str(tmp_path / "photo.png")] * 2 + [str(tmp_path / "scan")]


@pytest.mark.parametrize("name", ["photo.png", "PHOTO.JPG", "model.keras"])
def test_a_missing_picture_or_model_is_one_line_not_an_invalid_command(tmp_path, capsys,
                                                                       window_opens, name):
    got = run(capsys, str(tmp_path / name))
    assert got.returncode == 1 and one_line(got.stderr), got.stderr
    assert "no such file" in got.stderr and "invalid choice" not in got.stderr
    assert window_opens == []


def test_a_mistyped_command_is_still_an_invalid_choice(capsys, window_opens):
    with pytest.raises(SystemExit):
        main(["trian"])
    assert "invalid choice: 'trian'" in capsys.readouterr().err and window_opens == []


# ------------------------------------------------------------------ memory limits

ALLOCATOR_ERROR = ("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough "
                   "memory: you tried to allocate 1073741824 bytes.")


@pytest.fixture
def cgroup(tmp_path, monkeypatch):
    """A control group's files, as under /sys/fs/cgroup (v2), with a 200 MB limit."""
    from cnnviz.core.networks import memory

    root = tmp_path / "cgroup"
    root.mkdir()
    (root / "memory.max").write_text(f"{200 * 2**20}\n")
    (root / "memory.current").write_text(f"{60 * 2**20}\n")
    (root / "memory.stat").write_text(f"anon {40 * 2**20}\ninactive_file {10 * 2**20}\n")
    monkeypatch.setattr(memory, "CGROUP_ROOT", root)
    return root


def test_a_control_groups_memory_limit_is_the_memory_there_is(cgroup):
    from cnnviz.core.networks import memory

    # 200 MB allowed, 60 MB used of which 10 MB is file cache the kernel can drop
    assert memory.available_memory_bytes() == (200 - 50) * 2**20


def test_no_limit_in_the_control_group_is_no_limit(cgroup):
    from cnnviz.core.networks import memory

    (cgroup / "memory.max").write_text("max\n")
    got = memory.available_memory_bytes()
    assert got is None or got > 200 * 2**20


def mapped_bytes() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux only")
def test_an_address_space_limit_is_the_memory_there_is(monkeypatch):
    """`ulimit -v`: what is left of it once this process's own mappings are taken off."""
    import resource

    from cnnviz.core.networks import memory

    real = resource.getrlimit
    limit = mapped_bytes() + 2**30
    monkeypatch.setattr(resource, "getrlimit", lambda which: (
        (limit, resource.RLIM_INFINITY) if which == resource.RLIMIT_AS else real(which)))
    got = memory.available_memory_bytes()
    assert got is not None and 2**30 - 64 * 2**20 <= got <= 2**30


def test_training_that_cannot_fit_under_the_limit_is_refused_with_the_numbers(
        tmp_path, capsys, cgroup, mnist_dir):
    got = run(capsys, "train", "--arch", "cnnviz", "--epochs", "1", "--limit", "2000",
              "--batch-size", "2000", "--no-augment", "--outlier-exposure", "0", "--hold-out",
              "0", "--data-dir", mnist_dir, "--out", str(tmp_path / "w.safetensors"))
    assert got.returncode == 1 and one_line(got.stderr), got.stderr
    assert "150.0 MB is available" in got.stderr and "200.0 MB" in got.stderr
    assert "memory.max" in got.stderr and "Training" not in got.stdout


@pytest.mark.parametrize("error", [MemoryError(), RuntimeError(ALLOCATOR_ERROR)])
def test_running_out_of_memory_while_training_is_one_line(tmp_path, capsys, monkeypatch,
                                                          mnist_dir, error):
    from cnnviz.core.training import loop as training

    def out_of_memory(*args, **kwargs):
        raise error

    monkeypatch.setattr(training, "train", out_of_memory)
    got = run(capsys, "train", *TINY, "--epochs", "1", "--data-dir", mnist_dir,
              "--out", str(tmp_path / "w.safetensors"))
    assert got.returncode == 1 and one_line(got.stderr), got.stderr
    assert "not enough memory" in got.stderr and "--batch-size" in got.stderr


@pytest.mark.parametrize("error", [MemoryError(), RuntimeError(ALLOCATOR_ERROR)])
def test_running_out_of_memory_in_predict_is_one_line_per_picture(tmp_path, capsys,
                                                                  monkeypatch, error):
    from PIL import Image

    from cnnviz.core.reading import inference

    def out_of_memory(*args, **kwargs):
        raise error

    Image.new("L", (28, 28)).save(tmp_path / "a.png")
    monkeypatch.setattr(inference, "analyze", out_of_memory)
    got = run(capsys, "predict", str(tmp_path / "a.png"))
    assert got.returncode == 1 and one_line(got.stderr), got.stderr
    assert "a.png: error: not enough memory" in got.stderr


def test_no_display_is_one_line_before_qt_starts(monkeypatch, capsys, window_opens):
    from cnnviz.ui.window.app import display_problem

    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    got = run(capsys, "gui")
    assert got.returncode == 1 and one_line(got.stderr) and "needs a display" in got.stderr
    assert window_opens == []  # Qt was never asked
    assert display_problem({"DISPLAY": ":0"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({}, "darwin") is None

"""On the command line: what a user or the machine gets wrong
ends in one clear line (no traceback, no hang, no out-of-memory kill, no lost file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runs import one_line, run  # (tests/ is on sys.path)

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--arch", "lecture-keras", "--epochs", "1", "--limit", "64", "--batch-size", "32",
        "--no-augment", "--hold-out", "0"]  # (no verdict to fix: these check files and locks)




def child_env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]))


# ----------------------------------------------------------------------------- item 3


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_weights_from_a_fifo_return_at_once_with_a_message(tmp_path, command):
    """Reading a FIFO nobody writes blocked forever; the child has a deadline."""
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    extra = [str(tmp_path / "any.png")] if command == "predict" else []
    out = subprocess.run([sys.executable, "-m", "cnnviz", command, *extra, "--weights", str(fifo)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT, env=child_env())
    assert out.returncode == 1 and out.stdout == ""
    assert one_line(out.stderr) and "not a regular weights file" in out.stderr, out.stderr


# ----------------------------------------------------------------------------- item 6


@pytest.mark.parametrize("seed", [2**70, 2**31, -1])
def test_a_seed_out_of_range_is_one_line(tmp_path, capsys, seed):
    out = run(capsys, "train", "--seed", str(seed), "--data-dir", str(tmp_path),
              "--out", str(tmp_path / "w.safetensors"))
    assert out.returncode == 1 and one_line(out.stderr), out.stderr
    assert "--seed must be a whole number from 0 to 2,147,483,647" in out.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("args", [["kernels"], ["data", "where"], ["summary", "lecture-keras"]])
def test_stdout_that_cannot_be_written_is_one_line(args):
    """`cnnviz kernels > /dev/full` was a traceback (a long output) or "Exception ignored"
    at exit (a short one, failing in Python's last flush)."""
    with open("/dev/full", "w") as full:
        out = subprocess.run([sys.executable, "-m", "cnnviz", *args], stdout=full,
                             stderr=subprocess.PIPE, text=True, timeout=120, cwd=ROOT,
                             env=child_env())
    assert out.returncode == 1
    assert one_line(out.stderr) and "Exception ignored" not in out.stderr, out.stderr
    assert "cannot write the output (No space left on device)" in out.stderr


def test_a_closed_pipe_is_quiet():
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz", "kernels"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT, env=child_env())
    # The reader goes away before the output is written (as `| head -1` does once it has
    # its line). Closing after reading a line raced: on a busy machine the 3 KB could all
    # be in the pipe before the close, and the command ended with 0, rightly.
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) != 0
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_no_numpy_warning_before_an_error_message():
    code = ("import sys\nimport numpy as np\nimport cnnviz.cli as cli\n"
            "def noisy(args):\n"
            "    np.float32(3e38) * np.float32(10)  # overflow encountered in scalar multiply\n"
            "    np.log(np.zeros(2))  # divide by zero encountered in log\n"
            "    raise cli.CliError('the real problem')\n"
            "cli.COMMANDS['kernels'] = noisy\n"
            "sys.exit(cli.main(['kernels']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=ROOT, env=child_env())
    assert out.returncode == 1
    assert out.stderr == "cnnviz kernels: error: the real problem\n"


def _data_folder_linking_mnist(tmp_path) -> Path:
    """A data folder whose mnist/ links to the real files (sizes right, contents real)."""
    from data_policy import need_data

    from cnnviz.core.datasets.data import get_dataset_info

    real = Path(need_data("mnist")) / "mnist"
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for part in get_dataset_info("mnist").files.values():
        (folder / part.name).symlink_to(real / part.name)
    return folder.parent


def test_an_unreadable_data_file_is_one_line(tmp_path, capsys, monkeypatch):
    """sha256_of's PermissionError was a traceback (`data verify`, `train`). Root reads any
    file, so the refusal is made where the operating system would make it."""
    import cnnviz.core.datasets.data as data

    data_dir = _data_folder_linking_mnist(tmp_path)

    def refused(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(data, "sha256_of", refused)
    out = run(capsys, "data", "verify", "mnist", "--data-dir", str(data_dir))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 4 and all(line.startswith("problem  cannot read ") for line in lines)
    assert all(line.endswith("Permission denied") for line in lines)
    out = run(capsys, "train", *TINY, "--data-dir", str(data_dir), "--out",
              str(tmp_path / "w.safetensors"))
    assert out.returncode == 1 and one_line(out.stderr), out.stderr
    assert "cannot read" in out.stderr and "Permission denied" in out.stderr


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_data_file_for_real(tmp_path, capsys):
    data_dir = _data_folder_linking_mnist(tmp_path)
    copy = data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz"
    target = copy.resolve()
    copy.unlink()
    copy.write_bytes(target.read_bytes())
    copy.chmod(0)
    out = run(capsys, "data", "verify", "mnist", "--data-dir", str(data_dir))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "problem  cannot read" in out.stdout


# ----------------------------------------------------------------------------- item 5


def test_a_batch_that_cannot_fit_is_refused_before_training(tmp_path, capsys, monkeypatch, mnist_test):
    """`train --batch-size 60000` was killed by the out-of-memory killer on a 24 GB machine
    without a word. The machine's free memory is fixed here so the test means the same on
    any machine (and never really tries)."""
    import cnnviz.core.networks.memory as memory

    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 24 * 2**30)
    out = run(capsys, "train", "--batch-size", "60000", "--epochs", "1",
              "--out", str(tmp_path / "w.safetensors"))
    assert out.returncode == 1 and one_line(out.stderr), out.stderr
    assert "epoch" not in out.stdout and "Training" not in out.stdout
    err = out.stderr
    assert "--batch-size 60000: a batch of 58,000 images needs about" in err
    assert "24.0 GB is available" in err and "give a smaller --batch-size" in err
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- item 9


def test_adam_with_a_huge_learning_rate_is_divergence_not_done(tmp_path, capsys, mnist_test):
    """It ended "Done" with a loss of 6e31: every number finite, none of them useful."""
    target = tmp_path / "w.safetensors"
    out = run(capsys, "train", "--arch", "lecture-keras", "--optimizer", "adam", "--lr", "1e10",
              "--epochs", "1", "--limit", "512", "--batch-size", "64", "--no-augment",
              "--out", str(target))
    assert out.returncode == 1 and one_line(out.stderr), out.stderr
    assert out.stderr.startswith("Stopped: the loss became ") and "diverged" in out.stderr
    assert "learning rate 1e+10" in out.stderr and "nothing written" in out.stderr
    assert "Done" not in out.stdout and not target.exists()


@pytest.mark.parametrize("make, words", [
    (lambda tmp: tmp / "missing" / "w.safetensors", "the folder"),
    (lambda tmp: (tmp / "file").write_text("x") and tmp / "file" / "w.safetensors", "is a file"),
])
def test_an_unusable_out_is_refused_before_training(tmp_path, capsys, make, words):
    target = make(tmp_path)
    out = run(capsys, "train", *TINY, "--out", str(target))
    assert out.returncode == 1 and one_line(out.stderr), out.stderr
    assert words in out.stderr and out.stdout == ""


@pytest.mark.parametrize("errno_name, words", [("EROFS", "Read-only file system"),
                                               ("ENOSPC", "No space left on device")])
def test_a_read_only_or_full_folder_is_found_by_writing_a_probe(tmp_path, capsys, monkeypatch,
                                                                errno_name, words):
    """Root may write anywhere it may not on a read-only or full disk: the refusal is made
    where such a disk makes it (the probe's write), and the probe never stays."""
    import errno

    import cnnviz.core.training.run_output as run_output

    code = getattr(errno, errno_name)

    class Refusing:
        def __init__(self, fd, mode):
            os.close(fd)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, data):
            raise OSError(code, os.strerror(code))

    monkeypatch.setattr(run_output.os, "fdopen", Refusing)
    out = run(capsys, "train", *TINY, "--out", str(tmp_path / "w.safetensors"))
    assert out.returncode == 1 and one_line(out.stderr), out.stderr
    assert words in out.stderr and out.stdout == ""
    assert list(tmp_path.iterdir()) == []


def _finished_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_second_training_to_the_same_out_is_refused(tmp_path, capsys, mnist_dir):
    target = tmp_path / "w.safetensors"
    proc = subprocess.Popen([sys.executable, "-m", "cnnviz", "train", "--arch", "lecture-keras",
                             "--epochs", "50", "--limit", "1500", "--out", str(target)],
                            cwd=ROOT, env=child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()  # "Training ...": the lock is taken before it
        assert first.startswith("Training"), first + proc.stderr.read()
        out = run(capsys, "train", *TINY, "--out", str(target))
        assert out.returncode == 1 and one_line(out.stderr), out.stderr
        assert f"another training (process {proc.pid}) is writing {target}" in out.stderr
        assert (tmp_path / "w.safetensors.lock").read_text().strip() == str(proc.pid)
    finally:
        proc.kill()
        proc.communicate()


def test_a_lock_held_by_a_live_process_is_respected(tmp_path, capsys):
    target = tmp_path / "w.safetensors"
    (tmp_path / "w.safetensors.lock").write_text(f"{os.getppid()}\n")
    out = run(capsys, "train", *TINY, "--out", str(target))
    assert out.returncode == 1 and one_line(out.stderr)
    assert f"process {os.getppid()}" in out.stderr and "delete" in out.stderr
    assert not target.exists()


def test_a_stale_lock_and_a_killed_save_are_cleaned_up(tmp_path, capsys, mnist_test):
    """A lock whose process is gone is taken over; the .part a killed save left is removed
    (with a note); a download's resumable .part in the same folder is kept."""
    target = tmp_path / "w.safetensors"
    lock = tmp_path / "w.safetensors.lock"
    lock.write_text(f"{_finished_pid()}\n")
    litter = tmp_path / ".w.safetensors.k3j2x9_a.part"
    litter.write_bytes(b"half a file")
    download = tmp_path / "train-images-idx3-ubyte.gz.part"
    download.write_bytes(b"resumable")
    other = tmp_path / ".other.safetensors.k3j2x9_a.part"  # another output's: not ours to take
    other.write_bytes(b"x")
    out = run(capsys, "train", *TINY, "--out", str(target))
    assert out.returncode == 0, out.stderr
    assert f"note: removed {litter.name}, left by a save of w.safetensors" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name, download.name, other.name])  # lock released, litter gone

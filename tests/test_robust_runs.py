"""A training run and the files cnnviz writes, when things go wrong: a stopped run never
replaces a good model, a file's permissions survive a rewrite, a last batch of one image
with batch norm trains, a training process whose parent died stops, a broken
multi-process environment is one line, a picture named first opens the app, and memory
limits the system's free-memory figure cannot see are read before training."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from cnnviz.cli import main
from cnnviz.core.files import FileProblem, write_atomically

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *args):
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return SimpleNamespace(returncode=code, stdout=captured.out, stderr=captured.err)


def one_line(text: str) -> bool:
    return text.count("\n") == 1 and "Traceback" not in text


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
    from cnnviz.core.images import save_image

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

    from cnnviz import cli
    from cnnviz.core.weights import load_weights

    out = tmp_path / "good.safetensors"
    out.write_bytes(b"a good model")
    first_epoch = cli._EpochSaver.on_epoch

    def then_ctrl_c(self, res, model):
        first_epoch(self, res, model)
        os.kill(os.getpid(), signal.SIGINT)  # as a user's Ctrl-C, after the epoch's save

    monkeypatch.setattr(cli._EpochSaver, "on_epoch", then_ctrl_c)
    got = run(capsys, "train", *TINY, "--epochs", "3", "--data-dir", mnist_dir,
              "--out", str(out))
    assert got.returncode == 130
    assert out.read_bytes() == b"a good model"
    side = tmp_path / "good.partial.safetensors"
    assert one_line(got.stderr) and str(side) in got.stderr, got.stderr
    assert load_weights(side).card["epochs"] == 1


def test_a_finished_run_replaces_the_file_and_removes_the_side_file(tmp_path, capsys, mnist_dir):
    from cnnviz.core.weights import load_weights

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

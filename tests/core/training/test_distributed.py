"""Training in two processes (torch.distributed, gloo on 127.0.0.1) runs the one training
loop: every option works with --nproc (--init, --hold-out, --limit), a blown-up loss
stops both processes with one message, and bad options are refused before any starts."""

from __future__ import annotations

import os

import pytest
import torch

from cnnviz.cli import main
from cnnviz.core.datasets.data import load_split
from cnnviz.core.networks.weights import load_shipped, load_weights, shipped_weights_path
from cnnviz.core.training.loop import Parallel

TINY = "conv 4 3, bn, relu, maxpool 2, flatten, dense 10"


@pytest.fixture(scope="module")
def data_dir(mnist_test):
    return os.environ.get("CNNVIZ_DATA_DIR")


def train(tmp_path, data_dir, *options, arch=TINY, augment=False):
    out = tmp_path / "out" / "ddp.safetensors"
    out.parent.mkdir(exist_ok=True)
    code = main(["train", "--arch", arch, "--nproc", "2", "--data-dir", str(data_dir),
                 "--out", str(out), "--outlier-exposure", "0", *options,
                 *([] if augment else ["--no-augment"])])
    return code, out


def accuracy(loaded, data_dir) -> float:
    x, y = load_split("mnist", "test", data_dir)
    with torch.no_grad():
        logits = loaded.model.eval()(torch.tensor(x, dtype=torch.float32)[:, None] / 255)
    return float((logits.argmax(1).numpy() == y).mean())


def test_each_process_takes_its_own_share_of_every_epoch():
    for n in (320, 321):
        shares = [Parallel(rank, 2).share(n, seed=5, epoch=1) for rank in (0, 1)]
        assert [len(s) for s in shares] == [(n + 1) // 2] * 2
        assert set(shares[0].tolist()) | set(shares[1].tolist()) == set(range(n))
        if n % 2 == 0:
            assert not set(shares[0].tolist()) & set(shares[1].tolist())
    # a new shuffle every epoch, the same in every process
    assert not torch.equal(Parallel(0, 2).share(320, 5, 1), Parallel(0, 2).share(320, 5, 2))
    assert torch.equal(Parallel(1, 2).share(320, 5, 3), Parallel(1, 2).share(320, 5, 3))


def test_two_processes_write_one_file_with_every_image_trained_on(tmp_path, data_dir, capfd):
    code, out = train(tmp_path, data_dir, "--epochs", "2", "--batch-size", "64",
                      "--optimizer", "adam", "--lr", "0.01", "--schedule", "constant",
                      "--seed", "5", "--limit", "320", "--hold-out", "0")
    printed = capfd.readouterr()
    assert code == 0, printed.err
    assert printed.out.count("epoch   2/2") == 1  # one process speaks
    assert [p.name for p in out.parent.iterdir()] == ["ddp.safetensors"]  # one file, no temp
    loaded = load_weights(out)
    assert loaded.card["processes"] == 2 and loaded.card["epochs"] == 2
    assert loaded.card["train_images"] == 320
    # the card's accuracy is the saved network's, evaluated here on the same test set
    assert loaded.card["test_accuracy"] == pytest.approx(accuracy(loaded, data_dir))
    bn = loaded.model.layers["bn1"]
    assert bn.num_batches_tracked.item() == 2 * 5  # 160 images each, in batches of 32
    assert torch.all(bn.running_var > 0)


def test_init_and_hold_out_work_in_two_processes(tmp_path, data_dir, capfd):
    """Fine-tuning the shipped model at a learning rate of 1e-9 keeps its accuracy (it
    starts from its weights, not from random ones); --hold-out N trains on 60,000 − N."""
    shipped = load_shipped("cnnviz").card["test_accuracy"]
    code, out = train(tmp_path, data_dir, "--init", str(shipped_weights_path("cnnviz")),
                      "--lr", "1e-9", "--optimizer", "sgd", "--schedule", "constant",
                      "--epochs", "1", "--batch-size", "256", "--hold-out", "59000",
                      arch="cnnviz")
    assert code == 1 and "--hold-out must be from 0 to 30,000" in capfd.readouterr().err
    code, out = train(tmp_path, data_dir, "--init", str(shipped_weights_path("cnnviz")),
                      "--lr", "1e-9", "--optimizer", "sgd", "--schedule", "constant",
                      "--epochs", "1", "--batch-size", "256", "--hold-out", "1500",
                      "--limit", "3000",
                      arch="cnnviz", augment=True)  # as it was trained: batch norm's statistics
    printed = capfd.readouterr()
    assert code == 0, printed.err
    loaded = load_weights(out)
    assert loaded.card["train_images"] == 3000 and loaded.card["init"]
    assert abs(accuracy(loaded, data_dir) - shipped) <= 0.001
    assert loaded.card["verdict"]["held_out"] == 1500  # calibrated on the held-out images
    # without --limit, --hold-out N trains on the other 60,000 − N (said before the first
    # batch; a learning rate that blows up at once spares the run and its calibration)
    code, out = train(tmp_path, data_dir, "--epochs", "1", "--batch-size", "512",
                      "--hold-out", "29000", "--optimizer", "sgd", "--lr", "1e35",
                      "--schedule", "constant")
    printed = capfd.readouterr()
    assert code == 1 and "(31,000 images)" in printed.out, printed


def test_a_blown_up_loss_stops_both_processes_with_one_message(tmp_path, data_dir, capfd):
    code, out = train(tmp_path, data_dir, "--epochs", "1", "--batch-size", "64",
                      "--optimizer", "sgd", "--lr", "1e35", "--schedule", "constant",
                      "--limit", "320", "--hold-out", "0")
    err = capfd.readouterr().err
    assert code == 1
    assert err.count("Stopped:") == 1 and "probably too high" in err, err
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("options, words", [
    (["--init", "no-such-file.safetensors"], "no such file"),
    (["--nproc", "999"], "more than this machine's"),
])
def test_bad_options_are_refused_before_any_process_starts(tmp_path, data_dir, capfd,
                                                           options, words):
    code, out = train(tmp_path, data_dir, "--epochs", "1", "--limit", "64", *options)
    err = capfd.readouterr().err
    assert code == 1 and words in err and err.count("\n") == 1, err
    assert not out.exists()


def test_the_memory_estimate_applies_to_each_process(tmp_path, data_dir, capfd, monkeypatch):
    from cnnviz.core.networks import memory

    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 64 * 2**20)
    code, out = train(tmp_path, data_dir, "--epochs", "1", "--batch-size", "60000",
                      arch="cnnviz")
    err = capfd.readouterr().err
    assert code == 1 and "--batch-size 60000" in err and "smaller --batch-size" in err, err

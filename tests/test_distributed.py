"""Two training processes (torch.distributed, gloo on 127.0.0.1): each trains on its own
half of every epoch, and the result is one valid weights file written by rank 0."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from cnnviz.core.arch_text import parse_architecture
from cnnviz.core.data import load_split
from cnnviz.core.distributed import DistributedTrainingError, run_local, setup_from
from cnnviz.core.training import TrainConfig
from cnnviz.core.weights import load_weights

ARCH = parse_architecture("conv 4 3, bn, relu, maxpool 2, flatten, dense 10", name="tiny-bn")


@pytest.fixture(scope="module")
def data_dir():
    folder = os.environ.get("CNNVIZ_DATA_DIR")
    try:
        load_split("mnist", "test", folder)
    except Exception:  # noqa: BLE001
        pytest.skip("needs the MNIST files (CNNVIZ_DATA_DIR)")
    return folder


def test_two_processes_each_train_on_their_half_and_write_one_file(tmp_path, data_dir):
    logs, out_dir = tmp_path / "logs", tmp_path / "out"
    logs.mkdir()
    out_dir.mkdir()
    out = out_dir / "ddp.safetensors"
    config = TrainConfig(epochs=2, batch_size=64, optimizer="adam", lr=0.01,
                         schedule="constant", augment=False, seed=5)
    run_local(setup_from(ARCH, config, "mnist", data_dir, out, {"dataset": "mnist"},
                         limit=320, shard_log_dir=logs), nproc=2)
    for epoch in (1, 2):
        halves = [np.load(logs / f"rank{rank}-epoch{epoch}.npy") for rank in (0, 1)]
        assert [len(h) for h in halves] == [160, 160]
        assert not set(halves[0]) & set(halves[1])
        assert sorted(np.concatenate(halves)) == list(range(320))
    # set_epoch: the second epoch is shuffled differently from the first
    assert not np.array_equal(np.load(logs / "rank0-epoch1.npy"), np.load(logs / "rank0-epoch2.npy"))
    assert [p.name for p in out_dir.iterdir()] == ["ddp.safetensors"]  # one file, no temp
    loaded = load_weights(out)
    assert loaded.model.arch.layers == ARCH.layers
    assert loaded.card["processes"] == 2 and loaded.card["epochs"] == 2
    # the card's accuracy is the saved network's, evaluated here on the same test set
    x, y = load_split("mnist", "test", data_dir)
    with torch.no_grad():
        logits = loaded.model.eval()(torch.tensor(x, dtype=torch.float32)[:, None] / 255)
    accuracy = float((logits.argmax(1).numpy() == y).mean())
    assert loaded.card["test_accuracy"] == pytest.approx(accuracy)
    assert accuracy > 0.5
    bn = loaded.model.layers["bn1"]
    assert bn.num_batches_tracked.item() == 2 * 5  # 160 images in batches of 32, two epochs
    assert torch.all(bn.running_var > 0)


def test_a_nan_loss_stops_both_processes_with_a_message(tmp_path, data_dir):
    config = TrainConfig(epochs=1, batch_size=64, optimizer="sgd", lr=1e35,
                         schedule="constant", augment=False)
    with pytest.raises(DistributedTrainingError, match="NaN or infinite"):
        run_local(setup_from(ARCH, config, "mnist", data_dir, tmp_path / "x.safetensors", {},
                             limit=320), nproc=2)
    assert not (tmp_path / "x.safetensors").exists()

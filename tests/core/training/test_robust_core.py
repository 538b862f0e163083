"""In the core: the training memory estimate (checked against what
torch really computes), the divergence watch, and a training output's lock and leftovers."""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np
import pytest
import torch

from cnnviz.core.networks import memory
from cnnviz.core.networks.models import build_model, get_architecture
from cnnviz.core.training.divergence import DivergenceWatch
from cnnviz.core.training.run_output import OutputLock, leftover_parts, writing_problem

# ----------------------------------------------------------------------------- memory


@pytest.mark.parametrize("name", ["cnnviz", "lecture-keras", "lecture-deep"])
def test_the_estimate_counts_what_torch_computes(name):
    """Every layer's output size, counted by forward hooks on the real torch module."""
    model = build_model(name, seed=0).eval()
    counted = []
    for layer in model.layers.values():
        layer.register_forward_hook(lambda _m, _i, out: counted.append(out[0].numel()))
    with torch.no_grad():
        model(torch.zeros(2, 1, 28, 28))
    if model.ends_in_softmax:  # forward leaves the softmax out; it is one more 10-vector
        counted.append(10)
    params = sum(p.numel() for p in model.parameters())
    est = memory.estimate_training_memory(get_architecture(name), 100, 60_000, 10_000)
    per_image_values = sum(counted) + 3 * 28 * 28
    assert est.per_image_bytes == int(per_image_values * 4 * memory.ACTIVATION_FACTOR)
    assert est.batch_bytes == 100 * est.per_image_bytes
    assert est.model_bytes == params * 4 * 4  # weights, gradients, Adam's two moments
    assert est.data_bytes == 70_000 * 784 * 5  # float32 tensors and the uint8 arrays


def test_a_batch_is_never_larger_than_the_training_set():
    arch = get_architecture("cnnviz")
    assert (memory.estimate_training_memory(arch, 60_000, 64).batch_bytes
            == memory.estimate_training_memory(arch, 64, 64).batch_bytes)


def test_what_fits_and_what_does_not():
    arch = get_architecture("cnnviz")
    est = memory.estimate_training_memory(arch, 128, 60_000, 10_000)
    have = 24 * 2**30
    assert memory.training_memory_problem(arch, 128, 60_000, 10_000, available=have) is None
    problem = memory.training_memory_problem(arch, 60_000, 60_000, 10_000, available=have)
    assert problem.startswith("a batch of 60,000 images needs about ")
    largest = est.largest_batch(have)
    assert memory.training_memory_problem(arch, largest, 60_000, 10_000, available=have) is None
    assert memory.training_memory_problem(arch, largest + 1, 60_000, 10_000, available=have)
    assert f"at most about {largest // 1000 * 1000:,} images fits" in problem  # 2 digits
    tiny = memory.training_memory_problem(arch, 1, 60_000, 10_000, available=2**20)
    assert "not even one image per batch fits" in tiny


def test_unknown_memory_means_no_refusal(monkeypatch):
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: None)
    assert memory.training_memory_problem(get_architecture("cnnviz"), 10**6, 60_000) is None


@pytest.mark.skipif(not os.path.exists("/proc/meminfo"), reason="Linux only")
def test_available_memory_is_memavailable():
    with open("/proc/meminfo") as fh:
        kib = next(int(line.split()[1]) for line in fh if line.startswith("MemAvailable:"))
    got = memory.available_memory_bytes()
    assert abs(got - kib * 1024) < 2**30  # read a moment apart: it moves a little


def test_a_gpu_is_judged_by_its_own_free_memory(monkeypatch):
    monkeypatch.setattr(memory, "device_memory_bytes", lambda device: 2**30)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 2**40)
    problem = memory.training_memory_problem(get_architecture("cnnviz"), 60_000, 60_000,
                                             device=torch.device("cuda"))
    assert "on the GPU" in problem and "1.0 GB is available" in problem


# ----------------------------------------------------------------------------- divergence


def test_a_real_training_curve_never_alarms():
    """Losses of a real run (lecture-keras, Adam 0.003, 30 batches) and of a long noisy
    one that gets very good: neither is divergence."""
    from cnnviz.core.training.loop import TrainConfig, train

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (960, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, 960)
    seen = []
    result = train(build_model("lecture-keras", seed=0), x, y,
                   TrainConfig(epochs=1, batch_size=32, augment=False, schedule="constant"),
                   on_batch=lambda i, n, loss: seen.append(loss), device=torch.device("cpu"))
    assert result.diverged is None and len(seen) == 30
    watch = DivergenceWatch()
    good = 2.3 * np.exp(-np.arange(3000) / 300) + 0.0005
    noisy = good * rng.lognormal(0, 1.0, good.size)  # single batches 10x their neighbours
    assert all(watch.add(v) is None for v in noisy)


@pytest.mark.parametrize("losses, words", [
    ([2.3, 2.1, 3e9], "the loss became"),
    ([2.3, 1.0, math.nan], "the loss became nan"),
    ([2.3, math.inf], "the loss became inf"),
    ([1e308, 1e308], "the loss became inf"),  # finite losses whose mean is not
])
def test_a_jump_or_a_non_number_is_divergence(losses, words):
    watch = DivergenceWatch()
    said = [watch.add(v) for v in losses]
    assert all(s is None for s in said[:-1]) and words in said[-1]


def test_steady_growth_alarms_once_the_loss_is_orders_of_magnitude_up():
    watch = DivergenceWatch()
    losses = [2.3 * 2.0**k for k in range(40)]  # doubling every batch
    first = next(i for i, v in enumerate(losses) if watch.add(v))
    window_mean = np.mean(losses[max(0, first - 4):first + 1])
    assert window_mean >= 1000 * 2.3 > np.mean(losses[max(0, first - 5):first])


def test_a_very_good_run_does_not_alarm_at_an_ordinary_loss():
    watch = DivergenceWatch()
    for v in [0.001] * 50 + [1.0] * 10:
        assert watch.add(v) is None
    assert "training diverged" in watch.add(1e6)  # 1,000x the floor of 0.01, at once


# ----------------------------------------------------------------------------- run output


def test_the_lock_is_exclusive_and_released(tmp_path):
    out = tmp_path / "w.safetensors"
    with OutputLock(out) as lock:
        assert lock.lock.read_text().strip() == str(os.getpid())
        with pytest.raises(OSError, match="another training"):
            OutputLock(out).acquire()
    assert not (tmp_path / "w.safetensors.lock").exists()


def test_an_empty_lock_is_stale_only_when_old(tmp_path):
    out = tmp_path / "w.safetensors"
    lock = tmp_path / "w.safetensors.lock"
    lock.write_text("")  # a run starting this instant has not written its pid yet
    with pytest.raises(OSError, match="another training is writing"):
        OutputLock(out).acquire()
    os.utime(lock, (0, 0))  # left empty long ago: a run killed in that instant
    with OutputLock(out):
        pass


def test_leftover_parts_match_only_killed_saves_of_this_output(tmp_path):
    from cnnviz.core.basics.files import write_atomically

    out = tmp_path / "w.safetensors"

    def killed(fh):
        fh.write(b"half")
        raise SystemExit  # the process dies mid-save: write_atomically cleans up; kill -9 not

    with pytest.raises(SystemExit):
        write_atomically(out, killed)
    assert leftover_parts(out) == []  # a clean exit leaves nothing
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=tmp_path)
    os.close(fd)  # what kill -9 during write_atomically leaves: its own naming
    (tmp_path / "w.safetensors.gz.part").write_bytes(b"")
    (tmp_path / ".w.safetensorsX.abc.part").write_bytes(b"")
    assert [p.name for p in leftover_parts(out)] == [os.path.basename(name)]


def test_writing_problem_leaves_no_probe(tmp_path):
    assert writing_problem(tmp_path / "w.safetensors") is None
    assert list(tmp_path.iterdir()) == []
    assert "does not exist" in writing_problem(tmp_path / "no" / "w.safetensors")

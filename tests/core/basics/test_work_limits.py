"""Files inside every size limit that still asked for minutes or gigabytes: a network whose
every picture needs hundreds of billions of multiply-adds, a weights header of 99 MB, a
colour picture filtered channel by channel into three 49-megapixel maps per stage. Each is
refused from the numbers, before the work, in words with the number. (The peak memory is
measured in benchmarks/bench_untrusted_memory.py.)"""

from __future__ import annotations

import json
import struct
import time

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from cnnviz.core.basics.limits import (
    MAX_HEADER_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_MULTIPLY_ADDS,
    multiply_adds,
)
from cnnviz.core.convolution.filter_settings import KernelSettings
from cnnviz.core.convolution.filtering import run_pipeline
from cnnviz.core.networks.models import (
    ARCHITECTURES,
    Activation,
    Architecture,
    Conv,
    Dense,
    Flatten,
    Network,
    Pool,
    summarize,
)
from cnnviz.core.networks.weights import (
    FORMAT,
    SHIPPED,
    WeightsError,
    check_computes_numbers,
    load_shipped,
    load_weights,
)


def _flops_by_torch(arch: Architecture) -> int:
    """What torch counts for one picture: 2 per multiply-add of conv and matmul."""
    net = Network(arch).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.zeros(1, *arch.input_shape))
    return counter.get_total_flops()


GROUPED = Architecture("grouped", "", (
    Conv(16, (3, 3), padding=(1, 1)), Activation("relu"),
    Conv(32, (3, 5), (2, 1), (2, 1), groups=4, dilation=(2, 1)), Activation("relu"),
    Conv(32, (3, 3), groups=32), Flatten(), Dense(64), Dense(10)), input_shape=(3, 32, 30))


@pytest.mark.parametrize("arch", [ARCHITECTURES["all-conv"], ARCHITECTURES["fully-connected"],
                                  GROUPED],
                         ids=lambda a: a.name)
def test_multiply_adds_are_what_torch_counts(arch):
    """Networks without pooling: torch's counter leaves pooling out."""
    assert 2 * multiply_adds(summarize(arch)) == _flops_by_torch(arch)


def test_pooling_counts_the_values_its_windows_read():
    arch = ARCHITECTURES["lecture-keras"]
    pools = [i for i in summarize(arch) if i.kind == "pool"]
    windows = sum(int(np.prod(i.output_shape)) * 4 for i in pools)  # 2×2 windows
    assert multiply_adds(summarize(arch)) == _flops_by_torch(arch) // 2 + windows


def _resnet18_sized() -> Architecture:
    """ResNet-18's convolutions on a 224×224 colour picture, as one chain (the shortcut
    additions cost nothing next to them): 1.8e9 multiply-adds."""
    layers = [Conv(64, (7, 7), (2, 2), (3, 3)), Activation("relu"), Pool("max", 2, 2)]
    for width, first_stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for i in range(4):
            stride = first_stride if i == 0 else 1
            layers += [Conv(width, (3, 3), (stride, stride), (1, 1)), Activation("relu")]
    layers += [Pool("avg", 7, 7), Flatten(), Dense(1000)]
    return Architecture("resnet18-sized", "", tuple(layers), input_shape=(3, 224, 224))


def test_every_real_network_fits():
    work = multiply_adds(summarize(_resnet18_sized()))
    assert 1.7e9 < work < 2.0e9 and work < MAX_MULTIPLY_ADDS
    for name in SHIPPED:
        assert multiply_adds(load_shipped(name).model.layer_infos) < 2e7


# Inside every other limit: 1,024 channels, kernels of 15, padding 16, under 8,000,000
# values per layer and 50,000,000 parameters.
WIDE = Architecture("wide", "", (
    Conv(64, (3, 3), padding=(16, 16)), Conv(64, (15, 15), padding=(16, 16)),
    Conv(64, (15, 15), padding=(16, 16)), Conv(64, (15, 15), padding=(16, 16)),
    Flatten(), Dense(10)))


def _header_only_file(tmp_path, arch: Architecture):
    """A cnnviz weights header with no tensor data at all: whatever reads tensors or runs
    the network fails, so only a refusal from the header passes."""
    header = json.dumps({"__metadata__": {"format": FORMAT, "architecture": arch.to_json(),
                                          "card": "{}"}}).encode()
    header += b" " * (-len(header) % 8)
    path = tmp_path / "wide.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    return path


def test_a_network_past_the_work_limit_is_refused_from_its_header(tmp_path):
    work = multiply_adds(summarize(WIDE))
    assert work > MAX_MULTIPLY_ADDS
    start = time.perf_counter()
    with pytest.raises(WeightsError, match=f"takes {work:,} multiply-adds") as info:
        load_weights(_header_only_file(tmp_path, WIDE))
    assert f"{MAX_MULTIPLY_ADDS:,}" in str(info.value)
    assert time.perf_counter() - start < 5


def test_a_network_past_the_work_limit_is_never_run(monkeypatch):
    """check_computes_numbers (every weights file, Keras's too) says so before it runs."""
    net = Network(WIDE)

    def run(*args, **kwargs):
        raise AssertionError("the network was run")

    monkeypatch.setattr(Network, "layer_outputs", run)
    with pytest.raises(WeightsError, match="multiply-adds"):
        check_computes_numbers(net)


# --------------------------------------------------------------------------- headers


def test_a_header_larger_than_any_cnnviz_header_is_refused_before_parsing(tmp_path):
    body = b'{"a": [' + b"{}," * (MAX_HEADER_BYTES // 3) + b"{}]}"
    body += b" " * (-len(body) % 8)
    path = tmp_path / "empty-objects.safetensors"
    path.write_bytes(struct.pack("<Q", len(body)) + body)
    with pytest.raises(WeightsError, match=f"header is {len(body):,} bytes"):
        load_weights(path)


def test_the_shipped_headers_are_far_inside_the_limit():
    for name in SHIPPED:
        path = load_shipped(name).path
        n = struct.unpack("<Q", path.read_bytes()[:8])[0]
        assert n < MAX_HEADER_BYTES / 100


# --------------------------------------------------------------------------- filtering


def _colour(height: int, width: int) -> np.ndarray:
    """A colour picture of any size that takes no memory (every pixel the same view)."""
    return np.broadcast_to(np.float32(128.0), (height, width, 3))


def test_per_channel_filtering_is_refused_when_its_maps_pass_the_limit():
    """Three maps of 4,100×4,100 per stage hold 50.4 million values; the summed filter of
    the same picture makes one map and goes through."""
    side = 4100
    settings = KernelSettings(per_channel=True, pool_kind="none", activation="none")
    result = run_pipeline(_colour(side + 2, side + 2), settings)
    assert result.conv is None and result.error is not None
    assert f"3 × {side:,}×{side:,} = {3 * side * side:,} values" in result.error
    assert f"{MAX_IMAGE_PIXELS:,}" in result.error and "summed" in result.error
    assert "Convolution" in result.error


def test_per_channel_filtering_inside_the_limit_still_works():
    picture = np.random.default_rng(0).uniform(0, 255, (40, 30, 3)).astype(np.float32)
    result = run_pipeline(picture, KernelSettings(per_channel=True))
    assert result.ok and result.conv.shape == (3, 38, 28)
    for c in range(3):
        alone = run_pipeline(picture[..., c], KernelSettings())
        assert np.array_equal(result.conv[c], alone.conv)
        assert np.array_equal(result.pooled[c], alone.pooled)

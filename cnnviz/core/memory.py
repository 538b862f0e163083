"""How much memory a training run needs, estimated from the architecture's shapes before
anything is allocated, and how much the machine has. `cnnviz train` and the training lab
refuse a run that cannot fit with these figures (the out-of-memory killer gives no message).

The estimate (float32 values, 4 bytes each):
- the data: the training and test images as float tensors (and the uint8 arrays they came
  from);
- one training batch: every layer's output for every image of the batch, times
  ACTIVATION_FACTOR (the outputs autograd keeps for the backward pass, their gradients,
  the augmented and channels-last copies of the input, convolution workspace; measured
  0.7x to 1.1x, so 1.5 leaves room);
- the model: weights, their gradients and the optimizer's two moments (Adam);
- evaluation: the two largest consecutive layer outputs for EVAL_BATCH images (no graph);
- RUNTIME_BYTES for torch itself at work (allocator, thread pools), measured ~250 MB.
Calibrated against the peak resident memory of real runs: benchmarks/bench_memory.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models import Architecture, summarize

BYTES_PER_VALUE = 4  # float32
ACTIVATION_FACTOR = 1.5
RUNTIME_BYTES = 300 * 2**20
PARAMETER_COPIES = 4  # the weights, their gradients, Adam's first and second moments
EVAL_BATCH = 1000  # training.evaluate's batch
IMAGE_VALUES = 28 * 28


@dataclass(frozen=True)
class MemoryEstimate:
    data_bytes: int  # the images as tensors
    batch_bytes: int  # one training batch's activations and gradients
    model_bytes: int  # parameters, gradients, optimizer state
    eval_bytes: int  # one evaluation batch
    per_image_bytes: int  # what one more image in a batch adds

    @property
    def total_bytes(self) -> int:
        return (self.data_bytes + self.model_bytes + max(self.batch_bytes, self.eval_bytes)
                + RUNTIME_BYTES)

    def largest_batch(self, available: int) -> int:
        """The largest batch whose estimate fits in `available` bytes (0 if none does)."""
        room = available - self.data_bytes - self.model_bytes - RUNTIME_BYTES
        return max(0, int(room // self.per_image_bytes)) if self.per_image_bytes else 0


def estimate_training_memory(arch: Architecture, batch_size: int, train_images: int,
                             test_images: int = 0) -> MemoryEstimate:
    """The memory a training run of `arch` needs (ArchitectureError if it cannot be built)."""
    if train_images > 0:  # a batch is never larger than the training set
        batch_size = min(batch_size, train_images)
    infos = summarize(arch)
    input_values = int(np.prod(arch.input_shape, dtype=np.int64))
    outputs = [int(np.prod(i.output_shape, dtype=np.int64)) for i in infos]
    # The input batch counts too: the augmented copy, the normalised one, channels last.
    per_image = int((sum(outputs) + 3 * input_values) * BYTES_PER_VALUE * ACTIVATION_FACTOR)
    pairs = [a + b for a, b in zip([input_values] + outputs, outputs)]
    images = train_images + test_images
    return MemoryEstimate(
        data_bytes=images * IMAGE_VALUES * (BYTES_PER_VALUE + 1),
        batch_bytes=per_image * batch_size,
        model_bytes=sum(i.parameters for i in infos) * BYTES_PER_VALUE * PARAMETER_COPIES,
        eval_bytes=(max(pairs) * BYTES_PER_VALUE * min(EVAL_BATCH, test_images)) if test_images else 0,
        per_image_bytes=per_image,
    )


def available_memory_bytes() -> int | None:
    """Memory the system can give without swapping: MemAvailable on Linux, psutil where it
    is installed, else None (unknown: no check is made)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the figure is in KiB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil  # not a dependency; used if present (macOS, Windows)
    except ImportError:
        return None
    try:
        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 - a sandbox may refuse; then we cannot tell
        return None


def device_memory_bytes(device) -> int | None:
    """Free memory on a CUDA device (where the batch and the model live), else None."""
    if getattr(device, "type", None) != "cuda":
        return None
    try:
        import torch

        return int(torch.cuda.mem_get_info(device)[0])
    except Exception:  # noqa: BLE001 - no driver answer: unknown
        return None


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KB', 3.2e9 -> '3.0 GB' (powers of 1024, as memory is counted)."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:,.0f} bytes" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} GB"


def _round_down(n: int) -> int:
    """To two significant digits, downwards (19,325 -> 19,000): the estimate is not exact."""
    scale = 10 ** max(0, len(str(n)) - 2)
    return n // scale * scale


def training_memory_problem(arch: Architecture, batch_size: int, train_images: int,
                            test_images: int = 0, device=None,
                            available: int | None = None) -> str | None:
    """Why a run cannot fit, in one line with the estimate and the memory there is, or None
    (it fits, or the memory cannot be told). `available` overrides what the system says."""
    est = estimate_training_memory(arch, batch_size, train_images, test_images)
    on_device = device_memory_bytes(device) if available is None else None
    if on_device is not None:  # a GPU: the batch and the model there, the data on the host
        need = est.model_bytes + max(est.batch_bytes, est.eval_bytes) + RUNTIME_BYTES
        where, have = "on the GPU", on_device
        fits = max(0, int((on_device - est.model_bytes - RUNTIME_BYTES) // est.per_image_bytes))
    else:
        have = available if available is not None else available_memory_bytes()
        if have is None:
            return None
        need, where, fits = est.total_bytes, "", est.largest_batch(have)
    if need <= have:
        return None
    hint = (f"a batch of at most about {_round_down(fits):,} images fits" if fits >= 1 else
            "not even one image per batch fits; free some memory or use a smaller network")
    batch_size = min(batch_size, train_images) if train_images > 0 else batch_size
    return (f"a batch of {batch_size:,} images needs about {format_bytes(need)} of memory "
            f"{where + ' ' if where else ''}(the network's layer outputs for every image, "
            f"their gradients and the data) but {format_bytes(have)} is available; {hint}")

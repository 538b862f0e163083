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
from pathlib import Path

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


# Where the control group's memory files are (cgroup v2: memory.max; v1: memory/...).
CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 writes "no limit" as a number near 2**63
_NO_LIMIT = 2**60


def available_memory_bytes() -> int | None:
    """Memory this process can have: the least of what the system can give without
    swapping (MemAvailable on Linux, psutil where it is installed) and the room under the
    limits that figure does not show (`memory_limits`: ulimit -v, a container's memory
    limit); None when none of them can be told (no check is made)."""
    figures = [room for room, _ in memory_limits()]
    system = _system_available()
    if system is not None:
        figures.append(system)
    return min(figures) if figures else None


def _system_available() -> int | None:
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


def memory_limits() -> list[tuple[int, str]]:
    """The limits on this process's memory that the system's free memory does not show,
    each as (bytes still free under it, the limit in words): the address-space limit
    (RLIMIT_AS, `ulimit -v`) less what the process maps already, and the control group's
    limit (a container's: memory.max, or cgroup v1's memory.limit_in_bytes) less what the
    group uses (its file cache the kernel can drop is not counted)."""
    limits = []
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft not in (resource.RLIM_INFINITY, -1) and soft > 0:
            used = _mapped_bytes()
            limits.append((max(0, soft - used), f"the address-space limit (ulimit -v) of "
                           f"{format_bytes(soft)}, {format_bytes(used)} of it mapped already"))
    except (ImportError, OSError, ValueError, AttributeError):  # not on Windows
        pass
    for limit_name, usage_name, cache in (("memory.max", "memory.current", "inactive_file"),
                                          ("memory/memory.limit_in_bytes",
                                           "memory/memory.usage_in_bytes",
                                           "total_inactive_file")):
        limit = _read_number(CGROUP_ROOT / limit_name)
        if limit is None:
            continue
        if limit < _NO_LIMIT:
            used = _read_number(CGROUP_ROOT / usage_name) or 0
            stat_file = CGROUP_ROOT / Path(limit_name).with_name("memory.stat")
            used = max(0, used - (_read_stat(stat_file, cache) or 0))
            limits.append((max(0, limit - used), f"the control group's memory limit "
                           f"({CGROUP_ROOT / limit_name}) of {format_bytes(limit)}, "
                           f"{format_bytes(used)} of it in use"))
        break
    return limits


def _mapped_bytes() -> int:
    """What this process maps now (VmSize: what RLIMIT_AS counts), 0 when unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _read_number(path: Path) -> int | None:
    """A control-group file's number; None when it is missing, unreadable or "max"."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _read_stat(path: Path, key: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return None


def limit_words(have: int) -> str | None:
    """The limit (in words) that makes `have` what is available, when one does."""
    binding = min(memory_limits(), default=None)
    if binding is not None and binding[0] <= have + 16 * 2**20:  # (read a moment apart)
        return binding[1]
    return None


def out_of_memory(exc: BaseException) -> str | None:
    """When exc is an allocation that failed (numpy's MemoryError, torch's "not enough
    memory" from its CPU allocator, CUDA's "out of memory"), its first line in words;
    None for any other error."""
    if isinstance(exc, MemoryError):
        return str(exc).strip().splitlines()[0] if str(exc).strip() else "MemoryError"
    if not isinstance(exc, RuntimeError):
        return None
    text = str(exc).strip()
    low = text.lower()
    if not any(w in low for w in ("not enough memory", "defaultcpuallocator", "out of memory",
                                  "cannot allocate memory")):
        return None
    first = text.splitlines()[0] if text else type(exc).__name__
    return first.split("] ", 1)[-1] if first.startswith("[enforce fail") else first


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
    limit = None
    have: int | None
    if on_device is not None:  # a GPU: the batch and the model there, the data on the host
        need = est.model_bytes + max(est.batch_bytes, est.eval_bytes) + RUNTIME_BYTES
        where, have = "on the GPU", on_device
        fits = max(0, int((on_device - est.model_bytes - RUNTIME_BYTES) // est.per_image_bytes))
    else:
        have = available if available is not None else available_memory_bytes()
        if have is None:
            return None
        need, where, fits = est.total_bytes, "", est.largest_batch(have)
        limit = limit_words(have) if available is None else None
    if need <= have:
        return None
    hint = (f"a batch of at most about {_round_down(fits):,} images fits" if fits >= 1 else
            "not even one image per batch fits; free some memory or use a smaller network")
    batch_size = min(batch_size, train_images) if train_images > 0 else batch_size
    return (f"a batch of {batch_size:,} images needs about {format_bytes(need)} of memory "
            f"{where + ' ' if where else ''}(the network's layer outputs for every image, "
            f"their gradients and the data) but {format_bytes(have)} is available"
            f"{f' (under {limit})' if limit else ''}; {hint}")

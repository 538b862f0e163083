"""What this machine's processor can do, asked once."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def cpu_computes_bfloat16() -> bool:
    """Whether the CPU does bfloat16 arithmetic in hardware (AMX or AVX-512 BF16), by
    oneDNN's own check; False where torch cannot say."""
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (ImportError, AttributeError, RuntimeError):
        return False


def bfloat16_forward(asked: bool, device: str | None) -> bool:
    """Whether a forward pass asked to run in bfloat16 does, on this device: only on a CPU
    (the default device) that computes bfloat16 natively; everywhere else float32."""
    return asked and (device or "cpu") == "cpu" and cpu_computes_bfloat16()

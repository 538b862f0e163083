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

"""The kernel explorer's (and `cnnviz filter`'s) choices: one frozen value object."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class KernelSettings:
    """Kernel, stride and padding per axis (rows, columns), activation and pooling."""

    kernel: np.ndarray = field(default_factory=lambda: np.array(
        [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64))
    preset_key: str | None = "sharpen"
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    activation: str = "relu"  # see cnnviz.core.convolution.ops.ACTIVATIONS; "none" for no activation
    pool_kind: str = "max"  # "none", "max", "min", "avg"
    pool_size: int = 2
    pool_stride: int = 2
    per_channel: bool = False  # colour images: filter each channel alone, or sum like a conv layer

    def with_changes(self, **changes) -> KernelSettings:
        return replace(self, **changes)

    def same_as(self, other: KernelSettings | None) -> bool:
        """Equal settings (the kernel compared by value, not by identity)."""
        if other is None:
            return False
        mine, theirs = self.__dict__.copy(), other.__dict__.copy()
        a, b = mine.pop("kernel"), theirs.pop("kernel")
        return mine == theirs and a.shape == b.shape and bool(np.array_equal(a, b))

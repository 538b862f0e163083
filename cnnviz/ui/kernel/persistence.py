"""The kernel explorer's choices in QSettings (group "KernelExplorer"): written as text,
read back with anything unreadable keeping its current value."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings

from ...app_state import KERNEL_SOURCE_IMAGE
from ...core.kernel_edits import matching_preset
from ...core.kernel_previews import CHANNEL_VIEWS
from ...core.kernels import PRESETS, KernelError, parse_kernel
from ...core.limits import MAX_TYPED_PADDING, MAX_TYPED_POOL, MAX_TYPED_STRIDE
from ...core.stage_names import ACTIVATION_NAMES, POOL_NAMES
from .controls import fits_grid
from .grid import cell_texts

SETTINGS_GROUP = "KernelExplorer"


def _int_pair(value, default: tuple[int, int], low: int, high: int) -> tuple[int, int]:
    try:
        if isinstance(value, str):
            parts = [int(p) for p in value.replace("(", "").replace(")", "").split(",")]
        else:
            parts = [int(p) for p in value]
        if len(parts) == 2 and all(low <= p <= high for p in parts):
            return parts[0], parts[1]
    except (TypeError, ValueError):
        pass
    return default


def _as_bool(value, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def save(settings: QSettings, s, source: str, channel_view: str, linked: bool) -> None:
    settings.beginGroup(SETTINGS_GROUP)
    try:
        settings.setValue("kernel", "; ".join(" ".join(row) for row in cell_texts(s.kernel)))
        settings.setValue("preset", s.preset_key or "")
        settings.setValue("stride", f"{s.stride[0]},{s.stride[1]}")
        settings.setValue("padding", f"{s.padding[0]},{s.padding[1]}")
        settings.setValue("activation", s.activation)
        settings.setValue("pool_kind", s.pool_kind)
        settings.setValue("pool_size", int(s.pool_size))
        settings.setValue("pool_stride", int(s.pool_stride))
        settings.setValue("per_channel", bool(s.per_channel))
        settings.setValue("source", source)
        settings.setValue("channel_view", channel_view)
        settings.setValue("linked", linked)
    finally:
        settings.endGroup()


def _kernel(settings: QSettings, current) -> np.ndarray:
    text = settings.value("kernel")
    if text:
        try:
            k = parse_kernel(str(text))
            if fits_grid(k):
                return k
        except KernelError:
            pass
    return current.kernel


def _restored(settings: QSettings, current):
    kernel = _kernel(settings, current)
    preset = str(settings.value("preset", "") or "") or None
    if preset not in PRESETS or not np.array_equal(PRESETS[preset].values, kernel):
        preset = matching_preset(kernel)
    activation = str(settings.value("activation", current.activation))
    pool_kind = str(settings.value("pool_kind", current.pool_kind))
    try:
        pool_size = int(settings.value("pool_size", current.pool_size))
        pool_stride = int(settings.value("pool_stride", current.pool_stride))
    except (TypeError, ValueError):
        pool_size, pool_stride = current.pool_size, current.pool_stride
    return current.with_changes(
        kernel=kernel, preset_key=preset,
        stride=_int_pair(settings.value("stride"), current.stride, 1, MAX_TYPED_STRIDE),
        padding=_int_pair(settings.value("padding"), current.padding, 0, MAX_TYPED_PADDING),
        activation=activation if activation in ACTIVATION_NAMES else current.activation,
        pool_kind=pool_kind if pool_kind in POOL_NAMES else current.pool_kind,
        pool_size=pool_size if 1 <= pool_size <= MAX_TYPED_POOL else current.pool_size,
        pool_stride=pool_stride if 1 <= pool_stride <= MAX_TYPED_POOL else current.pool_stride,
        per_channel=_as_bool(settings.value("per_channel"), current.per_channel))


def read(settings: QSettings, current) -> tuple[object, str, str, bool]:
    """(KernelSettings, source, channel view, linked) as saved; `current` fills the gaps."""
    settings.beginGroup(SETTINGS_GROUP)
    try:
        restored = _restored(settings, current)
        view = str(settings.value("channel_view", "all"))
        source = str(settings.value("source", KERNEL_SOURCE_IMAGE) or KERNEL_SOURCE_IMAGE)
        linked = _as_bool(settings.value("linked"), True)
    finally:
        settings.endGroup()
    return restored, source, view if view in CHANNEL_VIEWS else "all", linked

"""The kernel explorer's choices in QSettings (group "KernelExplorer"): written as text,
read back with every value checked. Anything out of range, of the wrong type or that could
not be drawn (a weight of 1e308 crashed the app at every start) is dropped and the current
value kept; dropped() says which keys were."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings

from ...app_state import KERNEL_SOURCE_IMAGE
from ...core.basics.limits import (
    MAX_KERNEL_VALUE,
    MAX_TYPED_PADDING,
    MAX_TYPED_POOL,
    MAX_TYPED_STRIDE,
)
from ...core.convolution.kernel_edits import matching_preset
from ...core.convolution.kernel_previews import CHANNEL_VIEWS
from ...core.convolution.kernels import PRESETS, KernelError, parse_kernel
from ...core.convolution.stage_names import ACTIVATION_NAMES, POOL_NAMES
from .controls import fits_grid
from .grid import cell_texts

SETTINGS_GROUP = "KernelExplorer"
MAX_KERNEL_TEXT = 2000  # characters: a 7×7 kernel of long fractions is far shorter


def _int_pair(value, low: int, high: int) -> tuple[int, int] | None:
    try:
        if isinstance(value, str):
            parts = [int(p) for p in value.replace("(", "").replace(")", "").split(",")]
        else:
            parts = [int(p) for p in value]
        if len(parts) == 2 and all(low <= p <= high for p in parts):
            return parts[0], parts[1]
    except (TypeError, ValueError):
        pass
    return None


def _as_bool(value, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def save(settings: QSettings, s, source: str, channel_view: str, linked: bool,
         controls_hidden: bool = False) -> None:
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
        settings.setValue("controls_hidden", bool(controls_hidden))
    finally:
        settings.endGroup()


def read_controls_hidden(settings: QSettings, dropped: list[str]) -> bool:
    """Whether the control column was hidden (False when not saved or not a yes/no)."""
    settings.beginGroup(SETTINGS_GROUP)
    try:
        return _checked(settings, "controls_hidden", _flag, False, dropped)
    finally:
        settings.endGroup()


def usable_kernel(text) -> np.ndarray | None:
    """A saved kernel the grid can edit and the panels can draw, or None: text only, not
    too long, every weight a finite number within ±MAX_KERNEL_VALUE, 1×1 to 7×7."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_KERNEL_TEXT:
        return None
    try:
        k = parse_kernel(text)
    except (KernelError, ValueError, OverflowError):
        return None
    if not fits_grid(k) or not np.isfinite(k).all() or float(np.abs(k).max()) > MAX_KERNEL_VALUE:
        return None
    return k


def _kernel(settings: QSettings, current, dropped: list[str]) -> np.ndarray:
    text = settings.value("kernel")
    if text is None:
        return current.kernel
    k = usable_kernel(text)
    if k is None:
        dropped.append("kernel")
        return current.kernel
    return k


def _checked(settings: QSettings, key: str, ok, default, dropped: list[str]):
    """settings[key] when ok(value) says it is usable; else the default (noted as dropped)."""
    value = settings.value(key)
    if value is None:
        return default
    try:
        good = ok(value)
    except (TypeError, ValueError, OverflowError):
        good = None
    if good is None:
        dropped.append(key)
        return default
    return good


def _whole(low: int, high: int):
    def read(value):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None
        number = int(value)
        return number if low <= number <= high else None
    return read


def _one_of(names):
    return lambda value: value if isinstance(value, str) and value in names else None


def _pair(low: int, high: int):
    return lambda value: _int_pair(value, low, high)


_FLAG_WORDS = ("1", "true", "yes", "on", "0", "false", "no", "off")


def _flag(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _FLAG_WORDS:
        return _as_bool(value)
    return None


def _restored(settings: QSettings, current, dropped: list[str]):
    kernel = _kernel(settings, current, dropped)
    preset = settings.value("preset", "")
    preset = preset if isinstance(preset, str) and preset in PRESETS else None
    if preset is None or not np.array_equal(PRESETS[preset].values, kernel):
        preset = matching_preset(kernel)
    pool = _whole(1, MAX_TYPED_POOL)
    return current.with_changes(
        kernel=kernel, preset_key=preset,
        stride=_checked(settings, "stride", _pair(1, MAX_TYPED_STRIDE), current.stride, dropped),
        padding=_checked(settings, "padding", _pair(0, MAX_TYPED_PADDING), current.padding, dropped),
        activation=_checked(settings, "activation", _one_of(ACTIVATION_NAMES), current.activation, dropped),
        pool_kind=_checked(settings, "pool_kind", _one_of(POOL_NAMES), current.pool_kind, dropped),
        pool_size=_checked(settings, "pool_size", pool, current.pool_size, dropped),
        pool_stride=_checked(settings, "pool_stride", pool, current.pool_stride, dropped),
        per_channel=_checked(settings, "per_channel", _flag, current.per_channel, dropped))


def _source(value):
    if not isinstance(value, str) or len(value) > 100:
        return None
    return value or KERNEL_SOURCE_IMAGE


def read(settings: QSettings, current) -> tuple[object, str, str, bool, list[str]]:
    """(KernelSettings, source, channel view, linked, dropped keys) as saved; `current`
    fills the gaps and replaces what cannot be used."""
    dropped: list[str] = []
    settings.beginGroup(SETTINGS_GROUP)
    try:
        restored = _restored(settings, current, dropped)
        view = _checked(settings, "channel_view", _one_of(CHANNEL_VIEWS), "all", dropped)
        source = _checked(settings, "source", _source, KERNEL_SOURCE_IMAGE, dropped)
        linked = _checked(settings, "linked", _flag, True, dropped)
    finally:
        settings.endGroup()
    return restored, source, view, linked, dropped

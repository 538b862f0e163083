"""What the kernel explorer spends after computing a 12-megapixel photo filtered per channel
("drawing" in the status bar): shrinking each stage to a drawable size on the worker, then
handing it to pyqtgraph on the GUI thread. Prints figures; asserts nothing.

    python benchmarks/bench_kernel_draw.py

Before: the block reductions as they were (numpy reductions over two strided axes, np.pad
copies for ragged blocks), timed here in the same run as the reference. After:
cnnviz.core.convolution.kernel_previews. The GUI part compares drawing the preview (at most
PREVIEW_SIDE pixels a side, about the size of the panel on screen) with drawing the full array.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time

import numpy as np
from machine import cpu_model  # benchmarks/machine.py (the script's folder is on sys.path)

from cnnviz.core.convolution.kernel_previews import PREVIEW_SIDE, preview

# --------------------------------------------------------------------------- the reference


def _old_block_mean(a: np.ndarray, f: int) -> np.ndarray:
    h, w = a.shape[:2]
    rest = a.shape[2:]
    h2, w2 = h // f * f, w // f * f
    hb, wb = h2 // f, w2 // f
    out = np.empty((math.ceil(h / f), math.ceil(w / f)) + rest, np.float32)
    out[:hb, :wb] = a[:h2, :w2].reshape((hb, f, wb, f) + rest).mean(axis=(1, 3), dtype=np.float32)
    if h > h2:
        out[hb, :wb] = a[h2:, :w2].reshape((h - h2, wb, f) + rest).mean(axis=(0, 2), dtype=np.float32)
    if w > w2:
        out[:hb, wb] = a[:h2, w2:].reshape((hb, f, w - w2) + rest).mean(axis=(1, 2), dtype=np.float32)
    if h > h2 and w > w2:
        out[hb, wb] = a[h2:, w2:].mean(axis=(0, 1), dtype=np.float32)
    return out


def _old_block_peak(a: np.ndarray, f: int) -> np.ndarray:
    h, w = a.shape[:2]
    pad_h, pad_w = -h % f, -w % f
    if pad_h or pad_w:
        a = np.pad(a, ((0, pad_h), (0, pad_w)) + ((0, 0),) * (a.ndim - 2), mode="edge")
    blocks = a.reshape((a.shape[0] // f, f, a.shape[1] // f, f) + a.shape[2:])
    hi = blocks.max(axis=(1, 3))
    lo = blocks.min(axis=(1, 3))
    return np.where(hi >= -lo, hi, lo).astype(np.float32)


def old_preview(a: np.ndarray, peaks: bool) -> np.ndarray:
    factor = max(1, math.ceil(max(a.shape[-2:]) / PREVIEW_SIDE))
    float(np.nanmin(a)), float(np.nanmax(a))
    small = np.moveaxis(a, 0, -1)
    return (_old_block_peak if peaks else _old_block_mean)(small, factor)


def median_time(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# --------------------------------------------------------------------------- GUI


def gui_draw_seconds(arrays: list[np.ndarray]) -> float:
    """set_array + paint of three panels (conv, activation, pool) offscreen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from cnnviz.ui.widgets.plots import UNSIGNED_CMAP, ImagePanel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    panels = [ImagePanel("p") for _ in arrays]
    for p in panels:
        p.resize(420, 380)
        p.show()
    app.processEvents()

    def draw():
        for p, a in zip(panels, arrays, strict=True):
            lo, hi = float(a.min()), float(a.max())
            m = max(abs(lo), abs(hi))
            p.set_array(a, levels=(-m, m), cmap=UNSIGNED_CMAP)
            p.grab()

    seconds = median_time(draw)
    for p in panels:
        p.close()
    return seconds


def main() -> None:
    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores); load average {os.getloadavg()[0]:.1f}")
    rng = np.random.default_rng(0)
    stage = rng.uniform(-300, 700, (3, 2998, 3998)).astype(np.float32)  # a conv output, per channel
    print("One stage of a 12-megapixel photo filtered per channel (3×2998×3998), shrunk to "
          f"at most {PREVIEW_SIDE} px a side (median of 3):")
    for peaks, what in ((False, "block means (blur, sharpen)"), (True, "block peaks (edge kernels)")):
        before = median_time(lambda p=peaks: old_preview(stage, p))
        after = median_time(lambda p=peaks: preview(stage, colour=True, peaks=p))
        print(f"  {what:28s}: before {before:.2f} s, after {after:.2f} s "
              f"({before / after:.1f}× quicker); three stages: {3 * before:.1f} s -> {3 * after:.1f} s")
    small = [np.ascontiguousarray(preview(stage, colour=True).array) for _ in range(3)]
    full = [np.ascontiguousarray(np.moveaxis(stage, 0, -1)) for _ in range(3)]
    t_small = gui_draw_seconds(small)
    t_full = gui_draw_seconds(full)
    print(f"GUI thread, three colour panels drawn and painted: previews {small[0].shape[1]}×"
          f"{small[0].shape[0]}: {t_small:.2f} s; the full arrays: {t_full:.2f} s "
          f"({t_full / t_small:.0f}× longer, what drawing before shrinking would cost)")


if __name__ == "__main__":
    main()

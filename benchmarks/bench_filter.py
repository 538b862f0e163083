"""Kernel-explorer filtering of big photos. Prints figures; asserts nothing.

    python benchmarks/bench_filter.py

run_pipeline (convolution -> ReLU -> 2x2 max pooling, and the preview the panels draw) on
a 12-megapixel photo (4000x3000), grey and colour, with a 3x3 and a 7x7 kernel. In the app
this runs on a worker thread, so the window stays responsive meanwhile.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from cnnviz.app_state import KernelSettings
from cnnviz.core.convolution.filtering import run_pipeline
from cnnviz.core.convolution.kernel_previews import preview
from cnnviz.core.convolution.kernels import PRESETS


def main() -> None:
    rng = np.random.default_rng(0)
    photos = {"grey": rng.uniform(0, 255, (3000, 4000)).astype(np.float32),
              "colour": rng.uniform(0, 255, (3000, 4000, 3)).astype(np.float32)}
    kernels = {"3x3 sharpen": PRESETS["sharpen"].values,
               "7x7 box blur": np.full((7, 7), 1 / 49)}
    print("12-megapixel photo (4000x3000) -> conv -> ReLU -> max pool 2x2, plus the panels' previews")
    for photo_name, photo in photos.items():
        modes = (False, True) if photo.ndim == 3 else (False,)
        for kernel_name, kernel in kernels.items():
            for per_channel in modes:
                settings = KernelSettings(kernel=kernel, preset_key=None, per_channel=per_channel)
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    result = run_pipeline(photo, settings)
                    for stage in (result.conv, result.activated, result.pooled):
                        preview(stage, colour=stage.ndim == 3)
                    times.append(time.perf_counter() - t0)
                how = "per channel" if per_channel else ("summed" if photo.ndim == 3 else "")
                print(f"  {photo_name:6s} {how:11s} {kernel_name:13s}: "
                      f"{statistics.median(times):.2f} s (median of 3)")


if __name__ == "__main__":
    main()

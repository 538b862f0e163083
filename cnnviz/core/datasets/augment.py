"""Training-time picture degradations that the plain affine augmentation cannot make.

degrade_low_res: some of a batch become low-resolution scans, as a user's 32x32 picture
upscaled from 8x8 looks once preprocessing has cropped and rescaled it: the digit is shrunk
to 6-10 pixels tall (area averaging), blown back up to 28x28 either blocky (nearest) or
smooth (bilinear or bicubic), and its ink turned grey. Without it the network has never seen
a blocky or blurred digit and reads many of them wrong (measured in benchmarks/
bench_recognition.py, kinds low_res_blocky and low_res_smooth).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# The largest shift augmentation gives a training image, in pixels (each way).
AUGMENT_SHIFT_PX = 2.5

LOW_RES_FRACTION = 0.12  # share of each batch degraded (more costs clean MNIST accuracy)
# Pixels a side the 28x28 frame is shrunk to: its 20-pixel digit becomes 6-10 pixels tall.
LOW_RES_SIZES = (8, 10, 11, 13, 14)
LOW_RES_MODES = ("nearest", "bilinear", "bicubic")
GREY_INK = (0.55, 1.0)  # the brightest ink after degradation, as a fraction of white


def degrade_low_res(x: torch.Tensor, generator: torch.Generator,
                    fraction: float = LOW_RES_FRACTION) -> torch.Tensor:
    """x: (N, 1, 28, 28) in [0, 1]. Returns a new tensor with about `fraction` of the
    pictures degraded to low-resolution scans (the rest unchanged)."""
    b, _, h, w = x.shape
    if b == 0:
        return x
    chosen = torch.rand(b, generator=generator) < fraction
    sizes = torch.randint(0, len(LOW_RES_SIZES), (b,), generator=generator)
    modes = torch.randint(0, len(LOW_RES_MODES), (b,), generator=generator)
    grey = torch.rand(b, generator=generator) * (GREY_INK[1] - GREY_INK[0]) + GREY_INK[0]
    out = x.clone()
    for si, size in enumerate(LOW_RES_SIZES):
        for mi, mode in enumerate(LOW_RES_MODES):
            pick = chosen & (sizes == si) & (modes == mi)
            if not pick.any():
                continue
            small = F.interpolate(x[pick], size=(size, size), mode="area")
            kwargs = {} if mode == "nearest" else {"align_corners": False}
            big = F.interpolate(small, size=(h, w), mode=mode, **kwargs).clamp_(0, 1)
            # Grey ink: the picture's brightest value becomes `grey` (a scan's ink is not white).
            peak = big.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
            out[pick] = big * (grey[pick].view(-1, 1, 1, 1) / peak)
    return out

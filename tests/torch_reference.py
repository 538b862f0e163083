"""torch's answer for the kernel explorer's pipeline, shared by test_filtering (the core)
and test_ui_kernel (what the panels draw): the independent reference for both."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from cnnviz.app_state import KernelSettings

TORCH_ACT = {
    "none": lambda t: t,
    "relu": F.relu,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.01),
    "elu": F.elu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    # one distribution over each (H, W) map: the whole map for grey, per channel for colour
    "softmax": lambda t: torch.softmax(t.flatten(-2), -1).reshape(t.shape),
}


def torch_pipeline(image, s: KernelSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The reference: torch's conv2d (summed over channels, or grouped per channel), its
    activations and pooling (min pooling as -max_pool(-x))."""
    img = np.asarray(image, dtype=np.float64)
    x = torch.tensor(img[None, None] if img.ndim == 2 else np.moveaxis(img, -1, 0)[None])  # (1, C, H, W)
    c = x.shape[1]
    k = torch.tensor(np.asarray(s.kernel, dtype=np.float64))
    if c > 1 and s.per_channel:
        conv = F.conv2d(x, k.expand(c, 1, *k.shape).contiguous(), stride=s.stride, padding=s.padding,
                        groups=c)[0]  # (C, Ho, Wo)
    else:
        conv = F.conv2d(x, k.expand(1, c, *k.shape).contiguous(), stride=s.stride,
                        padding=s.padding)[0, 0]  # (Ho, Wo)
    act = TORCH_ACT[s.activation](conv)
    pooled = None
    if s.pool_kind != "none":
        a = act[None] if act.ndim == 2 else act  # (C, H, W)
        if s.pool_kind == "max":
            p = F.max_pool2d(a, s.pool_size, s.pool_stride)
        elif s.pool_kind == "min":
            p = -F.max_pool2d(-a, s.pool_size, s.pool_stride)
        else:
            p = F.avg_pool2d(a, s.pool_size, s.pool_stride)
        pooled = (p[0] if act.ndim == 2 else p).numpy()
    return conv.numpy(), act.numpy(), pooled


def first_layer_input(network, traced_input) -> np.ndarray:
    """What a network's first layer is given for a traced input, read with a forward hook:
    (H, W) for one channel, (H, W, C) for colour (channels last, as pictures are kept)."""
    seen = []
    first = network.layers[network.layer_infos[0].name]
    hook = first.register_forward_hook(lambda _m, args, _out: seen.append(args[0].detach()))
    try:
        with torch.no_grad():
            network(torch.as_tensor(np.asarray(traced_input, np.float32))[None])
    finally:
        hook.remove()
    x = seen[0][0].numpy()
    return x[0] if x.shape[0] == 1 else np.moveaxis(x, 0, -1)

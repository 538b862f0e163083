"""What the network looked at: Grad-CAM, gradient saliency, integrated gradients and
occlusion, with captum (PyTorch's interpretability library), in evaluation mode.

    net = eval_copy(loaded.model)                        # a private copy: captum adds hooks
    result = explain(net, digit.image, "gradcam", target=3, layer="conv4")
    result.map                                           # (28, 28), 0..1, brighter = more
    on_picture = to_picture(result.map, digit, picture.shape[:2])

Qt-free. The maps are for the network's 28×28 input; to_picture maps one back through the
preprocessing's crop and scale onto the user's own picture.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["METHODS", "Explanation", "conv_layers", "eval_copy", "explain", "to_picture"]

METHODS = {
    "gradcam": "Grad-CAM",
    "saliency": "Gradient saliency",
    "integrated": "Integrated gradients",
    "occlusion": "Occlusion",
}
LIVE_METHODS = ("gradcam", "saliency")  # fast enough to follow the pen (tens of ms)
IG_STEPS = 50
IG_BATCH = 10
OCCLUSION_WINDOW = 4  # pixels a side of the grey square slid over the input ...
OCCLUSION_STRIDE = 2  # ... and how far it moves
OCCLUSION_BATCH = 16


@dataclass(frozen=True, eq=False)
class Explanation:
    method: str
    target: int  # the class explained
    layer: str | None  # Grad-CAM's layer
    raw: np.ndarray  # (H, W) captum's attribution, signed, in its own units (channels summed)
    map: np.ndarray  # (H, W) 0..1 for display: the positive part, scaled by its maximum
    seconds: float


def eval_copy(network):
    """A private copy in evaluation mode (dropout off, batch norm's running statistics), so
    captum's hooks never touch the model the rest of the app is running."""
    net = copy.deepcopy(network)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def conv_layers(network) -> list[str]:
    """The layers Grad-CAM can look at: those that output maps (conv, batch norm, ReLU, pool)."""
    return [i.name for i in network.layer_infos if len(i.output_shape) == 3]


class _Counter:
    """Counts the images the forward function has seen, to report progress."""

    def __init__(self, network, total: int, progress: Callable[[float], None] | None) -> None:
        self.network, self.total, self.progress, self.done = network, total, progress, 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = self.network(x)
        self.done += int(x.shape[0])
        if self.progress is not None and self.total:
            self.progress(min(1.0, self.done / self.total))
        return out


def explain(network, image: np.ndarray, method: str, target: int, layer: str | None = None,
            progress: Callable[[float], None] | None = None) -> Explanation:
    """One attribution map for class `target` on the network's input: (H, W) for one
    channel or (C, H, W), as the network takes it (Analysis.layers[0]). network: an
    eval_copy. progress(fraction) is called as integrated gradients and occlusion go. A
    colour input's attribution is summed over its channels (one map per pixel)."""
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Occlusion, Saliency

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    t0 = time.perf_counter()
    network.eval()
    a_in = np.asarray(image, dtype=np.float32)
    x = torch.as_tensor(a_in[None, None] if a_in.ndim == 2 else a_in[None])  # (1, C, H, W)
    channels = int(x.shape[1])
    target = int(target)
    if method == "gradcam":
        names = conv_layers(network)
        if not names:
            raise ValueError("Grad-CAM needs a layer with feature maps; this network has none")
        layer = layer if layer in names else names[-1]
        cam = LayerGradCam(_Counter(network, 0, None), network.layers[layer])
        a = cam.attribute(x, target=target, relu_attributions=True)
        a = LayerAttribution.interpolate(a, tuple(x.shape[-2:]), interpolate_mode="bilinear")
    elif method == "saliency":
        layer = None
        a = Saliency(_Counter(network, 0, None)).attribute(x.clone().requires_grad_(), target=target,
                                                           abs=True)
    elif method == "integrated":
        layer = None
        forward = _Counter(network, IG_STEPS, progress)
        a = IntegratedGradients(forward).attribute(x.clone().requires_grad_(), baselines=0.0,
                                                   target=target, n_steps=IG_STEPS,
                                                   internal_batch_size=IG_BATCH)
    else:
        layer = None
        h, w = x.shape[-2:]
        windows = (((h - OCCLUSION_WINDOW) // OCCLUSION_STRIDE + 1)
                   * ((w - OCCLUSION_WINDOW) // OCCLUSION_STRIDE + 1))
        forward = _Counter(network, windows + 1, progress)
        with torch.no_grad():
            a = Occlusion(forward).attribute(
                x, sliding_window_shapes=(channels, OCCLUSION_WINDOW, OCCLUSION_WINDOW),
                strides=(channels, OCCLUSION_STRIDE, OCCLUSION_STRIDE), baselines=0.0, target=target,
                perturbations_per_eval=OCCLUSION_BATCH)
    # Grad-CAM gives one map; the others one per channel (occlusion: the same in each)
    a = a.detach().double()
    raw = (a[0, 0] if method in ("gradcam", "occlusion") else a[0].sum(dim=0)).numpy()
    positive = np.clip(raw, 0, None)
    top = float(positive.max())
    shown = positive / top if top > 0 else np.zeros_like(positive)
    return Explanation(method, target, layer, raw, shown, time.perf_counter() - t0)


def _find(patch: np.ndarray, frame: np.ndarray) -> tuple[int, int] | None:
    ph, pw = patch.shape
    fh, fw = frame.shape
    for top in range(fh - ph + 1):
        for left in range(fw - pw + 1):
            if np.array_equal(frame[top:top + ph, left:left + pw], patch):
                return top, left
    return None


def to_picture(map28: np.ndarray, digit, picture_hw: tuple[int, int],
               max_side: int | None = None) -> np.ndarray | None:
    """A map on the network's input laid back on the user's picture through the
    preprocessing's crop (or, for a picture stretched whole to the input, its stretch),
    thickening and scale: (H, W) (shrunk so the longest side is at most max_side, if given),
    NaN where the network's input did not come from. None when there was no ink."""
    from PIL import Image

    if digit is None or digit.empty or digit.bbox is None:
        return None
    steps = {s.key: s.image for s in digit.steps}
    h, w = picture_hw
    shrink = max(1.0, max(h, w) / max_side) if max_side else 1.0
    out_h, out_w = max(1, round(h / shrink)), max(1, round(w / shrink))
    out = np.full((out_h, out_w), np.nan)
    scaled, center, crop = steps.get("scale"), steps.get("center"), steps.get("crop")
    if scaled is not None and center is None and crop is None:  # the whole picture, stretched
        return np.asarray(Image.fromarray(np.ascontiguousarray(map28, np.float32), "F").resize(
            (out_w, out_h), Image.Resampling.BILINEAR), dtype=np.float64)
    if scaled is None or center is None or crop is None:
        return None
    top, left, bottom, right = digit.bbox
    if scaled.shape == center.shape:  # no crop (already an MNIST-style digit): all of it
        region, placed = (0.0, 0.0, float(h), float(w)), (0, 0, *center.shape)
    else:
        where = _find(scaled, center)
        if where is None:
            return None
        thick = steps.get("thicken", crop)
        radius = (thick.shape[0] - crop.shape[0]) / 2
        fy = (bottom - top) / crop.shape[0]
        fx = (right - left) / crop.shape[1]
        region = (top - radius * fy, left - radius * fx, thick.shape[0] * fy, thick.shape[1] * fx)
        placed = (where[0], where[1], *scaled.shape)
    py, px, sh, sw = placed
    patch = np.asarray(map28, dtype=np.float32)[py:py + sh, px:px + sw]
    r_top, r_left, r_h, r_w = (v / shrink for v in region)
    th, tw = max(1, round(r_h)), max(1, round(r_w))
    big = np.asarray(Image.fromarray(np.ascontiguousarray(patch), "F").resize(
        (tw, th), Image.Resampling.BILINEAR), dtype=np.float64)
    t0, l0 = round(r_top), round(r_left)
    y0, x0 = max(0, t0), max(0, l0)
    y1, x1 = min(out_h, t0 + th), min(out_w, l0 + tw)
    if y0 < y1 and x0 < x1:
        out[y0:y1, x0:x1] = big[y0 - t0:y1 - t0, x0 - l0:x1 - l0]
    return out

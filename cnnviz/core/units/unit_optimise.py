"""What a unit looks for, made up: the input that excites it most (activation maximisation).

Gradient ascent on an input of the network's own size and value range, with the
regularisers that keep small greyscale pictures readable (plain ascent gives noise):

- a few steps at half resolution first (coarse shapes before fine detail);
- jitter: the picture shifted by a pixel or two at random each step, so the answer must
  not hang on one exact pixel (scaled down for a small receptive field);
- a light Gaussian blur every few steps and a total-variation penalty (neighbouring pixels
  alike), which damp the high frequencies plain ascent fills the picture with;
- an L2 penalty that pulls what the unit ignores back to a blank page;
- values kept in the input's range (0..1: blank to full ink).

A map unit (a conv channel) is optimised at its map's centre position, so its receptive
field is the middle of the picture; its score is then its largest value over positions,
as for the real top examples (cnnviz.core.units.unit_examples). A dense unit's score is its
value, a class's its logit (a class is ascended on its log-odds against the others). Several random starts run side by side in one batch; the
user's drawing can be a start. on_step(step, steps, pictures, scores) is called as it
sharpens; stop() -> True ends it early with what it has.

    result = optimise_unit(loaded.model, "conv3", 12, starts=4)
    result.pictures   # (starts, H, W) or (starts, H, W, C), 0..1
    result.scores     # the unit's score for each

No Qt, no app state.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from ..convolution.receptive_field import receptive_fields
from ..networks.network import InputSpec, to_network_layout
from .unit_examples import check_unit, layer_outputs, network_input, scored_layer

__all__ = ["DEFAULT", "HIGH_FREQUENCY", "PLAIN", "Optimised", "Regularisers",
           "high_frequency_energy", "ideal_digits", "optimise_unit", "optimised_position", "read_rate",
           "unit_score"]

HIGH_FREQUENCY = 0.25  # cycles per pixel: patterns finer than 4 pixels a period
# Random starts are faint noise, 0..START_NOISE: on noise at 0..0.5 every unit of the default
# model's first dense layer is off (after its batch norm), so no gradient reaches the input.
START_NOISE = 0.05
FADE = 0.8  # what a start keeps of its values per step while the unit gives it no gradient


@dataclass(frozen=True)
class Regularisers:
    """How the ascent is kept readable (the app's defaults: DEFAULT)."""

    steps: int = 160
    learning_rate: float = 0.05  # Adam's step on values in 0..1
    low_res_steps: int = 40  # first steps on a half-resolution picture (0: none)
    jitter: int = 2  # pixels of random shift per step (at most an eighth of the field)
    blur_every: int = 4  # a Gaussian blur every n steps (0: never)
    blur_sigma: float = 0.5  # pixels (scaled down for a small receptive field)
    total_variation: float = 0.02  # weight of the mean |difference| of neighbouring pixels
    l2: float = 0.02  # weight of the mean squared value (pulls towards a blank page)
    clamp: bool = True  # values kept in the input's range

    def __post_init__(self) -> None:
        if not (isinstance(self.steps, int) and 0 < self.steps <= 10_000
                and 0 <= self.low_res_steps <= self.steps and self.jitter >= 0
                and self.blur_every >= 0 and self.learning_rate > 0
                and min(self.blur_sigma, self.total_variation, self.l2) >= 0):
            raise ValueError("the optimisation's settings are out of range")


DEFAULT = Regularisers()
# Plain gradient ascent, for comparison: the same steps, the values kept in range, nothing else
PLAIN = Regularisers(low_res_steps=0, jitter=0, blur_every=0, total_variation=0.0, l2=0.0)


@dataclass(frozen=True)
class Optimised:
    layer: str  # the layer whose unit was optimised (a softmax's classes: its logits)
    unit: int
    pictures: np.ndarray  # (starts, H, W) grey or (starts, H, W, C), display form 0..1
    inputs: np.ndarray  # (starts, C, H, W) float32 in the network's value range (low..high)
    scores: np.ndarray  # (starts,) the unit's score for each
    steps: int  # steps done
    stopped: bool  # ended early by stop()
    position: tuple[int, int] | None  # the map position optimised (None: a flat unit)


# ---------------------------------------------------------------------------------------
# The unit's value


def _target(network, layer: str) -> tuple[tuple, tuple[int, int] | None, int]:
    """(the layer's output shape, the map position optimised or None, the field's side)."""
    info = next(i for i in network.layer_infos if i.name == layer)
    spec = network.input_spec
    if len(info.output_shape) != 3:
        return tuple(info.output_shape), None, max(spec.height, spec.width)
    _c, h, w = info.output_shape
    field = next((f for f in receptive_fields(network.layer_infos) if f.name == layer), None)
    side = min(field.size) if field is not None else max(spec.height, spec.width)
    return tuple(info.output_shape), (h // 2, w // 2), side


MONOTONE = ("relu", "leaky_relu", "elu", "tanh", "sigmoid")  # larger in, larger out


def _ascended_layer(network, layer: str) -> str:
    """The layer whose value is ascended for `layer`: the one a monotone activation reads
    (same shape, same order: the same pictures excite both), else the layer itself. A ReLU
    that is 0 on a start gives it no gradient at all; what it reads always does."""
    infos = list(network.layer_infos)
    names = [i.name for i in infos]
    at = names.index(layer)
    info = infos[at]
    reads: tuple[str, ...] = info.inputs or ((names[at - 1],) if at else ())
    if info.kind == "activation" and getattr(info.spec, "kind", "") in MONOTONE \
            and len(reads) == 1 and reads[0] in names:
        return reads[0]
    return layer


def optimised_position(network, layer: str) -> tuple[int, int] | None:
    """The map position optimise_unit works on for `layer` (its centre); None: flat."""
    return _target(network, scored_layer(network, layer))[1]


def _layer_output(network, pictures01: torch.Tensor, layer: str) -> torch.Tensor:
    """`layer`'s output for (B, C, H, W) pictures in 0..1 (the layers after it not run)."""
    for name, out in layer_outputs(network, network_input(pictures01, network.input_spec)):
        if name == layer:
            return out
    raise KeyError(layer)


def unit_score(network, layer: str, unit: int, pictures01) -> np.ndarray:
    """The unit's score for (B, C, H, W) pictures in 0..1: a map unit's largest value over
    positions, a flat unit's value (unit_examples' definition)."""
    layer = scored_layer(network, layer)
    x = torch.as_tensor(np.asarray(pictures01, dtype=np.float32))
    network.eval()
    with torch.no_grad():
        out = _layer_output(network, x, layer)[:, unit]
    return (out.flatten(1).max(1).values if out.ndim == 3 else out).numpy().astype(np.float64)


# ---------------------------------------------------------------------------------------
# Regularisers


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """(B, C, H, W) blurred by a Gaussian of `sigma` pixels (edges reflected)."""
    if sigma < 0.1:
        return x
    radius = max(1, math.ceil(2 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    g = torch.exp(-(t ** 2) / (2 * sigma ** 2))
    g = g / g.sum()
    c = x.shape[1]
    pad = torch.nn.functional.pad(x, (radius, radius, radius, radius), mode="reflect")
    pad = torch.nn.functional.conv2d(pad, g.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return torch.nn.functional.conv2d(pad, g.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def _total_variation(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., 1:] - x[..., :-1]).abs().mean()


def _jittered(x: torch.Tensor, pixels: int, rng: np.random.Generator) -> torch.Tensor:
    if pixels <= 0:
        return x
    dy, dx = (int(v) for v in rng.integers(-pixels, pixels + 1, size=2))
    return torch.roll(x, shifts=(dy, dx), dims=(2, 3))


def _objective(network, x: torch.Tensor, target: tuple) -> torch.Tensor:
    """(B,) the value ascended: a map unit's value at its position, a flat unit's value, a
    class's log-odds against all the others (its logit minus the log-sum-exp of theirs).
    A class's logit alone is raised by ink anywhere (the logit of an 8 rose faster than a
    1's own: nine in ten came out read as 8); its log-probability stops rising once the
    network is sure, leaving faint digits (a quarter of full ink) that other networks read
    as 1; the log-odds keeps asking for more of the class, and less of every other."""
    layer, unit, position, is_class = target[:4]
    out = _layer_output(network, x, layer)
    if is_class:  # unit: one class, or a tensor of one class per start
        chosen = unit.view(-1, 1) if torch.is_tensor(unit) else torch.full((len(out), 1), unit)
        others = out.scatter(1, chosen, float("-inf"))
        return out.gather(1, chosen)[:, 0] - torch.logsumexp(others, dim=1)
    return out[:, unit, position[0], position[1]] if position is not None else out[:, unit]


def _private_copy(network):
    """A copy of the network whose weights need no gradient: the ascent differentiates only
    the input (half the work), and the network the window uses is left untouched."""
    clone = copy.deepcopy(network).eval()
    for p in clone.parameters():
        p.requires_grad_(False)
    return clone


# ---------------------------------------------------------------------------------------
# The ascent


def _starts(spec: InputSpec, starts: int, seed: int, start_picture) -> torch.Tensor:
    """(starts, C, H, W) in 0..1: faint random noise, the first one the user's picture
    ((H, W) or (H, W, C) in 0..1 at the network's size) when given."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, START_NOISE, size=(starts, *spec.shape)).astype(np.float32)
    if start_picture is not None:
        x[0] = to_network_layout(np.clip(start_picture, 0.0, 1.0),
                                 InputSpec(spec.channels, spec.height, spec.width))
    return torch.from_numpy(x)


def _step_input(params: torch.Tensor, full_hw: tuple[int, int]) -> torch.Tensor:
    """The picture the network sees at this step: params upsampled when at low resolution."""
    if tuple(params.shape[2:]) == full_hw:
        return params
    return torch.nn.functional.interpolate(params, size=full_hw, mode="bilinear",
                                           align_corners=False)


@contextlib.contextmanager
def one_torch_thread():
    """Torch on one thread meanwhile (for the whole process; set back after). The ascent's
    batches are a few 28×28 pictures: on a busy two-core machine two threads waiting for
    each other made it 25 times slower (22 s against 0.9 s measured), and one is no slower
    on a quiet one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def optimise_unit(network, layer: str, unit: int, starts: int = 4, start_picture=None,
                  reg: Regularisers = DEFAULT, seed: int = 0,
                  on_step: Callable[[int, int, np.ndarray, np.ndarray], None] | None = None,
                  stop: Callable[[], bool] | None = None, every: int = 8) -> Optimised:
    """Gradient ascent on `starts` pictures at once for unit `unit` of `layer` (a softmax's
    classes: their logits). UnitProblem for a layer or unit the network does not have."""
    layer = scored_layer(network, layer)
    shape, position, side = _target(network, layer)
    check_unit(layer, unit, shape[0])
    spec = network.input_spec
    network = _private_copy(network)
    is_class = layer == scored_layer(network, network.layer_infos[-1].name)
    target = (layer if is_class else _ascended_layer(network, layer), unit, position, is_class,
              layer)
    x = _starts(spec, max(1, int(starts)), seed, start_picture)
    with one_torch_thread():
        final, done = _run(network, x, target, reg, side, np.random.default_rng(seed + 1),
                           coarse_first=start_picture is None, on_step=on_step, stop=stop,
                           every=max(1, int(every)))
        scores = unit_score(network, layer, unit, final)
    inputs = (spec.low + final * (spec.high - spec.low)).numpy().astype(np.float32)
    return Optimised(layer, unit, _display(final), inputs, scores, done, done < reg.steps,
                     position)


def _run(network, x: torch.Tensor, target: tuple, reg: Regularisers, side: int,
         rng: np.random.Generator, coarse_first: bool, on_step, stop, every: int):
    """The ascent from starts x: (the final pictures (B, C, H, W) in 0..1, steps done).
    target: (the layer ascended, the unit, its map position or None, whether it is a class,
    the layer scored)."""
    scale = min(1.0, side / 10.0)  # a 3×3 field is not blurred or jittered like a 28×28 one
    jitter, sigma = min(reg.jitter, side // 8), reg.blur_sigma * scale
    full = (int(x.shape[2]), int(x.shape[3]))  # (H, W)
    low = reg.low_res_steps > 0 and coarse_first and min(full) >= 8
    params = (torch.nn.functional.interpolate(x, scale_factor=0.5, mode="area") if low
              else x).requires_grad_(True)
    optimiser = torch.optim.Adam([params], lr=reg.learning_rate)
    done = 0
    for step in range(reg.steps):
        if stop is not None and stop():
            break
        if low and step == reg.low_res_steps:  # on to the full resolution
            params = _step_input(params.detach(), full).requires_grad_(True)
            optimiser = torch.optim.Adam([params], lr=reg.learning_rate)
        _ascend(network, params, optimiser, full, target, reg, jitter, rng)
        with torch.no_grad():
            if reg.clamp:
                params.clamp_(0.0, 1.0)
            if reg.blur_every and (step + 1) % reg.blur_every == 0:
                params.copy_(_gaussian_blur(params, sigma))
        done = step + 1
        if on_step is not None and (done % every == 0 or done == reg.steps):
            pictures = _step_input(params.detach(), full)
            on_step(done, reg.steps, _display(pictures),
                    unit_score(network, target[4], target[1], pictures))
    final = _step_input(params.detach(), full)
    return (final.clamp(0.0, 1.0) if reg.clamp else final), done


def _ascend(network, params, optimiser, full_hw, target, reg: Regularisers, jitter: int,
            rng: np.random.Generator) -> None:
    """One step: the unit's value up, the penalties down (gradients for the input only: the
    network's copy needs none for its weights). A start on which the unit gives no gradient
    at all (every unit feeding it off, as too much ink does to the default model's first
    dense layer) fades towards the blank page instead, until the unit answers again."""
    picture = _step_input(params, full_hw)
    value = _objective(network, _jittered(picture, jitter, rng), target)
    (grad,) = torch.autograd.grad(-value.sum(), params)
    dead = grad.flatten(1).abs().sum(1) == 0
    penalty = torch.zeros(())
    if reg.total_variation:
        penalty = penalty + reg.total_variation * _total_variation(picture) * len(picture)
    if reg.l2:
        penalty = penalty + reg.l2 * (picture ** 2).mean() * len(picture)
    if penalty.requires_grad:
        grad = grad + torch.autograd.grad(penalty, params)[0]
    optimiser.zero_grad()
    params.grad = grad
    optimiser.step()
    if dead.any():
        with torch.no_grad():
            params[dead] *= FADE


def _display(pictures: torch.Tensor) -> np.ndarray:
    """(B, C, H, W) 0..1 -> (B, H, W) grey or (B, H, W, C) colour, float32."""
    a = pictures.detach().numpy().astype(np.float32)
    return a[:, 0] if a.shape[1] == 1 else np.moveaxis(a, 1, -1)


# ---------------------------------------------------------------------------------------
# Ideal digits and how readable they are


def ideal_digits(network, starts: int = 10, reg: Regularisers = DEFAULT, seed: int = 0,
                 classes=None, stop: Callable[[], bool] | None = None) -> np.ndarray:
    """Each class's optimised inputs: (classes, starts, C, H, W) in 0..1, from `starts`
    random starts each (the output layer's unit for the class, its log-odds), all
    in one batch."""
    out_layer = scored_layer(network, network.layer_infos[-1].name)
    count = int(next(i for i in network.layer_infos if i.name == out_layer).output_shape[0])
    chosen = list(range(count)) if classes is None else [int(k) for k in classes]
    for k in chosen:
        check_unit(out_layer, k, count)
    units = torch.tensor(chosen).repeat_interleave(starts)
    side = max(network.input_spec.height, network.input_spec.width)
    x = _starts(network.input_spec, len(units), seed, None)
    network = _private_copy(network)
    with one_torch_thread():
        final, _done = _run(network, x, (out_layer, units, None, True, out_layer), reg, side,
                            np.random.default_rng(seed + 1), coarse_first=True, on_step=None,
                            stop=stop, every=1)
    return final.numpy().astype(np.float32).reshape(len(chosen), starts, *final.shape[1:])


def read_rate(network, pictures01: np.ndarray, classes=None) -> float:
    """The share of (classes, starts, C, H, W) pictures the network reads as their class."""
    k, s = pictures01.shape[:2]
    wanted = np.repeat(np.arange(k) if classes is None else np.asarray(classes), s)
    x = torch.from_numpy(np.ascontiguousarray(pictures01.reshape(k * s, *pictures01.shape[2:])))
    network.eval()
    with torch.no_grad():
        out = None
        for _name, h in layer_outputs(network, network_input(x, network.input_spec)):
            out = h
    assert out is not None  # a network has layers
    return float((out.argmax(1).numpy() == wanted).mean())


def high_frequency_energy(pictures, cutoff: float = HIGH_FREQUENCY) -> float:
    """The mean energy per pixel of (B, H, W) pictures at spatial frequencies above
    `cutoff` cycles per pixel (each picture's mean removed): the fine noise plain gradient
    ascent fills a picture with. Parseval: over all frequencies it is the variance."""
    a = np.asarray(pictures, dtype=np.float64)
    a = a.reshape(-1, *a.shape[-2:]) if a.ndim > 2 else a[None]
    a = a - a.mean(axis=(-2, -1), keepdims=True)
    h, w = a.shape[-2:]
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij"))
    power = np.abs(np.fft.fft2(a)) ** 2 / (h * w)
    return float((power * (radius > cutoff)).sum(axis=(-2, -1)).mean() / (h * w))


def with_steps(reg: Regularisers, steps: int) -> Regularisers:
    """The same regularisers over `steps` steps (its low-resolution share kept)."""
    low = round(reg.low_res_steps * steps / reg.steps)
    return replace(reg, steps=steps, low_res_steps=low)

"""What the CNN explorer says about each layer of a network: the card texts (label, shape,
the lecture's formulas with the layer's own numbers, plain words, the receptive field of a
conv or pool layer's units on the input), the conv block a layer belongs to, and the learned numbers a detail panel shows (a filter's kernel and bias, a
dense unit's weights, a batch-norm channel's statistics).

Everything comes from the layer specs' methods (cnnviz.core.networks.layers); no Qt, no HTML.

    >>> from cnnviz.core.networks.models import build_model
    >>> cards = describe_layers(build_model("lecture-keras"))
    >>> cards[6].name, cards[6].shape_formula
    ('pool2', '(W − F + 2P) / S + 1 = (11 − 2 + 2×0) / 2 + 1 = 5.5 → ⌊5.5⌋ = 5, so 64×5×5')
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..basics.formulas import fmt_number
from ..convolution.receptive_field import receptive_fields

# What a flat layer's values are, for how the explorer labels its bars.
ROLE_PROBABILITIES = "probabilities"  # the softmax at the end: one probability per class
ROLE_CLASS_SCORES = "class scores"  # the last dense layer: one score per class
ROLE_NONE = ""


@dataclass(frozen=True)
class LayerText:
    """What a card and the info line say about one layer."""

    name: str
    kind: str  # conv, batchnorm, activation, pool, dropout, flatten, dense, or "input"
    label: str  # "Conv 32 3×3 s1 p0"
    shape: tuple[int, ...]
    in_shape: tuple[int, ...]
    parameters: int
    shape_formula: str  # the lecture's size rule with this layer's numbers
    param_formula: str  # the lecture's parameter rule with this layer's numbers
    explanation: str  # plain words, quoting the lecture
    role: str = ROLE_NONE  # ROLE_PROBABILITIES, ROLE_CLASS_SCORES or ROLE_NONE
    spec: object = None  # the layer spec (None for the input)
    # conv and pool layers: the square of the input one unit sees (rows, columns), and
    # plain words about it (the lecture's "spatial hierarchies of patterns")
    field_size: tuple[int, int] | None = None
    field_words: str = ""
    # in a network that is not one chain: the layers it reads, when that is not simply the
    # layer before it (a join reads several)
    reads: tuple[str, ...] = ()

    @property
    def field_label(self) -> str:
        """What the card says about the receptive field: "RF 5×5" ("" when it has none)."""
        if self.field_size is None:
            return ""
        return f"RF {self.field_size[0]}×{self.field_size[1]}"

    @property
    def has_maps(self) -> bool:
        return len(self.shape) == 3

    @property
    def flattens_maps(self) -> bool:
        """A flatten of feature maps (its bars run map after map)."""
        return self.kind == "flatten" and len(self.in_shape) == 3


def input_text(network) -> LayerText:
    """The input's card, from the network's input spec (and, for cnnviz's own networks, the
    normalisation done inside the network)."""
    shape = tuple(network.input_spec.shape)
    arch = getattr(network, "arch", None)
    norm = ""
    if arch is not None and (arch.input_mean, arch.input_std) != (0.0, 1.0):
        norm = (f" Inside the network it is first normalised: (x − {arch.input_mean:g}) / "
                f"{arch.input_std:g}.")
    return LayerText(
        "input", "input", "Input", shape, shape, 0,
        f"{shape[0]} channel{'s' if shape[0] != 1 else ''} of {shape[1]}×{shape[2]} pixels",
        "no parameters",
        "The picture the network sees: your drawing after the MNIST-style preprocessing "
        "(cropped to the ink, scaled to fit 20×20, centred by its centre of mass in a "
        "28×28 frame, white ink on black, values 0 to 1)." + norm)


def _roles(infos) -> dict[str, str]:
    roles = {}
    if infos and infos[-1].spec is not None and infos[-1].spec.ends_network:
        roles[infos[-1].name] = ROLE_PROBABILITIES
    dense = [i.name for i in infos if i.kind == "dense"]
    if dense:
        roles.setdefault(dense[-1], ROLE_CLASS_SCORES)
    return roles


def layer_text(info, role: str = ROLE_NONE) -> LayerText:
    """The card of one layer (a cnnviz.core.networks.models.LayerInfo), from its spec's methods."""
    spec, in_shape = info.spec, tuple(info.in_shape)
    return LayerText(info.name, info.kind, info.label, tuple(info.output_shape), in_shape,
                     int(info.parameters), spec.shape_formula(in_shape),
                     spec.param_formula(in_shape), spec.describe(in_shape), role, spec)


def describe_layers(model) -> list[LayerText]:
    """Cards for a cnnviz.core.networks.models.Network: the input first, then one per layer."""
    infos = list(model.layer_infos)
    roles = _roles(infos)
    texts = [layer_text(i, roles.get(i.name, ROLE_NONE)) for i in infos]
    for k, info in enumerate(infos):
        before = infos[k - 1].name if k else "input"
        if info.inputs and (len(info.inputs) > 1 or info.inputs[0] != before):
            texts[k] = replace(texts[k], reads=tuple(info.inputs))
    sizes = field_sizes(infos)
    spec = model.input_spec
    words = _field_words(infos, (spec.height, spec.width))
    texts = [replace(t, field_size=sizes[t.name], field_words=words[t.name])
             if t.name in sizes else t for t in texts]
    return [input_text(model)] + texts


# ---------------------------------------------------------------------------------------
# Receptive fields on the cards


def field_sizes(infos) -> dict[str, tuple[int, int]]:
    """The receptive field's size (rows, columns) of each conv and pool layer, in order
    (cnnviz.core.convolution.receptive_field works it out; batch norm, activations and dropout keep
    their conv's field and do not repeat it)."""
    return {f.name: f.size for f in receptive_fields(infos) if f.kind in ("conv", "pool")}


def _field_words(infos, input_hw: tuple[int, int]) -> dict[str, str]:
    def square(size):
        return f"{size[0]}×{size[1]}"

    fields = [f for f in receptive_fields(infos) if f.kind in ("conv", "pool")]
    convs = [f for f in fields if f.kind == "conv"] or fields
    words = {}
    for f in fields:
        text = (f"Each unit of {f.name} is worked out from a {square(f.size)} square of the "
                f"input picture: its receptive field (a pixel outside it cannot change the "
                f"unit).")
        if f.size[0] > input_hw[0] or f.size[1] > input_hw[1]:
            text += (f" That is more than the {square(input_hw)} picture: near the edges part "
                     f"of it is padding.")
        if convs[0] is not convs[-1]:
            text += (f" The lecture says CNNs “can learn spatial hierarchies of patterns”: a "
                     f"unit of {convs[0].name} sees only {square(convs[0].size)} pixels (a bit "
                     f"of a stroke), one of {convs[-1].name} sees {square(convs[-1].size)} (a "
                     f"large part of the picture), so deeper layers can answer to larger "
                     f"patterns made of the smaller ones found before them.")
        words[f.name] = text + " Point at a unit of its maps to see its square on the input."
    return words


# ---------------------------------------------------------------------------------------
# Conv blocks


def block_of(infos, name: str) -> list[str]:
    """The conv block a feature-map layer belongs to: a conv and the BN / activation /
    pooling / dropout layers after it, up to the next conv or flatten."""
    names = [i.name for i in infos]
    if name not in names:
        return []
    idx = names.index(name)
    if len(infos[idx].output_shape) != 3:
        return []
    j = idx
    while j >= 0 and not infos[j].spec.makes_maps:
        if len(infos[j].output_shape) != 3:
            return []
        j -= 1
    if j < 0:
        return []
    block = [infos[j].name]
    k = j + 1
    while k < len(infos) and not infos[k].spec.makes_maps and len(infos[k].output_shape) == 3:
        block.append(infos[k].name)
        k += 1
    return block


def first_conv(infos) -> str | None:
    return next((i.name for i in infos if i.spec.makes_maps), None)


# ---------------------------------------------------------------------------------------
# The learned numbers


@dataclass(frozen=True)
class Filter:
    """One conv filter: weight (in_channels, kh, kw) and its bias."""

    layer: str
    channel: int
    weight: np.ndarray
    bias: float


def conv_filter(net, conv: str, c: int) -> Filter:
    layer = net.layers[conv]
    weight = layer.weight.detach().cpu().numpy()[c]
    bias = float(layer.bias.detach().cpu().numpy()[c]) if layer.bias is not None else 0.0
    return Filter(conv, c, weight, bias)


def dense_unit(net, name: str, i: int) -> tuple[np.ndarray, float]:
    """The weights into unit i of a dense layer, and its bias."""
    layer = net.layers[name]
    return layer.weight.detach().cpu().numpy()[i], float(layer.bias.detach().cpu().numpy()[i])


@dataclass(frozen=True)
class BatchNormStatistics:
    mean: float  # μ remembered from training
    var: float  # σ²
    gamma: float
    beta: float


def batchnorm_statistics(module, c: int) -> BatchNormStatistics:
    gamma = float(module.weight.detach()[c]) if module.weight is not None else 1.0
    beta = float(module.bias.detach()[c]) if module.bias is not None else 0.0
    return BatchNormStatistics(float(module.running_mean[c]), float(module.running_var[c]),
                               gamma, beta)


@dataclass(frozen=True)
class StageStep:
    """What one layer after the conv does to a channel: the layer's name and plain words."""

    name: str
    text: str


def stage_steps(net, upto: list[str], c: int) -> list[StageStep]:
    """Plain words for what happens to channel c after the conv (upto[0]), layer by layer."""
    infos = {i.name: i for i in net.layer_infos}
    steps = []
    for name in upto[1:]:
        spec = infos[name].spec
        text = spec.step
        if spec.type == "batchnorm":  # the one step whose words need the learned numbers
            s = batchnorm_statistics(net.layers[name], c)
            text += (f" with μ = {fmt_number(s.mean, 3)}, σ² = {fmt_number(s.var, 3)}, "
                     f"γ = {fmt_number(s.gamma, 3)}, β = {fmt_number(s.beta, 3)}")
        if text:
            steps.append(StageStep(name, text))
    return steps


def flat_source(in_shape, i: int) -> tuple[int, int, int]:
    """Where value i of a flatten of (C, H, W) maps came from: (map, row, column)."""
    _c, h, w = in_shape
    ch, rest = divmod(int(i), h * w)
    return ch, rest // w, rest % w

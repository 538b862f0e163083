"""Parameters: a fully connected layer against a convolution layer, for the current input
and network (the lecture's "3 Layers of ANN on MNIST" and "Example with CONV").

    c = compare(network)     # the first conv layer and the dense layer that would replace it
    c.dense_weights, c.conv_parameters, c.ratio

The lecture's slide: 784 inputs to 32 × 26 × 26 units, "= 21,631 nodes", "784 × 21,631 =
16,958,704". But 32 × 26 × 26 is 21,632, and 784 × 21,632 = 16,959,488 (weights only, as the
slide counts; with one bias per unit 16,981,120). LECTURE_SLIDE holds both, to say so.

Qt-free; the arithmetic is cnnviz.core.convolution.ops', the writing-out cnnviz.core.basics.formulas'.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..basics.formulas import TIMES, conv_params_formula, dense_params_formula, fmt_count
from ..convolution import ops

__all__ = ["LECTURE_SLIDE", "Comparison", "compare", "compare_shapes"]

# The slide's numbers and the right ones (1 × 28 × 28 input, 32 maps of 26 × 26).
LECTURE_SLIDE = {"units_slide": 21_631, "units": 32 * 26 * 26,
                 "weights_slide": 16_958_704, "weights": 784 * 32 * 26 * 26}


@dataclass(frozen=True)
class Comparison:
    input_shape: tuple[int, int, int]  # (C, H, W)
    conv_name: str
    kernel: tuple[int, int]
    filters: int
    output_shape: tuple[int, int, int]  # the conv layer's (F, Ho, Wo)
    inputs: int  # C·H·W
    units: int  # F·Ho·Wo: as many units as the conv layer's maps hold
    dense_weights: int  # inputs × units (the slide's count)
    dense_parameters: int  # (inputs + 1) × units
    conv_parameters: int  # ((kh × kw × C) + 1) × F
    dense_formula: str
    dense_weights_formula: str
    conv_formula: str

    @property
    def ratio(self) -> float:
        return self.dense_parameters / self.conv_parameters

    @property
    def units_formula(self) -> str:
        f, h, w = self.output_shape
        return f"{f} {TIMES} {h} {TIMES} {w} = {fmt_count(self.units)}"


def compare_shapes(input_shape, kernel, filters, output_shape, conv_name: str = "conv1") -> Comparison:
    c, h, w = (int(v) for v in input_shape)
    kh, kw = (int(v) for v in kernel)
    inputs = c * h * w
    f, oh, ow = (int(v) for v in output_shape)
    units = f * oh * ow
    return Comparison(
        (c, h, w), conv_name, (kh, kw), int(filters), (f, oh, ow),
        inputs, units, inputs * units, ops.dense_params(inputs, units),
        ops.conv_params(kh, kw, c, filters),
        dense_params_formula(inputs, units), dense_params_formula(inputs, units, bias=False),
        conv_params_formula(kh, kw, c, filters))


def compare(network_or_arch) -> Comparison | None:
    """For a network's (or an architecture's) first conv layer; None when it has none (a
    fully connected net)."""
    from ..networks.layers import Conv
    from ..networks.models import summarize

    infos = getattr(network_or_arch, "layer_infos", None)
    for info in infos if infos is not None else summarize(network_or_arch):
        if info.kind == "conv" and isinstance(info.spec, Conv):
            return compare_shapes(info.in_shape, info.spec.kernel, info.spec.filters,
                                  info.output_shape, info.name)
    return None

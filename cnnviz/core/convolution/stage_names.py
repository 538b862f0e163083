"""What the kernel explorer and `cnnviz filter` call each activation and pooling, once.

One table per stage, keyed like cnnviz.core.convolution.ops (ACTIVATIONS, POOL_KINDS, plus "none"):
the name used in sentences and titles ("leaky ReLU", "average"), the short text a picker
shows ("Sigmoid (0 to 1)") and the whole explanation (a picker item's tooltip).

    ACTIVATION_CHOICES["relu"].name     # 'ReLU'
    POOL_NAMES["avg"]                   # 'average'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACTIVATION_CHOICES", "ACTIVATION_NAMES", "POOL_CHOICES", "POOL_NAMES", "StageChoice"]


@dataclass(frozen=True)
class StageChoice:
    """One activation or pooling kind, as the user sees it."""

    key: str  # as cnnviz.core.convolution.ops takes it: "relu", "avg", "none"
    name: str  # in a sentence or a title: "ReLU", "leaky ReLU", "average"
    label: str  # a picker's short text: "ReLU: max(0, x)"
    description: str = ""  # the whole explanation (a picker item's tooltip)


def _table(*choices: StageChoice) -> dict[str, StageChoice]:
    return {c.key: c for c in choices}


# In the order of cnnviz.core.convolution.ops.ACTIVATIONS (a test checks they are the same keys).
ACTIVATION_CHOICES = _table(
    StageChoice("none", "none", "None", "No activation: the convolution output goes on unchanged."),
    StageChoice("relu", "ReLU", "ReLU: max(0, x)",
                "ReLU: \"Change all negative values to zero, leave all positive value alone\": "
                "f(x) = max(0, x)."),
    StageChoice("leaky_relu", "leaky ReLU", "Leaky ReLU",
                "Leaky ReLU: like ReLU, but a negative value is multiplied by 0.01 instead of "
                "becoming 0."),
    StageChoice("elu", "ELU", "ELU",
                "ELU (exponential linear unit): x above 0; e^x − 1 below 0, so negative values "
                "bend smoothly towards −1."),
    StageChoice("gelu", "GELU", "GELU: x·Φ(x)",
                "GELU: x times the chance that a standard normal number is below x: close to "
                "ReLU, but smooth, and slightly negative just below 0."),
    StageChoice("swish", "swish", "Swish: x·sigmoid(x)",
                "Swish (also called SiLU): x times sigmoid(x): close to ReLU far from 0, smooth "
                "near it."),
    StageChoice("tanh", "tanh", "tanh (−1 to 1)",
                "Tangent hyperbolic: \"Its output always lies between -1 and 1 no matter what "
                "inputs are\"."),
    StageChoice("sigmoid", "sigmoid", "Sigmoid (0 to 1)",
                "Sigmoid: \"Its output always lies between 0 and 1 no matter what inputs are\"."),
    StageChoice("softmax", "softmax", "Softmax (sums to 1)",
                "Softmax: e^x divided by the sum of e^v over the whole feature map, so every value "
                "lies between 0 and 1 and each map adds up to 1 (each colour channel's map on its "
                "own). A network uses it on its last layer to turn its 10 scores into "
                "probabilities."),
)

# "none" first, then cnnviz.core.convolution.ops.POOL_KINDS.
POOL_CHOICES = _table(
    StageChoice("none", "none", "None"),
    StageChoice("max", "max", "Max"),
    StageChoice("min", "min", "Min"),
    StageChoice("avg", "average", "Average"),
)

ACTIVATION_NAMES = {key: c.name for key, c in ACTIVATION_CHOICES.items()}
POOL_NAMES = {key: c.name for key, c in POOL_CHOICES.items()}

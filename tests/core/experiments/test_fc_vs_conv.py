"""FC against conv parameter counts, against torch's own parameter counts."""

import torch
from torch import nn

from cnnviz.core.experiments.fc_vs_conv import LECTURE_SLIDE, compare, compare_shapes
from cnnviz.core.networks.models import get_architecture


def _numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_the_lecture_slide_and_torch():
    c = compare_shapes((1, 28, 28), (3, 3), 32, (32, 26, 26))
    dense = nn.Linear(784, 32 * 26 * 26, device="meta")  # no memory: only the shapes
    assert c.dense_parameters == _numel(dense) == 16_981_120
    assert c.dense_weights == dense.weight.numel() == 16_959_488 == LECTURE_SLIDE["weights"]
    assert c.units == 21_632 == LECTURE_SLIDE["units"] != LECTURE_SLIDE["units_slide"]
    assert LECTURE_SLIDE["weights_slide"] == 784 * LECTURE_SLIDE["units_slide"]  # the slip
    assert c.conv_parameters == _numel(nn.Conv2d(1, 32, 3)) == 320
    assert c.dense_weights_formula == "784 × 21,632 = 16,959,488"
    assert c.units_formula == "32 × 26 × 26 = 21,632"


def test_for_each_shipped_architecture():
    for name in ("cnnviz", "lecture-keras", "lecture-deep"):
        arch = get_architecture(name)
        c = compare(arch)
        conv = nn.Conv2d(1, c.filters, c.kernel)
        assert c.conv_parameters == _numel(conv)
        out = conv(torch.zeros(1, 1, 28, 28)).shape[1:]
        assert c.output_shape == tuple(out)
        assert c.dense_parameters == _numel(nn.Linear(784, out.numel(), device="meta"))

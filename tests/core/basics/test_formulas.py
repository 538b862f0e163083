"""The formula strings agree with the arithmetic (ops) and with torch's own shapes."""

import itertools

import pytest
import torch

from cnnviz.core.basics import formulas
from cnnviz.core.convolution import ops


@pytest.mark.parametrize("size,kernel,stride,padding",
                         list(itertools.product((5, 11, 28), (1, 2, 3, 5), (1, 2, 3), (0, 1, 2))))
def test_size_formula_result_is_torchs_output_size(size, kernel, stride, padding):
    if kernel > size + 2 * padding:
        pytest.skip("kernel larger than the padded input")
    text = formulas.size_formula(size, kernel, stride, padding)
    out = torch.nn.functional.conv2d(torch.zeros(1, 1, size, size),
                                     torch.zeros(1, 1, kernel, kernel),
                                     stride=stride, padding=padding).shape[-1]
    assert text.endswith(f"= {out}")
    whole = (size - kernel + 2 * padding) % stride == 0
    assert ("⌊" in text) is (not whole)
    assert text.startswith(f"({size} − {kernel} + 2×{padding}) / {stride} + 1")


def test_lecture_pool_example_is_written_with_the_floor():
    # lecture-keras's second pool: an 11×11 map, 2×2 pool, stride 2 gives 5 (5.5 floored)
    assert formulas.size_formula(11, 2, 2, 0) == "(11 − 2 + 2×0) / 2 + 1 = 5.5 → ⌊5.5⌋ = 5"
    assert ops.pool_axis(11, 2, 2).value == 5


def test_parameter_formulas_match_ops_and_the_lecture():
    # The lecture: 3×3×3 kernels, 16 filters -> 448; (9216 + 1) × 128 = 1,179,776
    assert formulas.conv_params_formula(3, 3, 3, 16).endswith(f"= {ops.conv_params(3, 3, 3, 16)}")
    assert formulas.conv_params_formula(3, 3, 3, 16) == "((3×3×3) + 1) × 16 = 448"
    assert formulas.dense_params_formula(9216, 128) == "(9,216 + 1) × 128 = 1,179,776"
    assert ops.dense_params(9216, 128) == 1_179_776


@pytest.mark.parametrize("value,text", [(2, "2"), (-3.0, "−3"), (13.5, "13.5"), (-0.0001, "−0.0001"),
                                        (-1e-9, "−1e−09"), (2.99999999, "2.99999999"),
                                        (float("inf"), "∞"), (float("nan"), "undefined")])
def test_fmt_number(value, text):
    assert formulas.fmt_number(value) == text


def test_fmt_number_never_writes_minus_zero():
    assert formulas.fmt_number(-0.0) == "0"
    assert formulas.fmt_number(-0.00001, digits=2) != "−0"


def test_percent_never_claims_certainty():
    assert formulas.percent(0.99996) == ">99.9%"
    assert formulas.percent(1e-6) == "<0.1%"
    assert formulas.percent(0.5) == "50.0%"
    assert formulas.percent(float("nan")) == "undefined"


def test_fmt_number_never_writes_a_negative_zero():
    import numpy as np

    for v in (-0.0, np.float32(-0.0), -1e-9, -0.004, -0.0049):
        assert formulas.fmt_number(v, decimals=2) == "0.00", v
    assert formulas.fmt_number(-0.0) == "0" and formulas.fmt_number(np.float32(-0.0)) == "0"
    assert formulas.fmt_number(-0.005, decimals=2) in ("0.01", "−0.01", "0.00")  # rounding
    assert formulas.fmt_number(-0.347, decimals=2) == "−0.35"
    assert formulas.fmt_number(0.347, decimals=2) == "0.35"
    assert formulas.fmt_number(-2, decimals=0) == "−2"
    assert formulas.fmt_number(-1e-30) == "−1e−30"  # small is not zero


def test_fmt_count_short():
    assert [formulas.fmt_count_short(n) for n in (0, 320, 999, 1000, 9248, 18496, 131200,
                                                  1179776, 2_000_000)] == \
        ["0", "320", "999", "1k", "9.2k", "18k", "131k", "1.2M", "2M"]


@pytest.mark.parametrize("value, shown", [
    (0.25, "0.25"), (-0.347, "−0.35"), (-0.4242, "−0.42"), (9.3e-05, "≈0"), (-0.00004, "≈0"),
    (2.0, "2"), (-12345.0, "−12k"), (12345.0, "12345"), (123456.0, "123k"), (-123456.0, "−123k"),
    (2.8216, "2.822"), (12.3456, "12.35"), (1234.5, "≈1234"), (0.9999999, "≈1"),
    (float("inf"), "∞"), (float("nan"), "?"),
])
def test_a_grid_cell_holds_at_most_five_characters_and_no_e_notation(value, shown):
    from cnnviz.core.basics.formulas import cell_number

    assert cell_number(value) == shown
    assert len(shown) <= 5 and "e" not in shown

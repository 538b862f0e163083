"""A typed kernel is plain numbers or fractions within MAX_KERNEL_VALUE."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.convolution.kernels import KernelError, parse_cell, parse_kernel

# --------------------------------------------------------------------------- kernels at the limits


@pytest.mark.parametrize("text, words", [
    # "0 times the kernel 10 1; 1 1" used to give an all-zero kernel without a word
    ("0x10 1; 1 1", "row 1, column 1: '0x10' is not a number"),
    ("0X1F 2", "'0X1F' is not a number"),
    ("2x3 4; 5 6", "'2x3' is not a number"),
    ("1 x10; 1 1", "'x10' is not a number"),
    # float() reads these; a person typing a kernel never means them
    ("1_000 1", "'1_000' is not a number"),
    ("\uff13 1", "is not a number"),  # a full-width 3
    ("\u0663 1", "is not a number"),  # an Arabic-Indic 3
    # values that overflow what is drawn and computed
    ("1e308 1; 1 1", "'1e308' is too large; a kernel value may be at most 1,000,000"),
    ("1 -2e6", "'-2e6' is too large"),
    ("1/1e-9 1", "'1/1e-9' is too large"),
    ("1e5 * 1 100; 1 1", "the scale factor makes a value of 1e+07"),
])
def test_parse_kernel_refuses_what_is_not_a_plain_number(text, words):
    with pytest.raises(KernelError) as info:
        parse_kernel(text)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


def test_kernel_value_limit_is_named_and_inclusive():
    from cnnviz.core.basics.limits import MAX_KERNEL_VALUE

    assert MAX_KERNEL_VALUE == 1e6
    assert parse_cell("1e6") == 1e6 and parse_cell("-1000000") == -1e6
    np.testing.assert_array_equal(parse_kernel("2x [1 2; 3 4]"), [[2, 4], [6, 8]])
    np.testing.assert_array_equal(parse_kernel("1/4 × 1 1; 1 1"), [[0.25, 0.25], [0.25, 0.25]])


def test_cli_filter_refuses_a_hex_kernel(tmp_path, capsys):
    from PIL import Image

    from cnnviz.cli import main

    Image.fromarray(np.full((8, 8), 200, np.uint8)).save(tmp_path / "in.png")
    out = tmp_path / "out.npy"
    assert main(["filter", str(tmp_path / "in.png"), "--kernel", "0x10 1; 1 1", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "'0x10' is not a number" in err and "Traceback" not in err
    assert not out.exists()

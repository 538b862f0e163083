"""Every formula string and number format the app, the CLI and the docs show, once.

One style everywhere, the lecture's: the output size is written `(W − F + 2P) / S + 1`
with the Unicode minus, the current numbers put in, and `⌊…⌋` written out when the
division is not whole (PyTorch and Keras floor it):

    >>> size_formula(28, 3, 1, 0)
    '(28 − 3 + 2×0) / 1 + 1 = 26'
    >>> size_formula(11, 2, 2, 0)
    '(11 − 2 + 2×0) / 2 + 1 = 5.5 → ⌊5.5⌋ = 5'
    >>> conv_params_formula(3, 3, 1, 32)
    '((3×3×1) + 1) × 32 = 320'

Pure Python: no numpy arrays, no Qt, no app state. The arithmetic itself lives in
cnnviz.core.convolution.ops; these functions only write it out (tests check they agree).
"""

from __future__ import annotations

import math

MINUS = "\u2212"  # the typographic minus of every formula
TIMES = "×"

# The lecture's rules in symbols (shown as headings and in tooltips).
SIZE_RULE = f"(W {MINUS} F + 2P) / S + 1"
CONV_PARAM_RULE = f"((F_h {TIMES} F_w {TIMES} C_in) + 1) {TIMES} C_out"
DENSE_PARAM_RULE = f"(N_in + 1) {TIMES} N_out"
BATCHNORM_RULE = "x̂ = (x − μ) / √(σ² + ε)"


def fmt_number(v: float, digits: int = 4, decimals: int | None = None) -> str:
    """2 -> '2', -3.0 -> '−3', 0.11111 -> '0.1111', 13.5 -> '13.5', inf -> '∞'.
    With decimals, a fixed number of decimals (a kernel cell): -0.347 -> '−0.35'.

    Never shows a value that is not whole as a whole number (2.99999 is not "3"), and
    never writes a negative zero ("−0", "−0.00") for a value that rounds to zero."""
    v = float(v)
    if math.isnan(v):
        return "undefined"
    if math.isinf(v):
        return "∞" if v > 0 else MINUS + "∞"
    if decimals is not None:
        text = f"{v:.{max(0, int(decimals))}f}"
        if float(text) == 0:
            text = text.lstrip("-")
        return text.replace("-", MINUS)
    if v.is_integer() and abs(v) < 1e15:
        text = str(int(v))
    else:
        text = f"{v:.{digits}g}"
        for d in range(digits, 18):
            text = f"{v:.{d}g}"
            if not float(text).is_integer():
                break
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", MINUS)


def cell_number(v: float, width: int = 5) -> str:
    """A value in a small grid cell: at most `width` characters, never e-notation, never a
    value that is not whole shown as a whole number. 0.25 -> '0.25', −0.347 -> '−0.35',
    9.3e-05 -> '≈0', 1234.5 -> '≈1235', 123456 -> '123k' (the hover gives the exact value)."""
    v = float(v)
    if math.isnan(v):
        return "?"
    if math.isinf(v):
        return "∞" if v > 0 else MINUS + "∞"
    if v.is_integer():
        text = str(int(v))
        if len(text) <= width:
            return text.replace("-", MINUS)
    elif abs(v) < 0.0005:
        return "≈0"
    else:
        for decimals in (3, 2, 1):
            text = f"{v:.{decimals}f}".rstrip("0").rstrip(".")
            if len(text) <= width and not float(text).is_integer():
                return text.replace("-", MINUS)
        text = f"≈{v:.0f}"
        if len(text) <= width:
            return text.replace("-", MINUS)
    for unit, size in (("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("P", 1e15),
                       ("E", 1e18)):
        for decimals in (1, 0):
            number = f"{v / size:.{decimals}f}"
            if len(number) + 1 <= width and float(number) != 0:
                return (number + unit).replace("-", MINUS)
    if abs(v) < 1e21 and width < 8:  # (−123456 in 4: one more character, not a lie)
        return cell_number(v, width + 1)
    return MINUS + "∞" if v < 0 else "∞"  # beyond 10^21: as good as infinite here


def fmt_count(n: int) -> str:
    """1179776 -> '1,179,776' (parameter counts, units)."""
    return f"{int(n):,}"


def fmt_count_short(n: int) -> str:
    """A count for a small label: 320 -> '320', 9248 -> '9.2k', 131200 -> '131k',
    1179776 -> '1.2M' (the exact count is given beside it, e.g. in a tooltip)."""
    n = int(n)
    if abs(n) < 1000:
        return str(n)
    if abs(n) < 10_000:
        return f"{n / 1e3:.1f}k".replace(".0k", "k")
    if abs(n) < 1_000_000:
        return f"{n / 1e3:.0f}k"
    return f"{n / 1e6:.1f}M".replace(".0M", "M")


def fmt_shape(shape) -> str:
    """(32, 26, 26) -> '32×26×26'."""
    return TIMES.join(str(int(v)) for v in shape)


def fmt_pair(pair) -> str:
    """(3, 3) -> '3', (3, 5) -> '3×5' (rows × columns; a square is one number)."""
    a, b = int(pair[0]), int(pair[1])
    return str(a) if a == b else f"{a}{TIMES}{b}"


def percent(p: float) -> str:
    """A probability as a percentage that never claims certainty: the softmax never reaches
    exactly 100% (or 0%), so 0.99996 is ">99.9%", not "100.0%"."""
    if not math.isfinite(p):
        return "undefined"
    if p >= 0.9995:
        return ">99.9%"
    if 0.0 < p < 0.0005:
        return "<0.1%"
    return f"{100 * p:.1f}%"


def probability_text(p: float) -> str:
    """A probability as a student reads it, never in e-notation: '0.9731 (97.31%)',
    '< 0.0001 (< 0.01%)' for the tiny ones the softmax gives every other class."""
    if not math.isfinite(p):
        return "undefined"
    if p < 0.0001:
        return "< 0.0001 (< 0.01%)"
    if p > 0.9999:
        return "> 0.9999 (> 99.99%)"
    return f"{p:.4f} ({100 * p:.2f}%)"


def size_formula(size: int, kernel: int, stride: int, padding: int) -> str:
    """The lecture's (W − F + 2P) / S + 1 for one axis, with its numbers and result.

    Whole: '(28 − 3 + 2×0) / 1 + 1 = 26'. Not whole: '… = 5.5 → ⌊5.5⌋ = 5'.
    A stride below 1 gives '… = undefined'."""
    span = size - kernel + 2 * padding
    head = f"({size} {MINUS} {kernel} + 2{TIMES}{padding}) / {stride} + 1"
    if stride < 1:
        return f"{head} = undefined"
    whole = fmt_number(span // stride + 1)
    if span % stride == 0:
        return f"{head} = {whole}"
    exact = fmt_number(span / stride + 1, 6)
    return f"{head} = {exact} → ⌊{exact}⌋ = {whole}"


def conv_params_formula(kh: int, kw: int, c_in: int, filters: int, bias: bool = True) -> str:
    """'((3×3×1) + 1) × 32 = 320': the lecture's ((F_h × F_w × C_in) + 1) × C_out."""
    b = 1 if bias else 0
    total = (kh * kw * c_in + b) * filters
    inner = f"({kh}{TIMES}{kw}{TIMES}{c_in})" + (" + 1" if bias else "")
    return f"({inner}) {TIMES} {filters} = {fmt_count(total)}"


def dense_params_formula(n_in: int, n_out: int, bias: bool = True) -> str:
    """'(1,024 + 1) × 10 = 10,250': the lecture's (N_in + 1) × N_out."""
    b = 1 if bias else 0
    total = (n_in + b) * n_out
    left = f"({fmt_count(n_in)} + 1)" if bias else fmt_count(n_in)
    return f"{left} {TIMES} {fmt_count(n_out)} = {fmt_count(total)}"


def typeset(text: str) -> str:
    """ASCII arithmetic ('28 - 3', '8025x8025') in the formulas' signs (−, ×)."""
    import re

    return re.sub(r"(?<=\d)x(?=\d)", TIMES, text.replace(" - ", f" {MINUS} "))

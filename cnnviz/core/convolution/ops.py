"""The lecture's arithmetic, exactly: output sizes, convolution, activations, pooling,
parameter counts. Pure numpy, so a notebook gets the same numbers the window shows.

Conventions (the lecture's and torch's):
- "convolution" is cross-correlation: the kernel is not flipped, output[r, c] is
  sum(window * kernel) where the window's top-left is (r * stride - padding, c * stride - padding).
- padding is zeros, the same amount on both sides of an axis.
- stride and padding are an int or a (rows, cols) pair.
- images here are channels FIRST, (C, H, W). The whole filter pipeline on an image as loaded
  from a file, with its explanations, is cnnviz.core.convolution.filtering.run_pipeline.

Memory: convolution and pooling loop over the kh*kw kernel taps and add up strided slices
of the (padded) input, so a 4000x3000 photo needs memory in the order of its output, never
a (Ho, Wo, kh, kw) sliding-window copy. The padded input and the output may each be at most
limits.MAX_IMAGE_PIXELS pixels per channel (the image loader's cap), checked before anything is allocated.

Precision: a float32 photo is filtered in float32 unless the kernel is large enough to
overflow it (then float64); a result that is still not finite raises NotFiniteError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..basics.formulas import size_formula
from ..basics.limits import MAX_IMAGE_PIXELS

__all__ = [
    "ACTIVATIONS", "LAYER_ACTIVATIONS", "POOL_KINDS", "AxisSize", "NotFiniteError", "ShapeError",
    "WindowProducts", "activate", "padded_window", "conv2d", "conv2d_per_channel", "conv_params", "dense_params",
    "output_axis", "output_shape", "output_size", "pool2d", "pool_axis",
    "size_problem", "softmax", "window_products",
]



class ShapeError(ValueError):
    """Numbers that do not fit together (kernel, stride, padding, input); the message says
    which numbers and why, in plain words, on one line."""


class NotFiniteError(ValueError):
    """A result that is not a finite number (overflow, or inf / nan in the input)."""


# --------------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class AxisSize:
    """One axis of (W - F + 2P) / S + 1, with the working shown."""

    size: int
    kernel: int
    stride: int
    padding: int
    exact: float  # (W - F + 2P) / S + 1 as a float (nan when the stride is 0)
    value: int | None  # the whole output size, or None when impossible
    problem: str | None  # why it is impossible, in plain words
    formula: str  # formulas.size_formula: "(28 − 3 + 2×0) / 1 + 1 = 26", "… = 5.5 → ⌊5.5⌋ = 5"

    @property
    def ok(self) -> bool:
        return self.problem is None


def _as_int(v, what: str) -> int:
    """Accept ints (and numpy ints, and floats that are whole); refuse the rest."""
    if isinstance(v, bool):
        raise ShapeError(f"{what} must be a whole number, got {v!r}")
    try:
        i = int(v)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(inf)
        raise ShapeError(f"{what} must be a whole number, got {v!r}") from None
    if i != v:
        raise ShapeError(f"{what} must be a whole number, got {v!r}")
    return i


def _pair(v, what: str) -> tuple[int, int]:
    """An int or a (rows, cols) pair -> (rows, cols)."""
    if isinstance(v, (tuple, list, np.ndarray)):
        if len(v) != 2:
            raise ShapeError(f"{what} takes one number or two (rows, columns), got {tuple(v)!r}")
        return _as_int(v[0], what), _as_int(v[1], what)
    i = _as_int(v, what)
    return i, i


def _bad_numbers(size: int, kernel: int, stride: int, padding: int, word: str) -> str | None:
    # The kernel first: a pooling stride defaults to the window, so a 0 window is the cause.
    if kernel < 1:
        return f"the {word} must be at least 1 pixel (got {kernel})"
    if stride < 1:
        return f"stride must be at least 1 (got {stride})"
    if padding < 0:
        return f"padding cannot be negative (got {padding})"
    if size < 1:
        return f"the input must be at least 1 pixel (got {size})"
    if kernel > size + 2 * padding:
        return (f"the {kernel}-pixel {word} is larger than the {size}-pixel input plus padding "
                f"{padding} ({size + 2 * padding} pixels in all)")
    return None


def _divisors_near(n: int, target: int, count: int = 4) -> list[int]:
    """Up to `count` divisors of n closest to target, ascending (strides that fit exactly)."""
    divs = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    divs = sorted(set(divs + [n // d for d in divs]))
    return sorted(sorted(divs, key=lambda d: (abs(d - target), d))[:count])


def _or_list(items: list[int]) -> str:
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _fitting_padding(size: int, kernel: int, stride: int, padding: int) -> int | None:
    """The smallest padding above `padding` that makes (W - F + 2P) divisible by the stride,
    or None when none can (an even stride and an odd W - F). Closed form: a stride of 1e8
    must not mean 1e8 tries."""
    # Solve 2P ≡ -(W - F) (mod S): with g = gcd(2, S) it has a solution iff g divides the
    # right-hand side, and then P is fixed modulo m = S / g.
    rhs = (kernel - size) % stride
    g = math.gcd(2, stride)
    if rhs % g:
        return None
    m = stride // g
    target = (rhs // g) * pow(2 // g, -1, m) % m if m > 1 else 0
    first = padding + 1
    return first + (target - first) % m


def _formula_up_to_result(formula: str) -> str:
    """'(7 − 3 + 2×0) / 3 + 1 = 2.33333 → ⌊2.33333⌋ = 2' -> '… = 2.33333' (the exact value,
    for saying that it is not whole)."""
    return formula.split(" → ")[0]


def output_axis(size: int, kernel: int, stride: int = 1, padding: int = 0) -> AxisSize:
    """(W - F + 2P) / S + 1 for one axis. Never raises for impossible numbers (a zero stride,
    a kernel too big, a fractional result): it reports them in .problem. Only values that are
    not whole numbers at all (1.5, "two") raise ShapeError."""
    size, kernel = _as_int(size, "the input size"), _as_int(kernel, "the kernel size")
    stride, padding = _as_int(stride, "stride"), _as_int(padding, "padding")
    span = size - kernel + 2 * padding  # how far the kernel can travel
    exact = span / stride + 1 if stride != 0 else math.nan
    formula = size_formula(size, kernel, stride, padding)
    problem = _bad_numbers(size, kernel, stride, padding, "kernel")
    if problem is None and span % stride:
        tries = f"stride {_or_list(_divisors_near(span, stride))}"
        fitting = _fitting_padding(size, kernel, stride, padding)
        if fitting is not None:  # the smallest extra padding that fits at the asked stride
            tries += f" (or keep stride {stride} with padding {fitting})"
        problem = (f"{_formula_up_to_result(formula)} is not a whole number: the kernel does "
                   f"not fit the input evenly at stride {stride}; try {tries}")
    value = int(span // stride + 1) if problem is None else None
    return AxisSize(size, kernel, stride, padding, exact, value, problem, formula)


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, exact: bool = True) -> int:
    """The output size of one axis. exact=True: the lecture's rule, the division must come
    out whole (else ShapeError). exact=False: floor like torch (a ragged edge is dropped)."""
    axis = output_axis(size, kernel, stride, padding)
    if axis.value is not None:
        return axis.value
    bad = _bad_numbers(axis.size, axis.kernel, axis.stride, axis.padding, "kernel")
    if exact or bad:
        raise ShapeError(axis.problem)
    return (axis.size - axis.kernel + 2 * axis.padding) // axis.stride + 1


def output_shape(in_hw, kernel_hw, stride=(1, 1), padding=(0, 0), exact: bool = True) -> tuple[int, int]:
    """(Ho, Wo) for an (H, W) input; an error names the axis (height or width)."""
    sizes, kernels = _pair(in_hw, "the input size"), _pair(kernel_hw, "the kernel size")
    strides, pads = _pair(stride, "stride"), _pair(padding, "padding")
    out = []
    for axis, n, k, s, p in zip(("height", "width"), sizes, kernels, strides, pads):
        try:
            out.append(output_size(n, k, s, p, exact=exact))
        except ShapeError as exc:
            raise ShapeError(f"{axis}: {exc}") from None
    return out[0], out[1]


def pool_axis(size: int, window: int, stride: int | None = None, padding: int = 0) -> AxisSize:
    """Pooled size of one axis, floored like torch and Keras (11 -> 5 for 2x2 stride 2).

    A problem only when the numbers are bad: output < 1, stride < 1, negative padding or
    padding more than half the window (torch's rule)."""
    size, window = _as_int(size, "the input size"), _as_int(window, "the pooling window")
    stride = window if stride is None else _as_int(stride, "stride")
    padding = _as_int(padding, "padding")
    span = size - window + 2 * padding
    exact = span / stride + 1 if stride != 0 else math.nan
    problem = _bad_numbers(size, window, stride, padding, "pooling window")
    if problem is None and padding > window // 2:
        problem = (f"padding {padding} is more than half the {window}-pixel pooling window; "
                   f"torch allows at most {window // 2}")
    # Floored: the last (span % stride) rows or columns never start a window of their own.
    value = int(span // stride + 1) if problem is None else None
    formula = size_formula(size, window, stride, padding)
    return AxisSize(size, window, stride, padding, exact, value, problem, formula)


def size_problem(in_hw, padding, out_hw) -> str | None:
    """Why an (H, W) input with this padding, giving an (Ho, Wo) output, is too large to
    filter (more than limits.MAX_IMAGE_PIXELS per channel), or None. Pure arithmetic: nothing allocated."""
    (h, w), (ph, pw), (ho, wo) = in_hw, padding, out_hw
    limit = f"cnnviz filters images up to {MAX_IMAGE_PIXELS:,} pixels"
    hp, wp = h + 2 * ph, w + 2 * pw
    if hp * wp > MAX_IMAGE_PIXELS:
        pad = f"{ph}" if ph == pw else f"({ph}, {pw})"
        return f"padding {pad} makes the padded input {hp}x{wp} = {hp * wp:,} pixels; {limit}"
    if ho * wo > MAX_IMAGE_PIXELS:
        return f"the output would be {ho}x{wo} = {ho * wo:,} pixels; {limit}"
    return None


# --------------------------------------------------------------------------- convolution


def _float_dtype(x: np.ndarray) -> np.dtype:
    """float32 if the input image is float32 (keeps big photos small), else float64."""
    return np.dtype(np.float32) if x.dtype == np.float32 else np.dtype(np.float64)


# Results up to this size are computed in float32 for a float32 photo: far below float32's
# 3.4e38, so pooling sums and activations after the convolution cannot overflow either.
_FLOAT32_SAFE = 1e30


def _abs_max(a: np.ndarray) -> float:
    """max |a| without an |a| copy of a big photo (nan when a holds nan)."""
    if a.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        return float(max(np.max(a), -np.min(a)))


def _conv_dtype(x: np.ndarray, k4: np.ndarray, bias, repeat: int) -> np.dtype:
    """The working precision: the input's (float32 keeps big photos small) unless the result
    could reach float32's range; |result| <= sum|kernel| * max|x| * repeat + |bias|."""
    if _float_dtype(x) != np.float32:
        return np.dtype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        k_sum = float(np.abs(k4.astype(np.float64)).sum(axis=(1, 2, 3)).max())
        b_max = float(np.abs(np.asarray(bias, dtype=np.float64)).max(initial=0.0))
        bound = k_sum * _abs_max(x) * repeat + b_max
    return np.dtype(np.float32) if bound <= _FLOAT32_SAFE else np.dtype(np.float64)


def _check_finite(out: np.ndarray, x: np.ndarray, k: np.ndarray) -> None:
    """NotFiniteError, in plain words, when the result holds inf or nan."""
    if np.isfinite(out).all():
        return
    if not (np.isfinite(x).all() and np.isfinite(k).all()):
        raise NotFiniteError("the result is not finite: the image or the kernel holds a value "
                             "that is not a finite number (inf or nan)")
    raise NotFiniteError(f"the result is too large to compute: kernel values up to "
                         f"{_abs_max(np.asarray(k, np.float64)):.3g} times pixel values up to "
                         f"{_abs_max(x):.3g} go past the largest number a computer stores "
                         f"({np.finfo(np.float64).max:.3g}); use smaller kernel values")


def _tap(xp: np.ndarray, i: int, j: int, ho: int, wo: int, sh: int, sw: int) -> np.ndarray:
    """The input pixels that kernel tap (i, j) meets at every output position: a strided
    view of the padded input, (..., Ho, Wo), no copy."""
    return xp[..., i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw]


def _pad(x: np.ndarray, ph: int, pw: int, value: float = 0.0) -> np.ndarray:
    """Pad the last two axes (a copy only when there is padding)."""
    if ph == 0 and pw == 0:
        return x
    widths = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    return np.pad(x, widths, mode="constant", constant_values=value)


def conv2d(x, kernel, stride=1, padding=0, bias=0.0, exact: bool = False) -> np.ndarray:
    """Cross-correlation with zero padding, the way CNN layers (and the lecture) do it.

    x (H, W)    with kernel (kh, kw)       -> (Ho, Wo)
    x (C, H, W) with kernel (C, kh, kw)    -> (Ho, Wo)     summed over channels
    x (C, H, W) with kernel (F, C, kh, kw) -> (F, Ho, Wo)  one map per filter
    x (C, H, W) with kernel (kh, kw)       -> (Ho, Wo)     the same kernel on every channel, summed
    bias: a number, or one per filter. Output sizes floor like torch unless exact=True
    (then ShapeError when (W - F + 2P) / S + 1 is not whole, or when the padded input or the
    output would be more than limits.MAX_IMAGE_PIXELS). NotFiniteError when the result is not finite.
    """
    x = np.asarray(x)
    k = np.asarray(kernel)
    if x.ndim not in (2, 3):
        raise ShapeError(f"the image must be (H, W) or (C, H, W), got shape {x.shape}")
    if k.ndim not in (2, 3, 4):
        raise ShapeError(f"the kernel must be (kh, kw), (C, kh, kw) or (F, C, kh, kw), got shape {k.shape}")
    summed = x.ndim == 3 and k.ndim == 2
    k4 = k.reshape((1,) * (4 - k.ndim) + k.shape)  # (F, C, kh, kw)
    c, (h, w) = (x.shape[0] if x.ndim == 3 and not summed else 1), x.shape[-2:]
    f, kc, kh, kw = k4.shape
    if kc != c:
        raise ShapeError(f"the kernel has {kc} channel(s) but the image has {x.shape[0]}; they must match")
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    ho, wo = output_shape((h, w), (kh, kw), (sh, sw), (ph, pw), exact=exact)
    too_big = size_problem((h, w), (ph, pw), (ho, wo))
    if too_big:  # before any allocation
        raise ShapeError(too_big)
    dtype = _conv_dtype(x, k4, bias, x.shape[0] if summed else 1)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, in words
        out = _conv(x, k4, summed, dtype, (sh, sw), (ph, pw), (ho, wo), bias)
    _check_finite(out, x, k)
    return out if k.ndim == 4 else out[0]


def _conv(x, k4, summed, dtype, stride, padding, out_hw, bias) -> np.ndarray:
    """conv2d's arithmetic, numbers already checked: (F, Ho, Wo) in dtype."""
    (sh, sw), (ph, pw), (ho, wo) = stride, padding, out_hw
    if summed:
        # The same kernel on every channel, summed = the kernel on the channel sum (linearity);
        # summing first keeps one (H, W) plane in memory instead of C.
        x = x.sum(axis=0, dtype=dtype)
    xc = x[None] if x.ndim == 2 else x  # (C, H, W)
    f, c, kh, kw = k4.shape
    xp = _pad(xc.astype(dtype, copy=False), ph, pw)  # (C, H + 2ph, W + 2pw)
    k4 = k4.astype(dtype, copy=False)
    out = np.zeros((f, ho, wo), dtype=dtype)  # (F, Ho, Wo)
    if f == 1 and c == 1:
        # The common case (one grey image, one kernel): in place, one scratch plane.
        tmp = np.empty((ho, wo), dtype=dtype)
        for i in range(kh):
            for j in range(kw):
                np.multiply(_tap(xp[0], i, j, ho, wo, sh, sw), k4[0, 0, i, j], out=tmp)
                out[0] += tmp
    else:
        for i in range(kh):
            for j in range(kw):
                # (F, C) weights of this tap times (C, Ho, Wo) pixels -> (F, Ho, Wo)
                out += np.tensordot(k4[:, :, i, j], _tap(xp, i, j, ho, wo, sh, sw), axes=(1, 0))
    b = np.asarray(bias, dtype=dtype)
    if b.ndim == 1:
        if b.shape[0] != f:
            raise ShapeError(f"{b.shape[0]} bias values for {f} filter(s); give one per filter")
        out += b[:, None, None]
    elif b.ndim == 0:
        if b != 0:
            out += b
    else:
        raise ShapeError(f"bias must be a number or one number per filter, got shape {b.shape}")
    return out


def conv2d_per_channel(x, kernel2d, stride=1, padding=0, exact: bool = False) -> np.ndarray:
    """Each channel filtered on its own with the same 2-D kernel (a colour photo stays colour).
    x (C, H, W) or (H, W) -> (C, Ho, Wo)."""
    x = np.asarray(x)
    k = np.asarray(kernel2d)
    if k.ndim != 2:
        raise ShapeError(f"per-channel filtering takes one 2-D kernel, got shape {k.shape}")
    xc = x[None] if x.ndim == 2 else x
    if xc.ndim != 3:
        raise ShapeError(f"the image must be (H, W) or (C, H, W), got shape {x.shape}")
    # One channel at a time: memory stays at one output plane of scratch.
    return np.stack([conv2d(plane, k, stride, padding, exact=exact) for plane in xc])


def padded_window(x: np.ndarray, top: int, left: int, height: int, width: int) -> np.ndarray:
    """The (…, height, width) block of x whose top-left is (top, left) in input pixels, with
    zeros where it reaches into the padding (top/left may be negative, the block may pass the
    far edge). The one padded-window crop: a kernel window, a pooling window, a receptive field."""
    x = np.asarray(x)
    h, w = x.shape[-2:]
    window = np.zeros(x.shape[:-2] + (height, width), dtype=np.result_type(x.dtype, np.float32))
    r0, r1 = max(top, 0), min(top + height, h)  # the part of the block inside the image
    c0, c1 = max(left, 0), min(left + width, w)
    if r0 < r1 and c0 < c1:
        window[..., r0 - top:r1 - top, c0 - left:c1 - left] = x[..., r0:r1, c0:c1]
    return window


@dataclass(frozen=True, eq=False)
class WindowProducts:
    """What one output pixel is made of, as the lecture's Recap slides show it."""

    top: int  # the window's top-left in INPUT coordinates (negative inside the padding)
    left: int
    window: np.ndarray  # (kh, kw) or (C, kh, kw) input values, zeros where padding
    products: np.ndarray  # window * kernel, same shape
    total: float  # products.sum(): the output pixel (no bias)


def window_products(x, kernel, stride, padding, row: int, col: int) -> WindowProducts:
    """The window under output pixel (row, col), its products with the kernel and their sum.
    x (H, W) with kernel (kh, kw); or x (C, H, W) with kernel (C, kh, kw) or (kh, kw)."""
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    if x.ndim not in (2, 3) or k.ndim not in (2, 3):
        raise ShapeError(f"window_products takes (H, W) or (C, H, W) with a 2-D or 3-D kernel, "
                         f"got {x.shape} and {k.shape}")
    if k.ndim == 3 and (x.ndim != 3 or k.shape[0] != x.shape[0]):
        raise ShapeError(f"the kernel has {k.shape[0]} channel(s) but the image shape is {x.shape}")
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    kh, kw = k.shape[-2:]
    h, w = x.shape[-2:]
    ho, wo = output_shape((h, w), (kh, kw), (sh, sw), (ph, pw), exact=False)
    if not (0 <= row < ho and 0 <= col < wo):
        raise IndexError(f"output pixel ({row}, {col}) is outside the {ho}x{wo} output")
    top, left = row * sh - ph, col * sw - pw
    window = padded_window(x, top, left, kh, kw)
    products = window * k  # a 2-D kernel broadcasts over channels
    return WindowProducts(top, left, window, products, float(products.sum()))


# --------------------------------------------------------------------------- activations

# What a network layer can apply (cnnviz.core.networks.models reads it from here), and what the
# filter pipeline offers: the same functions, plus "none".
LAYER_ACTIVATIONS = ("relu", "leaky_relu", "elu", "gelu", "swish", "tanh", "sigmoid", "softmax")
ACTIVATIONS = ("none", *LAYER_ACTIVATIONS)


def _float_array(x) -> np.ndarray:
    a = np.asarray(x)
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    # exp of -|x| never overflows: 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


def _erf(a: np.ndarray) -> np.ndarray:
    """The error function (Abramowitz and Stegun 7.1.26, within 1.5e-7: float32's own
    precision), without scipy."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(a))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                                                                           + t * 1.061405429))))
    return (np.sign(a) * (1.0 - poly * np.exp(-a * a))).astype(a.dtype, copy=False)


def activate(x, kind: str, *, negative_slope: float = 0.01, alpha: float = 1.0) -> np.ndarray:
    """Apply an activation. kind: one of ACTIVATIONS.

    All but softmax work value by value. softmax turns a whole feature map into one
    probability distribution: exp(x) / sum(exp(x)) over ALL values of an (H, W) map (or of a
    1-D array), and over each channel's (H, W) map separately for (C, H, W) (every channel
    sums to 1), like torch.softmax on the flattened map."""
    if not isinstance(kind, str):
        raise ValueError(f"the activation must be one of: {', '.join(ACTIVATIONS)}; got {kind!r}")
    name = kind.strip().lower().replace("-", "_")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {kind!r}; choose one of: {', '.join(ACTIVATIONS)}")
    a = _float_array(x)
    if name == "none":
        return a.copy()
    if name == "relu":
        return np.maximum(a, 0)  # max(0, x)
    if name == "leaky_relu":
        return np.where(a >= 0, a, a * a.dtype.type(negative_slope))
    if name == "elu":
        # expm1 of min(x, 0) so large positive x never overflows in the unused branch.
        return np.where(a > 0, a, a.dtype.type(alpha) * np.expm1(np.minimum(a, 0)))
    if name == "tanh":
        return np.tanh(a)
    if name == "gelu":  # x·Φ(x), Φ the standard normal's CDF (torch's and Keras's exact gelu)
        return (0.5 * a * (1.0 + _erf(a / np.sqrt(2.0)))).astype(a.dtype, copy=False)
    if name == "swish":  # x·sigmoid(x), also called SiLU
        return a * _sigmoid(a)
    if name == "softmax":
        if a.ndim <= 2:
            return softmax(a.reshape(-1)).reshape(a.shape)
        flat = a.reshape(a.shape[:-2] + (-1,))  # one row of H * W values per channel
        return softmax(flat, axis=-1).reshape(a.shape)
    return _sigmoid(a)


def softmax(x, axis: int = -1) -> np.ndarray:
    """exp(x) / sum(exp(x)), shifted by the max first so values like 1000 do not overflow."""
    a = _float_array(x)
    with np.errstate(over="ignore"):  # a - max is <= 0; far below it, exp gives 0, as it should
        e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# --------------------------------------------------------------------------- pooling

POOL_KINDS = ("max", "min", "avg")


def pool2d(x, kind: str = "max", size=2, stride=None, padding=0) -> np.ndarray:
    """Max, min or average pooling of (H, W) or (C, H, W), floored like torch and Keras.

    Padding like torch: max ignores it (pads with -inf), min pads with +inf, avg counts the
    padded zeros (torch's count_include_pad=True)."""
    name = str(kind).strip().lower()
    if name not in POOL_KINDS:
        raise ValueError(f"unknown pooling {kind!r}; choose one of: {', '.join(POOL_KINDS)}")
    x = np.asarray(x)
    if x.ndim not in (2, 3):
        raise ShapeError(f"pooling takes (H, W) or (C, H, W), got shape {x.shape}")
    (kh, kw) = _pair(size, "pooling size")
    (sh, sw) = (kh, kw) if stride is None else _pair(stride, "pooling stride")
    (ph, pw) = _pair(padding, "padding")
    h, w = x.shape[-2:]
    dims = []
    for axis, n, k, s, p in (("height", h, kh, sh, ph), ("width", w, kw, sw, pw)):
        a = pool_axis(n, k, s, p)
        if a.value is None:  # None exactly when there is a problem
            raise ShapeError(f"pooling {axis}: {a.problem}")
        dims.append(a.value)
    ho, wo = dims
    dtype = _float_dtype(x)
    fill = {"max": -np.inf, "min": np.inf, "avg": 0.0}[name]
    xp = _pad(x.astype(dtype, copy=False), ph, pw, fill)  # (..., H + 2ph, W + 2pw)
    out = _tap(xp, 0, 0, ho, wo, sh, sw).copy()  # (..., Ho, Wo)
    combine = {"max": np.maximum, "min": np.minimum, "avg": np.add}[name]
    for i in range(kh):
        for j in range(kw):
            if i or j:
                combine(out, _tap(xp, i, j, ho, wo, sh, sw), out=out)
    if name == "avg":
        out /= kh * kw  # padded zeros count, like torch's default
    return out


# --------------------------------------------------------------------------- parameters


def _count(v, what: str) -> int:
    """A layer size: a whole number of at least 1 (ValueError in plain words otherwise)."""
    i = _as_int(v, what)
    if i < 1:
        raise ShapeError(f"{what} must be at least 1, got {i}")
    return i


def _bias_flag(bias) -> int:
    if not isinstance(bias, (bool, np.bool_)):
        raise ValueError(f"bias must be True or False, got {bias!r}")
    return 1 if bias else 0


def conv_params(kh: int, kw: int, c_in: int, c_out: int, bias: bool = True) -> int:
    """((kh * kw * depth) + bias) * filters: the lecture's rule (3x3x3, 16 filters -> 448)."""
    kh, kw = _count(kh, "the kernel height"), _count(kw, "the kernel width")
    c_in, c_out = _count(c_in, "the number of input channels"), _count(c_out, "the number of filters")
    return (kh * kw * c_in + _bias_flag(bias)) * c_out


def dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """(inputs + bias) * outputs: (9216 + 1) * 128 = 1,179,776."""
    n_in, n_out = _count(n_in, "the number of inputs"), _count(n_out, "the number of outputs")
    return (n_in + _bias_flag(bias)) * n_out

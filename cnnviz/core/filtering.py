"""One kernel on one image, the lecture's way: convolution -> activation -> pooling, with
every size worked out by (W - F + 2P) / S + 1 and every impossible choice explained.

Qt-free (the kernel explorer tab and notebooks share it):

    result = run_pipeline(image, KernelSettings(kernel=..., stride=(2, 2)))
    result.error            # None, or a plain sentence with the numbers in it
    result.notes            # remarks that did not stop the work (a size that was floored)
    result.conv, result.activated, result.pooled
    result.formulas         # ["Output height = (28 − 3 + 2×0) / 2 + 1 = 13.5 → ⌊13.5⌋ = 13", ...]

Sizes that are not whole: (W - F + 2P) / S + 1 = 13.5 is floored like PyTorch and Keras (the
last rows or columns the kernel cannot reach are left out), and a note says so in words, with
a setting that would make it whole, as the lecture's rule asks. Only numbers that cannot work
at all (a kernel larger than the padded input, stride 0, an output too large) are errors.

Shapes: image (H, W) grey or (H, W, 3) colour, 0..255 (channels LAST, as loaded from a
file); result.input is (H, W) grey or (C, H, W) colour (channels FIRST, as a conv layer
sees it). Colour: summed over channels like a conv layer -> (Ho, Wo), or each channel
filtered alone (settings.per_channel) -> (C, Ho, Wo).

Also here: LECTURE_EXAMPLES (the slides' worked inputs, with the slides' answers), the
"what made this pixel" helpers the explorer shows on hover (explain_conv_pixel,
explain_pool_pixel, input_window), and preview() (a small, exact-enough copy of a huge
array for drawing).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field, replace

import numpy as np

from . import ops
from .filter_settings import KernelSettings
from .ops import AxisSize

__all__ = [
    "ACTIVATION_NAMES", "LECTURE_EXAMPLES", "POOL_NAMES", "ConvPixel", "FilterResult",
    "LectureExample", "PoolPixel", "Preview", "activation_text", "explain_conv_pixel",
    "explain_pool_pixel", "floor_note", "fmt_number", "input_window", "preview", "resize_centred",
    "run_pipeline",
]

ACTIVATION_NAMES = {
    "none": "none", "relu": "ReLU", "leaky_relu": "leaky ReLU", "elu": "ELU",
    "tanh": "tanh", "sigmoid": "sigmoid", "softmax": "softmax",
}
POOL_NAMES = {"none": "none", "max": "max", "min": "min", "avg": "average"}
AXIS_WORDS = ("height", "width")

MINUS = "\u2212"  # the typographic minus the formulas use


def fmt_number(v: float, digits: int = 4) -> str:
    """2 -> '2', -3.0 -> '−3', 0.11111 -> '0.1111', 13.5 -> '13.5' (formulas and cells)."""
    v = float(v)
    if math.isnan(v):
        return "undefined"
    if math.isinf(v):
        return "∞" if v > 0 else MINUS + "∞"
    if v.is_integer() and abs(v) < 1e15:
        text = str(int(v))
    else:
        for d in range(digits, 18):  # never show 2.99999 as "3"
            text = f"{v:.{d}g}"
            if not float(text).is_integer():
                break
    return text.replace("-", MINUS)


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class FilterResult:
    """Everything the explorer draws for one (image, settings) pair.

    Arrays are None when their stage could not be computed (then `error` says why)."""

    input: np.ndarray  # (H, W) grey or (C, H, W) colour, as used
    kernel: np.ndarray  # (kh, kw)
    settings: KernelSettings
    colour_mode: str  # "grey", "summed" or "per_channel"
    conv: np.ndarray | None  # (Ho, Wo), or (C, Ho, Wo) per channel
    activated: np.ndarray | None  # same shape as conv
    pooled: np.ndarray | None  # (Hp, Wp) or (C, Hp, Wp); None without pooling
    conv_rows: AxisSize | None  # (W - F + 2P) / S + 1 for the rows (height) ...
    conv_cols: AxisSize | None  # ... and the columns (width)
    pool_rows: AxisSize | None  # None without pooling or when the convolution failed
    pool_cols: AxisSize | None
    formulas: list[str]  # one line per axis and stage, with the current numbers
    error: str | None  # the first problem, in plain words; None when all went through
    pool_padding: int = 0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    seconds: float = 0.0  # the whole pipeline
    notes: list[str] = field(default_factory=list)  # remarks that did not stop the work

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def floored(self) -> tuple[bool, bool]:
        """(rows, columns): True where (W - F + 2P) / S + 1 was not whole and was floored."""
        return tuple(a is not None and a.value is not None and a.value != a.exact
                     for a in (self.conv_rows, self.conv_cols))

    def left_out(self, axis: int) -> tuple[int, int] | None:
        """(first, last) input rows (axis 0) or columns (axis 1), padding included (so they
        may pass the image's edge), that no kernel window reaches because the size was
        floored; None when every row or column is used."""
        a = (self.conv_rows, self.conv_cols)[axis]
        if a is None or a.value is None:
            return None
        last_used = (a.value - 1) * a.stride - a.padding + a.kernel - 1
        end = a.size + a.padding - 1  # the last row of the padded input
        return (last_used + 1, end) if last_used < end else None

    @property
    def pooling(self) -> bool:
        return self.settings.pool_kind != "none"

    @property
    def final(self) -> np.ndarray | None:
        """The last stage computed: pooled, else activated, else conv."""
        for a in (self.pooled, self.activated, self.conv):
            if a is not None:
                return a
        return None

    @property
    def conv_formulas(self) -> list[str]:
        return [f for f in self.formulas if f.startswith("Output")]

    @property
    def pool_formulas(self) -> list[str]:
        return [f for f in self.formulas if f.startswith("Pooled")]


def _conv_formula(axis: AxisSize, word: str, floored: int | None = None) -> str:
    """'Output height = (28 − 3 + 2×0) / 1 + 1 = 26' (the lecture's formula, this axis);
    with `floored`, '… = 13.5 → ⌊13.5⌋ = 13' (what torch and Keras compute)."""
    text = (f"Output {word} = ({axis.size} {MINUS} {axis.kernel} + 2×{axis.padding}) / "
            f"{axis.stride} + 1 = {fmt_number(axis.exact, 6)}")
    if floored is not None:
        text += f" → ⌊{fmt_number(axis.exact, 6)}⌋ = {floored}"
    return text


def _or_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _nearest(candidates, target: int, count: int) -> list[int]:
    """Up to `count` candidates closest to target (ties: the smaller), ascending."""
    return sorted(sorted(candidates, key=lambda v: (abs(v - target), v))[:count])


def _whole_fixes(n: int, k: int, s: int, p: int, both: bool, word: str) -> str:
    """What would make (n - k + 2p) / s + 1 whole, nearest first: padding (or why no padding
    can), stride, kernel size. Each one is checked, never guessed."""
    span = n - k + 2 * p
    which = "" if both else f" for the {'rows' if word == 'height' else 'columns'}"
    # Small strides only: a stride of 277 "fits" a 280 image but teaches nothing.
    strides = [d for d in range(1, min(span, max(10, 2 * s)) + 1) if span % d == 0 and d != s]
    others = ["stride " + _or_words([str(d) for d in _nearest(strides, s, 2)]) + which]
    sizes = _nearest([f for f in range(1, n + 2 * p + 1) if f != k and (n - f + 2 * p) % s == 0],
                     k, 2)
    if sizes:
        others.append("a " + _or_words([f"{f}×{f}" for f in sizes]) + " kernel" if both else
                      f"a kernel {_or_words([str(f) for f in sizes])} "
                      f"{'tall' if word == 'height' else 'wide'}")
    others_text = ", or ".join(others)
    if s % 2 == 0 and (n - k) % 2:
        # 2P is even, so n - k + 2P stays odd: never a multiple of an even stride.
        subject = others_text + ("," if len(others) > 1 else "")
        return (f"Padding cannot give one here: {n} {MINUS} {k} = {n - k} is odd, padding adds "
                f"2×P (even), and an odd number never divides by stride {s}. "
                f"{subject[0].upper()}{subject[1:]} would.")
    pads = [q for q in range(0, p + s + 1) if q != p and (n - k + 2 * q) % s == 0]
    q = _nearest(pads, p, 1)[0]
    return (f"Padding {q}{which} gives one: ({n} {MINUS} {k} + 2×{q}) / {s} + 1 = "
            f"{(n - k + 2 * q) // s + 1}; so would {others_text}.")


def _left_out_words(n: int, first: int, last: int) -> str:
    """'(27)', '(26…27)', '(28, padding zeros only)', '(29…30; from 30 on, padding)'."""
    where = str(first) if first == last else f"{first}…{last}"
    if first >= n:
        where += ", padding zeros only"
    elif last >= n:
        where += f"; from {n} on, padding"
    return f"({where})"


def _last(count: int, unit: str) -> str:
    return f"the last {unit}" if count == 1 else f"the last {count} {unit}s"


def floor_note(result: FilterResult, brief: bool = False) -> list[str]:
    """The notes for conv sizes that were floored: what happened, in words, and what would
    make the size whole (one note when both axes have the same numbers). brief: for a
    screen that already shows the formula, the sentence without it."""
    axes = []
    for axis, (a, word, unit) in enumerate(zip((result.conv_rows, result.conv_cols),
                                              ("height", "width"), ("row", "column"))):
        if result.floored[axis]:
            axes.append((a, word, unit, result.left_out(axis)))
    if not axes:
        return []
    same = len(axes) == 2 and (
        (axes[0][0].size, axes[0][0].kernel, axes[0][0].stride, axes[0][0].padding)
        == (axes[1][0].size, axes[1][0].kernel, axes[1][0].stride, axes[1][0].padding))
    if same:  # a square case: one sentence for both axes
        (a, _w, _u, (first, last)), _cols = axes
        count = last - first + 1
        units = "row and column" if count == 1 else f"{count} rows and columns"
        gone = f"the last {units} {_left_out_words(a.size, first, last)} are"
        entries = [("Output height and width", a, True, "height", gone)]
    else:
        entries = []
        for a, word, unit, (first, last) in axes:
            count = last - first + 1
            entries.append((f"Output {word}", a, False, word,
                            f"{_last(count, unit)} {_left_out_words(a.size, first, last)} "
                            f"{'is' if count == 1 else 'are'}"))
    notes = []
    for head, a, both, word, gone in entries:
        exact = fmt_number(a.exact, 6)
        fixes = _whole_fixes(a.size, a.kernel, a.stride, a.padding, both, word)
        if brief:
            notes.append(f"{head}: {exact} is not a whole number: the kernel's last step would "
                         f"hang over the edge, so, like PyTorch and Keras, {gone} left out "
                         f"(outlined on the input). {fixes}")
            continue
        notes.append(
            f"{head}: ({a.size} {MINUS} {a.kernel} + 2×{a.padding}) / {a.stride} + 1 = {exact} "
            f"is not a whole number: the kernel's last step would hang over the edge, so, like "
            f"PyTorch and Keras, {gone} left out: ⌊{exact}⌋ = {a.value}. The lecture's rule asks "
            f"for a whole number. {fixes}")
    return notes


def _pool_formula(axis: AxisSize, word: str) -> str:
    """'Pooled height = ⌊(26 − 2) / 2⌋ + 1 = 13': pooling floors, like torch and Keras."""
    pad = f" + 2×{axis.padding}" if axis.padding else ""
    if axis.value is not None:
        shown = str(axis.value)
    else:
        shown = fmt_number(math.floor(axis.exact), 6) if math.isfinite(axis.exact) else "undefined"
    return (f"Pooled {word} = ⌊({axis.size} {MINUS} {axis.kernel}{pad}) / {axis.stride}⌋ + 1 "
            f"= {shown}")


def _typeset(text: str) -> str:
    """ops' problems use ASCII ' - ' and '8025x8025'; ours use the minus and times signs,
    like the formulas."""
    return re.sub(r"(?<=\d)x(?=\d)", "×", text.replace(" - ", f" {MINUS} "))


def _as_input(image) -> tuple[np.ndarray, str | None]:
    """(H, W) or (H, W, C) -> (H, W) grey or (C, H, W) colour (a view when possible)."""
    a = np.asarray(image)
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64 if a.size <= 1 << 20 else np.float32)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[..., :3]  # alpha is not a colour channel
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        return a, (f"the image must be grey (height × width) or colour (height × width × 3); "
                   f"got shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        return a, f"the image is empty (shape {a.shape})"
    return (a if a.ndim == 2 else np.moveaxis(a, -1, 0)), None


def _check_kernel(kernel) -> tuple[np.ndarray, str | None]:
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.size == 0:
        return k, f"the kernel must be a grid of rows and columns; got shape {k.shape}"
    if not np.all(np.isfinite(k)):
        return k, "the kernel holds a value that is not a finite number"
    return k, None


_TOO_LARGE = ("Average pooling gives numbers too large to compute (past the largest number a "
              "computer stores, about 1.8e308); use smaller kernel values")


def run_pipeline(image, settings: KernelSettings | None = None, *, pool_padding: int = 0,
                 **changes) -> FilterResult:
    """image (H, W) or (H, W, 3) 0..255; settings a KernelSettings (keyword arguments
    override its fields, e.g. run_pipeline(img, stride=(2, 2))).

    Never raises for impossible numbers: the result's `error` says what does not fit
    (a kernel larger than the padded input, a stride of 0, pooling that does not fit, a
    result too large), and the stages that could be computed are still there. A size that
    is not whole is floored like torch and Keras, and `notes` says so in words."""
    start = time.perf_counter()
    settings = (settings or KernelSettings()).with_changes(**changes) if changes else (
        settings or KernelSettings())
    x, problem = _as_input(image)
    k, kproblem = _check_kernel(settings.kernel)
    colour_mode = "grey" if x.ndim == 2 else ("per_channel" if settings.per_channel else "summed")
    formulas: list[str] = []
    timings: dict[str, float] = {}

    def done(error, conv=None, act=None, pooled=None, rows=None, cols=None, prow=None, pcol=None):
        result = FilterResult(x, k, settings, colour_mode, conv, act, pooled, rows, cols, prow,
                              pcol, formulas, error, pool_padding, timings,
                              time.perf_counter() - start)
        result.notes.extend(floor_note(result))
        return result

    problem = problem or kproblem
    activation = str(settings.activation).strip().lower().replace("-", "_")
    if problem is None and activation not in ops.ACTIVATIONS:
        problem = (f"unknown activation {settings.activation!r}; choose one of: "
                   f"{', '.join(ops.ACTIVATIONS)}")
    pool_kind = str(settings.pool_kind).strip().lower()
    if problem is None and pool_kind != "none" and pool_kind not in ops.POOL_KINDS:
        problem = f"unknown pooling {settings.pool_kind!r}; choose one of: none, {', '.join(ops.POOL_KINDS)}"
    if problem is not None:
        return done(problem)

    # -- sizes first: the formula is worth showing even when it does not come out whole.
    h, w = x.shape[-2:]
    try:
        axes = [ops.output_axis(n, kn, s, p) for n, kn, s, p in
                zip((h, w), k.shape, settings.stride, settings.padding)]
    except ops.ShapeError as exc:
        return done(f"convolution: {exc}")
    floors: list[int | None] = []
    for a in axes:
        try:  # a fraction floors like torch; a kernel that cannot fit at all stays an error
            floors.append(None if a.ok else ops.output_size(a.size, a.kernel, a.stride,
                                                            a.padding, exact=False))
        except ops.ShapeError:
            floors.append(None)
    formulas.extend(_conv_formula(a, word, f) for a, word, f in zip(axes, AXIS_WORDS, floors))
    for a, word, f in zip(axes, AXIS_WORDS, floors):
        if a.problem and f is None:
            what = "rows" if word == "height" else "columns"
            return done(f"Convolution, output {word} ({what}): {_typeset(a.problem)}", rows=axes[0],
                        cols=axes[1])
    # Floored axes become whole sizes (what torch computes), the working kept in the formula.
    axes = [a if f is None else replace(a, value=f, problem=None) for a, f in zip(axes, floors)]

    too_big = ops.size_problem((h, w), settings.padding, (axes[0].value, axes[1].value))
    if too_big:  # said before a byte of the huge padded image is allocated
        return done(f"Convolution: {_typeset(too_big)}", rows=axes[0], cols=axes[1])

    # -- convolution (cross-correlation, zero padding), then the activation.
    t = time.perf_counter()
    try:
        if colour_mode == "per_channel":
            conv = ops.conv2d_per_channel(x, k, settings.stride, settings.padding)  # (C, Ho, Wo)
        else:
            conv = ops.conv2d(x, k, settings.stride, settings.padding)  # (Ho, Wo), floored
    except ops.NotFiniteError as exc:
        return done(f"Convolution: {exc}", rows=axes[0], cols=axes[1])
    timings["conv"] = time.perf_counter() - t
    t = time.perf_counter()
    # conv2d refused non-finite results; every activation maps finite values to finite ones.
    act = conv if activation == "none" else ops.activate(conv, activation)
    timings["activation"] = time.perf_counter() - t
    if pool_kind == "none":
        return done(None, conv, act, None, axes[0], axes[1])

    # -- pooling (floored like torch and Keras).
    ho, wo = conv.shape[-2:]
    try:
        paxes = [ops.pool_axis(n, settings.pool_size, settings.pool_stride, pool_padding)
                 for n in (ho, wo)]
    except ops.ShapeError as exc:
        return done(f"pooling: {exc}", conv, act, None, axes[0], axes[1])
    formulas.extend(_pool_formula(a, word) for a, word in zip(paxes, AXIS_WORDS))
    for a, word in zip(paxes, AXIS_WORDS):
        if a.problem:
            return done(f"Pooling, pooled {word}: {_typeset(a.problem)}", conv, act, None,
                        axes[0], axes[1], paxes[0], paxes[1])
    t = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):
        pooled = ops.pool2d(act, pool_kind, settings.pool_size, settings.pool_stride, pool_padding)
    timings["pool"] = time.perf_counter() - t
    if pool_kind == "avg" and not np.isfinite(pooled).all():  # only a sum can overflow
        return done(_TOO_LARGE, conv, act, None, axes[0], axes[1], paxes[0], paxes[1])
    return done(None, conv, act, pooled, axes[0], axes[1], paxes[0], paxes[1])


def resize_centred(kernel, rows: int, cols: int) -> np.ndarray:
    """A kernel grown with zeros or cropped to rows × cols, its centre kept in place, so a
    3×3 sharpen grown to 5×5 still sharpens around the same pixel (not shifted by one).

    The centre of an n-long axis is index (n - 1) // 2 (the lower middle when n is even),
    so growing one step at a time from 3 to 7 and back ends where it started."""
    k = np.asarray(kernel, dtype=np.float64)
    out = np.zeros((rows, cols))
    src, dst = [], []
    for n_old, n_new in zip(k.shape, (rows, cols)):
        shift = (n_new - 1) // 2 - (n_old - 1) // 2  # where old index 0 lands in the new grid
        lo, hi = max(0, -shift), min(n_old, n_new - shift)
        src.append(slice(lo, max(lo, hi)))
        dst.append(slice(lo + shift, max(lo, hi) + shift))
    out[tuple(dst)] = k[tuple(src)]
    return out


# --------------------------------------------------------------------------- what made a pixel


@dataclass(frozen=True, eq=False)
class ConvPixel:
    """One conv output pixel taken apart, as the lecture's Recap slides do."""

    row: int
    col: int
    top: int  # the window's top-left in input coordinates (negative inside the padding)
    left: int
    window: np.ndarray  # (kh, kw), or (C, kh, kw) for a summed colour image
    products: np.ndarray  # window * kernel
    total: float  # their sum = the output pixel
    value: float  # the value in the conv output array (equal to total up to float32 rounding)
    channel: int | None  # the channel filtered alone (per-channel mode), else None
    kernel: np.ndarray  # (kh, kw), for the text

    @property
    def text(self) -> str:
        """'(1×0) + (0×1) + (1×0) + … = 2' (per channel and a total for summed colour)."""
        if self.window.ndim == 3:
            parts = []
            for c, name in enumerate(channel_names(self.window.shape[0])):
                sub = float(self.products[c].sum())
                parts.append(f"{name}: {products_text(self.window[c], self.kernel, limit=9)} "
                             f"= {fmt_number(sub)}")
            return "\n".join(parts) + f"\nsum over channels = {fmt_number(self.total)}"
        return f"{products_text(self.window, self.kernel)} = {fmt_number(self.total)}"


def channel_names(c: int) -> list[str]:
    return ["R", "G", "B"] if c == 3 else [f"channel {i}" for i in range(c)]


def products_text(window: np.ndarray, kernel: np.ndarray, limit: int = 25) -> str:
    """'(1×0) + (0×1) + …' over a (kh, kw) window, row by row; long ones cut after `limit`."""
    terms = [f"({fmt_number(a)}×{fmt_number(b)})" for a, b in zip(window.ravel(), kernel.ravel())]
    if len(terms) > limit:
        terms = terms[:limit] + [f"… ({len(window.ravel())} products)"]
    return " + ".join(terms)


def explain_conv_pixel(result: FilterResult, row: int, col: int,
                       channel: int | None = None) -> ConvPixel:
    """The window under conv output pixel (row, col), its products with the kernel and their
    sum, from ops.window_products on a small crop (a 12-megapixel photo is never copied).
    channel: per-channel mode, the channel to explain (default 0)."""
    if result.conv is None:
        raise ValueError("there is no convolution output to explain")
    s, p = result.settings.stride, result.settings.padding
    kh, kw = result.kernel.shape
    top, left = row * s[0] - p[0], col * s[1] - p[1]
    x = result.input
    if result.colour_mode == "per_channel":
        channel = 0 if channel is None else channel
        x = x[channel]
    else:
        channel = None
    h, w = x.shape[-2:]
    ho, wo = result.conv.shape[-2:]
    if not (0 <= row < ho and 0 <= col < wo):
        raise IndexError(f"output pixel ({row}, {col}) is outside the {ho}×{wo} output")
    # The window as the slides draw it: the image under the kernel, zeros in the padding.
    window = np.zeros(x.shape[:-2] + (kh, kw))
    r0, r1, c0, c1 = max(top, 0), min(top + kh, h), max(left, 0), min(left + kw, w)
    window[..., r0 - top:r1 - top, c0 - left:c1 - left] = x[..., r0:r1, c0:c1]
    wp = ops.window_products(window, result.kernel, 1, 0, 0, 0)
    value = float(result.conv[(channel, row, col) if channel is not None else (row, col)])
    return ConvPixel(row, col, top, left, wp.window, wp.products, wp.total, value, channel,
                     result.kernel)


@dataclass(frozen=True, eq=False)
class PoolPixel:
    """One pooled pixel: the activation values it came from and which one won."""

    row: int
    col: int
    top: int  # window top-left in activation-output coordinates
    left: int
    values: np.ndarray  # (size, size) the window (padding cells as nan)
    kind: str  # "max", "min" or "avg"
    value: float  # the pooled output value
    source: tuple[int, int] | None  # (row, col) in the activation output of the max/min

    @property
    def text(self) -> str:
        vals = [v for v in self.values.ravel() if not math.isnan(v)]
        inside = ", ".join(fmt_number(v) for v in vals[:25]) + (" …" if len(vals) > 25 else "")
        if self.kind == "avg":
            n = self.values.size
            return (f"mean({inside}) = ({' + '.join(fmt_number(v) for v in vals[:25])}) / {n} "
                    f"= {fmt_number(self.value)}")
        where = f" (from row {self.source[0]}, column {self.source[1]})" if self.source else ""
        return f"{self.kind}({inside}) = {fmt_number(self.value)}{where}"


def explain_pool_pixel(result: FilterResult, row: int, col: int,
                       channel: int | None = None) -> PoolPixel:
    if result.pooled is None or result.activated is None:
        raise ValueError("there is no pooled output to explain")
    st = result.settings
    size, stride, pad = st.pool_size, st.pool_stride, result.pool_padding
    a = result.activated if result.activated.ndim == 2 else result.activated[channel or 0]
    h, w = a.shape
    top, left = row * stride - pad, col * stride - pad
    values = np.full((size, size), np.nan)
    r0, r1, c0, c1 = max(top, 0), min(top + size, h), max(left, 0), min(left + size, w)
    values[r0 - top:r1 - top, c0 - left:c1 - left] = a[r0:r1, c0:c1]
    kind = st.pool_kind
    pooled = result.pooled if result.pooled.ndim == 2 else result.pooled[channel or 0]
    value = float(pooled[row, col])
    source = None
    if kind in ("max", "min") and not np.all(np.isnan(values)):
        i = int(np.nanargmax(values) if kind == "max" else np.nanargmin(values))
        source = (top + i // size, left + i % size)
    if kind == "avg":
        values = np.where(np.isnan(values), 0.0, values)  # torch counts padded zeros
    return PoolPixel(row, col, top, left, values, kind, value, source)


def input_window(result: FilterResult, stage: str, row: int, col: int) -> tuple[int, int, int, int]:
    """(top, left, height, width) in input pixels of what output pixel (row, col) of `stage`
    ("conv", "activation" or "pool") depends on (its receptive field; may reach into the
    padding, so top/left can be negative)."""
    st = result.settings
    (sh, sw), (ph, pw) = st.stride, st.padding
    kh, kw = result.kernel.shape
    if stage == "pool":
        ps, pp, size = st.pool_stride, result.pool_padding, st.pool_size
        r0, c0 = row * ps - pp, col * ps - pp
        ho, wo = result.conv.shape[-2:] if result.conv is not None else (r0 + size, c0 + size)
        r1, c1 = min(r0 + size, ho) - 1, min(c0 + size, wo) - 1
        r0, c0 = max(r0, 0), max(c0, 0)
    else:
        r0 = r1 = row
        c0 = c1 = col
    top, left = r0 * sh - ph, c0 * sw - pw
    return top, left, (r1 - r0) * sh + kh, (c1 - c0) * sw + kw


def activation_text(kind: str, x: float, y: float) -> str:
    """'ReLU(−3) = max(0, −3) = 0' and friends: the activation applied to one value."""
    a, b = fmt_number(x), fmt_number(y)
    if kind == "relu":
        return f"ReLU({a}) = max(0, {a}) = {b}"
    if kind == "leaky_relu":
        return f"leaky ReLU({a}) = {a if x >= 0 else '0.01×' + a} = {b}"
    if kind == "elu":
        return f"ELU({a}) = {a if x > 0 else 'e^' + a + f' {MINUS} 1'} = {b}"
    if kind == "tanh":
        return f"tanh({a}) = {b}"
    if kind == "sigmoid":
        return f"sigmoid({a}) = 1 / (1 + e^{MINUS}{a}) = {b}".replace(f"{MINUS}{MINUS}", "")
    if kind == "softmax":  # one value's share of its whole map (of its channel's map)
        return f"softmax({a}) = e^{a} / (sum of e^v over every value v of the map) = {b}"
    return f"no activation: {b}"


# --------------------------------------------------------------------------- drawing huge arrays


@dataclass(frozen=True, eq=False)
class Preview:
    """A copy of an array small enough to draw: every `factor` × `factor` block averaged
    (or its strongest value kept, see preview()).
    levels: (min, max) of the FULL array, so colours mean the same as at full size."""

    array: np.ndarray  # (h, w) or (h, w, 3) channels last for colour
    factor: int  # 1 = the array itself
    levels: tuple[float, float]
    shape: tuple[int, ...]  # the full array's shape
    peaks: bool = False  # blocks keep their strongest value instead of their mean


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    """(H, W, ...) -> (ceil(H / f), ceil(W / f), ...): the mean of every f × f block (the
    ragged last row and column of blocks are kept). Reshapes are views, so no copy of a
    12-megapixel photo is made."""
    h, w = a.shape[:2]
    rest = a.shape[2:]
    h2, w2 = h // f * f, w // f * f
    hb, wb = h2 // f, w2 // f
    out = np.empty((math.ceil(h / f), math.ceil(w / f)) + rest, np.float32)
    out[:hb, :wb] = a[:h2, :w2].reshape((hb, f, wb, f) + rest).mean(axis=(1, 3), dtype=np.float32)
    if h > h2:
        out[hb, :wb] = a[h2:, :w2].reshape((h - h2, wb, f) + rest).mean(axis=(0, 2), dtype=np.float32)
    if w > w2:
        out[:hb, wb] = a[:h2, w2:].reshape((hb, f, w - w2) + rest).mean(axis=(1, 2), dtype=np.float32)
    if h > h2 and w > w2:
        out[hb, wb] = a[h2:, w2:].mean(axis=(0, 1), dtype=np.float32)
    return out


def _block_peak(a: np.ndarray, f: int) -> np.ndarray:
    """Like _block_mean, but each block keeps its value of largest magnitude (its max or its
    min, whichever is further from 0): a one-pixel edge survives the shrinking."""
    h, w = a.shape[:2]
    pad_h, pad_w = -h % f, -w % f
    if pad_h or pad_w:  # edge-replicate the ragged blocks (a copy only for those rows/columns)
        a = np.pad(a, ((0, pad_h), (0, pad_w)) + ((0, 0),) * (a.ndim - 2), mode="edge")
    blocks = a.reshape((a.shape[0] // f, f, a.shape[1] // f, f) + a.shape[2:])
    hi = blocks.max(axis=(1, 3))
    lo = blocks.min(axis=(1, 3))
    return np.where(hi >= -lo, hi, lo).astype(np.float32)


def preview(array: np.ndarray, max_side: int = 800, colour: bool = False,
            peaks: bool = False) -> Preview:
    """(H, W) or, with colour=True, (C, H, W) -> a Preview no larger than max_side a side
    (colour comes back channels last, (h, w, C), ready to draw). Blocks are averaged, or with
    peaks=True keep their strongest value (for edge maps, where a mean would wash edges out)."""
    a = np.asarray(array)
    h, w = a.shape[-2:]
    factor = max(1, math.ceil(max(h, w) / max_side))
    lo, hi = (float(np.nanmin(a)), float(np.nanmax(a))) if a.size else (0.0, 1.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    small = np.moveaxis(a, 0, -1) if colour and a.ndim == 3 else a  # (H, W[, C])
    if factor > 1:
        small = (_block_peak if peaks else _block_mean)(small, factor)
    return Preview(small, factor, (lo, hi), tuple(a.shape), peaks and factor > 1)


# --------------------------------------------------------------------------- the slides


@dataclass(frozen=True, eq=False)
class LectureExample:
    """A worked example from the lecture, with the slide's answer."""

    key: str
    name: str  # what the picker shows
    slide: str  # the slide's title
    image: np.ndarray  # (H, W) float64
    kernel: np.ndarray  # (kh, kw)
    stride: tuple[int, int]
    padding: tuple[int, int]
    pool_kind: str
    pool_size: int
    pool_stride: int
    expected: np.ndarray  # the right answer (the final stage)
    description: str
    activation: str = "none"
    slide_shows: np.ndarray | None = None  # what the slide prints, where that is wrong
    note: str = ""  # why the slide's numbers differ

    def settings(self, base: KernelSettings | None = None) -> KernelSettings:
        return (base or KernelSettings()).with_changes(
            kernel=self.kernel.copy(), preset_key=None, stride=self.stride, padding=self.padding,
            activation=self.activation, pool_kind=self.pool_kind, pool_size=self.pool_size,
            pool_stride=self.pool_stride, per_channel=False)

    @property
    def stage(self) -> str:
        return "pool" if self.pool_kind != "none" else "conv"


def _a(rows) -> np.ndarray:
    a = np.array(rows, dtype=np.float64)
    a.setflags(write=False)
    return a


_IMAGE_5x5 = _a([[1, 0, 1, 0, 1], [1, 0, 0, 1, 1], [0, 1, 1, 0, 0], [1, 0, 0, 1, 0], [0, 0, 1, 1, 0]])
_KERNEL = _a([[0, 1, 0], [1, 0, -1], [0, 1, 0]])
_STRIDE_IMAGE = _a([[95, 242, 186, 152, 39], [39, 14, 220, 153, 180], [5, 247, 212, 54, 46],
                    [46, 77, 133, 110, 74], [156, 35, 74, 93, 116]])
_LAPLACIAN = _a([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
_PADDING1 = _a([[1, 0, 0, 1, 1], [1, 2, 1, -1, 2], [1, -1, 1, 3, 1], [0, 2, 1, 1, 1],
                [1, -1, -1, 2, 1]])
_NONE = ("none", 2, 2)

_EXAMPLE_LIST = [
    LectureExample(
        "what-is-the-output", "What is the Output? (5×5, stride 1)", "What is the Output? / Recap",
        _IMAGE_5x5, _KERNEL, (1, 1), (0, 0), *_NONE, _a([[2, 1, -1], [-1, 1, 3], [2, 1, 1]]),
        "The 5×5 binary image and the 3×3 kernel of the Recap slides: 5 − 3 + 1 = 3, a 3×3 "
        "feature map. Point at an output pixel to see its nine products."),
    LectureExample(
        "stride-2", "Stride of 2 (5×5)", "Stride of 2 / Shift by 2",
        _IMAGE_5x5, _KERNEL, (2, 2), (0, 0), *_NONE, _a([[2, -1], [2, 1]]),
        "The same image and kernel, moving 2 pixels at a time: (5 − 3 + 2×0) / 2 + 1 = 2."),
    LectureExample(
        "padding-1", "Padding = 1 (5×5 → 7×7)", "Padding",
        _IMAGE_5x5, _KERNEL, (1, 1), (1, 1), *_NONE, _PADDING1,
        "A ring of zeros around the image keeps the output 5×5: (5 − 3 + 2×1) / 1 + 1 = 5.",
        slide_shows=_a([[2, -1, 1, 1, 0], [2, 1, 0, 1, 2], [1, -1, 1, 0, 1], [0, 1, 2, 1, 1],
                        [2, 0, 1, 0, 2]]),
        note="The slide's padded 7×7 image is right but 16 of its 25 output values are not; "
             "its top-left 3×3 is the stride-2 answer pasted in. Check any pixel by pointing at it."),
    LectureExample(
        "seven-by-seven-stride-2", "7×7 image, 3×3 filter, stride 2", "How many positions?",
        _a(np.pad(_IMAGE_5x5, 1)), _KERNEL, (2, 2), (0, 0), *_NONE, _PADDING1[::2, ::2],
        "The question after the padding slide: a 3×3 filter on the padded 7×7 image with stride 2 "
        "lands on (7 − 3) / 2 + 1 = 3 positions per axis, 9 in all."),
    LectureExample(
        "stride-laplacian-1", "Stride slide: Laplacian, stride 1", "Stride",
        _STRIDE_IMAGE, _LAPLACIAN, (1, 1), (0, 0), *_NONE,
        _a([[692, -315, -6], [-680, -194, 305], [153, -59, -86]]),
        "The Stride slide's 5×5 grey image and the Laplacian kernel: 242 + 39 + 220 + 247 − 4×14 = 692.",
        note="The slide also shows a 6×6 grid (131 162 232 …); it is a frame of another figure, "
             "partly hidden by a kernel drawn over it. A 3×3 kernel on 6×6 gives 4×4, not the "
             "slide's 3×3: the 5×5 grid is the input that gives the slide's numbers."),
    LectureExample(
        "stride-laplacian-2", "Stride slide: Laplacian, stride 2", "Stride",
        _STRIDE_IMAGE, _LAPLACIAN, (2, 2), (0, 0), *_NONE, _a([[692, -6], [153, -86]]),
        "The same, with a 2×2 stride: every other position of the stride-1 result."),
    LectureExample(
        "grey-vertical-edge", "Vertical edge (grey scale)", "Convolution on Grey Scale",
        _a([[1, 1, 0, 0, 0]] * 5), _a([[1, 0, -1]] * 3), (1, 1), (0, 0), *_NONE,
        _a([[3, 3, 0]] * 3),
        "Bright on the left, dark on the right: the kernel 1 0 −1 lights up where the edge is."),
    LectureExample(
        "max-pool", "Max pooling 2×2, stride 2 (4×4)", "Pooling: Example",
        _a([[4, 123, 1, 34], [56, 99, 222, 253], [45, 122, 165, 12], [21, 187, 133, 124]]),
        _a([[1]]), (1, 1), (0, 0), "max", 2, 2, _a([[123, 253], [187, 165]]),
        "No convolution here (a 1×1 kernel of 1 copies the input): each 2×2 block keeps its "
        "largest value. Point at a pooled pixel to see which one won.",
        slide_shows=_a([[123, 167], [187, 165]]),
        note="The slide prints 167 top right, but 167 is not in the image: that block holds "
             "1, 34, 222, 253, so its max is 253."),
]

LECTURE_EXAMPLES: dict[str, LectureExample] = {e.key: e for e in _EXAMPLE_LIST}

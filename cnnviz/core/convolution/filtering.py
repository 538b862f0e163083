"""One kernel on one image, the lecture's way: convolution -> activation -> pooling, with
every size worked out by (W - F + 2P) / S + 1 and every impossible choice explained.

Qt-free (the kernel explorer tab, `cnnviz filter` and notebooks share it):

    result = run_pipeline(image, KernelSettings(kernel=..., stride=(2, 2)))
    result.error            # None, or a plain sentence with the numbers in it
    result.notes            # remarks that did not stop the work (a size that was floored)
    result.conv, result.activated, result.pooled
    result.formulas         # ["Output height = (28 − 3 + 2×0) / 2 + 1 = 13.5 → ⌊13.5⌋ = 13", ...]

Sizes that are not whole: (W - F + 2P) / S + 1 = 13.5 is floored like PyTorch and Keras (the
last rows or columns the kernel cannot reach are left out), and a note says so in words, with
a setting that would make it whole, as the lecture's rule asks. Only numbers that cannot work
at all (a kernel larger than the padded input, stride 0, an output too large) are errors.
Every formula is written by cnnviz.core.basics.formulas.size_formula (one style everywhere).

Shapes: image (H, W) grey or (H, W, 3) colour, 0..255 (channels LAST, as loaded from a
file); result.input is (H, W) grey or (C, H, W) colour (channels FIRST, as a conv layer
sees it). Colour: summed over channels like a conv layer -> (Ho, Wo), or each channel
filtered alone (settings.per_channel) -> (C, Ho, Wo).

Beside it: cnnviz.core.convolution.pixel_explanations (what made one output pixel),
cnnviz.core.convolution.kernel_previews (drawable copies of huge results), cnnviz.core.convolution.lecture_examples
(the slides' worked inputs) and cnnviz.core.convolution.stage_names (the activations' and poolings' names).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from ..basics.formulas import MINUS, size_formula, typeset
from ..basics.limits import MAX_IMAGE_PIXELS
from . import ops
from .filter_settings import KernelSettings
from .ops import AxisSize
from .stage_names import ACTIVATION_NAMES

# ACTIVATION_NAMES is re-exported for cnnviz.cli (`cnnviz filter --activation`).
__all__ = ["ACTIVATION_NAMES", "FilterResult", "SizeLine", "floor_note", "run_pipeline"]

AXIS_WORDS = ("height", "width")


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class SizeLine:
    """One output-size formula shown: a stage ("conv" or "pool") and an axis, its numbers
    (as computed, before any flooring) and the text."""

    stage: str  # "conv" or "pool"
    axis: int  # 0: rows (height), 1: columns (width)
    size: AxisSize
    text: str  # "Output height = (28 − 3 + 2×0) / 2 + 1 = 13.5 → ⌊13.5⌋ = 13"
    floored: bool  # not whole, floored like torch and Keras
    problem: bool  # cannot work at all (the stage was not computed)

    @property
    def working(self) -> str:
        """The text up to the final '= ' (what the formula works out)."""
        return self.text.rpartition(" = ")[0]

    @property
    def answer(self) -> str:
        """The size the formula ends on ('13'; 'undefined' for stride 0)."""
        return self.text.rpartition(" = ")[2]


def _size_line(stage: str, axis: int, a: AxisSize, problem: bool) -> SizeLine:
    """'Output height = (28 − 3 + 2×0) / 1 + 1 = 26', 'Pooled width = (11 − 2 + 2×0) / 2 + 1
    = 5.5 → ⌊5.5⌋ = 5': the lecture's formula for this axis, floored like torch and Keras."""
    label = f"{'Output' if stage == 'conv' else 'Pooled'} {AXIS_WORDS[axis]}"
    text = f"{label} = {size_formula(a.size, a.kernel, a.stride, a.padding)}"
    floored = (not problem and a.stride >= 1
               and (a.size - a.kernel + 2 * a.padding) % a.stride != 0)
    return SizeLine(stage, axis, a, text, floored, problem)


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
    size_lines: list[SizeLine]  # one per axis and stage, with the current numbers
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
        def floored(a: AxisSize | None) -> bool:
            return a is not None and a.value is not None and a.value != a.exact

        return floored(self.conv_rows), floored(self.conv_cols)

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

    def lines(self, stage: str) -> list[SizeLine]:
        """The size lines of one stage ("conv" or "pool"), rows first."""
        return [line for line in self.size_lines if line.stage == stage]

    @property
    def formulas(self) -> list[str]:
        return [line.text for line in self.size_lines]

    @property
    def conv_formulas(self) -> list[str]:
        return [line.text for line in self.lines("conv")]

    @property
    def pool_formulas(self) -> list[str]:
        return [line.text for line in self.lines("pool")]


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
    return f"Padding {q}{which} gives one: {size_formula(n, k, s, q)}; so would {others_text}."


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


def _floor_entries(result: FilterResult) -> list[tuple[str, AxisSize, bool, str, str]]:
    """(head, axis, both, word, what is left out) for each floored conv axis; one entry
    for both axes when their numbers are the same (a square case)."""
    axes: list[tuple[AxisSize, str, str, tuple[int, int]]] = []
    for axis, (a, word, unit) in enumerate(zip((result.conv_rows, result.conv_cols),
                                              AXIS_WORDS, ("row", "column"))):
        left_out = result.left_out(axis)
        if result.floored[axis] and a is not None and left_out is not None:
            axes.append((a, word, unit, left_out))
    same = len(axes) == 2 and (
        (axes[0][0].size, axes[0][0].kernel, axes[0][0].stride, axes[0][0].padding)
        == (axes[1][0].size, axes[1][0].kernel, axes[1][0].stride, axes[1][0].padding))
    if same:
        (a, _w, _u, (first, last)), _cols = axes
        count = last - first + 1
        units = "row and column" if count == 1 else f"{count} rows and columns"
        return [("Output height and width", a, True, "height",
                 f"the last {units} {_left_out_words(a.size, first, last)} are")]
    entries = []
    for a, word, unit, (first, last) in axes:
        count = last - first + 1
        entries.append((f"Output {word}", a, False, word,
                        f"{_last(count, unit)} {_left_out_words(a.size, first, last)} "
                        f"{'is' if count == 1 else 'are'}"))
    return entries


def floor_note(result: FilterResult, brief: bool = False) -> list[str]:
    """The notes for conv sizes that were floored: what happened, in words, and what would
    make the size whole (one note when both axes have the same numbers). brief: for a
    screen that already shows the formula, the sentence without it."""
    notes = []
    for head, a, both, word, gone in _floor_entries(result):
        # '(28 − 3 + 2×0) / 2 + 1 = 13.5' and '⌊13.5⌋ = 13', as the formula line writes them
        working, _, floor = size_formula(a.size, a.kernel, a.stride, a.padding).partition(" → ")
        exact = working.rpartition(" = ")[2]
        fixes = _whole_fixes(a.size, a.kernel, a.stride, a.padding, both, word)
        if brief:
            notes.append(f"{head}: {exact} is not a whole number: the kernel's last step would "
                         f"hang over the edge, so, like PyTorch and Keras, {gone} left out "
                         f"(outlined on the input). {fixes}")
            continue
        notes.append(
            f"{head}: {working} is not a whole number: the kernel's last step would hang over "
            f"the edge, so, like PyTorch and Keras, {gone} left out: {floor}. The lecture's rule "
            f"asks for a whole number. {fixes}")
    return notes


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


@dataclass
class _Work:
    """A FilterResult being built, stage by stage."""

    x: np.ndarray
    k: np.ndarray
    settings: KernelSettings
    pool_padding: int
    start: float
    lines: list[SizeLine] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    conv: np.ndarray | None = None
    act: np.ndarray | None = None
    pooled: np.ndarray | None = None
    # conv rows, columns (floored to what torch computes); pool rows, columns
    axes: tuple[AxisSize | None, AxisSize | None] = (None, None)
    paxes: tuple[AxisSize | None, AxisSize | None] = (None, None)

    def done(self, error: str | None) -> FilterResult:
        s = self.settings
        colour = "grey" if self.x.ndim == 2 else ("per_channel" if s.per_channel else "summed")
        result = FilterResult(self.x, self.k, s, colour, self.conv, self.act, self.pooled,
                              *self.axes, *self.paxes, self.lines, error, self.pool_padding,
                              self.timings, time.perf_counter() - self.start)
        result.notes.extend(floor_note(result))
        return result


def _activation_key(settings: KernelSettings) -> str:
    return str(settings.activation).strip().lower().replace("-", "_")


def _pool_key(settings: KernelSettings) -> str:
    return str(settings.pool_kind).strip().lower()


def _choice_problem(settings: KernelSettings) -> str | None:
    """An activation or pooling the pipeline does not know, in words."""
    if _activation_key(settings) not in ops.ACTIVATIONS:
        return (f"unknown activation {settings.activation!r}; choose one of: "
                f"{', '.join(ops.ACTIVATIONS)}")
    pool = _pool_key(settings)
    if pool != "none" and pool not in ops.POOL_KINDS:
        return f"unknown pooling {settings.pool_kind!r}; choose one of: none, {', '.join(ops.POOL_KINDS)}"
    return None


def _conv_sizes(work: _Work) -> str | None:
    """The conv output size per axis, its formula lines, and the first problem. The formula
    is worth showing even when it does not come out whole; a fraction floors like torch."""
    s, (h, w) = work.settings, work.x.shape[-2:]
    try:
        axes = [ops.output_axis(n, kn, st, p) for n, kn, st, p in
                zip((h, w), work.k.shape, s.stride, s.padding)]
    except ops.ShapeError as exc:
        return f"convolution: {exc}"
    floors: list[int | None] = []
    for a in axes:
        try:  # a kernel that cannot fit at all stays an error
            floors.append(None if a.ok else ops.output_size(a.size, a.kernel, a.stride,
                                                            a.padding, exact=False))
        except ops.ShapeError:
            floors.append(None)
    work.lines.extend(_size_line("conv", i, a, a.problem is not None and f is None)
                      for i, (a, f) in enumerate(zip(axes, floors)))
    work.axes = (axes[0], axes[1])
    for a, word, f in zip(axes, AXIS_WORDS, floors):
        if a.problem and f is None:
            what = "rows" if word == "height" else "columns"
            return f"Convolution, output {word} ({what}): {typeset(a.problem)}"
    # Floored axes become whole sizes (what torch computes), the working kept in the formula.
    rows, cols = (a if f is None else replace(a, value=f, problem=None)
                  for a, f in zip(axes, floors))
    work.axes = (rows, cols)
    assert rows.value is not None and cols.value is not None  # both fit, whole or floored
    too_big = ops.size_problem((h, w), s.padding, (rows.value, cols.value))
    if too_big:  # said before a byte of the huge padded image is allocated
        return f"Convolution: {typeset(too_big)}"
    return _per_channel_problem(work, rows.value, cols.value)


def _per_channel_problem(work: _Work, ho: int, wo: int) -> str | None:
    """Why a colour picture cannot be filtered channel by channel, or None: each stage then
    holds one map per channel, and all the maps of a stage together are limited to
    MAX_IMAGE_PIXELS values, like one map of a grey or summed filter (three 49-megapixel
    maps per stage, with the picture, peaked at 4.5 GB). Said before anything is allocated."""
    if work.x.ndim != 3 or not work.settings.per_channel:
        return None
    c = work.x.shape[0]
    values = c * ho * wo
    if values <= MAX_IMAGE_PIXELS:
        return None
    return (f"Convolution: filtering each of the {c} colour channels alone makes {c} maps per "
            f"stage, {c} × {ho:,}×{wo:,} = {values:,} values; cnnviz filters up to "
            f"{MAX_IMAGE_PIXELS:,} values at a time. Filter the channels summed (like a conv "
            "layer) or use a smaller picture")


def _conv_per_channel(x: np.ndarray, k: np.ndarray, stride, padding) -> np.ndarray:
    """Each channel of x (C, H, W) filtered alone with k -> (C, Ho, Wo), written into one
    array as it goes (stacking a list of planes held the result twice)."""
    out = None
    for c, plane in enumerate(x):
        conv = ops.conv2d(plane, k, stride, padding)
        if out is None:
            out = np.empty((x.shape[0],) + conv.shape, conv.dtype)
        elif conv.dtype != out.dtype:  # a plane that needed float64: the whole result does
            out = out.astype(np.result_type(out.dtype, conv.dtype))
        out[c] = conv
        del conv
    assert out is not None  # an image has at least one channel
    return out


def _convolve(work: _Work) -> str | None:
    """Convolution (cross-correlation, zero padding), then the activation."""
    s = work.settings
    t = time.perf_counter()
    try:
        if work.x.ndim == 3 and s.per_channel:
            work.conv = _conv_per_channel(work.x, work.k, s.stride, s.padding)  # (C, Ho, Wo)
        else:
            work.conv = ops.conv2d(work.x, work.k, s.stride, s.padding)  # (Ho, Wo), floored
    except ops.NotFiniteError as exc:
        return f"Convolution: {exc}"
    work.timings["conv"] = time.perf_counter() - t
    t = time.perf_counter()
    # conv2d refused non-finite results; every activation maps finite values to finite ones.
    activation = _activation_key(s)
    work.act = work.conv if activation == "none" else ops.activate(work.conv, activation)
    work.timings["activation"] = time.perf_counter() - t
    return None


def _pool(work: _Work) -> str | None:
    """Pooling of the activation output, floored like torch and Keras."""
    s, kind = work.settings, _pool_key(work.settings)
    assert work.act is not None  # pooling runs only after the convolution went through
    try:
        paxes = [ops.pool_axis(n, s.pool_size, s.pool_stride, work.pool_padding)
                 for n in work.act.shape[-2:]]
    except ops.ShapeError as exc:
        return f"pooling: {exc}"
    work.lines.extend(_size_line("pool", i, a, a.problem is not None) for i, a in enumerate(paxes))
    work.paxes = (paxes[0], paxes[1])
    for a, word in zip(paxes, AXIS_WORDS):
        if a.problem:
            return f"Pooling, pooled {word}: {typeset(a.problem)}"
    t = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):
        pooled = ops.pool2d(work.act, kind, s.pool_size, s.pool_stride, work.pool_padding)
    work.timings["pool"] = time.perf_counter() - t
    if kind == "avg" and not np.isfinite(pooled).all():  # only a sum can overflow
        return _TOO_LARGE
    work.pooled = pooled
    return None


def run_pipeline(image, settings: KernelSettings | None = None, *, pool_padding: int = 0,
                 **changes) -> FilterResult:
    """image (H, W) or (H, W, 3) 0..255; settings a KernelSettings (keyword arguments
    override its fields, e.g. run_pipeline(img, stride=(2, 2))).

    Never raises for impossible numbers: the result's `error` says what does not fit
    (a kernel larger than the padded input, a stride of 0, pooling that does not fit, a
    result too large), and the stages that could be computed are still there. A size that
    is not whole is floored like torch and Keras, and `notes` says so in words."""
    start = time.perf_counter()
    settings = settings or KernelSettings()
    if changes:
        settings = settings.with_changes(**changes)
    x, problem = _as_input(image)
    k, kernel_problem = _check_kernel(settings.kernel)
    work = _Work(x, k, settings, pool_padding, start)
    problem = problem or kernel_problem or _choice_problem(settings)
    if problem is None:
        problem = _conv_sizes(work) or _convolve(work)
    if problem is None and _pool_key(settings) != "none":
        problem = _pool(work)
    return work.done(problem)

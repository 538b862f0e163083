"""Exercises the app checks: the lecture's own questions and variants made from a seed.

Seven kinds, each worked with the lecture's formulas (cnnviz.core.basics.formulas writes them,
cnnviz.core.convolution.ops computes them):

    conv-output      the output of a small image with a kernel ("What is the Output?")
    positions        how many positions a filter takes (3×3 on 7×7 at stride 2 → 9)
    output-size      (W − F + 2P) / S + 1 (21×21 on 251×151 at stride 10 → 24×14; AlexNet → 55)
    conv-params      ((F × F × depth) + 1) × filters (3×3×3, 16 filters → 448)
    dense-params     (inputs + 1) × outputs ((9,216 + 1) × 128 = 1,179,776)
    max-pool         a max pool of a 4×4 block (2×2, stride 2)
    receptive-field  the input square a unit sees after two layers

    exercise = lecture_question("twenty-one-filter")
    check(exercise, "24 x 14").right          # True
    check(exercise, "(14, 24)").slip          # 'width and height swapped'
    variant("output-size", seed=7, n=1)       # the same numbers for everyone given seed 7

A wrong answer that one of the usual slips explains (padding forgotten, the division not
floored, the bias left out, width and height swapped, …) is named. Qt-free.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..basics.formulas import MINUS, TIMES, conv_params_formula, dense_params_formula, fmt_count, fmt_number
from ..basics.limits import MAX_ANSWER_CHARS, MAX_EXERCISE_GRID, MAX_EXERCISE_NUMBER
from ..convolution import ops

__all__ = ["KINDS", "KIND_TITLES", "LECTURE_QUESTIONS", "Check", "Exercise", "ExerciseError", "check",
           "lecture_question", "make", "parse_count", "parse_matrix", "parse_pair", "variant"]

KIND_TITLES = {
    "conv-output": "The output of a kernel",
    "positions": "How many positions",
    "output-size": "Output size",
    "conv-params": "Parameters of a conv layer",
    "dense-params": "Parameters of a fully connected layer",
    "max-pool": "Max pooling",
    "receptive-field": "Receptive field",
}
KINDS = tuple(KIND_TITLES)

# The slips, named once (the messages and the tests use these words).
PADDING_FORGOTTEN = "padding forgotten"
NOT_FLOORED = "the division not floored"
BIAS_LEFT_OUT = "the bias left out"
SWAPPED = "width and height swapped"
BIAS_ONCE = "the bias counted once, not once per output"
PLUS_ONE_FORGOTTEN = "the + 1 forgotten"
STRIDE_IGNORED = "the stride left out"
DEPTH_LEFT_OUT = "the depth (input channels) left out"
ONE_AXIS = "one axis counted, not both"
KERNEL_FLIPPED = "the kernel flipped (a CNN does not flip it)"
TOOK_AVERAGE = "the average taken, not the largest value"
TOOK_SMALLEST = "the smallest value taken, not the largest"
OVERLAPPING = "the windows moved by 1, not by the stride"
KERNELS_ADDED = "the kernel sizes added"
FIRST_STRIDE_LEFT_OUT = "the first layer's stride left out"


class ExerciseError(ValueError):
    """Numbers an exercise cannot be made of; the message says which, in plain words."""


@dataclass(frozen=True, eq=False)
class Exercise:
    """One question with its right answer, the working and the wrong answers each slip
    gives. form: how the answer is written ("count", "size", "pair" or "grid")."""

    kind: str
    values: dict
    question: str
    form: str
    answer: int | tuple[int, int] | np.ndarray  # int, (rows, cols) or an (H, W) array
    working: tuple[str, ...]
    slips: tuple[tuple[object, str], ...] = field(default=())
    source: str = ""  # "lecture: <slide>" or "variant <n> of seed <s>"

    @property
    def answer_text(self) -> str:
        return _show(self.answer, self.form)


@dataclass(frozen=True)
class Check:
    """A checked answer. understood: False when the text could not be read as an answer
    (not counted as a try); slip: the likely slip's name, when one explains it."""

    right: bool
    understood: bool
    message: str
    slip: str | None = None
    working: tuple[str, ...] = ()


# --------------------------------------------------------------------------- reading answers

_PLAIN = r"-?\d+(?:\.\d+)?"
_GROUPED = r"-?\d{1,3}(?:[,_'\u2009\u202f ]\d{3})+(?:\.\d+)?(?!\d)"


def _normalise(text: str) -> str:
    if len(text) > MAX_ANSWER_CHARS:
        raise ValueError(f"an answer is at most {MAX_ANSWER_CHARS} characters")
    return text.replace(MINUS, "-").replace("\u2013", "-").replace("\u00a0", " ").strip()


def _numbers(text: str, grouped: bool = False) -> list[float]:
    pattern = f"{_GROUPED}|{_PLAIN}" if grouped else _PLAIN
    return [float(re.sub(r"[,_'\u2009\u202f ]", "", m)) for m in re.findall(pattern, text)]


def parse_count(text: str) -> float | None:
    """One number: '448', '1,179,776', '1 179 776', '55.0'; '3x3' or '3 × 3' is 9 (a count
    of positions written per axis). None when it is not one of those."""
    text = _normalise(text)
    pair = parse_pair(text) if re.search(r"[x×*]|\bby\b", text, re.I) else None
    if pair is not None:
        return pair[0] * pair[1]
    numbers = _numbers(text, grouped=True)
    return numbers[0] if len(numbers) == 1 else None


def parse_pair(text: str) -> tuple[float, float] | None:
    """Two numbers, rows first: '24x14', '24 × 14', '(24, 14)', '24 by 14', '[24 14]'."""
    numbers = _numbers(_normalise(text).replace("×", " "))
    return (numbers[0], numbers[1]) if len(numbers) == 2 else None


def parse_matrix(text: str, shape: tuple[int, int] | None = None) -> np.ndarray | None:
    """Rows on lines or split by ';' or '/', or as [[…], […]]; numbers by spaces or commas.
    Nine numbers on one line are read as 3×3 when `shape` says so. None if ragged or empty."""
    text = _normalise(text)
    text = re.sub(r"\]\s*,?\s*\[", ";", text).replace("[", " ").replace("]", " ")
    rows = [_numbers(row) for row in re.split(r"[;\n/|]", text)]
    rows = [r for r in rows if r]
    if not rows or len({len(r) for r in rows}) != 1:
        return None
    grid = np.array(rows, dtype=np.float64)
    if shape is not None and grid.shape[0] == 1 and grid.size == shape[0] * shape[1]:
        grid = grid.reshape(shape)
    return grid


# --------------------------------------------------------------------------- showing answers

def _show(value, form: str) -> str:
    if form == "grid":
        return " / ".join("  ".join(fmt_number(v) for v in row) for row in np.asarray(value))
    if form in ("pair", "size") and isinstance(value, tuple):
        return f"{fmt_number(value[0])}{TIMES}{fmt_number(value[1])}"
    return fmt_count(value) if float(value).is_integer() else fmt_number(value)


def _same(given, expected, form: str) -> bool:
    if form == "grid":
        e = np.asarray(expected, dtype=np.float64)
        return given.shape == e.shape and bool(np.allclose(given, e, atol=1e-6))
    if given is None or isinstance(given, tuple) != isinstance(expected, tuple):
        return False
    if isinstance(expected, tuple):
        return given is not None and len(given) == 2 and all(
            math.isclose(a, b, abs_tol=1e-6) for a, b in zip(given, expected))
    return given is not None and math.isclose(float(given), float(expected), abs_tol=1e-6)


_FORMS = {"count": ("a number, e.g. 448 or 1,179,776", parse_count),
          "pair": ("rows × columns, e.g. 24x14, 24 × 14 or (24, 14)", parse_pair)}


def _read(exercise: Exercise, text: str):
    """The answer as a number, a pair or a grid; None if it cannot be read."""
    if exercise.form == "grid":
        return parse_matrix(text, np.shape(exercise.answer))
    if exercise.form == "size":  # a square: one number, or the same number twice
        pair = parse_pair(text)
        if pair is not None:
            return pair[0] if pair[0] == pair[1] else pair
        numbers = _numbers(_normalise(text))
        return numbers[0] if len(numbers) == 1 else None
    return _FORMS[exercise.form][1](text)


def check(exercise: Exercise, text: str) -> Check:
    """Check a typed answer: right, wrong with the likely slip named, or not readable."""
    try:
        given = _read(exercise, str(text))
    except ValueError as exc:
        given, problem = None, str(exc)
    else:
        problem = ""
    if given is None:
        how = {"grid": "the numbers row by row, rows split by ';' or new lines (e.g. 2 1; 0 3)",
               "size": "one number (the side of the square), e.g. 55"}.get(
            exercise.form, _FORMS.get(exercise.form, ("",))[0])
        return Check(False, False, f"Could not read that{f' ({problem})' if problem else ''}: "
                                   f"type {how}.")
    if _same(given, exercise.answer, exercise.form):
        return Check(True, True, f"Right: {exercise.answer_text}.", None, exercise.working)
    shown = _show(given, "pair" if isinstance(given, tuple) else exercise.form)
    for wrong, slip in exercise.slips:
        if _same(given, wrong, exercise.form):
            return Check(False, True, f"Not quite: {shown} is what you get with {slip}. "
                                      f"The answer is {exercise.answer_text}.", slip, exercise.working)
    hint = _grid_hint(exercise, given) if exercise.form == "grid" else ""
    return Check(False, True, f"Not quite: {shown} is not it.{hint} The answer is "
                              f"{exercise.answer_text}.", None, exercise.working)


def _grid_hint(exercise: Exercise, given: np.ndarray) -> str:
    expected = np.asarray(exercise.answer)
    if given.shape != expected.shape:
        return f" The output is {expected.shape[0]}{TIMES}{expected.shape[1]}, not " \
               f"{given.shape[0]}{TIMES}{given.shape[1]}."
    wrong = np.argwhere(~np.isclose(given, expected, atol=1e-6))
    r, c = (int(v) for v in wrong[0])
    return f" {len(wrong)} of {expected.size} values differ; the first is row {r + 1}, " \
           f"column {c + 1} ({fmt_number(expected[r, c])}, not {fmt_number(given[r, c])})."


# --------------------------------------------------------------------------- checking numbers

def _whole(v, what: str, low: int = 0, high: int = MAX_EXERCISE_NUMBER) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer)) \
            or (isinstance(v, float) and not math.isfinite(v)) or int(v) != v:
        raise ExerciseError(f"{what} must be a whole number, got {v!r}")
    if not low <= int(v) <= high:
        raise ExerciseError(f"{what} must be from {low} to {high:,}, got {int(v)}")
    return int(v)


def _side_pair(v, what: str, low: int = 1) -> tuple[int, int]:
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ExerciseError(f"{what} takes one number or two (rows, columns)")
        return _whole(v[0], what, low), _whole(v[1], what, low)
    n = _whole(v, what, low)
    return n, n


def _grid(v, what: str) -> np.ndarray:
    try:
        a = np.array(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise ExerciseError(f"{what} must be rows of numbers of one length") from None
    if a.ndim != 2 or min(a.shape) < 1 or max(a.shape) > MAX_EXERCISE_GRID:
        raise ExerciseError(f"{what} must be rows of numbers, at most "
                            f"{MAX_EXERCISE_GRID}{TIMES}{MAX_EXERCISE_GRID}")
    if not np.isfinite(a).all() or np.abs(a).max() > MAX_EXERCISE_NUMBER:
        raise ExerciseError(f"{what} holds a number that is too large or not a number")
    return a


def _axes(size, kernel, stride, padding, what="kernel") -> list[ops.AxisSize]:
    (h, w), (kh, kw) = _side_pair(size, "the image size"), _side_pair(kernel, f"the {what} size")
    s, p = _whole(stride, "the stride", 1, 100), _whole(padding, "the padding", 0, 100)
    axes = [ops.output_axis(n, k, s, p) for n, k in ((h, kh), (w, kw))]
    for axis, name in zip(axes, ("height", "width")):
        if axis.size + 2 * axis.padding < axis.kernel:
            raise ExerciseError(f"the {axis.kernel}-pixel {what} does not fit the {name} "
                                f"({axis.size} pixels, padding {axis.padding})")
    return axes


def _floored(a: ops.AxisSize, padding: int | None = None, stride: int | None = None) -> float:
    p = a.padding if padding is None else padding
    s = a.stride if stride is None else stride
    return (a.size - a.kernel + 2 * p) // s + 1


def _without_right(slips, answer, form: str) -> tuple[tuple[object, str], ...]:
    """Each slip's wrong answer once (the first slip that gives it), never the right one."""
    kept: list[tuple[object, str]] = []
    for wrong, name in slips:
        if form == "grid":
            wrong = np.asarray(wrong, dtype=np.float64)
        if _same(wrong, answer, form) or any(_same(wrong, w, form) for w, _ in kept):
            continue
        kept.append((wrong, name))
    return tuple(kept)


def _size_slips(axes: list[ops.AxisSize]) -> list[tuple[tuple, str]]:
    """The sizes per axis each slip of (W − F + 2P) / S + 1 gives."""
    slips: list[tuple[tuple, str]] = []
    if any(a.padding for a in axes) and all(a.size >= a.kernel for a in axes):
        slips.append((tuple(_floored(a, padding=0) for a in axes), PADDING_FORGOTTEN))
    if any(not float(a.exact).is_integer() for a in axes):
        slips.append((tuple(a.exact for a in axes), NOT_FLOORED))
        slips.append((tuple(math.ceil(a.exact) for a in axes), NOT_FLOORED))
    slips.append((tuple(_floored(a) - 1 for a in axes), PLUS_ONE_FORGOTTEN))
    if any(a.stride > 1 for a in axes):
        slips.append((tuple(_floored(a, stride=1) for a in axes), STRIDE_IGNORED))
    return slips


def _size_working(axes: list[ops.AxisSize], what: str = "size") -> tuple[str, ...]:
    lines = [f"Output {what} = (W {MINUS} F + 2P) / S + 1 on each axis, rounded down when it "
             "is not whole (PyTorch and Keras floor it)."]
    if axes[0].formula == axes[1].formula:
        lines.append(f"Both axes: {axes[0].formula}")
    else:
        lines += [f"Height: {axes[0].formula}", f"Width: {axes[1].formula}"]
    return tuple(lines)


def _settings_text(stride: int, padding: int) -> str:
    return f"at stride {stride}" + (f" with padding {padding}" if padding else " (no padding)")


def _output_size(size, kernel, stride=1, padding=0) -> dict:
    axes = _axes(size, kernel, stride, padding)
    (h, w), (kh, kw) = (a.size for a in axes), (a.kernel for a in axes)
    answer = tuple(int(_floored(a)) for a in axes)
    square = h == w and kh == kw
    slips = _size_slips(axes)
    if not square:
        slips.append(((answer[1], answer[0]), SWAPPED))
    return dict(
        question=f"A {kh}{TIMES}{kw} filter on a {h}{TIMES}{w} image "
                 f"{_settings_text(axes[0].stride, axes[0].padding)}: what is the output size?",
        form="size" if square else "pair", answer=answer[0] if square else answer,
        working=_size_working(axes), slips=[(s[0], n) if square else (s, n) for s, n in slips])


def _positions(size, kernel, stride=1, padding=0) -> dict:
    axes = _axes(size, kernel, stride, padding)
    per_axis = [int(_floored(a)) for a in axes]
    answer = per_axis[0] * per_axis[1]
    slips = [(math.prod(s), n) for s, n in _size_slips(axes) if n != NOT_FLOORED]
    slips += [(v, ONE_AXIS) for v in per_axis]
    (h, w), (kh, kw) = (a.size for a in axes), (a.kernel for a in axes)
    return dict(
        question=f"A {kh}{TIMES}{kw} filter on a {h}{TIMES}{w} image "
                 f"{_settings_text(axes[0].stride, axes[0].padding)}: at how many positions is "
                 "it applied?",
        form="count", answer=answer, slips=slips,
        working=_size_working(axes, "positions per axis")
        + (f"Positions: {per_axis[0]} {TIMES} {per_axis[1]} = {answer}",))


def _conv_params(kernel, depth, filters) -> dict:
    kh, kw = _side_pair(kernel, "the kernel size")
    d, f = _whole(depth, "the depth", 1), _whole(filters, "the number of filters", 1)
    slips = [(kh * kw * d * f, BIAS_LEFT_OUT), (kh * kw * d * f + 1, BIAS_ONCE)]
    if d > 1:
        slips.append(((kh * kw + 1) * f, DEPTH_LEFT_OUT))
    if f > 1:
        slips.append((kh * kw * d + 1, "the number of filters left out"))
    return dict(
        question=f"A conv layer of {f} filters of {kh}{TIMES}{kw} on an input of depth {d}: "
                 "how many parameters (weights and biases) does it have?",
        form="count", answer=ops.conv_params(kh, kw, d, f), slips=slips,
        working=("Parameters = ((Height × Width × Depth) + bias) × #Filters: each filter has "
                 "its own weights for every input channel and one bias.",
                 conv_params_formula(kh, kw, d, f)))


def _dense_params(inputs, outputs) -> dict:
    n_in, n_out = _whole(inputs, "the number of inputs", 1), _whole(outputs, "the number of outputs", 1)
    slips = [(n_in * n_out, BIAS_LEFT_OUT), (n_in * n_out + 1, BIAS_ONCE)]
    if n_out > 1:
        slips.append((n_in + 1, "the outputs left out"))
    return dict(
        question=f"A fully connected layer from {fmt_count(n_in)} inputs to {fmt_count(n_out)} "
                 "outputs: how many parameters (weights and biases) does it have?",
        form="count", answer=ops.dense_params(n_in, n_out), slips=slips,
        working=("Parameters = (Input nodes + bias) × Output nodes: every output has a weight "
                 "for every input and a bias of its own.", dense_params_formula(n_in, n_out)))


def _grid_text(a: np.ndarray) -> str:
    return " / ".join(" ".join(fmt_number(v) for v in row) for row in a)


def _conv_output(image, kernel, stride=1, padding=0, bias=0) -> dict:
    x, k = _grid(image, "the image"), _grid(kernel, "the kernel")
    b = float(_whole(bias, "the bias", -100, 100))
    axes = _axes(x.shape, k.shape, stride, padding)
    s, p = axes[0].stride, axes[0].padding
    answer = ops.conv2d(x, k, s, p, bias=b)
    slips = [(ops.conv2d(x, k[::-1, ::-1], s, p, bias=b), KERNEL_FLIPPED)]
    if p and min(x.shape) >= max(k.shape):
        slips.append((ops.conv2d(x, k, s, 0, bias=b), PADDING_FORGOTTEN))
    if s > 1:
        slips.append((ops.conv2d(x, k, 1, p, bias=b), STRIDE_IGNORED))
    if b:
        slips.append((answer - b, BIAS_LEFT_OUT))
    slips.append((answer.T, SWAPPED))
    first = ops.window_products(x, k, s, p, 0, 0)
    terms = " + ".join(f"({fmt_number(a)}{TIMES}{fmt_number(w)})"
                       for a, w in zip(first.window.ravel(), k.ravel()))
    bias_text = f" + {fmt_number(b)} (bias)" if b else ""
    kh, kw = k.shape
    return dict(
        question=f"The {x.shape[0]}{TIMES}{x.shape[1]} image {_grid_text(x)} with the "
                 f"{kh}{TIMES}{kw} kernel {_grid_text(k)} {_settings_text(s, p)}"
                 + (f" and bias {fmt_number(b)}" if b else "") + ": what is the output? "
                 "(rows split by ';')",
        form="grid", answer=answer, slips=slips,
        working=_size_working(axes) + (
            "Each output value is the sum of the window's values times the kernel's (the "
            "kernel is not flipped)" + (", plus the bias." if b else "."),
            f"The first (top left): {terms}{bias_text} = {fmt_number(answer[0, 0])}"))


def _max_pool(block, size=2, stride=2) -> dict:
    x = _grid(block, "the block")
    k, s = _whole(size, "the pooling size", 1, 8), _whole(stride, "the pooling stride", 1, 8)
    if k > min(x.shape):
        raise ExerciseError(f"the {k}×{k} pooling window is larger than the block")
    answer = ops.pool2d(x, "max", k, s)
    slips = [(ops.pool2d(x, "avg", k, s), TOOK_AVERAGE), (ops.pool2d(x, "min", k, s), TOOK_SMALLEST)]
    if s > 1:
        slips.append((ops.pool2d(x, "max", k, 1), OVERLAPPING))
    slips.append((answer.T, SWAPPED))
    windows = [f"max({', '.join(fmt_number(v) for v in x[i * s:i * s + k, j * s:j * s + k].ravel())}) "
               f"= {fmt_number(answer[i, j])}"
               for i in range(answer.shape[0]) for j in range(answer.shape[1])]
    return dict(
        question=f"Max pooling {k}{TIMES}{k} with stride {s} of the block {_grid_text(x)}: "
                 "what comes out? (rows split by ';')",
        form="grid", answer=answer, slips=slips,
        working=(f"Each {k}{TIMES}{k} window keeps its largest value; the window moves {s} "
                 "pixels at a time.", *windows))


_RF_LAYER_KINDS = ("conv", "pool")


def _rf_layers(layers) -> list[tuple[str, int, int]]:
    if not isinstance(layers, (list, tuple)) or not 1 <= len(layers) <= 4:
        raise ExerciseError("the layers must be a list of one to four [kind, size, stride]")
    out = []
    for layer in layers:
        if not isinstance(layer, (list, tuple)) or len(layer) != 3 or layer[0] not in _RF_LAYER_KINDS:
            raise ExerciseError("each layer must be [\"conv\" or \"pool\", size, stride]")
        out.append((layer[0], _whole(layer[1], "a layer's size", 1, 15),
                    _whole(layer[2], "a layer's stride", 1, 8)))
    return out


def _field(layers: list[tuple[str, int, int]]) -> int:
    """The receptive field's side after the layers, from cnnviz.core.convolution.receptive_field."""
    from ..convolution.receptive_field import receptive_fields
    from ..networks.layers import Conv, Flatten, Pool
    from ..networks.models import Architecture, summarize

    specs = tuple(Conv(1, (k, k), (s, s)) if kind == "conv" else Pool("max", k, s)
                  for kind, k, s in layers) + (Flatten(),)  # a network ends flat
    side = 1 + sum((k - 1) * math.prod(s for _, _, s in layers[:i]) for i, (_, k, _) in enumerate(layers))
    arch = Architecture("exercise", "", specs, (1, side * 4 + 8, side * 4 + 8))
    return int(receptive_fields(summarize(arch))[-1].size[0])


def _receptive_field(layers) -> dict:
    layers = _rf_layers(layers)
    answer = _field(layers)
    steps, r, j = [], 1, 1
    for kind, k, s in layers:
        steps.append(f"After the {kind} {k}{TIMES}{k} stride {s}: R = {r} + ({k} {MINUS} 1){TIMES}{j} "
                     f"= {r + (k - 1) * j}, J = {j}{TIMES}{s} = {j * s}")
        r, j = r + (k - 1) * j, j * s
    slips = [(sum(k for _, k, _ in layers), KERNELS_ADDED)]
    if any(s > 1 for _, _, s in layers[:-1]):
        slips.append((_field([(kind, k, 1) for kind, k, _ in layers]), FIRST_STRIDE_LEFT_OUT))
    names = ", then ".join(f"a {k}{TIMES}{k} {kind} at stride {s}" for kind, k, s in layers)
    return dict(
        question=f"{names[0].upper()}{names[1:]}: how many input pixels across does one unit of "
                 "the last layer see (its receptive field)?",
        form="size", answer=answer, slips=slips,
        working=("Each layer widens the field by (k − 1) × J, where J is how many input pixels "
                 "lie between neighbouring units so far (the strides before it multiplied); "
                 "start with R = 1, J = 1.", *steps))


_BUILDERS: dict[str, Callable[..., dict]] = {"conv-output": _conv_output, "positions": _positions, "output-size": _output_size,
             "conv-params": _conv_params, "dense-params": _dense_params, "max-pool": _max_pool,
             "receptive-field": _receptive_field}
VALUE_KEYS = {
    "conv-output": ("image", "kernel", "stride", "padding", "bias"),
    "positions": ("size", "kernel", "stride", "padding"),
    "output-size": ("size", "kernel", "stride", "padding"),
    "conv-params": ("kernel", "depth", "filters"),
    "dense-params": ("inputs", "outputs"),
    "max-pool": ("block", "size", "stride"),
    "receptive-field": ("layers",),
}


def make(kind: str, values: dict, source: str = "") -> Exercise:
    """An exercise of `kind` with these numbers (VALUE_KEYS names them); ExerciseError in
    plain words for an unknown kind, an unknown or missing number, or numbers that do not fit."""
    if kind not in _BUILDERS:
        raise ExerciseError(f"unknown exercise kind {str(kind)[:40]!r} (known: {', '.join(KINDS)})")
    if not isinstance(values, dict):
        raise ExerciseError(f"a {kind} exercise's values must be an object")
    unknown = sorted(str(k)[:40] for k in values if k not in VALUE_KEYS[kind])
    if unknown:
        raise ExerciseError(f"a {kind} exercise does not take {', '.join(unknown)} "
                            f"(it takes {', '.join(VALUE_KEYS[kind])})")
    try:
        built = _BUILDERS[kind](**values)
    except TypeError:
        raise ExerciseError(f"a {kind} exercise needs {', '.join(VALUE_KEYS[kind])}") from None
    except (ops.ShapeError, ValueError) as exc:
        if isinstance(exc, ExerciseError):
            raise
        raise ExerciseError(f"a {kind} exercise cannot be made of these numbers: {exc}") from None
    slips = _without_right(built.pop("slips"), built["answer"], built["form"])
    return Exercise(kind, dict(values), slips=slips, source=source, **built)


# --------------------------------------------------------------------------- the lecture's own

_WHAT_IS_THE_OUTPUT = [[1, 0, 1, 0, 1], [1, 0, 0, 1, 1], [0, 1, 1, 0, 0], [1, 0, 0, 1, 0], [0, 0, 1, 1, 0]]
_POOL_BLOCK = [[4, 123, 1, 34], [56, 99, 222, 253], [45, 122, 165, 12], [21, 187, 133, 124]]

# key -> (kind, values, the slide it comes from, what the slide gets wrong)
LECTURE_QUESTIONS: dict[str, tuple[str, dict, str, str]] = {
    "what-is-the-output": ("conv-output", {"image": _WHAT_IS_THE_OUTPUT,
                                           "kernel": [[0, 1, 0], [1, 0, -1], [0, 1, 0]]},
                           "What is the Output?", ""),
    "positions-7x7-stride-2": ("positions", {"size": 7, "kernel": 3, "stride": 2},
                               "Padding (the question after it)", ""),
    "alexnet": ("output-size", {"size": 227, "kernel": 11, "stride": 4}, "Output Size: AlexNet", ""),
    "twenty-one-filter": ("output-size", {"size": [251, 151], "kernel": 21, "stride": 10},
                          "Question? / Answer", ""),
    "conv1-output": ("output-size", {"size": 28, "kernel": 3}, "Conv_1 layer", ""),
    "fcn-256": ("dense-params", {"inputs": 256 * 256, "outputs": 10}, "Fully Connected Network (FCN)",
                "The slide writes 256 × 256 × 10 + 1: one bias in all, where each of the 10 "
                "outputs has its own (655,370)."),
    "sixteen-filters": ("conv-params", {"kernel": 3, "depth": 3, "filters": 16},
                        "How many parameters are in 16 Conv. Filters with 3x3 kernels", ""),
    "conv2-params": ("conv-params", {"kernel": 3, "depth": 32, "filters": 64}, "Conv_2 layer",
                     "The Total Parameters table prints 18494 for the 18,496 worked out on the slide."),
    "fc1-params": ("dense-params", {"inputs": 9216, "outputs": 128}, "FC1 layer", ""),
    "max-pool-4x4": ("max-pool", {"block": _POOL_BLOCK}, "Pooling: Example",
                     "The slide prints 167 top right, but that block holds 1, 34, 222, 253: "
                     "its largest is 253."),
    "deep-cnn-two-convs": ("receptive-field", {"layers": [["conv", 3, 1], ["conv", 3, 1]]},
                           "4 Layer Deep CNN for MNIST (Conv_1, Conv_2)", ""),
    "keras-conv2": ("conv-params", {"kernel": 3, "depth": 64, "filters": 64}, "CNN Example (Keras)", ""),
}


def lecture_question(key: str) -> Exercise:
    """One of the lecture's own questions (LECTURE_QUESTIONS), with its slide as source."""
    if key not in LECTURE_QUESTIONS:
        raise ExerciseError(f"no lecture question {str(key)[:40]!r} (known: "
                            f"{', '.join(LECTURE_QUESTIONS)})")
    kind, values, slide, note = LECTURE_QUESTIONS[key]
    exercise = make(kind, values, source=f"lecture: {slide}")
    if note:
        exercise = Exercise(**{**exercise.__dict__, "working": (*exercise.working, note)})
    return exercise


# --------------------------------------------------------------------------- variants

def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _variant_values(kind: str, rng: np.random.Generator) -> dict:
    """Numbers for a variant: small enough to work by hand, and often ones where a slip
    shows (padding, a division that is not whole, a non-square image)."""
    if kind == "output-size":
        k = _pick(rng, (3, 5, 7, 11, 21))
        h, w = (int(v) for v in rng.integers(k + 4, 260, size=2))
        return {"size": [h, w], "kernel": k, "stride": _pick(rng, (1, 2, 3, 4, 10)),
                "padding": _pick(rng, (0, 0, 1, 2))}
    if kind == "positions":
        return {"size": int(rng.integers(7, 16)), "kernel": _pick(rng, (2, 3, 5)),
                "stride": _pick(rng, (1, 2, 2, 3)), "padding": _pick(rng, (0, 0, 1))}
    if kind == "conv-params":
        return {"kernel": _pick(rng, (1, 3, 5, 7)), "depth": _pick(rng, (1, 3, 16, 32, 64)),
                "filters": _pick(rng, (8, 16, 32, 64, 128))}
    if kind == "dense-params":
        return {"inputs": _pick(rng, (784, 1600, 4608, 9216, 128, 256, 512)),
                "outputs": _pick(rng, (10, 32, 64, 128, 256))}
    if kind == "conv-output":
        image = rng.integers(0, 3, size=(5, 5)).tolist()
        kernel = rng.integers(-1, 2, size=(3, 3)).tolist()
        return {"image": image, "kernel": kernel, "stride": _pick(rng, (1, 1, 2)),
                "padding": _pick(rng, (0, 0, 1)), "bias": _pick(rng, (0, 0, 1, -1, 2))}
    if kind == "max-pool":
        return {"block": rng.integers(0, 256, size=(4, 4)).tolist()}
    layers = [["conv", _pick(rng, (3, 5)), _pick(rng, (1, 2))],
              [_pick(rng, ("conv", "pool")), _pick(rng, (2, 3)), _pick(rng, (1, 2))]]
    return {"layers": layers}


def variant(kind: str, seed: int, n: int) -> Exercise:
    """Variant n (1, 2, …) of `kind` from `seed`: the same numbers on every computer, so a
    teacher can give the class one seed."""
    if kind not in _BUILDERS:
        raise ExerciseError(f"unknown exercise kind {str(kind)[:40]!r}")
    seed, n = _whole(seed, "the seed", 0, 2**31 - 1), _whole(n, "the variant", 0, 10**6)
    rng = np.random.default_rng([seed, KINDS.index(kind), n])
    for _ in range(20):  # numbers that do not fit (a kernel larger than the image) are drawn again
        try:
            return make(kind, _variant_values(kind, rng), source=f"variant {n} of seed {seed}")
        except ExerciseError:
            continue
    raise ExerciseError(f"no {kind} variant could be made from seed {seed}")

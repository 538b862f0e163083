"""Kernel presets (the lecture's "Detected features" table and a few classics) and
reading kernels typed by people: "0 -1 0; -1 5 -1; 0 -1 0", fractions like 1/9 allowed.

Errors are KernelError (a ValueError) with one plain line saying what was wrong and where.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..basics.limits import MAX_KERNEL_VALUE, MAX_TYPED_KERNEL_SIDE

__all__ = [
    "ALIASES", "PRESETS", "KernelError", "KernelPreset", "find_preset",
    "format_kernel", "kernel_from_text_or_preset", "parse_cell", "parse_kernel",
]



class KernelError(ValueError):
    """A kernel that cannot be read; the message says what and where, on one line."""


# --------------------------------------------------------------------------- presets


def _fraction_text(values: np.ndarray) -> str:
    """Values as text parse_kernel reads back exactly: ints as ints, and a normalised
    kernel with a shared denominator as fractions ("1/9 1/9 1/9; ...", "2/16")."""
    flat = values.ravel()
    denominator = 1
    if not all(float(v).is_integer() for v in flat):
        # The smallest denominator d that makes every value n/d exactly (1/9 -> 9, 1/16 -> 16).
        for d in range(2, 1025):
            if all(round(float(v) * d) / d == v for v in flat):
                denominator = d
                break
        else:
            return "; ".join(" ".join(repr(float(v)) for v in row) for row in values)

    def cell(v: float) -> str:
        n = int(round(float(v) * denominator))
        return str(n) if denominator == 1 else ("0" if n == 0 else f"{n}/{denominator}")

    return "; ".join(" ".join(cell(v) for v in row) for row in values)


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays do not compare to a single bool
class KernelPreset:
    key: str  # slug used on the command line, e.g. "sharpen"
    name: str  # display name, e.g. "Sharpen"
    values: np.ndarray  # (kh, kw) float64, read-only
    description: str  # one plain line: what it does to an image
    source: str  # where it comes from, e.g. "lecture: Detected features table"

    @property
    def text(self) -> str:
        """The values as text that parse_kernel reads back to the same numbers."""
        return _fraction_text(self.values)

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape


def _preset(key: str, name: str, values, description: str, source: str, scale: int = 1) -> KernelPreset:
    array = np.asarray(values, dtype=np.float64) / scale
    array.setflags(write=False)  # shared by everyone: nobody may change a preset in place
    return KernelPreset(key, name, array, description, source)


_TABLE = "lecture: Detected features table"
_SETOSA = "setosa.io Image Kernels"
_binomial5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1])  # (5, 5), sums to 256

# Setosa's "outline" kernel is exactly the lecture's third edge detector
# [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]. Two presets with the same numbers would only clutter
# the picker, so there is one preset ("edge-all") and "outline" is accepted as another name
# for it (see ALIASES).
_PRESET_LIST = [
    _preset("identity", "Identity", [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
            "Identity: copies each pixel unchanged (the image comes out as it went in).", _TABLE),
    _preset("edge-diagonal", "Edge detection (diagonal)", [[1, 0, -1], [0, 0, 0], [-1, 0, 1]],
            "Edge detection (diagonal): compares opposite corners, so diagonal edges and corners light up.",
            _TABLE),
    _preset("edge-laplacian", "Edge detection (Laplacian)", [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
            "Edge detection (Laplacian): each pixel against its four neighbours; flat areas go to 0, edges stand out.",
            "lecture: Detected features table and the Stride example"),
    _preset("edge-all", "Edge detection (all directions)", [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
            "Edge detection (all directions, setosa's 'outline'): each pixel against all eight "
            "neighbours; outlines every edge.", _TABLE),
    _preset("sharpen", "Sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
            "Sharpen: boosts each pixel against its four neighbours, so edges look crisper.", _TABLE),
    _preset("box-blur", "Box blur", [[1, 1, 1], [1, 1, 1], [1, 1, 1]],
            "Box blur: each pixel becomes the average of its 3x3 neighbourhood, so the image softens.",
            _TABLE, scale=9),
    _preset("gaussian-blur", "Gaussian blur", [[1, 2, 1], [2, 4, 2], [1, 2, 1]],
            "Gaussian blur: a weighted average that trusts the centre most; a smoother blur than the box.",
            _TABLE, scale=16),
    _preset("sobel-x", "Sobel X", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
            "Sobel X: finds vertical edges; bright where the image gets brighter to the right.",
            "Sobel operator (scipy.ndimage.sobel, axis=1)"),
    _preset("sobel-y", "Sobel Y", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
            "Sobel Y: finds horizontal edges; bright where the image gets brighter downwards.",
            "Sobel operator (scipy.ndimage.sobel, axis=0)"),
    _preset("prewitt-x", "Prewitt X", [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]],
            "Prewitt X: like Sobel X without the extra weight on the middle row.",
            "Prewitt operator (scipy.ndimage.prewitt, axis=1)"),
    _preset("prewitt-y", "Prewitt Y", [[-1, -1, -1], [0, 0, 0], [1, 1, 1]],
            "Prewitt Y: like Sobel Y without the extra weight on the middle column.",
            "Prewitt operator (scipy.ndimage.prewitt, axis=0)"),
    _preset("emboss", "Emboss", [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
            "Emboss: lights edges from one corner, so the picture looks pressed into metal.", _SETOSA),
    _preset("gaussian-blur-5x5", "Gaussian blur 5x5", _binomial5,
            "Gaussian blur 5x5: a wider, softer Gaussian blur (binomial weights 1 4 6 4 1).",
            "binomial approximation of a Gaussian", scale=256),
    _preset("vertical-edge", "Vertical edge", [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
            "Vertical edge: left columns minus right columns; bright where light turns to dark going right.",
            "lecture: Convolution on Grey Scale"),
    _preset("lecture-example", "Lecture example", [[0, 1, 0], [1, 0, -1], [0, 1, 0]],
            "Lecture example: the kernel of the 'What is the Output?' slides (5x5 image -> 2 1 -1 / -1 1 3 / 2 1 1).",
            "lecture: What is the Output?"),
]

PRESETS: dict[str, KernelPreset] = {p.key: p for p in _PRESET_LIST}

ALIASES = {"outline": "edge-all", "laplacian": "edge-laplacian", "blur": "box-blur"}


# --------------------------------------------------------------------------- parsing

_EXAMPLES = "use numbers like 2, -0.5 or 1/9"


# A plain decimal number: 3, -1, 0.25, .5, 1e-2. Python's float() reads more (hex-looking
# "0x10" never, but "1_000", "٣" and full-width digits yes): a kernel cell takes only this.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _plain_number(text: str, shown: str) -> float:
    if not _PLAIN_NUMBER.fullmatch(text):
        raise KernelError(f"{shown!r} is not a number; {_EXAMPLES}")
    value = float(text)
    if not math.isfinite(value):
        raise KernelError(f"{shown!r} is not a finite number; {_EXAMPLES}")
    return _within_limit(value, shown)


def _within_limit(value: float, shown: str) -> float:
    """Values past MAX_KERNEL_VALUE overflow the filtered result and the plots that
    draw it (a 1e308 cell crashed the app); no kernel anyone teaches with comes near it."""
    if abs(value) > MAX_KERNEL_VALUE:
        raise KernelError(f"{shown!r} is too large; a kernel value may be at most "
                          f"{MAX_KERNEL_VALUE:,.0f} either side of 0")
    return value


def parse_cell(text: str) -> float:
    """One kernel value: "3", "-1", "0.25", ".5", "1e-2", "1/9", "-1/16" (spaces around are fine)."""
    shown = str(text).strip()
    if not shown:
        raise KernelError(f"a value is missing; {_EXAMPLES}")
    cleaned = shown.replace("\u2212", "-")  # a typographic minus, as pasted from slides
    if cleaned.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise KernelError(f"{shown!r} is not a finite number; {_EXAMPLES}")
    parts = cleaned.split("/")
    if len(parts) > 2:
        raise KernelError(f"{shown!r} has more than one '/'; write a fraction as a/b, like 1/9")
    if len(parts) == 2:
        if not parts[0].strip() or not parts[1].strip():
            raise KernelError(f"{shown!r} is not a whole fraction; write it as a/b, like 1/9")
        top = _plain_number(parts[0].strip(), shown)
        bottom = _plain_number(parts[1].strip(), shown)
        if bottom == 0:
            raise KernelError(f"{shown!r} divides by zero")
        return _within_limit(top / bottom, shown)
    return _plain_number(cleaned, shown)


# "1/9 * 1 1 1; ..." or "1/16 x [[1,2,1],...]": a scale factor in front of the whole kernel.
_SCALE = re.compile(r"^\s*([^\s*x×;,\[\]]+)\s*([*x×])\s*(\S.*)$", re.S)


def _rows(body: str) -> list[str]:
    """Split kernel text into row strings: ';' or newlines, numpy-style [[...], [...]] or
    MATLAB-style [1 2; 3 4]."""
    if "[" in body or "]" in body:
        if body.count("[") != body.count("]"):
            raise KernelError("the brackets do not match; write rows like [[0, -1, 0], [-1, 5, -1]] "
                              "or 0 -1 0; -1 5 -1")
        groups = re.findall(r"\[([^\[\]]*)\]", body)  # the innermost brackets hold the rows
        rest = re.sub(r"\[[^\[\]]*\]", "", body)
        if re.sub(r"[\s,;\[\]]", "", rest):
            raise KernelError(f"unexpected text {rest.strip(' ,;[]')!r} outside the brackets")
        # A group is one numpy row, or several MATLAB rows split by ';' or new lines.
        return [row for group in groups for row in re.split(r"[;\n]", group)]
    return re.split(r"[;\n]", body)


def _cells(raw: str, r: int) -> list[str]:
    """One row's value texts; an empty cell between commas is an error, not skipped."""
    text = raw.strip()
    if text.endswith(","):  # "1, 2, 3," as Python lists allow
        text = text[:-1].rstrip()
    if not text:
        return []
    cells = re.split(r"\s*,\s*|\s+", text)
    for c, cell in enumerate(cells, start=1):
        if not cell:
            where = ("before the first comma" if c == 1 else
                     "after the last comma" if c == len(cells) else "between two commas")
            raise KernelError(f"row {r}, column {c}: a value is missing {where}; {_EXAMPLES}")
    return cells


def parse_kernel(text: str) -> np.ndarray:
    """Kernel text -> (kh, kw) float64. Rows are separated by ';' or new lines, values by
    spaces and/or commas; fractions like 1/9 are fine, and so is a leading scale factor
    ("1/16 * 1 2 1; 2 4 2; 1 2 1"). Brackets as numpy ([[1, 2], [3, 4]]) or MATLAB
    ([1 2; 3 4]) writes them are fine too. Up to 11x11."""
    body = str(text)
    if not body.strip():
        raise KernelError("the kernel is empty; type rows of numbers like 0 -1 0; -1 5 -1; 0 -1 0")
    scale = 1.0
    match = _SCALE.match(body)
    if match and match.group(2) in "x×":
        # "3x3", "2 x 3", "0x10": a size, a product or hex, not a kernel; a scale written
        # with "x" must be followed by a kernel of more than one value.
        if re.fullmatch(r"[^\s;,\[\]]+", match.group(3).strip()):
            raise KernelError(f"{body.strip()!r} looks like a size, not a kernel; type the "
                              "kernel's values, like 0 -1 0; -1 5 -1; 0 -1 0 (a scale factor "
                              "goes in front: 1/9 * 1 1 1; 1 1 1; 1 1 1)")
        # "0x10 1; 1 1" is hex 16 (or a typo), not 0 times a kernel: a scale's "x" stands
        # apart from the kernel after it ("1/4 x 1 1; 1 1", "2x [1 2]"); otherwise the first
        # value is read as a value, and refused as one.
        after = body[match.end(2):match.end(2) + 1]
        if not (after.isspace() or after == "["):
            match = None
    if match:
        try:
            scale = parse_cell(match.group(1))
        except KernelError as exc:
            raise KernelError(f"the scale factor in front: {exc}") from None
        body = match.group(3)
    rows: list[list[float]] = []
    for raw in _rows(body):
        r = len(rows) + 1
        cells = _cells(raw, r)
        if not cells:
            continue  # blank lines and a trailing ';' are harmless
        values = []
        for c, cell in enumerate(cells, start=1):
            try:
                values.append(parse_cell(cell))
            except KernelError as exc:
                raise KernelError(f"row {r}, column {c}: {exc}") from None
        rows.append(values)
    if not rows:
        raise KernelError("the kernel is empty; type rows of numbers like 0 -1 0; -1 5 -1; 0 -1 0")
    for r, row in enumerate(rows[1:], start=2):
        if len(row) != len(rows[0]):
            raise KernelError(f"row {r} has {_count(len(row))} but row 1 has {len(rows[0])}; "
                              "every row needs the same number of values")
    kh, kw = len(rows), len(rows[0])
    side = MAX_TYPED_KERNEL_SIDE  # AlexNet's first layer is 11×11
    if kh > side or kw > side:
        raise KernelError(f"the kernel is {kh}x{kw}; the largest allowed is {side}x{side}")
    kernel = np.array(rows, dtype=np.float64) * scale
    if scale != 1.0:
        largest = float(np.abs(kernel).max())
        if largest > MAX_KERNEL_VALUE:  # each value was within the limit, the product not
            raise KernelError(f"the scale factor makes a value of {largest:g}; a kernel value "
                              f"may be at most {MAX_KERNEL_VALUE:,.0f} either side of 0")
    return kernel


def _count(n: int) -> str:
    return f"{n} value" if n == 1 else f"{n} values"


def _slug(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().lower())


def find_preset(text: str) -> KernelPreset | None:
    """A preset by key ("box-blur"), display name ("Box blur", any case) or alias ("outline")."""
    slug = _slug(text)
    slug = ALIASES.get(slug, slug)
    if slug in PRESETS:
        return PRESETS[slug]
    for preset in PRESETS.values():
        if _slug(preset.name) == slug:
            return preset
    return None


def kernel_from_text_or_preset(text: str) -> np.ndarray:
    """A preset's values (a writable copy) or the kernel typed as text."""
    preset = find_preset(str(text))
    if preset is not None:
        return preset.values.copy()
    word = str(text).strip()
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", word) and word.lower() not in ("nan", "inf", "infinity"):
        raise KernelError(f"{word!r} is not a kernel preset; choose one of: "
                          f"{', '.join(PRESETS)}; or type numbers like 0 -1 0; -1 5 -1; 0 -1 0")
    return parse_kernel(text)


# --------------------------------------------------------------------------- display


def _short(v: float) -> str:
    """1 -> '1', -0.0 -> '0', 1/9 -> '0.1111', 0.0625 -> '0.0625'."""
    v = float(v)
    if v.is_integer():
        return str(int(v))
    return f"{v:.4g}"


def format_kernel(values) -> str:
    """Rows on lines, columns right-aligned, short numbers (ints as ints, else 4 significant digits)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2:
        raise KernelError(f"a kernel has rows and columns; got shape {array.shape}")
    cells = [[_short(v) for v in row] for row in array]
    width = max((len(c) for row in cells for c in row), default=1)
    return "\n".join(" ".join(c.rjust(width) for c in row) for row in cells)


"""An architecture as one line of text, both ways, and a layer-by-layer check for the editor.

The one-line form is comma-separated layers (``->`` also separates), each one of::

    conv F K [stride=S] [pad=P]      K, S and P are 3 or 3x5 (rows x columns)
    maxpool K [stride=S]             also avgpool, minpool; the stride defaults to K
    relu | leaky_relu | elu | tanh | sigmoid | softmax
    bn | dropout P | flatten | dense N

    >>> arch = parse_architecture("conv 64 3, relu, maxpool 2, flatten, dense 10")
    >>> format_architecture(arch)
    'conv 64 3, relu, maxpool 2, flatten, dense 10'

The input is the dataset's image (1x28x28 for MNIST and Fashion-MNIST) and the last layer
must give 10 outputs; a softmax at the end is optional (the loss and the display add it).
The JSON form is ``Architecture.to_dict()`` / ``from_dict``: the layout of a weights file's
header, which also carries what the text leaves out (name, input shape, normalisation).

``check_layers`` never raises: it says for every layer its output shape, its parameter
count and the lecture's formulas with its numbers, what is wrong in words, and the
lecture's "Rules of Thumb" where they apply (hints never block).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..basics.files import FileProblem, read_regular_file
from ..basics.formulas import fmt_count, fmt_shape
from ..basics.limits import MAX_ARCH_LAYERS, MAX_ARCH_PARAMETERS
from .layers import (
    LAYER_ACTIVATIONS,
    Activation,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    LayerError,
    LayerSpec,
    Pool,
)
from .models import ARCHITECTURES, Architecture, ArchitectureError, _layer_info, summarize

__all__ = ["CLASSES", "LayerCheck", "architecture_from_json", "architecture_to_json",
           "check_layers", "editing_problem", "format_architecture", "format_layer", "parse_architecture",
           "parse_layer", "resolve_architecture", "total_parameters"]

CLASSES = 10  # what the last layer must give (MNIST's digits, Fashion-MNIST's classes)
MAX_TEXT_CHARS = 10_000  # a typed or pasted line; more is not an architecture
MAX_JSON_FILE_BYTES = 1_000_000

_POOL_WORDS = {"maxpool": "max", "avgpool": "avg", "minpool": "min"}
_SEPARATOR = re.compile(r",|->|→")
_PAIR = re.compile(r"^(\d+)(?:[x×](\d+))?$")
_SYNTAX = ("conv F K [stride=S] [pad=P], maxpool K [stride=S], avgpool, minpool, relu, "
           "leaky_relu, elu, tanh, sigmoid, softmax, bn, dropout P, flatten, dense N")


# ---------------------------------------------------------------------------------------
# Text -> layers


class _Bad(ValueError):
    """Internal: what is wrong with one layer's text (parse_architecture names the layer)."""


_MAX_DIGITS = 9  # far past every layer's limit (1,024 filters, 65,536 units)


def _digits_to_int(digits: str, what: str) -> int:
    """A run of digits as a number; _Bad for more than _MAX_DIGITS of them (int() refuses
    more than 4,300, and a message should not repeat thousands)."""
    if len(digits) > _MAX_DIGITS:
        raise _Bad(f"{what} has {len(digits):,} digits; no layer takes a number that large")
    return int(digits)


def _shown_text(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def _number_pair(text: str, what: str) -> tuple[int, int]:
    match = _PAIR.match(text.lower())
    if not match:
        raise _Bad(f"{what} must be a whole number like 3 or two like 3x5 (rows x columns), "
                   f"got {_shown_text(text)}")
    rows = _digits_to_int(match.group(1), what)
    cols = _digits_to_int(match.group(2), what) if match.group(2) else rows
    return rows, cols


def _whole(text: str, what: str) -> int:
    if not re.fullmatch(r"\d+", text):
        raise _Bad(f"{what} must be a whole number, got {_shown_text(text)}")
    return _digits_to_int(text, what)


def _options(words: list[str], allowed: tuple[str, ...], usage: str) -> dict[str, str]:
    """'stride=2', 'pad=1' (also 'stride 2' and 'padding=1') -> {'stride': '2', 'pad': '1'}."""
    found: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if "=" in word:
            key, _, value = word.partition("=")
        elif word in ("stride", "pad", "padding") and i + 1 < len(words):
            key, value = word, words[i + 1]
            i += 1
        else:
            raise _Bad(f"unexpected {word!r}; write it as {usage}")
        key = {"padding": "pad", "s": "stride", "p": "pad"}.get(key, key)
        if key not in allowed:
            raise _Bad(f"unknown option {key!r}; write it as {usage}")
        if key in found:
            raise _Bad(f"{key} is given twice")
        if not value:
            raise _Bad(f"{key}= needs a number")
        found[key] = value
        i += 1
    return found


def parse_layer(text: str) -> LayerSpec:
    """One layer's text ('conv 32 3 stride=2') -> its spec. ValueError in words otherwise.

    Only the words are checked here; whether the numbers fit the layer's input is the
    spec's own check (output_shape), made by parse_architecture and check_layers."""
    try:
        return _parse_layer(text)
    except _Bad as exc:
        raise ValueError(str(exc)) from None


def _parse_layer(text: str) -> LayerSpec:
    words = text.strip().lower().replace("×", "x").split()
    if not words:
        raise _Bad("the layer is empty (two commas in a row?)")
    head, rest = words[0], words[1:]
    if head == "conv":
        usage = ("conv FILTERS KERNEL [stride=S] [pad=P] [bias=no], e.g. conv 32 3 or "
                 "conv 32 3x5 pad=1")
        if len(rest) < 2:
            raise _Bad(f"a convolution needs the number of filters and the kernel size: {usage}")
        filters = _whole(rest[0], "the number of filters")
        kernel = _number_pair(rest[1], "the kernel size")
        opts = _options(rest[2:], ("stride", "pad", "bias"), usage)
        stride = _number_pair(opts.get("stride", "1"), "the stride")
        pad = _number_pair(opts.get("pad", "0"), "the padding")
        bias = opts.get("bias", "yes").lower()
        if bias not in ("yes", "no", "true", "false", "1", "0"):
            raise _Bad(f"bias is yes or no, got {opts['bias']!r}")
        return Conv(filters, kernel, stride, pad, bias in ("yes", "true", "1"))
    if head in _POOL_WORDS:
        usage = f"{head} SIZE [stride=S], e.g. {head} 2 or {head} 3 stride=2"
        if not rest:
            raise _Bad(f"pooling needs its window size: {usage}")
        rows, cols = _number_pair(rest[0], "the pooling size")
        if rows != cols:
            raise _Bad(f"pooling windows are square here; write {head} {rows}")
        opts = _options(rest[1:], ("stride",), usage)
        stride = _number_pair(opts.get("stride", str(rows)), "the stride")
        if stride[0] != stride[1]:
            raise _Bad(f"a pooling stride is one number here; write stride={stride[0]}")
        return Pool(_POOL_WORDS[head], rows, stride[0])
    if head in LAYER_ACTIVATIONS or head in ("leaky-relu", "leakyrelu"):
        if rest:
            raise _Bad(f"{head} takes no numbers")
        return Activation("leaky_relu" if head in ("leaky-relu", "leakyrelu") else head)
    if head in ("bn", "batchnorm"):
        options = _options(rest, ("eps",), "bn or bn eps=0.001")
        if "eps" not in options:
            return BatchNorm()
        try:
            eps = float(options["eps"])
        except ValueError:
            raise _Bad(f"eps must be a number like 0.001, got {options['eps']!r}") from None
        if not 0 < eps < 1:
            raise _Bad(f"eps must be above 0 and below 1, got {options['eps']}")
        return BatchNorm(eps)
    if head == "flatten":
        if rest:
            raise _Bad("flatten takes no numbers")
        return Flatten()
    if head == "dropout":
        if len(rest) != 1:
            raise _Bad("dropout needs one probability, e.g. dropout 0.25")
        try:
            p = float(rest[0])
        except ValueError:
            raise _Bad(f"the dropout probability must be a number like 0.25, got {rest[0]!r}") from None
        if not 0.0 <= p < 1.0:
            raise _Bad(f"the dropout probability must be at least 0 and below 1, got {rest[0]}")
        return Dropout(p)
    if head == "dense":
        if len(rest) != 1:
            raise _Bad("dense needs one number of units, e.g. dense 128")
        return Dense(_whole(rest[0], "the number of units"))
    raise _Bad(f"unknown layer {words[0]!r}; the layers are: {_SYNTAX}")


def _split(text: str) -> list[str]:
    if len(text) > MAX_TEXT_CHARS:
        raise ArchitectureError(f"the text is {len(text):,} characters; an architecture is at "
                                f"most {MAX_TEXT_CHARS:,}")
    parts = [p.strip() for p in _SEPARATOR.split(text)]
    if parts and not parts[-1] and len(parts) > 1:  # a trailing comma is forgiven
        parts.pop()
    if not any(parts):
        raise ArchitectureError(f"no layers given; write them comma-separated, e.g. "
                                f"conv 32 3, relu, maxpool 2, flatten, dense {CLASSES}")
    if len(parts) > MAX_ARCH_LAYERS:
        raise ArchitectureError(f"{len(parts)} layers; an architecture has at most "
                                f"{MAX_ARCH_LAYERS}")
    return parts


def _part_words(part: str) -> str:
    """One layer's text as a message names it: shortened (a paste may be thousands long)."""
    return (part if len(part) <= 40 else part[:37] + "...") or "empty"


def parse_architecture(text: str, name: str = "custom", description: str = "",
                       input_shape: tuple[int, int, int] = (1, 28, 28),
                       input_mean: float = 0.0, input_std: float = 1.0) -> Architecture:
    """The one-line form -> an Architecture that builds and gives 10 outputs.

    ArchitectureError with one message naming the first bad layer (its number and its
    text) and the problem, e.g. "layer 5 (conv 64 5): height: kernel 5 is larger than
    the padded input 3"."""
    parts = _split(text)
    layers = []
    for index, part in enumerate(parts):
        try:
            layers.append(_parse_layer(part))
        except _Bad as exc:
            raise ArchitectureError(f"layer {index + 1} ({_part_words(part)}): {exc}") from None
    c, h, w = input_shape
    arch = Architecture(name=name, description=description, layers=tuple(layers),
                        input_shape=(c, h, w), input_mean=input_mean,
                        input_std=input_std)
    for check in check_layers(arch):
        if check.problem:
            raise ArchitectureError(f"layer {check.index + 1} ({_part_words(parts[check.index])}): "
                                    f"{check.problem}")
    summarize(arch)  # the models module's own rules too (limits); names the layer if not
    return arch


# ---------------------------------------------------------------------------------------
# Layers -> text


def _pair_text(pair) -> str:
    rows, cols = int(pair[0]), int(pair[1])
    return str(rows) if rows == cols else f"{rows}x{cols}"


def _probability_text(p: float) -> str:
    short = f"{p:g}"
    return short if float(short) == p else repr(float(p))  # exact, so the text round-trips


_EDITABLE = (Conv, Pool, Activation, BatchNorm, Dropout, Flatten, Dense)


def editing_problem(arch: Architecture) -> str | None:
    """Why the editor (and the one-line text form) cannot say this network, in words; None
    when it can. It says networks that are one chain of the layers it lists, as the
    lecture builds them; a network made elsewhere may join branches or use other layers."""
    if not arch.is_chain:
        joins = [i.name for i in summarize(arch) if len(i.inputs) > 1][:3]
        return (f"this network is not one chain of layers (it joins branches: "
                f"{', '.join(joins)}); the editor builds chains, so it can be shown, "
                "evaluated and saved, but not edited here")
    for index, spec in enumerate(arch.layers):
        plain = isinstance(spec, _EDITABLE) and not (
            isinstance(spec, Conv) and not spec.plain) and not (
            isinstance(spec, Flatten) and spec.order != "chw") and not (
            isinstance(spec, Activation) and spec.slope != Activation().slope)
        if not plain:
            return (f"layer {index + 1} ({spec.label}) is not one the editor builds (it has "
                    f"{_SYNTAX}); the network can be shown, evaluated and saved, but not "
                    "edited here")
    return None


def format_layer(spec: LayerSpec) -> str:
    """A spec -> its text ('conv 32 3x5 stride=2 pad=1'); parse_layer reads it back.
    ArchitectureError for a layer the text form cannot say (editing_problem says why)."""
    if isinstance(spec, Conv):
        text = f"conv {spec.filters} {_pair_text(spec.kernel)}"
        if tuple(spec.stride) != (1, 1):
            text += f" stride={_pair_text(spec.stride)}"
        if tuple(spec.padding) != (0, 0):
            text += f" pad={_pair_text(spec.padding)}"
        if not spec.bias:
            text += " bias=no"
        return text
    if isinstance(spec, Pool):
        text = f"{spec.kind}pool {spec.size}"
        return text if spec.stride == spec.size else f"{text} stride={spec.stride}"
    if isinstance(spec, Activation):
        return spec.kind
    if isinstance(spec, BatchNorm):
        return "bn" if spec.eps == BatchNorm().eps else f"bn eps={spec.eps!r}"
    if isinstance(spec, Dropout):
        return f"dropout {_probability_text(spec.p)}"
    if isinstance(spec, Flatten):
        return "flatten"
    if isinstance(spec, Dense):
        return f"dense {spec.units}"
    raise ArchitectureError(f"the text form has no words for {getattr(spec, 'label', spec)!r:.60}")


def format_architecture(arch: Architecture) -> str:
    """The one-line form of an architecture's layers (comma-separated); ArchitectureError
    with editing_problem's words for a network the text form cannot say."""
    problem = editing_problem(arch)
    if problem:
        raise ArchitectureError(problem)
    return ", ".join(format_layer(spec) for spec in arch.layers)


def architecture_to_json(arch: Architecture) -> str:
    """The JSON form shown in the editor: the weights header's layout, indented."""
    return json.dumps(arch.to_dict(), indent=2, ensure_ascii=False)


def architecture_from_json(text: str) -> Architecture:
    """The JSON form back (every field checked; ArchitectureError naming the layer)."""
    if len(text) > MAX_JSON_FILE_BYTES:
        raise ArchitectureError("the JSON text is too long to be an architecture")
    arch = Architecture.from_json(text)
    problem = editing_problem(arch) or _classes_problem(arch)
    if problem:
        raise ArchitectureError(problem)
    return arch


def _classes_problem(arch: Architecture) -> str | None:
    infos = summarize(arch)
    out = infos[-1].output_shape
    if out != (CLASSES,):
        return (f"the last layer gives {fmt_shape(out)} outputs; it must give {CLASSES}, one "
                f"per class (end with dense {CLASSES})")
    return None


def resolve_architecture(value: str) -> Architecture:
    """What --arch takes: a preset name if it is one, else a .json file or a .py file of
    Keras model code (cnnviz.core.networks.keras_code) if it exists, else the one-line text form.
    ArchitectureError in words."""
    value = value.strip()
    if value in ARCHITECTURES:
        return ARCHITECTURES[value]
    path = Path(value).expanduser()
    if value.lower().endswith(".py"):  # Keras model code: read, never run
        from .keras_code import read_keras_file

        if not path.exists():
            raise ArchitectureError(f"no such file {value}")
        try:
            return read_keras_file(path).architecture
        except ArchitectureError as exc:
            raise ArchitectureError(f"{value}: {exc}") from None
    if value.lower().endswith(".json"):
        if not path.exists():
            raise ArchitectureError(f"no such file {value}")
        try:
            raw = read_regular_file(path, MAX_JSON_FILE_BYTES, "architecture file")
        except (FileProblem, OSError) as exc:
            raise ArchitectureError(f"cannot read {value}: {exc}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ArchitectureError(f"{value} is not a text (UTF-8) file") from None
        try:
            return architecture_from_json(text)
        except ArchitectureError as exc:
            raise ArchitectureError(f"{value}: {exc}") from None
    try:
        return parse_architecture(value)
    except ArchitectureError:
        if _SEPARATOR.search(value) or " " in value:
            raise
        known = ", ".join(ARCHITECTURES)  # one word: most likely a mistyped preset name
        raise ArchitectureError(f"unknown architecture {value!r}: not a preset ({known}), "
                                f"not a .json file, and not a list of layers like "
                                f"'conv 32 3, relu, maxpool 2, flatten, dense {CLASSES}'") from None


# ---------------------------------------------------------------------------------------
# Layer by layer, for the editor


@dataclass(frozen=True)
class LayerCheck:
    index: int  # 0-based position in the architecture
    name: str  # e.g. "conv1" (what summarize and the explorer call it)
    text: str  # the layer's one-line text
    spec: LayerSpec
    in_shape: tuple[int, ...] | None  # None: an earlier layer has a problem
    output_shape: tuple[int, ...] | None  # None: this layer or an earlier one cannot work
    parameters: int  # 0 when the output shape is unknown
    shape_formula: str  # the lecture's (W − F + 2P) / S + 1 with this layer's numbers
    param_formula: str  # ((F_h × F_w × C_in) + 1) × C_out or (N_in + 1) × N_out, or "no ..."
    problem: str | None  # why this layer cannot work, in words; None when it works
    hints: tuple[str, ...] = field(default=())  # the lecture's rules of thumb; never block

    @property
    def ok(self) -> bool:
        return self.problem is None and self.output_shape is not None


def total_parameters(checks: list[LayerCheck]) -> int:
    return sum(c.parameters for c in checks)


def _layer_names(arch: Architecture) -> list[str]:
    from .models import _layer_names as names  # the one naming rule (conv1, relu1, ...)

    return names(arch.layers)


def check_layers(arch: Architecture, classes: int = CLASSES) -> list[LayerCheck]:
    """Every layer's output shape, parameters, formulas, problem and hints; never raises.
    The last layer must give `classes` outputs (ten, or a set's own class count).

    After the first layer with a problem the shapes are unknown (None) and the later
    layers have no problem of their own reported."""
    checks: list[LayerCheck] = []
    shape: tuple[int, ...] | None = tuple(arch.input_shape)
    names = _layer_names(arch)
    total = 0
    last = len(arch.layers) - 1
    for index, spec in enumerate(arch.layers):
        text = _safe_text(spec)
        hints = tuple(_hints(arch, index, shape)) if shape is not None else ()
        if shape is None:
            checks.append(LayerCheck(index, names[index], text, spec, None, None, 0,
                                     "", "", None, hints))
            continue
        try:
            info = _layer_info(names[index], spec, shape)  # the models module's checks
            out, params = tuple(info.output_shape), int(info.parameters)
            shape_text, param_text = spec.shape_formula(shape), spec.param_formula(shape)
            problem = None
            if spec.ends_network and index != last:
                problem = "softmax turns the scores into probabilities: only as the last layer"
            elif spec.ends_network and len(shape) != 1:
                problem = "softmax must come after a dense layer (the flat class scores)"
            elif total + params > MAX_ARCH_PARAMETERS:
                problem = (f"the network would have more than {fmt_count(MAX_ARCH_PARAMETERS)} "
                           f"parameters")
            elif index == last and out != (classes,):
                problem = (f"the last layer gives {fmt_shape(out)} outputs; it must give "
                           f"{classes}, one per class (end with dense {classes})")
            elif (index == last - 1 and arch.layers[last].ends_network
                  and out != (classes,) and len(out) == 1):
                problem = (f"this layer gives {fmt_shape(out)} outputs before the softmax; it "
                           f"must give {classes}, one per class (dense {classes})")
        except (LayerError, ValueError, TypeError, IndexError) as exc:
            checks.append(LayerCheck(index, names[index], text, spec, shape, None, 0, "", "",
                                     _problem_words(spec, shape, exc), hints))
            shape = None
            continue
        checks.append(LayerCheck(index, names[index], text, spec, shape, out, params,
                                 shape_text, param_text, problem, hints))
        total += params
        shape = None if problem else out
    return checks


def _safe_text(spec) -> str:
    try:
        return format_layer(spec)
    except (TypeError, ArchitectureError):
        return repr(spec)


def _problem_words(spec, shape, exc: Exception) -> str:
    message = str(exc)
    if isinstance(spec, (Conv, Pool)) and len(shape) == 3 and "larger than" in message:
        return f"the {fmt_shape(shape)} map has shrunk below the window: {message}"
    return message


_SMALL_KERNEL_SIDE = 5  # "small size such as 3×3, 5×5, or 1×1"
_FIRST_CONV_KERNELS = (7, 11)  # "Large filter can be used in very first CONV"


def _hints(arch: Architecture, index: int, shape: tuple[int, ...]) -> list[str]:
    """The lecture's "Rules of Thumb" that apply to layer `index` (given its input shape)."""
    layers = arch.layers
    spec = layers[index]
    hints = []
    if isinstance(spec, Conv):
        first_conv = not any(isinstance(s, Conv) for s in layers[:index])
        large = max(spec.kernel) > _SMALL_KERNEL_SIDE
        if large and not (first_conv and spec.kernel[0] == spec.kernel[1]
                          and spec.kernel[0] in _FIRST_CONV_KERNELS):
            hints.append("Rule of thumb: conv layers should be small, such as 3×3, 5×5 or "
                         "1×1 (a large 7×7 or 11×11 filter only in the very first conv)")
        if max(spec.stride) > 1 and any(isinstance(s, Pool) for s in layers):
            hints.append("Rule of thumb: use stride 1, unless the stride replaces pooling "
                         "(this network also pools)")
        if not _followed_by(layers, index, BatchNorm):
            hints.append("Rule of thumb: batch norm (bn) should be applied if possible; "
                         "add bn after this convolution")
        if len(shape) == 3:  # a size that is not whole is floored, as PyTorch and Keras do
            hints += spec.floor_notes(shape)
    elif isinstance(spec, Pool):
        if (spec.kind, spec.size, spec.stride) != ("max", 2, 2):
            hints.append("Rule of thumb: pooling is usually max pooling with a 2×2 window "
                         "and stride 2 (maxpool 2)")
        _odd_input_hint(hints, shape, spec.size, spec.stride, spec.size, spec.stride, (0, 0))
    elif isinstance(spec, Dense) and _hidden(layers, index) \
            and not _followed_by(layers, index, Dropout):
        hints.append("Rule of thumb: dropout should be applied if possible; add "
                     "dropout 0.25 after this dense layer")
    return hints


def _hidden(layers, index: int) -> bool:
    """Whether layers[index] is not the output layer (only a softmax may follow that)."""
    return not all(isinstance(s, Activation) and s.ends_network for s in layers[index + 1:])


def _followed_by(layers, index: int, kind) -> bool:
    """Whether a `kind` layer comes after layers[index] before the next conv, dense or
    flatten (inside the same block; pooling may come first)."""
    for spec in layers[index + 1:]:
        if isinstance(spec, kind):
            return True
        if isinstance(spec, (Conv, Dense, Flatten)):
            return False
    return False


def _odd_input_hint(hints: list[str], shape, kh: int, sh: int, kw: int, sw: int,
                    padding) -> None:
    if len(shape) != 3 or max(sh, sw) < 2:
        return
    _, h, w = shape
    ragged = [(side, k, s, p) for side, k, s, p in ((h, kh, sh, padding[0]),
                                                     (w, kw, sw, padding[1]))
              if side + 2 * p >= k and (side + 2 * p - k) % s]
    if ragged:
        hints.append(f"Rule of thumb: the input should be divisible by two (to pool); this "
                     f"{fmt_shape(shape)} input does not fit the window and stride evenly, so "
                     f"its last row or column is dropped")

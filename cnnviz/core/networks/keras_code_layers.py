"""Keras layers read from code -> the lab editor's layer specs (for keras_code).

Each Keras layer becomes the editor's layers (a Conv2D with activation='relu' is a conv and a
relu), its arguments checked as Keras would take them: 'same' padding is worked out from the
input as Keras pads it, a ZeroPadding2D right before a Conv2D becomes the convolution's
padding, BatchNormalization keeps Keras's epsilon (0.001). The rows keep what Keras's
model.summary() shows: each layer's name, output shape and parameters as Keras counts them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import NoReturn

from ..basics.limits import MAX_ARCH_LAYERS
from .arch_text import CLASSES, check_layers
from .keras_code import KERAS_BN_EPS, KerasCodeError, KerasReading, KerasRow, line_words
from .keras_code_reader import Layer, Ref, Tensor
from .keras_file import _ACTIVATIONS
from .layers import LEAKY_SLOPE, Activation, BatchNorm, Conv, Dense, Dropout, Flatten, LayerError, Pool
from .models import Architecture

_KERAS_LEAKY = {"LeakyReLU": 0.3, "leaky_relu": 0.2}  # the layer's and the function's slopes
_MAX_SIDE = 4096


@dataclass
class _Row:
    line: int
    name: str
    kind: str
    specs: list[int] = field(default_factory=list)
    frozen: int = 0  # Keras's non-trainable numbers (batch norm's moving mean and variance)
    shape: tuple | None = None  # (C, H, W) or (N,) out, for a row that makes no spec
    keras_shape: tuple | None = None  # Keras's own output shape, for a row folded into the next


def to_snake_case(name: str) -> str:
    """Keras's automatic layer names: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class _Converter:
    def __init__(self, reader):
        self.reader = reader
        self.specs: list = []
        self.rows: list[_Row] = []
        self.shape: tuple | None = None  # (C, H, W) or (N,): what the next layer reads
        self.pad: tuple[int, int] | None = None  # a ZeroPadding2D waiting for its Conv2D
        self.names: dict[str, int] = {}
        self.notes: list[str] = []
        self.mean, self.std = 0.0, 1.0  # a Normalization layer first: the input's

    def fail(self, line: int, words: str) -> NoReturn:
        raise KerasCodeError(f"{line_words(self.reader.lines, line)}: {words}")

    def note(self, line: int, words: str) -> None:
        self.notes.append(f"Line {line}: {words}")

    # ----- the input ------------------------------------------------------------------

    def input_shape(self, layers: list, default: tuple) -> tuple[list, tuple]:
        """The network's input (C, H, W) and the layers left to read."""
        first = layers[0]
        given, line = None, first.line
        if isinstance(first, Tensor):
            given, layers = first.shape, layers[1:]
        else:
            kw = first.kwargs
            for key in ("input_shape", "shape", "batch_input_shape", "batch_shape", "input_dim"):
                if kw.get(key) is not None:
                    value = kw[key]
                    given = (value,) if key == "input_dim" else \
                        tuple(value)[1:] if key.startswith("batch") else value
                    break
            if first.kind == "InputLayer":
                layers = layers[1:]
        if given is None:
            self.notes.append(f"No input shape is given (input_shape=(28, 28, 1) on the first "
                              f"layer); the lab's {'×'.join(map(str, default[1:]))}×{default[0]} "
                              "pictures are used.")
            return layers, tuple(default)
        if not (isinstance(given, (tuple, list)) and 1 <= len(given) <= 3
                and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= _MAX_SIDE
                        for v in given)):
            self.fail(line, f"the input shape must be (height, width, channels) in whole "
                            f"numbers, got {str(given)[:40]}")
        given = tuple(given)
        if len(given) == 3:
            return layers, (given[2], given[0], given[1])
        if len(given) == 2:
            return layers, (1, given[0], given[1])
        return self._flat_input(layers, given[0], default, line)

    def _flat_input(self, layers: list, n: int, default: tuple, line: int):
        nxt = layers[0] if layers else None
        if isinstance(nxt, Layer) and nxt.kind == "Reshape":
            target = nxt.kwargs.get("target_shape")
            if isinstance(target, (tuple, list)) and len(target) == 3 \
                    and all(isinstance(v, int) and v > 0 for v in target) \
                    and math.prod(target) == n:
                self.note(nxt.line, f"the {n} numbers reshaped to {tuple(target)} are read as "
                                    "the pictures themselves (the lab's input)")
                return layers[1:], (target[2], target[0], target[1])
        if n == math.prod(default):
            self.specs.append(Flatten())
            self.rows.append(_Row(line, "flatten", "Flatten", [0]))
            self.note(line, f"the input is {n} numbers, the lab's {default[1]}×{default[2]} "
                            "pictures flattened: a Flatten comes first")
            return layers, tuple(default)
        self.fail(line, f"the input is {n} numbers in a row; the lab's networks read pictures "
                        "(height, width, channels)")

    # ----- one layer ------------------------------------------------------------------

    def row(self, layer: Layer, *specs, frozen: int = 0) -> None:
        row = _Row(layer.line, self._auto(layer), layer.kind, frozen=frozen)
        for spec in specs:
            if spec is None:
                continue
            row.specs.append(len(self.specs))
            self.specs.append(spec)
            self._advance(spec)
        if not row.specs:
            row.shape = self.shape
        self.rows.append(row)

    def _advance(self, spec) -> None:
        try:
            self.shape = tuple(spec.output_shape(self.shape)) if self.shape else None
        except (LayerError, ValueError, TypeError, IndexError):
            self.shape = None  # check_layers names the problem with its line

    def layer(self, layer: Layer) -> None:
        if self.pad is not None and layer.kind != "Conv2D":
            self.fail(layer.line, "a ZeroPadding2D is read only right before a Conv2D (it "
                                  "becomes the convolution's padding)")
        if layer.not_read:
            self.note(layer.line, f"{', '.join(layer.not_read)} is not read (it does not change "
                                  "shapes or parameter counts; the lab trains without it)")
        handler = getattr(self, f"_{layer.kind.lower()}", None)
        if handler is None or layer.kind in ("InputLayer", "Rescaling", "Reshape", "Normalization"):
            self._first_only(layer)
            return
        handler(layer)

    def _first_only(self, layer: Layer) -> None:
        kw = layer.kwargs
        if layer.kind == "Rescaling" and not self.specs:
            scale, offset = kw.get("scale"), kw.get("offset", 0.0)
            if isinstance(scale, (int, float)) and abs(scale * 255 - 1) < 1e-3 and offset == 0:
                self.note(layer.line, "Rescaling(1/255) is left out: the lab gives the network "
                                      "its pictures in 0..1 already")
                self.row(layer)
                return
        if layer.kind == "Normalization" and not self.specs and self._normalization(layer):
            return
        self.fail(layer.line, f"{layer.kind} is read only as the model's first layer"
                  + {"Rescaling": " (Rescaling(1./255))",
                     "Normalization": ", with its mean and variance given as numbers"}.get(
                         layer.kind, ""))

    def _normalization(self, layer: Layer) -> bool:
        """Normalization(mean=m, variance=v) first: the network's input normalisation."""
        kw = layer.kwargs
        mean, variance = kw.get("mean"), kw.get("variance")
        if not (isinstance(mean, (int, float)) and isinstance(variance, (int, float))
                and variance > 0 and kw.get("axis", -1) in (-1, None) and not kw.get("invert")):
            return False
        self.mean, self.std = float(mean), math.sqrt(variance)
        self.row(layer)
        return True

    # ----- the layers the editor builds ------------------------------------------------

    def _conv2d(self, layer: Layer) -> None:
        kw, line = layer.kwargs, layer.line
        filters = self.whole(kw.get("filters"), "filters", line)
        kernel = self.pair(kw.get("kernel_size"), "kernel_size", line)
        stride = self.pair(kw.get("strides", 1), "strides", line)
        if self.pair(kw.get("dilation_rate", 1), "dilation_rate", line) != (1, 1) \
                or kw.get("groups", 1) != 1:
            self.fail(line, "a dilated or grouped convolution is not one the lab's editor "
                            "builds (it builds plain ones)")
        self.channels_last(kw, line)
        padding = self.padding_of(kw.get("padding", "valid"), kernel, stride, line)
        if not isinstance(kw.get("use_bias", True), bool):
            self.fail(line, "use_bias is True or False")
        conv = Conv(filters, kernel, stride, padding, kw.get("use_bias", True))
        self.row(layer, conv, self.activation(kw.get("activation"), line))

    def padding_of(self, padding, kernel, stride, line: int) -> tuple[int, int]:
        pad, self.pad = self.pad or (0, 0), None
        word = padding.lower() if isinstance(padding, str) else padding
        if word == "valid":
            return pad
        if word != "same":
            self.fail(line, f"padding is 'valid' or 'same', got {str(padding)[:20]!r}")
        if pad != (0, 0) or self.shape is None or len(self.shape) != 3:
            return tuple((k - 1) // 2 + p for k, p in zip(kernel, pad))
        sides = []
        for n, k, s in zip(self.shape[1:], kernel, stride):
            total = max((math.ceil(n / s) - 1) * s + k - n, 0)  # as Keras (TensorFlow) pads
            sides.append((total // 2, total - total // 2))
        if any(a != b for a, b in sides):
            self.note(line, "Keras pads 'same' here one more at the bottom and right than at "
                            "the top and left; the editor pads both sides alike, which gives the "
                            "same output shape and parameters")
        return tuple(b for _, b in sides)

    def _zeropadding2d(self, layer: Layer) -> None:
        value = layer.kwargs.get("padding", 1)
        if isinstance(value, int) and not isinstance(value, bool):
            value = (value, value)
        if isinstance(value, (tuple, list)) and len(value) == 2 \
                and all(isinstance(v, (tuple, list)) for v in value):
            if any(len(v) != 2 or v[0] != v[1] for v in value):
                self.fail(layer.line, "the editor pads both sides alike; this ZeroPadding2D "
                                      "pads them differently")
            value = (value[0][0], value[1][0])
        pad = self.pair(value, "padding", layer.line, zero=True)
        keras = (self.shape[1] + 2 * pad[0], self.shape[2] + 2 * pad[1], self.shape[0]) \
            if self.shape and len(self.shape) == 3 else None
        self.rows.append(_Row(layer.line, self._auto(layer), layer.kind, keras_shape=keras or ()))
        self.pad = pad

    def _auto(self, layer: Layer) -> str:
        """The layer's name= or Keras's automatic one (conv2d, conv2d_1, ...)."""
        name = layer.kwargs.get("name")
        if isinstance(name, str) and name:
            return name[:40]
        base = to_snake_case(layer.kind)
        count = self.names.get(base, 0)
        self.names[base] = count + 1
        return base if count == 0 else f"{base}_{count}"

    def _dense(self, layer: Layer) -> None:
        kw, line = layer.kwargs, layer.line
        units = self.whole(kw.get("units"), "units", line)
        if kw.get("use_bias", True) is not True:
            self.fail(line, "a dense layer without a bias is not one the lab's editor builds")
        self.row(layer, Dense(units), self.activation(kw.get("activation"), line))

    def _pool(self, layer: Layer, kind: str) -> None:
        kw, line = layer.kwargs, layer.line
        size = self.pair(kw.get("pool_size", 2), "pool_size", line)
        stride = self.pair(kw.get("strides") or size, "strides", line)
        if size[0] != size[1] or stride[0] != stride[1]:
            self.fail(line, "the editor pools with square windows and one stride")
        self.channels_last(kw, line)
        padding = kw.get("padding", "valid")
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding == "same" and self.shape and len(self.shape) == 3 and any(
                math.ceil(n / stride[0]) != (n - size[0]) // stride[0] + 1 for n in self.shape[1:]):
            self.fail(line, "padding='same' pads this pooling's input; the editor's pooling "
                            "does not pad (use padding='valid')")
        if padding not in ("same", "valid"):
            self.fail(line, f"padding is 'valid' or 'same', got {str(padding)[:20]!r}")
        self.row(layer, Pool(kind, size[0], stride[0]))

    def _maxpooling2d(self, layer: Layer) -> None:
        self._pool(layer, "max")

    def _averagepooling2d(self, layer: Layer) -> None:
        self._pool(layer, "avg")

    def _flatten(self, layer: Layer) -> None:
        self.channels_last(layer.kwargs, layer.line)
        self.row(layer, Flatten())

    def _dropout(self, layer: Layer) -> None:
        rate = layer.kwargs.get("rate")
        if not (isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0 <= rate < 1):
            self.fail(layer.line, "Dropout's rate is a number from 0 to below 1, e.g. 0.25")
        self.row(layer, Dropout(float(rate)))

    def _batchnormalization(self, layer: Layer) -> None:
        kw, line = layer.kwargs, layer.line
        eps = kw.get("epsilon", KERAS_BN_EPS)
        if not (isinstance(eps, (int, float)) and 0 < eps < 1):
            self.fail(line, "epsilon is a small number above 0, e.g. 0.001")
        if kw.get("center", True) is not True or kw.get("scale", True) is not True:
            self.fail(line, "batch norm without its β (center) or γ (scale) is not one the lab's "
                            "editor builds")
        rank = len(self.shape) if self.shape else 3
        if kw.get("axis", -1) not in (-1, rank, [-1]):
            self.fail(line, "the editor normalises each channel (axis=-1)")
        channels = self.shape[0] if self.shape else 0
        self.row(layer, BatchNorm(float(eps)), frozen=2 * channels)

    def _activation(self, layer: Layer) -> None:
        self.row(layer, self.activation(layer.kwargs.get("activation"), layer.line,
                                        required=True))

    def _relu(self, layer: Layer) -> None:
        kw = layer.kwargs
        if kw.get("max_value") is not None or kw.get("threshold", 0) != 0:
            self.fail(layer.line, "a capped or shifted ReLU is not one the lab's editor builds")
        slope = kw.get("negative_slope", 0)
        self.row(layer, self._leaky(slope, layer.line, "ReLU") if slope else Activation("relu"))

    def _leakyrelu(self, layer: Layer) -> None:
        slope = layer.kwargs.get("negative_slope", layer.kwargs.get("alpha", 0.3))
        self.row(layer, self._leaky(slope, layer.line, "LeakyReLU"))

    def _leaky(self, slope, line: int, what: str) -> Activation:
        if not (isinstance(slope, (int, float)) and 0 <= slope < 1):
            self.fail(line, "the slope below zero is a number from 0 to below 1")
        if abs(slope - LEAKY_SLOPE) > 1e-9:
            self.note(line, f"{what}'s slope {slope:g} below zero becomes the editor's leaky "
                            f"ReLU slope, {LEAKY_SLOPE:g} (the same shapes and parameters)")
        return Activation("leaky_relu")

    def _elu(self, layer: Layer) -> None:
        if layer.kwargs.get("alpha", 1.0) != 1.0:
            self.fail(layer.line, "the editor's ELU has alpha 1")
        self.row(layer, Activation("elu"))

    def _softmax(self, layer: Layer) -> None:
        if layer.kwargs.get("axis", -1) not in (-1, [-1]):
            self.fail(layer.line, "softmax over the last axis only")
        self.row(layer, Activation("softmax"))

    # ----- arguments --------------------------------------------------------------------

    def activation(self, value, line: int, required: bool = False) -> Activation | None:
        if isinstance(value, Ref):
            value = value.path.rsplit(".", 1)[-1]
        if value is None or value == "linear":
            if required and value is None:
                self.fail(line, "Activation needs the activation's name, e.g. 'relu'")
            return None
        if not isinstance(value, str) or value not in _ACTIVATIONS:
            self.fail(line, f"the activation {str(value)[:30]!r} is not one the lab's editor "
                            f"builds (it has {', '.join(_ACTIVATIONS)}, linear)")
        if value == "leaky_relu":
            return self._leaky(_KERAS_LEAKY[value], line, "leaky_relu")
        return Activation(_ACTIVATIONS[value])

    def whole(self, value, what: str, line: int, zero: bool = False) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if zero else 1):
            self.fail(line, f"{what} must be a whole number{'' if zero else ' above 0'}, got "
                            f"{str(value)[:30]}")
        return value

    def pair(self, value, what: str, line: int, zero: bool = False) -> tuple[int, int]:
        if isinstance(value, (tuple, list)) and len(value) == 2:
            return (self.whole(value[0], what, line, zero), self.whole(value[1], what, line, zero))
        number = self.whole(value, what, line, zero)
        return number, number

    def channels_last(self, kw: dict, line: int) -> None:
        if kw.get("data_format") not in (None, "channels_last"):
            self.fail(line, "cnnviz reads channels_last models (Keras's default)")


def to_architecture(model, reader, default_input: tuple, name: str) -> KerasReading:
    """The model read from the code -> its KerasReading (every layer checked, the first
    problem a KerasCodeError naming its line)."""
    conv = _Converter(reader)
    layers, shape = conv.input_shape(list(model.layers), default_input)
    conv.shape = shape
    for layer in layers:
        if isinstance(layer, Tensor):
            conv.fail(layer.line, "keras.Input comes first in a Sequential model")
        conv.layer(layer)
    if conv.pad is not None:
        conv.fail(conv.rows[-1].line, "a ZeroPadding2D is read only right before a Conv2D")
    if not conv.specs:
        raise KerasCodeError("the model has no layers the lab's editor builds")
    if len(conv.specs) > MAX_ARCH_LAYERS:
        conv.fail(conv.rows[-1].line, f"the model makes {len(conv.specs)} layers in the editor; "
                                      f"it holds at most {MAX_ARCH_LAYERS}")
    arch = Architecture(name=name, description=f"Read from Keras code ({model.style}).",
                        layers=tuple(conv.specs), input_shape=tuple(shape),
                        input_mean=conv.mean, input_std=conv.std)
    checks = check_layers(arch)
    where = {i: row.line for row in conv.rows for i in row.specs}
    for check in checks:
        if check.problem:
            conv.fail(where[check.index], check.problem.replace(
                f"(end with dense {CLASSES})", f"(end with Dense({CLASSES}))"))
    rows = tuple(_keras_row(row, checks, shape) for row in conv.rows)
    return KerasReading(arch, rows, tuple(reader.notes + conv.notes), model.style)


def _keras_row(row: _Row, checks, input_shape) -> KerasRow:
    if row.specs:
        out = checks[row.specs[-1]].output_shape
    elif row.keras_shape is not None:
        return KerasRow(row.line, row.name, row.kind, row.keras_shape, 0, 0, ())
    else:
        out = row.shape or input_shape
    keras = (out[1], out[2], out[0]) if len(out) == 3 else tuple(out)
    trainable = sum(checks[i].parameters for i in row.specs)
    return KerasRow(row.line, row.name, row.kind, keras, trainable + row.frozen, trainable,
                    tuple(row.specs))

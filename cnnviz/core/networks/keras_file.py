"""Keras model files, read without TensorFlow: Keras 3's `.keras` (a zip holding
`config.json` and `model.weights.h5`) and the legacy HDF5 `.h5` (`model_config` and
`model_weights`, from Keras 2 or Keras 3), with zip, JSON and h5py.

A model whose layers cnnviz's own layer specs can say is turned into a cnnviz Network
(an Architecture, with its sources when it is not one chain, and its weights), so every
view and saving in cnnviz's format work on it as on cnnviz's own networks:

- Conv2D (any stride, dilation, groups, with or without a bias, an activation) -> conv
  (+ activation); Keras's (height, width, in, out) kernels become torch's (out, in, height,
  width). 'same' padding pads as TensorFlow does: where it pads one more at the bottom and
  right, a pad layer comes first. DepthwiseConv2D -> a conv with one group per map;
  SeparableConv2D -> that, then a 1×1 conv.
- MaxPooling2D / AveragePooling2D (square, valid) -> pool; GlobalAverage/MaxPooling2D ->
  global pool; ZeroPadding2D -> pad; Flatten and Reshape keep Keras's channels-last order.
- Dense -> dense (+ activation); Dropout / SpatialDropout2D -> dropout;
  BatchNormalization -> bn with Keras's epsilon; Normalization -> normalize; Activation,
  ReLU, LeakyReLU (its slope), ELU, PReLU and Softmax layers; Add and Concatenate join
  branches (a residual network). InputLayer gives the input's shape; a Rescaling layer
  first (the model takes 0..255) becomes the network's input scaling, so it reads
  cnnviz's 0..1 pictures, and a Normalization layer first says by its mean which values
  the model was given.

Anything else is refused with the file's own layer name and type and the list of what is
read. Shapes in Keras are (height, width, channels); cnnviz's are (channels, height, width).
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np

from ..basics.files import zip_names
from ..basics.limits import MAX_ARCH_LAYERS
from .graph_builder import GraphBuilder
from .hdf5_reader import HDF5_MAGIC
from .input_scale import FROM_FILE

__all__ = ["HDF5_MAGIC", "KerasFileError", "SUPPORTED_LAYERS", "is_hdf5", "is_keras_zip",
           "keras_zip_names", "read_keras"]

SUPPORTED_LAYERS = ("InputLayer", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D",
                    "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
                    "ZeroPadding2D", "Flatten", "Reshape", "Dense", "Dropout", "SpatialDropout2D",
                    "BatchNormalization", "Normalization", "Rescaling", "Activation", "ReLU",
                    "LeakyReLU", "PReLU", "ELU", "Softmax", "Add", "Concatenate")
_ACTIVATION_LAYERS = ("Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax")
# Keras's activation names -> cnnviz's
_ACTIVATIONS = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "elu": "elu",
                "softmax": "softmax", "gelu": "gelu", "swish": "swish", "silu": "swish",
                "leaky_relu": "leaky_relu"}
_MAX_CONFIG_BYTES = 5_000_000


class KerasFileError(ValueError):
    """A Keras file cnnviz cannot read; the message says why in plain words."""


def keras_zip_names(names: list[str]) -> bool:
    """A Keras 3 .keras file, by the names in its zip (cnnviz.core.basics.files.zip_names)."""
    return "config.json" in names


def is_keras_zip(raw: bytes) -> bool:
    return keras_zip_names(zip_names(raw))


def is_hdf5(raw: bytes) -> bool:
    return raw[:8] == HDF5_MAGIC


# ----- reading the file: (config, weights by layer) ------------------------------------------


def _h5(raw: bytes):
    """HDF5 bytes -> their datasets and attributes, read in a child process (a damaged or
    hostile file cannot take cnnviz down with it)."""
    from .hdf5_reader import HDF5Error, read_hdf5

    try:
        return read_hdf5(raw)
    except HDF5Error as exc:
        raise KerasFileError(str(exc)) from None


def _read_zip(raw: bytes) -> tuple[dict, list[list[np.ndarray]], str]:
    """Keras 3: config.json, and model.weights.h5's layers/<path>/vars/<i>, in layer order."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            names = set(z.namelist())
            if "model.weights.h5" not in names:
                raise KerasFileError("the .keras file has no model.weights.h5 (no weights)")
            for name in ("config.json", "model.weights.h5", "metadata.json"):
                if name in names and z.getinfo(name).file_size > 500_000_000:
                    raise KerasFileError(f"its {name} is larger than cnnviz opens")
            if z.getinfo("config.json").file_size > _MAX_CONFIG_BYTES:
                raise KerasFileError("its config.json is too large to be a model's")
            config = _json(z.read("config.json"), "config.json")
            version = ""
            if "metadata.json" in names and z.getinfo("metadata.json").file_size < 100_000:
                meta = _json(z.read("metadata.json"), "metadata.json")
                version = str(meta.get("keras_version", ""))[:20] if isinstance(meta, dict) else ""
            weights_raw = z.read("model.weights.h5")
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise KerasFileError(f"the .keras file is not a valid zip ({exc})") from None
    contents = _h5(weights_raw)
    by_path: dict[str, dict[int, np.ndarray]] = {}
    for path, value in contents.datasets.items():  # layers/<key>/vars/<i>
        parts = path.split("/")
        if len(parts) == 4 and parts[0] == "layers" and parts[2] == "vars" and parts[3].isdigit():
            by_path.setdefault(parts[1], {})[int(parts[3])] = value
    in_order = {key: [found[i] for i in range(len(found)) if i in found]
                for key, found in by_path.items()}
    return config, _zip_weights_in_order(config, in_order), f"Keras {version}".strip()


def _zip_weights_in_order(config: dict, by_path: dict) -> list[list[np.ndarray]]:
    """Keras 3 stores each layer's variables under a path made from its class name
    (conv2d, conv2d_1, dense, ...), numbered in the order the layers come."""
    layers = _layer_list(config)
    seen: dict[str, int] = {}
    out = []
    for layer in layers:
        base = _snake(layer.get("class_name", ""))
        n = seen.get(base, 0)
        seen[base] = n + 1
        key = base if n == 0 else f"{base}_{n}"
        name = (layer.get("config") or {}).get("name")
        out.append(by_path.get(key, by_path.get(name, [])))
    return out


def _snake(name: str) -> str:
    """Keras's own rule for the paths (keras.src.utils.naming.to_snake_case):
    Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, BatchNormalization -> batch_normalization."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _read_h5(raw: bytes) -> tuple[dict, list[list[np.ndarray]], str]:
    """Legacy HDF5: attrs model_config (JSON), model_weights/<layer>/ with weight_names."""
    contents = _h5(raw)
    text = contents.attr("", "model_config")
    if text is None:
        raise KerasFileError("this HDF5 file holds no Keras model (no model_config: "
                             "only weights, saved with save_weights?)")
    if len(text) > _MAX_CONFIG_BYTES:
        raise KerasFileError("its model_config is too large to be a model's")
    config = _json(text, "model_config")
    version = contents.attr("", "keras_version") or ""
    root = "model_weights" if contents.group("model_weights") else ""
    out = []
    for layer in _layer_list(config):
        name = (layer.get("config") or {}).get("name")
        group = f"{root}/{name}".strip("/") if isinstance(name, str) else None
        names = _json(contents.attr(group, "weight_names") or "[]", "weight_names") \
            if group else []
        values = []
        for w in names if isinstance(names, list) else []:
            value = contents.datasets.get(f"{group}/{w}")
            if value is None:
                raise KerasFileError(f"layer {str(name)[:60]!r}: its weight {str(w)[:60]!r} is "
                                     "missing from the file")
            values.append(value)
        out.append(values)
    return config, out, f"Keras {version}".strip()


def _json(text, what: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise KerasFileError(f"its {what} is not valid JSON") from None


def _layer_list(config) -> list[dict]:
    """The layers of a Sequential or Functional model, in the file's order (Keras lists a
    Functional model's layers so that each comes after those it reads)."""
    if not isinstance(config, dict):
        raise KerasFileError("its model description is not a Keras model")
    kind = config.get("class_name")
    inner = config.get("config") or {}
    if kind not in ("Sequential", "Functional", "Model"):
        raise KerasFileError(f"cnnviz reads Sequential and Functional Keras models, not "
                             f"{str(kind)[:40]!r}")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list) or not layers:
        raise KerasFileError("the model has no layers")
    if len(layers) > MAX_ARCH_LAYERS:
        raise KerasFileError(f"the model has {len(layers)} layers; cnnviz reads up to "
                             f"{MAX_ARCH_LAYERS}")
    return [x for x in layers if isinstance(x, dict)]


def _is_graph(config: dict) -> bool:
    return config.get("class_name") != "Sequential"


def _sources_of(layer: dict) -> list[str]:
    """The names of the layers a Functional layer reads, in order: Keras 3 marks each input
    tensor with keras_history [layer, node, tensor]; Keras 2 lists [layer, node, tensor,
    kwargs] in each inbound node."""
    inbound = layer.get("inbound_nodes") or []
    name = (layer.get("config") or {}).get("name", "?")
    if not isinstance(inbound, list) or len(inbound) > 1:
        raise KerasFileError(f"layer {str(name)[:60]!r} is used more than once (a shared "
                             "layer); cnnviz shows layers that are used once")
    if not inbound:
        return []
    node = inbound[0]
    found: list[str] = []
    if isinstance(node, list):  # Keras 2
        for entry in node:
            if isinstance(entry, list) and entry and isinstance(entry[0], str):
                found.append(entry[0])
        return found

    def walk(value, depth: int = 0) -> None:
        if depth > 20:
            return
        if isinstance(value, dict):
            history = value.get("keras_history")
            if isinstance(history, list) and history and isinstance(history[0], str):
                found.append(history[0])
                return
            for v in value.values():
                walk(v, depth + 1)
        elif isinstance(value, list):
            for v in value:
                walk(v, depth + 1)

    walk(node.get("args") if isinstance(node, dict) else None)
    return found


def _output_names(config: dict) -> list[str]:
    """A Functional model's output layers: [name, node, tensor] or a list of them."""
    out = (config.get("config") or {}).get("output_layers")
    if isinstance(out, list) and out and isinstance(out[0], str):
        return [out[0]]
    if isinstance(out, list):
        return [o[0] for o in out if isinstance(o, list) and o and isinstance(o[0], str)]
    return []


# ----- Keras layers -> cnnviz layer specs and torch tensors ----------------------------------


def _pair(value, what: str) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    raise KerasFileError(f"{what} must be one or two whole numbers, got {value!r:.40}")


def _input_shape(layers: list[dict], config: dict) -> tuple[int, int, int]:
    for layer in layers:
        c = layer.get("config") or {}
        shape = c.get("batch_shape") or c.get("batch_input_shape")
        if shape:
            break
    else:
        shape = ((config.get("build_config") or {}).get("input_shape")
                 or (config.get("config") or {}).get("build_input_shape"))
    if not (isinstance(shape, list) and len(shape) == 4
            and all(isinstance(v, int) and v > 0 for v in shape[1:])):
        raise KerasFileError(f"the model's input must be (height, width, channels) images; "
                             f"its input shape is {shape!r:.60}")
    h, w, c = shape[1:]
    return c, h, w


class _Builder(GraphBuilder):
    """Walks the Keras layers in order, adding cnnviz specs (GraphBuilder) for each."""

    def __init__(self, input_shape: tuple[int, int, int], graph: bool):
        super().__init__(input_shape, KerasFileError)
        self.graph = graph
        self.produced: dict[str, int] = {}  # Keras layer name -> the output it ends in
        self.input_mean, self.input_std = 0.0, 1.0
        self.rescaling: str | None = None  # the Rescaling layer folded into the input
        self.input_said: tuple[str, str] | None = None  # (scale, why) when the file says

    def activation(self, name, keras_name: str, where: str) -> None:
        from .layers import Activation

        if name in (None, "linear"):
            return
        if not isinstance(name, str) or name not in _ACTIVATIONS:
            raise KerasFileError(f"layer {keras_name!r} ({where}): the activation {name!r:.30} "
                                 f"is not one cnnviz shows (it has "
                                 f"{', '.join(_ACTIVATIONS)})")
        slope = _KERAS_LEAKY_SLOPE if name == "leaky_relu" else None
        self.add(Activation(_ACTIVATIONS[name], **({"slope": slope} if slope else {})), None,
                 keras_name)

    def read_from(self, layer: dict, name: str, kind: str) -> tuple[int, ...] | None:
        """Point the builder at what a Functional layer reads; the outputs, for a layer that
        joins several (None in a Sequential model: it reads the layer before)."""
        if not self.graph:
            return None
        names = _sources_of(layer)
        if not names:
            if kind == "InputLayer":
                return None
            raise KerasFileError(f"layer {name!r} ({kind}) reads nothing the file names")
        missing = [n for n in names if n not in self.produced]
        if missing:
            raise KerasFileError(f"layer {name!r} ({kind}) reads {str(missing[0])[:60]!r}, "
                                 "which does not come before it in the file")
        outputs = tuple(self.produced[n] for n in names)
        if len(outputs) == 1:
            self.tip = outputs[0]
            return None
        return outputs

    def layer(self, index: int, layer: dict, weights: list[np.ndarray]) -> None:

        kind = layer.get("class_name")
        c = layer.get("config") or {}
        name = str(c.get("name", f"layer {index + 1}"))[:60]
        joined = self.read_from(layer, name, str(kind)[:40])
        if joined is not None and kind not in ("Add", "Concatenate"):
            raise KerasFileError(f"layer {name!r} ({str(kind)[:40]}) reads several layers; "
                                 "cnnviz joins them with Add and Concatenate")
        self._one(kind, name, c, weights, joined)
        self.produced[name] = self.tip

    def _one(self, kind, name: str, c: dict, weights: list[np.ndarray], joined) -> None:
        from .layers import Add, Concat, Dropout, Flatten, GlobalPool, Pad, Pool

        if kind == "InputLayer":
            self.tip = 0
            return
        if kind == "Rescaling":
            self._rescaling(name, c)
            return
        if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
            self._conv(kind, name, c, weights)
            return
        if kind in ("MaxPooling2D", "AveragePooling2D"):
            size = _pair(c.get("pool_size", 2), "pool_size")
            stride = _pair(c.get("strides") or size, "strides")
            if size[0] != size[1] or stride[0] != stride[1]:
                raise KerasFileError(f"layer {name!r} ({kind}): cnnviz pools with square "
                                     f"windows; this one is {size[0]}×{size[1]}, stride {stride}")
            if c.get("padding", "valid") != "valid":
                raise KerasFileError(f"layer {name!r} ({kind}): 'same' padding in pooling is "
                                     "not read yet (valid is)")
            self.add(Pool("max" if kind == "MaxPooling2D" else "avg", size[0], stride[0]), None,
                     name)
            return
        if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            if c.get("keepdims"):
                raise KerasFileError(f"layer {name!r} ({kind}): keepdims=True is not read "
                                     "(the usual keepdims=False is)")
            self.add(GlobalPool("max" if "Max" in kind else "avg"), None, name)
            return
        if kind == "ZeroPadding2D":
            (top, bottom), (left, right) = _padding_sides(c.get("padding", 1), name)
            self.add(Pad(top, bottom, left, right), None, name)
            return
        if kind == "Flatten":
            self.add(Flatten(order="hwc"), None, name)  # Keras flattens channels-last
            return
        if kind == "Reshape":
            self.add(_reshape(c.get("target_shape"), self.shape, name), None, name)
            return
        if kind == "Dense":
            self._dense(name, c, weights)
            return
        if kind in ("Dropout", "SpatialDropout2D"):
            rate = c.get("rate", 0.5)
            if not (isinstance(rate, (int, float)) and 0 <= rate < 1):
                raise KerasFileError(f"layer {name!r} ({kind}): rate must be in [0, 1)")
            self.add(Dropout(float(rate)), None, name)
            return
        if kind == "BatchNormalization":
            self._batch_norm(name, c, weights)
            return
        if kind == "Normalization":
            self._normalization(name, c, weights)
            return
        if kind in ("Add", "Concatenate"):
            if joined is None:
                raise KerasFileError(f"layer {name!r} ({kind}) needs two or more inputs")
            axis = c.get("axis", -1)
            if kind == "Concatenate" and axis not in (-1, len(self.shapes[joined[0]])):
                raise KerasFileError(f"layer {name!r} (Concatenate): cnnviz joins along the "
                                     f"channels (axis -1), not axis {axis!r:.10}")
            self.add(Add() if kind == "Add" else Concat(), None, name, joined)
            return
        if kind in _ACTIVATION_LAYERS:
            self._activation_layer(kind, name, c, weights)
            return
        raise KerasFileError(f"layer {name!r} is a {str(kind)[:40]}, which cnnviz does not "
                             f"read yet; it reads {', '.join(SUPPORTED_LAYERS)}")

    def _rescaling(self, name: str, c: dict) -> None:
        scale, offset = c.get("scale", 1.0), c.get("offset", 0.0)
        if not (not self.specs and self.tip == 0 and isinstance(scale, (int, float))
                and isinstance(offset, (int, float)) and scale > 0 and math.isfinite(scale)
                and math.isfinite(offset)):
            raise KerasFileError(f"layer {name!r} (Rescaling): cnnviz reads a Rescaling "
                                 "layer only as the first layer, with one scale and offset")
        # The file takes 0..255 pictures: x255 * scale + offset = x01 * 255 * scale + offset
        # = (x01 − mean) / std with std = 1 / (255 scale), mean = −offset · std.
        self.input_std = 1.0 / (255.0 * scale)
        self.input_mean = -offset * self.input_std
        self.rescaling = name
        self.input_said = ("0-255", f"{FROM_FILE} (a Rescaling layer inside)")

    def _activation_layer(self, kind: str, name: str, c: dict, weights) -> None:
        from .layers import Activation, PReLU

        if kind == "Activation":
            self.activation(c.get("activation"), name, kind)
        elif kind == "ReLU":
            slope = c.get("negative_slope") or 0
            if c.get("max_value") is not None or (c.get("threshold") or 0) != 0:
                raise KerasFileError(f"layer {name!r} (ReLU): a capped or shifted ReLU is not "
                                     "one cnnviz shows")
            if slope:
                self.add(Activation("leaky_relu", slope=_slope(slope, name)), None, name)
            else:
                self.activation("relu", name, kind)
        elif kind == "LeakyReLU":
            slope = c.get("negative_slope", c.get("alpha", 0.3))  # Keras 3, Keras 2
            self.add(Activation("leaky_relu", slope=_slope(slope, name)), None, name)
        elif kind == "ELU":
            if c.get("alpha", 1.0) != 1.0:
                raise KerasFileError(f"layer {name!r} (ELU): cnnviz shows ELU with alpha 1")
            self.activation("elu", name, kind)
        elif kind == "Softmax":
            if c.get("axis", -1) not in (-1, [-1]):
                raise KerasFileError(f"layer {name!r} (Softmax): only over the last axis")
            self.activation("softmax", name, kind)
        elif kind == "PReLU":
            shared = c.get("shared_axes")
            shared = sorted(shared) if isinstance(shared, list) else \
                ([shared] if isinstance(shared, int) else [])
            maps = len(self.shape) == 3
            kinds = {(): "each", (1, 2): "channel", (1, 2, 3): "one"} if maps else \
                {(): "each", (1,): "one"}
            if tuple(shared) not in kinds:
                raise KerasFileError(f"layer {name!r} (PReLU): slopes shared over axes "
                                     f"{shared} are not read (none, [1, 2] or [1, 2, 3] are)")
            spec = PReLU(kinds[tuple(shared)])
            want = spec.slope_shape(self.shape)
            alpha = _take(weights, 0, None, name)
            if alpha.size != int(np.prod(want)):
                raise KerasFileError(f"layer {name!r} (PReLU): its slopes have shape "
                                     f"{alpha.shape}, the layer needs {int(np.prod(want))}")
            if spec.slopes == "each" and maps:
                alpha = alpha.reshape(self.shape[1], self.shape[2], self.shape[0]).transpose(2, 0, 1)
            self.add(spec, {"weight": alpha.reshape(want)}, name)

    def _same_padding(self, name: str, kind: str, reach, stride) -> tuple[int, int]:
        """'same' padding as Keras (TensorFlow) pads: half the total on top and left, the
        rest below and right. Even: the conv pads; uneven: a Pad layer first."""
        from .layers import Pad

        sides = []
        for n, k, s in zip(self.shape[1:], reach, stride):
            total = max((math.ceil(n / s) - 1) * s + k - n, 0)
            sides.append((total // 2, total - total // 2))
        if all(a == b for a, b in sides):
            return sides[0][0], sides[1][0]
        self.add(Pad(sides[0][0], sides[0][1], sides[1][0], sides[1][1]), None, name)
        return 0, 0

    def _conv(self, kind: str, name: str, c: dict, weights: list[np.ndarray]) -> None:
        from .layers import Conv

        if c.get("data_format", "channels_last") not in ("channels_last", None):
            raise KerasFileError(f"layer {name!r} ({kind}): only channels_last is read")
        if len(self.shape) != 3:
            raise KerasFileError(f"layer {name!r} ({kind}) needs feature maps")
        kernel = _pair(c.get("kernel_size"), "kernel_size")
        stride = _pair(c.get("strides", 1), "strides")
        dilation = _pair(c.get("dilation_rate", 1), "dilation_rate")
        reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        c_in = self.shape[0]
        padding = (0, 0)
        if c.get("padding") == "same":
            padding = self._same_padding(name, kind, reach, stride)
        elif c.get("padding", "valid") != "valid":
            raise KerasFileError(f"layer {name!r} ({kind}): padding {c.get('padding')!r:.20}")
        use_bias = bool(c.get("use_bias", True))
        if kind == "Conv2D":
            filters, groups = c.get("filters"), c.get("groups", 1)
            if not isinstance(filters, int) or filters < 1 or not isinstance(groups, int) \
                    or groups < 1 or c_in % groups:
                raise KerasFileError(f"layer {name!r} (Conv2D): bad filters or groups")
            w = _take(weights, 0, (kernel[0], kernel[1], c_in // groups, filters), name)
            tensors = {"weight": w.transpose(3, 2, 0, 1)}
            if use_bias:
                tensors["bias"] = _take(weights, 1, (filters,), name)
            self.add(Conv(filters, kernel, stride, padding, use_bias, groups=groups,
                          dilation=dilation), tensors, name)
        else:
            multiplier = c.get("depth_multiplier", 1)
            if not isinstance(multiplier, int) or multiplier < 1:
                raise KerasFileError(f"layer {name!r} ({kind}): bad depth_multiplier")
            depth = c_in * multiplier
            w = _take(weights, 0, (kernel[0], kernel[1], c_in, multiplier), name)
            # Keras's output channel c·multiplier + m is filter m of input map c: torch's
            # grouped order, one group per map.
            tensors = {"weight": w.reshape(kernel[0], kernel[1], depth).transpose(2, 0, 1)[:, None]}
            separable = kind == "SeparableConv2D"
            if use_bias and not separable:
                tensors["bias"] = _take(weights, 1, (depth,), name)
            self.add(Conv(depth, kernel, stride, padding, use_bias and not separable,
                          groups=c_in, dilation=dilation), tensors, name)
            if separable:  # then a 1×1 convolution mixes the maps
                filters = c.get("filters")
                if not isinstance(filters, int) or filters < 1:
                    raise KerasFileError(f"layer {name!r} ({kind}): bad filter count")
                pointwise = _take(weights, 1, (1, 1, depth, filters), name)
                tensors = {"weight": pointwise.transpose(3, 2, 0, 1)}
                if use_bias:
                    tensors["bias"] = _take(weights, 2, (filters,), name)
                self.add(Conv(filters, (1, 1), bias=use_bias), tensors, name)
        self.activation(c.get("activation"), name, kind)

    def _dense(self, name: str, c: dict, weights: list[np.ndarray]) -> None:
        from .layers import Dense

        if len(self.shape) != 1:
            raise KerasFileError(f"layer {name!r} (Dense) is applied to feature maps "
                                 f"{self.shape}; cnnviz reads Dense after Flatten or global "
                                 "pooling")
        units = c.get("units")
        if not isinstance(units, int) or units < 1:
            raise KerasFileError(f"layer {name!r} (Dense): bad unit count {units!r:.20}")
        kernel = _take(weights, 0, (self.shape[0], units), name)
        bias = (_take(weights, 1, (units,), name) if c.get("use_bias", True)
                else np.zeros(units, np.float32))
        self.add(Dense(units), {"weight": kernel.T, "bias": bias}, name)
        self.activation(c.get("activation"), name, "Dense")

    def _channel_axis(self, name: str, kind: str, axis) -> None:
        if axis not in (-1, [-1], len(self.shape), [len(self.shape)]):
            raise KerasFileError(f"layer {name!r} ({kind}): only the channel axis is read "
                                 f"(axis {axis!r:.20})")

    def _batch_norm(self, name: str, c: dict, weights: list[np.ndarray]) -> None:
        from .layers import BatchNorm

        self._channel_axis(name, "BatchNormalization", c.get("axis", -1))
        n = self.shape[0]
        eps = c.get("epsilon", 1e-3)
        i = 0
        gamma = _take(weights, i, (n,), name) if c.get("scale", True) else np.ones(n, np.float32)
        i += bool(c.get("scale", True))
        beta = _take(weights, i, (n,), name) if c.get("center", True) else np.zeros(n, np.float32)
        i += bool(c.get("center", True))
        mean, var = _take(weights, i, (n,), name), _take(weights, i + 1, (n,), name)
        if not (isinstance(eps, (int, float)) and 0 < eps < 1):
            raise KerasFileError(f"layer {name!r} (BatchNormalization): bad epsilon")
        self.add(BatchNorm(eps=float(eps)),
                 {"weight": gamma, "bias": beta, "running_mean": mean, "running_var": var}, name)

    def _normalization(self, name: str, c: dict, weights: list[np.ndarray]) -> None:
        from .layers import Normalize

        self._channel_axis(name, "Normalization", c.get("axis", -1))
        if c.get("invert"):
            raise KerasFileError(f"layer {name!r} (Normalization): invert=True is not read")
        n = self.shape[0]
        if c.get("mean") is not None:  # given in the config instead of adapted
            mean = _numbers(c.get("mean"), n, name)
            variance = _numbers(c.get("variance"), n, name)
        else:
            mean = _take(weights, 0, None, name).reshape(-1)
            variance = _take(weights, 1, None, name).reshape(-1)
            if mean.size == 1:
                mean, variance = np.repeat(mean, n), np.repeat(variance, n)
            if mean.size != n or variance.size != n or (variance < 0).any():
                raise KerasFileError(f"layer {name!r} (Normalization): its mean and variance "
                                     f"do not fit the {n} channels")
        shape = (n,) + (1,) * (len(self.shape) - 1)
        first = not self.specs and self.tip == 0
        self.add(Normalize(), {"mean": mean.reshape(shape), "variance": variance.reshape(shape)},
                 name)
        if first:  # the mean it subtracts says which values the model was given
            top = float(mean.max())
            if top > 1.5:
                self.input_std = 1.0 / 255.0
            units = "0..255" if top > 1.5 else "0..1"
            self.input_said = ("0-255" if top > 1.5 else "0-1",
                               f"{FROM_FILE} (its Normalization layer's mean, {top:.3g}, "
                               f"is in {units} units)")


_KERAS_LEAKY_SLOPE = 0.2  # keras.activations.leaky_relu's default


def _slope(value, name: str) -> float:
    if not (isinstance(value, (int, float)) and 0 <= value < 1):
        raise KerasFileError(f"layer {name!r}: a leaky ReLU slope from 0 to below 1 is read, "
                             f"not {value!r:.20}")
    return float(np.float32(value))  # as Keras stores it (0.2 is 0.2000000029...)


def _numbers(value, n: int, name: str) -> np.ndarray:
    a = np.asarray(value if isinstance(value, list) else [value], dtype=object).reshape(-1)
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in a):
        raise KerasFileError(f"layer {name!r}: its mean and variance must be numbers")
    a = a.astype(np.float32)
    return np.repeat(a, n) if a.size == 1 else a


def _padding_sides(value, name: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """ZeroPadding2D's padding: n, (rows, columns) or ((top, bottom), (left, right))."""
    if isinstance(value, int):
        return (value, value), (value, value)
    if isinstance(value, list) and len(value) == 2:
        if all(isinstance(v, int) for v in value):
            return (value[0], value[0]), (value[1], value[1])
        if all(isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) for x in v)
               for v in value):
            return (value[0][0], value[0][1]), (value[1][0], value[1][1])
    raise KerasFileError(f"layer {name!r} (ZeroPadding2D): padding {value!r:.40} is not read")


def _reshape(target, in_shape: tuple[int, ...], name: str):
    """Keras's target_shape (channels-last, one entry may be -1) -> a cnnviz Reshape."""
    from .layers import Reshape

    if not (isinstance(target, list) and len(target) in (1, 3)
            and all(isinstance(v, int) and (v > 0 or v == -1) for v in target)
            and target.count(-1) <= 1):
        raise KerasFileError(f"layer {name!r} (Reshape): cnnviz reads a reshape to "
                             f"(height, width, channels) or to N numbers, not {target!r:.40}")
    total, known = int(np.prod(in_shape)), int(np.prod([v for v in target if v != -1]))
    if -1 in target:
        if known == 0 or total % known:
            raise KerasFileError(f"layer {name!r} (Reshape): {total} numbers do not fit {target}")
        target = [total // known if v == -1 else v for v in target]
    shape = (target[2], target[0], target[1]) if len(target) == 3 else (target[0],)
    return Reshape(shape)


def _take(weights: list[np.ndarray], i: int, shape: tuple[int, ...] | None,
          name: str) -> np.ndarray:
    """Weight i of a layer, checked: its shape (when given), finite floating-point numbers."""
    if i >= len(weights):
        raise KerasFileError(f"layer {name!r}: its weights are missing from the file")
    a = np.asarray(weights[i])
    if shape is not None and tuple(a.shape) != tuple(shape):
        raise KerasFileError(f"layer {name!r}: a weight has shape {tuple(a.shape)}, the layer "
                             f"needs {tuple(shape)}")
    if not np.issubdtype(a.dtype, np.floating) or not np.isfinite(a).all():
        raise KerasFileError(f"layer {name!r}: its weights are not finite numbers")
    return a.astype(np.float32)


def read_keras(raw: bytes, path: Path | None = None):
    """A .keras or .h5 file's bytes -> a cnnviz LoadedModel; KerasFileError in words."""
    from ..datasets.data import DATASETS
    from .card import read_card
    from .weights import LoadedModel

    if raw[:2] == b"PK":  # a zip (a damaged one says so in _read_zip)
        config, weights, made_with = _read_zip(raw)
    elif is_hdf5(raw):
        config, weights, made_with = _read_h5(raw)
    else:
        raise KerasFileError("not a Keras file (neither a .keras zip nor an HDF5 .h5)")
    layers = _layer_list(config)
    input_shape = _input_shape(layers, config)
    graph = _is_graph(config)
    if graph and sum(x.get("class_name") == "InputLayer" for x in layers) > 1:
        raise KerasFileError("the model has several inputs; cnnviz shows models with one")
    builder = _Builder(input_shape, graph)
    for i, (layer, values) in enumerate(zip(layers, weights)):
        builder.layer(i, layer, values)
    if graph:
        outputs = _output_names(config)
        last = (layers[-1].get("config") or {}).get("name")
        if len(outputs) != 1 or outputs[0] != last:
            raise KerasFileError(f"cnnviz shows models with one output, their last layer; "
                                 f"this one's outputs are {', '.join(map(str, outputs))[:80]}")
        if builder.specs and builder.tip != len(builder.specs):
            raise KerasFileError("the model's last layer computes nothing cnnviz shows")
    stem = path.stem if path is not None else "keras model"
    name = str((config.get("config") or {}).get("name") or stem)[:60]
    net = builder.network(name, f"{name}, a Keras model ({made_with})", builder.input_mean,
                          builder.input_std)
    # cnnviz layer -> the Keras layer it came from (a Rescaling layer is the input's scaling)
    keras_layers = {"input": builder.rescaling} if builder.rescaling else {}
    keras_layers.update(zip([i.name for i in net.layer_infos], builder.names))
    facts = {"model_name": stem, "made_with": made_with, "keras_layers": keras_layers}
    if builder.input_said:
        facts.update(input_scale=builder.input_said[0], input_scale_source=builder.input_said[1])
    card = read_card(facts, int(np.prod(net.layer_infos[-1].output_shape)), DATASETS)
    net.card = card
    net.eval()
    from .input_scale import settle

    return settle(LoadedModel(net, card, path))


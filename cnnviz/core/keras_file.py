"""Keras model files, read without TensorFlow: Keras 3's `.keras` (a zip holding
`config.json` and `model.weights.h5`) and the legacy HDF5 `.h5` (`model_config` and
`model_weights`, from Keras 2 or Keras 3), with zip, JSON and h5py.

A model whose layers cnnviz's own layer specs can say is turned into a cnnviz Network
(an Architecture and its weights), so every view, the editor's summary and saving in
cnnviz's format work on it as on cnnviz's own networks:

- Conv2D (valid padding, or 'same' where it pads evenly; any stride; no dilation or
  groups; with or without a bias, any of the activations below) -> conv (+ activation);
  Keras's (height, width, in, out) kernels become torch's (out, in, height, width).
- MaxPooling2D / AveragePooling2D (square, valid) -> pool; Flatten -> flatten, and the
  Dense after it gets its rows reordered: Keras flattened channels-last (h, w, c), cnnviz
  flattens channels-first (c, h, w).
- Dense -> dense (+ activation); Dropout / SpatialDropout2D -> dropout;
  BatchNormalization -> bn with Keras's epsilon; Activation, ReLU and Softmax layers ->
  the activation; InputLayer gives the input's shape; a Rescaling layer first (the model
  takes 0..255) becomes the network's input scaling, so it reads cnnviz's 0..1 pictures.

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

from .limits import MAX_ARCH_LAYERS

__all__ = ["KerasFileError", "SUPPORTED_LAYERS", "is_hdf5", "is_keras_zip", "read_keras"]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
SUPPORTED_LAYERS = ("InputLayer", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten",
                    "Dense", "Dropout", "SpatialDropout2D", "BatchNormalization", "Activation",
                    "ReLU", "Softmax", "Rescaling")
_ACTIVATIONS = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "elu": "elu",
                "softmax": "softmax"}
_MAX_CONFIG_BYTES = 5_000_000


class KerasFileError(ValueError):
    """A Keras file cnnviz cannot read; the message says why in plain words."""


def is_keras_zip(raw: bytes) -> bool:
    if raw[:2] != b"PK":
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return "config.json" in z.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def is_hdf5(raw: bytes) -> bool:
    return raw[:8] == HDF5_MAGIC


# ----- reading the file: (config, weights by layer) ------------------------------------------


def _h5(raw: bytes):
    import h5py

    try:
        return h5py.File(io.BytesIO(raw), "r")
    except (OSError, ValueError) as exc:
        raise KerasFileError(f"the HDF5 data is damaged ({exc})") from None


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
    with _h5(weights_raw) as f:
        groups = f.get("layers")
        by_path = {}
        if groups is not None:
            for key in groups:
                vars_ = groups[key].get("vars")
                by_path[key] = [np.asarray(vars_[str(i)]) for i in range(len(vars_))] \
                    if vars_ is not None else []
    return config, _zip_weights_in_order(config, by_path), f"Keras {version}".strip()


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
    with _h5(raw) as f:
        text = f.attrs.get("model_config")
        if text is None:
            raise KerasFileError("this HDF5 file holds no Keras model (no model_config: "
                                 "only weights, saved with save_weights?)")
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if len(text) > _MAX_CONFIG_BYTES:
            raise KerasFileError("its model_config is too large to be a model's")
        config = _json(text, "model_config")
        version = f.attrs.get("keras_version", b"")
        version = version.decode() if isinstance(version, bytes) else str(version)
        group = f.get("model_weights", f)
        out = []
        for layer in _layer_list(config):
            name = (layer.get("config") or {}).get("name")
            g = group.get(name) if isinstance(name, str) else None
            names = g.attrs.get("weight_names", []) if g is not None else []
            values = []
            for w in names:
                w = w.decode() if isinstance(w, bytes) else str(w)
                values.append(np.asarray(g[w]))
            out.append(values)
    return config, out, f"Keras {version}".strip()


def _json(text, what: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise KerasFileError(f"its {what} is not valid JSON") from None


def _layer_list(config) -> list[dict]:
    """The layers of a Sequential model, or of a Functional one that is a plain chain."""
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
    if kind != "Sequential":
        for layer in layers:
            if _inputs_of(layer) > 1:
                name = (layer.get("config") or {}).get("name", "?")
                raise KerasFileError(f"layer {name!r} ({layer.get('class_name')}) joins "
                                     "several layers (a residual or branching network); "
                                     "cnnviz reads networks that are one chain of layers")
    return [x for x in layers if isinstance(x, dict)]


def _inputs_of(layer: dict) -> int:
    """How many tensors a Functional layer takes: Keras 3 marks each with keras_history,
    Keras 2 lists them as [layer name, node, tensor, kwargs] in each inbound node."""
    inbound = layer.get("inbound_nodes") or []
    keras2 = max((len(node) for node in inbound
                  if isinstance(node, list) and node and isinstance(node[0], list)), default=0)
    return max(json.dumps(inbound).count("keras_history"), keras2)


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


class _Builder:
    """Walks the Keras layers in order, making cnnviz specs and their torch tensors."""

    def __init__(self, input_shape: tuple[int, int, int]):
        self.shape: tuple[int, ...] = input_shape  # (C, H, W) or (N,)
        self.specs: list = []
        self.tensors: list[dict] = []  # per spec: torch-layout arrays by parameter name
        self.keras_names: list[str] = []  # per spec: the Keras layer it came from
        self.flattened_from: tuple[int, int, int] | None = None  # a channels-last Flatten
        self.input_mean, self.input_std = 0.0, 1.0
        self.rescaling: str | None = None  # the Rescaling layer folded into the input

    def add(self, spec, tensors: dict | None, keras_name: str) -> None:
        from .layers import LayerError

        try:
            out = spec.output_shape(self.shape)
        except LayerError as exc:
            raise KerasFileError(f"layer {keras_name!r}: {exc}") from None
        self.specs.append(spec)
        self.tensors.append(tensors or {})
        self.keras_names.append(keras_name)
        self.shape = tuple(out)

    def activation(self, name, keras_name: str, where: str) -> None:
        from .layers import Activation

        if name in (None, "linear"):
            return
        if not isinstance(name, str) or name not in _ACTIVATIONS:
            raise KerasFileError(f"layer {keras_name!r} ({where}): the activation {name!r:.30} "
                                 f"is not one cnnviz shows (it has "
                                 f"{', '.join(_ACTIVATIONS)})")
        self.add(Activation(_ACTIVATIONS[name]), None, keras_name)

    def layer(self, index: int, layer: dict, weights: list[np.ndarray], first: bool) -> None:
        from .layers import Dropout, Flatten, Pool

        kind = layer.get("class_name")
        c = layer.get("config") or {}
        name = str(c.get("name", f"layer {index + 1}"))[:60]
        if kind == "InputLayer":
            return
        if kind == "Rescaling":
            scale, offset = c.get("scale", 1.0), c.get("offset", 0.0)
            if not (first and isinstance(scale, (int, float)) and isinstance(offset, (int, float))
                    and scale > 0 and math.isfinite(scale) and math.isfinite(offset)):
                raise KerasFileError(f"layer {name!r} (Rescaling): cnnviz reads a Rescaling "
                                     "layer only as the first layer, with one scale and offset")
            # The file takes 0..255 pictures: x255 * scale + offset = x01 * 255 * scale + offset
            # = (x01 − mean) / std with std = 1 / (255 scale), mean = −offset · std.
            self.input_std = 1.0 / (255.0 * scale)
            self.input_mean = -offset * self.input_std
            self.rescaling = name
            return
        if kind == "Conv2D":
            self._conv(name, c, weights)
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
        if kind == "Flatten":
            self.flattened_from = self.shape if len(self.shape) == 3 else None
            self.add(Flatten(), None, name)
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
        if kind == "Activation":
            self.activation(c.get("activation"), name, kind)
            return
        if kind == "ReLU":
            if c.get("max_value") is not None or (c.get("negative_slope") or 0) != 0 \
                    or (c.get("threshold") or 0) != 0:
                raise KerasFileError(f"layer {name!r} (ReLU): a capped, leaky or shifted ReLU "
                                     "is not one cnnviz shows")
            self.activation("relu", name, kind)
            return
        if kind == "Softmax":
            self.activation("softmax", name, kind)
            return
        raise KerasFileError(f"layer {name!r} is a {str(kind)[:40]}, which cnnviz does not "
                             f"read yet; it reads {', '.join(SUPPORTED_LAYERS)}")

    def _conv(self, name: str, c: dict, weights: list[np.ndarray]) -> None:
        from .layers import Conv

        if c.get("data_format", "channels_last") != "channels_last":
            raise KerasFileError(f"layer {name!r} (Conv2D): only channels_last is read")
        if _pair(c.get("dilation_rate", 1), "dilation_rate") != (1, 1) or c.get("groups", 1) != 1:
            raise KerasFileError(f"layer {name!r} (Conv2D): dilated or grouped convolutions "
                                 "are not read yet")
        if len(self.shape) != 3:
            raise KerasFileError(f"layer {name!r} (Conv2D) needs feature maps")
        filters = c.get("filters")
        kernel, stride = _pair(c.get("kernel_size"), "kernel_size"), _pair(c.get("strides", 1), "strides")
        padding = (0, 0)
        if c.get("padding") == "same":
            pads = []
            for n, k, s in zip(self.shape[1:], kernel, stride):
                total = max((math.ceil(n / s) - 1) * s + k - n, 0)
                if total % 2:
                    raise KerasFileError(
                        f"layer {name!r} (Conv2D): 'same' padding here pads one more pixel at "
                        f"the bottom and right than at the top and left ({k}×{k} at stride "
                        f"{s} on {n} pixels); cnnviz pads evenly, so it cannot show it yet")
                pads.append(total // 2)
            padding = (pads[0], pads[1])
        elif c.get("padding", "valid") != "valid":
            raise KerasFileError(f"layer {name!r} (Conv2D): padding {c.get('padding')!r:.20}")
        if not isinstance(filters, int) or filters < 1:
            raise KerasFileError(f"layer {name!r} (Conv2D): bad filter count {filters!r:.20}")
        kernel_w = _take(weights, 0, (kernel[0], kernel[1], self.shape[0], filters), name)
        use_bias = bool(c.get("use_bias", True))
        tensors = {"weight": kernel_w.transpose(3, 2, 0, 1)}
        if use_bias:
            tensors["bias"] = _take(weights, 1, (filters,), name)
        self.add(Conv(filters, kernel, stride, padding, use_bias), tensors, name)
        self.activation(c.get("activation"), name, "Conv2D")

    def _dense(self, name: str, c: dict, weights: list[np.ndarray]) -> None:
        from .layers import Dense

        if len(self.shape) != 1:
            raise KerasFileError(f"layer {name!r} (Dense) is applied to feature maps "
                                 f"{self.shape}; cnnviz reads Dense after Flatten")
        units = c.get("units")
        if not isinstance(units, int) or units < 1:
            raise KerasFileError(f"layer {name!r} (Dense): bad unit count {units!r:.20}")
        kernel = _take(weights, 0, (self.shape[0], units), name)
        if self.flattened_from is not None:
            # Keras flattened (h, w, c); cnnviz flattens (c, h, w): reorder the rows.
            ch, h, w = self.flattened_from
            order = np.arange(h * w * ch).reshape(h, w, ch).transpose(2, 0, 1).reshape(-1)
            kernel = kernel[order]
            self.flattened_from = None
        bias = (_take(weights, 1, (units,), name) if c.get("use_bias", True)
                else np.zeros(units, np.float32))
        self.add(Dense(units), {"weight": kernel.T, "bias": bias}, name)
        self.activation(c.get("activation"), name, "Dense")

    def _batch_norm(self, name: str, c: dict, weights: list[np.ndarray]) -> None:
        from .layers import BatchNorm

        axis = c.get("axis", -1)
        if axis not in (-1, [-1], 3, [3]) and not (len(self.shape) == 1 and axis in (1, [1])):
            raise KerasFileError(f"layer {name!r} (BatchNormalization): only the channel axis "
                                 f"is read (axis {axis!r:.20})")
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


def _take(weights: list[np.ndarray], i: int, shape: tuple[int, ...], name: str) -> np.ndarray:
    if i >= len(weights):
        raise KerasFileError(f"layer {name!r}: its weights are missing from the file")
    a = np.asarray(weights[i])
    if tuple(a.shape) != tuple(shape):
        raise KerasFileError(f"layer {name!r}: a weight has shape {tuple(a.shape)}, the layer "
                             f"needs {tuple(shape)}")
    if not np.issubdtype(a.dtype, np.floating) or not np.isfinite(a).all():
        raise KerasFileError(f"layer {name!r}: its weights are not finite numbers")
    return a.astype(np.float32)


def read_keras(raw: bytes, path: Path | None = None):
    """A .keras or .h5 file's bytes -> a cnnviz LoadedModel; KerasFileError in words."""
    import torch

    from .card import read_card
    from .data import DATASETS
    from .models import Architecture, ArchitectureError, Network
    from .weights import LoadedModel

    if raw[:2] == b"PK":  # a zip (a damaged one says so in _read_zip)
        config, weights, made_with = _read_zip(raw)
    elif is_hdf5(raw):
        config, weights, made_with = _read_h5(raw)
    else:
        raise KerasFileError("not a Keras file (neither a .keras zip nor an HDF5 .h5)")
    layers = _layer_list(config)
    input_shape = _input_shape(layers, config)
    builder = _Builder(input_shape)
    first = True
    for i, (layer, values) in enumerate(zip(layers, weights)):
        builder.layer(i, layer, values, first)
        first = first and layer.get("class_name") == "InputLayer"
    if not builder.specs:
        raise KerasFileError("the model has no layer cnnviz can show")
    if len(builder.shape) != 1:
        raise KerasFileError("the model must end in a flat output (Flatten, Dense)")
    stem = path.stem if path is not None else "keras model"
    name = str((config.get("config") or {}).get("name") or stem)[:60]
    try:
        arch = Architecture(name=name, description=f"{name}, a Keras model ({made_with})",
                            layers=tuple(builder.specs), input_shape=input_shape,
                            input_mean=builder.input_mean, input_std=builder.input_std)
        net = Network(arch)
    except (ArchitectureError, ValueError) as exc:
        raise KerasFileError(f"cnnviz cannot build this network: {exc}") from None
    state = net.state_dict()
    for info, tensors in zip(net.layer_infos, builder.tensors):
        for key, value in tensors.items():
            full = f"layers.{info.name}.{key}"
            state[full] = torch.from_numpy(np.ascontiguousarray(value)).to(state[full].dtype)
    net.load_state_dict(state)
    # cnnviz layer -> the Keras layer it came from (a Rescaling layer is the input's scaling)
    keras_layers = {"input": builder.rescaling} if builder.rescaling else {}
    keras_layers.update(zip([i.name for i in net.layer_infos], builder.keras_names))
    card = read_card({"model_name": stem, "made_with": made_with, "keras_layers": keras_layers},
                     int(np.prod(net.layer_infos[-1].output_shape)), DATASETS)
    net.card = card
    net.eval()
    from .input_scale import settle

    return settle(LoadedModel(net, card, path))


"""Network architectures as data.

One small description (a list of layer specs) builds the torch module, the summary
table, the trace used by the app's plots, and the header of saved weight files.
Shapes are (C, H, W) for feature maps and (N,) after Flatten.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .ops import conv_params, dense_params

ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "sigmoid", "softmax")
POOL_KINDS = ("max", "avg", "min")

# Limits for descriptions read from files: a hostile header must not make us allocate
# gigabytes before we notice it is nonsense.
MAX_LAYERS = 64
MAX_CHANNELS = 1024
MAX_UNITS = 65536
MAX_KERNEL = 15
MAX_STRIDE = 16
MAX_PADDING = 16
MAX_PARAMETERS = 50_000_000
MAX_LAYER_VALUES = 8_000_000  # one image's output of one layer (32 MB of float32)


class ArchitectureError(ValueError):
    """A description that cannot be built; the message names the layer."""


@dataclass(frozen=True)
class Conv:
    filters: int
    kernel: tuple[int, int] = (3, 3)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    type: str = field(default="conv", init=False)


@dataclass(frozen=True)
class Activation:
    kind: str = "relu"
    type: str = field(default="activation", init=False)


@dataclass(frozen=True)
class Pool:
    kind: str = "max"
    size: int = 2
    stride: int = 2
    type: str = field(default="pool", init=False)


@dataclass(frozen=True)
class BatchNorm:
    type: str = field(default="batchnorm", init=False)


@dataclass(frozen=True)
class Dropout:
    p: float = 0.5
    type: str = field(default="dropout", init=False)


@dataclass(frozen=True)
class Flatten:
    type: str = field(default="flatten", init=False)


@dataclass(frozen=True)
class Dense:
    units: int
    type: str = field(default="dense", init=False)


LayerSpec = Conv | Activation | Pool | BatchNorm | Dropout | Flatten | Dense
_SPEC_TYPES = {"conv": Conv, "activation": Activation, "pool": Pool, "batchnorm": BatchNorm,
               "dropout": Dropout, "flatten": Flatten, "dense": Dense}


@dataclass(frozen=True)
class Architecture:
    name: str
    description: str
    layers: tuple[LayerSpec, ...]
    input_shape: tuple[int, int, int] = (1, 28, 28)  # (C, H, W)
    # Fixed input normalisation applied inside the module, so the trace's input is the
    # plain [0, 1] image the user sees.
    input_mean: float = 0.0
    input_std: float = 1.0

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "input_shape": list(self.input_shape),
            "input_mean": self.input_mean,
            "input_std": self.input_std,
            "layers": [asdict(layer) for layer in self.layers],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> Architecture:
        """Build from untrusted data (a file header): every field is checked."""
        try:
            layers_data = data["layers"]
            if not isinstance(layers_data, list) or not 0 < len(layers_data) <= MAX_LAYERS:
                raise ArchitectureError(f"an architecture needs 1 to {MAX_LAYERS} layers")
            layers = tuple(_layer_from_dict(i, d) for i, d in enumerate(layers_data))
            shape = tuple(int(v) for v in data.get("input_shape", (1, 28, 28)))
            if len(shape) != 3 or not all(0 < v <= 4096 for v in shape):
                raise ArchitectureError(f"bad input shape {shape}")
            arch = cls(name=str(data.get("name", "custom"))[:100],
                       description=str(data.get("description", ""))[:1000],
                       layers=layers, input_shape=shape,  # type: ignore[arg-type]
                       input_mean=float(data.get("input_mean", 0.0)),
                       input_std=float(data.get("input_std", 1.0)))
        except ArchitectureError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ArchitectureError(f"not a valid architecture description ({exc})") from None
        if not (np.isfinite(arch.input_mean) and np.isfinite(arch.input_std) and arch.input_std > 0):
            raise ArchitectureError("input normalisation must be finite with a positive std")
        summarize(arch)  # raises ArchitectureError naming the bad layer
        known = ARCHITECTURES.get(arch.name)
        if known is not None and replace(known, description=arch.description) == arch:
            return known  # a named architecture: its description as this version words it
        return arch

    @classmethod
    def from_json(cls, text: str) -> Architecture:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ArchitectureError(f"architecture description is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ArchitectureError("architecture description must be a JSON object")
        return cls.from_dict(data)


def _pair(value) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"expected two numbers, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _layer_from_dict(index: int, d) -> LayerSpec:
    if not isinstance(d, dict) or d.get("type") not in _SPEC_TYPES:
        raise ArchitectureError(f"layer {index + 1}: unknown layer type {d!r:.80}")
    kind = d["type"]
    try:
        if kind == "conv":
            return Conv(int(d["filters"]), _pair(d.get("kernel", 3)), _pair(d.get("stride", 1)),
                        _pair(d.get("padding", 0)))
        if kind == "activation":
            return Activation(str(d.get("kind", "relu")))
        if kind == "pool":
            return Pool(str(d.get("kind", "max")), int(d.get("size", 2)), int(d.get("stride", 2)))
        if kind == "dropout":
            return Dropout(float(d.get("p", 0.5)))
        if kind == "dense":
            return Dense(int(d["units"]))
        return _SPEC_TYPES[kind]()
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchitectureError(f"layer {index + 1} ({kind}): {exc}") from None


# ---------------------------------------------------------------------------------------
# The named architectures


def _conv_block(filters: int) -> list[LayerSpec]:
    return [Conv(filters, (3, 3), (1, 1), (0, 0)), BatchNorm(), Activation("relu")]


ARCHITECTURES: dict[str, Architecture] = {
    "cnnviz": Architecture(
        name="cnnviz",
        description="cnnviz's default: two stages of two 3x3 conv-BatchNorm-ReLU blocks, "
                    "each stage ending in 2x2 max pooling, then dropout, Dense 128 and "
                    "Dense 10 softmax (198,122 parameters).",
        # No padding, so each 3x3 conv shows the lecture's n - f + 1 rule (28 -> 26 -> 24),
        # and the work per image stays small enough to run on every pen stroke.
        layers=tuple(
            _conv_block(32) + _conv_block(32) + [Pool("max", 2, 2)]
            + _conv_block(64) + _conv_block(64) + [Pool("max", 2, 2)]
            + [Flatten(), Dropout(0.25), Dense(128), BatchNorm(), Activation("relu"),
               Dropout(0.25), Dense(10), Activation("softmax")]
        ),
        input_mean=0.1307,
        input_std=0.3081,
    ),
    "lecture-keras": Architecture(
        name="lecture-keras",
        description="The lecture's Keras example: Conv 64 3x3 ReLU, MaxPool 2, Conv 64 3x3 "
                    "ReLU, MaxPool 2, Flatten, Dense 10 softmax (53,578 parameters).",
        layers=(Conv(64, (3, 3)), Activation("relu"), Pool("max", 2, 2),
                Conv(64, (3, 3)), Activation("relu"), Pool("max", 2, 2),
                Flatten(), Dense(10), Activation("softmax")),
    ),
    "lecture-deep": Architecture(
        name="lecture-deep",
        description="The lecture's '4 Layer Deep CNN for MNIST': Conv 32, Conv 64, MaxPool, "
                    "Flatten 9,216, Dense 128, Dense 10 (1,199,882 parameters).",
        layers=(Conv(32, (3, 3)), Activation("relu"), Conv(64, (3, 3)), Activation("relu"),
                Pool("max", 2, 2), Flatten(), Dense(128), Activation("relu"),
                Dense(10), Activation("softmax")),
    ),
}


def get_architecture(name: str) -> Architecture:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        known = ", ".join(ARCHITECTURES)
        raise ArchitectureError(f"unknown architecture {name!r} (known: {known})") from None


# ---------------------------------------------------------------------------------------
# Summary: names, output shapes and parameter counts, checked layer by layer


@dataclass(frozen=True)
class LayerInfo:
    name: str  # e.g. "conv1", "relu2", "pool1"
    kind: str  # spec type: conv, activation, pool, batchnorm, dropout, flatten, dense
    label: str  # human description, e.g. "Conv 32 3x3 s1 p1"
    output_shape: tuple[int, ...]  # (C, H, W) or (N,)
    parameters: int


def _layer_names(layers) -> list[str]:
    counts: dict[str, int] = {}
    names = []
    for spec in layers:
        base = {"conv": "conv", "pool": "pool", "batchnorm": "bn", "dropout": "dropout",
                "flatten": "flatten", "dense": "dense"}.get(spec.type)
        if base is None:
            base = "relu" if spec.kind == "relu" else spec.kind
        counts[base] = counts.get(base, 0) + 1
        names.append(base if base in ("flatten", "softmax") and counts[base] == 1
                     else f"{base}{counts[base]}")
    return names


def summarize(arch: Architecture) -> list[LayerInfo]:
    """Per-layer output shape and trainable parameter count.

    Raises ArchitectureError naming the first layer that cannot be built.
    """
    shape: tuple[int, ...] = tuple(arch.input_shape)
    infos = []
    total = 0
    for index, (name, spec) in enumerate(zip(_layer_names(arch.layers), arch.layers)):
        where = f"layer {index + 1} ({name})"

        def fail(msg: str, where=where):
            raise ArchitectureError(f"{where}: {msg}")

        params = 0
        if spec.type == "conv":
            if len(shape) != 3:
                fail("a convolution needs a feature map, but the input here is flat")
            if not 0 < spec.filters <= MAX_CHANNELS:
                fail(f"filters must be 1 to {MAX_CHANNELS}, got {spec.filters}")
            if not all(0 < k <= MAX_KERNEL for k in spec.kernel):
                fail(f"kernel must be 1 to {MAX_KERNEL}, got {spec.kernel}")
            if not all(0 < s <= MAX_STRIDE for s in spec.stride) \
                    or not all(0 <= p <= MAX_PADDING for p in spec.padding):
                fail(f"stride must be 1 to {MAX_STRIDE} and padding 0 to {MAX_PADDING}, got "
                     f"stride {spec.stride}, padding {spec.padding}")
            c, h, w = shape
            out = []
            for axis, size, k, s, p in (("height", h, spec.kernel[0], spec.stride[0], spec.padding[0]),
                                        ("width", w, spec.kernel[1], spec.stride[1], spec.padding[1])):
                span = size - k + 2 * p
                if span < 0:
                    fail(f"{axis}: kernel {k} is larger than the padded input {size + 2 * p}")
                if span % s:
                    fail(f"{axis}: (W - F + 2P) / S + 1 = ({size} - {k} + 2*{p}) / {s} + 1 "
                         f"= {span / s + 1:g} is not a whole number")
                out.append(span // s + 1)
            params = conv_params(spec.kernel[0], spec.kernel[1], c, spec.filters)
            shape = (spec.filters, out[0], out[1])
            label = (f"Conv {spec.filters} {spec.kernel[0]}x{spec.kernel[1]}"
                     f" s{_fmt_pair(spec.stride)} p{_fmt_pair(spec.padding)}")
        elif spec.type == "pool":
            if len(shape) != 3:
                fail("pooling needs a feature map, but the input here is flat")
            if spec.kind not in POOL_KINDS:
                fail(f"pooling must be one of {', '.join(POOL_KINDS)}, got {spec.kind!r}")
            if not (0 < spec.size <= MAX_KERNEL and 0 < spec.stride <= MAX_STRIDE):
                fail(f"pool size must be 1 to {MAX_KERNEL} and stride 1 to {MAX_STRIDE}, got "
                     f"size {spec.size}, stride {spec.stride}")
            c, h, w = shape
            if h < spec.size or w < spec.size:
                fail(f"pool size {spec.size} is larger than the {h}x{w} input")
            # Like Keras and torch, pooling drops a ragged last row/column (11 -> 5).
            shape = (c, (h - spec.size) // spec.stride + 1, (w - spec.size) // spec.stride + 1)
            label = f"{spec.kind.capitalize()}Pool {spec.size}x{spec.size} s{spec.stride}"
        elif spec.type == "activation":
            if spec.kind not in ACTIVATIONS:
                fail(f"activation must be one of {', '.join(ACTIVATIONS)}, got {spec.kind!r}")
            if spec.kind == "softmax" and (len(shape) != 1 or index != len(arch.layers) - 1):
                fail("softmax must be the last layer, after a dense layer")
            label = {"relu": "ReLU", "leaky_relu": "Leaky ReLU", "elu": "ELU", "tanh": "Tanh",
                     "sigmoid": "Sigmoid", "softmax": "Softmax"}[spec.kind]
        elif spec.type == "batchnorm":
            params = 2 * shape[0]  # gamma and beta per channel (Keras adds 2 non-trainable)
            label = "BatchNorm"
        elif spec.type == "dropout":
            if not 0.0 <= spec.p < 1.0:
                fail(f"dropout probability must be in [0, 1), got {spec.p}")
            label = f"Dropout {spec.p:g}"
        elif spec.type == "flatten":
            shape = (int(np.prod(shape)),)
            label = "Flatten"
        else:  # dense
            if len(shape) != 1:
                fail(f"a dense layer needs a flat input; add Flatten before it "
                     f"(the input here is {'x'.join(map(str, shape))})")
            if not 0 < spec.units <= MAX_UNITS:
                fail(f"units must be 1 to {MAX_UNITS}, got {spec.units}")
            params = dense_params(shape[0], spec.units)
            shape = (spec.units,)
            label = f"Dense {spec.units}"
        total += params
        if total > MAX_PARAMETERS:
            fail(f"more than {MAX_PARAMETERS:,} parameters")
        values = int(np.prod(shape, dtype=np.int64))
        if values > MAX_LAYER_VALUES:  # a hostile header must not make predict allocate GBs
            fail(f"its output {'x'.join(map(str, shape))} has {values:,} values, more than "
                 f"the {MAX_LAYER_VALUES:,} cnnviz allows per layer")
        infos.append(LayerInfo(name, spec.type, label, shape, params))
    if len(shape) != 1:
        raise ArchitectureError("the network must end in a flat output (Flatten, Dense)")
    return infos


def _fmt_pair(pair) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]},{pair[1]}"


def parameter_count(arch: Architecture) -> int:
    return sum(info.parameters for info in summarize(arch))


def format_summary(arch: Architecture) -> str:
    infos = summarize(arch)
    rows = [("Layer", "Type", "Output shape", "Params")]
    in_shape = "x".join(map(str, arch.input_shape))
    rows.append(("input", "Input", in_shape, "0"))
    for info in infos:
        rows.append((info.name, info.label, "x".join(map(str, info.output_shape)),
                     f"{info.parameters:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"Model: {arch.name}"]
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[j]) if j < 3 else cell.rjust(widths[j])
                               for j, cell in enumerate(row)))
        if i == 0:
            lines.append("-" * (sum(widths) + 6))
    lines.append("-" * (sum(widths) + 6))
    lines.append(f"Total parameters: {sum(i.parameters for i in infos):,}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# The torch module


class MinPool2d(nn.Module):
    def __init__(self, size: int, stride: int):
        super().__init__()
        self.size, self.stride = size, stride

    def forward(self, x):
        return -F.max_pool2d(-x, self.size, self.stride)


def _torch_layer(spec: LayerSpec, in_shape: tuple[int, ...]) -> nn.Module:
    if spec.type == "conv":
        return nn.Conv2d(in_shape[0], spec.filters, spec.kernel, spec.stride, spec.padding)
    if spec.type == "pool":
        if spec.kind == "max":
            return nn.MaxPool2d(spec.size, spec.stride)
        if spec.kind == "avg":
            return nn.AvgPool2d(spec.size, spec.stride)
        return MinPool2d(spec.size, spec.stride)
    if spec.type == "activation":
        return {"relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "tanh": nn.Tanh,
                "sigmoid": nn.Sigmoid, "softmax": lambda: nn.Softmax(dim=1)}[spec.kind]()
    if spec.type == "batchnorm":
        return nn.BatchNorm2d(in_shape[0]) if len(in_shape) == 3 else nn.BatchNorm1d(in_shape[0])
    if spec.type == "dropout":
        return nn.Dropout(spec.p)
    if spec.type == "flatten":
        return nn.Flatten()
    return nn.Linear(in_shape[0], spec.units)


class Network(nn.Module):
    """A torch module built from an Architecture.

    `forward` returns logits (a trailing softmax is left out so training can use
    cross-entropy); `trace` returns every layer's output, softmax included.
    """

    def __init__(self, arch: Architecture):
        super().__init__()
        infos = summarize(arch)
        self.arch = arch
        self.layer_infos = infos
        shapes = [tuple(arch.input_shape)] + [i.output_shape for i in infos]
        self.layers = nn.ModuleDict()
        for info, spec, in_shape in zip(infos, arch.layers, shapes):
            self.layers[info.name] = _torch_layer(spec, in_shape)
        self.ends_in_softmax = arch.layers[-1].type == "activation" and arch.layers[-1].kind == "softmax"
        self.register_buffer("input_mean", torch.tensor(arch.input_mean), persistent=False)
        self.register_buffer("input_std", torch.tensor(arch.input_std), persistent=False)

    def _logit_layers(self):
        items = list(self.layers.items())
        return items[:-1] if self.ends_in_softmax else items

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) in [0, 1] -> (B, 10)
        x = (x - self.input_mean) / self.input_std
        for _, layer in self._logit_layers():
            x = layer(x)
        return x

    @torch.no_grad()
    def trace(self, image: np.ndarray | torch.Tensor) -> list[tuple[str, np.ndarray]]:
        """Run one image and return [("input", (C,H,W)), (layer name, output), ...].

        The model is put in eval mode (dropout off, batch norm uses running statistics).
        """
        self.eval()
        x = torch.as_tensor(np.asarray(image, dtype=np.float32))
        if x.ndim == 2:
            x = x[None]
        outputs = [("input", x.numpy().copy())]
        h = ((x - self.input_mean) / self.input_std)[None]
        for name, layer in self.layers.items():
            h = layer(h)
            outputs.append((name, h[0].numpy().copy()))
        return outputs

    @torch.no_grad()
    def predict_proba(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        """(B, H, W) or (B, C, H, W) images in [0, 1] -> (B, 10) probabilities."""
        self.eval()
        x = torch.as_tensor(np.asarray(images, dtype=np.float32))
        if x.ndim == 3:
            x = x[:, None]
        return torch.softmax(self(x), dim=1).numpy()


def build_model(arch: Architecture | str, seed: int | None = None) -> Network:
    if isinstance(arch, str):
        arch = get_architecture(arch)
    if seed is not None:
        torch.manual_seed(seed)
    return Network(arch)

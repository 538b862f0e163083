"""Network architectures as data.

One small description (a list of layer specs) builds the torch module, the summary
table, the trace used by the app's plots, and the header of saved weight files.
Shapes are (C, H, W) for feature maps and (N,) after Flatten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from ..basics.formulas import fmt_count
from ..basics.limits import MAX_ARCH_LAYERS, MAX_ARCH_PARAMETERS, MAX_LAYER_VALUES
from .layers import (
    LAYER_ACTIVATIONS,
    POOL_KINDS,
    SPEC_TYPES,
    Activation,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalPool,
    LayerError,
    LayerSpec,
    MinPool2d,
    Pad,
    Pool,
    PReLU,
    Reshape,
    spec_dict,
)
from .network import InputSpec, default_class_names, probabilities

__all__ = ["ARCHITECTURES", "LAYER_ACTIVATIONS", "POOL_KINDS", "Activation", "Architecture",
           "ArchitectureError", "BatchNorm", "Conv", "Dense", "Dropout", "Flatten", "LayerInfo",
           "LayerSpec", "MinPool2d", "Network", "Pool", "build_model", "format_summary",
           "get_architecture", "parameter_count", "summarize"]


class ArchitectureError(ValueError):
    """A description that cannot be built; the message names the layer."""


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
    # What each layer reads, for a network that is not one chain (a residual block, joined
    # branches): per layer, the indices of its inputs (0: the network's input, k: layer k's
    # output, counting from 1). None: each layer reads the one before it.
    sources: tuple[tuple[int, ...], ...] | None = None

    @property
    def is_chain(self) -> bool:
        """Each layer reads the one before it (what the editor and the text form can say)."""
        return self.sources is None

    def sources_of(self, index: int) -> tuple[int, ...]:
        """What layer `index` (from 0) reads: indices into [input, layer 1, layer 2, ...]."""
        return (index,) if self.sources is None else self.sources[index]

    def to_dict(self) -> dict:
        out = {
            "name": self.name,
            "description": self.description,
            "input_shape": list(self.input_shape),
            "input_mean": self.input_mean,
            "input_std": self.input_std,
            "layers": [spec_dict(layer) for layer in self.layers],
        }
        if self.sources is not None:
            out["sources"] = [list(s) for s in self.sources]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> Architecture:
        """Build from untrusted data (a file header): every field is checked."""
        try:
            layers_data = data["layers"]
            if not isinstance(layers_data, list) or not 0 < len(layers_data) <= MAX_ARCH_LAYERS:
                raise ArchitectureError(f"an architecture needs 1 to {MAX_ARCH_LAYERS} layers")
            layers = tuple(_layer_from_dict(i, d) for i, d in enumerate(layers_data))
            shape = data.get("input_shape", (1, 28, 28))
            if not isinstance(shape, (list, tuple)):
                raise ValueError(f"the input shape is a list (C, H, W), got {_brief(shape)}")
            shape = tuple(_whole(v, "the input shape") for v in shape)
            if len(shape) != 3 or not all(0 < v <= 4096 for v in shape):
                raise ArchitectureError(f"bad input shape {shape}")
            arch = cls(name=str(data.get("name", "custom"))[:100],
                       description=str(data.get("description", ""))[:1000],
                       layers=layers, input_shape=shape,
                       input_mean=_real(data.get("input_mean", 0.0), "input_mean"),
                       input_std=_real(data.get("input_std", 1.0), "input_std"),
                       sources=_sources_from(data.get("sources"), len(layers)))
        except ArchitectureError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
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
        """From its JSON (a file, pasted text, a weights header): JSON nested too deep or
        holding an integer of too many digits is refused before it is parsed."""
        from ..basics.json_input import JsonProblem, read_json

        try:
            data = read_json(text, "the architecture")
        except JsonProblem as exc:
            raise ArchitectureError(str(exc)) from None
        if not isinstance(data, dict):
            raise ArchitectureError("architecture description must be a JSON object")
        return cls.from_dict(data)


def _digits(number: int) -> int:
    """How many digits a whole number has, counted without writing it out (str() of one of
    more than 4,300 digits is a ValueError)."""
    number = abs(number)
    digits = max(1, int(number.bit_length() * 0.30102999566398120))  # log10(2)
    return digits + (number >= 10**digits)


def _brief(value) -> str:
    """A value as a message shows it: short (a file may hold anything)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        return f"a number of {_digits(value):,} digits"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _whole(value, what: str) -> int:
    """A whole number read from untrusted data: an int, or a float with nothing after the
    point (64.0); ValueError in words for anything else (64.5, Infinity, "64", true)."""
    if isinstance(value, float) and np.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, got {_brief(value)}")
    if abs(value) >= 10**12:  # far past every limit; said without all its digits
        raise ValueError(f"{what} must be a whole number of a usable size, got one of "
                         f"{_digits(value):,} digits")
    return value


def _real(value, what: str) -> float:
    """A finite number read from untrusted data; ValueError in words otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, got {_brief(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = float("inf")
    if not np.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {_brief(value)}")
    return number


def _pair(value, what: str = "the value") -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{what} must be one whole number or two, got {_brief(value)}")
        return _whole(value[0], what), _whole(value[1], what)
    number = _whole(value, what)
    return number, number


def _sources_from(value, count: int) -> tuple[tuple[int, ...], ...] | None:
    """A header's "sources": one list of earlier layer numbers per layer (checked)."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != count:
        raise ArchitectureError("sources must list, for every layer, what it reads")
    out = []
    for i, entry in enumerate(value):
        if not (isinstance(entry, list) and 0 < len(entry) <= MAX_ARCH_LAYERS
                and all(type(v) is int and 0 <= v <= i for v in entry)):
            raise ArchitectureError(f"layer {i + 1}: its sources must be numbers of earlier "
                                    f"layers (0 is the input), got {_brief(entry)}")
        out.append(tuple(entry))
    return tuple(out)


def _layer_from_dict(index: int, d) -> LayerSpec:
    if not isinstance(d, dict) or d.get("type") not in SPEC_TYPES:
        raise ArchitectureError(f"layer {index + 1}: unknown layer type {_brief(d)}")
    kind = d["type"]
    try:
        if kind == "conv":
            bias = d.get("bias", True)
            if not isinstance(bias, bool):
                raise ValueError(f"bias must be true or false, got {_brief(bias)}")
            return Conv(_whole(d["filters"], "filters"), _pair(d.get("kernel", 3), "kernel"),
                        _pair(d.get("stride", 1), "stride"), _pair(d.get("padding", 0), "padding"),
                        bias, groups=_whole(d.get("groups", 1), "groups"),
                        dilation=_pair(d.get("dilation", 1), "dilation"))
        if kind == "activation":
            return Activation(str(d.get("kind", "relu")),
                              slope=_real(d.get("slope", 0.01), "slope"))
        if kind == "pool":
            return Pool(str(d.get("kind", "max")), _whole(d.get("size", 2), "size"),
                        _whole(d.get("stride", 2), "stride"))
        if kind == "dropout":
            return Dropout(_real(d.get("p", 0.5), "p"))
        if kind == "dense":
            return Dense(_whole(d["units"], "units"))
        if kind == "batchnorm":
            return BatchNorm(_real(d.get("eps", 1e-5), "eps"))
        if kind == "flatten":
            return Flatten(str(d.get("order", "chw")))
        if kind == "pad":
            return Pad(*(_whole(d[side], side) for side in ("top", "bottom", "left", "right")))
        if kind == "globalpool":
            return GlobalPool(str(d.get("kind", "avg")))
        if kind == "prelu":
            return PReLU(str(d.get("slopes", "channel")))
        if kind == "reshape":
            shape = d["shape"]
            if not isinstance(shape, list) or len(shape) not in (1, 3):
                raise ValueError(f"a reshape's shape is (C, H, W) or (N,), got {_brief(shape)}")
            return Reshape(tuple(_whole(v, "a reshape's shape") for v in shape))
        return SPEC_TYPES[kind]()
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
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
    "fast": Architecture(
        name="fast",
        description="Small and quick: Conv 16 5x5, MaxPool 2, BatchNorm, ReLU, Conv 32 5x5, "
                    "MaxPool 2, BatchNorm, ReLU, Flatten, Dense 64 ReLU, Dense 10 (46,826 "
                    "parameters). Its own recipe (`cnnviz train --arch fast`: one pass over "
                    "the training images, batches of 256, Adam with beta1 0.7, one-cycle) "
                    "reaches 99% on the MNIST test set.",
        # Pooling right after each conv: batch norm and ReLU then work on a quarter of the
        # values (on a CPU they cost more than the convolutions of so small a network).
        layers=(Conv(16, (5, 5)), Pool("max", 2, 2), BatchNorm(), Activation("relu"),
                Conv(32, (5, 5)), Pool("max", 2, 2), BatchNorm(), Activation("relu"),
                Flatten(), Dense(64), Activation("relu"), Dense(10), Activation("softmax")),
        input_mean=0.1307,
        input_std=0.3081,
    ),
    "all-conv": Architecture(
        name="all-conv",
        description="All convolutional (the lecture's 'To POOL or CONV?', after Springenberg "
                    "et al. 2014): no pooling; stride-2 4x4 convolutions halve the maps "
                    "instead (28 -> 14 -> 7), each followed by BatchNorm and ReLU, then "
                    "dropout and Dense 10 (132,586 parameters).",
        # 4x4 with stride 2 and padding 1 halves an even side exactly ((W - 4 + 2) / 2 + 1
        # = W / 2); a 3x3 kernel at stride 2 would not fit 28 evenly.
        layers=(Conv(32, (3, 3), (1, 1), (1, 1)), BatchNorm(), Activation("relu"),
                Conv(32, (4, 4), (2, 2), (1, 1)), BatchNorm(), Activation("relu"),
                Conv(64, (3, 3), (1, 1), (1, 1)), BatchNorm(), Activation("relu"),
                Conv(64, (4, 4), (2, 2), (1, 1)), BatchNorm(), Activation("relu"),
                Flatten(), Dropout(0.25), Dense(10), Activation("softmax")),
        input_mean=0.1307,
        input_std=0.3081,
    ),
    "fully-connected": Architecture(
        name="fully-connected",
        description="No convolutions (the lecture's '3 Layers of ANN on MNIST'): the 784 "
                    "pixels, one hidden layer of 512 ReLU units with dropout, and 10 outputs. "
                    "It needs 407,050 parameters, 7.6 times the lecture's Keras CNN (53,578), "
                    "and still reads digits less well: every pixel has its own weight, so "
                    "nothing learned at one place is shared with another.",
        layers=(Flatten(), Dense(512), Activation("relu"), Dropout(0.2), Dense(10),
                Activation("softmax")),
        input_mean=0.1307,
        input_std=0.3081,
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
    label: str  # human description, e.g. "Conv 32 3×3 s1 p1"
    output_shape: tuple[int, ...]  # (C, H, W) or (N,)
    parameters: int
    spec: LayerSpec | None = None  # the spec it was made from (its formulas, description)
    in_shape: tuple[int, ...] = ()  # what the layer takes
    # Output sizes that were floored, like PyTorch and Keras do, in words (conv and pooling)
    notes: tuple[str, ...] = ()
    # What it reads, for a network that is not one chain: the names of its inputs ("input"
    # or layer names). Empty: the layer before it.
    inputs: tuple[str, ...] = ()


def _layer_names(layers) -> list[str]:
    counts: dict[str, int] = {}
    names = []
    for spec in layers:
        base = spec.base_name
        counts[base] = counts.get(base, 0) + 1
        names.append(base if base in ("flatten", "softmax") and counts[base] == 1
                     else f"{base}{counts[base]}")
    return names


def _layer_info(name: str, spec: LayerSpec, in_shape: tuple,
                inputs: tuple[str, ...] = ()) -> LayerInfo:
    """One layer's summary; LayerError (from the spec) when the numbers do not fit.
    in_shape: for a layer that joins several (add, concatenate), the tuple of their shapes."""
    out = tuple(spec.output_shape(in_shape))
    values = int(np.prod(out, dtype=np.int64))
    if values > MAX_LAYER_VALUES:  # a hostile header must not make predict allocate GBs
        raise LayerError(f"its output {'x'.join(map(str, out))} has {values:,} values, more "
                         f"than the {MAX_LAYER_VALUES:,} cnnviz allows per layer")
    notes = getattr(spec, "floor_notes", None)
    return LayerInfo(name, spec.type, spec.label, out, spec.parameters(in_shape), spec,
                     tuple(in_shape), tuple(notes(in_shape)) if notes else (), inputs)


def summarize(arch: Architecture) -> list[LayerInfo]:
    """Per-layer output shape and trainable parameter count.

    Raises ArchitectureError naming the first layer that cannot be built.
    """
    shape: tuple[int, ...] = tuple(arch.input_shape)
    shapes = [shape]
    names = ["input", *_layer_names(arch.layers)]
    infos = []
    total = 0
    for index, (name, spec) in enumerate(zip(names[1:], arch.layers)):
        where = f"layer {index + 1} ({name})"
        sources = arch.sources_of(index)
        try:
            if any(s > index for s in sources):
                raise LayerError("it reads a layer that comes after it")
            if getattr(spec, "joins", False) != (len(sources) > 1):
                raise LayerError("only add and concatenate read several layers" if len(sources) > 1
                                 else "add and concatenate need two or more layers to join")
            in_shape: tuple = shapes[sources[0]] if len(sources) == 1 \
                else tuple(shapes[s] for s in sources)  # a join reads several shapes
            inputs = () if arch.is_chain else tuple(names[s] for s in sources)
            info = _layer_info(name, spec, in_shape, inputs)
            if spec.ends_network and (len(in_shape) != 1
                                                         or index != len(arch.layers) - 1):
                raise LayerError("softmax must be the last layer, after a dense layer")
        except LayerError as exc:
            raise ArchitectureError(f"{where}: {exc}") from None
        total += info.parameters
        if total > MAX_ARCH_PARAMETERS:
            raise ArchitectureError(f"{where}: more than {MAX_ARCH_PARAMETERS:,} parameters")
        infos.append(info)
        shape = info.output_shape
        shapes.append(shape)
    if len(shape) != 1:
        raise ArchitectureError("the network must end in a flat output (Flatten, Dense)")
    return infos


def parameter_count(arch: Architecture) -> int:
    return sum(info.parameters for info in summarize(arch))


def _before(infos: list[LayerInfo], info: LayerInfo) -> str:
    """The name of the layer before `info` ("input" for the first)."""
    index = infos.index(info)
    return infos[index - 1].name if index else "input"


def format_summary(arch: Architecture) -> str:
    infos = summarize(arch)
    rows = [("Layer", "Type", "Output shape", "Params")]
    in_shape = "x".join(map(str, arch.input_shape))
    rows.append(("input", "Input", in_shape, "0"))
    for info in infos:
        label = info.label + (f" ← {' + '.join(info.inputs)}" if info.inputs and
                              (len(info.inputs) > 1 or info.inputs[0] != _before(infos, info))
                              else "")
        rows.append((info.name, label, "x".join(map(str, info.output_shape)),
                     fmt_count(info.parameters)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"Model: {arch.name}"]
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[j]) if j < 3 else cell.rjust(widths[j])
                               for j, cell in enumerate(row)))
        if i == 0:
            lines.append("-" * (sum(widths) + 6))
    lines.append("-" * (sum(widths) + 6))
    total = sum(i.parameters for i in infos)
    lines.append(f"Total parameters: {fmt_count(total)}")
    moving = sum(2 * i.in_shape[0] for i in infos if i.kind == "batchnorm")
    measured = sum(2 * i.in_shape[0] + 1 for i in infos if i.kind == "normalize")
    if moving or measured:  # Keras's summary and count_params() count them; torch's do not
        what = " and ".join(
            w for w, n in (("batch norm's moving mean and variance", moving),
                           ("the Normalization layer's mean, variance and count", measured)) if n)
        lines.append(f"(Keras's count_params() says {fmt_count(total + moving + measured)}: it "
                     f"also counts {what}, {fmt_count(moving + measured)} numbers that are not "
                     "trained)")
    if not arch.is_chain:
        lines.append("Not one chain: a layer marked ← reads the layers named there.")
    floored = [f"  {info.name}, {note}" for info in infos for note in info.notes]
    if floored:
        lines += ["Floored sizes:"] + floored
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# The torch module


class Network(nn.Module):
    """A torch module built from an Architecture.

    `forward` returns logits (a trailing softmax is left out so training can use
    cross-entropy); `trace` returns every layer's output, softmax included.
    """

    input_mean: torch.Tensor  # buffers (register_buffer in __init__)
    input_std: torch.Tensor

    def __init__(self, arch: Architecture, class_names: list[str] | None = None,
                 card: dict | None = None):
        super().__init__()
        infos = summarize(arch)
        self.arch = arch
        self.layer_infos = infos
        c, h, w = (int(v) for v in arch.input_shape)
        # The normalisation happens inside forward, so callers feed the plain 0..1 picture.
        self.input_spec = InputSpec(c, h, w)
        self.card: dict = card if card is not None else {}
        self.class_names = self.names_for_outputs(class_names)
        self.layers = nn.ModuleDict()
        for info, spec in zip(infos, arch.layers):
            self.layers[info.name] = spec.build(info.in_shape)
        self._sources = [arch.sources_of(i) for i in range(len(infos))]
        self.ends_in_softmax = arch.layers[-1].ends_network
        self.register_buffer("input_mean", torch.tensor(arch.input_mean), persistent=False)
        self.register_buffer("input_std", torch.tensor(arch.input_std), persistent=False)

    @property
    def description(self) -> str:
        """What the network is, in a sentence (the architecture's description)."""
        return self.arch.description

    def names_for_outputs(self, names) -> list[str]:
        """names when there is one (a string) per output, else "0", "1", ..."""
        outputs = int(np.prod(self.layer_infos[-1].output_shape))
        if isinstance(names, (list, tuple)) and len(names) == outputs \
                and all(isinstance(n, str) for n in names):
            return [n[:60] for n in names]
        return default_class_names(outputs)

    def layer_outputs(self, x: torch.Tensor, logits: bool = False):
        """(name, output) for every layer, in order, from the normalised input x (batched):
        each layer
        fed what its sources say (the layer before it, in a chain). logits: stop before a
        trailing softmax."""
        outputs = [x]
        layers = list(self.layers.items())
        if logits and self.ends_in_softmax:
            layers = layers[:-1]
        for (name, layer), sources in zip(layers, self._sources):
            h = layer(*(outputs[s] for s in sources))
            outputs.append(h)
            yield name, h

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) in [0, 1] -> (B, classes)
        out = (x - self.input_mean) / self.input_std
        for _, h in self.layer_outputs(out, logits=True):
            out = h  # the last layer's output is the answer
        return out

    @torch.no_grad()
    def trace(self, image: np.ndarray | torch.Tensor) -> list[tuple[str, np.ndarray]]:
        """Run one image and return [("input", (C,H,W)), (layer name, output), ...].

        The model is put in eval mode (dropout off, batch norm uses running statistics).
        """
        self.eval()
        x = torch.as_tensor(np.asarray(image, dtype=np.float32))
        if x.ndim == 2:
            x = x[None]
        if tuple(x.shape) != self.input_spec.shape:
            raise ValueError(f"the network takes {'x'.join(map(str, self.input_spec.shape))} "
                             f"inputs, not {'x'.join(map(str, x.shape))}")
        outputs = [("input", x.numpy().copy())]
        for name, h in self.layer_outputs(((x - self.input_mean) / self.input_std)[None]):
            outputs.append((name, h[0].numpy().copy()))
        return outputs

    @torch.no_grad()
    def predict_proba(self, images: np.ndarray | torch.Tensor) -> np.ndarray:
        """(B, H, W) or (B, C, H, W) images in [0, 1] -> (B, classes) probabilities."""
        self.eval()
        x = torch.as_tensor(np.asarray(images, dtype=np.float32))
        if x.ndim == 3:
            x = x[:, None]
        return probabilities(self(x)).numpy()


def build_model(arch: Architecture | str, seed: int | None = None) -> Network:
    if isinstance(arch, str):
        arch = get_architecture(arch)
    if seed is not None:
        torch.manual_seed(seed)
    return Network(arch)

"""An architecture of the lab's editor written out as code, in the lecture's two styles.

- Keras: the lecture's own example, `keras.Sequential([...])` with `layers.Conv2D(64, (3, 3),
  activation='relu', input_shape=(28, 28, 1))`, an activation right after a Conv2D or a
  Dense folded into it, then `model.summary()`. cnnviz.core.networks.keras_code reads it back to the
  same architecture.
- PyTorch: a `Net(nn.Module)` as PyTorch's MNIST example writes one: the layers that learn
  (conv1, bn1, fc1, ...) made in `__init__`, `forward` one step a line with the shape after
  each step in a comment (`# (B, 64, 26, 26)`), as the lecture's "Calculate Output Size"
  table lists them.

    >>> from cnnviz.core.networks.models import ARCHITECTURES
    >>> print(keras_code(ARCHITECTURES["lecture-keras"]).split("\\n\\n")[1])
    model = keras.Sequential([
        layers.Conv2D(64, (3, 3), activation='relu', input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation='relu'),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(10, activation='softmax'),
    ])

Both say the same parameter count as the editor; a network the editor cannot hold (joined
branches, layers it does not build) is refused with editing_problem's words.
"""

from __future__ import annotations

from ..basics.formulas import fmt_count
from .arch_text import check_layers, editing_problem
from .keras_code import KERAS_BN_EPS
from .layers import Activation, BatchNorm, Conv, Dense, Dropout, Flatten, Pool
from .models import Architecture, ArchitectureError

__all__ = ["CodeExportError", "keras_code", "pytorch_code"]

_KERAS_ACTIVATIONS = {"relu": "relu", "elu": "elu", "tanh": "tanh", "sigmoid": "sigmoid",
                      "softmax": "softmax", "gelu": "gelu", "swish": "swish"}
_TORCH_ACTIVATIONS = {"relu": "F.relu(x)", "elu": "F.elu(x)", "gelu": "F.gelu(x)",
                      "swish": "F.silu(x)", "tanh": "torch.tanh(x)",
                      "sigmoid": "torch.sigmoid(x)", "softmax": "F.softmax(x, dim=1)"}


class CodeExportError(ArchitectureError):
    """An architecture the export cannot write, in words."""


def _checked(arch: Architecture) -> list:
    problem = editing_problem(arch)
    if problem:
        raise CodeExportError(problem)
    checks = check_layers(arch)
    bad = next((c for c in checks if c.problem), None)
    if bad is not None:
        raise CodeExportError(f"layer {bad.index + 1} ({bad.text}): {bad.problem}; fix it "
                              "before exporting")
    return checks


def _pair(pair) -> str:
    return f"({int(pair[0])}, {int(pair[1])})"


def _number(value: float) -> str:
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


# ---------------------------------------------------------------------------------------
# Keras


def keras_code(arch: Architecture) -> str:
    """The architecture as the lecture's Keras code (CodeExportError for one it cannot say)."""
    checks = _checked(arch)
    c, h, w = arch.input_shape
    lines = []
    first = f"input_shape=({h}, {w}, {c})"
    if (arch.input_mean, arch.input_std) != (0.0, 1.0):
        lines.append(f"layers.Normalization(mean={_number(arch.input_mean)}, "
                     f"variance={_number(arch.input_std)} ** 2, {first})")
        first = ""
    specs = list(arch.layers)
    i = 0
    while i < len(specs):
        spec = specs[i]
        folded = _foldable(spec, specs[i + 1] if i + 1 < len(specs) else None)
        for call in _keras_layer(spec, folded):
            if first:
                call = call[:-1] + (", " if not call.endswith("(") else "") + first + ")"
                first = ""
            lines.append(call)
        i += 2 if folded else 1
    total = sum(ch.parameters for ch in checks)
    body = "\n".join(f"    {line}," for line in lines)
    logits = "" if arch.layers[-1].ends_network else (
        "\n# The last layer gives scores (logits), not probabilities: compile with\n"
        "# loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True).")
    return (f"# {arch.name}: {fmt_count(total)} parameters (written by cnnviz)\n"
            "from tensorflow import keras\n"
            "from tensorflow.keras import layers\n\n"
            f"model = keras.Sequential([\n{body}\n])\n{logits}\n"
            "model.summary()\n")


def _foldable(spec, after) -> str | None:
    """The activation that follows a Conv2D or a Dense, written as its activation=."""
    if isinstance(spec, (Conv, Dense)) and isinstance(after, Activation) \
            and after.kind in _KERAS_ACTIVATIONS and not (after.ends_network and isinstance(spec, Conv)):
        return _KERAS_ACTIVATIONS[after.kind]
    return None


def _keras_layer(spec, activation: str | None) -> list[str]:
    act = f", activation='{activation}'" if activation else ""
    if isinstance(spec, Conv):
        out = []
        (kh, kw), stride, pad = spec.kernel, tuple(spec.stride), tuple(spec.padding)
        args = f"{spec.filters}, {_pair(spec.kernel)}"
        if stride != (1, 1):
            args += f", strides={_pair(stride)}"
        if pad != (0, 0):
            if stride == (1, 1) and kh % 2 and kw % 2 and pad == ((kh - 1) // 2, (kw - 1) // 2):
                args += ", padding='same'"
            else:
                out.append(f"layers.ZeroPadding2D({_pair(pad)})")
        if not spec.bias:
            args += ", use_bias=False"
        return out + [f"layers.Conv2D({args}{act})"]
    if isinstance(spec, Dense):
        return [f"layers.Dense({spec.units}{act})"]
    if isinstance(spec, Pool):
        if spec.kind == "min":
            raise CodeExportError("Keras has no min pooling layer; use max or average pooling "
                                  "to export this network as Keras code")
        name = "MaxPooling2D" if spec.kind == "max" else "AveragePooling2D"
        strides = "" if spec.stride == spec.size else f", strides=({spec.stride}, {spec.stride})"
        return [f"layers.{name}(({spec.size}, {spec.size}){strides})"]
    if isinstance(spec, Activation):
        if spec.kind == "leaky_relu":
            return [f"layers.LeakyReLU(negative_slope={_number(spec.slope)})"]
        return [f"layers.Activation('{_KERAS_ACTIVATIONS[spec.kind]}')"]
    if isinstance(spec, BatchNorm):
        eps = "" if spec.eps == KERAS_BN_EPS else f"epsilon={_number(spec.eps)}"
        return [f"layers.BatchNormalization({eps})"]
    if isinstance(spec, Dropout):
        return [f"layers.Dropout({_number(spec.p)})"]
    if isinstance(spec, Flatten):
        return ["layers.Flatten()"]
    raise CodeExportError(f"no Keras code for {spec.label}")


# ---------------------------------------------------------------------------------------
# PyTorch


def _shape(shape) -> str:
    return "# (B, " + ", ".join(str(int(v)) for v in shape) + ")"


def pytorch_code(arch: Architecture) -> str:
    """The architecture as a PyTorch nn.Module in the style of PyTorch's MNIST example."""
    checks = _checked(arch)
    made, steps = [], []
    counts: dict[str, int] = {}
    c, h, w = arch.input_shape
    if (arch.input_mean, arch.input_std) != (0.0, 1.0):
        steps.append((f"x = (x - {_number(arch.input_mean)}) / {_number(arch.input_std)}",
                      "# the input's normalisation"))
    for check in checks:
        module, step = _torch_step(check.spec, check.in_shape, counts)
        if module:
            made.append(module)
        steps.append((step, _shape(check.output_shape)))
    width = max(len(s) for s, _ in steps)
    forward = "\n".join(f"        {s.ljust(width)}  {comment}" for s, comment in steps)
    total = sum(ch.parameters for ch in checks)
    init = "\n".join(f"        {m}" for m in made) or "        pass"
    return (f"# {arch.name}: {fmt_count(total)} parameters (written by cnnviz)\n"
            "import torch\n"
            "import torch.nn.functional as F\n"
            "from torch import nn\n\n\n"
            "class Net(nn.Module):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            f"{init}\n\n"
            f"    def forward(self, x):  # x: (B, {c}, {h}, {w}), pictures in 0..1\n"
            f"{forward}\n"
            "        return x\n\n\n"
            "model = Net()\n")


def _torch_step(spec, in_shape, counts: dict[str, int]) -> tuple[str | None, str]:
    """(the module made in __init__, or None; the line of forward)."""
    def named(base: str) -> str:
        counts[base] = counts.get(base, 0) + 1
        return f"{base}{counts[base]}"

    if isinstance(spec, Conv):
        name = named("conv")
        kernel = str(spec.kernel[0]) if spec.kernel[0] == spec.kernel[1] else _pair(spec.kernel)
        args = f"{in_shape[0]}, {spec.filters}, {kernel}"
        if tuple(spec.stride) != (1, 1):
            args += f", stride={_pair(spec.stride)}"
        if tuple(spec.padding) != (0, 0):
            args += f", padding={_pair(spec.padding)}"
        if not spec.bias:
            args += ", bias=False"
        return f"self.{name} = nn.Conv2d({args})", f"x = self.{name}(x)"
    if isinstance(spec, Dense):
        name = named("fc")
        return f"self.{name} = nn.Linear({in_shape[0]}, {spec.units})", f"x = self.{name}(x)"
    if isinstance(spec, BatchNorm):
        name = named("bn")
        kind = "BatchNorm2d" if len(in_shape) == 3 else "BatchNorm1d"
        eps = "" if spec.eps == 1e-5 else f", eps={_number(spec.eps)}"
        return f"self.{name} = nn.{kind}({in_shape[0]}{eps})", f"x = self.{name}(x)"
    if isinstance(spec, Dropout):
        name = named("dropout")
        return f"self.{name} = nn.Dropout({_number(spec.p)})", f"x = self.{name}(x)"
    if isinstance(spec, Pool):
        stride = "" if spec.stride == spec.size else f", {spec.stride}"
        if spec.kind == "min":
            return None, f"x = -F.max_pool2d(-x, {spec.size}{stride})  # min pooling"
        fn = "max_pool2d" if spec.kind == "max" else "avg_pool2d"
        return None, f"x = F.{fn}(x, {spec.size}{stride})"
    if isinstance(spec, Flatten):
        return None, "x = torch.flatten(x, 1)"
    if isinstance(spec, Activation):
        if spec.kind == "leaky_relu":
            return None, f"x = F.leaky_relu(x, {_number(spec.slope)})"
        return None, f"x = {_TORCH_ACTIVATIONS[spec.kind]}"
    raise CodeExportError(f"no PyTorch code for {spec.label}")

"""ONNX files (`.onnx`: what torch.onnx.export, Keras, and many courses hand out), read
with the onnx package (a protobuf parser; no code in the file runs, and weights kept in
separate files are not followed) and turned into a cnnviz Network (the same layer specs,
and the same builder, as Keras files), so every view works on it and gradients flow for
saliency:

- Conv (any stride, dilation and groups; pads, uneven ones as a pad layer first;
  auto_pad) -> conv; Gemm and MatMul (+ Add of a constant: the bias) -> dense;
  BatchNormalization -> bn; MaxPool / AveragePool (square, unpadded) -> pool;
  GlobalAveragePool / GlobalMaxPool -> global pool; Flatten, and Reshape to one row per
  picture -> flatten; Relu, LeakyRelu, Elu, Gelu, Sigmoid, Tanh; Softmax, and LogSoftmax
  (pytorch/examples ends with it) at the end -> softmax (probabilities are shown; the
  answer is the same); Dropout; Add and Concat of two branches; Cast, Identity.
- A Keras model exported to ONNX takes channels-last pictures: a first Transpose
  (0, 3, 1, 2) is the layout, and Transpose (0, 2, 3, 1) before a flatten is Keras's
  pixel-by-pixel flatten order.

Anything else is refused naming the node's op and the list of what is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .graph_builder import GraphBuilder

__all__ = ["OnnxFileError", "SUPPORTED_OPS", "is_onnx", "read_onnx"]

SUPPORTED_OPS = ("Conv", "Gemm", "MatMul", "Add", "BatchNormalization", "MaxPool", "AveragePool",
                 "GlobalAveragePool", "GlobalMaxPool", "Flatten", "Reshape", "Transpose", "Relu",
                 "LeakyRelu", "Elu", "Gelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
                 "Dropout", "Concat", "Cast", "Identity", "Constant", "Shape", "Gather", "Slice",
                 "Unsqueeze", "Squeeze")
_ACTIVATIONS = {"Relu": "relu", "Elu": "elu", "Gelu": "gelu", "Sigmoid": "sigmoid",
                "Tanh": "tanh"}
_PASS_THROUGH = ("Cast", "Identity")
_SHAPE_OPS = ("Shape", "Gather", "Slice", "Concat", "Cast", "Unsqueeze", "Squeeze")


# ModelProto's length-delimited fields 2-8, 10, 14, 20 (producer_name ... graph, opset_import,
# metadata_props, training_info, functions): what follows the IR version in an ONNX file
_MODEL_FIELD_TAGS = {0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x42, 0x52, 0x72, 0xA2}


class OnnxFileError(ValueError):
    """An ONNX file cnnviz cannot read; the message says why in plain words."""


def is_onnx(raw: bytes, suffix: str = "") -> bool:
    """An ONNX model's bytes: a protobuf ModelProto, whose first field is its IR version
    (tag 0x08, a small number) followed by another of its fields (the producer's name, the
    graph, the opset...), or a .onnx file that is not a safetensors file (a damaged ONNX file
    is then refused as ONNX). A safetensors file's third byte is its header length's, 0 for
    every header cnnviz opens."""
    if raw[8:9] == b"{":  # safetensors: an 8-byte header length, then its JSON
        return False
    return suffix.lower() == ".onnx" or (len(raw) > 2 and raw[0] == 0x08 and 3 <= raw[1] <= 30
                                         and raw[2] in _MODEL_FIELD_TAGS)


def _parse(raw: bytes):
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load_model_from_string(raw)  # (bytes: external data is never looked up)
    except (DecodeError, ValueError, RuntimeError, RecursionError) as exc:
        raise OnnxFileError(f"it is not a valid ONNX file ({str(exc)[:120]})") from None
    if not model.HasField("graph"):
        raise OnnxFileError("it is not an ONNX model (it has no graph)")
    return model


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _two(values, what: str) -> tuple[int, int]:
    """An attribute of two whole numbers (rows, columns), as Conv's strides and dilations."""
    numbers = [int(v) for v in values]
    if len(numbers) != 2:
        raise OnnxFileError(f"{what} must be two numbers (rows, columns), got {numbers}")
    return numbers[0], numbers[1]


def _array(tensor, what: str) -> np.ndarray:
    from onnx import TensorProto, numpy_helper

    if tensor.data_location == TensorProto.EXTERNAL:
        raise OnnxFileError(f"{what}: its numbers are kept in a separate file, which cnnviz "
                            "does not read (save the model with its weights inside)")
    try:
        return numpy_helper.to_array(tensor)
    except (ValueError, TypeError) as exc:
        raise OnnxFileError(f"{what}: its numbers cannot be read ({exc})") from None


class _Reader(GraphBuilder):
    """Walks the graph's nodes (ONNX keeps them in an order where each comes after what it
    reads), adding cnnviz specs."""

    def __init__(self, graph):
        self.constants: dict[str, np.ndarray] = {}
        for tensor in graph.initializer:
            self.constants[tensor.name] = _array(tensor, f"initialiser {tensor.name[:60]!r}")
        inputs = [i for i in graph.input if i.name not in self.constants]
        if len(inputs) != 1:
            raise OnnxFileError(f"the model has {len(inputs)} inputs; cnnviz shows models "
                                "with one picture as input")
        dims = [d.dim_value if d.HasField("dim_value") else None
                for d in inputs[0].type.tensor_type.shape.dim]
        sizes = [v for v in dims[1:] if isinstance(v, int) and v > 0]
        if len(dims) != 4 or len(sizes) != 3:
            raise OnnxFileError(f"the model's input must be pictures (batch, channels, height, "
                                f"width); its shape is {dims}")
        self.layout = sizes  # (C, H, W), or (H, W, C) until a first Transpose says so
        super().__init__((sizes[0], sizes[1], sizes[2]), OnnxFileError)
        self.produced: dict[str, int] = {inputs[0].name: 0}
        self.channels_last: dict[str, int] = {}  # maps read pixel by pixel (before a flatten)
        self.first = inputs[0].name
        self.consumers: dict[str, int] = {}
        for node in graph.node:
            for name in node.input:
                self.consumers[name] = self.consumers.get(name, 0) + 1

    def _read(self, node, i: int = 0) -> int:
        name = node.input[i] if i < len(node.input) else ""
        if name in self.produced:
            return self.produced[name]
        if name in self.channels_last:
            raise OnnxFileError(f"node {self._name(node)} ({node.op_type}) reads maps in "
                                "Keras's channels-last order; cnnviz reads those only to "
                                "flatten them")
        raise OnnxFileError(f"node {self._name(node)} ({node.op_type}) reads {name[:60]!r}, "
                            "which no node before it makes")

    @staticmethod
    def _name(node) -> str:
        return repr((node.name or node.output[0])[:60])

    def _constant(self, node, i: int):
        name = node.input[i] if i < len(node.input) else ""
        return self.constants.get(name)

    def _done(self, node, output: int) -> None:
        self.produced[node.output[0]] = output

    def node(self, node) -> None:

        op, name = node.op_type, self._name(node)
        a = _attrs(node)
        if node.domain not in ("", "ai.onnx"):
            raise OnnxFileError(f"node {name} is {node.domain}.{op}, outside ONNX's own ops")
        if op == "Constant":
            value = a.get("value")
            if value is None:
                raise OnnxFileError(f"node {name} (Constant) holds no tensor")
            self.constants[node.output[0]] = _array(value, f"node {name}")
            return
        if op in _SHAPE_OPS and self._shape_arithmetic(node, op, a):
            return
        if op == "Reshape" and self._input_layout(node):
            return
        if op in _PASS_THROUGH or (op == "Dropout" and len(node.output) > 1
                                   and node.output[1] in self.consumers):
            self._done(node, self._read(node))
            return
        if op == "Transpose":
            self._transpose(node, a)
            return
        if op in ("Flatten", "Reshape"):
            self._flatten(node, op, a)
            return
        self.tip = self._read(node)
        handler = {"Conv": self._conv, "Gemm": self._dense, "MatMul": self._dense,
                   "Add": self._add, "Concat": self._concat,
                   "BatchNormalization": self._batch_norm, "MaxPool": self._pool,
                   "AveragePool": self._pool, "GlobalAveragePool": self._global_pool,
                   "GlobalMaxPool": self._global_pool, "LeakyRelu": self._activation,
                   "Softmax": self._softmax, "LogSoftmax": self._softmax,
                   "Dropout": self._dropout, **dict.fromkeys(_ACTIVATIONS, self._activation)
                   }.get(op)
        if handler is None:
            raise OnnxFileError(f"node {name} is {op}, which cnnviz does not read yet; it "
                                f"reads {', '.join(SUPPORTED_OPS)}")
        handler(node, op, a)
        self._done(node, self.tip)

    def _add(self, node, op: str, a) -> None:
        from .layers import Add

        constant = self._constant(node, 1) if self._constant(node, 0) is None \
            else self._constant(node, 0)
        if constant is not None:
            self._add_bias(node, constant)
        else:
            self.add(Add(), None, self._name(node), (self.tip, self._read(node, 1)))

    def _concat(self, node, op: str, a) -> None:
        from .layers import Concat

        axis = a.get("axis", 1)
        reads = tuple(self._read(node, i) for i in range(len(node.input)))
        if axis not in (1, -3 if len(self.shapes[reads[0]]) == 3 else -1):  # the channels
            raise OnnxFileError(f"node {self._name(node)} (Concat): cnnviz joins along the "
                                f"channels (axis 1), not axis {axis}")
        self.add(Concat(), None, self._name(node), reads)

    def _batch_norm(self, node, op: str, a) -> None:
        from .layers import BatchNorm

        name = self._name(node)
        if a.get("training_mode", 0):
            raise OnnxFileError(f"node {name} (BatchNormalization) is in training mode")
        values = [self._constant(node, i) for i in range(1, 5)]
        if any(v is None for v in values):
            raise OnnxFileError(f"node {name} (BatchNormalization): its statistics must be "
                                "constants")
        scale, bias, mean, var = (np.asarray(v, np.float32).reshape(-1) for v in values)
        self.add(BatchNorm(eps=float(a.get("epsilon", 1e-5))),
                 {"weight": scale, "bias": bias, "running_mean": mean, "running_var": var}, name)

    def _global_pool(self, node, op: str, a) -> None:
        from .layers import GlobalPool

        self.add(GlobalPool("max" if op == "GlobalMaxPool" else "avg"), None, self._name(node))

    def _activation(self, node, op: str, a) -> None:
        from .layers import Activation

        name = self._name(node)
        if op == "LeakyRelu":
            self.add(Activation("leaky_relu", slope=float(np.float32(a.get("alpha", 0.01)))),
                     None, name)
            return
        if op == "Gelu" and a.get("approximate", b"none") not in (b"none", "none"):
            raise OnnxFileError(f"node {name} (Gelu): the tanh approximation is not read")
        if op == "Elu" and abs(a.get("alpha", 1.0) - 1.0) > 1e-6:
            raise OnnxFileError(f"node {name} (Elu): cnnviz shows ELU with alpha 1")
        self.add(Activation(_ACTIVATIONS[op]), None, name)

    def _softmax(self, node, op: str, a) -> None:
        from .layers import Activation

        if a.get("axis", -1) not in (-1, 1) or len(self.shape) != 1:
            raise OnnxFileError(f"node {self._name(node)} ({op}): cnnviz reads a softmax over "
                                "the classes at the end")
        self.log_softmax = op == "LogSoftmax"
        self.add(Activation("softmax"), None, self._name(node))

    def _dropout(self, node, op: str, a) -> None:
        from .layers import Dropout

        ratio = self._constant(node, 1)
        p = float(ratio) if ratio is not None and np.size(ratio) == 1 else a.get("ratio", 0.5)
        self.add(Dropout(float(p) if 0 <= p < 1 else 0.5), None, self._name(node))

    def _shape_arithmetic(self, node, op: str, a) -> bool:
        """The arithmetic exporters (tf2onnx) put on shapes: Shape of a layer's output, and
        Gather, Slice, Concat, Cast, Unsqueeze, Squeeze of constants, worked out here (the
        batch is 1). False when it is not shape arithmetic (a Concat of two branches)."""
        if op == "Shape":
            name = node.input[0]
            if name in self.channels_last:
                c, h, w = self.shapes[self.channels_last[name]]
                dims = [1, h, w, c]
            elif name in self.produced:
                dims = [1, *self.shapes[self.produced[name]]]
            else:
                return False
            self.constants[node.output[0]] = np.array(dims, np.int64)
            return True
        found = [self.constants.get(i) for i in node.input if i]
        values = [v for v in found if v is not None]
        if not values or len(values) != len(found):
            return False
        try:
            if op == "Gather":
                out = np.take(values[0], values[1], axis=a.get("axis", 0))
            elif op == "Slice":
                starts, ends = (np.ravel(v).astype(int) for v in values[1:3])
                axes = np.ravel(values[3]).astype(int) if len(values) > 3 else range(len(starts))
                steps = np.ravel(values[4]).astype(int) if len(values) > 4 else [1] * len(starts)
                index = [slice(None)] * np.ndim(values[0])
                for axis, b, e, st in zip(axes, starts, ends, steps):
                    index[axis] = slice(int(b), int(min(e, 2**31)), int(st))
                out = values[0][tuple(index)]
            elif op == "Concat":
                out = np.concatenate([np.atleast_1d(v) for v in values], axis=a.get("axis", 0))
            elif op == "Cast":
                out = np.asarray(values[0])
            elif op == "Unsqueeze":
                axes = a.get("axes", list(np.ravel(values[1])) if len(values) > 1 else [0])
                out = np.expand_dims(values[0], tuple(int(x) for x in axes))
            else:  # Squeeze
                axes = a.get("axes", list(np.ravel(values[1])) if len(values) > 1 else None)
                out = np.squeeze(values[0], None if axes is None else tuple(int(x) for x in axes))
        except (ValueError, IndexError, TypeError) as exc:
            raise OnnxFileError(f"node {self._name(node)} ({op}): {exc}") from None
        self.constants[node.output[0]] = np.asarray(out)
        return True

    def _input_layout(self, node) -> bool:
        """A Keras export of one-channel pictures: a Reshape of the (batch, H, W, 1) input to
        (batch, 1, H, W) (the same numbers: with one channel the layouts agree)."""
        target = self._constant(node, 1)
        if node.input[0] != self.first or self.specs or target is None or np.size(target) != 4:
            return False
        h, w, c = self.layout
        if c != 1 or [int(v) for v in np.ravel(target)[1:]] != [1, h, w]:
            return False
        self.shapes[0] = (1, h, w)
        self.produced[node.output[0]] = 0
        return True

    def _transpose(self, node, a) -> None:
        perm = list(a.get("perm", []))
        name = node.input[0]
        if name == self.first and perm == [0, 3, 1, 2] and len(self.specs) == 0:
            h, w, c = self.layout  # a Keras export: the file takes (batch, H, W, C)
            self.shapes[0] = (c, h, w)
            self.produced[node.output[0]] = 0
            return
        source = self._read(node)
        if perm == [0, 2, 3, 1] and len(self.shapes[source]) == 3:
            self.channels_last[node.output[0]] = source  # Keras's flatten order, next
            return
        raise OnnxFileError(f"node {self._name(node)} (Transpose {perm}): cnnviz reads a "
                            "transpose only as a Keras export's layout")

    def _flatten(self, node, op: str, a) -> None:
        from .layers import Flatten

        name = node.input[0]
        order = "hwc" if name in self.channels_last else "chw"
        source = self.channels_last[name] if order == "hwc" else self._read(node)
        shape = self.shapes[source]
        if op == "Reshape":
            target = self._constant(node, 1)
            flat = int(np.prod(shape))
            if target is None or np.size(target) != 2 or int(np.ravel(target)[1]) not in (-1, flat) \
                    or int(np.ravel(target)[0]) not in (-1, 0, 1):
                raise OnnxFileError(f"node {self._name(node)} (Reshape): cnnviz reads a "
                                    "reshape to one row per picture (a flatten), not to "
                                    f"{None if target is None else np.ravel(target).tolist()}")
        elif a.get("axis", 1) != 1:
            raise OnnxFileError(f"node {self._name(node)} (Flatten): only axis 1 is read")
        if len(shape) == 1:  # already flat (after global pooling): nothing to do
            self._done(node, source)
            return
        self.tip = source
        self.add(Flatten(order=order), None, self._name(node))
        self._done(node, self.tip)

    def _conv(self, node, op: str, a) -> None:
        from .layers import Conv, Pad

        name = self._name(node)
        weight, bias = self._constant(node, 1), self._constant(node, 2)
        if weight is None or weight.ndim != 4:
            raise OnnxFileError(f"node {name} (Conv): its weights must be a constant 4-D tensor")
        if len(node.input) > 2 and node.input[2] and bias is None:
            raise OnnxFileError(f"node {name} (Conv): its bias must be a constant")
        filters, _, kh, kw = weight.shape
        group = int(a.get("group", 1))
        stride = _two(a.get("strides", [1, 1]), f"node {name} (Conv): strides")
        dilation = _two(a.get("dilations", [1, 1]), f"node {name} (Conv): dilations")
        pads = [int(v) for v in a.get("pads", [0, 0, 0, 0])]
        auto = a.get("auto_pad", b"NOTSET")
        auto = auto.decode() if isinstance(auto, bytes) else str(auto)
        if len(self.shape) != 3:
            raise OnnxFileError(f"node {name} (Conv) needs feature maps")
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            sides = []  # (before, after) for rows, then columns
            for n, k, s, d in zip(self.shape[1:], (kh, kw), stride, dilation):
                total = max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
                small, big = total // 2, total - total // 2
                sides.append((big, small) if auto == "SAME_LOWER" else (small, big))
            pads = [sides[0][0], sides[1][0], sides[0][1], sides[1][1]]
        elif auto not in ("NOTSET", "VALID"):
            raise OnnxFileError(f"node {name} (Conv): auto_pad {auto!r} is not read")
        top, left, bottom, right = pads
        padding = (top, left)
        if (top, left) != (bottom, right):
            self.add(Pad(top, bottom, left, right), None, name)
            padding = (0, 0)
        tensors = {"weight": np.asarray(weight, np.float32)}
        if bias is not None:
            tensors["bias"] = np.asarray(bias, np.float32).reshape(-1)
        self.add(Conv(int(filters), (int(kh), int(kw)), stride, padding, bias is not None,
                      groups=group, dilation=dilation), tensors, name)

    def _dense(self, node, op: str, a) -> None:
        from .layers import Dense

        name = self._name(node)
        weight = self._constant(node, 1)
        if weight is None or weight.ndim != 2 or len(self.shape) != 1:
            raise OnnxFileError(f"node {name} ({op}): cnnviz reads a flat input times a "
                                "constant matrix")
        if op == "Gemm":
            if a.get("transA", 0):
                raise OnnxFileError(f"node {name} (Gemm): transA is not read")
            weight = weight if a.get("transB", 0) else weight.T  # -> (out, in)
            weight = weight * np.float32(a.get("alpha", 1.0))
            bias = self._constant(node, 2)
            bias = np.zeros(weight.shape[0], np.float32) if bias is None \
                else np.broadcast_to(np.asarray(bias, np.float32) * np.float32(a.get("beta", 1.0)),
                                     (weight.shape[0],))
        else:
            weight, bias = weight.T, np.zeros(weight.shape[1], np.float32)
        self.add(Dense(int(weight.shape[0])), {"weight": np.asarray(weight, np.float32),
                                               "bias": np.array(bias, np.float32)}, name)

    def _add_bias(self, node, constant) -> None:
        """Add of a constant: the bias of the dense or conv layer right before it (what
        MatMul + Add, and some exporters' Conv + Add, are)."""
        k = self.tip - 1  # the spec whose output this is
        spec = self.specs[k] if 0 <= k < len(self.specs) else None
        c = np.asarray(constant, np.float32)
        channels = self.shape[0]
        if spec is None or spec.type not in ("dense", "conv") or c.size not in (1, channels):
            raise OnnxFileError(f"node {self._name(node)} (Add): cnnviz reads the addition of "
                                "a constant only as the bias of the layer before it")
        tensors = self.tensors[k]
        if spec.type == "conv" and not spec.bias:
            from dataclasses import replace

            self.specs[k] = replace(spec, bias=True)
            tensors["bias"] = np.zeros(channels, np.float32)
        tensors["bias"] = tensors["bias"] + np.broadcast_to(c.reshape(-1), (channels,))
        self._done(node, self.tip)

    def _pool(self, node, op: str, a) -> None:
        from .layers import Pool

        name = self._name(node)
        kernel = [int(v) for v in a.get("kernel_shape", [])]
        stride = [int(v) for v in a.get("strides", kernel)]
        pads = [int(v) for v in a.get("pads", [0, 0, 0, 0])]
        if len(kernel) != 2 or kernel[0] != kernel[1] or stride[0] != stride[1] or any(pads) \
                or a.get("ceil_mode", 0) or any(int(v) != 1 for v in a.get("dilations", [1, 1])):
            raise OnnxFileError(f"node {name} ({op}): cnnviz pools with square, unpadded "
                                f"windows (kernel {kernel}, strides {stride}, pads {pads})")
        self.add(Pool("max" if op == "MaxPool" else "avg", kernel[0], stride[0]), None, name)


def read_onnx(raw: bytes, path: Path | None = None):
    """An .onnx file's bytes -> a cnnviz LoadedModel; OnnxFileError in words."""

    model = _parse(raw)
    graph = model.graph
    reader = _Reader(graph)
    for node in graph.node:
        reader.node(node)
    outputs = [o.name for o in graph.output]
    if len(outputs) != 1:
        raise OnnxFileError(f"the model has {len(outputs)} outputs; cnnviz shows models with one")
    if reader.produced.get(outputs[0]) != len(reader.specs):
        raise OnnxFileError("the model's output is not its last layer")
    stem = path.stem if path is not None else "onnx model"
    producer = f"{model.producer_name} {model.producer_version}".strip() or "an unknown tool"
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), "?")
    made_with = f"ONNX opset {opset}, from {producer}"[:80]
    return reader.loaded(stem, "an ONNX model", made_with, path)

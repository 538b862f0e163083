"""PyTorch networks made elsewhere: a torch.export `.pt2` file, read with zip and JSON
(never torch.export.load, which may unpickle), a TorchScript file (torch.jit.save; its
graph's every operator checked before it is frozen or run), or a torch.nn.Module in
memory (through torch.export.export). Both give the same ATen graph, whose ops are checked against
SUPPORTED_OPS before anything runs and turned into cnnviz layer specs (the builder the
Keras and ONNX readers use), so every view works on it.

    loaded = read_pt2(raw, path)                  # a file
    loaded = from_module(model, (1, 28, 28))      # the network a notebook just trained
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np

from ..basics.files import zip_names
from .graph_builder import GraphBuilder

__all__ = ["SUPPORTED_OPS", "TorchGraphError", "from_module", "is_pt2", "is_torchscript",
           "pt2_names", "read_pt2", "read_torchscript", "torchscript_names"]

SUPPORTED_OPS = ("conv2d", "linear", "relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid",
                 "tanh", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "dropout",
                 "flatten", "view", "reshape", "batch_norm",
                 "_native_batch_norm_legit_no_training", "add", "cat", "log_softmax",
                 "softmax", "_softmax", "_log_softmax", "clone", "contiguous", "getitem")
_ACTIVATIONS = {"relu": "relu", "elu": "elu", "gelu": "gelu", "silu": "swish",
                "sigmoid": "sigmoid", "tanh": "tanh"}
_DTYPES = {7: np.float32, 6: np.float16, 8: np.float64}  # torch.export's ScalarType codes
MAX_MODEL_JSON = 20_000_000
MAX_WEIGHT_FILES = 10_000


class TorchGraphError(ValueError):
    """A PyTorch network cnnviz cannot read; the message says why in plain words."""


def pt2_names(names: list[str]) -> bool:
    """A torch.export archive, by the names in its zip: <name>/archive_format is there."""
    return any(n.endswith("/archive_format") for n in names)


def is_pt2(raw: bytes) -> bool:
    return pt2_names(zip_names(raw))


# ----- the graph, as (op, {argument: value}, output) -------------------------------------------

class _Ref(str):
    """An argument that names a tensor of the graph (not a constant)."""


def _short(target: str) -> str:
    """'torch.ops.aten.conv2d.default' -> 'conv2d' (checked to be an aten op)."""
    parts = target.split(".")
    if "aten" not in parts:
        raise TorchGraphError(f"the graph calls {target[:80]!r}, which is not one of PyTorch's "
                              "own operators; cnnviz reads " + ", ".join(SUPPORTED_OPS))
    return parts[parts.index("aten") + 1]


def _json_arg(arg: dict):
    if not isinstance(arg, dict) or len(arg) != 1:
        raise TorchGraphError("the graph's JSON is not torch.export's")
    kind, value = next(iter(arg.items()))
    if kind == "as_tensor":
        return _Ref(value["name"])
    if kind == "as_tensors":
        return [_Ref(v["name"]) for v in value]
    if kind in ("as_int", "as_float", "as_bool", "as_ints", "as_floats", "as_bools",
                "as_string"):
        return value
    if kind == "as_none":
        return None
    raise TorchGraphError(f"the graph holds an argument of kind {kind[:40]!r}, which cnnviz "
                          "does not read")


def _nodes_from_json(graph: dict) -> list[tuple[str, dict, str]]:
    out = []
    for node in graph.get("nodes", []):
        op = _short(str(node.get("target", "")))
        args = {a["name"]: _json_arg(a["arg"]) for a in node.get("inputs", [])}
        outputs = node.get("outputs", [])
        first = outputs[0] if outputs else {}
        name = (first.get("as_tensor") or {}).get("name") if isinstance(first, dict) else None
        if name is None and op in ("_native_batch_norm_legit_no_training",):
            name = (first.get("as_tensors") or [{}])[0].get("name") if isinstance(first, dict) else None
        if name is None:
            raise TorchGraphError(f"the graph's {op} node gives no tensor cnnviz can follow")
        out.append((op, args, name))
    return out


def _nodes_from_program(program) -> list[tuple[str, dict, str]]:
    import torch

    out = []
    for node in program.graph_module.graph.nodes:
        if node.op != "call_function":
            continue
        target = node.target
        if target.__module__ == "_operator" and target.__name__ == "getitem":
            out.append(("getitem", {"self": _Ref(node.args[0].name), "index": node.args[1]},
                        node.name))
            continue
        if not isinstance(target, torch._ops.OpOverload):
            raise TorchGraphError(f"the graph calls {str(target)[:80]}, which cnnviz does not read")
        op = _short(str(target))
        schema = target._schema.arguments
        args = {}
        for spec, value in zip(schema, node.args):
            args[spec.name] = _convert(value)
        for key, value in node.kwargs.items():
            args[key] = _convert(value)
        out.append((op, args, node.name))
    return out


def _convert(value):
    import torch.fx

    if isinstance(value, torch.fx.Node):
        return _Ref(value.name)
    if isinstance(value, (list, tuple)):
        return [_convert(v) for v in value]
    return value


# ----- ATen ops -> cnnviz specs --------------------------------------------------------------


class _Reader(GraphBuilder):
    def __init__(self, input_name: str, input_shape: tuple[int, int, int], weights: dict):
        super().__init__(input_shape, TorchGraphError)
        self.weights = weights  # graph tensor name -> numpy array (parameters and buffers)
        self.produced = {input_name: 0}

    def _tensor(self, value, op: str) -> int:
        if isinstance(value, _Ref) and value in self.produced:
            return self.produced[value]
        raise TorchGraphError(f"the graph's {op} reads {str(value)[:60]!r}, which is not the "
                              "output of a layer before it")

    def _weight(self, value, op: str, optional: bool = False):
        if value is None and optional:
            return None
        if isinstance(value, _Ref) and value in self.weights:
            return np.asarray(self.weights[value], np.float32)
        raise TorchGraphError(f"the graph's {op} takes {str(value)[:60]!r} as its weights; "
                              "cnnviz reads weights that are the network's own parameters")

    def node(self, op: str, a: dict, out: str) -> None:
        op = op.rstrip("_") if op.endswith("_") and not op.startswith("_") else op  # relu_
        if op not in SUPPORTED_OPS:
            raise TorchGraphError(f"the graph uses aten.{op[:60]}, which cnnviz does not read; "
                                  f"it reads {', '.join(SUPPORTED_OPS)}")
        if op == "cat":
            self.produced[out] = self._cat(a, out)
            return
        source = self._tensor(a.get("self", a.get("input")), op)
        self.tip = source
        if op in ("clone", "contiguous", "getitem") or (op == "dropout" and not a.get("p")):
            self.produced[out] = source  # nothing a view would show
            return
        if op in ("flatten", "view", "reshape"):
            self.produced[out] = self._flatten(op, a, source, out)
            return
        handler = {"add": self._add, "conv2d": self._conv, "linear": self._linear,
                   "leaky_relu": self._leaky_relu, "max_pool2d": self._pool,
                   "avg_pool2d": self._pool, "adaptive_avg_pool2d": self._global_pool,
                   "dropout": self._dropout, "batch_norm": self._batch_norm,
                   "_native_batch_norm_legit_no_training": self._batch_norm}.get(op)
        if handler is not None:
            handler(op, a, out)
        elif op in _ACTIVATIONS:
            self._activation(op, a, out)
        else:  # the softmaxes
            self._softmax(op, a, out)
        self.produced[out] = self.tip

    def _cat(self, a: dict, out: str) -> int:
        from .layers import Concat

        reads = tuple(self._tensor(t, "cat") for t in a.get("tensors", []))
        dim = a.get("dim", 0)
        if len(reads) < 2 or dim not in (1, -3 if len(self.shapes[reads[0]]) == 3 else -1):
            raise TorchGraphError(f"cat along dim {dim}: cnnviz joins along the channels")
        return self.add(Concat(), None, out, reads)

    def _add(self, op: str, a: dict, out: str) -> None:
        from .layers import Add

        other = a.get("other")
        if a.get("alpha", 1) != 1 or not isinstance(other, _Ref):
            raise TorchGraphError("add: cnnviz reads the sum of two layers' outputs")
        self.add(Add(), None, out, (self.tip, self._tensor(other, op)))

    def _flatten(self, op: str, a: dict, source: int, out: str) -> int:
        from .layers import Flatten

        shape = self.shapes[source]
        if op == "flatten":
            ok = a.get("start_dim", 0) == 1 and a.get("end_dim", -1) == -1
        else:
            target = a.get("size", a.get("shape", []))
            ok = isinstance(target, list) and len(target) == 2 \
                and target[1] in (-1, int(np.prod(shape)))
        if not ok:
            raise TorchGraphError(f"{op}: cnnviz reads a flatten to one row per picture")
        return source if len(shape) == 1 else self.add(Flatten(), None, out)

    def _conv(self, op: str, a: dict, out: str) -> None:
        from .layers import Conv

        w = self._weight(a.get("weight"), op)
        b = self._weight(a.get("bias"), op, optional=True)
        if isinstance(a.get("padding"), str):
            raise TorchGraphError("conv2d: padding by name ('same') is not read yet")
        tensors = {"weight": w} | ({"bias": b} if b is not None else {})
        self.add(Conv(int(w.shape[0]), (int(w.shape[2]), int(w.shape[3])),
                      _pair(a.get("stride"), 1), _pair(a.get("padding"), 0), b is not None,
                      groups=int(a.get("groups", 1)), dilation=_pair(a.get("dilation"), 1)),
                 tensors, out)

    def _linear(self, op: str, a: dict, out: str) -> None:
        from .layers import Dense

        w = self._weight(a.get("weight"), op)
        b = self._weight(a.get("bias"), op, optional=True)
        self.add(Dense(int(w.shape[0])), {"weight": w, "bias": b if b is not None
                                          else np.zeros(w.shape[0], np.float32)}, out)

    def _activation(self, op: str, a: dict, out: str) -> None:
        from .layers import Activation

        if op == "gelu" and a.get("approximate", "none") != "none":
            raise TorchGraphError("gelu: the tanh approximation is not read")
        self.add(Activation(_ACTIVATIONS[op]), None, out)

    def _leaky_relu(self, op: str, a: dict, out: str) -> None:
        from .layers import Activation

        self.add(Activation("leaky_relu", slope=float(a.get("negative_slope", 0.01))), None, out)

    def _pool(self, op: str, a: dict, out: str) -> None:
        from .layers import Pool

        kernel = _pair(list(a.get("kernel_size", [])), 0)
        stride = _pair(list(a.get("stride") or kernel), 0)
        if kernel[0] != kernel[1] or stride[0] != stride[1] or any(a.get("padding") or [0]) \
                or a.get("ceil_mode"):
            raise TorchGraphError(f"{op}: cnnviz pools with square, unpadded windows")
        self.add(Pool("max" if op == "max_pool2d" else "avg", int(kernel[0]), int(stride[0])),
                 None, out)

    def _global_pool(self, op: str, a: dict, out: str) -> None:
        from .layers import GlobalPool

        if list(a.get("output_size", [])) not in ([1, 1], [1]):
            raise TorchGraphError("adaptive_avg_pool2d: only to 1×1 (global average pooling)")
        self.add(GlobalPool("avg"), None, out)

    def _dropout(self, op: str, a: dict, out: str) -> None:
        from .layers import Dropout

        self.add(Dropout(float(a["p"])), None, out)

    def _batch_norm(self, op: str, a: dict, out: str) -> None:
        from .layers import BatchNorm

        if a.get("training"):
            raise TorchGraphError("batch_norm in training mode is not read")
        weight = self._weight(a.get("weight"), op, optional=True)
        bias = self._weight(a.get("bias"), op, optional=True)
        mean, var = self._weight(a.get("running_mean"), op), self._weight(a.get("running_var"), op)
        n = mean.shape[0]
        self.add(BatchNorm(eps=float(a.get("eps", 1e-5))),
                 {"weight": weight if weight is not None else np.ones(n, np.float32),
                  "bias": bias if bias is not None else np.zeros(n, np.float32),
                  "running_mean": mean, "running_var": var}, out)

    def _softmax(self, op: str, a: dict, out: str) -> None:
        from .layers import Activation

        if a.get("dim", -1) not in (-1, 1) or len(self.shape) != 1:
            raise TorchGraphError(f"{op}: cnnviz reads a softmax over the classes at the end")
        self.log_softmax = "log" in op
        self.add(Activation("softmax"), None, out)


def _pair(value, default: int) -> tuple[int, int]:
    """[3] or [3, 3] or 3 -> (3, 3); empty -> (default, default)."""
    if isinstance(value, int):
        return value, value
    if isinstance(value, list) and value:
        return (int(value[0]), int(value[-1]))
    return default, default


def _network(nodes, input_name, input_shape, weights, output_name, name, made_with):

    for op, _, _ in nodes:  # every op checked before anything is built or run
        if op not in SUPPORTED_OPS:
            raise TorchGraphError(f"the graph uses aten.{op[:60]}, which cnnviz does not read; "
                                  f"it reads {', '.join(SUPPORTED_OPS)}")
    reader = _Reader(input_name, input_shape, weights)
    for node in nodes:
        reader.node(*node)
    if reader.produced.get(output_name) != len(reader.specs):
        raise TorchGraphError("the network's output is not its last layer")
    return reader.loaded(name, "a PyTorch network", made_with)


def read_pt2(raw: bytes, path: Path | None = None):
    """A torch.export archive's bytes -> a cnnviz LoadedModel, read with zip and JSON (the
    weights as raw numbers; a pickled one is refused, never unpickled)."""
    try:
        z = zipfile.ZipFile(io.BytesIO(raw))
        names = z.namelist()
        model_json = next(n for n in names if n.endswith("/models/model.json"))
        prefix = model_json[: -len("models/model.json")]
        if z.getinfo(model_json).file_size > MAX_MODEL_JSON or len(names) > MAX_WEIGHT_FILES:
            raise TorchGraphError("the archive is larger than a network cnnviz opens")
        program = json.loads(z.read(model_json))
        config = json.loads(z.read(prefix + "data/weights/model_weights_config.json"))["config"]
        gm = program["graph_module"]
        weights_by_fqn = {}
        for fqn, entry in config.items():
            if entry.get("use_pickle"):
                raise TorchGraphError(f"its weight {fqn[:60]!r} is pickled; cnnviz never "
                                      "unpickles a file (pickles can run code)")
            meta = entry["tensor_meta"]
            dtype = _DTYPES.get(meta.get("dtype"))
            if dtype is None:
                raise TorchGraphError(f"its weight {fqn[:60]!r} is not floating-point")
            sizes = [int(s["as_int"]) for s in meta["sizes"]]
            data = np.frombuffer(z.read(prefix + "data/weights/" + entry["path_name"]), dtype)
            if data.size != int(np.prod(sizes)):
                raise TorchGraphError(f"its weight {fqn[:60]!r} holds {data.size} numbers, "
                                      f"not {int(np.prod(sizes))}")
            weights_by_fqn[fqn] = data.reshape(sizes).astype(np.float32)
        signature = gm["signature"]
        weights, user_inputs = {}, []
        for spec in signature["input_specs"]:
            kind, value = next(iter(spec.items()))
            if kind in ("parameter", "buffer"):
                fqn = value.get("parameter_name") or value.get("buffer_name")
                weights[value["arg"]["name"]] = weights_by_fqn[fqn]
            elif kind == "user_input":
                user_inputs.append(value["arg"]["as_tensor"]["name"])
            else:
                raise TorchGraphError(f"the graph takes a {kind[:40]}, which cnnviz does not read")
        outputs = [s["user_output"]["arg"]["as_tensor"]["name"]
                   for s in signature["output_specs"] if "user_output" in s]
        nodes = _nodes_from_json(gm["graph"])
        if len(user_inputs) != 1 or len(outputs) != 1:
            raise TorchGraphError("cnnviz shows networks with one input and one output")
        meta = gm["graph"]["tensor_values"][user_inputs[0]]
        shape = tuple(int(s["as_int"]) if "as_int" in s else -1 for s in meta["sizes"])
    except TorchGraphError:
        raise
    except (zipfile.BadZipFile, StopIteration, KeyError, TypeError, ValueError, AttributeError,
            OSError, RecursionError, EOFError) as exc:
        raise TorchGraphError(f"it is not a torch.export archive cnnviz can read ({type(exc).__name__}: "
                              f"{str(exc)[:80]})") from None
    if len(shape) != 4 or min(shape[1:]) < 1:
        raise TorchGraphError(f"its input must be pictures (batch, channels, height, width), "
                              f"not {shape}")
    stem = path.stem if path is not None else "pytorch model"
    made_with = f"torch.export, PyTorch {str(program.get('torch_version', '?'))[:20]}"
    return _network(nodes, user_inputs[0], shape[1:], weights, outputs[0], stem, made_with)


def from_module(module, input_shape: tuple[int, int, int] = (1, 28, 28), name: str | None = None):
    """A torch.nn.Module (the network a notebook just trained) -> a cnnviz LoadedModel,
    through torch.export.export on one picture of input_shape (C, H, W); its weights are
    copied (training it further does not change what cnnviz shows)."""
    import torch

    was_training = module.training
    module.eval()
    try:
        example = torch.zeros((1, *input_shape))
        try:
            program = torch.export.export(module, (example,))
        except Exception as exc:  # noqa: BLE001 (torch.export's errors have many types)
            raise TorchGraphError(f"torch.export could not follow this network "
                                  f"({type(exc).__name__}: {str(exc)[:160]})") from None
    finally:
        module.train(was_training)
    signature = program.graph_signature
    state = {**program.state_dict, **dict(getattr(program, "constants", {}))}
    weights = {}
    for arg, fqn in {**signature.inputs_to_parameters, **signature.inputs_to_buffers}.items():
        weights[arg] = state[fqn].detach().cpu().numpy()
    if len(signature.user_inputs) != 1 or len(signature.user_outputs) != 1:
        raise TorchGraphError("cnnviz shows networks with one input and one output")
    nodes = _nodes_from_program(program)
    return _network(nodes, signature.user_inputs[0], tuple(input_shape), weights,
                    signature.user_outputs[0], name or type(module).__name__,
                    f"a torch.nn.Module, PyTorch {torch.__version__}")


# ----- TorchScript -------------------------------------------------------------------------

# What a TorchScript graph may hold besides SUPPORTED_OPS: its plumbing (constants, lists,
# attribute reads, the checks nn.functional makes). Nothing here reads or writes a file.
_SCRIPT_PLUMBING = {
    "prim::Constant", "prim::GetAttr", "prim::ListConstruct", "prim::ListUnpack",
    "prim::TupleConstruct", "prim::TupleUnpack", "prim::If", "prim::RaiseException",
    "prim::Uninitialized", "prim::unchecked_cast", "prim::isinstance", "prim::dtype",
    "prim::device", "prim::NumToTensor", "aten::__is__", "aten::__isnot__", "aten::__not__",
    "aten::dim", "aten::size", "aten::len", "aten::eq", "aten::ne", "aten::gt", "aten::lt",
    "aten::ge", "aten::le", "aten::__getitem__", "aten::format", "aten::warn", "aten::Int",
    "aten::Bool", "aten::Float", "aten::str", "aten::__and__", "aten::__or__"}


def torchscript_names(names: list[str]) -> bool:
    """A TorchScript archive (torch.jit.save), by the names in its zip: <name>/code/__torch__..."""
    return any("/code/__torch__" in n for n in names)


def is_torchscript(raw: bytes) -> bool:
    return torchscript_names(zip_names(raw))


def _script_ops(block, seen: set) -> None:
    for node in block.nodes():
        seen.add(node.kind())
        for inner in node.blocks():
            _script_ops(inner, seen)


def _load_checked_script(raw: bytes):
    """torch.jit.load, after refusing a module that would run code on loading; then every
    operator of its graph checked (TorchGraphError naming those outside the list)."""
    import torch

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            for name in z.namelist():
                if "/code/" in name and name.endswith(".py") and \
                        b"__setstate__" in z.read(name)[:5_000_000]:
                    raise TorchGraphError("a module in it runs its own code when it is loaded "
                                          "(__setstate__); cnnviz does not load such files")
        with warnings.catch_warnings():  # (torch.jit is deprecated in favour of torch.export)
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(io.BytesIO(raw), map_location="cpu")
    except TorchGraphError:
        raise
    except Exception as exc:  # noqa: BLE001 (torch.jit.load's errors have many types)
        raise TorchGraphError(f"it is not a TorchScript file cnnviz can read "
                              f"({type(exc).__name__}: {str(exc)[:100]})") from None
    kinds: set = set()
    _script_ops(module.inlined_graph, kinds)
    allowed = _SCRIPT_PLUMBING | {f"aten::{op}" for op in SUPPORTED_OPS} \
        | {f"aten::{op}_" for op in _ACTIVATIONS} | {"aten::leaky_relu_"}
    outside = sorted(k for k in kinds if k not in allowed)
    if outside:
        raise TorchGraphError(f"its graph uses {', '.join(outside[:5])}, which cnnviz does not "
                              f"run; it reads {', '.join(SUPPORTED_OPS)}")
    return module


def _frozen_nodes(graph) -> tuple[list, dict]:
    """A frozen TorchScript graph -> (op, {argument: value}, output) nodes, and its weights
    (the tensor constants) by name."""
    import torch

    constants, weights, nodes = {}, {}, []
    for node in graph.nodes():
        kind = node.kind()
        out = node.output().debugName() if node.outputsSize() == 1 else None
        if kind == "prim::Constant":
            value = node.output().toIValue()
            if isinstance(value, torch.Tensor):
                weights[out] = value.detach().cpu().numpy()
            else:
                constants[out] = value
            continue
        if kind == "prim::ListConstruct":
            items = [i.debugName() for i in node.inputs()]
            constants[out] = [constants[i] if i in constants else _Ref(i) for i in items]
            continue
        if not kind.startswith("aten::") or out is None:
            raise TorchGraphError(f"its frozen graph still holds {kind}, which cnnviz does not read")
        schema = torch._C.parse_schema(node.schema()) if node.schema() != "(no schema)" else None
        names = [arg.name for arg in schema.arguments] if schema else []
        args = {name: constants.get(v.debugName(), _Ref(v.debugName()))
                for name, v in zip(names, node.inputs())}
        nodes.append((kind.split("::")[1], args, out))
    return nodes, weights


def _script_input_shape(nodes, weights) -> tuple[int, int, int]:
    """A TorchScript file does not say its input's size: the first layer's channels (or a
    784-wide first dense layer), at 28×28."""
    first = next((a.get("weight") for op, a, _ in nodes if op in ("conv2d", "linear")), None)
    w = weights.get(first) if isinstance(first, _Ref) else None
    if w is not None and w.ndim == 4:
        return (int(w.shape[1]), 28, 28)
    if w is not None and w.ndim == 2 and w.shape[1] == 784:
        return (1, 28, 28)
    raise TorchGraphError("a TorchScript file does not say its input size, and cnnviz could "
                          "not tell it from the first layer")


def read_torchscript(raw: bytes, path: Path | None = None,
                     input_shape: tuple[int, int, int] | None = None):
    """A TorchScript file's bytes -> a cnnviz LoadedModel. Refused before it is loaded when
    a module would run code on loading (__setstate__); every operator of its graph is
    checked against SUPPORTED_OPS and the graph's plumbing before it is frozen or run."""
    import torch

    module = _load_checked_script(raw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            frozen = torch.jit.freeze(module.eval())
    except Exception as exc:  # noqa: BLE001
        raise TorchGraphError(f"its graph could not be simplified ({str(exc)[:100]})") from None
    inputs, outputs = list(frozen.graph.inputs())[1:], list(frozen.graph.outputs())
    if len(inputs) != 1 or len(outputs) != 1:  # (the first input is the module itself)
        raise TorchGraphError("cnnviz shows networks with one input and one output")
    nodes, weights = _frozen_nodes(frozen.graph)
    shape = tuple(input_shape) if input_shape else _script_input_shape(nodes, weights)
    stem = path.stem if path is not None else "torchscript model"
    return _network(nodes, inputs[0].debugName(), shape, weights, outputs[0].debugName(), stem,
                    f"TorchScript, PyTorch {torch.__version__}; input taken as "
                    f"{shape[1]}×{shape[2]}")

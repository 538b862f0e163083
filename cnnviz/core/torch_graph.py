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

from .graph_builder import GraphBuilder

__all__ = ["SUPPORTED_OPS", "TorchGraphError", "from_module", "is_pt2", "is_torchscript",
           "read_pt2", "read_torchscript"]

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


def is_pt2(raw: bytes) -> bool:
    """A torch.export archive: a zip with <name>/models/model.json and an archive_format."""
    if raw[:2] != b"PK":
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return any(n.endswith("/archive_format") for n in z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


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
        self.log_softmax = False

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
        from .layers import (
            Activation,
            Add,
            BatchNorm,
            Concat,
            Conv,
            Dense,
            Dropout,
            Flatten,
            GlobalPool,
            Pool,
        )

        if op not in SUPPORTED_OPS:
            raise TorchGraphError(f"the graph uses aten.{op[:60]}, which cnnviz does not read; "
                                  f"it reads {', '.join(SUPPORTED_OPS)}")
        if op == "cat":
            reads = tuple(self._tensor(t, op) for t in a.get("tensors", []))
            dim = a.get("dim", 0)
            if len(reads) < 2 or dim not in (1, -3 if len(self.shapes[reads[0]]) == 3 else -1):
                raise TorchGraphError(f"cat along dim {dim}: cnnviz joins along the channels")
            self.produced[out] = self.add(Concat(), None, out, reads)
            return
        source = self._tensor(a.get("self", a.get("input")), op)
        self.tip = source
        if op in ("clone", "contiguous", "getitem") or (op == "dropout" and not a.get("p")):
            self.produced[out] = source
            return
        if op == "add":
            other = a.get("other")
            if a.get("alpha", 1) != 1 or not isinstance(other, _Ref):
                raise TorchGraphError("add: cnnviz reads the sum of two layers' outputs")
            self.produced[out] = self.add(Add(), None, out, (source, self._tensor(other, op)))
            return
        if op in ("flatten", "view", "reshape"):
            shape = self.shapes[source]
            if op == "flatten":
                ok = a.get("start_dim", 0) == 1 and a.get("end_dim", -1) == -1
            else:
                target = a.get("size", a.get("shape", []))
                ok = isinstance(target, list) and len(target) == 2 and target[1] in (-1, int(np.prod(shape)))
            if not ok:
                raise TorchGraphError(f"{op}: cnnviz reads a flatten to one row per picture")
            self.produced[out] = source if len(shape) == 1 else self.add(Flatten(), None, out)
            return
        if op == "conv2d":
            w = self._weight(a.get("weight"), op)
            b = self._weight(a.get("bias"), op, optional=True)
            pair = lambda v, d: tuple(v) * (2 // len(v)) if isinstance(v, list) and v else (d, d)  # noqa: E731
            if isinstance(a.get("padding"), str):
                raise TorchGraphError("conv2d: padding by name ('same') is not read yet")
            tensors = {"weight": w} | ({"bias": b} if b is not None else {})
            self.add(Conv(int(w.shape[0]), (int(w.shape[2]), int(w.shape[3])),
                          pair(a.get("stride"), 1), pair(a.get("padding"), 0), b is not None,
                          groups=int(a.get("groups", 1)), dilation=pair(a.get("dilation"), 1)),
                     tensors, out)
        elif op == "linear":
            w = self._weight(a.get("weight"), op)
            b = self._weight(a.get("bias"), op, optional=True)
            self.add(Dense(int(w.shape[0])), {"weight": w, "bias": b if b is not None
                                              else np.zeros(w.shape[0], np.float32)}, out)
        elif op in _ACTIVATIONS:
            if op == "gelu" and a.get("approximate", "none") != "none":
                raise TorchGraphError("gelu: the tanh approximation is not read")
            self.add(Activation(_ACTIVATIONS[op]), None, out)
        elif op == "leaky_relu":
            self.add(Activation("leaky_relu", slope=float(a.get("negative_slope", 0.01))), None, out)
        elif op in ("max_pool2d", "avg_pool2d"):
            kernel = list(a.get("kernel_size", []))
            stride = list(a.get("stride") or kernel)
            padding = a.get("padding", [0, 0])
            if len(kernel) == 1:
                kernel = kernel * 2
            if len(stride) == 1:
                stride = stride * 2
            if kernel[0] != kernel[1] or stride[0] != stride[1] or any(padding or [0]) \
                    or a.get("ceil_mode"):
                raise TorchGraphError(f"{op}: cnnviz pools with square, unpadded windows")
            self.add(Pool("max" if op == "max_pool2d" else "avg", int(kernel[0]), int(stride[0])),
                     None, out)
        elif op == "adaptive_avg_pool2d":
            if list(a.get("output_size", [])) not in ([1, 1], [1]):
                raise TorchGraphError("adaptive_avg_pool2d: only to 1×1 (global average pooling)")
            self.add(GlobalPool("avg"), None, out)
        elif op == "dropout":
            self.add(Dropout(float(a["p"])), None, out)
        elif op in ("batch_norm", "_native_batch_norm_legit_no_training"):
            if a.get("training"):
                raise TorchGraphError("batch_norm in training mode is not read")
            weight = self._weight(a.get("weight"), op, optional=True)
            bias = self._weight(a.get("bias"), op, optional=True)
            mean = self._weight(a.get("running_mean"), op)
            var = self._weight(a.get("running_var"), op)
            n = mean.shape[0]
            self.add(BatchNorm(eps=float(a.get("eps", 1e-5))),
                     {"weight": weight if weight is not None else np.ones(n, np.float32),
                      "bias": bias if bias is not None else np.zeros(n, np.float32),
                      "running_mean": mean, "running_var": var}, out)
        elif op in ("log_softmax", "softmax", "_softmax", "_log_softmax"):
            if a.get("dim", -1) not in (-1, 1) or len(self.shape) != 1:
                raise TorchGraphError(f"{op}: cnnviz reads a softmax over the classes at the end")
            self.log_softmax = "log" in op
            self.add(Activation("softmax"), None, out)
        self.produced[out] = self.tip


def _network(nodes, input_name, input_shape, weights, output_name, name, made_with):
    from .card import read_card
    from .data import DATASETS
    from .input_scale import settle
    from .weights import LoadedModel

    for op, _, _ in nodes:  # every op checked before anything is built or run
        if op not in SUPPORTED_OPS:
            raise TorchGraphError(f"the graph uses aten.{op[:60]}, which cnnviz does not read; "
                                  f"it reads {', '.join(SUPPORTED_OPS)}")
    reader = _Reader(input_name, input_shape, weights)
    for node in nodes:
        reader.node(*node)
    if reader.produced.get(output_name) != len(reader.specs):
        raise TorchGraphError("the network's output is not its last layer")
    net = reader.network(name[:60], f"{name[:60]}, a PyTorch network ({made_with})"
                         + ("; its log_softmax is shown as a softmax (the same answer)"
                            if reader.log_softmax else ""))
    card = read_card({"model_name": name, "made_with": made_with},
                     int(np.prod(net.layer_infos[-1].output_shape)), DATASETS)
    net.card = card
    return settle(LoadedModel(net, card, None))


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


def is_torchscript(raw: bytes) -> bool:
    """A TorchScript archive (torch.jit.save): a zip with <name>/code/__torch__... entries."""
    if raw[:2] != b"PK":
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            return any("/code/__torch__" in n for n in z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _script_ops(block, seen: set) -> None:
    for node in block.nodes():
        seen.add(node.kind())
        for inner in node.blocks():
            _script_ops(inner, seen)


def read_torchscript(raw: bytes, path: Path | None = None,
                     input_shape: tuple[int, int, int] | None = None):
    """A TorchScript file's bytes -> a cnnviz LoadedModel. Refused before it is loaded when
    a module would run code on loading (__setstate__); every operator of its graph is
    checked against SUPPORTED_OPS and the graph's plumbing before it is frozen or run."""
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
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            frozen = torch.jit.freeze(module.eval())
    except Exception as exc:  # noqa: BLE001
        raise TorchGraphError(f"its graph could not be simplified ({str(exc)[:100]})") from None
    graph = frozen.graph
    inputs = [v for v in graph.inputs()][1:]  # (the first is the module itself)
    outputs = list(graph.outputs())
    if len(inputs) != 1 or len(outputs) != 1:
        raise TorchGraphError("cnnviz shows networks with one input and one output")
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
            if all(i in constants for i in items):
                constants[out] = [constants[i] for i in items]
            else:
                constants[out] = [_Ref(i) for i in items]
            continue
        if not kind.startswith("aten::") or out is None:
            raise TorchGraphError(f"its frozen graph still holds {kind}, which cnnviz does not read")
        schema = torch._C.parse_schema(node.schema()) if node.schema() != "(no schema)" else None
        names = [a.name for a in schema.arguments] if schema else []
        args = {}
        for name, value in zip(names, node.inputs()):
            key = value.debugName()
            args[name] = constants[key] if key in constants else _Ref(key)
        nodes.append((kind.split("::")[1], args, out))
    if input_shape is None:
        first = next((w for op, a, _ in nodes for k, w in (("weight", a.get("weight")),)
                      if op in ("conv2d", "linear") and isinstance(w, _Ref)), None)
        w = weights.get(first) if first is not None else None
        if w is not None and w.ndim == 4:
            input_shape = (int(w.shape[1]), 28, 28)
        elif w is not None and w.ndim == 2 and w.shape[1] == 784:
            input_shape = (1, 28, 28)
        else:
            raise TorchGraphError("a TorchScript file does not say its input size, and cnnviz "
                                  "could not tell it from the first layer")
    stem = path.stem if path is not None else "torchscript model"
    return _network(nodes, inputs[0].debugName(), tuple(input_shape), weights,
                    outputs[0].debugName(), stem,
                    f"TorchScript, PyTorch {torch.__version__}; input taken as "
                    f"{input_shape[1]}×{input_shape[2]}")

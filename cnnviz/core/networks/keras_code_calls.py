"""The calls Keras model code makes, matched without running anything (for keras_code):
a layer class called with its arguments makes a Layer, a Layer called on a tensor makes a
Tensor (the functional style), Sequential, Input and Model make what they make. Any other
call is a message naming the line.
"""

from __future__ import annotations

import ast

from .keras_code_reader import (
    _COMMON,
    _JOIN_WORDS,
    _JOINS,
    _NOT_READ,
    _OTHER_KERAS,
    _RUNS_CODE,
    INPUT,
    MODEL,
    SEQUENTIAL,
    SIGNATURES,
    Layer,
    Model,
    Ref,
    Stop,
    Tensor,
    _what,
    canonical,
    layer_class,
)

EDITOR_LAYERS = ("Conv2D, MaxPooling2D, AveragePooling2D, BatchNormalization, Activation, ReLU, "
                 "LeakyReLU, ELU, Softmax, Dropout, Flatten, Dense (and ZeroPadding2D before a "
                 "Conv2D, an Input or InputLayer first)")


def call_value(reader, node: ast.Call, depth: int):
    """What a call in the code makes (Layer, Tensor, Model); Stop otherwise."""
    line = node.lineno
    func = reader.value(node.func, depth + 1)
    if isinstance(func, Layer):
        return _apply(reader, func, node, depth)
    if not isinstance(func, Ref):
        raise Stop(f"calls {_what(func)}, which is not a Keras layer", line)
    path = canonical(func.path)
    if any(isinstance(k.value, ast.Starred) for k in node.keywords) or \
            any(k.arg is None for k in node.keywords) or \
            any(isinstance(a, ast.Starred) for a in node.args):
        raise Stop(f"*args and **kwargs are values only running the code would give; "
                   f"{_RUNS_CODE}", line)
    if path in SEQUENTIAL:
        return _sequential(reader, node, depth)
    if path in MODEL:
        return _functional(reader, node, depth)
    if path in INPUT:
        kwargs = _arguments(reader, node, ("shape", "batch_size", "dtype", "name"), depth)
        shape = kwargs.get("shape", kwargs.get("batch_shape", (None,))[1:]
                           if "batch_shape" in kwargs else None)
        if not isinstance(shape, (tuple, list)):
            raise Stop("keras.Input needs its shape, e.g. keras.Input(shape=(28, 28, 1))", line)
        return Tensor(None, None, tuple(shape), line)
    kind = layer_class(path)
    if kind is None:
        raise Stop(f"{_short(path)}(...) is a call cnnviz does not know ({_RUNS_CODE}); it "
                   "reads Keras layers, Sequential, Input and Model", line)
    return _layer(reader, kind, node, depth)


def _short(path: str) -> str:
    return path if len(path) <= 50 else "…" + path[-49:]


def _layer(reader, kind: str, node: ast.Call, depth: int) -> Layer:
    line = node.lineno
    if kind in _JOINS:
        if kind[0].islower():  # layers.add([x, y]): the join itself
            raise Stop(_JOIN_WORDS.format(kind=_JOINS[kind]), line)
        return Layer(_JOINS[kind], (), {}, line)
    if kind == "Lambda":
        raise Stop(f"a Lambda layer runs its own code; {_RUNS_CODE}, so it reads Keras's "
                   f"layers only: {EDITOR_LAYERS}", line)
    if kind in _OTHER_KERAS:
        raise Stop(f"{kind} is not a layer the lab's editor builds; it builds {EDITOR_LAYERS}",
                   line)
    if kind not in SIGNATURES:
        raise Stop(f"keras.layers.{kind[:40]} is not a layer cnnviz knows; the lab's editor "
                   f"builds {EDITOR_LAYERS}", line)
    names = SIGNATURES[kind]
    not_read = tuple(k.arg for k in node.keywords if k.arg in _NOT_READ)
    kwargs = _arguments(reader, node, names + _COMMON, depth, kind)
    return Layer(kind, (), kwargs, line, not_read)


def _arguments(reader, node: ast.Call, names: tuple[str, ...], depth: int,
               kind: str = "keras.Input") -> dict:
    """The call's arguments by name (positional ones named in order); those in _NOT_READ
    are not looked at (never evaluated)."""
    line = node.lineno
    positional = [n for n in names if n not in ("name", "dtype", "trainable")]
    if len(node.args) > len(positional):
        raise Stop(f"{kind} takes at most {len(positional)} arguments without a name here, "
                   f"got {len(node.args)}", line)
    out = {}
    for name, arg in zip(positional, node.args):
        out[name] = reader.value(arg, depth + 1)
    for keyword in node.keywords:
        if keyword.arg in _NOT_READ:
            continue
        if keyword.arg not in names:
            raise Stop(f"{kind} has no argument {keyword.arg!r} that cnnviz knows (it knows "
                       f"{', '.join(names[:9])}, ...)", line)
        if keyword.arg in out:
            raise Stop(f"{keyword.arg} is given twice", line)
        out[keyword.arg] = reader.value(keyword.value, depth + 1)
    return out


def _apply(reader, layer: Layer, node: ast.Call, depth: int) -> Tensor:
    line = node.lineno
    if len(node.args) != 1 or node.keywords:
        raise Stop(f"a {layer.kind} layer is applied to one input, e.g. (x)", line)
    if layer.kind in _JOINS.values():
        raise Stop(_JOIN_WORDS.format(kind=layer.kind), line)
    source = reader.value(node.args[0], depth + 1)
    if isinstance(source, (list, tuple)) and any(isinstance(s, Tensor) for s in source):
        raise Stop(_JOIN_WORDS.format(kind=f"{layer.kind} reads several layers"), line)
    if not isinstance(source, Tensor):
        raise Stop(f"a layer is applied to a layer's output or keras.Input, not {_what(source)}",
                   line)
    if layer.used:
        raise Stop("this layer is already used (a layer used twice shares its weights: the "
                   "editor builds each layer once)", line)
    layer.used = True
    return Tensor(layer, source, None, line)


def _sequential(reader, node: ast.Call, depth: int) -> Model:
    line = node.lineno
    model = Model(line=line)
    kwargs = _arguments(reader, node, ("layers", "name", "trainable"), depth, "Sequential")
    items = kwargs.get("layers") or []
    if not isinstance(items, (list, tuple)):
        raise Stop("Sequential takes a list of layers", line)
    elements = _element_nodes(node)
    for i, item in enumerate(items):
        item_line = elements[i].lineno if i < len(elements) else line
        reader._put(model, item, item_line)
    if not items:
        model.style = "model.add"
    return model


def _element_nodes(node: ast.Call) -> list[ast.expr]:
    """The nodes of a Sequential's list (their lines name a layer in a message)."""
    arg = node.args[0] if node.args else next(
        (k.value for k in node.keywords if k.arg == "layers"), None)
    return list(arg.elts) if isinstance(arg, (ast.List, ast.Tuple)) else []


def _functional(reader, node: ast.Call, depth: int) -> Model:
    line = node.lineno
    kwargs = _arguments(reader, node, ("inputs", "outputs", "name", "trainable"), depth, "Model")
    inputs, outputs = kwargs.get("inputs"), kwargs.get("outputs")
    if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
        outputs = outputs[0]
    if not (isinstance(inputs, Tensor) and inputs.layer is None):
        raise Stop("keras.Model needs one keras.Input as its inputs (cnnviz reads models with "
                   "one input)", line)
    if not isinstance(outputs, Tensor):
        raise Stop("keras.Model needs one output, a layer's output (cnnviz reads models with "
                   "one output)", line)
    chain = []
    tensor: Tensor | None = outputs
    while tensor is not None and tensor.layer is not None:
        chain.append(tensor.layer)
        tensor = tensor.parent
    if tensor is not inputs:
        raise Stop("the model's output does not come from its input", line)
    return Model([inputs, *reversed(chain)], line, "functional")

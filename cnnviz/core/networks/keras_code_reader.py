"""Reading Keras code's statements and expressions without running them (for keras_code).

Every name the code binds is kept with what it stands for: a Keras module or class (Ref),
a number, string or tuple, a Layer made in the code, a functional Tensor, a Model, or
Unknown (a value only running the code would give: data, a call cnnviz does not know).
Unknown is fine until the model uses it; then the line is named.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn, TypeGuard

from ..basics.limits import MAX_ARCH_LAYERS, MAX_KERAS_CODE_DEPTH
from .keras_code import KerasCodeError, line_words

# A dotted name, once the import aliases are followed and tf.keras / keras are made one.
SEQUENTIAL = ("keras.Sequential", "keras.models.Sequential")
MODEL = ("keras.Model", "keras.models.Model")
INPUT = ("keras.Input", "keras.layers.Input")
LAYERS = "keras.layers."

# Keras's layer classes the reader knows, with their positional arguments in order (every
# layer also takes input_shape, name, ...: _COMMON). Aliases map to one class.
SIGNATURES = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
               "groups", "activation", "use_bias"),
    "Dense": ("units", "activation", "use_bias"),
    "MaxPooling2D": ("pool_size", "strides", "padding", "data_format"),
    "AveragePooling2D": ("pool_size", "strides", "padding", "data_format"),
    "Flatten": ("data_format",),
    "Dropout": ("rate", "noise_shape", "seed"),
    "BatchNormalization": ("axis", "momentum", "epsilon", "center", "scale"),
    "Activation": ("activation",),
    "ReLU": ("max_value", "negative_slope", "threshold"),
    "LeakyReLU": ("negative_slope", "alpha"),
    "ELU": ("alpha",),
    "Softmax": ("axis",),
    "ZeroPadding2D": ("padding", "data_format"),
    "InputLayer": ("input_shape", "batch_size", "dtype"),
    "Rescaling": ("scale", "offset"),
    "Reshape": ("target_shape",),
    "Normalization": ("axis", "mean", "variance", "invert"),
}
ALIASES = {"Convolution2D": "Conv2D", "MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D"}
_COMMON = ("input_shape", "batch_input_shape", "shape", "batch_shape", "batch_size",
           "input_dim", "name", "dtype", "trainable")
# Arguments that change how a layer learns, not its shape or parameters: not read, noted.
_NOT_READ = ("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
             "activity_regularizer", "kernel_constraint", "bias_constraint",
             "beta_initializer", "gamma_initializer", "moving_mean_initializer",
             "moving_variance_initializer", "beta_regularizer", "gamma_regularizer",
             "beta_constraint", "gamma_constraint", "depthwise_initializer", "seed",
             "noise_shape", "momentum", "renorm", "synchronized", "sparse", "ragged")
# Keras layers that exist but are not among the editor's (named as such in the message).
_OTHER_KERAS = ("SeparableConv2D", "DepthwiseConv2D", "Conv1D", "Conv3D", "Conv2DTranspose",
                "GlobalAveragePooling2D", "GlobalMaxPooling2D", "PReLU", "SpatialDropout2D",
                "GaussianNoise", "LayerNormalization", "LSTM", "GRU", "Embedding",
                "RandomFlip", "RandomRotation", "RandomZoom", "Cropping2D",
                "UpSampling2D", "Permute", "RepeatVector", "Masking", "Attention")
_JOINS = {"Add": "Add", "add": "Add", "Concatenate": "Concatenate",
          "concatenate": "Concatenate", "Multiply": "Multiply", "multiply": "Multiply",
          "Average": "Average", "average": "Average", "Subtract": "Subtract",
          "subtract": "Subtract", "Maximum": "Maximum", "maximum": "Maximum"}
_KERAS_NAMES = frozenset((*SIGNATURES, *ALIASES, *_OTHER_KERAS, "Sequential", "Model", "Input",
                          "Lambda", "Add", "Concatenate"))
# Methods of a model that are not about its layers (the lecture calls summary, compile, fit).
_MODEL_USES = ("summary", "compile", "fit", "evaluate", "predict", "save", "save_weights",
               "load_weights", "to_json", "get_config", "count_params", "predict_on_batch",
               "train_on_batch", "test_on_batch", "fit_generator", "get_layer", "export")


# ---------------------------------------------------------------------------------------
# Values: what a name or an expression of the code stands for, without running anything


@dataclass
class Ref:
    """A module, class or function of Keras (or anything imported), by its dotted name."""

    path: str


@dataclass
class Unknown:
    """A value only running the code would give (data, a call cnnviz does not know)."""

    line: int
    why: str


@dataclass
class Layer:
    """A Keras layer made in the code: its class, its arguments and where it is written."""

    kind: str
    args: tuple
    kwargs: dict
    line: int
    not_read: tuple[str, ...] = ()  # arguments left out (initializers, regularizers)
    used: bool = False  # put in a model or applied to a tensor (once only)


@dataclass
class Tensor:
    """The functional style's value: the Input (layer None) or a layer applied to a tensor."""

    layer: Layer | None
    parent: Tensor | None
    shape: tuple | None = None  # the Input's, as given (Keras's order)
    line: int = 0


@dataclass
class Model:
    layers: list = field(default_factory=list)  # Layer, or an Input tensor first
    line: int = 0
    style: str = "Sequential"
    built_shape: tuple | None = None  # model.build((None, 28, 28, 1))


class Stop(Exception):
    """The expression being read cannot be known: its words and its line (the statement's
    reader names the line)."""

    def __init__(self, words: str, line: int):
        super().__init__(words)
        self.words, self.line = words, line


def canonical(path: str) -> str:
    """tensorflow.keras.layers.Conv2D, tf.keras.layers.Conv2D (tf -> tensorflow),
    keras.layers.convolutional.Conv2D -> keras.layers.Conv2D."""
    for prefix in ("tensorflow.python.keras", "tensorflow.keras", "tensorflow.compat.v2.keras",
                   "tf_keras"):
        if path == prefix or path.startswith(prefix + "."):
            path = "keras" + path[len(prefix):]
            break
    if path.startswith(LAYERS):
        path = LAYERS + path.rsplit(".", 1)[1]
    return path


def layer_class(path: str) -> str | None:
    """The Keras layer class a dotted name is (after ALIASES); None if it is no layer."""
    if not path.startswith(LAYERS):
        return None
    name = path[len(LAYERS):]
    return ALIASES.get(name, name)



_MAX_NUMBER = 10**9  # far past every layer's limit; a number beyond is no layer's
_MAX_ITEMS = 2 * MAX_ARCH_LAYERS  # a list or tuple in model code (a Sequential's layers)
_MAX_STRING = 1000
_NUMBER_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
               ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
               ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b}
_RUNS_CODE = "cnnviz reads the code without running it"
_JOIN_WORDS = ("the network joins two branches here ({kind}); the lab's editor builds one chain "
               "of layers, each reading the one before, so this graph cannot be edited there")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> '1–3, 7, 9–10'."""
    spans: list[list[int]] = []
    for n in sorted(set(numbers)):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


class Reader:
    """Walks the code's statements in order, binding names; read() -> the model built."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.names: dict[str, object] = {}
        self.star: list[str] = []  # modules imported with *
        self.models: list[Model] = []
        self.left_out: list[int] = []  # lines not about the model
        self.notes: list[str] = []

    def fail(self, line: int, words: str) -> NoReturn:
        raise KerasCodeError(f"{line_words(self.lines, line)}: {words}")

    def read(self, body: list[ast.stmt]) -> Model:
        for stmt in body:
            self._statement(stmt)
        built = [m for m in self.models if m.layers]
        if not built:
            raise KerasCodeError(
                "no Keras model found: cnnviz reads a model built as keras.Sequential([...]), "
                "with model.add(...) lines, or with keras.Input(...) and keras.Model(inputs, "
                "outputs)" + (" (an empty Sequential() has no layers added)" if self.models else ""))
        if len(built) > 1:
            self.notes.append(f"The code builds {len(built)} models (lines "
                              f"{', '.join(str(m.line) for m in built)}); the last one is read.")
        if self.left_out:
            self.notes.append(f"Not part of the model, so left out: line"
                              f"{'s' if len(self.left_out) > 1 else ''} {_ranges(self.left_out)}.")
        return built[-1]

    # ----- statements -------------------------------------------------------------------

    def _leave_out(self, stmt: ast.stmt) -> None:
        end = getattr(stmt, "end_lineno", None) or stmt.lineno
        self.left_out.extend(range(stmt.lineno, end + 1))

    def _statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            self._import(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            self._assign(stmt, targets, stmt.value)
        elif isinstance(stmt, ast.AugAssign):
            as_binop = ast.BinOp(left=ast.Name(getattr(stmt.target, "id", "?"), ast.Load()),
                                 op=stmt.op, right=stmt.value)
            ast.copy_location(as_binop, stmt)
            self._assign(stmt, [stmt.target], as_binop)
        elif isinstance(stmt, ast.Expr):
            self._expression(stmt)
        elif isinstance(stmt, (ast.With, ast.Try)) or self._main_block(stmt):
            for inner in stmt.body:  # `with strategy.scope():`, `if __name__ == "__main__":`
                self._statement(inner)
        elif self._builds(stmt):
            self.fail(stmt.lineno, self._compound_words(stmt))
        else:
            self._leave_out(stmt)

    @staticmethod
    def _main_block(stmt: ast.stmt) -> TypeGuard[ast.If]:
        return (isinstance(stmt, ast.If) and isinstance(stmt.test, ast.Compare)
                and isinstance(stmt.test.left, ast.Name) and stmt.test.left.id == "__name__")

    @staticmethod
    def _compound_words(stmt: ast.stmt) -> str:
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            return (f"a loop that builds layers: {_RUNS_CODE}, so it cannot tell how many "
                    "times the loop runs; write each layer on its own line")
        if isinstance(stmt, ast.If):
            return (f"layers built under an if: {_RUNS_CODE}, so it cannot tell which branch "
                    "is taken; keep only the lines of the model you mean")
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return (f"the model is built inside a function: {_RUNS_CODE}; paste the lines "
                    "that build it (the function's body) at the top level instead")
        if isinstance(stmt, ast.ClassDef):
            return (f"a model written as a class runs its own code in call(); {_RUNS_CODE}, "
                    "so it reads Sequential and functional models")
        return f"layers built inside a {type(stmt).__name__.lower()} statement: {_RUNS_CODE}"

    def _import(self, stmt) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self.names[alias.asname] = Ref(alias.name)
                else:
                    top = alias.name.split(".")[0]
                    self.names[top] = Ref(top)
            return
        module = ("." * stmt.level) + (stmt.module or "")
        for alias in stmt.names:
            if alias.name == "*":
                self.star.append(canonical(module))
            else:
                self.names[alias.asname or alias.name] = Ref(f"{module}.{alias.name}")

    def _assign(self, stmt: ast.stmt, targets: Sequence[ast.expr], node: ast.expr) -> None:
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if len(names) != len(targets) or not names:
            for target in targets:  # a, b = ...: only running the code would tell
                for n in ast.walk(target):
                    if isinstance(n, ast.Name):
                        self.names[n.id] = Unknown(stmt.lineno, "it is unpacked from a value")
            self._leave_out(stmt)
            return
        try:
            value = self.value(node)
        except Stop as stop:
            if self._builds(node):
                self.fail(stop.line, stop.words)
            value = Unknown(stmt.lineno, stop.words)
            self._leave_out(stmt)
        if isinstance(value, Model) and value not in self.models:
            value.line = stmt.lineno
            self.models.append(value)
        for name in names:
            self.names[name] = value

    def _expression(self, stmt: ast.Expr) -> None:
        call = stmt.value
        model = None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                and isinstance(call.func.value, ast.Name):
            model = self.names.get(call.func.value.id)
        if not isinstance(model, Model):
            if self._builds(call):
                try:
                    self.value(call)
                except Stop as stop:
                    self.fail(stop.line, stop.words)
            self._leave_out(stmt)
            return
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)  # as above
        method = call.func.attr
        try:
            if method == "add":
                self._add(model, call)
            elif method == "build":
                args = [self.value(a) for a in call.args] + [self.value(k.value) for k in call.keywords]
                model.built_shape = tuple(args[0]) if args and isinstance(args[0], (tuple, list)) \
                    else None
            elif method == "pop":
                self.fail(stmt.lineno, f"model.pop() removes a layer while the code runs; "
                                       f"{_RUNS_CODE}: leave the layer out instead")
            else:
                self._leave_out(stmt)
        except Stop as stop:
            self.fail(stop.line, stop.words)

    def _add(self, model: Model, call: ast.Call) -> None:
        if len(call.args) != 1 or call.keywords:
            raise Stop("model.add takes one layer", call.lineno)
        layer = self.value(call.args[0])
        self._put(model, layer, call.lineno)
        if model.style == "Sequential" and len(model.layers) == 1:
            model.style = "model.add"

    def _put(self, model: Model, layer, line: int) -> None:
        if isinstance(layer, Tensor) and layer.layer is None and not model.layers:
            model.layers.append(layer)  # keras.Input(shape=...) first
            return
        if not isinstance(layer, Layer):
            raise Stop(f"a Sequential model takes Keras layers, not {_what(layer)}", line)
        if layer.used:
            raise Stop("this layer is already used in the model (a layer used twice shares its "
                        "weights: the editor builds each layer once)", line)
        layer.used = True
        model.layers.append(layer)

    def _builds(self, node: ast.AST) -> bool:
        """Whether a statement or expression makes Keras layers or models, or adds to one."""
        for n in ast.walk(node):
            if not isinstance(n, ast.Call):
                continue
            path = self._static_path(n.func)
            if path and (layer_class(path) or path in SEQUENTIAL + MODEL + INPUT):
                return True
            last = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
            if last in _KERAS_NAMES:  # inside a def, whose own imports are not followed
                return True
            if isinstance(n.func, ast.Attribute) and n.func.attr == "add" \
                    and isinstance(n.func.value, ast.Name) \
                    and isinstance(self.names.get(n.func.value.id), Model):
                return True
            if isinstance(n.func, ast.Call):  # layers.Dense(10)(x), or a layer variable(x)
                return True
            if isinstance(n.func, ast.Name) and isinstance(self.names.get(n.func.id), Layer):
                return True
        return False

    def _static_path(self, node: ast.expr) -> str | None:
        parts = []
        depth = 0
        while isinstance(node, ast.Attribute) and depth < MAX_KERAS_CODE_DEPTH:
            parts.append(node.attr)
            node, depth = node.value, depth + 1
        if not isinstance(node, ast.Name):
            return None
        base = self.names.get(node.id)
        if isinstance(base, Ref):
            root = base.path
        elif node.id not in self.names and self._star_layer(node.id):
            root = LAYERS + node.id
        else:
            return None
        return canonical(".".join([root, *reversed(parts)]))

    def _star_layer(self, name: str) -> bool:
        return any(m.rstrip(".") in ("keras.layers", "keras") for m in self.star) \
            and (name in SIGNATURES or name in ALIASES or name in _OTHER_KERAS
                 or name in _JOINS or name in ("Input", "Lambda", "Sequential", "Model"))

    # ----- expressions ------------------------------------------------------------------

    def value(self, node: ast.expr, depth: int = 0):
        """What an expression stands for; Stop (its words and line) when only running the
        code would tell."""
        line = getattr(node, "lineno", 0)
        if depth > MAX_KERAS_CODE_DEPTH:
            raise Stop("the expression is nested too deep to be model code", line)
        if isinstance(node, ast.Constant):
            return self._constant(node.value, line)
        if isinstance(node, (ast.Tuple, ast.List)):
            if len(node.elts) > _MAX_ITEMS:
                raise Stop(f"a list of {len(node.elts)} items is not model code", line)
            items = [self.value(e, depth + 1) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Name):
            return self._name(node.id, line)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, depth)
        if isinstance(node, ast.Call):
            from .keras_code_calls import call_value

            return call_value(self, node, depth)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.value(node.operand, depth + 1)
            if _number(operand):
                return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self._arithmetic(node, depth)
        if isinstance(node, ast.Lambda):
            raise Stop(f"a lambda is code to run; {_RUNS_CODE}", line)
        raise Stop(f"a computed value ({type(node).__name__}) that only running the code "
                    "would give; write the value itself", line)

    @staticmethod
    def _constant(value, line: int):
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            if abs(value) > _MAX_NUMBER:
                raise Stop("a number far too large for any layer", line)
            return value
        if isinstance(value, float):
            if not abs(value) <= _MAX_NUMBER:
                raise Stop("a number that is infinite or far too large for any layer", line)
            return value
        if isinstance(value, str) and len(value) <= _MAX_STRING:
            return value
        raise Stop("a value model code does not hold", line)

    def _name(self, name: str, line: int):
        if name in self.names:
            value = self.names[name]
            if isinstance(value, Unknown):
                raise Stop(f"{name} is set on {line_words(self.lines, value.line)}, a value "
                            f"only running the code would give ({value.why}); write its value "
                            "here instead", line)
            return value
        if self._star_layer(name):
            return Ref(LAYERS + name)
        raise Stop(f"{name} is not set or imported before this line", line)

    def _attribute(self, node: ast.Attribute, depth: int):
        line = node.lineno
        if node.attr.startswith("_"):
            raise Stop(f"a hidden name ({node.attr}) is not model code", line)
        base = self.value(node.value, depth + 1)
        if isinstance(base, Ref):
            return Ref(f"{base.path}.{node.attr}")
        raise Stop(f".{node.attr} of {_what(base)} is a value only running the code would "
                    "give", line)

    def _arithmetic(self, node: ast.BinOp, depth: int):
        line = node.lineno
        left, right = self.value(node.left, depth + 1), self.value(node.right, depth + 1)
        if isinstance(left, Tensor) or isinstance(right, Tensor):
            raise Stop(_JOIN_WORDS.format(kind="an arithmetic operator, like Add"), line)
        if not (_number(left) and _number(right)):
            raise Stop(f"arithmetic on {_what(left)} and {_what(right)} is not model code", line)
        op = type(node.op)
        if op is ast.Pow:
            if abs(left) > 1024 or not (_number(right) and 0 <= right <= 64):
                raise Stop("a power far too large for any layer", line)
            result = left ** right
        elif op in _NUMBER_OPS:
            if op in (ast.Div, ast.FloorDiv, ast.Mod) and right == 0:
                raise Stop("a division by zero", line)
            result = _NUMBER_OPS[op](left, right)
        else:
            raise Stop("an operator model code does not use", line)
        return self._constant(result, line)


def _what(value) -> str:
    if isinstance(value, Ref):
        return value.path.rsplit(".", 1)[-1]
    if isinstance(value, Layer):
        return f"a {value.kind} layer"
    if isinstance(value, Tensor):
        return "a layer's output"
    if isinstance(value, Model):
        return "a model"
    return type(value).__name__ if not isinstance(value, (int, float, str)) else repr(value)[:30]

"""A student's Keras model-building code -> the lab editor's architecture, read and never run.

The code is parsed with `ast` and only what a whitelist knows is followed: imports of Keras
in the usual forms (`from tensorflow import keras`, `from tensorflow.keras import layers`,
`from keras.layers import Conv2D`, `import tensorflow as tf` then `tf.keras.layers.Conv2D`),
simple constants (`num_classes = 10`, `input_shape = (28, 28, 1)`, arithmetic on them), and
the model built as a `Sequential([...])` list, with `model.add(...)` lines, or in the
functional style (`inputs = keras.Input(...)`, `x = layers.Conv2D(...)(inputs)`, ...,
`keras.Model(inputs, outputs)`). Nothing is imported, called or evaluated: a name is looked
up in what the code assigned before, a call is matched against Keras's layer classes.

A whole notebook cell or script may be pasted (the lecture's has data loading, compile, fit
and print around the model): lines that are not about the model are left out, and the
reading says which. A line about the model that cannot be known without running the code (a
loop that adds layers, a value computed from the data, a call cnnviz does not know, a Lambda
layer) is one message naming the line, its number and its text; so is a functional graph
that is not one chain (the first Add or Concatenate).

    >>> reading = read_keras_code('''
    ... from tensorflow import keras
    ... from tensorflow.keras import layers
    ... model = keras.Sequential([
    ...     layers.Conv2D(64, (3, 3), activation='relu', input_shape=(28, 28, 1)),
    ...     layers.MaxPooling2D((2, 2)),
    ...     layers.Flatten(),
    ...     layers.Dense(10, activation='softmax')])
    ... ''')
    >>> reading.total_parameters
    108810
    >>> [row.output_shape for row in reading.rows]
    [(26, 26, 64), (13, 13, 64), (10816,), (10,)]

The result is the editor's own architecture (a chain of the layers it builds, 1×28×28 in
unless the code says otherwise), the Keras layers it came from with their output shapes in
Keras's order and their parameters as Keras counts them (batch norm's moving mean and
variance included), and notes on what was left out or read approximately.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..basics.formulas import fmt_count
from ..basics.limits import MAX_KERAS_CODE_CHARS
from ..basics.text_safety import shown
from .models import Architecture, ArchitectureError

__all__ = ["KerasCodeError", "KerasReading", "KerasRow", "looks_like_code", "read_keras_code",
           "read_keras_file"]

MNIST_INPUT = (1, 28, 28)  # (C, H, W): the lab's pictures, when the code gives no input shape
KERAS_BN_EPS = 1e-3  # Keras's BatchNormalization epsilon (torch's is 1e-5)
SHOWN_LINE = 60  # characters of a line quoted in a message
# Characters that make code read differently from what it is ("Trojan Source"), or that
# break lines where Python does not: refused with the line they are on.
_HIDDEN = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e"
                     r"\u2060-\u2069\ufeff]")
_LINES = re.compile(r"\r\n|\r|\n")

class KerasCodeError(ArchitectureError):
    """Code that cannot be read as a model; the message names the line (number and text)."""


@dataclass(frozen=True)
class KerasRow:
    """One Keras layer of the code, as Keras's model.summary() shows it."""

    line: int  # where it is written (from 1)
    name: str  # Keras's name for it: its name= or the automatic one (conv2d, conv2d_1, ...)
    kind: str  # its class: Conv2D, MaxPooling2D, ...
    output_shape: tuple[int, ...]  # in Keras's order: (height, width, channels) or (units,)
    parameters: int  # as Keras's count_params() counts them
    trainable: int
    layers: tuple[int, ...]  # the architecture's layers it became (from 0)


@dataclass(frozen=True)
class KerasReading:
    architecture: Architecture
    rows: tuple[KerasRow, ...]
    notes: tuple[str, ...] = ()  # left out, read approximately: in words, naming the lines
    style: str = "Sequential"  # "Sequential", "model.add" or "functional"

    @property
    def total_parameters(self) -> int:
        return sum(r.parameters for r in self.rows)

    @property
    def trainable_parameters(self) -> int:
        return sum(r.trainable for r in self.rows)

    def summary(self) -> str:
        """The model as Keras's model.summary() lays it out (shapes with the batch's None)."""
        table = [("Layer (type)", "Output Shape", "Param #")]
        table += [(f"{r.name} ({r.kind})", "(None, " + ", ".join(map(str, r.output_shape)) + ")",
                   fmt_count(r.parameters)) for r in self.rows]
        widths = [max(len(row[i]) for row in table) for i in range(3)]
        rule = "─" * (sum(widths) + 4)
        lines = [rule]
        for i, row in enumerate(table):
            lines.append(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  "
                         f"{row[2].rjust(widths[2])}")
            if i == 0:
                lines.append(rule)
        total, trainable = self.total_parameters, self.trainable_parameters
        lines += [rule, f"Total params: {fmt_count(total)}",
                  f"Trainable params: {fmt_count(trainable)}",
                  f"Non-trainable params: {fmt_count(total - trainable)}"]
        return "\n".join(lines)


def looks_like_code(text: str) -> bool:
    """Whether typed or pasted text is code (Keras) rather than cnnviz's one-line form, which
    never has brackets, an import or a line break."""
    return bool(re.search(r"[()\[\]\n]|\bimport\b|\bkeras\b", text))


def read_keras_file(path) -> KerasReading:
    """A .py file of Keras code (read safely, never run) -> its reading; KerasCodeError."""
    from ..basics.files import FileProblem, read_regular_file

    try:
        raw = read_regular_file(path, MAX_KERAS_CODE_CHARS * 4, "Python file")
    except (FileProblem, OSError) as exc:
        raise KerasCodeError(f"cannot read {path}: {exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KerasCodeError(f"{path} is not a text (UTF-8) file") from None
    return read_keras_code(text)


def read_keras_code(text: str, input_shape: tuple[int, int, int] | None = None,
                    name: str = "keras-code") -> KerasReading:
    """Keras model-building code -> the editor's architecture, its Keras layers and notes.

    input_shape (C, H, W): what the network takes when the code does not say (MNIST's
    1×28×28 by default). KerasCodeError with one message naming the line otherwise."""
    from .keras_code_layers import to_architecture
    from .keras_code_reader import Reader

    if not isinstance(text, str):
        raise KerasCodeError("the code must be text")
    lines = _check_text(text)
    try:
        tree = ast.parse(text, mode="exec")
    except SyntaxError as exc:
        where = line_words(lines, exc.lineno) if exc.lineno else "the code"
        raise KerasCodeError(f"{where}: not Python ({exc.msg})") from None
    except (ValueError, RecursionError, MemoryError, OverflowError):
        raise KerasCodeError("the code is nested too deep or is too large to read") from None
    reader = Reader(lines)
    try:
        model = reader.read(tree.body)
    except RecursionError:
        raise KerasCodeError("the code is nested too deep to read") from None
    return to_architecture(model, reader, input_shape or MNIST_INPUT, name)


def _check_text(text: str) -> list[str]:
    if len(text) > MAX_KERAS_CODE_CHARS:
        raise KerasCodeError(f"the code is {len(text):,} characters; cnnviz reads model code of "
                             f"at most {MAX_KERAS_CODE_CHARS:,}")
    lines = _LINES.split(text)
    hidden = _HIDDEN.search(text)
    if hidden:
        number = text.count("\n", 0, hidden.start()) + 1
        raise KerasCodeError(f"line {number} holds an invisible or direction-changing character "
                             f"(U+{ord(hidden.group()):04X}), which can make code read "
                             "differently from what it is; remove it")
    if not text.strip():
        raise KerasCodeError("no code given")
    return lines


def line_words(lines: list[str], number: int | None) -> str:
    if not number or not 0 < number <= len(lines):
        return "the code"
    return f"line {number} ({shown(lines[number - 1].strip(), SHOWN_LINE)})"

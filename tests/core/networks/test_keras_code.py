"""Keras model code read without running it: the lecture's whole example, a model.add version
with constants, a functional one, each against torch modules built here by hand and Keras's
own counts worked out by hand; a line that cannot be known named by its number and text;
hostile code answered with a message, never run."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnviz.core.basics.limits import MAX_KERAS_CODE_CHARS
from cnnviz.core.networks.arch_text import format_architecture, parse_architecture
from cnnviz.core.networks.keras_code import KerasCodeError, looks_like_code, read_keras_code
from cnnviz.core.networks.models import ARCHITECTURES

# The lecture's Keras example, both of its code blocks as the slides show them (the
# trailing spaces and the broken lines of the compile and reshape calls included).
LECTURE = """from tensorflow.keras.datasets import mnist
(train_images, train_labels), (test_images, test_labels) = mnist.load_data()
test_images.shape
len(test_labels)
from tensorflow import keras
from tensorflow.keras import layers
img_rows = train_images[0].shape[0]
img_cols = train_images[0].shape[1]
model = keras.Sequential([
    layers.Conv2D(64, (3, 3), activation='relu', input_shape=(28, 28, 1)),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation='relu'),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(10, activation='softmax')
])

model.summary()
model.compile(optimizer="sgd",  
loss="sparse_categorical_crossentropy",  
metrics=["accuracy"])  
train_images = train_images.reshape(train_images.shape[0], img_rows,  
img_cols, 1)  
test_images = test_images.reshape(test_images.shape[0], img_rows,  
img_cols, 1)  
  
train_images = train_images.astype("float32") / 255.0  
  
test_images = test_images.astype("float32") / 255.0  
  
print(train_images.shape)  
  
model.fit(train_images, train_labels, epochs=5, batch_size=128)
"""  # noqa: W291, W293 (the slides' trailing spaces)

MODEL_ADD = """import numpy as np
from keras.models import Sequential
from keras.layers import Conv2D, MaxPooling2D, Dense, Flatten, Dropout, BatchNormalization

num_classes = 10
input_shape = (28, 28, 1)
filters = 32

model = Sequential()
model.add(Conv2D(filters, kernel_size=(3, 3), activation='relu', input_shape=input_shape))
model.add(BatchNormalization())
model.add(Conv2D(filters * 2, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(num_classes, activation='softmax'))
model.compile(loss='sparse_categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
"""

FUNCTIONAL = """import tensorflow as tf

inputs = tf.keras.Input(shape=(28, 28, 1))
x = tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
x = tf.keras.layers.MaxPooling2D()(x)
x = tf.keras.layers.Conv2D(64, 3, strides=2, padding="same", use_bias=False)(x)
x = tf.keras.layers.ReLU()(x)
x = tf.keras.layers.Flatten()(x)
outputs = tf.keras.layers.Dense(10)(x)
model = tf.keras.Model(inputs=inputs, outputs=outputs)
"""


def _torch_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _shapes(module: nn.Sequential, hwc: bool = True) -> list[tuple[int, ...]]:
    """The output shape after each module of a hand-built torch network, in Keras's order."""
    x = torch.zeros(1, 1, 28, 28)
    out = []
    for layer in module:
        x = layer(x)
        shape = tuple(x.shape[1:])
        out.append((shape[1], shape[2], shape[0]) if len(shape) == 3 and hwc else shape)
    return out


def test_the_lectures_whole_example_gives_53578_parameters_and_its_shapes():
    reading = read_keras_code(LECTURE)
    reference = nn.Sequential(nn.Conv2d(1, 64, 3), nn.MaxPool2d(2), nn.Conv2d(64, 64, 3),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10))
    assert reading.total_parameters == _torch_count(reference) == 53_578
    assert [r.output_shape for r in reading.rows] == _shapes(reference)
    assert [r.output_shape for r in reading.rows] == [(26, 26, 64), (13, 13, 64), (11, 11, 64),
                                                      (5, 5, 64), (1600,), (10,)]
    assert [r.parameters for r in reading.rows] == [640, 0, 36_928, 0, 0, 16_010]
    assert [r.name for r in reading.rows] == ["conv2d", "max_pooling2d", "conv2d_1",
                                              "max_pooling2d_1", "flatten", "dense"]
    assert [r.line for r in reading.rows] == [10, 11, 12, 13, 14, 15]
    assert reading.architecture.layers == ARCHITECTURES["lecture-keras"].layers
    assert reading.architecture.input_shape == (1, 28, 28)
    summary = reading.summary()
    assert "conv2d_1 (Conv2D)" in summary and "(None, 5, 5, 64)" in summary
    assert "Total params: 53,578" in summary
    # data loading, compile, fit and print are not the model: left out, and said so
    left = next(n for n in reading.notes if "left out" in n)
    assert "2–4" in left and "18–25" in left and "33" in left


def test_a_model_add_version_with_constants():
    reading = read_keras_code(MODEL_ADD)
    reference = nn.Sequential(nn.Conv2d(1, 32, 3), nn.BatchNorm2d(32), nn.Conv2d(32, 64, 3),
                              nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
                              nn.Linear(9216, 128), nn.Dropout(0.5), nn.Linear(128, 10))
    assert reading.style == "model.add"
    assert reading.trainable_parameters == _torch_count(reference)
    # Keras also counts batch norm's moving mean and variance: 2 × 32 more
    assert reading.total_parameters == _torch_count(reference) + 2 * 32 == 1_199_882 + 4 * 32
    assert [r.output_shape for r in reading.rows] == _shapes(reference)
    assert [r.kind for r in reading.rows][:3] == ["Conv2D", "BatchNormalization", "Conv2D"]
    assert format_architecture(reading.architecture) == (
        "conv 32 3, relu, bn eps=0.001, conv 64 3, relu, maxpool 2, dropout 0.25, flatten, "
        "dense 128, relu, dropout 0.5, dense 10, softmax")


def test_a_functional_version_with_same_padding_as_keras_pads():
    reading = read_keras_code(FUNCTIONAL)
    assert reading.style == "functional"
    # 'same' keeps 28 at stride 1; at stride 2 Keras gives ceil(14 / 2) = 7
    assert [r.output_shape for r in reading.rows] == [(28, 28, 32), (14, 14, 32), (7, 7, 64),
                                                      (7, 7, 64), (3136,), (10,)]
    reference = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, stride=2, padding=1, bias=False),
                              nn.ReLU(), nn.Flatten(), nn.Linear(3136, 10))
    assert reading.total_parameters == _torch_count(reference) == 320 + 18_432 + 31_370
    assert [r.output_shape for r in reading.rows] == _shapes(reference)
    assert any("one more at the bottom and right" in n for n in reading.notes)


@pytest.mark.parametrize("imports, sequential, prefix", [
    ("from tensorflow import keras\nfrom tensorflow.keras import layers", "keras.Sequential",
     "layers."),
    ("import keras", "keras.Sequential", "keras.layers."),
    ("import tensorflow as tf", "tf.keras.Sequential", "tf.keras.layers."),
    ("from tensorflow.keras.layers import *\nfrom tensorflow.keras.models import Sequential",
     "Sequential", ""),
    ("from keras import layers as L, models", "models.Sequential", "L."),
])
def test_imports_in_any_usual_form(imports, sequential, prefix):
    code = (f"{imports}\nm = {sequential}([{prefix}Conv2D(8, 3, input_shape=(28, 28, 1)), "
            f"{prefix}Flatten(), {prefix}Dense(10)])")
    assert format_architecture(read_keras_code(code).architecture) == "conv 8 3, flatten, dense 10"


def test_a_loop_that_builds_layers_is_named_by_its_line():
    code = MODEL_ADD.replace("model.add(Dropout(0.25))\n",
                             "for size in (64, 32):\n    model.add(Dense(size))\n")
    with pytest.raises(KerasCodeError) as err:
        read_keras_code(code)
    assert str(err.value).startswith("line 14 (for size in (64, 32):): a loop")


def test_a_join_is_named_by_its_line():
    code = ("from tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "inputs = keras.Input(shape=(28, 28, 1))\n"
            "x = layers.Conv2D(8, 3, padding='same')(inputs)\n"
            "y = layers.Conv2D(8, 3, padding='same')(x)\n"
            "z = layers.Concatenate()([x, y])\n"
            "z = layers.add([x, z])\n"
            "model = keras.Model(inputs, layers.Dense(10)(layers.Flatten()(z)))\n")
    with pytest.raises(KerasCodeError, match=r"^line 6 \(z = layers.Concatenate\(\)\(\[x, y\]\)\)"
                       r": the network joins two branches here \(Concatenate\)"):
        read_keras_code(code)


def test_a_value_from_the_data_names_where_it_comes_from():
    code = LECTURE.replace("input_shape=(28, 28, 1)", "input_shape=(img_rows, img_cols, 1)")
    with pytest.raises(KerasCodeError) as err:
        read_keras_code(code)
    words = str(err.value)
    assert words.startswith("line 10 (layers.Conv2D(64, (3, 3), activation='relu', input_")
    assert "line 7 (img_rows = train_images[0].shape[0])" in words


@pytest.mark.parametrize("code, words", [
    ("import keras\nm = keras.Sequential([keras.layers.Conv2D(8, 3), keras.layers.Dense(10)])",
     "line 2 (m = keras.Sequential([keras.layers.Conv2D(8, 3), keras.laye…): a dense layer "
     "needs a flat input; add Flatten before it"),
    ("import keras\nm = keras.Sequential([\n keras.layers.Flatten(),\n keras.layers.Dense(12)])",
     "line 4 (keras.layers.Dense(12)])): the last layer gives 12 outputs"),
    ("import keras\nm = keras.Sequential([keras.layers.Conv2D(8, 3, padding='full')])",
     "padding is 'valid' or 'same'"),
    ("import keras\nm = keras.Sequential([keras.layers.Conv2D(8, 3, filter=2)])",
     "Conv2D has no argument 'filter'"),
    ("import keras\nm = keras.Sequential([keras.layers.GlobalAveragePooling2D()])",
     "GlobalAveragePooling2D is not a layer the lab's editor builds"),
    ("x = 1", "no Keras model found"),
    ("import keras\nm = keras.Sequential([keras.layers.Dense(10, activation='selu')])",
     "the activation 'selu' is not one the lab's editor builds"),
    ("def build():\n    import keras\n    return keras.Sequential([keras.layers.Dense(10)])",
     "line 1 (def build():): the model is built inside a function"),
    ("import keras\nclass Net(keras.Model):\n    def __init__(self):\n"
     "        self.fc = keras.layers.Dense(10)", "line 2 (class Net(keras.Model):): a model "
     "written as a class"),
    ("import keras\nm = keras.Sequential([keras.layers.Dense(10)]\n", "line 2"),
])
def test_what_cannot_be_read_is_one_message(code, words):
    with pytest.raises(KerasCodeError) as err:
        read_keras_code(code)
    assert words in str(err.value)
    assert "\n" not in str(err.value)


def test_hostile_code_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    calls = [f"__import__('os').system('touch {marker}')", f"open('{marker}', 'w')",
             f"exec(\"open('{marker}', 'w')\")", f"eval(\"open('{marker}', 'w')\")",
             f"getattr(__builtins__, 'open')('{marker}', 'w')",
             f"keras.layers.__class__.__init__('{marker}')"]
    for call in calls:
        for code in (f"import keras\nm = keras.Sequential([keras.layers.Dense({call})])",
                     f"import keras\nn = {call}\nm = keras.Sequential([keras.layers.Dense(n)])",
                     f"import keras\nm = keras.Sequential([keras.layers.Lambda(lambda x: {call})])"):
            with pytest.raises(KerasCodeError, match=r"^line [23] \("):
                read_keras_code(code)
    assert not marker.exists()


@pytest.mark.parametrize("code, words", [
    ("x = 1\n" * (MAX_KERAS_CODE_CHARS // 6 + 1), "characters"),
    ("import keras\nm = keras.Sequential([keras.layers.Dense(" + "[" * 150 + "10" + "]" * 150
     + ")])", "nested too deep"),
    ("import keras\nm = keras.Sequential([keras.layers.Dense(" + "-" * 30_000 + "10)])",
     "nested too deep"),
    ("import keras\nm = keras.Sequential([keras.layers.Dense(" + "1+" * 20_000 + "1)])",
     "nested too deep"),
    ("import keras\nm = keras.Sequential([keras.layers.Dense(10 ** 10 ** 10)])", "too large"),
    ("import keras\nm = keras.Sequential([keras.layers.Dense('a' * 10 ** 9)])", "arithmetic on"),
    ("import keras\n# the layer list \u202e ])01(esneD.sreyal.sarek[\nm = 1", "line 2 holds an "
     "invisible or direction-changing character (U+202E)"),
    ("import keras\nm = keras.Sequential([keras.lаyers.Dense(10)])", "a call cnnviz does not"),
    ("import keras\nlаyers = keras.layers\nm = keras.Sequential([layers.Dense(10)])",
     "layers is not set or imported"),
    ("import keras\nm = keras.Sequential([keras.layers.Dense(10)])\x00", "U+0000"),
    ("import keras\nm = keras.Sequential([keras.layers.Dense(1e400)])", "infinite"),
    ("import keras\nm = keras.Sequential([keras.layers.Dense(*[10])])", "*args"),
])
def test_hostile_text_gets_a_message(code, words):
    with pytest.raises(KerasCodeError) as err:
        read_keras_code(code)
    assert words in str(err.value)
    assert len(str(err.value)) < 600


def test_unicode_identifiers_mean_what_python_makes_of_them():
    # Python reads fullwidth letters as the plain ones (NFKC): the same name, the same model
    code = "import keras\nｍ = keras.Sequential([keras.ｌａｙｅｒｓ.Dense(10, input_shape=(784,))])"
    reading = read_keras_code(code)
    assert format_architecture(reading.architecture) == "flatten, dense 10"


def test_keras_code_and_the_one_line_form_are_told_apart():
    for arch in ARCHITECTURES.values():
        assert not looks_like_code(format_architecture(arch))
    assert not looks_like_code("conv 32 3 stride=2 pad=1, relu, maxpool 2, flatten, dense 10")
    assert looks_like_code(LECTURE) and looks_like_code("layers.Dense(10)")


def test_reading_is_the_editors_architecture():
    reading = read_keras_code(LECTURE)
    text = format_architecture(reading.architecture)
    assert parse_architecture(text).layers == reading.architecture.layers


def test_the_lab_takes_the_lectures_code_pasted_into_its_text_box(qtbot):
    from cnnviz.ui.lab.editor import ArchitectureEditor

    editor = ArchitectureEditor()
    qtbot.addWidget(editor)
    editor.choose_preset("cnnviz")
    editor.text_edit.setText(LECTURE)
    editor.text_edit.textEdited.emit(LECTURE)  # as if pasted: checked at once, no complaint
    assert editor.text_message.text() == ""
    assert editor.apply_text()
    assert editor.architecture().layers == ARCHITECTURES["lecture-keras"].layers
    assert (editor.architecture().input_mean, editor.architecture().input_std) == (0.0, 1.0)
    assert "Total: 53,578 parameters" in editor.total_label.text()
    assert [c.output_shape for c in editor.checks if c.spec.type != "activation"] == [
        (64, 26, 26), (64, 13, 13), (64, 11, 11), (64, 5, 5), (1600,), (10,)]
    assert "53,578 parameters as Keras counts them" in editor.code_note.text()
    assert editor.text_edit.text() == format_architecture(ARCHITECTURES["lecture-keras"])
    editor.undo_stack.undo()  # one undo step brings the earlier network back
    assert editor.architecture().layers == ARCHITECTURES["cnnviz"].layers


def test_the_lab_names_the_line_it_cannot_read(qtbot):
    from cnnviz.ui.lab.editor import ArchitectureEditor

    editor = ArchitectureEditor()
    qtbot.addWidget(editor)
    before = editor.architecture()
    code = MODEL_ADD.replace("model.add(Dropout(0.25))\n",
                             "for size in (64, 32):\n    model.add(Dense(size))\n")
    editor.text_edit.setText(code)
    assert not editor.apply_text()
    assert editor.text_message.text().startswith("Not used: line 14 (for size in (64, 32):)")
    assert editor.architecture() == before
    editor.text_edit.setText(MODEL_ADD.replace("(28, 28, 1)", "(32, 32, 3)"))
    assert not editor.apply_text()
    assert "this code's input is 3×32×32" in editor.text_message.text()


def test_arch_takes_a_py_file_of_keras_code(tmp_path):
    from cnnviz.core.networks.arch_text import resolve_architecture
    from cnnviz.core.networks.models import ArchitectureError

    path = tmp_path / "homework.py"
    path.write_text(FUNCTIONAL, encoding="utf-8")
    assert resolve_architecture(str(path)) == read_keras_code(FUNCTIONAL).architecture
    path.write_text(LECTURE.replace("input_shape=(28, 28, 1)", "input_shape=(img_rows, 28, 1)"))
    with pytest.raises(ArchitectureError, match=r"homework.py: line 10 \(layers.Conv2D"):
        resolve_architecture(str(path))
    with pytest.raises(ArchitectureError, match="no such file"):
        resolve_architecture(str(tmp_path / "missing.py"))

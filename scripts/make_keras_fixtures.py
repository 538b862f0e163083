"""Make the Keras test fixtures: small models saved by Keras itself, with Keras's own
outputs for every layer beside them, so cnnviz's Keras reader is checked against the
framework that made the files (the tests never need TensorFlow).

Not part of cnnviz: run it in its own environment (made with TensorFlow 2.21.0, Keras
3.15.1 and tf-keras 2.21.0, Keras 2's code, on Python 3.11, CPU):

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu tf-keras tf2onnx
    CNNVIZ_DATA_DIR=../shared/data /tmp/tfenv/bin/python scripts/make_keras_fixtures.py

Writes tests/data/keras/NAME.keras and NAME.h5 (Keras 3's zip and its legacy HDF5 form;
keras2.h5 and keras2_graph.h5 as Keras 2 writes them; lecture.onnx as Keras 3 exports the
lecture model, through tf2onnx, which the environment also needs)
and NAME.npz: the inputs (`__input__`, as the model takes them) and each layer's output on
the first few (`__layers_input__`), keyed by layer name, the final output on all of them
(`__output__`: 100 MNIST test digits and 10 noise pictures for the MNIST models) and
`__accuracy__` (Keras's own accuracy on the 10,000 MNIST test digits).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import keras
import numpy as np
from keras import layers

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "keras"
DATA = Path(os.environ.get("CNNVIZ_DATA_DIR", "../shared/data")) / "mnist"


def idx(name: str, offset: int) -> np.ndarray:
    return np.frombuffer(gzip.open(DATA / name).read(), np.uint8, offset=offset)


def mnist():
    x = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1)
    y = idx("train-labels-idx1-ubyte.gz", 8)
    xt = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28, 1)
    yt = idx("t10k-labels-idx1-ubyte.gz", 8)
    return x, y, xt, yt


def lecture() -> keras.Model:
    """The lecture's homework network, as its Keras slide writes it."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ], name="lecture")


def rescaled() -> keras.Model:
    """0..255 in (a Rescaling layer inside), 'same' padding, batch norm with Keras's
    epsilon, average pooling, dropout, tanh, and logits out (no softmax)."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Rescaling(1 / 255),
        layers.Conv2D(8, 3, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.AveragePooling2D(2),
        layers.Conv2D(16, (5, 3), padding="same"),
        layers.ReLU(),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(24, activation="tanh"),
        layers.Dense(10),
    ], name="rescaled")


def colour() -> keras.Model:
    """A 32×32 colour network with five classes (untrained: the numbers are what count)."""
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(6, 3, strides=2, activation="sigmoid"),
        layers.Flatten(),
        layers.Dense(5, activation="softmax"),
    ], name="colour")


def modern() -> keras.Model:
    """The newer layers in one chain, trained briefly: Normalization first (adapted on
    x / 255), uneven padding (ZeroPadding2D, and 'same' at stride 2 on 28 pixels pads one
    more at the bottom and right), depthwise, separable, grouped and dilated convolutions,
    LeakyReLU with its slope, PReLU, ELU, gelu, swish, global average pooling, logits out."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Normalization(name="normalize"),
        layers.ZeroPadding2D(((1, 2), (0, 1))),
        layers.Conv2D(8, 3, strides=2, padding="same", activation="gelu"),
        layers.LeakyReLU(negative_slope=0.1),
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="swish"),
        layers.SeparableConv2D(16, 3, activation="relu"),
        layers.PReLU(shared_axes=[1, 2]),
        layers.Conv2D(16, 3, dilation_rate=2, groups=4, padding="same"),
        layers.ELU(),
        layers.SpatialDropout2D(0.1),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10),
    ], name="modern")


def residual() -> keras.Model:
    """A Functional graph: a residual block (Add), two branches joined (Concatenate), global
    max pooling, and a Reshape from a flat vector back to maps; probabilities out."""
    inputs = keras.Input((28, 28, 1))
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    branch = layers.Conv2D(8, 3, padding="same")(x)
    x = layers.Add()([x, branch])
    x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D(2)(x)
    wide = layers.Conv2D(4, 1, activation="tanh")(x)
    deep = layers.Conv2D(4, 3, padding="same", activation="leaky_relu")(x)
    x = layers.Concatenate()([wide, deep])
    pooled = layers.GlobalMaxPooling2D()(x)
    x = layers.Dense(16, activation="relu")(pooled)
    x = layers.Reshape((2, 2, 4))(x)
    x = layers.Conv2D(6, 2, activation="relu")(x)
    x = layers.Flatten()(x)
    both = layers.Concatenate()([x, pooled])
    outputs = layers.Dense(10, activation="softmax")(both)
    return keras.Model(inputs, outputs, name="residual")


LAYERS_ON = 3  # every layer's output on this many of the inputs (the files stay small)


def outputs(model: keras.Model, x: np.ndarray) -> dict:
    """The inputs, the model's final output on all of them, and every layer's output on
    the first LAYERS_ON (2 digits and 1 noise picture for the MNIST models)."""
    some = np.concatenate([x[:LAYERS_ON - 1], x[-1:]])
    out = {"__input__": x.astype(np.float32), "__layers_input__": some.astype(np.float32),
           "__output__": np.asarray(model.predict(x, verbose=0), np.float32)}
    for layer in model.layers:
        probe = keras.Model(model.inputs, layer.output)
        out[layer.name] = np.asarray(probe.predict(some, verbose=0), np.float32)
    return out


def saved_copy(model: keras.Model, make, name: str) -> keras.Model:
    """Both file kinds, without the optimizer's state (a homework file need not hold it):
    a fresh, uncompiled copy of the network with the trained weights, saved; returned as
    Keras loads it back from the .keras file (so the reference outputs are what Keras
    computes from the file: a Normalization layer's statistics are applied on loading)."""
    clone = make()
    clone.set_weights(model.get_weights())
    clone.save(OUT / f"{name}.keras")
    clone.save(OUT / f"{name}.h5")
    return keras.saving.load_model(OUT / f"{name}.keras", compile=False)


def main(only: list[str]) -> None:
    """Every fixture, or only those named on the command line."""
    keras.utils.set_random_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    x, y, xt, yt = mnist()
    rng = np.random.default_rng(0)
    probe = np.concatenate([xt[:100], rng.integers(0, 256, (10, 28, 28, 1), dtype=np.uint8)])
    trained = (("lecture", lecture, 255.0), ("rescaled", rescaled, 1.0),
               ("modern", modern, 255.0), ("residual", residual, 255.0))
    for name, make, scale in trained:
        if only and name not in only:
            continue
        keras.utils.set_random_seed(0)
        model = make()
        if name == "modern":
            model.layers[0].adapt(x[:20000] / scale)
        loss = ("sparse_categorical_crossentropy" if name in ("lecture", "residual") else
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        model.fit(x[:20000] / scale, y[:20000], epochs=1, batch_size=64, verbose=2)
        accuracy = model.evaluate(xt / scale, yt, verbose=0)[1]
        data = outputs(saved_copy(model, make, name), probe / scale)
        data["__accuracy__"] = np.float64(accuracy)
        np.savez_compressed(OUT / f"{name}.npz", **data)
        print(f"{name}: accuracy {accuracy:.4f}, {model.count_params():,} parameters")
    if not only or "colour" in only:
        model = saved_copy(colour(), colour, "colour")
        data = outputs(model, rng.random((10, 32, 32, 3), dtype=np.float32))
        np.savez_compressed(OUT / "colour.npz", **data)
        print(f"colour: {model.count_params():,} parameters")
    if not only or "keras2" in only:
        keras2(x, y, xt, yt, probe)
    if not only or "keras2_graph" in only:
        keras2_graph(probe)
    if not only or "lecture_onnx" in only:
        onnx_export(probe)


def keras2(x, y, xt, yt, probe) -> None:
    """A legacy .h5 as Keras 2 writes it (the tf-keras package: TensorFlow <= 2.15's Keras):
    the input shape on the first layer, weights under layer/layer/kernel:0."""
    import tf_keras as k2

    k2.utils.set_random_seed(0)
    model = k2.Sequential([
        k2.layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1)),
        k2.layers.BatchNormalization(),
        k2.layers.MaxPooling2D(2),
        k2.layers.Flatten(),
        k2.layers.Dropout(0.5),
        k2.layers.Dense(10, activation="softmax"),
    ], name="keras2")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:10000] / 255.0, y[:10000], epochs=1, batch_size=64, verbose=2)
    accuracy = model.evaluate(xt / 255.0, yt, verbose=0)[1]
    model.save(OUT / "keras2.h5", include_optimizer=False)
    some = np.concatenate([probe[:LAYERS_ON - 1], probe[-1:]]) / 255.0
    data = {"__input__": (probe / 255.0).astype(np.float32),
            "__layers_input__": some.astype(np.float32),
            "__output__": np.asarray(model.predict(probe / 255.0, verbose=0), np.float32),
            "__accuracy__": np.float64(accuracy)}
    for layer in model.layers:
        data[layer.name] = np.asarray(k2.Model(model.inputs, layer.output).predict(some, verbose=0),
                                      np.float32)
    np.savez_compressed(OUT / "keras2.npz", **data)
    print(f"keras2 (tf-keras {k2.__version__}): accuracy {accuracy:.4f}, "
          f"{model.count_params():,} parameters")


def onnx_export(probe) -> None:
    """The trained lecture model as Keras 3 exports it to ONNX (model.export(format="onnx"),
    through tf2onnx: a channels-last input, shape arithmetic for the flatten), with Keras's
    own outputs on the probe pictures (lecture_onnx.npz, inputs channels-last, 0..1)."""
    model = keras.saving.load_model(OUT / "lecture.keras", compile=False)
    x = (probe / 255.0).astype(np.float32)
    model.predict(x[:1], verbose=0)  # (export needs a model that has been called)
    model.export(OUT / "lecture.onnx", format="onnx")
    np.savez_compressed(OUT / "lecture_onnx.npz", __input__=x,
                        __output__=np.asarray(model.predict(x, verbose=0), np.float32))
    print("lecture.onnx: exported by Keras", keras.__version__)


def keras2_graph(probe) -> None:
    """A Functional graph as Keras 2 writes it (inbound nodes as [name, node, tensor,
    kwargs] lists): LeakyReLU's `alpha`, PReLU with one slope per value, Add,
    Concatenate, global average pooling (untrained: the numbers are what count)."""
    import tf_keras as k2

    k2.utils.set_random_seed(0)
    L = k2.layers
    inputs = k2.Input((28, 28, 1))
    x = L.Conv2D(6, 3, padding="same")(inputs)
    x = L.LeakyReLU(alpha=0.2)(x)
    side = L.Conv2D(6, 1, activation="gelu")(x)
    x = L.Add()([x, side])
    x = L.PReLU(alpha_initializer=k2.initializers.RandomUniform(0.0, 0.5))(x)
    x = L.Concatenate()([x, L.DepthwiseConv2D(3, padding="same", activation="swish")(x)])
    x = L.GlobalAveragePooling2D()(x)
    outputs = L.Dense(10, activation="softmax")(x)
    model = k2.Model(inputs, outputs, name="keras2_graph")
    model.save(OUT / "keras2_graph.h5", include_optimizer=False)
    some = np.concatenate([probe[:LAYERS_ON - 1], probe[-1:]]) / 255.0
    data = {"__input__": (probe / 255.0).astype(np.float32),
            "__layers_input__": some.astype(np.float32),
            "__output__": np.asarray(model.predict(probe / 255.0, verbose=0), np.float32)}
    for layer in model.layers:
        data[layer.name] = np.asarray(k2.Model(model.inputs, layer.output).predict(some, verbose=0),
                                      np.float32)
    np.savez_compressed(OUT / "keras2_graph.npz", **data)
    print(f"keras2_graph (tf-keras {k2.__version__}): {model.count_params():,} parameters")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

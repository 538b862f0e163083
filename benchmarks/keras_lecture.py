"""The lecture's Keras script, as on its first slides, for a speed comparison on the same
machine. Not part of cnnviz: run it in a separate environment with tensorflow-cpu,

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu
    CNNVIZ_DATA_DIR=../shared/data /tmp/tfenv/bin/python benchmarks/keras_lecture.py

The only change from the slides: the MNIST files are read from the data folder
(`mnist.load_data()` downloads them, and the build machine is offline).
"""

import gzip
import os
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

folder = Path(os.environ.get("CNNVIZ_DATA_DIR", "../shared/data")) / "mnist"


def idx(name, offset):
    return np.frombuffer(gzip.open(folder / name).read(), np.uint8, offset=offset)


train_images = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
train_labels = idx("train-labels-idx1-ubyte.gz", 8)
test_images = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
test_labels = idx("t10k-labels-idx1-ubyte.gz", 8)

img_rows, img_cols = train_images[0].shape
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    layers.Conv2D(64, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Conv2D(64, (3, 3), activation="relu"),
    layers.MaxPooling2D((2, 2)),
    layers.Flatten(),
    layers.Dense(10, activation="softmax"),
])
model.summary()
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
train_images = train_images.reshape(train_images.shape[0], img_rows, img_cols, 1).astype("float32") / 255.0
test_images = test_images.reshape(test_images.shape[0], img_rows, img_cols, 1).astype("float32") / 255.0
t0 = time.perf_counter()
history = model.fit(train_images, train_labels, epochs=5, batch_size=128, verbose=2)
seconds = time.perf_counter() - t0
_, accuracy = model.evaluate(test_images, test_labels, verbose=0)
print(f"Keras {keras.__version__} on TensorFlow {tf.__version__}: 5 epochs in {seconds:.1f} s "
      f"({seconds / 5:.1f} s per epoch), test accuracy {accuracy:.4f}")

"""The real MNIST test digits shipped inside the package (300: 30 per class).

They let the app open with a digit on screen and fill the gallery without any download.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

SAMPLES_FILE = "mnist-test-samples.npz"


@lru_cache(maxsize=1)
def load_samples() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """images (300, 28, 28) uint8 white on black, labels (300,), index in the MNIST test set."""
    with resources.files("cnnviz").joinpath("samples", SAMPLES_FILE).open("rb") as fh:
        data = np.load(fh, allow_pickle=False)
        images, labels, index = data["images"], data["labels"], data["test_index"]
    for array in (images, labels, index):
        array.setflags(write=False)
    return images, labels, index


def default_sample() -> tuple[np.ndarray, int]:
    """The digit the app opens with: the first 3 in the shipped set."""
    images, labels, _ = load_samples()
    i = int(np.flatnonzero(labels == 3)[0])
    return images[i], int(labels[i])

"""The real test pictures shipped inside the package: 300 MNIST test digits (30 per class)
and 100 Fashion-MNIST test images (10 per class), made by scripts/make_samples.py.

They let the app open with a digit on screen and fill the gallery and the Random button
without any download, for a digit model and for a clothes model alike.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

SAMPLE_FILES = {"mnist": "mnist-test-samples.npz",
                "fashion-mnist": "fashion-mnist-test-samples.npz"}
SAMPLES_FILE = SAMPLE_FILES["mnist"]  # (the name it had when only MNIST shipped)


def has_samples(dataset: str) -> bool:
    """Whether test pictures of `dataset` ship with cnnviz."""
    return dataset in SAMPLE_FILES


@lru_cache(maxsize=4)
def load_samples(dataset: str = "mnist") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """images (N, 28, 28) uint8 (MNIST: white on black), labels (N,), index in the test set.
    KeyError for a dataset without shipped pictures (has_samples says which have)."""
    name = SAMPLE_FILES[dataset]
    with resources.files("cnnviz").joinpath("samples", name).open("rb") as fh:
        data = np.load(fh, allow_pickle=False)
        images, labels, index = data["images"], data["labels"], data["test_index"]
    for array in (images, labels, index):
        array.setflags(write=False)
    return images, labels, index


# The digit the app opens with: MNIST test digit #30, a plainly written 3. (The first 3 of
# the set, #18, is an odd one that a network trained to say "none of these" reads at 28%:
# a poor first sight of what a CNN does, though a fine one for the gallery.)
DEFAULT_SAMPLE_TEST_INDEX = 30


def default_sample() -> tuple[np.ndarray, int]:
    """The digit the app opens with (DEFAULT_SAMPLE_TEST_INDEX; the first 3 if it is gone)."""
    images, labels, index = load_samples()
    chosen = np.flatnonzero(index == DEFAULT_SAMPLE_TEST_INDEX)
    i = int(chosen[0]) if chosen.size else int(np.flatnonzero(labels == 3)[0])
    return images[i], int(labels[i])

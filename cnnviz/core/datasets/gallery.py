"""Real test pictures to try: the full test split of a model's dataset when the data folder
has it (MNIST: 10,000 digits; Fashion-MNIST: 10,000 clothes), else the test pictures shipped
with cnnviz (300 MNIST digits, 100 Fashion-MNIST images). No Qt: the input side's gallery and Random button use this, and so can a
notebook.

    digits = GalleryPictures(seed=0)
    image, source, label = digits.random("mnist")  # (28, 28) float32 0..255
"""

from __future__ import annotations

import numpy as np

from ..pictures.samples import has_samples, load_samples
from .data import DATASET_NAMES, DATASETS, DataError, find_file, load_split

PER_CLASS = 30  # gallery pictures per class taken from a full test split

# Digits are labelled by their number; other datasets by their class names ("Coat").
CLASS_NAMES = {key: info.classes for key, info in DATASETS.items() if key != "mnist"}


def sample_source(test_index: int, label: int, dataset_title: str = "MNIST",
                  class_names=None) -> str:
    """"MNIST test digit #1234, labelled 7" (or "Fashion-MNIST test image #5, labelled Coat")."""
    what = "digit" if dataset_title == "MNIST" else "image"
    name = class_names[label] if class_names else str(label)
    return f"{dataset_title} test {what} #{test_index}, labelled {name}"


class GalleryPictures:
    """Where "Random test digit" picks from: the full test split of the model's dataset if the
    data folder has it (MNIST: 10,000 digits; Fashion-MNIST: 10,000 clothes), else the
    pictures of that dataset shipped with cnnviz (MNIST digits for a dataset without any)."""

    __test__ = False  # not a pytest test class

    def __init__(self, data_dir: str | None = None, seed: int | None = None) -> None:
        self.data_dir = data_dir
        self.rng = np.random.default_rng(seed)
        self._splits: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
        self.note = ""  # where the last pick came from, in words

    def available(self, dataset: str) -> bool:
        """Whether the data folder has `dataset`'s test files (a cheap look, nothing read)."""
        if dataset in self._splits:
            return self._splits[dataset] is not None
        try:
            return all(find_file(dataset, part, self.data_dir).is_file()
                       for part in ("test-images", "test-labels"))
        except (DataError, OSError, ValueError):
            return False

    def gallery_samples(self, dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The first PER_CLASS test images of each class of `dataset` (images, labels, index
        in the test split), or None when the data folder lacks them."""
        full = self._full_split(dataset) if dataset in DATASET_NAMES else None
        if full is None:
            return None
        images, labels = full
        index = np.concatenate([np.flatnonzero(labels == k)[:PER_CLASS]
                                for k in range(int(labels.max()) + 1)])
        return images[index], labels[index], index

    def _full_split(self, dataset: str) -> tuple[np.ndarray, np.ndarray] | None:
        if dataset not in self._splits:
            try:  # read once (~10 MB), then cached; no checksum pass for a random pick
                self._splits[dataset] = load_split(dataset, "test", data_dir=self.data_dir,
                                                   verify=False)
            except (DataError, OSError, ValueError):
                self._splits[dataset] = None
        return self._splits[dataset]

    def random(self, dataset: str = "mnist") -> tuple[np.ndarray, str, int]:
        """(image (28, 28) float32 0..255, source text, label) from `dataset`'s test split."""
        if dataset not in DATASET_NAMES:
            dataset = "mnist"
        full = self._full_split(dataset)
        if full is not None:
            images, labels = full
            i = int(self.rng.integers(len(labels)))
            label = int(labels[i])
            title = DATASET_NAMES[dataset]
            self.note = f"one of the {len(labels):,} {title} test images"
            return (images[i].astype(np.float32),
                    sample_source(i, label, title, CLASS_NAMES.get(dataset)), label)
        shipped = dataset if has_samples(dataset) else "mnist"  # the dataset's own, if shipped
        images, labels, index = load_samples(shipped)
        i = int(self.rng.integers(len(labels)))
        label = int(labels[i])
        title = DATASET_NAMES[shipped]
        what = "digits" if shipped == "mnist" else "images"
        self.note = f"one of {len(labels)} shipped {title} test {what}"  # (fits a status bar)
        if shipped != dataset:
            # say plainly why a model of another dataset is shown a digit, and how to get its
            self.note = (f"an MNIST digit: only MNIST samples ship with cnnviz, and the "
                         f"{DATASET_NAMES[dataset]} test files are not in the data folder "
                         f"(run `cnnviz data download {dataset}`)")
        return (images[i].astype(np.float32),
                sample_source(int(index[i]), label, title, CLASS_NAMES.get(shipped)), label)

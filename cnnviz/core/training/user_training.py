"""Training, fine-tuning and evaluating on the user's own set (cnnviz.core.training.user_set),
alone or beside MNIST, with the one training loop (cnnviz.core.training.loop.train).

    choice = parse_dataset("mnist+my-digits")              # mnist, fashion-mnist, DIR, mnist+DIR
    data = load_training_data(choice, test_share=0.2)       # arrays, class names, writers
    arch, note = with_class_count(get_architecture("fast"), len(data.classes))
    model, note = fine_tune_start(load_shipped().model, data.classes, only_last_layer=True)

Transfer learning, in the lecture's words: the early convolution layers find local
patterns (edges, corners, strokes) that any handwriting is made of; only the last layer,
which says which class those patterns add up to, has to learn the new classes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from ..datasets.data import DATASETS, DataError, load_split
from ..networks.layers import Activation, Dense, Dropout
from ..networks.models import Architecture, ArchitectureError, Network, summarize
from .user_set import UserSet, UserSetError, split_by_writer, training_problem

__all__ = ["DatasetChoice", "SetEvaluation", "TrainingData", "card_for_set",
           "classes_of_choice", "evaluate_on_set", "fine_tune_start", "load_training_data",
           "parse_dataset", "preview_pictures", "set_card_facts", "train_only_last_layer",
           "with_class_count"]

MISREAD_SHOWN = 12  # the most confidently misread samples an evaluation lists
PREVIEW_SIZE = 8  # pictures an augmentation preview shows
PREVIEW_READ = 512  # training pictures an augmentation preview chooses from


@dataclass(frozen=True)
class DatasetChoice:
    """What to train or evaluate on: a built-in dataset, a folder, or MNIST plus a folder."""

    builtin: str | None  # "mnist", "fashion-mnist" or None
    folder: Path | None  # the user's set or image folder

    def __post_init__(self):
        if self.builtin is None and self.folder is None:
            raise ValueError("a dataset choice needs a built-in dataset, a folder, or both")

    @property
    def only_builtin(self) -> str:
        """The built-in dataset's key, for a choice without a folder (which always has one)."""
        assert self.builtin is not None, "a choice without a folder names a built-in dataset"
        return self.builtin

    @property
    def label(self) -> str:
        if self.folder is None:
            return DATASETS[self.only_builtin].name
        name = f"your set {self.folder.name!r}"
        return f"{DATASETS[self.builtin].name} + {name}" if self.builtin else name


def parse_dataset(text: str) -> DatasetChoice:
    """--dataset: mnist, fashion-mnist, a folder (a cnnviz set or an image folder), or
    mnist+DIR. UserSetError in words."""
    text = str(text).strip()
    if text in DATASETS:
        return DatasetChoice(text, None)
    builtin, folder = None, text
    for key in DATASETS:
        if text.lower().startswith(key + "+"):
            builtin, folder = key, text[len(key) + 1:]
            break
    path = Path(folder).expanduser()
    if not folder or not path.is_dir():
        raise UserSetError(f"--dataset {text}: give mnist, fashion-mnist, a folder of your own "
                           f"pictures, or mnist+FOLDER ({folder or 'nothing'} is not a folder)")
    return DatasetChoice(builtin, path)


@dataclass
class TrainingData:
    x_train: np.ndarray  # (N, H, W) uint8
    y_train: np.ndarray  # (N,) int64
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    input_shape: tuple[int, int, int]
    choice: DatasetChoice
    test_writers: list[str] = field(default_factory=list)  # of the user's test samples
    user_test_count: int = 0  # the first this many of x_test are the user's samples
    notes: list[str] = field(default_factory=list)
    set_sha256: str | None = None

    @property
    def description(self) -> str:
        return (f"{self.choice.label}: {len(self.x_train):,} training and {len(self.x_test):,} "
                f"test pictures, {len(self.classes)} classes")


def _set_arrays(folder: Path, progress=None, should_stop=None):
    user = UserSet.open(folder)
    problem = training_problem(user.counts())
    if problem:
        raise UserSetError(f"{user.name}: {problem}")
    x, y = user.arrays(progress, should_stop)
    return user, x, y


def _manifest_sha(user: UserSet) -> str | None:
    path = user.folder / "cnnviz-set.json"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def load_training_data(choice: DatasetChoice, data_dir=None, test_share: float = 0.2,
                       seed: int = 0, progress=None, should_stop=None,
                       limit: int | None = None) -> TrainingData:
    """The training and test pictures of a choice. A user's set is split by writer
    (split_by_writer: `test_share` held out); MNIST plus a set trains on both, the set's
    classes after MNIST's ten (a set's class named "7" is MNIST's 7)."""
    if choice.folder is None:
        builtin = choice.only_builtin
        x_train, y_train = load_split(builtin, "train", data_dir)
        x_test, y_test = load_split(builtin, "test", data_dir)
        if limit:
            x_train, y_train = x_train[:limit], y_train[:limit]
        return TrainingData(x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64),
                            list(DATASETS[builtin].classes), (1, 28, 28), choice)
    user, x, y = _set_arrays(choice.folder, progress, should_stop)
    writers = user.writer_of_each()
    train, test = split_by_writer(y, writers, test_share, seed)
    classes = user.class_names
    out = TrainingData(x[train], y[train], x[test], y[test], classes, user.input_shape, choice,
                       [writers[i] for i in test], len(test), set_sha256=_manifest_sha(user))
    if len(test) == 0 and test_share > 0:
        out.notes.append("The set is too small to hold any pictures out: no test curve.")
    if choice.builtin is None:
        return out
    if user.input_shape != (1, 28, 28):
        raise UserSetError(f"{user.name} holds {user.input_shape[1]}×{user.input_shape[2]} "
                           "pictures; MNIST's are 28×28, so they cannot be trained together")
    merged = _merged_classes(choice.builtin, classes)
    remap = np.array([merged.index(c) for c in classes], np.int64)
    mx, my = load_split(choice.builtin, "train", data_dir)
    tx, ty = load_split(choice.builtin, "test", data_dir)
    if limit:
        mx, my = mx[:limit], my[:limit]
    out.x_train = np.concatenate([mx, out.x_train])
    out.y_train = np.concatenate([my.astype(np.int64), remap[out.y_train]])
    out.x_test = np.concatenate([out.x_test, tx])
    out.y_test = np.concatenate([remap[out.y_test], ty.astype(np.int64)])
    out.classes = merged
    return out


def _merged_classes(builtin: str, classes: list[str]) -> list[str]:
    """A built-in dataset's classes, then the set's that are not among them."""
    base = list(DATASETS[builtin].classes)
    return base + [c for c in classes if c not in base]


def classes_of_choice(choice: DatasetChoice) -> list[str]:
    """The classes a choice trains on, in the order load_training_data gives them (MNIST's
    ten first for mnist+DIR). Reads the set's manifest (or its folder names), no pictures.
    UserSetError in words (also for a set too small to train on)."""
    if choice.folder is None:
        return list(DATASETS[choice.only_builtin].classes)
    user = UserSet.open(choice.folder)
    problem = training_problem(user.counts())
    if problem:
        raise UserSetError(f"{user.name}: {problem}")
    if choice.builtin is None:
        return user.class_names
    return _merged_classes(choice.builtin, user.class_names)


def _last_dense(arch: Architecture) -> int:
    """Where the layer that gives the class scores is: the last dense layer, followed only
    by activations and dropout."""
    for i in range(len(arch.layers) - 1, -1, -1):
        layer = arch.layers[i]
        if isinstance(layer, Dense):
            return i
        if not isinstance(layer, (Activation, Dropout)):
            break
    raise ArchitectureError("the network does not end in a dense layer (one output per "
                            "class), so its number of classes cannot be changed")


def with_class_count(arch: Architecture, classes: int) -> tuple[Architecture, str | None]:
    """The architecture with its last dense layer giving `classes` outputs, and what was
    changed in words (None when nothing was)."""
    i = _last_dense(arch)
    last = arch.layers[i]
    assert isinstance(last, Dense)  # _last_dense gives a Dense layer's place
    old = last.units
    if old == classes:
        return arch, None
    layers = list(arch.layers)
    layers[i] = replace(last, units=classes)
    base = re.sub(r"-\d+-classes$", "", arch.name)  # resized before: named once
    made = replace(arch, layers=tuple(layers), name=f"{base}-{classes}-classes")
    summarize(made)
    return made, (f"The last layer was resized from Dense {old} to Dense {classes}: one output "
                  f"for each of the set's {classes} classes.")


def fine_tune_start(model: Network, classes: list[str], only_last_layer: bool = False,
                    ) -> tuple[Network, list[str]]:
    """A copy of `model` to train further on a set with these classes: its weights kept,
    the last layer replaced (new, random) when the class count differs, and with
    only_last_layer every other layer frozen (its weights and batch-norm statistics)."""
    notes = []
    arch, resized = with_class_count(model.arch, len(classes))
    last = summarize(arch)[_last_dense(arch)].name
    out = Network(arch, class_names=list(classes))
    state = {k: v for k, v in model.state_dict().items()
             if not (resized and k.startswith(f"layers.{last}."))}
    out.load_state_dict(state, strict=not resized)
    if resized:
        notes.append(resized.replace("resized", "replaced") + " It starts from random weights.")
    if only_last_layer:
        train_only_last_layer(out)
        notes.append("Only the last layer is trained (transfer learning): the early layers' "
                     "local patterns (edges, strokes, corners) are reused as they are.")
    return out, notes


def train_only_last_layer(model: Network) -> None:
    """Freeze every parameter but the last dense layer's (transfer learning); the training
    loop then also keeps the frozen batch-norm layers' statistics."""
    last = model.layer_infos[_last_dense(model.arch)].name
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith(f"layers.{last}.")


def set_card_facts(card: dict, data: TrainingData) -> dict:
    """A model card (cnnviz.core.networks.card.training_card) said for the data it really learned:
    the class names, the set's name and its manifest's SHA-256."""
    return card_for_set(card, data.classes, data.choice, data.set_sha256,
                        len(data.x_train), len(data.x_test))


def card_for_set(card: dict, classes: list[str], choice: DatasetChoice, set_sha256: str | None,
                 train_images: int, test_images: int) -> dict:
    """set_card_facts from its parts (the lab's run knows them without the arrays)."""
    out = dict(card, classes=list(classes), train_images=int(train_images),
               test_images=int(test_images))
    if choice.folder is not None:
        out["user_set"] = choice.folder.name
        if set_sha256:
            out["user_set_sha256"] = set_sha256
        if choice.builtin is None:
            out.pop("dataset", None)
            out.pop("dataset_sha256", None)
    return out


@dataclass
class SetEvaluation:
    classes: list[str]
    count: int
    correct: int
    accuracy: float
    interval: tuple[float, float]
    per_class: dict[str, float | None]
    per_writer: dict[str, float]
    confusion: list[list[int]]
    misread: list[dict]  # the most confident wrong answers: file, truth, answer, confidence
    mnist_accuracy: float | None = None

    def to_json(self) -> dict:
        return {"classes": self.classes, "count": self.count, "accuracy": self.accuracy,
                "accuracy_interval": list(self.interval), "per_class_accuracy": self.per_class,
                "per_writer_accuracy": self.per_writer, "confusion": self.confusion,
                "misread": self.misread, "mnist_accuracy": self.mnist_accuracy}

    @property
    def sentence(self) -> str:
        text = f"your set: {self.accuracy:.1%} ({self.interval[0]:.1%}–{self.interval[1]:.1%})"
        if self.mnist_accuracy is not None:
            text += f"; MNIST test: {self.mnist_accuracy:.1%}"
        return text


def _class_map(model_classes: list[str], set_classes: list[str]) -> np.ndarray:
    """For each of the set's classes, the model's output of the same name."""
    missing = [c for c in set_classes if c not in model_classes]
    if missing:
        raise UserSetError(f"the model has no output for the set's class {missing[0]!r} (its "
                           f"classes: {', '.join(model_classes[:12])}"
                           f"{'…' if len(model_classes) > 12 else ''})")
    return np.array([model_classes.index(c) for c in set_classes], np.int64)


def evaluate_on_set(model, folder: str | Path, data_dir=None, with_mnist: bool = True,
                    progress=None, should_stop=None) -> SetEvaluation:
    """How a model reads the user's set: accuracy with its Wilson 95% interval, per class
    and per writer, the confusion matrix (rows: the truth, columns: the answer, in the
    model's classes), the most confidently misread samples, and the same model's MNIST
    test accuracy beside it (when it reads digits and the files are there)."""
    from .report_card import wilson_interval

    user = UserSet.open(folder)
    x, y = user.arrays(progress, should_stop)
    if len(x) == 0:
        raise UserSetError(f"{user.name} holds no samples to evaluate on")
    classes = list(model.class_names)
    truth = _class_map(classes, user.class_names)[y]
    if tuple(model.input_spec.shape) != tuple(user.input_shape):
        raise UserSetError(f"the model takes {model.input_spec.size_text} pictures; the set "
                           f"holds {user.input_shape[1]}×{user.input_shape[2]}")
    probs = _probabilities(model, x)
    answer = probs.argmax(1)
    right = answer == truth
    k = len(classes)
    confusion = np.zeros((k, k), np.int64)
    np.add.at(confusion, (truth, answer), 1)
    writers = user.writer_of_each()
    per_writer = {w or "(no name)": float(right[[i for i, v in enumerate(writers) if v == w]].mean())
                  for w in sorted(set(writers))}
    per_class = {c: (float(right[y == i].mean()) if (y == i).any() else None)
                 for i, c in enumerate(user.class_names)}
    wrong = np.flatnonzero(~right)
    wrong = wrong[np.argsort(-probs[wrong, answer[wrong]], kind="stable")][:MISREAD_SHOWN]
    misread = [{"file": user.samples[i].file, "truth": classes[truth[i]],
                "answer": classes[answer[i]], "confidence": float(probs[i, answer[i]])}
               for i in wrong]
    mnist = _mnist_accuracy(model, data_dir) if with_mnist else None
    return SetEvaluation(classes, len(x), int(right.sum()), float(right.mean()),
                         wilson_interval(int(right.sum()), len(x)), per_class, per_writer,
                         confusion.tolist(), misread, mnist)


def _probabilities(model, x: np.ndarray) -> np.ndarray:
    pics = x.astype(np.float32) / 255.0
    out = [model.predict_proba(pics[i:i + 512]) for i in range(0, len(pics), 512)]
    return np.concatenate(out)


def _mnist_accuracy(model, data_dir) -> float | None:
    """The model's accuracy on MNIST's 10,000 test digits, when its outputs include the ten
    digits and it takes 28×28; None otherwise (or without the files)."""
    classes = list(model.class_names)
    if not model.input_spec.is_digit_sized or not all(str(d) in classes for d in range(10)):
        return None
    try:
        x, y = load_split("mnist", "test", data_dir)
    except DataError:
        return None
    digits = np.array([classes.index(str(d)) for d in range(10)])
    with torch.no_grad():
        answer = _probabilities(model, x).argmax(1)
    return float((answer == digits[y]).mean())


def augment_preview(images: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` of the pictures (chosen with the seed) as the network gets them, and what
    cnnviz.core.training.loop.augment_batch makes of them with a generator seeded the same:
    (originals, augmented), float32 in [0, 1], (count, C, H, W)."""
    from .loop import augment_batch, to_tensor

    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(images), size=min(count, len(images)), replace=False))
    x = to_tensor(images[chosen])
    out = augment_batch(x.clone(), torch.Generator().manual_seed(seed))
    return x.numpy(), out.numpy()


def preview_pictures(choice: DatasetChoice, data_dir=None) -> tuple[np.ndarray, str]:
    """Training pictures to preview augmentation on (up to PREVIEW_READ, uint8) and what
    they are in words: the user's set's (the first of each class in turn), else the
    built-in dataset's first training images."""
    if choice.folder is None:
        x, _y = load_split(choice.only_builtin, "train", data_dir)
        return x[:PREVIEW_READ], f"{DATASETS[choice.only_builtin].name}'s training images"
    user = UserSet.open(choice.folder)
    by_class = [[s for s in user.samples if s.cls == c] for c in user.class_names]
    order = [s for group in zip(*by_class) for s in group] if all(by_class) else user.samples
    order = (order or user.samples)[:PREVIEW_READ]
    if not order:
        raise UserSetError(f"{user.name} holds no pictures yet")
    pictures = np.stack([user.picture(s) for s in order])
    if pictures.ndim == 4:  # colour pictures are (N, H, W, 3) on disk
        pictures = np.moveaxis(pictures, -1, 1)
    return pictures, f"your set {user.name!r}"

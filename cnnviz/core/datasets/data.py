"""MNIST and Fashion-MNIST: where the files live, checksums, and the IDX reader.

The data folder is chosen by (1) an explicit argument (the CLI's --data-dir), (2) the
CNNVIZ_DATA_DIR environment variable, (3) a per-user cache folder. It is laid out like
this:  <data dir>/mnist/train-images-idx3-ubyte.gz ... and <data dir>/fashion-mnist/...
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

ENV_VAR = "CNNVIZ_DATA_DIR"


class DataError(RuntimeError):
    """A dataset that is missing, damaged or not what it claims to be."""


@dataclass(frozen=True)
class DatasetFile:
    name: str
    size: int  # bytes of the .gz file
    sha256: str  # of the .gz file
    raw_size: int  # bytes of the unpacked IDX file (the name without .gz)
    raw_sha256: str  # of the unpacked IDX file

    @property
    def raw_name(self) -> str:
        return self.name.removesuffix(".gz")


@dataclass(frozen=True)
class DatasetInfo:
    key: str  # folder name: "mnist" or "fashion-mnist"
    name: str  # short, for labels: "MNIST"
    title: str
    classes: tuple[str, ...]
    files: dict[str, DatasetFile]  # "train-images", "train-labels", "test-images", "test-labels"
    mirrors: tuple[str, ...]  # base URLs, each followed by the file name
    mean: float  # training pixel mean / std, scaled to [0, 1]
    std: float


def _files(sizes_and_hashes, raw_hashes) -> dict[str, DatasetFile]:
    keys = ("train-images", "train-labels", "test-images", "test-labels")
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    # Unpacked sizes: a 16-byte header + 60,000 or 10,000 images of 28x28; 8 + one byte a label.
    raw_sizes = (16 + 60_000 * 784, 8 + 60_000, 16 + 10_000 * 784, 8 + 10_000)
    return {k: DatasetFile(n, s, h, rs, rh) for k, n, (s, h), rs, rh in
            zip(keys, names, sizes_and_hashes, raw_sizes, raw_hashes)}


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo(
        key="mnist",
        name="MNIST",
        title="MNIST handwritten digits",
        classes=tuple(str(d) for d in range(10)),
        files=_files([
            (9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            (28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            (1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            (4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        ], [  # SHA-256 of the unpacked files (shared/data/mnist/CHECKSUMS)
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        ]),
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        mean=0.1307, std=0.3081,
    ),
    "fashion-mnist": DatasetInfo(
        key="fashion-mnist",
        name="Fashion-MNIST",
        title="Fashion-MNIST (Zalando)",
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot"),
        files=_files([
            (26421880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            (29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            (4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            (5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        ], [  # SHA-256 of the unpacked files (shared/data/fashion-mnist/CHECKSUMS)
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        ]),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        mean=0.2860, std=0.3530,
    ),
}


DATASET_NAMES = {key: info.name for key, info in DATASETS.items()}  # "mnist" -> "MNIST"


def get_dataset_info(name: str) -> DatasetInfo:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown dataset {name!r} (known: {', '.join(DATASETS)})") from None


def user_cache_dir() -> Path:
    """The per-user cache folder, following each platform's convention (platformdirs):
    ~/.cache/cnnviz/data on Linux ($XDG_CACHE_HOME honoured), ~/Library/Caches/cnnviz/data
    on macOS, %LOCALAPPDATA%\\cnnviz\\data on Windows (no author level, no extra "Cache")."""
    return Path(platformdirs.user_cache_dir("cnnviz", appauthor=False, opinion=False)) / "data"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Option first, then $CNNVIZ_DATA_DIR, then the per-user cache folder; always an
    absolute path, so a relative setting (../shared/data) means the folder it names from
    where the setting was read, also for links made to its files and after a chdir."""
    if data_dir:
        chosen = Path(data_dir).expanduser()
    elif os.environ.get(ENV_VAR):
        chosen = Path(os.environ[ENV_VAR]).expanduser()
    else:
        chosen = user_cache_dir()
    return Path(os.path.abspath(chosen))  # lexical: ".." removed, links left as named


def dataset_path(dataset: str, part: str, data_dir=None) -> Path:
    info = get_dataset_info(dataset)
    return resolve_data_dir(data_dir) / info.key / info.files[part].name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path, expected: DatasetFile) -> None:
    """Raise DataError unless the file has the published size and SHA-256: of the .gz file,
    or of the unpacked IDX file when the path does not end in .gz."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing file {path}")
    packed = path.suffix == ".gz"
    want_size = expected.size if packed else expected.raw_size
    want_sha = expected.sha256 if packed else expected.raw_sha256
    try:
        size = path.stat().st_size
        digest = sha256_of(path) if size == want_size else None
    except OSError as exc:  # unreadable (permissions, an I/O error): one line, not a traceback
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size != want_size:
        raise DataError(f"{path} has {size:,} bytes, expected {want_size:,} "
                        "(truncated or not the official file)")
    if digest != want_sha:
        raise DataError(f"{path} does not match its published SHA-256 checksum (damaged file)")


def find_file(dataset: str, part: str, data_dir=None) -> Path:
    """The file of one part as it is on disk: the .gz file, else the same file unpacked
    (no .gz), else the .gz path (missing; verify_file says so)."""
    path = dataset_path(dataset, part, data_dir)
    raw = path.with_suffix("")
    return raw if not path.is_file() and raw.is_file() else path


def missing_message(dataset: str, data_dir=None) -> str:
    folder = resolve_data_dir(data_dir) / get_dataset_info(dataset).key
    return (f"The {dataset} files are not in {folder}. Run `cnnviz data download {dataset}`, "
            f"or point --data-dir or ${ENV_VAR} at a folder holding {dataset}/ with the four "
            "official .gz files.")


def _read_idx(path: Path, magic: int, item_shape: tuple[int, ...]) -> np.ndarray:
    """Read an IDX file (gzip or raw) and check its header against what we expect."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:  # cut short or corrupted inside
        raise DataError(f"cannot read {path}: the file is damaged ({exc}); download it again "
                        "with `cnnviz data download`") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    header_len = 4 + 4 * (1 + len(item_shape))
    if len(raw) < header_len:
        raise DataError(f"{path} is too short to be an IDX file")
    header = np.frombuffer(raw, ">u4", count=1 + 1 + len(item_shape))
    if int(header[0]) != magic:
        raise DataError(f"{path}: IDX magic number {int(header[0])}, expected {magic}")
    count = int(header[1])
    dims = tuple(int(v) for v in header[2:])
    if dims != item_shape:
        raise DataError(f"{path}: items of shape {dims}, expected {item_shape}")
    expected = count * int(np.prod(item_shape, dtype=np.int64))
    if len(raw) - header_len != expected:
        raise DataError(f"{path}: holds {len(raw) - header_len:,} data bytes, header says {expected:,}")
    return np.frombuffer(raw, np.uint8, offset=header_len).reshape((count, *item_shape))


def _find(dataset: str, part: str, data_dir) -> Path:
    path = find_file(dataset, part, data_dir)
    if path.is_file():
        return path
    raise DataError(missing_message(dataset, data_dir))


def load_split(dataset: str = "mnist", split: str = "test", data_dir=None,
               verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) uint8 of the train or test split.

    With verify=True each file is checked against its published SHA-256 first (of the .gz
    file, or of the unpacked file when only that is there).
    """
    if split not in ("train", "test"):
        raise DataError(f"split must be 'train' or 'test', got {split!r}")
    info = get_dataset_info(dataset)
    paths = {kind: _find(dataset, f"{split}-{kind}", data_dir) for kind in ("images", "labels")}
    if not verify:
        return _decoded(info, split, paths, verify)
    from ..basics.picture_cache import cached_dict

    try:  # checked and decoded once; again when a file or its permissions change
        stats = tuple((str(p.absolute()), st.st_size, st.st_mtime_ns, st.st_ctime_ns)
                      for p, st in ((p, p.stat()) for p in paths.values()))
    except OSError as exc:
        raise DataError(f"cannot read {dataset}: {exc}") from None
    found = cached_dict(f"{dataset}-{split}", stats, lambda: dict(zip(
        ("images", "labels"), _decoded(info, split, paths, verify), strict=True)),
        tail={"images": (28, 28), "labels": ()})
    return found["images"], found["labels"]


def _decoded(info: DatasetInfo, split: str, paths: dict[str, Path],
             verify: bool) -> tuple[np.ndarray, np.ndarray]:
    if verify:
        for kind, path in paths.items():
            verify_file(path, info.files[f"{split}-{kind}"])
    images = _read_idx(paths["images"], 2051, (28, 28))
    labels = _read_idx(paths["labels"], 2049, ())
    if len(images) != len(labels):
        raise DataError(f"{len(images)} images but {len(labels)} labels in the {split} split")
    if labels.size and labels.max() >= len(info.classes):
        raise DataError(f"label {labels.max()} out of range in the {split} split")
    return images, labels


def dataset_checksums(dataset: str) -> dict[str, str]:
    """The published SHA-256 of each file, recorded in model cards."""
    return {f.name: f.sha256 for f in get_dataset_info(dataset).files.values()}

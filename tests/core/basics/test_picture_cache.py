"""The cache of pictures made by code (outlier exposure's non-digits, the verdict's user
pictures): read back exactly, made again whenever the content key or the file is not right,
and never a reason for a run to fail."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.core.basics import picture_cache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / picture_cache.FOLDER


class Maker:
    """make() for the cache, counting its calls."""

    def __init__(self, value=None):
        self.calls = 0
        self.value = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28) \
            if value is None else value

    def __call__(self):
        self.calls += 1
        return self.value.copy()


def test_made_once_then_read_back_exactly(cache):
    make = Maker()
    first = picture_cache.cached("p", (1, "mnist"), make)
    second = picture_cache.cached("p", (1, "mnist"), make)
    assert make.calls == 1
    np.testing.assert_array_equal(second, make.value)
    assert second.dtype == np.uint8 and first.flags.writeable and second.flags.writeable
    assert len(list(cache.glob("p-*.npz"))) == 1


def test_any_change_of_the_content_makes_a_new_entry(cache, monkeypatch):
    make = Maker()
    images = np.zeros((3, 28, 28), np.uint8)
    picture_cache.cached("p", (1,), make, arrays=(images,))
    picture_cache.cached("p", (2,), make, arrays=(images,))  # another argument
    changed = images.copy()
    changed[1, 5, 5] = 1
    picture_cache.cached("p", (1,), make, arrays=(changed,))  # one pixel of the input
    picture_cache.cached("q", (1,), make, arrays=(images,))  # another name
    assert make.calls == 4
    monkeypatch.setattr(picture_cache, "code_fingerprint", lambda: "other code")
    picture_cache.cached("p", (1,), make, arrays=(images,))  # the code that draws changed
    assert make.calls == 5


def test_the_fingerprint_follows_the_source_of_the_core(monkeypatch, tmp_path):
    # Every module of the core counts, in any of its subpackages, and so does where it is.
    core = tmp_path / "core"
    (core / "basics").mkdir(parents=True)
    (core / "pictures").mkdir()
    (core / "pictures" / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(picture_cache, "__file__", str(core / "basics" / "picture_cache.py"))
    picture_cache.code_fingerprint.cache_clear()
    try:
        before = picture_cache.code_fingerprint()
        picture_cache.code_fingerprint.cache_clear()
        (core / "pictures" / "a.py").write_text("x = 2\n")
        changed = picture_cache.code_fingerprint()
        picture_cache.code_fingerprint.cache_clear()
        (core / "pictures" / "a.py").rename(core / "basics" / "a.py")
        moved = picture_cache.code_fingerprint()
        assert len({before, changed, moved}) == 3
    finally:
        picture_cache.code_fingerprint.cache_clear()


@pytest.mark.parametrize("damage", [b"", b"not a zip file at all", b"PK\x03\x04broken"])
def test_a_damaged_file_is_made_again(cache, damage):
    make = Maker()
    picture_cache.cached("p", (1,), make)
    (path,) = cache.glob("p-*.npz")
    path.write_bytes(damage)
    np.testing.assert_array_equal(picture_cache.cached("p", (1,), make), make.value)
    assert make.calls == 2
    np.testing.assert_array_equal(picture_cache.cached("p", (1,), make), make.value)
    assert make.calls == 2  # written again, whole


def test_an_entry_of_the_wrong_kind_is_not_used(cache):
    make = Maker()
    picture_cache.cached("p", (1,), make)
    (path,) = cache.glob("p-*.npz")
    with open(path, "wb") as fh:  # floats of another size under the right name
        np.savez(fh, pictures=np.ones((2, 5, 5), np.float64))
    np.testing.assert_array_equal(picture_cache.cached("p", (1,), make), make.value)
    assert make.calls == 2


def test_a_pickle_in_the_cache_is_never_loaded(cache):
    make = Maker()
    picture_cache.cached("p", (1,), make)
    (path,) = cache.glob("p-*.npz")
    with open(path, "wb") as fh:
        np.savez(fh, pictures=np.array([{"x": 1}, None], dtype=object))
    np.testing.assert_array_equal(picture_cache.cached("p", (1,), make), make.value)


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("in the way")
    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(blocker))  # the folder cannot be made
    make = Maker()
    for _ in range(2):
        np.testing.assert_array_equal(picture_cache.cached("p", (1,), make), make.value)
    assert make.calls == 2


def test_only_the_newest_entries_are_kept(cache, monkeypatch):
    monkeypatch.setattr(picture_cache, "MAX_FILES", 3)
    make = Maker()
    for i in range(6):
        picture_cache.cached("p", (i,), make)
    assert len(list(cache.glob("*.npz"))) == 3
    picture_cache.cached("p", (5,), make)  # the newest is still there
    assert make.calls == 6


def test_training_outliers_from_the_cache_equal_the_drawn_ones(cache):
    """The reference: the drawings through the preprocessing, without the cache."""
    from cnnviz.core.reading.outliers import STREAM_TRAIN, outlier_inputs, training_outliers

    images, _ = outlier_inputs(40, "mnist", stream=STREAM_TRAIN, seed=3)
    expected = np.round(images * 255.0).astype(np.uint8)
    for _ in range(2):  # made, then read
        np.testing.assert_array_equal(training_outliers(40, "mnist", seed=3), expected)
    assert len(list(cache.glob("training-outliers-*.npz"))) == 1


def test_user_views_from_the_cache_equal_the_made_ones(cache):
    """The reference: user_pictures.make_set through preprocess_digit, without the cache."""
    from cnnviz.core.pictures.preprocess import preprocess_digit
    from cnnviz.core.pictures.samples import load_samples
    from cnnviz.core.pictures.user_pictures import make_set
    from cnnviz.core.reading import verdict

    digits = load_samples("mnist")[0][:30]
    share = 0.05
    made = verdict.user_views(digits, share=share)
    read = verdict.user_views(digits, share=share)
    assert list(made) == list(read) == list(verdict.USER_PICTURES)
    for kind, count in verdict.USER_PICTURES.items():
        pictures, _ = make_set(kind, digits, np.zeros(30, np.int64),
                               count=max(10, round(count * share)), seed=verdict.USER_SEED)
        expected = np.asarray([d.image for d in map(preprocess_digit, pictures)
                               if not d.empty], np.float32)
        np.testing.assert_array_equal(made[kind], expected)
        np.testing.assert_array_equal(read[kind], expected)
        assert read[kind].dtype == np.float32
    assert len(list(cache.glob("user-view-*.npz"))) == len(verdict.USER_PICTURES)


def test_user_views_stopped_part_way_keep_the_kinds_made(cache):
    """Stopped between kinds (the lab's early start gives way to Keep): what was made is
    read back next time, only the rest is made."""
    from cnnviz.core.pictures.samples import load_samples
    from cnnviz.core.reading import verdict

    digits = load_samples("mnist")[0][:20]

    class Stop(Exception):
        pass

    def stop_after_two(share):
        if share >= 2 / len(verdict.USER_PICTURES):
            raise Stop

    with pytest.raises(Stop):
        verdict.user_views(digits, share=0.05, progress=stop_after_two)
    assert len(list(cache.glob("user-view-*.npz"))) == 2


def test_a_dataset_is_checked_and_decoded_once_and_again_when_its_file_changes(
        cache, tmp_path, monkeypatch, mnist_dir):
    """The reference: the official file unpacked with gzip and read as IDX by numpy."""
    import gzip
    import os
    import shutil
    from pathlib import Path

    from cnnviz.core.datasets import data

    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(Path(mnist_dir) / "mnist" / name, folder / name)
    checked = []
    real_verify = data.verify_file
    monkeypatch.setattr(data, "verify_file", lambda path, expected: (
        checked.append(path.name), real_verify(path, expected)))
    raw = gzip.decompress((folder / "t10k-images-idx3-ubyte.gz").read_bytes())
    expected = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
    labels = np.frombuffer(gzip.decompress((folder / "t10k-labels-idx1-ubyte.gz").read_bytes()),
                           np.uint8, offset=8)
    for _ in range(2):
        images, got = data.load_split("mnist", "test", tmp_path / "data")
        np.testing.assert_array_equal(images, expected)
        np.testing.assert_array_equal(got, labels)
    assert len(checked) == 2  # the two files, checked the first time only
    later = (folder / "t10k-labels-idx1-ubyte.gz").stat().st_mtime_ns + 10**9
    os.utime(folder / "t10k-labels-idx1-ubyte.gz", ns=(later, later))  # a new copy
    data.load_split("mnist", "test", tmp_path / "data")
    assert len(checked) == 4
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"damaged")  # a damaged copy: said
    with pytest.raises(data.DataError):
        data.load_split("mnist", "test", tmp_path / "data")

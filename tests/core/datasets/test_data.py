"""The data folder setting and the IDX reader, against the published facts about MNIST."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.datasets.data import (
    ENV_VAR,
    DataError,
    get_dataset_info,
    load_split,
    resolve_data_dir,
    verify_file,
)


def test_data_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "opt") == tmp_path / "opt"  # the option wins
    assert resolve_data_dir() == tmp_path / "env"  # then the environment
    monkeypatch.delenv(ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert resolve_data_dir() == tmp_path / "cache" / "cnnviz" / "data"  # then the cache


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_relative_data_dir_is_made_absolute_where_it_is_read(monkeypatch, tmp_path, how):
    # The README's `CNNVIZ_DATA_DIR=../shared/data`: links made to its files must not
    # dangle, and a later chdir must not move the folder.
    (tmp_path / "shared" / "data").mkdir(parents=True)
    (tmp_path / "repo").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv(ENV_VAR, "../shared/data")
    folder = resolve_data_dir("../shared/data" if how == "option" else None)
    assert folder.is_absolute() and folder == tmp_path / "shared" / "data"
    monkeypatch.chdir(tmp_path)
    assert folder.is_dir()


def test_the_cache_folder_is_the_one_the_readme_names(monkeypatch):
    import sys

    from cnnviz.core.datasets.data import user_cache_dir

    if not sys.platform.startswith("linux"):
        pytest.skip("the README's Linux folder")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert user_cache_dir() == Path.home() / ".cache" / "cnnviz" / "data"


def test_mnist_published_facts(mnist_test, mnist_train):
    # From shared/data/README.md: label counts and first labels of the official release.
    xt, yt = mnist_test
    assert xt.shape == (10000, 28, 28) and xt.dtype == np.uint8
    assert list(yt[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert list(np.bincount(yt)) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    x, y = mnist_train
    assert list(y[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(np.bincount(y)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert abs(x.mean() / 255 - 0.1307) < 1e-4 and abs((x / 255).std() - 0.3081) < 1e-4


def _copy_mnist(tmp_path, mnist_test):
    src = resolve_data_dir() / "mnist"
    dst = tmp_path / "mnist"
    dst.mkdir()
    for f in get_dataset_info("mnist").files.values():
        if f.name.startswith("t10k"):
            shutil.copy(src / f.name, dst / f.name)
    return dst


def test_missing_dataset_message(tmp_path):
    with pytest.raises(DataError) as info:
        load_split("mnist", "test", tmp_path)
    assert "cnnviz data download" in str(info.value) and str(tmp_path) in str(info.value)


def test_truncated_file_refused(tmp_path, mnist_test):
    dst = _copy_mnist(tmp_path, mnist_test)
    f = dst / "t10k-labels-idx1-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-100])
    with pytest.raises(DataError, match="truncated"):
        load_split("mnist", "test", tmp_path)


def test_corrupted_file_refused(tmp_path, mnist_test):
    dst = _copy_mnist(tmp_path, mnist_test)
    f = dst / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(f.read_bytes())
    raw[100] ^= 0xFF
    f.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="checksum"):
        verify_file(f, get_dataset_info("mnist").files["test-labels"])


def test_raw_idx_files_and_header_checks(tmp_path, mnist_test):
    dst = _copy_mnist(tmp_path, mnist_test)
    for gz in dst.glob("*.gz"):  # unpacked files are read too
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    x, y = load_split("mnist", "test", tmp_path)
    np.testing.assert_array_equal(x, mnist_test[0])
    # swap the files: the magic numbers tell them apart
    img, lab = dst / "t10k-images-idx3-ubyte", dst / "t10k-labels-idx1-ubyte"
    img.rename(tmp_path / "tmp")
    lab.rename(img)
    (tmp_path / "tmp").rename(lab)
    with pytest.raises(DataError, match="bytes, expected"):  # the checksums catch it first
        load_split("mnist", "test", tmp_path)
    with pytest.raises(DataError, match="magic"):  # without them, the header does
        load_split("mnist", "test", tmp_path, verify=False)


def _unpack(dst):
    for gz in dst.glob("*.gz"):
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()


def test_unpacked_files_are_verified_against_the_decompressed_checksums(tmp_path, mnist_test):
    dst = _copy_mnist(tmp_path, mnist_test)
    _unpack(dst)
    info = get_dataset_info("mnist")
    raw = dst / "t10k-labels-idx1-ubyte"
    verify_file(raw, info.files["test-labels"])  # the published SHA-256 of the unpacked file
    assert info.files["test-labels"].raw_size == raw.stat().st_size == 10_008
    data = bytearray(raw.read_bytes())
    data[8 + 17] = (data[8 + 17] + 1) % 10  # one label changed: still a valid IDX file
    raw.write_bytes(bytes(data))
    with pytest.raises(DataError, match="does not match its published SHA-256"):
        verify_file(raw, info.files["test-labels"])
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte does not match"):
        load_split("mnist", "test", tmp_path)
    raw.write_bytes(bytes(data[:-5]))
    with pytest.raises(DataError, match="10,003 bytes, expected 10,008"):
        load_split("mnist", "test", tmp_path)


def test_decompressed_checksums_match_the_shared_checksums_file():
    # The shared data folder's CHECKSUMS lists the SHA-256 of every unpacked file.
    import re

    folder = resolve_data_dir()
    for dataset in ("mnist", "fashion-mnist"):
        sums = folder / dataset / "CHECKSUMS"
        if not sums.is_file():
            pytest.skip(f"no {sums}")
        listed = dict(re.findall(r"SHA256 \((\S+)\) = (\w+)", sums.read_text()))
        for f in get_dataset_info(dataset).files.values():
            assert listed[f.name] == f.sha256
            assert listed[f.name[:-3]] == f.raw_sha256


def test_damaged_gzip_without_verification_is_a_data_error(tmp_path, mnist_test):
    dst = _copy_mnist(tmp_path, mnist_test)
    f = dst / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(f.read_bytes())
    raw[100] ^= 0xFF  # inside the deflate stream: zlib.error, not OSError
    f.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz.*damaged"):
        load_split("mnist", "test", tmp_path, verify=False)

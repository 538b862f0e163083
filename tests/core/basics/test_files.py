"""Atomic writes keep the old file on failure; reads refuse special files."""

import os

import pytest

from cnnviz.core.basics.files import FileProblem, read_regular_file, write_atomically


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "maps.npy"
    target.write_bytes(b"old contents")

    def fail(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(FileProblem, match="No space left"):
        write_atomically(target, fail)
    assert target.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maps.npy"]  # no .part left behind


def test_write_replaces_and_uses_the_name_as_given(tmp_path):
    target = tmp_path / "view"
    write_atomically(target, lambda fh: fh.write(b"new"))
    assert target.read_bytes() == b"new"


def test_missing_folder_is_a_message_not_created(tmp_path):
    with pytest.raises(FileProblem, match="does not exist"):
        write_atomically(tmp_path / "nope" / "a.png", lambda fh: fh.write(b"x"))
    assert not (tmp_path / "nope").exists()


def test_fifo_and_devices_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileProblem, match="not a regular"):
        read_regular_file(fifo, 1024)
    with pytest.raises(FileProblem, match="not a regular"):
        read_regular_file("/dev/zero", 1024)


def test_too_large_is_refused(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(FileProblem, match="at most"):
        read_regular_file(big, 1024)
    assert read_regular_file(big, 4096) == b"x" * 2048

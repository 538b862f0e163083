"""The user's own sets (cnnviz.core.training.user_set): the folder format round-trips (write, read,
export, re-import), MNIST's own digits export to IDX records equal to the official ones
byte for byte, the image-folder layout is read as torchvision reads it, and every bad
input gets a message or a safe outcome with no sample lost."""

from __future__ import annotations

import gzip
import json
import threading

import numpy as np
import pytest
from data_policy import need_data
from PIL import Image

from cnnviz.core.datasets.data import find_file
from cnnviz.core.training import user_set
from cnnviz.core.training.user_set import (
    MANIFEST,
    UserSet,
    UserSetError,
    folder_name_for,
    set_warnings,
    split_by_writer,
    training_problem,
)


def _random_pictures(n, seed=0, shape=(28, 28)):
    return np.random.default_rng(seed).integers(0, 256, (n, *shape), dtype=np.uint8)


def _idx_records(path, header):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    return raw[:header], raw[header:]


def test_the_folder_format_round_trips(tmp_path):
    pictures = _random_pictures(6)
    s = UserSet.create(tmp_path / "mine", ["circle", "a/b", "CON"])
    for i, p in enumerate(pictures):
        s.add_picture(p, ["circle", "a/b", "CON"][i % 3], writer=f"w{i % 2}",
                      strokes=[[[0.1, 0.2], [0.3, 0.4]]])
    manifest = json.loads((tmp_path / "mine" / MANIFEST).read_text())
    assert manifest["format"] == "cnnviz-set" and manifest["version"] == 1
    assert manifest["input_shape"] == [1, 28, 28]
    assert [c["name"] for c in manifest["classes"]] == ["circle", "a/b", "CON"]
    assert [c["folder"] for c in manifest["classes"]] == ["circle", "a_b", "CON_"]
    assert set(manifest["samples"][0]) == {"file", "class", "writer", "time", "strokes"}
    assert manifest["samples"][0]["strokes"] == [[[0.1, 0.2], [0.3, 0.4]]]

    again = UserSet.open(tmp_path / "mine")
    x, y = again.arrays()
    np.testing.assert_array_equal(x, pictures)  # PNG is lossless
    np.testing.assert_array_equal(y, [0, 1, 2, 0, 1, 2])
    assert again.writer_of_each() == ["w0", "w1"] * 3

    npz = np.load(again.export_npz(tmp_path / "mine.npz"))
    np.testing.assert_array_equal(npz["x"], pictures)
    np.testing.assert_array_equal(npz["y"], y)
    assert list(npz["classes"]) == ["circle", "a/b", "CON"]

    images, labels = again.export_idx(tmp_path, "mine")
    head, body = _idx_records(images, 16)
    assert np.frombuffer(head, ">u4").tolist() == [2051, 6, 28, 28]
    assert body == pictures.tobytes()
    head, body = _idx_records(labels, 8)
    assert np.frombuffer(head, ">u4").tolist() == [2049, 6] and list(body) == [0, 1, 2, 0, 1, 2]

    copy = UserSet.create(tmp_path / "copy", [])
    report = copy.import_folder(tmp_path / "mine")
    assert report.imported == 6 and not report.skipped
    assert copy.class_names == ["circle", "a/b", "CON"]
    x2, y2 = copy.arrays()
    for c in range(3):  # imported class by class, each in its order
        np.testing.assert_array_equal(x2[y2 == c], pictures[y == c])


def test_mnist_digits_export_to_the_official_idx_bytes(tmp_path):
    data_dir = need_data("mnist")
    _, official = _idx_records(find_file("mnist", "test-images", data_dir), 16)
    _, official_labels = _idx_records(find_file("mnist", "test-labels", data_dir), 8)
    digits = np.frombuffer(official[:100 * 784], np.uint8).reshape(100, 28, 28)
    labels = np.frombuffer(official_labels[:100], np.uint8)
    s = UserSet.create(tmp_path / "digits", [str(d) for d in range(10)])
    for image, label in zip(digits, labels):
        s.add_picture(image, str(label))
    images, label_file = s.export_idx(tmp_path, "t10k-first100")
    assert _idx_records(images, 16)[1] == official[:100 * 784]
    assert _idx_records(label_file, 8)[1] == official_labels[:100]

    # the same digits as an image folder (PNGs, one subfolder per digit), imported as they are
    folder = tmp_path / "folder"
    for i, (image, label) in enumerate(zip(digits, labels)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / str(label) / f"{i:05d}.png")
    imported = UserSet.create(tmp_path / "imported", [])
    imported.import_folder(folder)
    x, y = imported.arrays()
    for d in range(10):
        assert x[y == d].tobytes() == digits[labels == d].tobytes()


def test_an_image_folder_is_read_as_torchvision_reads_it(tmp_path):
    folder = tmp_path / "photos"
    (folder / "b").mkdir(parents=True)
    (folder / "a").mkdir()
    rng = np.random.default_rng(1)
    colour = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (10, 14), dtype=np.uint8)
    Image.fromarray(colour).save(folder / "b" / "x.png")
    Image.fromarray(grey).save(folder / "a" / "y.png")
    s = UserSet.open(folder)
    assert not s.has_manifest and s.class_names == ["a", "b"]  # sorted, as ImageFolder
    x, y = s.arrays()  # mixed sizes and colour: all 28x28 grey
    assert x.shape == (2, 28, 28) and list(y) == [0, 1]
    want = np.asarray(Image.fromarray(colour).convert("L").resize((28, 28), Image.Resampling.BOX))
    assert np.abs(x[1].astype(int) - want.astype(int)).max() <= 1
    want = np.asarray(Image.fromarray(grey).resize((28, 28), Image.Resampling.BILINEAR))
    assert np.abs(x[0].astype(int) - want.astype(int)).max() <= 1
    with pytest.raises(UserSetError, match="image folder, not a cnnviz set"):
        s.add_picture(x[0], "a")


def test_a_drawing_goes_through_the_apps_preprocessing(tmp_path):
    from cnnviz.core.pictures.preprocess import preprocess_digit

    pad = np.full((280, 280), 255.0, np.float32)
    pad[60:220, 130:150] = 0  # a dark "1" on white
    s = UserSet.create(tmp_path / "d", ["1"])
    s.add_drawing(pad, "1", writer="Ana")
    want = np.clip(np.rint(preprocess_digit(pad).image * 255), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(s.arrays()[0][0], want)
    with pytest.raises(UserSetError, match="no drawing was found"):
        s.add_drawing(np.full((280, 280), 255.0, np.float32), "1")  # a blank pad
    assert len(UserSet.open(tmp_path / "d").samples) == 1


def test_class_names_that_are_not_folder_names(tmp_path):
    assert folder_name_for("arrow up") == "arrow-up"
    assert folder_name_for("?/\\*") == "class"
    assert folder_name_for("nul") == "nul_"
    assert folder_name_for("..") == "class"
    assert folder_name_for("Cat", {"cat"}) == "Cat-2"
    s = UserSet.create(tmp_path / "n", ["⭐", "*", "..", "x" * 30])
    folders = [c.folder for c in s.classes]
    assert len(set(f.lower() for f in folders)) == 4
    assert all((tmp_path / "n" / f).is_dir() for f in folders)
    assert UserSet.open(tmp_path / "n").class_names == ["⭐", "*", "..", "x" * 30]
    with pytest.raises(UserSetError, match="needs a name"):
        s.add_class("   ")
    with pytest.raises(UserSetError, match="at most 60"):
        s.add_class("y" * 61)


def test_bad_sets_say_why(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserSetError, match="no subfolders"):
        UserSet.open(tmp_path / "empty")
    texts = tmp_path / "texts" / "a"
    texts.mkdir(parents=True)
    (texts / "notes.txt").write_text("hello")
    with pytest.raises(UserSetError, match="holds no pictures"):
        UserSet.open(tmp_path / "texts")
    (texts / "fake.png").write_text("not a picture")  # named as one, is not: skipped, counted
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(texts / "real.png")
    s = UserSet.create(tmp_path / "into", [])
    report = s.import_folder(tmp_path / "texts")
    assert report.imported == 1 and len(report.skipped) == 1 and "fake.png" in report.summary
    (tmp_path / "into" / MANIFEST).write_text('{"format": "cnnviz-set", "version": 1, "inp')
    with pytest.raises(UserSetError, match="damaged"):
        UserSet.open(tmp_path / "into")

    monkeypatch.setattr(user_set, "MAX_SET_FILES", 30)  # (the real limit is 100,000)
    many = tmp_path / "many" / "a"
    many.mkdir(parents=True)
    for i in range(31):
        (many / f"{i}.png").write_bytes(b"")
    with pytest.raises(UserSetError, match="more than 30 pictures"):
        UserSet.open(tmp_path / "many")


def test_import_shows_progress_and_can_be_stopped(tmp_path, monkeypatch):
    folder = tmp_path / "src" / "a"
    folder.mkdir(parents=True)
    for i in range(6):
        Image.fromarray(np.full((8, 8), i * 40, np.uint8)).save(folder / f"{i}.png")
    monkeypatch.setattr(user_set, "_IMPORT_BATCH", 2)
    seen = []
    s = UserSet.create(tmp_path / "dst", [])
    report = s.import_folder(tmp_path / "src", progress=lambda d, t: seen.append((d, t)),
                             should_stop=lambda: len(seen) >= 2)
    assert report.stopped and report.imported == 4 and seen == [(2, 6), (4, 6)]
    assert len(UserSet.open(tmp_path / "dst").samples) == 4  # what was imported is kept


def test_two_windows_collecting_into_one_set_lose_nothing(tmp_path):
    UserSet.create(tmp_path / "shared", ["a", "b"])
    first, second = UserSet.open(tmp_path / "shared"), UserSet.open(tmp_path / "shared")
    first.add_picture(_random_pictures(1, 1)[0], "a")
    second.add_picture(_random_pictures(1, 2)[0], "b")  # its copy never saw the first's
    assert len(UserSet.open(tmp_path / "shared").samples) == 2

    def collect(seed):
        mine = UserSet.open(tmp_path / "shared")
        for p in _random_pictures(15, seed):
            mine.add_picture(p, "a", writer=str(seed))

    threads = [threading.Thread(target=collect, args=(s,)) for s in (3, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = UserSet.open(tmp_path / "shared")
    assert len(final.samples) == 32 and len({s.file for s in final.samples}) == 32
    assert all(final.path_of(s).is_file() for s in final.samples)


def test_delete_relabel_and_undo(tmp_path):
    s = UserSet.create(tmp_path / "e", ["a", "b"])
    samples = [s.add_picture(p, "a") for p in _random_pictures(3)]
    removed = s.delete([samples[0].file])
    assert len(s.samples) == 2 and not s.path_of(samples[0]).exists()
    s.restore(removed)
    assert len(UserSet.open(tmp_path / "e").samples) == 3 and s.path_of(samples[0]).is_file()
    moves = s.relabel([samples[1].file], "b")
    assert s.counts() == {"a": 2, "b": 1} and (tmp_path / "e" / moves[0][1]).is_file()
    s.relabel([moves[0][1]], "a")
    assert s.counts() == {"a": 3, "b": 0}
    with pytest.raises(UserSetError, match="still has 3"):
        s.remove_class("a")


def test_warnings_and_training_problems():
    assert training_problem({"a": 0, "b": 5}) == ("the class 'a' has no samples; add some or "
                                                   "remove the class before training")
    assert "at least two classes" in training_problem({"a": 20})
    assert training_problem({"a": 20, "b": 20}) is None
    words = " ".join(set_warnings({"a": 40, "b": 5, "c": 0}))
    assert "No samples yet in 'c'" in words and "Few samples in 'b'" in words
    assert "Unbalanced" in words
    assert set_warnings({"a": 20, "b": 25}) == []


def test_held_out_by_writer():
    writers = ["ana"] * 10 + ["ben"] * 10 + ["cy"] * 10 + ["dee"] * 10
    labels = np.arange(40) % 4
    train, test = split_by_writer(labels, writers, 0.25, seed=3)
    held = {writers[i] for i in test}
    assert len(held) == 1 and not held & {writers[i] for i in train}
    assert len(train) + len(test) == 40
    train, test = split_by_writer(labels, ["one"] * 40, 0.2, seed=0)  # one writer: per class
    assert len(test) == 8 and np.bincount(labels[test]).tolist() == [2, 2, 2, 2]
    with pytest.raises(UserSetError, match="test share"):
        split_by_writer(labels, writers, 1.0)

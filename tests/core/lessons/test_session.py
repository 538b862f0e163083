"""Session files and the pieces lessons share with them: pictures embedded as PNG come back
pixel for pixel (checked with Pillow), models are named by shipped name or file name plus
SHA-256 (checked with hashlib), and damaged or hostile files are refused with one message."""

from __future__ import annotations

import base64
import hashlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from cnnviz.core.basics.files import FileProblem
from cnnviz.core.lessons import session as S


def _doc(**changes) -> dict:
    doc = {"format": "cnnviz-session", "version": 1, "tab": "kernel-explorer", "model": "cnnviz",
           "input": {"drawing": {"base": None, "ink": 255, "paper": 0, "strokes": [
               {"erase": False, "points": [[10.5, 20.25, 20.0], [30.0, 40.0, 18.5]]}]}},
           "brush": 20, "layer": "conv1",
           "settings": {"KernelExplorer/stride": "2,2", "CnnExplorer/splitter": {"bytes": "AAEC"},
                        "teach/view": 3, "lab/augment": True}}
    doc.update(changes)
    return doc


def _parse(doc) -> S.Session:
    return S.parse_session(json.dumps(doc).encode(), "s.cnnviz-session")


def test_a_session_round_trips_through_its_file(tmp_path):
    session = _parse(_doc())
    path = S.write_json_file(tmp_path / "a.cnnviz-session", S.session_document(session))
    again = S.read_session(path)
    assert again.folder == tmp_path
    for field in ("tab", "model", "input", "brush", "layer", "settings"):
        assert getattr(again, field) == getattr(session, field)
    assert again.input["drawing"]["strokes"][0]["points"][0] == [10.5, 20.25, 20.0]
    assert S.is_session(path.read_bytes()) and not S.is_session(b'{"format": "cnnviz-lesson"}')


def test_pictures_embed_as_png_and_come_back_exactly():
    rng = np.random.default_rng(1)
    grey = rng.integers(0, 256, (17, 23)).astype(np.float32)  # not square: rows stay rows
    colour = rng.integers(0, 256, (5, 7, 3)).astype(np.float32)
    for array in (grey, colour):
        picture = S.encode_picture(array, "mine.png")
        data = base64.b64decode(picture["png"])
        independent = np.asarray(Image.open(io.BytesIO(data)))  # Pillow, not our reader
        assert np.array_equal(independent, array.astype(np.uint8))
        assert np.array_equal(S.decode_picture(picture), array)


def test_models_are_named_by_shipped_name_or_file_and_sha256(tmp_path):
    from cnnviz.core.networks.weights import load_shipped

    assert S.model_reference(load_shipped("cnnviz")) == "cnnviz"
    mine = tmp_path / "mine.safetensors"
    mine.write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()

    class Loaded:
        shipped_as, path = None, mine

    assert S.model_reference(Loaded()) == {"file": "mine.safetensors", "sha256": digest}
    ref = S.check_model_reference({"file": "mine.safetensors", "sha256": digest})
    assert S.find_model(ref, [tmp_path / "nowhere", tmp_path]) == (mine, "")
    path, problem = S.find_model(ref, [tmp_path / "nowhere"])
    assert path is None and "mine.safetensors is not here" in problem
    mine.write_bytes(b"retrained")
    path, problem = S.find_model(ref, [tmp_path])
    assert path is None and "content is not the one saved" in problem


@pytest.mark.parametrize("change, words", [
    ({"format": "cnnviz-lesson"}, "not a cnnviz session"),
    ({"version": 2}, "version 2"),
    ({"tab": "evil"}, "the tab 'evil'"),
    ({"model": "../../etc/passwd"}, "not one shipped"),
    ({"model": {"file": "../x.safetensors", "sha256": "0" * 64}}, "a file name (no folders)"),
    ({"model": {"file": "x.safetensors", "sha256": "zz"}}, "64 hexadecimal"),
    ({"input": {"picture": {"png": "not base64!"}}}, "not base64"),
    ({"input": {"picture": {"png": base64.b64encode(b"GIF89a....").decode()}}}, "not a PNG"),
    ({"input": {"drawing": {"strokes": [{"erase": False, "points": [[1, 2, float("nan")]]}]}}},
     "not [x, y, width]"),
    ({"input": {"drawing": {"strokes": [{"erase": 1, "points": [[1, 2, 3]]}]}}}, "stroke 1"),
    ({"input": {"sample": True}}, "test-set number"),
    ({"settings": {"../x": "1"}}, "not one cnnviz writes"),
    ({"settings": {"a/b": {"bytes": "%%%"}}}, "not base64"),
    ({"settings": {"a/b": {"evil": 1}}}, "is not text"),
    ({"brush": 1e9}, "\"brush\""),
    ({"surprise": 1}, "does not know"),
])
def test_damaged_or_hostile_sessions_get_one_message(change, words):
    with pytest.raises(S.SessionError) as caught:
        _parse(_doc(**change))
    message = str(caught.value)
    assert words in message and "\n" not in message and message.startswith("s.cnnviz-session")


def test_files_that_are_not_sessions_at_all(tmp_path):
    for data, words in ((b"\xff\xfe\x00garbage", "not valid JSON|not UTF-8"), (b"[" * 100_000, "nests"),
                        (b'{"format": "cnnviz-session", "format": 1}', "appears twice"),
                        (b"{" + b" " * (6 * 2**20) + b"}", "larger than")):
        with pytest.raises(S.SessionError, match=words):
            S.parse_session(data, "x")
    fifo = tmp_path / "pipe"
    import os

    os.mkfifo(fifo)
    with pytest.raises(S.SessionError, match="not a regular"):
        S.read_session(fifo)


def test_writing_is_atomic_and_never_in_place(tmp_path):
    path = tmp_path / "kept.cnnviz-session"
    path.write_text("the old file")
    inode = path.stat().st_ino
    S.write_json_file(path, S.session_document(_parse(_doc())))
    assert path.stat().st_ino != inode and S.read_session(path).tab == "kernel-explorer"
    big = {"x": "y" * (6 * 2**20)}
    with pytest.raises(FileProblem, match="at most 5 MB"):
        S.write_json_file(path, big)
    assert S.read_session(path).tab == "kernel-explorer"  # the old file stays
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]

"""Class names from a labels file the user picks (one name per line, in output order)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from cnnviz.core.class_names import LabelsError, parse_labels, read_labels, with_class_names
from cnnviz.core.weights import load_weights

COLOUR = Path(__file__).resolve().parent / "data" / "keras" / "colour.keras"


def test_a_labels_file_names_the_outputs_in_order(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("cat\r\ndog\n\nbird\nfish\nfrog\n", encoding="utf-8")
    loaded = load_weights(COLOUR)
    assert loaded.classes == ["0", "1", "2", "3", "4"]  # the file does not say
    named = with_class_names(loaded, read_labels(labels, 5), "labels.txt")
    assert named.classes == ["cat", "dog", "bird", "fish", "frog"]
    assert named.card["classes"] == named.classes and loaded.classes[0] == "0"  # a new model
    x = np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32)
    np.testing.assert_array_equal(named.model.predict_proba(x), loaded.model.predict_proba(x))


def test_teachable_machines_numbered_lines_lose_their_numbers():
    assert parse_labels("0 Class 1\n1 Class 2\n", 2) == ["Class 1", "Class 2"]
    assert parse_labels("0: zero\n1: one\n", 2) == ["zero", "one"]
    # numbers that are not 0, 1, 2, ... are part of the names
    assert parse_labels("7 up\n3 down\n", 2) == ["7 up", "3 down"]


@pytest.mark.parametrize("content, words", [
    ("cat\ndog\n", "names 2 classes; this network has 5 outputs"),
    (b"\x00\x01binary", "not a text file"),
])
def test_a_labels_file_that_does_not_fit_says_why(tmp_path, content, words):
    path = tmp_path / "labels.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(LabelsError, match=words):
        read_labels(path, 5)


def test_terminal_codes_and_special_files_are_refused_or_dropped(tmp_path):
    assert parse_labels("\x1b]0;owned\x07cat\n\x1b[2Jdog\n", 2) == ["cat", "dog"]
    fifo = tmp_path / "labels.fifo"
    os.mkfifo(fifo)
    with pytest.raises(LabelsError, match="not a regular"):
        read_labels(fifo, 2)
    with pytest.raises(LabelsError, match="cannot open"):
        read_labels(tmp_path / "missing.txt", 2)

"""Lesson files: the shipped tour reads and follows the lecture; damaged or hostile files are
refused with one message; scores are kept per lesson and written atomically."""

from __future__ import annotations

import json
import os

import pytest

from cnnviz.core.experiments.exercises import check
from cnnviz.core.lessons import lesson as L


def _doc(**step_changes) -> dict:
    step = {"title": "Stride", "text": "The step of the window.", "setup": {"tab": "kernel-explorer"}}
    step.update(step_changes)
    return {"format": "cnnviz-lesson", "version": 1, "title": "A lesson", "steps": [step]}


def _bytes(doc) -> bytes:
    return json.dumps(doc).encode()


def test_the_shipped_tour_follows_the_lecture():
    tour = L.shipped_lesson()
    titles = [s.title for s in tour.steps]
    order = ["The layers of a CNN", "Fully connected vs convolution", "Convolution recap: the kernels table",
             "What is the Output?", "Stride", "Padding", "Output size", "ReLU and the other activations",
             "Pooling", "To pool or conv?", "Receptive fields and spatial hierarchies",
             "Batch normalization", "Dropout", "The Keras example", "Homework"]
    assert [t for t in titles if t in order] == order
    assert titles[-1] == "Homework" and "98%" in tour.steps[-1].text
    assert all(s.setting("tab") in L.TABS for s in tour.steps)
    answers = {s.title: s.exercise.answer_text for s in tour.steps if s.exercise is not None}
    assert answers["Question: a 21×21 filter"] == "24×14"
    assert answers["Output size"] == "55"
    assert answers["Padding"] == "9"
    assert answers["What is the Output?"] == "2  1  −1 / −1  1  3 / 2  1  1"
    assert tour.exercise_count == 12
    assert {s.exercise.kind for s in tour.steps if s.exercise} == set(__import__(
        "cnnviz.core.experiments.exercises", fromlist=["KINDS"]).KINDS)


def test_a_lesson_is_told_by_its_content():
    assert L.is_lesson(L.shipped_lesson_path().read_bytes()[:64])
    assert L.is_lesson(b'\xef\xbb\xbf{"format": "cnnviz-lesson"}')
    assert not L.is_lesson(b'{"format": "something-else"}')
    assert not L.is_lesson(b"\x89PNG\r\n\x1a\n")


def test_a_lesson_with_an_exercise_of_its_own_numbers():
    doc = _doc(exercise={"kind": "output-size", "values": {"size": 32, "kernel": 5}})
    lesson = L.parse_lesson(_bytes(doc))
    assert check(lesson.steps[0].exercise, "28").right
    assert lesson.key and len(lesson.key) == 64


@pytest.mark.parametrize("data, words", [
    (b"not json at all", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    (_bytes({"format": "cnnviz-session", "version": 1}), "not a cnnviz lesson"),
    (_bytes({**_doc(), "version": 2}), "version 2"),
    (_bytes({**_doc(), "author": "x"}), "'author'"),
    (_bytes({**_doc(), "steps": []}), "1 to 200 steps"),
    (_bytes({**_doc(), "steps": [_doc()["steps"][0]] * 201}), "1 to 200 steps"),
    (_bytes(_doc(colour="red")), "step 1: the step has a key cnnviz does not know: 'colour'"),
    (_bytes(_doc(setup={"tab": "nowhere"})), "the tab 'nowhere'"),
    (_bytes(_doc(setup={"model": "../../etc/passwd"})), "the model"),
    (_bytes(_doc(setup={"stride": 0})), "the stride must be"),
    (_bytes(_doc(setup={"padding": [1, 2, 3]})), "the padding must be"),
    (_bytes(_doc(setup={"sample": 123456})), "the sample"),
    (_bytes(_doc(setup={"kernel_source": "lecture:nope"})), "the kernel source"),
    (_bytes(_doc(setup={"zoom": 3})), "'zoom'"),
    (_bytes(_doc(text="x" * 5000)), "at most 2,000"),
    (_bytes(_doc(title="")), "needs a \"title\""),
    (_bytes(_doc(exercise={"lecture": "nope"})), "no lecture question"),
    (_bytes(_doc(exercise={"kind": "output-size", "values": {"size": 2, "kernel": 9}})), "does not fit"),
    (_bytes(_doc(exercise={"kind": "output-size"})), "needs"),
    (b"[" * 100_000, "nests more than"),
    (b'{"format": "cnnviz-lesson", "version": 1' + b', "seed": ' + b"9" * 5000 + b"}", "digits"),
    (b'{"format": "cnnviz-lesson", "format": "cnnviz-lesson", "version": 1}', "appears twice"),
    (_bytes({**_doc(), "seed": -1}), "seed"),
])
def test_damaged_or_hostile_lessons_get_one_message(data, words):
    with pytest.raises(L.LessonError) as info:
        L.parse_lesson(data, "bad.cnnviz-lesson")
    message = str(info.value)
    assert words in message and "\n" not in message and len(message) < 600


def test_escape_sequences_in_a_lessons_text_are_removed():
    lesson = L.parse_lesson(_bytes(_doc(text="Stride \x1b]0;pwned\x07\x1b[2Jmatters")))
    assert lesson.steps[0].text == "Stride matters"


def test_files_too_large_or_not_regular_are_refused(tmp_path):
    big = tmp_path / "big.cnnviz-lesson"
    with open(big, "wb") as fh:
        fh.truncate(6 * 1024 * 1024)
    with pytest.raises(L.LessonError, match="at most 5 MB"):
        L.read_lesson(big)
    with pytest.raises(L.LessonError, match="not a regular"):
        L.read_lesson(tmp_path)
    fifo = tmp_path / "fifo.cnnviz-lesson"
    os.mkfifo(fifo)
    with pytest.raises(L.LessonError, match="not a regular"):
        L.read_lesson(fifo)  # never blocks


def test_scores_are_kept_per_lesson(tmp_path):
    path = tmp_path / "scores" / "lesson-scores.json"
    tour = L.shipped_lesson()
    book = L.ScoreBook(path)
    first, second = [i for i, s in enumerate(tour.steps) if s.exercise is not None][:2]
    book.record(tour, first, right=False)
    book.record(tour, first, right=True)
    book.record(tour, second, right=True)
    score = L.ScoreBook(path).score(tour)  # read back from the file
    assert (score.answered, score.first_try, score.tried, score.total) == (2, 1, 2, 12)
    assert score.text == "2 of 12 exercises right (1 at the first try)"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    other = L.parse_lesson(_bytes(_doc(exercise={"lecture": "alexnet"})))
    assert L.ScoreBook(path).score(other).answered == 0


def test_a_damaged_scores_file_starts_again(tmp_path):
    path = tmp_path / "lesson-scores.json"
    path.write_text("{not json")
    tour = L.shipped_lesson()
    book = L.ScoreBook(path)
    assert book.score(tour).answered == 0
    book.record(tour, 1, right=True)
    assert json.loads(path.read_text())[tour.key]["steps"]["1"] == {"tries": 1, "right_at": 1}


def test_cnnviz_gui_says_what_is_wrong_with_a_lesson_before_a_window_opens(capsys, tmp_path, monkeypatch):
    from cli_runs import one_line, run

    bad = tmp_path / "bad.cnnviz-lesson"
    bad.write_bytes(_bytes({**_doc(), "steps": "all of them"}))
    result = run(capsys, "gui", str(bad))
    assert result.returncode != 0 and one_line(result.stderr) and "steps" in result.stderr
    opened = []
    monkeypatch.setattr("cnnviz.ui.window.app.display_problem", lambda: None)
    monkeypatch.setattr("cnnviz.ui.window.app.run_app", lambda image, **_: opened.append(image) or 0)
    assert run(capsys, str(L.shipped_lesson_path())).returncode == 0  # `cnnviz FILE`
    assert opened == [str(L.shipped_lesson_path())]

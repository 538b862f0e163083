"""The report card (cnnviz.core.training.report_card): its interval against scipy, its calibration
error against a hand-worked example, its per-class accuracy against a brute-force torch
count, its shifted and rotated pictures against np.roll and scipy.ndimage.rotate, and the
card of a student's Keras model beside the lecture's."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage
from scipy.stats import binomtest

from cnnviz.core.networks.weights import load_shipped, load_weights
from cnnviz.core.training import report_card as rc

KERAS = Path(__file__).resolve().parents[2] / "data" / "keras"
SMALL = {"test_limit": 300, "kind_count": 6, "invariance_count": 40, "outlier_count": 60}


@pytest.mark.parametrize("k, n", [(0, 10), (10, 10), (7, 10), (9965, 10000), (1, 3), (480, 500)])
def test_wilson_interval_matches_scipy(k, n):
    low, high = rc.wilson_interval(k, n)
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert low == pytest.approx(ci.low, abs=1e-12)
    assert high == pytest.approx(ci.high, abs=1e-12)


def test_wilson_interval_refuses_impossible_counts():
    for k, n in ((3, 0), (-1, 5), (6, 5)):
        with pytest.raises(ValueError):
            rc.wilson_interval(k, n)


def test_ece_hand_worked():
    # 15 bins of width 1/15. 0.95 -> bin 14 (2 pictures, 1 right: |0.5 - 0.95| = 0.45);
    # 0.55 -> bin 8 (2 right: |1 - 0.55| = 0.45); 0.3 -> bin 4 (wrong: |0 - 0.3| = 0.3);
    # 1.0 -> bin 14 too. Over 6 pictures: bin 14 holds 3 (2 right, mean confidence 0.9667).
    conf = [0.95, 0.95, 0.55, 0.55, 0.3]
    right = [1, 0, 1, 1, 0]
    assert rc.expected_calibration_error(conf, right) == pytest.approx(
        2 / 5 * 0.45 + 2 / 5 * 0.45 + 1 / 5 * 0.3)
    conf6, right6 = conf + [1.0], right + [1]
    bin14 = abs(2 / 3 - (0.95 + 0.95 + 1.0) / 3)
    assert rc.expected_calibration_error(conf6, right6) == pytest.approx(
        3 / 6 * bin14 + 2 / 6 * 0.45 + 1 / 6 * 0.3)
    assert rc.expected_calibration_error([0.9] * 10, [1] * 9 + [0]) == pytest.approx(0.0)


def _reference_shift(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """np.roll, with the rows and columns that wrapped round set to black."""
    out = np.roll(image, (dy, dx), axis=(0, 1))
    if dy > 0:
        out[:dy] = 0
    elif dy < 0:
        out[dy:] = 0
    if dx > 0:
        out[:, :dx] = 0
    elif dx < 0:
        out[:, dx:] = 0
    return out


def _source_inside(degrees: float, side: int = 28) -> np.ndarray:
    """The output pixels whose source point, turned either way about the centre, lies
    half a pixel or more inside the picture (all four pixels to interpolate are in it)."""
    c = (side - 1) / 2
    y, x = np.mgrid[0:side, 0:side] - c
    inside = np.ones((side, side), bool)
    for t in (np.radians(degrees), -np.radians(degrees)):
        for u in (np.cos(t) * x - np.sin(t) * y, np.sin(t) * x + np.cos(t) * y):
            inside &= np.abs(u) <= c - 0.5
    return inside


@contextlib.contextmanager
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _predict(model, images) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(np.asarray(images, np.float32))[:, None]).argmax(1).numpy()


@pytest.fixture(scope="module")
def lecture():
    return load_shipped("lecture-keras")


@pytest.fixture(scope="module")
def lecture_card(lecture, mnist_test):
    return rc.compute(lecture, **SMALL)


def test_shifts_match_np_roll(mnist_test, lecture, lecture_card):
    images, labels = mnist_test
    x = images[:40].astype(np.float32) / 255.0
    for d in rc.SHIFTS:
        reference = np.stack([_reference_shift(img, *(np.array(rc.DIRECTIONS[i % 4]) * d))
                              for i, img in enumerate(x)])
        np.testing.assert_array_equal(rc.shifted(x, d), reference)
        right = np.mean(_predict(lecture.model, reference) == labels[:40])
        assert lecture_card.figures["shift_accuracy"][str(d)] == pytest.approx(right)
    # the directions really differ: picture 0 moves right, picture 1 down
    moved = rc.shifted(x[:2], 3)
    assert np.array_equal(moved[0][:, 3:], x[0][:, :-3])
    assert np.array_equal(moved[1][3:], x[1][:-3])


def test_rotations_match_scipy(mnist_test, lecture, lecture_card):
    images, labels = mnist_test
    x = images[:40].astype(np.float32) / 255.0
    for angle in rc.ANGLES:
        reference = np.stack([ndimage.rotate(img, angle if i % 2 == 0 else -angle,
                                             reshape=False, order=1, mode="constant", cval=0.0)
                              for i, img in enumerate(x)])
        ours = rc.rotated(x, angle)
        inside = _source_inside(angle)  # (at the edges the two fill in black differently)
        assert inside.mean() > 0.6  # the middle, where the digit is
        assert np.abs(ours - reference)[:, inside].max() < 1e-4
        right = np.mean(_predict(lecture.model, reference) == labels[:40])
        assert lecture_card.figures["rotation_accuracy"][str(angle)] == pytest.approx(right, abs=1 / 40)


def test_accuracy_and_per_class_against_brute_force(mnist_test, lecture, lecture_card):
    images, labels = mnist_test
    n = SMALL["test_limit"]
    right_per_class, seen_per_class = [0] * 10, [0] * 10
    with torch.no_grad(), _one_thread():  # (one picture at a time: threads only wait)
        for image, label in zip(images[:n], labels[:n]):
            x = torch.tensor(image, dtype=torch.float32).div(255.0).reshape(1, 1, 28, 28)
            guess = int(torch.argmax(lecture.model(x)))
            seen_per_class[int(label)] += 1
            right_per_class[int(label)] += guess == int(label)
    f = lecture_card.figures
    assert f["test_images"] == n
    assert f["accuracy"] == pytest.approx(sum(right_per_class) / n)
    for c in range(10):
        assert f["per_class_accuracy"][str(c)] == pytest.approx(right_per_class[c] / seen_per_class[c])
    ci = binomtest(sum(right_per_class), n).proportion_ci(method="wilson")
    assert f["accuracy_interval"] == pytest.approx([ci.low, ci.high])
    assert 0.0 <= f["ece"] < 0.2 and f["ms_per_image"] > 0
    assert f["parameters"] == 53_578  # the lecture's Keras model, as Keras counts it
    assert set(f["picture_kinds"]) == {"tight_crop", "phone_photo", "faint_pencil",
                                       "low_res_blocky", "low_res_smooth", "notebook_lined",
                                       "notebook_squared"}
    assert lecture_card.predictions.shape == (n,)


def test_non_digits_flagged_is_the_verdicts_share():
    # cnnviz's own model has a stored verdict: unsure when its largest logit, negated, is
    # above the threshold; counted here by hand on the same drawn non-digits
    from cnnviz.core.reading.verdict import measurement_outliers

    loaded = load_shipped("cnnviz")
    card = rc.compute(loaded, **SMALL)
    drawings = measurement_outliers("mnist", SMALL["outlier_count"])
    with torch.no_grad():
        top = loaded.model(torch.tensor(drawings)[:, None]).max(1).values.numpy()
    flagged = np.mean(-top.astype(np.float64) > loaded.card["verdict"]["threshold"])
    assert card.figures["non_digits_flagged"] == pytest.approx(flagged)
    assert flagged > 0.5  # (a model trained to flag them: the count is not trivially 0)


def test_a_students_model_beside_the_lectures(mnist_test, lecture_card, monkeypatch, tmp_path):
    from cnnviz.core.reading import opened_verdict
    from cnnviz.core.reading.verdict import measurement_outliers

    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(tmp_path))  # (a verdict for this test only)
    student = load_weights(KERAS / "rescaled.keras")
    # the unsure verdict the app calibrated for this file before (cached by its content)
    opened_verdict.store(opened_verdict.cache_key(student), {"score": "max_logit", "threshold": -4.0})
    card = rc.compute(student, **SMALL)
    with torch.no_grad():
        top = student.model(torch.tensor(measurement_outliers("mnist", 60))[:, None]).max(1).values
    assert card.figures["non_digits_flagged"] == pytest.approx(np.mean(-top.numpy() > -4.0))
    assert card.figures["model"] == "rescaled" and card.figures["parameters"] == 21_114
    table = rc.rows(card.figures, lecture_card.figures)
    accuracy = next(r for r in table if r.key == "accuracy")
    better = 0 if card.figures["accuracy"] > lecture_card.figures["accuracy"] else 1
    assert accuracy.better == better
    ece = next(r for r in table if r.key == "ece")
    assert ece.better == (0 if card.figures["ece"] < lecture_card.figures["ece"] else 1)
    assert [r.label for r in table if r.key == "shift_accuracy" and not r.heading] == \
        ["1 px", "2 px", "3 px", "4 px", "5 px"]
    a_only, b_only = rc.disagreements(card.predictions, lecture_card.predictions,
                                      mnist_test[1][:SMALL["test_limit"]])
    y = mnist_test[1][:SMALL["test_limit"]]
    assert all(card.predictions[i] == y[i] != lecture_card.predictions[i] for i in a_only)
    assert all(lecture_card.predictions[i] == y[i] != card.predictions[i] for i in b_only)
    # a model file seen before: the card comes from the cache, with the same answers
    again = rc.compute(load_weights(KERAS / "rescaled.keras"), **SMALL)
    assert again.cached and again.figures == card.figures
    np.testing.assert_array_equal(again.predictions, card.predictions)


def test_rows_mark_the_better_and_nothing_on_a_tie():
    a = {"accuracy": 0.9, "ece": 0.05, "ms_per_image": 1.0, "parameters": 10,
         "shift_accuracy": {"1": 0.8}}
    b = {"accuracy": 0.8, "ece": 0.01, "ms_per_image": 1.0, "parameters": 20,
         "shift_accuracy": {"1": 0.9}, "omitted": {"picture_kinds": "not digits"}}
    table = {(r.key, r.label): r for r in rc.rows(a, b)}
    assert table["accuracy", "Accuracy"].better == 0
    assert table["ece", "Calibration error (ECE)"].better == 1
    assert table["ms_per_image", "ms per picture"].better is None  # the same
    assert table["parameters", "Parameters"].better is None  # neither is better
    assert table["shift_accuracy", "1 px"].better == 1
    assert table["picture_kinds", "Kind"].values == ("—", "—")
    assert "not digits" in table["picture_kinds", "Kind"].tip
    assert rc.disagreements([1, 2, 3], [1, 0, 0], [1, 2, 0])[0].tolist() == [1]
    assert rc.disagreements([1, 2, 3], [1, 0, 0], [1, 2, 0])[1].tolist() == [2]


def test_stop_and_progress(mnist_test, lecture):
    seen = []
    stop = threading.Event()

    def progress(share, words):
        seen.append(share)
        if share > 0.1:
            stop.set()

    with pytest.raises(rc.ReportStopped):
        rc.compute(lecture, progress=progress, stop=stop, use_cache=False, **SMALL)
    assert seen == sorted(seen) and 0.1 < seen[-1] < 0.5  # stopped at the next batch
    shares = []
    rc.compute(lecture, progress=lambda share, _w: shares.append(share), use_cache=False, **SMALL)
    assert shares == sorted(shares) and shares[-1] == 1.0


def test_a_network_that_reads_no_digits_gets_the_reasons():
    card = rc.compute(load_weights(KERAS / "colour.keras"))
    f = card.figures
    assert f["parameters"] == 1809 and f["ms_per_image"] > 0 and card.predictions is None
    assert "accuracy" not in f and "3×32×32" in f["omitted"]["accuracy"]


def test_the_command_line_compares_two_models(capsys, monkeypatch, mnist_test, lecture_card):
    import json

    from cli_runs import one_line, run

    for name, small in (("KIND_COUNT", "kind_count"), ("INVARIANCE_COUNT", "invariance_count"),
                        ("OUTLIERS_IN_CARD", "outlier_count")):
        monkeypatch.setattr(rc, name, SMALL[small])
    n = str(SMALL["test_limit"])
    out = run(capsys, "report", "--model", "lecture-keras", "--test-images", n, "--json")
    assert out.returncode == 0
    figures = json.loads(out.stdout)
    assert figures["accuracy"] == lecture_card.figures["accuracy"]
    assert figures["test_source"].startswith(f"the first {n} of the 10,000 MNIST test digits")
    out = run(capsys, "report", "--model", "cnnviz", "--compare", "lecture-keras", "--test-images", n)
    assert out.returncode == 0
    header, accuracy = out.stdout.splitlines()[0], out.stdout.splitlines()[2]
    assert header.split() == ["cnnviz", "lecture-keras"]
    assert accuracy.split()[-1] != "*" and accuracy.split()[2] == "*"  # cnnviz's is the better
    assert "* the better of the two" in out.stdout
    out = run(capsys, "report", "--model", "lecture-keras", "--compare", "no-such-model.keras")
    assert out.returncode == 1 and one_line(out.stderr) and "no such file" in out.stderr

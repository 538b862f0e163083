"""The unsure verdict of a digit model made elsewhere: calibrated when it is opened, on
real MNIST digits, cached by the file's SHA-256 and input convention."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnviz.core.basics import picture_cache
from cnnviz.core.networks.input_scale import with_input_scale
from cnnviz.core.networks.weights import load_shipped, load_weights
from cnnviz.core.pictures.samples import load_samples
from cnnviz.core.reading import opened_verdict
from cnnviz.core.reading.verdict import rule_for

KERAS = Path(__file__).resolve().parents[2] / "data" / "keras"


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def pictures_made_once(cache_dir, tests_cache_dir):
    """The pictures a calibration scores are drawn and preprocessed by code (the same digits
    and code give the same pictures: cached by their content) and take longer than the
    rest of it: kept in the cache folder the tests share. The verdicts stay in the test's."""
    shared = tests_cache_dir / picture_cache.FOLDER
    shared.mkdir(exist_ok=True)
    cache_dir.mkdir()
    (cache_dir / picture_cache.FOLDER).symlink_to(shared, target_is_directory=True)


def test_which_models_are_calibrated_when_opened():
    assert opened_verdict.needs_calibration(load_weights(KERAS / "lecture.keras"))
    assert not opened_verdict.needs_calibration(load_weights(KERAS / "colour.keras"))  # 3×32×32
    assert not opened_verdict.needs_calibration(load_shipped("cnnviz"))  # its card has one


def test_the_threshold_is_the_quantile_of_real_digits_scores(tmp_path, pictures_made_once):
    lecture = load_weights(KERAS / "lecture.keras")
    steps = []
    verdict = opened_verdict.calibrate_opened(lecture, tmp_path / "no-data", steps.append)
    assert steps[0] == 0.0 and steps[-1] == 1.0 and steps == sorted(steps)
    digits = load_samples("mnist")[0]  # no data folder: the 300 shipped test digits
    with torch.no_grad():
        logits = lecture.model(torch.from_numpy(digits.astype(np.float32) / 255)[:, None]).numpy()
    # MaxLogit: the negated largest logit; the 99.5th percentile of the real digits'
    assert verdict["thresholds"]["held-out"] == pytest.approx(np.quantile(-logits.max(1), 0.995))
    assert verdict["threshold"] == max(verdict["thresholds"].values())
    assert "300 shipped" in verdict["source"]
    assert rule_for({"verdict": verdict}).threshold == verdict["threshold"]


def test_verdicts_are_cached_by_file_and_input_convention(tmp_path, cache_dir):
    lecture = load_weights(KERAS / "lecture.keras")
    key = opened_verdict.cache_key(lecture)
    assert opened_verdict.cached(lecture, key) is None
    verdict = {"score": "max_logit", "threshold": -1.5, "source": "test"}
    opened_verdict.store(key, verdict)
    assert opened_verdict.cached(lecture) == verdict
    as_255 = with_input_scale(lecture, "0-255")  # other logits: not the same verdict
    assert opened_verdict.cache_key(as_255) != key and opened_verdict.cached(as_255) is None
    copy = tmp_path / "copy.keras"  # the same bytes elsewhere: the same model
    copy.write_bytes((KERAS / "lecture.keras").read_bytes())
    assert opened_verdict.cached(load_weights(copy)) == verdict


def test_a_damaged_or_special_cache_is_ignored(cache_dir):
    lecture = load_weights(KERAS / "lecture.keras")
    cache_dir.mkdir()
    (cache_dir / "verdicts.json").write_text('{"x": [' * 100000)
    assert opened_verdict.cached(lecture) is None
    opened_verdict.store(opened_verdict.cache_key(lecture), {"score": "max_logit",
                                                             "threshold": -2.0})
    assert opened_verdict.cached(lecture)["threshold"] == -2.0  # replaced, not patched
    (cache_dir / "verdicts.json").unlink()
    os.mkfifo(cache_dir / "verdicts.json")
    assert opened_verdict.cached(lecture) is None  # never blocks on a pipe


def test_the_window_calibrates_an_opened_keras_model(qtbot, settings_sandbox, tmp_path, monkeypatch,
                                                   pictures_made_once):
    from PySide6.QtWidgets import QMessageBox

    from cnnviz.app_state import AppState
    from cnnviz.ui.window.main_window import MainWindow

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: None))
    window = MainWindow(AppState(), data_dir=str(tmp_path / "no-data"))
    qtbot.addWidget(window)
    window.load_defaults()
    lecture = load_weights(KERAS / "lecture.keras")
    assert "verdict" not in lecture.card
    window.replace_model(lecture)
    qtbot.waitUntil(lambda: "verdict" in window.state.model.card, timeout=120_000)
    assert window.state.model is lecture and lecture.model.card["verdict"]["score"] == "max_logit"
    threshold = lecture.card["verdict"]["threshold"]

    def judged_by_the_threshold():  # MaxLogit: the score is the negated largest logit
        a = window.state.analysis
        return a is not None and a.verdict_score == pytest.approx(-a.layer("dense1").max()) \
            and a.unsure == (a.verdict_score > threshold)

    window.controller.join()
    qtbot.waitUntil(judged_by_the_threshold, timeout=20_000)
    window.close()

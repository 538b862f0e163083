"""The "does not look like a digit" verdict: the score and threshold against torch, the rule
on constructed logits, the default rule, predict's strict JSON, the shipped models on drawn
non-digits and on real test digits, and the app's words."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz.cli import main
from cnnviz.core.networks.models import build_model
from cnnviz.core.networks.weights import load_shipped, save_weights
from cnnviz.core.reading import outliers, verdict
from cnnviz.core.reading.inference import analyze


def _no_constants(name):
    raise ValueError(f"not JSON: {name}")


def strict_loads(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity (Python's json takes them)."""
    return json.loads(text, parse_constant=_no_constants)


# ----- the score and the threshold --------------------------------------------------------


@pytest.mark.parametrize("score", ["max_logit", "energy"])
def test_calibrated_threshold_is_torchs_quantile_of_the_held_out_scores(score):
    torch.manual_seed(1)
    model = build_model("lecture-keras", seed=3).eval()
    held_out = torch.rand(257, 28, 28).numpy()
    with torch.no_grad():  # the reference: torch's own forward pass, max/logsumexp, quantile
        logits = model(torch.from_numpy(held_out)[:, None]).double()
        s = -logits.max(dim=1).values if score == "max_logit" else -torch.logsumexp(logits, dim=1)
        expected = torch.quantile(s, 0.99).item()
        flagged = (s > expected).double().mean().item()
    card = (verdict.calibrate(model, held_out, quantile=0.99) if score == verdict.SCORE
            else verdict.calibrate(model, held_out, quantile=0.99, score=score))
    assert card["score"] == score and card["held_out"] == 257
    assert card["threshold"] == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert card["flagged_real"] == pytest.approx(flagged)
    assert 0.0 < card["flagged_real"] <= 0.01 + 1 / 257  # at most one more than 1%


def test_uint8_images_are_scaled_like_the_training_data():
    model = build_model("cnnviz", seed=0).eval()
    raw = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    with torch.no_grad():
        expected = model(torch.from_numpy(raw.astype(np.float32) / 255)[:, None]).numpy()
    np.testing.assert_allclose(verdict.logits_of(model, raw), expected, rtol=1e-5, atol=1e-5)


def test_each_score_against_its_formula():
    z = np.array([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
    lse = np.log(np.exp(z).sum(1))
    np.testing.assert_allclose(verdict.scores(z, "energy"), -lse)
    np.testing.assert_allclose(verdict.scores(z, "max_logit"), -z.max(1))
    np.testing.assert_allclose(verdict.scores(z, "max_softmax"), -(np.exp(z).max(1) / np.exp(z).sum(1)))
    big = np.array([1000.0, 0.0, -1000.0])  # no overflow: logsumexp is shifted
    assert verdict.scores(big, "energy") == pytest.approx(-1000.0)
    with pytest.raises(ValueError):
        verdict.scores(z, "entropy")


def test_outlier_exposure_loss_is_the_kl_divergence_from_uniform():
    logits = torch.tensor([[3.0, 0.0, -1.0, 2.0], [0.1, 0.1, 0.1, 0.1]])
    uniform = torch.full_like(logits, 0.25)
    kl = torch.nn.functional.kl_div(torch.log_softmax(logits, 1), uniform, reduction="batchmean")
    assert verdict.outlier_exposure_loss(logits).item() == pytest.approx(kl.item(), rel=1e-6)
    assert verdict.outlier_exposure_loss(logits[1:]).item() == pytest.approx(0.0, abs=1e-7)


# ----- the rule -----------------------------------------------------------------------------


CARD = {"verdict": {"score": "energy", "threshold": -5.0, "held_out": 2000, "flagged_real": 0.005}}


def test_is_unsure_on_constructed_logits():
    confident = np.array([12.0] + [0.0] * 9)  # energy about -12: well below -5
    flat = np.zeros(10)  # energy -log(10) = -2.3: above -5
    assert not verdict.is_unsure(confident, CARD)
    assert verdict.is_unsure(flat, CARD)
    # All ten logits c: energy -(c + log 10), above -5 exactly when c < 5 - log 10.
    edge = 5.0 - math.log(10)
    assert verdict.is_unsure(np.full(10, edge - 1e-3), CARD)
    assert not verdict.is_unsure(np.full(10, edge + 1e-3), CARD)
    assert verdict.is_unsure(np.array([np.nan] + [0.0] * 9), CARD)  # NaN: never trusted
    assert verdict.is_unsure(np.array([np.inf] + [0.0] * 9), CARD)
    max_logit = {"verdict": {"score": "max_logit", "threshold": -4.0}}
    assert verdict.is_unsure(np.array([3.9] + [0.0] * 9), max_logit)
    assert not verdict.is_unsure(np.array([4.1] + [0.0] * 9), max_logit)


def test_a_model_without_a_stored_threshold_gets_the_default_rule():
    p = verdict.DEFAULT_MIN_PROBABILITY

    def logits_with_top(q):  # the top class gets q, the nine others share the rest
        probs = np.array([q] + [(1 - q) / 9] * 9)
        return np.log(probs) + 3.0  # logits are defined up to a constant

    for card in (None, {}, {"verdict": None}, {"verdict": {"score": "energy"}},
                 {"verdict": {"score": "energy", "threshold": float("nan")}},
                 {"verdict": {"score": "entropy", "threshold": 1.0}},
                 {"verdict": {"score": "energy", "threshold": True}}):
        assert verdict.rule_for(card) == verdict.DEFAULT_RULE
        assert verdict.is_unsure(logits_with_top(p - 0.01), card)
        assert not verdict.is_unsure(logits_with_top(p + 0.01), card)
    assert "no stored verdict" in verdict.DEFAULT_RULE.describe()


def test_analyze_carries_the_verdict_and_an_empty_input_is_not_unsure():
    net = build_model("cnnviz", seed=0)
    image = np.zeros((280, 280), np.float32)
    image[60:220, 120:160] = 255
    always = {"verdict": {"score": "energy", "threshold": -1e9}}  # everything is unsure
    never = {"verdict": {"score": "energy", "threshold": 1e9}}
    a = analyze(net, image, card=always)
    assert a.unsure and math.isfinite(a.verdict_score)
    with torch.no_grad():
        logits = net(torch.from_numpy(a.digit.image)[None, None].float())
    assert a.verdict_score == pytest.approx(-torch.logsumexp(logits, 1).item(), rel=1e-5)
    assert not analyze(net, image, card=never).unsure
    assert not analyze(net, np.zeros((280, 280), np.float32), card=always).unsure


def test_a_model_ending_in_softmax_is_judged_on_its_logits():
    net = build_model("lecture-keras", seed=0)
    assert net.ends_in_softmax
    image = np.zeros((280, 280), np.float32)
    image[60:220, 120:160] = 255
    a = analyze(net, image, card=CARD)
    with torch.no_grad():
        logits = net(torch.from_numpy(a.digit.image)[None, None].float())
    assert a.verdict_score == pytest.approx(-torch.logsumexp(logits, 1).item(), rel=1e-5)


# ----- the drawn non-digits ---------------------------------------------------------------


def test_outliers_are_seeded_every_kind_draws_ink_and_the_streams_differ():
    kinds = outliers.KINDS["mnist"] + ("digit",)
    a = outliers.outlier_drawings(len(kinds), kinds=kinds, seed=4)
    b = outliers.outlier_drawings(len(kinds), kinds=kinds, seed=4)
    other = outliers.outlier_drawings(len(kinds), kinds=kinds, seed=4, stream=outliers.STREAM_TRAIN)
    for (kind, x), (_, y), (_, z) in zip(a, b, other):
        assert x.shape == (280, 280) and x.min() >= 0 and x.max() <= 255
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z), kind
        assert (x != np.median(x)).mean() > 0.002, kind  # something was drawn on the paper
    images, names = outliers.outlier_inputs(24, "fashion-mnist", seed=1)
    assert images.shape[1:] == (28, 28) and len(names) == len(images) >= 20
    assert "digit" in names and "clothes" not in names
    assert images.max() <= 1.0 and images.min() >= 0.0


# ----- predict ------------------------------------------------------------------------------


def _star_and_digit(tmp_path):
    star = outliers.outlier_drawings(1, kinds=("star",), seed=2)[0][1]
    Image.fromarray(star.astype(np.uint8)).save(tmp_path / "star.png")
    seven = np.full((280, 280), 255, np.uint8)
    seven[60:80, 70:210] = 0
    for i in range(160):
        seven[80 + i, 190 - i // 2:210 - i // 2] = 0
    Image.fromarray(seven).save(tmp_path / "seven.png")
    return tmp_path / "star.png", tmp_path / "seven.png"


def test_predict_json_has_a_boolean_unsure_and_is_strict_json(tmp_path, capsys):
    star, seven = _star_and_digit(tmp_path)
    assert main(["predict", str(star), str(seven), "--json"]) == 0
    records = strict_loads(capsys.readouterr().out)
    assert [type(r["unsure"]) for r in records] == [bool, bool]
    assert records[1]["prediction"] == 7 and records[1]["unsure"] is False
    assert main(["predict", str(star), str(seven)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert ("does not look like a digit" in lines[0]) == records[0]["unsure"]
    assert "does not look like a digit" not in lines[1]


def test_predict_never_writes_nan_into_json(tmp_path, capsys):
    star, _ = _star_and_digit(tmp_path)
    net = build_model("cnnviz", seed=0)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1e30)  # finite weights whose output overflows to inf and NaN
    path = save_weights(net, tmp_path / "broken.safetensors", {"dataset": "mnist"})
    code = main(["predict", "--weights", str(path), str(star), "--json"])
    out, err = capsys.readouterr()
    assert code != 0
    if out.strip():  # the file may also be refused when opened; either way no bare NaN
        assert "error" in strict_loads(out)[0]
    else:
        assert err.strip()


def test_strict_json_refuses_non_finite_numbers():
    from cnnviz.cli.common import CliError, strict_json

    assert strict_loads(strict_json([{"p": 0.5, "unsure": True}])) == [{"p": 0.5, "unsure": True}]
    with pytest.raises(CliError, match="not finite"):
        strict_json([{"p": float("nan")}])


# ----- the shipped models -------------------------------------------------------------------


SHIPPED_STAR_LETTER_FLAGGED = 0.70  # stars, letters and smileys drawn by hand
SHIPPED_REAL_FLAGGED = 0.02  # of 500 real test digits


def test_the_shipped_model_has_a_stored_verdict_and_flags_drawn_stars_and_letters():
    loaded = load_shipped("cnnviz")
    rule = verdict.rule_for(loaded.card)
    assert rule.stored, "the shipped model must carry a calibrated verdict in its card"
    images, names = outliers.outlier_inputs(150, "mnist", kinds=("star", "letter", "pen letter",
                                                                   "smiley"), seed=11)
    unsure, _ = verdict.unsure_scores(verdict.logits_of(loaded.model, images), loaded.card)
    assert unsure.mean() >= SHIPPED_STAR_LETTER_FLAGGED, dict(zip(*np.unique(
        np.array(names)[~unsure], return_counts=True)))


def test_the_shipped_model_flags_few_real_test_digits(mnist_test):
    x, _ = mnist_test
    loaded = load_shipped("cnnviz")
    pick = np.random.default_rng(0).choice(len(x), 500, replace=False)
    unsure, _ = verdict.unsure_scores(verdict.logits_of(loaded.model, x[pick]), loaded.card)
    assert unsure.mean() <= SHIPPED_REAL_FLAGGED


def test_the_fashion_model_flags_drawn_digits_but_few_real_clothes(fashion_test):
    loaded = load_shipped("cnnviz-fashion")
    assert verdict.rule_for(loaded.card).stored
    images, _ = outliers.outlier_inputs(100, "fashion-mnist", kinds=("digit", "star", "letter"),
                                        seed=11)
    unsure, _ = verdict.unsure_scores(verdict.logits_of(loaded.model, images), loaded.card)
    assert unsure.mean() >= 0.5
    x, _ = fashion_test
    real, _ = verdict.unsure_scores(verdict.logits_of(loaded.model, x[:500]), loaded.card)
    assert real.mean() <= 0.03


# ----- training stores a verdict --------------------------------------------------------------


def test_cnnviz_train_stores_a_verdict_fixed_on_images_it_did_not_train_on(tmp_path, mnist_test):
    from cnnviz.core.datasets.data import load_split
    from cnnviz.core.networks.weights import load_weights

    out = tmp_path / "tiny.safetensors"
    assert main(["train", "--limit", "256", "--epochs", "1", "--batch-size", "64",
                 "--out", str(out)]) == 0
    loaded = load_weights(out)
    v = loaded.card["verdict"]
    assert loaded.card["outlier_exposure"] == 0.5 and loaded.card["train_images"] == 256
    assert v["held_out"] == verdict.HELD_OUT and "last" in v["source"]
    x_train, _ = load_split("mnist", "train")
    held_out = x_train[-verdict.HELD_OUT:]  # the reference: numpy's quantile of torch's logits
    # the same digits as users' pictures, preprocessed: a 256-image run gets the least share
    views = verdict.user_views(held_out, share=verdict.LEAST_SHARE)
    assert verdict.user_share(256) == verdict.LEAST_SHARE and verdict.user_share(58_000) == 1.0
    assert set(views) == set(verdict.USER_PICTURES)

    def quantile(images, q):
        with torch.no_grad():
            logits = loaded.model(torch.from_numpy(np.asarray(images, np.float32))[:, None])
        return np.quantile(-logits.double().max(1).values.numpy(), q)

    clean = quantile(held_out.astype(np.float32) / 255, verdict.QUANTILE)
    per_kind = [quantile(images, verdict.USER_QUANTILE) for images in views.values()]
    assert v["score"] == "max_logit"
    assert v["thresholds"]["held-out"] == pytest.approx(clean, rel=1e-5)
    assert v["threshold"] == pytest.approx(max([clean, *per_kind]), rel=1e-5)
    assert len(v["thresholds"]) == 1 + len(verdict.USER_PICTURES)
    assert 0.0 <= v["flagged_outliers"] <= 1.0


def test_train_refuses_a_bad_outlier_exposure_weight(tmp_path, capsys):
    for bad in ("nan", "-1", "1e9"):
        assert main(["train", "--outlier-exposure", bad, "--out", str(tmp_path / "x.safetensors")]) == 1
        assert "--outlier-exposure" in capsys.readouterr().err


# ----- the app says it in words -----------------------------------------------------------------


def _unsure_analysis(unsure: bool):
    probabilities = np.array([0.02, 0.03, 0.05, 0.05, 0.6, 0.05, 0.05, 0.05, 0.05, 0.05])
    return SimpleNamespace(digit=SimpleNamespace(empty=False, steps=[]), prediction=4,
                           top3=[(4, 0.6), (1, 0.03), (2, 0.05)], probabilities=probabilities,
                           unsure=unsure)


def test_the_answer_under_the_pad_says_it_does_not_look_like_a_digit(qtbot):
    from cnnviz.ui.input.answer import AnswerView
    from cnnviz.ui.input.wording import DIGITS, wording

    view = AnswerView()
    qtbot.addWidget(view)
    classes = [str(i) for i in range(10)]
    view.show_analysis(_unsure_analysis(True), classes, DIGITS)
    text = view.text.text()
    assert "This does not look like a digit" in text and "best guess is <b>4</b>" in text
    assert "trained only on digits" in text and view.label.text() == "4"
    view.show_analysis(_unsure_analysis(False), classes, DIGITS)
    assert "does not look like" not in view.text.text() and view.label.styleSheet() == ""
    fashion = wording(SimpleNamespace(dataset="fashion-mnist"))
    view.show_analysis(_unsure_analysis(True), [f"c{i}" for i in range(10)], fashion)
    assert "does not look like a piece of clothing" in view.text.text()


def test_the_cnn_explorers_answer_keeps_the_ten_probabilities_when_unsure(qtbot):
    from cnnviz.ui.cnn.answer import AnswerPanel
    from cnnviz.ui.input.wording import DIGITS

    panel = AnswerPanel()
    qtbot.addWidget(panel)
    classes = [str(i) for i in range(10)]
    panel.set_classes(classes)
    seen = []
    panel.prob_plot.set_values = lambda values: seen.append(np.array(values))
    analysis = _unsure_analysis(True)
    panel.show_analysis(analysis, classes, DIGITS)
    assert "does not look like a digit" in panel.prob_label.text()
    np.testing.assert_array_equal(seen[-1], analysis.probabilities)
    panel.show_analysis(_unsure_analysis(False), classes, DIGITS)
    assert "does not look like" not in panel.prob_label.text()


def test_hold_out_zero_trains_on_every_image_and_keeps_no_verdict(tmp_path, mnist_test):
    from cnnviz.core.networks.weights import load_weights

    out = tmp_path / "all.safetensors"
    assert main(["train", "--limit", "128", "--epochs", "1", "--batch-size", "64",
                 "--hold-out", "0", "--outlier-exposure", "0", "--out", str(out)]) == 0
    card = load_weights(out).card
    assert "verdict" not in card and card["outlier_exposure"] == 0.0
    assert verdict.rule_for(card) == verdict.DEFAULT_RULE


def test_init_refuses_weights_of_another_network(tmp_path, capsys):
    from cnnviz.core.networks.weights import shipped_weights_path

    code = main(["train", "--arch", "lecture-deep", "--init", str(shipped_weights_path("cnnviz")),
                 "--out", str(tmp_path / "x.safetensors")])
    assert code == 1 and "different network" in capsys.readouterr().err

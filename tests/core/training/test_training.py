"""Training really learns; stopping keeps the last complete epoch; evaluation's numbers
agree with a plain count; the shipped models meet their accuracy targets on the real
MNIST test set."""

import numpy as np
import pytest
import torch

from cnnviz.core.networks.models import build_model
from cnnviz.core.networks.weights import load_shipped
from cnnviz.core.training.loop import TrainConfig, augment_batch, evaluate, to_tensor, train


def test_short_training_run_learns(mnist_train, mnist_test):
    x, y = mnist_train
    xt, yt = mnist_test
    model = build_model("lecture-keras", seed=0)
    before = evaluate(model, xt[:1000], yt[:1000])["accuracy"]
    cfg = TrainConfig(epochs=1, batch_size=64, optimizer="adam", lr=2e-3,
                      schedule="constant", augment=False, seed=0)
    result = train(model, x[:3000], y[:3000], cfg, xt[:1000], yt[:1000])
    after = result.epochs[-1].test_accuracy
    assert before < 0.3  # an untrained 10-way classifier is near chance
    assert after > 0.85, after  # one pass over 3,000 digits already reads most of them
    assert result.epochs[-1].train_loss < 1.0


def test_stop_keeps_last_complete_epoch(mnist_train):
    x, y = mnist_train
    model = build_model("lecture-keras", seed=0)
    snapshots = []
    calls = {"n": 0}

    def on_epoch(res, m):
        snapshots.append({k: v.clone() for k, v in m.state_dict().items()})

    def should_stop():
        calls["n"] += 1
        return calls["n"] > 16 + 5  # 16 batches = epoch 1, then stop mid-epoch 2

    cfg = TrainConfig(epochs=3, batch_size=64, schedule="constant", augment=False)
    result = train(model, x[:1024], y[:1024], cfg, on_epoch=on_epoch, should_stop=should_stop)
    assert result.interrupted and len(result.epochs) == 1
    for key, value in model.state_dict().items():
        assert torch.equal(value, snapshots[0][key]), key


def test_evaluate_counts(mnist_test):
    xt, yt = mnist_test
    model = build_model("lecture-keras", seed=5)
    m = evaluate(model, xt[:500], yt[:500], batch_size=128)
    probs = model.predict_proba(xt[:500].astype(np.float32) / 255)
    expected = (probs.argmax(1) == yt[:500]).mean()
    assert m["accuracy"] == pytest.approx(expected)
    conf = np.array(m["confusion"])
    assert conf.sum() == 500 and conf.trace() == round(expected * 500)
    np.testing.assert_array_equal(conf.sum(1), np.bincount(yt[:500], minlength=10))


def test_augmentation_keeps_digits_recognisable():
    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 8:20, 12:16] = 1.0  # a bar in the middle
    out = augment_batch(x.clone(), gen)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    ink = out.sum(dim=(1, 2, 3))
    assert (ink > 0.4 * x[0].sum()).all()  # never shifted off the frame or erased
    assert not torch.equal(out, x)


def test_to_tensor_scales():
    t = to_tensor(np.array([[[0, 255]]], dtype=np.uint8))
    assert t.shape == (1, 1, 1, 2) and t[0, 0, 0, 1] == 1.0


def test_shipped_default_model_is_at_least_99_5_percent(mnist_test, shipped_mnist_evaluation):
    xt, yt = mnist_test
    loaded = load_shipped("cnnviz")
    m = shipped_mnist_evaluation  # evaluate(loaded.model, xt, yt), once a session
    assert m["count"] == 10_000
    confusion = np.asarray(m["confusion"])
    np.testing.assert_array_equal(confusion.sum(1), np.bincount(yt, minlength=10))
    assert m["accuracy"] == pytest.approx(np.trace(confusion) / len(yt))
    # ... and it is this model's: its answers on a slice, computed here, agree
    np.testing.assert_array_equal(np.asarray(m["predictions"])[:200],
                                  evaluate(loaded.model, xt[:200], yt[:200])["predictions"])
    assert m["accuracy"] >= 0.995, m["accuracy"]
    # the card tells the truth about it
    assert loaded.card["test_accuracy"] == pytest.approx(m["accuracy"], abs=1e-4)


@pytest.mark.parametrize("name, floor", [("lecture-keras", 0.90), ("lecture-deep", 0.97)])
def test_shipped_lecture_models(mnist_test, name, floor):
    xt, yt = mnist_test
    assert evaluate(load_shipped(name).model, xt, yt)["accuracy"] >= floor


def test_shipped_fashion_model(fashion_test):
    xt, yt = fashion_test
    assert evaluate(load_shipped("cnnviz-fashion").model, xt, yt)["accuracy"] >= 0.90


def test_exploding_loss_stops_with_the_last_finite_weights(mnist_train):
    x, y = mnist_train
    model = build_model("lecture-keras", seed=0)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    saved = []
    # SGD at lr 1e10: the second batch's loss is ~1e27, the third NaN (measured)
    cfg = TrainConfig(epochs=2, batch_size=64, optimizer="sgd", lr=1e10, schedule="constant",
                      augment=False)
    result = train(model, x[:512], y[:512], cfg, on_epoch=lambda res, m: saved.append(res))
    assert result.diverged and "epoch 1" in result.diverged
    assert not result.interrupted and result.epochs == [] and saved == []
    for key, value in model.state_dict().items():  # back to the last finite weights
        assert torch.equal(value, start[key]), key


def test_weights_going_non_finite_on_an_epochs_last_batch_are_not_kept(mnist_train):
    x, y = mnist_train
    model = build_model("lecture-keras", seed=0)
    saved = []

    def on_batch(i, total, loss):
        if len(saved) == 1 and i == total - 1:  # epoch 2's last step: a weight turns NaN
            with torch.no_grad():
                next(model.parameters()).view(-1)[0] = float("nan")

    cfg = TrainConfig(epochs=3, batch_size=64, schedule="constant", augment=False)
    result = train(model, x[:256], y[:256], cfg, on_batch=on_batch,
                   on_epoch=lambda res, m: saved.append({k: v.clone() for k, v in m.state_dict().items()}))
    assert result.diverged == "the weights became NaN or infinite in epoch 2"
    assert len(saved) == len(result.epochs) == 1
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[0][key]), key


@pytest.mark.parametrize("asked, native, device, expected", [
    (True, True, "cpu", torch.bfloat16), (True, False, "cpu", torch.float32),
    (False, True, "cpu", torch.float32), (True, True, "meta", torch.float32)])
def test_the_forward_pass_is_bfloat16_only_when_asked_for_and_native(
        monkeypatch, asked, native, device, expected):
    from cnnviz.core.basics import machine
    from cnnviz.core.training.loop import forward_precision, uses_bfloat16

    monkeypatch.setattr(machine, "cpu_computes_bfloat16", lambda: native)
    config = TrainConfig(bfloat16=asked)
    assert uses_bfloat16(config, device) == (expected == torch.bfloat16)
    if device == "cpu":
        with forward_precision(config, torch.device("cpu")):
            out = torch.nn.functional.linear(torch.ones(2, 3), torch.ones(4, 3))
        assert out.dtype == expected


def test_the_card_says_bfloat16_only_where_it_was_used(monkeypatch):
    from cnnviz.core.basics import machine
    from cnnviz.core.networks.card import BFLOAT16_FORWARD, training_card

    for native in (True, False):
        monkeypatch.setattr(machine, "cpu_computes_bfloat16", lambda native=native: native)
        card = training_card(dataset="mnist", config=TrainConfig(bfloat16=True),
                             train_images=10, device="cpu")
        assert card.get("precision") == (BFLOAT16_FORWARD if native else None)
    plain = training_card(dataset="mnist", config=TrainConfig(), train_images=10, device="cpu")
    assert "precision" not in plain

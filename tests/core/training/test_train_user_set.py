"""Training, fine-tuning and evaluating on the user's own set (cnnviz.core.training.user_training):
a tiny network learns three drawn stroke classes and reads a writer it never saw; the
last layer is resized to the set's classes and the card names them; fine-tuning only the
last layer leaves every other weight as it was; the evaluation's figures are checked
against torch's own answers counted by hand and against scipy's Wilson interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image
from stroke_sets import WRITERS, stroke_drawing, stroke_set, tiny_arch  # (tests/ is on sys.path)

from cnnviz.core.networks.models import Network
from cnnviz.core.training.loop import TrainConfig, train
from cnnviz.core.training.user_set import UserSet, UserSetError
from cnnviz.core.training.user_training import (
    evaluate_on_set,
    fine_tune_start,
    load_training_data,
    parse_dataset,
    set_card_facts,
    with_class_count,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """A network this small trains fastest on one thread (more only wait for each other)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def strokes(tmp_path_factory):
    return stroke_set(tmp_path_factory.mktemp("sets") / "strokes").folder


def test_a_tiny_network_reads_a_writer_it_never_saw(strokes):
    data = load_training_data(parse_dataset(str(strokes)), test_share=0.34, seed=1)
    assert data.classes == ["circle", "cross", "zigzag"]
    assert len(set(data.test_writers)) == 1 and len(data.x_test) == 30  # one whole writer
    arch, note = with_class_count(tiny_arch(10), len(data.classes))
    assert "Dense 10 to Dense 3" in note
    torch.manual_seed(0)
    model = Network(arch, class_names=data.classes)
    config = TrainConfig(epochs=20, batch_size=16, lr=0.01, augment=True, seed=0)
    result = train(model, data.x_train, data.y_train, config, data.x_test, data.y_test,
                   device=torch.device("cpu"))
    with torch.no_grad():
        answers = model(torch.from_numpy(data.x_test[:, None] / 255.0).float()).argmax(1).numpy()
    accuracy = float((answers == data.y_test).mean())
    assert accuracy >= 0.95, (accuracy, result.epochs[-1])
    assert result.epochs[-1].test_accuracy == pytest.approx(accuracy)


def test_fine_tuning_only_the_last_layer_keeps_the_others(strokes, tmp_path):
    from cnnviz.core.networks.weights import load_shipped, load_weights, save_weights

    shipped = load_shipped("cnnviz").model
    data = load_training_data(parse_dataset(str(strokes)), test_share=0.34, seed=1)
    model, notes = fine_tune_start(shipped, data.classes, only_last_layer=True)
    assert model.class_names == data.classes and model.layer_infos[-1].output_shape == (3,)
    assert any("replaced" in n for n in notes) and any("local patterns" in n for n in notes)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = TrainConfig(epochs=2, batch_size=16, lr=0.01, augment=False, seed=0)
    train(model, data.x_train, data.y_train, config, device=torch.device("cpu"))
    after = model.state_dict()
    last = model.layer_infos[[i.kind for i in model.layer_infos].index("dense", 20)].name
    changed = {k for k in after if not torch.equal(before[k], after[k])}
    assert changed == {f"layers.{last}.weight", f"layers.{last}.bias"}
    for key, value in shipped.state_dict().items():  # every other layer is the shipped one
        if not key.startswith(f"layers.{last}."):
            assert torch.equal(value, after[key]), key

    from cnnviz.core.networks.card import training_card

    card = set_card_facts(training_card(dataset="mnist", config=config,
                                        train_images=len(data.x_train)), data)
    assert card["classes"] == data.classes and card["user_set"] == "strokes"
    assert "dataset" not in card and len(card["user_set_sha256"]) == 64
    saved = load_weights(save_weights(model, tmp_path / "strokes.safetensors", card))
    assert saved.classes == ["circle", "cross", "zigzag"]
    assert saved.model.class_names == ["circle", "cross", "zigzag"]


def test_the_evaluation_against_torch_and_scipy(strokes):
    from scipy.stats import norm

    torch.manual_seed(3)
    model = Network(with_class_count(tiny_arch(), 3)[0], class_names=["zigzag", "circle", "cross"])
    result = evaluate_on_set(model, strokes, with_mnist=False)
    user = UserSet.open(strokes)
    x, y = user.arrays()
    with torch.no_grad():
        probs = torch.softmax(model(torch.from_numpy(x[:, None] / 255.0).float()), 1).numpy()
    truth = np.array([["zigzag", "circle", "cross"].index(user.class_names[i]) for i in y])
    right = probs.argmax(1) == truth
    assert result.correct == right.sum() and result.count == 90
    z = norm.ppf(0.975)
    p, n = right.mean(), len(right)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert result.interval == pytest.approx((centre - half, centre + half), abs=1e-9)
    writers = user.writer_of_each()
    for w in WRITERS:
        assert result.per_writer[w] == pytest.approx(
            np.mean([r for r, v in zip(right, writers) if v == w]))
    assert np.array(result.confusion).sum() == 90
    confident = sorted(probs[~right].max(1), reverse=True)[:len(result.misread)]
    assert [m["confidence"] for m in result.misread] == pytest.approx(confident, rel=1e-5)
    with pytest.raises(UserSetError, match="no output for the set's class 'circle'"):
        evaluate_on_set(Network(tiny_arch()), strokes, with_mnist=False)


def test_mnist_plus_a_set_merges_the_classes(tmp_path):
    from data_policy import need_data

    data_dir = need_data("mnist")
    mine = UserSet.create(tmp_path / "mine", ["7", "star"])
    rng = np.random.default_rng(0)
    for i in range(4):
        mine.add_picture(rng.integers(0, 255, (28, 28), dtype=np.uint8), ["7", "star"][i % 2],
                         writer=f"w{i % 2}")
    data = load_training_data(parse_dataset(f"mnist+{tmp_path / 'mine'}"), data_dir,
                              test_share=0.5, limit=100)
    assert data.classes == [str(d) for d in range(10)] + ["star"]
    assert len(data.x_train) == 102 and len(data.x_test) == 10_002
    user_labels = data.y_train[100:]
    assert user_labels.tolist() in ([7, 7], [10, 10])  # a set's "7" is MNIST's 7


def test_bad_dataset_choices(tmp_path):
    with pytest.raises(UserSetError, match="not a folder"):
        parse_dataset(str(tmp_path / "nowhere"))
    with pytest.raises(UserSetError, match="not a folder"):
        parse_dataset("mnist+")
    one = UserSet.create(tmp_path / "one", ["a"])
    one.add_picture(np.zeros((28, 28), np.uint8), "a")
    with pytest.raises(UserSetError, match="at least two classes"):
        load_training_data(parse_dataset(str(one.folder)))
    empty = UserSet.create(tmp_path / "empty", ["a", "b"])
    empty.add_picture(np.zeros((28, 28), np.uint8), "a")
    with pytest.raises(UserSetError, match="'b' has no samples"):
        load_training_data(parse_dataset(str(empty.folder)))


def test_the_command_line_trains_and_evaluates_on_a_set(strokes, tmp_path, capsys):
    import json

    from cnnviz.cli import main
    from cnnviz.core.networks.weights import load_weights

    out = tmp_path / "s.safetensors"
    code = main(["train", "--dataset", str(strokes), "--arch",
                 "conv 8 5, maxpool 2, relu, flatten, dense 10", "--epochs", "2",
                 "--batch-size", "16", "--test-share", "0.34", "--out", str(out)])
    said = capsys.readouterr().out
    assert code == 0 and "resized from Dense 10 to Dense 3" in said
    loaded = load_weights(out)
    assert loaded.classes == ["circle", "cross", "zigzag"] and loaded.card["user_set"] == "strokes"
    assert main(["evaluate", "--weights", str(out), "--dataset", str(strokes), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["classes"] == ["circle", "cross", "zigzag"] and result["count"] == 90
    assert set(result["per_writer_accuracy"]) == set(WRITERS)
    low, high = result["accuracy_interval"]
    assert low <= result["accuracy"] <= high and result["mnist_accuracy"] is None
    picture = tmp_path / "circle.png"
    Image.fromarray(stroke_drawing("circle", np.random.default_rng(5))[0].astype(np.uint8)).save(picture)
    main(["predict", str(picture), "--weights", str(out), "--json"])
    answer = json.loads(capsys.readouterr().out)[0]
    assert answer["class"] == ["circle", "cross", "zigzag"][answer["prediction"]]
    with pytest.raises(SystemExit):  # no abbreviations: --data is not --data-dir
        main(["evaluate", "--model", "cnnviz", "--data", str(strokes)])
    assert main(["train", "--dataset", str(strokes), "--only-last-layer", "--out",
                 str(tmp_path / "x.safetensors")]) == 1
    assert "give --init FILE" in capsys.readouterr().err

"""The map of what a network learned (cnnviz.core.units.embedding), against references computed
here: the layer's values through a torch forward hook, PCA through numpy's SVD (and
scikit-learn's PCA), t-SNE's placement of new points through openTSNE's own transform."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cnnviz.core.networks.models import Activation, Architecture, Conv, Dense, Flatten, Network
from cnnviz.core.networks.weights import load_shipped, load_weights
from cnnviz.core.units import embedding as E

SMALL = 500  # test digits in these tests (the benchmark maps all 10,000)


@pytest.fixture(scope="module")
def shipped():
    return load_shipped("cnnviz").model


@pytest.fixture(scope="module")
def small_set(mnist_test):
    images, labels = mnist_test
    return images[:SMALL], labels[:SMALL]


def hooked_values(network, images, layer: str, answers: bool = False):
    """The layer's output for the images, taken by a forward hook on a plain forward pass
    (and the network's answers)."""
    seen = []
    handle = network.layers[layer].register_forward_hook(lambda _m, _i, out: seen.append(out))
    try:
        with torch.no_grad():
            out = network.eval()(torch.from_numpy(images.astype(np.float32) / 255)[:, None])
    finally:
        handle.remove()
    values = seen[0].numpy().astype(np.float64)
    return (values, out.argmax(1).numpy()) if answers else values


def test_the_default_layer_is_the_one_the_output_reads(shipped):
    assert E.default_layer(shipped) == "relu5"  # the dropout before dense2 skipped (eval)
    assert "flatten" in E.flat_layers(shipped) and "dense2" not in E.flat_layers(shipped)


def test_pca_coordinates_match_numpy_svd_and_scikit_learn(shipped, small_set):
    images, labels = small_set
    m = E.build_map(shipped, images, labels, "relu5", "pca")
    values, answers = hooked_values(shipped, images, "relu5", answers=True)
    centred = values - values.mean(axis=0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    expected = u[:, :2] * s[:2]
    for k in range(2):  # PCA's signs are arbitrary
        sign = np.sign(expected[:, k] @ m.coords[:, k])
        np.testing.assert_allclose(m.coords[:, k], sign * expected[:, k], rtol=1e-3, atol=1e-3)
    sklearn = pytest.importorskip("sklearn.decomposition")
    theirs = sklearn.PCA(2).fit_transform(values)
    np.testing.assert_allclose(np.abs(m.coords), np.abs(theirs), rtol=1e-3, atol=1e-3)
    # a new picture's values are placed by the same centre and axes
    np.testing.assert_allclose(m.place(values[:3]), m.coords[:3], atol=1e-3)
    np.testing.assert_array_equal(m.answers, answers)


def knn_accuracy(coords: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    d = ((coords[:, None] - coords[None]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    near = np.argsort(d, axis=1)[:, :k]
    votes = np.array([np.bincount(labels[n], minlength=10).argmax() for n in near])
    return float((votes == labels).mean())


def test_tsne_keeps_classes_together_and_places_a_known_point_where_it_is(shipped, small_set):
    images, labels = small_set
    m = E.build_map(shipped, images, labels, "relu5", "tsne")
    assert knn_accuracy(m.coords, labels.astype(int)) > 0.9  # chance is about 0.1
    values = hooked_values(shipped, images[:5], "relu5")
    placed = m.place(values)
    spread = float(np.ptp(m.coords, axis=0).max())
    assert np.linalg.norm(placed - m.coords[:5], axis=1).max() < 0.03 * spread
    # a digit is placed among its own class
    for i in range(5):
        near = np.argsort(((m.coords - placed[i]) ** 2).sum(1))[1:6]
        assert (labels[near] == labels[i]).sum() >= 4


def test_a_new_point_lands_where_opentsnes_own_transform_puts_it():
    from openTSNE import TSNE

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(6, 10)) * 4
    classes = rng.integers(0, 6, 300)
    data = centres[classes] + rng.normal(size=(300, 10))
    embedding = TSNE(n_jobs=1, random_state=0).fit(data)
    new = np.vstack([data[:4] + 0.3 * rng.normal(size=(4, 10)),
                     (centres[0] + centres[1]) / 2])  # between two clusters
    theirs = np.asarray(embedding.transform(new))  # (also centres the map, in place)
    ours = E.place_on_tsne(data, np.asarray(embedding), new)
    spread = float(np.ptp(np.asarray(embedding), axis=0).max())
    assert np.linalg.norm(ours - theirs, axis=1).max() < 0.05 * spread


def test_distances_to_class_centres_by_hand():
    reduced = np.array([[0, 0], [2, 0], [10, 10], [10, 14]], np.float32)
    m = E.EmbeddingMap("pca", "x", "mnist", ["a", "b"], np.arange(4), np.array([0, 0, 1, 1]),
                       np.array([0, 1, 1, 1]), reduced, np.zeros(2), np.eye(2), reduced)
    centres, typical = m.centres()
    np.testing.assert_allclose(centres, [[1, 0], [10, 12]])
    np.testing.assert_allclose(typical, [1, 2])  # each digit 1 from (1, 0); 2 from (10, 12)
    assert m.distance_to_classes([4, 4]) == (0, pytest.approx(5.0), pytest.approx(1.0))
    assert m.misread.tolist() == [False, True, False, False]
    assert m.nearest([9, 13], 2).tolist() == [[3, 2]]


def test_a_map_is_cached_by_the_networks_content(shipped, mnist_dir, monkeypatch):
    first = E.make_map(shipped, "mnist", "pca", points=SMALL, data_dir=mnist_dir)
    assert len(first.indices) == SMALL and first.images.shape == (SMALL, 28, 28)

    def not_again(*_args, **_kwargs):
        raise AssertionError("the map was made again")

    monkeypatch.setattr(E, "build_map", not_again)
    again = E.make_map(shipped, "mnist", "pca", points=SMALL, data_dir=mnist_dir)
    np.testing.assert_array_equal(again.coords, first.coords)
    np.testing.assert_array_equal(again.images, first.images)
    other = load_shipped("lecture-keras").model  # another network: another entry
    with pytest.raises(AssertionError, match="made again"):
        E.make_map(other, "mnist", "pca", points=SMALL, data_dir=mnist_dir)


def test_a_damaged_cache_file_is_made_again(shipped, small_set, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_CACHE_DIR", str(tmp_path))
    key = E._cache_key(shipped, "relu5", "mnist", "pca", SMALL)
    E.cache_path(key).parent.mkdir(parents=True)
    E.cache_path(key).write_bytes(b"PK\x03\x04 not a real archive")
    assert E._cached(key, "pca", "relu5", "mnist", shipped.class_names) is None


def tiny_network(*layers, shape=(1, 28, 28)) -> Network:
    torch.manual_seed(0)
    return Network(Architecture("tiny", "a test network", layers, input_shape=shape))


def test_bad_input_gets_one_clear_message(shipped, tmp_path):
    no_flat = tiny_network(Conv(10, (15, 15), (15, 15)), Flatten())  # the output's input is a 10×1×1 map
    with pytest.raises(E.EmbeddingError, match="no flat layer just before its output"):
        E.default_layer(no_flat)
    with pytest.raises(E.EmbeddingError, match="no layer named 'dense9'.*relu5"):
        E.check_layer(shipped, "dense9")
    with pytest.raises(E.EmbeddingError, match="conv1 gives 32×26×26 values"):
        E.check_layer(shipped, "conv1")
    with pytest.raises(E.EmbeddingError, match="needs the mnist test set.*not in"):
        E.make_map(shipped, "mnist", "pca", data_dir=tmp_path / "nothing here")
    with pytest.raises(E.EmbeddingError, match="PCA|pca"):
        E.make_map(shipped, "mnist", "umap")


def test_other_networks_and_fashion_mnist(fashion_test, mnist_test):
    keras = load_weights(Path(__file__).resolve().parents[2] / "data" / "keras" / "residual.keras").model
    assert E.default_layer(keras) == "concat2"  # a graph: the layer the output reads
    images, labels = mnist_test
    m = E.build_map(keras, images[:200], labels[:200], "concat2", "pca")
    assert m.coords.shape == (200, 2) and np.isfinite(m.coords).all()
    fashion = load_shipped("cnnviz-fashion").model
    f_images, f_labels = fashion_test
    m = E.build_map(fashion, f_images[:200], f_labels[:200], E.default_layer(fashion), "pca",
                    "fashion-mnist")
    assert m.class_names[9] == "Ankle boot" and E.describe(m).endswith("Fashion-MNIST test pictures")
    # same-class pictures lie together even on the plain PCA map
    assert knn_accuracy(m.coords, f_labels[:200].astype(int)) > 0.5
    colour = tiny_network(Flatten(), Dense(8), Activation("relu"), Dense(5), shape=(3, 32, 32))
    with pytest.raises(E.EmbeddingError, match="takes 3×32×32.*only for MNIST and Fashion"):
        E.make_map(colour, "mnist", "pca")


def test_the_picture_of_a_map(shipped, small_set):
    images, labels = small_set
    m = E.build_map(shipped, images[:200], labels[:200], "relu5", "pca")
    picture = E.render_map(m, 600, 400)
    assert picture.shape == (400, 600, 3) and picture.dtype == np.uint8
    colours = {tuple(c) for c in picture.reshape(-1, 3)}
    assert all(c in colours for c in E.class_colours(10))  # every class is drawn (and keyed)


def test_the_command_writes_a_readable_picture_and_the_coordinates(capsys, mnist_dir, tmp_path):
    from cli_runs import one_line, run

    from cnnviz.core.pictures.images import load_image

    out, coords = tmp_path / "map.png", tmp_path / "map.npy"
    r = run(capsys, "embed", "--model", "cnnviz", "--points", "300", "-o", str(out),
            "--coords", str(coords), "--data-dir", mnist_dir)
    assert r.returncode == 0, r.stderr
    assert "PCA of relu5 (128 values) for 300 MNIST test digits" in r.stdout
    picture = load_image(out)
    assert picture.shape == (760, 1000, 3)
    xy = np.load(coords)
    assert xy.shape == (300, 2) and xy.dtype == np.float32
    indices = np.load(tmp_path / "map.indices.npy")  # which test digits the rows are
    assert (np.diff(indices) > 0).all() and indices[0] >= 0 and indices[-1] < 10_000
    assert indices[-1] > 9000  # spread over the whole test set, not its first 300
    colours = {tuple(c) for c in picture.reshape(-1, 3).astype(int)}
    assert all(c in colours for c in E.class_colours(10))
    for args, words in ((("--layer", "conv1"), "conv1 gives 32×26×26"),
                        (("--layer", "nope"), "no layer named 'nope'"),
                        (("--method", "tsne", "--data-dir", str(tmp_path / "none")), "needs the mnist")):
        r = run(capsys, "embed", "-o", str(tmp_path / "x.png"), *args)
        assert r.returncode == 1 and words in r.stderr and one_line(r.stderr), r.stderr
    assert not (tmp_path / "x.png").exists()

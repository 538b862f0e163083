"""The map view of the Experiments tab: the map drawn off the GUI thread, the drawing as a
live point that moves when the drawing changes, hover and click on a test digit, the
unsure picture's distances, Stop, and one message for a network or data it cannot map."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnviz.app_state import AppState
from cnnviz.core.networks.models import Architecture, Conv, Flatten, Network
from cnnviz.core.networks.weights import LoadedModel, load_shipped
from cnnviz.core.reading.inference import analyze
from cnnviz.core.units import embedding as E
from cnnviz.ui.experiments import map_view
from cnnviz.ui.experiments.map_view import MapView

POINTS = 400  # the map's test digits here (all 10,000 in the app)


@pytest.fixture
def view(qtbot, mnist_dir, monkeypatch):
    monkeypatch.setitem(map_view.DEFAULT_POINTS, "pca", POINTS)
    state = AppState()
    v = MapView(state)
    qtbot.addWidget(v)
    v.resize(900, 600)
    yield v
    v.shutdown()


def publish(state, image, unsure: bool | None = None):
    loaded = state.model
    a = analyze(loaded.model, image, dataset=loaded.dataset, card=loaded.card)
    if unsure is not None:
        a.unsure = unsure
    state.publish_analysis(a)
    return a


def star(v) -> np.ndarray:
    """Where the drawing's point is on the map."""
    x, y = v.drawing.getData()
    return np.array([x[0], y[0]])


def settle(qtbot, v):
    qtbot.waitUntil(lambda: v.is_settled() and v.map is not None, timeout=60000)


def test_the_drawing_moves_on_the_map_and_a_digit_becomes_the_input(qtbot, view, mnist_test):
    images, labels = mnist_test
    state = view.state
    state.model = load_shipped("cnnviz")
    first = publish(state, images[0].astype(np.float32))  # a 7
    view.set_active(True)
    settle(qtbot, view)
    m = view.map
    assert m.method == "pca" and len(m.coords) == POINTS and m.layer == "relu5"
    assert len(view.scatter.points()) == POINTS
    qtbot.waitUntil(lambda: len(view.drawing.data) == 1, timeout=20000)
    before = star(view)
    np.testing.assert_allclose(before, m.place(first.layer("relu5"))[0], atol=1e-4)
    assert all(cell.pixmap() is not None and not cell.pixmap().isNull() for cell in view.near)
    publish(state, images[2].astype(np.float32))  # a 1: another place on the map
    qtbot.waitUntil(lambda: view.is_settled() and not np.allclose(
        star(view), before), timeout=20000)
    assert "Your drawing lies" in view.where.text()
    spot = view.scatter.points()[3]
    view.scatter.sigHovered.emit(view.scatter, [spot], None)
    assert view.hover_text.text().startswith(f"Test digit #{m.indices[3]}: a {labels[m.indices[3]]}")
    view.scatter.sigClicked.emit(view.scatter, [spot], None)
    np.testing.assert_array_equal(state.image, images[m.indices[3]])
    assert f"#{m.indices[3]}" in state.image_source


def test_a_picture_that_is_no_digit_shows_its_distance_to_the_nearest_class(qtbot, view, mnist_test):
    state = view.state
    state.model = load_shipped("cnnviz")
    view.set_active(True)
    star = np.zeros((28, 28), np.float32)
    star[4:24, 13:15] = star[13:15, 4:24] = 255.0
    a = publish(state, star, unsure=True)
    settle(qtbot, view)
    qtbot.waitUntil(lambda: "typical" in view.where.text(), timeout=20000)
    c, d, typical = view.map.distance_to_classes(a.layer("relu5"))
    text = view.where.text()
    assert "does not look like a digit" in text
    assert f"{d:.1f} from the centre of the {view.map.class_names[c]}s" in text
    assert f"typical {typical:.1f}" in text


def test_stop_ends_a_tsne_map_and_make_starts_it_again(qtbot, view, monkeypatch):
    view.state.model = load_shipped("cnnviz")
    view.set_active(True)
    settle(qtbot, view)
    view.points.setCurrentIndex(0)
    view.method.setCurrentIndex(list(E.METHODS).index("tsne"))
    assert view.stop.isVisibleTo(view) and view.map is None
    view.stop.click()
    assert not view.stop.isVisibleTo(view) and view.make.isEnabled()
    qtbot.waitUntil(view.maps.is_idle, timeout=60000)  # the worker stopped at its next step
    assert view.map is None and "Stopped" in view.message.textItem.toPlainText()
    monkeypatch.setitem(map_view.DEFAULT_POINTS, "pca", POINTS)
    view.method.setCurrentIndex(0)  # back to PCA: made again (from the cache)
    settle(qtbot, view)


def test_a_network_or_data_it_cannot_map_gets_one_message(qtbot, view, monkeypatch, tmp_path):
    torch.manual_seed(0)
    arch = Architecture("no-flat", "a test network", (Conv(10, (15, 15), (15, 15)), Flatten()),
                        input_shape=(1, 28, 28))
    view.state.model = LoadedModel(Network(arch).eval(), {}, None)
    view.set_active(True)
    qtbot.waitUntil(lambda: view.maps.is_idle() and "no flat layer" in
                    view.message.textItem.toPlainText(), timeout=20000)
    assert view.layer.count() == 0 and view.map is None
    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(tmp_path))
    view.state.model = load_shipped("cnnviz")
    qtbot.waitUntil(lambda: view.maps.is_idle() and "needs the mnist test set" in
                    view.message.textItem.toPlainText(), timeout=20000)

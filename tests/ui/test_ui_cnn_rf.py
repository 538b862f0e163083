"""Receptive fields in the CNN explorer: the layer cards' "RF 5×5" against torch, and pointing
at a unit outlining its field on the network's input.

The reference is torch's input gradient: in a copy of the shipped network whose convs have
all weights 1, max pooling turned into average pooling over the same windows and the
pixel-wise layers (batch norm, ReLU, dropout) left out, the input pixels with a non-zero
gradient for one unit are exactly the pixels that unit can see."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pages import redraws
from PySide6.QtCore import QEvent, QPoint, QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from cnnviz.app_state import AppState, InputImage
from cnnviz.core.basics.formulas import fmt_number
from cnnviz.core.convolution.receptive_field import receptive_fields, unit_field
from cnnviz.core.networks.layer_cards import describe_layers
from cnnviz.core.networks.models import build_model, get_architecture
from cnnviz.core.networks.weights import load_shipped
from cnnviz.core.pictures.samples import default_sample
from cnnviz.ui.cnn.explorer import CnnExplorer
from cnnviz.ui.cnn.map_detail import FIELD_PEN
from cnnviz.ui.controllers import AnalysisController


@pytest.fixture(scope="module")
def cnnviz_model():
    return load_shipped("cnnviz")


def _linear_copy(network, upto: str) -> torch.nn.Sequential:
    """The torch modules up to `upto`, made linear with every path counting (see above)."""
    modules = []
    for name, module in network.layers.items():
        if isinstance(module, torch.nn.Conv2d):
            conv = torch.nn.Conv2d(module.in_channels, module.out_channels, module.kernel_size,
                                   module.stride, module.padding, module.dilation,
                                   bias=False).double()
            torch.nn.init.ones_(conv.weight)
            modules.append(conv)
        elif isinstance(module, torch.nn.MaxPool2d):
            modules.append(torch.nn.AvgPool2d(module.kernel_size, module.stride, module.padding))
        if name == upto:
            break
    return torch.nn.Sequential(*modules)


def torch_field(network, layer: str, row: int, col: int) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the input pixels unit (row, col) of `layer` can see:
    the bounding box of the non-zero input gradient, bottom and right exclusive."""
    x = torch.zeros(1, 1, 28, 28, dtype=torch.float64, requires_grad=True)
    _linear_copy(network, layer)(x)[0, 0, row, col].backward()
    nz = np.argwhere(x.grad[0, 0].numpy() != 0)
    return (int(nz[:, 0].min()), int(nz[:, 1].min()), int(nz[:, 0].max()) + 1,
            int(nz[:, 1].max()) + 1)


@pytest.fixture
def env(qtbot, cnnviz_model):
    state = AppState()
    controller = AnalysisController(state)
    state.model = cnnviz_model
    explorer = CnnExplorer(state, controller)
    qtbot.addWidget(explorer)
    explorer.resize(1100, 800)
    explorer.show()
    qtbot.waitExposed(explorer)
    yield state, controller, explorer
    explorer.shutdown()
    controller.shutdown()


def show_digit(qtbot, env):
    state, controller, explorer = env
    before = redraws(explorer)
    three, _ = default_sample()
    state.input_image = InputImage(np.kron(np.asarray(three, np.float32), np.ones((10, 10), np.float32)), "test")
    assert controller.join(20)
    qtbot.waitUntil(lambda: redraws(explorer) > before
                    and explorer.analysis is state.analysis, timeout=10000)
    return state.analysis


# ---------------------------------------------------------------------------------------
# the cards


def test_cards_say_the_receptive_field_torch_finds(qtbot, env, cnnviz_model):
    _, _, explorer = env
    network = cnnviz_model.model
    shapes = {i.name: i.output_shape for i in network.layer_infos}
    kinds = {i.name: i.kind for i in network.layer_infos}
    checked = []
    for name, card in explorer.strip.cards.items():
        if kinds.get(name) in ("conv", "pool"):
            _c, h, w = shapes[name]
            top, left, bottom, right = torch_field(network, name, h // 2, w // 2)
            assert top > 0 and left > 0 and bottom < 28 and right < 28  # not cut by the edge
            expected = f"RF {bottom - top}×{right - left}"
            assert card.field_label.text() == expected, name
            assert card.text.field_label == expected
            assert f"Receptive field</b> {bottom - top}×{right - left}" in card.toolTip()
            checked.append((name, bottom - top))
        else:
            assert card.field_label.text() == "", name
    # the deeper, the larger (conv1 3, conv2 5, pool1 6, conv3 10, conv4 14, pool2 16)
    assert [n for n, _ in checked] == ["conv1", "conv2", "pool1", "conv3", "conv4", "pool2"]
    sizes = [s for _, s in checked]
    assert sizes == sorted(sizes) and sizes[0] == 3 and sizes[-1] == 16
    tip = explorer.strip.cards["conv2"].toolTip()
    assert "spatial hierarchies of patterns" in tip
    assert "conv1 sees only 3×3" in tip and "conv4 sees 14×14" in tip


def test_compact_cards_keep_the_field_whole(qtbot, env):
    _, _, explorer = env
    for card in explorer.strip.cards.values():
        card.set_compact(True)
        assert card.compact
        label = card.field_label
        if label.text():
            assert not label.isHidden()
            # the card is wide enough for the line (nothing cut)
            assert label.fontMetrics().horizontalAdvance(label.text()) <= card.width() - 4
    explorer.resize(1100, 800)
    # the strip makes the cards tall enough for the extra line, full size or compact
    for compact in (False, True):
        explorer.strip._layout_key = ()
        for card in explorer.strip.cards.values():
            card.set_compact(compact)
        card = explorer.strip.cards["conv4"]
        card.setFixedHeight(explorer.strip._card_height(compact))
        card.layout().activate()
        assert card.field_label.geometry().bottom() <= card.height()
        assert card.field_label.geometry().top() > card.shape_label.geometry().top()


# ---------------------------------------------------------------------------------------
# pointing at a unit


def _outline_pixels(explorer) -> QColor:
    """Render the input view and return the colour drawn at the middle of the outline's top
    edge (the pen is 2 px wide and cosmetic: it lies on the edge whatever the zoom)."""
    panel = explorer.detail.input_panel
    rect = explorer.detail.field_outline.rect()
    image = panel.view.grab().toImage()
    vb = panel.plot.vb
    p = panel.view.mapFromScene(vb.mapViewToScene(QPointF(rect.center().x(), rect.top())))
    ratio = image.devicePixelRatio()
    colours = [image.pixelColor(int(p.x() * ratio), int((p.y() + dy) * ratio))
               for dy in (-1, 0, 1)]
    return colours


def _is_outline_colour(c: QColor) -> bool:
    return abs(c.red() - FIELD_PEN.red()) < 40 and abs(c.green() - FIELD_PEN.green()) < 40 \
        and abs(c.blue() - FIELD_PEN.blue()) < 60


def _settle(qtbot, explorer):
    """Wait until a pending re-layout of the grid (after a resize) has run."""
    qtbot.waitUntil(lambda: not explorer.grid._relayout.isActive())
    qtbot.wait(10)


def _point_at(qtbot, explorer, stage, c, row, col):
    view_pos = explorer.grid.mapFromScene(stage.scene_point(c, row=row, col=col))
    qtbot.mouseMove(explorer.grid.viewport(), QPoint(view_pos.x(), view_pos.y()))


@pytest.mark.parametrize("layer, c, row, col", [("conv1", 2, 4, 20), ("conv4", 3, 2, 5),
                                                ("pool2", 1, 1, 2)])
def test_pointing_at_a_unit_outlines_its_field_on_the_input(qtbot, env, cnnviz_model,
                                                            layer, c, row, col):
    state, _, explorer = env
    analysis = show_digit(qtbot, env)
    state.layer = layer
    qtbot.waitUntil(lambda: explorer.grid.stage(layer) is not None)
    outline = explorer.detail.field_outline
    assert not outline.isVisible()
    assert not any(_is_outline_colour(x) for x in _outline_pixels(explorer))
    # the input view shows the network's input
    np.testing.assert_allclose(explorer.detail.input_panel.array, analysis.layer("input")[0])

    _settle(qtbot, explorer)
    stage = explorer.grid.stage(layer)
    _point_at(qtbot, explorer, stage, c, row, col)
    qtbot.waitUntil(lambda: explorer.detail.pointed == (layer, c, row, col))
    top, left, bottom, right = torch_field(cnnviz_model.model, layer, row, col)
    field = {f.name: f for f in receptive_fields(cnnviz_model.model.layer_infos)}[layer]
    assert unit_field(field, row, col, (28, 28)) == (top, left, bottom, right)
    rect = outline.rect()
    assert (rect.top(), rect.left(), rect.bottom(), rect.right()) == (top, left, bottom, right)
    assert outline.isVisible() and outline.scene() is explorer.detail.input_panel.plot.scene()
    qtbot.waitUntil(lambda: any(_is_outline_colour(x) for x in _outline_pixels(explorer)))
    # with the unit's value, read from the analysis
    value = float(analysis.layer(layer)[c, row, col])
    caption = explorer.detail.field_caption.text()
    assert f"<b>{layer}</b> map {c}, row {row}, column {col}" in caption
    assert fmt_number(value) in caption
    assert f"rows {top}–{bottom - 1}, columns {left}–{right - 1}" in caption

    # the pointer leaves the maps: the outline goes. (A leave event rather than a move to a
    # fixed point: whether a point of the grid is on a map depends on the layout the window
    # size gave, and in the full suite the corner was on map 0.)
    QApplication.sendEvent(explorer.grid, QEvent(QEvent.Type.Leave))
    qtbot.waitUntil(lambda: not outline.isVisible())
    assert explorer.detail.pointed is None
    assert not any(_is_outline_colour(x) for x in _outline_pixels(explorer))


def test_pointing_at_the_enlarged_map_outlines_the_field_too(qtbot, env, cnnviz_model):
    state, _, explorer = env
    show_digit(qtbot, env)
    state.layer = "conv3"
    qtbot.waitUntil(lambda: explorer.detail.map_value is not None
                    and explorer.detail.map_value.shape == (10, 10))
    panel = explorer.detail.map_panel
    qtbot.waitUntil(lambda: panel.view.isVisible())
    _settle(qtbot, explorer)
    scene = panel.image_item.mapToScene(QPointF(7.5, 6.5))  # column 7, row 6
    pos = panel.view.mapFromScene(scene)
    qtbot.mouseMove(panel.view.viewport(), QPoint(pos.x(), pos.y()))
    qtbot.waitUntil(lambda: explorer.detail.pointed == ("conv3", 0, 6, 7))
    top, left, bottom, right = torch_field(cnnviz_model.model, "conv3", 6, 7)
    rect = explorer.detail.field_outline.rect()
    assert (rect.top(), rect.left(), rect.bottom(), rect.right()) == (top, left, bottom, right)
    assert (bottom - top, right - left) == (10, 10)


def test_a_flat_layer_or_an_empty_pad_shows_no_field(qtbot, env):
    state, controller, explorer = env
    show_digit(qtbot, env)
    state.layer = "conv2"
    _settle(qtbot, explorer)
    stage = explorer.grid.stage("conv2")
    _point_at(qtbot, explorer, stage, 0, 3, 3)
    qtbot.waitUntil(lambda: explorer.detail.field_outline.isVisible())
    state.layer = "dense1"  # bars, no maps: the field and the input view go
    qtbot.waitUntil(lambda: not explorer.detail.field_outline.isVisible())
    assert explorer.detail.map_row.isHidden()
    # an empty pad: nothing to read, the input view says so and no field is drawn
    state.layer = "conv2"
    before = redraws(explorer)
    state.input_image = InputImage(np.zeros((280, 280), np.float32), "test")
    assert controller.join(20)
    qtbot.waitUntil(lambda: redraws(explorer) > before)
    assert explorer.detail.input_panel.message()
    explorer.detail.show_field("conv2", 0, 3, 3, 0.0)
    assert not explorer.detail.field_outline.isVisible()


@pytest.mark.parametrize("key", ["cnnviz", "lecture-keras", "lecture-deep"])
def test_every_architecture_cards_field_matches_torch(key):
    """The card texts (core) of each built-in architecture against the gradient box of a
    unit whose field lies inside the picture."""
    network = build_model(get_architecture(key))
    texts = {t.name: t for t in describe_layers(network)}
    shapes = {i.name: i.output_shape for i in network.layer_infos}
    seen = 0
    for info in network.layer_infos:
        text = texts[info.name]
        if info.kind not in ("conv", "pool"):
            assert text.field_label == "" and text.field_size is None
            continue
        _c, h, w = shapes[info.name]
        top, left, bottom, right = torch_field(network, info.name, h // 2, w // 2)
        if top == 0 or left == 0 or bottom == 28 or right == 28:
            continue  # cut by the picture's edge: the box is not the whole field
        assert text.field_size == (bottom - top, right - left), (key, info.name)
        assert text.field_label == f"RF {bottom - top}×{right - left}"
        seen += 1
    assert seen >= 3


def test_the_enlarged_map_is_the_map_whose_field_is_outlined(qtbot, env):
    """Pointing at map 5 of the grid outlines a unit of map 5 on the input: the enlarged
    panel shows map 5 while the pointer is there, and the clicked map when it leaves."""
    state, _, explorer = env
    analysis = show_digit(qtbot, env)
    state.layer = "conv1"
    qtbot.waitUntil(lambda: explorer.grid.stage("conv1") is not None)
    maps = analysis.layer("conv1")
    qtbot.waitUntil(lambda: explorer.detail.map_value is not None)
    np.testing.assert_allclose(explorer.detail.map_value, maps[0])
    _settle(qtbot, explorer)
    _point_at(qtbot, explorer, explorer.grid.stage("conv1"), 5, 10, 12)
    qtbot.waitUntil(lambda: explorer.detail.pointed == ("conv1", 5, 10, 12))
    np.testing.assert_allclose(explorer.detail.map_value, maps[5])
    QApplication.sendEvent(explorer.grid, QEvent(QEvent.Type.Leave))
    qtbot.waitUntil(lambda: explorer.detail.pointed is None)
    np.testing.assert_allclose(explorer.detail.map_value, maps[0])

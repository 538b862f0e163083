"""Any network behind the views: networks that are not MNIST-shaped (a 3×32×32 colour input
with 5 named classes, and a non-square 1×20×36 one, to catch swapped axes) go through the
core interface, the CNN explorer, the kernel explorer's "Network input", the experiments,
saliency and export; output sizes that are not whole are floored as torch floors them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QMessageBox
from shared_windows import window_opened_once
from torch_reference import first_layer_input

from cnnviz.app_state import KERNEL_SOURCE_NETWORK, InputImage
from cnnviz.core.networks.models import (
    Activation,
    Architecture,
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    Network,
    Pool,
    summarize,
)
from cnnviz.core.networks.network import InputSpec, InspectableNetwork, fit_picture
from cnnviz.core.networks.weights import LoadedModel, load_weights, save_weights
from cnnviz.core.reading.inference import analyze

COLOUR_CLASSES = ["cat", "dog", "bird", "fish", "frog"]


def colour_network() -> LoadedModel:
    arch = Architecture("colour-5", "a 3×32×32 test network", (
        Conv(6, (3, 3)), BatchNorm(), Activation("relu"), Pool("max", 2, 2),
        Conv(8, (3, 3), (2, 2)), Activation("relu"), Flatten(), Dropout(0.25), Dense(5)),
        input_shape=(3, 32, 32))
    torch.manual_seed(1)
    card = {"classes": COLOUR_CLASSES, "model_name": "colour-5"}
    return LoadedModel(Network(arch, class_names=COLOUR_CLASSES, card=card).eval(), card, None)


def wide_network() -> LoadedModel:
    arch = Architecture("wide-3", "a 1×20×36 test network", (
        Conv(4, (3, 5), (1, 2)), Activation("relu"), Pool("max", 2, 2), Flatten(), Dense(3)),
        input_shape=(1, 20, 36))
    torch.manual_seed(2)
    return LoadedModel(Network(arch).eval(), {}, None)


KERAS = Path(__file__).resolve().parents[1] / "data" / "keras"


def keras_network(name: str):
    """A model made by Keras (tests/data/keras): a residual graph, the newer layers, a
    Keras 2 graph with one PReLU slope per value."""
    return lambda: load_weights(KERAS / name)


NETWORKS = {"colour": colour_network, "wide": wide_network,
            "residual": keras_network("residual.keras"), "modern": keras_network("modern.h5"),
            "keras2_graph": keras_network("keras2_graph.h5"),
            "onnx_graph": lambda: load_weights(KERAS.parent / "torch" / "graph.onnx"),
            "torchscript": lambda: load_weights(KERAS.parent / "torch" / "examples.pt")}


def marked_picture(h: int = 90, w: int = 150) -> np.ndarray:
    """A colour picture with a bright red block at the top left only (0..255)."""
    picture = np.zeros((h, w, 3), np.float32)
    picture[: h // 3, : w // 4, 0] = 255.0
    picture[h // 2:, w // 2:, 2] = 120.0
    return picture


def picture_for(loaded) -> np.ndarray:
    """A real MNIST digit for a digit-sized network (a marked block is rightly read as no
    digit there, and shown empty), the marked colour picture for any other."""
    from cnnviz.core.pictures.samples import load_samples

    if loaded.input_spec.is_digit_sized:
        return np.repeat(load_samples("mnist")[0][0][..., None], 3, axis=2).astype(np.float32)
    return marked_picture()


# ----- the core interface -----------------------------------------------------------------


@pytest.mark.parametrize("which", list(NETWORKS))
def test_the_network_fills_the_interface_and_trace_matches_torch(which):
    loaded = NETWORKS[which]()
    net = loaded.model
    assert isinstance(net, InspectableNetwork)
    c, h, w = net.input_spec.shape
    analysis = analyze(net, marked_picture(), card=loaded.card)
    names = [name for name, _ in analysis.layers]
    assert names == ["input"] + [i.name for i in net.layer_infos]
    assert analysis.layers[0][1].shape == (c, h, w)
    for (_, value), info in zip(analysis.layers[1:], net.layer_infos):
        assert value.shape == info.output_shape
    # The probabilities against torch's own forward pass and softmax on the same input.
    x = torch.from_numpy(analysis.layers[0][1][None])
    with torch.no_grad():
        expected = torch.softmax(net(x), dim=1)[0].numpy()
    np.testing.assert_allclose(analysis.probabilities, expected, rtol=1e-5, atol=1e-7)
    assert len(analysis.probabilities) == len(loaded.classes)
    assert not analysis.unsure  # no verdict for a network cnnviz knows nothing about


def test_a_picture_keeps_its_orientation_in_a_non_square_input():
    spec = InputSpec(1, 20, 36)
    fitted = fit_picture(marked_picture(), spec)
    assert fitted.image.shape == (20, 36)
    top_left, bottom_right = fitted.image[:5, :7].mean(), fitted.image[-5:, -7:].mean()
    assert top_left > 0.2 and top_left > bottom_right  # red (mean 1/3) up and left
    colour = fit_picture(marked_picture(), InputSpec(3, 32, 32))
    assert colour.image.shape == (32, 32, 3)
    assert colour.image[:8, :6, 0].min() > 0.9 and colour.image[:8, :6, 2].max() < 0.05


def test_class_names_and_input_survive_a_weights_file(tmp_path):
    loaded = colour_network()
    path = save_weights(loaded.model, tmp_path / "colour.safetensors", loaded.card)
    again = load_weights(path)
    assert again.classes == COLOUR_CLASSES
    assert again.input_spec.shape == (3, 32, 32)


@pytest.mark.parametrize("seed", range(4))
def test_the_floor_rule_gives_torchs_shapes(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        h, w = int(rng.integers(5, 40)), int(rng.integers(5, 40))
        kernel = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        stride = (int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        padding = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        if kernel[0] > h + 2 * padding[0] or kernel[1] > w + 2 * padding[1]:
            continue
        arch = Architecture("r", "", (Conv(2, kernel, stride, padding), Flatten(), Dense(3)),
                            input_shape=(1, h, w))
        ours = summarize(arch)[0].output_shape
        theirs = torch.nn.Conv2d(1, 2, kernel, stride, padding)(torch.zeros(1, 1, h, w)).shape[1:]
        assert ours == tuple(theirs), (h, w, kernel, stride, padding)
        ragged = any((n - k + 2 * p) % s for n, k, s, p in zip((h, w), kernel, stride, padding))
        assert bool(summarize(arch)[0].notes) == ragged


def test_summary_floors_and_says_so(capsys):
    from cnnviz.cli import main

    assert main(["summary", "--arch", "conv 8 3x5 stride=2, relu, maxpool 2, flatten, dense 10"]) == 0
    out = capsys.readouterr().out
    assert "8x13x12" in out and "13.5 → ⌊13.5⌋ = 13" in out and "12.5 → ⌊12.5⌋ = 12" in out


def test_the_editor_floors_with_a_note():
    from cnnviz.core.networks.arch_text import check_layers, parse_architecture

    checks = check_layers(parse_architecture("conv 8 3 stride=2, relu, flatten, dense 10"))
    assert checks[0].ok and checks[0].output_shape == (8, 13, 13)
    assert any("⌊13.5⌋ = 13" in hint and "PyTorch and Keras" in hint for hint in checks[0].hints)


def test_predict_reads_any_network(tmp_path, capsys):
    from PIL import Image

    from cnnviz.cli import main

    loaded = colour_network()
    model_path = save_weights(loaded.model, tmp_path / "colour.safetensors", loaded.card)
    picture = tmp_path / "p.png"
    Image.fromarray(marked_picture().astype(np.uint8)).save(picture)
    assert main(["predict", "--weights", str(model_path), str(picture)]) == 0
    out = capsys.readouterr().out
    expected = analyze(loaded.model, np.asarray(Image.open(picture), np.float32))
    assert out.split(": ")[1].split()[0] == COLOUR_CLASSES[expected.prediction]


# ----- the window ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def opened_window(qapp, module_settings_sandbox):
    """One main window for the module's window tests, at 1400×900, its message boxes kept
    quiet."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: None))
        patch.setattr(QMessageBox, "information", staticmethod(lambda *a, **k: None))
        with window_opened_once((1400, 900)) as opened:
            yield opened


@pytest.fixture
def window(qtbot, opened_window):
    return opened_window.as_opened(qtbot)


def show_on(qtbot, window, loaded, picture):
    state = window.state
    before = state.analysis
    state.model = loaded
    state.input_image = InputImage(picture, "test picture")
    window.controller.join()
    qtbot.waitUntil(lambda: state.analysis is not before and state.analysis.layer_infos
                    == list(loaded.model.layer_infos)
                    and state.analysis.layers[0][1].shape == loaded.input_spec.shape,
                    timeout=20000)
    return state.analysis


@pytest.mark.parametrize("which", list(NETWORKS))
def test_the_cnn_explorer_shows_every_layer(qtbot, window, which):
    loaded = NETWORKS[which]()
    analysis = show_on(qtbot, window, loaded, picture_for(loaded))
    explorer, state = window.cnn_explorer, window.state
    c, h, w = loaded.input_spec.shape
    cards = explorer.strip.cards
    assert cards["input"].shape_label.text() == f"{c}×{h}×{w}"
    for info in loaded.model.layer_infos:
        state.layer = info.name
        assert cards[info.name].shape_label.text() == "×".join(map(str, info.output_shape))
        value = analysis.layer(info.name)
        if value.ndim == 3:
            stage = explorer.grid.stage(info.name)
            assert stage.geometry.n == value.shape[0]
            np.testing.assert_allclose(stage.map_array(0), value[0], rtol=1e-6, err_msg=info.name)
            assert stage.map_array(0).shape == value.shape[1:]
        else:
            np.testing.assert_allclose(explorer.bars.values, value, rtol=1e-6)
    last = loaded.model.layer_infos[-1].name
    state.layer = last
    assert explorer.bars._names == loaded.classes
    assert explorer.answer.digit_label.text() == loaded.classes[analysis.prediction]
    # the detail panel shows the input at the network's size, not 28×28
    assert explorer.detail.input_hw == (h, w)


@pytest.mark.parametrize("which", list(NETWORKS))
def test_the_kernel_explorer_filters_the_network_input(qtbot, window, which):
    loaded = NETWORKS[which]()
    show_on(qtbot, window, loaded, picture_for(loaded))
    kernel = window.kernel_explorer
    c, h, w = loaded.input_spec.shape
    combo = kernel.controls.input_box.source_combo
    index = combo.findData(KERNEL_SOURCE_NETWORK)
    assert f"{h}×{w}" in combo.itemText(index)
    with qtbot.waitSignal(kernel.controller.result_ready, timeout=20000) as blocker:
        kernel.controller.set_source(KERNEL_SOURCE_NETWORK)
    source = kernel.controller.source_image()
    assert source.shape == ((h, w) if c == 1 else (h, w, c))
    # what the network's first layer is given (a torch hook on it), channels last
    received = first_layer_input(loaded.model, window.state.analysis.layers[0][1])
    np.testing.assert_allclose(source, received, rtol=1e-5, atol=1e-5)
    result = blocker.args[0].result
    assert (result.conv_rows.size, result.conv_cols.size) == (h, w)  # rows are the height


@pytest.mark.parametrize("which", list(NETWORKS))
def test_every_experiment_draws_or_says_why_not(qtbot, window, which):
    from cnnviz.ui.experiments.grid_view import ArrayGrid

    loaded = NETWORKS[which]()
    show_on(qtbot, window, loaded, picture_for(loaded))
    window.experiments_tab_action.trigger()
    ex = window.experiments_explorer
    for name in ["ReceptiveFieldView", "SaliencyView", "InvarianceView", "PoolingShiftView",
                 "BatchNormView", "DropoutView", "ParametersView", "ConvStepView"]:
        ex.show_view(name)
        view = ex.view(name)
        qtbot.waitUntil(view.is_settled, timeout=60000)
        grids = view.findChildren(ArrayGrid)
        drawn = [g for g in grids if g.values is not None and np.isfinite(g.values).any()]
        said = [g.text for g in grids if g.text]
        assert drawn or said or name == "ParametersView", name
        if name == "SaliencyView":
            assert view.input_grid.grid.values.shape[:2] == loaded.input_spec.shape[1:]
        if name == "InvarianceView" and not loaded.input_spec.is_digit_sized:
            assert any("1×28×28" in t for t in said), said  # one line naming the mismatch
        if which == "colour" and name in ("BatchNormView", "DropoutView"):
            assert drawn, (name, said)  # it has both: shown on its own input
        if name == "DropoutView" and which == "colour":
            assert view.samples.probabilities.shape[1] == 5


@pytest.mark.parametrize("which", list(NETWORKS))
def test_export_writes_the_networks_maps(qtbot, window, which, tmp_path):
    loaded = NETWORKS[which]()
    analysis = show_on(qtbot, window, loaded, picture_for(loaded))
    window.tabs.setCurrentIndex(0)
    first = loaded.model.layer_infos[0].name
    window.state.layer = first
    path = window.export_feature_maps(str(tmp_path / "maps.npy"))
    assert path is not None
    np.testing.assert_allclose(np.load(path), analysis.layer(first), rtol=1e-6)


def test_outputs_become_probabilities_in_one_place_and_never_twice():
    from scipy.special import softmax

    from cnnviz.core.networks.network import probabilities

    logits = np.array([[1000.0, 999.0, -5.0], [0.1, 0.2, 0.3]])
    np.testing.assert_allclose(probabilities(logits), softmax(logits, axis=1), rtol=1e-12)
    np.testing.assert_allclose(probabilities(torch.tensor(logits)).numpy(),
                               softmax(logits, axis=1), rtol=1e-6)
    p = softmax(logits, axis=1)
    np.testing.assert_array_equal(probabilities(p, "probabilities"), p)  # not softmax(p)
    q = p[1:]  # (no zeros: log(0) is not a number)
    np.testing.assert_allclose(probabilities(np.log(q), "log-probabilities"), q, rtol=1e-12)
    with pytest.raises(ValueError, match="logits"):
        probabilities(p, "scores")

"""The Experiments tab in the real window: reachable, every view draws on the user's
input, the stepping controls and the region drag work, F1 lists the keys."""

from __future__ import annotations

import numpy as np
import pytest
from shared_windows import window_opened_once

from cnnviz.app_state import AppState
from cnnviz.ui.window.main_window import MainWindow


@pytest.fixture
def own_window(qtbot, settings_sandbox):
    """A window of the test's own: for a test that changes the slide view (its step, source,
    filter or region), which the window does not undo."""
    w = MainWindow(AppState())
    qtbot.addWidget(w)
    w.load_defaults()
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.state.analysis is not None, timeout=20000)
    return w


@pytest.fixture(scope="module")
def opened_window(qapp, module_settings_sandbox):
    """The module's window, the experiment it listed first and the invariance view's shift
    as it opened (the one setting of a view a test here changes)."""
    with window_opened_once() as opened:
        ex = opened.window.experiments_explorer
        yield opened, ex.list.currentRow(), ex.view("InvarianceView").dx.value()


@pytest.fixture
def window(qtbot, opened_window):
    """The module's window as it opened."""
    opened, row, dx = opened_window
    w = opened.as_opened(qtbot)
    ex = w.experiments_explorer
    ex.list.setCurrentRow(row)
    ex.view("InvarianceView").dx.setValue(dx)
    assert ex.list.currentRow() == row and ex.view("InvarianceView").dx.value() == dx
    return w


def _show(qtbot, window, name):
    window.experiments_tab_action.trigger()  # Ctrl+4
    assert window.tabs.currentWidget() is window.experiments_page
    ex = window.experiments_explorer
    ex.show_view(name)
    view = ex.view(name)
    assert view.active
    qtbot.waitUntil(view.is_settled, timeout=60000)  # the newest answer is shown
    return view


def test_slide_the_window(qtbot, own_window):
    window = own_window
    view = _show(qtbot, window, "ConvStepView")
    assert view.plan is not None and view.plan.conv_out.shape == (3, 3)  # the lecture's Recap
    assert view.sum_label.text().endswith("= 2")
    view.next_button.click()
    assert view.t == 1 and view.sum_label.text().endswith("= 1")
    view.back_button.click()
    assert view.t == 0
    view.play_button.click()
    qtbot.waitUntil(lambda: view.t >= 2, timeout=10000)
    view.play_button.click()
    assert not view.timer.isActive()
    view.select_source("picture")
    qtbot.waitUntil(lambda: view.is_settled() and view.overview is not None, timeout=20000)
    h, w = view.plan.image.shape
    assert view.plan.conv_out.shape[0] <= 64
    view.picture_grid.grid.dragged.emit(2, 3, 12, 14)  # a rectangle dragged on the picture
    qtbot.waitUntil(lambda: view.is_settled() and view.plan.image.shape != (h, w), timeout=20000)
    f = view.overview[1]
    assert view.offset == (2 * f, 3 * f)


@pytest.mark.parametrize("name", ["ReceptiveFieldView", "SaliencyView", "InvarianceView",
                                  "PoolingShiftView", "BatchNormView", "DropoutView",
                                  "ParametersView"])
def test_every_view_draws_on_the_input(qtbot, window, name):
    view = _show(qtbot, window, name)
    from cnnviz.ui.experiments.grid_view import ArrayGrid

    grids = view.findChildren(ArrayGrid)
    if name == "ParametersView":
        assert "16,959,488" in view.text.text() and "21,631" in view.text.text()
    else:
        assert any(g.values is not None and np.isfinite(g.values).any() for g in grids), \
            [g.text for g in grids]
    if name == "InvarianceView":
        view.dx.setValue(4)
        qtbot.waitUntil(view.is_settled, timeout=60000)
        shown = view.input_grid.grid.values
        assert shown[:, :4].max() == 0  # shifted right: black came in on the left


def test_f1_lists_the_experiments_keys(window):
    rows = dict(window.shortcut_rows())
    assert rows.get("Experiments") == "Ctrl+4"
    assert any("Alt+P" in keys for keys in rows.values())


def test_slide_the_window_with_the_networks_own_filter(qtbot, own_window):
    window = own_window
    view = _show(qtbot, window, "ConvStepView")
    view.select_source("network")
    view.kernel_box.setCurrentIndex(view.kernel_box.findData(7))
    qtbot.waitUntil(lambda: view.is_settled() and view.plan is not None
                    and view.plan.bias != 0, timeout=20000)
    conv1 = window.state.analysis.layer("conv1")[7]
    np.testing.assert_allclose(view.plan.conv_out, conv1, rtol=1e-4, atol=1e-4)
    assert "conv1[7]" in view.note_label.text()


def test_views_say_what_a_model_lacks(qtbot, window):
    """lecture-keras has no batch norm and no dropout: the views say so (no loop, no crash)."""
    from cnnviz.core.networks.weights import load_shipped

    window.state.model = load_shipped("lecture-keras")
    qtbot.waitUntil(lambda: window.state.analysis is not None
                    and len(window.state.analysis.layers) == 10, timeout=20000)
    bn = _show(qtbot, window, "BatchNormView")
    assert "no batch-norm layer" in bn.map_grid.grid.text
    dropout = _show(qtbot, window, "DropoutView")
    assert dropout.mask_grid.grid.text == "this network has no dropout layers"
    pooling = _show(qtbot, window, "PoolingShiftView")
    assert pooling.result is not None and pooling.result.after_name == "pool1"


def test_batch_norm_formula_brackets_negative_numbers(qtbot, window, tmp_path):
    """'x − μ' with a negative μ reads '0.5 − (−0.1142)', never '− −'; every unit of the
    first batch-norm layer is tried until one has a negative mean or shift."""
    import re

    bn = _show(qtbot, window, "BatchNormView")
    text = re.sub(r"<[^>]+>", "", bn.formula.text())
    assert "x = " in text and "γ·" in text
    for bad in ("− −", "− -", "+ −", "+ -", "× −", "× -"):
        assert bad not in text, text
    assert re.search(r"[−+×] \(−\d", text), text  # this digit's numbers include a negative one


def test_saliency_and_dropout_grids_say_what_their_colours_mean(qtbot, window):
    """The signed attribution has a colour bar whose ends are ± its largest magnitude; the
    dropout mask says which colour is dropped."""
    from cnnviz.core.basics.formulas import fmt_number

    sal = _show(qtbot, window, "SaliencyView")
    qtbot.waitUntil(lambda: sal.raw_grid.grid.values is not None, timeout=60000)
    raw = sal.raw_grid.grid.values
    bound = float(np.abs(raw).max())
    assert sal.raw_grid.key.isVisible()
    assert sal.raw_grid.key.texts() == [fmt_number(-bound), "0", fmt_number(bound)]
    assert sal.input_grid.key.isVisible() and sal.input_grid.key.ramp is not None
    drop = _show(qtbot, window, "DropoutView")
    qtbot.waitUntil(lambda: drop.mask_grid.grid.values is not None, timeout=60000)
    assert drop.mask_grid.key.isVisible()
    colours = dict((text.split()[0], rgb) for rgb, text in drop.mask_grid.key.swatches)
    mask_values = drop.mask_grid.grid.values
    dropped_colour = drop.mask_grid.grid.rgb[mask_values == 0][0]  # (~mask: 0 = dropped)
    assert tuple(int(v) for v in dropped_colour) == colours["dropped"]


def test_a_views_status_line_does_not_stay_on_the_next_view(qtbot, window):
    sal = _show(qtbot, window, "SaliencyView")
    qtbot.waitUntil(lambda: sal.raw_grid.grid.values is not None, timeout=60000)
    label = window.explorer_status_label
    qtbot.waitUntil(lambda: " ms" in label.text(), timeout=10000)
    said = label.text()
    _show(qtbot, window, "ParametersView")
    assert label.text() != said
    _show(qtbot, window, "SaliencyView")
    assert label.text() == said  # its own line comes back with it


def test_the_slide_on_the_network_input_shows_what_the_first_layer_receives(qtbot, own_window):
    """The same numbers as the kernel explorer's Network input (a torch hook on the first
    layer says which), the scale named beside the grid, and cells of at most 5 characters
    without e-notation."""
    window = own_window
    from torch_reference import first_layer_input

    from cnnviz.core.basics.formulas import cell_number

    view = _show(qtbot, window, "ConvStepView")
    view.select_source("network")
    qtbot.waitUntil(lambda: view.is_settled() and view.plan is not None
                    and view.plan.image.shape == (28, 28), timeout=20000)
    analysis = window.state.analysis
    received = first_layer_input(window.state.model.model, analysis.layers[0][1])
    np.testing.assert_allclose(view.plan.image, received, rtol=1e-5, atol=1e-5)
    assert "(x − 0.1307) / 0.3081" in view.input_grid.title.text()
    cells = [cell_number(v) for v in view.plan.image.ravel()]
    assert max(len(c) for c in cells) <= 5 and not any("e" in c for c in cells)


def test_invariance_explains_itself_without_covering_its_curves(qtbot, window):
    """No legend over the curves; a wrong answer labelled once per run (not '7777799');
    the lecture's 'translation invariant' explained for this network (its pooling, its
    training's shifts)."""
    from cnnviz.ui.experiments.invariance_view import answer_labels

    view = _show(qtbot, window, "InvarianceView")
    qtbot.waitUntil(lambda: view.why.text() != "", timeout=60000)
    assert all(w.plotItem.legend is None for w in view.plots.values())
    why = view.why.toolTip()  # (the label says it in two sentences)
    assert "equivariant" in why and "2 pooling layers" in why and "±2.5 px" in why
    assert "±2.5 px" in view.why.text() and "dense layers" in view.why.text()
    labels = answer_labels([-5, -4, -3, -2, 0, 2, 3, 4], [0.1] * 8, [7, 7, 7, 3, 3, 9, 9, 3], 3)
    assert [a for _x, _p, a in labels] == [7, 9]

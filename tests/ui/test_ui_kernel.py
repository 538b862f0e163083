"""The kernel explorer tab (offscreen): every control changes the output, and what is drawn
matches torch.nn.functional; impossible numbers are explained and the last valid result
stays; bad kernel cells are refused; hovering explains a pixel; big photos never block the
GUI thread; settings survive a restart."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from pages import redraws
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSettings, Qt, QTimer
from PySide6.QtGui import QFontMetrics, QMouseEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from torch_reference import first_layer_input, torch_pipeline

from cnnviz.app_state import KERNEL_SOURCE_IMAGE as SOURCE_IMAGE
from cnnviz.app_state import KERNEL_SOURCE_NETWORK as SOURCE_NETWORK
from cnnviz.app_state import AppState, InputImage, KernelSettings
from cnnviz.core.basics.limits import MAX_TYPED_PADDING as MAX_PADDING
from cnnviz.core.basics.limits import MAX_TYPED_STRIDE as MAX_STRIDE
from cnnviz.core.convolution.kernels import PRESETS
from cnnviz.core.convolution.lecture_examples import LECTURE_EXAMPLES
from cnnviz.core.convolution.stage_names import ACTIVATION_NAMES
from cnnviz.core.pictures.samples import default_sample
from cnnviz.ui.kernel.explorer import KernelExplorer
from cnnviz.ui.kernel.grid import KernelGrid
from cnnviz.ui.widgets.plots import UNSIGNED_CMAP


def reference(image, s: KernelSettings):
    """torch's answer for what the panels should show: (conv, activation, pooled or None)."""
    return torch_pipeline(image, s)


def wait(qtbot, ex, timeout=20000):
    qtbot.waitUntil(ex.is_idle, timeout=timeout)


@pytest.fixture
def env(qtbot):
    state = AppState()
    image, _ = default_sample()
    state.input_image = InputImage(np.asarray(image, dtype=np.float32), "sample")
    ex = KernelExplorer(state)
    qtbot.addWidget(ex)
    ex.resize(1100, 800)
    ex.show()
    wait(qtbot, ex)
    yield state, ex
    ex.shutdown()


def check_panels(ex, image, settings=None):
    """The arrays drawn in the conv / activation / pooling panels are torch's."""
    s = settings or ex.state.kernel
    conv, act, pooled = reference(image, s)
    np.testing.assert_allclose(ex.stages.conv.array, conv, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(ex.stages.activation.array, act, rtol=1e-5, atol=1e-3)
    if pooled is None:
        assert ex.stages.pool.array is None
    else:
        np.testing.assert_allclose(ex.stages.pool.array, pooled, rtol=1e-5, atol=1e-3)
    return conv, act, pooled


def type_into(widget, text, enter=True):
    """Type into a cell or a spin box as a user would: select all, keys, then Enter."""
    line = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    line.selectAll()
    if text.isascii():
        QTest.keyClicks(line, text)
    else:  # QTest cannot type "−": paste it, as from a slide (an edit, like typing)
        line.insert(text)
    if enter:
        QTest.keyClick(line, Qt.Key.Key_Return)


def choose(combo, data):
    """Pick an item as a user would (activated is only sent for user choices)."""
    i = combo.findData(data)
    assert i >= 0, data
    combo.setCurrentIndex(i)
    combo.activated.emit(i)


def hover(qtbot, panel, row, col):
    """Mouse moves over pixel (row, col) of a panel through Qt's event path (the view, its
    scene, pyqtgraph's sigMouseMoved and the panel's hovered signal). pyqtgraph drops moves
    that come less than 10 ms apart, so the move is repeated until the panel reports it."""
    scene = panel.plot.vb.mapViewToScene(QRectF(col, row, 1, 1).center())
    point = QPointF(panel.view.mapFromScene(scene))
    viewport = panel.view.viewport()
    seen = []

    def slot(r, c):
        seen.append((r, c))

    def moved():
        event = QMouseEvent(QEvent.Type.MouseMove, point, QPointF(viewport.mapToGlobal(point)),
                            Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, event)
        return (row, col) in seen

    panel.hovered.connect(slot)
    try:
        qtbot.waitUntil(moved, timeout=5000)
    finally:
        panel.hovered.disconnect(slot)


# --------------------------------------------------------------------------- controls


def test_default_view_matches_torch(env):
    state, ex = env
    conv, _act, pooled = check_panels(ex, state.image)
    assert conv.shape == (26, 26) and pooled.shape == (13, 13)
    assert "26×26" in ex.stages.conv.title() and "13×13" in ex.stages.pool.title()
    assert "28×28" in ex.stages.input.title() and "3×3" in ex.stages.kernel.title()
    np.testing.assert_array_equal(ex.stages.input.array, state.image)  # upright, unchanged
    np.testing.assert_array_equal(ex.stages.kernel.array, state.kernel.kernel)
    assert ex.export_array()[0] == "kernel-output"
    np.testing.assert_allclose(ex.export_array()[1], pooled, rtol=1e-5, atol=1e-3)
    assert not ex.controls.input_box.colour_combo.isEnabled()  # a grey image has no colour mode


def test_each_control_changes_the_output(qtbot, env):
    state, ex = env
    steps = [
        lambda: choose(ex.controls.kernel_box.preset_combo, "edge-all"),
        lambda: type_into(ex.grid.cell(1, 1), "9"),
        lambda: ex.controls.conv_box.stride_spins[0].setValue(5),  # linked: columns follow; (28 - 3) / 5 + 1 = 6
        lambda: ex.controls.conv_box.padding_spins[1].setValue(1),  # linked: (28 - 3 + 2) / 1 + 1 = 28
        lambda: ex.controls.pool_box.activation_combo.setCurrentIndex(ex.controls.pool_box.activation_combo.findData("tanh")),
        lambda: ex.controls.pool_box.pool_combo.setCurrentIndex(ex.controls.pool_box.pool_combo.findData("avg")),
        lambda: ex.controls.pool_box.pool_size_spin.setValue(3),
        lambda: ex.controls.pool_box.pool_stride_spin.setValue(3),
        lambda: ex.controls.pool_box.pool_combo.setCurrentIndex(ex.controls.pool_box.pool_combo.findData("min")),
        lambda: ex.controls.pool_box.activation_combo.setCurrentIndex(ex.controls.pool_box.activation_combo.findData("leaky_relu")),
        lambda: ex.controls.pool_box.pool_combo.setCurrentIndex(ex.controls.pool_box.pool_combo.findData("none")),
    ]
    def shown():
        return [None if p.array is None else p.array.copy()
                for p in (ex.stages.conv, ex.stages.activation, ex.stages.pool)]

    def differs(a, b):
        if a is None or b is None:
            return (a is None) != (b is None)
        return a.shape != b.shape or not np.allclose(a, b)

    before = shown()
    for i, step in enumerate(steps):
        if i == 3:
            ex.controls.conv_box.stride_spins[0].setValue(1)
            wait(qtbot, ex)
        count = redraws(ex)
        step()
        qtbot.waitUntil(lambda c=count: redraws(ex) > c and ex.is_idle(), timeout=20000)
        assert ex.view.result.error is None, ex.view.result.error
        check_panels(ex, state.image)
        now = shown()
        assert any(differs(a, b) for a, b in zip(now, before)), f"step {i} changed nothing"
        before = now
    s = state.kernel
    assert s.preset_key is None and s.kernel[1, 1] == 9 and s.stride == (1, 1) and s.padding == (1, 1)
    assert s.activation == "leaky_relu" and s.pool_kind == "none" and s.pool_size == 3
    assert ex.controls.kernel_box.preset_combo.currentData() == "custom"
    assert ex.stages.pool.title().startswith("⑤ no pooling")


def test_preset_shows_description_and_fractions(qtbot, env):
    _state, ex = env
    choose(ex.controls.kernel_box.preset_combo, "box-blur")
    wait(qtbot, ex)
    assert ex.controls.kernel_box.preset_label.text() == PRESETS["box-blur"].description
    assert ex.grid.cell(0, 0).text() == "1/9"
    assert ex.stages.numbers["kernel"].visible_texts()[:1] == ["1/9"]
    np.testing.assert_allclose(ex.state.kernel.kernel, np.full((3, 3), 1 / 9))


def test_sharpen_stride_2_is_floored_and_explained(qtbot, env):
    """The acceptance scenario: a 28×28 digit, Sharpen, stride 2. (28 − 3) / 2 + 1 = 13.5 is
    not whole: the panels show what torch computes (13×13), an amber note (not a red error)
    says why and what would make it whole, and the left-out row and column are marked."""
    state, ex = env
    choose(ex.controls.kernel_box.preset_combo, "sharpen")
    wait(qtbot, ex)
    assert "Pooled height = (26 − 2 + 2×0) / 2 + 1 = 13" in ex.formula_text()  # whole: no ⌊⌋
    assert ex.banners.note.isHidden() and not any(i.isVisible() for i in ex.stages.left_out_rects)
    type_into(ex.controls.conv_box.stride_spins[0], "2")  # linked: the columns follow
    wait(qtbot, ex)
    assert ex.banners.error.isHidden() and ex.banners.note.isVisible()
    note = ex.banners.note.text()
    # the formula with its floor is right above the note, which says what it means
    assert "13.5 is not a whole number" in note and "(27) are left out" in note
    assert "PyTorch and Keras" in note and "(28 − 3" not in note
    assert "Padding cannot give one here" in note and "Stride 1 or 5" in note
    assert "Output height = (28 − 3 + 2×0) / 2 + 1 = 13.5 → ⌊13.5⌋ = 13" in ex.formula_text()
    assert "13</b>" in ex.formula_bar.text() and "#c62828" not in ex.formula_bar.text()
    assert "13×13" in ex.stages.conv.title() and "last valid" not in ex.stages.conv.title()
    assert ex.stages.conv.image_item.opacity() == 1
    conv, _act, pooled = check_panels(ex, state.image)
    assert conv.shape == (13, 13) and pooled.shape == (6, 6)
    # Row 27 and column 27 are never under the kernel: marked on the input, said on hover.
    rows, cols = ex.stages.left_out_rects
    assert rows.isVisible() and rows.rect() == QRectF(0, 27, 28, 1)
    assert cols.isVisible() and cols.rect() == QRectF(27, 0, 1, 28)
    ex.details.show_pixel("input", 27, 5)
    assert "Left out" in ex.details.label.text()
    ex.details.show_pixel("input", 26, 5)
    assert "Left out" not in ex.details.label.text()
    ex.details.show_pixel("conv", 12, 3)
    assert "input row 27 is left out" in ex.details.label.text()
    # On a 27×27 input it is (27 − 3 + 2×0) / 2 + 1 = 13: whole, no note, nothing left out.
    state.input_image = InputImage(np.asarray(state.image)[:27, :27].copy(), "crop")
    wait(qtbot, ex)
    assert ex.banners.note.isHidden() and not any(i.isVisible() for i in ex.stages.left_out_rects)
    assert "Output width = (27 − 3 + 2×0) / 2 + 1 = 13" in ex.formula_text()
    assert "⌊" not in ex.formula_text().splitlines()[0]
    check_panels(ex, state.image)


def test_impossible_sizes_show_banner_and_keep_last_result(qtbot, env):
    _state, ex = env
    ex.set_source("lecture:what-is-the-output")
    wait(qtbot, ex)
    type_into(ex.grid.rows_spin, "2")
    type_into(ex.grid.cols_spin, "2")  # a 2x2 kernel: (5 - 2) / 1 + 1 = 4
    wait(qtbot, ex)
    assert ex.stages.conv.array.shape == (4, 4) and ex.banners.error.isHidden()
    type_into(ex.controls.conv_box.stride_spins[0], "2")  # (5 - 2) / 2 + 1 = 2.5: floored to 2, not an error
    wait(qtbot, ex)
    assert ex.banners.error.isHidden() and ex.banners.note.isVisible()
    assert "2.5 is not a whole number" in ex.banners.note.text() and "⌊2.5⌋ = 2" in ex.formula_text()
    check_panels(ex, LECTURE_EXAMPLES["what-is-the-output"].image)
    kept = [p.array.copy() for p in (ex.stages.conv, ex.stages.activation)]
    type_into(ex.grid.rows_spin, "7")  # a 7-row kernel on a 5-row image: cannot work at all
    wait(qtbot, ex)
    assert ex.banners.error.isVisible() and ex.banners.note.isHidden()
    text = ex.banners.error.text()
    assert "7-pixel kernel is larger than the 5-pixel input" in text and "last valid result" in text
    for panel, old in zip((ex.stages.conv, ex.stages.activation), kept):
        np.testing.assert_array_equal(panel.array, old)
        assert panel.title().endswith("last valid result")
        assert panel.image_item.opacity() < 1
    assert "#c62828" in ex.formula_bar.text()
    type_into(ex.controls.conv_box.padding_spins[0], "1")  # (5 - 7 + 2×1) / 2 + 1 = 1: fits again
    wait(qtbot, ex)
    assert ex.banners.error.isHidden() and ex.stages.conv.array.shape[0] == 1
    assert not ex.stages.conv.title().endswith("last valid result")
    assert ex.stages.conv.image_item.opacity() == 1


def test_bad_kernel_cell_is_marked_and_not_used(qtbot, env):
    state, ex = env
    kernel_before = state.kernel.kernel.copy()
    count = redraws(ex)
    cell = ex.grid.cell(0, 1)
    type_into(cell, "abc")
    assert "d32f2f" in cell.styleSheet()
    assert "not a number" in cell.toolTip() and "Row 1, column 2" in cell.toolTip()
    # The message says what is really in force: the whole last kernel (not the other cells
    # typed meanwhile, not "this cell counts as −1"), as panel ② shows it.
    assert "No cell is used until it is fixed" in ex.grid.message() and ex.grid.problem()
    assert "kernel in force is still 0 -1 0; -1 5 -1; 0 -1 0" in ex.grid.message()
    assert "still counts" not in ex.grid.message()
    type_into(ex.grid.cell(1, 1), "9")  # a good cell beside the bad one is not used either
    np.testing.assert_array_equal(state.kernel.kernel, kernel_before)
    np.testing.assert_array_equal(ex.stages.kernel.array, kernel_before)  # ② shows what is used
    assert "kernel in force is still 0 -1 0; -1 5 -1; 0 -1 0" in ex.grid.message()
    np.testing.assert_array_equal(state.kernel.kernel, kernel_before)
    assert ex.is_idle() and redraws(ex) == count  # nothing recomputed
    type_into(cell, "1/4")
    wait(qtbot, ex)
    assert cell.styleSheet() == "" and not ex.grid.problem()
    assert state.kernel.kernel[0, 1] == 0.25 and state.kernel.kernel[1, 1] == 9
    assert redraws(ex) > count


@pytest.mark.parametrize("typed, reason", [("1/0", "divides by zero"), ("1e400", "not a finite"),
                                           ("1e308", "too large")])
def test_cells_apply_when_typing_stops_not_per_keystroke(qtbot, env, typed, reason):
    """Typing '1/0' must never put the 1 in force on the way, nor '1e400' its 1e40."""
    state, ex = env
    before = state.kernel.kernel.copy()
    seen = []
    ex.grid.kernel_changed.connect(seen.append)
    cell = ex.grid.cell(0, 0)
    type_into(cell, typed, enter=False)
    assert ex.grid.pending() and not ex.is_idle() and not seen
    np.testing.assert_array_equal(state.kernel.kernel, before)
    qtbot.waitUntil(lambda: not ex.grid.pending(), timeout=5000)  # the pause applies it
    assert not seen and reason in ex.grid.message()
    assert "the kernel in force is still 0 -1 0; -1 5 -1; 0 -1 0" in ex.grid.message()
    np.testing.assert_array_equal(state.kernel.kernel, before)
    # A finished edit applies at once: Enter.
    type_into(cell, "2")
    assert len(seen) == 1 and seen[0][0, 0] == 2 and state.kernel.kernel[0, 0] == 2


def test_kernel_weights_beyond_the_limit_are_refused(qtbot, env):
    """A cell of 1e308 segfaulted the app while painting; such a weight is refused."""
    state, ex = env
    before = state.kernel.kernel.copy()
    for typed in ("1e308", "-2e6", "1e7/2"):
        type_into(ex.grid.cell(0, 0), typed)
        assert "too large" in ex.grid.message() and "1,000,000" in ex.grid.message()
        np.testing.assert_array_equal(state.kernel.kernel, before)
    type_into(ex.grid.cell(0, 0), "1e6")  # the limit itself is fine
    wait(qtbot, ex)
    assert state.kernel.kernel[0, 0] == 1e6 and not ex.grid.problem()
    ex.grab()


@pytest.mark.parametrize("weight", [1e40, 1e308, -1e308])
def test_huge_kernel_values_draw_safely(qtbot, env, weight):
    """A kernel that reaches the state another way (an old settings file, a model) is drawn
    safely: finite levels, the pattern visible, and a note that says the values are scaled."""
    state, ex = env
    kernel = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float64)
    kernel[1, 1] = weight
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarning may print
        state.kernel = state.kernel.with_changes(kernel=kernel, preset_key=None)
        wait(qtbot, ex)
        ex.grab()  # paint every panel: the colour bar's axis overflowed here (a segfault)
    assert "too large to draw" in ex.stages.kernel.note()
    assert ex.stages.kernel.note_label.isVisibleTo(ex)
    for key in ("kernel", "conv"):
        panel = ex.stages.panels[key]
        if panel.array is None:
            continue
        shown = panel.image_item.image
        lo, hi = panel.image_item.levels
        assert np.isfinite(shown).all() and np.isfinite([lo, hi]).all() and abs(hi - lo) < 1e16
        assert len(np.unique(shown)) >= 2  # not one solid colour


def test_plots_draw_any_values(qtbot):
    """An image panel paints whatever it is given: ±1e308 (whose span overflows to ∞), ∞,
    NaN, nothing finite at all."""
    from cnnviz.ui.widgets.plots import ImagePanel

    panel = ImagePanel("t")
    qtbot.addWidget(panel)
    panel.resize(300, 300)
    panel.show()
    cases = {"span overflows": np.array([[1e308, 0], [0, -1e308]]),
             "infinite": np.array([[np.inf, 1], [2, -np.inf]]),
             "undefined": np.array([[np.nan, 1], [2, 3]]),
             "nothing finite": np.full((3, 3), np.nan),
             "huge and equal": np.full((2, 2), 1e300)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, values in cases.items():
            panel.set_array(values)
            panel.grab()
            image, (lo, hi) = panel.image_item.image, panel.image_item.levels
            assert np.isfinite(image).all() and np.isfinite([lo, hi]).all() and hi > lo, name
            assert panel.note(), name  # said, not silently drawn as something else
    panel.set_array(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert panel.note() == "" and not panel.note_label.isVisibleTo(panel)


def test_kernel_grid_alone(qtbot):
    grid = KernelGrid([[1, 2], [3, 4]])
    qtbot.addWidget(grid)
    seen = []
    grid.kernel_changed.connect(seen.append)
    assert grid.shape() == (2, 2) and grid.text() == "1 2; 3 4"
    grid.cols_spin.setValue(3)  # grown around the centre: the new column goes on the left
    np.testing.assert_array_equal(seen[-1], [[0, 1, 2], [0, 3, 4]])
    type_into(grid.cell(1, 0), "1/0")
    assert "divides by zero" in grid.cell(1, 0).toolTip() and len(seen) == 1
    type_into(grid.cell(1, 0), "−1/16")  # a typographic minus, as pasted from slides
    np.testing.assert_array_equal(seen[-1], [[0, 1, 2], [-1 / 16, 3, 4]])
    assert grid.text() == "0 1 2; -1/16 3 4"
    grid.set_kernel(PRESETS["gaussian-blur"].values)
    assert grid.cell(1, 1).text() == "1/4" and grid.cell(0, 0).text() == "1/16"
    assert len(seen) == 2  # set_kernel does not echo
    with pytest.raises(ValueError):
        grid.set_kernel(np.ones((8, 8)))


def test_growing_a_kernel_keeps_it_centred_and_says_so(qtbot, env):
    state, ex = env
    choose(ex.controls.kernel_box.preset_combo, "sharpen")
    wait(qtbot, ex)
    conv3 = ex.stages.conv.array.copy()  # 26×26
    type_into(ex.grid.rows_spin, "5")
    type_into(ex.grid.cols_spin, "5")
    wait(qtbot, ex)
    k = state.kernel.kernel
    assert k.shape == (5, 5) and k[2, 2] == 5 and k[1, 2] == -1 and k[0].sum() == 0
    # Centred: the same sums, one pixel less on every side, nothing shifted.
    np.testing.assert_allclose(ex.stages.conv.array, conv3[1:-1, 1:-1], rtol=1e-6, atol=1e-4)
    assert ex.controls.kernel_box.preset_combo.currentText() == "Custom: Sharpen, 5×5"
    assert ex.controls.kernel_box.preset_label.text().startswith("Sharpen in a 5×5 grid of zeros")
    type_into(ex.grid.rows_spin, "3")
    type_into(ex.grid.cols_spin, "3")
    wait(qtbot, ex)
    np.testing.assert_array_equal(state.kernel.kernel, PRESETS["sharpen"].values)
    assert ex.controls.kernel_box.preset_combo.currentData() == "sharpen" and state.kernel.preset_key == "sharpen"
    type_into(ex.grid.cell(1, 1), "6")
    wait(qtbot, ex)
    assert ex.controls.kernel_box.preset_combo.currentText() == "Custom (changed Sharpen)"
    assert "changed from Sharpen" in ex.controls.kernel_box.preset_label.text()


# --------------------------------------------------------------------------- layout


def _right_edge_in(widget, scroll) -> int:
    """How far a widget's right edge lies inside the scroll area's viewport (negative: cut)."""
    viewport = scroll.viewport()
    right = widget.mapTo(viewport, widget.rect().topRight()).x()
    return viewport.width() - right


@pytest.mark.parametrize("size", [(1030, 620), (1400, 860)])  # the tab at 1366×768 and 1600×1000
def test_controls_fit_with_a_7x7_kernel(qtbot, env, size):
    _state, ex = env
    ex.resize(*size)
    type_into(ex.grid.rows_spin, "7")
    type_into(ex.grid.cols_spin, "7")
    wait(qtbot, ex)
    qtbot.waitUntil(lambda: ex.grid.cell(6, 6).isVisible())
    scroll = ex.controls
    assert not scroll.horizontalScrollBar().isVisible()  # it fits: nothing to scroll sideways
    for widget in (ex.grid.cell(0, 6), ex.grid.cell(6, 6), ex.controls.conv_box.stride_spins[1], ex.controls.conv_box.padding_spins[1],
                   ex.controls.input_box.source_combo, ex.controls.kernel_box.preset_combo, ex.controls.pool_box.activation_combo, ex.controls.pool_box.pool_combo,
                   ex.controls.pool_box.pool_stride_spin):
        assert _right_edge_in(widget, scroll) >= 0, widget


def test_panel_grid_picks_the_layout_with_larger_images():
    from cnnviz.ui.kernel.panel_grid import best_columns, image_side

    # The area beside the controls at 1366×768: two columns draw larger images than three.
    assert image_side(540, 440, 2) > image_side(540, 440, 3)
    assert best_columns(540, 440) == 2
    assert best_columns(1200, 500) == 3  # a wide, low area
    # Close calls keep the current layout: a note appearing above does not reshuffle them.
    w, h = 700, 549
    assert abs(image_side(w, h, 2) / image_side(w, h, 3) - 1) < 0.1
    assert best_columns(w, h, 2) == 2 and best_columns(w, h, 3) == 3


def test_narrow_panels_give_the_colour_bar_room_to_the_image(qtbot):
    from cnnviz.ui.widgets.plots import ImagePanel

    panel = ImagePanel("conv")
    qtbot.addWidget(panel)
    panel.compact_below = 220  # as the explorer's panels
    panel.set_array(np.arange(12.0).reshape(3, 4))
    panel.resize(300, 300)
    panel.show()
    qtbot.waitUntil(lambda: panel.width() == 300)
    assert panel.colorbar_shown()
    panel.resize(200, 300)
    qtbot.waitUntil(lambda: panel.width() == 200)
    assert not panel.colorbar_shown()
    # The image's view takes the colour bar's place (about 60 pixels more).
    qtbot.waitUntil(lambda: panel.plot.vb.width() > 200 - 34 - 30)
    panel.resize(300, 300)
    qtbot.waitUntil(lambda: panel.colorbar_shown())
    panel.set_array(np.zeros((4, 4, 3)))  # colour: never a scale, whatever the width
    assert not panel.colorbar_shown()


def test_a_map_of_equal_values_is_drawn_against_zero():
    from cnnviz.ui.kernel.stage_panels import colour_for

    # The 1×3 output 1 1 1 of the 7×7 slide with a 7×3 kernel: white cells, not black ones.
    cmap, (lo, hi) = colour_for((1.0, 1.0))
    assert cmap is UNSIGNED_CMAP and (lo, hi) == (0.0, 1.0)
    assert colour_for((0.0, 0.0))[1] == (0.0, 1.0)  # all zeros stay black
    assert colour_for((3.0, 7.0))[1] == (3.0, 7.0)  # otherwise the full contrast


def _edit_width(combo) -> int:
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    return combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                        QStyle.SubControl.SC_ComboBoxEditField, combo).width()


def test_dropdown_texts_fit_their_boxes(qtbot, env):
    _state, ex = env
    for combo in (ex.controls.input_box.source_combo, ex.controls.input_box.colour_combo, ex.controls.input_box.channel_combo, ex.controls.kernel_box.preset_combo,
                  ex.controls.pool_box.activation_combo, ex.controls.pool_box.pool_combo):
        fm = combo.fontMetrics()
        room = _edit_width(combo)
        for i in range(combo.count()):
            text = combo.itemText(i)
            assert fm.horizontalAdvance(text) <= room, (text, room)
    # The full names are still there, in the items' tooltips.
    i = ex.controls.input_box.source_combo.findData("lecture:seven-by-seven-stride-2")
    assert "7×7 image, 3×3 filter, stride 2" in ex.controls.input_box.source_combo.itemData(i, Qt.ItemDataRole.ToolTipRole)


def test_controls_stay_put_when_texts_change(qtbot, env):
    """The Size and Stride boxes do not jump when the kernel's description or a cell's
    error message changes length."""
    _state, ex = env
    wait(qtbot, ex)
    qtbot.wait(1)  # let the layout settle once

    def places():
        QApplication.processEvents()
        root = ex.controls.widget()
        return [w.mapTo(root, w.rect().topLeft()).y() for w in
                (ex.grid.rows_spin, ex.controls.conv_box.stride_spins[0], ex.controls.conv_box.padding_spins[0], ex.controls.pool_box.activation_combo)]

    start = places()
    for key in ("lecture-example", "edge-all", "identity", "sharpen"):
        choose(ex.controls.kernel_box.preset_combo, key)
        assert places() == start, key
    type_into(ex.grid.cell(1, 1), "7")  # now custom, "changed from Sharpen"
    assert places() == start
    type_into(ex.grid.cell(0, 0), "1/0")  # a bad cell and its message
    assert ex.grid.problem() and places() == start
    type_into(ex.controls.conv_box.padding_spins[0], "999")  # a limit and its message
    assert places() == start


def test_limits_are_said_not_silent(qtbot, env):
    _state, ex = env
    type_into(ex.grid.rows_spin, "9")
    assert ex.grid.rows_spin.value() == 7
    assert "from 1 to 7 here: 9 became 7" in ex.grid.message()
    type_into(ex.controls.conv_box.padding_spins[0], "999")
    wait(qtbot, ex)
    assert ex.controls.conv_box.padding_spins[0].value() == MAX_PADDING == ex.state.kernel.padding[0]
    assert f"999 became {MAX_PADDING}" in ex.controls.conv_box.limits_label.text()
    assert f"0 to {MAX_PADDING}" in ex.controls.conv_box.padding_spins[0].toolTip()
    assert f"1 to {MAX_STRIDE}" in ex.controls.conv_box.stride_spins[0].toolTip()
    assert "1 to 7" in ex.grid.rows_spin.toolTip() and "lecture" in ex.grid.rows_spin.toolTip()


def test_activation_combo_offers_every_core_activation(qtbot, env):
    state, ex = env
    offered = [ex.controls.pool_box.activation_combo.itemData(i) for i in range(ex.controls.pool_box.activation_combo.count())]
    assert offered == list(ACTIVATION_NAMES)  # softmax included, from the core's list
    for i in range(ex.controls.pool_box.activation_combo.count()):
        assert ex.controls.pool_box.activation_combo.itemData(i, Qt.ItemDataRole.ToolTipRole)
    i = ex.controls.pool_box.activation_combo.findData("softmax")
    assert "sums to 1" in ex.controls.pool_box.activation_combo.itemText(i)
    ex.controls.pool_box.activation_combo.setCurrentIndex(i)
    wait(qtbot, ex)
    conv = torch.tensor(ex.view.result.conv)
    expected = torch.softmax(conv.flatten(), 0).reshape(conv.shape).numpy()
    np.testing.assert_allclose(ex.stages.activation.array, expected, rtol=1e-6, atol=1e-12)
    assert ex.stages.activation.array.sum() == pytest.approx(1.0)


def test_pool_tooltip_per_kind(qtbot, env):
    _state, ex = env
    tips = {}
    for kind in ("max", "min", "avg"):
        ex.controls.pool_box.pool_combo.setCurrentIndex(ex.controls.pool_box.pool_combo.findData(kind))
        wait(qtbot, ex)
        tips[kind] = ex.stages.pool.toolTip()
    assert "largest" in tips["max"] and "smallest" in tips["min"]
    assert "mean" in tips["avg"] and "was kept" not in tips["avg"]


def test_empty_panels_say_why_instead_of_empty_axes(qtbot, tmp_path):
    """After a restart with settings that cannot work (a 7×7 kernel on the 5×5 slide
    image), the output panels say so in words; 'no pooling' is words too."""
    settings = QSettings(str(tmp_path / "k.ini"), QSettings.Format.IniFormat)
    settings.setValue("KernelExplorer/source", "lecture:what-is-the-output")
    settings.setValue("KernelExplorer/kernel", "; ".join(["1 1 1 1 1 1 1"] * 7))
    settings.setValue("KernelExplorer/pool_kind", "max")
    state = AppState()
    ex = KernelExplorer(state)
    qtbot.addWidget(ex)
    ex.resize(1030, 620)
    ex.show()
    ex.restore_settings(settings)
    wait(qtbot, ex)
    assert ex.banners.error.isVisible() and "larger than" in ex.banners.error.text()
    assert "last valid result" not in ex.banners.error.text()  # there is none to show
    for panel in (ex.stages.conv, ex.stages.activation, ex.stages.pool):
        assert "Nothing to show yet" in panel.message() and panel.array is None
        assert panel.stack.currentWidget() is panel.message_label  # no axes at all
    assert ex.stages.input.message() == "" and ex.stages.input.array is not None
    # Titles wrap inside their panel: nothing cut ("onvolution…" on a 1366×768 screen).
    from PySide6.QtCore import QRect

    QApplication.processEvents()
    for panel in ex.stages.panels.values():
        label = panel.title_label
        needed = label.fontMetrics().boundingRect(
            QRect(0, 0, label.width(), 10_000), int(Qt.TextFlag.TextWordWrap), panel.title())
        assert label.width() <= panel.width() and needed.width() <= label.width()
        assert needed.height() <= label.height(), panel.title()
    ex.controls.pool_box.pool_combo.setCurrentIndex(ex.controls.pool_box.pool_combo.findData("none"))
    wait(qtbot, ex)
    assert "No pooling" in ex.stages.pool.message()  # even while the convolution cannot work
    type_into(ex.grid.rows_spin, "3")
    type_into(ex.grid.cols_spin, "3")
    wait(qtbot, ex)
    assert ex.stages.conv.message() == "" and ex.stages.conv.array.shape == (3, 3)
    assert "No pooling" in ex.stages.pool.message() and ex.stages.pool.title() == "⑤ no pooling"
    ex.shutdown()


def test_images_are_framed_upright_and_axes_fit_them(qtbot, env):
    state, ex = env
    # An asymmetric image: a bright top-left corner and a dark rest, taller than wide.
    img = np.zeros((20, 12), np.float32)
    img[:3, :2] = 255
    state.input_image = InputImage(img, "asymmetric")
    wait(qtbot, ex)
    for panel, (h, w) in ((ex.stages.input, (20, 12)), (ex.stages.conv, (18, 10))):
        item = panel.image_item
        top_left = item.mapToScene(QPointF(0.5, 0.5))
        bottom_right = item.mapToScene(QPointF(w - 0.5, h - 0.5))
        assert top_left.x() < bottom_right.x() and top_left.y() < bottom_right.y()  # up is up
        assert panel.frame.isVisible() and panel.frame.rect() == QRectF(0, 0, w, h)
        (x0, _x1), (y0, _y1) = panel.plot.vb.viewRange()
        assert y0 < -1 or x0 < -1  # the locked aspect adds a margin on one side ...
        ticks = []
        for name, side in (("bottom", w), ("left", h)):
            axis = panel.axes[name]  # asked the way the axis asks when it paints
            ticks += [(v, side) for _spacing, values in axis.tickValues(*axis.range, 200)
                      for v in values]
        assert ticks and all(0 <= v <= side for v, side in ticks)  # ... but no ticks there
        labels = panel.axes["bottom"].tickStrings([v for v, _ in ticks], 1, 1)
        assert "-0" not in labels and "0" in labels
    assert ex.stages.input.array[0, 0] == 255 and ex.stages.input.array[-1, -1] == 0
    # The kernel shown upright too: sharpen's asymmetric cousin, Sobel X (negative on the left).
    choose(ex.controls.kernel_box.preset_combo, "sobel-x")
    wait(qtbot, ex)
    np.testing.assert_array_equal(ex.stages.kernel.array, PRESETS["sobel-x"].values)


def _labelled(panel, name):
    """{label: tick position} of one axis, asked the way the axis asks when it paints."""
    axis = panel.axes[name]
    length = axis.geometry().width() if name == "bottom" else axis.geometry().height()
    values = [v for _spacing, vs in axis.tickValues(*axis.range, length) for v in vs]
    return dict(zip(axis.tickStrings(values, 1, 1), values, strict=True))


def test_ticks_sit_at_pixel_centres_as_the_hover_counts(qtbot, env):
    """A 5×5 output is labelled 0…4 (not 0…5 on the edges), a padded 7×7 input −1…5, each
    label at its pixel's centre, where pointing reads that row or column."""
    _state, ex = env
    ex.set_source("lecture:padding-1")
    wait(qtbot, ex)
    ex.grab()
    for panel, pixels in ((ex.stages.conv, range(5)), (ex.stages.input, range(-1, 6))):
        for name in ("bottom", "left"):
            ticks = _labelled(panel, name)
            assert list(ticks) == [str(p) for p in pixels], (panel.title(), name)
            assert all(ticks[str(p)] == p + 0.5 for p in pixels)
    hover(qtbot, ex.stages.conv, 4, 2)  # the pixel labelled row 4, column 2
    assert "(4, 2)" in ex.details.label.text() or "row 4" in ex.details.label.text().lower()


# --------------------------------------------------------------------------- hover


def test_hover_shows_recap_products_and_window(qtbot, env):
    _state, ex = env
    ex.set_source("lecture:what-is-the-output")
    wait(qtbot, ex)
    np.testing.assert_array_equal(ex.stages.conv.array, [[2, 1, -1], [-1, 1, 3], [2, 1, 1]])
    assert "Matches the slide" in ex.status_line.info_label.text()
    assert ex.stages.numbers["conv"].visible_texts()[:3] == ["2", "1", "−1"]
    hover(qtbot, ex.stages.conv, 0, 0)
    assert "Convolution output (0, 0)" in ex.details.label.text()
    text = ex.details.label.text()
    assert "(1×0) + (0×1) + (1×0) + (1×1) + (0×0) + (0×−1) + (0×0) + (1×1) + (1×0) = 2" in text
    assert ex.stages.window_rect.isVisible() and ex.stages.window_rect.rect() == QRectF(0, 0, 3, 3)
    hover(qtbot, ex.stages.conv, 1, 2)
    assert "Convolution output (1, 2)" in ex.details.label.text()
    assert ex.stages.window_rect.rect() == QRectF(2, 1, 3, 3) and "= 3" in ex.details.label.text()


def test_hover_window_reaches_into_padding(qtbot, env):
    _state, ex = env
    ex.set_source("lecture:padding-1")
    wait(qtbot, ex)
    # The input is drawn with its ring of zeros: 7x7, the image at (1, 1).
    assert ex.stages.input.array.shape == (7, 7) and "zero padding" in ex.stages.input.title()
    # Drawn on the image's own coordinates: the padding ring lies at −1 and 5.
    assert ex.stages.input.data_rect() == QRectF(-1, -1, 7, 7)
    assert ex.stages.image_rect.rect() == QRectF(0, 0, 5, 5)
    ex.details.show_pixel("conv", 0, 0)
    assert ex.stages.window_rect.rect() == QRectF(-1, -1, 3, 3)  # input rows/cols -1..1
    assert "padding" in ex.details.label.text() and "= 1" in ex.details.label.text()


def test_hover_pool_and_activation(qtbot, env):
    _state, ex = env
    ex.set_source("lecture:max-pool")
    wait(qtbot, ex)
    np.testing.assert_array_equal(ex.stages.pool.array, [[123, 253], [187, 165]])
    ex.details.show_pixel("pool", 0, 1)
    text = ex.details.label.text()
    assert "max(1, 34, 222, 253) = 253 (from row 1, column 3)" in text
    assert ex.stages.pool_rect.isVisible() and ex.stages.pool_rect.rect() == QRectF(2, 0, 2, 2)
    assert ex.stages.pixel_rects["activation"].rect() == QRectF(3, 1, 1, 1)
    assert ex.stages.window_rect.rect() == QRectF(2, 0, 2, 2)  # receptive field on the input
    ex.controls.pool_box.activation_combo.setCurrentIndex(ex.controls.pool_box.activation_combo.findData("relu"))
    wait(qtbot, ex)
    ex.details.show_pixel("activation", 0, 1)
    assert "ReLU(123) = max(0, 123) = 123" in ex.details.label.text()
    ex.details.show_pixel("pool", -1, -1)
    assert not ex.stages.window_rect.isVisible() and "Point at a pixel" in ex.details.label.text()


# --------------------------------------------------------------------------- colour


def test_colour_summed_and_per_channel(qtbot, env):
    state, ex = env
    rgb = np.random.default_rng(0).uniform(0, 255, (20, 24, 3)).astype(np.float32)
    state.input_image = InputImage(rgb, "colour")
    wait(qtbot, ex)
    assert ex.controls.input_box.colour_combo.isEnabled() and not ex.controls.input_box.channel_combo.isEnabled()
    assert ex.view.result.colour_mode == "summed" and ex.stages.conv.array.ndim == 2
    check_panels(ex, rgb)
    ex.controls.input_box.colour_combo.setCurrentIndex(1)  # each channel alone
    wait(qtbot, ex)
    r = ex.view.result
    assert state.kernel.per_channel and r.colour_mode == "per_channel"
    assert r.conv.shape == (3, 18, 22) and r.pooled.shape == (3, 9, 11)
    assert ex.stages.conv.array.shape == (18, 22, 3)  # drawn as colour
    assert "3×18×22" in ex.stages.conv.title()
    conv, act, pooled = reference(rgb, state.kernel)
    np.testing.assert_allclose(r.conv, conv, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(r.pooled, pooled, rtol=1e-5, atol=1e-3)
    ex.controls.input_box.channel_combo.setCurrentIndex(ex.controls.input_box.channel_combo.findData("1"))  # green only
    wait(qtbot, ex)
    np.testing.assert_allclose(ex.stages.conv.array, conv[1], rtol=1e-5, atol=1e-3)
    assert "3×18×22 · G" in ex.stages.conv.title()
    ex.details.show_pixel("conv", 2, 3)
    assert "G: " in ex.details.label.text()


def test_per_channel_colour_shows_signed_values_with_a_colour_bar(qtbot, env):
    """Each channel alone, all three shown: a negative value is darker than 0 (it was
    clipped to black, like 0), and a colour bar gives the scale shared by R, G and B."""
    state, ex = env
    rgb = np.zeros((12, 12, 3), np.float32)
    rgb[:, 4:8, 0] = 200  # a red bar: a rising and a falling edge in R
    state.input_image = InputImage(rgb, "colour")
    choose(ex.controls.kernel_box.preset_combo, "sobel-x")
    ex.controls.input_box.colour_combo.setCurrentIndex(1)  # each channel alone
    ex.controls.pool_box.pool_combo.setCurrentIndex(ex.controls.pool_box.pool_combo.findData("none"))
    wait(qtbot, ex)
    conv = torch.nn.functional.conv2d(torch.from_numpy(np.moveaxis(rgb, -1, 0)[:, None]),
                                      torch.tensor(PRESETS["sobel-x"].values[None, None]
                                                       ).float())[:, 0].numpy()
    assert conv.min() < 0 < conv.max()  # signed: Sobel X on the red edge
    panel = ex.stages.conv
    ex.grab()
    assert panel.colorbar_shown() and "one scale" in panel.title()
    lo, hi = panel.image_item.levels
    assert lo == -hi and hi == pytest.approx(np.abs(conv).max())
    panel.image_item.render()
    qimage = panel.image_item.qimage

    def red_at(value):  # the drawn red of the first pixel whose R value is `value`
        r, c = np.argwhere(np.isclose(conv[0], value))[0]
        return qimage.pixelColor(int(c), int(r)).red()

    negative, zero, positive = red_at(conv[0].min()), red_at(0.0), red_at(conv[0].max())
    assert negative < zero < positive and 100 < zero < 160  # 0 is mid-grey, not black


@pytest.mark.parametrize("size", [(600, 800), (1500, 2000)])  # drawn as it is; shrunk to 1/3
def test_a_colour_photo_is_drawn_in_the_input_panel(qtbot, env, tmp_path, size):
    """Panel ① was blank white for colour pictures (an 800×600 PNG, a 49 MP JPEG): the
    pixels painted on screen are the picture's colours, read back from the panel."""
    from PIL import Image

    from cnnviz.core.pictures.images import load_image

    state, ex = env
    h, w = size
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[: h // 2] = (220, 30, 30)  # red above
    rgb[h // 2:] = (30, 60, 220)  # blue below
    path = tmp_path / "photo.png"
    Image.fromarray(rgb).save(path)
    state.input_image = InputImage(load_image(path), "photo.png")  # as File › Open reads it
    wait(qtbot, ex)
    panel = ex.stages.input
    shot = panel.view.grab().toImage()
    ratio = shot.devicePixelRatio()

    def painted(x, y):  # the colour on screen at image pixel (x, y)
        at = panel.view.mapFromScene(panel.image_item.mapToScene(QPointF(x, y)))
        return shot.pixelColor(int(at.x() * ratio), int(at.y() * ratio)).getRgb()[:3]

    f = ex.view.input.preview.factor  # the drawn copy's pixels
    ph, pw = h // f, w // f
    for (x, y), want in (((pw / 2, ph / 4), (220, 30, 30)), ((pw / 2, 3 * ph / 4), (30, 60, 220))):
        got = painted(x, y)
        assert all(abs(a - b) <= 12 for a, b in zip(got, want, strict=True)), (got, want)


def test_network_input_source(qtbot, env):
    from cnnviz.core.networks.weights import load_shipped
    from cnnviz.core.reading.inference import analyze

    state, ex = env
    model = ex.controls.input_box.source_combo.model()
    assert not model.item(ex.controls.input_box.source_combo.findData(SOURCE_NETWORK)).isEnabled()
    loaded = load_shipped("cnnviz")
    state.model = loaded
    analysis = analyze(loaded.model, state.image)
    state.publish_analysis(analysis)
    assert model.item(ex.controls.input_box.source_combo.findData(SOURCE_NETWORK)).isEnabled()
    choose(ex.controls.input_box.source_combo, SOURCE_NETWORK)
    wait(qtbot, ex)
    # the values the first convolution receives, caught by a torch hook on it
    received = first_layer_input(loaded.model, analysis.layers[0][1])
    np.testing.assert_allclose(ex.view.result.input, received, rtol=1e-5, atol=1e-5)
    check_panels(ex, received)
    assert "(x − 0.1307) / 0.3081" in ex.stages.panels["input"].title()


# --------------------------------------------------------------------------- big photos


def test_big_photo_does_not_block_the_gui(qtbot, env):
    state, ex = env
    photo = np.random.default_rng(1).uniform(0, 255, (3000, 4000, 3)).astype(np.float32)
    ticks = {"all": 0, "busy": 0, "bar": False}

    def tick():
        ticks["all"] += 1
        if not ex.is_idle():
            ticks["busy"] += 1
            ticks["bar"] |= ex.status_line.busy_bar.isVisible()

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    state.input_image = InputImage(photo, "photo")  # returns at once: the work is on the worker
    qtbot.waitUntil(ex.is_idle, timeout=180000)
    timer.stop()
    r = ex.view.result
    print(f"\n12 MP colour photo: pipeline {1000 * r.seconds:.0f} ms, with previews "
          f"{1000 * ex.view.seconds:.0f} ms, drawing {1000 * ex.last_draw_seconds:.0f} ms; "
          f"GUI timer ticks while working: {ticks['busy']}")
    assert ticks["busy"] >= 3  # the event loop kept running while the worker computed
    assert ticks["bar"] and ex.status_line.busy_bar.isHidden()  # the busy bar came and went
    assert r.conv.shape == (2998, 3998)
    assert "2998×3998" in ex.stages.conv.title() and "(shown at 1/" in ex.stages.conv.title()
    assert max(ex.stages.conv.array.shape) <= 800
    # The axes count real pixels: the 1/5 preview lies on the photo's full 4000×3000.
    assert ex.stages.input.data_rect() == QRectF(0, 0, 4000, 3000)
    left = ex.stages.input.axes["left"]  # wide enough that "3000" is drawn, not dropped
    font = QFontMetrics(left.style.get("tickFont") or left.font())
    # (pyqtgraph widens an axis when it next lays out its tick labels)
    qtbot.waitUntil(lambda: left.width() >= font.horizontalAdvance("3000") + 10)
    rect = ex.stages.conv.data_rect()
    f = ex.view.conv.preview.factor
    assert abs(rect.width() - 3998) < f and abs(rect.height() - 2998) < f
    # Hover reports exact values of the full array.
    ex.details.show_pixel("conv", 100, 200)
    f = ex.view.conv.preview.factor
    row, col = 100 * f + f // 2, 200 * f + f // 2
    window = photo[row:row + 3, col:col + 3].sum(axis=-1)
    exact = float((window * state.kernel.kernel).sum())
    assert abs(float(r.conv[row, col]) - exact) < 1e-2
    assert f"Convolution output ({row}, {col})" in ex.details.label.text()


def test_latest_request_wins_while_typing(qtbot, env):
    state, ex = env
    for v in ("1", "2", "3", "4", "5"):
        ex.grid.cell(1, 1).setText(v)
    wait(qtbot, ex)
    assert ex.view.result.kernel[1, 1] == 5 and state.kernel.kernel[1, 1] == 5
    check_panels(ex, state.image)


# --------------------------------------------------------------------------- contract


def test_settings_round_trip(qtbot, env, tmp_path):
    state, ex = env
    choose(ex.controls.kernel_box.preset_combo, "gaussian-blur")
    ex.controls.conv_box.padding_spins[0].setValue(1)
    ex.controls.pool_box.pool_combo.setCurrentIndex(ex.controls.pool_box.pool_combo.findData("avg"))
    ex.controls.pool_box.activation_combo.setCurrentIndex(ex.controls.pool_box.activation_combo.findData("sigmoid"))
    choose(ex.controls.input_box.source_combo, "lecture:stride-2")  # sets the slide's kernel, stride and pooling
    ex.controls.conv_box.stride_spins[0].setValue(1)
    wait(qtbot, ex)
    settings = QSettings(str(tmp_path / "k.ini"), QSettings.Format.IniFormat)
    ex.save_settings(settings)
    settings.sync()
    assert settings.value("KernelExplorer/kernel") == "0 1 0; 1 0 -1; 0 1 0"
    saved = state.kernel

    state2 = AppState()
    state2.input_image = InputImage(np.asarray(state.image), "sample")
    ex2 = KernelExplorer(state2)
    qtbot.addWidget(ex2)
    ex2.restore_settings(QSettings(str(tmp_path / "k.ini"), QSettings.Format.IniFormat))
    wait(qtbot, ex2)
    s = state2.kernel
    np.testing.assert_array_equal(s.kernel, saved.kernel)
    assert (s.stride, s.padding, s.activation, s.pool_kind, s.pool_size, s.pool_stride) == (
        saved.stride, saved.padding, saved.activation, saved.pool_kind, saved.pool_size,
        saved.pool_stride)
    assert ex2.source() == "lecture:stride-2" and ex2.controls.conv_box.stride_spins[0].value() == 1
    ex2.shutdown()

    # Broken values are ignored, never a crash.
    bad = QSettings(str(tmp_path / "bad.ini"), QSettings.Format.IniFormat)
    for key, value in (("kernel", "1 2; x"), ("stride", "0,99"), ("activation", "nope"),
                       ("pool_size", "big"), ("source", "lecture:nope")):
        bad.setValue(f"KernelExplorer/{key}", value)
    ex.restore_settings(bad)
    wait(qtbot, ex)
    assert ex.source() == SOURCE_IMAGE and state.kernel.activation in ("sigmoid", "none")


def test_status_message_and_shutdown(qtbot, env):
    state, ex = env
    with qtbot.waitSignal(ex.status_message, timeout=20000) as blocker:
        ex.controls.conv_box.stride_spins[0].setValue(5)
    assert "ms" in blocker.args[0] and "28×28" in blocker.args[0]
    wait(qtbot, ex)
    ex.shutdown()
    assert not ex.runner.is_alive()
    count = redraws(ex)
    state.input_image = InputImage(np.zeros((10, 10), np.float32), "after")  # no longer listening
    state.kernel = KernelSettings()
    assert redraws(ex) == count
    ex.shutdown()  # twice is fine


def test_no_image_yet(qtbot):
    state = AppState()
    ex = KernelExplorer(state)
    qtbot.addWidget(ex)
    assert "No image yet" in ex.formula_bar.text() and ex.is_idle()
    assert ex.export_array() is None
    ex.set_source("lecture:grey-vertical-edge")
    wait(qtbot, ex)
    np.testing.assert_array_equal(ex.stages.conv.array, [[3, 3, 0]] * 3)
    ex.shutdown()


def test_panel_tooltip_never_covers_the_pixel_pointed_at(qtbot):
    """The panel's explanation shows around the image, not over it: there it would hide the
    very value a teacher is pointing at."""
    from PySide6.QtCore import QEvent, QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication

    from cnnviz.ui.widgets.plots import ImagePanel

    panel = ImagePanel("conv")
    qtbot.addWidget(panel)
    panel.setToolTip("The convolution output (feature map).")
    panel.set_array(np.arange(16.0).reshape(4, 4))
    panel.resize(300, 300)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: panel.image_item.sceneBoundingRect().width() > 0)
    centre = panel.view.mapFromScene(panel.image_item.sceneBoundingRect().center())
    over = panel.mapFrom(panel.view, centre)
    corner = QPoint(2, panel.height() - 2)  # the panel's margin, off the image
    assert panel.is_over_image(over) and not panel.is_over_image(corner)

    def tooltip_event_handled(pos) -> bool:
        event = QHelpEvent(QEvent.Type.ToolTip, pos, panel.mapToGlobal(pos))
        QApplication.sendEvent(panel, event)
        return event.isAccepted()

    assert not tooltip_event_handled(over)
    assert tooltip_event_handled(corner)


def test_a_lecture_example_gives_the_users_settings_back(qtbot, env):
    """A lecture example brings the slide's kernel, stride and pooling; going back to the
    user's own image brings back what they had, and the slide's kernel is called that (not
    "changed from" whatever preset was picked before)."""
    state, ex = env
    mine = state.kernel.with_changes(kernel=PRESETS["box-blur"].values.copy(), preset_key="box-blur",
                                     stride=(2, 2), activation="tanh", pool_kind="avg")
    state.kernel = mine
    wait(qtbot, ex)
    ex.set_source("lecture:max-pool")
    wait(qtbot, ex)
    assert state.kernel.pool_kind == "max" and state.kernel.kernel.shape == (1, 1)
    assert ex.controls.kernel_box.preset_combo.currentText() == "Custom (the slide's kernel)"
    assert "Max pooling" not in ex.controls.kernel_box.preset_label.text() and "slide" in ex.controls.kernel_box.preset_label.text()
    ex.set_source("lecture:grey-vertical-edge")  # from one example to another
    wait(qtbot, ex)
    choose(ex.controls.input_box.source_combo, "image")
    wait(qtbot, ex)
    back = state.kernel
    assert (back.preset_key, back.stride, back.activation, back.pool_kind) == ("box-blur", (2, 2), "tanh", "avg")
    np.testing.assert_array_equal(back.kernel, PRESETS["box-blur"].values)
    assert ex.controls.kernel_box.preset_combo.currentData() == "box-blur"


def test_opening_an_image_during_a_lecture_example_switches_to_it_and_says_so(qtbot, env):
    state, ex = env
    mine = state.kernel.with_changes(kernel=PRESETS["box-blur"].values.copy(), preset_key="box-blur")
    state.kernel = mine
    ex.set_source("lecture:stride-2")
    wait(qtbot, ex)
    photo = np.random.default_rng(3).uniform(0, 255, (30, 40)).astype(np.float32)
    with qtbot.waitSignal(ex.status_message, timeout=5000,
                          check_params_cb=lambda text: "replaced the lecture example" in text):
        state.input_image = InputImage(photo, "photo.png")  # what File › Open does once the file is read
    wait(qtbot, ex)
    assert ex.source() == SOURCE_IMAGE
    assert ex.controls.input_box.source_combo.currentData() == SOURCE_IMAGE
    np.testing.assert_array_equal(ex.view.result.input, photo)
    np.testing.assert_array_equal(state.kernel.kernel, PRESETS["box-blur"].values)  # mine again
    line = ex.status_line.info_label.text()
    assert "The new image replaced the lecture example" in line and "Stride 2" in line


def test_a_wrong_slide_answer_is_matched_as_the_corrected_one(qtbot, env):
    _state, ex = env
    ex.set_source("lecture:max-pool")
    wait(qtbot, ex)
    np.testing.assert_array_equal(ex.view.result.final, [[123, 253], [187, 165]])  # by hand
    line = ex.status_line.info_label.text()
    assert "✓ Matches the corrected answer" in line and "slide's answer" not in line
    assert "167" in ex.details.label.text()  # the note on the slide's 167 is kept
    ex.set_source("lecture:stride-2")  # a slide that is right keeps its words
    wait(qtbot, ex)
    assert "✓ Matches the slide's answer" in ex.status_line.info_label.text()


def test_numbers_on_cells_never_run_into_each_other(qtbot):
    """Four-digit values on small cells: the font shrinks until the widest number leaves a
    gap to its neighbours (or no numbers are drawn at all)."""
    from PySide6.QtGui import QFont, QFontMetrics

    from cnnviz.ui.kernel.cell_numbers import CellNumbers
    from cnnviz.ui.widgets.plots import UNSIGNED_CMAP, ImagePanel

    panel = ImagePanel("pool")
    qtbot.addWidget(panel)
    values = np.array([[1210.0, 1265.0, 1035.0], [987.0, 1265.0, 12.0], [1.0, 2.0, 3.0]])
    panel.set_array(values)
    panel.resize(300, 300)
    panel.show()
    qtbot.waitExposed(panel)
    numbers = CellNumbers(panel)
    texts = [[f"{v:g}" for v in row] for row in values]
    numbers.show(texts, values, UNSIGNED_CMAP, (0.0, 1265.0))
    vb = panel.plot.vb
    cell = min(vb.width(), vb.height()) / 3

    def advance(px):
        font = QFont()
        font.setPixelSize(px)
        return QFontMetrics(font).horizontalAdvance("1265")

    assert advance(int(min(cell * 0.42, 20))) > 0.8 * cell  # the cell-size font would collide
    px = numbers._font_px()
    if px >= 8:
        assert advance(px) <= 0.8 * cell + 1 and "1265" in numbers.visible_texts()
    else:
        assert numbers.visible_texts() == []


def test_layout_keeps_colour_bars_unless_three_columns_are_much_larger():
    from cnnviz.ui.kernel.panel_grid import COMPACT_PANEL, best_columns

    # 1366x768 with a note above the panels: three columns would hide every colour bar for
    # images only ~10% larger, so two columns stay.
    assert 540 / 3 < COMPACT_PANEL <= 540 / 2
    assert best_columns(540, 370, 2) == 2 and best_columns(540, 370, 3) == 2


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 0), (3, 1), (4, 2), (5, 3)])
def test_every_formula_line_shown_agrees_with_ops_and_torch(qtbot, env, stride, padding):
    """The lines the formula bar shows (and formula_text returns) end on ops' sizes and
    torch's conv2d / max_pool2d output shapes, with ⌊…⌋ exactly where the division is not
    whole, for the digit with a 3×3 kernel and a 2×2 pool."""
    from cnnviz.core.convolution import ops

    state, ex = env
    for spin, value in ((ex.controls.conv_box.stride_spins[0], stride),
                        (ex.controls.conv_box.padding_spins[0], padding)):
        spin.setValue(value)  # linked: the columns follow
    wait(qtbot, ex)
    h, w = state.image.shape
    conv = torch.nn.functional.conv2d(torch.zeros(1, 1, h, w), torch.zeros(1, 1, 3, 3),
                                      stride=stride, padding=padding).shape[-2:]
    pooled = torch.nn.functional.max_pool2d(torch.zeros(1, 1, *conv), 2, 2).shape[-2:]
    lines = ex.formula_text().splitlines()
    assert len(lines) == 4
    for line, n, out, word in zip(lines[:2], (h, w), conv, ("height", "width")):
        a = ops.output_axis(n, 3, stride, padding)
        assert line.startswith(f"Output {word} = ({n} − 3 + 2×{padding}) / {stride} + 1 = ")
        assert line.endswith(f"= {out}") and ("⌊" in line) is (a.value is None)
    for line, n, out, word in zip(lines[2:], conv, pooled, ("height", "width")):
        a = ops.pool_axis(int(n), 2, 2)
        assert line.startswith(f"Pooled {word} = ({n} − 2 + 2×0) / 2 + 1 = ")
        assert line.endswith(f"= {out}") and a.value == out and ("⌊" in line) is bool((n - 2) % 2)
    for line in lines:  # and the bar shows each of them, its size in bold
        answer = line.rpartition(" = ")[2]
        assert f"<b>{answer}</b>" in ex.formula_bar.text()


# --------------------------------------------------------------------------- small screens


def _image_side(panel) -> float:
    """The drawn image's smaller side in screen pixels."""
    r = panel.image_item.sceneBoundingRect()
    return min(r.width(), r.height())


def _settle(qtbot, ex):
    wait(qtbot, ex)
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(1)


def test_controls_fit_a_1024x700_window_without_scrolling(qtbot, env):
    """The tab's size at 1024×700 (714×590): every control in view, nothing to scroll."""
    _state, ex = env
    ex.resize(714, 590)
    _settle(qtbot, ex)
    scroll = ex.controls
    assert ex.controls.compact
    assert not scroll.verticalScrollBar().isVisible() and not scroll.horizontalScrollBar().isVisible()
    viewport = scroll.viewport()
    for widget in (ex.controls.pool_box.pool_stride_spin, ex.controls.pool_box.activation_combo,
                   ex.controls.input_box.channel_combo, ex.grid.problem_label):
        bottom = widget.mapTo(viewport, widget.rect().bottomLeft()).y()
        assert widget.isVisibleTo(ex) and bottom <= viewport.height(), widget
    ex.resize(1400, 900)  # room again: the full controls, with the kernel's description
    _settle(qtbot, ex)
    assert not ex.controls.compact and ex.controls.kernel_box.preset_label.isVisibleTo(ex)


@pytest.mark.parametrize("size", [(714, 590), (1050, 620)])  # the tab at 1024×700 and 1366×768
def test_maps_stay_readable_on_small_screens(qtbot, env, size):
    """Every map at least 48 px with its colour bar; hiding the controls gives them room."""
    _state, ex = env
    ex.resize(*size)
    _settle(qtbot, ex)
    shown = [ex.stages.panels[k] for k in ("input", "kernel", "conv", "activation", "pool")]
    before = [_image_side(p) for p in shown]
    assert min(before) >= 48 and all(p.colorbar_shown() for p in shown)
    ex.controls_toggle.click()
    _settle(qtbot, ex)
    assert ex.controls_hidden() and "Show controls" in ex.controls_toggle.text()
    after = [_image_side(p) for p in shown]
    assert all(p.colorbar_shown() for p in shown) and min(after) > min(before)
    ex.controls_toggle.click()
    assert not ex.controls_hidden()


def test_hidden_controls_are_remembered(qtbot, env, tmp_path):
    _state, ex = env
    ex.set_controls_hidden(True)
    settings = QSettings(str(tmp_path / "k.ini"), QSettings.Format.IniFormat)
    ex.save_settings(settings)
    settings.sync()
    ex.set_controls_hidden(False)
    ex.restore_settings(QSettings(str(tmp_path / "k.ini"), QSettings.Format.IniFormat))
    assert ex.controls_hidden()


def test_any_panel_opens_large_with_mouse_wheel_zoom(qtbot, env):
    state, ex = env
    panel = ex.stages.conv
    centre = panel.view.mapFromScene(panel.image_item.sceneBoundingRect().center())
    QTest.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.waitUntil(lambda: "conv" in ex.enlarged, timeout=5000)
    big = ex.enlarged["conv"]
    qtbot.waitExposed(big)
    qtbot.wait(50)  # its first resizes    np.testing.assert_array_equal(big.panel.array, panel.array)
    assert big.panel.image_item.levels == pytest.approx(panel.image_item.levels)
    assert big.panel.title() == panel.title() and big.panel.colorbar_shown()
    assert _image_side(big.panel) > 3 * _image_side(panel)
    # The mouse wheel zooms in around the pointer.
    vb = big.panel.plot.vb
    (x0, x1), _ = vb.viewRange()
    viewport = big.panel.view.viewport()
    at = QPointF(big.panel.view.mapFromScene(big.panel.image_item.sceneBoundingRect().center()))
    wheel = QWheelEvent(at, QPointF(viewport.mapToGlobal(at)), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    qtbot.wait(20)
    (z0, z1), _ = vb.viewRange()
    assert z1 - z0 < 0.8 * (x1 - x0)
    big.reset_button.click()
    qtbot.wait(20)
    (r0, r1), _ = vb.viewRange()
    assert r1 - r0 > z1 - z0
    # It follows the panel: a new kernel redraws it.
    choose(ex.controls.kernel_box.preset_combo, "box-blur")
    wait(qtbot, ex)
    qtbot.waitUntil(lambda: np.array_equal(big.panel.array, panel.array), timeout=5000)
    # The ⤢ button does the same for another panel; closing forgets the window.
    ex.stages.kernel.enlarge_button.click()
    assert "kernel" in ex.enlarged and ex.enlarged["kernel"].numbers.visible_texts()
    big.close()
    qtbot.waitUntil(lambda: "conv" not in ex.enlarged, timeout=5000)


def test_a_stroke_keeps_a_chosen_lecture_example_and_the_users_preset_name(qtbot, env):
    """A pen stroke does not throw the chosen example away (a notice says how to filter the
    drawing, once); leaving the example brings back the user's kernel under its own name,
    not 'Custom (changed Lecture example)'."""
    state, ex = env
    mine = state.kernel.with_changes(kernel=np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -2]], float),
                                     preset_key=None)
    state.kernel = mine
    wait(qtbot, ex)
    before = ex.controls.kernel_box.preset_combo.currentText()
    ex.set_source("lecture:stride-2")
    wait(qtbot, ex)
    example_input = np.array(ex.view.result.input, copy=True)
    stroke = np.zeros((280, 280), np.float32)
    stroke[100:180, 130:150] = 1.0
    with qtbot.waitSignal(ex.status_message, timeout=5000,
                          check_params_cb=lambda text: "Still showing the lecture example" in text):
        state.input_image = InputImage(stroke, "your drawing")
    state.input_image = InputImage(stroke * 0.5, "your drawing")  # a second stroke: no second notice
    wait(qtbot, ex)
    assert ex.source() == "lecture:stride-2"
    np.testing.assert_array_equal(ex.view.result.input, example_input)
    choose(ex.controls.input_box.source_combo, SOURCE_IMAGE)
    wait(qtbot, ex)
    np.testing.assert_array_equal(state.kernel.kernel, mine.kernel)
    assert ex.controls.kernel_box.preset_combo.currentText() == before
    assert "Lecture example" not in ex.controls.kernel_box.preset_label.text()


@pytest.mark.parametrize("height, compact, sizes", [(1000, False, (3, 4, 5)),
                                                    (640, True, (2, 3, 4))])
def test_the_boxes_under_the_kernel_stay_put_when_it_grows(qtbot, env, height, compact, sizes):
    """Growing the kernel moved the convolution and pooling boxes under the mouse: the grid
    keeps room for a 5×5 kernel (a short screen: for 4×4)."""
    _state, ex = env
    c = ex.controls
    ex.resize(1300, height)
    qtbot.waitUntil(lambda: c.compact == compact)
    qtbot.wait(50)
    places = []
    for n in sizes:
        c.grid.rows_spin.setValue(n)
        c.grid.cols_spin.setValue(n)
        qtbot.wait(20)
        places.append(tuple(box.mapTo(ex, box.rect().topLeft()).y()
                            for box in (c.conv_box, c.pool_box)))
    assert len(set(places)) == 1, places

"""The drawing pad: strokes, live change signals, undo, clear, showing images."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QInputDevice, QPointingDevice, QTabletEvent
from PySide6.QtTest import QTest

from cnnviz.ui.input import drawing_pad as drawing_pad_module
from cnnviz.ui.input.drawing_pad import (
    DEFAULT_BRUSH,
    PAD_SIZE,
    UNDO_LEVELS,
    DrawingPad,
    array_to_qimage,
    qimage_to_array,
)


@pytest.fixture
def pad(qtbot):
    widget = DrawingPad()
    qtbot.addWidget(widget)
    widget.resize(PAD_SIZE, PAD_SIZE)  # one widget pixel per canvas pixel
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def stroke(qtbot, pad, points, button=Qt.MouseButton.LeftButton):
    """Press at the first point, move through the rest, release at the last."""
    first, *rest = [QPoint(*p) for p in points]
    QTest.mousePress(pad, button, Qt.KeyboardModifier.NoModifier, first)
    for p in rest:
        QTest.mouseMove(pad, p)
    QTest.mouseRelease(pad, button, Qt.KeyboardModifier.NoModifier, rest[-1] if rest else first)


def test_starts_black_and_empty(pad):
    image = pad.image()
    assert image.shape == (PAD_SIZE, PAD_SIZE) and image.dtype == np.float32
    assert image.max() == 0 and pad.is_empty() and not pad.can_undo()
    assert pad.brush_size() == DEFAULT_BRUSH


def test_stroke_draws_white_ink_and_emits_changed(qtbot, pad):
    seen = []
    pad.changed.connect(seen.append)
    with qtbot.waitSignal(pad.stroke_finished):
        stroke(qtbot, pad, [(60, 60), (100, 90), (140, 140), (200, 160)])
    image = pad.image()
    assert image.max() == 255 and not pad.is_empty()
    assert image[140, 140] == 255  # on the stroke
    assert image[10, 270] == 0  # far from it
    assert seen, "changed was not emitted"
    np.testing.assert_array_equal(seen[-1], image)  # the last emission is the final picture
    # the stroke is anti-aliased (grey edge pixels) and as wide as the brush
    assert ((image > 0) & (image < 255)).any()
    column = image[:, 140]
    assert DEFAULT_BRUSH - 4 <= (column > 127).sum() <= DEFAULT_BRUSH * 1.6


def test_changed_is_throttled_to_one_per_event_loop_pass(qtbot, pad):
    seen = []
    pad.changed.connect(seen.append)
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(50, 50))
    # many moves delivered without the event loop running in between: one emission queued
    for x in range(50, 150, 5):
        pad._extend_stroke(QPoint(x, 2 * x - 50).toPointF())
    assert seen == []
    qtbot.waitUntil(lambda: len(seen) == 1)
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(150, 250))
    assert len(seen) == 2  # release flushes the final state at once


def test_undo_restores_previous_image_exactly(qtbot, pad):
    stroke(qtbot, pad, [(40, 40), (120, 120)])
    after_first = pad.image()
    stroke(qtbot, pad, [(200, 40), (60, 220)])
    assert not np.array_equal(pad.image(), after_first)
    with qtbot.waitSignal(pad.changed) as blocker:
        assert pad.undo()
    np.testing.assert_array_equal(pad.image(), after_first)
    np.testing.assert_array_equal(blocker.args[0], after_first)
    assert pad.undo()
    assert pad.image().max() == 0 and pad.is_empty()
    assert not pad.undo()  # nothing left


def test_redo_does_again_what_undo_went_back_over(qtbot, pad):
    stroke(qtbot, pad, [(40, 40), (120, 120)])
    first = pad.image()
    stroke(qtbot, pad, [(200, 40), (60, 220)])
    both = pad.image()
    assert not pad.can_redo() and not pad.redo()  # nothing undone yet
    pad.undo()
    pad.undo()
    assert pad.is_empty()
    with qtbot.waitSignal(pad.changed) as blocker:
        assert pad.redo()
    np.testing.assert_array_equal(pad.image(), first)
    np.testing.assert_array_equal(blocker.args[0], first)
    assert pad.redo()
    np.testing.assert_array_equal(pad.image(), both)
    assert not pad.redo()
    pad.undo()
    stroke(qtbot, pad, [(10, 200), (200, 200)])  # something new: the undone step is gone
    assert not pad.can_redo() and not pad.redo()


def test_clear_empties_and_is_undoable(qtbot, pad):
    stroke(qtbot, pad, [(40, 40), (220, 220)])
    drawn = pad.image()
    pad.clear()
    assert pad.image().max() == 0 and pad.is_empty()
    pad.undo()
    np.testing.assert_array_equal(pad.image(), drawn)


def test_undo_keeps_a_bounded_history(qtbot, pad):
    for i in range(UNDO_LEVELS + 15):
        stroke(qtbot, pad, [(10 + i * 4 % 260, 20), (10 + i * 4 % 260, 260)])
    assert pad.undo_depth() == UNDO_LEVELS >= 30


def test_right_button_erases(qtbot, pad):
    stroke(qtbot, pad, [(40, 140), (240, 140)])
    assert pad.image()[140, 140] == 255
    stroke(qtbot, pad, [(140, 100), (140, 180)], button=Qt.MouseButton.RightButton)
    assert pad.image()[140, 140] == 0


def test_brush_size_changes_stroke_width(qtbot, pad):
    pad.set_brush_size(8)
    stroke(qtbot, pad, [(140, 20), (140, 260)])
    thin = (pad.image()[140] > 127).sum()
    pad.clear()
    pad.set_brush_size(40)
    stroke(qtbot, pad, [(140, 20), (140, 260)])
    thick = (pad.image()[140] > 127).sum()
    assert thick > 3 * thin


def test_set_image_fits_keeping_aspect_and_does_not_emit(qtbot, pad):
    seen = []
    pad.changed.connect(seen.append)
    wide = np.zeros((50, 100), np.float32)
    wide[10:40, 10:50] = 255  # a white block left of the middle
    pad.set_image(wide, origin="wide", label="a wide picture")
    image = pad.image()
    # 100x50 scaled to 280x140, centred vertically: rows 70..210 hold the picture
    assert image[140, 60] == 255 and image[140, 220] == 0
    assert image[80, 60] == 0 and image[200, 60] == 0  # above and below the block
    assert (image[:70] == 0).all() and (image[210:] == 0).all()  # letterbox bars
    assert pad.origin() == "wide" and not pad.is_empty() and seen == []
    # drawing over it keeps the picture and forgets the origin; undo brings both back
    stroke(qtbot, pad, [(200, 100), (250, 180)])
    assert pad.origin() is None and pad.base() == "a wide picture" and not pad.is_pristine()
    assert pad.image()[140, 60] == 255
    pad.undo()
    assert pad.origin() == "wide" and pad.is_pristine()
    np.testing.assert_array_equal(pad.image(), image)


def test_light_picture_gets_dark_ink(qtbot, pad):
    paper = np.full((280, 280, 3), 240, np.float32)  # a colour photo of white paper
    paper[100:180, 130:150] = (20, 20, 60)  # a dark stroke
    pad.set_image(paper)
    assert pad.ink() == 0
    stroke(qtbot, pad, [(40, 40), (40, 200)])
    assert pad.image()[120, 40] == 0  # dark ink on the light paper
    pad.clear()
    assert pad.ink() == 255


def test_huge_and_small_images(pad):
    pad.set_image(np.full((3000, 2000), 255, np.uint8))
    assert pad.image()[140, 140] == 255
    pad.set_image(np.array([[0, 255], [255, 0]], np.float32))
    assert pad.image().shape == (PAD_SIZE, PAD_SIZE)
    with pytest.raises(ValueError):
        pad.set_image(np.zeros((0, 5)))


def test_array_qimage_round_trip():
    a = (np.arange(28 * 28).reshape(28, 28) % 256).astype(np.uint8)
    np.testing.assert_array_equal(qimage_to_array(array_to_qimage(a)), a)
    unit = a.astype(np.float32) / 255.0  # 0..1 floats are scaled up
    np.testing.assert_array_equal(qimage_to_array(array_to_qimage(unit)), a)
    odd = np.zeros((3, 5), np.uint8)  # rows not 4-byte aligned
    odd[1, 3] = 200
    np.testing.assert_array_equal(qimage_to_array(array_to_qimage(odd)), odd)


def test_undo_keeps_only_a_budget_of_full_resolution_originals(pad, monkeypatch):
    monkeypatch.setattr(drawing_pad_module, "ORIGIN_BUDGET", 3 * 100 * 100 * 4)
    photos = [(np.full((100, 100), 10.0 * i, np.float32), f"photo {i}") for i in range(6)]
    for photo in photos:
        pad.set_image(photo[0], origin=photo, label=photo[1])
    kept = [s.origin for s in pad._undo if s.origin is not None]
    assert kept == photos[2:5]  # the newest three originals before the current one
    assert pad.origin() is photos[5]
    for _ in range(4):
        pad.undo()
    assert pad.origin() is None and pad.base() == "photo 1" and pad.is_pristine()


def tablet_event(kind, pos, pressure, device):
    return QTabletEvent(kind, device, QPointF(*pos), QPointF(*pos), pressure, 0.0, 0.0, 0.0, 0.0,
                        0.0, Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton,
                        Qt.MouseButton.LeftButton)


def test_pen_pressure_changes_width_a_little(qtbot, pad):
    from PySide6.QtWidgets import QApplication

    pen = QPointingDevice("test pen", 4242, QInputDevice.DeviceType.Stylus,
                          QPointingDevice.PointerType.Pen,
                          QInputDevice.Capability.Position | QInputDevice.Capability.Pressure, 1, 3)
    widths = []
    for pressure in (0.1, 1.0):
        pad.clear()
        with qtbot.waitSignal(pad.stroke_finished):
            QApplication.sendEvent(pad, tablet_event(QTabletEvent.Type.TabletPress, (140, 20), pressure, pen))
            for y in range(40, 261, 20):
                QApplication.sendEvent(pad, tablet_event(QTabletEvent.Type.TabletMove, (140, y), pressure, pen))
            QApplication.sendEvent(pad, tablet_event(QTabletEvent.Type.TabletRelease, (140, 260), pressure, pen))
        widths.append(int((pad.image()[140] > 127).sum()))
    light, firm = widths
    assert light < firm <= 2 * light  # 70% .. 130% of the brush


def test_eraser_restores_the_pictures_own_background(qtbot, pad):
    """Erasing on an opened off-white picture paints its paper's grey, not pure white (a
    bright band) or the ink's opposite."""
    paper = np.full((280, 280), 232, np.float32)
    paper[60:220, 130:150] = 25  # a dark stroke
    pad.set_image(paper)
    assert pad.ink() == 0
    stroke(qtbot, pad, [(140, 140), (140, 141)], button=Qt.MouseButton.RightButton)
    image = pad.image()
    assert abs(image[140, 140] - 232) <= 1  # the stroke is gone, to the paper's level
    assert abs(image[140, 100] - 232) <= 1  # around it, unchanged paper
    pad.undo()
    assert pad.image()[140, 140] == 25
    # a dark photo: the eraser paints its dark grey, and a cleared pad erases to black
    pad.set_image(np.full((100, 100), 40, np.float32))
    stroke(qtbot, pad, [(40, 40), (200, 40)])
    stroke(qtbot, pad, [(120, 40), (121, 40)], button=Qt.MouseButton.RightButton)
    assert abs(pad.image()[40, 120] - 40) <= 1
    pad.clear()
    stroke(qtbot, pad, [(40, 40), (200, 40)])
    stroke(qtbot, pad, [(120, 40), (121, 40)], button=Qt.MouseButton.RightButton)
    assert pad.image()[40, 120] == 0

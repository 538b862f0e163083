"""The main window and the input side: opening, drawing, loading, errors, settings, close."""

from __future__ import annotations

import re
import struct
import zlib

import numpy as np
import pytest
from pages import redraws
from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from cnnviz.app_state import AppState, InputImage
from cnnviz.core.networks import weights as weights_module
from cnnviz.core.pictures.samples import load_samples
from cnnviz.ui.controllers import LatestRequestRunner
from cnnviz.ui.window import files as window_files
from cnnviz.ui.window.app import app_icon
from cnnviz.ui.window.main_window import MainWindow


@pytest.fixture
def warnings(monkeypatch):
    """Record QMessageBox.warning calls instead of showing modal dialogs."""
    seen = []

    def fake_warning(parent, title, text, *args, **kwargs):
        seen.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(fake_warning))
    return seen


def make_window(qtbot) -> MainWindow:
    window = MainWindow(AppState())
    qtbot.addWidget(window)  # closed (closeEvent: settings + shutdown) at teardown
    delivered = window.delivered_generations = []
    window.controller.runner.finished.connect(lambda gen, _result: delivered.append(gen))
    window.load_defaults()
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def window(qtbot, settings_sandbox, warnings):
    w = make_window(qtbot)
    yield w
    w.close()


def wait_analysis(qtbot, window):
    """The analysis of the current input (not an older one still on screen)."""
    runner = window.controller.runner
    window.controller.join()
    qtbot.waitUntil(lambda: bool(window.delivered_generations)
                    and window.delivered_generations[-1] == runner.generation)
    return window.state.analysis


def draw(pad, points):
    first, *rest = [QPoint(*p) for p in points]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, first)
    for p in rest:
        QTest.mouseMove(pad, p)
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rest[-1])


def pad_points(pad, fractions):
    """Pad-relative points (0..1 of the shown square) as widget pixels."""
    sq = pad._square()
    return [(int(sq.x() + fx * sq.width()), int(sq.y() + fy * sq.height())) for fx, fy in fractions]


def png_bytes(array: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A small, well-formed PNG whose header claims width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b""))


# ----- opening ----------------------------------------------------------------------------


def test_window_opens_with_model_and_sample_and_predicts_3(qtbot, window):
    state = window.state
    assert state.model is not None and state.model.name == "cnnviz"
    assert state.image.shape == (28, 28) and state.image.dtype == np.float32
    assert re.fullmatch(r"MNIST test digit #\d+ \(a 3\)", state.image_source)
    analysis = wait_analysis(qtbot, window)
    assert analysis.prediction == 3
    qtbot.waitUntil(lambda: window.input_panel.prediction_label.text() == "3")
    assert "Model: <b>cnnviz</b>" in window.model_status_label.text()
    assert _shipped_accuracy_text() in window.model_status_label.text()  # from the card
    assert "MNIST test digit" in window.input_status_label.toolTip()
    assert not window.input_panel.pad.is_empty()  # the sample is shown on the pad
    # the preprocessing strip shows the steps and ends with the network input
    assert window.input_panel.preprocessing.steps and window.input_panel.network_input.picture.qimage() is not None
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["CNN explorer", "Kernel explorer", "Training lab", "Experiments"]


def test_the_default_model_is_loaded_once(window):
    """The model picker's copy is the one in use (not a second copy of the same file)."""
    picker = {entry.key: entry.loaded for entry in window.cnn_explorer.entries}
    assert window.state.model is picker["cnnviz"]


def test_default_window_fits_the_screen(window):
    avail = window.screen().availableGeometry()
    assert window.width() <= avail.width() and window.height() <= avail.height()
    left, right = window.splitter.sizes()
    assert left >= 280 and right > left


def test_window_icon_is_loaded(qapp):  # a QPixmap needs the application first
    icon = app_icon()
    assert not icon.isNull()
    assert not icon.pixmap(64, 64).isNull()


def test_missing_model_still_opens_with_a_message(qtbot, settings_sandbox, warnings, monkeypatch, tmp_path):
    monkeypatch.setattr(weights_module, "shipped_weights_path",
                        lambda name: tmp_path / f"{name}-gone.safetensors")
    window = MainWindow(AppState())
    qtbot.addWidget(window)
    assert window.load_defaults() is False
    window.show()
    assert window.state.model is None
    assert window.state.image is not None  # the digit is still there
    assert "No model" in window.model_status_label.text()
    qtbot.waitUntil(lambda: bool(warnings))
    assert "missing" in warnings[0][1] and "Open model" in warnings[0][1]
    window.close()


# ----- drawing ---------------------------------------------------------------------------


def test_drawing_makes_the_pad_the_input_live(qtbot, window):
    panel, state = window.input_panel, window.state
    pad = panel.pad
    wait_analysis(qtbot, window)
    panel.clear()
    assert state.image_source == "empty pad"
    sources = []
    state.events.input_image.connect(lambda picture: sources.append(picture.source))
    pts = pad_points(pad, [(0.5, 0.15), (0.5, 0.4), (0.5, 0.65), (0.5, 0.85)])
    first, *rest = [QPoint(*p) for p in pts]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, first)
    QTest.mouseMove(pad, rest[0])
    qtbot.waitUntil(lambda: len(sources) >= 1)  # live: before the pen is lifted
    for p in rest[1:]:
        QTest.mouseMove(pad, p)
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rest[-1])
    assert state.image_source == "your drawing"
    np.testing.assert_array_equal(state.image, pad.image())
    analysis = wait_analysis(qtbot, window)
    assert analysis.prediction == 1  # a vertical bar reads as a one
    qtbot.waitUntil(lambda: panel.prediction_label.text() == "1")


def test_live_updates_are_paced_to_the_analysis(qtbot, window):
    """While the pen moves, pictures go out no faster than analyses come back, so results are
    shown during the stroke instead of all being dropped as stale; release sends the last one."""
    panel, state, pad = window.input_panel, window.state, window.input_panel.pad
    wait_analysis(qtbot, window)
    panel.clear()
    wait_analysis(qtbot, window)
    controller = window.controller
    first_request = controller.requested
    shown = []
    state.analysis_ready.connect(shown.append)
    pts = [QPoint(*p) for p in pad_points(pad, [(0.3 + 0.02 * k, 0.1 + 0.03 * k) for k in range(25)])]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    for k, p in enumerate(pts[1:], 1):
        QTest.mouseMove(pad, p)
        qtbot.wait(1)
        if k == 3:
            qtbot.waitUntil(lambda: len(shown) >= 1)  # an analysis arrives mid-stroke
        assert controller.requested - first_request <= len(shown) + 1  # one in flight at most
    assert pad.is_drawing() and shown
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
    np.testing.assert_array_equal(state.image, pad.image())  # the final picture, at once
    assert wait_analysis(qtbot, window) is state.analysis


def test_hidden_tab_does_no_work_while_drawing_and_catches_up_when_shown(qtbot, window):
    """Drawing with the CNN explorer in front must not filter and redraw the hidden kernel
    explorer on every pen step (two cores are shared with the model); it shows the newest
    input once its tab is opened, and the same holds the other way round."""
    panel, state, pad = window.input_panel, window.state, window.input_panel.pad
    kernel, cnn = window.kernel_explorer, window.cnn_explorer
    assert window.tabs.currentIndex() == 0
    wait_analysis(qtbot, window)
    kernel.join()
    requests_before = kernel.runner.generation
    panel.clear()
    draw(pad, pad_points(pad, [(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)]))
    wait_analysis(qtbot, window)
    assert kernel.runner.generation == requests_before  # nothing computed for the hidden tab
    window.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: kernel.runner.generation > requests_before and kernel.is_idle())
    assert kernel.view.result.input.shape == state.image.shape
    np.testing.assert_allclose(kernel.view.result.input, state.image)

    cnn_updates = redraws(cnn)
    draw(pad, pad_points(pad, [(0.2, 0.5), (0.8, 0.5)]))
    analysis = wait_analysis(qtbot, window)
    assert redraws(cnn) == cnn_updates and cnn.analysis is not analysis
    window.tabs.setCurrentIndex(0)
    assert redraws(cnn) == cnn_updates + 1 and cnn.analysis is analysis


def test_empty_pad_says_draw_a_digit(qtbot, window):
    wait_analysis(qtbot, window)
    window.clear_action.trigger()
    wait_analysis(qtbot, window)
    qtbot.waitUntil(lambda: window.input_panel.prediction_text.text() == "Draw a digit")
    assert window.input_panel.prediction_label.text() == ""


def test_drawing_over_a_digit_and_undo_restores_it_exactly(qtbot, window):
    state, pad = window.state, window.input_panel.pad
    original, source = state.image, state.image_source
    draw(pad, pad_points(pad, [(0.1, 0.9), (0.9, 0.9)]))
    assert state.image_source == f"your drawing over {source}"
    assert state.image.shape == (280, 280)
    window.undo_action.trigger()
    assert state.image is original and state.image_source == source  # full resolution again
    assert window.redo_action.isEnabled()
    window.redo_action.trigger()  # Ctrl+Shift+Z / Ctrl+Y: the drawing again
    assert state.image_source == f"your drawing over {source}" and state.image.shape == (280, 280)
    window.undo_action.trigger()
    assert state.image is original
    shortcuts = {s.toString() for s in window.redo_action.shortcuts()}
    assert {"Ctrl+Shift+Z", "Ctrl+Y"} <= shortcuts
    # Delete clears while the pad has focus
    pad.setFocus()
    QTest.keyClick(pad, Qt.Key.Key_Delete)
    assert pad.is_empty() and state.image_source == "empty pad"


# ----- loading images ----------------------------------------------------------------------


def test_open_image_file_sets_input_and_pad(qtbot, window, tmp_path):
    digit = np.full((60, 40), 255, np.uint8)  # dark 7-ish stroke on white paper
    digit[10:14, 8:32] = 0
    digit[14:50, 26:30] = 0
    path = tmp_path / "seven.png"
    path.write_bytes(png_bytes(digit))
    window.open_image_file(path)
    qtbot.waitUntil(lambda: window.state.image_source == "seven.png")
    assert window.state.image.shape == (60, 40)
    pad = window.input_panel.pad
    assert pad.ink() == 0  # dark ink over the light paper
    assert pad.image()[140, 140] == 255  # paper shown white in the middle
    assert window.last_dir == str(tmp_path)


@pytest.mark.parametrize("content, why, reason", [
    (b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20, "corrupt", ""),
    (b"", "empty", "empty"),
    (b"just some text, not a picture", "text", "not a picture"),
    (png_claiming(100_000, 100_000), "huge", "megapixels"),
])
def test_bad_image_shows_message_and_keeps_input(qtbot, window, warnings, tmp_path, content, why, reason):
    before, source = window.state.image, window.state.image_source
    path = tmp_path / f"{why}.png"
    path.write_bytes(content)
    window.open_image_file(path)
    qtbot.waitUntil(lambda: bool(warnings))
    title, text = warnings[-1]
    assert title == "Cannot open image" and f"{why}.png" in text and "kept" in text
    assert reason in text
    assert "Traceback" not in text and "Error:" not in text  # the plain reason only
    assert window.state.image is before and window.state.image_source == source


def test_missing_file_shows_message(qtbot, window, warnings, tmp_path):
    before = window.state.image
    window.open_image_file(tmp_path / "nowhere.png")
    qtbot.waitUntil(lambda: bool(warnings))
    assert window.state.image is before


def test_drop_and_paste_of_a_file_url(qtbot, window, tmp_path):
    path = tmp_path / "dropped.png"
    path.write_bytes(png_bytes(np.eye(32, dtype=np.uint8) * 255))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.state.image_source == "dropped.png")
    # the same handler serves the clipboard: a path as plain text works too
    text = QMimeData()
    text.setText(str(path))
    window.state.input_image = InputImage(np.zeros((28, 28), np.float32), "reset")
    assert window.open_mime_data(text)
    qtbot.waitUntil(lambda: window.state.image_source == "dropped.png")


def test_paste_a_picture(qtbot, window, warnings, monkeypatch):
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.white)
    mime = QMimeData()
    mime.setImageData(image)
    assert window.open_mime_data(mime)
    qtbot.waitUntil(lambda: window.state.image_source == "pasted image")
    assert window.state.image.shape[:2] == (30, 40)
    # a pasted picture larger than the limit is refused the same way as a file
    monkeypatch.setattr(window_files, "MAX_PIXELS", 100)
    before = window.state.image
    assert not window.open_mime_data(mime)
    assert warnings and "more than" in warnings[-1][1]
    assert window.state.image is before


def test_paste_nothing_useful(window, warnings):
    mime = QMimeData()
    mime.setText("hello, not a file")
    assert not window.open_mime_data(mime)
    assert warnings[-1][0] == "Nothing to open"


# ----- gallery and random digits ------------------------------------------------------------


def test_gallery_picks_a_digit(qtbot, window):
    window.gallery_action.trigger()
    dialog = window.input_panel.gallery()
    assert dialog.isVisible() and dialog.list.count() == 300
    dialog.set_filter(7)
    assert dialog.visible_count() == 30
    item = next(dialog.list.item(r) for r in range(dialog.list.count())
                if not dialog.list.item(r).isHidden())
    rect = dialog.list.visualItemRect(item)
    QTest.mouseClick(dialog.list.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, rect.center())
    images, labels, index = load_samples()
    i = item.data(Qt.ItemDataRole.UserRole)
    assert labels[i] == 7
    assert window.state.image_source == f"MNIST test digit #{index[i]}, labelled 7"
    np.testing.assert_array_equal(window.state.image, images[i].astype(np.float32))
    assert wait_analysis(qtbot, window).prediction == 7


def test_random_digit_uses_the_full_test_set_when_available(qtbot, window, mnist_test):
    images, labels = mnist_test
    for _ in range(3):
        window.random_action.trigger()
        m = re.fullmatch(r"MNIST test digit #(\d+), labelled (\d)", window.state.image_source)
        assert m, window.state.image_source
        i, label = int(m.group(1)), int(m.group(2))
        assert labels[i] == label
        np.testing.assert_array_equal(window.state.image, images[i].astype(np.float32))
    assert "10,000" in window.input_panel.test_digits.note


def test_random_digit_falls_back_to_shipped_samples(qtbot, window, tmp_path):
    from cnnviz.ui.input.gallery import GalleryPictures

    digits = GalleryPictures(data_dir=str(tmp_path / "no-data-here"), seed=1)
    image, source, label = digits.random()
    images, labels, index = load_samples()
    m = re.fullmatch(r"MNIST test digit #(\d+), labelled (\d)", source)
    j = int(np.flatnonzero(index == int(m.group(1)))[0])
    assert labels[j] == label and np.array_equal(images[j], image)
    assert "300" in digits.note


def test_random_pick_follows_the_model_dataset(tmp_path):
    from data_policy import need_data

    from cnnviz.core.datasets.data import load_split
    from cnnviz.ui.input.gallery import CLASS_NAMES, GalleryPictures

    need_data("fashion-mnist")
    images, labels = load_split("fashion-mnist", "test", verify=False)
    image, source, label = GalleryPictures(seed=3).random("fashion-mnist")
    m = re.fullmatch(r"Fashion-MNIST test image #(\d+), labelled (.+)", source)
    assert m and m.group(2) == CLASS_NAMES["fashion-mnist"][label]
    np.testing.assert_array_equal(images[int(m.group(1))], image)
    # without the files: one of the Fashion-MNIST images shipped with cnnviz (it was an
    # MNIST digit), named by its index in the test set
    digits = GalleryPictures(data_dir=str(tmp_path), seed=3)
    image, source, label = digits.random("fashion-mnist")
    m = re.fullmatch(r"Fashion-MNIST test image #(\d+), labelled (.+)", source)
    assert m and m.group(2) == CLASS_NAMES["fashion-mnist"][label]
    np.testing.assert_array_equal(images[int(m.group(1))], image)
    assert "one of 100 shipped Fashion-MNIST test images" in digits.note


# ----- exports, help --------------------------------------------------------------------------


def test_export_png_and_feature_maps(qtbot, window, tmp_path):
    wait_analysis(qtbot, window)
    png = window.export_view_png(str(tmp_path / "view.png"))
    assert png and not QImage(png).isNull()
    whole = window.export_view_png(str(tmp_path / "window.png"), whole_window=True)
    assert QImage(whole).width() == window.width()
    qtbot.waitUntil(lambda: window.cnn_explorer.export_array() is not None)
    npy = window.export_feature_maps(str(tmp_path / "maps.npy"))
    stem, expected = window.cnn_explorer.export_array()
    np.testing.assert_array_equal(np.load(npy), expected)


def test_the_status_bar_says_how_fast_in_plain_words(qtbot, window):
    """"update 1.5 ms (model 17.7 ms)" said nothing to a user."""
    label = window.explorer_status_label
    qtbot.waitUntil(lambda: label.text().startswith("Updated in "), timeout=20000)
    assert " ms (network " in label.text() and "update " not in label.text()
    tip = label.toolTip()
    assert "Updated in" in tip and "network" in tip and "background thread" in tip


def test_about_and_shortcuts(window):
    text = window.about_text()
    assert "cnnviz 0.1.0" in text and "weighted sum" in text and _shipped_accuracy_text() in text
    # the training command names its file right after --out, no folder of the computer
    # that trained before it
    assert "--out cnnviz-mnist.safetensors" in text
    rows = dict(window.shortcut_rows())
    assert rows["Open image"] == "Ctrl+O" and rows["Random test digit"] == "Ctrl+R"
    assert "Ctrl+Shift+E" in rows["Export feature maps (.npy)"]
    # the layer cards' keys and wheel are listed too (they worked but F1 did not say)
    layer_keys = next(keys for what, keys in rows.items() if "next layer" in what)
    assert "Left" in layer_keys and "Right" in layer_keys
    assert any("wheel" in keys.lower() and "layer" in what for what, keys in rows.items())


def test_menu_words_follow_the_model_dataset(qtbot, window):
    from cnnviz.core.networks.weights import load_shipped

    window.state.model = load_shipped("cnnviz-fashion")
    assert window.random_action.text() == "&Random test image"
    assert window.gallery_action.text() == "&Gallery of test images…"
    assert "Fashion-MNIST" in window.random_action.toolTip()
    window.state.model = load_shipped("cnnviz")
    assert window.random_action.text() == "&Random test digit"
    wait_analysis(qtbot, window)


def test_tab_shortcuts_switch_tabs(qtbot, window):
    """Ctrl+2 and Ctrl+1 pressed on the window (not the actions triggered by hand)."""
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.input_panel.pad.setFocus()
    qtbot.keyClick(window.input_panel.pad, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.tabs.currentIndex() == 1)
    assert window.tab_actions[1].isChecked()
    qtbot.keyClick(window.input_panel.pad, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.tabs.currentIndex() == 0)


def test_export_over_an_existing_file_keeps_it_when_the_write_fails(qtbot, window, warnings,
                                                                   tmp_path, monkeypatch):
    """A full disk must not truncate the old export: the new one goes to a temporary file
    in the same folder and replaces the old one only when complete."""
    import errno

    from cnnviz.core.basics import files as core_files

    wait_analysis(qtbot, window)
    npy, png = tmp_path / "maps.npy", tmp_path / "view.png"
    npy.write_bytes(b"the user's earlier export")
    png.write_bytes(b"an earlier picture")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as disk:
        disk.setattr(core_files.os, "fsync", full_disk)
        assert window.export_feature_maps(str(npy)) is None
        assert window.export_view_png(str(png)) is None
        assert npy.read_bytes() == b"the user's earlier export"
        assert png.read_bytes() == b"an earlier picture"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["maps.npy", "view.png"]
        assert any("No space left" in text for _title, text in warnings)
    assert window.export_feature_maps(str(npy)) == str(npy)
    assert np.load(npy).shape == window.current_explorer().export_array()[1].shape


# ----- closing, settings ------------------------------------------------------------------------


def test_close_stops_all_workers(qtbot, settings_sandbox, warnings):
    window = make_window(qtbot)
    runners = window.findChildren(LatestRequestRunner)
    assert window.controller.runner in runners and window.image_loader in runners
    assert all(r.is_alive() for r in runners)
    window.close()
    assert not window.controller.runner.is_alive()
    assert not any(r.is_alive() for r in runners)


def test_settings_round_trip(qtbot, settings_sandbox, warnings, tmp_path):
    first = make_window(qtbot)
    first.resize(700, 560)  # the offscreen test screen is 800x800
    first.splitter.setSizes([420, 580])
    first.tabs.setCurrentIndex(1)
    first.input_panel.set_brush_size(31)
    first.last_dir = str(tmp_path)
    sizes = first.splitter.sizes()
    first.close()
    assert list(settings_sandbox.rglob("*.ini")) or list(settings_sandbox.rglob("*.conf"))

    second = make_window(qtbot)
    assert second.input_panel.brush_size() == 31 and second.input_panel.pad.brush_size() == 31
    assert second.tabs.currentIndex() == 1 and second.tab_actions[1].isChecked()
    assert second.last_dir == str(tmp_path)
    assert (second.width(), second.height()) == (700, 560)
    assert abs(second.splitter.sizes()[0] - sizes[0]) <= 2
    second.close()


def test_window_shortcuts_work_while_a_kernel_cell_has_focus(qtbot, window, tmp_path, monkeypatch):
    """Ctrl+E is "end of line" in an X11 text field: in a kernel cell it must still export
    (and typing afterwards must not land in the cell); Ctrl+Z stays the field's own undo."""
    exported = []
    monkeypatch.setattr(window, "export_view_png", lambda *a, **k: exported.append(a))
    window.tabs.setCurrentIndex(1)
    cell = window.kernel_explorer.grid.cell(0, 0)

    class ClaimsCtrlE(QObject):  # what QLineEdit does with Ctrl+E on X11 desktops
        def eventFilter(self, _obj, event):  # noqa: N802
            if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_E:
                event.accept()
            return False

    claims = ClaimsCtrlE(cell)
    cell.installEventFilter(claims)
    cell.setFocus()
    qtbot.waitUntil(cell.hasFocus)
    QTest.keyClick(cell, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert exported == [()]
    assert "Ctrl+Z" not in window.shortcuts_in_fields.window_keys()  # editing keys stay with fields
    assert dict(window.shortcut_rows())["Full screen"].startswith("F11")


# ----- the lazy start ---------------------------------------------------------------------------


def test_lazy_start_takes_strokes_before_the_network_and_predicts_once_it_is_loaded(
        qtbot, settings_sandbox, warnings):
    """The real start: window and pad first, explorers and model after (from a thread)."""
    window = MainWindow(AppState(), lazy=True)
    qtbot.addWidget(window)
    state, pad = window.state, window.input_panel.pad
    assert window.cnn_explorer is None and state.model is None
    window.show_default_image()
    window.show()
    qtbot.waitExposed(window)
    loading_seen = []
    state.events.model_loading.connect(loading_seen.append)
    window.start_loading()
    assert state.model_loading and "Loading" in window.input_panel.prediction_text.text()
    window.input_panel.clear()
    draw(pad, pad_points(pad, [(0.5, 0.15), (0.5, 0.5), (0.5, 0.85)]))
    assert state.image_source == "your drawing" and state.image.any()  # the pad works already
    assert window.current_explorer() is None
    qtbot.waitUntil(lambda: state.analysis is not None, timeout=60_000)
    assert loading_seen == [True, False] and not state.model_loading
    assert state.model is not None and window.cnn_explorer is not None
    assert state.analysis.prediction == 1  # the vertical bar drawn while it loaded
    assert window.tabs.widget(0).findChild(type(window.cnn_explorer)) is window.cnn_explorer


def _shipped_accuracy_text() -> str:
    """The default model's test accuracy as its card records it (e.g. "99.70%"), read
    from the file itself so the test follows a retrained model."""
    from cnnviz.core.networks.weights import load_shipped

    return f"{load_shipped('cnnviz').card['test_accuracy'] * 100:.2f}%"


def test_f1_says_how_to_use_cnnviz_before_the_keys(qtbot, window):
    """F1 opens help: a how-to page naming each tab with the key the tab really has, then the
    shortcut table."""
    from PySide6.QtWidgets import QTabWidget, QTextBrowser

    qtbot.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: getattr(window, "help_dialog", None) is not None
                    and window.help_dialog.isVisible())
    pages = window.help_dialog.findChild(QTabWidget)
    assert [pages.tabText(i) for i in range(pages.count())] == ["How to use", "Keyboard shortcuts"]
    guide = pages.widget(0).findChild(QTextBrowser) or pages.widget(0)
    text = guide.toPlainText()
    for action in window.tab_actions:
        key = action.shortcut().toString()
        title = action.text().replace("&", "").replace("Show the ", "")
        assert key and f"({key})" in text, (title, key)
    assert "Draw a digit" in text and "lecture tour" in text
    window.help_dialog.close()

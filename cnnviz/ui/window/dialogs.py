"""Help › About and Help › Help and keyboard shortcuts (F1)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
)

from cnnviz import __version__
from cnnviz.core.networks.card import shareable_command

from ..widgets.file_text import as_html

KEY_IDEAS = (
    "A convolution is a weighted sum of the pixel values of the image as the window slides "
    "across the whole image. Each filter (kernel) looks at a small patch only (locality), and "
    "the same few weights are used at every position, so a CNN needs far fewer parameters than "
    "a fully connected network (5×5 + 1 = 26 per filter) and the patterns it learns are "
    "translation invariant. Stacking convolution, activation (ReLU) and pooling layers builds a "
    "hierarchy of patterns, from edges to strokes to whole digits. Each layer's output size is "
    "(W − F + 2P) / S + 1; 2×2 pooling with stride 2 halves the width and height. At the end the "
    "feature maps are flattened, fully connected layers combine them, and a softmax turns the "
    "scores into class probabilities.")


def _crash_log_html() -> str:
    from html import escape

    from .crash_log import crash_log_in_use

    path = crash_log_in_use()
    if path is None:
        return ""
    return (f"<p><b>If cnnviz ever crashes</b>, the log of what it was doing is in "
            f"<code>{escape(str(path))}</code>; please attach it to a bug report.</p>")


def about_text(state) -> str:
    """Help › About: the version, the key ideas, the current model's card, the crash log."""
    loaded = state.model
    if loaded is None:
        card_html = "<p><i>No model is loaded.</i></p>"
    else:
        card = loaded.card
        rows = []
        acc = card.get("test_accuracy")
        facts = [
            ("Model", loaded.name),
            ("Architecture", loaded.model.description),
            ("Dataset", loaded.trained_on or None),
            ("Input", loaded.input_spec.describe),
            ("Classes", ", ".join(loaded.classes)),
            ("Test accuracy", f"{acc:.2%}" if isinstance(acc, (int, float)) else None),
            ("Training images", f"{card['train_images']:,}"
             if isinstance(card.get("train_images"), int) else None),
            ("Epochs", card.get("epochs")),
            ("Optimizer", f"{card.get('optimizer', '')} lr {card.get('lr', '')} "
                          f"{card.get('schedule', '')}".strip() if card.get("optimizer") else None),
            ("Augmentation", {True: "yes", False: "no"}.get(card.get("augment"))),
            ("Seed", card.get("seed")),
            ("Trained with", shareable_command(card["command"])
             if isinstance(card.get("command"), str) else None),
            ("File", str(loaded.path) if loaded.path else None),
        ]
        for key, value in facts:
            if value not in (None, ""):
                rows.append(f"<tr><td><b>{key}</b></td><td>{as_html(value, 400)}</td></tr>")
        card_html = "<table cellspacing='2'>" + "".join(rows) + "</table>"
    return (f"<h3>cnnviz {__version__}</h3>"
            "<p>See inside convolutional neural networks: draw a digit, pick kernels, "
            "watch every layer.</p>"
            f"<p><b>The key ideas.</b> {KEY_IDEAS}</p>"
            f"<p><b>Current model</b></p>{card_html}"
            f"{_crash_log_html()}"
            "<p>MIT licence. Built with PySide6 (Qt), pyqtgraph, NumPy and PyTorch.</p>")


def shortcut_rows(window) -> list[tuple[str, str]]:
    rows = []
    for a in (window.open_action, window.open_weights_action, window.paste_action, window.export_png_action,
              window.export_npy_action, window.quit_action, window.undo_action, window.redo_action, window.clear_action,
              window.random_action, window.gallery_action, *window.tab_actions, window.fullscreen_action,
              window.shortcuts_action):
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
        if keys:
            rows.append((a.text().replace("&", "").rstrip("…"), keys))
    rows += [("Clear the pad (pad focused)", "Delete"),
             ("Previous / next layer (layer cards focused: click one)", "Left, Right"),
             ("Scroll the layer cards", "Mouse wheel over the cards"),
             ("Draw", "Left mouse button, pen or finger on the pad"),
             ("Erase", "Right mouse button, or a pen's eraser end"),
             ("Open an image", "Drop an image file on the window")]
    return rows


# F1's first page: what to do first on each tab, in a few lines (the README has the rest).
HOW_TO_USE = """
<h3>How to use cnnviz</h3>
<p><b>Draw a digit</b> on the black pad at the left with the mouse, a pen or a finger (right
button: erase), or open, paste or drop a picture or a photo. Everything on the right follows
as you draw. Ctrl+R gives a random test digit; Ctrl+Z / Ctrl+Shift+Z undo and redo a stroke.</p>
<p><b>CNN explorer</b> (Ctrl+1): the trained network reads your digit. The cards along the top
are its layers, left to right; click one to see its feature maps. Click a map to enlarge it
and see the filter that made it; point at a map to see which input pixels it looks at (its
receptive field). The bars at the bottom are the class probabilities (tick <i>Log scale</i>
to see the runners-up). Model › Open model… opens a Keras, ONNX or PyTorch file.</p>
<p><b>Kernel explorer</b> (Ctrl+2): apply one kernel yourself. Pick a preset (edge
detection, sharpen, blur…) or type numbers in the grid, set stride, padding, activation and
pooling, and watch each stage with the lecture's formulas and output sizes.</p>
<p><b>Training lab</b> (Ctrl+3): build a network layer by layer (or paste Keras code), train
it on MNIST and watch the loss, the accuracy and the filters as they learn; then keep it and
read your own digits with it.</p>
<p><b>Experiments</b> (Ctrl+4): the lecture's claims, tested on your drawing: slide the
window, receptive fields, what the network looked at, shifts, pooling, batch norm, dropout,
parameter counts.</p>
<p><b>New to CNNs?</b> Help › Take the lecture tour walks through the lecture step by step.
Every control says what it does when you rest the pointer on it.</p>
"""


def show_shortcuts(window, rows: list[tuple[str, str]]) -> None:
    """F1: how to use cnnviz, then every key and mouse gesture, on two pages."""
    dialog = QDialog(window)
    dialog.setWindowTitle("cnnviz help")
    layout = QVBoxLayout(dialog)
    pages = QTabWidget()
    guide = QTextBrowser()
    guide.setHtml(HOW_TO_USE)
    guide.setOpenExternalLinks(False)
    pages.addTab(guide, "How to use")
    pages.addTab(_shortcut_table(rows), "Keyboard shortcuts")
    layout.addWidget(pages)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    dialog.resize(620, 520)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.help_dialog = dialog  # (tests and a second F1 find it)
    dialog.show()


def _shortcut_table(rows: list[tuple[str, str]]) -> QTableWidget:
    table = QTableWidget(len(rows), 2)
    table.setHorizontalHeaderLabels(["Action", "Keys"])
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    for r, (what, keys) in enumerate(rows):
        table.setItem(r, 0, QTableWidgetItem(what))
        table.setItem(r, 1, QTableWidgetItem(keys))
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table

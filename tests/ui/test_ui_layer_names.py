"""A layer's name, label and words are shown as text in the CNN explorer's layer page, map
detail and network strip: a tag in them is never drawn as rich text (a model file can name
its layers and classes)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from cnnviz.core.networks.layer_cards import LayerText

IMG = "<img src='x' width=20000 height=20000>"


def _hostile(shape=(2, 4, 4), in_shape=(1, 6, 6)) -> LayerText:
    return LayerText(f"{IMG}conv1", "conv", f"{IMG}Conv", shape, in_shape, 20,
                     f"{IMG}(6 − 3) + 1 = 4", f"{IMG}params", f"{IMG}explained")


def _drawn_as_text(label) -> bool:
    """A QLabel shows its text without drawing a tag: plain text, or rich text with every
    tag of the file's text escaped."""
    return label.textFormat() == Qt.TextFormat.PlainText or "<img" not in label.text()


def test_the_layer_page_escapes_layer_text(qtbot, monkeypatch):
    from cnnviz.ui.cnn.layer_page import LayerPage

    page = LayerPage()
    qtbot.addWidget(page)
    text = _hostile()
    page.show_layer(text, [text.name, text.name + "2"], {text.name: text.label,
                                                         text.name + "2": text.label})
    assert _drawn_as_text(page.info_label) and "&lt;img" in page.info_label.text()
    assert page.info_label.sizeHint().width() < 2000

    stages = []
    monkeypatch.setattr(page.grid, "set_stages", lambda s: stages.extend(s))
    page.show_maps([text])
    page.show_maps([text, text])
    assert stages and all("<img" not in title for _name, title, _shape in stages)

    titles = []
    monkeypatch.setattr(page.bars, "configure", lambda n, **kw: titles.append(kw["title"]))
    page.show_bars(_hostile(shape=(10,), in_shape=(40,)), [f"{IMG}{i}" for i in range(10)])
    assert titles and "<img" not in titles[0]


def test_the_map_detail_escapes_layer_text_and_class_names(qtbot):
    from cnnviz.ui.cnn.map_detail import MapDetail

    detail = MapDetail()
    qtbot.addWidget(detail)
    text = _hostile()
    detail.show_text(text)
    assert _drawn_as_text(detail.header) and _drawn_as_text(detail.explain)
    detail.show_map(text, 0, np.ones((4, 4), np.float32), {})
    assert _drawn_as_text(detail.header) and _drawn_as_text(detail.map_panel.title_label)
    hovered = []
    detail.hover_text.connect(hovered.append)
    detail._on_map_hover(1, 1)
    assert hovered and "<img" not in hovered[-1]
    detail.show_map_empty(text, 1, f"{IMG}nothing")
    assert _drawn_as_text(detail.header) and _drawn_as_text(detail.map_panel.title_label)
    flat = _hostile(shape=(10,), in_shape=(40,))
    detail.show_unit(flat, 3, 1.5, np.ones(40, np.float32), 0.5, f"{IMG}class")
    assert _drawn_as_text(detail.header) and _drawn_as_text(detail.explain)
    detail.show_unit_empty(flat, 3, "<b>blank</b>: nothing to read")  # the caller's rich text
    assert _drawn_as_text(detail.header) and _drawn_as_text(detail.explain)
    assert detail.header.sizeHint().width() < 2000


@pytest.mark.parametrize("compact", [False, True])
def test_the_network_strip_escapes_layer_text(qtbot, compact):
    from cnnviz.ui.cnn.network_strip import LayerCard, tooltip_html

    text = _hostile()
    card = LayerCard(text)
    qtbot.addWidget(card)
    card.set_compact(compact)
    assert _drawn_as_text(card.title) and _drawn_as_text(card.kind_label)
    assert "<img" not in card.toolTip() and "<img" not in tooltip_html(text)
    long = LayerCard(LayerText("n" * 100_000, "conv", "Conv", (2, 4, 4), (1, 6, 6), 20,
                               "", "", ""))
    qtbot.addWidget(long)
    assert long.width_for(True) < 400

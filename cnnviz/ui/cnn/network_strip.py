"""The network as a row of layer cards: name, type, output shape, parameters, and a live
thumbnail of what the layer outputs now, so every layer's output is visible at once.

The texts are cnnviz.core.layer_cards's (from the layer specs, quoting the lecture): each
card's tooltip says what the layer does and works the lecture's size and parameter
formulas with this layer's own numbers.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from ...core.formulas import fmt_count, fmt_shape
from ...core.layer_cards import LayerText
from ...core.thumbnails import GAP_INDEX, thumbnail_indices
from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP

__all__ = ["KIND_COLORS", "LayerCard", "NetworkStrip", "Thumbnail", "fmt_shape", "thumbnail_image",
           "tooltip_html"]

# Card colours by layer kind (border / light fill), so blocks are easy to see in the row.
KIND_COLORS = {
    "input": ("#555555", "#f2f2f2"),
    "conv": ("#1f5fbf", "#e8f0fc"),
    "batchnorm": ("#7a3fb0", "#f3ecfa"),
    "activation": ("#c76a00", "#fdf1e3"),
    "pool": ("#2c8a3a", "#e9f6eb"),
    "dropout": ("#777777", "#f4f4f4"),
    "flatten": ("#8a6d00", "#fbf6e0"),
    "dense": ("#a3243b", "#fbe9ec"),
    "total": ("#333333", "#ffffff"),
}

THUMB_W, THUMB_H = 112, 56
BLANK_FILL = QColor(0, 0, 0, 28)  # a thumbnail with nothing to show: a faint grey box


def tooltip_html(t: LayerText) -> str:
    keras = ""
    if t.has_maps:
        c, h, w = t.shape
        keras = f" (Keras writes it {h}×{w}×{c})"
    return (f"<b>{t.name}</b> — {t.label}<br>{t.explanation}<br><br>"
            f"<b>Output</b> {fmt_shape(t.shape)}{keras}: {t.shape_formula}<br>"
            f"<b>Parameters</b>: {t.param_formula}<br><i>Click to see this layer's output.</i>")


# ---------------------------------------------------------------------------------------
# Thumbnails: numpy -> 8-bit indexed QImage with the colour map's table


def _color_table(cmap) -> list[int]:
    lut = cmap.getLookupTable(nPts=255, alpha=False)
    table = [0xFF000000 | (int(r) << 16) | (int(g) << 8) | int(b) for r, g, b in lut]
    return table + [0xFFFFFFFF] * (256 - GAP_INDEX)  # the gaps between maps: white


_TABLES: dict[int, list[int]] = {}


def _table(cmap) -> list[int]:
    key = id(cmap)
    if key not in _TABLES:
        _TABLES[key] = _color_table(cmap)
    return _TABLES[key]


def thumbnail_image(value: np.ndarray) -> QImage:
    u8, signed = thumbnail_indices(value)
    h, w = u8.shape
    img = QImage(u8.data, w, h, u8.strides[0], QImage.Format.Format_Indexed8)
    img.setColorTable(_table(SIGNED_CMAP if signed else UNSIGNED_CMAP))
    return img.copy()  # detach from the numpy buffer


class Thumbnail(QWidget):
    """Draws a layer output as a small picture scaled to fit (nearest pixel, no smoothing:
    pixels stay crisp). The picture is made when the thumbnail is painted, so cards scrolled
    out of view cost nothing while the pen moves."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedSize(THUMB_W, THUMB_H)
        self._value: np.ndarray | None = None  # the newest output, not drawn yet
        self._image: QImage | None = None

    def set_value(self, value: np.ndarray) -> None:
        self._value = value
        self.update()

    def set_blank(self) -> None:
        """Nothing to show (no digit found): a plain grey box, not a constant output
        stretched to a solid colour."""
        self._value = None
        self._image = None
        self.update()

    def is_blank(self) -> bool:
        return self._value is None and self._image is None

    def image(self) -> QImage | None:
        """The picture for the newest output (made now if it was not painted yet)."""
        if self._value is not None:
            self._image, self._value = thumbnail_image(self._value), None
        return self._image

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        image = self.image()
        if image is None or image.isNull():
            painter = QPainter(self)
            painter.fillRect(self.rect().adjusted(8, 4, -8, -4), BLANK_FILL)
            painter.end()
            return
        painter = QPainter(self)
        iw, ih = image.width(), image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        target = QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)
        painter.drawImage(target, image)
        painter.end()


# ---------------------------------------------------------------------------------------
# Cards


class LayerCard(QFrame):
    clicked = Signal(str)

    def __init__(self, text: LayerText, parent: QWidget | None = None):
        super().__init__(parent)
        self.text = text
        self.name = text.name
        self.setObjectName("layerCard")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(tooltip_html(text))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(1)
        self.title = QLabel(f"<b>{text.name}</b>")
        self.kind_label = QLabel(text.label)
        self.thumb = Thumbnail()
        self.thumb.setToolTip(self.toolTip())
        self.shape_label = QLabel(fmt_shape(text.shape))
        self.params_label = QLabel(f"{fmt_count(text.parameters)} params")
        for lab in (self.title, self.kind_label, self.shape_label, self.params_label):
            lab.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        small = self.kind_label.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        self.kind_label.setFont(small)
        self.params_label.setFont(small)
        layout.addWidget(self.title)
        layout.addWidget(self.kind_label)
        layout.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.shape_label)
        layout.addWidget(self.params_label)
        self.setFixedWidth(THUMB_W + 16)
        self._selected = False
        self._restyle()

    def set_selected(self, selected: bool) -> None:
        if selected != self._selected:
            self._selected = selected
            self._restyle()

    def is_selected(self) -> bool:
        return self._selected

    def _restyle(self) -> None:
        border, fill = KIND_COLORS.get(self.text.kind, KIND_COLORS["dropout"])
        if self._selected:
            self.setStyleSheet(f"#layerCard {{ background: {fill}; border: 3px solid {border}; "
                               f"border-radius: 6px; }}")
        else:
            self.setStyleSheet(f"#layerCard {{ background: {fill}; border: 1px solid {border}; "
                               f"border-radius: 6px; }}")

    def set_output(self, value: np.ndarray) -> None:
        self.thumb.set_value(value)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self.name)
        super().mousePressEvent(event)


class NetworkStrip(QScrollArea):
    """A horizontal, scrollable row: input, one card per layer, total parameters.

    layer_clicked(name) when a card is clicked; set_selected(name) highlights one.
    """

    layer_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._inner = QWidget()
        self._row = QHBoxLayout(self._inner)
        self._row.setContentsMargins(4, 4, 4, 4)
        self._row.setSpacing(2)
        self.setWidget(self._inner)
        self.cards: dict[str, LayerCard] = {}
        self.texts: list[LayerText] = []
        self.total_label: QLabel | None = None
        self._selected: str | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("The network, layer by layer, with what each layer outputs now. "
                        "Click a layer (or use the ← → keys here) to see its output in full.")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(800, self._card_height() + 26)

    def _card_height(self) -> int:
        fm = self.fontMetrics()
        return THUMB_H + 4 * fm.height() + 20

    def set_network(self, texts: list[LayerText]) -> None:
        while self._row.count():
            item = self._row.takeAt(0)
            w = item.widget()
            if w is not None:
                w.deleteLater()
        self.cards = {}
        self.texts = list(texts)
        for i, text in enumerate(texts):
            if i:
                arrow = QLabel("→")
                arrow.setStyleSheet("color: #888; font-size: 14pt;")
                self._row.addWidget(arrow)
            card = LayerCard(text)
            card.clicked.connect(self.layer_clicked)
            self.cards[text.name] = card
            self._row.addWidget(card)
        total = sum(t.parameters for t in texts)
        self.total_label = QLabel(f"<b>Total</b><br>{fmt_count(total)}<br>parameters")
        self.total_label.setObjectName("layerCard")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.total_label.setStyleSheet("#layerCard { border: 1px solid #333; border-radius: 6px; "
                                       "background: white; padding: 4px; }")
        self.total_label.setToolTip(
            "All trainable numbers (weights and biases) in the network, the sum of the cards' "
            "parameter counts — the lecture's “Total Parameters” table.\n"
            + "\n".join(f"{t.name}: {fmt_count(t.parameters)}" for t in texts if t.parameters))
        self._row.addWidget(QLabel("="))
        self._row.addWidget(self.total_label)
        self._row.addStretch(1)
        h = self._card_height()
        for card in self.cards.values():
            card.setFixedHeight(h)
        self.total_label.setFixedHeight(h)
        self.setFixedHeight(h + 8 + self.horizontalScrollBar().sizeHint().height() + 4)
        self._selected = None

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        names = list(self.cards)
        step = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}.get(event.key())
        if step is None or not names:
            super().keyPressEvent(event)
            return
        i = names.index(self._selected) if self._selected in names else 0
        j = min(max(i + step, 0), len(names) - 1)
        if j != i:
            self.layer_clicked.emit(names[j])

    def set_selected(self, name: str | None) -> None:
        for card_name, card in self.cards.items():
            card.set_selected(card_name == name)
        self._selected = name
        if name in self.cards:
            self.ensureWidgetVisible(self.cards[name], 40, 0)

    def set_outputs(self, layers: list[tuple[str, np.ndarray]], blank: bool = False) -> None:
        """Each card's thumbnail from its output. blank: nothing was found to read, so the
        layers' outputs are constants (biases) and every card but the input shows an empty
        grey box."""
        for name, value in layers:
            card = self.cards.get(name)
            if card is None:
                continue
            if blank and name != "input":
                card.thumb.set_blank()
            else:
                card.set_output(value)

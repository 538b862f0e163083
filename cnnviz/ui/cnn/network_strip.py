"""The network as a row of layer cards: name, type, output shape, parameters, and a live
thumbnail of what the layer outputs now, so every layer's output is visible at once; a conv
or pool card also says how large a square of the input one of its units sees ("RF 5×5").

The texts are cnnviz.core.networks.layer_cards's (from the layer specs, quoting the lecture): each
card's tooltip says what the layer does and works the lecture's size and parameter
formulas with this layer's own numbers.
"""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from ...core.basics.formulas import fmt_count, fmt_count_short, fmt_shape
from ...core.networks.layer_cards import LayerText
from ...core.pictures.thumbnails import GAP_INDEX, thumbnail_indices
from ..widgets.file_text import as_html, shown
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
# While the pen moves, this many of the thumbnails in view take each new result (those
# shown longest first), so each is at most a few results behind; when the pen is lifted
# every thumbnail takes the final one.
LIVE_THUMBNAILS = 4
COMPACT_W, COMPACT_H = 52, 26  # the thumbnail when the cards must be small to fit
CARD_NAME_CHARS = 30  # a card's title: a longer layer name is shortened (the tooltip has more)
BLANK_FILL = QColor(0, 0, 0, 28)  # a thumbnail with nothing to show: a faint grey box


def _words(text: str) -> str:
    """Plain words inside rich text: escaped, lines kept (a layer's name and words may come
    from a model file)."""
    return html.escape(str(text)).replace("\n", "<br>")


def tooltip_html(t: LayerText) -> str:
    keras = ""
    if t.has_maps:
        c, h, w = t.shape
        keras = f" (Keras writes it {h}×{w}×{c})"
    return (f"<b>{as_html(t.name)}</b> — {as_html(t.label)}<br>{_words(t.explanation)}<br><br>"
            f"<b>Output</b> {fmt_shape(t.shape)}{keras}: {_words(t.shape_formula)}<br>"
            f"<b>Parameters</b>: {_words(t.param_formula)}<br>{field_html(t)}"
            f"<i>Click to see this layer's output.</i>")


def field_html(t: LayerText) -> str:
    """The tooltip's receptive-field paragraph ("" for a layer without one)."""
    if not t.field_label or t.field_size is None:
        return ""
    return (f"<b>Receptive field</b> {t.field_size[0]}×{t.field_size[1]}: "
            f"{_words(t.field_words)}<br>")


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


def thumbnail_image(value: np.ndarray, fit: tuple[int, int] | None = None) -> QImage:
    """The thumbnail as an 8-bit indexed picture; fit (width, height): no larger than this
    (sampled down as a painter would draw it, so only the pixels shown are worked out)."""
    u8, signed = thumbnail_indices(value, fit)
    h, w = u8.shape
    img = QImage(u8.data, w, h, u8.strides[0], QImage.Format.Format_Indexed8)
    img.setColorTable(_table(SIGNED_CMAP if signed else UNSIGNED_CMAP))
    return img.copy()  # detach from the numpy buffer


class Thumbnail(QWidget):
    """Draws a layer output as a small picture scaled to fit (nearest pixel, no smoothing:
    pixels stay crisp). The picture is made when the thumbnail is painted, at the size it is
    shown, so cards scrolled out of view cost nothing while the pen moves. It paints its
    whole box (in the card's colour around the picture): the card under it is not
    repainted with it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFixedSize(THUMB_W, THUMB_H)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._value: np.ndarray | None = None  # the newest output
        self._image: QImage | None = None
        self._drawn = QImage()  # the picture converted for painting
        self._made_for: tuple[int, int] | None = None  # (box size, when _image was made)
        self._background = QColor(255, 255, 255)
        self.refreshed = 0  # when it last took a new output (NetworkStrip's count)

    def set_background(self, colour: QColor) -> None:
        """The colour around the picture (the card's)."""
        self._background = QColor(colour)
        self.update()

    def set_value(self, value: np.ndarray) -> None:
        self._value = value
        self._image = None
        self.update()

    def set_blank(self) -> None:
        """Nothing to show (no digit found): a plain grey box, not a constant output
        stretched to a solid colour."""
        self._value = None
        self._image = None
        self.update()

    def is_blank(self) -> bool:
        return self._value is None

    def image(self) -> QImage | None:
        """The picture for the newest output, at most the box's size (made now if it was
        not painted yet, or the box changed size since)."""
        size = (self.width(), self.height())
        if self._value is not None and (self._image is None or self._made_for != size):
            self._image, self._made_for = thumbnail_image(self._value, size), size
            # what is painted: 32-bit (Qt draws an indexed picture many times more slowly)
            self._drawn = self._image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
        return self._image

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.fillRect(self.rect(), self._background)
        image = self._drawn if self.image() is not None else None
        if image is None or image.isNull():
            painter.fillRect(self.rect().adjusted(8, 4, -8, -4), BLANK_FILL)
            painter.end()
            return
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
        self.title = QLabel(f"<b>{as_html(text.name, CARD_NAME_CHARS)}</b>")
        self.kind_label = QLabel(shown(text.label))
        self.kind_label.setTextFormat(Qt.TextFormat.PlainText)
        self.thumb = Thumbnail()
        self.thumb.setToolTip(self.toolTip())
        self.thumb.set_background(QColor(KIND_COLORS.get(text.kind, KIND_COLORS["dropout"])[1]))
        self.shape_label = QLabel(fmt_shape(text.shape))
        self.params_label = QLabel(f"{fmt_count(text.parameters)} params")
        # (on every card, empty where there is no field, so the cards' lines stay level)
        self.field_label = QLabel(text.field_label)
        for lab in (self.title, self.kind_label, self.shape_label, self.params_label,
                    self.field_label):
            lab.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        small = self.kind_label.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        self.kind_label.setFont(small)
        self.params_label.setFont(small)
        self.field_label.setFont(small)
        layout.addWidget(self.title)
        layout.addWidget(self.kind_label)
        layout.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.shape_label)
        layout.addWidget(self.params_label)
        layout.addWidget(self.field_label)
        self.setFixedWidth(self.width_for(False))
        self._selected = False
        self.compact = False
        self._restyle()

    def set_compact(self, compact: bool) -> None:
        """Compact: a smaller thumbnail, no type line and the parameter count rounded
        ("18.5k params"; the tooltip and the info line under the strip say it exactly), so
        more of the network fits the width."""
        if compact == self.compact:
            return
        self.compact = compact
        w, h = (COMPACT_W, COMPACT_H) if compact else (THUMB_W, THUMB_H)
        self.thumb.setFixedSize(w, h)
        self.kind_label.setVisible(not compact)
        self.shape_label.setFont(self._font("shape", compact))
        self.params_label.setFont(self._font("params", compact))
        self.params_label.setText(self._params_text(compact))
        self.field_label.setFont(self._font("params", compact))
        # compact: the width is the widest line + 6 (a selected card's 2 px border and
        # 1 px margin on each side), so nothing is cut even when selected
        layout = self.layout()
        if layout is not None:  # (the card's own, made in __init__)
            layout.setContentsMargins(*((1, 2, 1, 2) if compact else (6, 4, 6, 4)))
        self.setFixedWidth(self.width_for(compact))
        self._restyle()

    def _font(self, line: str, compact: bool) -> QFont:
        font = QFont(self.title.font())
        font.setBold(False)
        size = font.pointSizeF()
        if line == "params" or compact:
            size = max(7.0, size * 0.9)  # the small print
        if compact:
            size = max(6.5, size * 0.93)
        font.setPointSizeF(size)
        return font

    def _params_text(self, compact: bool) -> str:
        count = fmt_count_short if compact else fmt_count
        return f"{count(self.text.parameters)} params"

    def width_for(self, compact: bool) -> int:
        """The card's width: its thumbnail's, or its widest line's if that is wider."""
        if not compact:
            return THUMB_W + 16
        bold = QFont(self.title.font())
        bold.setBold(True)
        widest = max(QFontMetrics(bold).horizontalAdvance(shown(self.name, CARD_NAME_CHARS)),
                     QFontMetrics(self._font("shape", True)).horizontalAdvance(
                         self.shape_label.text()),
                     QFontMetrics(self._font("params", True)).horizontalAdvance(
                         self._params_text(True)),
                     QFontMetrics(self._font("params", True)).horizontalAdvance(
                         self.field_label.text()))
        return max(COMPACT_W, widest) + 6

    def set_selected(self, selected: bool) -> None:
        if selected != self._selected:
            self._selected = selected
            self._restyle()

    def is_selected(self) -> bool:
        return self._selected

    def _restyle(self) -> None:
        border, fill = KIND_COLORS.get(self.text.kind, KIND_COLORS["dropout"])
        if self._selected:
            width = 2 if getattr(self, "compact", False) else 3
            self.setStyleSheet(f"#layerCard {{ background: {fill}; border: {width}px solid {border}; "
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
    """The network as a row of cards: input, one card per layer, total parameters.

    The row fits the width if it can: full-size cards; else compact cards; else compact
    cards on two rows (when set_max_rows allows it); else one row of compact cards that
    scrolls, with the mouse wheel too (a plain wheel turns into a sideways scroll).

    layer_clicked(name) when a card is clicked; set_selected(name) highlights one.
    """

    layer_clicked = Signal(str)
    SPACING = 2
    COMPACT_SPACING = 4  # (compact cards have no arrows between them)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._inner = QWidget()
        self._rows = QVBoxLayout(self._inner)
        self._rows.setContentsMargins(4, 4, 4, 4)
        self._rows.setSpacing(4)
        self.setWidget(self._inner)
        self.cards: dict[str, LayerCard] = {}
        self.texts: list[LayerText] = []
        self.total_label: QLabel | None = None
        self._items: list[QWidget] = []  # cards, arrows and the total, in order
        self._selected: str | None = None
        self.max_rows = 1
        self.rows = 1  # how many rows the cards take now
        self._results = 0  # results shown (set_outputs calls)
        self._layout_key: tuple = ()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("The network, layer by layer, with what each layer outputs now. "
                        "Click a layer (or use the ← → keys here) to see its output in full; "
                        "the mouse wheel scrolls the row when it is wider than the window.")

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(800, self.height())

    def _card_height(self, compact: bool) -> int:
        fm = self.fontMetrics()
        if compact:  # name, shape, parameters, receptive field
            return COMPACT_H + 4 * fm.height() + 16
        return THUMB_H + 5 * fm.height() + 18  # and the type

    def set_network(self, texts: list[LayerText]) -> None:
        for w in self._items:  # (Qt deletes them; a Python-side setParent(None) would
            w.hide()  # hand them to Python as well: deleted twice)
            w.deleteLater()
        self._items = []
        self.cards = {}
        self.texts = list(texts)
        for i, text in enumerate(texts):
            if i:
                self._items.append(self._arrow("→"))
            card = LayerCard(text)
            card.clicked.connect(self.layer_clicked)
            self.cards[text.name] = card
            self._items.append(card)
        total = sum(t.parameters for t in texts)
        self.total_label = QLabel(f"<b>Total</b><br>{fmt_count(total)}<br>parameters")
        self._total = total
        self.total_label.setObjectName("layerCard")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.total_label.setStyleSheet("#layerCard { border: 1px solid #333; border-radius: 6px; "
                                       "background: white; padding: 4px; }")
        self.total_label.setToolTip(
            "All trainable numbers (weights and biases) in the network, the sum of the cards' "
            "parameter counts — the lecture's “Total Parameters” table.\n"
            + "\n".join(f"{t.name}: {fmt_count(t.parameters)}" for t in texts if t.parameters))
        self._items += [self._arrow("="), self.total_label]
        self._selected = None
        self._layout_key = ()
        self._arrange()

    def _total_text(self, compact: bool) -> str:
        return f"<b>Total</b><br>{fmt_count(self._total)}<br>{'params' if compact else 'parameters'}"

    def _arrow(self, text: str) -> QLabel:
        arrow = QLabel(text)
        arrow.setStyleSheet("color: #888; font-size: 11pt;")
        arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return arrow

    def set_max_rows(self, rows: int) -> None:
        """How many rows the cards may take (the explorer allows two when it is tall)."""
        rows = max(1, int(rows))
        if rows != self.max_rows:
            self.max_rows = rows
            self._arrange()

    def _row_width(self, items: list[QWidget], compact: bool) -> int:
        width = 0
        for w in items:
            if isinstance(w, LayerCard):
                width += w.width_for(compact)
            elif self._is_arrow(w):
                if compact:
                    continue  # hidden
                width += w.sizeHint().width()
            elif w is self.total_label:
                fm = w.fontMetrics()
                width += max(fm.horizontalAdvance(f"{self._total:,}"),
                             fm.horizontalAdvance("params" if compact else "parameters")) + 12
            else:
                width += w.sizeHint().width()
        shown = [w for w in items if not (compact and self._is_arrow(w))]
        spacing = self.COMPACT_SPACING if compact else self.SPACING
        return width + spacing * max(0, len(shown) - 1) + 8

    @staticmethod
    def _is_arrow(w: QWidget) -> bool:
        return isinstance(w, QLabel) and w.text() == "→"

    def _split(self, rows: int, compact: bool = True) -> list[list[QWidget]]:
        """The items on `rows` rows (one or two), split where the wider row is narrowest; the
        second row starts with the arrow that leads to its first card."""
        items = list(self._items)
        if rows <= 1:
            return [items]
        starts = [i for i, w in enumerate(items) if isinstance(w, LayerCard) and i > 0]
        best = None
        for i in starts:  # items[i - 1] is the arrow before card i
            first, second = items[:i - 1], items[i - 1:]
            wide = max(self._row_width(first, compact), self._row_width(second, compact))
            if best is None or wide < best[0]:
                best = (wide, [first, second])
        return best[1] if best else [items]

    def _arrange(self) -> None:
        total = self.total_label
        if not self._items or total is None:  # (the total comes with the cards)
            return
        room = self.viewport().width() if self.isVisible() else self.width()
        compact, rows = False, 1
        if self._row_width(self._items, False) > room:
            compact = True
            if (self.max_rows >= 2 and self._row_width(self._items, True) > room
                    and max(self._row_width(r, True) for r in self._split(2)) <= room):
                rows = 2
        key = (compact, rows, len(self._items))
        if key == self._layout_key:
            return
        self._layout_key = key
        self.rows = rows
        while self._rows.count():
            item = self._rows.takeAt(0)
            row_layout = item.layout() if item is not None else None
            if row_layout is not None:
                while row_layout.count():
                    row_layout.takeAt(0)
        for card in self.cards.values():
            card.set_compact(compact)
        for w in self._items:  # compact: no arrows between the cards (the row needs the
            if self._is_arrow(w):  # room; the cards still read left to right)
                w.setVisible(not compact)
        total.setText(self._total_text(compact))
        h = self._card_height(compact)
        for card in self.cards.values():
            card.setFixedHeight(h)
        total.setFixedHeight(h)
        for row_items in self._split(rows):
            row = QHBoxLayout()
            row.setSpacing(self.COMPACT_SPACING if compact else self.SPACING)
            row.setContentsMargins(0, 0, 0, 0)
            for w in row_items:
                row.addWidget(w)
            row.addStretch(1)
            self._rows.addLayout(row)
        scroll = 0 if rows > 1 else self.horizontalScrollBar().sizeHint().height() + 4
        self.setFixedHeight(rows * h + (rows - 1) * self._rows.spacing() + 8 + scroll + 4)
        if self._selected in self.cards:
            self.ensureWidgetVisible(self.cards[self._selected], 40, 0)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._arrange()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._arrange()

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """A plain wheel (up/down) scrolls the row sideways; a sideways wheel or touchpad
        swipe as it is. When the row does not scroll, the window gets the wheel."""
        bar = self.horizontalScrollBar()
        delta = event.angleDelta()
        step = delta.x() if abs(delta.x()) > abs(delta.y()) else delta.y()
        if bar.maximum() <= 0 or step == 0:
            event.ignore()
            return
        # one notch (120) moves about one card
        bar.setValue(bar.value() - int(round(step / 120 * (COMPACT_W + 16))))
        event.accept()

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

    def set_outputs(self, layers: list[tuple[str, np.ndarray]], blank: bool = False,
                    paced: bool = False) -> None:
        """Each card's thumbnail from its output. blank: nothing was found to read, so the
        layers' outputs are constants (biases) and every card but the input shows an empty
        grey box. paced (the pen is moving): of the thumbnails in view, only the
        LIVE_THUMBNAILS that took a result longest ago take this one (those out of view
        take it: they cost nothing until they are scrolled into view)."""
        self._results += 1
        in_view = []
        for name, value in layers:
            card = self.cards.get(name)
            if card is None:
                continue
            if paced and not card.thumb.visibleRegion().isEmpty():
                in_view.append((card, name, value))
            else:
                self._show_output(card, name, value, blank)
        in_view.sort(key=lambda item: item[0].thumb.refreshed)  # (stable: left first)
        for card, name, value in in_view[:LIVE_THUMBNAILS]:
            self._show_output(card, name, value, blank)

    def _show_output(self, card: LayerCard, name: str, value: np.ndarray, blank: bool) -> None:
        card.thumb.refreshed = self._results
        if blank and name != "input":
            card.thumb.set_blank()
        else:
            card.set_output(value)

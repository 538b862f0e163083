"""The network as a row of layer cards: name, type, output shape, parameters, and a live
thumbnail of what the layer outputs now, so every layer's output is visible at once.

The texts quote the lecture (/work/shared/seed/cnn-lecture.md): each card's tooltip says
what the layer does and works the lecture's size and parameter formulas with this layer's
own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP

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


def fmt_shape(shape) -> str:
    return "×".join(str(int(v)) for v in shape)


@dataclass(frozen=True)
class LayerText:
    """What a card and the info line say about one layer."""

    name: str
    kind: str  # conv, batchnorm, activation, pool, dropout, flatten, dense, or "input"
    label: str  # "Conv 32 3x3 s1 p0"
    shape: tuple[int, ...]
    in_shape: tuple[int, ...]
    parameters: int
    shape_formula: str  # the lecture's size rule with this layer's numbers
    param_formula: str  # the lecture's parameter rule with this layer's numbers
    explanation: str  # plain words, quoting the lecture


def _spec_value(spec, key, default=None):
    return getattr(spec, key, default) if spec is not None else default


def describe_layers(model) -> list[LayerText]:
    """Cards for a cnnviz.core.models.Network: the input first, then one per layer."""
    arch = model.arch
    in_shape = tuple(arch.input_shape)
    texts = [LayerText(
        "input", "input", "Input", in_shape, in_shape, 0,
        f"{in_shape[0]} channel{'s' if in_shape[0] != 1 else ''} of {in_shape[1]}×{in_shape[2]} "
        "pixels",
        "no parameters",
        "The picture the network sees: your drawing after the MNIST-style preprocessing "
        "(cropped to the ink, scaled to fit 20×20, centred by its centre of mass in a "
        "28×28 frame, white ink on black, values 0 to 1)."
        + (f" Inside the network it is first normalised: (x − {arch.input_mean:g}) / "
           f"{arch.input_std:g}." if (arch.input_mean, arch.input_std) != (0.0, 1.0) else ""))]
    prev = in_shape
    for info, spec in zip(model.layer_infos, arch.layers):
        texts.append(_describe(info, spec, prev))
        prev = tuple(info.output_shape)
    return texts


def _axis_formula(n: int, f: int, s: int, p: int) -> str:
    out = (n + 2 * p - f) // s + 1
    return f"({n} + 2×{p} − {f}) / {s} + 1 = {out}"


def _describe(info, spec, in_shape) -> LayerText:
    kind, shape, params = info.kind, tuple(info.output_shape), int(info.parameters)
    shape_formula = f"{fmt_shape(in_shape)} → {fmt_shape(shape)} (same shape)"
    param_formula = "no trainable parameters"
    if kind == "conv":
        (kh, kw), (sh, sw), (ph, pw) = spec.kernel, spec.stride, spec.padding
        c_in = in_shape[0]
        rows = _axis_formula(in_shape[1], kh, sh, ph)
        if (in_shape[1], kh, sh, ph) == (in_shape[2], kw, sw, pw):
            shape_formula = f"(n + 2p − f) / s + 1 = {rows}, so {fmt_shape(shape)}"
        else:
            shape_formula = (f"rows {rows}; columns {_axis_formula(in_shape[2], kw, sw, pw)}, "
                             f"so {fmt_shape(shape)}")
        param_formula = (f"((height × width × depth) + bias) × filters = "
                         f"(({kh}×{kw}×{c_in}) + 1) × {spec.filters} = {params:,}")
        explanation = (
            f"Convolution: “a weighted sum of the pixel values of the image as the window slides "
            f"across the whole image”. Each of the {spec.filters} filters holds {kh}×{kw}×{c_in} "
            f"learned weights and one bias and makes one feature map; it looks at all {c_in} "
            f"input map{'s' if c_in != 1 else ''} at once.")
    elif kind == "activation":
        what = _spec_value(spec, "kind", "relu")
        explanation = {
            "relu": "ReLU: “change all negative values to zero, leave all positive values "
                    "alone”: f(x) = max(0, x).",
            "leaky_relu": "Leaky ReLU: like ReLU, but negative values are multiplied by a small "
                          "slope (0.01) instead of set to zero.",
            "elu": "ELU (exponential linear unit): x for x > 0, e^x − 1 below zero.",
            "tanh": "Tanh: “its output always lies between −1 and 1 no matter what inputs are”.",
            "sigmoid": "Sigmoid: “its output always lies between 0 and 1 no matter what inputs "
                       "are”.",
            "softmax": f"Softmax: turns the {shape[0]} scores into probabilities that add up "
                       "to 1: p_i = e^(z_i) / Σ_j e^(z_j). The largest is the network's answer.",
        }.get(what, f"Activation {what}.")
        if what != "softmax":  # the lecture's reason for activations is not what softmax is for
            explanation += (" “Activation function is used to introduce non-linearity in the "
                            "system.”")
    elif kind == "pool":
        size, stride, what = spec.size, spec.stride, spec.kind
        shape_formula = (f"({in_shape[1]} − {size}) / {stride} + 1 = {shape[1]}, "
                         f"so {fmt_shape(shape)}")
        keep = {"max": "largest", "min": "smallest", "avg": "average"}.get(what, what)
        explanation = (f"{what.capitalize()} pooling: “a process of subsample (shrink the image) to "
                       f"reduce the computation”. Each {size}×{size} window (stride {stride}) keeps "
                       f"its {keep} value, separately in each of the {shape[0]} maps.")
    elif kind == "batchnorm":
        channels = in_shape[0]
        param_formula = f"γ and β per channel: 2 × {channels} = {params:,} (Keras also lists " \
                        f"μ and σ² as {2 * channels:,} non-trainable)"
        explanation = ("Batch normalisation: x̂ = (x − μ) / √(σ² + ε), then scaled by γ and "
                       "shifted by β. While the app runs the model (testing), μ and σ² are the "
                       "averages remembered from training.")
    elif kind == "dropout":
        explanation = (f"Dropout (p = {spec.p:g}): during training it switches off random units; "
                       "“we randomly add dropout only during the training time, (testing time, "
                       "we activate back all nodes)”. Here the model is being used, not trained, "
                       "so this layer passes its input through unchanged.")
    elif kind == "flatten":
        if len(in_shape) == 3:
            c, h, w = in_shape
            shape_formula = f"{h} × {w} × {c} = {shape[0]:,} numbers in one row"
        explanation = ("Flatten: lays the feature maps end to end as one long list of numbers "
                       "for the fully connected layers (in the lecture's deep CNN: 12 × 12 × 64 = 9,216). Nothing "
                       "is computed.")
    else:  # dense
        n_in = in_shape[0]
        shape_formula = f"{n_in:,} inputs → {shape[0]:,} units"
        param_formula = (f"(input nodes + bias) × output nodes = ({n_in:,} + 1) × {shape[0]:,} "
                         f"= {params:,}")
        explanation = ("Fully connected (dense): every unit is a weighted sum of all "
                       f"{n_in:,} inputs plus a bias. Fully connected layers “learn global "
                       "patterns whereas convolution layers learn local pattern”.")
    return LayerText(info.name, kind, info.label, shape, tuple(in_shape), params, shape_formula,
                     param_formula, explanation)


def tooltip_html(t: LayerText) -> str:
    keras = ""
    if len(t.shape) == 3:
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
    return table + [0xFFFFFFFF]


_TABLES: dict[int, list[int]] = {}


def _table(cmap) -> list[int]:
    key = id(cmap)
    if key not in _TABLES:
        _TABLES[key] = _color_table(cmap)
    return _TABLES[key]


def thumbnail_array(value: np.ndarray) -> tuple[np.ndarray, bool]:
    """A small 2-D picture of a layer output (all maps side by side with 1-pixel NaN gaps,
    or a vector folded into rows) as float32, and whether the data is signed."""
    v = np.asarray(value, dtype=np.float32)
    if v.ndim == 3:
        c, h, w = v.shape
        cols = int(np.ceil(np.sqrt(c * 2 * h / max(w, 1)))) if c > 1 else 1
        cols = max(1, min(c, cols))
        rows = -(-c // cols)
        slots = np.full((rows * cols, h, w), np.nan, np.float32)
        slots[:c] = v
        out = np.full((rows, h + 1, cols, w + 1), np.nan, np.float32)
        out[:, :h, :, :w] = slots.reshape(rows, cols, h, w).transpose(0, 2, 1, 3)
        out = out.reshape(rows * (h + 1), cols * (w + 1))[:-1, :-1]
    else:
        n = v.size
        cols = int(np.ceil(np.sqrt(n * 2))) if n > 16 else max(n, 1)
        rows = -(-n // cols)
        out = np.full(rows * cols, np.nan, np.float32)
        out[:n] = v.ravel()
        out = out.reshape(rows, cols)
    signed = bool(np.nanmin(out) < 0) if out.size and np.isfinite(out).any() else False
    return out, signed


def thumbnail_image(value: np.ndarray) -> QImage:
    out, signed = thumbnail_array(value)
    finite = np.isfinite(out)
    m = float(np.nanmax(np.abs(out))) if finite.any() else 1.0
    m = m if m > 0 else 1.0
    # Indices 0..254 carry the colour map; 255 is the white gap between maps.
    scaled = (out / m + 1.0) * 127.0 if signed else out / m * 254.0
    u8 = np.ascontiguousarray(np.where(finite, np.clip(scaled, 0, 254), 255).astype(np.uint8))
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

    def image(self) -> QImage | None:
        """The picture for the newest output (made now if it was not painted yet)."""
        if self._value is not None:
            self._image, self._value = thumbnail_image(self._value), None
        return self._image

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        image = self.image()
        if image is None or image.isNull():
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
        self.params_label = QLabel(f"{text.parameters:,} params" if text.parameters
                                   else "0 params")
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
        self.total_label = QLabel(f"<b>Total</b><br>{total:,}<br>parameters")
        self.total_label.setObjectName("layerCard")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.total_label.setStyleSheet("#layerCard { border: 1px solid #333; border-radius: 6px; "
                                       "background: white; padding: 4px; }")
        self.total_label.setToolTip(
            "All trainable numbers (weights and biases) in the network, the sum of the cards' "
            "parameter counts — the lecture's “Total Parameters” table.\n"
            + "\n".join(f"{t.name}: {t.parameters:,}" for t in texts if t.parameters))
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

    def set_outputs(self, layers: list[tuple[str, np.ndarray]]) -> None:
        for name, value in layers:
            card = self.cards.get(name)
            if card is not None:
                card.set_output(value)

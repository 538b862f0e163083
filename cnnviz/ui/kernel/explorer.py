"""The kernel explorer tab: one kernel on one image, the lecture's way.

Left: the controls (input source, kernel preset and editable grid, stride, padding,
activation, pooling, colour mode), in a column wide enough for a 7×7 kernel that scrolls when
the window is short. Right: the output-size formula with the current numbers, an amber note
when (W − F + 2P) / S + 1 is not whole (the size is floored like PyTorch and Keras, and the
rows and columns left out are marked on the input), a red banner when the numbers cannot work
at all, and five live panels: input ⊛ kernel -> convolution -> activation -> pooling. Point at
any output pixel to see the input window it came from (outlined on the input, padding
included) and its products written out like the lecture's Recap slides. Every panel's axes
are in the array's own pixel coordinates (a shrunk photo keeps its full-size numbers).

All arithmetic is cnnviz.core.filtering (Qt-free). It runs on a LatestRequestRunner, so a
12-megapixel photo never freezes the window: the newest request wins while the user types,
and a busy bar appears when a result takes longer than BUSY_DELAY_MS.
"""

from __future__ import annotations

import html
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGraphicsRectItem,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ...app_state import KernelSettings
from ...core import filtering
from ...core.filtering import FilterResult
from ...core.formulas import fmt_number, fmt_shape
from ...core.kernel_edits import grown_preset, matching_preset, resize_centred
from ...core.kernel_previews import KernelView, Preview, StageView, compute_view, display_levels
from ...core.kernels import PRESETS, KernelError, parse_kernel
from ...core.lecture_examples import LECTURE_EXAMPLES
from ...core.limits import MAX_GRID_KERNEL_SIDE, MAX_TYPED_PADDING, MAX_TYPED_POOL, MAX_TYPED_STRIDE
from ...core.pixel_explanations import (
    activation_text,
    channel_names,
    explain_conv_pixel,
    explain_pool_pixel,
    input_window,
)
from ...core.stage_names import ACTIVATION_CHOICES, ACTIVATION_NAMES, POOL_CHOICES, POOL_NAMES
from ..controllers import LatestRequestRunner
from ..widgets.plots import SIGNED_CMAP, UNSIGNED_CMAP, ImagePanel
from ..widgets.tooltips import wrapped_tooltip
from .grid import HINT_STYLE, LIMIT_STYLE, KernelGrid, LimitSpinBox, cell_texts

MAX_SIDE = MAX_GRID_KERNEL_SIDE

SETTINGS_GROUP = "KernelExplorer"
SMALL = 16  # arrays up to 16 x 16 show their numbers in the cells, like the slides
PAD_SHOWN = 64  # grey inputs up to this size are drawn with their zero padding
PREVIEW_SIDE = 800  # larger arrays are drawn as block means, at most this many pixels a side
BUSY_DELAY_MS = 150
# Padding up to 30 lets a 7×7 kernel meet far more zeros than pixels on a 28×28 digit; a
# kernel larger than the image itself can be tried on the lecture's 5×5 inputs.
MAX_STRIDE, MAX_PADDING, MAX_POOL = MAX_TYPED_STRIDE, MAX_TYPED_PADDING, MAX_TYPED_POOL

CONTROLS_WIDTH = 290  # at least; more if the fonts need it (see _build_ui)
COMPACT_PANEL = 220  # panels narrower than this leave out their colour bar
FORMULA_BIG_FROM = 760  # tab heights from which the formulas are drawn 1.2 times larger
CUSTOM_TEXT = "Custom (your own numbers)"
LIMITS_TEXT = f"Stride 1 to {MAX_STRIDE}, padding 0 to {MAX_PADDING}."

SOURCE_IMAGE = "image"
SOURCE_NETWORK = "network"
LECTURE_PREFIX = "lecture:"
CUSTOM = "custom"
CHANNEL_VIEWS = ("all", "0", "1", "2")

POOL_ITEMS = tuple((key, c.label) for key, c in POOL_CHOICES.items())
ACTIVATION_ITEMS = tuple((key, c.label, c.description) for key, c in ACTIVATION_CHOICES.items())
POOL_TIPS = {
    "max": "The max pooled output. Point at a pixel to see the values its window held and which "
           "one was kept (the largest).",
    "min": "The min pooled output. Point at a pixel to see the values its window held and which "
           "one was kept (the smallest).",
    "avg": "The average pooled output. Point at a pixel to see the values its window held and "
           "their mean (every value counts; none is picked).",
    "none": "Pooling is off: choose max, min or average under Activation and pooling.",
}

WINDOW_PEN = QColor("#ff8f00")  # the window that made the pixel under the mouse
POOL_PEN = QColor("#00a152")
PAD_PEN = QColor("#6d4c41")
LEFT_OUT_PEN = QColor("#e65100")  # rows and columns a floored size leaves out
NOTE_STYLE = ("QLabel { background: #fff3e0; color: #4e3400; border: 1px solid #ffb74d; "
              "padding: 5px; border-radius: 4px; }")
ERROR_STYLE = ("QLabel { background: #c62828; color: white; font-weight: bold; padding: 6px; "
               "border-radius: 4px; }")
FLOOR_COLOUR = "#a15c00"  # a floored formula: amber, not the red of an error

TIP_SOURCE = ("What to filter. The current image at full size (what you drew or opened), the "
              "28×28 input the network sees (after preprocessing; once a model has analysed the "
              "image), or one of the lecture's worked examples, with the slide's settings and "
              "answer, so you can check every number of the slides.")
TIP_PRESET = ("A ready-made kernel. The lecture's \"Detected features\" table (identity, three "
              "edge detectors, sharpen, box blur, Gaussian blur) and a few classics. "
              "\"Convolution Filters or Kernels detect features in images.\" Edit any cell to "
              "make your own.")
TIP_STRIDE = (f"Stride (1 to {MAX_STRIDE}): how many pixels the kernel moves between outputs. "
              "\"The stride is a step of sliding of small matrix over the image\"; \"Larger stride "
              "has less overlap\" and a smaller output: (W − F + 2P) / S + 1. When that is not a "
              "whole number, the last rows or columns the kernel cannot reach are left out, like "
              "PyTorch and Keras do, and a note says what would make it whole.")
TIP_PADDING = (f"Zero padding (0 to {MAX_PADDING}): rings of zeros added around the image before "
               "the kernel slides, so the edges get their own outputs and the size can stay the "
               "same (5×5 with padding 1 and a 3×3 kernel stays 5×5).")
TIP_LINK = "Use the same stride and padding for rows and columns (square steps, like the slides)."
TIP_ACTIVATION = ("The activation applied to every convolution output. \"Activation function is "
                  "used to introduce non-linearity in the system.\" ReLU: \"Change all negative "
                  "values to zero, leave all positive value alone\", f(x) = max(0, x). tanh lies "
                  "between −1 and 1, sigmoid between 0 and 1.")
TIP_POOL = ("Pooling: \"a process of subsample (shrink the image) to reduce the computation\". "
            "Max keeps the largest value of each window, min the smallest, average the mean. "
            "\"Typically, we use 2 × 2 kernel and stride of 2.\" Sizes are floored like Keras and "
            "torch: ⌊(W − F) / S⌋ + 1.")
TIP_POOL_SIZE = f"The pooling window's side, 1 to {MAX_POOL} (2 means 2×2 blocks)."
TIP_POOL_STRIDE = (f"How far the pooling window moves, 1 to {MAX_POOL}. \"A big stride in the pooling layer leads to "
                   "high information loss\"; \"In practice a stride of 2 was found to be effective.\"")
TIP_COLOUR = ("Colour images: \"Convolution on Color Image\" sums the kernel's response over the "
              "red, green and blue channels into ONE feature map, like a conv layer; or filter each "
              "channel alone and keep the colours (like a photo editor). Only for colour inputs.")
TIP_CHANNEL = "Per-channel mode: show all three filtered channels as colour, or one channel's numbers."


# --------------------------------------------------------------------------- worker side


ViewData = KernelView


# --------------------------------------------------------------------------- drawing helpers


def colour_for(levels: tuple[float, float]):
    signed, shown = display_levels(levels)
    return (SIGNED_CMAP if signed else UNSIGNED_CMAP), shown


class CellNumbers:
    """Numbers drawn on the cells of a small image (pg.TextItem, reused), black or white
    to stand out from the cell's colour. The font follows the cell size on screen; when the
    cells are too small to read, no numbers are drawn (the colours still are)."""

    def __init__(self, panel: ImagePanel):
        self.panel = panel
        self.items: list[pg.TextItem] = []
        self.texts: list[str] = []
        self.colours: list[bool] = []  # True: black text
        self.shape = (0, 0)
        self.origin = (0.0, 0.0)  # plot coordinates of cell (0, 0)'s top-left corner
        self._placed: tuple = ()
        self._px = 0
        self._shown = 0  # how many items are visible and up to date
        panel.plot.vb.sigResized.connect(self._apply)

    def clear(self) -> None:
        self.shape = (0, 0)
        self.texts = []
        self._apply()

    def visible_texts(self) -> list[str]:
        return [item.textItem.toPlainText() for item in self.items[:self._shown]]

    def show(self, texts: list[list[str]], values: np.ndarray, cmap, levels,
             origin: tuple[float, float] = (0.0, 0.0)) -> None:
        rows, cols = len(texts), len(texts[0]) if texts else 0
        self.origin = origin
        lo, hi = levels
        span = (hi - lo) or 1.0
        rgba = cmap.map(np.clip((np.asarray(values, np.float64) - lo) / span, 0, 1).ravel(),
                        mode="float")
        light = rgba[:, 0] * 0.299 + rgba[:, 1] * 0.587 + rgba[:, 2] * 0.114
        self.texts = [t for row in texts for t in row]
        self.colours = [bool(v > 0.55) for v in light]
        self.shape = (rows, cols)
        self._shown = 0  # texts changed: refresh every item
        self._apply()

    def _font_px(self) -> int:
        rows, cols = self.shape
        vb = self.panel.plot.vb
        cell = min(vb.width() / cols, vb.height() / rows)
        px = int(min(cell * 0.42, 20))
        if px < 8 or not self.texts:
            return px
        # The widest text must leave a gap to its neighbours ("1210" "1265" never touch)
        font = QFont()
        font.setPixelSize(px)
        widest = max(QFontMetrics(font).horizontalAdvance(t) for t in set(self.texts))
        room = cell * 0.8
        return px if widest <= room else int(px * room / widest)

    def _apply(self, *_args) -> None:
        rows, cols = self.shape
        n = rows * cols
        px = self._font_px() if n else 0
        if px < 8:  # nothing to draw, or too small to read
            for item in self.items[:max(self._shown, len(self.items))]:
                if item.isVisible():
                    item.hide()
            self._shown = 0
            return
        while len(self.items) < n:
            item = pg.TextItem("", anchor=(0.5, 0.5))
            item.setZValue(5)
            self.panel.plot.addItem(item, ignoreBounds=True)
            self.items.append(item)
        font = QFont()
        font.setPixelSize(px)
        refresh = self._shown != n or self._placed != (self.shape, self.origin)
        for i, item in enumerate(self.items):
            if i >= n:
                if item.isVisible():
                    item.hide()
                continue
            if refresh:
                r, c = divmod(i, cols)
                item.setText(self.texts[i])
                item.setColor(QColor("black") if self.colours[i] else QColor("white"))
                item.setPos(self.origin[0] + c + 0.5, self.origin[1] + r + 0.5)
            if refresh or px != self._px:
                item.setFont(font)
            item.show()
        self._px, self._placed, self._shown = px, (self.shape, self.origin), n


def set_panel_title(panel: ImagePanel, text: str) -> None:
    """The panel's title (it wraps to the panel's width; the tooltip has it whole)."""
    panel.set_title(text)


def _rect_item(color: QColor, width: float = 2.5, dashed: bool = False, fill: bool = False,
               alpha: int = 50):
    item = QGraphicsRectItem()
    pen = QPen(color)
    pen.setWidthF(width)
    pen.setCosmetic(True)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    item.setPen(pen)
    if fill:
        c = QColor(color)
        c.setAlpha(alpha)
        item.setBrush(QBrush(c))
    item.setZValue(10)
    item.hide()
    return item


def _combo() -> QComboBox:
    """A combo box that fits the narrow control column (long item texts are elided)."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


def _int_pair(value, default: tuple[int, int], low: int, high: int) -> tuple[int, int]:
    try:
        if isinstance(value, str):
            parts = [int(p) for p in value.replace("(", "").replace(")", "").split(",")]
        else:
            parts = [int(p) for p in value]
        if len(parts) == 2 and all(low <= p <= high for p in parts):
            return parts[0], parts[1]
    except (TypeError, ValueError):
        pass
    return default


def _as_bool(value, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


# Room a panel needs besides its image: left axis and colour bar with its labels across,
# title and bottom axis down (pixels, about, at the default font).
PANEL_EXTRA_W, PANEL_EXTRA_H = 105, 55


def image_side(width: int, height: int, columns: int) -> float:
    """About how large (pixels a side) each panel's image can be drawn with the six boxes
    in `columns` columns (2 or 3) of a width × height area."""
    rows = -(-6 // columns)
    return min(width / columns - PANEL_EXTRA_W, height / rows - PANEL_EXTRA_H)


def best_columns(width: int, height: int, current: int = 0) -> int:
    """2 or 3 columns, whichever draws the images larger. The current layout is kept unless
    the other is clearly better (10%), so a note appearing above the panels does not make
    them all jump to new places."""
    # Panels narrower than COMPACT_PANEL leave out their colour bar, and without it the
    # values cannot be read: such a layout must draw images clearly (30%) larger to win.
    sides = {c: image_side(width, height, c) / (1.3 if width / c < COMPACT_PANEL else 1.0)
             for c in (2, 3)}
    best = max(sides, key=lambda c: (sides[c], c))
    if current in sides and sides[best] <= 1.1 * sides[current]:
        return current
    return best


class PanelGrid(QWidget):
    """The six boxes in reading order (input, kernel, details / conv, activation, pooling):
    two or three columns, whichever draws the images larger (see best_columns)."""

    def __init__(self, widgets: list[QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self.widgets = widgets
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.columns = 0
        self._place(3)

    def _place(self, columns: int) -> None:
        if columns == self.columns:
            return
        for w in self.widgets:
            self.grid.removeWidget(w)
        order = self.widgets if columns == 3 else [self.widgets[i] for i in (0, 1, 3, 4, 5, 2)]
        for i, w in enumerate(order):
            self.grid.addWidget(w, i // columns, i % columns)
        rows = -(-len(order) // columns)
        for c in range(3):
            self.grid.setColumnStretch(c, 1 if c < columns else 0)
        for r in range(3):
            self.grid.setRowStretch(r, 1 if r < rows else 0)
        self.columns = columns

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        size = event.size()
        self._place(best_columns(size.width(), size.height(), self.columns))
        super().resizeEvent(event)


# --------------------------------------------------------------------------- the tab


class KernelExplorer(QWidget):
    """See the module docstring. Contract: shutdown(), export_array(), save_settings(),
    restore_settings(), status_message."""

    status_message = Signal(str)

    def __init__(self, state, parent: QWidget | None = None):
        super().__init__(parent)
        self.state = state
        self.runner = LatestRequestRunner("kernel", self)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        self.view: ViewData | None = None  # the newest result drawn
        self.update_count = 0
        self.last_draw_seconds = 0.0
        self._requested = 0  # generation of the newest request
        self._delivered = 0  # generation of the newest result (or failure) handled
        self._syncing = False
        self._shut = False
        self._source = SOURCE_IMAGE
        self._origin_preset: str | None = None  # the preset the kernel came from
        # The user's own settings while a lecture example (with the slide's kernel, stride and
        # pooling) is shown; put back when they return to their own image.
        self._settings_before_example: KernelSettings | None = None
        self._limit_fresh = False  # a limit message was just shown
        self._network_cache: tuple[object, np.ndarray] | None = None
        self._input_cache: tuple[object, StageView] | None = None  # big inputs: (image, view)
        self._shown: dict[str, tuple[FilterResult, StageView]] = {}  # what each panel shows
        self._stale: set[str] = set()
        self._hover: tuple[str, int, int] | None = None
        self._active = True  # False while the tab is hidden: inputs are noted, not computed
        self._refresh_when_active = False

        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.setInterval(BUSY_DELAY_MS)
        self._busy_timer.timeout.connect(self._show_busy)

        self._build_ui()
        self._apply_to_controls(state.kernel)
        state.kernel_changed.connect(self._on_state_kernel)
        state.image_changed.connect(self._on_image_changed)
        state.analysis_ready.connect(self._on_analysis)
        self._update_source_items()
        self.request()

    # ================================================================= building

    def _build_ui(self) -> None:
        controls = QWidget()
        col = QVBoxLayout(controls)
        col.setContentsMargins(4, 4, 4, 4)
        col.setSpacing(6)

        # -- input
        box = QGroupBox("Input")
        form = QFormLayout(box)
        form.setContentsMargins(6, 6, 6, 6)
        self.source_combo = _combo()
        self.source_combo.addItem("Current image (full size)", SOURCE_IMAGE)
        self.source_combo.addItem("Network input (28×28)", SOURCE_NETWORK)
        self.source_combo.insertSeparator(2)
        for ex in LECTURE_EXAMPLES.values():
            self.source_combo.addItem(f"Lecture: {ex.short_name}",
                                      LECTURE_PREFIX + ex.key)
            self.source_combo.setItemData(self.source_combo.count() - 1,
                                          f"{ex.name}. Slide \"{ex.slide}\". {ex.description}",
                                          Qt.ItemDataRole.ToolTipRole)
        self.source_combo.setToolTip(TIP_SOURCE)
        self.source_combo.activated.connect(self._on_source_activated)
        form.addRow("Source", self.source_combo)
        self.colour_combo = _combo()
        self.colour_combo.addItem("Summed, like a conv layer", False)
        self.colour_combo.addItem("Each channel alone", True)
        self.colour_combo.setToolTip(TIP_COLOUR)
        self.colour_combo.currentIndexChanged.connect(self._on_control_changed)
        form.addRow("Colour", self.colour_combo)
        self.channel_combo = _combo()
        for key, text in zip(CHANNEL_VIEWS, ("All three (colour)", "Red", "Green", "Blue")):
            self.channel_combo.addItem(text, key)
        self.channel_combo.setToolTip(TIP_CHANNEL)
        self.channel_combo.currentIndexChanged.connect(self._on_channel_view_changed)
        form.addRow("Show", self.channel_combo)
        col.addWidget(box)

        # -- kernel
        box = QGroupBox("Kernel (filter)")
        kcol = QVBoxLayout(box)
        kcol.setContentsMargins(6, 6, 6, 6)
        self.preset_combo = _combo()
        for p in PRESETS.values():
            self.preset_combo.addItem(p.name, p.key)
            self.preset_combo.setItemData(self.preset_combo.count() - 1, p.description,
                                          Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.addItem(CUSTOM_TEXT, CUSTOM)
        self.preset_combo.setToolTip(TIP_PRESET)
        self.preset_combo.activated.connect(self._on_preset_activated)
        kcol.addWidget(self.preset_combo)
        self.preset_label = QLabel()
        self.preset_label.setWordWrap(True)
        self.preset_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.preset_label.setStyleSheet("color: #555;")
        kcol.addWidget(self.preset_label)  # its height is reserved in _reserve_text_space
        self.grid = KernelGrid(self.state.kernel.kernel if self._fits(self.state.kernel.kernel) else None)
        self.grid.kernel_changed.connect(self._on_grid_changed)
        kcol.addWidget(self.grid)
        col.addWidget(box)

        # -- convolution
        box = QGroupBox("Convolution")
        grid = QGridLayout(box)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.addWidget(QLabel("rows"), 0, 1, Qt.AlignmentFlag.AlignCenter)
        grid.addWidget(QLabel("columns"), 0, 2, Qt.AlignmentFlag.AlignCenter)
        self.stride_spins = (LimitSpinBox("stride"), LimitSpinBox("stride"))
        self.padding_spins = (LimitSpinBox("padding"), LimitSpinBox("padding"))
        for r, (word, spins, low, high, tip) in enumerate(
                (("Stride", self.stride_spins, 1, MAX_STRIDE, TIP_STRIDE),
                 ("Padding", self.padding_spins, 0, MAX_PADDING, TIP_PADDING)), start=1):
            label = QLabel(word)
            label.setToolTip(tip)
            grid.addWidget(label, r, 0)
            for c, spin in enumerate(spins):
                spin.setRange(low, high)
                spin.setToolTip(tip)
                spin.valueChanged.connect(lambda _v, s=spins, i=c: self._on_pair_changed(s, i))
                spin.limited.connect(self._show_limit)
                grid.addWidget(spin, r, c + 1)
        self.link_check = QCheckBox("Same for rows and columns")
        self.link_check.setChecked(True)
        self.link_check.setToolTip(TIP_LINK)
        grid.addWidget(self.link_check, 3, 0, 1, 3)
        # The limits, always in view; a number typed past one is named here (two lines kept
        # free, so nothing below moves when that happens).
        self.limits_label = QLabel(LIMITS_TEXT)
        self.limits_label.setWordWrap(True)
        self.limits_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.limits_label.setStyleSheet(HINT_STYLE)
        self.limits_label.setFixedHeight(2 * self.limits_label.fontMetrics().lineSpacing() + 4)
        self.limits_label.setToolTip(TIP_STRIDE + "\n\n" + TIP_PADDING)
        grid.addWidget(self.limits_label, 4, 0, 1, 3)
        col.addWidget(box)

        # -- activation and pooling
        box = QGroupBox("Activation and pooling")
        form = QFormLayout(box)
        form.setContentsMargins(6, 6, 6, 6)
        self.activation_combo = _combo()
        for key, text, tip in ACTIVATION_ITEMS:
            self.activation_combo.addItem(text, key)
            self.activation_combo.setItemData(self.activation_combo.count() - 1, tip,
                                              Qt.ItemDataRole.ToolTipRole)
        self.activation_combo.setToolTip(TIP_ACTIVATION)
        self.activation_combo.currentIndexChanged.connect(self._on_control_changed)
        form.addRow("Activation", self.activation_combo)
        self.pool_combo = _combo()
        for key, text in POOL_ITEMS:
            self.pool_combo.addItem(text, key)
        self.pool_combo.setToolTip(TIP_POOL)
        self.pool_combo.currentIndexChanged.connect(self._on_control_changed)
        form.addRow("Pooling", self.pool_combo)
        prow = QHBoxLayout()
        self.pool_size_spin = LimitSpinBox("the pooling size")
        self.pool_size_spin.setRange(1, MAX_POOL)
        self.pool_size_spin.setToolTip(TIP_POOL_SIZE)
        self.pool_size_spin.setPrefix("size ")
        self.pool_stride_spin = LimitSpinBox("the pooling stride")
        self.pool_stride_spin.setRange(1, MAX_POOL)
        self.pool_stride_spin.setToolTip(TIP_POOL_STRIDE)
        self.pool_stride_spin.setPrefix("stride ")
        for spin in (self.pool_size_spin, self.pool_stride_spin):
            spin.valueChanged.connect(self._on_control_changed)
            spin.limited.connect(lambda text: self.status_message.emit(text))
            prow.addWidget(spin)
        form.addRow("Window", prow)
        col.addWidget(box)
        col.addStretch(1)

        scroll = QScrollArea()
        scroll.setWidget(controls)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # Wide enough for everything (a 7×7 kernel included) beside a vertical scroll bar;
        # should a font make it wider still, a horizontal bar appears instead of a cut.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        bar = scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        scroll.setFixedWidth(max(controls.minimumSizeHint().width(), CONTROLS_WIDTH) + bar + 2)
        self.controls_scroll = scroll

        # -- right side: formula, banner, panels, details
        self.formula_label = QLabel()
        self.formula_label.setTextFormat(Qt.TextFormat.RichText)
        self.formula_label.setWordWrap(True)
        self._formula_points = self.formula_label.font().pointSizeF()  # the base size
        self._fit_formula_font(1000)
        self.formula_label.setStyleSheet("QLabel { background: #f3f6fb; border: 1px solid #c5d3e8; "
                                         "border-radius: 4px; padding: 6px; }")
        self.formula_label.setToolTip(
            "The lecture's output size: ((W − F + 2P) / S) + 1, with W the input size, F the kernel "
            "size, P the padding and S the stride, for the rows (height) and the columns (width). "
            "\"To guarantee the integer output size\" the division must come out whole. "
            "Pooling floors it, like Keras and torch.")
        self.banner = QLabel()  # red: the numbers cannot work; the panels keep the last result
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.setStyleSheet(ERROR_STYLE)
        self.banner.hide()
        self.note_label = QLabel()  # amber: computed, but not the way the lecture's rule asks
        self.note_label.setWordWrap(True)
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.setStyleSheet(NOTE_STYLE)
        self.note_label.setToolTip("(W − F + 2P) / S + 1 is not a whole number. PyTorch and Keras "
                                   "then floor it: the rows and columns the kernel cannot reach "
                                   "(marked in orange on the input) are left out.")
        self.note_label.hide()

        self.input_panel = ImagePanel("① input")
        self.kernel_panel = ImagePanel("② kernel")
        self.conv_panel = ImagePanel("③ convolution")
        self.act_panel = ImagePanel("④ activation")
        self.pool_panel = ImagePanel("⑤ pooling")
        self.panels = {"input": self.input_panel, "kernel": self.kernel_panel, "conv": self.conv_panel,
                       "activation": self.act_panel, "pool": self.pool_panel}
        tips = {
            "input": "The image the kernel slides over (zero padding drawn around small images). "
                     "The orange box is the window under the output pixel you point at.",
            "kernel": "The kernel's weights: blue below zero, red above. Each output pixel is the "
                      "sum of these weights times the pixels under them.",
            "conv": "The convolution output (feature map). Point at a pixel to see its sum of "
                    "products, as on the lecture's Recap slides.",
            "activation": "The activation applied to every convolution output.",
            "pool": POOL_TIPS["max"],
        }
        self.numbers = {}
        self._tips = tips
        for key, panel in self.panels.items():
            panel.setToolTip(tips[key])
            panel.setMinimumSize(150, 150)
            panel.compact_below = COMPACT_PANEL  # small screens: the image before its scale
            self.numbers[key] = CellNumbers(panel)
            if key != "kernel":
                panel.hovered.connect(lambda r, c, k=key: self._on_hover(k, r, c))
        self.window_rect = _rect_item(WINDOW_PEN, fill=True)
        self.image_rect = _rect_item(PAD_PEN, width=1.5, dashed=True)
        self.input_panel.plot.addItem(self.window_rect)
        self.input_panel.plot.addItem(self.image_rect)
        # The rows and columns a floored size leaves out (no window ever covers them).
        self.left_out_rects = (_rect_item(LEFT_OUT_PEN, 1.5, dashed=True, fill=True, alpha=90),
                               _rect_item(LEFT_OUT_PEN, 1.5, dashed=True, fill=True, alpha=90))
        for item in self.left_out_rects:
            self.input_panel.plot.addItem(item, ignoreBounds=True)
        self.pixel_rects = {}
        for key in ("conv", "activation", "pool"):
            item = _rect_item(WINDOW_PEN, width=2.5)
            self.panels[key].plot.addItem(item)
            self.pixel_rects[key] = item
        self.pool_rect = _rect_item(POOL_PEN, width=2.5, fill=True)
        self.act_panel.plot.addItem(self.pool_rect)

        self.detail_label = QLabel()
        self.detail_label.setTextFormat(Qt.TextFormat.RichText)
        self.detail_label.setWordWrap(True)
        self.detail_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        detail_scroll = QScrollArea()
        detail_scroll.setWidget(self.detail_label)
        detail_scroll.setWidgetResizable(True)
        detail_scroll.setMinimumWidth(150)
        detail_scroll.setToolTip("What the pixel under the mouse is made of.")
        self.detail_scroll = detail_scroll

        self.panel_grid = PanelGrid([self.input_panel, self.kernel_panel, detail_scroll,
                                     self.conv_panel, self.act_panel, self.pool_panel])

        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setToolTip("A large image is being filtered on a background thread; the "
                                 "window stays responsive and the newest settings win.")
        self.busy_label = QLabel("computing…")
        self.info_label = QLabel()
        self.info_label.setStyleSheet("color: #555;")
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bottom = QHBoxLayout()
        bottom.addWidget(self.busy_bar)
        bottom.addWidget(self.busy_label)
        bottom.addWidget(self.info_label, 1)
        self.busy_bar.hide()
        self.busy_label.hide()

        right = QVBoxLayout()
        right.setContentsMargins(0, 4, 4, 4)
        right.setSpacing(4)
        right.addWidget(self.formula_label)
        right.addWidget(self.banner)
        right.addWidget(self.note_label)
        right.addWidget(self.panel_grid, 1)
        right.addLayout(bottom)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        layout.addLayout(right, 1)
        self._set_detail_hint()

    # ================================================================= state <-> controls

    @staticmethod
    def _fits(kernel) -> bool:
        k = np.asarray(kernel)
        return k.ndim == 2 and 1 <= k.shape[0] <= MAX_SIDE and 1 <= k.shape[1] <= MAX_SIDE

    def _apply_to_controls(self, s: KernelSettings) -> None:
        """Show settings in the controls without treating it as a user change."""
        self._syncing = True
        try:
            if self._fits(s.kernel) and (s.kernel.shape != self.grid.kernel().shape
                                         or not np.array_equal(s.kernel, self.grid.kernel())):
                self.grid.set_kernel(s.kernel)
            key = s.preset_key if s.preset_key in PRESETS else self._matching_preset(s.kernel)
            self._show_preset(key, s.kernel)
            for spins, pair in ((self.stride_spins, s.stride), (self.padding_spins, s.padding)):
                for spin, v in zip(spins, pair):
                    spin.setValue(int(v))
            if s.stride[0] != s.stride[1] or s.padding[0] != s.padding[1]:
                self.link_check.setChecked(False)
            self.activation_combo.setCurrentIndex(max(0, self.activation_combo.findData(s.activation)))
            self.pool_combo.setCurrentIndex(max(0, self.pool_combo.findData(s.pool_kind)))
            self.pool_size_spin.setValue(int(s.pool_size))
            self.pool_stride_spin.setValue(int(s.pool_stride))
            self.colour_combo.setCurrentIndex(1 if s.per_channel else 0)
        finally:
            self._syncing = False
        self._update_enabled()

    @staticmethod
    def _matching_preset(kernel) -> str | None:
        return matching_preset(kernel)

    @staticmethod
    def _grown_preset(kernel) -> str | None:
        return grown_preset(kernel)

    def _preset_texts(self, key: str | None, kernel) -> tuple[str, str, str]:
        """(description, tooltip, text of the Custom item) for the kernel in force."""
        if key in PRESETS:
            p = PRESETS[key]
            return p.description, f"Source: {p.source}", CUSTOM_TEXT
        k = np.asarray(kernel)
        grown = self._grown_preset(k)
        if grown is not None:
            p = PRESETS[grown]
            size, small = fmt_shape(k.shape), fmt_shape(p.values.shape)
            return (f"{p.name} in a {size} grid of zeros: the same sums, but a bigger window, "
                    f"so a smaller output. Pick {p.name} again for {small}.", p.description,
                    f"Custom: {p.name}, {size}")
        example = self._example()
        if example is not None and np.array_equal(np.asarray(example.kernel, float), k):
            return (f"The kernel of the slide \u201c{example.slide}\u201d.", "",
                    "Custom (the slide's kernel)")
        origin = PRESETS.get(self._origin_preset or "")
        if origin is not None:
            return (f"Your own numbers, changed from {origin.name}. Pick a preset above to "
                    "start again.", "", f"Custom (changed {origin.name})")
        return "Your own kernel: type numbers or fractions (1/9) in the cells.", "", CUSTOM_TEXT

    def _show_preset(self, key: str | None, kernel) -> None:
        """Combo and description for the kernel in force: a preset, a preset grown with
        zeros, or numbers changed from one, said in words (never a silent "Custom")."""
        if key in PRESETS:
            self._origin_preset = key
        text, tip, custom = self._preset_texts(key, kernel)
        custom_index = self.preset_combo.findData(CUSTOM)
        self.preset_combo.setItemText(custom_index, custom)
        self.preset_combo.setItemData(custom_index, text, Qt.ItemDataRole.ToolTipRole)
        self.preset_combo.setCurrentIndex(self.preset_combo.findData(key if key in PRESETS else CUSTOM))
        self.preset_label.setText(text)
        self.preset_label.setToolTip(wrapped_tooltip(tip))

    def _reserve_text_space(self) -> None:
        """Keep the preset description as tall as its longest text, so the Size boxes and
        everything under them stay put when the kernel changes (the column's width is fixed)."""
        width = self.preset_label.width()
        if width < 50:
            return
        fm = self.preset_label.fontMetrics()
        longest = max(PRESETS.values(), key=lambda p: len(p.name))
        texts = [p.description for p in PRESETS.values()]
        saved = self._origin_preset
        try:
            self._origin_preset = longest.key
            texts.append(self._preset_texts(None, np.zeros((1, 1)))[0])
            grown = resize_centred(longest.values, MAX_SIDE, MAX_SIDE)
            texts.append(self._preset_texts(None, grown)[0])
        finally:
            self._origin_preset = saved
        flags = int(Qt.TextFlag.TextWordWrap)
        height = max(fm.boundingRect(0, 0, width, 10_000, flags, t).height() for t in texts)
        if self.preset_label.minimumHeight() != height:
            self.preset_label.setFixedHeight(height)

    def _fit_formula_font(self, height: int) -> None:
        """Larger formulas when there is room; at 1366×768 the panels need every line."""
        points = self._formula_points * (1.2 if height >= FORMULA_BIG_FROM else 1.0)
        font = self.formula_label.font()
        if font.pointSizeF() != points:
            font.setPointSizeF(points)
            self.formula_label.setFont(font)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_formula_font(event.size().height())
        QTimer.singleShot(0, self._reserve_text_space)  # after the layout gave the label its width

    def _show_limit(self, text: str) -> None:
        # Kept through the value change it causes (which comes next), cleared by a later one.
        self._limit_fresh = True
        QTimer.singleShot(0, self._limit_settled)
        self.limits_label.setText(text)
        self.limits_label.setStyleSheet(LIMIT_STYLE)

    def _limit_settled(self) -> None:
        self._limit_fresh = False

    def settings_from_controls(self) -> KernelSettings:
        kernel = self.grid.kernel()
        key = self.preset_combo.currentData()
        if key not in PRESETS or not np.array_equal(PRESETS[key].values, kernel) \
                or PRESETS[key].values.shape != kernel.shape:
            key = self._matching_preset(kernel)
        return self.state.kernel.with_changes(
            kernel=kernel, preset_key=key,
            stride=(self.stride_spins[0].value(), self.stride_spins[1].value()),
            padding=(self.padding_spins[0].value(), self.padding_spins[1].value()),
            activation=self.activation_combo.currentData(), pool_kind=self.pool_combo.currentData(),
            pool_size=self.pool_size_spin.value(), pool_stride=self.pool_stride_spin.value(),
            per_channel=bool(self.colour_combo.currentData()))

    def _commit(self) -> None:
        """The controls changed: publish the settings (saved and shared); recompute follows."""
        if self._syncing or self._shut:
            return
        self.state.set_kernel(self.settings_from_controls())

    def _on_control_changed(self, *_args) -> None:
        self._update_enabled()
        self._commit()

    def _on_pair_changed(self, spins, index: int) -> None:
        if self._syncing:
            return
        if self.limits_label.text() != LIMITS_TEXT and not self._limit_fresh:
            self.limits_label.setText(LIMITS_TEXT)  # a later change: the limit note is done
            self.limits_label.setStyleSheet(HINT_STYLE)
        if self.link_check.isChecked():
            other = spins[1 - index]
            if other.value() != spins[index].value():
                self._syncing = True
                other.setValue(spins[index].value())
                self._syncing = False
        self._commit()

    def _on_preset_activated(self, _row: int) -> None:
        key = self.preset_combo.currentData()
        if key in PRESETS:
            self._syncing = True
            self.grid.set_kernel(PRESETS[key].values)
            self._syncing = False
        self._show_preset(key if key in PRESETS else None, self.grid.kernel())
        self._commit()

    def _on_grid_changed(self, kernel) -> None:
        if self._syncing:
            return
        self._show_preset(self._matching_preset(kernel), kernel)
        self._commit()

    def _on_state_kernel(self, settings: KernelSettings) -> None:
        if self._shut:
            return
        mine = self.settings_from_controls()
        if not _same_settings(mine, settings):
            if not self._fits(settings.kernel):
                self._show_banner(f"This {fmt_shape(np.shape(settings.kernel))} kernel is larger than "
                                  f"the {MAX_SIDE}×{MAX_SIDE} the grid can edit; it is used as it is.")
            self._apply_to_controls(settings)
        self.request()

    def _update_enabled(self) -> None:
        pooling = self.pool_combo.currentData() != "none"
        self.pool_size_spin.setEnabled(pooling)
        self.pool_stride_spin.setEnabled(pooling)
        image = self._source_image()
        colour = image is not None and np.ndim(image) == 3
        self.colour_combo.setEnabled(colour)
        self.channel_combo.setEnabled(colour and bool(self.colour_combo.currentData()))

    # ================================================================= sources

    def source(self) -> str:
        return self._source

    def set_source(self, key: str, apply_example: bool = True) -> None:
        """SOURCE_IMAGE, SOURCE_NETWORK or 'lecture:<key>'. A lecture example also sets the
        slide's kernel, stride, padding and pooling (unless apply_example is False)."""
        if key.startswith(LECTURE_PREFIX) and key[len(LECTURE_PREFIX):] not in LECTURE_EXAMPLES:
            key = SOURCE_IMAGE
        if key == SOURCE_NETWORK and self.state.analysis is None:
            self.status_message.emit("The network input appears once a model has analysed the image.")
            key = SOURCE_IMAGE
        was_example = self._example() is not None
        if apply_example and not was_example and key.startswith(LECTURE_PREFIX):
            self._settings_before_example = self.state.kernel
        restore = None
        if was_example and not key.startswith(LECTURE_PREFIX):
            restore, self._settings_before_example = self._settings_before_example, None
        self._source = key
        self._input_cache = None
        self._syncing = True
        self.source_combo.setCurrentIndex(max(0, self.source_combo.findData(key)))
        self._syncing = False
        self._update_enabled()
        example = self._example()
        if example is not None and apply_example:
            settings = example.settings(self.state.kernel)
            key = self._matching_preset(settings.kernel)
            self._origin_preset = None  # the slide's kernel, not an edit of the last preset
            self.state.set_kernel(settings.with_changes(preset_key=key))  # -> request()
        elif restore is not None:
            self.state.set_kernel(restore)  # the user's kernel, stride, pooling as they were
        else:
            self.request()

    def _on_source_activated(self, _row: int) -> None:
        self.set_source(self.source_combo.currentData())

    def _example(self):
        if self._source.startswith(LECTURE_PREFIX):
            return LECTURE_EXAMPLES.get(self._source[len(LECTURE_PREFIX):])
        return None

    def _source_image(self) -> np.ndarray | None:
        example = self._example()
        if example is not None:
            return example.image
        if self._source == SOURCE_NETWORK:
            analysis = self.state.analysis
            if analysis is None:
                return None
            if self._network_cache is None or self._network_cache[0] is not analysis:
                img = np.asarray(analysis.digit.image, dtype=np.float32) * 255.0  # 0..1 -> 0..255
                self._network_cache = (analysis, img)
            return self._network_cache[1]
        return self.state.image

    def _update_source_items(self) -> None:
        model = self.source_combo.model()
        item = model.item(self.source_combo.findData(SOURCE_NETWORK))
        if item is not None:
            item.setEnabled(self.state.analysis is not None)
            item.setToolTip("The 28×28 image the network sees, after preprocessing." if
                            self.state.analysis is not None else
                            "Appears once a model has analysed the current image.")

    def set_active(self, active: bool) -> None:
        """The main window calls this when the tab is shown or hidden. While hidden, a new
        input is only noted: filtering and drawing for an unseen tab would take CPU from the
        live drawing loop. The newest input is computed when the tab comes back."""
        self._active = active
        if active and self._refresh_when_active:
            self._refresh_when_active = False
            self.request()

    def _on_image_changed(self, _image, _source: str) -> None:
        if self._shut:
            return
        self._update_enabled()
        if self._source == SOURCE_IMAGE:
            self._input_cache = None
            self._request_if_active()

    def _on_analysis(self, _analysis) -> None:
        if self._shut:
            return
        self._update_source_items()
        if self._source == SOURCE_NETWORK:
            self._request_if_active()

    def _request_if_active(self) -> None:
        if self._active:
            self.request()
        else:
            self._refresh_when_active = True

    # ================================================================= computing

    def channel_view(self) -> str:
        return self.channel_combo.currentData() or "all"

    def request(self, reuse: bool = False) -> int | None:
        """Ask the worker for a new result (the newest request wins)."""
        if self._shut:
            return None
        image = self._source_image()
        if image is None:
            self._show_empty()
            return None
        settings = self.state.kernel
        view = self.view
        reuse_result = None
        if reuse and view is not None and view.result.settings is settings \
                and view.source_key == self._source:
            reuse_result = view.result
        input_view = None
        if self._input_cache is not None and self._input_cache[0] is image:
            input_view = self._input_cache[1]
        self._requested = self.runner.submit(compute_view, image, settings, self.channel_view(),
                                             self._source, reuse_result, input_view)
        self._pending_image = image
        if not self._busy_timer.isActive() and not self.busy_bar.isVisible():
            self._busy_timer.start()
        return self._requested

    def is_idle(self) -> bool:
        """True when the newest request's result has been drawn and no typed kernel cell
        waits to be applied (for tests)."""
        return (self._delivered >= self._requested and self.runner.is_idle()
                and not self.grid.pending())

    def join(self, timeout: float = 30.0) -> bool:
        return self.runner.join(timeout)

    def _on_channel_view_changed(self, _index: int) -> None:
        if not self._syncing:
            self.request(reuse=True)

    def _show_busy(self) -> None:
        if self._delivered < self._requested:
            self.busy_bar.show()
            self.busy_label.show()

    def _hide_busy(self) -> None:
        self._busy_timer.stop()
        self.busy_bar.hide()
        self.busy_label.hide()

    def _on_failed(self, generation: int, message: str) -> None:
        self._delivered = generation
        self._hide_busy()
        self._show_banner(f"Filtering failed: {message}. The panels show the last valid result.")

    def _on_finished(self, generation: int, view: ViewData) -> None:
        if self._shut:
            return
        self._delivered = generation
        self._hide_busy()
        start = time.perf_counter()
        image = getattr(self, "_pending_image", None)
        if view.input.preview.factor > 1 and image is not None:
            self._input_cache = (image, view.input)  # a big photo: keep its drawable copy
        self.view = view
        self._draw(view)
        self.last_draw_seconds = time.perf_counter() - start
        self.update_count += 1
        r = view.result
        shape = fmt_shape(r.final.shape) if r.final is not None else "—"
        ms = 1000 * r.seconds
        self.status_message.emit(
            f"Kernel: {fmt_shape(r.input.shape)} → {shape} in {ms:.1f} ms "
            f"(+{1000 * (view.seconds - r.seconds + self.last_draw_seconds):.0f} ms drawing)")

    # ================================================================= drawing

    def _show_empty(self) -> None:
        self.formula_label.setText("No image yet: draw a digit, open an image, or pick a lecture "
                                   "example under Input › Source.")
        titles = {"input": "① input", "kernel": "② kernel", "conv": "③ convolution",
                  "activation": "④ activation", "pool": "⑤ pooling"}
        for key, panel in self.panels.items():
            if key != "kernel":
                panel.show_message("No image yet." if key == "input" else "", titles[key])
                self.numbers[key].clear()
        k = np.asarray(self.state.kernel.kernel, dtype=np.float64)
        if k.ndim == 2 and k.size:
            self._draw_kernel(k)  # the kernel is there even without an image
        self._shown.clear()
        self.banner.hide()
        self.note_label.hide()
        for item in self.left_out_rects:
            item.hide()

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()

    def _draw(self, view: ViewData) -> None:
        r = view.result
        self._draw_formulas(r)
        # Input and kernel always follow the newest request; outputs only when valid.
        self._draw_input(view)
        self._draw_kernel(r.kernel)
        stages = (("conv", view.conv, "③ convolution"), ("activation", view.activated, "④ " + (
            f"activation: {ACTIVATION_NAMES.get(r.settings.activation, r.settings.activation)}"
            if r.settings.activation != "none" else "activation: none")),
            ("pool", view.pooled, "⑤ " + (f"{POOL_NAMES[r.settings.pool_kind]} pooling"
                                          if r.pooling else "pooling")))
        for key, stage, title in stages:
            panel = self.panels[key]
            if stage is not None:
                self._draw_stage(key, r, stage, title)
            elif key == "pool" and not r.pooling:
                self.numbers[key].clear()
                panel.show_message("No pooling.\nChoose max, min or average under "
                                   "Activation and pooling.", "⑤ no pooling")
                panel.setToolTip(wrapped_tooltip(POOL_TIPS["none"]))
                self._shown.pop(key, None)
                self._set_stale(key, False)
            elif key in self._shown:
                self._set_stale(key, True)
            else:  # nothing valid to show: say so, not empty axes running −1.5…1.5
                self.numbers[key].clear()
                panel.show_message("Nothing to show yet: these numbers do not fit (see the red "
                                   "message above).", title)
        if r.error:
            # Only claim a last valid result when a panel really shows one.
            kept = (" The panels show the last valid result." if self._stale else
                    " Nothing can be computed until the numbers fit.")
            self._show_banner(f"{r.error}.{kept}")
        else:
            self.banner.hide()
        # A floored size is a remark, not an error: the panels show what torch computes.
        if r.notes:  # the formula is right above: the note without it
            self.note_label.setText("\n".join(filtering.floor_note(r, brief=True) or r.notes))
            self.note_label.show()
        else:
            self.note_label.hide()
        self._update_info(view)
        if self._hover is not None:
            self._on_hover(*self._hover)

    def _draw_formulas(self, r: FilterResult) -> None:
        def line(label, formulas, axes, floored=(False, False)):
            parts = []
            for text, axis, floor in zip(formulas, axes, floored):
                bad = axis is not None and axis.problem
                t = html.escape(text)
                head, _, value = t.rpartition("= ")
                if bad:
                    t = f"<span style='color:#c62828'>{t} ✗</span>"
                elif floor:  # '13.5 → ⌊13.5⌋ = 13': amber, the size in bold
                    t = f"<span style='color:{FLOOR_COLOUR}'>{head}= <b>{value}</b></span>"
                else:
                    t = f"{head}= <b>{value}</b>"
                parts.append(t.replace(" ", "&nbsp;"))  # wrap between formulas, not inside
            return f"<b>{label}</b>&nbsp; " + " &nbsp;·&nbsp; ".join(parts)

        self._formula_plain = "\n".join(r.formulas)
        lines = [self._pipeline_text(r)]
        if r.conv_formulas:
            lines.append(line("Convolution", r.conv_formulas, (r.conv_rows, r.conv_cols), r.floored))
        if r.pool_formulas:
            lines.append(line("Pooling", r.pool_formulas, (r.pool_rows, r.pool_cols)))
        self.formula_label.setText("<br>".join(lines))

    def formula_text(self) -> str:
        """The output-size formulas shown, as plain text, one per line."""
        return getattr(self, "_formula_plain", "")

    @staticmethod
    def _pipeline_text(r: FilterResult) -> str:
        s = r.settings
        parts = [f"input {fmt_shape(r.input.shape)}"]
        kh, kw = r.kernel.shape
        conv = fmt_shape(r.conv.shape) if r.conv is not None else "?"
        mode = {"summed": " summed over channels", "per_channel": " per channel"}.get(r.colour_mode, "")
        parts.append(f"conv {kh}×{kw} s{s.stride[0]},{s.stride[1]} p{s.padding[0]},{s.padding[1]}"
                     f"{mode} → {conv}")
        if s.activation != "none":
            parts.append(ACTIVATION_NAMES.get(s.activation, s.activation))
        if r.pooling:
            pooled = fmt_shape(r.pooled.shape) if r.pooled is not None else "?"
            parts.append(f"{POOL_NAMES[s.pool_kind]} pool {s.pool_size}×{s.pool_size} "
                         f"s{s.pool_stride} → {pooled}")
        return "<span style='color:#37474f'>" + html.escape("  ⟶  ".join(parts)) + "</span>"

    @staticmethod
    def _placement(stage: StageView) -> QRectF:
        """Where a stage's preview lies in the full array's pixel coordinates: the axes
        count real pixels (a photo shown at 1/5 still reads 0…3000), and the padding drawn
        around a small input lies at −P…0."""
        p = stage.preview
        h, w = p.array.shape[:2]
        oy, ox = stage.offset
        return QRectF(-ox, -oy, w * p.factor, h * p.factor)

    def _draw_input(self, view: ViewData) -> None:
        panel, stage, r = self.input_panel, view.input, view.result
        p = stage.preview
        full = fmt_shape(r.input.shape if r.input.ndim == 2 else
                          (r.input.shape[1], r.input.shape[2], r.input.shape[0]))
        title = f"① input {full}"
        if stage.offset != (0, 0):
            title += f" + zero padding → {fmt_shape(p.shape)}"
        if p.factor > 1:
            title += f" (shown at 1/{p.factor})"
        place = self._placement(stage)
        if p.array.ndim == 3:
            panel.set_array(p.array, rect=place)
            self.numbers["input"].clear()
        else:
            cmap, levels = UNSIGNED_CMAP, (min(p.levels[0], 0.0), max(p.levels[1], 1.0))
            panel.set_array(p.array, levels=levels, cmap=cmap, rect=place)
            self._draw_numbers("input", p, cmap, levels, (place.x(), place.y()))
        set_panel_title(panel, title)
        h, w = r.input.shape[-2:]
        ph, pw = r.settings.padding
        if stage.offset != (0, 0):
            self.image_rect.setRect(QRectF(0, 0, w, h))  # the real image inside its padding
            self.image_rect.show()
        elif ph or pw:  # padding not drawn (a big image): outline where it would reach
            self.image_rect.setRect(QRectF(-pw, -ph, w + 2 * pw, h + 2 * ph))
            self.image_rect.show()
        else:
            self.image_rect.hide()
        self._draw_left_out(r)
        self._shown["input"] = (r, stage)

    def _draw_left_out(self, r: FilterResult) -> None:
        """Mark the rows and columns a floored size leaves out (in input coordinates)."""
        h, w = r.input.shape[-2:]
        ph, pw = r.settings.padding
        rows, cols = (r.left_out(0), r.left_out(1)) if r.conv is not None else (None, None)
        item_r, item_c = self.left_out_rects
        if rows is not None:
            item_r.setRect(QRectF(-pw, rows[0], w + 2 * pw, rows[1] - rows[0] + 1))
            item_r.setToolTip(f"Rows {rows[0]}…{rows[1]} are left out: no kernel window reaches "
                              "them, because the output size was floored (see the note above).")
        if cols is not None:
            item_c.setRect(QRectF(cols[0], -ph, cols[1] - cols[0] + 1, h + 2 * ph))
            item_c.setToolTip(f"Columns {cols[0]}…{cols[1]} are left out: no kernel window "
                              "reaches them, because the output size was floored (see the note "
                              "above).")
        item_r.setVisible(rows is not None)
        item_c.setVisible(cols is not None)

    def _draw_kernel(self, kernel: np.ndarray) -> None:
        m = float(np.abs(kernel).max()) or 1.0
        levels = (-m, m)
        self.kernel_panel.set_array(kernel, levels=levels, cmap=SIGNED_CMAP)
        set_panel_title(self.kernel_panel, f"② kernel {fmt_shape(kernel.shape)}")
        self.numbers["kernel"].show(cell_texts(kernel), kernel, SIGNED_CMAP, levels)

    def _draw_stage(self, key: str, r: FilterResult, stage: StageView, title: str) -> None:
        panel, p = self.panels[key], stage.preview
        full = {"conv": r.conv, "activation": r.activated, "pool": r.pooled}[key]
        text = f"{title} {fmt_shape(full.shape)}"
        if stage.channel is not None:
            text += f" · {channel_names(full.shape[0])[stage.channel]}"
        extras = [f"shown at 1/{p.factor}"] if p.factor > 1 else []
        if p.peaks:
            extras.append("block peaks")
        if extras:
            text += f" ({', '.join(extras)})"
        tip = POOL_TIPS.get(r.settings.pool_kind, POOL_TIPS["max"]) if key == "pool" else self._tips[key]
        if p.peaks:
            tip += (" Drawn shrunk: each block shows its strongest value, so thin edges stay "
                    "visible. Pointing still reads the exact full-size values.")
        elif p.factor > 1:
            tip += (" Drawn shrunk (each block averaged); pointing still reads the exact "
                    "full-size values.")
        place = self._placement(stage)
        if p.array.ndim == 3:
            lo, hi = p.levels
            if lo < 0 or hi > 255:
                tip += " Drawn as colour: values below 0 or above 255 are clipped for display."
            panel.set_array(p.array, rect=place)
            self.numbers[key].clear()
        else:
            cmap, levels = colour_for(p.levels)
            panel.set_array(p.array, levels=levels, cmap=cmap, rect=place)
            self._draw_numbers(key, p, cmap, levels)
        set_panel_title(panel, text)
        panel.setToolTip(wrapped_tooltip(tip))  # set per result: the window's pass has run
        self._shown[key] = (r, stage)
        self._set_stale(key, False)

    def _draw_numbers(self, key: str, p: Preview, cmap, levels,
                      origin: tuple[float, float] = (0.0, 0.0)) -> None:
        a = p.array
        if p.factor == 1 and a.ndim == 2 and max(a.shape) <= SMALL:
            texts = [[fmt_number(v, 3) for v in row] for row in a]
            self.numbers[key].show(texts, a, cmap, levels, origin)
        else:
            self.numbers[key].clear()

    def _set_stale(self, key: str, stale: bool) -> None:
        panel = self.panels[key]
        panel.image_item.setOpacity(0.35 if stale else 1.0)
        for item in self.numbers[key].items:
            item.setOpacity(0.35 if stale else 1.0)
        title = panel.title()
        mark = " — last valid result"
        if stale and key not in self._stale:
            set_panel_title(panel, title + mark)
            self._stale.add(key)
        elif not stale:
            if title.endswith(mark):
                set_panel_title(panel, title[: -len(mark)])
            self._stale.discard(key)

    def _update_info(self, view: ViewData) -> None:
        example = self._example()
        r = view.result
        self._slide_html = ""
        if example is None:
            self.info_label.setText(f"Computed in {1000 * r.seconds:.1f} ms. Point at any pixel to "
                                    "see what it is made of.")
            self.info_label.setStyleSheet("color: #555;")
        else:
            got = r.final
            match = (got is not None and r.ok and got.shape == example.expected.shape
                     and bool(np.allclose(got, example.expected)))
            if match:
                self.info_label.setText(f"✓ Matches the slide's answer (slide \"{example.slide}\").")
                self.info_label.setStyleSheet("color: #1b5e20; font-weight: bold;")
            else:
                self.info_label.setText("Your settings differ from the slide's: pick the example "
                                        "again to get them back.")
                self.info_label.setStyleSheet("color: #555;")
            parts = [f"<b>Slide \"{html.escape(example.slide)}\"</b>", html.escape(example.description),
                     f"The answer:{_grid_html(example.expected)}"]
            if example.slide_shows is not None:
                parts.append(f"The slide prints:{_grid_html(example.slide_shows, '#c62828')}")
            if example.note:
                parts.append(f"<i>{html.escape(example.note)}</i>")
            self._slide_html = "<br>".join(parts)
        self.info_label.setToolTip(self.info_label.text())
        if self._hover is None:
            self._set_detail_hint()

    # ================================================================= hover

    def _set_detail_hint(self) -> None:
        hint = ("<b>Point at a pixel</b> of the convolution, activation or pooling output to see "
                "how it was made: the input window (orange box on the input), the products of the "
                "kernel's weights and the pixels under them, and their sum.")
        slide = getattr(self, "_slide_html", "")
        self.detail_label.setText(f"{slide}<br><br>{hint}" if slide else hint)

    def _full_index(self, key: str, row: int, col: int) -> tuple[int, int] | None:
        """Panel pixel -> index in the full array (a preview pixel stands for the middle of its block)."""
        shown = self._shown.get(key)
        if shown is None:
            return None
        _r, stage = shown
        f = stage.preview.factor
        h, w = stage.preview.shape[-2:]
        rr, cc = row * f + f // 2 - stage.offset[0], col * f + f // 2 - stage.offset[1]
        if f > 1:
            rr, cc = min(rr, h - 1), min(cc, w - 1)
        return rr, cc

    @staticmethod
    def _panel_rect(_key: str, top: float, left: float, height: float, width: float) -> QRectF:
        """Full-array coordinates -> the rectangle on a panel: the same numbers, since every
        panel is drawn on its full array's pixel coordinates (see _placement)."""
        return QRectF(left, top, width, height)

    def _clear_hover(self) -> None:
        self._hover = None
        self.window_rect.hide()
        self.pool_rect.hide()
        for item in self.pixel_rects.values():
            item.hide()
        self._set_detail_hint()

    def _on_hover(self, key: str, row: int, col: int) -> None:
        if row < 0 or col < 0 or key not in self._shown:
            self._clear_hover()
            return
        self._hover = (key, row, col)
        r, stage = self._shown[key]
        index = self._full_index(key, row, col)
        if index is None:
            return
        rr, cc = index
        for item in self.pixel_rects.values():
            item.hide()
        self.pool_rect.hide()
        self.window_rect.hide()
        if key == "input":
            self.detail_label.setText(self._input_text(r, rr, cc))
            return
        if key in ("conv", "activation") and r.conv is not None:
            self._outline_pixel(key, rr, cc)
            text = self._conv_text(r, stage, rr, cc)
            if key == "activation":
                text = self._activation_text(r, stage, rr, cc) + "<br><br>" + text
            self._outline_input(r, "conv", rr, cc)
            self.detail_label.setText(text)
        elif key == "pool" and r.pooled is not None:
            self._outline_pixel(key, rr, cc)
            self.detail_label.setText(self._pool_text(r, stage, rr, cc))
            self._outline_input(r, "pool", rr, cc)

    def _outline_pixel(self, key: str, row: int, col: int) -> None:
        item = self.pixel_rects[key]
        item.setRect(self._panel_rect(key, row, col, 1, 1))
        item.show()

    def _outline_input(self, r: FilterResult, stage: str, row: int, col: int) -> None:
        if "input" not in self._shown:
            return
        top, left, height, width = input_window(r, stage, row, col)
        rect = self._panel_rect("input", top, left, height, width)
        f = self._shown["input"][1].preview.factor
        if f > 1 and (rect.width() < 4 * f or rect.height() < 4 * f):
            # A few pixels of a shrunk photo: draw at least 4 screen-image pixels, centred on
            # the window, so it can be found (the text gives the exact rows and columns).
            centre = rect.center()
            rect = QRectF(0, 0, max(rect.width(), 4 * f), max(rect.height(), 4 * f))
            rect.moveCenter(centre)
        self.window_rect.setRect(rect)
        self.window_rect.show()

    def _channels(self, r: FilterResult, stage: StageView) -> list[int | None]:
        if r.colour_mode != "per_channel":
            return [None]
        return [stage.channel] if stage.channel is not None else list(range(r.input.shape[0]))

    def _conv_text(self, r: FilterResult, stage: StageView, row: int, col: int) -> str:
        names = channel_names(r.input.shape[0]) if r.input.ndim == 3 else []
        out = [f"<b>Convolution output ({row}, {col})</b>"]
        for ch in self._channels(r, stage):
            px = explain_conv_pixel(r, row, col, ch)
            where = (f"window rows {px.top}…{px.top + r.kernel.shape[0] - 1}, "
                     f"columns {px.left}…{px.left + r.kernel.shape[1] - 1} of the input")
            if px.top < 0 or px.left < 0 or px.top + r.kernel.shape[0] > r.input.shape[-2] \
                    or px.left + r.kernel.shape[1] > r.input.shape[-1]:
                where += " (zeros where it hangs over the padding)"
            label = f"{names[ch]}: " if ch is not None else ""
            out.append(f"{label}{html.escape(where)}")
            out.append(f"<span style='font-family:monospace'>{html.escape(label + px.text)}"
                       .replace("\n", "<br>") + "</span>")
        ho, wo = r.conv.shape[-2:]
        for axis, last, unit in ((0, row == ho - 1, "rows"), (1, col == wo - 1, "columns")):
            gone = r.left_out(axis)
            if last and gone is not None:  # the window stops here; the rest never gets one
                which = (f"{unit[:-1]} {gone[0]} is" if gone[0] == gone[1] else
                         f"{unit} {gone[0]}…{gone[1]} are")
                out.append(f"<span style='color:{FLOOR_COLOUR}'>This is the last window: input "
                           f"{which} left out (the size was floored, like PyTorch and "
                           "Keras).</span>")
        return "<br>".join(out)

    def _activation_text(self, r: FilterResult, stage: StageView, row: int, col: int) -> str:
        kind = r.settings.activation
        out = [f"<b>Activation output ({row}, {col})</b>"]
        names = channel_names(r.input.shape[0]) if r.input.ndim == 3 else []
        for ch in self._channels(r, stage):
            idx = (row, col) if ch is None else (ch, row, col)
            x, y = float(r.conv[idx]), float(r.activated[idx])
            label = f"{names[ch]}: " if ch is not None else ""
            out.append(f"<span style='font-family:monospace'>"
                       f"{html.escape(label + activation_text(kind, x, y))}</span>")
        return "<br>".join(out)

    def _pool_text(self, r: FilterResult, stage: StageView, row: int, col: int) -> str:
        s = r.settings
        names = channel_names(r.input.shape[0]) if r.input.ndim == 3 else []
        out = [f"<b>Pooled output ({row}, {col})</b>: {POOL_NAMES[s.pool_kind]} of a "
               f"{s.pool_size}×{s.pool_size} window of the activation output"]
        for ch in self._channels(r, stage):
            px = explain_pool_pixel(r, row, col, ch)
            label = f"{names[ch]}: " if ch is not None else ""
            out.append(html.escape(f"{label}rows {px.top}…{px.top + s.pool_size - 1}, columns "
                                   f"{px.left}…{px.left + s.pool_size - 1}"))
            out.append(f"<span style='font-family:monospace'>{html.escape(label + px.text)}</span>")
            if ch in (None, stage.channel) and "activation" in self._shown:
                self.pool_rect.setRect(self._panel_rect("activation", px.top, px.left,
                                                        s.pool_size, s.pool_size))
                self.pool_rect.show()
                if px.source is not None:
                    self._outline_pixel("activation", *px.source)
        return "<br>".join(out)

    @staticmethod
    def _input_text(r: FilterResult, row: int, col: int) -> str:
        h, w = r.input.shape[-2:]
        rows, cols = (r.left_out(0), r.left_out(1)) if r.conv is not None else (None, None)
        gone = ""
        if (rows and rows[0] <= row <= rows[1]) or (cols and cols[0] <= col <= cols[1]):
            gone = (f"<br><span style='color:{FLOOR_COLOUR}'>Left out: no kernel window reaches "
                    "this pixel, because (W − F + 2P) / S + 1 was not whole and was floored "
                    "(see the note above).</span>")
        if not (0 <= row < h and 0 <= col < w):
            return f"<b>Padding ({row}, {col})</b>: a zero added around the image.{gone}"
        if r.input.ndim == 3:
            values = ", ".join(f"{n} {fmt_number(v)}" for n, v in
                               zip(channel_names(r.input.shape[0]), r.input[:, row, col]))
            return f"<b>Input ({row}, {col})</b>: {values}{gone}"
        return f"<b>Input ({row}, {col})</b> = {fmt_number(r.input[row, col])}{gone}"

    # ================================================================= contract

    def export_array(self) -> tuple[str, np.ndarray] | None:
        """The last stage shown, at full size."""
        for key in ("pool", "activation", "conv"):
            shown = self._shown.get(key)
            if shown is not None:
                r = shown[0]
                array = {"pool": r.pooled, "activation": r.activated, "conv": r.conv}[key]
                if array is not None:
                    return "kernel-output", np.array(array, copy=True)
        return None

    def save_settings(self, settings: QSettings) -> None:
        s = self.state.kernel
        settings.beginGroup(SETTINGS_GROUP)
        try:
            settings.setValue("kernel", "; ".join(" ".join(row) for row in cell_texts(s.kernel)))
            settings.setValue("preset", s.preset_key or "")
            settings.setValue("stride", f"{s.stride[0]},{s.stride[1]}")
            settings.setValue("padding", f"{s.padding[0]},{s.padding[1]}")
            settings.setValue("activation", s.activation)
            settings.setValue("pool_kind", s.pool_kind)
            settings.setValue("pool_size", int(s.pool_size))
            settings.setValue("pool_stride", int(s.pool_stride))
            settings.setValue("per_channel", bool(s.per_channel))
            settings.setValue("source", self._source)
            settings.setValue("channel_view", self.channel_view())
            settings.setValue("linked", self.link_check.isChecked())
        finally:
            settings.endGroup()

    def restore_settings(self, settings: QSettings) -> None:
        """Bring back saved choices; anything unreadable keeps its current value."""
        settings.beginGroup(SETTINGS_GROUP)
        try:
            current = self.state.kernel
            kernel = current.kernel
            text = settings.value("kernel")
            if text:
                try:
                    k = parse_kernel(str(text))
                    if self._fits(k):
                        kernel = k
                except KernelError:
                    pass
            preset = str(settings.value("preset", "") or "") or None
            if preset not in PRESETS or not np.array_equal(PRESETS[preset].values, kernel):
                preset = self._matching_preset(kernel)
            activation = str(settings.value("activation", current.activation))
            pool_kind = str(settings.value("pool_kind", current.pool_kind))
            try:
                pool_size = int(settings.value("pool_size", current.pool_size))
                pool_stride = int(settings.value("pool_stride", current.pool_stride))
            except (TypeError, ValueError):
                pool_size, pool_stride = current.pool_size, current.pool_stride
            restored = current.with_changes(
                kernel=kernel, preset_key=preset,
                stride=_int_pair(settings.value("stride"), current.stride, 1, MAX_STRIDE),
                padding=_int_pair(settings.value("padding"), current.padding, 0, MAX_PADDING),
                activation=activation if activation in ACTIVATION_NAMES else current.activation,
                pool_kind=pool_kind if pool_kind in POOL_NAMES else current.pool_kind,
                pool_size=pool_size if 1 <= pool_size <= MAX_POOL else current.pool_size,
                pool_stride=pool_stride if 1 <= pool_stride <= MAX_POOL else current.pool_stride,
                per_channel=_as_bool(settings.value("per_channel"), current.per_channel))
            self._syncing = True
            self.link_check.setChecked(_as_bool(settings.value("linked"), True))
            view = str(settings.value("channel_view", "all"))
            self.channel_combo.setCurrentIndex(max(0, self.channel_combo.findData(view)))
            self._syncing = False
            source = str(settings.value("source", SOURCE_IMAGE) or SOURCE_IMAGE)
        finally:
            self._syncing = False
            settings.endGroup()
        if source == SOURCE_NETWORK and self.state.analysis is None:
            source = SOURCE_IMAGE
        self._source = source if (source in (SOURCE_IMAGE, SOURCE_NETWORK) or (
            source.startswith(LECTURE_PREFIX) and source[len(LECTURE_PREFIX):] in LECTURE_EXAMPLES)) \
            else SOURCE_IMAGE
        self.source_combo.setCurrentIndex(max(0, self.source_combo.findData(self._source)))
        self._input_cache = None
        self.state.set_kernel(restored)  # -> controls and a new result

    def shutdown(self) -> None:
        """Stop listening to the state and stop the worker (the window is closing)."""
        if self._shut:
            return
        self._shut = True
        self._busy_timer.stop()
        self.state.kernel_changed.disconnect(self._on_state_kernel)
        self.state.image_changed.disconnect(self._on_image_changed)
        self.state.analysis_ready.disconnect(self._on_analysis)
        self.runner.shutdown()


def _same_settings(a: KernelSettings, b: KernelSettings) -> bool:
    ka, kb = np.asarray(a.kernel), np.asarray(b.kernel)
    return (ka.shape == kb.shape and np.array_equal(ka, kb) and a.stride == b.stride
            and a.padding == b.padding and a.activation == b.activation
            and a.pool_kind == b.pool_kind and a.pool_size == b.pool_size
            and a.pool_stride == b.pool_stride and a.per_channel == b.per_channel
            and (a.preset_key or None) == (b.preset_key or None))


def _grid_html(a: np.ndarray, colour: str = "#1b5e20") -> str:
    """A small grid of numbers as an HTML table, like the slides draw them."""
    rows = "".join("<tr>" + "".join(f"<td align='right' style='padding: 0 4px'>{fmt_number(v)}</td>"
                                    for v in row) + "</tr>" for row in np.asarray(a)[:8])
    return (f"<table cellspacing='0' style='font-family: monospace; color: {colour}; "
            f"margin: 2px 0 4px 8px'>{rows}</table>")


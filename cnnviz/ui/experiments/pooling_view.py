"""How max pooling achieves translation invariance: the maps going into and coming out of
the first pooling layer, for the digit and for the digit shifted by one pixel."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout

from cnnviz.core.experiments.invariance import SAME_TOLERANCE, pooling_shift

from .base import ExperimentView, TitledGrid, label

SHIFTS = {"down": (0, 1), "right": (1, 0), "up": (0, -1), "left": (-1, 0)}


def _work(network, image, shift):
    dx, dy = SHIFTS[shift]
    return pooling_shift(network, image, dx, dy)


class PoolingShiftView(ExperimentView):
    TITLE = "Max pooling & shifts"
    TIP = ("The lecture's “How Max Pooling Achieves Translation Invariance” (“Shifting our C "
           "down one pixel”): the maps before and after the first pooling layer, for your digit "
           "and for it shifted by one pixel, and how much of each map stayed the same.")

    def __init__(self, state, parent=None) -> None:
        super().__init__(state, parent)
        self.result = None
        self._build()
        self.listen(state.analysis_ready, self.mark_dirty)
        self.listen(state.events.model, self.mark_dirty)

    def _build(self) -> None:
        self.shift = QComboBox()
        for key in SHIFTS:
            self.shift.addItem(f"one pixel {key}", key)
        self.shift.setToolTip("Which way the copy of your digit is shifted")
        self.shift.currentIndexChanged.connect(self.mark_dirty)
        self.channel = QSpinBox()
        self.channel.setPrefix("map ")
        self.channel.setToolTip("Which feature map to show (the numbers below count all maps)")
        self.channel.valueChanged.connect(lambda _v: self._draw())
        top = QHBoxLayout()
        top.addWidget(QLabel("Shift"))
        top.addWidget(self.shift)
        top.addWidget(self.channel)
        top.addStretch(1)
        self.grids = {k: TitledGrid(t, tip) for k, t, tip in (
            ("before", "Before pooling: your digit", "The map that goes into the pooling layer"),
            ("before_shifted", "Before pooling: shifted", "The same map for the shifted digit: "
             "every stroke moved by one pixel, so most units changed"),
            ("after", "After pooling: your digit", "Each 2×2 window keeps its largest value"),
            ("after_shifted", "After pooling: shifted", "Many windows still hold the same largest "
             "value after the shift: the pooled map changed less"))}
        grid = QGridLayout()
        for i, key in enumerate(("before", "before_shifted", "after", "after_shifted")):
            grid.addWidget(self.grids[key], i // 2, i % 2)
        self.summary = label(rich=True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid, 1)
        layout.addWidget(self.summary)

    def refresh(self) -> None:
        loaded, analysis = self.state.model, self.state.analysis
        if loaded is None or analysis is None or analysis.digit.empty:
            self.grids["before"].grid.set_message("Draw a digit first")
            return
        self.submit(_work, loaded.model, analysis.digit.image, self.shift.currentData())

    def show_result(self, result) -> None:
        self.result = result
        self.channel.setRange(0, result.before.shape[0] - 1)
        self._draw()

    def show_failure(self, message: str) -> None:
        self.result = None
        for grid in self.grids.values():
            grid.grid.set_message("")
        self.grids["before"].grid.set_message(message)
        self.summary.setText("")

    def _draw(self) -> None:
        m = self.result
        if m is None:
            return
        c = min(self.channel.value(), m.before.shape[0] - 1)
        top_b = float(max(m.before[c].max(), m.before_shifted[c].max(), 1e-9))
        top_a = float(max(m.after[c].max(), m.after_shifted[c].max(), 1e-9))
        for key, maps, top in (("before", m.before, top_b), ("before_shifted", m.before_shifted, top_b),
                               ("after", m.after, top_a), ("after_shifted", m.after_shifted, top_a)):
            self.grids[key].grid.set_array(maps[c], signed=False, levels=(0, top), numbers=False)
        name_b, name_a = m.before_name, m.after_name
        self.grids["before"].set_title(f"Before pooling ({name_b}[{c}]): your digit · "
                                       f"{100 * m.same_before_per_map[c]:.0f}% stayed the same")
        self.grids["after"].set_title(f"After pooling ({name_a}[{c}]): your digit · "
                                      f"{100 * m.same_after_per_map[c]:.0f}% stayed the same")
        self.summary.setText(
            f"Over all {m.before.shape[0]} maps, <b>{100 * m.same_before:.0f}%</b> of the active "
            f"units stayed the same before pooling and <b>{100 * m.same_after:.0f}%</b> after it. "
            f"(A unit is active when it is above {100 * SAME_TOLERANCE:.0f}% of its map's "
            f"largest value in either picture, and stayed the same when it moved by at most "
            f"{100 * SAME_TOLERANCE:.0f}% of it.) “Pooling makes our model more invariant to "
            "minor transformations and distortions”: a 2×2 max keeps the same value as long as "
            "the largest one stays inside its window.")

    def export_array(self):
        return None if self.result is None else ("pooled-maps", self.result.after)

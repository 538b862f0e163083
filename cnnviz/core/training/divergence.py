"""Telling that training diverged while every number is still finite: Adam with a learning
rate of 1e10 reaches a loss of 1e32 and would end "Done". Fed each batch's loss, the watch
says when the recent loss has grown to GROWTH times the lowest so far (or is not a number).

The recent loss is the mean of the last WINDOW batches (one hard batch is not divergence),
compared with the lowest such mean seen; and never below FLOOR_LOSS times GROWTH (a loss of
10 is four times what guessing gives, ln 10 = 2.3), so a run that got very good (0.001)
does not alarm at an ordinary 1.0.
"""

from __future__ import annotations

import math
from collections import deque

GROWTH = 1e3
WINDOW = 5
FLOOR_LOSS = 0.01


class DivergenceWatch:
    """add(loss) per batch; None while training is sane, else why it is not (one line)."""

    def __init__(self, growth: float = GROWTH, window: int = WINDOW, floor: float = FLOOR_LOSS):
        self.growth, self.floor = growth, floor
        self.recent: deque[float] = deque(maxlen=window)
        self.lowest = math.inf  # the lowest recent mean so far

    def add(self, loss: float) -> str | None:
        loss = float(loss)
        if not math.isfinite(loss):
            return f"the loss became {loss}"
        self.recent.append(loss)
        mean = sum(self.recent) / len(self.recent)
        if not math.isfinite(mean):  # finite losses near the float limit can sum to inf
            return f"the loss became {mean}"
        self.lowest = min(self.lowest, mean)
        if mean >= self.growth * max(self.lowest, self.floor):
            return (f"the loss became {mean:.3g}, over {self.growth:,.0f} times its lowest "
                    f"({self.lowest:.3g}): training diverged")
        return None

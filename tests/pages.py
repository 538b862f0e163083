"""Page objects for the UI tests: what a test reads off a screen that the production
classes do not keep for it."""

from __future__ import annotations

import weakref

_COUNTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def redraws(explorer) -> int:
    """How many new results the explorer has drawn since the test first asked: counts its
    `updated` signal (connected on the first call, so ask before the draw you wait for)."""
    if explorer not in _COUNTS:
        _COUNTS[explorer] = [0]
        box = _COUNTS[explorer]

        def count() -> None:
            box[0] += 1

        explorer.updated.connect(count)
        explorer._test_redraw_slot = count  # (kept alive as long as the explorer)
    return _COUNTS[explorer][0]

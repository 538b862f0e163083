"""Long tooltips wrap.

Qt shows a plain-text tooltip as one line, as wide as the screen; rich text it word-wraps.
wrap_long_tooltips rewrites the long plain tooltips of a window's widgets as rich text in
one pass (the window calls it once built, and again when a model or tab change rewords
them). A pass, not an application-wide event filter: such a filter would run Python for
every event of every widget, milliseconds per frame while the pen moves.
"""

from __future__ import annotations

import html

from PySide6.QtGui import Qt as QtGuiNamespace  # mightBeRichText lives in QtGui's Qt
from PySide6.QtWidgets import QWidget

WRAP_TOOLTIPS_LONGER_THAN = 70  # characters; shorter tips stay on one line


def wrapped_tooltip(text: str) -> str:
    """A long plain-text tooltip as rich text, which Qt word-wraps. Rich text and short tips
    are returned as they are."""
    if len(text) <= WRAP_TOOLTIPS_LONGER_THAN or QtGuiNamespace.mightBeRichText(text):
        return text
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"


def wrap_long_tooltips(root: QWidget) -> int:
    """Rewrite every long plain tooltip under root (root included). Returns how many."""
    changed = 0
    for widget in [root, *root.findChildren(QWidget)]:
        tip = widget.toolTip()
        wrapped = wrapped_tooltip(tip)
        if wrapped != tip:
            widget.setToolTip(wrapped)
            changed += 1
    return changed

"""Text from a file (a model's name, description, class names) in the window: never Qt rich
text, never longer than a line can hold.

Qt takes a label's or a tooltip's text as rich text when it looks like HTML: a model named
'<img width=20000>' stretched the main window to 20,504 pixels. Every place that shows such
text goes through one of these: as_html inside rich text, literal for a tooltip or a
message box (always rich, with everything escaped, so Qt never guesses), and shown
(cnnviz.core.basics.text_safety) for plain-text places (combo box items, axis labels).
"""

from __future__ import annotations

import html

from cnnviz.core.basics.text_safety import MAX_SHOWN_CHARS, shown

__all__ = ["MAX_SHOWN_CHARS", "as_html", "literal", "shown"]


def as_html(text: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """File text to put inside rich text: control characters out, shortened, escaped."""
    return html.escape(shown(text, limit)).replace("\n", "<br>")


def literal(text: str) -> str:
    """A tooltip or message shown exactly as written: rich text with all of `text` escaped
    (plain text holding a tag would be drawn as HTML). Shorten the file text in it first."""
    return "<p>" + html.escape(text).replace("\n", "<br>") + "</p>"

"""Text that comes from a file (a model's name, description, class names, layer names) made
safe to show: never a terminal command, never longer than a line can hold.

    >>> printable("cnn\\x1b]0;pwned\\x07\\x1b[2J name\\x9b")
    'cnn name'
    >>> shortened("x" * 500, 10)
    'xxxxxxxxx…'
"""

from __future__ import annotations

import re

MAX_SHOWN_CHARS = 120  # a name, a class name, a description's line in the window or terminal

# An escape sequence: CSI (ESC [ ... final byte), OSC/DCS/SOS/PM/APC strings (ESC ] ... BEL
# or ESC \), their 8-bit forms (0x9B, 0x9D, 0x90, 0x98, 0x9E, 0x9F), and any other ESC + one.
_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|$)"
    r"|\x1b[\s\S]?",
    re.DOTALL,
)
# What is left: C0 controls but tab and newline, DEL, C1 controls, and the bidirectional
# overrides and isolates that reorder what follows them on screen.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: object) -> str:
    """text without escape sequences and control characters (newline and tab stay): safe to
    print to a terminal, whose title, screen or colours file text could otherwise change."""
    return _CONTROL.sub("", _ESCAPE.sub("", str(text)))


def shortened(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """text cut to at most `limit` characters, with "…" when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def shown(text: object, limit: int = MAX_SHOWN_CHARS) -> str:
    """File text as the window or the terminal shows it: printable, then shortened."""
    return shortened(printable(text), limit)

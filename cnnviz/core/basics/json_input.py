"""JSON from files and pasted text (a weights file's header, an architecture), read so that
no text can make the reader fail in a way other than one sentence.

Python's json module recurses once per level of nesting ("[[[[..." 100,000 deep is a
RecursionError) and turns every integer's digits into an int (more than 4,300 digits is a
ValueError, and without that limit a million digits take seconds): read_json counts the
nesting first, without parsing, and refuses an integer of more than MAX_JSON_DIGITS digits
as it meets it. Each problem is a JsonProblem (a ValueError) naming `what` was read.
"""

from __future__ import annotations

import json
import re

import numpy as np

from .limits import MAX_HEADER_DEPTH, MAX_JSON_DIGITS

__all__ = ["JsonProblem", "json_depth", "read_json"]


class JsonProblem(ValueError):
    """JSON that cannot be read; the message says why in plain words."""


# A JSON string, escapes included: its brackets are text, not nesting.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def json_depth(text: bytes) -> int:
    """How deeply text's arrays and objects nest, counted without parsing."""
    data = np.frombuffer(_JSON_STRING.sub(b'""', text), np.uint8)
    if data.size == 0:
        return 0
    step = np.isin(data, (ord("["), ord("{"))).astype(np.int32)
    step -= np.isin(data, (ord("]"), ord("}")))
    return int(np.cumsum(step, dtype=np.int64).max())


class _TooManyDigits(Exception):
    def __init__(self, digits: int):
        super().__init__(digits)
        self.digits = digits


def _whole_number(text: str) -> int:
    digits = len(text) - text.startswith("-")
    if digits > MAX_JSON_DIGITS:
        raise _TooManyDigits(digits)
    return int(text)


def read_json(text: bytes | str, what: str):
    """json.loads(text), or JsonProblem saying why not: `what` ("the file's header") nests
    deeper than MAX_HEADER_DEPTH, holds an integer of more than MAX_JSON_DIGITS digits, or
    is not JSON."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    if json_depth(raw) > MAX_HEADER_DEPTH:
        raise JsonProblem(f"{what} nests more than {MAX_HEADER_DEPTH} levels deep; cnnviz "
                          "never writes that (damaged, or made to crash readers)")
    try:
        return json.loads(text, parse_int=_whole_number)
    except _TooManyDigits as exc:
        raise JsonProblem(f"{what} holds a whole number of {exc.digits:,} digits; no number "
                          f"cnnviz reads has more than {MAX_JSON_DIGITS}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise JsonProblem(f"{what} is not valid JSON ({str(exc)[:120]})") from None

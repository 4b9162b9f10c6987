"""JSON from strangers, parsed within limits. Pure: no Chalice, no I/O.

``json.loads`` alone lets a sender choose what the parse costs: ``[`` nested a few thousand
deep exhausts the interpreter's recursion limit (a ``RecursionError``, not a ``ValueError``),
and it accepts ``NaN`` and ``Infinity``, which are not JSON (RFC 8259) and which no store can
keep. ``parse`` checks the size first, then the nesting depth on the document's bracket
skeleton (no recursion, cost linear in the size), and only then parses, refusing those tokens.
"""
from __future__ import annotations

import json
import re
from typing import Any

#: the most a request body may hold, in bytes: a full ingest batch (500 events of at most 8 KB)
#: fits, and it stays under Lambda's 6 MB synchronous payload
MAX_BODY_BYTES = 5 * 1024 * 1024
#: arrays and objects nested deeper than this are refused; the API's documents need 3
MAX_DEPTH = 16

# A JSON string, unrolled so that a long one costs one pass: "...", escapes included.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")


class JsonRefused(Exception):
    """The document cannot be used. ``too_large``: refused for its size (HTTP 413), else for
    its form (400). ``reason`` reads after "the body" or "the document" ("is not valid JSON:
..."), and is safe to show the sender: it never repeats the document."""

    def __init__(self, reason: str, too_large: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.too_large = too_large


def parse(raw: bytes | str, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``raw`` (UTF-8 when bytes); raises :class:`JsonRefused`."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise JsonRefused(f"is {size:,} bytes; the limit is {max_bytes:,}", too_large=True)
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRefused("is not UTF-8") from None
    else:
        text = raw
    check_depth(text, max_depth)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:  # unreachable after check_depth; never a 500 all the same
        raise JsonRefused(_too_deep(max_depth)) from None
    except ValueError as exc:  # JSONDecodeError, and int() refusing 4,300+ digits
        raise JsonRefused(f"is not valid JSON: {_short(exc)}") from None


def check_depth(text: str, max_depth: int) -> None:
    """Refuse ``text`` if its arrays and objects nest deeper than ``max_depth``, or if its
    brackets do not pair up (then it is not JSON anyway). Each pass over the bracket skeleton
    removes the innermost pairs, one level of nesting; a document within the limit is empty
    after ``max_depth`` passes."""
    skeleton = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _level in range(max_depth):
        if not skeleton:
            return
        skeleton, removed = _INNERMOST_PAIR.subn("", skeleton)
        if not removed:
            raise JsonRefused("is not valid JSON: its brackets do not pair up")
    if skeleton:
        raise JsonRefused(_too_deep(max_depth))


def _too_deep(max_depth: int) -> str:
    return f"nests arrays and objects deeper than {max_depth} levels"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _short(exc: ValueError) -> str:
    message = str(exc)
    return message if len(message) <= 200 else message[:200] + "…"

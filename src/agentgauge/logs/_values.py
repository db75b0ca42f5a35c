"""Small pieces the readers of the other agents share: lenient numbers and times, one row builder,
the usual duplicate preferences, and JSON decoding that reports a bad document as ``Malformed``.

Every reader fills rows the same way (``_base.Row``): ``input`` is the input that was neither read
from nor written to a cache, ``output`` includes reasoning (reasoning is also kept apart, for the
report), and ``cache_write``/``cache_read`` are the cache tokens. An agent whose logs count input
with the cache inside converts before building the row.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from ._base import CACHE_READ, CACHE_WRITE, INPUT, LONG_CONTEXT, OUTPUT, TS, Malformed, Row, key_id

_intern = sys.intern


def num(value: Any) -> int:
    """A token count: a non-negative integer from an int, a float or a string of digits; else 0."""
    if type(value) is int:
        return value if value > 0 else 0
    if type(value) is float:
        return int(value) if value > 0 and value == value and value != float("inf") else 0
    if type(value) is str and value.strip().isdigit():
        return int(value.strip())
    return 0


def seconds(value: Any) -> int | None:
    """Epoch seconds from what agents write for a time: ISO-8601 text (``Z`` or an offset; a bare
    time is UTC), a number of seconds, milliseconds, microseconds or nanoseconds (told apart by
    size), or OpenTelemetry's ``[seconds, nanoseconds]`` pair."""
    if type(value) is str:
        text = value.strip()
        if text.isdigit():
            return seconds(int(text))
        if len(text) < 10:
            return None
        try:
            when = datetime.fromisoformat(text.replace(" ", "T", 1) if len(text) > 10 and text[10] == " " else text)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return int(when.timestamp())
    if type(value) is list and len(value) == 2 and type(value[0]) is int and value[0] > 0:
        return value[0]
    if type(value) in (int, float) and value > 0:
        raw = float(value)
        for scale in (1.0, 1e3, 1e6, 1e9):  # a 2001-2286 date in seconds has 10 digits
            if raw / scale < 1e10:
                return int(raw / scale)
    return None


def row(
    key: str,
    ts: int,
    model: str,
    file_id: int,
    *,
    input: int = 0,
    output: int = 0,
    cache_write: int = 0,
    cache_read: int = 0,
    reasoning: int = 0,
    secondary: int = 0,
) -> Row:
    """One usage row. ``output`` must already include ``reasoning``; ``secondary`` marks a copy that
    a primary record of the same key replaces (stored in the sidechain column)."""
    return (
        key_id(key),
        ts,
        _intern(model),
        input,
        output,
        cache_write,
        0,
        cache_read,
        reasoning,
        secondary,
        1 if input + cache_write + cache_read > LONG_CONTEXT else 0,
        file_id,
    )


def total(r: Row) -> int:
    return int(r[INPUT] + r[OUTPUT] + r[CACHE_WRITE] + r[CACHE_READ])


def larger_wins(new: Row, old: Row) -> bool:
    """For records rewritten as they grow (a streamed message, a session's running total): the
    larger copy is the later one; an equal copy replaces the stored one (nothing changes)."""
    return total(new) >= total(old)


def earliest_wins(new: Row, old: Row) -> bool:
    """For verbatim copies (a forked or archived transcript): the original, earliest copy stays."""
    return bool(new[TS] < old[TS])


def loads(data: bytes) -> Any:
    """Parse JSON; invalid UTF-8 inside a string is replaced rather than losing the record."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    try:
        return orjson.loads(data.decode("utf-8", "replace"))
    except orjson.JSONDecodeError:
        raise Malformed from None


def text(value: Any) -> str:
    """A non-empty string or ''."""
    return value.strip() if type(value) is str else ""


def obj(value: Any) -> dict[str, Any]:
    return value if type(value) is dict else {}

"""Pure helpers every ``parse`` uses to read upstream values defensively.

Numbers may arrive as strings, objects as ``null``, times as ISO strings (with
nanoseconds), epoch seconds or epoch milliseconds. Conversion happens here, once.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import ParseError


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is an object, else an empty one (``null`` is treated as absent)."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[dict[str, Any]]:
    """The object entries of a list; non-objects (seen in Claude's org list) are skipped."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def opt_num(value: Any, field: str = "") -> float | None:
    """A number from a number or numeric string; ``None`` when absent or empty."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise ParseError(f"field '{field}' is not a number", field=field) from None
        return number if math.isfinite(number) else None
    raise ParseError(f"field '{field}' has an unexpected type {type(value).__name__}", field=field)


def req_num(value: Any, field: str) -> float:
    number = opt_num(value, field)
    if number is None:
        raise ParseError(f"required field '{field}' is missing", field=field)
    return number


def opt_str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_iso(text: str, field: str = "") -> datetime:
    """ISO-8601 with any number of fraction digits and ``Z`` or an offset; naive means UTC."""
    cleaned = _FRACTION.sub(r"\1", text.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ParseError(f"field '{field}' is not an ISO-8601 time", field=field) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def from_epoch(number: float, field: str = "") -> datetime:
    """Epoch seconds or milliseconds, told apart by magnitude (ms values are > 1e11)."""
    seconds = number / 1000.0 if abs(number) > 1e11 else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ParseError(f"field '{field}' is not a plausible time", field=field) from None


def opt_time(value: Any, field: str = "") -> datetime | None:
    """A time from an ISO string, epoch seconds/ms (number or numeric string), or ``None``."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if value != value:  # NaN
            return None
        return from_epoch(float(value), field) if value > 0 else None
    if isinstance(value, str):
        stripped = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", stripped):
            number = float(stripped)
            return from_epoch(number, field) if number > 0 else None
        return parse_iso(stripped, field)
    raise ParseError(f"field '{field}' is not a time", field=field)


def after(now: datetime, seconds: Any, field: str = "") -> datetime | None:
    """``now`` plus a relative "resets in N seconds" value."""
    number = opt_num(seconds, field)
    if number is None:
        return None
    try:
        return now + timedelta(seconds=number)
    except OverflowError:
        raise ParseError(f"field '{field}' is not a plausible duration", field=field) from None


def pct_from_fraction(value: Any, field: str = "") -> float | None:
    number = opt_num(value, field)
    return None if number is None else round(number * 100.0, 4)


def pct_of(used: float | None, limit: float | None) -> float | None:
    if used is None or not limit:
        return None
    return round(used / limit * 100.0, 4)


def humanize_seconds(seconds: int) -> str:
    """A compact label for a window length: 18000 -> '5h', 604800 -> '7d'."""
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def slug(text: str) -> str:
    """A stable window-id fragment from a provider's own name ("GPT-5.3-Codex-Spark" -> "gpt_5_3_codex_spark")."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "unnamed"


_NAMED_LENGTHS = {18000: "session", 86400: "daily", 604800: "weekly"}
_NAMED_LABELS = {"session": "Session (5h)", "daily": "Daily", "weekly": "Weekly", "monthly": "Monthly"}


def window_id_for(seconds: int | None) -> str:
    """The shared window vocabulary by length: 5h -> session, 1d -> daily, 7d -> weekly,
    28-31d -> monthly; any other length names itself (``window_9h``)."""
    if seconds is None:
        return "window"
    if seconds in _NAMED_LENGTHS:
        return _NAMED_LENGTHS[seconds]
    if 28 * 86400 <= seconds <= 31 * 86400:
        return "monthly"
    return f"window_{humanize_seconds(seconds)}"


def label_for(window_id: str, seconds: int | None = None) -> str:
    if window_id in _NAMED_LABELS:
        return _NAMED_LABELS[window_id]
    if seconds:
        return f"{humanize_seconds(seconds)} window"
    return window_id.replace("_", " ").capitalize()


def unique_id(window_id: str, taken: set[str]) -> str:
    """``window_id`` or ``window_id_2``... so two windows of one account never share an id."""
    candidate, n = window_id, 2
    while candidate in taken:
        candidate, n = f"{window_id}_{n}", n + 1
    taken.add(candidate)
    return candidate

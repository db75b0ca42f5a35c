"""Pure helpers every ``parse`` uses to read upstream values defensively.

Numbers may arrive as strings, objects as ``null``, times as ISO strings (with
nanoseconds), epoch seconds or epoch milliseconds. Conversion happens here, once. Also here:
rate-limit headers (``limit``/``remaining`` pairs, Go-style durations) and the warnings a fetch
recorded for a failed enrichment call (``_http.problem``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from ..errors import ParseError
from ..models import ErrorInfo, ErrorKind

T = TypeVar("T")
R = TypeVar("R")


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


class Salvage:
    """Keeps a response useful when part of it drifts: each entry is built on its own, and one that
    does not parse becomes a warning naming its field while the others are still shown.

    ::

        salvage = Salvage()
        windows = salvage.each(items(data.get("limits")), lambda i, entry: window_from(entry, f"limits[{i}]"))
        return Usage(windows=tuple(windows), warnings=salvage.warnings())

    A response with no usable window at all is still a ``parse`` error: the engine raises it (with
    the first warning) and keeps the last good data.
    """

    def __init__(self) -> None:
        self.problems: list[ParseError] = []

    def each(self, entries: Iterable[T], build: Callable[[int, T], R | None]) -> list[R]:
        out: list[R] = []
        for index, entry in enumerate(entries):
            try:
                built = build(index, entry)
            except ParseError as exc:
                self.problems.append(exc)
                continue
            if built is not None:
                out.append(built)
        return out

    def keep(self, build: Callable[[], R]) -> R | None:
        """One optional part (a plan, a balance block): its failure is a warning, not the end."""
        try:
            return build()
        except ParseError as exc:
            self.problems.append(exc)
            return None

    def warnings(self) -> tuple[ErrorInfo, ...]:
        return tuple(exc.info() for exc in self.problems)


# -- what a fetch recorded -------------------------------------------------------------------------
def recorded_warning(record: Any, default_hint: str) -> ErrorInfo | None:
    """The warning for a failed enrichment call that ``fetch`` recorded with ``_http.problem``
    (``{"kind", "message", "hint"}``); None when the record says nothing."""
    error = obj(record)
    message = opt_str(error.get("message"))
    if not message:
        return None
    try:
        kind = ErrorKind(opt_str(error.get("kind")) or "upstream")
    except ValueError:
        kind = ErrorKind.UPSTREAM
    hint = opt_str(error.get("hint")) or default_hint
    return ErrorInfo(kind=kind, message=message[:300], hint=hint[:300])


# -- rate-limit headers ----------------------------------------------------------------------------
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s|d)")
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def _named(name: str) -> str:
    return f"{name}: " if name else ""


def lower_keys(headers: Mapping[str, Any]) -> dict[str, Any]:
    """Headers as a plain dict with lower-cased names (recorded headers keep whatever case came)."""
    return {str(k).lower(): v for k, v in headers.items()}


def duration(text: str, field: str, *, days: bool = False, name: str = "") -> float:
    """A Go-style duration as seconds: ``1h2m3.5s``, ``12ms``, ``0s``; a bare number is seconds;
    ``6d`` only with ``days``. Anything else is a ParseError naming ``field`` (``name``: the provider,
    for the message)."""
    value = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value or (not days and any(u == "d" for _, u in parts)):
        raise ParseError(f"{_named(name)}header '{field}' is not a duration", field=field)
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def limit_and_used(
    headers: Mapping[str, Any], limit_field: str, remaining_field: str, *, name: str = ""
) -> tuple[float, float] | None:
    """``(limit, used)`` from a rate-limit header pair (``headers`` with lower-cased names). None when
    neither is sent, or a value is negative (``-1``: the service does not know); one without the
    other, or a limit of 0, is a ParseError naming ``limit_field``."""
    limit = opt_num(headers.get(limit_field), limit_field)
    remaining = opt_num(headers.get(remaining_field), remaining_field)
    if limit is None and remaining is None:
        return None
    if limit is None or remaining is None:
        raise ParseError(f"{_named(name)}header {limit_field} or {remaining_field} is missing", field=limit_field)
    if limit < 0 or remaining < 0:
        return None
    if limit == 0:
        raise ParseError(f"{_named(name)}header {limit_field} is 0", field=limit_field)
    return limit, max(limit - remaining, 0.0)

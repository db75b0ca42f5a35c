"""Pure parsing of MiniMax's other shapes: the multi-service ``services[]`` answer and the web
billing history (``account/amount``), which becomes token breakdowns per model and per day.

``services[]`` entries carry ``service_type``, ``window_type`` ("5 hours", "Today"...),
``time_range`` ("10:00-15:00(UTC+8)", "2026/03/25 00:00 - 2026/03/26 00:00"), ``usage`` (used),
``limit`` and sometimes ``percent``. Times without a zone are China time (UTC+8), as the
platform shows them.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ...errors import ParseError
from ...models import Breakdown, BreakdownItem, Window
from .._parse import Salvage, items, label_for, obj, opt_num, opt_str, opt_time, slug, unique_id, window_id_for

CHINA = timezone(timedelta(hours=8))
HISTORY_DAYS = 30
_ZONE = re.compile(r"\((?:UTC|GMT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\)", re.I)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_DAY_TIME = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2})")


def _zone(text: str) -> timezone:
    match = _ZONE.search(text)
    if not match:
        return CHINA
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0)))


def window_length(window_type: str) -> int | None:
    lower = window_type.strip().lower()
    if lower in ("today", "daily", "day"):
        return 86400
    if "week" in lower:
        return 604800
    hours = re.match(r"(\d+)\s*h", lower)
    return int(hours.group(1)) * 3600 if hours else None


def reset_of(window_type: str, time_range: str, now: datetime) -> datetime | None:
    """The end of ``time_range``: a dated end as given, a clock end at its next occurrence."""
    parts = time_range.split("-")
    if len(parts) < 2:
        return None
    end_text = parts[-1] if _DAY_TIME.search(parts[-1]) or _CLOCK.search(parts[-1]) else ""
    tz = _zone(time_range)
    dated = _DAY_TIME.search(end_text)
    if dated:
        y, m, d, hh, mm = (int(g) for g in dated.groups())
        try:
            return datetime(y, m, d, hh, mm, tzinfo=tz)
        except ValueError:
            return None
    clock = _CLOCK.search(end_text)
    if not clock or "hour" not in window_type.lower():
        return None
    hh, mm = int(clock.group(1)), int(clock.group(2))
    if hh > 23 or mm > 59:
        return None
    local = now.astimezone(tz)
    candidate = local.replace(hour=hh, minute=mm, second=0, microsecond=0)
    return candidate if candidate >= local else candidate + timedelta(days=1)


def _service_window(entry: dict[str, Any], index: int, taken: set[str], now: datetime) -> Window | None:
    where = f"services[{index}]"
    service = opt_str(entry.get("service_type")) or "service"
    window_type = opt_str(entry.get("window_type")) or ""
    used = opt_num(entry.get("usage"), f"{where}.usage")
    limit = opt_num(entry.get("limit"), f"{where}.limit")
    if limit is None or limit <= 0:
        return None  # nothing to measure against
    pct = opt_num(entry.get("percent"), f"{where}.percent")
    if pct is None:
        if used is None:
            raise ParseError(f"MiniMax: {where} has neither usage nor percent", field=f"{where}.usage")
        pct = used / limit * 100.0
    seconds = window_length(window_type)
    base = window_id_for(seconds) if seconds else "window"
    text = "text" in service.lower() and "generation" in service.lower()
    wid = unique_id(base if text else f"{slug(service)}_{base}", taken)
    label = label_for(base, seconds) if text else f"{service} · {label_for(base, seconds)}"
    return Window(
        id=wid,
        label=label,
        used_pct=round(min(max(pct, 0.0), 100.0), 4),
        resets_at=reset_of(window_type, opt_str(entry.get("time_range")) or "", now),
        window_seconds=seconds,
        used=used,
        limit=limit,
        unit="requests",
    )


def service_windows(services: Any, now: datetime, salvage: Salvage) -> list[Window]:
    taken: set[str] = set()
    return salvage.each(items(services), lambda i, e: _service_window(e, i, taken, now))


def _record_day(record: dict[str, Any], where: str) -> date | None:
    text = opt_str(record.get("ymd"))
    if text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ParseError(f"MiniMax: {where}.ymd is not a date", field=f"{where}.ymd") from None
    created = opt_time(record.get("created_at"), f"{where}.created_at")
    return created.astimezone(CHINA).date() if created else None


def _tokens(record: dict[str, Any], where: str) -> float:
    total = opt_num(record.get("consume_token"), f"{where}.consume_token")
    if total and total > 0:
        return total
    parts = (opt_num(record.get(k), f"{where}.{k}") for k in ("consume_input_token", "consume_output_token"))
    return max(sum(p or 0.0 for p in parts), 0.0)


def billing_breakdowns(payload: Any, now: datetime) -> list[Breakdown]:
    """Tokens of the last 30 days (China calendar days, today included) by model and by day."""
    if payload is None:
        return []
    root = obj(payload)
    code = opt_num(obj(root.get("base_resp")).get("status_code"), "billing.base_resp.status_code")
    if code not in (None, 0):
        raise ParseError("MiniMax: the billing history was refused", field="billing.base_resp")
    first_day = now.astimezone(CHINA).date() - timedelta(days=HISTORY_DAYS - 1)
    by_model: dict[str, float] = {}
    by_day: dict[str, float] = {}
    for index, record in enumerate(items(root.get("charge_records"))):
        where = f"billing.charge_records[{index}]"
        day = _record_day(record, where)
        if day is None or day < first_day:
            continue
        tokens = _tokens(record, where)
        model = opt_str(record.get("model")) or "unknown"
        by_model[model] = by_model.get(model, 0.0) + tokens
        by_day[day.isoformat()] = by_day.get(day.isoformat(), 0.0) + tokens
    if not by_model:
        return []
    models = sorted(by_model.items(), key=lambda kv: (-kv[1], kv[0]))
    return [
        Breakdown(
            id="tokens_by_model",
            label="Tokens by model (30 days)",
            unit="tokens",
            items=tuple(BreakdownItem(key=k, value=v) for k, v in models),
        ),
        Breakdown(
            id="tokens_by_day",
            label="Tokens by day (30 days)",
            unit="tokens",
            items=tuple(BreakdownItem(key=k, value=v) for k, v in sorted(by_day.items())),
        ),
    ]

"""Pure parsers for what Codex reports beside its rate-limit windows: the credits balance and the
daily usage breakdown.

* ``credits: {has_credits, unlimited, balance}`` of ``wham/usage`` (``credits: {hasCredits,
  unlimited, balance}`` from ``codex app-server``): a balance, never a window, since it has no cap;
* ``GET /backend-api/wham/usage/daily-token-usage-breakdown``: ``{units, group_by, data: [{date,
  product_surface_usage_values: {surface: amount}, models: [...]}]}``, one entry per day. A day's
  amount is the sum over its product surfaces, in the answer's ``units`` (``tokens`` when it
  names none; ``percent`` and ``credits`` are seen too).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ...errors import ParseError
from ...models import Balance, Breakdown, BreakdownItem
from .._parse import Salvage, obj, opt_num, opt_str

DAILY_DAYS = 14
DAILY_LABELS = {"tokens": "Tokens per day", "credits": "Credits per day", "percent": "Usage per day (%)"}


def credits_balance(value: Any, where: str) -> Balance | None:
    """The credits balance; None when the account has none to show (``has_credits: false`` with a
    zero or missing balance, the plain Plus/Pro case, is not a balance of 0 worth a line)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ParseError(f"Codex: '{where}' is not an object", field=where)
    unlimited = value.get("unlimited") is True
    remaining = opt_num(value.get("balance"), f"{where}.balance")
    has = value.get("has_credits", value.get("hasCredits"))
    if not unlimited and (remaining is None or (has is False and remaining == 0)):
        return None
    return Balance(id="credits", label="Credits", unit="credits", remaining=remaining, unlimited=unlimited)


def daily_breakdown(payload: Any, now: datetime, salvage: Salvage) -> Breakdown | None:
    """The last ``DAILY_DAYS`` days of the daily breakdown (days after ``now`` are left out). A day
    that does not parse, or a surface amount that is not a number, is a warning; the rest is shown."""
    if payload is None:
        return None  # the optional call failed or was not made
    root = obj(payload)
    rows = root.get("data")
    if not isinstance(rows, list):
        raise ParseError("Codex: 'daily.data' of the daily breakdown is not a list", field="daily.data")
    unit = (opt_str(root.get("units")) or "tokens").lower()
    totals: dict[date, float] = {}
    skipped: list[str] = []
    for day, amount in salvage.each(rows, lambda i, row: _day(row, f"daily.data[{i}]", skipped)):
        totals[day] = totals.get(day, 0.0) + amount
    if skipped:
        salvage.problems.append(
            ParseError(
                f"Codex: {len(skipped)} daily amount(s) are not numbers and were left out (first: '{skipped[0]}')",
                field=skipped[0],
            )
        )
    days = sorted(d for d in totals if d <= now.date())[-DAILY_DAYS:]
    return Breakdown(
        id="daily_tokens",
        label=DAILY_LABELS.get(unit, f"Usage per day ({unit})"),
        unit=unit,
        items=tuple(BreakdownItem(key=d.isoformat(), value=round(totals[d], 6)) for d in days),
    )


def _day(row: Any, where: str, skipped: list[str]) -> tuple[date, float]:
    if not isinstance(row, dict):
        raise ParseError(f"Codex: '{where}' is not an object", field=where)
    text = opt_str(row.get("date")) or ""
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        raise ParseError(f"Codex: '{where}.date' is not a date", field=f"{where}.date") from None
    surfaces = row.get("product_surface_usage_values")
    if not isinstance(surfaces, dict):
        raise ParseError(
            f"Codex: '{where}.product_surface_usage_values' is missing", field=f"{where}.product_surface_usage_values"
        )
    total = 0.0
    for name, raw in surfaces.items():
        field = f"{where}.product_surface_usage_values.{name}"
        try:
            amount = opt_num(raw, field)
        except ParseError:
            skipped.append(field)
            continue
        total += amount or 0.0
    return day, total

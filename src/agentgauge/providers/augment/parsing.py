"""Pure parsing of Augment's two answers: ``auggie account status`` text and the web app's
``/api/credits`` (+ optional ``/api/subscription``) JSON.

``auggie account status`` has printed two formats, both read:

- current, a panel: ``319,054 credits remaining   Max Plan`` / ``450,000 credits / month`` inside a
  box, then ``9 days remaining in this billing cycle (ends 6/9/2026)``;
- older, plain lines: ``Max Plan 450,000 credits / month``, ``11,657 remaining · 953,170 / 964,827
  credits used``, ``2 days remaining in this billing cycle (ends 1/8/2026)`` (the total there
  includes credits beyond the monthly allowance, so it is the limit).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from ...errors import AuthError, ParseError
from ...models import Balance, Usage, Window
from .._parse import obj, opt_num, opt_str, opt_time
from .._process import strip_ansi

LOGIN_MARKERS = ("authentication failed", "auggie login", "not logged in", "not authenticated", "unauthenticated")
LOGIN_HINT = "Run `auggie login`, or log in to app.augmentcode.com in your browser, then refresh."
NUM = r"(\d[\d,]*(?:\.\d+)?)"
_BOX = re.compile(r"[\u2500-\u257f]")
_PLAN = re.compile(r"\b((?:[A-Z][\w-]*[ \t]+){0,3}Plan)\b")
_ALLOWANCE = re.compile(NUM + r"\s+credits\s*/\s*month", re.I)
_REMAINING = re.compile(r"(?<![\d,.])" + NUM + r"\s+(?:credits\s+)?remaining\b", re.I)
_USED_OF = re.compile(NUM + r"\s*/\s*" + NUM + r"\s+credits\s+used", re.I)
_CYCLE_END = re.compile(r"\(ends\s+(\d{1,2})/(\d{1,2})/(\d{4})\)", re.I)
_DAYS_LEFT = re.compile(r"(\d+)\s+days?\s+remaining\s+in\s+this\s+billing\s+cycle", re.I)


def _num(text: str) -> float:
    return float(text.replace(",", ""))


def _pct(used: float, limit: float) -> float:
    return min(round(used / limit * 100.0, 4), 100.0) if limit > 0 else 0.0


def credits_window(used: float, limit: float, resets_at: datetime | None) -> Window:
    return Window(
        id="credits",
        label="Credits (billing cycle)",
        used_pct=_pct(used, limit),
        resets_at=resets_at,
        used=used,
        limit=limit,
        unit="credits",
    )


def parse_cli(raw: str, now: datetime) -> Usage:
    text = _BOX.sub(" ", strip_ansi(raw))
    lowered = text.lower()
    if any(marker in lowered for marker in LOGIN_MARKERS):
        raise AuthError("Augment: auggie is not logged in", hint=LOGIN_HINT)
    plan = _PLAN.search(text)
    allowance = _ALLOWANCE.search(text)
    remaining = _REMAINING.search(text)
    used_of = _USED_OF.search(text)
    end = _CYCLE_END.search(text)
    days = _DAYS_LEFT.search(text)
    if end:
        month, day, year = (int(g) for g in end.groups())
        try:
            resets_at: datetime | None = datetime(year, month, day, tzinfo=UTC)
        except ValueError:
            raise ParseError(f"Augment: the cycle end '{end.group(0)}' is not a date", field="ends") from None
    else:
        resets_at = now + timedelta(days=int(days.group(1))) if days else None
    if used_of:
        used, limit = _num(used_of.group(1)), _num(used_of.group(2))
    elif remaining and allowance:
        limit = _num(allowance.group(1))
        used = max(limit - _num(remaining.group(1)), 0.0)
    else:
        raise ParseError("Augment: auggie printed no credits figures agentgauge knows", field="usage_text")
    return Usage(windows=(credits_window(used, limit, resets_at),), plan=plan.group(1) if plan else None)


def parse_web(credits: Any, subscription: Any) -> Usage:
    if not isinstance(credits, dict):
        raise ParseError("Augment: the credits answer is not an object", field="credits")
    remaining = opt_num(credits.get("usageUnitsRemaining"), "credits.usageUnitsRemaining")
    consumed = opt_num(credits.get("usageUnitsConsumedThisBillingCycle"), "credits.usageUnitsConsumedThisBillingCycle")
    available = opt_num(credits.get("usageUnitsAvailable"), "credits.usageUnitsAvailable")
    sub = obj(subscription)
    resets_at = opt_time(sub.get("billingPeriodEnd"), "subscription.billingPeriodEnd")
    plan = opt_str(sub.get("planName"))
    # The cycle's credits: what the account has available, else what is left plus what was spent.
    limit = (
        available if available else (remaining + consumed if remaining is not None and consumed is not None else None)
    )
    if limit and consumed is not None:
        return Usage(windows=(credits_window(consumed, limit, resets_at),), plan=plan)
    if remaining is not None:  # no stated limit: a balance, not a percent
        balance = Balance(id="credits", label="Credits", unit="credits", remaining=remaining, resets_at=resets_at)
        return Usage(balances=(balance,), plan=plan)
    raise ParseError("Augment: the credits answer has no usage figures", field="credits.usageUnitsRemaining")

"""Pure reading of Manus's ``GetAvailableCredits`` answer (credits, no money)."""

from __future__ import annotations

from typing import Any

from ...errors import AuthError, ParseError, RateLimitedError, UpstreamError
from ...models import Balance, Breakdown, BreakdownItem, Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time, slug

NAME = "Manus"
FIELDS = (
    "totalCredits",
    "freeCredits",
    "periodicCredits",
    "addonCredits",
    "refreshCredits",
    "maxRefreshCredits",
    "proMonthlyCredits",
    "eventCredits",
)
PARTS = (
    ("freeCredits", "Free"),
    ("periodicCredits", "Monthly"),
    ("refreshCredits", "Refresh"),
    ("addonCredits", "Add-on"),
    ("eventCredits", "Event"),
)
INTERVAL_SECONDS = {"daily": 86400, "weekly": 604800}
# Connect's error codes (https://connectrpc.com/docs/protocol#error-codes) that say what happened.
AUTH_CODES = {"unauthenticated", "permission_denied"}


def error_in(root: dict[str, Any]) -> Exception | None:
    """A Connect error body ``{"code": "unauthenticated", "message": ...}``."""
    code = opt_str(root.get("code"))
    if code is None or any(k in root for k in FIELDS):
        return None
    message = (opt_str(root.get("message")) or code)[:200]
    if code in AUTH_CODES:
        return AuthError(f"{NAME}: the credits request was refused ({code}): {message}", status_code=401)
    if code == "resource_exhausted":
        return RateLimitedError(f"{NAME}: the credits request was rate limited: {message}")
    return UpstreamError(f"{NAME}: the credits request failed ({code}): {message}")


def credits_object(root: Any) -> dict[str, Any]:
    if not isinstance(root, dict):
        raise ParseError(f"{NAME}: credits response is not an object", field="$")
    failure = error_in(root)
    if failure is not None:
        raise failure
    for key in ("data", "result", "response", "availableCredits"):
        nested = obj(root.get(key))
        if any(k in nested for k in FIELDS):
            return nested
    if not any(k in root for k in FIELDS):
        # Connect omits zero fields, but an answer with none of them is not a credits answer.
        raise ParseError(f"{NAME}: the answer has no credit figures", field="totalCredits")
    return root


def _num(data: dict[str, Any], key: str) -> float:
    return opt_num(data.get(key), key) or 0.0  # absent in a credits answer: 0 (Connect omits it)


def monthly_window(data: dict[str, Any]) -> Window | None:
    allotment = _num(data, "proMonthlyCredits")
    if allotment <= 0:
        return None
    used = max(allotment - _num(data, "periodicCredits"), 0.0)
    return Window(
        id="monthly",
        label="Monthly credits",
        used_pct=round(used / allotment * 100.0, 4),
        used=used,
        limit=allotment,
        unit="credits",
    )


def refresh_window(data: dict[str, Any]) -> Window | None:
    most = _num(data, "maxRefreshCredits")
    if most <= 0:
        return None
    interval = (opt_str(data.get("refreshInterval")) or "").lower()
    used = max(most - _num(data, "refreshCredits"), 0.0)
    return Window(
        id=f"refresh_{slug(interval)}" if interval else "refresh_credits",
        label=f"Refresh credits ({interval})" if interval else "Refresh credits",
        used_pct=round(used / most * 100.0, 4),
        resets_at=opt_time(data.get("nextRefreshTime"), "nextRefreshTime"),
        window_seconds=INTERVAL_SECONDS.get(interval),
        used=used,
        limit=most,
        unit="credits",
    )


def parse_credits(root: Any) -> Usage:
    data = credits_object(root)
    salvage = Salvage()
    total = _num(data, "totalCredits")
    windows = [w for w in (salvage.keep(lambda: monthly_window(data)), salvage.keep(lambda: refresh_window(data))) if w]
    parts = tuple(BreakdownItem(key=key, label=label, value=_num(data, key)) for key, label in PARTS if _num(data, key))
    breakdowns = (
        (Breakdown(id="credits_by_kind", label="Credits by kind", unit="credits", items=parts),) if parts else ()
    )
    return Usage(
        windows=tuple(windows),
        balances=(Balance(id="credits", label="Credits", unit="credits", remaining=total),),
        breakdowns=breakdowns,
        warnings=salvage.warnings(),
    )

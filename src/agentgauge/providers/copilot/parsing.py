"""Pure parser for GitHub's ``/copilot_internal/user`` answer.

``quota_snapshots`` holds one snapshot per meter (``premium_interactions``, ``chat``,
``completions``, others as GitHub adds them): ``{entitlement, remaining, percent_remaining,
unlimited, overage_count, credits_used, quota_id}``, numbers possibly as strings, ``remaining``
below 0 in overage. Free accounts may send ``monthly_quotas`` (the allowance) and
``limited_user_quotas`` (what is left) instead. All meters reset together at
``quota_reset_date`` (``YYYY-MM-DD`` or ISO). Snapshots with ``entitlement`` and ``remaining``
both 0 are placeholders (Copilot Business seats billed by tokens), not a 0 % window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...errors import ParseError
from ...models import Balance, Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time, slug, unique_id

KNOWN = {
    "premium_interactions": ("premium", "Premium requests"),
    "chat": ("chat", "Chat"),
    "completions": ("completions", "Code completions"),
}
TOKEN_BILLING_NOTE = "GitHub bills this Copilot seat by tokens and reports no request quota for it."


def parse(root: Any) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Copilot: the answer is not an object", field="$")
    salvage = Salvage()
    resets = salvage.keep(lambda: opt_time(root.get("quota_reset_date"), "quota_reset_date"))
    taken: set[str] = set()
    snapshots = root.get("quota_snapshots")
    if snapshots is not None and not isinstance(snapshots, dict):
        salvage.problems.append(ParseError("Copilot: 'quota_snapshots' is not an object", field="quota_snapshots"))
    entries = list(obj(snapshots).items())
    windows = salvage.each(entries, lambda _i, item: _snapshot(item[0], item[1], resets, taken))
    windows += _free_quotas(root, resets, taken, salvage)
    balances = salvage.each(entries, lambda _i, item: _credits_used(item[0], item[1], resets))
    plan = _plan(opt_str(root.get("copilot_plan")))
    note = None
    if not windows and root.get("token_based_billing") is True:
        note = TOKEN_BILLING_NOTE
    if snapshots is None and "monthly_quotas" not in root and note is None:
        raise ParseError("Copilot: the answer has no quota_snapshots", field="quota_snapshots")
    return Usage(
        windows=tuple(windows),
        balances=tuple(balances[:1]),
        plan=plan,
        note=note,
        warnings=salvage.warnings(),
    )


def _plan(raw: str | None) -> str | None:
    return raw.replace("_", " ").title() if raw else None


def _names(key: str) -> tuple[str, str]:
    if key in KNOWN:
        return KNOWN[key]
    return f"quota_{slug(key)}", key.replace("_", " ").strip().capitalize()


def _snapshot(key: str, value: Any, resets: datetime | None, taken: set[str]) -> Window | None:
    where = f"quota_snapshots.{key}"
    if not isinstance(value, dict):
        raise ParseError(f"Copilot: '{where}' is not an object", field=where)
    if not any(k in value for k in ("entitlement", "remaining", "percent_remaining", "unlimited")):
        return None  # not a quota snapshot (GitHub adds other fields beside them)
    wid, label = _names(key)
    if value.get("unlimited") is True:
        return Window(id=unique_id(wid, taken), label=label, used_pct=0.0, unlimited=True, unit="requests")
    entitlement = opt_num(value.get("entitlement"), f"{where}.entitlement")
    remaining = opt_num(value.get("remaining"), f"{where}.remaining")
    percent_remaining = opt_num(value.get("percent_remaining"), f"{where}.percent_remaining")
    if entitlement == 0 and remaining == 0:
        return None  # a placeholder (token-based billing): no request quota to show
    if percent_remaining is not None:
        used_pct = 100.0 - percent_remaining
    elif entitlement and remaining is not None:
        used_pct = (entitlement - remaining) / entitlement * 100.0
    else:
        raise ParseError(f"Copilot: '{where}.percent_remaining' is missing", field=f"{where}.percent_remaining")
    used = round(entitlement - remaining, 4) if entitlement is not None and remaining is not None else None
    return Window(
        id=unique_id(wid, taken),
        label=label,
        used_pct=round(max(0.0, used_pct), 4),
        resets_at=resets,
        used=used,
        limit=entitlement if entitlement else None,
        unit="requests",
    )


def _free_quotas(root: dict[str, Any], resets: datetime | None, taken: set[str], salvage: Salvage) -> list[Window]:
    """The older free-plan shape: ``monthly_quotas`` (allowance) with ``limited_user_quotas`` (left),
    for the meters ``quota_snapshots`` did not already give."""
    monthly, left = obj(root.get("monthly_quotas")), obj(root.get("limited_user_quotas"))

    def build(_index: int, key: str) -> Window | None:
        wid, label = _names(key)
        if wid in taken:
            return None
        allowance = opt_num(monthly.get(key), f"monthly_quotas.{key}")
        remaining = opt_num(left.get(key), f"limited_user_quotas.{key}")
        if not allowance or remaining is None:
            return None  # without both numbers the use is unknown: no window
        used = max(0.0, allowance - max(0.0, remaining))
        return Window(
            id=unique_id(wid, taken),
            label=label,
            used_pct=round(used / allowance * 100.0, 4),
            resets_at=resets,
            used=used,
            limit=allowance,
            unit="requests",
        )

    return salvage.each(list(monthly), build)


def _credits_used(key: str, value: Any, resets: datetime | None) -> Balance | None:
    """An absolute ``credits_used`` counter (newer seats): the credits used this cycle."""
    used = opt_num(obj(value).get("credits_used"), f"quota_snapshots.{key}.credits_used")
    if used is None:
        return None
    return Balance(
        id="credits_used", label="Credits used", unit="credits", used=used, period="monthly", resets_at=resets
    )

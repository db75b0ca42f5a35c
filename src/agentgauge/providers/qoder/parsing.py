"""Pure parser for Qoder's ``/api/v2/me/usages/big_model_credits`` answer.

``{quotaKey, nextResetAt, status, totalQuota: {quotaSummary: {usedValue, limitValue,
remainingValue, usagePercentage, unit}, quotaDetail: [...]}, sharedQuota: {...}}`` (snake_case
names are read too). The account's own credits and a team's shared credits are separate windows,
each a limit that renews at ``nextResetAt`` (ISO, or epoch seconds/milliseconds).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...errors import ParseError
from ...models import Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time, pct_of


def _either(node: dict[str, Any], camel: str, snake: str) -> Any:
    return node[camel] if camel in node else node.get(snake)


def parse(root: Any) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Qoder: the credits answer is not an object", field="$")
    salvage = Salvage()
    resets = salvage.keep(lambda: opt_time(_either(root, "nextResetAt", "next_reset_at"), "nextResetAt"))
    total = _either(root, "totalQuota", "total_quota")
    if not isinstance(total, dict):
        raise ParseError("Qoder: the answer has no totalQuota", field="totalQuota")
    windows = [_window(total, "totalQuota", "credits", "Model credits", resets)]
    shared = _either(root, "sharedQuota", "shared_quota")
    if shared is not None:
        extra = salvage.keep(lambda: _window(shared, "sharedQuota", "shared_credits", "Shared credits", resets))
        windows += [extra] if extra else []
    status = opt_str(root.get("status"))
    note = f"Qoder reports this quota as {status}." if status and status.lower() != "active" else None
    return Usage(windows=tuple(windows), note=note, warnings=salvage.warnings())


def _window(container: Any, where: str, wid: str, label: str, resets: datetime | None) -> Window:
    summary = _either(obj(container), "quotaSummary", "quota_summary")
    where = f"{where}.quotaSummary"
    if not isinstance(summary, dict):
        raise ParseError(f"Qoder: '{where}' is missing", field=where)
    used = opt_num(_either(summary, "usedValue", "used_value"), f"{where}.usedValue")
    limit = opt_num(_either(summary, "limitValue", "limit_value"), f"{where}.limitValue")
    remaining = opt_num(_either(summary, "remainingValue", "remaining_value"), f"{where}.remainingValue")
    pct = opt_num(_either(summary, "usagePercentage", "usage_percentage"), f"{where}.usagePercentage")
    if used is None and limit is not None and remaining is not None:
        used = limit - remaining
    if pct is None:
        pct = pct_of(used, limit)
    if pct is None:
        raise ParseError(f"Qoder: '{where}' has no usage numbers", field=f"{where}.usedValue")
    unit = opt_str(summary.get("unit"))
    return Window(
        id=wid,
        label=label,
        used_pct=max(0.0, pct),
        resets_at=resets,
        used=used,
        limit=limit,
        unit=(unit if unit.endswith("s") else unit + "s") if unit else "credits",
    )

"""Pure parser for Zed's ``/client/users/me`` answer.

``{user: {id, github_login, name}, plan: {plan_v3, subscription_period: {started_at, ended_at},
usage: {edit_predictions: {used, limit}, ...}, has_overdue_invoices}}``. Each ``usage`` entry is a
meter of the billing period: ``limit`` is a number, ``"unlimited"`` or ``{"limited": N}``. The
period ends (and the meters reset) at ``subscription_period.ended_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...errors import ParseError
from ...models import Usage, Window
from .._parse import Salvage, obj, opt_num, opt_str, opt_time, pct_of, slug

LABELS = {"edit_predictions": ("edit_predictions", "Edit predictions", "predictions")}
OVERDUE_NOTE = "Zed reports overdue invoices on this account."


def plan_name(raw: str | None) -> str | None:
    """``zed_pro_trial`` -> ``Zed Pro Trial``."""
    return " ".join(p.capitalize() for p in raw.split("_") if p) if raw else None


def parse(root: Any) -> Usage:
    if not isinstance(root, dict):
        raise ParseError("Zed: the answer is not an object", field="$")
    plan = root.get("plan")
    if not isinstance(plan, dict):
        raise ParseError("Zed: the answer has no 'plan' object", field="plan")
    usage = plan.get("usage")
    if not isinstance(usage, dict):
        raise ParseError("Zed: the plan has no 'usage' object", field="plan.usage")
    salvage = Salvage()
    period = obj(plan.get("subscription_period"))
    started = salvage.keep(lambda: opt_time(period.get("started_at"), "plan.subscription_period.started_at"))
    ended = salvage.keep(lambda: opt_time(period.get("ended_at"), "plan.subscription_period.ended_at"))
    seconds = int((ended - started).total_seconds()) if started and ended and ended > started else None
    windows = salvage.each(list(usage.items()), lambda _i, item: _meter(item[0], item[1], ended, seconds))
    return Usage(
        windows=tuple(windows),
        plan=plan_name(opt_str(plan.get("plan_v3"))),
        note=OVERDUE_NOTE if plan.get("has_overdue_invoices") is True else None,
        warnings=salvage.warnings(),
    )


def _limit(value: Any, where: str) -> tuple[float | None, bool]:
    """(limit, unlimited) of a meter's ``limit``."""
    if isinstance(value, str) and value.strip().lower() == "unlimited":
        return None, True
    if isinstance(value, dict):
        if "unlimited" in value or str(value.get("type", "")).lower() == "unlimited":
            return None, True
        return opt_num(value.get("limited"), f"{where}.limited"), False
    return opt_num(value, where), False


def _meter(key: str, value: Any, resets: datetime | None, seconds: int | None) -> Window | None:
    where = f"plan.usage.{key}"
    if not isinstance(value, dict):
        raise ParseError(f"Zed: '{where}' is not an object", field=where)
    if "used" not in value and "limit" not in value:
        return None  # not a meter (Zed may add other fields beside them)
    wid, label, unit = LABELS.get(key, (f"usage_{slug(key)}", key.replace("_", " ").capitalize(), None))
    used = opt_num(value.get("used"), f"{where}.used")
    limit, unlimited = _limit(value.get("limit"), f"{where}.limit")
    if used is None:
        raise ParseError(f"Zed: '{where}.used' is missing", field=f"{where}.used")
    if unlimited:
        return Window(
            id=wid,
            label=label,
            used_pct=0.0,
            resets_at=resets,
            window_seconds=seconds,
            used=used,
            unit=unit,
            unlimited=True,
        )
    pct = pct_of(used, limit)
    if pct is None:
        raise ParseError(f"Zed: '{where}.limit' is missing", field=f"{where}.limit")
    return Window(
        id=wid, label=label, used_pct=pct, resets_at=resets, window_seconds=seconds, used=used, limit=limit, unit=unit
    )

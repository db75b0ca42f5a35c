"""Other shapes of the snapshot that clients written for other tools read (seed contracts).

``seed_data`` is seed 000's ``/api/data`` (AgentsUsageDashboard: its page and Stream Deck plugin);
``aimo_usage`` is seed 003's ``GET /api/usage`` (aimo: agents choosing a provider by headroom). Both
are read-only projections of the snapshot; docs/api.md says which field comes from which window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import Breakdown, ProviderSnapshot, Snapshot, Status, Window, utc_iso

# Seed 000 knows four states: ok, stale (earlier data shown, the last fetch failed), error, offline
# (nothing to show: not logged in, or no data yet).
SEED_STATUS = {Status.OK: "ok", Status.STALE: "stale", Status.ERROR: "error", Status.UNCONFIGURED: "offline"}
SEED_MODELS = ("sonnet", "opus")  # Claude's per-model weekly windows the seed's page shows
DAILY_DAYS = 14  # the seed's page charts the last 14 days of Codex tokens
CREDITS_BALANCE = "credits"  # Codex's credit balance
DAILY_BREAKDOWN = "daily_tokens"  # Codex's tokens per day (items keyed by ISO date)
TOOLS_BREAKDOWN = "tools"  # z.ai's calls per tool


def _num(value: float | None) -> float | int | None:
    """Whole numbers as integers, so clients print "291 / 2048", not "291.0 / 2048.0"."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def account_key(p: ProviderSnapshot) -> str:
    return p.provider if p.account == "default" else f"{p.provider}:{p.account}"


def _breakdown(p: ProviderSnapshot, breakdown_id: str) -> Breakdown | None:
    return next((b for b in p.breakdowns if b.id == breakdown_id), None)


# -- seed 000: /api/data ---------------------------------------------------------------------
def _seed_status(p: ProviderSnapshot) -> str:
    if p.status == Status.STALE and p.last_success_at is None and not p.windows:
        return "offline"  # waiting for its first fetch: there is nothing stale to show
    return SEED_STATUS.get(p.status, "error")


def _seed_window(w: Window, now: datetime) -> dict[str, Any]:
    remaining = int((w.resets_at - now).total_seconds()) if w.resets_at else None
    out: dict[str, Any] = {
        "usage_pct": _num(w.used_pct),
        "remaining_seconds": max(0, remaining) if remaining is not None else None,
        "reset_at": utc_iso(w.resets_at),
    }
    if w.used is not None:
        out["used"] = _num(w.used)
    if w.limit is not None:
        out["limit"] = _num(w.limit)
    return out


def _seed_session(p: ProviderSnapshot) -> Window | None:
    # Seed semantics: without a 5-hour window the shortest window stands in (z.ai's hourly cap).
    timed = (x for x in p.windows if x.window_seconds)
    return p.window("session") or min(timed, key=lambda x: x.window_seconds or 0, default=None)


def _seed_models(p: ProviderSnapshot) -> dict[str, Any] | None:
    found = {family: p.window(f"weekly_{family}") for family in SEED_MODELS}
    if not any(found.values()):
        return None
    return {family: _num(w.used_pct) if w else None for family, w in found.items()}


def _seed_credits(p: ProviderSnapshot) -> dict[str, Any] | None:
    balance = next((b for b in p.balances if b.id == CREDITS_BALANCE), None)
    if balance is None:
        return None
    has = balance.unlimited or (balance.remaining is not None and balance.remaining > 0)
    return {"balance": _num(balance.remaining), "has_credits": has, "unlimited": balance.unlimited}


def _seed_daily(p: ProviderSnapshot) -> list[dict[str, Any]] | None:
    breakdown = _breakdown(p, DAILY_BREAKDOWN)
    if breakdown is None:
        return None
    days = sorted(breakdown.items, key=lambda item: item.key)[-DAILY_DAYS:]
    return [{"date": item.key, "value": _num(item.value)} for item in days]


def _seed_limits_detail(p: ProviderSnapshot) -> list[dict[str, Any]] | None:
    rows = [
        {"name": w.label, "used": _num(w.used), "total": _num(w.limit)}
        for w in p.windows
        if w.used is not None and w.limit is not None
    ]
    tools = _breakdown(p, TOOLS_BREAKDOWN)
    if tools is not None:
        rows += [
            {"name": item.label or item.key, "used": _num(item.value), "total": _num(item.limit)}
            for item in tools.items
        ]
    return rows or None


def seed_account(p: ProviderSnapshot, now: datetime) -> dict[str, Any]:
    """One account in seed 000's shape: the seed's own fields, then the extras its page reads."""
    entry: dict[str, Any] = {
        "status": _seed_status(p),
        "plan": p.plan,
        "error": p.error.message if p.error else None,
        "last_success": utc_iso(p.last_success_at),
    }
    for name, window in (("session", _seed_session(p)), ("weekly", p.window("weekly"))):
        if window is not None:
            entry[name] = _seed_window(window, now)
    extras = {
        "models": _seed_models(p),
        "credits": _seed_credits(p),
        "daily_breakdown": _seed_daily(p),
        "limits_detail": _seed_limits_detail(p),
    }
    entry.update({k: v for k, v in extras.items() if v is not None})
    return entry


def seed_data(snapshot: Snapshot, *, now: datetime, next_refresh_at: datetime | None) -> dict[str, object]:
    """The ``/api/data`` shape of seed 000 (AgentsUsageDashboard), so its page, Stream Deck plugin and
    scripts work unchanged: one key per account (``provider``, or ``provider:account`` for extra
    accounts), plus ``last_fetch`` and ``next_refresh_at``. Disabled accounts are left out."""
    out: dict[str, object] = {}
    for p in snapshot.providers:
        if p.status == Status.DISABLED:
            continue
        out[account_key(p)] = seed_account(p, now)
    out["last_fetch"] = utc_iso(max((p.fetched_at for p in snapshot.providers if p.fetched_at), default=None))
    out["next_refresh_at"] = utc_iso(next_refresh_at)
    return out


# -- seed 003: aimo's GET /api/usage -----------------------------------------------------------
def _aimo_window(w: Window) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": w.id,
        "label": w.label,
        "used_pct": _num(w.used_pct),
        "resets_at": utc_iso(w.resets_at),
    }
    if w.used is not None:
        out["usage"] = _num(w.used)
        if w.limit is not None:
            out["remaining"] = _num(max(0.0, w.limit - w.used))
    return out


def aimo_account(p: ProviderSnapshot) -> dict[str, Any]:
    """One account in aimo's shape. ``ok`` only when the last fetch succeeded: a stale account keeps its
    last good windows (``_source: "cache"``) but is not ok, so a headroom picker skips it."""
    ok = p.status == Status.OK
    return {
        "provider": p.provider,
        "account": p.account,
        "ok": ok,
        "plan": p.plan,
        "error": p.error.message if p.error else None,
        "windows": [_aimo_window(w) for w in p.windows],
        "_source": "cache" if p.status == Status.STALE and p.windows else "server",
        "_received_at": utc_iso(p.last_success_at),
    }


def aimo_usage(snapshot: Snapshot) -> list[dict[str, Any]]:
    """Seed 003's (aimo) ``GET /api/usage``: an array with one entry per account, disabled ones left out."""
    return [aimo_account(p) for p in snapshot.providers if p.status != Status.DISABLED]

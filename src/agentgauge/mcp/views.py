"""What the MCP tools answer: small, flat views of the snapshot, each under the size cap.

Every answer names the time its numbers are from (``data_time`` per account, ``generated_at``
overall), because a model quoting "42 % used" must also say as of when. Fields that are not known
are left out rather than sent as null, to keep answers short.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models import Balance, ProviderSnapshot, Snapshot, Status, Window, utc_iso
from ..query.agents import GuardResult
from .cap import Payload, capped, drop_tail, keep_first, strip_field

IN_USE = (Status.OK, Status.STALE, Status.ERROR)
NARROW_HINT = "Ask for one provider (provider=...) or one account to get the rest."


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v is not False and v != []}


def _key(item: dict[str, Any]) -> str:
    return f"{item.get('provider')}/{item.get('account')}"


def window_view(w: Window) -> dict[str, Any]:
    f = w.forecast
    return _compact(
        {
            "id": w.id,
            "label": w.label,
            "used_pct": w.used_pct,
            "remaining_pct": None if w.unlimited else round(max(0.0, 100.0 - w.used_pct), 2),
            "resets_at": utc_iso(w.resets_at),
            "window_seconds": w.window_seconds,
            "used": w.used,
            "limit": w.limit,
            "unit": w.unit,
            "unlimited": w.unlimited,
            "reset_pending": w.reset_pending,
            "forecast": _compact(
                {"verdict": f.verdict, "expected_pct": f.expected_pct, "runs_out_at": utc_iso(f.runs_out_at)}
            )
            if f
            else None,
        }
    )


def _balance_view(b: Balance) -> dict[str, Any]:
    return _compact(
        {
            "id": b.id,
            "label": b.label,
            "unit": b.unit,
            "remaining": b.remaining,
            "used": b.used,
            "limit": b.limit,
            "resets_at": utc_iso(b.resets_at),
            "unlimited": b.unlimited,
        }
    )


def account_view(p: ProviderSnapshot, now: datetime) -> dict[str, Any]:
    data_time = p.last_success_at
    age = round((now - data_time).total_seconds() / 60, 1) if data_time else None
    error = {"kind": p.error.kind.value, "message": p.error.message, "hint": p.error.hint} if p.error else None
    return _compact(
        {
            "provider": p.provider,
            "account": p.account,
            "name": p.name,
            "status": p.status.value,
            "plan": p.plan,
            "data_time": utc_iso(data_time),
            "age_minutes": age,
            "source": p.source_label or p.source,
            "error": error,
            "windows": [window_view(w) for w in p.windows],
            "balances": [_balance_view(b) for b in p.balances],
        }
    )


def select(snapshot: Snapshot, provider: str | None, account: str | None) -> list[ProviderSnapshot]:
    return [
        p
        for p in snapshot.providers
        if p.status in IN_USE
        and (provider is None or p.provider == provider)
        and (account is None or p.account == account)
    ]


USAGE_STEPS = (
    strip_field("accounts", "forecast", "window forecasts (get_forecast has them)", inner="windows"),
    strip_field("accounts", "balances", "balances"),
    keep_first("accounts", "windows", 2, "windows past the first two of each account"),
    drop_tail("accounts", _key, "accounts"),
)


def usage(snapshot: Snapshot, now: datetime, provider: str | None, account: str | None) -> Payload:
    rows = select(snapshot, provider, account)
    payload: Payload = {
        "generated_at": utc_iso(now),
        "accounts": [account_view(p, now) for p in rows],
    }
    if not rows:
        payload["note"] = "no account in use matches" if provider or account else "no account is configured yet"
    return capped(payload, USAGE_STEPS, NARROW_HINT)


PICK_STEPS = (
    strip_field("ranked", "window_label", "window labels"),
    drop_tail("ranked", _key, "ranked accounts"),
    drop_tail("excluded", _key, "excluded accounts"),
)


def pick(report: Payload) -> Payload:
    return capped(report, PICK_STEPS, "Pass providers=[...] to rank fewer accounts.")


def headroom(result: GuardResult, provider: str, account: str, threshold: float, data_time: datetime | None) -> Payload:
    return {
        "provider": provider,
        "account": account,
        "min_remaining_pct": threshold,
        "data_time": utc_iso(data_time),
        **result.to_json(),
    }


def forecasts(snapshot: Snapshot, now: datetime, provider: str, account: str | None, window: str | None) -> Payload:
    accounts = []
    for p in select(snapshot, provider, account):
        windows = [w for w in p.windows if window is None or w.id == window]
        accounts.append(
            {
                "provider": p.provider,
                "account": p.account,
                "data_time": utc_iso(p.last_success_at),
                "windows": [
                    _compact(
                        {
                            "id": w.id,
                            "label": w.label,
                            "used_pct": w.used_pct,
                            "resets_at": utc_iso(w.resets_at),
                            "forecast": w.forecast.model_dump(mode="json", exclude_none=True) if w.forecast else None,
                            "note": None if w.forecast else "no forecast yet (needs a reset time and some history)",
                        }
                    )
                    for w in windows
                ],
            }
        )
    payload: Payload = {"generated_at": utc_iso(now), "accounts": accounts}
    if not accounts:
        payload["note"] = f"no account of '{provider}' in use" + (f" named '{account}'" if account else "")
    return capped(payload, (drop_tail("accounts", _key, "accounts"),), "Ask for one account or one window.")


TOP_MODELS = 5


def cost(summary: dict[str, Any]) -> Payload:
    """The cost summary (docs/cost.md) with each period's models cut to the costliest few."""
    periods = {}
    for name, period in (summary.get("periods") or {}).items():
        models = period.get("models") or []
        periods[name] = {
            "since": period.get("since"),
            "until": period.get("until"),
            "cost_usd": period.get("totalCost"),
            "tokens": period.get("totalTokens"),
            "cost_is_partial": period.get("costIsPartial"),
            "agents": {
                agent: {"cost_usd": a.get("totalCost"), "tokens": a.get("totalTokens")}
                for agent, a in (period.get("agents") or {}).items()
            },
            "top_models": [
                {
                    "agent": m.get("agent"),
                    "model": m.get("modelName"),
                    "cost_usd": m.get("cost"),
                    "tokens": m.get("totalTokens"),
                }
                for m in models[:TOP_MODELS]
            ],
            "more_models": max(0, len(models) - TOP_MODELS),
        }
    payload: Payload = {
        "generated_at": summary.get("generatedAt"),
        "timezone": summary.get("timezone"),
        "estimate": True,
        "note": summary.get("costNote"),
        "periods": periods,
    }
    return capped(payload, (), "Use `agentgauge cost daily --json` for the full report.")


SNAPSHOT_STEPS = (
    strip_field("providers", "breakdowns", "breakdowns"),
    strip_field("providers", "warnings", "warnings"),
    strip_field("providers", "forecast", "window forecasts", inner="windows"),
    strip_field("providers", "balances", "balances"),
    drop_tail("providers", _key, "accounts"),
)


def snapshot_resource(snapshot: Snapshot) -> Payload:
    return capped(snapshot.to_json_dict(), SNAPSHOT_STEPS, "Call get_usage with provider=... for one provider.")

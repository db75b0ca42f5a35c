"""What ``agentgauge alerts list`` and ``GET /api/alerts`` show: the rules, the targets (their
address reduced to a scheme and host, never a token) and the recent events with their deliveries."""

from __future__ import annotations

from typing import Any

from ..alert_settings import AlertSettings, Rule
from ..models import utc_iso
from ..store import Store
from . import ledger
from .deliver import describe


def rule_summary(settings: AlertSettings, rule: Rule) -> dict[str, Any]:
    quiet = settings.quiet(rule)
    row: dict[str, Any] = {
        "name": rule.name,
        "kind": rule.kind,
        "enabled": rule.enabled,
        "providers": list(rule.providers),
        "accounts": list(rule.accounts),
        "windows": list(rule.windows),
        "targets": [t.name for t in settings.targets_of(rule)],
        "cooldown_minutes": settings.cooldown(rule) / 60,
        "quiet_hours": str(quiet) if quiet else None,
    }
    if rule.kind == "threshold":
        row["thresholds"] = list(rule.thresholds)
    elif rule.kind == "stale":
        row["after_minutes"] = rule.after_minutes
    elif rule.kind == "reset":
        row["min_peak_pct"] = rule.min_peak_pct
    elif rule.kind == "forecast":
        row["min_lead_minutes"] = rule.min_lead_minutes
    return row


def overview(settings: AlertSettings, store: Store | None, limit: int = 50) -> dict[str, Any]:
    events = ledger.recent(store, limit) if store is not None else []
    for event in events:
        event["created_at"] = utc_iso(_time(event["created_at"]))
        for delivery in event["deliveries"]:
            delivery["sent_at"] = utc_iso(_time(delivery["sent_at"])) if delivery["sent_at"] else None
    return {
        "enabled": settings.enabled,
        "timezone": settings.timezone or None,
        "rules": [rule_summary(settings, r) for r in settings.rules],
        "targets": [
            {"name": t.name, "kind": t.kind, "address": describe(t), "enabled": t.enabled} for t in settings.targets
        ],
        "events": events,
    }


def _time(seconds: Any) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(int(seconds), UTC)

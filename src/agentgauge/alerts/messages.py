"""An alert in words: a short title for a phone's notification line and a message with the details.
Built only from the facts a rule recorded (numbers, labels, times, a status page's title), never
from a provider's raw error text, which could quote a credential."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any


def zone(name: str) -> tzinfo:
    """The alerts' time zone: the configured name, else the server's local zone."""
    if name:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    local = datetime.now().astimezone().tzinfo
    assert local is not None
    return local


def _when(iso: str | None, tz: tzinfo, now: datetime) -> str:
    if not iso:
        return "an unknown time"
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(tz)
    day = "" if moment.date() == now.astimezone(tz).date() else f"{moment:%a %d %b} "
    return f"{day}{moment:%H:%M} {moment.tzname() or ''}".strip()


def _pct(value: Any) -> str:
    return f"{float(value):g} %"


def _who(facts: Mapping[str, Any]) -> str:
    account = facts.get("account") or ""
    name = str(facts.get("name") or facts.get("provider") or "")
    return name if account in ("", "default") else f"{name} ({account})"


def render(event: str, facts: Mapping[str, Any], tz: tzinfo, now: datetime) -> tuple[str, str]:
    """(title, message) of one alert."""
    who, label = _who(facts), str(facts.get("label") or facts.get("window") or "")
    resets = f"It resets {_when(facts.get('resets_at'), tz, now)}." if facts.get("resets_at") else ""
    if event == "threshold":
        title = f"{who} · {label} at {_pct(facts['used_pct'])}"
        body = f"{label} has reached {_pct(facts['used_pct'])} used (threshold {_pct(facts['threshold'])}). {resets}"
    elif event == "depleted":
        title = f"{who} · {label} is used up"
        body = f"{label} is at {_pct(facts['used_pct'])}: nothing left until it resets. {resets}"
    elif event == "restored":
        title = f"{who} · {label} is available again"
        body = f"{label} is back to {_pct(facts['used_pct'])} used. {resets}"
    elif event == "reset":
        title = f"{who} · {label} has reset"
        body = f"{label} started a new cycle ({_pct(facts['used_pct'])} used now). {resets}"
    elif event == "forecast":
        title = f"{who} · {label} will run out before its reset"
        body = (
            f"At the current pace {label} ({_pct(facts['used_pct'])} used) runs out around "
            f"{_when(facts.get('runs_out_at'), tz, now)}. {resets}"
        )
    elif event == "stale":
        title = f"{who}: no fresh data for {float(facts['after_minutes']):g} min"
        kind = facts.get("error_kind") or "unknown"
        body = (
            f"Fetching {who} has failed since {_when(facts.get('failing_since'), tz, now)} ({kind} error); "
            "the dashboard shows the last good numbers."
        )
    elif event == "recovered":
        title = f"{who}: fresh data again"
        body = f"{who} was fetched successfully again."
    elif event == "drift":
        title = f"{who}: the provider's answer changed shape"
        problems = "; ".join(str(p) for p in facts.get("problems") or [])
        body = f"Parts of {who}'s answer no longer parse ({problems}). Update agentgauge; the rest stays shown."
    elif event == "incident_started":
        title = f"{who} status: {facts.get('title')}"
        body = f"{facts.get('impact')} impact, {facts.get('status')}. {facts.get('url') or ''}".strip()
    elif event == "incident_ended":
        title = f"{who} status: resolved"
        body = f"The incident on {who}'s status page is no longer open ({facts.get('title') or 'no title'})."
    elif event in ("budget", "budget_exceeded"):
        spent, limit, forecast = (f"${float(facts[k]):,.2f}" for k in ("spent", "limit", "forecast"))
        if event == "budget":
            title = f"{who} · spend forecast {forecast} is over the {limit} budget"
        else:
            title = f"{who} · spend {spent} is over the {limit} budget"
        body = (
            f"{who} has spent {spent} of its {limit} budget for {facts.get('month')} (estimated from local logs); "
            f"at ${float(facts['daily_rate']):,.2f} a day the month ends near {forecast}."
        )
    else:
        title = "agentgauge test alert"
        body = "This is a test from `agentgauge alerts test`: this target receives agentgauge's alerts."
    return title, " ".join(body.split())

"""Each alert kind as a pure state machine: (its state before, what was observed, now) -> (its state
after, what fired). Only a change of state fires; the first observation of anything only records
a baseline (a server started at 96 % says nothing until the next crossing). Window rules read fresh
data only (an ``ok`` account): a stale account's windows are old numbers, so they neither fire
nor re-arm anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..alert_settings import Rule
from ..incidents import Opened
from ..models import ErrorKind, ProviderSnapshot, Status, Window, utc_iso

State = dict[str, Any]


class BudgetReading(Protocol):
    """One agent's month as the spend query reads it (``agentgauge.query.spend.Budget``)."""

    @property
    def agent(self) -> str: ...

    @property
    def month(self) -> str: ...

    @property
    def limit(self) -> float: ...

    @property
    def spent(self) -> float: ...

    @property
    def daily_rate(self) -> float: ...

    @property
    def forecast(self) -> float: ...

    @property
    def will_exceed(self) -> bool: ...

    @property
    def exceeded(self) -> bool: ...


JITTER = 120  # seconds a provider's reported reset time may wobble without starting a new cycle
HYSTERESIS = 5.0  # points below a threshold before it can fire again in the same cycle
_WATCHED = (Status.OK, Status.STALE, Status.ERROR)


@dataclass(frozen=True)
class Fired:
    """What a rule fired: ``event`` names it, ``key`` is what its cooldown counts separately."""

    event: str
    severity: str  # info | warning | critical
    key: str
    facts: Mapping[str, Any] = field(default_factory=dict)


Step = tuple[State, list[Fired]]


def _epoch(window: Window) -> int | None:
    return int(window.resets_at.timestamp()) if window.resets_at else None


def new_cycle(old: int | None, new: int | None, now: datetime) -> bool:
    """The window reset: the reset time it had has passed and it now names a later one (a rolling
    window whose reset time creeps forward is not a reset)."""
    return old is not None and new is not None and new > old + JITTER and old <= now.timestamp() + JITTER


def window_facts(account: ProviderSnapshot, window: Window) -> dict[str, Any]:
    forecast = window.forecast
    return {
        "provider": account.provider,
        "account": account.account,
        "name": account.name,
        "window": window.id,
        "label": window.label,
        "used_pct": round(window.used_pct, 1),
        "resets_at": utc_iso(window.resets_at),
        "runs_out_at": utc_iso(forecast.runs_out_at) if forecast else None,
        "verdict": forecast.verdict if forecast else None,
    }


def account_facts(account: ProviderSnapshot) -> dict[str, Any]:
    return {
        "provider": account.provider,
        "account": account.account,
        "name": account.name,
        "status": account.status.value,
        "failing_since": utc_iso(account.failing_since),
        "last_success_at": utc_iso(account.last_success_at),
        "error_kind": account.error.kind.value if account.error else None,
    }


def watches_window(account: ProviderSnapshot, window: Window) -> bool:
    return account.status == Status.OK and not window.unlimited and not window.reset_pending


# -- window rules ------------------------------------------------------------------------------
def threshold(rule: Rule, state: State | None, account: ProviderSnapshot, window: Window, now: datetime) -> Step:
    """The highest threshold reached fires once per cycle; it re-arms when usage falls HYSTERESIS
    points below it (a correction) or the window resets. Several crossed at once fire once."""
    used, epoch = window.used_pct, _epoch(window)
    level = max((t for t in rule.thresholds if used >= t), default=0.0)
    if state is None:
        return {"epoch": epoch, "level": level}, []
    old = float(state.get("level", 0.0))
    if new_cycle(state.get("epoch"), epoch, now):
        old = 0.0
    if level > old:
        facts = {**window_facts(account, window), "threshold": level}
        severity = "critical" if level >= 95 else "warning"
        return {"epoch": epoch, "level": level}, [Fired("threshold", severity, f"threshold:{level:g}", facts)]
    if level < old and used < old - HYSTERESIS:
        old = level
    return {"epoch": epoch, "level": old}, []


def depleted(rule: Rule, state: State | None, account: ProviderSnapshot, window: Window, now: datetime) -> Step:
    on = window.used_pct >= 100
    if state is None or bool(state.get("on")) == on:
        return {"on": on}, []
    return {"on": on}, [Fired("depleted", "critical", "depleted", window_facts(account, window))] if on else []


def restored(rule: Rule, state: State | None, account: ProviderSnapshot, window: Window, now: datetime) -> Step:
    depleted_now = window.used_pct >= 100
    if state is None or bool(state.get("depleted")) == depleted_now:
        return {"depleted": depleted_now}, []
    fired = [] if depleted_now else [Fired("restored", "info", "restored", window_facts(account, window))]
    return {"depleted": depleted_now}, fired


def reset(rule: Rule, state: State | None, account: ProviderSnapshot, window: Window, now: datetime) -> Step:
    """A new cycle began, for windows that reached ``min_peak_pct`` in the cycle that ended."""
    epoch = _epoch(window)
    reached = window.used_pct >= rule.min_peak_pct
    if state is None:
        return {"epoch": epoch, "armed": reached}, []
    if new_cycle(state.get("epoch"), epoch, now):
        fired = [Fired("reset", "info", "reset", window_facts(account, window))] if state.get("armed") else []
        return {"epoch": epoch, "armed": reached}, fired
    return {
        "epoch": epoch if epoch is not None else state.get("epoch"),
        "armed": bool(state.get("armed")) or reached,
    }, []


def forecast(rule: Rule, state: State | None, account: ProviderSnapshot, window: Window, now: datetime) -> Step:
    """One alert per risk episode: the forecast says the window runs out at least ``min_lead_minutes``
    before its reset. The episode ends when a forecast says it lasts (or the window resets);
    "watch" and "learning" change nothing."""
    epoch = _epoch(window)
    fc = window.forecast
    lead = rule.min_lead_minutes * 60
    risk = (
        fc is not None
        and fc.verdict == "will_run_out"
        and fc.runs_out_at is not None
        and (window.resets_at is None or (window.resets_at - fc.runs_out_at).total_seconds() >= lead)
    )
    safe = fc is not None and fc.verdict in ("ok", "surplus")
    if state is None:
        return {"epoch": epoch, "open": risk}, []
    is_open = bool(state.get("open")) and not new_cycle(state.get("epoch"), epoch, now)
    if risk and not is_open:
        return {"epoch": epoch, "open": True}, [Fired("forecast", "warning", "forecast", window_facts(account, window))]
    return {"epoch": epoch, "open": is_open and not safe}, []


WINDOW_RULES = {
    "threshold": threshold,
    "depleted": depleted,
    "restored": restored,
    "reset": reset,
    "forecast": forecast,
}


# -- account rules -----------------------------------------------------------------------------
def stale(rule: Rule, state: State | None, account: ProviderSnapshot, now: datetime) -> Step:
    """No successful fetch for ``after_minutes``: fires once, and "recovered" once it is fresh again."""
    if account.status not in _WATCHED:
        return dict(state or {"on": False}), []
    if account.status == Status.OK:
        on = False
    elif account.failing_since is not None:
        on = (now - account.failing_since).total_seconds() >= rule.after_minutes * 60
    else:
        return dict(state or {"on": False}), []
    if state is None or bool(state.get("on")) == on:
        return {"on": on}, []
    facts = {**account_facts(account), "after_minutes": rule.after_minutes}
    return {"on": on}, [
        Fired("stale", "warning", "stale", facts) if on else Fired("recovered", "info", "recovered", facts)
    ]


def drift(rule: Rule, state: State | None, account: ProviderSnapshot, now: datetime) -> Step:
    """The provider's answer stopped matching what agentgauge reads (a parse error, or parts of it
    as warnings): fires when it starts, quietly clears when it is gone."""
    if account.status not in _WATCHED:
        return dict(state or {"on": False}), []
    problems = [w for w in account.warnings if w.kind == ErrorKind.PARSE]
    if account.error is not None and account.error.kind == ErrorKind.PARSE:
        problems.insert(0, account.error)
    on = bool(problems)
    if state is None or bool(state.get("on")) == on:
        return {"on": on}, []
    facts = {**account_facts(account), "problems": [p.message[:300] for p in problems[:5]]}
    return {"on": on}, [Fired("drift", "warning", "drift", facts)] if on else []


ACCOUNT_RULES = {"stale": stale, "drift": drift}


# -- provider rules ----------------------------------------------------------------------------
def incident(rule: Rule, state: State | None, provider: str, name: str, opened: Opened | None, now: datetime) -> Step:
    """An incident on the provider's status page started (or was replaced by another) or ended."""
    ident = opened.id if opened else None
    if state is None or state.get("id") == ident:
        return {"id": ident}, []
    facts: dict[str, Any] = {"provider": provider, "account": "", "name": name}
    if opened is None:
        facts["title"] = state.get("title") or ""
        return {"id": None}, [Fired("incident_ended", "info", "incident_ended", facts)]
    found = opened.incident
    facts.update(
        title=found.title, impact=found.impact, status=found.status, url=found.url, started_at=utc_iso(found.started_at)
    )
    severity = "critical" if found.impact == "critical" else "info" if found.impact == "maintenance" else "warning"
    return {"id": ident, "title": found.title}, [Fired("incident_started", severity, f"incident:{ident}", facts)]


# -- spend rules -------------------------------------------------------------------------------
def budget(rule: Rule, state: State | None, reading: BudgetReading, now: datetime) -> Step:
    """An agent's monthly spend from local logs (``[budgets]``): "budget" (warning) once a month when
    the forecast first crosses the limit, "budget_exceeded" (critical) once a month when the spend
    itself does. A new month starts over; the first reading only records a baseline."""
    month, warn, over = reading.month, reading.will_exceed, reading.exceeded
    if state is None:
        return {"month": month, "warn": warn, "over": over}, []
    if state.get("month") != month:
        state = {"month": month, "warn": False, "over": False}
    fired = []
    facts = {
        "provider": reading.agent,
        "account": "",
        "name": reading.agent,
        "month": month,
        "limit": reading.limit,
        "spent": round(reading.spent, 2),
        "forecast": round(reading.forecast, 2),
        "daily_rate": round(reading.daily_rate, 2),
    }
    if over and not state.get("over"):
        fired.append(Fired("budget_exceeded", "critical", f"budget_exceeded:{month}", facts))
    elif warn and not state.get("warn") and not over:
        fired.append(Fired("budget", "warning", f"budget:{month}", facts))
    # Once fired in a month it stays fired until the next (a forecast wobbling around the limit
    # alerts once, not at every wobble).
    return {"month": month, "warn": bool(state.get("warn")) or warn, "over": bool(state.get("over")) or over}, fired

"""Evaluating alert rules on what the engine refreshes.

The engine's listener (``observe``, on the event loop) only keeps the latest snapshot of each
account; a chore (``run``, in a worker thread) evaluates them against each rule's stored state,
records what fired and queues its deliveries. No upstream call is made for alerts, and the
database work never runs on the event loop. Each state change is a compare-and-set in the same
transaction as its events, so a restart never fires a transition twice and two servers on one
database fire it once. Every minute the stored accounts are evaluated again, for the rules that
time alone can trigger (an account stale for N minutes) and for refreshes made by other processes.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..alert_settings import QuietHours, Rule
from ..config import Config
from ..errors import StoreUnavailableError
from ..incidents import Opened
from ..models import ProviderSnapshot
from ..providers import registry
from ..store import Store, Transaction
from . import ledger
from .messages import render, zone
from .rules import ACCOUNT_RULES, WINDOW_RULES, BudgetReading, Fired, budget, incident, watches_window

if TYPE_CHECKING:
    from .managed import AlertSource

log = logging.getLogger("agentgauge.alerts")

SWEEP_EVERY = 60.0
KEEP_DAYS = 90


def quiet_until(quiet: QuietHours | None, now: datetime, tz: Any) -> datetime | None:
    """When the quiet hours around ``now`` end, or None outside them."""
    if quiet is None:
        return None
    local = now.astimezone(tz)
    start = local.replace(hour=quiet.start.hour, minute=quiet.start.minute, second=0, microsecond=0)
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if quiet.start < quiet.end:  # within one day: 12:00-14:00
        return end if start <= local < end else None
    if local >= start:  # wraps midnight: 22:00-07:00, evening part
        return end + timedelta(days=1)
    return end if local < end else None


def _matches(rule: Rule, provider: str, account: str) -> bool:
    return (not rule.providers or provider in rule.providers) and (not rule.accounts or account in rule.accounts)


def _window_matches(rule: Rule, window_id: str) -> bool:
    return not rule.windows or any(fnmatch.fnmatchcase(window_id, pattern) for pattern in rule.windows)


class AlertService:
    def __init__(
        self, config: Config, store: Store, clock: Callable[[], datetime], *, source: AlertSource | None = None
    ) -> None:
        self.settings = source.refresh() if source is not None else config.alerts
        self.source = source  # the dashboard's rules and targets too (alerts.managed), read again each pass
        self.store = store
        self.clock = clock
        self.tz = zone(self.settings.timezone)
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str], ProviderSnapshot] = {}
        self._last_sweep: datetime | None = None

    def sync(self) -> None:
        """At the start of a pass: the settings in force now (a rule saved on any replica's dashboard)."""
        if self.source is not None:
            self.settings = self.source.refresh()

    @property
    def enabled(self) -> bool:
        return self.settings.enabled and any(r.enabled for r in self.settings.rules)

    # -- the engine's listener and the chore -----------------------------------------------------
    def observe(self, account: ProviderSnapshot) -> None:
        """Engine listener: remember the account's latest state for the next evaluation (cheap)."""
        if self.enabled:
            with self._lock:
                self._pending[account.key] = account

    def run(self) -> None:
        """The chore: evaluate what the listener kept, and every minute everything stored."""
        self.sync()
        if not self.enabled:
            return
        self.evaluate_pending()
        now = self.clock()
        if self._last_sweep is None or (now - self._last_sweep).total_seconds() >= SWEEP_EVERY:
            self.sweep()
            ledger.prune(self.store, int((now - timedelta(days=KEEP_DAYS)).timestamp()))
            self._last_sweep = now

    def evaluate_pending(self) -> list[int]:
        with self._lock:
            batch, self._pending = self._pending, {}
        fired: list[int] = []
        for key, account in batch.items():
            try:
                fired += self.evaluate(account)
            except StoreUnavailableError:
                with self._lock:  # try again next run, unless a newer state arrived meanwhile
                    self._pending.setdefault(key, account)
        return fired

    def sweep(self) -> list[int]:
        fired: list[int] = []
        for state in self.store.states().values():
            if state.snapshot is not None:
                fired += self.evaluate(state.snapshot)
        return fired

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, account: ProviderSnapshot) -> list[int]:
        """Run every matching rule over one account's state; returns the ids of the events recorded."""
        if not self.enabled:
            return []
        now = self.clock()
        rules = [
            r
            for r in self.settings.rules
            if r.enabled and (r.kind in WINDOW_RULES or r.kind in ACCOUNT_RULES)
            if _matches(r, account.provider, account.account)
        ]
        if not rules:
            return []
        events: list[int] = []
        with self.store.transaction() as tx:
            states = ledger.load_states(tx, account.provider, account.account)
            for rule in rules:
                if rule.kind in ACCOUNT_RULES:
                    old = states.get((rule.name, ""))
                    new, fired = ACCOUNT_RULES[rule.kind](rule, old[0] if old else None, account, now)
                    events += self._apply(tx, rule, (account.provider, account.account, ""), old, new, fired, now)
                    continue
                for window in account.windows:
                    if not _window_matches(rule, window.id) or not watches_window(account, window):
                        continue
                    old = states.get((rule.name, window.id))
                    step = WINDOW_RULES[rule.kind]
                    new, fired = step(rule, old[0] if old else None, account, window, now)
                    events += self._apply(
                        tx, rule, (account.provider, account.account, window.id), old, new, fired, now
                    )
        return events

    def observe_incidents(self, readings: Mapping[str, Opened | None]) -> list[int]:
        """Evaluate the incident rules on what the status-page check just read."""
        self.sync()
        if not self.enabled:
            return []
        now = self.clock()
        rules = [r for r in self.settings.rules if r.enabled and r.kind == "incident"]
        events: list[int] = []
        for provider, opened in readings.items():
            chosen = [r for r in rules if not r.providers or provider in r.providers]
            if not chosen:
                continue
            name = registry.get(provider).name if provider in registry.ids() else provider
            with self.store.transaction() as tx:
                states = ledger.load_states(tx, provider, "")
                for rule in chosen:
                    old = states.get((rule.name, ""))
                    new, fired = incident(rule, old[0] if old else None, provider, name, opened, now)
                    events += self._apply(tx, rule, (provider, "", ""), old, new, fired, now)
        return events

    def observe_budgets(self, readings: Iterable[BudgetReading]) -> list[int]:
        """Evaluate the budget rules on each agent's month (the cost chore reads them after indexing)."""
        self.sync()
        if not self.enabled:
            return []
        now = self.clock()
        rules = [r for r in self.settings.rules if r.enabled and r.kind == "budget"]
        events: list[int] = []
        for reading in readings:
            chosen = [r for r in rules if not r.providers or reading.agent in r.providers]
            if not chosen:
                continue
            with self.store.transaction() as tx:
                # Kept apart from the providers' states: the agent's id in the provider column, "budget" as window.
                states = ledger.load_states(tx, reading.agent, "")
                for rule in chosen:
                    old = states.get((rule.name, "budget"))
                    new, fired = budget(rule, old[0] if old else None, reading, now)
                    events += self._apply(tx, rule, (reading.agent, "", "budget"), old, new, fired, now)
        return events

    def _apply(
        self,
        tx: Transaction,
        rule: Rule,
        where: tuple[str, str, str],
        old: tuple[dict[str, Any], int] | None,
        new: dict[str, Any],
        fired: list[Fired],
        now: datetime,
    ) -> list[int]:
        """Store the rule's new state (compare-and-set) and, if that won, record what fired: held in
        quiet hours, suppressed inside the cooldown, else queued for each of the rule's targets."""
        ts = int(now.timestamp())
        sent_at: dict[str, int] = dict((old[0] if old else {}).get("fired") or {})
        cooldown = self.settings.cooldown(rule)
        outcomes: list[tuple[Fired, bool]] = []
        for f in fired:
            last = sent_at.get(f.key)
            cooled = last is None or ts - last >= cooldown
            outcomes.append((f, cooled))
            if cooled:
                sent_at[f.key] = ts
        if sent_at:
            new = {**new, "fired": sent_at}
        if old is not None and old[0] == new:
            return []
        if not ledger.put_state(tx, (rule.name, *where), new, old[1] if old else None, ts):
            return []  # another process recorded this transition first
        targets = [t.name for t in self.settings.targets_of(rule)]
        held = quiet_until(self.settings.quiet(rule), now, self.tz)
        ids = []
        for f, cooled in outcomes:
            title, message = render(f.event, f.facts, self.tz, now)
            status = "suppressed" if not cooled else "recorded" if not targets else "held" if held else "queued"
            event_id = ledger.add_event(
                tx,
                now=ts,
                rule=rule.name,
                event=f.event,
                severity=f.severity,
                where=where,
                title=title,
                message=message,
                data=dict(f.facts),
                status=status,
            )
            if status in ("held", "queued"):
                ledger.add_deliveries(tx, event_id, targets, int(held.timestamp()) if held else ts)
            log.info("alert %s (%s): %s", f.event, status, title)
            ids.append(event_id)
        return ids

"""The background chores the engine's scheduler runs beside the refreshes (``serve`` and the CLI alike)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .alerts import AlertService, Deliverer
from .alerts.managed import AlertSource
from .config import Config
from .engine import Engine
from .errors import StoreUnavailableError
from .incidents import IncidentWatch
from .models import ProviderSnapshot
from .store import Store

log = logging.getLogger("agentgauge.chores")

PRUNE_CHORE = "prune history"
COST_CHORE = "cost index"
FLUSH_CHORE = "flush queued store writes"
FLUSH_EVERY = 5.0  # writes queued during a database outage land within seconds of its return
PRUNE_EVERY = 3600.0
COST_EVERY = 600.0
HOURLY_KEEP_DAYS = 400
ALERTS_CHORE = "evaluate alerts"
DELIVER_CHORE = "deliver alerts"
STATUS_CHORE = "check status pages"
ALERTS_EVERY = 5.0  # also started at once by every refresh
DELIVER_EVERY = 5.0


@dataclass(frozen=True)
class Watchers:
    """What the server's alert and status-page chores keep, for the surfaces that show it."""

    alerts: AlertService
    deliverer: Deliverer
    incidents: IncidentWatch


def add_chores(engine: Engine, config: Config, store: Store, clock: Callable[[], datetime]) -> Watchers:
    def prune() -> None:
        now = clock()
        store.prune(
            raw_before=now - timedelta(days=config.history_raw_days),
            hourly_before=now - timedelta(days=HOURLY_KEEP_DAYS),
        )

    def index_logs() -> None:
        from .logs.index import refresh_index

        refresh_index(store, config.env, home=config.home)
        if config.budgets and watchers.alerts.enabled:  # the month's forecast against [budgets]
            from .query.spend import budget_status

            alerts = watchers.alerts
            alerts.observe_budgets(budget_status(store, now=clock(), tz=alerts.tz, budgets=config.budgets))

    engine.add_chore(PRUNE_CHORE, PRUNE_EVERY, prune)
    engine.add_chore(COST_CHORE, COST_EVERY, index_logs)
    engine.add_chore(FLUSH_CHORE, FLUSH_EVERY, store.flush_pending)
    watchers = add_alert_chores(engine, config, store, clock)
    return watchers


def _quiet_outage(run: Callable[[], Any]) -> Callable[[], None]:
    """A chore that skips a turn while the database is down (the store's health says so already)."""

    def chore() -> None:
        try:
            run()
        except StoreUnavailableError as exc:
            log.debug("skipped while the store is unavailable: %s", exc.message)

    return chore


def add_alert_chores(engine: Engine, config: Config, store: Store, clock: Callable[[], datetime]) -> Watchers:
    """Alerts evaluated on every refresh (the engine's listener, then a chore off the event loop),
    deliveries sent by another chore (a slow target delays only them), status pages read every few
    minutes (docs/alerts.md). Rules and targets saved from the dashboard may come at any time, so
    both chores run whenever alerting is on at all; each pass starts by checking for them."""
    source = AlertSource(config.alerts, store)
    watchers = Watchers(
        AlertService(config, store, clock, source=source),
        Deliverer(config, store, clock, source=source),
        IncidentWatch(config, store, clock),
    )
    alerts = watchers.alerts
    if config.alerts.enabled:
        engine.add_chore(ALERTS_CHORE, ALERTS_EVERY, _quiet_outage(alerts.run))

        def observe(account: ProviderSnapshot) -> None:
            alerts.observe(account)
            engine.run_chore(ALERTS_CHORE)  # evaluate now rather than at the next tick

        engine.listeners.append(observe)
        engine.add_chore(DELIVER_CHORE, DELIVER_EVERY, _quiet_outage(watchers.deliverer.run))
    if config.status_pages.enabled:

        def check_pages() -> None:
            alerts.observe_incidents(watchers.incidents.check())
            watchers.incidents.reload()  # shown once its alert is recorded

        engine.add_chore(STATUS_CHORE, config.status_pages.interval_seconds, _quiet_outage(check_pages))
    return watchers

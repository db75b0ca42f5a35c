"""``GET /metrics``: Prometheus text from the query layer's view, built at scrape time by a custom
collector (an account that goes away leaves no stale series). Names follow Prometheus' conventions:
ratios 0-1, times in Unix seconds, one counter (``_total``); labels are only provider, account,
window and small closed sets (status, verdict, error kind). docs/metrics.md lists every metric."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from .. import __version__
from ..incidents import IMPACT_RANK
from ..kinds import Status
from ..models import Incident, ProviderSnapshot, Snapshot

if TYPE_CHECKING:
    from .app import ServerState

# The classic text format every Prometheus 2.x scrapes (our names need none of 1.0.0's escaping).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
VERDICTS = ("ok", "watch", "will_run_out", "surplus", "learning")
STATUSES = tuple(s.value for s in Status)
ACCOUNT = ["provider", "account"]
WINDOW = ["provider", "account", "window"]


class FetchErrors:
    """Engine listener counting failed fetches by provider, account and error kind (each attempt
    once: an account answered from its gate keeps the same ``fetched_at`` and is not counted again)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}
        self._seen: dict[tuple[str, str], datetime] = {}

    def observe(self, account: ProviderSnapshot) -> None:
        if account.error is None or account.fetched_at is None or account.status not in (Status.STALE, Status.ERROR):
            return
        if self._seen.get(account.key) == account.fetched_at:
            return
        self._seen[account.key] = account.fetched_at
        key = (account.provider, account.account, account.error.kind.value)
        self.counts[key] = self.counts.get(key, 0) + 1


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


class UsageCollector(Collector):
    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        errors: FetchErrors,
        incidents: Callable[[], Mapping[str, Incident]] | None,
        checked: frozenset[str],
    ) -> None:
        self._snapshot = snapshot
        self._errors = errors
        self._incidents = incidents  # None: status pages are not checked
        self._checked = checked  # providers whose status page is read

    def describe(self) -> list[Metric]:
        return []  # families are built at scrape time only; nothing to read at registration

    def collect(self) -> Iterator[Metric]:
        snap = self._snapshot()
        g = GaugeMetricFamily
        used = g(
            "agentgauge_window_used_ratio", "Share of the window used as the provider reports it (0-1).", labels=WINDOW
        )
        reset = g(
            "agentgauge_window_reset_timestamp_seconds", "When the window next resets (Unix time).", labels=WINDOW
        )
        length = g("agentgauge_window_length_seconds", "The window's nominal length.", labels=WINDOW)
        runout = g(
            "agentgauge_window_forecast_runout_timestamp_seconds",
            "When the forecast expects the window to reach 100 % before its reset (Unix time).",
            labels=WINDOW,
        )
        expected = g(
            "agentgauge_window_forecast_expected_ratio",
            "Forecast share used at the reset (median, 0-1).",
            labels=WINDOW,
        )
        verdict = g(
            "agentgauge_window_forecast_verdict",
            "The forecast's verdict (1 for the current one): ok, watch, will_run_out, surplus, learning.",
            labels=[*WINDOW, "verdict"],
        )
        status = g(
            "agentgauge_account_status", "The account's status (1 for the current one).", labels=[*ACCOUNT, "status"]
        )
        up = g("agentgauge_account_up", "1 when the account's last fetch succeeded (status ok).", labels=ACCOUNT)
        success = g(
            "agentgauge_account_last_success_timestamp_seconds",
            "When the account was last fetched successfully.",
            labels=ACCOUNT,
        )
        for account in snap.providers:
            labels = [account.provider, account.account]
            for state in STATUSES:
                status.add_metric([*labels, state], 1.0 if account.status.value == state else 0.0)
            if account.status in (Status.UNCONFIGURED, Status.DISABLED):
                continue
            up.add_metric(labels, 1.0 if account.status == Status.OK else 0.0)
            if account.last_success_at is not None:
                success.add_metric(labels, account.last_success_at.timestamp())
            for w in account.windows:
                if w.unlimited:
                    continue
                wl = [*labels, w.id]
                used.add_metric(wl, w.used_pct / 100.0)
                if w.resets_at is not None and not w.reset_pending:
                    reset.add_metric(wl, w.resets_at.timestamp())
                if w.window_seconds:
                    length.add_metric(wl, float(w.window_seconds))
                if w.forecast is None:
                    continue
                for name in VERDICTS:
                    verdict.add_metric([*wl, name], 1.0 if w.forecast.verdict == name else 0.0)
                if w.forecast.runs_out_at is not None:
                    runout.add_metric(wl, w.forecast.runs_out_at.timestamp())
                if w.forecast.expected_pct is not None:
                    expected.add_metric(wl, w.forecast.expected_pct / 100.0)
        yield from (used, reset, length, runout, expected, verdict, status, up, success)
        errors = CounterMetricFamily(
            "agentgauge_fetch_errors",
            "Failed fetches since the server started, by error kind.",
            labels=[*ACCOUNT, "kind"],
        )
        for (provider, account_name, kind), count in sorted(self._errors.counts.items()):
            errors.add_metric([provider, account_name, kind], float(count))
        yield errors
        if self._incidents is not None:
            yield from self._incident_families(snap)
        info = g("agentgauge_build_info", "agentgauge's version (the value is always 1).", labels=["version"])
        info.add_metric([__version__], 1.0)
        yield info

    def _incident_families(self, snap: Snapshot) -> Iterator[Metric]:
        assert self._incidents is not None
        current = self._incidents()
        shown = sorted({p.provider for p in snap.providers if p.provider in self._checked})
        is_open = GaugeMetricFamily(
            "agentgauge_provider_incident_open",
            "1 while the provider's status page shows an open incident or maintenance.",
            labels=["provider"],
        )
        impact = GaugeMetricFamily(
            "agentgauge_provider_incident_impact",
            "Impact of the open incident: 0 none, 1 maintenance, 2 minor, 3 major, 4 critical.",
            labels=["provider"],
        )
        started = GaugeMetricFamily(
            "agentgauge_provider_incident_started_timestamp_seconds",
            "When the open incident started (Unix time).",
            labels=["provider"],
        )
        for provider in shown:
            found = current.get(provider)
            is_open.add_metric([provider], 1.0 if found else 0.0)
            impact.add_metric([provider], float(IMPACT_RANK.get(found.impact, 0)) if found else 0.0)
            if found is not None and found.started_at is not None:
                started.add_metric([provider], found.started_at.timestamp())
        yield from (is_open, impact, started)


def render(collector: UsageCollector) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry)


async def endpoint(request: Request) -> Response:
    """The scrape: the live view settled by the query layer (no database read, so it answers even
    through a database outage), with its incidents and this process's error counts."""
    from ..incidents import status_pages

    state: ServerState = request.app.state.server
    pages = state.config.status_pages
    collector = UsageCollector(
        lambda: state.query.settle(state.live.snapshot),
        state.fetch_errors,
        state.query.incidents if pages.enabled else None,
        frozenset(status_pages(state.config)) if pages.enabled else frozenset(),
    )
    return Response(render(collector), media_type=CONTENT_TYPE, headers={"cache-control": "no-store"})


__all__ = ["FetchErrors", "UsageCollector", "endpoint", "render"]

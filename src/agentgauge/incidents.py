"""Provider incidents: each provider declares its status page (``Provider.status_page``); the server
reads them every few minutes (a chore, never the CLI) and keeps the open incident per provider in
the store. The query layer shows it on that provider's accounts (``ProviderSnapshot.incident``);
an incident starting or ending is an alert event (``agentgauge.alerts``).

Most providers' pages are Atlassian Statuspage sites (incident.io pages serve the same
``/api/v2/summary.json``): the unresolved incidents, maintenances in progress and an overall
indicator. What a page says is untrusted text: titles are cut short and only http(s) links kept.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson

from .config import Config
from .models import Incident, Status
from .providers import registry
from .store import Store

log = logging.getLogger("agentgauge.incidents")

SUMMARY_PATH = "/api/v2/summary.json"
TIMEOUT = 10.0
TITLE_MAX = 200
# Worst first: which open item a provider's badge shows when a page lists several.
IMPACT_RANK = {"critical": 4, "major": 3, "minor": 2, "maintenance": 1, "none": 0}
_DONE = {"resolved", "postmortem", "completed"}
_MAINTENANCE_ACTIVE = {"in_progress", "verifying"}


@dataclass(frozen=True)
class Opened:
    """The item a status page shows as open, with the page's own id for it (what alerts key on)."""

    id: str
    incident: Incident


def summary_url(page: str) -> str:
    return page.rstrip("/") + SUMMARY_PATH


def _text(value: Any, limit: int = TITLE_MAX) -> str:
    text = " ".join(str(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(value: Any, fallback: str) -> str:
    text = str(value or "").strip()
    return text if text.startswith(("https://", "http://")) and len(text) < 500 else fallback


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def parse_summary(data: Any, page: str) -> Opened | None:
    """The open item of a Statuspage ``summary.json``: the worst unresolved incident, else a
    maintenance in progress, else a degraded overall indicator; None when all is well. Raises
    ValueError for a body that is not a summary."""
    if not isinstance(data, dict) or not isinstance(data.get("status"), dict):
        raise ValueError("not a Statuspage summary: no 'status' object")
    found: list[tuple[int, str, Opened]] = []
    for item in data.get("incidents") or []:
        if not isinstance(item, dict) or str(item.get("status") or "").lower() in _DONE:
            continue
        impact = str(item.get("impact") or "none").lower()
        found.append(_opened(item, impact if impact in IMPACT_RANK else "minor", page))
    for item in data.get("scheduled_maintenances") or []:
        if isinstance(item, dict) and str(item.get("status") or "").lower() in _MAINTENANCE_ACTIVE:
            found.append(_opened(item, "maintenance", page))
    if found:
        found.sort(key=lambda f: (f[0], f[1]), reverse=True)  # worst impact, then the latest start
        return found[0][2]
    indicator = str(data["status"].get("indicator") or "none").lower()
    if indicator in ("minor", "major", "critical"):
        title = _text(data["status"].get("description")) or "Degraded service"
        incident = Incident(status="degraded", impact=indicator, title=title, url=page)
        return Opened(f"indicator:{indicator}", incident)
    return None


def _opened(item: dict[str, Any], impact: str, page: str) -> tuple[int, str, Opened]:
    started = _time(item.get("started_at")) or _time(item.get("created_at")) or _time(item.get("scheduled_for"))
    incident = Incident(
        status=_text(item.get("status"), 40) or "investigating",
        impact=impact,
        title=_text(item.get("name")) or "Incident",
        url=_link(item.get("shortlink"), page),
        started_at=started,
    )
    ident = _text(item.get("id"), 100) or f"{incident.title}@{item.get('started_at')}"
    return IMPACT_RANK.get(impact, 0), started.isoformat() if started else "", Opened(ident, incident)


def status_pages(config: Config) -> dict[str, str]:
    """Provider id -> status page base URL: the provider's declaration, unless the config overrides it."""
    pages = {p.id: p.status_page for p in registry.all_providers() if p.status_page}
    for provider_id, url in config.status_pages.urls.items():
        if url:
            pages[provider_id] = url
        else:
            pages.pop(provider_id, None)
    return pages


def read_open(store: Store, now: datetime, max_age: float) -> dict[str, Opened]:
    """The open incident per provider, as last read within ``max_age`` seconds (older readings are
    not shown: the server that checked them may be gone)."""
    rows = store.query(
        "SELECT provider, incident_id, incident FROM provider_incidents WHERE incident IS NOT NULL AND checked_at >= ?",
        (int(now.timestamp() - max_age),),
    )
    return {p: Opened(i, Incident.model_validate_json(body)) for p, i, body in rows}


def max_age(config: Config) -> float:
    """How long a reading stays shown: three missed checks, and never less than half an hour."""
    return max(3 * config.status_pages.interval_seconds, 1800.0)


class IncidentWatch:
    """Reads the status pages of the providers in use and records what changed. ``check`` is
    synchronous (a chore runs it in a worker thread); ``current`` and ``version`` are what the server
    shows, updated after each check."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Callable[[], datetime],
        *,
        client: Callable[[], httpx.Client] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._client = client or (
            lambda: httpx.Client(timeout=TIMEOUT, follow_redirects=True, headers={"User-Agent": "agentgauge"})
        )
        self._lock = threading.Lock()
        self._current: dict[str, Opened] = {}
        self.version = 0
        self._unreachable: set[str] = set()

    def current(self) -> dict[str, Incident]:
        with self._lock:
            return {p: o.incident for p, o in self._current.items()}

    def providers_in_use(self) -> list[str]:
        states = self.store.states()
        used = {p for (p, _a), s in states.items() if s.snapshot and s.snapshot.status not in _IDLE}
        return sorted(used)

    def check(self, providers: Iterable[str] | None = None) -> dict[str, Opened | None]:
        """Read each page once and store what it says; returns the readings (an unreadable page is left
        out and changes nothing). ``reload`` then shows them."""
        pages = status_pages(self.config)
        wanted = [p for p in (self.providers_in_use() if providers is None else providers) if p in pages]
        readings: dict[str, Opened | None] = {}
        with self._client() as http:
            for provider in wanted:
                try:
                    response = http.get(summary_url(pages[provider]), headers={"Accept": "application/json"})
                    response.raise_for_status()
                    readings[provider] = parse_summary(orjson.loads(response.content), pages[provider])
                except (httpx.HTTPError, ValueError) as exc:  # orjson's JSONDecodeError is a ValueError
                    if provider not in self._unreachable:
                        log.info("status page of %s unreadable: %s", provider, _why(exc))
                        self._unreachable.add(provider)
                    continue
                if provider in self._unreachable:
                    log.info("status page of %s readable again", provider)
                    self._unreachable.discard(provider)
        self._record(readings)
        return readings

    def _record(self, readings: Mapping[str, Opened | None]) -> None:
        now = int(self.clock().timestamp())
        with self.store.transaction() as tx:
            rows = tx.query("SELECT provider, incident_id, incident FROM provider_incidents")
            before = {p: Opened(i, Incident.model_validate_json(b)) if b else None for p, i, b in rows}
            for provider, after in readings.items():
                old = before.get(provider)
                body = after.incident.model_dump_json() if after else None
                tx.execute(
                    "INSERT INTO provider_incidents (provider, incident_id, incident, checked_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (provider) DO UPDATE SET incident_id = excluded.incident_id, "
                    "incident = excluded.incident, checked_at = excluded.checked_at",
                    (provider, after.id if after else None, body, now),
                )
                if (old.id if old else None) != (after.id if after else None):
                    what = f"open: {after.incident.title}" if after else "no open incident"
                    log.info("status page of %s: %s", provider, what)

    def reload(self) -> None:
        """Renew what ``current`` shows from the store (after a check and its alerts are recorded)."""
        found = read_open(self.store, self.clock(), max_age(self.config))
        with self._lock:
            if found != self._current or self.version == 0:  # the first reading always counts
                self._current = found
                self.version += 1


_IDLE = (Status.UNCONFIGURED, Status.DISABLED)


def _why(exc: Exception) -> str:
    """A failure in words without the URL (httpx puts it in some messages)."""
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, ValueError):
        return "not a Statuspage summary"
    return type(exc).__name__

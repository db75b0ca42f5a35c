"""What the store remembers through a database outage: its health, and the writes it could not
make yet (kept in memory, in order, bounded, and replayed as soon as the database answers)."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

log = logging.getLogger("agentgauge.store")

PENDING_LIMIT = 10_000  # writes kept through an outage; at 5-minute refreshes, days of samples


@dataclass(frozen=True)
class StoreHealth:
    """The database as the store last found it. ``status`` is ``degraded`` while it is failing or
    writes are still waiting; ``since`` is when the current failure began (None when ok);
    ``last_error`` is the latest failure in words (no secrets), kept after recovery."""

    status: Literal["ok", "degraded"]
    database: str
    since: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    pending_writes: int
    dropped_writes: int

    def to_json(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat().replace("+00:00", "Z") if value else None

        return {
            "status": self.status,
            "database": self.database,
            "since": iso(self.since),
            "last_error": self.last_error,
            "last_error_at": iso(self.last_error_at),
            "pending_writes": self.pending_writes,
            "dropped_writes": self.dropped_writes,
        }


@dataclass(frozen=True)
class PendingState:
    """A queued ``save_state``: also read back by ``state()``/``states()`` while it waits."""

    snapshot_json: str
    next_allowed_at: float
    failures: int
    last_raw: str | None


class PendingWrites:
    """Writes waiting for the database, oldest first. A newer state of an account replaces the
    queued one (only the newest matters); samples are kept in order. Past the limit the oldest
    samples are dropped (counted), never a state while a sample is left. Thread-safe."""

    def __init__(self, limit: int = PENDING_LIMIT) -> None:
        self._limit = limit
        self._lock = threading.Lock()  # readers (state overlays) do not take the write lock
        self._items: dict[tuple[Any, ...], tuple[Callable[[], object], PendingState | None]] = {}
        self._seq = itertools.count()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def add_state(self, provider: str, account: str, state: PendingState, apply: Callable[[], object]) -> None:
        key = ("state", provider, account)
        with self._lock:
            self._items.pop(key, None)  # re-inserted at the end: it is now the newest write
            self._items[key] = (apply, state)
            self._trim()

    def add_samples(self, apply: Callable[[], object]) -> None:
        with self._lock:
            self._items[("samples", next(self._seq))] = (apply, None)
            self._trim()

    def _trim(self) -> None:
        while len(self._items) > self._limit:
            victim = next((k for k in self._items if k[0] == "samples"), None) or next(iter(self._items))
            del self._items[victim]
            if self.dropped == 0:
                log.warning("the database has been unavailable for a long time: dropping the oldest unsaved samples")
            self.dropped += 1

    def first(self) -> tuple[tuple[Any, ...], Callable[[], object]] | None:
        with self._lock:
            for key, (apply, _state) in self._items.items():
                return key, apply
        return None

    def discard(self, key: tuple[Any, ...]) -> None:
        with self._lock:
            self._items.pop(key, None)

    def states(self) -> dict[tuple[str, str], PendingState]:
        with self._lock:
            return {(k[1], k[2]): s for k, (_apply, s) in self._items.items() if s is not None}


class HealthTracker:
    """Failure and recovery as the store's transactions see them (thread-safe)."""

    def __init__(self, database: str) -> None:
        self._database = database
        self._lock = threading.Lock()
        self._since: datetime | None = None
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None

    def failed(self, description: str) -> None:
        now = datetime.now(UTC)
        with self._lock:
            if self._since is None:
                log.warning("%s is unavailable: %s", self._database, description)
                self._since = now
            self._last_error, self._last_error_at = description, now

    def succeeded(self, *, pending: int) -> None:
        with self._lock:
            if self._since is not None and pending == 0:
                log.warning("%s is available again", self._database)
                self._since = None

    @property
    def failing(self) -> bool:
        return self._since is not None

    def snapshot(self, *, pending: int, dropped: int) -> StoreHealth:
        with self._lock:
            degraded = self._since is not None or pending > 0
            return StoreHealth(
                status="degraded" if degraded else "ok",
                database=self._database,
                since=self._since,
                last_error=self._last_error,
                last_error_at=self._last_error_at,
                pending_writes=pending,
                dropped_writes=dropped,
            )

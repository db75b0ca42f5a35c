"""The store: SQLite (WAL) by default, PostgreSQL for teams; one SQL layer for both.

Holds the latest snapshot of every account with its polling gate (``next_allowed_at``:
minimum interval, Retry-After and back-off survive restarts and are shared by every
process on the same database), and window samples written on change plus a heartbeat.

Through an outage (PostgreSQL down or restarting, SQLite locked beyond its busy timeout or
failing) the store keeps working as far as it can: ``save_state`` and ``record_samples`` are
queued in memory and replayed once a write or ``flush_pending()`` gets through, reads raise
``StoreUnavailableError``, ``claim`` answers False (no fetch without the gate), and
``health()`` says what is wrong. Other code runs its own SQL through ``transaction()``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from ..errors import ConfigError, StoreUnavailableError
from . import batch, changes, cycles, history, migrate
from .backend import Backend, Transaction
from .batch import AccountState, Claim, Outcome, _account_state, _queued_state
from .cycles import CycleRow
from .history import Sample
from .outage import HealthTracker, PendingState, PendingWrites, StoreHealth, log

if TYPE_CHECKING:
    from ..models import ProviderSnapshot

__all__ = [
    "AccountState",
    "Claim",
    "Outcome",
    "Sample",
    "Store",
    "StoreHealth",
    "Transaction",
    "dumps_raw",
    "open_store",
]

T = TypeVar("T")
BUSY_TIMEOUT = 10.0  # SQLite: how long a write waits for another process's write lock
POOL_TIMEOUT = 5.0  # PostgreSQL: how long a request waits for a working connection


class Store:
    """Thread-safe access to one database. All methods are synchronous; async callers use
    ``asyncio.to_thread``. Every write is one transaction, so a kill at any moment leaves
    either the old or the new state."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.dialect = backend.dialect
        self._write_lock = threading.RLock()  # writers share the caches and the pending queue
        self._local = threading.local()  # the transaction open on this thread, if any
        self._caches = history.Caches()
        self._pending = PendingWrites()
        self._health = HealthTracker(backend.target)

    @property
    def backend(self) -> Backend:
        """The database connection behind the store (the leader election and change feed open their own)."""
        return self._backend

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back if it raises. SQL uses
        ``?`` placeholders on both databases. A database that cannot be reached raises
        ``StoreUnavailableError``. Nested calls on one thread join the outer transaction."""
        current: Transaction | None = getattr(self._local, "tx", None)
        if current is not None:
            yield current
            return
        try:
            with self._backend.transaction(write=write) as conn:
                self._local.tx = tx = Transaction(conn, self.dialect)
                try:
                    yield tx
                finally:
                    self._local.tx = None
        except Exception as exc:
            if self._backend.is_unavailable(exc):
                raise self._unavailable(self._backend.describe(exc)) from None
            raise
        self._health.succeeded(pending=len(self._pending))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read-only statement (``?`` placeholders)."""
        with self._reading() as tx:
            return tx.query(sql, params)

    def _unavailable(self, description: str) -> StoreUnavailableError:
        self._health.failed(description)
        target = self._backend.target
        if self.dialect == "postgres":
            hint = (
                f"Check that {target} is running and reachable. agentgauge reconnects by itself and keeps "
                "unsaved results in memory until then."
            )
        else:
            hint = (
                f"Check {target}: another program may hold a lock on it, or its disk may be full or failing. "
                "agentgauge retries by itself."
            )
        return StoreUnavailableError(f"{target} is unavailable: {description}", hint=hint)

    @contextmanager
    def _reading(self) -> Iterator[Transaction]:
        """A read transaction, after queued writes (so a read sees them): when they cannot be
        written and reads would fail the same way, fail now rather than wait a second time.
        Where reads outlive write failures (SQLite in WAL, locked by another writer) a failing
        store reads at once: retrying the writes first would stall every read for the busy
        timeout; writes and ``flush_pending()`` retry them, and ``state()`` shows queued states."""
        if len(self._pending) and not (self._backend.reads_survive_write_errors and self._health.failing):
            self.flush_pending()
            if len(self._pending) and not self._backend.reads_survive_write_errors:
                raise self._unavailable(self.health(probe=False).last_error or "queued writes are waiting")
        with self.transaction(write=False) as tx:
            yield tx

    def _write(self, apply: Callable[[], T], enqueue: Callable[[], None] | None = None) -> T | None:
        """Run a write after any queued ones. With ``enqueue``, a write that meets an outage is
        queued (and None returned); without, the StoreUnavailableError propagates."""
        with self._write_lock:
            if len(self._pending):
                self._flush_locked()
            if len(self._pending):  # the database is still unavailable
                if enqueue is None:
                    raise self._unavailable(self.health(probe=False).last_error or "queued writes are waiting")
                enqueue()
                return None
            try:
                return apply()
            except StoreUnavailableError:
                if enqueue is None:
                    raise
                enqueue()
                return None

    def flush_pending(self) -> int:
        """Write what was queued during an outage, oldest first; returns how many writes landed.
        Stops at the first that meets the outage again (the rest wait for the next try)."""
        with self._write_lock:
            return self._flush_locked() or 0

    def _flush_locked(self) -> int | None:
        """Writes replayed, or None when the database was still unavailable."""
        applied = 0
        while (item := self._pending.first()) is not None:
            key, apply = item
            try:
                apply()
            except StoreUnavailableError:
                return None
            except Exception:  # a bug, not an outage: it must not hold up the writes behind it
                log.exception("dropping a queued write that fails: %s", key[0])
                self._pending.dropped += 1
            else:
                applied += 1
            self._pending.discard(key)
        self._health.succeeded(pending=0)
        return applied

    def health(self, *, probe: bool = True) -> StoreHealth:
        """How the database is doing. ``probe`` first tries it (flushing queued writes, or one
        small read): on PostgreSQL that is one round trip, or up to the pool timeout when down."""
        if probe:
            if len(self._pending):
                self.flush_pending()
            else:
                with suppress(StoreUnavailableError), self.transaction(write=False) as tx:
                    tx.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return self._health.snapshot(pending=len(self._pending), dropped=self._pending.dropped)

    def migrate(self) -> int:
        """Apply the numbered migrations not yet applied; returns the schema version."""
        with self._write_lock, self.transaction() as tx:
            return migrate.apply(tx)

    def close(self) -> None:
        with self._write_lock:
            if len(self._pending):
                self._flush_locked()
            if len(self._pending):
                log.warning(
                    "closing with %d unsaved writes: %s is still unavailable", len(self._pending), self._backend.target
                )
            self._backend.close()

    # -- account state ----------------------------------------------------------------------
    def claim(self, provider: str, account: str, now: float, hold_until: float) -> bool:
        """Atomically take the right to fetch an account: succeeds only when its gate is open.
        The gate is moved to ``hold_until`` so no other process fetches meanwhile. False while
        the database is unavailable: without the shared gate, nothing may be fetched."""
        return self.claim_many([Claim(provider, account, now, hold_until)])[0]

    def claim_many(self, claims: Sequence[Claim]) -> list[bool]:
        """``claim`` for many accounts in one transaction; each answer in the order asked."""

        def apply() -> list[bool]:
            with self.transaction() as tx:
                return batch.claim(tx, claims)

        try:
            return self._write(apply) or [False] * len(claims)
        except StoreUnavailableError:
            return [False] * len(claims)

    def save_state(
        self, snapshot: ProviderSnapshot, *, next_allowed_at: float, failures: int, last_raw: str | None = None
    ) -> None:
        """Write an account's latest state; during an outage it is queued (a newer state of the
        same account replaces the queued one) and ``state()`` already returns it."""
        self.save_outcomes([Outcome(snapshot, next_allowed_at, failures, last_raw)])

    def save_outcomes(
        self, outcomes: Sequence[Outcome], finish: Callable[[Outcome], ProviderSnapshot] | None = None
    ) -> list[ProviderSnapshot]:
        """Save many accounts' results in one transaction: the window samples of each successful
        fetch, then ``finish`` on it (the forecast, reading those samples; its failure costs only its
        own result), then every state. Returns the snapshots as saved. Through an outage each
        account's samples and state are queued like ``record_samples`` and ``save_state`` queue them,
        and the snapshots come back as given."""

        def apply() -> list[ProviderSnapshot]:
            staged = history.Staged(self._caches)
            with self.transaction() as tx:
                saved = batch.save(tx, staged, outcomes, finish, self._unavailable_error)
            staged.commit()
            return saved

        def enqueue() -> None:
            for outcome in outcomes:
                if outcome.sampled_at is not None:
                    self._pending.add_samples(self._samples_writer(outcome))
                self._queue_state(outcome)

        return self._write(apply, enqueue) or [o.snapshot for o in outcomes]

    def _unavailable_error(self, exc: BaseException) -> bool:
        return isinstance(exc, StoreUnavailableError) or self._backend.is_unavailable(exc)

    def _samples_writer(self, outcome: Outcome) -> Callable[[], int]:
        snapshot, at, heartbeat = outcome.snapshot, outcome.sampled_at, outcome.heartbeat_seconds
        assert at is not None
        return lambda: self._history_write(lambda tx, staged: history.record(tx, staged, snapshot, at, heartbeat))

    def _queue_state(self, outcome: Outcome) -> None:
        row = outcome.state_row()

        def apply() -> None:
            with self.transaction() as tx:
                tx.execute(batch.SAVE_STATE, row)
                changes.notify(tx, [outcome.snapshot.key])

        pending = PendingState(row[2], outcome.next_allowed_at, outcome.failures, outcome.last_raw)
        self._pending.add_state(outcome.snapshot.provider, outcome.snapshot.account, pending, apply)

    def states(self) -> dict[tuple[str, str], AccountState]:
        with self._reading() as tx:
            rows = tx.query(f"SELECT {batch.STATE_COLUMNS} FROM account_state")
        return self._with_queued({(p, a): _account_state(s, n, f, r) for p, a, s, n, f, r in rows})

    def states_of(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], AccountState]:
        """The states of the given accounts (those never saved are missing), read in one transaction."""
        wanted = set(keys)
        with self._reading() as tx:
            rows = batch.state_rows(tx, wanted)
        found = {(p, a): _account_state(s, n, f, r) for p, a, s, n, f, r in rows}
        return self._with_queued(found, wanted)

    def _with_queued(
        self, found: dict[tuple[str, str], AccountState], only: set[tuple[str, str]] | None = None
    ) -> dict[tuple[str, str], AccountState]:
        for key, queued in self._pending.states().items():
            if only is None or key in only:
                found[key] = _queued_state(queued, found.get(key))
        return found

    def changed_since(self, since: float) -> tuple[list[tuple[str, str]], float]:
        """Accounts whose state was saved after ``since`` (seconds), and the newest save's time."""
        with self._reading() as tx:
            rows = tx.query("SELECT provider, account, updated_at FROM account_state WHERE updated_at > ?", (since,))
        return [(p, a) for p, a, _ in rows], max((float(u) for _, _, u in rows), default=since)

    def state(self, provider: str, account: str) -> AccountState | None:
        return self.states_of([(provider, account)]).get((provider, account))

    # -- history ----------------------------------------------------------------------------
    def _history_write(self, work: Callable[[Transaction, history.Staged], T]) -> T:
        staged = history.Staged(self._caches)
        with self.transaction() as tx:
            result = work(tx, staged)
        staged.commit()
        return result

    def record_samples(self, snapshot: ProviderSnapshot, now: datetime, heartbeat_seconds: float) -> int:
        """Write a sample per window that changed (or whose last sample is older than the
        heartbeat). Returns how many were written (0 when queued through an outage)."""
        apply = self._samples_writer(Outcome(snapshot, 0.0, 0, sampled_at=now, heartbeat_seconds=heartbeat_seconds))
        return self._write(apply, lambda: self._pending.add_samples(apply)) or 0

    def bulk_load(self, provider: str, account: str, window_id: str, rows: Sequence[tuple[int, float]]) -> None:
        """Insert many (ts, used_pct) samples of one window at once, with their rollups (imports, benchmarks)."""
        self._write(
            lambda: self._history_write(
                lambda tx, staged: history.bulk_load(tx, staged, (provider, account, window_id), rows)
            )
        )

    def load_rollups(
        self,
        provider: str,
        account: str,
        window_id: str,
        resolution: str,
        rows: Sequence[tuple[int, float, float, int]],
    ) -> None:
        """Insert precomputed (bucket, max_pct, last_pct, last_ts) rollup rows (imports, benchmarks)."""
        self._write(
            lambda: self._history_write(
                lambda tx, staged: history.load_rollups(tx, staged, (provider, account, window_id), resolution, rows)
            )
        )

    def rollups(
        self, provider: str, account: str, window_id: str, since: datetime, until: datetime, resolution: str
    ) -> list[tuple[int, float]]:
        """(bucket start, peak percent) rows of the ``hourly`` or ``daily`` rollup."""
        with self._reading() as tx:
            return history.rollups(tx, (provider, account, window_id), since, until, resolution)

    def windows_of(self, provider: str, account: str) -> list[str]:
        with self._reading() as tx:
            rows = tx.query(
                "SELECT window_id FROM series WHERE provider = ? AND account = ? ORDER BY id", (provider, account)
            )
        return [r[0] for r in rows]

    def prune(self, *, raw_before: datetime, hourly_before: datetime) -> int:
        """Drop raw samples older than the retention (their rollups stay) and very old hourly rollups."""

        def apply() -> int:
            with self.transaction() as tx:
                removed = history.prune(tx, raw_before, hourly_before)
            self._caches.last.clear()
            return removed

        return self._write(apply) or 0

    def size_bytes(self) -> int | None:
        """On-disk size of the database (SQLite file + WAL, or the PostgreSQL schema's tables)."""
        with self._reading() as tx:
            return history.size_bytes(tx)

    def samples(self, provider: str, account: str, window_id: str, since: datetime, until: datetime) -> list[Sample]:
        with self._reading() as tx:
            return history.samples(tx, (provider, account, window_id), since, until)

    # -- the cycle ledger and the forecast log --------------------------------------------------
    def cycles(self, provider: str, account: str, window_id: str, since: datetime, until: datetime) -> list[CycleRow]:
        """Cycles of one window that overlap [since, until], oldest first."""
        with self._reading() as tx:
            return cycles.cycles(tx, (provider, account, window_id), int(since.timestamp()), int(until.timestamp()))

    def past_cycles(
        self, provider: str, account: str, window_id: str, before: datetime, limit: int = 8
    ) -> list[CycleRow]:
        with self._reading() as tx:
            return cycles.past(tx, (provider, account, window_id), int(before.timestamp()), limit)

    def log_forecasts(self, rows: Sequence[tuple[tuple[str, str, str], Sequence[Any]]]) -> None:
        """Append forecasts as they are made (kept so their accuracy can be measured)."""

        def apply() -> None:
            with self.transaction() as tx:
                cycles.log_forecasts(tx, rows)

        self._write(apply)

    def forecast_log(
        self, provider: str, account: str, window_id: str, since: datetime, until: datetime
    ) -> list[tuple[Any, ...]]:
        with self._reading() as tx:
            return cycles.forecast_log(
                tx, (provider, account, window_id), int(since.timestamp()), int(until.timestamp())
            )

    def series(self) -> list[tuple[str, str, str]]:
        with self._reading() as tx:
            rows = tx.query("SELECT provider, account, window_id FROM series ORDER BY id")
        return [(p, a, w) for p, a, w in rows]


def open_store(
    url: str | None, *, data_dir: Path, busy_timeout: float = BUSY_TIMEOUT, pool_timeout: float = POOL_TIMEOUT
) -> Store:
    """Open (and migrate) the store named by ``url``: None -> SQLite in ``data_dir``. A database
    that cannot be opened or migrated is one ConfigError naming it and the fix."""
    if url and url.startswith(("postgresql://", "postgres://")):
        from .postgres import open_postgres

        return Store(open_postgres(url, pool_timeout=pool_timeout))
    if url and url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
    elif url and "://" in url:
        raise ConfigError(
            f"unsupported database URL scheme: {url.split('://', 1)[0]}://",
            hint="Use a file path, sqlite:///path or postgresql://...",
        )
    else:
        path = Path(url) if url else data_dir / "agentgauge.db"
    from .sqlite import open_sqlite

    return Store(open_sqlite(path, busy_timeout=busy_timeout))


def dumps_raw(raw: Any) -> str:
    return orjson.dumps(raw, default=str).decode()

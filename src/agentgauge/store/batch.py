"""Many accounts in one transaction: what a refresh of hundreds of accounts writes and reads.

The engine groups the calls that arrive together (``agentgauge.engine`` group commits) and the store
runs each group as one transaction: reading the states of many accounts, claiming many gates, and
saving many results (window samples, the forecast made from them, the state). Through an outage each
account's writes are queued one by one, exactly as single writes are (``outage.PendingWrites``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import changes, history
from .backend import Transaction
from .outage import PendingState

if TYPE_CHECKING:
    from ..models import ProviderSnapshot

log = logging.getLogger("agentgauge.store")

SAVE_STATE = (
    "INSERT INTO account_state (provider, account, snapshot, next_allowed_at, failures, last_raw, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider, account) DO UPDATE SET snapshot = excluded.snapshot, "
    "next_allowed_at = excluded.next_allowed_at, failures = excluded.failures, "
    "last_raw = COALESCE(excluded.last_raw, account_state.last_raw), updated_at = excluded.updated_at"
)
CLAIM = (
    "INSERT INTO account_state (provider, account, next_allowed_at, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (provider, account) DO UPDATE SET next_allowed_at = excluded.next_allowed_at "
    "WHERE account_state.next_allowed_at <= ?"
)
STATE_COLUMNS = "provider, account, snapshot, next_allowed_at, failures, last_raw"
IN_CHUNK = 500  # parameters per IN (...) list: well below SQLite's and PostgreSQL's limits


@dataclass(frozen=True)
class Claim:
    """Take an account's gate at ``now`` (when it is open) and hold it until ``hold_until``."""

    provider: str
    account: str
    now: float
    hold_until: float


@dataclass(frozen=True)
class Outcome:
    """One account's result to save: its state and, after a successful fetch (``sampled_at``), a
    sample per window that changed."""

    snapshot: ProviderSnapshot
    next_allowed_at: float
    failures: int
    last_raw: str | None = None
    sampled_at: datetime | None = None
    heartbeat_seconds: float = 3600.0

    def state_row(self, snapshot: ProviderSnapshot | None = None) -> tuple[Any, ...]:
        s = snapshot or self.snapshot
        payload = s.model_dump_json()
        return (s.provider, s.account, payload, self.next_allowed_at, self.failures, self.last_raw, time.time())


@dataclass(frozen=True)
class AccountState:
    snapshot: ProviderSnapshot | None
    next_allowed_at: float
    failures: int
    last_raw: str | None


def _account_state(snapshot: str | None, next_allowed_at: Any, failures: Any, last_raw: str | None) -> AccountState:
    from ..models import ProviderSnapshot

    parsed = ProviderSnapshot.model_validate_json(snapshot) if snapshot else None
    return AccountState(parsed, float(next_allowed_at), int(failures), last_raw)


def _queued_state(queued: PendingState, stored: AccountState | None) -> AccountState:
    """A queued save_state as the database will hold it (last_raw is kept when the new one has none)."""
    last_raw = queued.last_raw if queued.last_raw is not None else (stored.last_raw if stored else None)
    return _account_state(queued.snapshot_json, queued.next_allowed_at, queued.failures, last_raw)


def state_rows(tx: Transaction, keys: Iterable[tuple[str, str]]) -> list[tuple[Any, ...]]:
    """The stored rows (``STATE_COLUMNS``) of the given accounts, in a few queries however many there are."""
    wanted = set(keys)
    if len(wanted) == 1:
        return tx.query(
            f"SELECT {STATE_COLUMNS} FROM account_state WHERE provider = ? AND account = ?", next(iter(wanted))
        )
    providers = sorted({p for p, _ in wanted})
    rows: list[tuple[Any, ...]] = []
    for i in range(0, len(providers), IN_CHUNK):
        chunk = providers[i : i + IN_CHUNK]
        found = tx.query(
            f"SELECT {STATE_COLUMNS} FROM account_state WHERE provider IN ({', '.join('?' * len(chunk))})", chunk
        )
        rows.extend(r for r in found if (r[0], r[1]) in wanted)
    return rows


def claim(tx: Transaction, claims: Sequence[Claim]) -> list[bool]:
    return [bool(tx.execute(CLAIM, (c.provider, c.account, c.hold_until, c.now, c.now)).rowcount) for c in claims]


def save(
    tx: Transaction,
    staged: history.Staged,
    outcomes: Sequence[Outcome],
    finish: Callable[[Outcome], ProviderSnapshot] | None,
    unavailable: Callable[[BaseException], bool],
) -> list[ProviderSnapshot]:
    """Samples first, then ``finish`` (the forecast, which reads them) on each fetched account inside a
    savepoint (a failing forecast loses only itself), then every state in one statement."""
    for outcome in outcomes:
        if outcome.sampled_at is not None:
            history.record(tx, staged, outcome.snapshot, outcome.sampled_at, outcome.heartbeat_seconds)
    finished: list[ProviderSnapshot] = []
    for outcome in outcomes:
        if finish is None or outcome.sampled_at is None:
            finished.append(outcome.snapshot)
            continue
        tx.execute("SAVEPOINT finish_outcome")
        try:
            finished.append(finish(outcome))
        except Exception as exc:
            if unavailable(exc):
                raise
            tx.execute("ROLLBACK TO SAVEPOINT finish_outcome")
            log.error("forecast failed for %s/%s", outcome.snapshot.provider, outcome.snapshot.account, exc_info=True)
            finished.append(outcome.snapshot)
        else:
            tx.execute("RELEASE SAVEPOINT finish_outcome")
    tx.executemany(SAVE_STATE, [o.state_row(s) for o, s in zip(outcomes, finished, strict=True)])
    changes.notify(tx, [s.key for s in finished])  # the other replicas' live views (PostgreSQL)
    return finished

"""The hub's side of a push: a machine's batch of snapshots, applied once, merged by fingerprint.

A batch names the machine's stream (one per pushing store) and carries items numbered by that
stream's sequence. Items at or below the highest number already applied are duplicates (a batch sent
again after a lost answer) and are skipped; the others are applied in order, then the stream's
number moves up in one statement. Applying an item twice would change nothing either (samples are
keyed by time, the state keeps the newest data), so a batch that meets a database outage half-way
is simply sent again.

Each item is recorded like a fetch: history samples at the data's own time, a forecast, the state.
The account it is shown as comes from its fingerprint (the same account pushed by several machines
is one hub account, named on first sight) or, without one, from the machine (``work@laptop``). The
newest data wins: a push whose data is older than what the account shows adds nothing to history,
and a failure report replaces the shown state only when that state came from the same machine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from ..analytics import forecast_account
from ..config import Config
from ..errors import ConfigError, StoreUnavailableError
from ..models import ProviderSnapshot, Status, evolve
from ..providers import registry
from ..store import Outcome, Store
from . import HUB_SOURCE
from .fingerprint import well_formed
from .machines import Machine

log = logging.getLogger("agentgauge.hub")

MAX_ITEMS = 200  # items per batch (the pushing side sends fewer)
MAX_CLOCK_SKEW = timedelta(minutes=5)  # data stamped later than now by more than this is refused
NAME_MAX = 60
_lock = threading.Lock()  # one batch at a time per process: each account's newest-wins check holds


class BatchRejected(ValueError):
    """A batch outside the protocol (not the pushing side's doing unless it has a bug): a 400."""


class ItemRejected(ValueError):
    """One item that cannot be applied; it is acknowledged with the reason (never retried)."""


@dataclass(frozen=True)
class Item:
    seq: int
    provider: str
    account: str
    fingerprint: str | None
    snapshot: Mapping[str, Any]


@dataclass
class Received:
    last_seq: int  # every item up to here is applied (or was refused for good): the machine may drop them
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    changed: list[ProviderSnapshot] = field(default_factory=list)  # hub accounts whose state changed

    def to_json(self) -> dict[str, Any]:
        return {
            "acked": self.last_seq,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
        }


def parse_batch(body: Any) -> tuple[str, list[Item]]:
    """(stream, items) of a push body; BatchRejected for anything outside the protocol."""
    if not isinstance(body, dict):
        raise BatchRejected("expected a JSON object {stream, items}")
    stream = body.get("stream")
    if not isinstance(stream, str) or not 8 <= len(stream) <= 64 or not stream.isalnum():
        raise BatchRejected("'stream' must be 8-64 letters and digits")
    raw_items = body.get("items")
    if not isinstance(raw_items, list) or len(raw_items) > MAX_ITEMS:
        raise BatchRejected(f"'items' must be a list of at most {MAX_ITEMS}")
    items: list[Item] = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            raise BatchRejected("each item is an object {seq, provider, account, fingerprint, snapshot}")
        seq, provider, account, fp, snapshot = (
            raw.get(k) for k in ("seq", "provider", "account", "fingerprint", "snapshot")
        )
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise BatchRejected("'seq' must be a positive whole number")
        if not isinstance(provider, str) or not isinstance(account, str) or not isinstance(snapshot, dict):
            raise BatchRejected(f"item {seq}: 'provider' and 'account' are strings, 'snapshot' an object")
        if fp is not None and not well_formed(fp):
            raise BatchRejected(f"item {seq}: 'fingerprint' is not one agentgauge makes")
        items.append(Item(seq, provider, account, fp, snapshot))
    seqs = [i.seq for i in items]
    if len(set(seqs)) != len(seqs):
        raise BatchRejected("sequence numbers repeat within the batch")
    return stream, sorted(items, key=lambda i: i.seq)


def last_seq(store: Store, machine: Machine, stream: str) -> int:
    rows = store.query("SELECT last_seq FROM hub_streams WHERE machine_id = ? AND stream = ?", (machine.id, stream))
    return int(rows[0][0]) if rows else 0


def receive(
    store: Store, config: Config, machine: Machine, stream: str, items: Sequence[Item], now: datetime
) -> Received:
    """Apply a machine's batch (blocking: run it in a worker thread). StoreUnavailableError when the
    database cannot take it: nothing is acknowledged and the machine sends it again."""
    with _lock:
        done = last_seq(store, machine, stream)
        result = Received(done)
        top = done
        for item in items:
            if item.seq <= done:
                result.duplicates += 1
                continue
            try:
                shown = _apply(store, config, machine, item, now)
            except ItemRejected as exc:
                result.rejected.append({"seq": item.seq, "reason": str(exc)})
            else:
                result.accepted += 1
                if shown is not None:
                    result.changed = [s for s in result.changed if s.key != shown.key] + [shown]
            top = item.seq
        if top > done:
            if store.health(probe=False).pending_writes:  # written to memory only: not acknowledged yet
                store.flush_pending()
                if store.health(probe=False).pending_writes:
                    raise StoreUnavailableError("the hub's database is not taking writes right now")
            _advance(store, machine, stream, top, now)
            result.last_seq = top
        return result


def _advance(store: Store, machine: Machine, stream: str, seq: int, now: datetime) -> None:
    bigger = "GREATEST" if store.dialect == "postgres" else "MAX"
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO hub_streams (machine_id, stream, last_seq, updated_at) VALUES (?, ?, ?, ?) "
            f"ON CONFLICT (machine_id, stream) DO UPDATE SET last_seq = {bigger}(hub_streams.last_seq, "
            "excluded.last_seq), updated_at = excluded.updated_at",
            (machine.id, stream, seq, int(now.timestamp())),
        )


def _pushed(item: Item, now: datetime) -> ProviderSnapshot:
    try:
        registry.get(item.provider)
    except ConfigError:
        raise ItemRejected(f"this hub does not know provider '{item.provider}' (upgrade the hub)") from None
    if not item.account or len(item.account) > NAME_MAX:
        raise ItemRejected(f"an account name is 1-{NAME_MAX} characters")
    try:
        pushed = ProviderSnapshot.model_validate(item.snapshot)
    except ValidationError as exc:
        raise ItemRejected(f"the snapshot does not validate ({exc.error_count()} problems)") from None
    if pushed.key != (item.provider, item.account):
        raise ItemRejected("the snapshot names another account than the item")
    if pushed.status in (Status.UNCONFIGURED, Status.DISABLED) or pushed.fetched_at is None:
        raise ItemRejected("an account with nothing fetched is not pushed")
    if pushed.fetched_at > now + MAX_CLOCK_SKEW or (
        pushed.last_success_at is not None and pushed.last_success_at > now + MAX_CLOCK_SKEW
    ):
        raise ItemRejected("stamped in the future (check the machine's clock)")
    return pushed


def _hub_account(store: Store, machine: Machine, item: Item, now: datetime) -> str:
    """The account name the hub shows this item under: per fingerprint (first name seen wins) or per machine."""
    if item.fingerprint is None:
        return f"{item.account}@{machine.name}"
    name = f"{item.account}~{item.fingerprint.split(':', 1)[1][:8]}"
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO hub_fingerprints (provider, fingerprint, hub_account, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (item.provider, item.fingerprint, name, int(now.timestamp())),
        )
        rows = tx.query(
            "SELECT hub_account FROM hub_fingerprints WHERE provider = ? AND fingerprint = ?",
            (item.provider, item.fingerprint),
        )
    if not rows:  # the name is taken by another fingerprint (8 hex digits alike): use the whole hash
        name = f"{item.account}~{item.fingerprint.split(':', 1)[1]}"
        with store.transaction() as tx:
            tx.execute(
                "INSERT INTO hub_fingerprints (provider, fingerprint, hub_account, created_at) VALUES (?, ?, ?, ?)",
                (item.provider, item.fingerprint, name, int(now.timestamp())),
            )
        return name
    return str(rows[0][0])


def _note_machine(
    store: Store, machine: Machine, item: Item, pushed: ProviderSnapshot, hub_account: str, now: datetime
) -> tuple[str, ...]:
    """Record what this machine pushed for the account; returns every machine pushing that hub account."""
    fetched = int(pushed.fetched_at.timestamp()) if pushed.fetched_at else None
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO hub_accounts (machine_id, provider, account, fingerprint, hub_account, status, fetched_at, "
            "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (machine_id, provider, account) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, hub_account = excluded.hub_account, status = excluded.status, "
            "fetched_at = excluded.fetched_at, received_at = excluded.received_at",
            (machine.id, item.provider, item.account, item.fingerprint, hub_account, pushed.status.value, fetched,
             int(now.timestamp())),
        )  # fmt: skip
        rows = tx.query(
            "SELECT DISTINCT m.name FROM hub_accounts a JOIN hub_machines m ON m.id = a.machine_id "
            "WHERE a.provider = ? AND a.hub_account = ? ORDER BY m.name",
            (item.provider, hub_account),
        )
    return tuple(str(r[0]) for r in rows)


def _apply(store: Store, config: Config, machine: Machine, item: Item, now: datetime) -> ProviderSnapshot | None:
    """Record one item; returns the hub account's new state when it changed, else None."""
    pushed = _pushed(item, now)
    hub_account = _hub_account(store, machine, item, now)
    seen_from = _note_machine(store, machine, item, pushed, hub_account, now)
    state = store.state(item.provider, hub_account)
    stored = state.snapshot if state else None
    provider = registry.get(item.provider)
    shown = evolve(
        pushed,
        account=hub_account,
        name=provider.name,
        source=HUB_SOURCE,
        source_label=pushed.source_label or pushed.source,  # how the machine got it; ``machine`` says which
        machine=machine.name,
        seen_from=seen_from,
        incident=None,
        windows=tuple(evolve(w, forecast=None, reset_pending=False) for w in pushed.windows),
    )
    if pushed.status == Status.OK and pushed.last_success_at is not None:
        newest = stored is None or stored.last_success_at is None or pushed.last_success_at > stored.last_success_at
        if newest:
            at = pushed.last_success_at
            outcome = Outcome(shown, 0.0, 0, sampled_at=at, heartbeat_seconds=config.heartbeat_seconds)
            return store.save_outcomes([outcome], finish=lambda o: forecast_account(store, o.snapshot, at))[0]
    else:
        same_machine = stored is None or stored.machine == machine.name
        later = stored is None or stored.fetched_at is None or (shown.fetched_at or now) > stored.fetched_at
        if same_machine and later:
            failures = (state.failures if state else 0) + 1
            return store.save_outcomes([Outcome(shown, 0.0, failures)])[0]
    if stored is not None and stored.seen_from != seen_from:  # a machine more (or fewer) pushes it
        updated = evolve(stored, seen_from=seen_from)
        store.save_state(updated, next_allowed_at=0.0, failures=state.failures if state else 0)
        return updated
    return None

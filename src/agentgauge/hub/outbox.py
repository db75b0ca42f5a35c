"""The pushing machine's outbox: snapshots waiting for the hub, numbered, in the machine's own store.

Every snapshot to push is written here first with the next number of this store's stream (a random
id made once, so a fresh store never collides with the numbers an old one used). The push loop
sends the oldest first and deletes what the hub acknowledged; whatever the hub has not acknowledged
(it is away, or refused this machine) stays, across restarts, up to ``MAX_BUFFERED`` items (then
the oldest go: the newest data matters most). Numbers are taken under the stream row's lock, so
they are committed in order even with two processes on one store.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from ..models import ProviderSnapshot
from ..store import Store

log = logging.getLogger("agentgauge.hub")

MAX_BUFFERED = 20000  # items kept while the hub is away (20 accounts every 5 minutes: about 3 days)


@dataclass(frozen=True)
class Queued:
    seq: int
    provider: str
    account: str
    snapshot: dict[str, Any]


def stream_id(store: Store) -> str:
    """This store's stream id (made on first use)."""
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO push_stream (id, stream, next_seq) VALUES (1, ?, 1) ON CONFLICT (id) DO NOTHING",
            (secrets.token_hex(12),),
        )
        return str(tx.query("SELECT stream FROM push_stream WHERE id = 1")[0][0])


def enqueue(store: Store, snapshots: Sequence[ProviderSnapshot], now: datetime) -> list[int]:
    """Number and keep ``snapshots`` for the hub; returns their sequence numbers."""
    if not snapshots:
        return []
    stream_id(store)
    stamp = int(now.timestamp())
    with store.transaction() as tx:
        # The UPDATE locks the stream row until commit: numbers are handed out (and committed) in order.
        tx.execute("UPDATE push_stream SET next_seq = next_seq + ? WHERE id = 1", (len(snapshots),))
        after = int(tx.query("SELECT next_seq FROM push_stream WHERE id = 1")[0][0])
        first = after - len(snapshots)
        rows = []
        for offset, snapshot in enumerate(snapshots):
            body = {
                "provider": snapshot.provider,
                "account": snapshot.account,
                "snapshot": snapshot.model_dump(mode="json"),
            }
            rows.append((first + offset, stamp, orjson.dumps(body).decode()))
        tx.executemany("INSERT INTO push_outbox (seq, created_at, body) VALUES (?, ?, ?)", rows)
        kept = int(tx.query("SELECT COUNT(*) FROM push_outbox")[0][0])
        if kept > MAX_BUFFERED:
            cut = kept - MAX_BUFFERED
            oldest = tx.query("SELECT seq FROM push_outbox ORDER BY seq LIMIT 1 OFFSET ?", (cut - 1,))
            tx.execute("DELETE FROM push_outbox WHERE seq <= ?", (int(oldest[0][0]),))
            log.warning("the hub has not taken pushes for long: dropped the %d oldest buffered snapshots", cut)
    return [row[0] for row in rows]


def pending(store: Store, limit: int) -> list[Queued]:
    """The oldest ``limit`` items not yet acknowledged."""
    rows = store.query("SELECT seq, body FROM push_outbox ORDER BY seq LIMIT ?", (limit,))
    out = []
    for seq, body in rows:
        data = orjson.loads(body)
        out.append(Queued(int(seq), str(data["provider"]), str(data["account"]), dict(data["snapshot"])))
    return out


def acknowledge(store: Store, upto: int) -> int:
    """Drop every item the hub acknowledged (numbers up to ``upto``); returns how many went."""
    with store.transaction() as tx:
        return int(tx.execute("DELETE FROM push_outbox WHERE seq <= ?", (upto,)).rowcount or 0)


def buffered(store: Store) -> int:
    return int(store.query("SELECT COUNT(*) FROM push_outbox")[0][0])

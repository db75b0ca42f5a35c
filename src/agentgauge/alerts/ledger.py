"""The alert tables (migration 0005): rule state, fired events and their deliveries. Plain SQL with
``?`` placeholders through ``Store.transaction()``, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ..store import Store, Transaction

StateKey = tuple[str, str]  # (rule, subject)


@dataclass(frozen=True)
class Due:
    """A delivery whose time has come, with what its event says."""

    event_id: int
    target: str
    attempts: int
    event: str
    severity: str
    provider: str
    account: str
    subject: str
    title: str
    message: str
    data: dict[str, Any]
    created_at: int


def load_states(tx: Transaction, provider: str, account: str) -> dict[StateKey, tuple[dict[str, Any], int]]:
    rows = tx.query(
        "SELECT rule, subject, state, version FROM alert_state WHERE provider = ? AND account = ?", (provider, account)
    )
    return {(r, s): (orjson.loads(state), int(v)) for r, s, state, v in rows}


def put_state(
    tx: Transaction,
    key: tuple[str, str, str, str],
    state: Mapping[str, Any],
    version: int | None,
    now: int,
) -> bool:
    """Write a rule's state if nobody changed it since it was read (``version``; None: it did not
    exist). False when another process got there first: its transition is the one that counts."""
    body = orjson.dumps(state).decode()
    if version is None:
        cur = tx.execute(
            "INSERT INTO alert_state (rule, provider, account, subject, state, version, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT (rule, provider, account, subject) DO NOTHING",
            (*key, body, now),
        )
    else:
        cur = tx.execute(
            "UPDATE alert_state SET state = ?, version = version + 1, updated_at = ? "
            "WHERE rule = ? AND provider = ? AND account = ? AND subject = ? AND version = ?",
            (body, now, *key, version),
        )
    return bool(cur.rowcount)


def add_event(
    tx: Transaction,
    *,
    now: int,
    rule: str,
    event: str,
    severity: str,
    where: tuple[str, str, str],
    title: str,
    message: str,
    data: Mapping[str, Any],
    status: str,
) -> int:
    row = tx.execute(
        "INSERT INTO alert_events (created_at, rule, event, severity, provider, account, subject, title, message, "
        "data, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (now, rule, event, severity, *where, title, message, orjson.dumps(data).decode(), status),
    ).fetchone()
    return int(row[0])


def add_deliveries(tx: Transaction, event_id: int, targets: Iterable[str], at: int) -> None:
    tx.executemany(
        "INSERT INTO alert_deliveries (event_id, target, status, attempts, next_try_at) VALUES (?, ?, 'pending', 0, ?)",
        [(event_id, t, at) for t in targets],
    )


def due(store: Store, now: int, limit: int = 50) -> list[Due]:
    rows = store.query(
        "SELECT d.event_id, d.target, d.attempts, e.event, e.severity, e.provider, e.account, e.subject, e.title, "
        "e.message, e.data, e.created_at FROM alert_deliveries d JOIN alert_events e ON e.id = d.event_id "
        "WHERE d.status = 'pending' AND d.next_try_at <= ? ORDER BY d.next_try_at, d.event_id LIMIT ?",
        (now, limit),
    )
    return [
        Due(int(r[0]), r[1], int(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], r[9], orjson.loads(r[10]), int(r[11]))
        for r in rows
    ]


def finish(
    store: Store, item: Due, *, status: str, attempts: int, next_try_at: int, error: str | None, now: int
) -> None:
    """Record one attempt: ``sent``, ``failed`` (out of attempts or unrecoverable) or still ``pending``;
    the event's status follows its deliveries."""
    with store.transaction() as tx:
        tx.execute(
            "UPDATE alert_deliveries SET status = ?, attempts = ?, next_try_at = ?, last_error = ?, sent_at = ? "
            "WHERE event_id = ? AND target = ?",
            (status, attempts, next_try_at, error, now if status == "sent" else None, item.event_id, item.target),
        )
        states = {r[0] for r in tx.query("SELECT status FROM alert_deliveries WHERE event_id = ?", (item.event_id,))}
        if "pending" not in states:
            summary = "delivered" if states == {"sent"} else "failed" if "sent" not in states else "partly delivered"
            tx.execute("UPDATE alert_events SET status = ? WHERE id = ?", (summary, item.event_id))


def recent(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    """The latest events, newest first, each with its deliveries (target, status, attempts, error)."""
    rows = store.query(
        "SELECT id, created_at, rule, event, severity, provider, account, subject, title, message, status "
        "FROM alert_events ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    if not rows:
        return []
    ids = [int(r[0]) for r in rows]
    marks = ", ".join("?" * len(ids))
    deliveries: dict[int, list[dict[str, Any]]] = {}
    for event_id, target, status, attempts, error, sent_at in store.query(
        f"SELECT event_id, target, status, attempts, last_error, sent_at FROM alert_deliveries "
        f"WHERE event_id IN ({marks}) ORDER BY target",
        ids,
    ):
        deliveries.setdefault(int(event_id), []).append(
            {"target": target, "status": status, "attempts": int(attempts), "error": error, "sent_at": sent_at}
        )
    keys = ("id", "created_at", "rule", "event", "severity", "provider", "account", "subject", "title", "message")
    return [
        {**dict(zip(keys, r[:10], strict=True)), "status": r[10], "deliveries": deliveries.get(int(r[0]), [])}
        for r in rows
    ]


def prune(store: Store, before: int) -> None:
    with store.transaction() as tx:
        tx.execute(
            "DELETE FROM alert_deliveries WHERE event_id IN (SELECT id FROM alert_events WHERE created_at < ?)",
            (before,),
        )
        tx.execute("DELETE FROM alert_events WHERE created_at < ?", (before,))

"""The machines allowed to push to this hub, each with its own token (``agentgauge hub machines``).

A token is ``agh_<id>_<secret>``: the id finds the row, the secret is checked against the SHA-256
kept there, in constant time. The token is shown once, when the machine is added; the database
and its backups never hold a usable one. Revoking stamps the row (what the machine pushed keeps its
provenance) and the token is refused from the next request on: nothing caches a verification.
The machine's name comes from its token, never from what it sends.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import ConfigError
from ..store import Store

TOKEN_PREFIX = "agh_"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
TOUCH_EVERY = 60  # seconds between writes of a machine's last push time
NAME_HINT = "A machine name is 1-40 letters, digits, '.', '_' or '-', starting with a letter or digit."


@dataclass(frozen=True)
class Machine:
    id: str
    name: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": _iso(self.created_at),
            "last_seen_at": _iso(self.last_seen_at),
            "revoked_at": _iso(self.revoked_at),
        }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _at(seconds: Any) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(int(seconds), tz=UTC)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _machine(row: tuple[Any, ...]) -> Machine:
    machine_id, name, created, seen, revoked = row
    return Machine(str(machine_id), str(name), _at(created) or datetime.fromtimestamp(0, UTC), _at(seen), _at(revoked))


COLUMNS = "id, name, created_at, last_seen_at, revoked_at"


def add(store: Store, name: str, now: datetime) -> tuple[str, Machine]:
    """A new machine and its token (returned once, never stored). ConfigError for a bad or taken name."""
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(f"'{name}' is not a usable machine name", hint=NAME_HINT)
    machine_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    stamp = int(now.timestamp())
    with store.transaction() as tx:
        if tx.query("SELECT 1 FROM hub_machines WHERE name = ?", (name,)):
            raise ConfigError(
                f"a machine named '{name}' already exists",
                hint="Pick another name, or `agentgauge hub machines revoke` the old one first "
                "(a revoked machine keeps its name).",
            )
        tx.execute(
            "INSERT INTO hub_machines (id, name, secret_sha256, created_at) VALUES (?, ?, ?, ?)",
            (machine_id, name, _sha256(secret), stamp),
        )
    return f"{TOKEN_PREFIX}{machine_id}_{secret}", Machine(machine_id, name, _at(stamp) or now, None, None)


def machines(store: Store) -> list[Machine]:
    rows = store.query(f"SELECT {COLUMNS} FROM hub_machines ORDER BY created_at, id")
    return [_machine(r) for r in rows]


def find(store: Store, name_or_id: str) -> Machine:
    """A machine by name or id; ConfigError naming the fix when there is none."""
    wanted = name_or_id.strip()
    found = next((m for m in machines(store) if wanted in (m.name, m.id)), None)
    if found is None:
        raise ConfigError(
            f"no machine is named '{wanted}' or has that id",
            hint="`agentgauge hub machines list` shows the machines and their ids.",
        )
    return found


def revoke(store: Store, name_or_id: str, now: datetime) -> Machine:
    """Refuse a machine's token from now on (its pushed data stays, with its provenance)."""
    machine = find(store, name_or_id)
    if machine.revoked_at is not None:
        return machine
    stamp = int(now.timestamp())
    with store.transaction() as tx:
        tx.execute("UPDATE hub_machines SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (stamp, machine.id))
    return Machine(machine.id, machine.name, machine.created_at, machine.last_seen_at, _at(stamp))


def verify(store: Store, token: str, now: datetime) -> Machine | None:
    """The machine a token belongs to, or None (malformed, unknown or a wrong secret). A revoked
    machine is returned too (``active`` False): its token is refused, but it is no guess. The last
    push time of an active machine is written at most once a minute."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    machine_id, _, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not machine_id or not secret or len(machine_id) > 16 or len(secret) > 128:
        return None
    rows = store.query(f"SELECT {COLUMNS}, secret_sha256 FROM hub_machines WHERE id = ?", (machine_id,))
    if not rows or not hmac.compare_digest(str(rows[0][5]), _sha256(secret)):
        return None
    machine = _machine(rows[0][:5])
    stamp = int(now.timestamp())
    if machine.active and (
        machine.last_seen_at is None or stamp - int(machine.last_seen_at.timestamp()) >= TOUCH_EVERY
    ):
        with store.transaction() as tx:
            tx.execute("UPDATE hub_machines SET last_seen_at = ? WHERE id = ?", (stamp, machine.id))
        machine = Machine(machine.id, machine.name, machine.created_at, _at(stamp), None)
    return machine

"""API keys for scripts, the Stream Deck plugin, other machines: ``agk_<id>_<secret>``.

The id (8 hex digits) finds the row; only the SHA-256 of the secret (256 bits from the OS's random
source, so a fast hash is enough: nothing to brute-force) is stored, and it is compared in constant
time. The key is shown once, when made. Scopes: ``read`` (everything a viewer may do: read, refresh,
MCP) and ``write`` (also manage provider accounts and extensions). A key's owner caps it: a viewer's
key only reads, whatever its scope, and removing the owner revokes their keys. Keys never manage
users or keys: that takes a signed-in person (or the server's access token), so a leaked key cannot
make more. Revoking takes effect on the key's next request (nothing is cached).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import ConfigError, StoreUnavailableError
from ..store import Store
from .people import User, at, by_id, iso

PREFIX = "agk_"
SCOPES = ("read", "write")
NAME_MAX = 60
TOUCH_EVERY = 60


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    scope: str
    user_id: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None = None
    owner: User | None = None  # filled in by ``verify`` (and by ``listing`` with names)

    def role(self) -> str:
        """The role this key acts with: ``admin`` only for a write key of an admin (or of no one)."""
        owner_admin = self.user_id is None or (self.owner is not None and self.owner.admin)
        return "admin" if self.scope == "write" and owner_admin else "viewer"

    def to_json(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "user": self.owner.name if self.owner else None,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at) if self.last_used_at else None,
            "revoked_at": iso(self.revoked_at) if self.revoked_at else None,
        }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def clean_name(name: str) -> str:
    text = " ".join("".join(c for c in name if c in string.printable).split())[:NAME_MAX]
    if not text:
        raise ConfigError("an API key needs a name", hint="Name it after what uses it: 'stream deck', 'laptop'...")
    return text


def check_scope(scope: str) -> str:
    text = scope.strip().lower()
    if text not in SCOPES:
        raise ConfigError(f"unknown scope {scope!r}", hint="Scopes: read (read and refresh), write (also manage).")
    return text


def create(store: Store, name: str, scope: str, owner: User | None, now: datetime) -> tuple[str, ApiKey]:
    """A new key: its full text (shown once, never stored) and its record. A viewer gets read keys only."""
    name, scope = clean_name(name), check_scope(scope)
    if owner is not None and not owner.admin and scope != "read":
        raise ConfigError("a viewer can only make read keys", hint="Ask an admin for a write key.")
    key_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    stamp = int(now.timestamp())
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO api_keys (id, name, secret_sha256, scope, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, name, _sha256(secret), scope, owner.id if owner else None, stamp),
        )
    record = ApiKey(key_id, name, scope, owner.id if owner else None, at(stamp) or now, None, None, owner)
    return f"{PREFIX}{key_id}_{secret}", record


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


def verify(store: Store, token: str, now: datetime) -> ApiKey | None:
    """The live key ``token`` is, or None (malformed, unknown, revoked, or its owner is gone)."""
    if not token.startswith(PREFIX):
        return None
    key_id, _, secret = token[len(PREFIX) :].partition("_")
    if not key_id or not secret or len(key_id) > 16 or len(secret) > 128:
        return None
    rows = store.query(
        "SELECT name, secret_sha256, scope, user_id, created_at, last_used_at FROM api_keys "
        "WHERE id = ? AND revoked_at IS NULL",
        (key_id,),
    )
    if not rows or not hmac.compare_digest(str(rows[0][1]), _sha256(secret)):
        return None
    name, _digest, scope, user_id, created, last_used = rows[0]
    owner = by_id(store, str(user_id)) if user_id is not None else None
    if user_id is not None and owner is None:
        return None
    stamp = int(now.timestamp())
    if last_used is None or stamp - int(last_used) >= TOUCH_EVERY:
        with contextlib.suppress(StoreUnavailableError):  # a read-only moment of the database still lets it in
            with store.transaction() as tx:
                tx.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (stamp, key_id))
            last_used = stamp
    return ApiKey(key_id, str(name), str(scope), user_id, at(int(created)) or now, at(last_used), None, owner)


def listing(store: Store, *, owner: User | None = None, revoked: bool = False) -> list[ApiKey]:
    """Keys, newest last: everyone's (``owner=None``) or one user's; revoked ones only when asked."""
    sql = (
        "SELECT k.id, k.name, k.scope, k.user_id, k.created_at, k.last_used_at, k.revoked_at, u.name, u.role, "
        "u.created_at FROM api_keys k LEFT JOIN users u ON u.id = k.user_id"
    )
    where, params = [], []
    if owner is not None:
        where.append("k.user_id = ?")
        params.append(owner.id)
    if not revoked:
        where.append("k.revoked_at IS NULL")
    if where:
        sql += " WHERE " + " AND ".join(where)
    out = []
    for r in store.query(sql + " ORDER BY k.created_at, k.id", params):
        now = datetime.now(UTC)
        user = User(str(r[3]), str(r[7]), str(r[8]), at(int(r[9])) or now) if r[7] is not None else None
        out.append(ApiKey(str(r[0]), str(r[1]), str(r[2]), r[3], at(int(r[4])) or now, at(r[5]), at(r[6]), user))
    return out


def revoke(store: Store, key_id: str, now: datetime, *, owner: User | None = None) -> ApiKey:
    """Revoke a key by id (only ``owner``'s, when given); ConfigError when there is no such live key."""
    wanted = key_id.strip().removeprefix(PREFIX).split("_", 1)[0]
    found = [k for k in listing(store, owner=owner) if k.id == wanted]
    if not found:
        raise ConfigError(f"no live API key has the id '{wanted[:16]}'", hint="`agentgauge keys list` shows the ids.")
    with store.transaction() as tx:
        tx.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (int(now.timestamp()), found[0].id))
    return found[0]

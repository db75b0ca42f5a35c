"""Login sessions of multi-user mode, kept in the store so that signing out, a password change or a
removed user ends them at once, on every process serving the same database.

The cookie holds ``<id>.<secret>``: the store keeps the SHA-256 of the whole value, never the value.
The session's CSRF token is an HMAC of the cookie under a fixed label: the page gets it, a site
elsewhere cannot compute it without the HttpOnly cookie. A session lasts ``IDLE`` seconds past its
last use, at most ``LIFETIME`` after sign-in; its last use is written at most once a minute.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from ..errors import StoreUnavailableError
from ..store import Store
from .people import User, at

IDLE = 14 * 24 * 3600
LIFETIME = 30 * 24 * 3600
TOUCH_EVERY = 60
MAX_COOKIE = 200  # longer values are not ours: refused before hashing


@dataclass(frozen=True)
class Session:
    id_sha256: str
    user: User
    csrf: str


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def csrf_for(cookie: str) -> str:
    return hmac.new(cookie.encode(), b"agentgauge-user-csrf-v1", hashlib.sha256).hexdigest()


def start(store: Store, user: User, now: datetime) -> tuple[str, Session]:
    """A new session for ``user``: the cookie value (shown to the browser once) and the session."""
    cookie = f"{secrets.token_hex(8)}.{secrets.token_urlsafe(32)}"
    stamp = int(now.timestamp())
    with store.transaction() as tx:
        tx.execute("DELETE FROM user_sessions WHERE expires_at <= ?", (stamp,))  # old ones go on the way
        tx.execute(
            "INSERT INTO user_sessions (id_sha256, user_id, created_at, last_seen_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (_digest(cookie), user.id, stamp, stamp, stamp + min(IDLE, LIFETIME)),
        )
    return cookie, Session(_digest(cookie), user, csrf_for(cookie))


def lookup(store: Store, cookie: str, now: datetime) -> Session | None:
    """The live session a cookie names, or None (unknown, expired, or its user is gone)."""
    if not cookie or len(cookie) > MAX_COOKIE or "." not in cookie:
        return None
    digest = _digest(cookie)
    rows = store.query(
        "SELECT u.id, u.name, u.role, u.created_at, s.created_at, s.last_seen_at, s.expires_at "
        "FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_sha256 = ?",
        (digest,),
    )
    stamp = int(now.timestamp())
    if not rows or int(rows[0][6]) <= stamp:
        return None
    user_id, name, role, user_created, created, seen, _expires = rows[0]
    if stamp - int(seen) >= TOUCH_EVERY:
        with contextlib.suppress(StoreUnavailableError), store.transaction() as tx:
            tx.execute(
                "UPDATE user_sessions SET last_seen_at = ?, expires_at = ? WHERE id_sha256 = ?",
                (stamp, min(stamp + IDLE, int(created) + LIFETIME), digest),
            )
    user = User(str(user_id), str(name), str(role), at(int(user_created)) or now)
    return Session(digest, user, csrf_for(cookie))


def end(store: Store, id_sha256: str) -> None:
    with store.transaction() as tx:
        tx.execute("DELETE FROM user_sessions WHERE id_sha256 = ?", (id_sha256,))

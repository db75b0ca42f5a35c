"""The people who sign in (multi-user mode): names, roles and password hashes in the store.

Roles: ``admin`` (everything: accounts, users, keys, extensions) and ``viewer`` (reads the
dashboard and API, refreshes, manages only their own password and read-only keys). Removing a user
or changing a password signs that user out everywhere (their sessions are deleted); removing a
user also revokes their API keys. The last admin cannot be removed or demoted, so the server
always has someone who can manage it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import ConfigError
from ..store import Store, Transaction
from .passwords import check_policy, hash_password, needs_rehash, verify_password

ROLES = ("admin", "viewer")
NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
NAME_HINT = "Use letters, digits, '.', '_', '@' or '-' (at most 64; names are not case-sensitive)."


@dataclass(frozen=True)
class User:
    id: str
    name: str
    role: str
    created_at: datetime

    @property
    def admin(self) -> bool:
        return self.role == "admin"

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role, "created_at": iso(self.created_at)}


def iso(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def at(seconds: int | float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(int(seconds), tz=UTC)


def clean_name(name: str) -> str:
    """A login name as stored (lower case), or ConfigError."""
    text = name.strip().lower()
    if not NAME.match(text):
        raise ConfigError(f"{name.strip()[:64]!r} is not a valid user name", hint=NAME_HINT)
    return text


def check_role(role: str) -> str:
    text = role.strip().lower()
    if text not in ROLES:
        raise ConfigError(f"unknown role {role!r}", hint=f"Roles: {', '.join(ROLES)}.")
    return text


def _user(row: tuple[object, ...]) -> User:
    return User(str(row[0]), str(row[1]), str(row[2]), at(int(str(row[3]))) or datetime.now(UTC))


_COLUMNS = "id, name, role, created_at"


def count(store: Store) -> int:
    return int(store.query("SELECT COUNT(*) FROM users")[0][0])


def all_users(store: Store) -> list[User]:
    return [_user(r) for r in store.query(f"SELECT {_COLUMNS} FROM users ORDER BY name")]


def by_name(store: Store, name: str) -> User | None:
    rows = store.query(f"SELECT {_COLUMNS} FROM users WHERE name = ?", (name.strip().lower(),))
    return _user(rows[0]) if rows else None


def by_id(store: Store, user_id: str) -> User | None:
    rows = store.query(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
    return _user(rows[0]) if rows else None


def _admins(tx: Transaction) -> int:
    return int(tx.query("SELECT COUNT(*) FROM users WHERE role = 'admin'")[0][0])


def insert(tx: Transaction, name: str, password_hash: str, role: str, now: datetime) -> User:
    """Add a user inside an open transaction (the setup code's redemption uses it)."""
    if tx.query("SELECT 1 FROM users WHERE name = ?", (name,)):
        raise ConfigError(f"a user named '{name}' already exists", hint="Pick another name (`agentgauge users list`).")
    stamp = int(now.timestamp())
    user = User(secrets.token_hex(8), name, role, at(stamp) or now)
    tx.execute(
        "INSERT INTO users (id, name, password_hash, role, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?)",
        (user.id, name, password_hash, role, stamp, stamp),
    )
    return user


def add(store: Store, name: str, password: str, role: str, now: datetime) -> User:
    """A new user; ConfigError for a taken or malformed name, an unknown role or a weak password."""
    name, role = clean_name(name), check_role(role)
    hashed = hash_password(check_policy(password))
    with store.transaction() as tx:
        return insert(tx, name, hashed, role, now)


def _existing(tx: Transaction, name: str) -> User:
    rows = tx.query(f"SELECT {_COLUMNS} FROM users WHERE name = ?", (name.strip().lower(),))
    if not rows:
        raise ConfigError(f"no user is named '{name.strip()[:64]}'", hint="`agentgauge users list` shows them.")
    return _user(rows[0])


def remove(store: Store, name: str) -> User:
    """Delete a user, their sessions and API keys; never the last admin."""
    with store.transaction() as tx:
        user = _existing(tx, name)
        if user.admin and _admins(tx) <= 1:
            raise ConfigError(
                f"'{user.name}' is the last admin and cannot be removed",
                hint="Make another user an admin first (`agentgauge users add NAME --role admin`).",
            )
        tx.execute("DELETE FROM user_sessions WHERE user_id = ?", (user.id,))
        tx.execute("DELETE FROM api_keys WHERE user_id = ?", (user.id,))
        tx.execute("DELETE FROM users WHERE id = ?", (user.id,))
    return user


def set_role(store: Store, name: str, role: str) -> User:
    """Change a user's role (never demoting the last admin). Their keys follow: a viewer's write key
    only reads from then on (the owner's role caps the key's scope at every use)."""
    role = check_role(role)
    with store.transaction() as tx:
        user = _existing(tx, name)
        if user.admin and role != "admin" and _admins(tx) <= 1:
            raise ConfigError(f"'{user.name}' is the last admin and must stay one", hint="Make another admin first.")
        tx.execute("UPDATE users SET role = ? WHERE id = ?", (role, user.id))
    return User(user.id, user.name, role, user.created_at)


def set_password(store: Store, name: str, password: str, now: datetime, *, keep_session: str | None = None) -> User:
    """Replace a password and sign the user out everywhere (but ``keep_session``, the id of the
    session that made the change, when it is theirs)."""
    hashed = hash_password(check_policy(password))
    with store.transaction() as tx:
        user = _existing(tx, name)
        tx.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
            (hashed, int(now.timestamp()), user.id),
        )
        tx.execute("DELETE FROM user_sessions WHERE user_id = ? AND id_sha256 <> ?", (user.id, keep_session or ""))
    return user


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user whose name and password these are, else None (same cost for an unknown name).
    A hash made with weaker parameters than today's is replaced on the way."""
    try:
        key = clean_name(name)
    except ConfigError:
        key = ""
    rows = store.query("SELECT id, password_hash FROM users WHERE name = ?", (key,)) if key else []
    stored = str(rows[0][1]) if rows else None
    if not verify_password(stored, password) or not rows:
        return None
    if stored is not None and needs_rehash(stored):
        with store.transaction() as tx:
            tx.execute("UPDATE users SET password_hash = ? WHERE id = ?", (hash_password(password), rows[0][0]))
    return by_id(store, str(rows[0][0]))

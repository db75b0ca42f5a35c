"""The one-time setup code of multi-user mode: while no user exists, each start prints a fresh code
(the earlier ones stop working); whoever enters it, with a name and a password, becomes the first
admin, and setup closes for good. Only the code's SHA-256 is stored. Guessing is held back by the
per-client login back-off and the code's 60 bits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from ..errors import ConfigError
from ..store import Store
from .passwords import check_policy, hash_password
from .people import User, clean_name, insert

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read off a console, typed by hand
LENGTH = 12  # 60 bits
TTL = 24 * 3600


def _sha256(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalize(typed: str) -> str:
    return "".join(c for c in typed.upper() if c in ALPHABET)


def new_code(store: Store, now: datetime) -> str | None:
    """A fresh code as shown (``ABCD-EFGH-JKLM``), or None when a user exists already (setup is over)."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    stamp = int(now.timestamp())
    with store.transaction() as tx:
        if tx.query("SELECT 1 FROM users LIMIT 1"):
            return None
        tx.execute("DELETE FROM setup_codes")
        tx.execute("INSERT INTO setup_codes (code_sha256, expires_at) VALUES (?, ?)", (_sha256(code), stamp + TTL))
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def needed(store: Store) -> bool:
    return not store.query("SELECT 1 FROM users LIMIT 1")


def redeem(store: Store, typed: str, name: str, password: str, now: datetime) -> User | None:
    """Create the first admin with a valid code; None for a wrong or expired code, or when setup is
    over. ConfigError for a bad name or password (the code stays valid then)."""
    name = clean_name(name)
    hashed = hash_password(check_policy(password))
    code = normalize(typed)
    stamp = int(now.timestamp())
    with store.transaction() as tx:
        if tx.query("SELECT 1 FROM users LIMIT 1"):
            return None
        rows = tx.query("SELECT expires_at FROM setup_codes WHERE code_sha256 = ?", (_sha256(code),))
        if len(code) != LENGTH or not rows or int(rows[0][0]) <= stamp:
            return None
        tx.execute("DELETE FROM setup_codes")
        return insert(tx, name, hashed, "admin", now)


def ensure_open(store: Store) -> None:
    """ConfigError when setup is over (a user exists)."""
    if not needed(store):
        raise ConfigError("setup is over: a user exists already", hint="Sign in at /login.")

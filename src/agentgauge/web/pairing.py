"""Pairing browser extensions with this server: one-time codes and per-extension tokens, in the store.

``agentgauge extension pair`` (or the dashboard's extension page) makes a short code that lives
ten minutes; the extension trades it once for its own token ``agx_<id>_<secret>``. Only SHA-256
digests of codes and secrets are stored, so neither the database nor a backup holds a usable
credential. A wrong code counts against every open code (five strikes and they are gone), on top
of the per-client back-off the HTTP handler applies. Revoking deletes the token's row: the
extension's next request is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import ConfigError
from ..store import Store

TOKEN_PREFIX = "agx_"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read off a screen, typed by hand
CODE_LENGTH = 8  # 40 bits, with five guesses allowed per code
CODE_TTL = 600  # seconds a pairing code can be used
MAX_ATTEMPTS = 5  # wrong codes tried before every open code is dropped
TOUCH_EVERY = 60  # seconds between writes of a token's last use
NAME_MAX = 60


@dataclass(frozen=True)
class PairingCode:
    code: str  # as shown: "K7QX-M2PD"
    expires_at: datetime

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "expires_at": iso(self.expires_at)}


@dataclass(frozen=True)
class Paired:
    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None

    def to_json(self) -> dict[str, str | None]:
        return {
            "id": self.id,
            "name": self.name,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at) if self.last_used_at else None,
        }


def iso(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _at(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(int(seconds), tz=UTC)


def normalize_code(typed: str) -> str:
    """What the user typed, as stored: upper case, separators and spaces dropped."""
    return "".join(c for c in typed.upper() if c in CODE_ALPHABET)


def clean_name(name: str) -> str:
    """An extension's name as shown in lists: printable, one line, at most ``NAME_MAX`` characters."""
    text = " ".join("".join(c for c in name if c in string.printable).split())[:NAME_MAX]
    return text or "browser extension"


def new_code(store: Store, now: datetime) -> PairingCode:
    """A fresh one-time pairing code (expired ones are dropped on the way)."""
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    stamp = int(now.timestamp())
    with store.transaction() as tx:
        tx.execute("DELETE FROM extension_pairing WHERE expires_at <= ?", (stamp,))
        tx.execute(
            "INSERT INTO extension_pairing (code_sha256, expires_at, attempts) VALUES (?, ?, 0)",
            (_sha256(code), stamp + CODE_TTL),
        )
    return PairingCode(f"{code[:4]}-{code[4:]}", _at(stamp + CODE_TTL) or now)


def redeem(store: Store, typed_code: str, name: str, now: datetime) -> tuple[str, Paired] | None:
    """Trade a pairing code for a new token (shown once, never stored); None for a wrong, used or
    expired code, which also counts as a strike against every open code."""
    code = normalize_code(typed_code)
    stamp = int(now.timestamp())
    with store.transaction() as tx:
        tx.execute("DELETE FROM extension_pairing WHERE expires_at <= ? OR attempts >= ?", (stamp, MAX_ATTEMPTS))
        found = len(code) == CODE_LENGTH and bool(
            tx.execute("DELETE FROM extension_pairing WHERE code_sha256 = ?", (_sha256(code),)).rowcount
        )
        if not found:
            tx.execute("UPDATE extension_pairing SET attempts = attempts + 1")
            return None
        token_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        paired = Paired(token_id, clean_name(name), _at(stamp) or now, None)
        tx.execute(
            "INSERT INTO extension_tokens (id, name, secret_sha256, created_at) VALUES (?, ?, ?, ?)",
            (token_id, paired.name, _sha256(secret), stamp),
        )
    return f"{TOKEN_PREFIX}{token_id}_{secret}", paired


def verify(store: Store, token: str, now: datetime) -> Paired | None:
    """The extension a token belongs to, or None (malformed, unknown or revoked). The secret is
    compared as a digest in constant time; the last use is written at most once a minute."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    token_id, _, secret = token[len(TOKEN_PREFIX) :].partition("_")
    if not token_id or not secret or len(token_id) > 16:
        return None
    rows = store.query(
        "SELECT name, secret_sha256, created_at, last_used_at FROM extension_tokens WHERE id = ?", (token_id,)
    )
    if not rows or not hmac.compare_digest(str(rows[0][1]), _sha256(secret)):
        return None
    name, _digest, created, last_used = rows[0]
    stamp = int(now.timestamp())
    if last_used is None or stamp - int(last_used) >= TOUCH_EVERY:
        with store.transaction() as tx:
            tx.execute("UPDATE extension_tokens SET last_used_at = ? WHERE id = ?", (stamp, token_id))
        last_used = stamp
    return Paired(token_id, str(name), _at(int(created)) or now, _at(last_used))


def paired(store: Store) -> list[Paired]:
    rows = store.query("SELECT id, name, created_at, last_used_at FROM extension_tokens ORDER BY created_at, id")
    return [Paired(str(r[0]), str(r[1]), _at(int(r[2])) or datetime.now(UTC), _at(r[3])) for r in rows]


def revoke(store: Store, token_id: str) -> Paired:
    """Remove a paired extension; ConfigError when no extension has that id."""
    found = [p for p in paired(store) if p.id == token_id.strip()]
    if not found:
        raise ConfigError(
            f"no paired extension has the id '{token_id}'",
            hint="`agentgauge extension list` shows the ids of paired extensions.",
        )
    with store.transaction() as tx:
        tx.execute("DELETE FROM extension_tokens WHERE id = ?", (found[0].id,))
    return found[0]

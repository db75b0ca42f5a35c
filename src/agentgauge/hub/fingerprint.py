"""Account fingerprints: how a hub recognises one account pushed from several machines, without
being told who the account is.

The machine computes ``HMAC-SHA256(salt, provider, kind, identity)`` with the hub's own salt (random,
made once per hub, handed to machines with a valid token) and sends only that. The identity, in
order of preference:

1. ``id``: what names the person at the provider, as the credential or the account's settings carry
   it (a user id or the login's e-mail, with the organization, workspace or project when named): the
   same account logged in separately on two machines gets the same fingerprint. An organization
   alone is not enough (a team's members share it but not their limits).
2. ``key``: the API key itself, for API-key sources (the key is what the provider meters), so the
   same key configured on two machines is one account. The key never leaves the machine; only the
   keyed hash does, and a 256-bit salt makes guessing it from the hash hopeless.
3. Nothing: logins whose tokens rotate (OAuth, cookies) and local programs (a CLI, a file) name no
   stable identity. Such an account is never merged; the hub shows it per machine.

A different hub has a different salt, so fingerprints cannot be matched across hubs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

from ..store import Store

SALT_SETTING = "fingerprint_salt"
VERSION = "fp1"
# What names a person at the provider: one of these is needed for an ``id`` fingerprint.
USER_FIELDS = ("user_id", "user", "email")
# What narrows it to one workspace or organization (a person may have several): added when present.
# Never enough alone: a team's organization is shared by people whose limits are their own.
SCOPE_FIELDS = ("account_id", "org_id", "organization", "organization_id", "team_id", "project")
KEY_SOURCES = frozenset({"api_key"})  # auth sources whose values are a stable credential


def hub_salt(store: Store) -> str:
    """This hub's fingerprint salt (64 hex digits), made on first use; every replica reads the same."""
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO hub_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (SALT_SETTING, secrets.token_hex(32)),
        )
        rows = tx.query("SELECT value FROM hub_settings WHERE name = ?", (SALT_SETTING,))
    return str(rows[0][0])


def identity(source_kind: str, values: Mapping[str, str], details: Mapping[str, str]) -> tuple[str, str] | None:
    """(kind, identity text) for one account's credential: its identity fields (from the credential's
    values and ``details``, where the caller adds the account's plain settings), else the key of an
    API-key source, else None (not mergeable)."""
    named = {k: v.strip().lower() for k, v in {**details, **values}.items() if v and v.strip()}
    if any(name in named for name in USER_FIELDS):
        fields = [f"{name}={named[name]}" for name in (*USER_FIELDS, *SCOPE_FIELDS) if name in named]
        return "id", "\n".join(fields)
    if source_kind in KEY_SOURCES and values:
        return "key", "\n".join(f"{k}={v}" for k, v in sorted(values.items()) if v)
    return None


def fingerprint(salt: str, provider: str, kind: str, text: str) -> str:
    """The keyed hash sent to the hub: ``fp1:`` and 32 hex digits (128 bits)."""
    message = "\0".join(("agentgauge-hub", VERSION, provider, kind, text)).encode()
    return f"{VERSION}:{hmac.new(bytes.fromhex(salt), message, hashlib.sha256).hexdigest()[:32]}"


def well_formed(value: object) -> bool:
    """A fingerprint as ``fingerprint`` makes them (anything else from a machine is refused)."""
    if not isinstance(value, str) or not value.startswith(f"{VERSION}:") or len(value) != len(VERSION) + 33:
        return False
    return all(c in "0123456789abcdef" for c in value[len(VERSION) + 1 :])

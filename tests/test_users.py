"""People, sessions, API keys and the setup code (agentgauge.users) on SQLite and PostgreSQL: argon2id
hashes, digests only in the database, the last admin kept, sessions that end on sign-out, a password
change, a removed user or their expiry (on a fake clock), keys capped by their owner's role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agentgauge.errors import ConfigError
from agentgauge.users import keys, people, sessions, setup
from agentgauge.users.passwords import hash_password, needs_rehash, verify_password

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


def dump(store: Any) -> str:
    """Every row of the access tables, as text: what a database backup would hold."""
    tables = ("users", "user_sessions", "api_keys", "setup_codes")
    return "\n".join(repr(row) for t in tables for row in store.query(f"SELECT * FROM {t}"))


def test_passwords_are_argon2id_salted_and_checked() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second  # salted
    assert verify_password(first, PASSWORD) and not verify_password(first, PASSWORD + "x")
    assert not verify_password(None, PASSWORD)  # an unknown user never matches
    assert not verify_password("not a hash", PASSWORD)
    assert not verify_password(first, "x" * 5000)
    assert not needs_rehash(first) and needs_rehash("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g")


@pytest.mark.parametrize("bad", ["q7x9z", " leading-space", "trailing-space ", "two\nlines-long-enough"])
def test_password_policy(store: Any, bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        people.add(store, "ann", bad, "admin", T0)
    assert bad.strip() not in info.value.message  # never echoed


def test_users_roles_and_the_last_admin(store: Any) -> None:
    ann = people.add(store, "Ann", PASSWORD, "admin", T0)
    assert ann.name == "ann" and ann.admin  # names are not case-sensitive
    with pytest.raises(ConfigError, match="already exists"):
        people.add(store, "ANN", PASSWORD, "viewer", T0)
    with pytest.raises(ConfigError, match="not a valid user name"):
        people.add(store, "bad name!", PASSWORD, "viewer", T0)
    with pytest.raises(ConfigError, match="unknown role"):
        people.add(store, "bob", PASSWORD, "root", T0)
    people.add(store, "bob", PASSWORD, "viewer", T0)
    assert [u.name for u in people.all_users(store)] == ["ann", "bob"]
    with pytest.raises(ConfigError, match="last admin"):
        people.remove(store, "ann")
    with pytest.raises(ConfigError, match="last admin"):
        people.set_role(store, "ann", "viewer")
    people.set_role(store, "bob", "admin")
    people.set_role(store, "ann", "viewer")  # bob is an admin now
    assert {u.name: u.role for u in people.all_users(store)} == {"ann": "viewer", "bob": "admin"}
    assert people.authenticate(store, "ANN", PASSWORD) is not None
    assert people.authenticate(store, "ann", "wrong password") is None
    assert people.authenticate(store, "nobody", PASSWORD) is None
    assert PASSWORD not in dump(store)


def test_sessions_end_on_sign_out_password_change_removal_and_expiry(store: Any) -> None:
    ann = people.add(store, "ann", PASSWORD, "admin", T0)
    bob = people.add(store, "bob", PASSWORD, "viewer", T0)
    cookie, session = sessions.start(store, ann, T0)
    other, _ = sessions.start(store, ann, T0)
    found = sessions.lookup(store, cookie, T0 + timedelta(minutes=5))
    assert found is not None and found.user.name == "ann" and found.csrf == session.csrf
    assert sessions.lookup(store, other, T0) is not None and sessions.csrf_for(other) != session.csrf
    assert cookie.split(".")[1] not in dump(store)  # only the digest is stored
    assert sessions.lookup(store, cookie + "x", T0) is None
    assert sessions.lookup(store, "garbage", T0) is None

    # A password change ends the other sessions, not the one that made it.
    people.set_password(store, "ann", "a new password!", T0, keep_session=session.id_sha256)
    assert sessions.lookup(store, other, T0) is None and sessions.lookup(store, cookie, T0) is not None
    sessions.end(store, session.id_sha256)
    assert sessions.lookup(store, cookie, T0) is None

    # Idle expiry: each use pushes it out, up to the lifetime.
    cookie, _ = sessions.start(store, bob, T0)
    step = timedelta(seconds=sessions.IDLE - 60)
    assert sessions.lookup(store, cookie, T0 + step) is not None
    assert sessions.lookup(store, cookie, T0 + 2 * step) is not None  # used in time: still alive
    assert sessions.lookup(store, cookie, T0 + 2 * step + timedelta(seconds=sessions.IDLE + 1)) is None
    cookie, _ = sessions.start(store, bob, T0)
    when = T0
    while when + timedelta(days=1) < T0 + timedelta(seconds=sessions.LIFETIME):
        when += timedelta(days=1)
        assert sessions.lookup(store, cookie, when) is not None
    assert sessions.lookup(store, cookie, T0 + timedelta(seconds=sessions.LIFETIME + 1)) is None

    # Removing a user ends their sessions.
    cookie, _ = sessions.start(store, bob, T0)
    people.remove(store, "bob")
    assert sessions.lookup(store, cookie, T0) is None


def test_api_keys_digests_scopes_owner_cap_and_revocation(store: Any) -> None:
    ann = people.add(store, "ann", PASSWORD, "admin", T0)
    bob = people.add(store, "bob", PASSWORD, "viewer", T0)
    text, key = keys.create(store, "stream deck", "write", ann, T0)
    assert text.startswith(f"agk_{key.id}_") and text.split("_", 2)[2] not in dump(store)
    found = keys.verify(store, text, T0 + timedelta(minutes=2))
    assert found is not None and found.role() == "admin" and found.owner is not None and found.owner.name == "ann"
    assert keys.verify(store, text[:-1] + ("A" if text[-1] != "A" else "B"), T0) is None
    assert keys.verify(store, "agk_nothing", T0) is None and keys.verify(store, "sk-other", T0) is None
    with pytest.raises(ConfigError, match="only make read keys"):
        keys.create(store, "laptop", "write", bob, T0)
    read_text, read_key = keys.create(store, "laptop", "read", bob, T0)
    assert keys.verify(store, read_text, T0).role() == "viewer"  # type: ignore[union-attr]
    # A demoted owner caps a write key at reading; an ownerless write key acts as an admin.
    people.add(store, "cy", PASSWORD, "admin", T0)
    people.set_role(store, "ann", "viewer")
    assert keys.verify(store, text, T0).role() == "viewer"  # type: ignore[union-attr]
    free_text, _ = keys.create(store, "ci", "write", None, T0)
    assert keys.verify(store, free_text, T0).role() == "admin"  # type: ignore[union-attr]
    assert [k.name for k in keys.listing(store, owner=bob)] == ["laptop"]
    keys.revoke(store, read_key.id, T0)
    assert keys.verify(store, read_text, T0) is None  # at once
    assert [k.name for k in keys.listing(store, revoked=True) if k.revoked_at] == ["laptop"]
    with pytest.raises(ConfigError, match="no live API key"):
        keys.revoke(store, read_key.id, T0)
    with pytest.raises(ConfigError, match="no live API key"):
        keys.revoke(store, key.id, T0, owner=bob)  # not bob's
    people.remove(store, "ann")  # her keys go with her
    assert keys.verify(store, text, T0) is None
    assert keys.verify(store, text, T0) is None and "stream deck" not in [k.name for k in keys.listing(store)]


def test_the_setup_code_makes_one_admin_once(store: Any) -> None:
    first = setup.new_code(store, T0)
    code = setup.new_code(store, T0)  # a later start prints another: only that one works
    assert first and code and first != code and len(code) == 14
    assert setup.redeem(store, first, "ann", PASSWORD, T0) is None
    with pytest.raises(ConfigError, match="too short"):
        setup.redeem(store, code, "ann", "short", T0)
    assert setup.redeem(store, code, "ann", PASSWORD, T0 + timedelta(seconds=setup.TTL + 1)) is None  # expired
    code = setup.new_code(store, T0)
    assert code is not None and code.replace("-", "") not in dump(store)
    user = setup.redeem(store, code.lower().replace("-", " "), "ann", PASSWORD, T0)  # typed loosely
    assert user is not None and user.admin
    assert setup.redeem(store, code, "eve", PASSWORD, T0) is None  # once
    assert setup.new_code(store, T0) is None and not setup.needed(store)
    assert [u.name for u in people.all_users(store)] == ["ann"]

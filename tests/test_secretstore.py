"""The encrypted secret store: round trip, what is on disk, key in keyring or file, failures."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from agentgauge.config import data_dir
from agentgauge.credentials import resolve as auth
from agentgauge.credentials.store import ORIGIN_PREFIX, AccountTokens, SecretStore
from agentgauge.errors import ConfigError
from agentgauge.providers import registry
from tests.harness import load

SENTINEL = "SENTINEL-5b2e8d41"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.data.pop((service, username), None)


class RaisingKeyring(KeyringBackend):
    """A keyring whose backend is locked or broken (D-Bus errors, a denied Keychain prompt)."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("locked")


@pytest.fixture(autouse=True)
def no_keyring() -> Iterator[None]:
    """Like this CI box: keyring's fail backend, unless a test installs another."""
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(before)


def test_round_trip_and_nothing_readable_on_disk(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    expires = datetime(2030, 1, 1, tzinfo=UTC)
    store.put(
        "claude",
        "default",
        {"oauth_token": f"sk-ant-oat01-{SENTINEL}", "refresh_token": f"r-{SENTINEL}"},
        origin="oauth-refresh",
        expires_at=expires,
    )
    store.put("zai", "work", {"api_key": f"key-{SENTINEL}"}, origin="manual")
    again = SecretStore(tmp_path)  # a new process: the key comes from the key file
    by_key = {e.key: e for e in again.entries()}
    assert by_key[("claude", "default", "oauth_token")].value.reveal() == f"sk-ant-oat01-{SENTINEL}"
    assert by_key[("claude", "default", "oauth_token")].expires_at == expires
    assert by_key[("claude", "default", "oauth_token")].origin == "oauth-refresh"
    assert by_key[("zai", "work", "api_key")].value.reveal() == f"key-{SENTINEL}"
    for path in tmp_path.iterdir():
        assert SENTINEL.encode() not in path.read_bytes(), path
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.key_path.stat().st_mode) == 0o600
    assert json.loads(store.path.read_text())["key"] == "file"
    entry = by_key[("zai", "work", "api_key")]
    assert SENTINEL not in repr(entry) and SENTINEL not in str(entry)
    assert [t.name for t in tmp_path.iterdir() if t.name.endswith(".tmp")] == []  # no temp files left


def test_replace_and_forget(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    store.put("zai", "default", {"api_key": "one"}, origin="manual")
    store.put("zai", "default", {"api_key": "two"}, origin="manual")
    store.put("kimi", "default", {"api_key": "three"}, origin="manual")
    assert [e.value.reveal() for e in store.entries() if e.provider == "zai"] == ["two"]
    assert store.forget("zai") == 1
    assert [e.provider for e in store.entries()] == ["kimi"]
    store.key_path.unlink()  # forgetting needs no key
    assert SecretStore(tmp_path).forget() == 1
    assert SecretStore(tmp_path).metadata() == []


def test_ciphertext_is_bound_to_its_entry(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    store.put("zai", "default", {"api_key": "zai-key"}, origin="manual")
    store.put("kimi", "default", {"api_key": "kimi-key"}, origin="manual")
    data = json.loads(store.path.read_text())
    a, b = data["entries"]
    a["ciphertext"], b["ciphertext"] = b["ciphertext"], a["ciphertext"]
    a["nonce"], b["nonce"] = b["nonce"], a["nonce"]
    store.path.write_text(json.dumps(data))
    before = store.path.read_bytes()
    with pytest.raises(ConfigError) as err:
        SecretStore(tmp_path).entries()
    assert "cannot be decrypted" in err.value.message and "auth forget" in err.value.hint
    assert store.path.read_bytes() == before  # nothing moved or lost


def test_key_in_the_os_keyring_when_one_works(tmp_path: Path) -> None:
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    store = SecretStore(tmp_path)
    assert store.key_kind() == "keyring" and "OS keyring" in store.key_location()
    store.put("zai", "default", {"api_key": "k"}, origin="manual")
    assert not store.key_path.exists()
    assert ("agentgauge", "secret-store-key") in memory.data
    assert SecretStore(tmp_path).entries()[0].value.reveal() == "k"


def test_unreadable_keyring_is_one_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    keyring.set_keyring(MemoryKeyring())
    SecretStore(tmp_path).put("zai", "default", {"api_key": "k"}, origin="manual")
    before = (tmp_path / "secrets.json").read_bytes()
    keyring.set_keyring(RaisingKeyring())
    store = SecretStore(tmp_path)
    with pytest.raises(ConfigError) as err:
        store.entries()
    assert err.value.message == "cannot read the secret store key from the OS keyring (KeyringLocked)"
    with pytest.raises(ConfigError):
        store.put("kimi", "default", {"api_key": "x"}, origin="manual")
    assert (tmp_path / "secrets.json").read_bytes() == before
    assert [e.key for e in store.metadata()] == [("zai", "default", "api_key")]  # still listed without the key
    keyring.set_keyring(fail.Keyring())  # the keyring is gone altogether
    with pytest.raises(ConfigError) as err:
        SecretStore(tmp_path).entries()
    assert "no keyring backend" in err.value.message


def test_a_keyring_refusing_a_new_key_falls_back_to_a_key_file(tmp_path: Path) -> None:
    keyring.set_keyring(RaisingKeyring())
    store = SecretStore(tmp_path)
    store.put("zai", "default", {"api_key": "k"}, origin="manual")
    assert store.key_path.exists() and json.loads(store.path.read_text())["key"] == "file"
    assert SecretStore(tmp_path).entries()[0].value.reveal() == "k"


@pytest.mark.parametrize(
    "content",
    [
        '{"version": 1, "key": "file", "entries": [',
        "[]",
        '{"version": 99}',
        '{"version": 1, "key": "file", "entries": [{"provider": 1}]}',
    ],
)
def test_corrupt_store_is_moved_aside_not_deleted(tmp_path: Path, content: str) -> None:
    store = SecretStore(tmp_path)
    store.path.write_text(content)
    with pytest.raises(ConfigError) as err:
        store.entries()
    assert "corrupt" in err.value.message and "moved to" in err.value.message
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("secrets.json.corrupt-")]
    assert len(aside) == 1 and aside[0].read_text() == content
    assert not store.path.exists()
    assert store.entries() == []  # the next run starts empty
    store.put("zai", "default", {"api_key": "k"}, origin="manual")
    assert store.entries()[0].value.reveal() == "k"


def test_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    store.put("zai", "default", {"api_key": "k"}, origin="manual")
    store.key_path.unlink()
    with pytest.raises(ConfigError) as err:
        SecretStore(tmp_path).entries()
    assert "key file" in err.value.message and "missing" in err.value.message


def test_account_tokens_writes_only_its_own_account(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    tokens = AccountTokens(store, "codex", "work")
    tokens.save({"access_token": "a", "refresh_token": "r"}, expires_at=None, origin="oauth-refresh")
    assert {(e.provider, e.account, e.setting) for e in store.entries()} == {
        ("codex", "work", "access_token"),
        ("codex", "work", "refresh_token"),
    }


# -- stored values in credential resolution ---------------------------------------------------------
def test_stored_values_fill_unset_secret_settings(tmp_path: Path) -> None:
    store = SecretStore(data_dir())
    store.put("zai", "default", {"api_key": "stored-key"}, origin="manual")
    store.put("codex", "work", {"access_token": "work-token"}, origin="manual")
    store.put("kimi", "default", {"api_key": "from-store"}, origin="manual")
    config_file = tmp_path / "config.toml"
    config_file.write_text('[providers.kimi]\napi_key = "from-config"\n[providers.codex]\naccount_id = "acct"\n')
    config = load(config_file, env={}, home=tmp_path)
    zai = config.account("zai")
    assert zai.settings["api_key"] == "stored-key"
    assert zai.origins["api_key"] == f"{ORIGIN_PREFIX} (manual)"
    assert config.account("kimi").settings["api_key"] == "from-config"  # the config file wins
    work = config.account("codex", "work")  # created by `auth set --account work`, no config entry
    assert work is not None and work.explicit
    assert work.settings["access_token"] == "work-token" and work.settings["account_id"] == "acct"
    creds = auth.resolve(registry.get("zai"), zai, config)
    assert creds[0].origin == f"{ORIGIN_PREFIX} (manual)" and creds[0].get("api_key") == "stored-key"
    env_config = load(config_file, env={"AGENTGAUGE_ZAI_API_KEY": "from-env"}, home=tmp_path)
    assert env_config.account("zai").settings["api_key"] == "from-env"


def test_a_stored_value_is_never_run_as_a_reference(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    SecretStore(data_dir()).put("zai", "default", {"api_key": f"$cmd:touch {marker}"}, origin="manual")
    config = load(env={}, home=tmp_path)
    creds = auth.resolve(registry.get("zai"), config.account("zai"), config)
    assert creds[0].get("api_key") == f"$cmd:touch {marker}"
    assert not marker.exists()


def test_load_without_secrets_skips_a_broken_store(tmp_path: Path) -> None:
    store = SecretStore(data_dir())
    store.put("zai", "default", {"api_key": "k"}, origin="manual")
    store.key_path.unlink()
    with pytest.raises(ConfigError):
        load(env={}, home=tmp_path)
    assert load(env={}, home=tmp_path, secrets=False).account("zai").settings.get("api_key") is None


def test_entry_expiry(tmp_path: Path) -> None:
    store = SecretStore(tmp_path)
    past = datetime.now(UTC) - timedelta(hours=1)
    store.put("claude", "default", {"session_key": "s"}, origin="browser:Firefox profile x", expires_at=past)
    entry = store.metadata()[0]
    assert entry.value is None and entry.expired(datetime.now(UTC))
    assert entry.origin == "browser:Firefox profile x"

"""OAuth refresh into agentgauge's own copy, against the simulator over real HTTP.

The CLIs' credential files must stay byte-identical; the new pair lands in the secret store.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from agentgauge.config import Config
from agentgauge.credentials.store import ORIGIN_PREFIX, SecretStore
from agentgauge.engine import Engine
from agentgauge.errors import AuthError, ParseError
from agentgauge.models import ErrorKind, ProviderSnapshot, Status
from agentgauge.providers import _oauth, registry
from agentgauge.providers.claude import OAUTH as CLAUDE_OAUTH
from agentgauge.providers.codex import OAUTH as CODEX_OAUTH
from agentgauge.providers.codex import token_expiry
from agentgauge.store import open_store
from tests.harness import fixture_json, load, sim_requests

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def sim_env(sim_url: str, *provider_ids: str) -> dict[str, str]:
    env = {}
    for provider_id in provider_ids:
        for name in registry.get(provider_id).urls:
            env[f"AGENTGAUGE_{provider_id.upper()}_{name.upper()}"] = f"{sim_url}/{provider_id}/{name}"
    return env


async def refresh_once(config: Config, tmp_path: Path, provider_id: str, run: str = "1") -> ProviderSnapshot:
    """One engine run on a fresh database (so no minimum-interval gate hides a fetch)."""
    store = open_store(str(tmp_path / f"run{run}.db"), data_dir=tmp_path)
    try:
        async with Engine(config, store) as engine:
            snapshot = await engine.refresh([provider_id])
    finally:
        store.close()
    return next(p for p in snapshot.providers if p.account == "default")


def token_requests(sim: Any, provider_id: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"].startswith(f"/{provider_id}/token_url/")]


def stored(provider_id: str) -> dict[str, Any]:
    store = SecretStore()
    return {e.setting: e for e in store.entries() if e.provider == provider_id} if store.exists() else {}


# -- Claude ---------------------------------------------------------------------------------------
def claude_file(home: Path, **oauth: Any) -> Path:
    data = fixture_json("claude", "credentials-file.json")
    data["claudeAiOauth"].update(oauth)
    path = home / ".claude" / ".credentials.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def past_ms(hours: float = 1) -> int:
    return int((datetime.now(UTC) - timedelta(hours=hours)).timestamp() * 1000)


def future_ms(hours: float = 5) -> int:
    return int((datetime.now(UTC) + timedelta(hours=hours)).timestamp() * 1000)


async def test_claude_expired_file_token_is_refreshed_into_the_store(sim: Any, tmp_path: Path) -> None:
    path = claude_file(
        tmp_path, accessToken="sk-ant-oat01-expired", refreshToken="sim-claude-refresh-token", expiresAt=past_ms()
    )
    before = path.read_bytes()
    count = len(token_requests(sim, "claude"))
    config = load(env=sim_env(sim.url, "claude"), home=tmp_path)
    snap = await refresh_once(config, tmp_path, "claude")
    assert snap.status == Status.OK, snap.error
    assert path.read_bytes() == before  # the CLI's file is never written
    calls = token_requests(sim, "claude")[count:]
    assert len(calls) == 1
    form = parse_qs(calls[0]["body"])
    assert form == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["sim-claude-refresh-token"],
        "client_id": ["9d1c250a-e61b-44d9-88ed-5944d1962f5e"],
    }
    usage = [r for r in sim_requests(sim) if r["path"] == "/claude/api_url/api/oauth/usage"][-1]
    assert usage["headers"]["authorization"] == "Bearer sim-claude-oauth-token"
    pair = stored("claude")
    assert pair["oauth_token"].value.reveal() == "sim-claude-oauth-token"
    assert pair["refresh_token"].value.reveal() == "sim-claude-refresh-token"
    assert pair["oauth_token"].origin == "oauth-refresh"
    expires = pair["oauth_token"].expires_at
    assert expires is not None and abs((expires - datetime.now(UTC)).total_seconds() - 28800) < 120

    # The next run uses the stored copy (fresher than the CLI's expired file): no second refresh.
    config = load(env=sim_env(sim.url, "claude"), home=tmp_path)
    account = config.account("claude")
    assert account.origins["oauth_token"] == f"{ORIGIN_PREFIX} (oauth-refresh)"
    snap = await refresh_once(config, tmp_path, "claude", run="2")
    assert snap.status == Status.OK and snap.source == "oauth"
    assert len(token_requests(sim, "claude")) == count + 1
    assert path.read_bytes() == before


async def test_claude_401_refreshes_once_and_retries(sim: Any, tmp_path: Path) -> None:
    path = claude_file(
        tmp_path, accessToken="sk-ant-oat01-revoked", refreshToken="sim-claude-refresh-token", expiresAt=future_ms()
    )
    before = path.read_bytes()
    count = len(token_requests(sim, "claude"))
    snap = await refresh_once(load(env=sim_env(sim.url, "claude"), home=tmp_path), tmp_path, "claude")
    assert snap.status == Status.OK
    assert len(token_requests(sim, "claude")) == count + 1
    assert path.read_bytes() == before


async def test_claude_rejected_refresh_is_an_auth_error_and_loses_nothing(sim: Any, tmp_path: Path) -> None:
    path = claude_file(
        tmp_path, accessToken="sk-ant-oat01-expired", refreshToken="sk-ant-ort01-rotated-away", expiresAt=past_ms()
    )
    before = path.read_bytes()
    snap = await refresh_once(load(env=sim_env(sim.url, "claude"), home=tmp_path), tmp_path, "claude")
    assert snap.status == Status.ERROR
    assert snap.error is not None and snap.error.kind == ErrorKind.AUTH
    assert "invalid_grant" in snap.error.message
    assert "run `claude` and log in again" in snap.error.hint
    assert "rotated-away" not in snap.error.message + snap.error.hint
    assert path.read_bytes() == before
    assert stored("claude") == {}


async def test_claude_cli_file_fresher_than_the_stored_copy_wins(sim: Any, tmp_path: Path) -> None:
    SecretStore().put(
        "claude",
        "default",
        {"oauth_token": "sk-ant-oat01-old", "refresh_token": "old-refresh"},
        origin="oauth-refresh",
        expires_at=datetime.now(UTC) - timedelta(hours=2),
    )
    path = claude_file(
        tmp_path, accessToken="sim-claude-oauth-token", refreshToken="cli-refresh", expiresAt=future_ms()
    )
    count = len(token_requests(sim, "claude"))
    snap = await refresh_once(load(env=sim_env(sim.url, "claude"), home=tmp_path), tmp_path, "claude")
    assert snap.status == Status.OK and snap.source == "cli"  # the CLI refreshed its own file: use it
    assert len(token_requests(sim, "claude")) == count
    assert stored("claude")["oauth_token"].value.reveal() == "sk-ant-oat01-old"
    assert json.loads(path.read_text())["claudeAiOauth"]["refreshToken"] == "cli-refresh"


async def test_stored_copy_still_works_when_the_cli_logged_out(sim: Any, tmp_path: Path) -> None:
    """The file now holds only MCP logins (a config error on its own); the stored pair is used."""
    SecretStore().put(
        "claude",
        "default",
        {"oauth_token": "sim-claude-oauth-token", "refresh_token": "sim-claude-refresh-token"},
        origin="oauth-refresh",
        expires_at=datetime.now(UTC) + timedelta(hours=3),
    )
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / ".credentials.json").write_text(json.dumps({"mcpOAuth": {}}))
    snap = await refresh_once(load(env=sim_env(sim.url, "claude"), home=tmp_path), tmp_path, "claude")
    assert snap.status == Status.OK and snap.source == "oauth"


# -- Codex ----------------------------------------------------------------------------------------
def codex_file(home: Path, tokens: dict[str, Any], **root: Any) -> Path:
    data = fixture_json("codex", "auth-json.json")
    data["tokens"] = tokens
    data.update(root)
    path = home / ".codex" / "auth.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


async def test_codex_stale_login_is_refreshed_into_the_store(sim: Any, tmp_path: Path) -> None:
    stale = (datetime.now(UTC) - timedelta(days=9)).isoformat().replace("+00:00", "Z")
    path = codex_file(
        tmp_path,
        {
            "access_token": "stale-access",
            "refresh_token": "sim-codex-refresh-token",
            "id_token": "id",
            "account_id": "sim-account",
        },
        last_refresh=stale,
    )
    before = path.read_bytes()
    count = len(token_requests(sim, "codex"))
    snap = await refresh_once(load(env=sim_env(sim.url, "codex"), home=tmp_path), tmp_path, "codex")
    assert snap.status == Status.OK, snap.error
    calls = token_requests(sim, "codex")[count:]
    assert len(calls) == 1
    assert json.loads(calls[0]["body"]) == {
        "client_id": "app_EMoamEEZ73f0CkXaXp7hrann",
        "grant_type": "refresh_token",
        "refresh_token": "sim-codex-refresh-token",
        "scope": "openid profile email",
    }
    assert calls[0]["headers"]["content-type"] == "application/json"
    pair = stored("codex")
    assert pair["access_token"].value.reveal() == "sim-codex-access-token"
    assert pair["refresh_token"].origin == "oauth-refresh"
    assert path.read_bytes() == before
    # Next run: the stored pair (the workspace id borrowed from auth.json), no second refresh.
    snap = await refresh_once(load(env=sim_env(sim.url, "codex"), home=tmp_path), tmp_path, "codex", run="2")
    assert snap.status == Status.OK and snap.source == "oauth"
    assert len(token_requests(sim, "codex")) == count + 1


async def test_codex_rejected_refresh_says_codex_login(sim: Any, tmp_path: Path) -> None:
    path = codex_file(
        tmp_path,
        {"access_token": "revoked", "refresh_token": "used-once", "account_id": "sim-account"},
        last_refresh=datetime.now(UTC).isoformat(),
    )
    before = path.read_bytes()
    snap = await refresh_once(load(env=sim_env(sim.url, "codex"), home=tmp_path), tmp_path, "codex")
    assert snap.status == Status.ERROR and snap.error.kind == ErrorKind.AUTH
    assert "`codex login`" in snap.error.hint
    assert path.read_bytes() == before and stored("codex") == {}


# -- pure parts -----------------------------------------------------------------------------------
def test_expiry_and_leeway() -> None:
    assert not _oauth.is_expired({}, NOW)  # unknown expiry: use the token, refresh on a 401
    soon = _oauth.expiry_detail(NOW + timedelta(seconds=30))
    later = _oauth.expiry_detail(NOW + timedelta(hours=1))
    assert _oauth.is_expired(soon, NOW) and not _oauth.is_expired(later, NOW)
    assert _oauth.expires_at({"expires_at": "garbage"}) is None


def test_parse_refresh_answers() -> None:
    pair = _oauth.parse_refresh({"access_token": "a", "refresh_token": "r", "expires_in": 3600}, NOW, CLAUDE_OAUTH)
    assert pair == _oauth.TokenPair("a", "r", NOW + timedelta(hours=1))
    token = jwt({"exp": int((NOW + timedelta(days=10)).timestamp())})
    pair = _oauth.parse_refresh({"access_token": token, "id_token": "i"}, NOW, CODEX_OAUTH)
    assert pair.refresh_token is None and pair.expires_at == NOW + timedelta(days=10)
    with pytest.raises(ParseError):
        _oauth.parse_refresh({"error": "x"}, NOW, CLAUDE_OAUTH)


def test_rejection_quotes_only_the_error_code() -> None:
    body = json.dumps({"error": "invalid_grant", "error_description": "token sk-ant-ort01-SENTINEL is gone"})
    error = _oauth.rejection(CLAUDE_OAUTH, 400, body.encode())
    assert isinstance(error, AuthError) and "invalid_grant" in error.message and "SENTINEL" not in error.message
    assert error.hint == CLAUDE_OAUTH.relogin_hint
    odd = _oauth.rejection(CLAUDE_OAUTH, 400, b'{"error": "Bearer sk-SENTINEL"}')
    assert "SENTINEL" not in odd.message


def test_token_url_accepts_a_base_or_the_endpoint() -> None:
    assert (
        _oauth.token_url("https://platform.claude.com/", CLAUDE_OAUTH) == "https://platform.claude.com/v1/oauth/token"
    )
    assert (
        _oauth.token_url("https://console.anthropic.com/v1/oauth/token", CLAUDE_OAUTH)
        == "https://console.anthropic.com/v1/oauth/token"
    )


def test_codex_token_expiry() -> None:
    exp = int((NOW + timedelta(hours=3)).timestamp())
    assert token_expiry(jwt({"exp": exp}), "2020-01-01T00:00:00Z") == datetime.fromtimestamp(exp, UTC)
    assert token_expiry("opaque", "2025-12-20T12:34:56Z") == datetime(2025, 12, 28, 12, 34, 56, tzinfo=UTC)
    assert token_expiry("opaque", None) is None and token_expiry("opaque", "not a date") is None


def test_claude_discovery_reads_expiry_and_refresh_token(tmp_path: Path) -> None:
    from agentgauge.providers._base import DiscoverContext
    from agentgauge.providers.claude import _discover_oauth

    claude_file(tmp_path)  # the shared sample: expiresAt 4102444800000 (2100-01-01)
    found = _discover_oauth(DiscoverContext(env={}, home=tmp_path, settings={}))
    assert found is not None and found.details["expires_at"] == "4102444800"
    assert found.values["refresh_token"].reveal() == "test-refresh"
    assert "test-refresh" not in repr(found)


async def test_a_long_running_engine_uses_the_refreshed_pair_at_once(sim: Any, tmp_path: Path) -> None:
    """`serve` loads the config once: after a refresh it must not redeem the spent CLI token again."""
    claude_file(
        tmp_path, accessToken="sk-ant-oat01-expired", refreshToken="sim-claude-refresh-token", expiresAt=past_ms()
    )
    config = load(env=sim_env(sim.url, "claude"), home=tmp_path)
    now = [datetime.now(UTC)]
    count = len(token_requests(sim, "claude"))
    store = open_store(str(tmp_path / "serve.db"), data_dir=tmp_path)
    try:
        async with Engine(config, store, clock=lambda: now[0]) as engine:
            first = await engine.refresh(["claude"])
            now[0] += timedelta(seconds=registry.get("claude").min_interval + 1)
            second = await engine.refresh(["claude"])
    finally:
        store.close()
    assert first.providers[0].status == Status.OK and second.providers[0].status == Status.OK
    assert second.providers[0].fetched_at == now[0].replace(microsecond=0)  # really fetched again
    assert len(token_requests(sim, "claude")) == count + 1

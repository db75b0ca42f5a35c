"""Other local logins (macOS Keychain, Kimi Code CLI) and the hint an auth failure carries per origin."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import AccountConfig, Config
from agentgauge.credentials.store import SecretStore
from agentgauge.engine import Engine
from agentgauge.errors import AuthError
from agentgauge.models import ErrorKind, Status
from agentgauge.providers import claude as claude_module
from agentgauge.providers import registry
from agentgauge.providers._base import Credentials, DiscoverContext
from agentgauge.providers.kimi import HINT_CLI, _discover_api_key
from agentgauge.secret import Secret
from agentgauge.store import open_store
from tests.harness import add_fault, fetch_usage, fixture_text, load, sim_requests, sim_settings
from tests.test_auth_refresh import sim_env


async def engine_run(config: Config, tmp_path: Path, provider_id: str) -> Any:
    store = open_store(str(tmp_path / "e.db"), data_dir=tmp_path)
    try:
        async with Engine(config, store) as engine:
            snapshot = await engine.refresh([provider_id])
    finally:
        store.close()
    return snapshot.providers[0]


# -- macOS Keychain (Claude Code) -------------------------------------------------------------------
def fake_security(tmp_path: Path, output: str, code: int = 0) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "security"
    (tmp_path / "keychain.json").write_text(output)
    script.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/args"\ncat "{tmp_path}/keychain.json"\nexit {code}\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return {"PATH": str(bin_dir)}


def test_keychain_is_read_on_macos_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = fake_security(tmp_path, fixture_text("claude", "credentials-file.json"))
    ctx = DiscoverContext(env=env, home=tmp_path / "home", settings={})
    monkeypatch.setattr(claude_module, "PLATFORM", "linux")
    assert claude_module._discover_oauth(ctx) is None and not (tmp_path / "args").exists()
    monkeypatch.setattr(claude_module, "PLATFORM", "darwin")
    found = claude_module._discover_oauth(ctx)
    assert found is not None and found.origin == "macOS Keychain item 'Claude Code-credentials'"
    assert found.values["oauth_token"].reveal() == "test-token"
    assert found.details["rateLimitTier"] == "default_claude_max_20x"
    assert (tmp_path / "args").read_text().split() == [
        "find-generic-password",
        "-s",
        "Claude",
        "Code-credentials",
        "-w",
    ]


def test_keychain_mcp_only_or_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claude_module, "PLATFORM", "darwin")
    env = fake_security(tmp_path, fixture_text("claude", "credentials-mcp-only.json"))
    with pytest.raises(Exception, match="not logged in"):
        claude_module._discover_oauth(DiscoverContext(env=env, home=tmp_path, settings={}))
    (tmp_path / "keychain.json").write_text("")
    script = tmp_path / "bin" / "security"
    script.write_text(script.read_text().replace("exit 0", "exit 44"))  # "item could not be found"
    assert claude_module._discover_oauth(DiscoverContext(env=env, home=tmp_path, settings={})) is None


# -- Kimi Code CLI login ------------------------------------------------------------------------------
def kimi_login(home: Path, body: dict[str, Any], device_id: str = "dev-1234") -> Path:
    folder = home / "credentials"
    folder.mkdir(parents=True)
    (folder / "kimi-code.json").write_text(json.dumps(body))
    (home / "device_id").write_text(device_id + "\n")
    return folder / "kimi-code.json"


@pytest.mark.parametrize("field", ["access_token", "accessToken", "token"])
async def test_kimi_cli_login_with_device_headers(sim: Any, tmp_path: Path, field: str) -> None:
    path = kimi_login(tmp_path / ".kimi-code", {field: "sim-kimi-api-key", "refresh_token": "never-used"})
    before = path.read_bytes()
    usage = await fetch_usage("kimi", sim_settings("kimi", sim.url, api_key="", auth_token=""), home=tmp_path)
    assert usage.windows
    headers = [r for r in sim_requests(sim) if r["path"].startswith("/kimi/api_url/")][-1]["headers"]
    assert headers["authorization"] == "Bearer sim-kimi-api-key"
    assert headers["x-msh-platform"] == "kimi_cli" and headers["x-msh-device-id"] == "dev-1234"
    for name in ("x-msh-version", "x-msh-device-model", "x-msh-os-version"):
        assert headers[name]
    assert path.read_bytes() == before
    assert not any("never-used" in r["body"] + json.dumps(r["headers"]) for r in sim_requests(sim))


async def test_kimi_home_env_and_api_key_env_first(tmp_path: Path) -> None:
    kimi_login(tmp_path / "elsewhere", {"access_token": "from-file"})
    ctx = DiscoverContext(env={"KIMI_CODE_HOME": str(tmp_path / "elsewhere")}, home=tmp_path, settings={})
    found = _discover_api_key(ctx)
    assert found is not None and found.values["api_key"].reveal() == "from-file"
    assert found.origin.endswith("elsewhere/credentials/kimi-code.json")
    ctx = DiscoverContext(
        env={"KIMI_CODE_HOME": str(tmp_path / "elsewhere"), "KIMI_CODE_API_KEY": "k"}, home=tmp_path, settings={}
    )
    assert _discover_api_key(ctx).origin == "environment variable KIMI_CODE_API_KEY"
    (tmp_path / "elsewhere" / "credentials" / "kimi-code.json").write_text('{"access_token": "leak')
    with pytest.raises(Exception, match="not valid JSON") as err:
        _discover_api_key(
            DiscoverContext(env={"KIMI_CODE_HOME": str(tmp_path / "elsewhere")}, home=tmp_path, settings={})
        )
    assert "leak" not in str(err.value)
    assert _discover_api_key(DiscoverContext(env={}, home=tmp_path / "none", settings={})) is None


async def test_kimi_expired_cli_token_says_log_in_with_kimi(sim: Any, tmp_path: Path) -> None:
    kimi_login(tmp_path / ".kimi-code", {"access_token": "expired-kimi-token"})
    with pytest.raises(AuthError) as err:
        await fetch_usage("kimi", sim_settings("kimi", sim.url, api_key="", auth_token=""), home=tmp_path)
    assert err.value.hint == HINT_CLI and "expired-kimi-token" not in err.value.message


# -- hints per origin, through the engine -------------------------------------------------------------
async def test_rejected_manual_value_names_auth_set(sim: Any, tmp_path: Path) -> None:
    SecretStore().put("zai", "default", {"api_key": "wrong-key"}, origin="manual")
    config = load(env={**sim_env(sim.url, "zai"), "AGENTGAUGE_BROWSER": "off"}, home=tmp_path)
    snap = await engine_run(config, tmp_path, "zai")
    assert snap.status == Status.ERROR and snap.error.kind == ErrorKind.AUTH
    assert "`agentgauge auth set zai`" in snap.error.hint


async def test_rejected_browser_import_names_the_browser_and_site(sim: Any, tmp_path: Path) -> None:
    SecretStore().put(
        "claude",
        "work",
        {"session_key": "sk-ant-sid01-stale"},
        origin="browser:Firefox profile default-release",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )
    # Environment overrides reach only the default account; a named one shares the file's URLs.
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'[providers.claude]\nweb_url = "{sim.url}/claude/web_url"\n')
    config = load(config_file, env={"AGENTGAUGE_BROWSER": "off"}, home=tmp_path)
    account = config.account("claude", "work")
    assert account is not None
    store = open_store(str(tmp_path / "b.db"), data_dir=tmp_path)
    try:
        async with Engine(config, store) as engine:
            from agentgauge.accounts import Target

            snap = await engine.refresh_account(Target(registry.get("claude"), account))
    finally:
        store.close()
    assert snap.error.kind == ErrorKind.AUTH
    assert snap.error.hint.startswith("Log in to claude.ai in Firefox")
    assert "agentgauge auth import --browser firefox" in snap.error.hint


async def test_cli_file_keeps_the_login_hint(sim: Any, tmp_path: Path) -> None:
    creds = tmp_path / ".claude" / ".credentials.json"
    creds.parent.mkdir()
    creds.write_text(json.dumps({"claudeAiOauth": {"accessToken": "sk-ant-oat01-bad", "expiresAt": 4102444800000}}))
    config = load(env={**sim_env(sim.url, "claude"), "AGENTGAUGE_BROWSER": "off"}, home=tmp_path)
    snap = await engine_run(config, tmp_path, "claude")
    assert snap.error.kind == ErrorKind.AUTH and "`claude`" in snap.error.hint and "log in" in snap.error.hint


async def test_cloudflare_challenge_is_not_a_logout(sim: Any, tmp_path: Path) -> None:
    settings = sim_settings("claude", sim.url, oauth_token="")
    account = AccountConfig("claude", "default", True, settings, dict.fromkeys(settings, "test"), True)
    config = Config(path=None, accounts=(account,), env={"AGENTGAUGE_BROWSER": "off"}, home=tmp_path)
    add_fault(
        sim,
        "/claude/web_url/",
        "status",
        status=403,
        body="<html>Just a moment...</html>",
        headers={"content-type": "text/html", "cf-mitigated": "challenge"},
    )
    snap = await engine_run(config, tmp_path, "claude")
    assert snap.status == Status.ERROR
    assert snap.error.kind == ErrorKind.UPSTREAM and "Cloudflare challenge" in snap.error.message
    assert "not a logout" in snap.error.hint


def test_stored_hint_ignores_other_origins() -> None:
    from agentgauge.credentials import stored_hint
    from agentgauge.providers import registry

    zai = registry.get("zai")

    source = registry.get("zai").auth[0]
    creds = Credentials(source, {"api_key": Secret("k")}, "environment variable Z_AI_API_KEY")
    assert stored_hint(creds, zai, "default", AuthError("x", status_code=401)) is None
    stored = Credentials(source, {"api_key": Secret("k")}, "agentgauge secret store (manual)")
    assert stored_hint(stored, zai, "work", AuthError("x", status_code=401)).endswith(
        "`agentgauge auth set zai --account work`."
    )
    assert stored_hint(stored, zai, "work", AuthError("x", status_code=403)) is None

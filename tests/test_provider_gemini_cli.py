"""Gemini CLI: the Code Assist samples parsed exactly (per-model windows, the lower of a model's buckets,
the tier), the CLI's login file read for real (settings.json's auth choice, GEMINI_CLI_HOME, expiry),
the OAuth client read from a fake installed CLI, the renewal at the token endpoint (expired, or after a
401), Google's end of individual sign-in, project look-up, and failures through the simulator."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import load
from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, ProviderConfigError, UpstreamError
from agentgauge.models import Usage, Window
from agentgauge.providers.gemini_cli import PROVIDER
from agentgauge.providers.gemini_cli.client import from_install, package_root
from tests.harness import add_fault, fetch_usage, fixture_json, fixture_text, sim_requests, sim_settings
from tests.simlog import Mark

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ACCESS = "sim-gemini-access-token"
REFRESH = "sim-gemini-refresh-token"
CLIENT_ID = "sim-gemini-cli.apps.googleusercontent.com"
CLIENT_SECRET = "sim-gemini-cli-secret"
PREFIX = "/gemini_cli/url/"
RESET = datetime(2025, 1, 1, tzinfo=UTC)


def parse(quota: Any, load_answer: Any = None) -> Usage:
    return PROVIDER.parse({"quota": quota, "load": load_answer}, NOW)


def model(name: str, used: float) -> Window:
    return Window(id="model_" + name.replace("-", "_").replace(".", "_"), label=name, used_pct=used, resets_at=RESET)


# -- samples ------------------------------------------------------------------------------------
def test_quota_sample_with_the_tier() -> None:
    usage = parse(
        fixture_json("gemini_cli", "retrieve-user-quota.json"), fixture_json("gemini_cli", "load-code-assist.json")
    )
    assert usage == Usage(
        windows=(model("gemini-2.5-flash", 10.0), model("gemini-2.5-flash-lite", 20.0), model("gemini-2.5-pro", 40.0)),
        plan="Gemini Code Assist in Google One AI Pro",
    )


def test_a_model_with_two_buckets_shows_the_lower() -> None:
    assert parse(fixture_json("gemini_cli", "retrieve-user-quota-duplicate-model.json")).windows == (
        model("gemini-2.5-flash", 60.0),
    )


# -- variations ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answer", "plan"),
    [
        ({"currentTier": {"id": "free-tier", "name": "Gemini Code Assist for individuals"}}, "Free"),
        ({"currentTier": {"id": "standard-tier"}}, "Standard"),
        ({"currentTier": {"id": "some-new-tier", "name": "Enterprise"}}, "Enterprise"),
        (None, None),
    ],
)
def test_tiers(answer: Any, plan: str | None) -> None:
    assert parse({"buckets": [{"modelId": "m", "remainingFraction": 1}]}, answer).plan == plan


def test_strings_nulls_and_odd_fractions() -> None:
    buckets = [
        {"modelId": "a", "remainingFraction": "0.25", "resetTime": "2026-11-21T00:00:00.123456789Z"},
        {"modelId": "b", "remainingFraction": 1.5},  # more than all left: 0 % used, never negative
        {"modelId": None, "remainingFraction": 0.1},  # a bucket without a model is not a limit
        {"modelId": "c", "remainingFraction": None},
    ]
    usage = parse({"buckets": buckets, "extra": 1})
    assert [(w.id, w.used_pct) for w in usage.windows] == [("model_a", 75.0), ("model_b", 0.0)]
    assert usage.windows[0].resets_at == datetime(2026, 11, 21, tzinfo=UTC)
    assert "buckets[3].remainingFraction" in usage.warnings[0].message


def test_no_buckets_is_a_note_and_a_non_object_a_parse_error() -> None:
    assert parse({"buckets": []}).note == "Code Assist reports no model quota for this account"
    with pytest.raises(ParseError):
        parse(["buckets"])


def test_declarations() -> None:
    env = {s.name: s.env for s in PROVIDER.settings}
    assert env["project"] == ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_PROJECT_ID")
    assert env["url"] == ("CODE_ASSIST_ENDPOINT",)
    assert PROVIDER.urls["url"] == "https://cloudcode-pa.googleapis.com"


# -- through the simulator -------------------------------------------------------------------------
def calls(sim: Any, path: str) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == path]


async def test_fetch_loads_the_tier_then_the_quota(sim: Any) -> None:
    usage = await fetch_usage("gemini_cli", sim_settings("gemini_cli", sim.url))
    assert [w.id for w in usage.windows][:2] == ["model_gemini_2_5_flash", "model_gemini_2_5_flash_lite"]
    assert usage.windows[2].used_pct == 95.0  # the TOKENS bucket with 5 % left wins for 2.5 Pro
    assert usage.plan == "Gemini Code Assist in Google One AI Pro"
    loaded = json.loads(calls(sim, "/gemini_cli/url/v1internal:loadCodeAssist")[-1]["body"])
    assert loaded == {
        "metadata": {"ideType": "IDE_UNSPECIFIED", "platform": "PLATFORM_UNSPECIFIED", "pluginType": "GEMINI"}
    }
    quota = calls(sim, "/gemini_cli/url/v1internal:retrieveUserQuota")[-1]
    assert json.loads(quota["body"]) == {"project": "sim-companion-default"}
    assert quota["headers"]["authorization"] == f"Bearer {ACCESS}"


async def test_a_project_setting_goes_with_the_load(sim: Any) -> None:
    with pytest.raises(AuthError):  # the simulator's quota is for the account's own project
        await fetch_usage("gemini_cli", sim_settings("gemini_cli", sim.url, project="my-gcp-project"))
    loaded = json.loads(calls(sim, "/gemini_cli/url/v1internal:loadCodeAssist")[-1]["body"])
    assert (
        loaded["cloudaicompanionProject"] == "my-gcp-project" and loaded["metadata"]["duetProject"] == "my-gcp-project"
    )


async def test_without_a_code_assist_project_the_project_list_is_asked(sim: Any) -> None:
    settings = sim_settings("gemini_cli", sim.url, api_key=f"{ACCESS}#noproject")
    usage = await fetch_usage("gemini_cli", settings)
    assert usage.plan == "Standard" and len(usage.windows) == 4
    assert json.loads(calls(sim, "/gemini_cli/url/v1internal:retrieveUserQuota")[-1]["body"]) == {
        "project": "gen-lang-client-0123456789"
    }


async def test_a_401_renews_the_token_once(sim: Any) -> None:
    usage = await fetch_usage("gemini_cli", sim_settings("gemini_cli", sim.url, api_key="ya29.stale"))
    assert len(usage.windows) == 4
    renewal = calls(sim, "/gemini_cli/token_url/token")[-1]
    form = dict(pair.split("=", 1) for pair in renewal["body"].split("&"))
    assert form["grant_type"] == "refresh_token" and form["client_id"] == CLIENT_ID.replace("@", "%40")
    assert form["refresh_token"] == REFRESH
    assert (
        calls(sim, "/gemini_cli/url/v1internal:retrieveUserQuota")[-1]["headers"]["authorization"] == f"Bearer {ACCESS}"
    )


async def test_a_rejected_refresh_token_is_an_auth_error(sim: Any) -> None:
    settings = sim_settings("gemini_cli", sim.url, api_key="ya29.stale", refresh_token="1//revoked")
    with pytest.raises(AuthError, match="invalid_grant") as info:
        await fetch_usage("gemini_cli", settings)
    assert "1//revoked" not in str(info.value)


async def test_without_a_refresh_token_a_401_is_final(sim: Any) -> None:
    settings = sim_settings("gemini_cli", sim.url, api_key="ya29.stale")
    settings.pop("refresh_token")
    since = Mark(sim)
    with pytest.raises(AuthError):
        await fetch_usage("gemini_cli", settings)
    assert since.paths("/gemini_cli/token_url/") == []


async def test_google_ended_individual_sign_in(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("gemini_cli", sim_settings("gemini_cli", sim.url, api_key=f"{ACCESS}#consumer"))
    assert "antigravity" in info.value.hint


async def test_googles_401_body(sim: Any) -> None:
    settings = sim_settings("gemini_cli", sim.url)
    settings.pop("refresh_token")
    add_fault(sim, PREFIX, "status", status=401, body=fixture_text("gemini_cli", "error-401.json"))
    with pytest.raises(AuthError):
        await fetch_usage("gemini_cli", settings)


async def test_load_failing_loses_only_the_tier(sim: Any) -> None:
    add_fault(sim, PREFIX + "v1internal:loadCodeAssist", "status", status=500, body="{}")
    with pytest.raises(UpstreamError):  # without the tier there is no project either: the quota call refuses
        await fetch_usage("gemini_cli", sim_settings("gemini_cli", sim.url))
    add_fault(sim, PREFIX + "v1internal:loadCodeAssist", "status", status=404, body='{"error":{"message":"nf"}}')
    usage = await fetch_usage("gemini_cli", sim_settings("gemini_cli", sim.url, project="sim-companion-default"))
    assert usage.plan is None and len(usage.windows) == 4


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("gemini_cli", sim_settings("gemini_cli", sim.url))
    assert len(usage.windows) == 4 and usage.warnings == ()


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("gemini_cli", sim_settings("gemini_cli", sim.url), timeout=0.5)


# -- the CLI's login file and installed package, for real ---------------------------------------------------
def write_login(home: Path, creds: dict[str, Any], selected: str | None = "oauth-personal") -> Path:
    folder = home / ".gemini"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "oauth_creds.json").write_text(json.dumps(creds), encoding="utf-8")
    if selected is not None:
        (folder / "settings.json").write_text(
            json.dumps({"security": {"auth": {"selectedType": selected}}}), encoding="utf-8"
        )
    return folder


def fake_install(root: Path) -> Path:
    """A Gemini CLI install as npm lays it out: the package with its bundle, and bin/gemini linking into it."""
    package = root / "lib" / "node_modules" / "@google" / "gemini-cli"
    (package / "bundle").mkdir(parents=True)
    (package / "package.json").write_text(
        json.dumps({"name": "@google/gemini-cli", "bin": {"gemini": "bundle/gemini.js"}})
    )
    (package / "bundle" / "gemini.js").write_text(
        "#!/usr/bin/env node\n// ...\n"
        f'var OAUTH_CLIENT_ID = "{CLIENT_ID}";\nvar OAUTH_CLIENT_SECRET = "{CLIENT_SECRET}";\n',
        encoding="utf-8",
    )
    (package / "bundle" / "gemini.js").chmod(0o755)
    (root / "bin").mkdir()
    cli = root / "bin" / "gemini"
    os.symlink(package / "bundle" / "gemini.js", cli)
    return cli


def resolve(home: Path, env: dict[str, str]) -> list[Any]:
    config_file = home / "config.toml"
    config_file.write_text("", encoding="utf-8")
    config = load(config_file, env=env, home=home)
    account = next(a for a in config.accounts if a.provider == "gemini_cli")
    return auth.resolve(PROVIDER, account, config)


def test_login_file_is_found_with_its_expiry_and_the_cli(tmp_path: Path) -> None:
    write_login(tmp_path, fixture_json("gemini_cli", "oauth-creds.json"))
    cli = fake_install(tmp_path / "npm")
    (creds,) = resolve(tmp_path, {"PATH": str(cli.parent)})
    assert (creds.get("api_key"), creds.get("refresh_token"), creds.source) == (
        "ya29.fixture-access-token",
        "1//fixture-refresh-token",
        "oauth",
    )
    assert creds.details["expires_at"] == "1767225600" and creds.details["email"] == "user@example.com"
    assert creds.get("cli") == str(cli)


def test_gemini_cli_home_moves_the_login(tmp_path: Path) -> None:
    write_login(tmp_path / "elsewhere", {"access_token": "ya29.moved"}, selected=None)
    (creds,) = resolve(tmp_path, {"GEMINI_CLI_HOME": str(tmp_path / "elsewhere"), "PATH": ""})
    assert creds.get("api_key") == "ya29.moved"


@pytest.mark.parametrize("selected", ["gemini-api-key", "vertex-ai"])
def test_a_cli_set_to_other_auth_is_a_config_error(tmp_path: Path, selected: str) -> None:
    write_login(tmp_path, {"access_token": "ya29.x"}, selected=selected)
    with pytest.raises(ProviderConfigError, match="has no Code Assist quota") as info:
        resolve(tmp_path, {"PATH": ""})
    assert "gemini provider" in info.value.hint


def test_a_login_without_a_token_is_no_source(tmp_path: Path) -> None:
    write_login(tmp_path, {"refresh_token": "1//only"})
    assert resolve(tmp_path, {"PATH": ""}) == []


def test_oauth_client_from_the_installed_cli(tmp_path: Path) -> None:
    cli = fake_install(tmp_path / "npm")
    assert package_root(str(cli)) == tmp_path / "npm" / "lib" / "node_modules" / "@google" / "gemini-cli"
    assert from_install(str(cli)) == (CLIENT_ID, CLIENT_SECRET)
    (tmp_path / "other" / "bin").mkdir(parents=True)
    assert from_install(str(tmp_path / "other" / "bin" / "gemini")) is None


def test_npm_prefix_shim_without_a_symlink(tmp_path: Path) -> None:
    cli = fake_install(tmp_path)
    cli.unlink()
    cli.write_text('#!/bin/sh\nexec node ../lib/node_modules/@google/gemini-cli/bundle/gemini.js "$@"\n')
    assert from_install(str(cli)) == (CLIENT_ID, CLIENT_SECRET)


async def test_an_expired_login_is_renewed_with_the_installed_client(sim: Any, tmp_path: Path) -> None:
    write_login(tmp_path, {"access_token": ACCESS, "refresh_token": REFRESH, "expiry_date": 1_700_000_000_000})
    cli = fake_install(tmp_path / "npm")
    settings = {name: f"{sim.url}/gemini_cli/{name}" for name in PROVIDER.urls}
    since = Mark(sim)
    usage = await fetch_usage("gemini_cli", settings, env={"PATH": str(cli.parent)}, home=tmp_path)
    assert len(usage.windows) == 4
    assert since.paths("/gemini_cli/token_url/") == ["/gemini_cli/token_url/token"]  # renewed first, before any call


async def test_an_expired_login_without_the_cli_says_so(sim: Any, tmp_path: Path) -> None:
    write_login(tmp_path, {"access_token": ACCESS, "refresh_token": REFRESH, "expiry_date": 1_700_000_000_000})
    settings = {name: f"{sim.url}/gemini_cli/{name}" for name in PROVIDER.urls}
    with pytest.raises(AuthError, match="OAuth client"):
        await fetch_usage("gemini_cli", settings, env={"PATH": ""}, home=tmp_path)

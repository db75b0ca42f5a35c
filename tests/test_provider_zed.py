"""Zed: the CodexBar-derived samples parsed exactly, hand-made variations of /client/users/me, Zed's
settings (JSON with comments) and the server rules, the macOS keychain read through a fake `security`
on PATH, the Linux Secret Service read on a machine without one, the request sent, and every failure
through the simulator."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.errors import (
    AuthError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Usage, Window
from agentgauge.providers.zed import PROVIDER, keychain
from agentgauge.providers.zed.parsing import OVERDUE_NOTE, plan_name
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)
TOKEN = '{"version":2,"id":"client_token_sim","token":"sim-zed-token"}'
PREFIX = "/zed/url/"
PERIOD_END = datetime(2026, 6, 13, tzinfo=UTC)


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"user": payload}, NOW)


# -- the samples ---------------------------------------------------------------------------------------------
def test_free_plan_edit_predictions_for_the_billing_period() -> None:
    assert parse(fixture_json("zed", "users-me-free.json")) == Usage(
        windows=(
            Window(
                id="edit_predictions",
                label="Edit predictions",
                used_pct=24,
                resets_at=PERIOD_END,
                window_seconds=31 * 86400,
                used=12,
                limit=50,
                unit="predictions",
            ),
        ),
        plan="Zed Free",
    )


def test_pro_plan_is_unlimited_and_overdue_invoices_are_a_note() -> None:
    usage = parse(fixture_json("zed", "users-me-pro.json"))
    (window,) = usage.windows
    assert (window.unlimited, window.used, window.limit, window.resets_at) == (True, 0, None, PERIOD_END)
    assert (usage.plan, usage.note) == ("Zed Pro", None)
    assert parse(fixture_json("zed", "users-me-pro-overdue.json")).note == OVERDUE_NOTE


# -- hand-made variations ---------------------------------------------------------------------------------------
def test_limited_object_strings_and_another_meter() -> None:
    usage = parse(
        {
            "plan": {
                "plan_v3": "zed_pro_trial",
                "usage": {
                    "edit_predictions": {"used": "5", "limit": {"limited": "25"}},
                    "model_requests": {"used": 10, "limit": 500, "x": 1},
                },
                "subscription_period": None,
            },
            "extra": True,
        }
    )
    predictions, requests = usage.windows
    assert (predictions.used_pct, predictions.resets_at, predictions.window_seconds) == (20, None, None)
    assert (requests.id, requests.label, requests.used_pct, requests.unit) == (
        "usage_model_requests",
        "Model requests",
        2,
        None,
    )
    assert usage.plan == "Zed Pro Trial"


def test_a_broken_meter_or_period_is_a_warning() -> None:
    usage = parse(
        {
            "plan": {
                "subscription_period": {"started_at": "x", "ended_at": "2026-06-13T00:00:00Z"},
                "usage": {"edit_predictions": {"used": 1, "limit": 10}, "model_requests": {"limit": 5}},
            }
        }
    )
    assert [(w.id, w.resets_at, w.window_seconds) for w in usage.windows] == [("edit_predictions", PERIOD_END, None)]
    assert len(usage.warnings) == 2


@pytest.mark.parametrize(
    ("payload", "field"), [([], "$"), ({"user": {}}, "plan"), ({"plan": {"plan_v3": "zed_free"}}, "plan.usage")]
)
def test_unknown_shapes_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_plan_names() -> None:
    assert [plan_name(p) for p in ("zed_student", "zed_business", None)] == ["Zed Student", "Zed Business", None]


# -- Zed's settings and servers ----------------------------------------------------------------------------------
def test_settings_json_with_comments_and_trailing_commas(tmp_path: Path) -> None:
    text = (
        "// Zed settings\n{\n  /* server */\n"
        '  "server_url": "https://staging.zed.dev", // staging\n'
        '  "theme": "One // Dark",\n  "credentials_url": "zed-preview-key",\n}\n'
    )
    folder = tmp_path / ".config" / "zed"
    folder.mkdir(parents=True)
    (folder / "settings.json").write_text(text, encoding="utf-8")
    ctx = account_config("zed", {}, home=tmp_path)
    from agentgauge.credentials.discovery import context

    found = keychain.client_settings(context(PROVIDER, ctx.env, tmp_path, {}))
    assert found == ("https://staging.zed.dev", "zed-preview-key")
    assert keychain.lenient_json('{"a": "b // c", "d": [1,],}') == {"a": "b // c", "d": [1]}


def test_which_server_gets_which_credentials() -> None:
    assert keychain.credential_url(None, None) == "https://zed.dev"
    assert keychain.credential_url("https://zed.dev", "zed-preview-key") == "zed-preview-key"
    assert keychain.cloud_url(None, None) == "https://cloud.zed.dev"
    assert keychain.cloud_url("https://staging.zed.dev", "zed-preview-key") == "https://cloud.zed.dev"
    assert keychain.cloud_url("https://zed.example.com", None) == "https://zed.example.com"
    assert keychain.cloud_url("https://zed.example.com", "https://zed.dev") is None  # a token for another URL
    assert keychain.cloud_url("http://localhost:3000", None) is None
    assert keychain.cloud_url("file:///tmp/zed", None) is None


# -- the system credential stores --------------------------------------------------------------------------------
def test_security_output_text_and_hex_passwords() -> None:
    stdout = 'keychain: "/Users/me/login.keychain-db"\n    "acct"<blob>="4242"\n    "srvr"<blob>="zed.dev"\n'
    assert keychain.parse_security_output(stdout, 'password: "tok\\"en"\n') == ("4242", 'tok"en')
    assert keychain.parse_security_output(stdout, 'password: 0x7B7D  "{}"\n') == ("4242", "{}")
    assert keychain.parse_security_output("", 'password: "x"') is None
    assert keychain.parse_security_output(stdout, "") is None


def test_windows_credential_blobs() -> None:
    assert keychain.decode_credential("42", b"tok") == ("42", "tok")
    assert keychain.decode_credential("42", "tok\u00e9".encode("utf-16-le")) == ("42", "tok\u00e9")
    assert keychain.decode_credential(None, b"tok") is None
    assert keychain.read_windows_credential("https://zed.dev", {}, Path("/")) is None  # not Windows


def test_secret_service_without_a_session_bus_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/nonexistent-runtime-dir")
    assert keychain.read_secret_service("https://zed.dev", {}, Path("/")) is None


def fake_security(folder: Path, script: str) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    binary = folder / "security"
    binary.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}


async def test_the_keychain_sign_in_reaches_the_api(sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keychain, "reader_for", lambda _platform: keychain.read_macos_keychain)
    env = fake_security(
        tmp_path / "bin",
        'test "$1 $2 $3 $4" = "find-internet-password -s https://zed.dev -g" || exit 44\n'
        'printf \'    "acct"<blob>="4242"\\n\'\n'
        f"printf '%s\\n' 'password: \"{TOKEN.replace(chr(34), chr(92) + chr(34))}#pro\"' >&2\n",
    )
    config = account_config("zed", {}, env=env, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert (creds.auth.id, creds.get("user_id"), creds.origin) == ("keyring", "4242", "Zed sign-in (https://zed.dev)")
    usage = await fetch_usage("zed", {"url": f"{sim.url}/zed/url"}, env=env, home=tmp_path)
    assert usage.windows[0].unlimited and usage.plan == "Zed Pro"


def test_a_missing_keychain_item_finds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keychain, "reader_for", lambda _platform: keychain.read_macos_keychain)
    env = fake_security(
        tmp_path / "bin", "echo 'security: SecKeychainSearchCopyNext: The item could not be found.' >&2\nexit 44\n"
    )
    config = account_config("zed", {}, env=env, home=tmp_path)
    assert auth.resolve(PROVIDER, config.accounts[0], config) == []


# -- through the simulator ---------------------------------------------------------------------------------------------
async def test_fetch_sends_user_id_and_token(sim: Any) -> None:
    usage = await fetch_usage("zed", sim_settings("zed", sim.url))
    assert [w.id for w in usage.windows] == ["edit_predictions"] and usage.plan == "Zed Free"
    assert usage.windows[0].window_seconds == 30 * 86400
    request = next(r for r in reversed(sim_requests(sim)) if r["path"] == PREFIX + "client/users/me")
    assert request["headers"]["authorization"] == f"4242 {TOKEN}"


async def test_a_custom_server_without_https_is_refused(sim: Any) -> None:
    settings = sim_settings("zed", sim.url, server_url="http://localhost:3000")
    settings.pop("url")
    with pytest.raises(ProviderConfigError, match="not HTTPS"):
        await fetch_usage("zed", settings)


async def test_wrong_user_or_token_is_an_auth_error(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("zed", sim_settings("zed", sim.url, user_id="9999"))
    assert "AGENTGAUGE_ZED_API_KEY" in info.value.hint and "sim-zed-token" not in str(info.value)


async def test_429_500_timeout_and_bad_bodies(sim: Any) -> None:
    settings = sim_settings("zed", sim.url)
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "60"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("zed", settings)
    add_fault(sim, PREFIX, "status", status=500, body="oops", remaining=1)
    with pytest.raises(UpstreamError):
        await fetch_usage("zed", settings)
    add_fault(sim, PREFIX, "html", remaining=1)
    with pytest.raises(ParseError, match="HTML"):
        await fetch_usage("zed", settings)
    add_fault(sim, PREFIX, "truncate", remaining=1)
    with pytest.raises(ParseError, match="truncated"):
        await fetch_usage("zed", settings)
    add_fault(sim, PREFIX, "timeout", seconds=3, remaining=1)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("zed", settings, timeout=0.5)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("zed", sim_settings("zed", sim.url))
    assert [w.id for w in usage.windows] == ["edit_predictions"] and usage.warnings == ()

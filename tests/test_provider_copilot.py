"""GitHub Copilot: the shared samples parsed exactly, hand-made variations of copilot_internal/user, every
place a GitHub token is found on disk or in the environment (per host, in order, gh's keyring through a
fake `gh` on PATH), the request sent, and every failure through the simulator."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Balance, Usage, Window
from agentgauge.providers.copilot import PROVIDER, api_url, logins
from agentgauge.providers.copilot.parsing import TOKEN_BILLING_NOTE
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings

NOW = datetime(2026, 7, 20, 12, tzinfo=UTC)
TOKEN = "gho_simcopilottoken"
PREFIX = "/copilot/url/"


def parse(payload: Any) -> Usage:
    return PROVIDER.parse({"user": payload}, NOW)


def window(wid: str, label: str, pct: float, used: float, limit: float, resets: datetime) -> Window:
    return Window(id=wid, label=label, used_pct=pct, resets_at=resets, used=used, limit=limit, unit="requests")


# -- the shared samples ---------------------------------------------------------------------------------
def test_individual_sample_premium_metered_and_an_unlimited_meter() -> None:
    resets = datetime(2026, 8, 1, tzinfo=UTC)
    assert parse(fixture_json("copilot", "user-individual.json")) == Usage(
        windows=(
            window("premium", "Premium requests", 21.9, 43.8, 200, resets),
            Window(id="quota_chat_messages", label="Chat messages", used_pct=0, unlimited=True, unit="requests"),
        ),
        plan="Individual",
    )


def test_free_sample_premium_and_chat() -> None:
    resets = datetime(2025, 2, 1, tzinfo=UTC)
    assert parse(fixture_json("copilot", "user-free.json")) == Usage(
        windows=(
            window("premium", "Premium requests", 10, 50, 500, resets),
            window("chat", "Chat", 50, 150, 300, resets),
        ),
        plan="Free",
    )


def test_business_sample_placeholders_are_a_note_not_zero_percent() -> None:
    assert parse(fixture_json("copilot", "user-business.json")) == Usage(plan="Business", note=TOKEN_BILLING_NOTE)


def test_limited_quotas_sample_monthly_allowance_and_what_is_left() -> None:
    assert parse(fixture_json("copilot", "user-limited-quotas.json")) == Usage(
        windows=(
            Window(id="chat", label="Chat", used_pct=75, used=375, limit=500, unit="requests"),
            Window(id="completions", label="Code completions", used_pct=75, used=225, limit=300, unit="requests"),
        ),
        plan="Free",
    )


# -- hand-made variations ----------------------------------------------------------------------------------
def test_overage_goes_past_100_percent_and_strings_are_numbers() -> None:
    usage = parse(
        {
            "copilot_plan": "business",
            "quota_reset_date": "2026-08-01T00:00:00.000Z",
            "quota_snapshots": {
                "premium_interactions": {"entitlement": "300", "remaining": "-30", "percent_remaining": "-10"},
                "chat": {"entitlement": 100, "remaining": 40, "x": 1},
            },
            "extra": {"n": 1},
        }
    )
    premium, chat = usage.windows
    assert (premium.used_pct, premium.used, premium.limit) == (110, 330, 300)
    assert (chat.used_pct, chat.used) == (60, 60)  # derived from entitlement and remaining
    assert premium.resets_at == datetime(2026, 8, 1, tzinfo=UTC)


def test_snapshot_snapshots_fill_before_the_older_free_shape() -> None:
    usage = parse(
        {
            "quota_snapshots": {"chat": {"entitlement": 50, "remaining": 10, "percent_remaining": 20}},
            "monthly_quotas": {"chat": 500, "completions": 2000},
            "limited_user_quotas": {"chat": 100, "completions": None},
        }
    )
    assert [(w.id, w.used_pct) for w in usage.windows] == [("chat", 80)]


def test_a_broken_snapshot_is_a_warning_and_a_credits_counter_a_balance() -> None:
    usage = parse(
        {
            "quota_reset_date": "2026-08-01",
            "quota_snapshots": {
                "premium_interactions": {"entitlement": 0, "remaining": 0, "credits_used": "12.5"},
                "chat": "junk",
                "completions": {"entitlement": 10},
            },
        }
    )
    assert usage.windows == ()
    assert usage.balances == (
        Balance(
            id="credits_used",
            label="Credits used",
            unit="credits",
            used=12.5,
            period="monthly",
            resets_at=datetime(2026, 8, 1, tzinfo=UTC),
        ),
    )
    assert len(usage.warnings) == 2
    assert "quota_snapshots.completions.percent_remaining" in usage.warnings[1].message


def test_a_bad_reset_date_is_a_warning_and_the_windows_stay() -> None:
    usage = parse({"quota_reset_date": "soon", "quota_snapshots": {"chat": {"percent_remaining": 40}}})
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [("chat", 60, None)]
    assert len(usage.warnings) == 1


@pytest.mark.parametrize(("payload", "field"), [([], "$"), ({"copilot_plan": "free"}, "quota_snapshots")])
def test_unknown_shapes_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_enterprise_host_gives_its_own_api_url() -> None:
    assert api_url({}) == "https://api.github.com"
    assert api_url({"host": "https://octocorp.ghe.com/login"}) == "https://api.octocorp.ghe.com"
    assert api_url({"host": "octocorp.ghe.com", "url": "https://proxy.example/api/"}) == "https://proxy.example/api"


# -- where tokens are found ----------------------------------------------------------------------------------
def found(home: Path, env: dict[str, str] | None = None, **settings: str) -> list[tuple[str, str, str]]:
    """(source id, token, origin) of every credential resolution finds, in order."""
    config = account_config("copilot", dict(settings), env=env or {}, home=home)
    return [(c.auth.id, c.get("api_key") or "", c.origin) for c in auth.resolve(PROVIDER, config.accounts[0], config)]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def fake_gh(folder: Path, script: str) -> dict[str, str]:
    binary = write(folder / "gh", "#!/bin/sh\n" + script)
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_environment_in_the_copilot_clis_order(tmp_path: Path) -> None:
    env = {"GITHUB_TOKEN": "gho_github", "GH_TOKEN": "gho_gh"}
    assert found(tmp_path, env) == [("api_key", "gho_gh", "environment variable GH_TOKEN")]
    env["COPILOT_GITHUB_TOKEN"] = "'gho_copilot'"
    assert found(tmp_path, env)[0][1] == "gho_copilot"


def test_enterprise_host_reads_only_enterprise_variables(tmp_path: Path) -> None:
    env = {"GH_TOKEN": "gho_dotcom", "GH_ENTERPRISE_TOKEN": "gho_ghe"}
    assert [t for _, t, _ in found(tmp_path, env, host="octocorp.ghe.com")] == ["gho_ghe"]


def test_editor_apps_json_then_hosts_json_per_host(tmp_path: Path) -> None:
    folder = tmp_path / ".config" / "github-copilot"
    write(
        folder / "apps.json",
        json.dumps(
            {
                "octocorp.ghe.com:Iv1.abc": {"user": "corp", "oauth_token": "ghu_corp"},
                "github.com:Iv1.b507a08c87ecfe98": {"user": "octocat", "oauth_token": "ghu_apps"},
            }
        ),
    )
    write(folder / "hosts.json", json.dumps({"github.com": {"user": "octocat", "oauth_token": "ghu_hosts"}}))
    assert found(tmp_path)[0] == ("editor", "ghu_apps", str(folder / "apps.json"))
    assert found(tmp_path, host="octocorp.ghe.com")[0][1] == "ghu_corp"
    (folder / "apps.json").write_text("{broken", encoding="utf-8")
    assert found(tmp_path)[0] == ("editor", "ghu_hosts", str(folder / "hosts.json"))


def test_editor_folder_below_xdg_config_home(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    write(xdg / "github-copilot" / "hosts.json", json.dumps({"github.com": {"oauth_token": "ghu_xdg"}}))
    assert found(tmp_path, {"XDG_CONFIG_HOME": str(xdg)})[0][1] == "ghu_xdg"


def test_copilot_cli_config_with_comments_and_the_last_user(tmp_path: Path) -> None:
    text = "// User settings belong in settings.json.\n// This file is managed automatically.\n" + json.dumps(
        {
            "copilot_tokens": {
                "https://github.com:alice": "gho_alice",
                "https://github.com:bob": "gho_bob",
                "https://octocorp.ghe.com:carol": "gho_carol",
            },
            "last_logged_in_user": {"host": "https://github.com", "login": "bob"},
        }
    )
    path = write(tmp_path / ".copilot" / "config.json", text)
    assert found(tmp_path) == [("copilot_cli", "gho_bob", str(path))]
    assert found(tmp_path, host="octocorp.ghe.com")[0][1] == "gho_carol"


def test_copilot_cli_camel_case_object_form_and_copilot_home(tmp_path: Path) -> None:
    home = tmp_path / "copilot-home"
    write(
        home / "config.json",
        json.dumps(
            {
                "copilotTokens": {
                    "github.com": {"token": "ghr_refresh"},
                    "https://github.com:dave": {"token": "gho_d"},
                },
                "lastLoggedInUser": "nobody",
            }
        ),
    )
    assert found(tmp_path, {"COPILOT_HOME": str(home)})[0][1] == "gho_d"


def test_gh_hosts_yml_token_per_host_and_per_user(tmp_path: Path) -> None:
    hosts = (
        "github.com:\n"
        "    users:\n"
        "        monalisa:\n"
        "            oauth_token: gho_user\n"
        "    git_protocol: https\n"
        "    user: monalisa\n"
        "octocorp.ghe.com:\n"
        "    oauth_token: 'gho_corp'  # enterprise\n"
        "    user: corp\n"
    )
    path = write(tmp_path / ".config" / "gh" / "hosts.yml", hosts)
    assert found(tmp_path) == [("gh", "gho_user", str(path))]
    assert found(tmp_path, host="octocorp.ghe.com")[0][1] == "gho_corp"


def test_gh_keyring_token_through_gh_auth_token(tmp_path: Path) -> None:
    config_dir = tmp_path / "ghconf"
    write(config_dir / "hosts.yml", "github.com:\n    git_protocol: https\n    user: monalisa\n")
    env = fake_gh(
        tmp_path / "bin",
        'test "$1 $2 $3 $4" = "auth token --hostname github.com" || exit 2\n'
        f'test "$GH_CONFIG_DIR" = "{config_dir}" || exit 3\n'
        'test -z "$GH_TOKEN" || exit 4\n'
        "echo gho_fromkeyring\n",
    )
    env["GH_CONFIG_DIR"] = str(config_dir)
    assert found(tmp_path, env) == [("gh", "gho_fromkeyring", "gh auth token (github.com)")]


def test_gh_not_logged_in_or_failing_finds_nothing(tmp_path: Path) -> None:
    env = fake_gh(tmp_path / "bin", 'echo "no oauth token found" >&2\nexit 1\n')
    assert found(tmp_path, env) == []  # no hosts.yml: gh is not even run
    write(tmp_path / ".config" / "gh" / "hosts.yml", "github.com:\n    user: monalisa\n")
    assert found(tmp_path, env) == []
    write(tmp_path / ".config" / "gh" / "hosts.yml", "gitlab.example:\n    oauth_token: nope\n")
    assert found(tmp_path, env) == []


def test_every_source_in_order_and_a_setting_wins(tmp_path: Path) -> None:
    write(tmp_path / ".config" / "gh" / "hosts.yml", "github.com:\n    oauth_token: gho_gh\n")
    write(tmp_path / ".copilot" / "config.json", json.dumps({"copilot_tokens": {"https://github.com:a": "gho_cli"}}))
    write(
        tmp_path / ".config" / "github-copilot" / "apps.json", json.dumps({"github.com:x": {"oauth_token": "ghu_ed"}})
    )
    env = {"GITHUB_TOKEN": "gho_env"}
    assert [(s, t) for s, t, _ in found(tmp_path, env)] == [
        ("api_key", "gho_env"),
        ("editor", "ghu_ed"),
        ("copilot_cli", "gho_cli"),
        ("gh", "gho_gh"),
    ]
    assert [(s, t) for s, t, _ in found(tmp_path, env, api_key="gho_set")] == [("api_key", "gho_set")]


def test_yaml_reader_handles_what_gh_writes() -> None:
    assert logins.yaml_map("# c\nhost:\n  a: '1'\n  b:\n    c: \"2\"\n  d: 3 # x\ne: f\n") == {
        "host": {"a": "1", "b": {"c": "2"}, "d": "3"},
        "e": "f",
    }


# -- through the simulator -------------------------------------------------------------------------------------
def requests_to(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"] == PREFIX + "copilot_internal/user"]


async def test_fetch_sends_the_token_and_editor_headers(sim: Any) -> None:
    usage = await fetch_usage("copilot", sim_settings("copilot", sim.url))
    assert [(w.id, w.unlimited) for w in usage.windows] == [
        ("premium", False),
        ("chat", True),
        ("completions", True),
    ]
    assert usage.plan == "Individual" and usage.windows[0].limit == 300
    headers = requests_to(sim)[-1]["headers"]
    assert headers["authorization"] == f"token {TOKEN}"
    assert (headers["editor-version"], headers["editor-plugin-version"]) == ("vscode/1.96.2", "copilot-chat/0.26.7")
    assert (headers["user-agent"], headers["x-github-api-version"]) == ("GitHubCopilotChat/0.26.7", "2025-04-01")


async def test_demo_accounts_free_and_business(sim: Any) -> None:
    free = await fetch_usage("copilot", sim_settings("copilot", sim.url, api_key=f"Bearer {TOKEN}#free"))
    assert [w.id for w in free.windows] == ["premium", "chat", "completions"] and free.plan == "Free"
    business = await fetch_usage("copilot", sim_settings("copilot", sim.url, api_key=f"{TOKEN}#business"))
    assert (business.windows, business.note, business.plan) == ((), TOKEN_BILLING_NOTE, "Business")
    assert [b.id for b in business.balances] == ["credits_used"]


async def test_a_discovered_token_reaches_the_api(sim: Any, tmp_path: Path) -> None:
    write(tmp_path / ".config" / "gh" / "hosts.yml", f"github.com:\n    oauth_token: {TOKEN}\n")
    usage = await fetch_usage("copilot", {"url": f"{sim.url}/copilot/url"}, home=tmp_path)
    assert usage.windows


async def test_bad_token_no_seat_and_failures(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("copilot", sim_settings("copilot", sim.url, api_key="gho_wrong"))
    assert info.value.status_code == 401 and "gh auth login" in info.value.hint
    assert "gho_wrong" not in str(info.value)
    add_fault(sim, PREFIX, "status", status=404, body='{"message":"Not Found"}', remaining=1)
    with pytest.raises(AuthError, match="HTTP 404"):
        await fetch_usage("copilot", sim_settings("copilot", sim.url))
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "60"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("copilot", sim_settings("copilot", sim.url))
    add_fault(sim, PREFIX, "status", status=503, body="unicorn", remaining=1)
    with pytest.raises(UpstreamError):
        await fetch_usage("copilot", sim_settings("copilot", sim.url))
    add_fault(sim, PREFIX, "html", remaining=1)
    with pytest.raises(ParseError):
        await fetch_usage("copilot", sim_settings("copilot", sim.url))
    add_fault(sim, PREFIX, "timeout", seconds=3, remaining=1)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("copilot", sim_settings("copilot", sim.url), timeout=0.5)


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("copilot", sim_settings("copilot", sim.url))
    assert [w.id for w in usage.windows] == ["premium", "chat", "completions"] and usage.warnings == ()

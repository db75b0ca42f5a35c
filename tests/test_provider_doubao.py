"""Doubao: the OpenAPI, AFP and arkcli samples parsed exactly, the three sources for real (a signed
Volcengine request the simulator verifies, a fake arkcli on PATH with its hang and failures, the opt-in
Ark API key probe with model fallback), Volcengine error bodies, and the simulator's faults."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import load
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
from agentgauge.providers.doubao import PROVIDER
from agentgauge.providers.doubao.parsing import reset_after
from agentgauge.providers.doubao.signer import signed_headers
from tests.harness import add_fault, fetch_usage, fixture_json, fixture_text, sim_requests, sim_settings

NOW = datetime(2026, 7, 16, 12, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))
PREFIX = "/doubao/url/"


def parse(**raw: Any) -> Usage:
    return PROVIDER.parse(raw, NOW)


def aksk(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("doubao", sim.url, **overrides)
    settings.pop("api_key")
    return settings


# -- samples ------------------------------------------------------------------------------------
def test_coding_plan_and_agent_plan_samples() -> None:
    usage = parse(
        coding=fixture_json("doubao", "coding-plan-usage.json"), agent=fixture_json("doubao", "afp-usage.json")
    )
    assert usage.plan == "Coding Plan + Agent Plan (medium)"
    assert usage.windows == (
        Window(
            id="session",
            label="Session (5h)",
            used_pct=0.116,
            resets_at=datetime.fromtimestamp(1782226478, UTC),
            window_seconds=18000,
        ),
        Window(
            id="weekly",
            label="Weekly",
            used_pct=3.1821,
            resets_at=datetime.fromtimestamp(1782662400, UTC),
            window_seconds=604800,
        ),
        Window(id="monthly", label="Monthly", used_pct=7.5731, resets_at=datetime.fromtimestamp(1782403199, UTC)),
        Window(
            id="agent_session",
            label="Agent · Session (5h)",
            used_pct=0.0,
            window_seconds=18000,
            used=0,
            limit=10000,
            unit="afp",
        ),  # ResetTime -1: the window has not started
        Window(
            id="agent_daily",
            label="Agent · Daily",
            used_pct=0.0,
            resets_at=datetime.fromtimestamp(1785340800, UTC),
            window_seconds=86400,
            used=0,
            limit=50000,
            unit="afp",
        ),
        Window(
            id="agent_weekly",
            label="Agent · Weekly",
            used_pct=25.0,
            resets_at=datetime.fromtimestamp(1785686400, UTC),
            window_seconds=604800,
            used=8750,
            limit=35000,
            unit="afp",
        ),
        Window(
            id="agent_monthly",
            label="Agent · Monthly",
            used_pct=25.0,
            resets_at=datetime.fromtimestamp(1787846399, UTC),
            used=25000,
            limit=100000,
            unit="afp",
        ),
    )


def test_reclaimed_coding_plan_with_no_agent_plan_is_a_note() -> None:
    usage = parse(coding=fixture_json("doubao", "coding-plan-reclaimed.json"), agent=None)
    assert usage == Usage(note="No Coding Plan or Agent Plan usage, and no request limit in the answer")
    with_agent = parse(
        coding=fixture_json("doubao", "coding-plan-reclaimed.json"), agent=fixture_json("doubao", "afp-usage.json")
    )
    assert with_agent.plan == "Agent Plan (medium)" and len(with_agent.windows) == 4


def test_arkcli_both_plans_sample() -> None:
    usage = parse(arkcli=fixture_json("doubao", "arkcli-both-plans.json"))
    assert [(w.id, w.used_pct, w.used, w.limit) for w in usage.windows] == [
        ("agent_session", 0.0, None, 2000),
        ("agent_weekly", 28.7, 2009.33, 7000),
        ("agent_monthly", 10.05, 2009.33, 20000),
        ("session", 7.48, None, None),
        ("weekly", 2.71, None, None),
        ("monthly", 1.36, None, None),
    ]
    assert usage.windows[3].resets_at == datetime(2026, 7, 16, 19, 12, 7, tzinfo=CST)


def test_arkcli_team_and_unsubscribed_samples() -> None:
    team = parse(arkcli=fixture_json("doubao", "arkcli-team-plans.json"))
    assert [w.id for w in team.windows] == [
        "agent_team_session",
        "agent_team_weekly",
        "coding_team_session",
        "coding_team_monthly",
    ]
    assert team.windows[2].label == "Team · Session (5h)"
    stale = parse(arkcli=fixture_json("doubao", "arkcli-unsubscribed-bucket.json"))
    assert [(w.id, w.used_pct) for w in stale.windows] == [("agent_session", 5.0)]


def test_arkcli_not_logged_in_sample() -> None:
    with pytest.raises(AuthError) as info:
        parse(arkcli=fixture_json("doubao", "arkcli-not-logged-in.json"))
    assert "arkcli auth login" in info.value.hint


# -- variations ---------------------------------------------------------------------------------
def test_arkcli_failed_bucket_alone_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamError, match="failed to query usage"):
        parse(arkcli={"items": [{"product": "coding-plan", "error": "failed to query usage", "periods": []}]})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"ResponseMetadata": {"Error": {"Code": "SignatureDoesNotMatch", "Message": "bad"}}}, AuthError),
        ({"ResponseMetadata": {"Error": {"Code": "InvalidAccessKey", "Message": "bad"}}}, AuthError),
        ({"ResponseMetadata": {"Error": {"Code": "FlowLimitExceeded", "Message": "slow"}}}, RateLimitedError),
        ({"ResponseMetadata": {"Error": {"Code": "InternalError", "Message": "boom"}}}, UpstreamError),
    ],
)
def test_volcengine_error_bodies(body: dict[str, Any], expected: type[Exception]) -> None:
    with pytest.raises(expected):
        parse(coding=body)


def test_a_broken_quota_is_a_warning_and_unknown_levels_are_skipped() -> None:
    body = {
        "Result": {
            "QuotaUsage": [
                {"Level": "session", "Percent": "x"},
                {"Level": "weekly", "Percent": "4"},
                {"Level": "yearly", "Percent": 1},
            ]
        }
    }
    usage = parse(coding=body)
    assert [(w.id, w.used_pct) for w in usage.windows] == [("weekly", 4.0)]
    assert "Result.QuotaUsage[0].Percent" in usage.warnings[0].message


@pytest.mark.parametrize(
    ("value", "after"),
    [("20s", 20), ("1m30s", 90), ("6ms", 0.006), ("45", 45), ("", None), ("soon", None)],
)
def test_rate_limit_reset_header(value: str, after: float | None) -> None:
    got = reset_after(value, NOW)
    assert got == (None if after is None else NOW + timedelta(seconds=after))


def test_signed_headers_shape() -> None:
    when = datetime(2026, 6, 17, tzinfo=UTC)
    url = "https://open.volcengineapi.com/?Action=GetCodingPlanUsage&Version=2024-01-01"
    headers = signed_headers(
        method="POST", url=url, body=b"", access_key="AKLTTEST", secret_key="s", region="cn-beijing", when=when
    )
    assert headers["x-date"] == "20260617T000000Z" and headers["host"] == "open.volcengineapi.com"
    assert headers["x-content-sha256"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert headers["authorization"].startswith("HMAC-SHA256 Credential=AKLTTEST/20260617/cn-beijing/ark/request, ")
    assert "SignedHeaders=content-type;host;x-content-sha256;x-date, Signature=" in headers["authorization"]


# -- the access key source through the simulator ----------------------------------------------------------
async def test_signed_requests_the_simulator_verifies(sim: Any) -> None:
    usage = await fetch_usage("doubao", aksk(sim))
    assert [w.id for w in usage.windows] == [
        "session",
        "weekly",
        "monthly",
        "agent_session",
        "agent_weekly",
        "agent_monthly",
    ]
    calls = [r for r in sim_requests(sim) if r["path"] == "/doubao/url/"][-2:]
    assert [c["query"] for c in calls] == [
        "Action=GetCodingPlanUsage&Version=2024-01-01",
        "Action=GetAFPUsage&Version=2024-01-01",
    ]
    assert all(c["method"] == "POST" and c["body"] == "" for c in calls)


async def test_wrong_secret_fails_the_signature(sim: Any) -> None:
    with pytest.raises(AuthError, match="SignatureDoesNotMatch") as info:
        await fetch_usage("doubao", aksk(sim, secret_access_key="not-the-secret"))
    assert "not-the-secret" not in str(info.value)
    with pytest.raises(AuthError, match="InvalidAccessKey"):
        await fetch_usage("doubao", aksk(sim, access_key_id="AKLTunknown"))


async def test_account_without_an_agent_plan_keeps_the_coding_plan(sim: Any) -> None:
    settings = aksk(sim, access_key_id="AKLTsimdoubao#codingonly", secret_access_key="sim-doubao-secret#codingonly")
    usage = await fetch_usage("doubao", settings)
    assert [w.id for w in usage.windows] == ["session", "weekly", "monthly"] and usage.plan == "Coding Plan"


async def test_volcengine_variables(sim: Any) -> None:
    env = {"VOLC_ACCESSKEY": "AKLTsimdoubao", "VOLC_SECRETKEY": "sim-doubao-secret", "VOLCENGINE_REGION": "cn-shanghai"}
    usage = await fetch_usage("doubao", {"url": f"{sim.url}/doubao/url"}, env=env)
    assert usage.windows
    call = [r for r in sim_requests(sim) if r["path"] == "/doubao/url/"][-1]
    assert "/cn-shanghai/ark/request" in call["headers"]["authorization"]


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("doubao", aksk(sim))
    assert len(usage.windows) == 6 and usage.warnings == ()


async def test_rate_limit_and_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "4"}, body="{}", remaining=1)
    with pytest.raises(RateLimitedError):
        await fetch_usage("doubao", aksk(sim))
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("doubao", aksk(sim), timeout=0.5)


# -- the opt-in Ark API key probe ------------------------------------------------------------------------
def probe_settings(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("doubao", sim.url, **{"probe": "on", **overrides})
    settings.pop("access_key_id")
    settings.pop("secret_access_key")
    return settings


async def test_probe_reads_the_request_window(sim: Any) -> None:
    usage = await fetch_usage("doubao", probe_settings(sim))
    (window,) = usage.windows
    assert (window.id, window.limit, window.unit) == ("requests", 1200, "requests")
    call = [r for r in sim_requests(sim) if r["path"] == "/doubao/ark_url/chat/completions"][-1]
    body = json.loads(call["body"])
    assert body["max_tokens"] == 1 and body["model"] == "doubao-seed-2.0-code"
    assert call["headers"]["authorization"] == "Bearer sim-ark-api-key"


async def test_probe_falls_back_through_the_models(sim: Any) -> None:
    usage = await fetch_usage("doubao", probe_settings(sim, api_key="sim-ark-api-key#lite"))
    assert usage.windows[0].id == "requests"
    models = [
        json.loads(r["body"])["model"] for r in sim_requests(sim) if r["path"] == "/doubao/ark_url/chat/completions"
    ]
    assert models[-3:] == ["doubao-seed-2.0-code", "doubao-1.5-pro-32k", "doubao-lite-32k"]
    with pytest.raises(UpstreamError):
        await fetch_usage(
            "doubao", probe_settings(sim, api_key="sim-ark-api-key#lite", probe_model="doubao-seed-2.0-code")
        )


async def test_probe_set_to_off_is_a_config_error(sim: Any) -> None:
    with pytest.raises(ProviderConfigError):
        await fetch_usage("doubao", probe_settings(sim, probe="off"))


def test_an_ark_key_alone_configures_nothing(tmp_path: Path) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text("", encoding="utf-8")
    env = {"ARK_API_KEY": "ark-key", "PATH": ""}
    config = load(config_file, env=env, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "doubao")
    assert auth.resolve(PROVIDER, account, config) == []
    config = load(config_file, env={**env, "AGENTGAUGE_DOUBAO_PROBE": "on"}, home=tmp_path)
    account = next(a for a in config.accounts if a.provider == "doubao")
    (creds,) = auth.resolve(PROVIDER, account, config)
    assert (creds.auth.id, creds.get("api_key")) == ("api_key", "ark-key")


# -- arkcli for real ---------------------------------------------------------------------------------
FAKE = """#!{python}
import json, os, sys, time
with open({log!r}, "a") as log:
    log.write(json.dumps({{"pid": os.getpid(), "argv": sys.argv[1:]}}) + "\\n")
(sys.stderr if {to_stderr!r} else sys.stdout).write(open({output!r}, encoding="utf-8").read())
sys.stdout.flush()
if {mode!r} == "hang":
    time.sleep(120)
sys.exit({code!r})
"""


def fake_arkcli(
    tmp_path: Path, output: str, *, mode: str = "", code: int = 0, to_stderr: bool = False
) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "out.txt").write_text(output, encoding="utf-8")
    script = bin_dir / "arkcli"
    log = tmp_path / "arkcli.log"
    out = tmp_path / "out.txt"
    script.write_text(
        FAKE.format(python=sys.executable, log=str(log), output=str(out), mode=mode, code=code, to_stderr=to_stderr)
    )
    script.chmod(0o755)
    return {"PATH": str(bin_dir)}


def calls(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "arkcli.log").read_text().splitlines()]


async def test_arkcli_on_path(tmp_path: Path) -> None:
    env = fake_arkcli(tmp_path, fixture_text("doubao", "arkcli-both-plans.json"))
    usage = await fetch_usage("doubao", {}, env=env, home=tmp_path)
    assert len(usage.windows) == 6
    (call,) = calls(tmp_path)
    assert call["argv"] == ["usage", "plan", "--format", "json"]
    with pytest.raises(ProcessLookupError):
        os.kill(call["pid"], 0)


async def test_arkcli_path_variable(tmp_path: Path) -> None:
    env = fake_arkcli(tmp_path, fixture_text("doubao", "arkcli-team-plans.json"))
    usage = await fetch_usage(
        "doubao", {}, env={"ARKCLI_PATH": str(tmp_path / "bin" / "arkcli"), "PATH": ""}, home=tmp_path
    )
    assert usage.windows[0].id == "agent_team_session"
    assert env["PATH"]  # the fake is found through ARKCLI_PATH alone (PATH is empty here)


async def test_arkcli_hang_is_a_timeout_and_it_ends(tmp_path: Path) -> None:
    env = fake_arkcli(tmp_path, "", mode="hang")
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("doubao", {"cli_timeout": "1"}, env=env, home=tmp_path)
    for call in calls(tmp_path):
        with pytest.raises(ProcessLookupError):
            os.kill(call["pid"], 0)


async def test_arkcli_not_logged_in_exit(tmp_path: Path) -> None:
    env = fake_arkcli(tmp_path, "not logged in; run arkcli auth login\n", code=1, to_stderr=True)
    with pytest.raises(AuthError) as info:
        await fetch_usage("doubao", {}, env=env, home=tmp_path)
    assert "arkcli auth login" in info.value.hint


async def test_arkcli_other_failure_and_bad_output(tmp_path: Path) -> None:
    env = fake_arkcli(tmp_path, "\x1b[31merror: network unreachable\x1b[0m\n", code=2, to_stderr=True)
    with pytest.raises(UpstreamError, match="network unreachable"):
        await fetch_usage("doubao", {}, env=env, home=tmp_path)
    env = fake_arkcli(tmp_path, "Usage: arkcli [command]\n")
    with pytest.raises(ParseError):
        await fetch_usage("doubao", {}, env=env, home=tmp_path)

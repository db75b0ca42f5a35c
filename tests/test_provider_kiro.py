"""Kiro: both kiro-cli report formats parsed exactly from the recorded samples, GetUsageLimits
(plan/overage split, cap, charges) and its failures as warnings, and the CLI source for real: fake
kiro-cli executables on PATH printing recorded output (ANSI and all), lingering, hanging and
failing, plus the demo's stand-in CLI against the simulator."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgauge.credentials import resolve as auth
from agentgauge.errors import (
    AuthError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    ProviderError,
    UpstreamError,
)
from agentgauge.models import Balance, ErrorKind, Usage, Window
from agentgauge.providers import kiro
from agentgauge.providers.kiro import PROVIDER, parsing, read_identity
from agentgauge.providers.kiro import sim as kiro_sim
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, fixture_text, sim_settings
from tests.simlog import Mark

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX fake executables")  # CI is Linux

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
JUNE = datetime(2026, 6, 1, tzinfo=UTC)
API_RESET = datetime.fromtimestamp(1788220800, tz=UTC)  # nextDateReset 1788220800.0 (2026-09-01)


def parse(text: str | None = None, limits: Any = None, **extra: Any) -> Usage:
    raw: dict[str, Any] = {**extra}
    if text is not None:
        raw["usage_text"] = text
    if limits is not None:
        raw["limits"] = limits
    return PROVIDER.parse(raw, NOW)


def monthly(used_pct: float, used: float | None, limit: float | None, resets_at: datetime | None) -> Window:
    return Window(
        id="monthly",
        label="Monthly credits",
        used_pct=used_pct,
        resets_at=resets_at,
        used=used,
        limit=limit,
        unit="credits" if limit is not None else None,
    )


def bonus(used: float, limit: float, expires_at: datetime | None) -> Balance:
    return Balance(
        id="bonus",
        label="Bonus credits",
        unit="credits",
        used=used,
        limit=limit,
        remaining=round(limit - used, 10),
        expires_at=expires_at,
    )


# -- the CLI text: current format ---------------------------------------------------------------
def test_current_format_with_ansi_and_bonus() -> None:
    usage = parse(fixture_text("kiro", "cli-usage-ansi.txt"))
    assert usage.plan == "Kiro Free"
    assert usage.windows == (monthly(0.34, 0.17, 50.0, JUNE),)
    (bonus_balance,) = usage.balances
    assert bonus_balance.model_copy(update={"remaining": None}) == bonus(
        45.53, 2000, NOW + timedelta(days=19)
    ).model_copy(update={"remaining": None})
    assert bonus_balance.remaining == pytest.approx(1954.47)
    assert usage.warnings == ()


def test_current_format_plain_free() -> None:
    assert parse(fixture_text("kiro", "cli-usage-free.txt")) == Usage(
        windows=(monthly(0.34, 0.17, 50.0, JUNE),), plan="Kiro Free"
    )


def test_current_format_power_with_bonus_and_overages_enabled() -> None:
    usage = parse(fixture_text("kiro", "cli-usage-power-overage.txt"))
    assert usage.plan == "Kiro Power"
    assert usage.windows == (monthly(0.4, 40.0, 10000.0, datetime(2026, 9, 1, tzinfo=UTC)),)
    assert usage.balances == (bonus(5.0, 10.0, None),)  # no "Credits used" line: no overage figures


def test_current_format_overage_spend_is_a_balance() -> None:
    usage = parse(fixture_text("kiro", "cli-usage-enabled-overages.txt"))
    assert usage.plan == "Kiro Pro"
    assert usage.windows == (monthly(100.0, 1000.0, 1000.0, JUNE),)
    assert usage.balances == (
        Balance(
            id="overage_credits", label="Overage credits", unit="credits", used=40.29, period="monthly", resets_at=JUNE
        ),
        Balance(id="overage_cost", label="Overage cost", unit="usd", used=1.61, period="monthly", resets_at=JUNE),
    )


# -- the CLI text: the older formats ------------------------------------------------------------
def test_boxed_panel() -> None:
    usage = parse(fixture_text("kiro", "cli-usage-boxed.txt"))
    assert usage.plan == "Kiro Free"
    # The figures win over the bar: "(0.00 of 50 covered in plan)" is 0 % used.
    assert usage.windows == (monthly(0.0, 0.0, 50.0, datetime(2027, 1, 1, tzinfo=UTC)),)
    assert usage.balances == (bonus(0.0, 100.0, NOW + timedelta(days=88)),)


def test_legacy_header_with_bonus_and_month_day_reset() -> None:
    usage = parse(fixture_text("kiro", "cli-usage-legacy-bonus.txt"))
    assert usage.plan == "Kiro Pro"
    assert usage.windows == (monthly(80.0, 40.0, 50.0, datetime(2027, 2, 1, tzinfo=UTC)),)  # 02/01 is past
    assert usage.balances == (bonus(5.0, 10.0, NOW + timedelta(days=7)),)


def test_legacy_with_ansi_colours() -> None:
    usage = parse(fixture_text("kiro", "cli-usage-legacy-ansi.txt"))
    assert (usage.plan, usage.windows) == ("Kiro Free", (monthly(50.0, 25.0, 50.0, datetime(2027, 3, 15, tzinfo=UTC)),))


def test_legacy_plan_line_managed_with_figures() -> None:
    usage = parse(fixture_text("kiro", "cli-usage-managed-with-metrics.txt"))
    assert usage.plan == "Q Developer Enterprise"
    assert usage.windows == (monthly(40.0, 20.0, 50.0, datetime(2027, 3, 15, tzinfo=UTC)),)


def test_bar_alone_gives_the_percent() -> None:
    usage = parse("Estimated Usage | resets on 2026-06-01 | KIRO FREE\n████████ 37%\n")
    assert usage.windows == (monthly(37.0, None, None, JUNE),)


def test_month_day_reset_later_this_year() -> None:
    usage = parse("| KIRO FREE |\n(1 of 50 covered in plan), resets on 12/01\n")
    assert usage.windows[0].resets_at == datetime(2026, 12, 1, tzinfo=UTC)


# -- the CLI text: errors -----------------------------------------------------------------------
def test_managed_plan_without_figures_is_said_plainly() -> None:
    with pytest.raises(UpstreamError) as err:
        parse(fixture_text("kiro", "cli-usage-q-developer-pro.txt"))
    assert "managed by an administrator" in err.value.message and "Q Developer Pro" in err.value.message


def test_backend_warning_is_upstream() -> None:
    with pytest.raises(UpstreamError) as err:
        parse(fixture_text("kiro", "cli-usage-backend-warning.txt"))
    assert "could not retrieve usage" in err.value.message


def test_login_error_is_auth() -> None:
    with pytest.raises(AuthError) as err:
        parse(fixture_text("kiro", "cli-login-error.txt"))
    assert "kiro-cli login" in err.value.hint


@pytest.mark.parametrize(
    "text",
    ["", "   \n", "Welcome to Kiro!\nYour account is active.\nUsage: unknown format\n", "| KIRO FREE |\n"],
)
def test_unrecognised_report_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as err:
        parse(text)
    assert err.value.field == "usage_text"


def test_impossible_reset_date_names_the_field() -> None:
    with pytest.raises(ParseError) as err:
        parse("Estimated Usage | resets on 2026-13-45 | KIRO FREE\nCredits (1 of 50 covered in plan)\n")
    assert err.value.field == "resets on"


# -- GetUsageLimits -----------------------------------------------------------------------------
def test_usage_limits_split_plan_and_overage() -> None:
    usage = parse(
        fixture_text("kiro", "cli-usage-power-overage.txt"), fixture_json("kiro", "getusagelimits-power.json")
    )
    assert usage.plan == "Kiro Power"
    assert usage.windows == (
        monthly(100.0, 10000.0, 10000.0, API_RESET),  # 13603.49 total - 3603.49 overage
        Window(
            id="overage",
            label="Overage credits",
            used_pct=36.0349,
            resets_at=API_RESET,
            used=3603.49,
            limit=10000.0,
            unit="credits",
        ),
    )
    assert usage.balances == (
        bonus(5.0, 10.0, None),
        Balance(
            id="overage_cost",
            label="Overage cost",
            unit="usd",
            used=144.139711109352,
            limit=400.0,
            period="monthly",
            resets_at=API_RESET,
        ),
    )
    assert usage.windows[0].used == pytest.approx(10000.0)


def test_usage_limits_alone_are_enough() -> None:
    usage = parse(None, fixture_json("kiro", "getusagelimits-power.json"))
    assert usage.plan == "Kiro Power" and [w.id for w in usage.windows] == ["monthly", "overage"]


def test_several_credit_balances_are_a_warning_and_the_cli_figures_stand() -> None:
    usage = parse(fixture_text("kiro", "cli-usage-free.txt"), fixture_json("kiro", "getusagelimits-minimal.json"))
    assert usage.windows == (monthly(0.34, 0.17, 50.0, JUNE),)
    (warning,) = usage.warnings
    assert warning.kind == ErrorKind.PARSE and "several credit balances" in warning.message


def test_usage_limits_variations() -> None:
    payload = fixture_json("kiro", "getusagelimits-power.json")
    entry = payload["usageBreakdownList"][0]
    entry.update(
        currentUsageWithPrecision="500.5",
        currentOveragesWithPrecision=None,
        currentOverages=None,
        nextDateReset=1788220800000,  # milliseconds
        x_unknown={"n": 1},
    )
    payload["overageConfiguration"] = None
    payload["subscriptionInfo"] = None
    usage = parse(None, payload)
    assert usage.plan is None
    assert usage.windows == (monthly(5.005, 500.5, 10000.0, API_RESET),)  # overage not enabled: no cap, no cost
    assert usage.balances == ()


def test_usage_limits_with_bonuses_keep_the_cli_plan_gauge() -> None:
    payload = fixture_json("kiro", "getusagelimits-power.json")
    payload["usageBreakdownList"][0]["bonuses"] = [{"amount": 10}]
    usage = parse(fixture_text("kiro", "cli-usage-power-overage.txt"), payload)
    assert usage.windows[0] == monthly(0.4, 40.0, 10000.0, datetime(2026, 9, 1, tzinfo=UTC))
    assert usage.windows[1].id == "overage"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"currentUsageWithPrecision": -1}, "currentUsage is negative"),
        ({"currentOveragesWithPrecision": 99999}, "overage exceeds the total usage"),
        ({"usageLimitWithPrecision": 100}, "plan usage exceeds the plan limit"),
        ({"nextDateReset": 99.0}, "no plausible reset date"),
        ({"usageLimitWithPrecision": "n/a"}, "is not a number"),
    ],
)
def test_implausible_usage_limits_are_warnings(change: dict[str, Any], problem: str) -> None:
    payload = fixture_json("kiro", "getusagelimits-power.json")
    payload["usageBreakdownList"][0].update(change)
    payload.pop("nextDateReset")
    usage = parse(fixture_text("kiro", "cli-usage-free.txt"), payload)
    assert usage.windows == (monthly(0.34, 0.17, 50.0, JUNE),)  # the CLI's figures stand
    (warning,) = usage.warnings
    assert warning.kind == ErrorKind.PARSE and problem in warning.message


def test_limits_error_note_is_a_warning() -> None:
    note = {"kind": "auth", "message": "Overage details unavailable: HTTP 403", "hint": "Log in again."}
    usage = parse(fixture_text("kiro", "cli-usage-free.txt"), limits_error=note)
    assert [w.message for w in usage.warnings] == ["Overage details unavailable: HTTP 403"]


def test_region_endpoints() -> None:
    assert parsing.region_of("arn:aws:codewhisperer:eu-central-1:123456789012:profile/ABC") == "eu-central-1"
    assert parsing.region_of("arn:aws:codewhisperer:evil.example.com/x:1:profile/A") is None
    assert parsing.region_of("not an arn") is None
    assert parsing.endpoint_for("us-east-1") == "https://codewhisperer.us-east-1.amazonaws.com"
    assert parsing.endpoint_for(None) == "https://codewhisperer.us-east-1.amazonaws.com"
    assert parsing.endpoint_for("eu-central-1") == "https://q.eu-central-1.amazonaws.com"


# -- the CLI source for real --------------------------------------------------------------------
FAKE = """#!{python}
import json, os, sys, time
with open({log!r}, "a") as log:
    log.write(json.dumps({{"pid": os.getpid(), "argv": sys.argv[1:], "term": os.environ.get("TERM")}}) + "\\n")
sys.stdout.buffer.write(open({output!r}, "rb").read())
sys.stdout.flush()
mode = {mode!r}
if mode == "linger":
    time.sleep(120)
elif mode == "hang":
    time.sleep(120)
elif mode.startswith("exit"):
    sys.exit(int(mode[4:]))
"""


def fake_cli(tmp_path: Path, output: str, mode: str = "exit0") -> tuple[dict[str, str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    source = tmp_path / "report.txt"
    source.write_text(output, encoding="utf-8")
    log = tmp_path / "kiro.log"
    script = bin_dir / "kiro-cli"
    script.write_text(FAKE.format(python=sys.executable, log=str(log), output=str(source), mode=mode))
    script.chmod(0o755)
    return {"PATH": str(bin_dir)}, log


def calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def assert_ended(log: Path) -> None:
    for call in calls(log):
        with pytest.raises(ProcessLookupError):
            os.kill(call["pid"], 0)


async def test_cli_on_path_is_run_with_the_usage_command(sim: Any, tmp_path: Path) -> None:
    env, log = fake_cli(tmp_path, fixture_text("kiro", "cli-usage-ansi.txt"))
    usage = await fetch_usage("kiro", {}, env=env, home=tmp_path, timeout=5)
    assert usage.plan == "Kiro Free" and usage.windows[0].used == 0.17
    assert usage.warnings == ()  # no kiro-cli state database: no GetUsageLimits call, no note
    (call,) = calls(log)
    assert call["argv"] == ["chat", "--no-interactive", "/usage"] and call["term"] == "xterm-256color"
    assert_ended(log)


async def test_cli_that_lingers_after_its_report_is_cut_off(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kiro, "IDLE", 0.3)
    env, log = fake_cli(tmp_path, fixture_text("kiro", "cli-usage-free.txt"), mode="linger")
    usage = await fetch_usage("kiro", {}, env=env, home=tmp_path, timeout=5)
    assert usage.windows == (monthly(0.34, 0.17, 50.0, JUNE),)
    assert_ended(log)


def test_report_complete_tells_a_banner_from_a_report() -> None:
    assert not parsing.report_complete("Fetching usage...\n")
    for name in ("cli-usage-ansi.txt", "cli-usage-boxed.txt", "cli-usage-q-developer-pro.txt", "cli-login-error.txt"):
        assert parsing.report_complete(parsing.strip_ansi(fixture_text("kiro", name))), name
    assert parsing.report_complete(parsing.strip_ansi(fixture_text("kiro", "cli-usage-backend-warning.txt")))


async def test_cli_hang_is_a_timeout_and_the_process_ends(sim: Any, tmp_path: Path) -> None:
    env, log = fake_cli(tmp_path, "", mode="hang")
    with pytest.raises(FetchTimeoutError) as err:
        await fetch_usage("kiro", {"cli_timeout": "1"}, env=env, home=tmp_path, timeout=5)
    assert "Kiro CLI" in err.value.message
    assert_ended(log)


async def test_cli_login_failure_is_auth(sim: Any, tmp_path: Path) -> None:
    env, log = fake_cli(tmp_path, fixture_text("kiro", "cli-login-error.txt"), mode="exit1")
    with pytest.raises(AuthError) as err:
        await fetch_usage("kiro", {}, env=env, home=tmp_path, timeout=5)
    assert "kiro-cli login" in err.value.hint
    assert_ended(log)


async def test_cli_other_failure_is_upstream_with_its_last_line(sim: Any, tmp_path: Path) -> None:
    env, _ = fake_cli(tmp_path, "error: the service is down\n", mode="exit2")
    with pytest.raises(UpstreamError) as err:
        await fetch_usage("kiro", {}, env=env, home=tmp_path, timeout=5)
    assert err.value.message == "Kiro CLI exited with status 2: error: the service is down"


async def test_cli_path_that_does_not_exist_is_config(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError):
        await fetch_usage("kiro", {"cli": str(tmp_path / "missing" / "kiro-cli")}, home=tmp_path, timeout=5)


async def test_demo_cli_and_usage_limits_against_the_simulator(sim: Any, tmp_path: Path) -> None:
    settings = {**sim_settings("kiro", sim.url), **kiro_sim.demo_settings(sim.url, tmp_path / "demo")}
    since = Mark(sim)
    usage = await fetch_usage("kiro", settings, home=tmp_path, timeout=10)
    assert usage.plan == "Kiro Power" and usage.warnings == ()
    assert [w.id for w in usage.windows] == ["monthly", "overage"]
    assert [b.id for b in usage.balances] == ["overage_cost"]
    requests = [r for r in since.requests() if r["path"] == "/kiro/url/"]
    assert len(requests) == 2  # the stand-in CLI's, then the provider's own
    mine = requests[-1]
    assert mine["method"] == "POST"
    assert mine["headers"]["x-amz-target"] == "AmazonCodeWhispererService.GetUsageLimits"
    assert mine["headers"]["content-type"] == "application/x-amz-json-1.0"
    assert mine["headers"]["authorization"] == f"Bearer {kiro_sim.SIM_TOKEN}"
    assert json.loads(mine["body"]) == {"profileArn": kiro_sim.SIM_ARN}
    wrapper = (tmp_path / "demo" / "bin" / "kiro-cli.cmd").read_bytes().decode()  # what Windows runs
    assert wrapper == f'@"{sys.executable}" -IS "%~dp0kiro-cli" %*\r\n'


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"kind": "status", "status": 403, "body": '{"__type": "AccessDeniedException"}'}, ErrorKind.AUTH),
        ({"kind": "status", "status": 500, "body": "boom"}, ErrorKind.UPSTREAM),
        ({"kind": "html"}, ErrorKind.PARSE),
        ({"kind": "truncate"}, ErrorKind.PARSE),
    ],
)
async def test_usage_limits_failure_is_a_warning_and_the_cli_figures_stand(
    sim: Any, tmp_path: Path, fault: dict[str, Any], kind: ErrorKind
) -> None:
    settings = {**sim_settings("kiro", sim.url), **kiro_sim.demo_settings(sim.url, tmp_path / "demo")}
    env, _ = fake_cli(tmp_path, fixture_text("kiro", "cli-usage-free.txt"))
    settings["cli"] = env["PATH"] + "/kiro-cli"
    add_fault(sim, "/kiro/url/", **fault)
    usage = await fetch_usage("kiro", settings, home=tmp_path, timeout=10)
    assert usage.windows == (monthly(0.34, 0.17, 50.0, JUNE),)
    (warning,) = usage.warnings
    assert warning.kind == kind and warning.message.startswith("Overage details unavailable")
    assert kiro_sim.SIM_TOKEN not in warning.message


async def test_data_dir_without_database_is_a_warning(sim: Any, tmp_path: Path) -> None:
    env, _ = fake_cli(tmp_path, fixture_text("kiro", "cli-usage-free.txt"))
    usage = await fetch_usage("kiro", {"data_dir": str(tmp_path / "nowhere")}, env=env, home=tmp_path, timeout=5)
    (warning,) = usage.warnings
    assert warning.kind == ErrorKind.CONFIG and "state database" in warning.message


# -- discovery and the state database ---------------------------------------------------------------
def test_discovery_finds_the_cli_and_its_state(tmp_path: Path) -> None:
    env, _ = fake_cli(tmp_path, "")
    state = tmp_path / "xdg" / "kiro-cli"
    state.mkdir(parents=True)
    kiro_sim.write_state(state / "data.sqlite3", "tok", kiro_sim.SIM_ARN)
    config = account_config("kiro", {}, env={**env, "XDG_DATA_HOME": str(tmp_path / "xdg")}, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert creds.source == "cli" and creds.get("cli") == env["PATH"] + "/kiro-cli"
    assert creds.get("data_dir") == str(state)


def test_discovery_falls_back_to_well_known_install(tmp_path: Path) -> None:
    local_bin = tmp_path / ".local" / "bin"
    local_bin.mkdir(parents=True)
    (local_bin / "kiro-cli").write_text("#!/bin/sh\n")
    (local_bin / "kiro-cli").chmod(0o755)
    config = account_config("kiro", {}, env={"PATH": str(tmp_path / "empty")}, home=tmp_path)
    (creds,) = auth.resolve(PROVIDER, config.accounts[0], config)
    assert creds.get("cli") == str(local_bin / "kiro-cli") and creds.get("data_dir") is None


def test_no_cli_no_credentials(tmp_path: Path) -> None:
    config = account_config("kiro", {}, env={"PATH": str(tmp_path)}, home=tmp_path)
    assert auth.resolve(PROVIDER, config.accounts[0], config) == []


def test_state_database_is_read_only(tmp_path: Path) -> None:
    database = tmp_path / "data.sqlite3"
    kiro_sim.write_state(database, "tok-123", kiro_sim.SIM_ARN)
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    assert read_identity(database) == ("tok-123", kiro_sim.SIM_ARN)
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM state")
    db.close()
    with pytest.raises(UpstreamError) as err:
        read_identity(database)
    assert "profile" in err.value.message


def test_declarations() -> None:
    assert [a.id for a in PROVIDER.auth] == ["cli"]
    assert {s.name for s in PROVIDER.settings} == {"cli", "cli_timeout", "data_dir", "url"}
    assert PROVIDER.setting_spec("cli_timeout").default == "20"  # type: ignore[union-attr]
    assert PROVIDER.response_format == "local" and PROVIDER.timeout > 20


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.sampled_from(
        [
            fixture_text("kiro", n)
            for n in ("cli-usage-ansi.txt", "cli-usage-boxed.txt", "cli-usage-enabled-overages.txt")
        ]
    ),
    cut=st.integers(min_value=0, max_value=800),
    noise=st.text(alphabet="█%|()/0123456789.,: \nresets on KIRO Credits", max_size=40),
)
def test_any_report_text_parses_or_fails_typed(text: str, cut: int, noise: str) -> None:
    mangled = text[:cut] + noise + text[cut:]
    try:
        usage = parse(mangled)
    except ProviderError:
        return
    assert isinstance(usage, Usage)

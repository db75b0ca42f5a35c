"""Amp: every display-text format in the samples (Amp Free in dollars and as a daily percent, both
subscription wordings, credits and workspaces), the API envelope and the legacy settings page
parsed exactly; the three sources for real: a fake `amp` on PATH (ANSI, hang, failures), the
access-token API and the session cookie against the simulator, with every HTTP fault."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgauge.credentials import resolve as auth
from agentgauge.engine import Engine
from agentgauge.errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    ProviderConfigError,
    ProviderError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, Status, Usage, Window
from agentgauge.providers.amp import PROVIDER, cookie_header, parsing
from agentgauge.providers.amp import sim as amp_sim
from agentgauge.store import open_store
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, fixture_text, sim_requests, sim_settings
from tests.simlog import Mark

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX fake executables")  # CI is Linux

NOW = datetime(2026, 8, 3, 22, 0, tzinfo=UTC)
NY_8PM = datetime(2026, 8, 4, 0, 0, tzinfo=UTC)  # 8 pm EDT on Aug 3
TOKEN = "sgamp_sim_access_token"
SESSION = "sim-amp-session"


def parse_text(name_or_text: str) -> Usage:
    text = fixture_text("amp", name_or_text) if name_or_text.endswith(".txt") else name_or_text
    return PROVIDER.parse({"usage_text": text}, NOW)


def free_dollars(remaining: float, quota: float, hourly: float, hours: int) -> Window:
    used = quota - remaining
    return Window(
        id="free",
        label="Amp Free",
        used_pct=round(used / quota * 100, 4),
        resets_at=NOW + timedelta(hours=used / hourly),
        window_seconds=hours * 3600,
        used=round(used, 6),
        limit=quota,
        unit="usd",
    )


def free_percent(used_pct: float, resets_at: datetime | None = NY_8PM) -> Window:
    return Window(id="free", label="Amp Free", used_pct=used_pct, resets_at=resets_at, window_seconds=86400)


def pools(other: float, orb: float, renews: datetime) -> tuple[Window, Window]:
    return (
        Window(id="other", label="Other usage", used_pct=other, resets_at=renews),
        Window(id="orb", label="Orb usage", used_pct=orb, resets_at=renews),
    )


def usd(bid: str, label: str, remaining: float) -> Balance:
    return Balance(id=bid, label=label, unit="usd", remaining=remaining)


# -- the display text: every format in the samples ----------------------------------------------
def test_dollar_free_tier_with_ansi_and_balances() -> None:
    assert parse_text("cli-usage-ansi.txt") == Usage(
        windows=(free_dollars(4.71, 10, 0.42, 24),),
        balances=(
            usd("individual_credits", "Individual credits", 25.64),
            usd("workspace_meow", "Workspace meow", 10.22),
        ),
        plan="Amp Free",
    )


def test_percent_free_tier_resets_at_8pm_new_york() -> None:
    assert parse_text("cli-usage-free-percent.txt") == Usage(
        windows=(free_percent(39.0),),
        balances=(
            usd("individual_credits", "Individual credits", 9.86),
            usd("workspace_example", "Workspace example", 5.33),
        ),
        plan="Amp Free",
    )


def test_individual_credits_only() -> None:
    assert parse_text("cli-usage-individual-credits.txt") == Usage(
        balances=(usd("individual_credits", "Individual credits", 25.64),)
    )


def test_current_subscription_wording() -> None:
    assert parse_text("cli-usage-megawatt.txt") == Usage(
        windows=pools(0.0, 0.0, datetime(2026, 9, 3, 22, 0, tzinfo=UTC)),
        balances=(usd("individual_credits", "Individual credits", 4.35),),
        plan="Megawatt",
    )


def test_older_subscription_wording_in_days() -> None:
    assert parse_text("fixture-day-subscription.txt") == Usage(
        windows=pools(3.0, 0.0, NOW + timedelta(days=29)), plan="Megawatt"
    )


def test_older_subscription_wording_with_a_link() -> None:
    assert parse_text("cli-usage-legacy-subscription-link.txt") == Usage(
        windows=pools(3.0, 0.0, NOW + timedelta(days=29)), plan="Megawatt"
    )


def test_free_tier_subscription_credits_and_workspace_together() -> None:
    assert parse_text("fixture-monthly-subscription.txt") == Usage(
        windows=(free_percent(39.0), *pools(27.0, 9.0, datetime(2026, 9, 3, 22, 0, tzinfo=UTC))),
        balances=(
            usd("individual_credits", "Individual credits", 17.23),
            usd("workspace_meow", "Workspace meow", 5.33),
        ),
        plan="Gigawatt",
    )


def test_workspaces_with_thousands_separators() -> None:
    assert parse_text("cli-usage-workspaces.txt") == Usage(
        balances=(
            usd("workspace_alpha_team", "Workspace Alpha Team", 1234.56),
            usd("workspace_beta", "Workspace Beta", 7.0),
        )
    )


# -- the display text: variations ----------------------------------------------------------------
def test_percent_without_resets_daily_has_no_reset() -> None:
    usage = parse_text("Signed in as user@example.com\nAmp Free: 61% remaining")
    assert usage.windows == (free_percent(39.0, None),)


def test_dollars_win_over_percent_when_both_are_printed() -> None:
    usage = parse_text(
        "Signed in as user@example.com\nAmp Free: 61% remaining today (resets daily)\n"
        "Amp Free: $6/$10 remaining (replenishes +$0.5/hour)"
    )
    assert usage.windows == (free_dollars(6, 10, 0.5, 20),)


def test_nothing_used_means_no_reset_time() -> None:
    (window,) = parse_text("Amp Free: $10/$10 remaining (replenishes +$0.5/hour)").windows
    assert window.used_pct == 0 and window.resets_at is None


def test_a_drifted_line_is_a_warning_while_the_rest_shows() -> None:
    usage = parse_text(
        "Signed in as user@example.com\nAmp Free: plenty left, come back soon\n"
        "Amp Terawatt Subscription: lots remaining\nIndividual credits: $3 remaining\nWorkspace odd: none"
    )
    assert usage.balances == (usd("individual_credits", "Individual credits", 3.0),)
    assert [w.message for w in usage.warnings] == [
        "Amp: the 'Amp Free' line has a format agentgauge does not know",
        "Amp: the 'Subscription' line has a format agentgauge does not know",
        "Amp: the 'Workspace' line has a format agentgauge does not know",
    ]


def test_only_drifted_lines_is_a_parse_error_naming_the_line() -> None:
    with pytest.raises(ParseError) as err:
        parse_text("Signed in as user@example.com\nAmp Free: unknown\n")
    assert err.value.field == "Amp Free"


def test_no_usage_line_at_all_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as err:
        parse_text("Signed in as user@example.com (team)\nWelcome back!\n")
    assert err.value.field == "usage_text"


def test_signed_out_text_is_auth() -> None:
    with pytest.raises(AuthError) as err:
        parse_text("You are not logged in. Run `amp login` to sign in.\n")
    assert "amp login" in err.value.hint


def test_duplicate_workspace_names_get_distinct_ids() -> None:
    usage = parse_text("Workspace Team: $1 remaining\nWorkspace team: $2 remaining")
    assert [b.id for b in usage.balances] == ["workspace_team", "workspace_team_2"]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-08-03T23:59:59", "2026-08-04T00:00:00"),
        ("2026-08-04T00:00:00", "2026-08-05T00:00:00"),
        ("2026-01-16T00:59:59", "2026-01-16T01:00:00"),
        ("2026-03-08T00:30:00", "2026-03-08T01:00:00"),  # Saturday evening EST, DST starts that night
        ("2026-03-08T01:00:00", "2026-03-09T00:00:00"),
        ("2026-11-01T12:00:00", "2026-11-02T01:00:00"),  # DST ended that morning
    ],
)
def test_free_reset_follows_new_york_daylight_time(now: str, expected: str) -> None:
    assert parsing.next_free_reset(datetime.fromisoformat(now).replace(tzinfo=UTC)) == datetime.fromisoformat(
        expected
    ).replace(tzinfo=UTC)


def test_free_reset_agrees_with_the_time_zone_database() -> None:
    new_york = ZoneInfo("America/New_York")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for step in range(0, 3 * 365 * 24, 7):  # every 7 hours for three years
        now = start + timedelta(hours=step)
        reset = parsing.next_free_reset(now)
        local = reset.astimezone(new_york)
        assert (local.hour, local.minute) == (20, 0) and now < reset <= now + timedelta(hours=24)


# -- the API envelope and the settings page --------------------------------------------------------
def test_api_display_text() -> None:
    usage = PROVIDER.parse({"balance": fixture_json("amp", "api-display-balance.json")}, NOW)
    assert usage == Usage(
        windows=(free_dollars(8, 10, 0.5, 20),),
        balances=(
            usd("individual_credits", "Individual credits", 12.5),
            usd("workspace_alpha_team", "Workspace Alpha Team", 1234.56),
            usd("workspace_beta", "Workspace Beta", 7.0),
        ),
        plan="Amp Free",
    )


def test_api_auth_required_envelope() -> None:
    with pytest.raises(AuthError):
        PROVIDER.parse({"balance": fixture_json("amp", "api-auth-required.json")}, NOW)


@pytest.mark.parametrize(
    ("payload", "error", "text"),
    [
        ({"ok": False, "error": {"code": "rate-limited", "message": "x"}}, UpstreamError, "(rate-limited)"),
        ({"ok": False, "error": {"code": "<script>", "message": "x"}}, UpstreamError, "(unknown)"),
        ({"ok": False}, UpstreamError, "(unknown)"),
        ({"result": {"displayText": "x"}}, ParseError, "no 'ok'"),
        ({"ok": True, "result": None}, ParseError, "no display text"),
        ({"ok": True, "result": {"displayText": "   "}}, ParseError, "no display text"),
        ([], ParseError, "not an object"),
    ],
)
def test_api_envelope_variations(payload: Any, error: type[Exception], text: str) -> None:
    with pytest.raises(error) as err:
        PROVIDER.parse({"balance": payload}, NOW)
    assert text in str(err.value)


def test_settings_page_free_tier_in_cents() -> None:
    usage = PROVIDER.parse({"settings_html": fixture_text("amp", "settings-free-tier.html")}, NOW)
    assert usage == Usage(
        windows=(
            Window(
                id="free",
                label="Amp Free",
                used_pct=33.85,
                resets_at=NOW + timedelta(hours=338.5 / 42),
                window_seconds=86400,
                used=3.385,
                limit=10.0,
                unit="usd",
            ),
        ),
        plan="Amp Free",
    )


def test_settings_page_prefetched_key() -> None:
    usage = PROVIDER.parse({"settings_html": fixture_text("amp", "settings-page-sveltekit.html")}, NOW)
    assert usage.windows == (
        Window(id="free", label="Amp Free", used_pct=0.0, window_seconds=86400, used=0.0, limit=10.0, unit="usd"),
    )


def test_settings_page_signed_out_and_unknown() -> None:
    with pytest.raises(AuthError):
        PROVIDER.parse({"settings_html": fixture_text("amp", "settings-signed-out.html")}, NOW)
    with pytest.raises(ParseError) as err:
        PROVIDER.parse({"settings_html": "<html><body>No usage here.</body></html>"}, NOW)
    assert err.value.field == "freeTierUsage"
    with pytest.raises(ParseError):  # the object is there but lacks the figures
        PROVIDER.parse({"settings_html": '<script>x = {freeTierUsage:{quota:"a"}}</script>'}, NOW)


def test_remote_free_tier_samples_decoded_by_key() -> None:
    older = PROVIDER.parse(
        {"remote": fixture_json("amp", "remote-free-tier-with-window-hours.json"), "settings_html": None}, NOW
    )
    assert older == Usage(
        windows=(
            Window(id="free", label="Amp Free", used_pct=0, window_seconds=24 * 3600, used=0, limit=20.0, unit="usd"),
        ),
        plan="Amp Free",
    )
    current = PROVIDER.parse(
        {"remote": fixture_json("amp", "remote-free-tier-current.json"), "settings_html": None}, NOW
    )
    (free,) = current.windows
    assert (free.used, free.limit, free.used_pct, free.window_seconds) == (5.29, 10.0, 52.9, 24 * 3600)
    assert free.resets_at == (NOW + timedelta(hours=529 / 42)).replace(microsecond=0)  # full again, to the second


def test_settings_balance_sample() -> None:
    usage = PROVIDER.parse({"remote": None, "settings_html": fixture_text("amp", "settings-balance.html")}, NOW)
    assert usage == Usage(balances=(Balance(id="credits", label="Credits balance", unit="usd", remaining=1.1),))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[{"a":1,"b":2}, [3, -1], "x", 5]', {"a": [5, None], "b": "x"}),
        ('[["Date", "2026-08-01T00:00:00.000Z"]]', "2026-08-01T00:00:00.000Z"),
        ('[["Map", 1, 2], "k", 3]', {"k": 3}),
        ('[["null", "k", 1], true]', {"k": True}),
        ('[["Set", 1, 2], 1, 2]', [1, 2]),
        ('[["BigInt", "12345678901234567890"]]', 12345678901234567890),
        ("-1", None),
    ],
)
def test_devalue_decoding(text: str, expected: Any) -> None:
    from agentgauge.providers.amp.devalue import decode

    assert decode(text) == expected


@pytest.mark.parametrize("text", ["", "{}", "[]", '[{"a": 9}]', '[["Weird", 1]]', "not json", '[{"a": -9}]'])
def test_devalue_refuses_what_it_cannot_read(text: str) -> None:
    from agentgauge.providers.amp.devalue import decode

    with pytest.raises(ParseError):
        decode(text)


def test_cookie_forms() -> None:
    assert cookie_header("abc") == "session=abc"
    assert cookie_header("Cookie: theme=dark; session=abc; other=1") == "session=abc"
    with pytest.raises(ProviderConfigError):
        cookie_header("theme=dark")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.sampled_from([fixture_text("amp", n) for n in ("cli-usage-ansi.txt", "fixture-monthly-subscription.txt")]),
    cut=st.integers(min_value=0, max_value=500),
    noise=st.text(alphabet="$%/()+-:,. 0123456789AmpFreeSubscriptionWorkspace\n", max_size=40),
)
def test_any_display_text_parses_or_fails_typed(text: str, cut: int, noise: str) -> None:
    try:
        usage = parse_text(text[:cut] + noise + text[cut:])
    except ProviderError:
        return
    assert isinstance(usage, Usage)


# -- the CLI source for real -------------------------------------------------------------------------
FAKE = """#!{python}
import json, os, sys, time
with open({log!r}, "a") as log:
    log.write(json.dumps({{"pid": os.getpid(), "argv": sys.argv[1:], "no_color": os.environ.get("NO_COLOR")}}) + "\\n")
out = sys.stderr if {to_stderr!r} else sys.stdout
out.buffer.write(open({output!r}, "rb").read())
out.flush()
if {mode!r} == "hang":
    time.sleep(120)
sys.exit({code!r})
"""


def fake_amp(tmp_path: Path, output: str, *, mode: str = "", code: int = 0, to_stderr: bool = False) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "out.txt").write_text(output, encoding="utf-8")
    script = bin_dir / "amp"
    script.write_text(
        FAKE.format(
            python=sys.executable,
            log=str(tmp_path / "amp.log"),
            output=str(tmp_path / "out.txt"),
            mode=mode,
            code=code,
            to_stderr=to_stderr,
        )
    )
    script.chmod(0o755)
    return {"PATH": str(bin_dir)}


def calls(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "amp.log").read_text().splitlines()]


def assert_ended(tmp_path: Path) -> None:
    for call in calls(tmp_path):
        with pytest.raises(ProcessLookupError):
            os.kill(call["pid"], 0)


async def test_cli_on_path_runs_amp_usage(tmp_path: Path) -> None:
    env = fake_amp(tmp_path, fixture_text("amp", "cli-usage-ansi.txt"))
    usage = await fetch_usage("amp", {}, env=env, home=tmp_path)
    assert usage.windows == (
        free_dollars(4.71, 10, 0.42, 24).model_copy(update={"resets_at": usage.windows[0].resets_at}),
    )
    assert [b.id for b in usage.balances] == ["individual_credits", "workspace_meow"]
    assert calls(tmp_path) == [{"pid": calls(tmp_path)[0]["pid"], "argv": ["usage"], "no_color": "1"}]
    assert_ended(tmp_path)


async def test_cli_report_on_stderr_is_read(tmp_path: Path) -> None:
    env = fake_amp(tmp_path, fixture_text("amp", "cli-usage-megawatt.txt"), to_stderr=True)
    usage = await fetch_usage("amp", {}, env=env, home=tmp_path)
    assert usage.plan == "Megawatt"


async def test_cli_hang_is_a_timeout_and_the_process_ends(tmp_path: Path) -> None:
    env = fake_amp(tmp_path, "", mode="hang")
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("amp", {"cli_timeout": "1"}, env=env, home=tmp_path)
    assert_ended(tmp_path)


async def test_cli_not_logged_in_is_auth(tmp_path: Path) -> None:
    env = fake_amp(tmp_path, "Error: not logged in. Run `amp login` first.\n", code=1, to_stderr=True)
    with pytest.raises(AuthError) as err:
        await fetch_usage("amp", {}, env=env, home=tmp_path)
    assert "amp login" in err.value.hint


async def test_cli_other_failure_is_upstream(tmp_path: Path) -> None:
    env = fake_amp(tmp_path, "Error: ECONNREFUSED 127.0.0.1:443\n", code=3, to_stderr=True)
    with pytest.raises(UpstreamError) as err:
        await fetch_usage("amp", {}, env=env, home=tmp_path)
    assert err.value.message == "Amp CLI exited with status 3: Error: ECONNREFUSED 127.0.0.1:443"


async def test_bad_cli_timeout_is_config(tmp_path: Path) -> None:
    env = fake_amp(tmp_path, "")
    with pytest.raises(ProviderConfigError):
        await fetch_usage("amp", {"cli_timeout": "0"}, env=env, home=tmp_path)


async def test_engine_falls_back_from_a_logged_out_cli_to_the_access_token(sim: Any, tmp_path: Path) -> None:
    env = fake_amp(tmp_path, "Error: not logged in.\n", code=1, to_stderr=True)
    config = account_config("amp", {"url": f"{sim.url}/amp/url"}, env={**env, "AMP_API_KEY": TOKEN}, home=tmp_path)
    store = open_store(str(tmp_path / "m.db"), data_dir=tmp_path)
    async with Engine(config, store) as engine:
        snapshot = await engine.refresh()
    store.close()
    (amp,) = snapshot.providers
    assert amp.status == Status.OK and amp.source == "api_key" and amp.plan == "Gigawatt"
    assert len(calls(tmp_path)) == 1


async def test_demo_cli_against_the_simulator(sim: Any, tmp_path: Path) -> None:
    settings = {**sim_settings("amp", sim.url), **amp_sim.demo_settings(sim.url, tmp_path / "demo")}
    usage = await fetch_usage("amp", settings, home=tmp_path, timeout=10)
    assert usage.plan == "Gigawatt" and usage.warnings == ()
    assert [w.id for w in usage.windows] == ["free", "other", "orb"]
    assert [b.id for b in usage.balances] == ["individual_credits", "workspace_demo"]
    wrapper = (tmp_path / "demo" / "bin" / "amp.cmd").read_bytes().decode()  # what Windows runs
    assert wrapper == f'@"{sys.executable}" -IS "%~dp0amp" %*\r\n'


# -- the access token over HTTP ------------------------------------------------------------------------
def api_settings(sim: Any, **extra: str) -> dict[str, str]:
    return {"url": f"{sim.url}/amp/url", "api_key": TOKEN, **extra}


async def test_api_request_shape_and_result(sim: Any, tmp_path: Path) -> None:
    usage = await fetch_usage("amp", api_settings(sim), home=tmp_path)
    assert usage.plan == "Gigawatt" and [w.id for w in usage.windows] == ["free", "other", "orb"]
    (request,) = [r for r in sim_requests(sim) if r["path"] == "/amp/url/api/internal"][-1:]
    assert request["method"] == "POST" and request["query"] == "userDisplayBalanceInfo"
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["content-type"] == "application/json" and "cookie" not in request["headers"]
    assert json.loads(request["body"]) == {"method": "userDisplayBalanceInfo", "params": {}}


async def test_amp_api_key_variable_with_quotes(sim: Any, tmp_path: Path) -> None:
    usage = await fetch_usage(
        "amp", {"url": f"{sim.url}/amp/url"}, env={"AMP_API_KEY": f"'{TOKEN}'", "PATH": ""}, home=tmp_path
    )
    assert usage.plan == "Gigawatt"


async def test_rejected_token(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(AuthError) as err:
        await fetch_usage("amp", api_settings(sim, api_key="sgamp_wrong"), home=tmp_path)
    assert "AMP_API_KEY" in err.value.hint and "sgamp_wrong" not in err.value.message


HTTP_FAULTS: list[tuple[dict[str, Any], type[Exception]]] = [
    ({"kind": "status", "status": 401, "body": '{"error": "unauthorized"}'}, AuthError),
    (
        {
            "kind": "status",
            "status": 403,
            "body": "<html><title>Just a moment...</title>cf-chl</html>",
            "headers": {"content-type": "text/html", "cf-mitigated": "challenge"},
        },
        ChallengeError,
    ),
    ({"kind": "status", "status": 429, "body": "{}", "headers": {"retry-after": "120"}}, RateLimitedError),
    ({"kind": "status", "status": 500, "body": "internal error"}, UpstreamError),
    ({"kind": "timeout", "seconds": 3}, FetchTimeoutError),
    ({"kind": "truncate"}, ParseError),
    ({"kind": "html"}, ParseError),
]


@pytest.mark.parametrize(
    ("fault", "error"), HTTP_FAULTS, ids=lambda v: str(v.get("kind", v)) if isinstance(v, dict) else v.__name__
)
async def test_api_faults_are_typed(sim: Any, tmp_path: Path, fault: dict[str, Any], error: type[Exception]) -> None:
    add_fault(sim, "/amp/url/api/internal", **fault)
    with pytest.raises(error) as err:
        await fetch_usage("amp", api_settings(sim), home=tmp_path, timeout=1.0)
    assert TOKEN not in str(err.value)
    if isinstance(err.value, RateLimitedError):
        assert err.value.retry_after == 120


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_api_tolerates_strings_and_extra_fields(sim: Any, tmp_path: Path, kind: str) -> None:
    add_fault(sim, "/amp/url/api/internal", kind=kind)
    usage = await fetch_usage("amp", api_settings(sim), home=tmp_path)
    assert usage.plan == "Gigawatt"


# -- the session cookie over HTTP ---------------------------------------------------------------------
def cookie_settings(sim: Any, cookie: str = SESSION) -> dict[str, str]:
    return {"url": f"{sim.url}/amp/url", "cookie": cookie}


async def test_settings_page_with_a_bare_session_value(sim: Any, tmp_path: Path) -> None:
    usage = await fetch_usage("amp", cookie_settings(sim), home=tmp_path)
    assert usage.plan == "Amp Free" and usage.windows[0].limit == 10.0 and usage.windows[0].unit == "usd"
    request = [r for r in sim_requests(sim) if r["path"] == "/amp/url/settings"][-1]
    assert request["method"] == "GET" and request["headers"]["cookie"] == f"session={SESSION}"
    assert "Mozilla" in request["headers"]["user-agent"]


async def test_only_the_session_cookie_is_sent(sim: Any, tmp_path: Path) -> None:
    await fetch_usage("amp", cookie_settings(sim, f"theme=dark; session={SESSION}; ph=1"), home=tmp_path)
    request = [r for r in sim_requests(sim) if r["path"] == "/amp/url/settings"][-1]
    assert request["headers"]["cookie"] == f"session={SESSION}"


async def test_expired_session_redirects_to_sign_in(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(AuthError) as err:
        await fetch_usage("amp", cookie_settings(sim, "expired"), home=tmp_path)
    assert "redirected to sign-in" in err.value.message and "ampcode.com" in err.value.hint


def remote_moved(sim: Any) -> None:
    """The remote function's path is a hash of its file: after a rename it answers 404."""
    add_fault(
        sim,
        "/amp/url/_app/remote/",
        kind="status",
        status=404,
        body="Not found",
        headers={"content-type": "text/plain"},
    )


async def test_other_redirect_is_upstream(sim: Any, tmp_path: Path) -> None:
    remote_moved(sim)
    add_fault(sim, "/amp/url/settings", kind="status", status=302, headers={"location": "/maintenance"}, body="")
    with pytest.raises(UpstreamError):
        await fetch_usage("amp", cookie_settings(sim), home=tmp_path)


@pytest.mark.parametrize(
    ("fault", "error"),
    [f for f in HTTP_FAULTS if f[0]["kind"] not in ("truncate",)],
    ids=lambda v: str(v.get("kind", v)) if isinstance(v, dict) else v.__name__,
)
async def test_settings_page_faults_are_typed(
    sim: Any, tmp_path: Path, fault: dict[str, Any], error: type[Exception]
) -> None:
    remote_moved(sim)
    add_fault(sim, "/amp/url/settings", **fault)
    with pytest.raises(error):
        await fetch_usage("amp", cookie_settings(sim), home=tmp_path, timeout=1.0)


async def test_remote_free_tier_query_and_the_balance(sim: Any, tmp_path: Path) -> None:
    before = Mark(sim)
    usage = await fetch_usage("amp", cookie_settings(sim, f"theme=dark; session={SESSION}"), home=tmp_path)
    (free,) = usage.windows
    assert (free.id, free.limit, free.unit, free.window_seconds) == (
        "free",
        10.0,
        "usd",
        24 * 3600,
    )  # 1000 / 42 per hour
    assert [(b.id, b.unit) for b in usage.balances] == [("credits", "usd")]
    sent = before.requests("/amp/url/")
    assert [r["path"] for r in sent] == ["/amp/url/_app/remote/w6b2h6/getFreeTierUsage", "/amp/url/settings"]
    remote = sent[0]["headers"]
    assert remote["x-sveltekit-pathname"] == "/settings" and remote["accept"] == "application/json"
    assert remote["cookie"] == f"session={SESSION}"


async def test_remote_moved_reads_the_pages_own_free_tier(sim: Any, tmp_path: Path) -> None:
    remote_moved(sim)
    usage = await fetch_usage("amp", cookie_settings(sim), home=tmp_path)
    assert [w.id for w in usage.windows] == ["free"] and [b.id for b in usage.balances] == ["credits"]


async def test_a_failing_settings_page_does_not_hide_the_free_tier(sim: Any, tmp_path: Path) -> None:
    add_fault(sim, "/amp/url/settings", kind="status", status=500, body="oops")
    usage = await fetch_usage("amp", cookie_settings(sim), home=tmp_path)
    assert [w.id for w in usage.windows] == ["free"] and usage.balances == ()


async def test_remote_query_without_a_session_and_with_a_stale_one(sim: Any, tmp_path: Path) -> None:
    import httpx

    url = f"{sim.url}/amp/url/_app/remote/w6b2h6/getFreeTierUsage"
    answer = httpx.get(url, headers={"x-sveltekit-pathname": "/settings"})
    assert answer.status_code == 401 and answer.json()["type"] == "error"
    with pytest.raises(AuthError):
        PROVIDER.parse({"remote": answer.json(), "settings_html": None}, NOW)
    with pytest.raises(AuthError) as info:
        await fetch_usage("amp", cookie_settings(sim, "stale-session"), home=tmp_path)
    assert "sign-in" in info.value.message


# -- discovery and declarations ------------------------------------------------------------------------
def test_discovery_order_cli_then_token_then_cookie(tmp_path: Path) -> None:
    amp_home = tmp_path / ".amp" / "bin"
    amp_home.mkdir(parents=True)
    (amp_home / "amp").write_text("#!/bin/sh\n")
    (amp_home / "amp").chmod(0o755)
    config = account_config(
        "amp", {"cookie": SESSION}, env={"PATH": str(tmp_path), "AMP_API_KEY": TOKEN}, home=tmp_path
    )
    found = auth.resolve(PROVIDER, config.accounts[0], config)
    assert [c.auth.id for c in found] == ["cli", "api_key", "cookie"]
    assert found[0].get("cli") == str(amp_home / "amp") and found[1].origin == "environment variable AMP_API_KEY"


def test_declarations() -> None:
    assert [a.id for a in PROVIDER.auth] == ["cli", "api_key", "cookie"]
    spec = PROVIDER.setting_spec("api_key")
    assert spec is not None and spec.secret and spec.env == ("AMP_API_KEY",)
    assert PROVIDER.urls["url"] == "https://ampcode.com"
    assert PROVIDER.auth[2].browser is not None and PROVIDER.auth[2].browser.cookies[0].names == ("session",)

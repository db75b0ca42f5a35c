"""Augment: both auggie report formats and the credits JSON parsed exactly; the CLI source for real
(a fake `auggie` on PATH: recorded output, hang, logged out, failure); the web source against the
simulator with every HTTP fault; and the session keepalive: its schedule, the renewal request, the
renewed cookie kept in the secret store and used at once, and the renewal after a 401."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgauge.config import Config
from agentgauge.credentials.store import SecretStore
from agentgauge.engine import Engine
from agentgauge.errors import (
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    ProviderError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Balance, ProviderSnapshot, Status, Usage, Window
from agentgauge.providers import augment
from agentgauge.providers._base import AuthSource, Credentials
from agentgauge.providers.augment import PROVIDER, cookie_header, keepalive
from agentgauge.providers.augment import sim as augment_sim
from agentgauge.secret import Secret
from agentgauge.store import open_store
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, fixture_text
from tests.simlog import Mark

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX fake executables")  # CI is Linux

NOW = datetime(2026, 5, 31, 12, 0, tzinfo=UTC)
COOKIE = "_session=sim-augment-session"


@pytest.fixture(autouse=True)
def fresh_schedule(monkeypatch: pytest.MonkeyPatch) -> keepalive.Schedule:
    """Each test starts with no keepalive history, as a new process does."""
    schedule = keepalive.Schedule()
    monkeypatch.setattr(augment, "SCHEDULE", schedule)
    return schedule


def credits(used: float, limit: float, resets_at: datetime | None = None) -> Window:
    return Window(
        id="credits",
        label="Credits (billing cycle)",
        used_pct=round(used / limit * 100, 4),
        resets_at=resets_at,
        used=used,
        limit=limit,
        unit="credits",
    )


def parse_cli(text: str) -> Usage:
    return PROVIDER.parse({"usage_text": text}, NOW)


def parse_web(payload: Any, subscription: Any = None) -> Usage:
    return PROVIDER.parse({"credits": payload, "subscription": subscription}, NOW)


# -- the CLI text --------------------------------------------------------------------------------
def test_current_panel() -> None:
    assert parse_cli(fixture_text("augment", "auggie-account-panel.txt")) == Usage(
        windows=(credits(130_946, 450_000, datetime(2026, 6, 9, tzinfo=UTC)),), plan="Max Plan"
    )


def test_older_lines_use_the_stated_total() -> None:
    assert parse_cli(fixture_text("augment", "auggie-credits-text.txt")) == Usage(
        windows=(credits(953_170, 964_827, datetime(2026, 1, 8, tzinfo=UTC)),), plan="Max Plan"
    )


def test_days_left_when_no_end_date() -> None:
    usage = parse_cli(
        "Indie Plan 40,000 credits / month\n1,000 credits remaining\n3 days remaining in this billing cycle"
    )
    assert usage == Usage(windows=(credits(39_000, 40_000, NOW + timedelta(days=3)),), plan="Indie Plan")


def test_cli_logged_out_text_is_auth_even_without_an_exit_status() -> None:
    with pytest.raises(AuthError) as err:
        parse_cli("Authentication failed. Please run 'auggie login'.")
    assert "auggie login" in err.value.hint


@pytest.mark.parametrize("text", ["", "Welcome to Auggie\n", "Max Plan\n9 days remaining in this billing cycle\n"])
def test_cli_without_figures_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_cli(text)
    assert err.value.field == "usage_text"


def test_cli_impossible_cycle_end() -> None:
    with pytest.raises(ParseError) as err:
        parse_cli("1 remaining · 2 / 3 credits used\n1 day remaining in this billing cycle (ends 13/45/2026)")
    assert err.value.field == "ends"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.sampled_from([fixture_text("augment", n) for n in ("auggie-account-panel.txt", "auggie-credits-text.txt")]),
    cut=st.integers(min_value=0, max_value=700),
    noise=st.text(alphabet="0123456789,/·│ creditsremainingusedmonthPlan()\n", max_size=40),
)
def test_any_cli_text_parses_or_fails_typed(text: str, cut: int, noise: str) -> None:
    try:
        usage = parse_cli(text[:cut] + noise + text[cut:])
    except ProviderError:
        return
    assert isinstance(usage, Usage)


# -- the credits JSON ------------------------------------------------------------------------------
def test_credits_sample_prefers_the_available_units() -> None:
    assert parse_web(fixture_json("augment", "credits-api.json")) == Usage(windows=(credits(10, 100),))


@pytest.mark.parametrize("name", ["credits-api-no-available.json", "credits-api-zero-available.json"])
def test_credits_limit_falls_back_to_remaining_plus_consumed(name: str) -> None:
    assert parse_web(fixture_json("augment", name)) == Usage(windows=(credits(10, 25),))


def test_subscription_gives_plan_and_cycle_end() -> None:
    payload = {"usageUnitsRemaining": "300", "usageUnitsConsumedThisBillingCycle": "100", "usageUnitsAvailable": "400"}
    subscription = {"planName": "Developer Plan", "billingPeriodEnd": "2026-06-09T07:00:00.123456789Z", "x": 1}
    assert parse_web(payload, subscription) == Usage(
        windows=(credits(100, 400, datetime(2026, 6, 9, 7, tzinfo=UTC)),), plan="Developer Plan"
    )
    millis = {"billingPeriodEnd": int(datetime(2026, 6, 9, tzinfo=UTC).timestamp() * 1000)}
    assert parse_web(payload, millis).windows[0].resets_at == datetime(2026, 6, 9, tzinfo=UTC)


def test_remaining_alone_is_a_balance() -> None:
    assert parse_web({"usageUnitsRemaining": 42, "usageUnitsConsumedThisBillingCycle": None}) == Usage(
        balances=(Balance(id="credits", label="Credits", unit="credits", remaining=42.0),)
    )


@pytest.mark.parametrize("payload", [{}, {"usageBalanceStatus": "active"}, None, [1, 2]])
def test_credits_without_figures_is_a_parse_error(payload: Any) -> None:
    with pytest.raises(ParseError):
        parse_web(payload)


# -- the CLI source for real ---------------------------------------------------------------------------
FAKE = """#!{python}
import json, os, sys, time
with open({log!r}, "a") as log:
    log.write(json.dumps({{"pid": os.getpid(), "argv": sys.argv[1:]}}) + "\\n")
out = sys.stderr if {code!r} else sys.stdout
out.buffer.write(open({output!r}, "rb").read())
out.flush()
if {hang!r}:
    time.sleep(120)
sys.exit({code!r})
"""


def fake_auggie(tmp_path: Path, output: str, *, code: int = 0, hang: bool = False) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (tmp_path / "out.txt").write_text(output, encoding="utf-8")
    script = bin_dir / "auggie"
    script.write_text(
        FAKE.format(
            python=sys.executable,
            log=str(tmp_path / "auggie.log"),
            output=str(tmp_path / "out.txt"),
            code=code,
            hang=hang,
        )
    )
    script.chmod(0o755)
    return {"PATH": str(bin_dir)}


def calls(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "auggie.log").read_text().splitlines()]


async def test_cli_on_path_runs_account_status(tmp_path: Path) -> None:
    env = fake_auggie(tmp_path, fixture_text("augment", "auggie-account-panel.txt"))
    usage = await fetch_usage("augment", {}, env=env, home=tmp_path)
    assert usage.plan == "Max Plan" and usage.windows[0].used == 130_946
    (call,) = calls(tmp_path)
    assert call["argv"] == ["account", "status"]
    with pytest.raises(ProcessLookupError):
        os.kill(call["pid"], 0)


async def test_cli_hang_is_a_timeout(tmp_path: Path) -> None:
    env = fake_auggie(tmp_path, "", hang=True)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("augment", {"cli_timeout": "1"}, env=env, home=tmp_path)
    with pytest.raises(ProcessLookupError):
        os.kill(calls(tmp_path)[0]["pid"], 0)


async def test_cli_authentication_failed_is_auth(tmp_path: Path) -> None:
    env = fake_auggie(tmp_path, "Authentication failed. Run 'auggie login'.\n", code=1)
    with pytest.raises(AuthError) as err:
        await fetch_usage("augment", {}, env=env, home=tmp_path)
    assert "auggie login" in err.value.hint


async def test_cli_other_failure_is_upstream(tmp_path: Path) -> None:
    env = fake_auggie(tmp_path, "Error: fetch failed\n", code=2)
    with pytest.raises(UpstreamError) as err:
        await fetch_usage("augment", {}, env=env, home=tmp_path)
    assert err.value.message == "Augment CLI exited with status 2: Error: fetch failed"


async def refresh(config: Config, tmp_path: Path, clock: list[datetime] | None = None) -> ProviderSnapshot:
    store = open_store(str(tmp_path / "m.db"), data_dir=tmp_path)
    try:
        kwargs = {"clock": lambda: clock[0]} if clock else {}
        async with Engine(config, store, **kwargs) as engine:  # type: ignore[arg-type]
            snapshot = await engine.refresh(["augment"])
    finally:
        store.close()
    return snapshot.providers[0]


async def test_engine_falls_back_from_a_logged_out_cli_to_the_cookie(sim: Any, tmp_path: Path) -> None:
    env = fake_auggie(tmp_path, "Authentication failed.\n", code=1)
    config = account_config("augment", {"url": f"{sim.url}/augment/url", "cookie": COOKIE}, env=env, home=tmp_path)
    snap = await refresh(config, tmp_path)
    assert snap.status == Status.OK and snap.source == "cookie" and snap.plan == "Max Plan"


async def test_demo_cli_against_the_simulator(sim: Any, tmp_path: Path) -> None:
    settings = {"url": f"{sim.url}/augment/url", **augment_sim.demo_settings(sim.url, tmp_path / "demo")}
    usage = await fetch_usage("augment", settings, home=tmp_path, timeout=10)
    assert usage.plan == "Max Plan" and usage.windows[0].limit == 450_000 and usage.windows[0].resets_at
    wrapper = (tmp_path / "demo" / "bin" / "auggie.cmd").read_bytes().decode()  # what Windows runs
    assert wrapper == f'@"{sys.executable}" -IS "%~dp0auggie" %*\r\n'


# -- the web source over HTTP --------------------------------------------------------------------------
def web_settings(sim: Any, cookie: str = COOKIE) -> dict[str, str]:
    return {"url": f"{sim.url}/augment/url", "cookie": cookie}


def paths(since: Mark) -> list[str]:
    return since.paths("/augment/")


async def test_web_renews_the_session_then_reads_credits_and_subscription(sim: Any, tmp_path: Path) -> None:
    before = Mark(sim)
    usage = await fetch_usage("augment", web_settings(sim, "sim-augment-session"), home=tmp_path)  # a bare value
    assert usage.plan == "Max Plan" and usage.windows[0].limit == 450_000 and usage.windows[0].resets_at
    assert paths(before) == [
        "/augment/url/api/auth/session",
        "/augment/url/api/credits",
        "/augment/url/api/subscription",
    ]
    for request in before.requests():
        assert request["headers"]["cookie"] == COOKIE and request["method"] == "GET"


async def test_no_second_renewal_within_the_check_interval(sim: Any, tmp_path: Path) -> None:
    await fetch_usage("augment", web_settings(sim), home=tmp_path)
    before = Mark(sim)
    await fetch_usage("augment", web_settings(sim), home=tmp_path)
    assert paths(before) == ["/augment/url/api/credits", "/augment/url/api/subscription"]


async def test_subscription_failure_leaves_the_credits(sim: Any, tmp_path: Path) -> None:
    add_fault(sim, "/augment/url/api/subscription", kind="status", status=500, body="boom")
    usage = await fetch_usage("augment", web_settings(sim), home=tmp_path)
    assert usage.plan is None and usage.windows[0].limit == 450_000 and usage.windows[0].resets_at is None


async def test_rejected_cookie_is_auth_with_the_cookie_hint(sim: Any, tmp_path: Path) -> None:
    with pytest.raises(AuthError) as err:
        await fetch_usage("augment", web_settings(sim, "_session=expired-value"), home=tmp_path)
    assert "app.augmentcode.com" in err.value.hint and "expired-value" not in err.value.message


async def test_a_401_is_renewed_once_and_retried(sim: Any, tmp_path: Path, fresh_schedule: keepalive.Schedule) -> None:
    fresh_schedule.due("default", datetime.now(UTC), datetime.now(UTC) + timedelta(days=1))  # just checked
    add_fault(sim, "/augment/url/api/credits", kind="status", status=401, body='{"error": "Unauthorized"}', remaining=1)
    before = Mark(sim)
    usage = await fetch_usage("augment", web_settings(sim), home=tmp_path)
    assert usage.windows[0].limit == 450_000
    assert paths(before) == [
        "/augment/url/api/credits",
        "/augment/url/api/auth/session",
        "/augment/url/api/credits",
        "/augment/url/api/subscription",
    ]


async def test_a_missing_session_endpoint_tries_the_others(sim: Any, tmp_path: Path) -> None:
    add_fault(sim, "/augment/url/api/auth/session", kind="status", status=404, body="{}")
    before = Mark(sim)
    usage = await fetch_usage("augment", web_settings(sim), home=tmp_path)
    assert usage.windows[0].limit == 450_000
    assert paths(before)[:3] == [
        "/augment/url/api/auth/session",
        "/augment/url/api/session",
        "/augment/url/api/user",
    ]


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
    ("fault", "error"), HTTP_FAULTS, ids=lambda v: str(v.get("status", v.get("kind"))) if isinstance(v, dict) else ""
)
async def test_credits_faults_are_typed(
    sim: Any, tmp_path: Path, fault: dict[str, Any], error: type[Exception]
) -> None:
    add_fault(sim, "/augment/url/api/credits", **fault)
    with pytest.raises(error) as err:
        await fetch_usage("augment", web_settings(sim), home=tmp_path, timeout=1.0)
    assert "sim-augment-session" not in str(err.value)
    if isinstance(err.value, RateLimitedError):
        assert err.value.retry_after == 120


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_credits_tolerate_strings_and_extra_fields(sim: Any, tmp_path: Path, kind: str) -> None:
    add_fault(sim, "/augment/url/api/credits", kind=kind)
    usage = await fetch_usage("augment", web_settings(sim), home=tmp_path)
    assert usage.windows[0].limit == 450_000


async def test_a_failing_session_endpoint_never_fails_the_fetch(sim: Any, tmp_path: Path) -> None:
    add_fault(sim, "/augment/url/api/auth/session", kind="status", status=500, body="boom")
    usage = await fetch_usage("augment", web_settings(sim), home=tmp_path)
    assert usage.windows[0].limit == 450_000


# -- the keepalive with the engine: kept in the secret store, used at once, renewed before expiry -------------
def stored_cookie() -> Any:
    return next(e for e in SecretStore().entries() if e.provider == "augment" and e.setting == "cookie")


def session_pings(since: Mark) -> int:
    return len([r for r in since.requests() if r["path"] == "/augment/url/api/auth/session"])


async def test_long_running_engine_keeps_the_session_alive(sim: Any, tmp_path: Path) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    clock = [start]
    config = account_config("augment", {"url": f"{sim.url}/augment/url", "cookie": COOKIE}, home=tmp_path)
    pings = Mark(sim)
    store = open_store(str(tmp_path / "serve.db"), data_dir=tmp_path)
    try:
        async with Engine(config, store, clock=lambda: clock[0]) as engine:
            assert (await engine.refresh(["augment"])).providers[0].status == Status.OK
            assert session_pings(pings) == 1  # a pasted cookie has no known expiry: renewed at once
            kept = stored_cookie()
            assert kept.value.reveal() == COOKIE and kept.origin == "session kept alive"
            assert kept.expires_at == start + timedelta(seconds=augment_sim.SESSION_SECONDS)
            for minutes, renewed in ((3, 0), (10, 0), (16, 0), (56, 1)):
                clock[0] = start + timedelta(minutes=minutes)
                snap = (await engine.refresh(["augment"])).providers[0]
                assert snap.status == Status.OK and snap.fetched_at == clock[0]
                assert session_pings(pings) == 1 + renewed, minutes
    finally:
        store.close()
    assert stored_cookie().expires_at == start + timedelta(minutes=56, seconds=augment_sim.SESSION_SECONDS)


# -- the schedule and the cookie helpers ---------------------------------------------------------------
def test_schedule_checks_every_five_minutes_and_renews_five_minutes_before_expiry() -> None:
    schedule = keepalive.Schedule()
    expiry = NOW + timedelta(minutes=12)
    steps = [(0, False), (4, False), (6, False), (7.5, False), (11, True)]  # minutes after NOW, renew?
    for minutes, renew in steps:
        assert schedule.due("a", NOW + timedelta(minutes=minutes), expiry) is renew, minutes
    # t=0: 12 min left; t=4: not looked at (checked 4 min ago); t=6: 6 min left; t=7.5: 4.5 min left
    # but not looked at (checked 1.5 min ago); t=11: looked at, 1 min left -> renew.


def test_schedule_never_renews_more_often_than_every_two_minutes() -> None:
    schedule = keepalive.Schedule()
    schedule.tried("a", NOW, renewed=False)
    assert not schedule.may_try("a", NOW + timedelta(seconds=119))
    assert schedule.may_try("a", NOW + timedelta(seconds=120))
    assert not schedule.due("a", NOW + timedelta(seconds=60), NOW + timedelta(seconds=30))  # expiring, but too soon


def test_schedule_renews_cookies_without_expiry_every_thirty_minutes() -> None:
    schedule = keepalive.Schedule()
    assert schedule.due("a", NOW, None)  # never renewed: now
    schedule.tried("a", NOW, renewed=True)
    assert not schedule.due("a", NOW + timedelta(minutes=29), None)
    assert schedule.due("a", NOW + timedelta(minutes=35), None)


def test_merge_set_cookies() -> None:
    renewal = keepalive.merge_set_cookies(
        "_session=old; theme=dark; stale=1",
        [
            "_session=new; Path=/; Max-Age=600; Expires=Wed, 01 Jan 2031 00:00:00 GMT; HttpOnly",
            "extra=2; Expires=Sun, 31 May 2026 14:00:00 GMT",
            "stale=; Max-Age=0",
            "broken \x00 cookie",
        ],
        NOW,
    )
    assert renewal.cookie == "_session=new; theme=dark; extra=2"
    assert renewal.expires_at == NOW + timedelta(minutes=10)  # Max-Age wins over Expires; earliest of the set
    assert keepalive.merge_set_cookies("_session=a", [], NOW) == keepalive.Renewal("_session=a", None)


def test_kept_cookie_origin_stays_a_browser_login() -> None:
    source = PROVIDER.auth[1]

    def creds(origin: str, kind: str, **details: str) -> Credentials:
        return Credentials(source, {"cookie": Secret("x")}, origin, details, kind)

    assert keepalive.keep_origin(creds("Firefox profile abc", "browser", browser="Firefox profile abc")) == (
        "browser:Firefox profile abc (session kept alive)"
    )
    stored = "agentgauge secret store (browser:Chrome Default (session kept alive))"
    assert keepalive.keep_origin(creds(stored, "cookie")) == "browser:Chrome Default (session kept alive)"
    assert keepalive.keep_origin(creds("environment variable AGENTGAUGE_AUGMENT_COOKIE", "cookie")) == (
        "session kept alive"
    )
    assert keepalive.expiry_of(creds("x", "browser", expires_at="2026-06-01T00:00:00+00:00")) == datetime(
        2026, 6, 1, tzinfo=UTC
    )
    assert keepalive.expiry_of(creds("x", "cookie", expires_at="1780272000")) == datetime(2026, 6, 1, tzinfo=UTC)
    assert keepalive.expiry_of(creds("x", "cookie", expires_at="garbage")) is None
    assert isinstance(source, AuthSource)


def test_cookie_forms_and_declarations() -> None:
    assert cookie_header("abc") == "_session=abc"
    assert cookie_header("Cookie: a=1; _session=b") == "a=1; _session=b"
    assert [a.id for a in PROVIDER.auth] == ["cli", "cookie"]
    rule = PROVIDER.auth[1].browser.cookies[0]  # type: ignore[union-attr]
    assert rule.header and rule.chunked and rule.names[0] == "_session" and "augmentcode.com" in rule.domains

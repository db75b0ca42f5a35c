"""Ollama: the settings-page samples scraped exactly, the cookie sent without following
redirects, and expired sessions, challenges and odd pages mapped to typed errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agentgauge.errors import (
    AgentGaugeError,
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    RateLimitedError,
    UpstreamError,
)
from agentgauge.models import Usage, Window
from agentgauge.providers.ollama import PROVIDER, cookie_header, is_signin_redirect, parse_settings_html, relative_reset
from tests.harness import add_challenge, add_fault, fetch_usage, fixture_text, sim_requests, sim_settings

NOW = datetime(2026, 1, 30, 15, 0, tzinfo=UTC)
SESSION = "sim-ollama-session"
PREFIX = "/ollama/url/"
HINT = "log in to ollama.com in your browser again, then refresh"


def parse(html: str) -> Usage:
    return PROVIDER.parse({"settings_html": html}, NOW)


def settings_requests(sim: Any) -> list[dict[str, Any]]:
    return [r for r in sim_requests(sim) if r["path"].startswith(PREFIX)]


def assert_no_secret(exc: AgentGaugeError) -> None:
    assert SESSION not in str(exc)
    assert SESSION not in exc.hint


# -- samples ------------------------------------------------------------------------------------
def test_cloud_usage_sample() -> None:
    assert parse(fixture_text("ollama", "settings-cloud-usage.html")) == Usage(
        windows=(
            Window(id="session", label="Session", used_pct=0.1, resets_at=datetime(2026, 1, 30, 18, tzinfo=UTC)),
            Window(
                id="weekly",
                label="Weekly",
                used_pct=0.7,
                resets_at=datetime(2026, 2, 2, tzinfo=UTC),
                window_seconds=604800,
            ),
        ),
        plan="free",
    )


def test_hourly_usage_sample() -> None:
    assert parse(fixture_text("ollama", "settings-hourly-usage.html")) == Usage(
        windows=(
            Window(
                id="hourly",
                label="Hourly",
                used_pct=2.5,
                resets_at=datetime(2026, 1, 30, 18, tzinfo=UTC),
                window_seconds=3600,
            ),
            Window(
                id="weekly",
                label="Weekly",
                used_pct=4.2,
                resets_at=datetime(2026, 2, 2, tzinfo=UTC),
                window_seconds=604800,
            ),
        ),
        plan=None,
    )


def test_signin_page_sample_is_an_auth_error() -> None:
    with pytest.raises(AuthError) as info:
        parse(fixture_text("ollama", "signin-page.html"))
    assert info.value.hint == HINT


def test_page_without_usage_is_a_parse_error_naming_cloud_usage() -> None:
    with pytest.raises(ParseError) as info:
        parse("<html><body><h1>Settings</h1><p>Account</p></body></html>")
    assert info.value.field == "Cloud Usage"


def test_block_without_percent_is_a_warning_naming_it() -> None:
    usage = parse(
        "<div><span>Session usage</span><span>3% used</span></div>"
        "<div><span>Weekly usage</span><span>unavailable</span></div>"
    )
    assert [(w.id, w.used_pct) for w in usage.windows] == [("session", 3.0)]
    assert [w.message for w in usage.warnings] == ["Ollama: 'Weekly usage' has no 'N% used'"]


@pytest.mark.parametrize("badge", ["pro", "Max"])
def test_plan_badges_and_over_100_percent(badge: str) -> None:
    html = (
        f"<h2><span>Cloud Usage</span><span>{badge}</span></h2>"
        "<div><span>Session usage</span><span>100% used</span></div>"
        "<div><span>Weekly usage</span><span>104.5 % used</span>"
        '<time data-time="2026-02-02T00:00:00.123456789Z">soon</time></div>'
    )
    usage = parse(html)
    assert usage.plan == badge.lower()
    assert [(w.id, w.used_pct) for w in usage.windows] == [("session", 100.0), ("weekly", 104.5)]
    assert usage.windows[0].resets_at is None  # no data-time in its block: unknown, not borrowed
    assert usage.windows[1].resets_at is not None
    assert usage.windows[1].resets_at.replace(microsecond=0) == datetime(2026, 2, 2, tzinfo=UTC)


def test_bad_reset_time_is_a_warning_naming_the_field() -> None:
    usage = parse('<span>Weekly usage</span><span>1% used</span><div data-time="next tuesday">x</div>')
    assert [(w.id, w.used_pct, w.resets_at) for w in usage.windows] == [("weekly", 1.0, None)]
    assert len(usage.warnings) == 1 and "'Weekly usage.data-time'" in usage.warnings[0].message


def test_relative_reset_text_is_read_against_now() -> None:
    """Without a ``data-time`` (or with one that cannot be read) "Resets in 2 hours" gives the time."""
    html = (
        "<div><span>Session usage</span><span>12% used</span><div>Resets in 2 hours</div></div>"
        '<div><span>Weekly usage</span><span>40% used</span><div data-time="soon">Resets in 3 days</div></div>'
        '<div><span>Hourly usage</span><span>1% used</span><div class="local-time">Resets in an hour</div></div>'
    )
    usage = parse(html)
    assert [(w.id, w.resets_at) for w in usage.windows] == [
        ("session", datetime(2026, 1, 30, 17, 0, tzinfo=UTC)),
        ("weekly", datetime(2026, 2, 2, 15, 0, tzinfo=UTC)),
        ("hourly", datetime(2026, 1, 30, 16, 0, tzinfo=UTC)),
    ]
    assert len(usage.warnings) == 1 and "Weekly usage.data-time" in usage.warnings[0].message


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("Resets in 3 hours", 3),
        ("resets in 45 minutes", 0.75),
        ("Resets in 1 day and 4 hours", 28),
        ("Resets in 2h 30m", 2.5),
        ("Resets in one week", 168),
        ("Resets in 1,5 hours", 1.5),
        ("Resets tomorrow", None),
        ("Resets in a few seconds", None),
        ("in 3 hours", None),
    ],
)
def test_relative_reset(text: str, hours: float | None) -> None:
    expected = None if hours is None else NOW + timedelta(hours=hours)
    assert relative_reset(text, NOW) == expected


def test_missing_html_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        PROVIDER.parse({}, NOW)


def test_direct_helpers() -> None:
    assert parse_settings_html(fixture_text("ollama", "settings-cloud-usage.html"), NOW).plan == "free"
    assert cookie_header("abc") == "wos-session=abc"
    assert cookie_header("  Cookie: wos-session=abc; other=1 ") == "wos-session=abc; other=1"
    assert is_signin_redirect("https://ollama.com/signin?next=/settings")
    assert is_signin_redirect("/login")
    assert is_signin_redirect("https://api.workos.com/user_management/authorize?client_id=x")
    assert not is_signin_redirect("https://ollama.com/settings/")


def test_declarations() -> None:
    assert [(a.id, a.source, a.requires) for a in PROVIDER.auth] == [("cookie", "cookie", ("cookie",))]
    assert [a.label for a in PROVIDER.auth] == ["ollama.com cookie"]
    (rule,) = PROVIDER.auth[0].browser.cookies if PROVIDER.auth[0].browser else ()
    assert rule.names[:2] == ("wos-session", "__Secure-session") and rule.header
    assert {s.name: s.env_var("ollama") for s in PROVIDER.settings} == {
        "cookie": "AGENTGAUGE_OLLAMA_COOKIE",
        "url": "AGENTGAUGE_OLLAMA_URL",
    }
    assert PROVIDER.secret_settings() == ("cookie",)


# -- fetch through the simulator --------------------------------------------------------------------
async def test_fetch_with_full_cookie_header(sim: Any) -> None:
    settings = sim_settings("ollama", sim.url)
    usage = await fetch_usage("ollama", settings)
    assert usage.plan == "pro"
    assert [(w.id, w.window_seconds) for w in usage.windows] == [("session", None), ("weekly", 604800)]
    assert all(0 <= w.used_pct <= 100 and w.resets_at is not None for w in usage.windows)
    request = settings_requests(sim)[-1]
    headers = request["headers"]
    assert request["path"] == "/ollama/url/settings"
    assert headers["cookie"] == f"wos-session={SESSION}"
    assert headers["origin"] == settings["url"]
    assert headers["referer"] == settings["url"] + "/settings"
    assert headers["user-agent"].startswith("Mozilla/5.0")


async def test_fetch_with_bare_session_value_and_extra_cookies(sim: Any) -> None:
    usage = await fetch_usage("ollama", sim_settings("ollama", sim.url, cookie=SESSION))
    assert [w.id for w in usage.windows] == ["session", "weekly"]
    assert settings_requests(sim)[-1]["headers"]["cookie"] == f"wos-session={SESSION}"
    full = f"theme=dark; wos-session={SESSION}"
    await fetch_usage("ollama", sim_settings("ollama", sim.url, cookie=full))
    assert settings_requests(sim)[-1]["headers"]["cookie"] == full


async def test_legacy_secure_session_cookie_is_accepted(sim: Any) -> None:
    """Logins from before WorkOS carry ``__Secure-session``: the simulator takes it like ollama.com."""
    cookie = f"__Secure-session={SESSION}#work; theme=dark"
    usage = await fetch_usage("ollama", sim_settings("ollama", sim.url, cookie=cookie))
    assert [w.id for w in usage.windows] == ["session", "weekly"]
    assert settings_requests(sim)[-1]["headers"]["cookie"] == cookie
    default = await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert [w.used_pct for w in usage.windows] != [w.used_pct for w in default.windows]  # another account
    stale = httpx.get(f"{sim.url}{PREFIX}settings", headers={"Cookie": "__Secure-session=stale"})
    assert stale.status_code == 302 and stale.headers["location"].endswith("/signin")


async def test_relative_reset_over_http(sim: Any) -> None:
    body = (
        "<html><body><h2><span>Cloud Usage</span><span>max</span></h2>"
        "<div><span>Session usage</span><span>55.5% used</span><div class='local-time'>Resets in 2 hours</div></div>"
        "</body></html>"
    )
    add_fault(sim, PREFIX, "html", body=body)
    before = datetime.now(UTC)
    usage = await fetch_usage("ollama", sim_settings("ollama", sim.url))
    (session,) = usage.windows
    assert (usage.plan, session.used_pct) == ("max", 55.5)
    assert session.resets_at is not None
    assert (
        before + timedelta(hours=2) - timedelta(seconds=1)
        <= session.resets_at
        <= datetime.now(UTC) + timedelta(hours=2)
    )


async def test_usage_moves_with_the_simulator_clock(sim: Any) -> None:
    before = await fetch_usage("ollama", sim_settings("ollama", sim.url))
    httpx.post(f"{sim.url}/__sim/advance", json={"seconds": 2 * 3600}).raise_for_status()
    try:
        after = await fetch_usage("ollama", sim_settings("ollama", sim.url))
    finally:
        httpx.post(f"{sim.url}/__sim/advance", json={"seconds": -2 * 3600}).raise_for_status()
    assert (after.windows[0].used_pct, after.windows[0].resets_at) != (
        before.windows[0].used_pct,
        before.windows[0].resets_at,
    )


async def test_expired_cookie_redirect_is_an_auth_error_and_not_followed(sim: Any) -> None:
    with pytest.raises(AuthError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url, cookie="expired-session"))
    assert info.value.hint == HINT
    assert info.value.status_code == 302
    assert "expired-session" not in str(info.value)
    last = settings_requests(sim)[-1]
    assert last["path"] == "/ollama/url/settings"  # the /signin redirect was not followed
    assert last["headers"]["cookie"] == "wos-session=expired-session"


async def test_sim_signin_page_is_the_sample_shape(sim: Any) -> None:
    page = httpx.get(f"{sim.url}/ollama/url/signin")
    assert page.status_code == 200
    with pytest.raises(AuthError):
        parse(page.text)


@pytest.mark.parametrize(
    "location",
    [
        "/signin",
        "https://ollama.com/login?next=%2Fsettings",
        "https://api.workos.com/user_management/authorize?client_id=client_x&redirect_uri=https%3A%2F%2Follama.com",
    ],
)
async def test_signin_redirects(sim: Any, location: str) -> None:
    add_fault(sim, PREFIX, "status", status=302, headers={"location": location}, body="")
    with pytest.raises(AuthError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert info.value.hint == HINT
    assert settings_requests(sim)[-1]["path"] == "/ollama/url/settings"  # no redirect followed


async def test_other_redirect_is_upstream(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=301, headers={"location": "https://ollama.com/maintenance"}, body="")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert not isinstance(info.value, AuthError)
    assert info.value.status_code == 301


async def test_signin_page_with_200_is_an_auth_error(sim: Any) -> None:
    add_fault(
        sim, PREFIX, "body", headers={"content-type": "text/html"}, body=fixture_text("ollama", "signin-page.html")
    )
    with pytest.raises(AuthError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert info.value.hint == HINT
    assert_no_secret(info.value)


async def test_401_is_an_auth_error_with_the_hint(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=401, body="unauthorized")
    with pytest.raises(AuthError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert info.value.hint == HINT
    assert info.value.status_code == 401
    assert_no_secret(info.value)


async def test_cloudflare_challenge(sim: Any) -> None:
    add_challenge(sim, PREFIX)
    with pytest.raises(ChallengeError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert_no_secret(info.value)


async def test_429_carries_retry_after(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="slow down")
    with pytest.raises(RateLimitedError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert info.value.retry_after == pytest.approx(30, abs=1)
    assert_no_secret(info.value)


async def test_500_is_upstream(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=500, body="<html>oops</html>")
    with pytest.raises(UpstreamError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert info.value.status_code == 500
    assert_no_secret(info.value)


async def test_unrelated_html_page_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "html")
    with pytest.raises(ParseError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert info.value.field == "Cloud Usage"
    assert_no_secret(info.value)


async def test_body_with_only_one_window(sim: Any) -> None:
    add_fault(
        sim,
        PREFIX,
        "body",
        headers={"content-type": "text/html"},
        body='<span>Weekly usage</span><span>12.25% used</span><i data-time="2026-02-02T00:00:00Z"></i>',
    )
    usage = await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert usage == Usage(
        windows=(
            Window(
                id="weekly",
                label="Weekly",
                used_pct=12.25,
                resets_at=datetime(2026, 2, 2, tzinfo=UTC),
                window_seconds=604800,
            ),
        )
    )


async def test_truncated_page_is_a_parse_error(sim: Any) -> None:
    add_fault(sim, PREFIX, "truncate")
    with pytest.raises(ParseError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url))
    assert info.value.field == "html"


def test_fragment_without_html_element_is_not_truncated() -> None:
    # The samples are fragments (no <html>): only a document that opens <html> must close it.
    page = "<html><body>" + fixture_text("ollama", "settings-cloud-usage.html") + "</body></html>"
    assert parse(page) == parse(fixture_text("ollama", "settings-cloud-usage.html"))
    with pytest.raises(ParseError):
        parse(page[: len(page) // 2])


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError) as info:
        await fetch_usage("ollama", sim_settings("ollama", sim.url), timeout=0.5)
    assert_no_secret(info.value)

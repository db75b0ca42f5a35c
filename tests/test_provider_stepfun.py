"""StepFun: the rate-limit samples parsed exactly (fractions LEFT; the Coding Plan's 5-hour and weekly
windows, the Token Plan's monthly credit pool weighted by its buckets), the token's device binding,
the web app's password login over real HTTP (kept in the secret store, redone when refused), the
plan name, discovery and every failure through the simulator."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from agentgauge.credentials import resolve as auth
from agentgauge.errors import AuthError, FetchTimeoutError, ParseError, RateLimitedError, UpstreamError
from agentgauge.models import Usage, Window
from agentgauge.providers._base import FetchContext
from agentgauge.providers.stepfun import PROVIDER
from agentgauge.providers.stepfun.parsing import device_id, login_webid, token_from_cookie
from tests.harness import account_config, add_fault, fetch_usage, fixture_json, sim_requests, sim_settings
from tests.simlog import Mark

NOW = datetime(2026, 8, 2, 12, 0, tzinfo=UTC)
TOKEN = PROVIDER.sim_credentials["cookie"]
PREFIX = "/stepfun/url/"
RATE = "/stepfun/url/api/step.openapi.devcenter.Dashboard/QueryStepPlanRateLimit"


def parse(payload: Any, status: Any = None) -> Usage:
    return PROVIDER.parse({"rate_limit": payload, "plan_status": status}, NOW)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# -- samples ------------------------------------------------------------------------------------
def test_coding_plan_sample() -> None:
    usage = parse(fixture_json("stepfun", "rate-limit-coding-plan.json"), fixture_json("stepfun", "plan-status.json"))
    assert usage == Usage(
        windows=(
            Window(id="session", label="Session (5h)", used_pct=0.0, resets_at=at(1777528800), window_seconds=18000),
            Window(id="weekly", label="Weekly", used_pct=0.2185, resets_at=at(1777899600), window_seconds=604800),
        ),
        plan="Plus",
    )


def test_credit_plan_sample_weighs_its_bucket() -> None:
    usage = parse(fixture_json("stepfun", "rate-limit-credit-plan.json"))
    (window,) = usage.windows
    assert (window.id, window.resets_at, window.window_seconds) == ("monthly", at(1786288293), None)
    assert window.used_pct == pytest.approx((1 - 385643853 / 400000000) * 100, abs=1e-3)


def test_credit_plan_without_a_reset_sample() -> None:
    usage = parse(fixture_json("stepfun", "rate-limit-credit-no-reset.json"))
    assert usage.windows == (Window(id="monthly", label="Credits (monthly)", used_pct=50.0),)


def test_mixed_buckets_are_weighted_never_added() -> None:
    (window,) = parse(fixture_json("stepfun", "rate-limit-credit-buckets-mixed.json")).windows
    assert window.used_pct == 42.5  # (80 + 150) / (100 + 300) left


# -- hand-made variations ------------------------------------------------------------------------
def test_variations() -> None:
    ints = parse(
        {
            "status": "1",
            "five_hour_usage_left_rate": "0.75",
            "weekly_usage_left_rate": 0,
            "five_hour_usage_reset_time": 1746000000,
            "weekly_usage_reset_time": "1746500000",
            "x": 1,
        }
    )
    assert [w.used_pct for w in ints.windows] == [25.0, 100.0]
    incomplete = parse(
        {
            "status": 1,
            "plan_family": 2,
            "plan_credit_rate_limit": {
                "subscription_credit_left_rate": 0.6,
                "topup_credit_left_rate": 0.4,
                "credit_buckets": [{"credit_total": "100"}],
            },
        }
    )
    assert incomplete.windows[0].used_pct == 40.0  # buckets incomplete: the subscription rate
    topup = parse({"status": 1, "plan_family": 2, "plan_credit_rate_limit": {"topup_credit_left_rate": 1.2}})
    assert topup.windows[0].used_pct == 0.0
    live_wins = parse(
        {
            "status": 1,
            "plan_family": 2,
            "five_hour_usage_left_rate": 0.5,
            "five_hour_usage_reset_time": "1",
            "weekly_usage_left_rate": 1,
            "weekly_usage_reset_time": "0",
            "plan_credit_rate_limit": {"subscription_credit_left_rate": 0.1},
        }
    )
    assert [w.id for w in live_wins.windows] == ["session", "weekly"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "$"),
        ({"status": 1}, "five_hour_usage_left_rate"),
        ({"status": 1, "plan_family": 2}, "plan_credit_rate_limit"),
        ({}, "status"),
    ],
)
def test_shapes_it_does_not_know_name_the_field(payload: Any, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(payload)
    assert info.value.field == field


def test_failed_status_envelopes() -> None:
    with pytest.raises(AuthError, match="Unauthorized"):
        parse({"status": 0, "message": "Unauthorized", "five_hour_usage_left_rate": 0.75})
    with pytest.raises(UpstreamError, match="busy"):
        parse({"status": 0, "desc": "system busy"})


def test_a_broken_plan_status_only_drops_the_plan() -> None:
    sample = fixture_json("stepfun", "rate-limit-coding-plan.json")
    assert parse(sample, {"status": "n/a"}).plan is None and parse(sample, {"status": 0}).plan is None


def test_tokens_and_device_binding() -> None:
    assert device_id(TOKEN) == "sim-web-id"
    assert device_id(f"x.e30.y...{TOKEN}") == "sim-web-id"  # the refresh half first
    assert device_id("not-a-jwt") is None
    assert token_from_cookie(f"Cookie: Oasis-Token={TOKEN}; Oasis-Webid=w; other=1") == (TOKEN, "w")
    assert token_from_cookie(f"  '{TOKEN}' ") == (TOKEN, None)
    with pytest.raises(AuthError, match="no Oasis-Token"):
        token_from_cookie("INGRESSCOOKIE=x")
    assert login_webid("a") == login_webid("a") != login_webid("b") and len(login_webid("a")) == 40


def test_declarations() -> None:
    assert {s.name: (s.env_var("stepfun"), s.env) for s in PROVIDER.settings} == {
        "cookie": ("AGENTGAUGE_STEPFUN_COOKIE", ("STEPFUN_TOKEN",)),
        "username": ("AGENTGAUGE_STEPFUN_USERNAME", ("STEPFUN_USERNAME",)),
        "password": ("AGENTGAUGE_STEPFUN_PASSWORD", ("STEPFUN_PASSWORD",)),
        "session_token": ("AGENTGAUGE_STEPFUN_SESSION_TOKEN", ()),
        "url": ("AGENTGAUGE_STEPFUN_URL", ()),
    }


# -- fetch through the simulator -----------------------------------------------------------------
def password_settings(sim: Any, **overrides: str) -> dict[str, str]:
    settings = sim_settings("stepfun", sim.url, **overrides)
    settings.pop("cookie")
    return settings


async def test_fetch_with_the_token(sim: Any) -> None:
    usage = await fetch_usage("stepfun", sim_settings("stepfun", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly"] and usage.plan == "Plus"
    request = [r for r in sim_requests(sim) if r["path"] == RATE][-1]
    assert request["method"] == "POST" and request["body"] == "{}"
    assert request["headers"]["oasis-webid"] == "sim-web-id" and request["headers"]["oasis-appid"] == "10300"
    assert request["headers"]["cookie"] == f"Oasis-Token={TOKEN}; Oasis-Webid=sim-web-id"


async def test_a_token_plan_account(sim: Any) -> None:
    usage = await fetch_usage("stepfun", sim_settings("stepfun", sim.url, cookie=f"Oasis-Token={TOKEN}#credit"))
    assert [w.id for w in usage.windows] == ["monthly"] and usage.plan == "Mini"


async def test_password_login_runs_the_web_apps_flow(sim: Any) -> None:
    usage = await fetch_usage("stepfun", password_settings(sim, password="sim-stepfun-password#pw"))
    assert [w.id for w in usage.windows] == ["session", "weekly"]
    paths = [r["path"] for r in sim_requests(sim)][-5:]
    assert paths[:3] == [
        "/stepfun/url/",
        "/stepfun/url/passport/proto.api.passport.v1.PassportService/RegisterDevice",
        "/stepfun/url/passport/proto.api.passport.v1.PassportService/SignInByPassword",
    ]
    sign_in = [r for r in sim_requests(sim) if r["path"].endswith("SignInByPassword")][-1]
    assert "INGRESSCOOKIE=" in sign_in["headers"]["cookie"] and "Oasis-Token=" in sign_in["headers"]["cookie"]
    assert sign_in["headers"]["oasis-webid"] == login_webid("sim-stepfun-user")


class Sink:
    def __init__(self) -> None:
        self.saved: list[Mapping[str, str]] = []

    def save(self, values: Mapping[str, str], *, expires_at: datetime | None, origin: str) -> None:
        assert expires_at is not None and origin == "stepfun-login"
        self.saved.append(dict(values))


async def _fetch_with_sink(settings: dict[str, str], sink: Sink) -> Usage:
    config = account_config("stepfun", settings)
    creds = next(c for c in auth.resolve(PROVIDER, config.accounts[0], config) if c.auth.id == "password")
    async with httpx.AsyncClient(timeout=5) as client:
        ctx = FetchContext(
            PROVIDER,
            "default",
            client,
            auth.plain_settings(PROVIDER, config.accounts[0], config),
            creds,
            lambda: datetime.now(UTC),
            logging.getLogger("test"),
            tokens=sink,
        )
        return PROVIDER.parse(await PROVIDER.fetch(ctx), datetime.now(UTC))


async def test_the_login_token_is_kept_and_reused_then_redone_when_refused(sim: Any) -> None:
    sink = Sink()
    assert (await _fetch_with_sink(password_settings(sim), sink)).windows
    (kept,) = sink.saved
    since = Mark(sim)
    assert (await _fetch_with_sink(password_settings(sim, session_token=kept["session_token"]), sink)).windows
    assert not [r for r in since.requests() if r["path"].endswith("SignInByPassword")]  # reused
    stale = kept["session_token"].replace("...", "...x", 1)  # a token the platform no longer knows
    assert (await _fetch_with_sink(password_settings(sim, session_token=stale), sink)).windows
    assert len(sink.saved) == 2  # logged in again and kept the new token


async def test_wrong_password(sim: Any) -> None:
    with pytest.raises(AuthError, match="password login was refused") as info:
        await fetch_usage("stepfun", password_settings(sim, password="wrong-password"))
    assert "wrong-password" not in str(info.value)


async def test_credentials_from_the_ecosystem_variables(sim: Any) -> None:
    settings = sim_settings("stepfun", sim.url)
    for name in ("cookie", "username", "password"):
        settings.pop(name)
    assert (await fetch_usage("stepfun", settings, env={"STEPFUN_TOKEN": TOKEN})).windows
    env = {"STEPFUN_USERNAME": "sim-stepfun-user", "STEPFUN_PASSWORD": "sim-stepfun-password"}
    assert (await fetch_usage("stepfun", settings, env=env)).windows


def test_the_sim_refuses_a_token_sent_for_another_device(sim: Any) -> None:
    url = f"{sim.url}{RATE}"
    ok = httpx.post(
        url, json={}, headers={"oasis-webid": "sim-web-id", "oasis-appid": "10300", "Cookie": f"Oasis-Token={TOKEN}"}
    )
    stolen = httpx.post(
        url, json={}, headers={"oasis-webid": "other", "oasis-appid": "10300", "Cookie": f"Oasis-Token={TOKEN}"}
    )
    assert ok.status_code == 200 and stolen.status_code == 401 and "embezzled" in stolen.json()["message"]


async def test_429_and_500(sim: Any) -> None:
    add_fault(sim, PREFIX, "status", status=429, headers={"retry-after": "30"}, body="{}", remaining=2)
    with pytest.raises(RateLimitedError):
        await fetch_usage("stepfun", sim_settings("stepfun", sim.url))
    add_fault(sim, PREFIX, "status", status=500, body="{}")
    with pytest.raises(UpstreamError):
        await fetch_usage("stepfun", sim_settings("stepfun", sim.url))


@pytest.mark.parametrize(("kind", "match"), [("truncate", "malformed or truncated"), ("html", "HTML")])
async def test_bad_bodies_are_parse_errors(sim: Any, kind: str, match: str) -> None:
    add_fault(sim, PREFIX, kind)
    with pytest.raises(ParseError, match=match):
        await fetch_usage("stepfun", sim_settings("stepfun", sim.url))


@pytest.mark.parametrize("kind", ["stringify_numbers", "extra_fields"])
async def test_transformed_payloads_still_parse(sim: Any, kind: str) -> None:
    add_fault(sim, PREFIX, kind)
    usage = await fetch_usage("stepfun", sim_settings("stepfun", sim.url))
    assert [w.id for w in usage.windows] == ["session", "weekly"] and usage.plan == "Plus"


async def test_timeout(sim: Any) -> None:
    add_fault(sim, PREFIX, "timeout", seconds=3)
    with pytest.raises(FetchTimeoutError):
        await fetch_usage("stepfun", sim_settings("stepfun", sim.url), timeout=0.5)

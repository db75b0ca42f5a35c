"""``GET /metrics`` from a real server: every family and value read back with the Prometheus parser,
``promtool check metrics`` clean, the API's auth, and the fetch-error counter fed by the engine."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from agentgauge.config import AccountConfig
from agentgauge.engine import Engine
from agentgauge.models import ErrorInfo, ErrorKind, Status
from agentgauge.providers import registry
from agentgauge.query import Query
from agentgauge.web.app import create_app
from agentgauge.web.metrics import FetchErrors, UsageCollector, render
from tests.alerting import START, Clock, account, config_with, forecast, served, window
from tests.harness import add_fault, sim_settings

FAR_FUTURE = 4_000_000_000.0
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"  # Debian's prometheus package (scripts/test)


def seed(store) -> None:  # type: ignore[no-untyped-def]
    ok = account(
        window("session", 42.5, resets_at=START + timedelta(hours=2), window_seconds=18000, label="Session (5h)"),
        window(
            "weekly",
            88,
            resets_at=START + timedelta(days=2),
            forecast=forecast("will_run_out", START + timedelta(days=1)),
        ),
        window("credits", 0, resets_at=None, window_seconds=None, unlimited=True),
        provider="zai",
        name="z.ai",
    )
    failing = account(
        window("weekly", 30),
        provider="zai",
        acct="work",
        status=Status.STALE,
        failing_since=START,
        error=ErrorInfo(kind=ErrorKind.AUTH, message="z.ai: key rejected", hint="Set a new key."),
    )
    for snap in (ok, failing):
        store.save_state(snap, next_allowed_at=FAR_FUTURE, failures=0)


def seeded_config():  # type: ignore[no-untyped-def]
    accounts = tuple(
        AccountConfig("zai", name, True, {"api_key": f"key-{name}"}, {"api_key": "test"}, explicit=True)
        for name in ("default", "work")
    )
    return replace(config_with(), accounts=accounts)


def families(text: str) -> dict:  # type: ignore[type-arg]
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    matches = [
        s.value for f in found.values() for s in f.samples if s.name == name and labels.items() <= s.labels.items()
    ]
    assert len(matches) == 1, (name, labels, matches)
    return matches[0]


def test_metrics_from_a_real_server_read_back_and_pass_promtool(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed(store)
    clock = Clock()
    app = create_app(seeded_config(), store, schedule=False, clock=clock)
    with served(app) as url:
        response = httpx.get(url + "/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    found = families(text)
    assert value(found, "agentgauge_window_used_ratio", account="default", window="session") == 0.425
    assert (
        value(found, "agentgauge_window_reset_timestamp_seconds", window="session", account="default")
        == (START + timedelta(hours=2)).timestamp()
    )
    assert value(found, "agentgauge_window_length_seconds", window="session", account="default") == 18000
    assert (
        value(found, "agentgauge_window_forecast_runout_timestamp_seconds", window="weekly", account="default")
        == (START + timedelta(days=1)).timestamp()
    )
    assert (
        value(found, "agentgauge_window_forecast_verdict", window="weekly", verdict="will_run_out", account="default")
        == 1
    )
    assert value(found, "agentgauge_window_forecast_verdict", window="weekly", verdict="ok", account="default") == 0
    assert value(found, "agentgauge_window_forecast_expected_ratio", window="weekly", account="default") == 1.2
    assert not [
        s for s in found["agentgauge_window_used_ratio"].samples if s.labels["window"] == "credits"
    ]  # unlimited
    assert value(found, "agentgauge_account_up", account="default") == 1
    assert value(found, "agentgauge_account_up", account="work") == 0
    assert value(found, "agentgauge_account_status", account="work", status="stale") == 1
    assert value(found, "agentgauge_account_status", account="work", status="ok") == 0
    assert value(found, "agentgauge_account_last_success_timestamp_seconds", account="default") == START.timestamp()
    assert found["agentgauge_fetch_errors"].type == "counter"
    assert value(found, "agentgauge_build_info") == 1
    assert "agentgauge_provider_incident_open" not in found  # status pages are off in this config
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip() == "" and check.stderr.strip() == ""


def test_metrics_need_the_same_token_as_the_api(store) -> None:  # type: ignore[no-untyped-def]
    seed(store)
    config = replace(seeded_config(), serve_token="metrics-token-123")
    app = create_app(config, store, schedule=False, clock=Clock())
    with served(app) as url:
        anonymous = httpx.get(url + "/metrics", follow_redirects=False)
        wrong = httpx.get(url + "/metrics", headers={"Authorization": "Bearer nope"}, follow_redirects=False)
        bearer = httpx.get(url + "/metrics", headers={"Authorization": "Bearer metrics-token-123"})
    assert anonymous.status_code != 200 and wrong.status_code != 200
    assert "agentgauge_window_used_ratio" not in anonymous.text + wrong.text
    assert bearer.status_code == 200 and "agentgauge_window_used_ratio" in bearer.text


async def test_fetch_errors_count_each_failed_attempt_once(sim, store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    settings = sim_settings("zai", sim.url)
    config = replace(
        config_with(), accounts=(AccountConfig("zai", "default", True, settings, dict.fromkeys(settings, "t"), True),)
    )
    errors = FetchErrors()
    async with Engine(config, store, clock=clock) as engine:
        engine.listeners.append(errors.observe)
        await engine.refresh()  # ok: nothing counted
        clock.advance(registry.get("zai").min_interval + 1)
        add_fault(sim, "/zai/", "status", status=502, body="bad gateway")
        assert (await engine.refresh()).providers[0].status == Status.STALE
        await engine.refresh()  # inside the back-off: the same failure again, not a new attempt
        clock.advance(3 * 3600)
        await engine.refresh()
    assert errors.counts == {("zai", "default", "upstream"): 2}
    text = render(UsageCollector(lambda: Query(config, store, clock).usage(), errors, None, frozenset())).decode()
    assert value(families(text), "agentgauge_fetch_errors_total", provider="zai", kind="upstream") == 2

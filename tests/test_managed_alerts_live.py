"""Alert rules and targets from the dashboard take effect while the server runs: a rule and a webhook
target added over HTTP fire on the next real refresh (simulator -> engine -> the alert chore) and the
delivery reaches a loopback receiver, signed with the secret typed in the form; the same through a
second app on one database (SQLite file or PostgreSQL schema), as on replicas; and the settings
page's forms in real Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from agentgauge.alerts import recent
from agentgauge.alerts.managed import RULE, Row, save
from agentgauge.providers import registry
from agentgauge.sim.server import SimServer

from .alerting import Hit, sink
from .conftest import pg_fresh_schema
from .harness import add_fault
from .harness_users import Running, users_server
from .harness_web import chromium
from .test_alerts_delivery import verified, zai_quota

SECRET = "whsec-LIVE-SENTINEL-3b8e"
WAIT = 60.0  # bound on waiting for the alert chore the refresh started (not a timing assertion)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


def refresh_zai(running: Running, percent: float) -> None:
    """A real refresh of z.ai's default account answering ``percent``; the server's clock then moves
    past the provider's minimum interval so the next refresh fetches again."""
    add_fault(running.sim, "/zai/", "body", body=zai_quota(percent), remaining=1)
    answer = httpx.post(f"{running.url}/api/refresh?provider=zai&wait=30", headers={"Authorization": "Bearer tok"})
    assert answer.status_code in (200, 202), answer.text
    zai = next(p for p in answer.json()["providers"] if (p["provider"], p["account"]) == ("zai", "default"))
    assert zai["windows"][0]["used_pct"] == percent, zai
    running.clock.offset += timedelta(seconds=registry.get("zai").min_interval + 1)


def fired(running: Running, rule: str) -> list[dict[str, Any]]:
    """The events of ``rule`` once the alert chore (started by the refresh's listener) recorded them."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = [e for e in recent(running.store) if e["rule"] == rule]
        if found:
            return found
        time.sleep(0.05)
    return []


def add_hook_and_rule(client: httpx.Client, url: str) -> None:
    target = {"name": "hook", "webhook": f"{url}/hook", "secret": SECRET}
    assert client.post("/api/alert-settings/targets", json=target).status_code == 201
    rule = {"name": "zai-half", "kind": "threshold", "providers": ["zai"], "thresholds": [50], "targets": ["hook"]}
    assert client.post("/api/alert-settings/rules", json=rule).status_code == 201


def delivered(hits: list[Hit]) -> list[Hit]:
    return [h for h in hits if h.path == "/hook" and h.json()["event"] == "threshold"]


def test_a_rule_added_over_http_fires_without_a_restart(sim: SimServer) -> None:
    with (
        sink() as receiver,
        users_server(auth="single", token="tok", configured=True, sim=sim) as running,
        httpx.Client(base_url=running.url, headers={"Authorization": "Bearer tok"}, timeout=60) as client,
    ):
        service = running.app.state.server.watchers.alerts
        assert "zai-half" not in {r.name for r in service.settings.rules}  # not there when the server started
        add_hook_and_rule(client, receiver.url)
        refresh_zai(running, 10)  # the rule's baseline
        refresh_zai(running, 60)
        (event,) = fired(running, "zai-half")
        assert event["status"] == "queued" and [d["target"] for d in event["deliveries"]] == ["hook"]
        assert running.app.state.server.watchers.deliverer.run() >= 1
        (hit,) = delivered(receiver.hits)
        assert verified(hit.body, hit.headers["x-agentgauge-signature"], SECRET)
        assert hit.json()["data"]["threshold"] == 50 and hit.json()["provider"] == "zai"

        tested = client.post("/api/alert-settings/targets/hook/test")
        assert tested.json() == {"target": "hook", "ok": True, "error": None}
        test_hit = next(h for h in receiver.hits if h.json()["event"] == "test")
        assert verified(test_hit.body, test_hit.headers["x-agentgauge-signature"], SECRET)

        # Disabled here, it stops at once: the next crossing records nothing for it.
        assert (
            client.patch("/api/alert-settings/rules/zai-half", json={"thresholds": [70], "enabled": False}).status_code
            == 200
        )
        refresh_zai(running, 75)
        service.run()
        assert len(fired(running, "zai-half")) == 1
        assert SECRET not in client.get("/api/alerts").text


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "shared.db")
        return
    with pg_fresh_schema("t_") as url:
        yield url


def test_a_change_on_one_replica_reaches_the_one_running_the_alerts(sim: SimServer, database: str) -> None:
    """Two servers on one database and one secret store (docs/deploy.md): the rule and target are
    saved through the first one's API; the second one, started before, evaluates and delivers them."""
    with ExitStack() as stack:
        receiver = stack.enter_context(sink())
        first = stack.enter_context(
            users_server(auth="single", token="tok", configured=True, database_url=database, sim=sim)
        )
        second = stack.enter_context(
            users_server(auth="single", token="tok", configured=True, database_url=database, sim=sim)
        )
        second.app.state.alert_settings.source.secrets = first.secrets
        client = stack.enter_context(
            httpx.Client(base_url=first.url, headers={"Authorization": "Bearer tok"}, timeout=60)
        )
        add_hook_and_rule(client, receiver.url)
        refresh_zai(second, 10)
        refresh_zai(second, 60)
        (event,) = fired(second, "zai-half")
        assert event["status"] == "queued"
        assert second.app.state.server.watchers.deliverer.run() >= 1
        (hit,) = delivered(receiver.hits)
        assert verified(hit.body, hit.headers["x-agentgauge-signature"], SECRET)
        listed = httpx.get(f"{second.url}/api/alert-settings", headers={"Authorization": "Bearer tok"}).json()
        assert {r["name"]: r["origin"] for r in listed["rules"]}["zai-half"] == "dashboard"


def test_the_alert_forms_in_chromium(sim: SimServer) -> None:
    manager = users_server(auth="single", sim=sim)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(manager.__enter__).result()
    try:
        with sink() as receiver, chromium() as browser:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: d.accept())
            page.goto(running.url + "/settings")
            page.wait_for_selector("#alert-actions:not([hidden])")
            assert page.locator('[data-rule="threshold"]').inner_text().endswith("config file")  # the default rules

            page.click("#add-target")
            page.fill("#target-name", "hook")
            assert page.locator("#target-address").get_attribute("type") == "password"
            page.fill("#target-address", f"{receiver.url}/hook")
            page.fill("#target-secret", SECRET)
            page.click("#target-form button[type=submit]")
            item = page.wait_for_selector('[data-target="hook"][data-origin="dashboard"]')
            assert item is not None
            text = item.inner_text()
            assert f"{receiver.url}/…" in text and "signing secret set" in text and SECRET not in text

            page.click("#add-rule")
            page.select_option("#rule-kind", "stale")
            assert page.locator("#rule-thresholds").is_hidden() and page.locator("#rule-after").is_visible()
            page.select_option("#rule-kind", "threshold")
            page.fill("#rule-name", "zai-half")
            page.fill("#rule-providers", "zai")
            page.fill("#rule-targets", "hook")
            page.fill("#rule-thresholds", "50, 90")
            page.click("#rule-form button[type=submit]")
            rule = page.wait_for_selector('[data-rule="zai-half"][data-origin="dashboard"]')
            assert rule is not None and "at 50 / 90 %" in rule.inner_text() and "→ hook" in rule.inner_text()

            page.get_by_role("button", name="Edit zai-half").click()
            page.fill("#rule-thresholds", "150")
            page.click("#rule-form button[type=submit]")
            page.wait_for_selector("#rule-error:not([hidden])")
            assert "between 1 and 100" in page.locator("#rule-error").inner_text()  # the config file's check
            page.click("#rule-cancel")

            page.get_by_role("button", name="Send test hook").click()
            page.wait_for_selector('[data-target="hook"] [data-test]')
            assert page.locator('[data-target="hook"] [data-test]').inner_text() == "Test alert sent."
            assert [h.json()["event"] for h in receiver.hits] == ["test"]

            page.get_by_role("button", name="Edit hook").click()
            assert page.locator("#target-address").input_value() == ""  # write-only: never filled back
            assert page.locator("#target-address").get_attribute("placeholder") == "set · type to replace"
            page.click("#target-cancel")
            assert SECRET not in page.content()
            page.get_by_role("button", name="Disable zai-half").click()
            page.wait_for_selector('[data-rule="zai-half"] button[aria-label="Enable zai-half"]')
            # A row saved under a name the config file uses (here a default rule's): listed apart, removable.
            assert page.locator("#alert-shadowed").is_hidden()
            save(running.store, Row(RULE, "stale", {"kind": "depleted"}), datetime.now(UTC))
            page.reload()
            page.wait_for_selector('[data-shadowed="rule/stale"]')
            page.get_by_role("button", name="Remove stale").click()
            page.wait_for_selector("#alert-shadowed", state="hidden")
            context.close()
        assert not errors, errors
        stored = running.store.query("SELECT kind, name, enabled FROM managed_alerts ORDER BY kind")
        assert stored == [("rule", "zai-half", 0), ("target", "hook", 1)]
    finally:
        manager.__exit__(None, None, None)

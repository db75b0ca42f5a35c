"""Provider incidents from a local Statuspage-shaped server: parsing, the store, the query layer's
``incident`` field, the alert events, and the running server showing it (SSE, /api/usage, /metrics)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agentgauge.alert_settings import AlertSettings, Rule, StatusPages, TargetSpec
from agentgauge.alerts import AlertService, recent
from agentgauge.config import AccountConfig
from agentgauge.incidents import IncidentWatch, parse_summary, status_pages
from agentgauge.providers import registry
from agentgauge.query import Query
from agentgauge.web.app import create_app
from tests.alerting import START, Clock, account, config_with, served, sink, window

PAGE = "https://status.example.com"
FAR_FUTURE = 4_000_000_000.0


def summary(*incidents: dict, maintenances: tuple[dict, ...] = (), indicator: str = "none") -> dict:
    return {
        "page": {"id": "abc", "name": "Example", "url": PAGE, "updated_at": "2026-11-23T11:00:00.000Z"},
        "status": {"indicator": indicator, "description": "All Systems Operational"},
        "components": [{"id": "c1", "name": "API", "status": "operational"}],
        "incidents": list(incidents),
        "scheduled_maintenances": list(maintenances),
    }


def incident(ident: str, impact: str = "major", **extra: str) -> dict:
    return {
        "id": ident,
        "name": extra.pop("name", f"Elevated errors ({ident})"),
        "status": extra.pop("status", "investigating"),
        "impact": impact,
        "shortlink": extra.pop("shortlink", f"https://stspg.io/{ident}"),
        "created_at": "2026-11-23T11:30:00.000Z",
        "started_at": extra.pop("started_at", "2026-11-23T11:30:00.000Z"),
        **extra,
    }


def test_the_worst_open_item_wins() -> None:
    assert parse_summary(summary(), PAGE) is None
    opened = parse_summary(summary(incident("a", "minor"), incident("b", "critical"), incident("c", "major")), PAGE)
    assert opened is not None and opened.id == "b" and opened.incident.impact == "critical"
    assert opened.incident.url == "https://stspg.io/b" and opened.incident.started_at == START.replace(
        minute=30, hour=11
    )
    resolved = incident("d", status="resolved")
    maintenance = {"id": "m", "name": "DB upgrade", "status": "in_progress", "scheduled_for": "2026-11-23T10:00:00Z"}
    only_maintenance = parse_summary(summary(resolved, maintenances=(maintenance,)), PAGE)
    assert only_maintenance is not None and only_maintenance.incident.impact == "maintenance"
    degraded = parse_summary(summary(indicator="major"), PAGE)
    assert degraded is not None and degraded.id == "indicator:major" and degraded.incident.url == PAGE


def test_untrusted_text_is_cut_and_only_web_links_kept() -> None:
    hostile = incident("x", name="A" * 500, shortlink="javascript:alert(1)")
    opened = parse_summary(summary(hostile), PAGE)
    assert opened is not None and len(opened.incident.title) == 200 and opened.incident.url == PAGE
    for bad in ([], {"incidents": []}, {"status": "ok"}):
        with pytest.raises(ValueError):
            parse_summary(bad, PAGE)


def test_declared_pages_and_overrides() -> None:
    assert registry.get("claude").status_page == "https://status.claude.com"
    assert registry.get("codex").status_page == "https://status.openai.com"
    config = config_with(status_pages=StatusPages(enabled=True, urls={"zai": "http://127.0.0.1:1", "codex": ""}))
    pages = status_pages(config)
    assert pages["zai"] == "http://127.0.0.1:1" and "codex" not in pages and pages["claude"].startswith("https://")


def in_use(store) -> None:  # type: ignore[no-untyped-def]
    """A zai account with data, behind a closed gate (the server never fetches it)."""
    store.save_state(account(window(used=40)), next_allowed_at=FAR_FUTURE, failures=0)


def test_check_stores_shows_and_alerts(store, caplog) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    in_use(store)
    with sink() as page:
        config = config_with(
            status_pages=StatusPages(enabled=True, urls={"zai": page.url}),
            alerts=AlertSettings(rules=(Rule("incident", "incident"),)),
        )
        watch, alerts, query = (
            IncidentWatch(config, store, clock),
            AlertService(config, store, clock),
            Query(config, store, clock),
        )
        page.body = summary()
        alerts.observe_incidents(watch.check())
        watch.reload()
        assert watch.current() == {} and watch.version == 1 and query.usage().providers[0].incident is None
        page.body = summary(incident("inc-1"))
        alerts.observe_incidents(watch.check())
        watch.reload()
        shown = query.usage().providers[0].incident
        assert shown is not None and shown.title == "Elevated errors (inc-1)" and watch.version == 2
        assert watch.current() == {"zai": shown}
        assert query.usage().to_json_dict()["providers"][0]["incident"]["started_at"] == "2026-11-23T11:30:00Z"
        # The page goes away: nothing changes, logged once.
        page.statuses = [503, 503]
        with caplog.at_level(logging.INFO, logger="agentgauge.incidents"):
            assert watch.check() == {} and watch.check() == {}
        assert caplog.text.count("status page of zai unreadable: HTTP 503") == 1
        page.body = summary()
        alerts.observe_incidents(watch.check())
        watch.reload()
        assert query.usage().providers[0].incident is None
        assert [h.path for h in page.hits] == ["/api/v2/summary.json"] * 5
    assert [e["event"] for e in reversed(recent(store))] == ["incident_started", "incident_ended"]
    # A reading older than three missed checks is not shown (the server that made it may be gone).
    page_now = summary(incident("inc-2"))
    with sink() as page:
        page.body = page_now
        config = config_with(status_pages=StatusPages(enabled=True, urls={"zai": page.url}))
        IncidentWatch(config, store, clock).check()
    assert Query(config, store, clock).usage().providers[0].incident is not None
    clock.advance(3 * 300 + 1800)
    assert Query(config, store, clock).usage().providers[0].incident is None


def test_the_running_server_shows_an_incident_as_it_is_read(store) -> None:  # type: ignore[no-untyped-def]
    """serve's status-page chore runs at start: the incident reaches the dashboard over SSE, the API,
    /metrics and the alerts list, with no request to any public site."""
    clock = Clock()
    with sink() as page:
        page.body = summary(incident("inc-9", "critical", name="API down"))
        config = config_with(
            status_pages=StatusPages(enabled=True, urls={"zai": page.url}),
            alerts=AlertSettings(
                rules=(Rule("incident", "incident"),), targets=(TargetSpec("hook", webhook=page.url),)
            ),
        )
        acct = AccountConfig("zai", "default", True, {"api_key": "sim-zai-key"}, {"api_key": "test"}, explicit=True)
        config = replace(config, accounts=(acct,))
        in_use(store)
        # The incident rule needs a baseline: the provider was fine before this server started.
        AlertService(config, store, clock).observe_incidents({"zai": None})
        app = create_app(config, store, clock=clock)
        with served(app) as url:
            with httpx.stream("GET", url + "/api/events", timeout=30) as events:
                seen = None
                for line in events.iter_lines():
                    if line.startswith("data:") and '"incident":{' in line:
                        seen = json.loads(line[5:])
                        break
            assert seen is not None and seen["incident"]["title"] == "API down"
            usage = httpx.get(url + "/api/usage").json()
            metrics = httpx.get(url + "/metrics").text
            listed = httpx.get(url + "/api/alerts").json()
    zai = usage["providers"][0]
    assert zai["incident"] == {
        "status": "investigating",
        "impact": "critical",
        "title": "API down",
        "url": "https://stspg.io/inc-9",
        "started_at": "2026-11-23T11:30:00Z",
    }
    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    (sample,) = families["agentgauge_provider_incident_open"].samples
    assert sample.labels == {"provider": "zai"} and sample.value == 1
    assert families["agentgauge_provider_incident_impact"].samples[0].value == 4
    assert listed["incidents"]["zai"]["title"] == "API down"
    assert [e["event"] for e in listed["events"]] == ["incident_started"]
    assert all(h.path in ("/api/v2/summary.json", "/") for h in page.hits)

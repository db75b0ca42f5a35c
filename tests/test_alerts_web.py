"""The dashboard in real Chromium: an open incident is a badge on the provider's card (a link to the
status page), and the alerts panel lists the recent events with their delivery status."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentgauge.alert_settings import AlertSettings, Rule, TargetSpec
from agentgauge.alerts import AlertService
from agentgauge.config import AccountConfig
from agentgauge.models import Incident
from agentgauge.store import open_store
from agentgauge.web.app import create_app
from tests.alerting import account, config_with, served, window
from tests.harness_web import chromium, open_page

FAR_FUTURE = 4_000_000_000.0


@dataclass
class Info:
    url: str


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def test_incident_badge_and_alerts_panel(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC).replace(microsecond=0)
    store = open_store(str(tmp_path / "web.db"), data_dir=tmp_path)
    acct = AccountConfig("zai", "default", True, {"api_key": "k"}, {"api_key": "test"}, explicit=True)
    alerts = AlertSettings(rules=(Rule("threshold", "threshold"),), targets=(TargetSpec("phone", url="ntfy://x/y"),))
    config = replace(config_with(alerts=alerts), accounts=(acct,))
    store.save_state(
        account(window(used=86, resets_at=now + timedelta(days=2)), at=now), next_allowed_at=FAR_FUTURE, failures=0
    )
    service = AlertService(config, store, lambda: now)
    service.evaluate(account(window(used=10, resets_at=now + timedelta(days=2)), at=now))
    service.evaluate(account(window(used=86, resets_at=now + timedelta(days=2)), at=now))
    outage = Incident(status="identified", impact="major", title="Elevated API errors", url="https://status.z.ai/x")
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO provider_incidents (provider, incident_id, incident, checked_at) VALUES (?, ?, ?, ?)",
            ("zai", "inc-1", outage.model_dump_json(), int(now.timestamp())),
        )
    app = create_app(config, store, schedule=False, clock=lambda: datetime.now(UTC))
    try:
        with served(app) as url, open_page(browser, Info(url)) as page:  # type: ignore[arg-type]
            badge = page.locator(".card .incident")
            assert badge.inner_text() == "⚠ incident"
            assert badge.get_attribute("href") == "https://status.z.ai/x"
            assert badge.get_attribute("data-impact") == "major"
            assert "Elevated API errors" in (badge.get_attribute("title") or "")
            page.wait_for_selector("#alerts:not([hidden]) .alert-event")
            assert page.locator(".alert-event .alert-title").all_inner_texts() == ["z.ai · Weekly at 86 %"]
            assert "queued" in page.locator(".alert-event").inner_text()
            assert page.locator("#alerts-targets").inner_text() == "Sent to: phone."
            assert "ntfy://x" not in page.content()
    finally:
        store.close()

"""Alert delivery over real HTTP on loopback: signed webhooks with retries and back-off on a fake
clock, apprise's json:// target, the engine's listener path across a restart, the CLI, and secrets
that never reach a log, an API answer or the terminal."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
from click.testing import CliRunner

from agentgauge.alert_settings import AlertSettings, Rule, TargetSpec
from agentgauge.alerts import SIGNATURE_HEADER, AlertService, Deliverer, recent
from agentgauge.alerts.deliver import BACKOFF, MAX_ATTEMPTS
from agentgauge.chores import ALERTS_CHORE, add_alert_chores
from agentgauge.cli.commands import cli
from agentgauge.config import AccountConfig, Config
from agentgauge.engine import Engine
from agentgauge.providers import registry
from agentgauge.store import open_store
from agentgauge.web.app import create_app
from tests.alerting import Clock, account, config_with, dead_port, served, sink, window
from tests.harness import add_fault, sim_settings

SECRET = "whsec-SENTINEL-7c1d"
TOKEN = "SENTINELTOKEN42"


def verified(body: bytes, header: str, secret: str = SECRET) -> bool:
    """What a receiver does: recompute the HMAC over the raw body, compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def settings(*targets: TargetSpec, rules: tuple[Rule, ...] = (Rule("threshold", "threshold"),)) -> AlertSettings:
    return AlertSettings(rules=rules, targets=targets)


def crossing(store, clock, config: Config) -> int:  # type: ignore[no-untyped-def]
    alerts = AlertService(config, store, clock)
    alerts.evaluate(account(window(used=10)))
    (event_id,) = alerts.evaluate(account(window(used=85)))
    return event_id


def test_signed_webhook_with_retries_and_back_off(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    with sink() as hook:
        hook.statuses = [503, 500]  # two failures, then 200
        config = config_with(alerts=settings(TargetSpec("hook", webhook=hook.url + "/agentgauge", secret=SECRET)))
        event_id = crossing(store, clock, config)
        deliverer = Deliverer(config, store, clock)
        assert deliverer.run() == 0 and len(hook.hits) == 1
        assert deliverer.run() == 0 and len(hook.hits) == 1  # not due again yet: nothing is retried early
        clock.advance(BACKOFF[0])
        assert deliverer.run() == 0 and len(hook.hits) == 2
        clock.advance(BACKOFF[1] - 1)
        assert deliverer.run() == 0 and len(hook.hits) == 2
        clock.advance(1)
        assert deliverer.run() == 1 and len(hook.hits) == 3
        clock.advance(3600)
        assert deliverer.run() == 0 and len(hook.hits) == 3  # sent once, never again
    last = hook.hits[-1]
    assert last.path == "/agentgauge" and last.headers["content-type"] == "application/json"
    assert verified(last.body, last.headers[SIGNATURE_HEADER.lower()])
    assert not verified(last.body + b" ", last.headers[SIGNATURE_HEADER.lower()])
    body = last.json()
    assert body["id"] == event_id and body["event"] == "threshold" and body["provider"] == "zai"
    assert body["window"] == "weekly" and body["data"]["threshold"] == 80 and "85 %" in body["title"]
    assert last.headers["x-agentgauge-delivery"] == str(event_id)
    (event,) = recent(store)
    assert event["status"] == "delivered"
    assert event["deliveries"][0]["attempts"] == 3 and event["deliveries"][0]["error"] is None


def test_a_target_that_keeps_failing_gives_up_and_a_4xx_is_not_retried(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    down = TargetSpec("down", webhook=f"http://127.0.0.1:{dead_port()}/hook")
    with sink() as hook:
        hook.statuses = [404]
        config = config_with(alerts=settings(down, TargetSpec("gone", webhook=hook.url)))
        crossing(store, clock, config)
        deliverer = Deliverer(config, store, clock)
        for wait in (0, *BACKOFF):
            clock.advance(wait)
            deliverer.run()
        clock.advance(86400)
        deliverer.run()
    assert len(hook.hits) == 1  # HTTP 404: failed at once
    (event,) = recent(store)
    by_target = {d["target"]: d for d in event["deliveries"]}
    assert by_target["down"]["attempts"] == MAX_ATTEMPTS and by_target["down"]["status"] == "failed"
    assert by_target["down"]["error"].startswith("connection failed")
    assert by_target["gone"] == {**by_target["gone"], "status": "failed", "attempts": 1, "error": "HTTP 404"}
    assert event["status"] == "failed"


def test_apprise_json_target_reaches_a_loopback_receiver(store) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    with sink() as receiver:
        apprise_url = f"json://127.0.0.1:{receiver.port}/notify"
        config = config_with(alerts=settings(TargetSpec("phone", url=apprise_url)))
        crossing(store, clock, config)
        assert Deliverer(config, store, clock).run() == 1
    (hit,) = receiver.hits
    sent = hit.json()
    assert hit.path == "/notify" and sent["type"] == "warning"
    assert sent["title"] == "z.ai · Weekly at 85 %" and "threshold 80 %" in sent["message"]
    assert recent(store)[0]["status"] == "delivered"


def test_secrets_never_reach_logs_the_api_or_the_terminal(store, tmp_path: Path, caplog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    port = dead_port()
    targets = (
        TargetSpec("phone", url=f"json://user:{TOKEN}@127.0.0.1:{port}/{TOKEN}"),
        TargetSpec("hook", webhook=f"http://127.0.0.1:{port}/{TOKEN}", secret=SECRET),
    )
    config = config_with(alerts=settings(*targets))
    with caplog.at_level(logging.DEBUG):
        crossing(store, clock, config)
        deliverer = Deliverer(config, store, clock)
        for wait in (0, *BACKOFF):
            clock.advance(wait)
            deliverer.run()
        problems = [deliverer.test(t) for t in targets]
    assert all(problems)  # nothing listens: both failed, and said why in their own words
    logged = caplog.text + json.dumps(recent(store)) + repr(config)
    assert TOKEN not in logged and SECRET not in logged and "failed for good" in caplog.text
    app = create_app(config, store, schedule=False, clock=clock)
    with served(app) as url:
        answer = httpx.get(url + "/api/alerts").text
    assert TOKEN not in answer and SECRET not in answer
    assert '"address":"json://…"' in answer and f'"address":"http://127.0.0.1:{port}/…"' in answer
    path = tmp_path / "config.toml"
    path.write_text(
        f'database_url = "{tmp_path / "cli.db"}"\n[[alerts.targets]]\nname = "phone"\n'
        f'url = "json://user:{TOKEN}@127.0.0.1:{port}/{TOKEN}"\n',
        encoding="utf-8",
    )
    listed = CliRunner().invoke(cli, ["--config", str(path), "alerts", "list"])
    tested = CliRunner().invoke(cli, ["--config", str(path), "alerts", "test"])
    assert listed.exit_code == 0 and "phone" in listed.output and TOKEN not in listed.output
    assert tested.exit_code == 1 and "phone: failed" in tested.output and TOKEN not in tested.output


def test_cli_test_and_list_against_a_receiver(tmp_path: Path) -> None:
    with sink() as receiver:
        path = tmp_path / "config.toml"
        path.write_text(
            f'database_url = "{tmp_path / "cli.db"}"\n'
            f'[[alerts.targets]]\nname = "hook"\nwebhook = "{receiver.url}/hook"\nsecret = "$env:HOOK_SECRET"\n'
            f'[[alerts.targets]]\nname = "phone"\nurl = "json://127.0.0.1:{receiver.port}/apprise"\n',
            encoding="utf-8",
        )
        runner = CliRunner(env={"HOOK_SECRET": SECRET})
        result = runner.invoke(cli, ["--config", str(path), "alerts", "test"])
        assert result.exit_code == 0, result.output
        assert "hook: sent" in result.output and "phone: sent" in result.output
        only = runner.invoke(cli, ["--config", str(path), "alerts", "test", "--target", "nope"])
        assert only.exit_code == 2 and "no target named nope" in only.output
        listed = runner.invoke(cli, ["--config", str(path), "alerts", "list", "--json"])
    hook = next(h for h in receiver.hits if h.path == "/hook")
    assert verified(hook.body, hook.headers["x-agentgauge-signature"]) and hook.json()["event"] == "test"
    assert next(h for h in receiver.hits if h.path == "/apprise").json()["title"] == "agentgauge test alert"
    data = json.loads(listed.output)
    assert [r["kind"] for r in data["rules"]][:3] == ["threshold", "depleted", "restored"]
    assert {t["name"]: t["kind"] for t in data["targets"]} == {"hook": "webhook", "phone": "apprise"}
    assert data["events"] == []


def zai_quota(percent: float) -> str:
    limit = {"type": "TOKENS_LIMIT", "unit": 3, "number": 5, "percentage": percent, "nextResetTime": 4102444800000}
    return json.dumps({"code": 200, "msg": "success", "success": True, "data": {"limits": [limit]}})


async def test_engine_listener_path_survives_a_restart_without_firing_twice(sim, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Real refreshes against the simulator feed the listener; the engine (and its alert service) is
    restarted between the events: the crossing seen before the restart never fires again after it."""
    clock = Clock()
    db = tmp_path / "alerts.db"
    gate = registry.get("zai").min_interval + 1
    with sink() as hook:
        base = config_with(alerts=settings(TargetSpec("hook", webhook=hook.url, secret=SECRET)))
        settings_ = sim_settings("zai", sim.url)
        acct = AccountConfig("zai", "default", True, settings_, dict.fromkeys(settings_, "test"), True)
        config = replace(base, accounts=(acct,))

        async def refresh_with(percent: float, engine: Engine) -> None:
            add_fault(sim, "/zai/", "body", body=zai_quota(percent), remaining=1)
            snapshot = await engine.refresh()
            assert snapshot.providers[0].windows[0].used_pct == percent
            await engine.chores[ALERTS_CHORE].task  # the listener started the evaluation chore
            clock.advance(gate)

        for percents in ((40, 85), (85, 86), (86, 97)):  # three server lifetimes on one database
            store = open_store(str(db), data_dir=tmp_path)
            async with Engine(config, store, clock=clock) as engine:
                watchers = add_alert_chores(engine, config, store, clock)
                for percent in percents:
                    await refresh_with(percent, engine)
                watchers.deliverer.run()
            store.close()
        store = open_store(str(db), data_dir=tmp_path)
        events = list(reversed(recent(store)))
        store.close()
    assert [(e["event"], e["title"].rsplit(" at ", 1)[1]) for e in events] == [
        ("threshold", "85 %"),
        ("threshold", "97 %"),
    ]
    assert [h.json()["data"]["threshold"] for h in hook.hits] == [80, 95]
    assert all(verified(h.body, h.headers["x-agentgauge-signature"]) for h in hook.hits)


def test_quiet_hours_deliver_when_they_end(store) -> None:  # type: ignore[no-untyped-def]
    from agentgauge.alert_settings import parse_quiet_hours

    clock = Clock()
    clock.now = clock.now.replace(hour=22, minute=30)
    with sink() as hook:
        alerts = AlertSettings(
            rules=(Rule("threshold", "threshold"),),
            targets=(TargetSpec("hook", webhook=hook.url),),
            quiet_hours=parse_quiet_hours("22:00-07:00", "x"),
            timezone="UTC",
        )
        config = config_with(alerts=alerts)
        crossing(store, clock, config)
        deliverer = Deliverer(config, store, clock)
        clock.advance(8 * 3600 - 60)  # 06:29: still quiet
        assert deliverer.run() == 0 and hook.hits == []
        clock.advance(timedelta(minutes=31).total_seconds())  # 07:00
        assert deliverer.run() == 1 and len(hook.hits) == 1

"""Alert rules and targets managed from the dashboard, over real HTTP: add, edit, enable, disable and
remove; the config file's own checks on every value; references refused; a webhook moves only with its
secret typed again; target addresses write-only in the encrypted secret store (never in a response,
the database or a log) and kept apart from provider credentials; the config file's entries locked;
admins only, with CSRF and Origin on session requests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentgauge.alert_settings import parse_alerts
from agentgauge.credentials import ALERT_TARGETS, SecretStore
from agentgauge.credentials.stored import stored_secrets
from agentgauge.providers import registry
from agentgauge.sim.server import SimServer
from agentgauge.store import open_store
from agentgauge.users import keys, people
from agentgauge.web.app import create_app

from .alerting import config_with, dead_port, served
from .harness_users import Running, sign_in, users_server

SECRET = "whsec-DASHBOARD-SENTINEL-91f2"
TOKEN = "HOOKPATHTOKEN-5e7a"  # in the webhook's path: part of the address, never shown
ADMIN_PW, VIEWER_PW = "admin password 1", "viewer password 1"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def server(sim: SimServer) -> Iterator[tuple[Running, httpx.Client]]:
    with (
        users_server(auth="single", token="tok", sim=sim) as running,
        httpx.Client(base_url=running.url, headers={"Authorization": "Bearer tok"}, timeout=60) as client,
    ):
        yield running, client


def hook(port: int) -> str:
    return f"http://127.0.0.1:{port}/{TOKEN}"


def every_byte(running: Running) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(Path(running.tmp).rglob("*")) if p.is_file())


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in items}


def test_add_edit_disable_and_remove_a_target_and_a_rule(server: tuple[Running, httpx.Client], caplog: Any) -> None:
    running, client = server
    port = dead_port()
    bodies: list[str] = []

    def call(method: str, path: str, **kw: Any) -> httpx.Response:
        answer = client.request(method, path, **kw)
        bodies.append(answer.text)
        return answer

    with caplog.at_level(logging.DEBUG):
        added = call(
            "POST", "/api/alert-settings/targets", json={"name": "hook", "webhook": hook(port), "secret": SECRET}
        )
        assert added.status_code == 201, added.text
        target = by_name(added.json()["targets"])["hook"]
        assert target == {
            **target,
            "origin": "dashboard",
            "kind": "webhook",
            "address": f"http://127.0.0.1:{port}/…",
            "address_set": True,
            "secret_set": True,
            "locked": None,
            "updated_by": "access token",
        }
        assert (
            call("POST", "/api/alert-settings/targets", json={"name": "hook", "url": "json://x/y"}).status_code == 409
        )

        rule = {"name": "zai-high", "kind": "threshold", "providers": ["zai"], "thresholds": [50], "targets": ["hook"]}
        assert call("POST", "/api/alert-settings/rules", json=rule).status_code == 201
        assert call("POST", "/api/alert-settings/rules", json=rule).status_code == 409
        shown = by_name(call("GET", "/api/alert-settings").json()["rules"])["zai-high"]
        assert shown["origin"] == "dashboard" and shown["thresholds"] == [50] and shown["targets"] == ["hook"]
        assert shown["quiet_hours"] is None and shown["cooldown_minutes"] is None  # inherited, not set

        edited = call("PATCH", "/api/alert-settings/rules/zai-high", json={"thresholds": [60, 90], "quiet_hours": ""})
        assert edited.status_code == 200, edited.text
        shown = by_name(edited.json()["rules"])["zai-high"]
        assert shown["thresholds"] == [60, 90] and shown["quiet_hours"] == "" and shown["enabled"]
        off = call("PATCH", "/api/alert-settings/rules/zai-high", json={"enabled": False, "quiet_hours": None})
        shown = by_name(off.json()["rules"])["zai-high"]
        assert shown["enabled"] is False and shown["quiet_hours"] is None and shown["thresholds"] == [60, 90]
        assert by_name(call("GET", "/api/alerts").json()["rules"])["zai-high"]["enabled"] is False

        # A webhook moves only with its secret typed again (or dropped).
        moved = call("PATCH", "/api/alert-settings/targets/hook", json={"webhook": "http://127.0.0.1:9/steal"})
        assert moved.status_code == 400 and "typed again" in moved.json()["error"]
        new_port = dead_port()
        again = call("PATCH", "/api/alert-settings/targets/hook", json={"webhook": hook(new_port), "secret": SECRET})
        assert by_name(again.json()["targets"])["hook"]["address"] == f"http://127.0.0.1:{new_port}/…"
        unsigned = call("PATCH", "/api/alert-settings/targets/hook", json={"secret": None, "enabled": False})
        assert by_name(unsigned.json()["targets"])["hook"] == {
            **by_name(unsigned.json()["targets"])["hook"],
            "secret_set": False,
            "address_set": True,
            "enabled": False,
        }
        stored = running.secrets.get(ALERT_TARGETS, "hook", "webhook")
        assert stored is not None and stored.value is not None and stored.value.reveal() == hook(new_port)
        assert running.secrets.get(ALERT_TARGETS, "hook", "secret") is None

        # The test button goes through the real delivery code: nothing listens there, and it says so.
        tested = call("POST", "/api/alert-settings/targets/hook/test")
        assert tested.status_code == 200 and tested.json()["ok"] is False
        assert tested.json()["error"].startswith("connection failed")

        busy = call("DELETE", "/api/alert-settings/targets/hook")
        assert busy.status_code == 409 and "zai-high" in busy.json()["error"]
        assert call("DELETE", "/api/alert-settings/rules/zai-high").status_code == 200
        assert call("DELETE", "/api/alert-settings/targets/hook").status_code == 200
        assert call("DELETE", "/api/alert-settings/targets/hook").status_code == 404
        assert call("PATCH", "/api/alert-settings/rules/zai-high", json={}).status_code == 404
    assert running.secrets.get(ALERT_TARGETS, "hook", "webhook") is None
    assert running.store.query("SELECT COUNT(*) FROM managed_alerts")[0][0] == 0
    everything = "".join(bodies) + caplog.text + repr(running.store.query("SELECT * FROM managed_alerts"))
    assert SECRET not in everything and TOKEN not in everything
    assert SECRET.encode() not in every_byte(running) and TOKEN.encode() not in every_byte(running)


def test_target_secrets_are_kept_apart_from_provider_credentials(server: tuple[Running, httpx.Client]) -> None:
    running, client = server
    body = {"name": "phone", "url": f"json://127.0.0.1:{dead_port()}/{TOKEN}"}
    assert client.post("/api/alert-settings/targets", json=body).status_code == 201
    entry = running.secrets.get(ALERT_TARGETS, "phone", "url")
    assert entry is not None and entry.origin == "dashboard"
    assert ALERT_TARGETS not in stored_secrets(running.secrets)  # never merged into an account
    assert ALERT_TARGETS not in registry.ids()
    listed = client.get("/api/alert-settings").text
    assert TOKEN not in listed and '"address":"json://…"' in listed


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x", "kind": "loud"}, "kind must be one of"),
        ({"name": "x", "kind": "stale", "windows": ["weekly"]}, "'windows' applies to window rules"),
        ({"name": "x", "kind": "threshold", "thresholds": [150]}, "between 1 and 100"),
        ({"name": "x", "kind": "threshold", "quiet_hours": "25:00-07:00"}, "is not a time of day"),
        ({"name": "x", "kind": "stale", "after_minutes": "soon"}, "must be a number"),
        ({"name": "x", "kind": "stale", "targets": ["nowhere"]}, "names unknown target(s) nowhere"),
        ({"name": "x", "kind": "stale", "providers": ["nope"]}, "names unknown provider(s) nope"),
        ({"name": "x", "kind": "stale", "colour": "red"}, "unknown field(s) colour"),
        ({"name": "bad name", "kind": "stale"}, "is not a valid rule name"),
        ({"name": "x", "kind": "stale", "enabled": "yes"}, "'enabled' must be true or false"),
    ],
)
def test_rules_get_the_config_files_checks(server: tuple[Running, httpx.Client], body: Any, message: str) -> None:
    _, client = server
    refused = client.post("/api/alert-settings/rules", json=body)
    assert refused.status_code == 400 and message in refused.json()["error"], refused.text


def test_targets_get_the_config_files_checks_and_stay_literal(server: tuple[Running, httpx.Client]) -> None:
    running, client = server
    marker = Path(running.tmp) / "pwned"
    for field in ("url", "webhook", "secret"):
        for value in (f"$cmd:touch {marker}", "$file:/etc/hostname", "$env:HOME"):
            body = {"name": "t", "webhook": "https://example.test/h", field: value}
            refused = client.post("/api/alert-settings/targets", json=body)
            assert refused.status_code == 400 and "references" in refused.json()["error"], refused.text
    assert not marker.exists()
    cases = [
        ({"name": "t", "url": "json://a/b", "webhook": "https://example.test/h"}, "exactly one of"),
        ({"name": "t"}, "exactly one of"),
        ({"name": "t", "webhook": "ftp://example.test/h"}, "http:// or https://"),
        ({"name": "t", "url": "json://a/b", "secret": "s"}, "'secret' signs webhook bodies"),
        ({"name": "t", "url": "no-scheme"}, "apprise URL"),
        ({"name": "t", "url": "json://a/b\nx"}, "several lines"),
        ({"name": "", "url": "json://a/b"}, "not a valid target name"),
        ({"name": "t", "url": "json://a/b", "extra": 1}, "unknown field(s) extra"),
    ]
    for body, message in cases:
        refused = client.post("/api/alert-settings/targets", json=body)
        assert refused.status_code == 400 and message in refused.json()["error"], (body, refused.text)
    assert client.post("/api/alert-settings/targets", content=b"[1]").status_code == 400
    assert running.store.query("SELECT COUNT(*) FROM managed_alerts")[0][0] == 0
    assert not running.secrets.exists()


def test_config_file_and_environment_entries_are_locked(tmp_path: Path) -> None:
    base = parse_alerts(
        {
            "rules": [{"kind": "threshold"}, {"kind": "stale", "name": "mine"}],
            "targets": [{"name": "phone", "url": f"json://127.0.0.1:{dead_port()}/x"}],
        },
        f"json://127.0.0.1:{dead_port()}/env",
        registry.ids(),
    )
    config = replace(config_with(alerts=base), env={"AGENTGAUGE_ALERTS": "json://…"})
    store = open_store(str(tmp_path / "locked.db"), data_dir=tmp_path)
    app = create_app(config, store, schedule=False, clock=lambda: datetime.now(UTC))
    app.state.alert_settings.source.secrets = SecretStore(tmp_path / "s", env={"AGENTGAUGE_SECRET_KEY": "file"})
    try:
        with served(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            listed = client.get("/api/alert-settings").json()
            rules, targets = by_name(listed["rules"]), by_name(listed["targets"])
            assert rules["mine"]["locked"] == "alert rule 'mine' is set in the config file: change it there"
            assert rules["mine"]["origin"] == "config"
            assert targets["phone"]["locked"].endswith("set in the config file: change it there")
            assert "AGENTGAUGE_ALERTS" in targets["env"]["locked"]
            for path, body in (
                ("/api/alert-settings/rules", {"name": "mine", "kind": "stale"}),
                ("/api/alert-settings/rules", {"kind": "threshold"}),  # named after its kind, like the default
                ("/api/alert-settings/targets", {"name": "phone", "url": "json://a/b"}),
                ("/api/alert-settings/targets", {"name": "env", "url": "json://a/b"}),
            ):
                clash = client.post(path, json=body)
                assert clash.status_code == 409 and "change it there" in clash.json()["error"], clash.text
            assert client.patch("/api/alert-settings/rules/mine", json={"enabled": False}).status_code == 409
            assert client.delete("/api/alert-settings/targets/phone").status_code == 409
            # Either side may use the other's: a dashboard rule sends to the config's target, and the
            # config's rule without targets (every target) to the dashboard's.
            rule = {"name": "ours", "kind": "depleted", "targets": ["phone"]}
            assert client.post("/api/alert-settings/rules", json=rule).status_code == 201
            hook_body = {"name": "hook", "webhook": f"http://127.0.0.1:{dead_port()}/h"}
            assert client.post("/api/alert-settings/targets", json=hook_body).status_code == 201
            overview = by_name(client.get("/api/alerts").json()["rules"])
            assert overview["ours"]["targets"] == ["phone"]
            assert overview["threshold"]["targets"] == ["phone", "env", "hook"]
    finally:
        store.close()


def test_admins_only_with_csrf_and_origin(sim: SimServer) -> None:
    with users_server(auth="users", sim=sim) as running:
        now = datetime.now(UTC)
        people.add(running.store, "ann", ADMIN_PW, "admin", now)
        people.add(running.store, "vic", VIEWER_PW, "viewer", now)
        body = {"name": "phone", "url": f"json://127.0.0.1:{dead_port()}/x"}
        viewer, viewer_headers = sign_in(running, "vic", VIEWER_PW)
        with closing(viewer):
            assert viewer.get("/api/alert-settings").status_code == 403
            assert viewer.post("/api/alert-settings/targets", json=body, headers=viewer_headers).status_code == 403
            assert viewer.get("/api/alerts").status_code == 200  # the read-only view stays theirs
        admin, headers = sign_in(running, "ann", ADMIN_PW)
        with closing(admin):
            assert admin.post("/api/alert-settings/targets", json=body).status_code == 403  # no CSRF, no Origin
            csrf_only = {"X-AgentGauge-CSRF": headers["X-AgentGauge-CSRF"]}
            assert admin.post("/api/alert-settings/targets", json=body, headers=csrf_only).status_code == 403
            evil = {**headers, "Origin": "http://evil.example"}
            assert admin.post("/api/alert-settings/targets", json=body, headers=evil).status_code == 403
            assert running.store.query("SELECT COUNT(*) FROM managed_alerts")[0][0] == 0
            assert admin.post("/api/alert-settings/targets", json=body, headers=headers).status_code == 201
            assert admin.get("/api/alert-settings").status_code == 200
        read, _ = keys.create(running.store, "deck", "read", None, now)
        with httpx.Client(base_url=running.url, timeout=30, headers={"Authorization": f"Bearer {read}"}) as client:
            rule = {"name": "r", "kind": "stale"}
            assert client.post("/api/alert-settings/rules", json=rule).status_code == 403
        assert running.store.query("SELECT updated_by FROM managed_alerts") == [("ann",)]


def test_the_cli_labels_alert_targets_and_cannot_forget_them_as_a_provider(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from agentgauge.cli.commands import cli

    monkeypatch.setenv("AGENTGAUGE_SECRET_KEY", "file")
    SecretStore().put(ALERT_TARGETS, "hook", {"webhook": hook(9), "secret": SECRET}, origin="dashboard")
    config = tmp_path / "config.toml"
    config.write_text(f'database_url = "{tmp_path / "cli.db"}"\n', encoding="utf-8")
    status = CliRunner().invoke(cli, ["--config", str(config), "auth", "status"])
    assert status.exit_code == 0, status.output
    assert "alert target 'hook' (saved on the dashboard's settings page" in status.output
    assert SECRET not in status.output and TOKEN not in status.output
    forget = CliRunner().invoke(cli, ["--config", str(config), "auth", "forget", ALERT_TARGETS])
    assert forget.exit_code != 0 and "unknown provider" in str(forget.exception)  # never a provider's to forget
    assert SecretStore().get(ALERT_TARGETS, "hook", "secret") is not None


def test_two_adds_of_one_name_at_once_give_one_row_and_one_clear_refusal(store: Any) -> None:
    """Many processes may save at once (replicas on one database): the second add of a name must be
    the 'exists already' refusal (a 409), never a database key violation (a 500)."""
    import threading

    from agentgauge.alerts.managed import RULE, Row, read_rows, read_version, save
    from agentgauge.errors import ConfigError

    start = threading.Barrier(8)
    outcomes: list[str] = []

    def add(i: int) -> None:
        start.wait()
        try:
            save(store, Row(RULE, "same", {"kind": "stale", "after_minutes": 10 + i}), datetime.now(UTC), new=True)
            outcomes.append("saved")
        except ConfigError as exc:
            outcomes.append("refused" if "exists already" in exc.message else exc.message)
        except Exception as exc:  # what the test exists to catch
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["saved"]
    assert list(read_rows(store)) == [(RULE, "same")]
    assert read_version(store) == 1  # a refused add changes nothing, the counter neither


def test_the_cli_sends_a_test_alert_to_a_dashboard_target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`agentgauge alerts test` reaches the targets added on the settings page too: the row from the
    database, the address from the secret store, signed with the stored secret."""
    from click.testing import CliRunner

    from agentgauge.alerts.managed import TARGET, Row, save
    from agentgauge.cli.commands import cli

    from .alerting import sink

    monkeypatch.setenv("AGENTGAUGE_SECRET_KEY", "file")
    config = tmp_path / "config.toml"
    config.write_text(f'database_url = "{tmp_path / "cli.db"}"\n', encoding="utf-8")
    with sink() as receiver:
        with closing(open_store(str(tmp_path / "cli.db"), data_dir=tmp_path)) as db:
            row = Row(TARGET, "desk", {"type": "webhook", "address": "http://127.0.0.1", "signed": True})
            save(db, row, datetime.now(UTC))
        SecretStore().put(ALERT_TARGETS, "desk", {"webhook": f"{receiver.url}/desk", "secret": SECRET}, origin="x")
        result = CliRunner().invoke(cli, ["--config", str(config), "alerts", "test", "--target", "desk"])
    assert result.exit_code == 0, result.output
    assert "desk: sent" in result.output and SECRET not in result.output
    (hit,) = receiver.hits
    assert hit.path == "/desk" and hit.json()["event"] == "test" and hit.headers["x-agentgauge-signature"]


def test_rows_the_config_file_took_the_name_of_are_listed_apart_and_removable(tmp_path: Path) -> None:
    """Saved here first, then the config file used the names: the rows are not in force, are listed as
    shadowed, and removing them removes the dashboard's row and stored address, not the config's."""
    from agentgauge.alerts.managed import RULE, TARGET, Row, read_rows, save

    base = parse_alerts(
        {
            "rules": [{"kind": "stale", "name": "late", "targets": ["phone"]}],
            "targets": [{"name": "phone", "url": f"json://127.0.0.1:{dead_port()}/x"}],
        },
        None,
        registry.ids(),
    )
    store = open_store(str(tmp_path / "shadow.db"), data_dir=tmp_path)
    secrets = SecretStore(tmp_path / "s", env={"AGENTGAUGE_SECRET_KEY": "file"})
    now = datetime.now(UTC)
    save(store, Row(RULE, "late", {"kind": "depleted"}), now)
    save(store, Row(TARGET, "phone", {"type": "webhook", "address": "http://127.0.0.1", "signed": True}), now)
    secrets.put(ALERT_TARGETS, "phone", {"webhook": f"http://127.0.0.1:9/{TOKEN}", "secret": SECRET}, origin="x")
    app = create_app(config_with(alerts=base), store, schedule=False, clock=lambda: datetime.now(UTC))
    app.state.alert_settings.source.secrets = secrets
    try:
        with served(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            listed = client.get("/api/alert-settings").json()
            assert listed["shadowed"] == [{"kind": "rule", "name": "late"}, {"kind": "target", "name": "phone"}]
            assert by_name(listed["rules"])["late"]["origin"] == "config"  # the config's is the one in force
            assert client.patch("/api/alert-settings/rules/late", json={"enabled": False}).status_code == 409
            # the config's rule sends to the config's 'phone': that does not hold the dashboard's row
            gone = client.delete("/api/alert-settings/targets/phone")
            assert gone.status_code == 200, gone.text
            assert client.delete("/api/alert-settings/rules/late").status_code == 200
            after = client.get("/api/alert-settings").json()
            assert after["shadowed"] == [] and by_name(after["targets"])["phone"]["origin"] == "config"
            assert client.delete("/api/alert-settings/rules/late").status_code == 409  # the config's: locked
    finally:
        store.close()
    with closing(open_store(str(tmp_path / "shadow.db"), data_dir=tmp_path)) as reopened:
        assert read_rows(reopened) == {}
    assert secrets.get(ALERT_TARGETS, "phone", "webhook") is None

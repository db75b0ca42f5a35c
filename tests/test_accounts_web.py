"""Provider accounts managed from the dashboard, over real HTTP against the provider simulator: add,
test a connection through the engine's gates, edit, disable, a per-account interval the scheduler uses
at once, remove; secrets write-only and encrypted in the secret store; references refused; URLs move
only with their secrets; the config file's accounts locked; what a restart and `status` see; and the
form in real Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentgauge.accounts import Target
from agentgauge.credentials import with_stored
from agentgauge.managed import managed_config
from agentgauge.models import Status
from agentgauge.providers import registry
from agentgauge.sim.server import SimServer
from agentgauge.users import keys

from .harness_users import Running, users_server
from .harness_web import chromium

SECRET = "sim-zai-key.secret#work"  # the simulator's z.ai key for an account named "work"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def server(sim: SimServer) -> Iterator[tuple[Running, httpx.Client]]:
    """Single-user mode with an access token (scripts' way in): the client carries it."""
    with (
        users_server(auth="single", token="tok", sim=sim) as running,
        httpx.Client(base_url=running.url, headers={"Authorization": "Bearer tok"}, timeout=60) as client,
    ):
        yield running, client


def zai_work(running: Running, **extra: Any) -> dict[str, Any]:
    return {
        "provider": "zai",
        "account": "work",
        "settings": {"api_key": SECRET, "url": f"{running.sim.url}/zai/url"},
        **extra,
    }


def every_byte(running: Running) -> bytes:
    """The database file and the secret store's files: what a backup of this server holds."""
    return b"".join(p.read_bytes() for p in sorted(Path(running.tmp).rglob("*")) if p.is_file())


def test_add_test_edit_and_remove_an_account(server: tuple[Running, httpx.Client]) -> None:
    running, client = server
    added = client.post("/api/accounts", json=zai_work(running))
    assert added.status_code == 201, added.text
    account = added.json()["account"]
    assert SECRET not in added.text
    secret = {s["name"]: s for s in account["settings"]}["api_key"]
    assert secret == {**secret, "set": True, "from": "secret store"} and "value" not in secret
    assert client.post("/api/accounts", json=zai_work(running)).status_code == 409  # exists

    tested = client.post("/api/accounts/zai/work/test").json()
    assert tested["fetched_now"] and tested["ok"] and tested["windows"] > 0, tested
    again = client.post("/api/accounts/zai/work/test").json()
    assert not again["fetched_now"], "a second test inside the minimum interval is held by the gate"
    usage = client.get("/api/usage").json()
    assert [p["status"] for p in usage["providers"] if (p["provider"], p["account"]) == ("zai", "work")] == ["ok"]

    listed = client.get("/api/accounts").text
    assert SECRET not in listed and '"account":"work"' in listed
    stored = running.secrets.get("zai", "work", "api_key")
    assert stored is not None and stored.value is not None and stored.value.reveal() == SECRET
    assert SECRET.encode() not in every_byte(running)  # encrypted at rest, nowhere in the database

    # Disable, then back to as configured; the live view follows.
    assert client.patch("/api/accounts/zai/work", json={"enabled": False}).json()["account"]["enabled"] is False
    live = {p.key: p for p in running.app.state.server.live.snapshot.providers}
    assert live[("zai", "work")].status == Status.DISABLED
    assert client.patch("/api/accounts/zai/work", json={"enabled": None}).json()["account"]["enabled"] is True
    refreshes = running.app.state.server._refreshes  # back on: a (gated) refresh started at once
    assert any(("zai", "work") in key for key in refreshes), refreshes

    gone = client.delete("/api/accounts/zai/work")
    assert gone.status_code == 200
    assert running.secrets.get("zai", "work", "api_key") is None
    assert running.store.query("SELECT COUNT(*) FROM account_state WHERE account = 'work'")[0][0] == 0
    assert ("zai", "work") not in {(p["provider"], p["account"]) for p in client.get("/api/usage").json()["providers"]}
    assert client.delete("/api/accounts/zai/work").status_code == 404


def test_removing_an_account_while_its_refresh_is_under_way_leaves_nothing(
    server: tuple[Running, httpx.Client],
) -> None:
    """Re-enabling starts a refresh at once; with the simulator slow it is still fetching when the
    account is removed. Its claim and result must not write the account's state back afterwards."""
    running, client = server
    assert client.post("/api/accounts", json=zai_work(running, enabled=False)).status_code == 201
    httpx.post(f"{running.sim.url}/__sim/latency", json={"seconds": 2}).raise_for_status()
    try:
        assert client.patch("/api/accounts/zai/work", json={"enabled": None}).status_code == 200
        assert client.delete("/api/accounts/zai/work").status_code == 200
    finally:
        httpx.post(f"{running.sim.url}/__sim/latency", json={"seconds": 0}).raise_for_status()
    # The removal answered only after that refresh ended, so nothing can come back later.
    refreshes = dict(running.app.state.server._refreshes)
    assert any(("zai", "work") in key for key in refreshes), "re-enabling started no refresh: nothing tested"
    assert all(task.done() for key, task in refreshes.items() if ("zai", "work") in key), refreshes
    assert running.store.query("SELECT COUNT(*) FROM account_state WHERE account = 'work'")[0][0] == 0
    assert ("zai", "work") not in {(p["provider"], p["account"]) for p in client.get("/api/usage").json()["providers"]}
    assert ("zai", "work") not in {p.key for p in running.app.state.server.live.snapshot.providers}


def test_refresh_interval_is_checked_and_used_by_the_scheduler_at_once(server: tuple[Running, httpx.Client]) -> None:
    running, client = server
    assert client.post("/api/accounts", json=zai_work(running)).status_code == 201
    low = client.patch("/api/accounts/zai/work", json={"refresh_interval": 10})
    assert low.status_code == 400 and "minimum" in low.json()["error"]
    assert client.patch("/api/accounts/zai/work", json={"refresh_interval": "often"}).status_code == 400
    assert client.patch("/api/accounts/zai/work", json={"refresh_interval": 900}).status_code == 200
    engine = running.app.state.server.engine
    target = next(t for t in engine.targets(["zai"]) if t.account.account == "work")
    assert target.account.refresh_interval == 900
    now = datetime.now(UTC)
    assert engine.due_at(target, 0.0, running.config.refresh_interval, 0.0, now) == 900
    assert client.patch("/api/accounts/zai/work", json={"refresh_interval": None}).status_code == 200
    target = next(t for t in engine.targets(["zai"]) if t.account.account == "work")
    assert engine.due_at(target, 0.0, running.config.refresh_interval, 0.0, now) == running.config.refresh_interval


def test_values_are_literal_and_urls_move_only_with_their_secrets(server: tuple[Running, httpx.Client]) -> None:
    running, client = server
    marker = Path(running.tmp) / "pwned"
    for value in (f"$cmd:touch {marker}", "$file:/etc/hostname", "$env:HOME"):
        refused = client.post("/api/accounts", json=zai_work(running, settings={"api_key": value}))
        assert refused.status_code == 400 and "references" in refused.json()["error"]
    assert not marker.exists()
    unknown = client.post("/api/accounts", json=zai_work(running, settings={"nope": "x"}))
    assert unknown.status_code == 400 and "no setting 'nope'" in unknown.json()["error"]
    choice = client.post("/api/accounts", json=zai_work(running, settings={"region": "mars"}))
    assert choice.status_code == 400
    assert client.post("/api/accounts", json=zai_work(running, account="bad name")).status_code == 400
    assert client.post("/api/accounts", json={"provider": "nope"}).status_code == 400

    assert client.post("/api/accounts", json=zai_work(running)).status_code == 201
    moved = client.patch("/api/accounts/zai/work", json={"settings": {"url": "http://127.0.0.1:9/steal"}})
    assert moved.status_code == 400 and "api_key typed again" in moved.json()["error"]
    both = {"settings": {"url": f"{running.sim.url}/zai/url/", "api_key": SECRET}}
    assert client.patch("/api/accounts/zai/work", json=both).status_code == 200
    default_url = client.post("/api/accounts", json={"provider": "zai", "settings": {"url": "http://127.0.0.1:9/"}})
    assert default_url.status_code == 201  # the unconfigured default may be set up here...
    locked = client.patch("/api/accounts/zai/default", json={"settings": {"url": "http://127.0.0.1:9/x"}})
    assert locked.status_code == 400 and "config file" in locked.json()["error"]  # ...but its URL never moves


def test_config_file_accounts_are_locked_but_can_be_disabled(sim: SimServer) -> None:
    with users_server(auth="single", configured=True, sim=sim) as running, running.client() as client:
        account = next(a for a in client.get("/api/accounts").json()["accounts"] if a["provider"] == "zai")
        api_key = {s["name"]: s for s in account["settings"]}["api_key"]
        assert api_key["locked"] and api_key["from"] == "demo" and not account["removable"]
        refused = client.patch("/api/accounts/zai/default", json={"settings": {"api_key": "another"}})
        assert refused.status_code == 400 and "change it there" in refused.json()["error"]
        named = client.delete("/api/accounts/codex/work")
        assert named.status_code == 400 and "config file" in named.json()["error"]
        assert client.patch("/api/accounts/zai/default", json={"enabled": False}).status_code == 200
        config = running.app.state.server.config
        assert config.account("zai", "default").enabled is False
        assert dict(config.account("zai", "default").settings)["api_key"] == "sim-zai-key.secret"


def test_a_restart_and_the_cli_see_the_dashboards_accounts(server: tuple[Running, httpx.Client]) -> None:
    running, client = server
    assert client.post("/api/accounts", json=zai_work(running, refresh_interval=600)).status_code == 201
    assert (
        client.post("/api/accounts", json={"provider": "openrouter", "account": "team", "enabled": False}).status_code
        == 201
    )
    # What `serve` and `status` build at start: config file and environment, the secret store, then the rows.
    restarted = managed_config(with_stored(running.app.state.accounts.pristine, running.secrets), running.store)
    work = restarted.account("zai", "work")
    assert work is not None and work.settings["api_key"] == SECRET and work.refresh_interval == 600
    team = restarted.account("openrouter", "team")
    assert team is not None and team.enabled is False


async def test_the_engine_fetches_an_account_added_here(server: tuple[Running, httpx.Client]) -> None:
    running, client = server
    assert client.post("/api/accounts", json=zai_work(running)).status_code == 201
    from agentgauge.engine import Engine

    config = managed_config(with_stored(running.app.state.accounts.pristine, running.secrets), running.store)
    async with Engine(config, running.store) as engine:
        snapshot = await engine.refresh_account(Target(registry.get("zai"), config.account("zai", "work")))  # type: ignore[arg-type]
    assert snapshot.status in (Status.OK, Status.STALE)


def test_write_key_manages_accounts_read_key_does_not(sim: SimServer) -> None:
    with users_server(auth="users", sim=sim) as running:
        write, _ = keys.create(running.store, "ci", "write", None, datetime.now(UTC))
        read, _ = keys.create(running.store, "deck", "read", None, datetime.now(UTC))
        with httpx.Client(base_url=running.url, timeout=60) as client:
            body = zai_work(running)
            assert (
                client.post("/api/accounts", json=body, headers={"Authorization": f"Bearer {read}"}).status_code == 403
            )
            assert (
                client.post("/api/accounts", json=body, headers={"Authorization": f"Bearer {write}"}).status_code == 201
            )
            row = running.store.query("SELECT updated_by FROM managed_accounts WHERE account = 'work'")
            assert row == [("key",)]


def test_the_form_in_chromium(sim: SimServer) -> None:
    manager = users_server(auth="single", sim=sim)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(manager.__enter__).result()
    try:
        with chromium() as browser:
            context = browser.new_context(viewport={"width": 1200, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            posted: list[str] = []
            page.on("request", lambda r: posted.append(r.post_data or "") if "api/accounts" in r.url else None)
            page.goto(running.url + "/settings")
            page.wait_for_selector("#accounts:not([hidden])")
            page.click("#add-account")
            page.select_option("#form-provider", "zai")
            labels = page.locator("#form-settings label > span:first-child").all_inner_texts()
            assert labels[0] == "api_key (secret)" and "region" in labels  # generated from the declared settings
            assert page.locator("#setting-api_key").get_attribute("type") == "password"
            page.fill("#form-account", "work")
            page.fill("#setting-api_key", SECRET)
            page.fill("#setting-url", f"{running.sim.url}/zai/url")
            page.fill("#form-interval", "120")
            page.click("#form-save-test")
            result = page.wait_for_selector('[data-account="zai/work"] [data-test]', timeout=20_000)
            assert result is not None and "Connection works" in result.inner_text()
            assert "every 120 s" in page.locator('[data-account="zai/work"]').inner_text()
            page.locator('[data-account="zai/work"] button', has_text="Edit").click()
            assert page.locator("#setting-api_key").input_value() == ""  # write-only: never filled back
            assert page.locator("#setting-api_key").get_attribute("placeholder") == "set · type to replace"
            assert SECRET not in page.content()
            page.click("#form-cancel")
            page.goto(running.url + "/")
            page.wait_for_selector('[data-key="zai/work"]', timeout=15_000)
            context.close()
        assert not errors, errors
        assert (
            any(SECRET in body for body in posted)
            and json.loads(next(b for b in posted if SECRET in b))["account"] == "work"
        )
    finally:
        manager.__exit__(None, None, None)

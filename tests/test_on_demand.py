"""``refresh = "on-demand"`` (seed 003's no-poll mode): the setting, an idle server that makes no
upstream request at all over simulated minutes (the same server with ``interval`` does, so the
check can fail), a look at the dashboard or the API fetching each account once, gated like every
fetch, and surfaces that say how old the data is.

The server is the real app under uvicorn; its engine, its scheduler and the simulator share one
fake clock that only the test moves (a scheduler pass is awaited through ``on_tick``, never slept for)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentgauge.cli.render import render
from agentgauge.cli.serving import server_config
from agentgauge.config import AccountConfig, Config, load
from agentgauge.engine import Engine
from agentgauge.errors import ConfigError
from agentgauge.models import ProviderSnapshot, Snapshot, Status, Window
from agentgauge.providers import registry
from agentgauge.providers.simkit import SimContext
from agentgauge.sim.server import CalmServer, SimServer, sim_credentials
from agentgauge.store import open_store
from agentgauge.web.app import create_app

from .harness import sim_settings

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
# Each account's fetch starts with one request to this path (optional extras may follow it).
ACCOUNTS = {
    "claude": "/claude/api_url/api/oauth/usage",
    "zai": "/zai/url/api/monitor/usage/quota/limit",
    "kimi": "/kimi/api_url/coding/v1/usages",
    "ollama": "/ollama/url/settings",
}


class FakeTime:
    def __init__(self) -> None:
        self.wall = START
        self.mono = 50_000.0
        self.lock = threading.Lock()

    def now(self) -> datetime:
        with self.lock:
            return self.wall

    def monotonic(self) -> float:
        with self.lock:
            return self.mono

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.wall += timedelta(seconds=seconds)
            self.mono += seconds


# -- the setting --------------------------------------------------------------------------------------
def test_the_refresh_setting(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('refresh = "on-demand"\n', encoding="utf-8")
    config = load(path, env={}, home=tmp_path, providers=False)
    assert config.refresh == "on-demand" and config.on_demand
    assert not config.status_pages.enabled, "on demand means no background requests, status pages included"
    path.write_text('refresh = "on-demand"\nstatus_pages = true\n', encoding="utf-8")
    assert load(path, env={}, home=tmp_path, providers=False).status_pages.enabled, "unless asked for"
    assert load(None, env={"AGENTGAUGE_REFRESH": "ON_DEMAND"}, home=tmp_path, providers=False).on_demand
    default = load(None, env={}, home=tmp_path, providers=False)
    assert default.refresh == "interval" and not default.on_demand and default.status_pages.enabled
    with pytest.raises(ConfigError) as info:
        load(None, env={"AGENTGAUGE_REFRESH": "on-demnd"}, home=tmp_path, providers=False)
    assert "did you mean 'on-demand'" in info.value.message and "AGENTGAUGE_REFRESH" in info.value.message


# -- the server ---------------------------------------------------------------------------------------
@dataclass
class Running:
    url: str
    sim: SimServer
    time: FakeTime
    app: Any
    passes: list[int]
    tick: threading.Condition

    def upstream(self) -> dict[str, int]:
        """Fetches the simulator saw, per account (the first request of each)."""
        counts = dict.fromkeys(ACCOUNTS, 0)
        for request in list(self.sim.state.requests):
            for provider_id, path in ACCOUNTS.items():
                if request["path"] == path:
                    counts[provider_id] += 1
        return counts

    def requests(self) -> int:
        """Every request the simulator received (its control endpoints are not recorded)."""
        return len(self.sim.state.requests)

    def advance(self, seconds: float) -> None:
        """Move the clock, then wait for a whole scheduler pass at the new time."""
        self.time.advance(seconds)
        with self.tick:
            target = self.passes[0] + 2
            assert self.tick.wait_for(lambda: self.passes[0] >= target, timeout=10), "the scheduler stopped"

    def settle_look(self) -> None:
        """Wait for the refresh the last look started (it runs on the server's event loop)."""
        task = self.app.state.server.on_demand.task
        if task is None:
            return

        async def finished() -> None:
            await asyncio.shield(task)

        asyncio.run_coroutine_threadsafe(finished(), task.get_loop()).result(timeout=30)


@contextmanager
def running(tmp_path: Path, refresh: str) -> Iterator[Running]:
    fake = FakeTime()
    ctx = SimContext(sim_credentials(registry.all_providers()), clock=fake.now)
    with SimServer(ctx=ctx) as sim:
        accounts = tuple(
            AccountConfig(p, "default", True, sim_settings(p, sim.url), {}, explicit=True) for p in ACCOUNTS
        )
        config = Config(
            path=None,
            accounts=accounts,
            database_url=str(tmp_path / "d.db"),
            env={},
            home=tmp_path / "home",
            refresh=refresh,
            refresh_interval=60.0,
        )
        store = open_store(config.database_url, data_dir=tmp_path)
        engine = Engine(config, store, clock=fake.now, monotonic=fake.monotonic)
        engine.scheduler_tick = 0.01
        app = create_app(config, store, engine=engine, clock=fake.now)
        passes, tick = [0], threading.Condition()
        state = app.state.server
        original = state.on_tick

        def counted() -> None:
            original()
            with tick:
                passes[0] += 1
                tick.notify_all()

        state.on_tick = counted  # the lifespan hands this to the scheduler when the server starts
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = CalmServer(server_config(app))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            yield Running(f"http://127.0.0.1:{sock.getsockname()[1]}", sim, fake, app, passes, tick)
        finally:
            server.should_exit = True
            thread.join(timeout=15)
            sock.close()
            store.close()


def test_an_idle_on_demand_server_never_asks_upstream(tmp_path: Path) -> None:
    with running(tmp_path, "on-demand") as server:
        for _ in range(60):  # ten minutes, a pass every ten seconds: many refresh intervals and gates
            server.advance(10)
        assert server.requests() == 0
        data = httpx.get(f"{server.url}/api/data", timeout=10).json()
        assert data["next_refresh_at"] is None, "no scheduled refresh to announce"


def test_the_same_server_on_an_interval_does_fetch(tmp_path: Path) -> None:
    """The control: with the default setting the very same idle server fetches on its own."""
    with running(tmp_path, "interval") as server:
        for _ in range(30):
            server.advance(10)
        counts = server.upstream()
        assert all(n >= 2 for n in counts.values()), counts


def test_a_look_fetches_each_account_once(tmp_path: Path) -> None:
    with running(tmp_path, "on-demand") as server:
        server.advance(10)
        page = httpx.get(f"{server.url}/", timeout=10)
        assert page.status_code == 200
        server.settle_look()
        assert server.upstream() == dict.fromkeys(ACCOUNTS, 1)
        rows = {p["provider"]: p for p in httpx.get(f"{server.url}/api/usage", timeout=10).json()["providers"]}
        assert all(rows[p]["status"] == "ok" and rows[p]["fetched_at"] == "2030-03-04T09:00:10Z" for p in ACCOUNTS)
        # Looking again at once (the page's own requests, a reload, an agent) fetches nothing more.
        for path in ("/", "/api/usage", "/api/data", "/index.json"):
            httpx.get(f"{server.url}{path}", timeout=10)
        server.settle_look()
        assert server.upstream() == dict.fromkeys(ACCOUNTS, 1)
        # Later, still inside the minimum intervals (claude and ollama: 120 s): only the others are due.
        server.advance(70)
        httpx.get(f"{server.url}/api/usage", timeout=10)  # an agent's read is a look too
        server.settle_look()
        assert server.upstream() == {"claude": 1, "zai": 2, "kimi": 2, "ollama": 1}
        # Idle again: nothing, however long.
        for _ in range(30):
            server.advance(10)
        assert server.upstream() == {"claude": 1, "zai": 2, "kimi": 2, "ollama": 1}
        # POST /api/refresh fetches on demand too, behind the same gates.
        answer = httpx.post(f"{server.url}/api/refresh?wait=20", timeout=30)
        assert answer.headers["x-agentgauge-fresh"] == "true"
        assert server.upstream() == {"claude": 2, "zai": 3, "kimi": 3, "ollama": 2}
        assert server.app.state.server.on_demand.looks == 2  # the first page load and the agent read


def test_every_surface_says_how_old_the_data_is() -> None:
    """The status table (the popup and the dashboard say "updated 3m ago" the same way)."""
    now = START
    account = ProviderSnapshot(
        provider="zai",
        name="z.ai",
        status=Status.OK,
        source="extension",
        source_label="browser extension",
        windows=(Window(id="session", label="Session (5h)", used_pct=30.0),),
        fetched_at=now - timedelta(minutes=7),
        last_success_at=now - timedelta(minutes=7),
    )
    from rich.console import Console

    console = Console(width=160, record=True)
    console.print(render(Snapshot(generated_at=now, providers=(account,)), now=now, width=160))
    text = console.export_text()
    assert "ok · 7m ago" in text and "via browser extension" in text
    fresh = account.model_copy(update={"fetched_at": now - timedelta(seconds=20)})
    console = Console(width=160, record=True)
    console.print(render(Snapshot(generated_at=now, providers=(fresh,)), now=now, width=160))
    assert "ago" not in console.export_text(), "just fetched: no age to point out"

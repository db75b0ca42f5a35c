"""Start the real ``serve`` app (demo providers on the simulator) in a background thread."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from agentgauge.cli.demo import backfill, demo_config
from agentgauge.sim.server import CalmServer, SimServer
from agentgauge.store import Store, open_store
from agentgauge.web.app import create_app


class MovableClock:
    """Real time plus an offset; the server's engine and the simulator move together."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class ServerInfo:
    """A running server. To make usage change, call ``advance(seconds)``: it moves the simulator's
    clock AND the server's clock (so per-account polling gates open), then POST api/refresh."""

    url: str  # including the root path, without a trailing slash
    origin: str
    sim_url: str
    store: Store
    sim: SimServer
    clock: MovableClock

    def advance(self, seconds: float) -> None:
        httpx.post(f"{self.sim_url}/__sim/advance", json={"seconds": seconds}).raise_for_status()
        self.clock.offset += timedelta(seconds=seconds)


@contextmanager
def running_server(demo: bool = True, root_path: str = "", token: str | None = None, *,
                   bind_host: str = "127.0.0.1", history_days: float = 30.0,
                   refresh_interval: float = 60.0) -> Iterator[ServerInfo]:
    sim = SimServer().start()
    tmp = tempfile.mkdtemp(prefix="agentgauge-web-")
    config = demo_config(sim.url)
    config = replace(config, database_url=str(Path(tmp) / "web.db"), refresh_interval=refresh_interval,
                     serve_token=token)
    if not demo:
        config = replace(config, accounts=tuple(replace(a, settings={}, origins={}) for a in config.accounts))
    store = open_store(config.database_url, data_dir=Path(tmp))
    if demo and history_days:
        asyncio.run(backfill(config, store, sim, days=history_days))
    clock = MovableClock()
    app = create_app(config, store, bind_host=bind_host, root_path=root_path, demo=demo, clock=clock)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = CalmServer(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    origin = f"http://127.0.0.1:{port}"
    try:
        yield ServerInfo(url=origin + root_path, origin=origin, sim_url=sim.url, store=store, sim=sim, clock=clock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()
        sim.stop()

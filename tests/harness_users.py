"""A real ``serve`` app for the users, keys and accounts tests: uvicorn as ``serve`` runs it on a free
loopback port, the provider simulator over real HTTP, a SQLite file (or a PostgreSQL schema) and a
secret store in a temp dir. ``auth`` and the access token are the config's; ``configured`` keeps the
demo's accounts (every provider set up against the simulator), else no account is set up."""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from agentgauge.cli.demo import demo_config
from agentgauge.cli.serving import server_config
from agentgauge.config import Config
from agentgauge.credentials import SecretStore
from agentgauge.sim.server import CalmServer, SimServer
from agentgauge.store import Store, open_store
from agentgauge.web.app import create_app

from .harness_web import MovableClock


@dataclass
class Running:
    url: str
    store: Store
    sim: SimServer
    app: Any
    secrets: SecretStore
    config: Config
    clock: MovableClock
    tmp: Path

    @property
    def setup_code(self) -> str | None:
        code: str | None = self.app.state.setup_code
        return code

    def client(self, address: str = "127.0.0.1", **kw: Any) -> httpx.Client:
        """A client from ``address`` (any 127.x.y.z reaches the server; the login back-off keys on it)."""
        return httpx.Client(base_url=self.url, transport=httpx.HTTPTransport(local_address=address), timeout=30, **kw)


@contextmanager
def users_server(
    *,
    auth: str = "users",
    token: str | None = None,
    bind_host: str = "127.0.0.1",
    configured: bool = False,
    database_url: str | None = None,
    refresh_interval: float = 300.0,
    sim: SimServer | None = None,
) -> Iterator[Running]:
    own_sim = sim is None
    sim = sim or SimServer().start()
    tmp = Path(tempfile.mkdtemp(prefix="agentgauge-users-"))
    config = demo_config(sim.url, workdir=tmp / "demo")
    if not configured:
        config = replace(config, accounts=tuple(replace(a, settings={}, origins={}) for a in config.accounts))
    config = replace(
        config,
        database_url=database_url or str(tmp / "users.db"),
        serve_token=token,
        auth=auth,
        refresh_interval=refresh_interval,
        env={},
    )
    store = open_store(config.database_url, data_dir=tmp)
    clock = MovableClock()
    app = create_app(config, store, bind_host=bind_host, clock=clock, schedule=False)
    secrets = SecretStore(tmp / "secrets", env={"AGENTGAUGE_SECRET_KEY": "file"})
    app.state.accounts.secrets = secrets
    app.state.alert_settings.source.secrets = secrets  # alert targets' addresses (alerts.managed)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = CalmServer(server_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the server did not start"
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        yield Running(url, store, sim, app, secrets, config, clock, tmp)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()
        if own_sim:
            sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def csrf_of(page: str) -> str:
    found = re.search(r'<meta name="agentgauge-csrf" content="([0-9a-f]+)">', page)
    assert found, "a signed-in page carries its CSRF token"
    return found.group(1)


def sign_in(
    server: Running, name: str, password: str, address: str = "127.0.0.1"
) -> tuple[httpx.Client, dict[str, str]]:
    """A browser-like session: the cookie, and the headers a page's POST carries (Origin + CSRF)."""
    client = server.client(address)
    answer = client.post("/login", data={"username": name, "password": password})
    assert answer.status_code == 303, answer.text
    csrf = csrf_of(client.get("/").text)
    return client, {"Origin": server.url, "X-AgentGauge-CSRF": csrf}

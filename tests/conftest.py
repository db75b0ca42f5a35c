from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator

import httpx
import pytest

from agentgauge.providers import registry
from agentgauge.sim.server import SimServer

# A shell runs a background job (`scripts/test &`, a CI runner's) with SIGINT ignored, and children
# inherit an ignored signal: the tests that stop a command with Ctrl-C would then wait for nothing.
# A Python handler here is reset to the default in every child it starts.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Variables from the developer's machine that would change what providers discover: every variable
# a registered provider declares, plus the platform's own dirs.
_FOREIGN_ENV = (
    *(name for provider in registry.all_providers() for name in provider.environment()),
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never see the developer's real credentials, config or data dirs."""
    for name in list(os.environ):
        if name.startswith("AGENTGAUGE_") and name not in ("AGENTGAUGE_TEST_PG_URL",):
            monkeypatch.delenv(name, raising=False)
    for name in _FOREIGN_ENV:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("AGENTGAUGE_NO_PLUGINS", "1")
    yield


@pytest.fixture(scope="session")
def sim_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    with SimServer() as server:
        server.workdir = str(tmp_path_factory.mktemp("sim-local"))  # where local sources (fake CLIs) go
        yield server


@pytest.fixture
def sim(sim_server: SimServer) -> Iterator[SimServer]:
    """The simulator with no faults, no latency and an empty request log at the start of each test (the
    log keeps the last 1000 requests: a count over it would stop growing once earlier tests filled it)."""
    httpx.delete(f"{sim_server.url}/__sim/faults")
    httpx.post(f"{sim_server.url}/__sim/latency", json={"seconds": 0})
    sim_server.state.requests.clear()
    yield sim_server
    httpx.delete(f"{sim_server.url}/__sim/faults")
    httpx.post(f"{sim_server.url}/__sim/latency", json={"seconds": 0})


PG_URL = os.environ.get("AGENTGAUGE_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")


def pg_schema_url(schema: str) -> str:
    """PG_URL with ``schema`` first on the search path: a test's own tables in the shared database."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@contextlib.contextmanager
def pg_fresh_schema(prefix: str) -> Iterator[str]:
    """A new, empty schema named ``prefix`` + a random part, as a database URL; dropped afterwards."""
    import uuid

    import psycopg

    schema = f"{prefix}{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield pg_schema_url(schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _pg_store(tmp_name: str):  # type: ignore[no-untyped-def]
    import psycopg

    from agentgauge.store import open_store

    schema = f"t_{tmp_name}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')
    store = open_store(pg_schema_url(schema), data_dir=None)  # type: ignore[arg-type]
    return store, schema


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    """The same tests run against SQLite (a file in tmp) and PostgreSQL (a fresh schema)."""
    import uuid

    from agentgauge.store import open_store

    if request.param == "sqlite":
        s = open_store(str(tmp_path / "agentgauge.db"), data_dir=tmp_path)
        yield s
        s.close()
        return
    import psycopg

    s, schema = _pg_store(uuid.uuid4().hex[:12])
    yield s
    s.close()
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

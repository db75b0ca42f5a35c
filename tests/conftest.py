from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest

from agentgauge.sim.server import SimServer

# Variables from the developer's machine that would change what providers discover.
_FOREIGN_ENV = (
    "CLAUDE_CONFIG_DIR", "CODEX_HOME", "KIMI_CODE_HOME", "KIMI_CODE_API_KEY", "KIMI_AUTH_TOKEN", "Z_AI_API_KEY",
    "BIGMODEL_API_KEY", "ZHIPU_API_KEY", "ZHIPUAI_API_KEY", "GLM_API_KEY", "OLLAMA_API_KEY",
    "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
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
def sim_server() -> Iterator[SimServer]:
    with SimServer() as server:
        yield server


@pytest.fixture
def sim(sim_server: SimServer) -> Iterator[SimServer]:
    """The simulator with no faults and no latency at the start of each test."""
    httpx.delete(f"{sim_server.url}/__sim/faults")
    httpx.post(f"{sim_server.url}/__sim/latency", json={"seconds": 0})
    yield sim_server
    httpx.delete(f"{sim_server.url}/__sim/faults")
    httpx.post(f"{sim_server.url}/__sim/latency", json={"seconds": 0})



PG_URL = os.environ.get("AGENTGAUGE_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")


def _pg_store(tmp_name: str):  # type: ignore[no-untyped-def]
    import psycopg

    from agentgauge.store import open_store

    schema = f"t_{tmp_name}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    store = open_store(f"{PG_URL}{sep}options=-csearch_path%3D{schema}", data_dir=None)  # type: ignore[arg-type]
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

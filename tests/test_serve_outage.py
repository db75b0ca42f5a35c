"""``agentgauge serve`` through a PostgreSQL outage, end to end: a real serve process on a throwaway
cluster (never the machine's server on 5432), the cluster stopped while a fetch is in flight, every
endpoint answering without a 500, and everything recovering, queued writes included, once it is back."""

from __future__ import annotations

import signal
import threading
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest

from agentgauge.sim.server import SimServer

from .test_serve import ServeProcess, serve_env
from .test_store_outage import Cluster, cluster  # noqa: F401  (the throwaway cluster fixture)


@pytest.fixture
def served(cluster: Cluster, sim: SimServer, tmp_path: Path) -> Iterator[ServeProcess]:  # noqa: F811
    """serve with one z.ai account on the simulator, its store on the cluster; the first scheduled
    fetch is held in the simulator so that the test can stop the cluster while it is in flight."""
    original, held = sim.state.requests, Requests()
    sim.state.requests = held
    env = serve_env(
        tmp_path,
        AGENTGAUGE_DATABASE_URL=cluster.url,
        AGENTGAUGE_ZAI_API_KEY="sim-zai-key.secret",
        AGENTGAUGE_ZAI_URL=f"{sim.url}/zai/url",
        AGENTGAUGE_REFRESH_INTERVAL="3600",  # only the first cycle fetches
    )
    process = ServeProcess(["--port", "0"], env)
    try:
        yield process
    finally:
        held.release.set()
        if process.proc.poll() is None:
            process.kill()
        sim.state.requests = original


class Requests(deque[dict[str, Any]]):
    """The simulator's request log, holding the first z.ai request until ``release`` is set: the
    simulator appends to it as a request arrives, on its own thread, so the fetch waits right there."""

    def __init__(self) -> None:
        super().__init__(maxlen=1000)
        self.zai = threading.Event()
        self.release = threading.Event()

    def append(self, item: dict[str, Any]) -> None:
        super().append(item)
        if item["path"].startswith("/zai/") and not self.zai.is_set():
            self.zai.set()
            self.release.wait(60)


def first_zai_fetch(url: str, found: dict[str, Any], done: threading.Event) -> None:
    """Follow the server's event stream until z.ai's first fetch result is published."""
    with httpx.stream("GET", url + "/api/events", timeout=120) as stream:
        event = ""
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "account":
                account = orjson.loads(line[5:])
                if account["provider"] == "zai" and account["fetched_at"]:
                    found.update(account)
                    done.set()
                    return


def stored_zai(db: Cluster) -> dict[str, object] | None:
    with psycopg.connect(db.url, autocommit=True) as conn:
        row = conn.execute("SELECT snapshot FROM account_state WHERE provider = 'zai'").fetchone()
    return orjson.loads(row[0]) if row and row[0] else None


def test_serve_rides_out_a_postgres_outage(
    served: ServeProcess,
    cluster: Cluster,  # noqa: F811
    sim: SimServer,
) -> None:
    url = served.url()
    assert httpx.get(url + "/api/health", timeout=30).json()["store"]["status"] == "ok"
    # The scheduler's first fetch is held in the simulator: stop the cluster under it, then let it go.
    requests = sim.state.requests
    assert isinstance(requests, Requests) and requests.zai.wait(120), "the first fetch never reached the simulator"
    live: dict[str, Any] = {}
    fetched = threading.Event()
    threading.Thread(target=first_zai_fetch, args=(url, live, fetched), daemon=True).start()
    cluster.stop("fast")
    requests.release.set()
    try:
        # The fetch completes into the outage: its state and sample are queued, not lost.
        assert fetched.wait(60), "the in-flight fetch never finished"
        assert live["status"] == "ok" and live["windows"], orjson.dumps(live).decode()
        with httpx.Client(base_url=url, timeout=60) as client:
            health = client.get("/api/health")
            assert health.status_code == 503 and health.json()["status"] == "degraded"
            store = health.json()["store"]
            assert store["status"] == "degraded" and store["since"] and store["last_error"]
            assert store["pending_writes"] >= 1 and f"127.0.0.1:{cluster.port}" in store["database"]
            assert "pw-never-shown" not in health.text
            shown = client.get("/api/usage/zai").json()["providers"][0]  # the fetched data is shown meanwhile
            assert shown["fetched_at"] == live["fetched_at"]
            for method, path in (("GET", "/api/history?provider=zai"), ("POST", "/api/refresh?provider=zai")):
                answer = client.request(method, path)
                assert answer.status_code == 503, (path, answer.text)
                assert answer.json()["error"] and answer.headers["retry-after"]
            for path in ("/api/usage", "/api/config", "/api/data", "/api/cost", "/", "/api/openapi.json"):
                assert client.get(path).status_code != 500, path
    finally:
        cluster.start()
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(60):  # the server's flush chore replays the queue within seconds
            health = client.get("/api/health")
            if health.status_code == 200:
                break
        assert health.status_code == 200, health.text
        assert health.json()["store"]["pending_writes"] == 0 and health.json()["store"]["since"] is None
        stored = stored_zai(cluster)
        assert stored is not None and stored["fetched_at"] == live["fetched_at"], "the queued state landed"
        history = client.get("/api/history", params={"provider": "zai", "since": "2000-01-01T00:00:00Z"})
        assert history.status_code == 200 and history.json()["series"], "the queued sample landed"
        assert client.post("/api/refresh?provider=zai").status_code == 202
    assert served.stop(signal.SIGTERM) == 0
    assert "Traceback" not in served.stderr

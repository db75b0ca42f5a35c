"""A window whose reset time has passed reads "reset, confirming..." (0 %, ``reset_pending``) on every
surface until a fetch confirms the new cycle: ``status --json``, the status table, ``/api/usage`` and
the SSE stream, never the old number."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from agentgauge.engine import RESET_GRACE, Engine
from agentgauge.models import ProviderSnapshot, Status, Window
from agentgauge.providers import registry
from agentgauge.sim.server import CalmServer, SimServer
from agentgauge.store import open_store
from agentgauge.web.app import create_app
from tests.test_engine_schedule import FakeTime, fake_sim, fake_time, one_account, zai_first_reset

__all__ = ["fake_sim", "fake_time"]  # module fixtures shared with test_engine_schedule


def _stored_with_a_passed_reset(db: Path, now: datetime) -> ProviderSnapshot:
    """A z.ai account fetched an hour ago whose session window reset two minutes ago, behind a
    closed gate (so ``status`` shows what is stored rather than fetching)."""
    snapshot = ProviderSnapshot(
        provider="zai",
        name="z.ai",
        status=Status.OK,
        source="api_key",
        windows=(
            Window(id="session", label="Session (5h)", used_pct=83.0, resets_at=now - timedelta(minutes=2)),
            Window(id="weekly", label="Weekly", used_pct=41.0, resets_at=now + timedelta(days=3)),
        ),
        fetched_at=now - timedelta(hours=1),
        last_success_at=now - timedelta(hours=1),
    )
    store = open_store(str(db), data_dir=db.parent)
    store.save_state(snapshot, next_allowed_at=now.timestamp() + 3600, failures=0)
    store.close()
    return snapshot


def test_status_json_and_table_show_a_passed_reset_as_pending(sim, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    _stored_with_a_passed_reset(db, datetime.now(UTC))
    env = {
        **os.environ,
        "AGENTGAUGE_DATABASE_URL": str(db),
        "AGENTGAUGE_ZAI_URL": f"{sim.url}/zai/url",
        "AGENTGAUGE_ZAI_API_KEY": registry.get("zai").sim_credentials["api_key"],
    }
    before = len(httpx.get(f"{sim.url}/__sim/requests").json())
    args = [sys.executable, "-m", "agentgauge", "status", "--provider", "zai"]
    shown = subprocess.run([*args, "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    windows = {w["id"]: w for w in json.loads(shown.stdout)["providers"][0]["windows"]}
    assert windows["session"]["reset_pending"] is True and windows["session"]["used_pct"] == 0.0
    assert windows["weekly"]["reset_pending"] is False and windows["weekly"]["used_pct"] == 41.0
    table = subprocess.run(args, capture_output=True, text=True, env={**env, "COLUMNS": "160"}, timeout=120)
    assert "reset, confirming" in table.stdout and "83" not in table.stdout, table.stdout
    assert len(httpx.get(f"{sim.url}/__sim/requests").json()) == before  # the gate held: nothing fetched


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    # an open event stream would hold a graceful shutdown; two seconds is grace enough
    server = CalmServer(uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)  # uvicorn sets a flag, no event to wait on
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class Events:
    """Account states as the SSE stream delivers them (the first snapshot's rows, then each
    account event), read on a thread into a queue."""

    def __init__(self, url: str) -> None:
        self.items: queue.Queue[dict[str, Any]] = queue.Queue()
        self.client = httpx.Client(timeout=None)
        self.thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self.thread.start()

    def _read(self, url: str) -> None:
        event = None
        try:
            with self.client.stream("GET", url + "/api/events") as response:
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and event == "snapshot":
                        for row in json.loads(line.split(":", 1)[1])["providers"]:
                            self.items.put(row)
                    elif line.startswith("data:") and event == "account":
                        self.items.put(json.loads(line.split(":", 1)[1]))
        except httpx.HTTPError:
            pass  # closed by the test

    def until(self, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
        while True:
            item = self.items.get(timeout=timeout)
            if predicate(item):
                return item

    def close(self) -> None:
        self.client.close()


def _session(account: dict[str, Any]) -> dict[str, Any]:
    return next(w for w in account["windows"] if w["id"] == "session")


def test_api_usage_and_sse_show_reset_pending_until_the_confirming_fetch(
    fake_sim: SimServer, fake_time: FakeTime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    fake_time.set(datetime(2030, 1, 7, 3, 0, tzinfo=UTC))
    reset = asyncio.run(zai_first_reset(fake_sim.url, fake_time, tmp_path))
    fake_time.set(reset - timedelta(seconds=200))
    config = one_account(fake_sim.url, "zai", 300.0)
    store = open_store(str(tmp_path / "w.db"), data_dir=tmp_path)
    engine = Engine(config, store, clock=fake_time.now, monotonic=fake_time.monotonic)
    engine.scheduler_tick = 0.01
    app = create_app(config, store, engine=engine, clock=fake_time.now)
    iso = reset.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        with _serving(app) as url:
            events = Events(url)
            first = events.until(lambda a: a["status"] == "ok" and bool(a["windows"]))
            assert _session(first)["resets_at"] == iso and not _session(first)["reset_pending"]
            old_pct = _session(first)["used_pct"]
            assert old_pct > 0
            fake_time.advance(201)  # one second past the reset: not yet due (RESET_GRACE)
            pending = events.until(lambda a: _session(a)["reset_pending"])
            assert _session(pending)["used_pct"] == 0.0
            usage = httpx.get(url + "/api/usage").json()["providers"][0]
            assert _session(usage)["reset_pending"] and _session(usage)["used_pct"] == 0.0
            assert _session(usage)["resets_at"] == iso
            fake_time.advance(RESET_GRACE)  # now due: the scheduler confirms the new cycle
            confirmed = events.until(lambda a: not _session(a)["reset_pending"])
            assert _session(confirmed)["resets_at"] > iso
            usage = httpx.get(url + "/api/usage").json()["providers"][0]
            assert not _session(usage)["reset_pending"] and _session(usage)["resets_at"] > iso
            events.close()
    finally:
        store.close()

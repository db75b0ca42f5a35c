"""Two ``status`` processes started together on a fresh database: one wins the fetch claim, the other
waits (bounded) for its result instead of showing the account as ``stale`` with no data (it did in
48 of 55 runs). Real processes, a real SQLite file and a real PostgreSQL schema per run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentgauge.providers import registry
from tests.conftest import pg_fresh_schema
from tests.test_engine import zai_fetches

RUNS = 8  # per database: at the old failure rate (48 of 55) a regression passes 8 runs with p < 1e-7
LATENCY = 2.0  # seconds the upstream takes: the loser starts while the winner's request is in flight


@contextmanager
def sqlite_url(tmp_path: Path, run: int) -> Iterator[str]:
    yield str(tmp_path / f"peers-{run}.db")


@contextmanager
def postgres_url(tmp_path: Path, run: int) -> Iterator[str]:
    with pg_fresh_schema("peers_") as url:
        yield url


@pytest.mark.parametrize("database", [sqlite_url, postgres_url], ids=["sqlite", "postgres"])
def test_a_parallel_status_on_a_fresh_database_waits_for_the_other_fetch(
    sim, tmp_path: Path, database: Callable[[Path, int], Any]
) -> None:
    httpx.post(f"{sim.url}/__sim/latency", json={"seconds": LATENCY}).raise_for_status()
    waited = 0
    for run in range(RUNS):
        with database(tmp_path, run) as url:
            env = {
                **os.environ,
                "AGENTGAUGE_DATABASE_URL": url,
                "AGENTGAUGE_ZAI_URL": f"{sim.url}/zai/url",
                "AGENTGAUGE_ZAI_API_KEY": registry.get("zai").sim_credentials["api_key"] + f"#peers{run}",
            }
            before = len(zai_fetches(sim))
            args = [sys.executable, "-m", "agentgauge", "-v", "status", "--json", "--provider", "zai"]
            procs = [
                subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)
            ]
            outputs = [proc.communicate(timeout=120) for proc in procs]
            fetched = len(zai_fetches(sim)) - before
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, (run, err)
            account = json.loads(out)["providers"][0]
            assert account["status"] == "ok" and account["windows"], (run, account, err)
            waited += "another process is fetching it" in err
        assert fetched == 1, f"run {run}: {fetched} fetches for one account"
    # The race this is about happened (not in every run: on a busy machine one process may start late).
    assert waited >= RUNS // 4, f"only {waited} of {RUNS} runs had a process wait for the other"

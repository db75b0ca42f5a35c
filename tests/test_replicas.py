"""Several ``serve`` replicas on one database, as real processes against the simulator.

PostgreSQL (a fresh schema): three replicas; exactly one holds the scheduler's advisory lock; it is
killed with SIGKILL and another takes over within seconds; across all of them each account is polled
once per interval (counted at the simulator); and an SSE client on every surviving replica sees every
account change, whichever replica fetched it (LISTEN/NOTIFY). SQLite: two ``serve`` on one file,
one schedules (a file lock), the other takes over when it dies, and its SSE client sees the changes.

The replicas are ``agentgauge serve`` itself; the one thing a wrapper changes before it starts is
z.ai's minimum interval (``MIN_INTERVAL``), so that several refresh intervals pass within a test.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

from agentgauge.config import AccountConfig, Config
from agentgauge.engine import Engine
from agentgauge.leader import LOCK_CLASS, FileElector, PostgresElector
from agentgauge.models import Status
from agentgauge.providers import registry
from tests.conftest import PG_URL, pg_fresh_schema
from tests.harness import sim_requests, sim_settings

ACCOUNTS = 4
MIN_INTERVAL = 1.0  # z.ai's minimum interval inside the replicas
REFRESH_INTERVAL = 5.0  # each account once per 5 s across all replicas (uncoordinated replicas: up to every 1 s)
START = 300.0  # seconds a replica may take to start on a busy machine
TAKEOVER = 20.0  # "within a few seconds": the bound a takeover must meet
WAIT = 120.0  # bound on waiting for a refresh round to show up

REPLICA_MAIN = (
    "import sys; from agentgauge.providers import registry; "
    "type(registry.get('zai')).min_interval = float(sys.argv.pop(1)); "
    "from agentgauge.cli import main; main()"
)


def write_config(path: Path, sim_url: str, tag: str) -> list[str]:
    """The replicas' shared config: ``ACCOUNTS`` z.ai accounts, each with a key of its own. Returns the keys."""
    key = registry.get("zai").sim_credentials["api_key"]
    keys = [f"{key}#{tag}{i}" for i in range(ACCOUNTS)]
    lines = [f"refresh_interval = {REFRESH_INTERVAL}", "status_pages = false", ""]
    for i, account_key in enumerate(keys):
        lines += [f"[providers.zai.accounts.r{i}]", f'url = "{sim_url}/zai/url"', f'api_key = "{account_key}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return keys


class Replica:
    """One ``agentgauge serve`` on a port of its own, its stderr collected as it comes."""

    def __init__(self, name: str, config: Path, database: str, home: Path) -> None:
        self.name = name
        env = {
            **os.environ,
            "HOME": str(home),
            "AGENTGAUGE_CONFIG": str(config),
            "AGENTGAUGE_DATABASE_URL": database,
            "AGENTGAUGE_NO_PLUGINS": "1",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-c", REPLICA_MAIN, str(MIN_INTERVAL), "serve", "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<ended>")
            self._changed.notify_all()

    def _wait_for_url(self) -> str:
        pattern = re.compile(r"dashboard: (http://[\w.]+:\d+)/")
        found: list[str] = []

        def ready() -> bool:
            found[:] = [m.group(1) for line in self.lines if (m := pattern.search(line))]
            return bool(found) or "<ended>" in self.lines

        with self._changed:
            self._changed.wait_for(ready, START)
        assert found, f"{self.name} did not start:\n" + "\n".join(self.lines)
        return found[0]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


class Events:
    """An SSE client on one replica: every ``account`` event it receives, as (key, fetched_at)."""

    replica: Replica

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.seen: list[tuple[str, str | None]] = []
        self.connected = threading.Event()
        self._lock = threading.Lock()
        self._closing = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        kind = ""
        try:
            with httpx.stream("GET", f"{self.replica.url}/api/events", timeout=httpx.Timeout(10, read=None)) as resp:
                for line in resp.iter_lines():
                    if line.startswith("event:"):
                        kind = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and kind == "snapshot":
                        self.connected.set()
                    elif line.startswith("data:") and kind == "account":
                        account = orjson.loads(line.split(":", 1)[1])
                        with self._lock:
                            self.seen.append((f"{account['provider']}/{account['account']}", account["fetched_at"]))
                    if self._closing:
                        return
        except httpx.HTTPError:
            pass  # the replica went away (killed) or the test is over

    def fetched(self) -> dict[str, set[datetime]]:
        """Each account's fetch times seen (ok or not, every fetch stamps one)."""
        with self._lock:
            out: dict[str, set[datetime]] = {}
            for key, fetched_at in self.seen:
                if fetched_at:
                    out.setdefault(key, set()).add(datetime.fromisoformat(fetched_at))
            return out

    def close(self) -> None:
        self._closing = True


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``condition`` (it reads other processes' state: no event to wait on) until it holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout:g} s: {what}")


def polls(sim: Any, keys: list[str]) -> dict[str, list[float]]:
    """When the simulator received each account's quota request (one per fetch)."""
    out: dict[str, list[float]] = {k: [] for k in keys}
    for request in sim_requests(sim):
        if not request["path"].startswith("/zai/url/api/monitor/usage/quota/limit"):
            continue
        auth = request["headers"].get("authorization", "")
        for key in keys:
            if auth.endswith(key):
                out[key].append(request["at"])
    return out


# Seconds by which the time between a scheduled start and its request reaching the simulator varies: on a
# loaded 2-core machine (CI runs four test workers beside a Docker build) a request can arrive ~1-2 s late
# after one on time. Uncoordinated replicas would still poll each account about every MIN_INTERVAL.
JITTER = 2.5


def at_most_one_poll_per_interval(times: list[float]) -> bool:
    """``n`` polls spread over ``span`` seconds fit one per interval when n <= span / interval + 1
    (uncoordinated replicas would poll each account about every ``MIN_INTERVAL``)."""
    if len(times) < 2:
        return True
    span = max(times) - min(times)
    return len(times) <= (span + JITTER) / REFRESH_INTERVAL + 1


def after(fetched: dict[str, set[datetime]], moment: datetime) -> dict[str, set[datetime]]:
    return {k: {t for t in v if t > moment} for k, v in fetched.items()}


def now() -> datetime:
    return datetime.now(UTC)


# -- PostgreSQL --------------------------------------------------------------------------------------------


@contextmanager
def fresh_schema() -> Iterator[str]:
    with pg_fresh_schema("replicas_") as url:
        yield url


def pg_leaders(replicas: list[Replica]) -> list[Replica]:
    """The replicas whose election connection holds the scheduler's advisory lock (pg_locks)."""
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s",
            (LOCK_CLASS,),
        ).fetchall()
    names = {r[0] for r in rows}
    return [r for r in replicas if f"agentgauge scheduler election pid {r.pid}" in names]


@contextmanager
def running(replicas: list[Replica]) -> Iterator[list[Replica]]:
    try:
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()


def test_three_replicas_on_postgres_one_schedules_another_takes_over_all_see_every_change(
    sim: Any, tmp_path: Path
) -> None:
    keys = write_config(tmp_path / "config.toml", sim.url, f"pg{uuid.uuid4().hex[:6]}")
    accounts = {f"zai/r{i}" for i in range(ACCOUNTS)}
    with fresh_schema() as database, running([]) as replicas:
        replicas += [
            Replica(name, tmp_path / "config.toml", database, tmp_path / f"home-{name}") for name in ("a", "b", "c")
        ]
        leader = wait_until(lambda: pg_leaders(replicas), TAKEOVER, "a replica holds the scheduler lock")
        assert len(leader) == 1
        first = leader[0]
        streams = {r.name: Events(r) for r in replicas}
        for events in streams.values():
            assert events.connected.wait(30), "no snapshot event"
        connected_at = now()

        # A refresh round after every client connected, seen by all three.
        def round_after(moment: datetime, names: list[str]) -> bool:
            return all(all(after(streams[n].fetched(), moment).get(a) for a in accounts) for n in names)

        wait_until(lambda: round_after(connected_at, ["a", "b", "c"]), WAIT, "a round of fetches on every replica")

        first.kill()
        killed_at = now()
        survivors = [r for r in replicas if r is not first]
        # Another replica takes over within seconds (its lock shows in pg_locks).
        second = wait_until(lambda: pg_leaders(survivors), TAKEOVER, "a surviving replica takes over")
        assert len(second) == 1 and second[0] is not first

        # The new leader's next round reaches both survivors' clients.
        wait_until(
            lambda: round_after(killed_at, [r.name for r in survivors]), WAIT, "a round after the takeover on both"
        )
        for events in streams.values():
            events.close()

        # No missed events: every fetch after the clients connected, as any replica saw it, reached
        # every replica that was alive then (the killed one only until it died).
        everything: dict[str, set[datetime]] = {}
        for events in streams.values():
            for key, times in after(events.fetched(), connected_at).items():
                everything.setdefault(key, set()).update(times)
        for survivor in survivors:
            assert after(streams[survivor.name].fetched(), connected_at) == everything, survivor.name

        # One poll per account per interval across all replicas, counted at the simulator; and every
        # poll after the clients connected is one of the fetches they saw.
        requests = polls(sim, keys)
        for i, key in enumerate(keys):
            assert requests[key], key
            assert at_most_one_poll_per_interval(requests[key]), (key, requests[key])
            assert len(everything[f"zai/r{i}"]) <= len(requests[key])


# -- SQLite ------------------------------------------------------------------------------------------------


def sqlite_leader(lock: Path, replicas: list[Replica]) -> list[Replica]:
    """The replica whose pid the scheduler lock file names (written by whoever holds the lock)."""
    try:
        holder = lock.read_text().strip()
    except OSError:
        return []
    return [r for r in replicas if str(r.pid) == holder and r.proc.poll() is None]


def test_two_serve_on_one_sqlite_file_schedule_once_and_take_over(sim: Any, tmp_path: Path) -> None:
    keys = write_config(tmp_path / "config.toml", sim.url, f"sq{uuid.uuid4().hex[:6]}")
    accounts = {f"zai/r{i}" for i in range(ACCOUNTS)}
    database = tmp_path / "shared.db"
    lock = tmp_path / "shared.db.scheduler.lock"
    with running([]) as replicas:
        replicas += [Replica(name, tmp_path / "config.toml", str(database), tmp_path / f"home-{name}") for name in "ab"]
        first = wait_until(lambda: sqlite_leader(lock, replicas), TAKEOVER, "a serve holds the scheduler lock")[0]
        other = next(r for r in replicas if r is not first)
        events = Events(other)
        assert events.connected.wait(30)
        connected_at = now()
        # The follower's client sees the leader's fetches (it polls the file for changes).
        wait_until(lambda: all(after(events.fetched(), connected_at).get(a) for a in accounts), WAIT, "follower sees")

        first.kill()
        killed_at = now()
        assert wait_until(lambda: sqlite_leader(lock, [other]), TAKEOVER, "the other serve takes over") == [other]
        wait_until(lambda: all(after(events.fetched(), killed_at).get(a) for a in accounts), WAIT, "it fetches")
        events.close()

        requests = polls(sim, keys)
        for key in keys:
            assert requests[key] and at_most_one_poll_per_interval(requests[key]), (key, requests[key])


# -- the pieces, in one process ----------------------------------------------------------------------------


async def first_change(elector: Any, timeout: float = 30.0) -> None:
    """Wait for the elector's next change of leadership (its ``changed`` event)."""
    await asyncio.wait_for(elector.changed.wait(), timeout)


async def test_only_the_leader_fetches_and_runs_its_chores(sim: Any, store: Any) -> None:
    tag = f"#lead{uuid.uuid4().hex[:8]}"
    settings = sim_settings("zai", sim.url, api_key=registry.get("zai").sim_credentials["api_key"] + tag)
    account = AccountConfig("zai", "lead", True, settings, dict.fromkeys(settings, "test"), True)
    config = Config(path=None, accounts=(account,), env={}, home=Path("/nonexistent"))
    leading = False
    wake = [asyncio.Event()]
    passes = 0
    passed = asyncio.Event()
    ran: list[str] = []

    def on_tick() -> None:
        nonlocal passes
        passes += 1
        passed.set()

    async with Engine(config, store) as engine:
        engine.add_chore("everywhere", 0.01, lambda: ran.append("everywhere")).everywhere = True
        engine.add_chore("leader only", 0.01, lambda: ran.append("leader only"))
        fetched = asyncio.Event()
        engine.listeners.append(lambda s: fetched.set() if s.status == Status.OK else None)
        stop = asyncio.Event()
        task = asyncio.create_task(
            engine.run_scheduler(
                stop, interval=300, tick=0.01, on_tick=on_tick, leading=lambda: leading, wake=lambda: wake[0]
            )
        )
        while passes < 5:  # five passes as a follower
            passed.clear()
            await asyncio.wait_for(passed.wait(), 30)
        assert not fetched.is_set() and "leader only" not in ran and "everywhere" in ran
        assert not [r for r in sim_requests(sim) if r["headers"].get("authorization", "").endswith(tag)]
        leading = True  # elected: the scheduler is woken and fetches at once
        wake[0].set()
        wake[0] = asyncio.Event()
        await asyncio.wait_for(fetched.wait(), 30)
        while "leader only" not in ran:
            passed.clear()
            await asyncio.wait_for(passed.wait(), 30)
        stop.set()
        await task


async def test_postgres_election_one_leads_and_hands_over(tmp_path: Path) -> None:
    with fresh_schema() as url:
        first, second = PostgresElector(url, retry=0.05), PostgresElector(url, retry=0.05)
        stops = {first: asyncio.Event(), second: asyncio.Event()}
        tasks = {e: asyncio.create_task(e.run(stops[e])) for e in (first, second)}
        await asyncio.wait(
            [asyncio.ensure_future(first_change(e)) for e in (first, second)], return_when=asyncio.FIRST_COMPLETED
        )
        leaders = [e for e in (first, second) if e.leading]
        assert len(leaders) == 1
        leader = leaders[0]
        other = second if leader is first else first
        handed = asyncio.ensure_future(first_change(other))
        stops[leader].set()  # its connection closes, and the lock goes with it
        await tasks[leader]
        await handed
        assert other.leading and not leader.leading
        stops[other].set()
        await tasks[other]


async def test_sqlite_file_lock_one_leads_and_hands_over(tmp_path: Path) -> None:
    first, second = FileElector(tmp_path / "a.db", retry=0.05), FileElector(tmp_path / "a.db", retry=0.05)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    task_first = asyncio.create_task(first.run(stop_first))
    await first_change(first)
    assert first.leading
    task_second = asyncio.create_task(second.run(stop_second))
    handed = asyncio.ensure_future(first_change(second))
    for _ in range(5):  # it tries, and fails while the first holds the lock
        await asyncio.sleep(0.05)
    assert not second.leading and first.path.read_text().strip() == str(os.getpid())
    stop_first.set()
    await task_first
    await handed
    assert second.leading
    stop_second.set()
    await task_second

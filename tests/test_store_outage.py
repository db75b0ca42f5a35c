"""The store through real outages: a throwaway PostgreSQL cluster stopped and started again, the
pool's backends terminated on the shared server, and SQLite locked beyond its busy timeout."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from agentgauge.errors import StoreUnavailableError
from agentgauge.kinds import ErrorKind
from agentgauge.models import ProviderSnapshot, Status, Window
from agentgauge.store import Store, open_store

PG_URL = os.environ.get("AGENTGAUGE_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
PASSWORD = "pw-never-shown-4711"  # trust auth ignores it; it must never appear in errors or health
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def snap(pct: float, account: str = "default") -> ProviderSnapshot:
    window = Window(
        id="session", label="Session (5h)", used_pct=pct, resets_at=T0 + timedelta(hours=5), window_seconds=18000
    )
    return ProviderSnapshot(
        provider="zai", account=account, name="z.ai", status=Status.OK, plan="Pro", windows=(window,)
    )


def recover(store: Store, attempts: int = 90) -> None:
    """Flush until the queue is empty. Each try waits at most the pool timeout for a connection,
    so this follows the pool's own reconnect rather than sleeping."""
    for _ in range(attempts):
        store.flush_pending()
        if store.health(probe=False).pending_writes == 0:
            return
    raise AssertionError(f"the store did not recover: {store.health(probe=False)}")


# -- a throwaway PostgreSQL cluster -------------------------------------------------------------------


@dataclass
class Cluster:
    bin: Path
    data: Path
    port: int
    user: pwd.struct_passwd | None  # the account that runs the server when the tests run as root

    @property
    def url(self) -> str:
        return f"postgresql://agentgauge:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def run(self, *args: str) -> None:
        subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            preexec_fn=self._demote,
            cwd=self.data.parent,
        )

    def _demote(self) -> None:
        if self.user is not None:
            os.setgroups([])
            os.setgid(self.user.pw_gid)
            os.setuid(self.user.pw_uid)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.data.parent / "log"), "-w", "start")

    def stop(self, mode: str) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    assert bins, "PostgreSQL server binaries are needed (Debian: postgresql)"
    user = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = pwd.getpwnam("postgres")
    root = Path(tempfile.mkdtemp(prefix="agentgauge-pg-"))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    c = Cluster(bins[-1].parent, root / "data", _free_port(), user)
    c.run("initdb", "-D", str(c.data), "-A", "trust", "-U", "agentgauge", "--no-sync", "-E", "UTF8")
    c.start()
    try:
        yield c
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by a failed test
            c.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_outage_queues_writes_fails_reads_and_recovers(cluster: Cluster, tmp_path: Path) -> None:
    store = open_store(cluster.url, data_dir=tmp_path, pool_timeout=1.0)
    try:
        store.save_state(snap(10.0), next_allowed_at=100.0, failures=0)
        assert store.record_samples(snap(10.0), T0, 3600) == 1
        assert store.health().status == "ok"

        cluster.stop("fast")
        # Writes are kept, in order; a newer state of an account replaces its queued one.
        store.save_state(snap(20.0), next_allowed_at=200.0, failures=1)
        assert store.record_samples(snap(20.0), T0 + timedelta(minutes=5), 3600) == 0
        store.save_state(snap(30.0), next_allowed_at=300.0, failures=2)
        assert store.record_samples(snap(30.0), T0 + timedelta(minutes=10), 3600) == 0
        health = store.health(probe=False)
        assert health.status == "degraded" and health.pending_writes == 3  # one state, two samples
        assert health.since is not None and health.last_error
        assert "127.0.0.1" in health.database and str(cluster.port) in health.database
        # Reads raise the typed error, never a driver exception; no fetch without the gate.
        for read in (
            store.states,
            lambda: store.state("zai", "default"),
            store.series,
            lambda: store.samples("zai", "default", "session", T0, T0 + timedelta(days=1)),
        ):
            with pytest.raises(StoreUnavailableError) as info:
                read()
            assert info.value.kind == ErrorKind.INTERNAL
            assert f"127.0.0.1:{cluster.port}" in info.value.message + info.value.hint
        with pytest.raises(StoreUnavailableError), store.transaction(write=False) as tx:
            tx.query("SELECT 1")
        assert store.claim("zai", "default", now=1e9, hold_until=1e9 + 60) is False
        probed = store.health()  # a probe while down stays degraded
        assert probed.status == "degraded"
        text = repr(probed) + repr(probed.to_json()) + info.value.message + info.value.hint
        assert PASSWORD not in text

        cluster.start()
        recover(store)
        health = store.health()
        assert health.status == "ok" and health.since is None and health.pending_writes == 0
        assert health.last_error  # the last failure stays on record after recovery
        state = store.state("zai", "default")
        assert state is not None and state.snapshot == snap(30.0)
        assert (state.next_allowed_at, state.failures) == (300.0, 2)
        rows = store.samples("zai", "default", "session", T0, T0 + timedelta(days=1))
        assert [r.used_pct for r in rows] == [10.0, 20.0, 30.0]
        assert store.claim("zai", "default", now=1e9, hold_until=1e9 + 60) is True
    finally:
        store.close()


def test_postgres_crash_mid_session_loses_no_queued_write(cluster: Cluster, tmp_path: Path) -> None:
    store = open_store(cluster.url, data_dir=tmp_path, pool_timeout=1.0)
    try:
        store.save_state(snap(1.0, "crash"), next_allowed_at=1.0, failures=0)
        cluster.stop("immediate")
        store.save_state(snap(2.0, "crash"), next_allowed_at=2.0, failures=0)
        assert store.health(probe=False).pending_writes == 1
        cluster.start()
        store.save_state(snap(3.0, "other"), next_allowed_at=3.0, failures=0)  # a write flushes the queue first
        recover(store)
        states = store.states()
        assert states[("zai", "crash")].snapshot == snap(2.0, "crash")
        assert states[("zai", "other")].snapshot == snap(3.0, "other")
    finally:
        store.close()


# -- backends terminated on the shared server ------------------------------------------------------------


@pytest.fixture
def schema_url() -> Iterator[tuple[str, str]]:
    schema, app = f"t_{uuid.uuid4().hex[:12]}", f"agtest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}&application_name={app}", app
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _terminate(app: str) -> int:
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (app,)
        ).fetchall()
    return sum(1 for (ok,) in rows if ok)


def test_terminated_backends_are_replaced_before_use(schema_url: tuple[str, str], tmp_path: Path) -> None:
    url, app = schema_url
    store = open_store(url, data_dir=tmp_path, pool_timeout=5.0)
    try:
        store.save_state(snap(5.0), next_allowed_at=5.0, failures=0)
        assert store.state("zai", "default") is not None
        assert _terminate(app) >= 1
        # Checked on checkout: the dead connection is replaced, nobody sees an error.
        state = store.state("zai", "default")
        assert state is not None and state.snapshot == snap(5.0)
        store.save_state(snap(6.0), next_allowed_at=6.0, failures=0)
        assert _terminate(app) >= 1
        assert store.record_samples(snap(6.0), T0, 3600) == 1
        assert store.claim("zai", "default", now=10.0, hold_until=20.0) is True
        health = store.health()
        assert health.status == "ok" and health.pending_writes == 0
    finally:
        store.close()


# -- SQLite locked beyond its busy timeout ---------------------------------------------------------------


def test_sqlite_lock_beyond_busy_timeout_queues_writes_until_released(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    store = open_store(str(db), data_dir=tmp_path, busy_timeout=0.05)
    blocker = sqlite3.connect(db, isolation_level=None, timeout=0.05)
    try:
        store.save_state(snap(10.0), next_allowed_at=10.0, failures=0)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock, for long
        store.save_state(snap(20.0), next_allowed_at=20.0, failures=1)
        assert store.record_samples(snap(20.0), T0, 3600) == 0
        store.save_state(snap(30.0), next_allowed_at=30.0, failures=2)
        health = store.health()
        assert health.status == "degraded" and health.pending_writes == 2
        assert health.last_error is not None and "locked" in health.last_error
        assert str(db) in health.database
        assert store.claim("zai", "default", now=1e9, hold_until=1e9 + 60) is False
        # WAL readers are not blocked: reads still answer, with the queued state already visible.
        state = store.state("zai", "default")
        assert state is not None and state.snapshot == snap(30.0) and state.failures == 2
        assert store.states()[("zai", "default")].next_allowed_at == 30.0
        assert store.samples("zai", "default", "session", T0, T0 + timedelta(days=1)) == []

        blocker.execute("ROLLBACK")
        assert store.flush_pending() == 2
        health = store.health(probe=False)
        assert health.status == "ok" and health.pending_writes == 0 and health.since is None
        stored = blocker.execute("SELECT next_allowed_at, failures FROM account_state").fetchall()
        assert stored == [(30.0, 2)]
        assert [r.used_pct for r in store.samples("zai", "default", "session", T0, T0 + timedelta(days=1))] == [20.0]
    finally:
        blocker.close()
        store.close()

"""``agentgauge serve`` as a real process: port and host validation, binding before printing the URL,
stop signals (exit 0, quietly), the demo's simulator child and temp data gone after SIGTERM, SIGINT,
SIGHUP and kill -9, the demo on PostgreSQL, and bodies that cannot grow the server's memory."""

from __future__ import annotations

import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import psycopg
import pytest

from agentgauge.cli.demo import SCHEMA_PREFIX

PG_URL = os.environ.get("AGENTGAUGE_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
TOKEN = "serve-test-token-1234"
START = 600.0  # seconds a start may take: a demo with history takes minutes on a busy machine


def serve_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's clean environment (conftest strips the developer's settings), with temp folders
    below ``tmp_path`` so the demo's leftovers, if any, are found there."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmpdir), **extra}


class ServeProcess:
    """``agentgauge serve ...`` with its stderr collected line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agentgauge", "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # end of output
            self._changed.notify_all()
            self._ended = True

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = START) -> re.Match[str]:
        regex = re.compile(pattern)
        found: list[re.Match[str]] = []

        def seen() -> bool:
            found[:] = [m for line in self.lines if (m := regex.search(line))]
            return bool(found) or self._ended

        with self._changed:
            self._changed.wait_for(seen, timeout)
        assert found, f"{pattern!r} never appeared; stderr:\n{self.stderr}"
        return found[0]

    def url(self) -> str:
        """The printed dashboard URL (``http://localhost:PORT``), with 127.0.0.1 for the host (the
        server binds IPv4 loopback, and localhost may resolve to ::1 first)."""
        return self.printed_url().replace("//localhost:", "//127.0.0.1:")

    def printed_url(self) -> str:
        return self.wait_for(r"agentgauge dashboard: (http://\S+?)/?\s").group(1)

    def children(self) -> list[int]:
        pids: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
        return pids

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait(30)
        self._reader.join(10)


@pytest.fixture
def started() -> Iterator[list[ServeProcess]]:
    """Every ServeProcess a test starts is killed at its end, whatever happens."""
    procs: list[ServeProcess] = []
    yield procs
    for proc in procs:
        if proc.proc.poll() is None:
            proc.kill()


def wait_gone(pid: int, timeout: float) -> bool:
    """Whether process ``pid`` ends within ``timeout`` seconds (a pidfd, no polling)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", *args], capture_output=True, text=True, timeout=120, env=env
    )


# -- port and host ---------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_out_of_range_port_is_refused_before_anything_starts(tmp_path: Path, port: str) -> None:
    result = run_cli(["serve", "--port", port], serve_env(tmp_path))
    assert result.returncode == 2
    assert "not in the range 0<=x<=65535" in result.stderr
    assert "dashboard" not in result.stderr and "Traceback" not in result.stderr


def test_port_in_use_is_one_error_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_cli(["serve", "--port", str(port)], serve_env(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"error: cannot listen on 127.0.0.1:{port}: the port is already in use"
    assert len(lines) == 2 and lines[1].startswith("hint: ") and "--port 0" in lines[1]


def test_port_zero_serves_where_it_says_and_sigterm_exits_0(tmp_path: Path, started: list[ServeProcess]) -> None:
    served = ServeProcess(["--port", "0"], serve_env(tmp_path))
    started.append(served)
    url = served.printed_url()
    port = int(url.rsplit(":", 1)[1])
    assert url == f"http://localhost:{port}" and port != 0
    assert httpx.get(f"http://127.0.0.1:{port}/api/ping").json()["ok"] is True
    assert served.stop(signal.SIGTERM) == 0
    assert "Traceback" not in served.stderr


@pytest.mark.parametrize("host", ["", "0.0.0.0", "::", "192.0.2.7"])
def test_every_non_loopback_host_needs_a_token(tmp_path: Path, host: str) -> None:
    result = run_cli(["serve", "--host", host, "--port", "0"], serve_env(tmp_path))
    assert result.returncode == 2
    assert "without an access token" in result.stderr and "Traceback" not in result.stderr


def test_every_interface_with_a_token_requires_it(tmp_path: Path, started: list[ServeProcess]) -> None:
    served = ServeProcess(["--host", "", "--port", "0"], serve_env(tmp_path, AGENTGAUGE_SERVE_TOKEN=TOKEN))
    started.append(served)
    port = int(served.url().rsplit(":", 1)[1])
    assert httpx.get(f"http://127.0.0.1:{port}/api/usage").status_code == 401
    authorized = httpx.get(f"http://127.0.0.1:{port}/api/usage", headers={"Authorization": f"Bearer {TOKEN}"})
    assert authorized.status_code == 200
    assert served.stop(signal.SIGHUP) == 0  # a closed terminal stops it cleanly too
    assert TOKEN not in served.stderr


# -- the demo's lifecycle -------------------------------------------------------------------------------


def start_demo(
    tmp_path: Path, started: list[ServeProcess], *, ready: bool = True, **env: str
) -> tuple[ServeProcess, int, Path]:
    """``serve --demo --port 0``, serving (``ready``: with no history, the quickest start) or still
    preparing its 30 days of history: (process, its simulator child's pid, its temp workdir)."""
    days = "0" if ready else "90"  # the most there is: the stop comes while it runs
    served = ServeProcess(["--demo", "--port", "0"], serve_env(tmp_path, AGENTGAUGE_DEMO_HISTORY_DAYS=days, **env))
    started.append(served)
    store = served.wait_for(r"agentgauge demo: simulated providers at \S+; store: (.*)").group(1)
    if not ready:
        served.wait_for("preparing 90 days of simulated history")
    if ready:
        served.url()
    (child,) = served.children()
    workdirs = list((tmp_path / "tmp").glob("agentgauge-demo-*"))
    assert len(workdirs) == 1, workdirs
    if "SQLite" in store:
        assert str(workdirs[0]) in store
    return served, child, workdirs[0]


def test_demo_sigterm_stops_the_simulator_and_removes_its_data(tmp_path: Path, started: list[ServeProcess]) -> None:
    served, child, workdir = start_demo(tmp_path, started)
    url = served.url()
    assert (workdir / "demo.db").exists()
    assert httpx.get(url + "/api/usage").status_code == 200
    opened = threading.Event()

    def listen() -> None:  # an open event stream must not hold the stop up
        with suppress(httpx.HTTPError), httpx.stream("GET", url + "/api/events", timeout=120) as stream:
            for _ in stream.iter_lines():
                opened.set()

    threading.Thread(target=listen, daemon=True).start()
    assert opened.wait(30)
    assert served.stop(signal.SIGTERM) == 0
    assert wait_gone(child, 0), "the simulator child is stopped before serve exits"
    assert not workdir.exists()
    assert "Traceback" not in served.stderr and "Aborted" not in served.stderr


def test_demo_ctrl_c_is_a_clean_stop(tmp_path: Path, started: list[ServeProcess]) -> None:
    served, child, workdir = start_demo(tmp_path, started)
    assert served.stop(signal.SIGINT) == 0
    assert "Aborted!" not in served.stderr and "Traceback" not in served.stderr
    assert wait_gone(child, 0) and not workdir.exists()


def test_demo_stopped_while_preparing_history(tmp_path: Path, started: list[ServeProcess]) -> None:
    served, child, workdir = start_demo(tmp_path, started, ready=False)
    assert served.stop(signal.SIGTERM) == 0
    assert "dashboard" not in served.stderr and "Traceback" not in served.stderr
    assert wait_gone(child, 0) and not workdir.exists()


def test_demo_child_dies_with_a_killed_server(tmp_path: Path, started: list[ServeProcess]) -> None:
    served, child, workdir = start_demo(tmp_path, started, ready=False)
    served.kill()  # SIGKILL: no cleanup of its own can run
    assert wait_gone(child, 15), "the simulator child must not outlive its server"
    assert not workdir.exists(), "the orphaned child removes the demo's temp data"


def test_sim_child_exits_when_its_parent_pipe_closes(tmp_path: Path) -> None:
    """The portable fallback (macOS, Windows): no death signal, only the stdin pipe's end of file."""
    workdir = tmp_path / "demo-work"
    workdir.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-m", "agentgauge.sim.process", "--parent", str(os.getpid()), "--cleanup", str(workdir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        port = int(child.stdout.readline())
        assert httpx.get(f"http://127.0.0.1:{port}/").json()["simulator"] == "agentgauge"
        child.stdin.close()  # what the OS does when the parent dies, on every platform
        assert child.wait(15) == 0
        assert not workdir.exists()
    finally:
        if child.poll() is None:
            child.kill()


# -- the demo on PostgreSQL --------------------------------------------------------------------------


def demo_schemas() -> set[str]:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (SCHEMA_PREFIX,))
        return {r[0] for r in rows}


def test_demo_uses_postgresql_in_its_own_schema(tmp_path: Path, started: list[ServeProcess]) -> None:
    before = demo_schemas()
    first, _, _ = start_demo(tmp_path / "a", started, ready=False, AGENTGAUGE_DATABASE_URL=PG_URL)
    (killed,) = demo_schemas() - before
    assert killed in first.stderr and "PostgreSQL at 127.0.0.1:5432/test" in first.stderr
    first.kill()  # leaves its schema behind...
    assert killed in demo_schemas()
    second, _, _ = start_demo(tmp_path / "b", started, ready=False, AGENTGAUGE_DATABASE_URL=PG_URL)
    assert killed not in demo_schemas(), "...which the next demo drops (nobody holds its lock)"
    (own,) = demo_schemas() - before
    assert own in second.stderr
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (own,)).fetchall()
    assert {"account_state", "schema_migrations"} <= {t[0] for t in tables}, "the demo's store is its schema"
    assert second.stop(signal.SIGTERM) == 0
    assert own not in demo_schemas(), "a clean stop drops the demo's schema"


# -- bodies cannot grow the server --------------------------------------------------------------------


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_large_login_bodies_do_not_grow_memory(tmp_path: Path, started: list[ServeProcess]) -> None:
    served = ServeProcess(["--port", "0"], serve_env(tmp_path, AGENTGAUGE_SERVE_TOKEN=TOKEN))
    started.append(served)
    url = served.url()
    before = rss_kib(served.proc.pid)
    megabyte = b"t" * (1 << 20)

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield megabyte

    for _ in range(5):  # 5 x 100 MB, chunked (no Content-Length): counted as read, cut at the cap
        with suppress(httpx.HTTPError):
            response = httpx.post(url + "/login", content=chunks(), timeout=60)
            assert response.status_code == 413
    growth_mib = (rss_kib(served.proc.pid) - before) / 1024
    assert growth_mib < 32, f"RSS grew by {growth_mib:.0f} MiB"
    assert httpx.get(url + "/api/ping").status_code == 200
    assert served.stop() == 0

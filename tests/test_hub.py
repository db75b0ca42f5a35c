"""The hub for many machines, for real: a hub and pushing machines as separate ``agentgauge serve``
processes, each with its own store, the simulator as every provider, pushes over HTTP on 127.0.0.1.

Both machines' accounts appear on the hub with their machine, the same account pushed by two
machines is one hub account (its fingerprint) whose history comes from whichever pushed newest,
pushes made while the hub is down wait in the machine's store and arrive once when it is back (also
when an answer is lost and the batch is sent again), a revoked machine is refused and keeps its
buffer, no secret reaches a pushed body, the hub's database or its log, the hub's own accounts are
fetched once whatever the number of replicas, and the dashboard shows where an account came from.
"""

from __future__ import annotations

import gzip
import http.server
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson
import psycopg
import pytest

from agentgauge.providers.zai import QUOTA_PATH
from tests.harness import add_fault
from tests.test_serve import ServeProcess, serve_env

PG_URL = os.environ.get("AGENTGAUGE_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
T = TypeVar("T")
WAIT = 90.0  # seconds a condition may take on a busy machine (each is met in about a second when idle)


def wait_until(check: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    """``check()`` once it is truthy: another process's state, read over HTTP or from its database."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


def zai(sim_url: str, key_suffix: str) -> dict[str, str]:
    return {"api_key": f"sim-zai-key.secret#{key_suffix}", "url": f"{sim_url}/zai/url"}


def toml_config(database_url: str, accounts: dict[str, dict[str, str]], **settings: Any) -> str:
    """A config file: global settings, then zai accounts (``default`` and named ones)."""
    lines = [f'database_url = "{database_url}"']
    lines += [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in settings.items()]
    for name, values in accounts.items():
        lines.append("[providers.zai]" if name == "default" else f"[providers.zai.accounts.{name}]")
        lines += [f'{k} = "{v}"' for k, v in values.items()]
    return "\n".join(lines).replace("'", '"') + "\n"


@dataclass
class Node:
    """One agentgauge: its config, its store, and its serve process once started."""

    name: str
    home: Path
    database_url: str
    env: dict[str, str]
    proc: ServeProcess | None = None
    port: int = 0
    procs: list[ServeProcess] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.home / "config.toml"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(
        self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentgauge", *args],
            capture_output=True,
            text=True,
            timeout=180,
            input=stdin,
            env={**self.env, **(env or {})},
        )

    def start(self, *args: str, env: dict[str, str] | None = None) -> ServeProcess:
        self.port = self.port or free_port()
        proc = ServeProcess(["--port", str(self.port), *args], {**self.env, **(env or {})})
        self.procs.append(proc)
        proc.wait_for(r"agentgauge dashboard: ")
        self.proc = proc
        return proc

    def stop(self) -> None:
        assert self.proc is not None
        assert self.proc.stop() == 0, self.proc.stderr
        self.proc = None

    def usage(self) -> dict[str, Any]:
        return dict(httpx.get(self.url + "/api/usage", timeout=30).json())

    def pushed(self) -> dict[str, dict[str, Any]]:
        """The hub's accounts that machines pushed, by account name."""
        return {p["account"]: p for p in self.usage()["providers"] if p.get("machine")}

    def pushed_if(self, check: Callable[[dict[str, dict[str, Any]]], bool]) -> dict[str, dict[str, Any]] | None:
        rows = self.pushed()
        return rows if check(rows) else None

    def refresh(self, account: str) -> dict[str, Any]:
        """Fetch one of this machine's zai accounts now (its first fetch: no gate holds it)."""
        answer = httpx.post(
            self.url + "/api/refresh", params={"provider": "zai", "account": account, "wait": 60}, timeout=90
        )
        assert answer.status_code == 200, answer.text
        row = next(p for p in answer.json()["providers"] if p["account"] == account)
        assert row["status"] == "ok", row
        return dict(row)

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.database_url.startswith("postgresql"):
            with psycopg.connect(self.database_url) as conn:
                return [tuple(r) for r in conn.execute(statement.replace("?", "%s"), params).fetchall()]
        with sqlite3.connect(self.database_url) as conn:
            return [tuple(r) for r in conn.execute(statement, params).fetchall()]


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[Callable[..., Node]]:
    """Makes nodes; every process is killed and every PostgreSQL schema dropped at the end."""
    made: list[Node] = []
    schemas: list[str] = []

    def make(name: str, accounts: dict[str, dict[str, str]], *, postgres: bool = False, **settings: Any) -> Node:
        home = tmp_path / name
        home.mkdir()
        if postgres:
            schema = f"t_hub_{uuid.uuid4().hex[:10]}"
            with psycopg.connect(PG_URL, autocommit=True) as admin:
                admin.execute(f'CREATE SCHEMA "{schema}"')
            schemas.append(schema)
            sep = "&" if "?" in PG_URL else "?"
            database_url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
        else:
            database_url = str(home / "agentgauge.db")
        env = serve_env(home, AGENTGAUGE_CONFIG=str(home / "config.toml"), AGENTGAUGE_SECRET_KEY="file")
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"))
        node = Node(name, home, database_url, env)
        node.config.write_text(toml_config(database_url, accounts, **settings), encoding="utf-8")
        made.append(node)
        return node

    yield make
    for node in made:
        for proc in node.procs:
            if proc.proc.poll() is None:
                proc.kill()
    for schema in schemas:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def add_machine(hub: Node, name: str) -> str:
    """``agentgauge hub machines add NAME`` on the hub; returns the token it printed once."""
    done = hub.cli("hub", "machines", "add", name)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert token.startswith("agh_") and "\n" not in token
    return token


def machine(nodes: Callable[..., Node], name: str, accounts: dict[str, dict[str, str]]) -> Node:
    """A pushing machine: nothing fetched until asked (``refresh = "on-demand"``), quick retries."""
    return nodes(name, accounts, refresh="on-demand")


def push_env(hub: Node, token: str) -> dict[str, str]:
    return {"AGENTGAUGE_PUSH_TOKEN": token, "AGENTGAUGE_PUSH_TO": hub.url, "AGENTGAUGE_PUSH_MAX_BACKOFF": "1"}


def outbox_empty(node: Node) -> bool:
    """Something was handed to the outbox, and all of it is acknowledged."""
    handed = node.sql("SELECT next_seq FROM push_stream")
    return bool(handed) and handed[0][0] > 1 and node.sql("SELECT COUNT(*) FROM push_outbox") == [(0,)]


def history_times(hub: Node, account: str) -> set[int]:
    data = httpx.get(hub.url + "/api/history", params={"provider": "zai", "account": account}, timeout=30).json()
    return {t for series in data["series"] for t in series["t"]}


def epoch(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


# -- two machines, one hub ---------------------------------------------------------------------------


@pytest.mark.parametrize("hub_store", ["sqlite", "postgres"])
def test_two_machines_one_hub(sim: Any, nodes: Callable[..., Node], hub_store: str) -> None:
    run = uuid.uuid4().hex[:8]
    hub = nodes("hub", {}, postgres=hub_store == "postgres", refresh_interval=3600)
    hub.start()
    shared = zai(sim.url, f"shared-{run}")  # the same key on both machines: one account
    laptop = machine(nodes, "laptop", {"default": shared, "own": zai(sim.url, f"laptop-{run}")})
    desktop = machine(nodes, "desktop", {"work": shared, "mine": zai(sim.url, f"desktop-{run}")})
    laptop.start(env=push_env(hub, add_machine(hub, "laptop")))
    desktop.start(env=push_env(hub, add_machine(hub, "desktop")))

    first = {"shared": laptop.refresh("default"), "own": laptop.refresh("own")}
    wait_until(lambda: len(hub.pushed()) == 2, "the laptop's two accounts on the hub")
    # The shared account has moved on by the desktop's fetch (other numbers), so its push must add history.
    moved_on(sim, shared["api_key"])
    later = {"shared": desktop.refresh("work"), "mine": desktop.refresh("mine")}
    rows = wait_until(lambda: hub.pushed_if(lambda r: len(r) == 3 and _seen_by_both(r)), "the merge")

    # Three accounts, not four: the shared key is one hub account, seen from both machines.
    by_machine = {(r["machine"], tuple(r["seen_from"])) for r in rows.values()}
    assert ("laptop", ("laptop",)) in by_machine and ("desktop", ("desktop",)) in by_machine
    merged = next(r for r in rows.values() if len(r["seen_from"]) == 2)
    assert merged["seen_from"] == ["desktop", "laptop"] and merged["source"] == "hub"
    # It shows whichever machine's data is newest (the laptop's when both fetched in the same second).
    newest = (
        "desktop" if epoch(later["shared"]["last_success_at"]) > epoch(first["shared"]["last_success_at"]) else "laptop"
    )
    assert merged["machine"] == newest
    assert merged["last_success_at"] == max(first["shared"]["last_success_at"], later["shared"]["last_success_at"])
    assert {w["id"]: w["used_pct"] for w in merged["windows"]} == {
        w["id"]: w["used_pct"] for w in (later if newest == "desktop" else first)["shared"]["windows"]
    }
    # Its history holds samples from the pushes that were newest when they came, nothing older.
    times = history_times(hub, merged["account"])
    pushed_at = {epoch(first["shared"]["last_success_at"]), epoch(later["shared"]["last_success_at"])}
    assert times and times <= pushed_at and max(times) == max(pushed_at)
    # Each machine's own account keeps its own history.
    own = next(r for r in rows.values() if r["machine"] == "laptop" and r["seen_from"] == ["laptop"])
    assert history_times(hub, own["account"]) == {epoch(first["own"]["last_success_at"])}
    assert {w["used_pct"] for w in own["windows"]} == {w["used_pct"] for w in first["own"]["windows"]}

    # The hub knows both machines and when they last pushed; it keeps what each pushed per account.
    listed = httpx.get(hub.url + "/api/hub/machines", timeout=30).json()["machines"]
    assert sorted(m["name"] for m in listed) == ["desktop", "laptop"] and all(m["last_seen_at"] for m in listed)
    assert len(hub.sql("SELECT * FROM hub_accounts")) == 4  # two accounts from each machine
    # Nothing waits in either machine's outbox.
    for node in (laptop, desktop):
        assert node.sql("SELECT COUNT(*) FROM push_outbox") == [(0,)]


def moved_on(sim: Any, key: str) -> None:
    """The zai account of ``key`` answers its next quota request with other percentages."""
    quota = httpx.get(sim.url + "/zai/url" + QUOTA_PATH, headers={"Authorization": f"Bearer {key}"}).json()
    for limit in quota["data"]["limits"]:
        limit["percentage"] = (limit["percentage"] + 5) % 100
    add_fault(sim, "/zai/url" + QUOTA_PATH, "body", body=orjson.dumps(quota).decode(), remaining=1)


def _seen_by_both(rows: dict[str, dict[str, Any]]) -> bool:
    return any(len(r["seen_from"]) == 2 for r in rows.values())


# -- the hub away, a lost answer, exactly once ----------------------------------------------------


def test_pushes_wait_while_the_hub_is_down_and_arrive_once(sim: Any, nodes: Callable[..., Node]) -> None:
    run = uuid.uuid4().hex[:8]
    hub = nodes("hub", {}, refresh_interval=3600)
    hub.start()
    laptop = machine(nodes, "laptop", {"a": zai(sim.url, f"a-{run}"), "b": zai(sim.url, f"b-{run}")})
    served = laptop.start(env=push_env(hub, add_machine(hub, "laptop")))
    laptop.refresh("a")
    wait_until(lambda: len(hub.pushed()) == 1, "account a on the hub")

    hub.stop()
    b = laptop.refresh("b")  # fetched while the hub is down: it waits in the laptop's store
    served.wait_for(r"cannot push to the hub \(kept in the local store")
    waiting = laptop.sql("SELECT seq FROM push_outbox")
    assert len(waiting) == 1

    hub.start()  # same port, same database
    rows = wait_until(lambda: hub.pushed_if(lambda r: len(r) == 2), "account b after the hub came back")
    wait_until(lambda: outbox_empty(laptop), "the laptop's outbox emptied")
    served.wait_for(r"pushing to http://127\.0\.0\.1:\d+ again")

    shown_b = next(r for r in rows.values() if r["account"].startswith("b~"))
    assert shown_b["last_success_at"] == b["last_success_at"]
    # Applied once: one sample per window at b's time, the stream's number is the last one handed out.
    assert history_times(hub, shown_b["account"]) == {epoch(b["last_success_at"])}
    samples = hub.sql(
        "SELECT COUNT(*) FROM samples JOIN series ON series.id = samples.series_id WHERE series.account = ?",
        (shown_b["account"],),
    )
    assert samples == [(len(b["windows"]),)]
    (handed_out,) = laptop.sql("SELECT next_seq - 1 FROM push_stream")
    assert hub.sql("SELECT last_seq FROM hub_streams") == [handed_out]
    assert waiting[0][0] == handed_out[0]


class RecordingProxy:
    """A reverse proxy in front of the hub on 127.0.0.1: keeps every request and answer, and can
    lose the next answer (the hub applied the batch, the machine never hears so and sends it again)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.exchanges: list[tuple[str, dict[str, str], bytes, int, bytes]] = []
        self.lose_next_push = False
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = httpx.request(
                    self.command, proxy.target + self.path, headers=headers, content=body, timeout=60
                )
                proxy.exchanges.append(
                    (self.path, dict(self.headers.items()), body, answer.status_code, answer.content)
                )
                status, content = answer.status_code, answer.content
                if self.path.endswith("/push") and proxy.lose_next_push:
                    proxy.lose_next_push = False
                    status, content = 502, b'{"error":"bad gateway"}'
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = _forward
            do_POST = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def pushes(self) -> list[tuple[dict[str, Any], int, dict[str, Any]]]:
        """(request body, status, answer) of every push, unzipped and decoded."""
        out = []
        for path, headers, body, status, answer in self.exchanges:
            if path.endswith("/push"):
                raw = gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body
                out.append((orjson.loads(raw), status, orjson.loads(answer)))
        return out


def test_a_batch_whose_answer_was_lost_is_applied_once_and_no_secret_is_pushed(
    sim: Any, nodes: Callable[..., Node]
) -> None:
    sentinel = f"SENTINEL{uuid.uuid4().hex}"
    hub = nodes("hub", {}, refresh_interval=3600)
    hub.start()
    proxy = RecordingProxy(hub.url)
    try:
        token = add_machine(hub, "laptop")
        laptop = machine(nodes, "laptop", {"default": zai(sim.url, sentinel)})
        served = laptop.start(env={**push_env(hub, token), "AGENTGAUGE_PUSH_TO": proxy.url})
        proxy.lose_next_push = True
        fetched = laptop.refresh("default")
        wait_until(lambda: len(proxy.pushes()) == 2 and outbox_empty(laptop), "the batch sent again and acknowledged")
        pushes = proxy.pushes()
        # The first answer was lost: the same batch went again, and the hub counted it as a duplicate.
        assert len(pushes) == 2 and pushes[0][0] == pushes[1][0]
        first_answer, second_answer = pushes[0][2], pushes[1][2]
        assert (first_answer["accepted"], first_answer["duplicates"]) == (1, 0)
        assert (second_answer["accepted"], second_answer["duplicates"]) == (0, 1)
        assert first_answer["acked"] == second_answer["acked"] == pushes[0][0]["items"][0]["seq"]
        account = next(iter(hub.pushed()))
        assert history_times(hub, account) == {epoch(fetched["last_success_at"])}
        samples = hub.sql("SELECT COUNT(*) FROM samples")
        assert samples == [(len(fetched["windows"]),)]

        # No secret in a pushed body: not the provider key (the sentinel), not the machine token; the
        # account travels as a keyed fingerprint. The token goes only in the Authorization header.
        for path, headers, body, _status, answer in proxy.exchanges:
            for blob in (body, gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else b"", answer):
                assert sentinel.encode() not in blob and token.encode() not in blob, path
            assert headers["Authorization"] == f"Bearer {token}"
        item = pushes[0][0]["items"][0]
        assert item["fingerprint"].startswith("fp1:") and sentinel not in item["fingerprint"]
        # ... nor in the hub's database, its answers or its log, nor in the laptop's log.
        dump = "\n".join(
            repr(row)
            for table in ("account_state", "hub_accounts", "hub_fingerprints", "hub_machines", "hub_settings")
            for row in hub.sql(f"SELECT * FROM {table}")
        )
        assert sentinel not in dump and token not in dump and token.split("_")[2] not in dump
        assert sentinel not in httpx.get(hub.url + "/api/usage", timeout=30).text
        hub.stop()
        laptop.stop()
        for log in (hub.procs[0].stderr, served.stderr):
            assert sentinel not in log and token not in log
    finally:
        proxy.close()


# -- revoking a machine ----------------------------------------------------------------------------


def test_a_revoked_machine_is_refused_and_keeps_its_buffer(sim: Any, nodes: Callable[..., Node]) -> None:
    run = uuid.uuid4().hex[:8]
    hub = nodes("hub", {}, refresh_interval=3600)
    hub.start()
    token = add_machine(hub, "laptop")
    laptop = machine(nodes, "laptop", {"a": zai(sim.url, f"a-{run}"), "b": zai(sim.url, f"b-{run}")})
    served = laptop.start(env=push_env(hub, token))
    laptop.refresh("a")
    wait_until(lambda: len(hub.pushed()) == 1, "account a on the hub")

    revoked = hub.cli("hub", "machines", "revoke", "laptop")
    assert revoked.returncode == 0 and "Revoked machine 'laptop'" in revoked.stdout
    listed = hub.cli("hub", "machines", "list", "--json")
    assert '"revoked_at": null' not in listed.stdout and token not in listed.stdout
    for path in ("/api/hub/hello", "/api/hub/push"):
        answer = httpx.request(
            "GET" if path.endswith("hello") else "POST",
            hub.url + path,
            headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
            content=b'{"stream": "abcdefgh", "items": []}',
            timeout=30,
        )
        assert answer.status_code == 401 and "revoked" in answer.json()["error"]

    laptop.refresh("b")
    served.wait_for(r"cannot push to the hub .*refused this machine's token")
    assert len(laptop.sql("SELECT seq FROM push_outbox")) == 1  # kept for a new token, not dropped
    assert len(hub.pushed()) == 1  # b never arrived; a (pushed before) stays

    once = laptop.cli("push", "--to", hub.url, env={"AGENTGAUGE_PUSH_TOKEN": token})
    assert once.returncode == 1
    assert "refused this machine's token" in once.stderr and "stay buffered" in once.stderr
    assert token not in once.stderr + once.stdout
    assert laptop.sql("SELECT COUNT(*) FROM push_outbox")[0][0] >= 1

    # A new token for the machine (a new name: the revoked one keeps its own) delivers the buffer.
    fresh = add_machine(hub, "laptop2")
    again = laptop.cli("push", "--to", hub.url, env={"AGENTGAUGE_PUSH_TOKEN": fresh})
    assert again.returncode == 0, again.stderr
    assert laptop.sql("SELECT COUNT(*) FROM push_outbox") == [(0,)]
    assert any(r["account"].startswith("b~") for r in hub.pushed().values())


def test_push_needs_a_token_and_never_takes_one_in_the_url(nodes: Callable[..., Node]) -> None:
    laptop = machine(nodes, "laptop", {})
    missing = laptop.cli("push", "--to", "http://127.0.0.1:9")
    assert missing.returncode == 2 and "no machine token" in missing.stderr
    in_url = laptop.cli("push", "--to", "http://agh_x_y@127.0.0.1:9", env={"AGENTGAUGE_PUSH_TOKEN": "agh_a_b"})
    assert in_url.returncode == 2 and "must not carry a user" in in_url.stderr
    serve_missing = laptop.cli("serve", "--port", "0", "--push-to", "http://127.0.0.1:9")
    assert serve_missing.returncode == 2 and "no machine token" in serve_missing.stderr
    # Saved in the secret store from stdin instead of the environment.
    saved = laptop.cli("hub", "token", "set", stdin="agh_0123abcd_secretpart\n")
    assert saved.returncode == 0, saved.stderr
    unreachable = laptop.cli("push", "--to", "http://127.0.0.1:9")  # the saved token is used: the hub is asked
    assert unreachable.returncode == 1 and "cannot be reached" in unreachable.stderr
    assert "agh_0123abcd_secretpart" not in unreachable.stderr + unreachable.stdout


# -- the hub's own accounts: fetched once, whatever the replicas and machines ---------------------------


def test_two_hub_replicas_fetch_the_hubs_own_account_once_and_both_show_pushes(
    sim: Any, nodes: Callable[..., Node]
) -> None:
    run = uuid.uuid4().hex[:8]
    own_key = f"hubown-{run}"
    hub = nodes("hub", {"default": zai(sim.url, own_key)}, postgres=True, refresh_interval=3600)
    replica = Node("replica", hub.home, hub.database_url, hub.env, procs=hub.procs)  # killed with the hub's
    hub.start()
    replica.start()
    laptop = machine(nodes, "laptop", {"default": zai(sim.url, f"laptop-{run}")})
    laptop.start(env=push_env(hub, add_machine(hub, "laptop")))
    laptop.refresh("default")

    def own_ok(node: Node) -> bool:
        return any(
            p["account"] == "default" and p["provider"] == "zai" and p["status"] == "ok"
            for p in node.usage()["providers"]
        )

    wait_until(lambda: own_ok(hub) and own_ok(replica), "the hub's own account on both replicas")
    wait_until(lambda: len(hub.pushed()) == 1, "the laptop's account on the hub")
    # The laptop pushed to the first replica; the other shows it too (the change feed).
    assert wait_until(lambda: replica.pushed(), "the pushed account on the other replica").keys() == hub.pushed().keys()
    quota_requests = [
        r
        for r in httpx.get(sim.url + "/__sim/requests", timeout=30).json()
        if r["path"].endswith(QUOTA_PATH) and own_key in r["headers"].get("authorization", "")
    ]
    assert len(quota_requests) == 1


# -- the dashboard -------------------------------------------------------------------------------------


def test_the_dashboard_shows_the_machine_of_each_pushed_account(sim: Any, nodes: Callable[..., Node]) -> None:
    from tests.harness_web import chromium

    run = uuid.uuid4().hex[:8]
    hub = nodes("hub", {}, refresh_interval=3600)
    hub.start()
    laptop = machine(nodes, "laptop", {"default": zai(sim.url, f"shared-{run}")})
    desktop = machine(nodes, "desktop", {"default": zai(sim.url, f"shared-{run}")})
    laptop.start(env=push_env(hub, add_machine(hub, "laptop")))
    desktop.start(env=push_env(hub, add_machine(hub, "desktop")))
    laptop.refresh("default")
    desktop.refresh("default")
    row = wait_until(lambda: next((r for r in hub.pushed().values() if len(r["seen_from"]) == 2), None), "the merge")
    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(hub.url + "/")
        badge = page.locator(f'.card[data-key="zai/{row["account"]}"] .badge.machine')
        badge.wait_for(timeout=15_000)
        other = next(m for m in row["seen_from"] if m != row["machine"])
        assert badge.inner_text() == f"from {row['machine']} +1"
        assert badge.get_attribute("title") == f"also pushed by {other}"
        assert page.locator(".badge.machine").count() == 1  # the hub's own (unconfigured) cards have none
        assert not errors, errors

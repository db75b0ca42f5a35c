"""Refresh wall time at a team's scale: N simulated accounts, 300 ms upstream latency per request.

The simulator runs in its own process (as an upstream would: it does not share the engine's CPU) and
listens on one loopback address per provider URL (127.0.0.2, 127.0.0.3...), so each provider has an
upstream host of its own, as in reality, and the engine's per-host limit (``host_concurrency``,
default 16) applies per provider host.

The mix: each provider's first remote credential (a key, token or cookie; local CLIs and files belong
to one person's machine, not to a team server); a one-account probe of every provider first (no
latency) leaves out those the simulator cannot serve with a per-account credential, and counts each
provider's upstream requests per fetch.
Providers that make more than two (the organisation-wide admin and cloud APIs: one account per
organisation, not per seat) get one account each; the others share the rest equally.

Prints the concurrent refresh time (median of the rounds), its ratio to one latency, the accounts
that did not end ``ok`` (goal: none) and the floor the per-host limit sets; up to 50 accounts also a
sequential refresh; with ``--rss`` the resident memory of a real ``agentgauge serve`` with the same
accounts after start-up and a refresh (goal < 150 MB at 1,000 accounts). The rounds run on the event
loop ``serve`` runs on (uvicorn's choice: uvloop, installed with agentgauge); ``--loop asyncio`` runs
them on plain asyncio's, as ``agentgauge status`` does.

Run: .venv/bin/python bench/refresh.py [--accounts 1000] [--rounds 3] [--rss] [--database URL] [--loop asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from agentgauge.config import AccountConfig, Config
from agentgauge.engine import Engine
from agentgauge.models import Snapshot
from agentgauge.providers import registry
from agentgauge.sim.server import SimServer
from agentgauge.store import open_store
from agentgauge.upstream import DEFAULT_HOST_CONCURRENCY

LATENCY = 0.3
GOAL_SECONDS = 3.0
GOAL_RSS_MB = 150.0
LOCAL_SOURCES = ("cli", "local_file")  # a person's machine: a team server has none
ORG_LEVEL_REQUESTS = 2  # more upstream requests per fetch than this: an organisation-wide API, one account


# -- the simulator in its own process ------------------------------------------------------------------
def _sim_child(addresses: tuple[str, ...], conn: Connection) -> None:
    import logging

    logging.getLogger("uvicorn.error").setLevel(logging.ERROR)  # curl's "Upgrade: h2c" warns on every request
    server = SimServer(extra_hosts=addresses).start()
    conn.send(server.port)
    with contextlib.suppress(EOFError):
        conn.recv()  # blocks until the parent closes its end
    server.stop()


@contextmanager
def sim_process(hosts: int) -> Iterator[tuple[int, list[str]]]:
    """The simulator on 127.0.0.1 plus ``hosts`` more loopback addresses, all on one port."""
    addresses = tuple(f"127.0.0.{i}" for i in range(2, 2 + hosts))
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_sim_child, args=(addresses, child), daemon=True)
    proc.start()
    try:
        if not parent.poll(60):
            raise SystemExit("the simulator process did not start")
        yield parent.recv(), list(addresses)
    finally:
        parent.close()
        proc.join(10)
        if proc.is_alive():
            proc.kill()


class Sim:
    def __init__(self, port: int, addresses: list[str]) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.addresses = addresses

    def latency(self, seconds: float) -> None:
        httpx.post(f"{self.url}/__sim/latency", json={"seconds": seconds}).raise_for_status()

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/__sim/stats").json())

    def reset_stats(self) -> None:
        httpx.delete(f"{self.url}/__sim/stats").raise_for_status()


# -- accounts ------------------------------------------------------------------------------------------
def host_map(sim: Sim) -> dict[tuple[str, str], str]:
    """(provider, URL setting) -> its own loopback address."""
    pairs = [(p.id, name) for p in registry.all_providers() for name in p.urls]
    if len(pairs) > len(sim.addresses):
        raise SystemExit(f"{len(pairs)} provider URLs but only {len(sim.addresses)} simulator addresses")
    return dict(zip(pairs, sim.addresses, strict=False))


def templates(sim: Sim) -> tuple[dict[str, AccountConfig], list[str]]:
    """Each provider's account as a team server has it: its first remote credential (a key, a token,
    a cookie: not a local CLI or file, which belong to one person's machine), with every URL pointed
    at its own simulator address. Also the providers that have no such credential."""
    hosts = host_map(sim)
    out: dict[str, AccountConfig] = {}
    local_only: list[str] = []
    for provider in registry.all_providers():
        creds = provider.sim_credentials
        source = next(
            (
                a
                for a in provider.auth
                if a.source not in LOCAL_SOURCES and a.requires and set(a.requires) <= set(creds)
            ),
            None,
        )
        if source is None:
            local_only.append(provider.id)
            continue
        settings = {k: v for k, v in creds.items() if k in source.requires or k in source.optional}
        for name in provider.urls:
            settings[name] = f"http://{hosts[(provider.id, name)]}:{sim.port}/{provider.id}/{name}"
        out[provider.id] = AccountConfig(provider.id, "default", True, settings, dict.fromkeys(settings, "bench"), True)
    return out, local_only


def named(template: AccountConfig, name: str) -> AccountConfig:
    """An account of its own: every secret setting made distinct (the simulator accepts the suffix)."""
    secret = set(registry.get(template.provider).secret_settings())
    settings = {k: (f"{v}#{name}" if k in secret else v) for k, v in template.settings.items()}
    return AccountConfig(template.provider, name, True, settings, dict.fromkeys(settings, "bench"), True)


def config_of(accounts: list[AccountConfig], home: Path) -> Config:
    return Config(path=None, accounts=tuple(accounts), env={}, home=home)


@dataclass
class Probe:
    requests: dict[str, int]  # upstream requests per fetch, per provider that works
    seconds: dict[str, float]  # one fetch alone at LATENCY: its requests one after another, or several at once
    failed: dict[str, str]  # why the others do not


def probe(sim: Sim, found: dict[str, AccountConfig], home: Path) -> Probe:
    """One account per provider, each alone at the benchmark's latency: how long a fetch takes, how many
    requests it makes, and why the providers that fail do."""
    sim.latency(LATENCY)
    result = Probe({}, {}, {})
    for provider, template in found.items():
        sim.reset_stats()
        seconds: dict[str, float] = {}
        snapshot = asyncio.run(refresh_once(config_of([named(template, "probe")], home), None, timings=seconds))
        account = snapshot.providers[0]
        if account.status != "ok":
            result.failed[provider] = account.error.message if account.error else str(account.status)
            continue
        result.requests[provider] = sum(s["requests"] for p, s in sim.stats().items() if p.startswith(f"/{provider}/"))
        result.seconds[provider] = seconds[provider]
    return result


def team_mix(requests: dict[str, int], total: int) -> dict[str, int]:
    """Organisation-wide providers (more than ORG_LEVEL_REQUESTS requests per fetch) get one account;
    the others share the rest equally (the first ones one more when it does not divide)."""
    org = sorted(p for p, n in requests.items() if n > ORG_LEVEL_REQUESTS)
    seats = sorted(p for p, n in requests.items() if n <= ORG_LEVEL_REQUESTS)
    mix = dict.fromkeys(org, 1)
    left = max(0, total - len(org))
    for i, provider in enumerate(seats):
        mix[provider] = left // len(seats) + (1 if i < left % len(seats) else 0)
    return {p: n for p, n in mix.items() if n}


def accounts_of(mix: dict[str, int], found: dict[str, AccountConfig]) -> list[AccountConfig]:
    return [named(found[p], f"bench{i}") for p, n in mix.items() for i in range(n)]


# -- refreshing ----------------------------------------------------------------------------------------
async def refresh_once(
    config: Config, database: str | None, *, sequential: bool = False, timings: dict[str, float] | None = None
) -> Snapshot:
    """One refresh of every account on a fresh store; ``timings`` gets each provider's slowest fetch."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(database or str(Path(tmp) / "bench.db"), data_dir=Path(tmp))
        try:
            async with Engine(config, store) as engine:
                if timings is not None:
                    started = time.perf_counter()
                    engine.listeners.append(
                        lambda s: timings.__setitem__(
                            s.provider, max(timings.get(s.provider, 0.0), time.perf_counter() - started)
                        )
                    )
                if not sequential:
                    return await engine.refresh()
                results = [await engine.refresh_account(t) for t in engine.targets()]
                return Snapshot(generated_at=engine.clock(), providers=tuple(results))
        finally:
            store.close()


def loop_factory(kind: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop a round runs on: ``serve``'s (uvicorn's choice from serve's own config: uvloop
    when installed, as it is with agentgauge) or plain asyncio's (``agentgauge status``)."""
    if kind == "asyncio":
        return None
    from agentgauge.cli.serving import server_config

    return server_config(None).get_loop_factory()


LOOP: dict[str, Callable[[], asyncio.AbstractEventLoop] | None] = {"factory": None}


def timed_round(config: Config, database: str | None, *, sequential: bool = False) -> tuple[float, float, Snapshot]:
    """Wall time, this process's CPU time (the engine's, every thread) and the result of one refresh."""
    started, cpu = time.perf_counter(), time.process_time()
    with asyncio.Runner(loop_factory=LOOP["factory"]) as runner:
        snapshot = runner.run(refresh_once(config, database, sequential=sequential))
    return time.perf_counter() - started, time.process_time() - cpu, snapshot


@contextmanager
def fresh_database(url: str | None) -> Iterator[str | None]:
    """A PostgreSQL URL gets a schema of its own per round (dropped after); None stays SQLite in a temp dir."""
    if not url:
        yield None
        return
    import uuid

    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def floor_seconds(mix: dict[str, int], probed: Probe, per_host: int) -> float:
    """The least time the mix allows: a provider's accounts go in waves of ``per_host`` (its hosts take
    that many at once), each wave as long as one of its fetches."""
    return max(math.ceil(n / per_host) * probed.seconds[p] for p, n in mix.items())


# -- a real `serve` ------------------------------------------------------------------------------------
def toml_config(accounts: list[AccountConfig]) -> str:
    lines = ["refresh_interval = 3600", "status_pages = false", ""]
    for account in accounts:
        lines.append(f"[providers.{account.provider}.accounts.{account.account}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in account.settings.items()]
        lines.append("")
    return "\n".join(lines)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmRSS in /proc (Linux only)")


def serve_rss(accounts: list[AccountConfig], home: Path) -> tuple[float, float, Counter[str]]:
    """RSS (MB) of `agentgauge serve` with ``accounts`` once started, and after a refresh of them all."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(toml_config(accounts), encoding="utf-8")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "AGENTGAUGE_CONFIG": str(config),
            "AGENTGAUGE_DATABASE_URL": str(Path(tmp) / "serve.db"),
            "AGENTGAUGE_NO_PLUGINS": "1",
        }
        port_file = Path(tmp) / "port"
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentgauge", "serve", "--port", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=port_file.open("w"),
        )
        try:
            base = _wait_for_url(proc, port_file)
            started = rss_mb(proc.pid)
            httpx.post(f"{base}/api/refresh", params={"wait": 120}, timeout=180).raise_for_status()
            health = httpx.get(f"{base}/api/health", timeout=30).json()
            statuses = Counter(a["status"] for a in health["accounts"])
            time.sleep(2)  # let the refresh's last writes and collections settle: idle memory is the figure
            return started, rss_mb(proc.pid), statuses
        finally:
            proc.terminate()
            proc.wait(30)


def _wait_for_url(proc: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited: {log.read_text()[-2000:]}")
        for word in log.read_text().split():
            if word.startswith("http://") and "dashboard" in log.read_text():
                url = word.rstrip("/")
                try:
                    httpx.get(f"{url}/api/ping", timeout=2)
                    return url
                except httpx.HTTPError:
                    pass
        time.sleep(0.2)
    raise SystemExit("serve did not start within 120 s")


# -- main ----------------------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rss", action="store_true", help="also measure a real `serve` with these accounts")
    parser.add_argument("--database", help="a postgresql:// URL (a fresh schema per round); default SQLite")
    parser.add_argument(
        "--loop",
        choices=("serve", "asyncio"),
        default="serve",
        help="the event loop of the rounds: serve's (default; uvloop when installed) or plain asyncio's",
    )
    args = parser.parse_args()
    LOOP["factory"] = loop_factory(args.loop)
    urls = sum(len(p.urls) for p in registry.all_providers())
    with tempfile.TemporaryDirectory() as tmp, sim_process(urls) as (port, addresses):
        home = Path(tmp) / "home"
        home.mkdir()
        sim = Sim(port, addresses)
        found, local_only = templates(sim)
        probed = probe(sim, found, home)
        mix = team_mix(probed.requests, args.accounts)
        accounts = accounts_of(mix, found)
        config = config_of(accounts, home)
        per_host = config.host_concurrency
        sim.latency(LATENCY)
        times: list[float] = []
        cpus: list[float] = []
        bad: Counter[str] = Counter()
        peaks: dict[str, int] = {}
        for _ in range(args.rounds):
            sim.reset_stats()
            with fresh_database(args.database) as database:
                elapsed, cpu, snapshot = timed_round(config, database)
            times.append(elapsed)
            cpus.append(cpu)
            bad += Counter(
                f"{p.status}:{p.error.kind if p.error else ''}" for p in snapshot.providers if p.status != "ok"
            )
            for prefix, s in sim.stats().items():
                peaks[prefix] = max(peaks.get(prefix, 0), s["peak"])
        sequential = None
        if len(accounts) <= 50:
            with fresh_database(args.database) as database:
                sequential, _, _ = timed_round(config, database, sequential=True)
        report(args, accounts, mix, probed, local_only, per_host, times, bad, peaks, sequential)
        cpu = statistics.median(cpus)
        print(f"engine CPU per round (this process, all threads; median): {cpu:.2f} s", end=" ")
        print(f"= {cpu / len(accounts) * 1000:.2f} ms per account; machine load average {os.getloadavg()[0]:.1f}")
        if args.rss:
            started, refreshed, statuses = serve_rss(accounts, home)
            print(f"serve RSS with {len(accounts)} accounts: {started:.1f} MB once started,", end=" ")
            print(f"{refreshed:.1f} MB after a refresh of them all")
            print(f"  accounts after the refresh: {dict(statuses)}; goal < {GOAL_RSS_MB:g} MB: ", end="")
            print("met" if refreshed < GOAL_RSS_MB else "NOT met")
    return 0 if statistics.median(times) <= GOAL_SECONDS and not bad else 1


def report(
    args: argparse.Namespace,
    accounts: list[AccountConfig],
    mix: dict[str, int],
    probed: Probe,
    local_only: list[str],
    per_host: int,
    times: list[float],
    bad: Counter[str],
    peaks: dict[str, int],
    sequential: float | None,
) -> None:
    conc = statistics.median(times)
    org = [p for p, n in probed.requests.items() if n > ORG_LEVEL_REQUESTS]
    print(f"accounts: {len(accounts)} over {len(mix)} providers, each provider URL its own simulator host")
    print(f"  one account each (more than {ORG_LEVEL_REQUESTS} requests per fetch): {', '.join(sorted(org)) or '-'}")
    print(f"  the others: {max(mix.values())} accounts at most per provider")
    if local_only:
        print(f"  left out (local sources only: a CLI or file on one person's machine): {', '.join(local_only)}")
    if probed.failed:
        print(f"  left out (the simulator refused a per-account credential): {', '.join(sorted(probed.failed))}")
    print(f"upstream latency: {LATENCY * 1000:.0f} ms per request; host_concurrency: {per_host}", end="")
    print(" (the default)" if per_host == DEFAULT_HOST_CONCURRENCY else "")
    print(f"database: {'PostgreSQL' if args.database else 'SQLite'}")
    made = (LOOP["factory"] or asyncio.new_event_loop)()
    print(f"event loop: {type(made).__module__}.{type(made).__name__} ({args.loop}'s)")
    made.close()
    rounds = ", ".join(f"{t:.2f}" for t in times)
    print(f"concurrent refresh (median of {args.rounds}): {conc:.3f} s   rounds: {rounds}")
    print(f"ratio to one latency: {conc / LATENCY:.2f}x")
    slowest = max(mix, key=lambda p: probed.seconds[p])
    print(f"one fetch of the slowest provider ({slowest}, alone): {probed.seconds[slowest]:.2f} s")
    floor = floor_seconds(mix, probed, per_host)
    print(f"floor (a provider's accounts in waves of {per_host}): {floor:.2f} s; refresh / floor {conc / floor:.2f}x")
    print(f"goal: {len(accounts)} accounts <= {GOAL_SECONDS:g} s with no timeouts: ", end="")
    print("met" if conc <= GOAL_SECONDS and not bad else "NOT met")
    print(f"accounts not ok over all rounds: {sum(bad.values())}  {dict(bad) if bad else ''}")
    print(f"most requests at once to one provider URL: {max(peaks.values(), default=0)} (limit {per_host})")
    if sequential is not None:
        print(f"sequential refresh: {sequential:.3f} s   speed-up: {sequential / conc:.1f}x")


if __name__ == "__main__":
    sys.exit(main())

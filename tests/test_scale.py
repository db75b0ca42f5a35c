"""A team's worth of accounts on one server: requests per upstream host stay within
``host_concurrency``, time queued for a slot does not count against a fetch's timeout, the store
writes of many accounts go in batches that land (and survive an outage), and a thousand accounts
all end ``ok``. Real HTTP against the simulator, real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentgauge.batching import Batcher
from agentgauge.config import AccountConfig, Config, load
from agentgauge.engine import Engine
from agentgauge.errors import ConfigError
from agentgauge.models import ProviderSnapshot, Status, Window
from agentgauge.providers import registry
from agentgauge.store import Outcome, Store, open_store
from agentgauge.upstream import (
    DEFAULT_HOST_CONCURRENCY,
    HostLimits,
    LimitedClient,
    OriginPools,
    fetch_deadline,
    take_slot,
)
from tests.harness import sim_settings

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def accounts_of(sim_url: str, provider_id: str, count: int, start: int = 0) -> list[AccountConfig]:
    """``count`` accounts of one provider, each with a credential of its own (the simulator accepts a suffix)."""
    provider = registry.get(provider_id)
    secret = set(provider.secret_settings())
    base = sim_settings(provider_id, sim_url)
    out = []
    for i in range(start, start + count):
        settings = {k: (f"{v}#scale{i}" if k in secret else v) for k, v in base.items()}
        out.append(AccountConfig(provider_id, f"scale{i}", True, settings, dict.fromkeys(settings, "test"), True))
    return out


def config_of(accounts: list[AccountConfig], **options: Any) -> Config:
    return Config(path=None, accounts=tuple(accounts), env={}, home=Path("/nonexistent"), **options)


def stats(sim: Any) -> dict[str, dict[str, int]]:
    return dict(httpx.get(f"{sim.url}/__sim/stats").json())


# -- the per-host limit ----------------------------------------------------------------------------------


async def test_requests_to_one_host_stay_within_the_limit(sim: Any, store: Store) -> None:
    httpx.delete(f"{sim.url}/__sim/stats")
    httpx.post(f"{sim.url}/__sim/latency", json={"seconds": 0.2})
    config = config_of(accounts_of(sim.url, "zai", 12), host_concurrency=3)
    async with Engine(config, store) as engine:
        snapshot = await engine.refresh()
    assert Counter(p.status for p in snapshot.providers) == {Status.OK: 12}
    seen = stats(sim)["/zai/url"]
    assert seen["requests"] >= 12
    # Twelve accounts at once would have sent twelve requests together; the limit lets three through.
    assert seen["peak"] == 3
    assert max(engine.host_limits.peak.values()) == 3


async def test_a_slow_host_with_a_tight_limit_still_succeeds(sim: Any, store: Store, monkeypatch: Any) -> None:
    """Five accounts, one request at a time to the host, each fetch's own requests well inside a
    2 s timeout, but the last one waits for the four before it, far longer than 2 s in all: time in
    the queue must not count against the timeout."""
    monkeypatch.setattr(type(registry.get("zai")), "timeout", 2.0)
    httpx.delete(f"{sim.url}/__sim/stats")
    httpx.post(f"{sim.url}/__sim/latency", json={"seconds": 0.4})
    config = config_of(accounts_of(sim.url, "zai", 5), host_concurrency=1)
    async with Engine(config, store) as engine:
        snapshot = await engine.refresh()
    bad = [(p.account, p.status, p.error and p.error.message) for p in snapshot.providers if p.status != Status.OK]
    assert not bad
    assert stats(sim)["/zai/url"]["peak"] == 1


async def test_queued_time_counts_again_past_the_allowance() -> None:
    """A fetch cannot wait for a slot for ever: past ``max_queued`` its clock runs again."""
    slot = asyncio.Semaphore(1)
    await slot.acquire()  # held elsewhere for good
    with pytest.raises(TimeoutError):
        async with fetch_deadline(0.05, max_queued=0.05):
            await take_slot(slot)


async def test_the_clock_stops_only_while_queued() -> None:
    """Work outside the queue counts as before: a fetch that simply takes too long times out."""
    never = asyncio.Event()
    with pytest.raises(TimeoutError):
        async with fetch_deadline(0.05):
            await never.wait()


async def test_host_limits_count_per_host_and_give_slots_back() -> None:
    limits = HostLimits(2)
    a1 = await limits.acquire(httpx.URL("https://a.example/x"))
    a2 = await limits.acquire(httpx.URL("https://a.example:443/y"))  # the same host: the default port named
    b1 = await limits.acquire(httpx.URL("http://a.example/z"))  # another scheme, another port: another host
    waiting = asyncio.ensure_future(limits.acquire(httpx.URL("https://a.example/w")))
    await asyncio.sleep(0)
    assert not waiting.done()
    a1()
    a1()  # giving a slot back twice gives back one
    a3 = await waiting
    assert limits.in_flight == {"https://a.example:443": 2, "http://a.example:80": 1}
    for release in (a2, a3, b1):
        release()
    assert limits.peak == {"https://a.example:443": 2, "http://a.example:80": 1}


def test_host_concurrency_is_a_setting(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text("host_concurrency = 4\n")
    assert load(file, env={}, providers=False).host_concurrency == 4
    assert load(file, env={"AGENTGAUGE_HOST_CONCURRENCY": "32"}, providers=False).host_concurrency == 32
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert load(empty, env={}, providers=False).host_concurrency == DEFAULT_HOST_CONCURRENCY
    for bad in ("0", "-2", "1.5", "lots"):
        with pytest.raises(ConfigError) as info:
            load(file, env={"AGENTGAUGE_HOST_CONCURRENCY": bad}, providers=False)
        assert "host_concurrency" in info.value.message and "AGENTGAUGE_HOST_CONCURRENCY" in info.value.message


class ClosingServer:
    """A real HTTP/1.1 server on 127.0.0.1 that answers the first request on each connection with
    keep-alive, then closes the connection when the next one comes (as a server whose keep-alive
    timeout ran out as the request was on its way)."""

    def __init__(self) -> None:
        self.answered = 0
        self.dropped = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.answered += 1
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}")
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")  # the next request on this connection...
            self.dropped += 1  # ...is dropped unanswered
        except asyncio.IncompleteReadError:
            pass  # the client closed the connection first
        finally:
            writer.close()


async def test_a_read_on_a_connection_the_server_just_closed_is_sent_once_more() -> None:
    server = ClosingServer()
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/usage"
    limits = HostLimits(4)
    try:
        async with LimitedClient(limits=limits, transport=OriginPools(keepalive=4)) as client:
            assert (await client.get(url)).status_code == 200
            assert (await client.get(url)).status_code == 200  # the kept connection fails; a new one answers
            assert (server.answered, server.dropped) == (2, 1)
            with pytest.raises(httpx.TransportError):  # a write is never sent twice
                await client.post(url, content=b"{}")
            assert (server.answered, server.dropped) == (2, 2)
    finally:
        listener.close()
        await listener.wait_closed()


class CountingServer:
    """Answers every request; ``close_after`` closes each connection after its first answer."""

    def __init__(self, close_after: bool) -> None:
        self.close_after = close_after
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                await reader.readexactly(length)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: application/json\r\n\r\n{}")
                await writer.drain()
                if self.close_after:
                    break
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()


async def test_idle_connections_are_checked_through_the_pools_own_streams() -> None:
    """The pools' streams answer "is it readable?" themselves (upstream.QuickReadableStream): a kept
    connection the server has closed is not reused, even for a write that is never sent twice, and
    one the server keeps is reused."""
    for close_after, connections in ((True, 3), (False, 1)):
        server = CountingServer(close_after)
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/usage"
        try:
            async with LimitedClient(limits=HostLimits(4), transport=OriginPools(keepalive=4)) as client:
                for method in ("GET", "POST", "POST"):
                    await asyncio.sleep(0.05)  # the server's close reaches this side
                    assert (await client.request(method, url, content=b"{}")).status_code == 200
            assert server.connections == connections, close_after
        finally:
            listener.close()
            await listener.wait_closed()


async def test_a_cookie_one_account_gets_never_goes_out_with_another_request() -> None:
    """One client serves every account: a Set-Cookie in one answer (a rotated session) is not kept."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                seen.append(b"".join(line for line in head.split(b"\r\n") if line.lower().startswith(b"cookie:")))
                writer.write(b"HTTP/1.1 200 OK\r\nset-cookie: session=account-a; Path=/\r\ncontent-length: 2\r\n\r\n{}")
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    listener = await asyncio.start_server(handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/usage"
    try:
        async with LimitedClient(limits=HostLimits(4), transport=OriginPools(keepalive=4)) as client:
            await client.get(url, headers={"Authorization": "Bearer a"})
            await client.get(url, headers={"Authorization": "Bearer b"})
            await client.get(url, headers={"Cookie": "session=account-c"})  # an adapter's own cookie goes out
            assert len(client.cookies) == 0
        assert seen == [b"", b"", b"Cookie: session=account-c"]
    finally:
        listener.close()
        await listener.wait_closed()


# -- batched store writes --------------------------------------------------------------------------------


async def test_calls_made_together_share_one_batch() -> None:
    seen: list[list[int]] = []

    def run(items: list[int]) -> list[int]:
        seen.append(items)
        return [i * 10 for i in items]

    batcher = Batcher(run)
    assert await asyncio.gather(*(batcher(i) for i in range(40))) == [i * 10 for i in range(40)]
    assert seen == [list(range(40))]
    assert await batcher(7) == 70  # a lone call goes at once, in a batch of its own
    assert seen[-1] == [7]


async def test_a_failing_batch_fails_each_of_its_calls() -> None:
    def run(items: list[int]) -> list[int]:
        raise ValueError("broken")

    batcher = Batcher(run)
    results = await asyncio.gather(*(batcher(i) for i in range(3)), return_exceptions=True)
    assert [type(r) for r in results] == [ValueError] * 3


def snap(account: str, pct: float) -> ProviderSnapshot:
    window = Window(
        id="session", label="Session (5h)", used_pct=pct, resets_at=T0 + timedelta(hours=5), window_seconds=18000
    )
    return ProviderSnapshot(
        provider="zai", account=account, name="z.ai", status=Status.OK, plan="Pro", windows=(window,), fetched_at=T0
    )


def outcomes(count: int, pct: float, at: datetime) -> list[Outcome]:
    return [Outcome(snap(f"a{i}", pct + i), 100.0 + i, 0, sampled_at=at) for i in range(count)]


def samples_of(store: Store, count: int) -> list[list[float]]:
    return [
        [s.used_pct for s in store.samples("zai", f"a{i}", "session", T0, T0 + timedelta(days=1))] for i in range(count)
    ]


def test_many_accounts_saved_in_one_call_land_with_their_samples_and_finish(store: Store) -> None:
    finished = []

    def finish(outcome: Outcome) -> ProviderSnapshot:
        finished.append(outcome.snapshot.account)
        # The window's sample is already readable inside the same transaction (the forecast reads it).
        rows = store.samples("zai", outcome.snapshot.account, "session", T0, T0 + timedelta(days=1))
        return outcome.snapshot.model_copy(update={"plan": f"Pro ({len(rows)} sample)"})

    saved = store.save_outcomes(outcomes(30, 10.0, T0), finish=finish)
    assert finished == [f"a{i}" for i in range(30)]
    assert [s.plan for s in saved] == ["Pro (1 sample)"] * 30
    states = store.states_of([("zai", f"a{i}") for i in range(30)] + [("zai", "nobody")])
    assert len(states) == 30
    assert all(states[("zai", f"a{i}")].snapshot == saved[i] for i in range(30))
    assert [states[("zai", f"a{i}")].next_allowed_at for i in range(30)] == [100.0 + i for i in range(30)]
    assert samples_of(store, 30) == [[10.0 + i] for i in range(30)]


def test_a_failing_finish_loses_only_its_own_account(store: Store) -> None:
    def finish(outcome: Outcome) -> ProviderSnapshot:
        if outcome.snapshot.account == "a1":
            made = int(T0.timestamp())
            store.log_forecasts([(("zai", "a1", "session"), (made, made, 0.0, 0.0, 0.0, 0.0, None, "x", "m"))])
            raise RuntimeError("a forecast bug")
        return outcome.snapshot

    saved = store.save_outcomes(outcomes(3, 10.0, T0), finish=finish)
    assert [s.account for s in saved] == ["a0", "a1", "a2"]
    assert samples_of(store, 3) == [[10.0], [11.0], [12.0]]  # the failing account's sample stays
    assert store.forecast_log("zai", "a1", "session", T0 - timedelta(days=1), T0 + timedelta(days=1)) == []


def test_batched_writes_survive_a_locked_sqlite_database(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    store = open_store(str(db), data_dir=tmp_path, busy_timeout=0.05)
    blocker = sqlite3.connect(db, isolation_level=None, timeout=0.05)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock, for long
        given = outcomes(20, 10.0, T0)
        saved = store.save_outcomes(given, finish=lambda o: pytest.fail("no forecast while the store is down"))
        assert saved == [o.snapshot for o in given]
        health = store.health(probe=False)
        assert health.status == "degraded" and health.pending_writes == 40  # 20 states, 20 samples
        # A newer state of an account replaces its queued one; its samples are kept in order.
        store.save_outcomes([Outcome(snap("a0", 50.0), 500.0, 0, sampled_at=T0 + timedelta(minutes=5))])
        assert store.health(probe=False).pending_writes == 41
        assert store.state("zai", "a0").snapshot == snap("a0", 50.0)  # type: ignore[union-attr]

        blocker.execute("ROLLBACK")
        assert store.flush_pending() == 41
        assert store.health(probe=False).pending_writes == 0
        rows = blocker.execute("SELECT account, next_allowed_at FROM account_state ORDER BY account").fetchall()
        assert dict(rows) == {**{f"a{i}": 100.0 + i for i in range(20)}, "a0": 500.0}
        assert samples_of(store, 20) == [[10.0, 50.0]] + [[10.0 + i] for i in range(1, 20)]
    finally:
        blocker.close()
        store.close()


# -- many accounts ------------------------------------------------------------------------------------------

THOUSAND_MIX = ("zai", "kimik2", "warp", "moonshot", "openrouter", "minimax", "opencodego", "kimi")


async def test_a_thousand_accounts_all_end_ok(sim: Any, tmp_path: Path) -> None:
    """One simulator host for all of them, the default limit of 16 at once: everything queues, and
    nothing times out for it."""
    per = 1000 // len(THOUSAND_MIX)
    accounts = [a for i, p in enumerate(THOUSAND_MIX) for a in accounts_of(sim.url, p, per, start=i * per)]
    assert len(accounts) == 1000
    store = open_store(str(tmp_path / "thousand.db"), data_dir=tmp_path)
    try:
        async with Engine(config_of(accounts), store) as engine:
            snapshot = await engine.refresh()
            batches = engine._save_outcomes.batches
        statuses = Counter((p.status, p.error.kind if p.error else None) for p in snapshot.providers)
        assert statuses == {(Status.OK, None): 1000}
        assert max(engine.host_limits.peak.values()) <= DEFAULT_HOST_CONCURRENCY
        assert batches < 1000  # the saves went in batches
        stored = store.states()
        assert len(stored) == 1000 and all(s.snapshot and s.snapshot.status == Status.OK for s in stored.values())
    finally:
        store.close()

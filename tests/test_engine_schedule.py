"""The scheduler on a fake clock: each account is due every max(refresh_interval, minimum interval),
never skips a tick because its gate opened a few seconds after the scheduler woke, and a window
whose reset passed makes its account due soon after; until that fetch the window reads
"reset, confirming..." (0 %, ``reset_pending``), never the old number.

No real waiting: the engine and a simulator of its own share one fake clock (wall and monotonic
time move together) that only the test moves, and the scheduler runs with a 0.01 s tick."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentgauge.config import AccountConfig, Config
from agentgauge.credentials import AccountCredentials
from agentgauge.engine import RESET_GRACE, Engine
from agentgauge.models import ProviderSnapshot
from agentgauge.providers import registry
from agentgauge.providers.simkit import SimContext
from agentgauge.query import Query
from agentgauge.sim.server import SimServer, sim_credentials
from agentgauge.store import Store, open_store
from tests.harness import sim_settings

START = datetime(2030, 1, 7, 3, 0, tzinfo=UTC)


class FakeTime:
    """Wall-clock and monotonic time that move only when told to, and together."""

    def __init__(self, start: datetime = START) -> None:
        self.wall = start
        self.mono = 10_000.0

    def now(self) -> datetime:
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds

    def set(self, when: datetime) -> None:
        self.advance((when - self.wall).total_seconds())


@pytest.fixture(scope="module")
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture(scope="module")
def fake_sim(fake_time: FakeTime) -> Iterator[SimServer]:
    """A simulator whose usage curves follow the fake clock (windows reset when it says so)."""
    ctx = SimContext(sim_credentials(registry.all_providers()), clock=fake_time.now)
    with SimServer(ctx=ctx) as server:
        yield server


def one_account(sim_url: str, provider_id: str, refresh_interval: float, **overrides: str) -> Config:
    settings = sim_settings(provider_id, sim_url, **overrides)
    account = AccountConfig(provider_id, "default", True, settings, dict.fromkeys(settings, "test"), True)
    return Config(path=None, accounts=(account,), env={}, home=Path("/nonexistent"), refresh_interval=refresh_interval)


class Driver:
    """Runs ``Engine.run_scheduler`` and lets the test step the fake clock between its passes,
    each step only once the pass is over and no refresh is in flight."""

    def __init__(self, engine: Engine, time: FakeTime) -> None:
        self.engine, self.time = engine, time
        self.passed = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.in_flight = 0
        self.stop = asyncio.Event()
        refresh = engine.refresh_account

        def counted(target):  # type: ignore[no-untyped-def]
            # Counted when the scheduler calls it, not when its task first runs.
            self.in_flight += 1
            self.idle.clear()

            async def run() -> ProviderSnapshot:
                try:
                    return await refresh(target)
                finally:
                    self.in_flight -= 1
                    if not self.in_flight:
                        self.idle.set()

            return run()

        engine.refresh_account = counted  # type: ignore[method-assign]
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Driver:
        interval = self.engine.config.refresh_interval
        self.task = asyncio.create_task(
            self.engine.run_scheduler(self.stop, interval=interval, tick=0.01, on_tick=self.passed.set)
        )
        await self.settle()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await self.task

    async def settle(self) -> None:
        """Wait for one full scheduler pass at the current time, and for what it started."""
        self.passed.clear()
        await asyncio.wait_for(self.passed.wait(), timeout=30)
        await asyncio.wait_for(self.idle.wait(), timeout=60)

    async def run_until(self, until: datetime, step: float, each: Callable[[], Any] | None = None) -> None:
        while self.time.now() < until:
            self.time.advance(step)
            await self.settle()
            if each is not None:
                each()


def record_fetches(monkeypatch: pytest.MonkeyPatch, provider_id: str, time: FakeTime, takes: float = 0.0) -> list:
    """The fake time at which each upstream fetch of ``provider_id`` starts; each takes ``takes`` s."""
    provider = registry.get(provider_id)
    fetch = type(provider).fetch
    starts: list[datetime] = []

    async def timed(self, ctx):  # type: ignore[no-untyped-def]
        starts.append(time.now())
        raw = await fetch(self, ctx)
        time.advance(takes)
        return raw

    monkeypatch.setattr(type(provider), "fetch", timed)
    return starts


def test_due_every_max_of_refresh_interval_and_minimum_interval(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "d.db"), data_dir=tmp_path)
    for provider_id, interval in (("claude", 120.0), ("claude", 60.0), ("claude", 300.0), ("zai", 120.0)):
        config = one_account("http://127.0.0.1:9", provider_id, interval)
        engine = Engine(config, store)
        target = engine.targets()[0]
        every = max(interval, registry.get(provider_id).min_interval)
        assert engine.due_at(target, 1000.0, interval, 1000.0, START) == 1000.0 + every
    store.close()


@pytest.mark.parametrize(("provider_id", "interval"), [("claude", 120.0), ("zai", 60.0), ("zai", 90.0)])
async def test_an_account_at_its_minimum_interval_is_fetched_every_interval_not_every_other(
    fake_sim: SimServer,
    fake_time: FakeTime,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    provider_id: str,
    interval: float,
) -> None:
    """Claude and Ollama were sampled every 240 s at refresh_interval = 120: the scheduler woke at
    the interval, but the gate opened a few seconds later (it counted from the fetch's end, or a
    slow first discovery delayed the claim), so every other wake found it closed."""
    fake_time.set(START)
    overrides = {"session_key": ""} if provider_id == "claude" else {}
    config = one_account(fake_sim.url, provider_id, interval, **overrides)
    starts = record_fetches(monkeypatch, provider_id, fake_time, takes=10.0)  # a fetch takes 10 s
    discovered: list[datetime] = []
    find = AccountCredentials.next

    def slow_first_discovery(self):  # type: ignore[no-untyped-def]
        if not discovered:  # the first look (a browser profile, a keychain prompt) takes 10 s
            fake_time.advance(10.0)
        discovered.append(fake_time.now())
        return find(self)

    monkeypatch.setattr(AccountCredentials, "next", slow_first_discovery)
    engine = Engine(config, store, clock=fake_time.now, monotonic=fake_time.monotonic)
    async with engine, Driver(engine, fake_time) as driver:
        await driver.run_until(START + timedelta(seconds=660), step=10.0)
        first = store.state(provider_id, "default")
    assert first is not None and first.snapshot is not None
    resets = [w.resets_at for w in first.snapshot.windows if w.resets_at]
    assert min(resets) > fake_time.now(), "precondition: no window reset inside the run"
    minimum = registry.get(provider_id).min_interval
    every = max(interval, minimum)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert len(starts) >= 5, gaps
    # Never two requests closer than the minimum interval, never a skipped interval, and once the
    # slow first discovery is behind, exactly one request per interval.
    assert all(minimum <= gap <= every for gap in gaps), (every, gaps)
    assert gaps[1:] == [every] * (len(gaps) - 1), (every, gaps)


async def zai_first_reset(sim_url: str, time: FakeTime, tmp_path: Path) -> datetime:
    """The earliest window reset the simulator reports for z.ai at the fake clock's time."""
    store = open_store(str(tmp_path / "probe.db"), data_dir=tmp_path)
    try:
        async with Engine(one_account(sim_url, "zai", 300.0), store, clock=time.now) as engine:
            snapshot = (await engine.refresh()).providers[0]
    finally:
        store.close()
    return min(w.resets_at for w in snapshot.windows if w.resets_at)


@pytest.mark.parametrize(
    ("lead", "expected_delay"),
    [
        (200.0, RESET_GRACE),  # last fetch long ago: due RESET_GRACE after the reset
        (30.0, 30.0),  # fetched 30 s before the reset: the 60 s minimum interval still holds
    ],
)
async def test_a_passed_reset_makes_the_account_due_and_reads_reset_pending_until_then(
    fake_sim: SimServer,
    fake_time: FakeTime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lead: float,
    expected_delay: float,
) -> None:
    fake_time.set(START)
    reset = await zai_first_reset(fake_sim.url, fake_time, tmp_path)
    fake_time.set(reset - timedelta(seconds=lead))
    config = one_account(fake_sim.url, "zai", 300.0)
    store = open_store(str(tmp_path / "r.db"), data_dir=tmp_path)
    starts = record_fetches(monkeypatch, "zai", fake_time)
    query = Query(config, store, clock=fake_time.now)
    seen: list[tuple[datetime, float, bool, datetime | None]] = []

    def look() -> None:
        window = min(query.usage().providers[0].windows, key=lambda w: w.resets_at or START.max)
        seen.append((fake_time.now(), window.used_pct, window.reset_pending, window.resets_at))

    engine = Engine(config, store, clock=fake_time.now, monotonic=fake_time.monotonic)
    async with engine, Driver(engine, fake_time) as driver:
        look()
        await driver.run_until(reset + timedelta(seconds=60), step=5.0, each=look)
    store.close()
    assert starts[0] == reset - timedelta(seconds=lead)
    assert starts[1] == reset + timedelta(seconds=expected_delay), starts  # not at the 300 s interval
    before = [s for s in seen if s[0] < reset]
    pending = [s for s in seen if reset <= s[0] < starts[1]]
    after = [s for s in seen if s[0] >= starts[1]]
    assert before and all(not p and r == reset and used > 0 for _, used, p, r in before)
    assert pending and all(p and used == 0.0 and r == reset for _, used, p, r in pending)
    assert after and all(not p and r is not None and r > reset for _, _, p, r in after)


def test_settled_snapshot_keeps_stored_state_untouched(tmp_path: Path) -> None:
    """``reset_pending`` is a view: the store keeps what the provider said."""
    from agentgauge.models import Status, Window

    store = open_store(str(tmp_path / "v.db"), data_dir=tmp_path)
    now = START
    window = Window(id="session", label="Session (5h)", used_pct=77.0, resets_at=now - timedelta(seconds=1))
    snapshot = ProviderSnapshot(
        provider="zai", name="z.ai", status=Status.OK, windows=(window,), fetched_at=now - timedelta(hours=1)
    )
    store.save_state(snapshot, next_allowed_at=now.timestamp() + 3600, failures=0)
    config = one_account("http://127.0.0.1:9", "zai", 300.0)
    shown = Query(config, store, clock=lambda: now).usage().providers[0].windows[0]
    assert shown.reset_pending and shown.used_pct == 0.0
    kept = store.state("zai", "default")
    assert kept is not None and kept.snapshot is not None
    assert kept.snapshot.windows[0] == window and not kept.snapshot.windows[0].reset_pending
    store.close()

"""Push ingest (agentgauge.ingest) on SQLite and PostgreSQL: a push is stored like a fetch (state, samples,
forecast), holds the gate so the engine does not fetch upstream for 15 minutes, newest wins across sources,
old or future pushes are refused, and the windows a push does not carry keep their values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agentgauge.config import AccountConfig, Config
from agentgauge.engine import Engine
from agentgauge.errors import ConfigError, ParseError
from agentgauge.ingest import PUSH_FRESH, ingest
from agentgauge.models import ProviderSnapshot, Status, Usage, Window
from agentgauge.store import Store
from tests.harness import sim_settings
from tests.simlog import Mark

T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
H = timedelta(hours=1)


def config(settings: dict[str, str] | None = None, *, enabled: bool = True) -> Config:
    return Config(path=None, accounts=(AccountConfig("claude", "default", enabled, settings or {}, {}, explicit=True),))


def pushed(session: float, weekly: float, at: datetime = T0) -> Usage:
    return Usage(
        windows=(
            Window(id="session", label="Session (5h)", used_pct=session, resets_at=at + 3 * H, window_seconds=18000),
            Window(id="weekly", label="Weekly", used_pct=weekly, resets_at=at + 80 * H, window_seconds=604800),
        )
    )


def fetched(at: datetime, **pcts: float) -> ProviderSnapshot:
    return ProviderSnapshot(
        provider="claude",
        name="Claude",
        status=Status.OK,
        plan="max_5x",
        source="oauth",
        windows=tuple(
            Window(id=wid, label=wid, used_pct=pct, resets_at=at + 80 * H, window_seconds=604800)
            for wid, pct in pcts.items()
        ),
        fetched_at=at,
        last_success_at=at,
    )


def test_a_push_is_stored_like_a_fetch(store: Store):
    result = ingest(store, config(), "claude", "default", pushed(20, 40), "statusline", T0, now=T0)
    assert (result.accepted, result.reason) == (True, "stored")
    state = store.state("claude", "default")
    assert state is not None and state.snapshot is not None
    snap = state.snapshot
    assert (snap.status, snap.source, snap.source_label) == (Status.OK, "statusline", "Claude Code status line")
    assert [(w.id, w.used_pct) for w in snap.windows] == [("session", 20.0), ("weekly", 40.0)]
    assert snap.last_success_at == T0
    assert all(w.forecast is not None for w in snap.windows)  # forecast made from stored history
    assert state.next_allowed_at == (T0 + PUSH_FRESH).timestamp()
    assert [s.used_pct for s in store.samples("claude", "default", "session", T0 - H, T0 + H)] == [20.0]


def test_a_push_within_the_second_of_the_stored_data_wins(store: Store):
    """Stored times keep whole seconds; Claude Code's status line can push changed numbers twice in one."""
    store.save_state(fetched(T0, session=10, weekly=30), next_allowed_at=0, failures=0)
    later = T0 + timedelta(milliseconds=400)
    result = ingest(store, config(), "claude", "default", pushed(11, 30), "statusline", later, now=later)
    assert (result.accepted, result.reason) == (True, "stored")
    state = store.state("claude", "default")
    assert state is not None and state.snapshot is not None
    assert [w.used_pct for w in state.snapshot.windows][:1] == [11.0]


def test_newest_wins_and_older_pushes_are_ignored(store: Store):
    store.save_state(fetched(T0, session=10, weekly=30), next_allowed_at=0, failures=0)
    older = ingest(
        store, config(), "claude", "default", pushed(50, 50), "statusline", T0 - timedelta(seconds=30), now=T0
    )
    assert (older.accepted, older.reason) == (False, "newer data is stored")
    minute = T0 + timedelta(minutes=1)
    newer = ingest(store, config(), "claude", "default", pushed(15, 31), "statusline", minute, now=minute)
    assert newer.accepted
    state = store.state("claude", "default")
    assert state is not None and state.snapshot is not None
    assert [w.used_pct for w in state.snapshot.windows] == [15.0, 31.0]
    assert state.snapshot.plan == "max_5x"  # kept from the fetch: a push without a plan does not erase it


def test_windows_the_push_does_not_carry_keep_their_values(store: Store):
    store.save_state(fetched(T0, weekly=30, weekly_opus=70), next_allowed_at=0, failures=0)
    ingest(store, config(), "claude", "default", pushed(12, 33, T0 + H), "statusline", T0 + H, now=T0 + H)
    state = store.state("claude", "default")
    assert state is not None and state.snapshot is not None
    assert [(w.id, w.used_pct) for w in state.snapshot.windows] == [
        ("weekly", 33.0),
        ("weekly_opus", 70.0),
        ("session", 12.0),
    ]


def test_old_future_and_unknown_pushes_are_refused(store: Store):
    stale = ingest(store, config(), "claude", "default", pushed(1, 1), "statusline", T0 - PUSH_FRESH - H / 60, now=T0)
    assert (stale.accepted, stale.reason) == (False, "older than 15 minutes")
    future = ingest(store, config(), "claude", "default", pushed(1, 1), "statusline", T0 + H, now=T0)
    assert (future.accepted, future.reason) == (False, "stamped in the future")
    assert store.state("claude", "default") is None
    disabled = ingest(store, config(enabled=False), "claude", "default", pushed(1, 1), "statusline", T0, now=T0)
    assert (disabled.accepted, disabled.reason) == (False, "the account is disabled")
    with pytest.raises(ConfigError):
        ingest(store, config(), "claude", "work", pushed(1, 1), "statusline", T0, now=T0)
    with pytest.raises(ConfigError):
        ingest(store, config(), "nosuch", "default", pushed(1, 1), "statusline", T0, now=T0)
    with pytest.raises(ParseError):
        ingest(store, config(), "claude", "default", Usage(), "statusline", T0, now=T0)


def test_a_push_never_opens_a_closed_gate_earlier(store: Store):
    later = (T0 + 2 * H).timestamp()  # e.g. Retry-After from a 429
    store.save_state(fetched(T0 - H, weekly=5), next_allowed_at=later, failures=3)
    ingest(store, config(), "claude", "default", pushed(9, 9), "statusline", T0, now=T0)
    state = store.state("claude", "default")
    assert state is not None
    assert (state.next_allowed_at, state.failures) == (later, 3)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_the_engine_does_not_fetch_while_pushed_data_is_fresh(store: Store, sim):
    clock = Clock(datetime.now(UTC))
    cfg = config(sim_settings("claude", sim.url))
    ingest(store, cfg, "claude", "default", pushed(20, 40, clock.now), "statusline", clock.now, now=clock.now)

    mark = Mark(sim)  # the log keeps its last 1000 requests: counts over all of it drift

    def upstream() -> int:
        return len(mark.requests("/claude/"))

    before = 0  # since the mark
    async with Engine(cfg, store, clock=clock) as engine:
        [target] = engine.targets(["claude"])
        shown = await engine.refresh_account(target)
        assert (shown.source, upstream()) == ("statusline", before)  # the pushed data, no request
        clock.now += PUSH_FRESH + timedelta(seconds=1)
        shown = await engine.refresh_account(target)
        assert shown.source != "statusline" and upstream() > before  # pushed data too old: fetched again

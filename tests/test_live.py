"""The web surfaces' live view: a window whose reset passes reaches SSE subscribers as "pending",
however the lazy rebuilds and the scheduler's passes interleave with the change that preceded it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson

from agentgauge.models import ProviderSnapshot, Snapshot, Status, Window, evolve
from agentgauge.web.live import Live

START = datetime(2030, 1, 7, 5, 10, tzinfo=UTC)
RESET = START + timedelta(minutes=3)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def settle_at(clock: Clock):  # type: ignore[no-untyped-def]
    """What the query layer does: a window past its reset reads 0 % and pending."""

    def settle(snapshot: Snapshot) -> Snapshot:
        def one(p: ProviderSnapshot) -> ProviderSnapshot:
            windows = tuple(
                evolve(w, used_pct=0.0, reset_pending=True) if w.resets_at and w.resets_at <= clock() else w
                for w in p.windows
            )
            return evolve(p, windows=windows)

        return Snapshot(generated_at=snapshot.generated_at, providers=tuple(one(p) for p in snapshot.providers))

    return settle


def account(name: str, used: float, resets_at: datetime) -> ProviderSnapshot:
    window = Window(id="session", label="Session", used_pct=used, resets_at=resets_at)
    return ProviderSnapshot(provider="zai", account=name, name="z.ai", status=Status.OK, windows=(window,))


def drain(queue: asyncio.Queue[tuple[str, bytes]]) -> list[tuple[str, bool]]:
    out = []
    while not queue.empty():
        kind, body = queue.get_nowait()
        assert kind == "account"
        data = orjson.loads(body)
        out.append((data["account"], data["windows"][0]["reset_pending"]))
    return out


def live_view(clock: Clock) -> tuple[Live, asyncio.Queue[tuple[str, bytes]]]:
    later = START + timedelta(days=1)
    live = Live(Snapshot(generated_at=START, providers=(account("other", 10, later),)), clock, settle=settle_at(clock))
    return live, live.subscribe()


async def test_a_reset_that_passes_before_the_next_pass_is_still_published() -> None:
    clock = Clock()
    live, queue = live_view(clock)
    live.account_changed(account("a", 62.0, RESET))  # published as it was, the view rebuilt lazily
    assert drain(queue) == [("a", False)]
    clock.now = RESET + timedelta(seconds=1)  # the reset passes before the scheduler's next pass
    live.resettle()
    assert drain(queue) == [("a", True)]
    live.resettle()
    assert drain(queue) == [], "once is enough"


async def test_a_read_that_rebuilds_the_view_first_does_not_hide_the_reset() -> None:
    clock = Clock()
    live, queue = live_view(clock)
    live.account_changed(account("a", 62.0, RESET))
    drain(queue)
    clock.now = RESET + timedelta(seconds=1)
    assert live.snapshot.providers[-1].windows[0].reset_pending  # a request rebuilt the view
    live.resettle()
    assert drain(queue) == [("a", True)]


async def test_a_confirming_fetch_then_a_later_reset_is_published_again() -> None:
    clock = Clock()
    live, queue = live_view(clock)
    live.account_changed(account("a", 62.0, RESET))
    clock.now = RESET + timedelta(seconds=1)
    live.resettle()
    live.account_changed(account("a", 3.0, RESET + timedelta(hours=5)))  # the new cycle, confirmed
    assert drain(queue) == [("a", False), ("a", True), ("a", False)]
    live.resettle()
    assert drain(queue) == []
    clock.now = RESET + timedelta(hours=5, seconds=1)
    live.resettle()
    assert drain(queue) == [("a", True)]


async def test_a_read_after_a_reset_passed_gets_the_settled_answer_before_any_pass() -> None:
    """The view was built (not dirty) before the reset; a request that comes between the reset and the
    scheduler's next pass must read 0 % and pending, in the object and in the encoded body."""
    clock = Clock()
    live, _queue = live_view(clock)
    live.account_changed(account("a", 62.0, RESET))
    assert not live.snapshot.providers[-1].windows[0].reset_pending  # built now, before the reset
    clock.now = RESET + timedelta(seconds=1)
    assert live.snapshot.providers[-1].windows[0].reset_pending
    window = orjson.loads(live.body)["providers"][-1]["windows"][0]
    assert (window["reset_pending"], window["used_pct"]) == (True, 0.0)

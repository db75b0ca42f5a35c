"""What the engine makes of failures the older tests never pinned down: a response with no usable
window, a Retry-After no one should trust, and a bug in agentgauge itself."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from agentgauge.engine import MAX_RETRY_AFTER, Engine
from agentgauge.models import ErrorKind, Status
from agentgauge.providers import registry
from agentgauge.providers._http import parse_retry_after, retry_after_seconds
from tests.harness import add_fault
from tests.test_engine import Clock, config_for, zai_fetches, zai_requests

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


class Records(logging.Handler):
    """Every record under ``agentgauge``, whatever another test did to propagation."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records)


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    root = logging.getLogger("agentgauge")
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


# -- Retry-After ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "seconds", "odd"),
    [
        ("120", 120.0, False),
        ("  30  ", 30.0, False),
        ("0", None, False),  # Anthropic's "no idea": the engine's floor applies
        (None, None, False),
        ("", None, False),
        ("99999999999", MAX_RETRY_AFTER, True),
        ("1e400", MAX_RETRY_AFTER, True),  # float() says inf
        ("inf", MAX_RETRY_AFTER, True),
        ("-inf", None, True),
        ("nan", None, True),
        ("-5", None, True),
        ("soon", None, True),
        ("Fri, 01 Jan 99999 00:00:00 GMT", None, True),
        ("Thu, 01 Jan 2099 00:00:00 GMT", MAX_RETRY_AFTER, True),
        ("Fri, 20 Nov 2026 12:10:00 GMT", 600.0, False),
        ("Fri, 20 Nov 2026 11:00:00 GMT", None, False),  # already past
    ],
)
def test_retry_after_is_clamped_where_it_is_parsed(header: str | None, seconds: float | None, odd: bool) -> None:
    value, reason = parse_retry_after(header, NOW)
    assert value == seconds
    assert (reason is not None) == odd
    assert retry_after_seconds(header, NOW) == seconds


@pytest.mark.parametrize("header", ["inf", "99999999999", "Thu, 01 Jan 2099 00:00:00 GMT", "nan", "-1", "garbage"])
async def test_an_absurd_retry_after_never_freezes_an_account(sim, store, header: str, records: Records) -> None:
    clock = Clock()
    # the oddity is logged once per account per process: a fresh account for each case
    account = f"ra-{uuid.uuid4().hex[:10]}"
    config = config_for(sim.url, ("zai", account, {"api_key": f"sim-zai-key.secret#{account}"}))
    add_fault(sim, "/zai/", "status", status=429, headers={"retry-after": header}, body="{}")
    async with Engine(config, store, clock=clock) as engine:
        first = (await engine.refresh()).providers[0]
        assert first.error is not None and first.error.kind == ErrorKind.RATE_LIMITED, first.error
        state = store.state("zai", account)
        assert state is not None
        wait = state.next_allowed_at - clock.now.timestamp()
        assert registry.get("zai").min_interval <= wait <= MAX_RETRY_AFTER
        for _ in range(3):  # more 429s with the same header: the oddity is not logged again
            clock.advance(MAX_RETRY_AFTER + 1)
            again = (await engine.refresh()).providers[0]
            assert again.error is not None and again.error.kind == ErrorKind.RATE_LIMITED
    odd = [r for r in records.records if "unusable Retry-After" in r.getMessage()]
    assert len(odd) == 1, records.text()
    assert repr(header)[:20] in odd[0].getMessage()
    assert not [r for r in records.records if r.levelno >= logging.ERROR], records.text()


async def test_a_long_retry_after_is_honoured_up_to_a_day(sim, store) -> None:
    clock = Clock()
    config = config_for(sim.url, ("zai", "default", {}))
    add_fault(sim, "/zai/", "status", status=429, headers={"retry-after": "99999999999"}, body="{}")
    async with Engine(config, store, clock=clock) as engine:
        await engine.refresh()
        httpx.delete(f"{sim.url}/__sim/faults")
        count, sent = len(zai_fetches(sim)), len(zai_requests(sim))
        clock.advance(MAX_RETRY_AFTER - 60)
        assert (await engine.refresh()).providers[0].status == Status.ERROR
        assert len(zai_requests(sim)) == sent  # still waiting: nothing at all is sent
        clock.advance(61)
        assert (await engine.refresh()).providers[0].status == Status.OK
        assert len(zai_fetches(sim)) == count + 1


# -- no usable window ---------------------------------------------------------------------
NULL_UTILIZATION = {
    "five_hour": {"utilization": None, "resets_at": None},
    "seven_day": {"utilization": None, "resets_at": None},
    "seven_day_opus": None,
    "seven_day_sonnet": None,
    "extra_usage": None,
}


async def test_null_utilizations_are_a_parse_error_and_keep_the_last_good_data(sim, store) -> None:
    clock = Clock()
    config = config_for(sim.url, ("claude", "default", {"session_key": ""}))
    async with Engine(config, store, clock=clock) as engine:
        good = (await engine.refresh()).providers[0]
        assert good.status == Status.OK and good.windows
        clock.advance(registry.get("claude").min_interval + 1)
        add_fault(sim, "/claude/api_url/", "body", body=json.dumps(NULL_UTILIZATION))
        after = (await engine.refresh()).providers[0]
    assert after.status == Status.STALE
    assert after.error is not None and after.error.kind == ErrorKind.PARSE
    assert "no usable window" in after.error.message
    assert after.windows == good.windows and after.plan == good.plan
    assert after.last_success_at == good.last_success_at
    stored = store.state("claude", "default")
    assert stored is not None and stored.snapshot == after
    assert stored.last_raw is not None and '"utilization":null' in stored.last_raw.replace(" ", "")


async def test_null_utilizations_on_a_first_fetch_are_an_error_not_an_empty_ok(sim, store) -> None:
    config = config_for(sim.url, ("claude", "default", {"session_key": ""}))
    add_fault(sim, "/claude/api_url/", "body", body=json.dumps(NULL_UTILIZATION))
    async with Engine(config, store, clock=Clock()) as engine:
        snap = (await engine.refresh()).providers[0]
    assert snap.status == Status.ERROR and not snap.windows
    assert snap.error is not None and snap.error.kind == ErrorKind.PARSE


# -- bugs are internal errors ---------------------------------------------------------------
async def test_an_exception_in_parse_is_internal_with_a_traceback_and_the_raw_redacted(
    sim, store, monkeypatch: pytest.MonkeyPatch, records: Records
) -> None:
    clock = Clock()
    provider = registry.get("zai")
    config = config_for(sim.url, ("zai", "default", {}))
    async with Engine(config, store, clock=clock) as engine:
        good = (await engine.refresh()).providers[0]
        assert good.status == Status.OK

        def broken(self, raw, now):  # type: ignore[no-untyped-def]
            return 1 / 0

        monkeypatch.setattr(type(provider), "parse", broken)
        clock.advance(3600)
        # the upstream answers with a body that holds a token-looking field and an echo of the key
        add_fault(
            sim,
            "/zai/",
            "body",
            body=json.dumps({"code": 200, "data": {"limits": []}, "token": "tok-abcdef-123", "echo": "sim-zai-key"}),
        )
        failed = (await engine.refresh()).providers[0]
    assert failed.status == Status.STALE and failed.windows == good.windows
    assert failed.error is not None and failed.error.kind == ErrorKind.INTERNAL
    assert "ZeroDivisionError" in failed.error.message and "parse" not in failed.error.message.lower()
    errors = [r for r in records.records if r.levelno >= logging.ERROR and r.name == "agentgauge.engine"]
    assert len(errors) == 1
    logged = records.format(errors[0])
    assert "Traceback (most recent call last)" in logged and "ZeroDivisionError" in logged and "broken" in logged
    state = store.state("zai", "default")
    assert state is not None and state.last_raw is not None
    raw = json.loads(state.last_raw)
    assert raw["quota"]["token"] == "***"  # a secret-looking key is masked
    assert raw["quota"]["code"] == 200  # the rest is kept for diagnosis
    assert "sim-zai-key" not in state.last_raw  # the echoed half of the account's key is scrubbed


async def test_an_exception_in_discovery_is_this_accounts_internal_error(
    sim, store, monkeypatch: pytest.MonkeyPatch, records: Records
) -> None:
    from agentgauge.credentials import AccountCredentials

    config = config_for(sim.url, ("zai", "default", {}), ("kimi", "default", {}))
    real_next = AccountCredentials.next

    def next_or_bug(self):  # type: ignore[no-untyped-def]
        if self.provider.id == "kimi":
            raise KeyError("profiles.ini")
        return real_next(self)

    monkeypatch.setattr(AccountCredentials, "next", next_or_bug)
    async with Engine(config, store, clock=Clock()) as engine:
        snap = await engine.refresh()
    by_id = {p.provider: p for p in snap.providers}
    assert by_id["zai"].status == Status.OK  # the other account is untouched
    assert by_id["kimi"].status == Status.ERROR
    assert by_id["kimi"].error is not None and by_id["kimi"].error.kind == ErrorKind.INTERNAL
    assert "KeyError" in records.text() and "Traceback" in records.text()

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from agentgauge.cli.demo import demo_config
from agentgauge.config import AccountConfig, Config
from agentgauge.engine import Engine
from agentgauge.models import ErrorKind, Status
from agentgauge.providers import registry, zai
from agentgauge.store import open_store
from tests.harness import add_fault, sim_requests, sim_settings


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def config_for(sim_url: str, *accounts: tuple[str, str, dict[str, str]]) -> Config:
    rows = []
    for provider_id, account, overrides in accounts:
        settings = sim_settings(provider_id, sim_url, **overrides)
        rows.append(AccountConfig(provider_id, account, True, settings, dict.fromkeys(settings, "test"), True))
    return Config(path=None, accounts=tuple(rows), env={}, home=Path("/nonexistent"))


def zai_requests(sim) -> list[dict]:  # type: ignore[no-untyped-def]
    """Every request the simulator saw for z.ai (the quota call and any other) since the test began
    (the ``sim`` fixture empties its log)."""
    return [r for r in sim_requests(sim) if r["path"].startswith("/zai/")]


def zai_fetches(sim) -> list[dict]:  # type: ignore[no-untyped-def]
    """The simulator's requests to z.ai's quota endpoint since the test began: one per fetch, however
    many other calls (the subscription list) the adapter makes beside it."""
    return [r for r in zai_requests(sim) if r["path"].endswith(zai.QUOTA_PATH)]


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_refresh_ok_and_min_interval_gate(sim, store, clock):
    config = config_for(sim.url, ("zai", "default", {}))
    async with Engine(config, store, clock=clock) as engine:
        before = len(zai_fetches(sim))
        first = await engine.refresh()
        assert first.providers[0].status == Status.OK
        assert [w.id for w in first.providers[0].windows] == ["session", "weekly", "tools_monthly"]
        again = await engine.refresh()  # inside the provider's minimum interval: served from the store
        assert again.providers[0] == first.providers[0]
        assert len(zai_fetches(sim)) == before + 1
        clock.advance(registry.get("zai").min_interval + 1)
        await engine.refresh()
        assert len(zai_fetches(sim)) == before + 2


async def test_one_fetch_per_account_at_a_time(sim, store, clock):
    config = config_for(sim.url, ("zai", "default", {}))
    httpx.post(f"{sim.url}/__sim/latency", json={"seconds": 0.3})
    async with Engine(config, store, clock=clock) as engine:
        before = len(zai_fetches(sim))
        target = engine.targets()[0]
        results = await asyncio.gather(*(engine.refresh_account(target) for _ in range(5)))
    assert len(zai_fetches(sim)) == before + 1
    assert all(r.status == Status.OK for r in results)


async def test_accounts_are_fetched_concurrently(sim, tmp_path, clock):
    store = open_store(str(tmp_path / "c.db"), data_dir=tmp_path)
    config = config_for(sim.url, *[("zai", f"acct{i}", {"api_key": f"sim-zai-key.secret#a{i}"}) for i in range(4)])
    httpx.post(f"{sim.url}/__sim/latency", json={"seconds": 1.0})
    async with Engine(config, store, clock=clock) as engine:
        before = len(zai_fetches(sim))
        task = asyncio.create_task(engine.refresh())
        await asyncio.sleep(0.5)  # every request must already be in flight: none has finished yet
        in_flight = len(zai_fetches(sim)) - before
        snapshot = await task
    assert in_flight == 4
    assert [p.account for p in snapshot.providers] == ["acct0", "acct1", "acct2", "acct3"]
    store.close()


async def test_retry_after_is_honoured_and_data_goes_stale(sim, store, clock, caplog):
    config = config_for(sim.url, ("zai", "default", {}))
    async with Engine(config, store, clock=clock) as engine:
        ok = (await engine.refresh()).providers[0]
        clock.advance(61)
        add_fault(sim, "/zai/", "status", status=429, headers={"retry-after": "600"}, body="{}")
        with caplog.at_level(logging.INFO, logger="agentgauge.engine"):
            stale = (await engine.refresh()).providers[0]
            assert stale.status == Status.STALE
            assert stale.windows == ok.windows and stale.plan == ok.plan
            assert stale.last_success_at == ok.last_success_at
            assert stale.error.kind == ErrorKind.RATE_LIMITED and stale.error.hint
            count, sent = len(zai_fetches(sim)), len(zai_requests(sim))
            clock.advance(300)
            assert (await engine.refresh()).providers[0].status == Status.STALE
            assert len(zai_requests(sim)) == sent  # still inside Retry-After: nothing at all is sent
            httpx.delete(f"{sim.url}/__sim/faults")
            clock.advance(301)
            recovered = (await engine.refresh()).providers[0]
        assert recovered.status == Status.OK and recovered.error is None
        assert len(zai_fetches(sim)) == count + 1
    failing = [r for r in caplog.records if "is failing" in r.getMessage()]
    recovered_logs = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(failing) == 1 and len(recovered_logs) == 1


async def test_repeated_failures_log_once_and_back_off(sim, store, clock, caplog):
    config = config_for(sim.url, ("zai", "default", {}))
    add_fault(sim, "/zai/", "status", status=500, body="oops")
    async with Engine(config, store, clock=clock) as engine:
        with caplog.at_level(logging.INFO, logger="agentgauge.engine"):
            first = (await engine.refresh()).providers[0]
            assert first.status == Status.ERROR and first.error.kind == ErrorKind.UPSTREAM
            count = len(zai_fetches(sim))
            clock.advance(61)
            await engine.refresh()
            clock.advance(61)  # back-off doubled to 120 s: still closed
            await engine.refresh()
    assert len(zai_fetches(sim)) == count + 1
    assert len([r for r in caplog.records if "is failing" in r.getMessage()]) == 1


async def test_auth_failure_falls_back_to_next_source(sim, store, clock):
    config = config_for(sim.url, ("kimi", "default", {"api_key": "wrong-key"}))
    async with Engine(config, store, clock=clock) as engine:
        snap = (await engine.refresh()).providers[0]
    assert snap.status == Status.OK and snap.source == "cookie"


async def test_unconfigured_and_disabled(store, clock):
    config = Config(
        path=None,
        accounts=(
            AccountConfig("zai", "default", True, {}, {}, False),
            AccountConfig("kimi", "default", False, {"api_key": "x"}, {}, True),
        ),
        env={},
        home=Path("/nonexistent"),
    )
    async with Engine(config, store, clock=clock) as engine:
        snap = await engine.refresh()
    by_id = {p.provider: p for p in snap.providers}
    assert by_id["zai"].status == Status.UNCONFIGURED
    assert "AGENTGAUGE_ZAI_API_KEY" in by_id["zai"].error.hint
    assert by_id["kimi"].status == Status.DISABLED


async def test_unresolvable_reference_is_a_config_error(store, clock):
    config = Config(
        path=None,
        accounts=(AccountConfig("zai", "default", True, {"api_key": "$env:NOPE_NOT_SET"}, {}, True),),
        env={},
        home=Path("/nonexistent"),
    )
    async with Engine(config, store, clock=clock) as engine:
        snap = (await engine.refresh()).providers[0]
    assert snap.status == Status.ERROR and snap.error.kind == ErrorKind.CONFIG
    assert "NOPE_NOT_SET" in snap.error.message


async def test_demo_config_reaches_every_provider(sim, tmp_path, clock):
    store = open_store(str(tmp_path / "d.db"), data_dir=tmp_path)
    async with Engine(demo_config(sim.url, workdir=tmp_path / "demo"), store, clock=clock) as engine:
        snap = await engine.refresh()
    assert {p.provider for p in snap.providers} == set(registry.ids())
    assert all(p.status == Status.OK and (p.windows or p.balances) for p in snap.providers), [
        (p.provider, p.status, p.error) for p in snap.providers
    ]
    store.close()


def test_default_account_with_a_cli_login_stays_beside_named_accounts(tmp_path):
    import json

    from agentgauge.credentials import Vault

    def targets(config: Config, only: list[str]) -> list:  # type: ignore[type-arg]
        from agentgauge.accounts import targets as account_targets

        return account_targets(config, only, default_wanted=Vault(config).has_credentials)

    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / ".credentials.json").write_text(
        json.dumps({"claudeAiOauth": {"accessToken": "tok", "refreshToken": "r", "expiresAt": 4102444800000}})
    )
    accounts = (
        AccountConfig("claude", "default", True, {}, {}, False),
        AccountConfig("claude", "work", True, {"oauth_token": "x"}, {}, True),
    )
    with_login = Config(path=None, accounts=accounts, env={}, home=tmp_path)
    assert [t.account.account for t in targets(with_login, ["claude"])] == ["default", "work"]
    without = Config(path=None, accounts=accounts, env={}, home=tmp_path / "empty")
    assert [t.account.account for t in targets(without, ["claude"])] == ["work"]


async def test_a_rejected_key_is_sent_once_even_if_two_sources_share_it(sim, store, clock):
    from tests.harness import add_fault

    config = config_for(sim.url, ("zai", "default", {}))
    add_fault(sim, "/zai/", "status", status=401, body="{}")
    async with Engine(config, store, clock=clock) as engine:
        before = len(zai_fetches(sim))
        snap = (await engine.refresh()).providers[0]
    assert snap.error.kind == ErrorKind.AUTH
    assert len(zai_fetches(sim)) == before + 1


async def test_later_sources_are_not_discovered_when_the_first_works(sim, store, clock, monkeypatch):
    """A working OAuth token means no browser profile is opened (and no keychain prompt shown)."""
    from dataclasses import replace

    provider = registry.get("claude")
    calls: list[str] = []

    def spy(ctx):  # type: ignore[no-untyped-def]
        calls.append("browser")
        return None

    patched = tuple(replace(a, discover=spy) if a.id != "oauth" else a for a in provider.auth)
    monkeypatch.setattr(type(provider), "auth", patched)
    config = config_for(sim.url, ("claude", "default", {"session_key": ""}))
    async with Engine(config, store, clock=clock) as engine:
        ok = (await engine.refresh()).providers[0]
    assert ok.status == Status.OK and calls == []
    from tests.harness import add_fault

    add_fault(sim, "/claude/api_url/", "status", status=401, body="{}")
    clock.advance(3600)
    async with Engine(config, store, clock=clock) as engine:
        failed = (await engine.refresh()).providers[0]
    assert calls, "after the token was rejected the fallback sources are looked for"
    assert failed.status == Status.STALE and failed.error.kind == ErrorKind.AUTH

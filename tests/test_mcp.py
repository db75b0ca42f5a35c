"""The MCP server with the SDK's own client: in-process over a real store (tools, resource, annotations, the
8 KB cap, the opt-in rate-limited refresh through the engine's gates against the simulator) and over stdio,
`agentgauge mcp` as a subprocess (stdout carries only the protocol)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from agentgauge.config import AccountConfig, Config
from agentgauge.mcp.backends import StoreBackend
from agentgauge.mcp.cap import MAX_BYTES
from agentgauge.mcp.server import RefreshLimiter, build
from agentgauge.models import ErrorInfo, ErrorKind, Forecast, ProviderSnapshot, Snapshot, Status, Window, utc_iso
from agentgauge.query.agents import guard, pick_report
from agentgauge.store import Store, open_store
from tests.harness import sim_settings
from tests.simlog import Mark

H = timedelta(hours=1)


def seeded(store: Store, now: datetime) -> Config:
    forecast = Forecast(
        verdict="will_run_out", pace_pct=50.0, expected_pct=130.0, low_pct=110.0, high_pct=150.0,
        runs_out_at=now + 2 * H, rate_pct_per_hour=9.5, made_at=now,
    )  # fmt: skip
    rows = [
        ProviderSnapshot(
            provider="claude",
            name="Claude",
            status=Status.OK,
            plan="max_5x",
            windows=(
                Window(id="session", label="Session (5h)", used_pct=62, resets_at=now + 3 * H, window_seconds=18000),
                Window(id="weekly", label="Weekly", used_pct=35, resets_at=now + 90 * H, forecast=forecast),
            ),
            fetched_at=now,
            last_success_at=now,
        ),
        ProviderSnapshot(
            provider="codex",
            name="Codex",
            status=Status.STALE,
            windows=(Window(id="session", label="Session (5h)", used_pct=10, resets_at=now + 2 * H),),
            fetched_at=now,
            last_success_at=now - 2 * H,
            error=ErrorInfo(kind=ErrorKind.NETWORK, message="Codex: connection refused", hint="later"),
        ),
    ]
    for row in rows:
        store.save_state(row, next_allowed_at=4e9, failures=0)
    accounts = tuple(AccountConfig(r.provider, r.account, True, {}, {}, explicit=True) for r in rows)
    return Config(path=None, accounts=accounts)


def payload(result) -> dict:  # type: ignore[no-untyped-def]
    assert not result.is_error, result.content
    text = result.content[0].text
    assert len(text.encode()) <= MAX_BYTES
    data = json.loads(text)
    assert data == result.structured_content
    return data


async def test_tools_and_their_descriptions(store: Store):
    now = datetime.now(UTC)
    app = build(StoreBackend(seeded(store, now), store))
    async with Client(app) as client:
        assert "Do not poll" in (client.instructions or "")
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"get_usage", "pick_provider", "check_headroom", "get_forecast", "get_cost"}
        for name, tool in tools.items():
            assert tool.annotations is not None and tool.annotations.read_only_hint, name
        for name in ("get_usage", "pick_provider", "check_headroom", "get_forecast"):
            assert "data_time" in (tools[name].description or "") and "loop" in (tools[name].description or "")
        assert tools["check_headroom"].input_schema["required"] == ["provider"]


async def test_reads(store: Store):
    now = datetime.now(UTC)
    config = seeded(store, now)
    backend = StoreBackend(config, store)
    async with Client(build(backend)) as client:
        usage = payload(await client.call_tool("get_usage", {}))
        claude = usage["accounts"][0]
        assert (claude["provider"], claude["plan"], claude["data_time"]) == ("claude", "max_5x", utc_iso(now))
        assert claude["windows"][0] == {
            "id": "session",
            "label": "Session (5h)",
            "used_pct": 62.0,
            "remaining_pct": 38.0,
            "resets_at": claude["windows"][0]["resets_at"],
            "window_seconds": 18000,
        }
        assert claude["windows"][1]["forecast"]["verdict"] == "will_run_out"
        codex = usage["accounts"][1]
        assert (codex["status"], codex["error"]["message"]) == ("stale", "Codex: connection refused")
        assert 120.0 <= codex["age_minutes"] <= 125.0
        assert [
            a["provider"] for a in payload(await client.call_tool("get_usage", {"provider": "codex"}))["accounts"]
        ] == ["codex"]
        assert payload(await client.call_tool("get_usage", {"provider": "zai"}))["note"] == "no account in use matches"

        snapshot = backend.snapshot()
        picked = payload(await client.call_tool("pick_provider", {"hours": 1}))
        expected = pick_report(snapshot, backend.now(), hours=1)
        assert {k: v for k, v in picked.items() if k != "generated_at"} == {
            k: v for k, v in expected.items() if k != "generated_at"
        }
        assert picked["choice"]["provider"] == "claude" and picked["excluded"][0]["provider"] == "codex"

        checked = payload(
            await client.call_tool(
                "check_headroom", {"provider": "claude", "min_remaining_pct": 40, "window": "session"}
            )
        )
        decision = guard(snapshot, "claude", min_remaining=40, window="session", now=backend.now())
        assert checked == {
            "provider": "claude",
            "account": "default",
            "min_remaining_pct": 40.0,
            "data_time": utc_iso(now),
            **decision.to_json(),
        }
        assert checked["verdict"] == "below" and checked["exit_code"] == 1
        stale = payload(await client.call_tool("check_headroom", {"provider": "codex", "fail_open": True}))
        assert (stale["verdict"], stale["exit_code"]) == ("unavailable", 0)

        forecast = payload(await client.call_tool("get_forecast", {"provider": "claude", "window": "weekly"}))
        [weekly] = forecast["accounts"][0]["windows"]
        assert weekly["forecast"]["high_pct"] == 150.0 and weekly["forecast"]["rate_pct_per_hour"] == 9.5

        bad = await client.call_tool("check_headroom", {"provider": "claude", "min_remaining_pct": 140})
        assert bad.is_error  # the SDK validates arguments against the schema


async def test_cost_reads_the_local_log_index(store: Store, tmp_path: Path):
    now = datetime.now(UTC)
    config = replace(seeded(store, now), home=tmp_path)
    async with Client(build(StoreBackend(config, store))) as client:
        cost = payload(await client.call_tool("get_cost", {}))
    assert cost["estimate"] is True and set(cost["periods"]) == {"today", "7d", "30d"}
    assert cost["periods"]["today"]["tokens"] == 0 and cost["periods"]["30d"]["top_models"] == []


async def test_answers_stay_under_the_cap_and_say_what_was_dropped(tmp_path: Path):
    now = datetime.now(UTC)
    store = open_store(str(tmp_path / "big.db"), data_dir=tmp_path)
    accounts = []
    for i in range(40):
        windows = tuple(
            Window(
                id=f"model_{j}",
                label=f"Weekly · a rather long model family name number {j}",
                used_pct=(i * 7 + j) % 100,
                resets_at=now + (j + 1) * H,
                forecast=Forecast(verdict="ok", pace_pct=10.0, expected_pct=40.0, made_at=now),
            )
            for j in range(6)
        )
        row = ProviderSnapshot(
            provider="codex", account=f"team{i:02d}", name="Codex", status=Status.OK, windows=windows,
            fetched_at=now, last_success_at=now,
        )  # fmt: skip
        store.save_state(row, next_allowed_at=4e9, failures=0)
        accounts.append(AccountConfig("codex", row.account, True, {}, {}, explicit=True))
    backend = StoreBackend(Config(path=None, accounts=tuple(accounts)), store)
    async with Client(build(backend)) as client:
        usage = payload(await client.call_tool("get_usage", {}))
        dropped = usage["truncated"]["dropped"]
        assert dropped[0].startswith("window forecasts") and dropped[-1].startswith("accounts: codex/team")
        assert "and " in dropped[-1] and "provider=" in usage["truncated"]["hint"]
        kept = [a["account"] for a in usage["accounts"]]
        assert kept == [f"team{i:02d}" for i in range(len(kept))] and 0 < len(kept) < 40
        one = payload(await client.call_tool("get_usage", {"provider": "codex", "account": "team07"}))
        assert "truncated" not in one and len(one["accounts"][0]["windows"]) == 6  # narrowing brings it all back
        picked = payload(await client.call_tool("pick_provider", {}))
        assert picked["choice"] is not None and picked["truncated"]["dropped"]
        resource = (await client.read_resource("agentgauge://snapshot")).contents[0]
        assert len(resource.text.encode()) <= MAX_BYTES
        document = orjson.loads(resource.text)
        assert document["schema"] == "agentgauge.snapshot.v2" and document["truncated"]["dropped"]
    store.close()


async def test_the_snapshot_resource(store: Store):
    now = datetime.now(UTC)
    backend = StoreBackend(seeded(store, now), store)
    async with Client(build(backend)) as client:
        [resource] = (await client.list_resources()).resources
        assert (str(resource.uri), resource.mime_type) == ("agentgauge://snapshot", "application/json")
        text = (await client.read_resource("agentgauge://snapshot")).contents[0].text
    served, expected = Snapshot.model_validate_json(text), backend.snapshot()
    # The two were made a moment apart: generated_at may fall on either side of a second.
    assert served.model_copy(update={"generated_at": expected.generated_at}) == expected


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_refresh_is_opt_in_rate_limited_and_goes_through_the_gates(tmp_path: Path, sim):
    store = open_store(str(tmp_path / "r.db"), data_dir=tmp_path)
    account = AccountConfig("claude", "default", True, sim_settings("claude", sim.url), {}, explicit=True)
    config = Config(path=None, accounts=(account,))
    async with Client(build(StoreBackend(config, store))) as client:
        assert "refresh" not in {t.name for t in (await client.list_tools()).tools}

    mark = Mark(sim)  # the log keeps its last 1000 requests: counts over all of it drift

    def upstream() -> int:
        return len(mark.requests("/claude/api_url"))

    ticks = Ticks()
    backend = StoreBackend(replace(config, mcp_refresh=True), store)
    before = 0  # since the mark
    async with Client(build(backend, limiter=RefreshLimiter(60.0, ticks))) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["refresh"].annotations is not None and not tools["refresh"].annotations.read_only_hint
        first = payload(await client.call_tool("refresh", {"provider": "claude", "wait_seconds": 30}))
        assert (first["refreshed"], first["fresh"]) == (True, True)
        assert first["accounts"][0]["status"] == "ok" and upstream() == before + 1
        ticks.now += 10
        second = payload(await client.call_tool("refresh", {"provider": "claude"}))
        assert (second["refreshed"], second["retry_after_seconds"]) == (False, 50)
        ticks.now += 60
        third = payload(await client.call_tool("refresh", {"provider": "claude"}))
        assert third["refreshed"] is True
        assert upstream() == before + 1  # the tool allowed it; Claude's minimum interval did not
        ticks.now += 60
        unknown = await client.call_tool("refresh", {"provider": "claude", "account": "nosuch"})
        assert unknown.is_error and "no account 'nosuch'" in unknown.content[0].text
    await backend.aclose()
    store.close()


async def test_stdio_round_trip(tmp_path: Path):
    now = datetime.now(UTC)
    db = tmp_path / "gauge.db"
    store = open_store(str(db), data_dir=tmp_path)
    seeded(store, now)
    store.close()
    config = tmp_path / "config.toml"
    config.write_text("[providers.codex]\n")
    env = {**os.environ, "AGENTGAUGE_CONFIG": str(config), "AGENTGAUGE_DATABASE_URL": str(db)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "agentgauge", "-vv", "mcp"], env=env)
    async with Client(params) as client:
        assert {t.name for t in (await client.list_tools()).tools} >= {"get_usage", "check_headroom"}
        usage = payload(await client.call_tool("get_usage", {}))
        assert [a["provider"] for a in usage["accounts"]] == ["claude", "codex"]
        checked = payload(await client.call_tool("check_headroom", {"provider": "claude", "min_remaining_pct": 30}))
        assert checked["verdict"] == "safe"

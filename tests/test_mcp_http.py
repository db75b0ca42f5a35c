"""`/mcp` on a real `serve` (token set, demo providers on the simulator) with the SDK's streamable-HTTP client:
the Guard's token and Host check in front of it, the tools over HTTP, the 8 KB cap on a large snapshot, and the
opt-in refresh through the server's shared, gated refresh."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from agentgauge.mcp.cap import MAX_BYTES
from tests.harness import sim_requests
from tests.harness_web import ServerInfo, running_server
from tests.simlog import Mark

TOKEN = "mcp-test-token-0123456789"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
ACCEPT = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerInfo]:
    with running_server(token=TOKEN, history_days=0) as info:
        state = info.app.state.server
        state.config = replace(state.config, mcp_refresh=True)  # before the first /mcp request builds the tools
        yield info


def client(info: ServerInfo, token: str | None = TOKEN) -> Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return Client(streamable_http_client(f"{info.url}/mcp", http_client=httpx2.AsyncClient(headers=headers)))


def text_of(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    raw = result.content[0].text
    assert len(raw.encode()) <= MAX_BYTES
    data: dict[str, Any] = json.loads(raw)
    return data


def test_the_token_and_host_rules_cover_mcp(server: ServerInfo):
    anonymous = httpx.post(f"{server.url}/mcp", json=INIT, headers=ACCEPT)
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    wrong = httpx.post(f"{server.url}/mcp", json=INIT, headers={**ACCEPT, "authorization": "Bearer nope"})
    assert wrong.status_code == 401
    in_query = httpx.post(f"{server.url}/mcp?token={TOKEN}", json=INIT, headers=ACCEPT)
    assert in_query.status_code == 401  # a token is never read from the URL
    rebound = httpx.post(
        f"{server.url}/mcp", json=INIT, headers={**ACCEPT, "authorization": f"Bearer {TOKEN}", "host": "evil.example"}
    )
    assert rebound.status_code == 421
    allowed = httpx.post(f"{server.url}/mcp", json=INIT, headers={**ACCEPT, "authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200 and allowed.json()["result"]["serverInfo"]["name"] == "agentgauge"
    assert allowed.headers["cache-control"] == "no-store"


async def test_sdk_client_without_the_token_is_refused(server: ServerInfo):
    statuses: list[int] = []

    async def seen(response: httpx2.Response) -> None:
        statuses.append(response.status_code)

    http = httpx2.AsyncClient(event_hooks={"response": [seen]})
    with pytest.raises(Exception, match=r"error response|TaskGroup"):
        async with Client(streamable_http_client(f"{server.url}/mcp", http_client=http)) as anonymous:
            await anonymous.list_tools()
    assert statuses and set(statuses) == {401}


async def test_tools_over_http(server: ServerInfo):
    auth = {"authorization": f"Bearer {TOKEN}"}  # the server has no history: Claude's first fetch, done
    httpx.post(f"{server.url}/api/refresh?provider=claude&wait=60", headers=auth, timeout=90).raise_for_status()
    async with client(server) as mcp:
        names = {t.name for t in (await mcp.list_tools()).tools}
        assert names == {"get_usage", "pick_provider", "check_headroom", "get_forecast", "get_cost", "refresh"}
        usage = text_of(await mcp.call_tool("get_usage", {"provider": "claude"}))
        assert usage["accounts"][0]["provider"] == "claude" and usage["accounts"][0]["windows"]
        live = httpx.get(f"{server.url}/api/usage/claude", headers={"authorization": f"Bearer {TOKEN}"}).json()
        assert usage["accounts"][0]["windows"][0]["used_pct"] == live["providers"][0]["windows"][0]["used_pct"]
        picked = text_of(await mcp.call_tool("pick_provider", {"providers": ["claude", "codex"]}))
        api = httpx.get(
            f"{server.url}/api/pick?provider=claude&provider=codex", headers={"authorization": f"Bearer {TOKEN}"}
        ).json()
        assert picked["ranked"] == api["ranked"]


async def test_a_large_snapshot_is_capped(server: ServerInfo):
    async with client(server) as mcp:
        usage = text_of(await mcp.call_tool("get_usage", {}))
        assert usage["truncated"]["dropped"] and usage["accounts"]  # every demo provider does not fit in 8 KB
        document = (await mcp.read_resource("agentgauge://snapshot")).contents[0].text
        assert len(document.encode()) <= MAX_BYTES and json.loads(document)["truncated"]["dropped"]


async def test_refresh_over_http_uses_the_shared_gated_refresh(server: ServerInfo):
    auth = {"authorization": f"Bearer {TOKEN}"}
    httpx.post(f"{server.url}/api/refresh?provider=kimi&wait=30", headers=auth, timeout=60).raise_for_status()
    # kimi was just fetched (by the scheduler or this refresh): its gate is closed now
    assert any(r["path"].startswith("/kimi/") for r in sim_requests(server.sim))
    mark = Mark(server.sim)  # the log keeps its last 1000 requests: counts over all of it drift

    def upstream() -> int:
        return len(mark.requests("/kimi/"))

    fetched = 0  # since the mark
    async with client(server) as mcp:
        done = text_of(await mcp.call_tool("refresh", {"provider": "kimi", "wait_seconds": 20}))
        assert (done["refreshed"], done["fresh"]) == (True, True) and done["accounts"][0]["status"] == "ok"
        assert upstream() == fetched  # the tool asked; the gate said not yet
        again = text_of(await mcp.call_tool("refresh", {"provider": "kimi"}))
        assert again["refreshed"] is False and again["retry_after_seconds"] > 0


async def test_under_a_root_path():
    with running_server(history_days=0, root_path="/gauge") as info:
        async with Client(f"{info.url}/mcp") as mcp:  # no token on loopback
            usage = text_of(await mcp.call_tool("get_usage", {"provider": "codex"}))
        assert usage["accounts"] and {a["provider"] for a in usage["accounts"]} == {"codex"}
        stripped = httpx.post(f"{info.origin}/mcp", json=INIT, headers=ACCEPT)  # a proxy that strips the prefix
        assert stripped.status_code == 200

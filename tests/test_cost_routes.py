"""Claude Code through Vertex AI and Bedrock: told by the model id (``@`` version separator, Bedrock
ids and ARNs), the API message id or the line's metadata; reported as ``vertexai`` / ``bedrock`` and
priced from Vertex's / Bedrock's list prices, on both decoding paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentgauge.logs import _fast, pricing
from agentgauge.logs.index import refresh_index
from agentgauge.logs.report import Filters, period_report
from agentgauge.store import Store

SONNET = "claude-sonnet-4-5-20250929"


def line(mid: str, model: str, minute: int, *, inp: int, out: int, **extra: Any) -> str:
    return json.dumps(
        {
            "parentUuid": None,
            "isSidechain": False,
            "type": "assistant",
            "sessionId": "s",
            "cwd": "/p",
            "version": "2.0.37",
            "timestamp": f"2025-11-10T10:{minute:02d}:00.000Z",
            "requestId": f"req_{mid}",
            "message": {
                "id": mid,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": "ok"}],
                "usage": {
                    "input_tokens": inp,
                    "output_tokens": out,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                },
            },
            **extra,
        },
        separators=(",", ":"),
    )


LINES = [
    line("msg_vrtx_01A", "claude-opus-4-5@20251101", 0, inp=1000, out=100),  # Vertex's model id
    line("msg_vrtx_01B", SONNET, 1, inp=2000, out=200),  # Vertex's message id
    line("msg_01C", SONNET, 2, inp=3000, out=300, metadata={"provider": "vertexai", "region": "us-east5"}),
    line("msg_bdrk_01D", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", 3, inp=4000, out=400),  # Bedrock id
    line("msg_bdrk_01E", SONNET, 4, inp=5000, out=500),  # Bedrock's message id
    line("msg_01F", SONNET, 5, inp=6000, out=600),  # Anthropic's own API
    line("msg_01G", SONNET, 6, inp=7, out=0).replace('"id":"msg_01G",', ""),  # no message id: not a cloud call
]


@pytest.fixture(params=["orjson", "msgspec"])
def decoder(request: pytest.FixtureRequest) -> Any:
    if request.param == "msgspec":
        assert _fast.activate({})
    yield request.param
    _fast.deactivate()


def test_routes_reports_and_prices(store: Store, tmp_path: Path, decoder: str) -> None:
    folder = tmp_path / ".claude" / "projects" / "-p"
    folder.mkdir(parents=True)
    (folder / "s.jsonl").write_text("\n".join(LINES) + "\n")
    refresh_index(store, {"HOME": str(tmp_path)}, agents=["claude"])
    with store.transaction(write=False) as conn:
        models = sorted(m for (m,) in conn.execute("SELECT model FROM log_entries").fetchall())
    assert models == sorted(
        [
            "claude-opus-4-5@20251101",
            f"vertexai/{SONNET}",
            f"vertexai/{SONNET}",
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            f"bedrock/{SONNET}",
            SONNET,
            SONNET,
        ]
    )
    data = period_report(store, Filters(by="agent"), "daily")
    (day,) = data["daily"]
    assert day["metadata"] == {"agents": ["bedrock", "claude", "vertexai"]}
    by_agent = {b["agent"]: b for b in day["agentBreakdowns"]}
    assert {a: (b["inputTokens"], b["outputTokens"]) for a, b in by_agent.items()} == {
        "vertexai": (6000, 600),
        "bedrock": (9000, 900),
        "claude": (6007, 600),
    }
    # Bedrock's regional list price for Sonnet 4.5 is $3.30/$16.50 per MTok (Anthropic's $3/$15).
    assert by_agent["bedrock"]["totalCost"] == pytest.approx(9000 * 3.3e-6 + 900 * 16.5e-6)
    assert by_agent["claude"]["totalCost"] == pytest.approx(6007 * 3e-6 + 600 * 15e-6)
    vertex = [pricing.resolve("claude-opus-4-5@20251101", "google"), pricing.resolve(f"vertexai/{SONNET}", "google")]
    assert all(v is not None for v in vertex)
    want = pricing.cost(vertex[0], 0, 1000, 100, 0, 0, 0) + pricing.cost(vertex[1], 0, 5000, 500, 0, 0, 0)  # type: ignore[operator]
    assert by_agent["vertexai"]["totalCost"] == pytest.approx(want)
    with store.transaction(write=False) as conn:
        cached = {(p, m) for p, m in conn.execute("SELECT provider, model FROM log_prices").fetchall()}
    assert {("google", "claude-opus-4-5@20251101"), ("aws", f"bedrock/{SONNET}"), ("anthropic", SONNET)} <= cached
    only = period_report(store, Filters(agents=("vertexai", "bedrock")), "daily")
    assert only["totals"]["inputTokens"] == 15000 and only["daily"][0]["metadata"]["agents"] == ["bedrock", "vertexai"]
    claude_only = period_report(store, Filters(agents=("claude",)), "daily")
    assert claude_only["totals"]["inputTokens"] == 6007


def test_route_rules() -> None:
    assert pricing.route("claude", "claude-opus-4-5@20251101") == "vertexai"
    assert pricing.route("claude", "anthropic.claude-3-5-haiku-20241022-v1:0") == "bedrock"
    assert pricing.route("claude", "global.anthropic.claude-opus-4-5-20251101-v1:0") == "bedrock"
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert pricing.route("claude", arn) == "bedrock" and pricing.price_provider("claude", arn) == "aws"
    assert pricing.route("claude", SONNET) == "claude"
    assert pricing.route("opencode", "claude-opus-4-5@20251101") == "opencode"  # only Claude Code's entries
    assert pricing.resolve(arn, "aws") is not None

"""The seeds' own client logic, run in Node (tests/seed_clients/) against a real server: aimo's
pick-the-provider-with-most-headroom snippet (seed 003) and what seed 000's page reads from
``/api/data`` and ``GET /api/refresh``. First on seeded states (``seed_views.states``), then end to
end against the simulator, where the providers' own parsers fill what the views read.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentgauge.models import utc_iso

from .harness_web import ServerInfo, running_server
from .seed_views import Seeded, seeded_server, settled

CLIENTS = Path(__file__).resolve().parent / "seed_clients"
NODE = shutil.which("node") or "/usr/bin/node"


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    with seeded_server() as s:
        yield s


# -- the seeds' own client logic, in Node -----------------------------------------------------------
def node(script: str, *args: str) -> str:
    result = subprocess.run([NODE, str(CLIENTS / script), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def headroom_pick(snapshot: dict[str, Any]) -> str:
    """Seed 003's rule in Python, on the plain snapshot (whose windows are already settled): among
    the ok accounts, the most room left on the tightest window."""
    ok = [p for p in snapshot["providers"] if p["status"] == "ok" and p["windows"]]
    room = [(100 - max(w["used_pct"] for w in p["windows"]), p["provider"]) for p in ok]
    best, provider = max(room, key=lambda r: r[0])  # the first of equals, like a stable sort
    return f"Dispatch to {provider} — {best:.1f}% headroom on its tightest window"


def test_aimo_headroom_snippet_runs_against_the_server(seeded: Seeded) -> None:
    seeded.post("/api/refresh", params={"wait": "75"})  # accounts the store was not seeded with are fetched
    expected = headroom_pick(seeded.get("/api/usage").json())
    assert node("aimo_pick_provider.mjs", seeded.info.url + "/api/usage?format=aimo") == expected
    assert node("aimo_pick_provider.mjs", seeded.info.url + "/api/refresh?wait=75&format=aimo", "POST") == expected


def test_headroom_counts_a_passed_reset_as_zero(seeded: Seeded) -> None:
    """Ollama's 97 % weekly has reset: aimo's agents see 0 %, so its 5.25 % session is the tightest."""
    ollama = next(e for e in seeded.get("/api/usage", params={"format": "aimo"}).json() if e["provider"] == "ollama")
    assert max(w["used_pct"] for w in ollama["windows"]) == 5.25


def countdown(seconds: int) -> str:
    if seconds <= 0:
        return ""
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    return f"↻ in {hours}h {minutes}m" if hours else f"↻ in {minutes}m"


def expected_page(seeded: Seeded) -> dict[str, Any]:
    """What seed 000's page shows for the seeded states at ``seeded.now`` (its four agents)."""
    s = seeded.states
    cards: dict[str, Any] = {}
    sessions: list[float] = []
    weeklies: list[float] = []
    for agent, status in (("codex", "ok"), ("kimi", "ok"), ("claude", "ok"), ("zai", "stale")):
        state = s[agent]
        card: dict[str, Any] = {"status": status, "plan": state.plan or "?"}
        for name in ("session", "weekly"):
            w = state.window(name)
            assert w is not None and w.resets_at is not None
            pct = settled(w, seeded.now)[0]
            left = max(0, int((w.resets_at - seeded.now).total_seconds()))
            card[name] = {"pct": math.floor(pct * 10 + 0.5) / 10, "reset": countdown(left)}
            (sessions if name == "session" else weeklies).append(pct)
        cards[agent] = card
    assert s["zai"].error is not None
    cards["zai"]["stale"] = f"Data may be stale: {s['zai'].error.message}"
    cards["codex"]["footer"] = "⬡ 125.5 credits"
    cards["kimi"]["footer"] = "⬡ 291 / 2048 weekly requests"
    cards["claude"]["footer"] = "⬡ Sonnet 45% · Opus 12%"
    cards["zai"]["footer"] = "⬡ Tools (MCP, monthly): 47/1000 · Web search: 40/ · web-reader: 7/500"
    days = sorted(s["codex"].breakdowns[0].items, key=lambda item: item.key)[-14:]
    js_round = lambda x: math.floor(x + 0.5)  # noqa: E731 - Math.round, not banker's rounding
    return {
        "cards": cards,
        "sessionAvg": js_round(sum(sessions) / len(sessions)),
        "weeklyAvg": js_round(sum(weeklies) / len(weeklies)),
        "connected": 3,
        "chart": [{"day": d.key, "value": d.value} for d in days],
    }


@pytest.mark.parametrize("path", ["/api/data", "/api/refresh"])
def test_seed_page_reads_everything_it_shows(seeded: Seeded, path: str) -> None:
    now_ms = str(int(seeded.now.timestamp() * 1000))
    shown = json.loads(node("dashboard_reads.mjs", seeded.info.url + path, now_ms))
    poll = shown.pop("pollDelay")
    last_fetch = shown.pop("lastFetch")
    assert shown == expected_page(seeded)
    newest = max(p.fetched_at for p in seeded.states.values() if p.fetched_at)
    assert last_fetch >= utc_iso(newest)  # the newest fetch of any account (the simulator's may be newer)
    assert 10_000 <= poll <= 300_000


# -- end to end against the simulator ------------------------------------------------------------
@pytest.fixture(scope="module")
def demo() -> Iterator[ServerInfo]:
    with running_server(demo=True, history_days=0) as info:
        httpx.post(info.url + "/api/refresh?wait=75", timeout=90)  # every account fetched once
        yield info


def test_views_end_to_end_on_the_simulator(demo: ServerInfo) -> None:
    snapshot = httpx.get(demo.url + "/api/usage", timeout=30).json()
    by_key = {(p["provider"], p["account"]): p for p in snapshot["providers"]}
    data = httpx.get(demo.url + "/api/data", timeout=30).json()
    assert all(data[k]["status"] == "ok" for k in ("claude", "codex", "kimi", "zai", "ollama"))
    claude = {w["id"]: w for w in by_key[("claude", "default")]["windows"]}
    models = {f: claude[f"weekly_{f}"]["used_pct"] if f"weekly_{f}" in claude else None for f in ("sonnet", "opus")}
    assert data["claude"]["models"] == models and models["sonnet"] is not None
    kimi_weekly = next(w for w in by_key[("kimi", "default")]["windows"] if w["id"] == "weekly")
    assert data["kimi"]["weekly"]["used"] == kimi_weekly["used"] and data["kimi"]["weekly"]["limit"] == 2048
    codex = by_key[("codex", "default")]
    credits = next(b for b in codex["balances"] if b["id"] == "credits")
    assert data["codex"]["credits"]["balance"] == credits["remaining"] and data["codex"]["credits"]["has_credits"]
    daily = next(b for b in codex["breakdowns"] if b["id"] == "daily_tokens")
    assert data["codex"]["daily_breakdown"] == [
        {"date": i["key"], "value": i["value"]} for i in sorted(daily["items"], key=lambda i: i["key"])[-14:]
    ]
    tools = next(b for b in by_key[("zai", "default")]["breakdowns"] if b["id"] == "tools")
    names = [row["name"] for row in data["zai"]["limits_detail"]]
    assert tools["items"] and all((i["label"] or i["key"]) in names for i in tools["items"])


def test_aimo_snippet_end_to_end_on_the_simulator(demo: ServerInfo) -> None:
    body = httpx.get(demo.url + "/api/usage?format=aimo", timeout=30).json()
    ok = [a for a in body if a["ok"] and a["windows"]]
    assert {a["provider"] for a in ok} >= {"claude", "codex", "kimi", "zai", "ollama"}
    room = [(a["provider"], 100 - max(w["used_pct"] for w in a["windows"])) for a in ok]
    best = max(r for _, r in room)
    line = node("aimo_pick_provider.mjs", demo.url + "/api/usage?format=aimo")
    picked = line.removeprefix("Dispatch to ").split(" — ")[0]
    assert (picked, best) in room and line.endswith(f"{best:.1f}% headroom on its tightest window")

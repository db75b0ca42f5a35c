"""The seed views real clients read, over real HTTP against the real server: seed 000's ``/api/data``
(and ``GET /api/refresh``), seed 003's aimo array (``?format=aimo``), ``wait`` clamping, and the
OpenAPI schemas of both. The store is seeded with ``seed_views.states(now)``; expectations are
derived from those objects. tests/test_seed_clients.py runs the seeds' own client logic in Node.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import jsonschema_rs  # schemathesis's validator, already in the test tooling
import pytest

from agentgauge.models import ProviderSnapshot, Status, Window, utc_iso

from .seed_views import Seeded, json_key, seeded_server, settled


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    with seeded_server() as s:
        yield s


def test_server_shows_the_seeded_states(seeded: Seeded) -> None:
    """Guards the rest: had the scheduler refetched, they would be testing the simulator."""
    body = seeded.get("/api/usage").json()
    assert body["schema"] == "agentgauge.snapshot.v2"  # the plain snapshot contract is unchanged
    shown = {json_key(p): p for p in body["providers"]}
    assert set(shown) >= set(seeded.states)  # providers added later are fetched from the simulator
    for key, state in seeded.states.items():
        assert shown[key]["fetched_at"] == utc_iso(state.fetched_at), key


# -- seed 000: /api/data -------------------------------------------------------------------------
def check_seed_window(got: dict[str, Any], w: Window, seeded: Seeded, asked_at: datetime) -> None:
    pct, used = settled(w, seeded.now)
    assert got["usage_pct"] == pct and got["reset_at"] == utc_iso(w.resets_at)
    assert w.resets_at is not None
    # remaining_seconds is counted from the server's clock at the request, which lies between
    # the test's `now` and the moment the answer was asked for
    latest = max(0, int((w.resets_at - seeded.now).total_seconds()))
    earliest = max(0, int((w.resets_at - asked_at).total_seconds()) - 1)
    assert earliest <= got["remaining_seconds"] <= latest
    if w.used is not None:
        assert got["used"] == used and got["limit"] == w.limit
    else:
        assert "used" not in got and "limit" not in got


def test_data_keeps_the_seed_fields_and_adds_what_its_page_reads(seeded: Seeded) -> None:
    data = seeded.get("/api/data").json()
    asked_at = datetime.now(UTC)
    assert set(data) >= {*seeded.states, "last_fetch", "next_refresh_at"}
    expected_status = {"codex:work": "offline", "zai": "stale"}
    for key, state in seeded.states.items():
        entry = data[key]
        assert entry["status"] == expected_status.get(key, "ok"), key
        assert entry["plan"] == state.plan and entry["last_success"] == utc_iso(state.last_success_at)
        assert entry["error"] == (state.error.message if state.error else None)
        for name in ("session", "weekly"):
            window = state.window(name)
            if window is None:
                assert name not in entry
            else:
                check_seed_window(entry[name], window, seeded, asked_at)
    assert data["kimi"]["weekly"]["used"] == 291 and data["kimi"]["weekly"]["limit"] == 2048
    assert data["ollama"]["weekly"]["usage_pct"] == 0 and data["ollama"]["weekly"]["remaining_seconds"] == 0


def test_data_extras_come_from_their_windows_balances_and_breakdowns(seeded: Seeded) -> None:
    data = seeded.get("/api/data").json()
    claude, codex, zai = seeded.states["claude"], seeded.states["codex"], seeded.states["zai"]
    opus, sonnet = claude.window("weekly_opus"), claude.window("weekly_sonnet")
    assert opus is not None and sonnet is not None
    assert data["claude"]["models"] == {"sonnet": sonnet.used_pct, "opus": opus.used_pct}
    credits = codex.balances[0]
    assert data["codex"]["credits"] == {"balance": credits.remaining, "has_credits": True, "unlimited": False}
    days = sorted(codex.breakdowns[0].items, key=lambda item: item.key)[-14:]
    assert data["codex"]["daily_breakdown"] == [{"date": d.key, "value": d.value} for d in days]
    assert len(data["codex"]["daily_breakdown"]) == 14
    tools = zai.breakdowns[0].items
    assert data["zai"]["limits_detail"] == [
        {"name": w.label, "used": w.used, "total": w.limit} for w in zai.windows if w.used is not None
    ] + [{"name": item.label or item.key, "used": item.value, "total": item.limit} for item in tools]
    # extras only where the account has what they are read from
    for key in ("kimi", "ollama", "codex:work"):
        assert not {"models", "credits", "daily_breakdown"} & set(data[key]), key
    assert "limits_detail" not in data["ollama"] and "models" not in data["codex"]


def test_get_refresh_answers_the_data_shape_and_post_the_snapshot(seeded: Seeded) -> None:
    got = seeded.get("/api/refresh")
    assert got.status_code == 200 and got.headers["x-agentgauge-wait"] == "75"
    data = got.json()
    assert set(data) >= {*seeded.states, "last_fetch", "next_refresh_at"}
    assert data["kimi"]["weekly"]["used"] == 291 and data["claude"]["models"]["sonnet"] == 45
    posted = seeded.post("/api/refresh")
    assert posted.status_code == 202 and posted.json()["schema"] == "agentgauge.snapshot.v2"
    as_data = seeded.post("/api/refresh", params={"format": "data", "provider": "codex"}).json()
    assert set(as_data) == {"codex", "codex:work", "last_fetch", "next_refresh_at"}
    assert isinstance(seeded.get("/api/refresh", params={"format": "aimo", "wait": "0"}).json(), list)
    assert seeded.get("/api/refresh", params={"format": "snapshot"}).json()["schema"] == "agentgauge.snapshot.v2"


# -- seed 003: aimo's array ----------------------------------------------------------------------
def expected_aimo(state: ProviderSnapshot, now: datetime) -> dict[str, Any]:
    windows = []
    for w in state.windows:
        pct, used = settled(w, now)
        row: dict[str, Any] = {"id": w.id, "label": w.label, "used_pct": pct, "resets_at": utc_iso(w.resets_at)}
        if used is not None:
            row["usage"] = used
            if w.limit is not None:
                row["remaining"] = w.limit - used
        windows.append(row)
    return {
        "provider": state.provider,
        "account": state.account,
        "ok": state.status == Status.OK,
        "plan": state.plan,
        "error": state.error.message if state.error else None,
        "windows": windows,
        "_source": "cache" if state.status == Status.STALE else "server",
        "_received_at": utc_iso(state.last_success_at),
    }


def test_aimo_view_of_usage(seeded: Seeded) -> None:
    body = seeded.get("/api/usage", params={"format": "aimo"}).json()
    assert isinstance(body, list)
    got = {json_key(e): e for e in body}
    assert set(got) >= set(seeded.states)
    for key, state in seeded.states.items():
        assert got[key] == expected_aimo(state, seeded.now), key
    assert got["zai"]["windows"][2]["usage"] == 47 and got["zai"]["windows"][2]["remaining"] == 953
    one = seeded.get("/api/usage/kimi", params={"format": "aimo"}).json()
    assert [e["provider"] for e in one] == ["kimi"]
    aimo_refresh = seeded.post("/api/refresh", params={"format": "aimo", "wait": "5"})
    assert aimo_refresh.status_code == 200 and aimo_refresh.json() == body


@pytest.mark.parametrize("path", ["/api/usage", "/api/usage/kimi", "/api/refresh"])
def test_unknown_format_is_a_bad_request(seeded: Seeded, path: str) -> None:
    response = seeded.get(path, params={"format": "csv"})
    assert response.status_code == 400 and "format" in response.json()["error"]


@pytest.mark.parametrize(
    ("wait", "status", "effective"),
    [("500", 200, "75"), ("inf", 200, "75"), ("75", 200, "75"), ("2.5", 200, "2.5"), ("-3", 202, "0"), ("0", 202, "0")],
)
def test_refresh_wait_is_clamped(seeded: Seeded, wait: str, status: int, effective: str) -> None:
    response = seeded.post("/api/refresh", params={"wait": wait, "provider": "kimi"})
    assert response.status_code == status and response.headers["x-agentgauge-wait"] == effective


@pytest.mark.parametrize("wait", ["abc", "nan", "1e", "5s"])
def test_refresh_wait_that_is_not_a_number_is_a_bad_request(seeded: Seeded, wait: str) -> None:
    for method in ("GET", "POST"):
        response = httpx.request(method, seeded.info.url + "/api/refresh", params={"wait": wait}, timeout=30)
        assert response.status_code == 400 and "wait" in response.json()["error"], method


# -- the OpenAPI document describes what is served ----------------------------------------------
def as_json_schema(node_: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema's null type, so jsonschema can check responses."""
    if isinstance(node_, dict):
        out = {k: as_json_schema(v) for k, v in node_.items() if k != "nullable"}
        if node_.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(node_, list):
        return [as_json_schema(v) for v in node_]
    return node_


def test_openapi_describes_both_views(seeded: Seeded) -> None:
    spec = seeded.get("/api/openapi.json").json()
    assert {"get", "post"} <= set(spec["paths"]["/api/refresh"])
    for path in ("/api/usage", "/api/usage/{provider}"):
        names = {p["name"] for p in spec["paths"][path]["get"]["parameters"]}
        assert "format" in names, path
    schemas = as_json_schema(copy.deepcopy(spec["components"]["schemas"]))
    for name, path in (("SeedData", "/api/data"), ("AimoUsage", "/api/usage?format=aimo")):
        schema = {**schemas[name], "components": {"schemas": schemas}}
        body = seeded.get(path).json()
        jsonschema_rs.validate(schema, body)
        # the check can fail: a status the seed does not know is refused
        if name == "SeedData":
            body["kimi"]["status"] = "unconfigured"
            assert not jsonschema_rs.is_valid(schema, body)

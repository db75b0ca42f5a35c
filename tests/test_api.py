from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness_web import ServerInfo, running_server
from tests.simlog import Mark


@pytest.fixture(scope="module")
def server() -> Iterator[ServerInfo]:
    with running_server(history_days=3) as info:
        yield info


def get(server: ServerInfo, path: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.get(server.url + path, timeout=30, **kw)


def test_usage_and_provider_views(server):
    usage = get(server, "/api/usage")
    assert usage.status_code == 200 and usage.headers["cache-control"] == "no-store"
    data = usage.json()
    assert data["schema"] == "agentgauge.snapshot.v2"
    assert {p["provider"] for p in data["providers"]} >= {"zai", "kimi", "ollama"}
    one = get(server, "/api/usage/zai").json()
    assert [p["provider"] for p in one["providers"]] == ["zai"]
    assert get(server, "/api/usage/nope").status_code == 404
    assert get(server, "/index.json").json()["schema"] == data["schema"]  # the page's JSON twin


def test_ping_health_config_data_openapi(server):
    assert get(server, "/api/ping").json()["ok"] is True
    health = get(server, "/api/health").json()
    assert health["status"] == "ok" and all(a["status"] == "ok" for a in health["accounts"])
    config = get(server, "/api/config").json()
    assert config["thresholds"] == {"warn": 40.0, "crit": 70.0} and config["demo"] is True
    seed = get(server, "/api/data").json()
    # seed 000's contract: provider keys with session/weekly {usage_pct, remaining_seconds}
    assert seed["zai"]["status"] == "ok"
    assert set(seed["zai"]["session"]) >= {"usage_pct", "remaining_seconds", "reset_at"}
    assert "weekly" in seed["zai"] and seed["last_fetch"].endswith("Z") and seed["next_refresh_at"]
    assert "codex:work" in seed
    spec = get(server, "/api/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/api/history" in spec["paths"]


def test_page_is_served_with_trailing_slash(server):
    page = get(server, "/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]


def test_refresh_long_poll_returns_fresh_data(server):
    before = {(p["provider"], p["account"]): p for p in get(server, "/api/usage").json()["providers"]}
    server.advance(7200)  # usage moves and the provider's minimum interval has passed
    r = httpx.post(server.url + "/api/refresh?provider=zai&wait=75", timeout=90)
    assert r.status_code == 200 and r.headers["x-agentgauge-fresh"] == "true"
    after = r.json()["providers"]
    assert [p["provider"] for p in after] == ["zai"]
    assert after[0]["fetched_at"] > before[("zai", "default")]["fetched_at"]
    assert after[0]["windows"] != before[("zai", "default")]["windows"]


def test_refresh_is_gated_per_account(server):
    httpx.post(server.url + "/api/refresh?provider=kimi&wait=30", timeout=60)
    mark = Mark(server.sim)  # the log keeps the last 1000 requests: counts over all of it drift
    for _ in range(5):
        assert httpx.post(server.url + "/api/refresh?provider=kimi&wait=5", timeout=60).status_code == 200
    assert mark.paths("/kimi/") == [], "a script hammering refresh must not reach the provider"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?wait=nan", 400),  # out-of-range numbers are clamped (tests/test_api_views.py); not a number is refused
        ("?wait=abc", 400),
        ("?provider=nope", 404),
        ("?provider=zai&account=nope", 404),
    ],
)
def test_refresh_rejects_bad_parameters(server, query, status):
    assert httpx.post(server.url + "/api/refresh" + query, timeout=30).status_code == status


def test_history_downsampling_and_resolution(server):
    three_hours = get(server, "/api/history", params={"provider": "zai", "since": _ago(3 * 3600)}).json()
    assert three_hours["resolution"] == "raw"
    month = get(server, "/api/history", params={"provider": "zai", "since": _ago(30 * 86400), "points": 10}).json()
    assert month["resolution"] == "hourly"
    windows = {s["window"] for s in month["series"]}
    assert {"session", "weekly"} <= windows
    for series in month["series"]:
        assert 0 < len(series["t"]) <= 10 and len(series["t"]) == len(series["used_pct"])
        assert series["t"] == sorted(series["t"])
    full = get(
        server,
        "/api/history",
        params={"provider": "zai", "window": "session", "since": _ago(30 * 86400), "points": 5000},
    ).json()
    assert len(full["series"]) == 1 and len(full["series"][0]["t"]) > 10
    # the downsampled series keeps the peak of what it summarises (same range, same resolution)
    month_session = next(s for s in month["series"] if s["window"] == "session")
    assert full["resolution"] == month["resolution"]
    assert max(month_session["used_pct"]) == pytest.approx(max(full["series"][0]["used_pct"]))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"provider": "zai", "points": "1"},
        {"provider": "zai", "points": "x"},
        {"provider": "zai", "since": "yesterday"},
        {"provider": "zai", "since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"},
    ],
)
def test_history_rejects_bad_parameters(server, params):
    assert get(server, "/api/history", params=params).status_code == 400


def test_history_unknown_account(server):
    assert get(server, "/api/history", params={"provider": "zai", "account": "nope"}).status_code == 404


def test_events_stream_snapshot_then_changes(server):
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", server.url + "/api/events", timeout=60) as response:
            event = None
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event:
                    seen.append((event, line[5:].strip()))
                    if event == "account":
                        done.set()
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    server.advance(3 * 3600)
    for _ in range(3):
        httpx.post(server.url + "/api/refresh?provider=ollama&wait=75", timeout=90)
        if done.wait(5):
            break
    assert seen and seen[0][0] == "snapshot"
    assert json.loads(seen[0][1])["schema"] == "agentgauge.snapshot.v2"
    assert done.is_set(), "a change must arrive as an account event"
    assert json.loads(seen[-1][1])["provider"]


def test_host_check_blocks_dns_rebinding(server):
    assert httpx.get(server.url + "/api/usage", headers={"Host": "evil.example"}).status_code == 421
    assert httpx.get(server.url + "/api/usage", headers={"Host": "localhost:1234"}).status_code == 200


def _ago(seconds: int) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()


def test_token_rule_and_login_cookie():
    with running_server(token="t0ken-xyz", history_days=0, bind_host="0.0.0.0") as info:
        assert httpx.get(info.url + "/api/usage").status_code == 401
        assert httpx.get(info.url + "/api/usage", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(info.url + "/api/usage?token=t0ken-xyz").status_code == 401  # never from a query
        ok = httpx.get(info.url + "/api/usage", headers={"Authorization": "Bearer t0ken-xyz"})
        assert ok.status_code == 200
        assert httpx.get(info.url + "/api/ping").status_code == 200  # liveness stays open
        page = httpx.get(info.url + "/")
        assert page.status_code == 303 and page.headers["location"].endswith("/login")
        # wildcard bind: IP literals are fine, other names are not
        assert httpx.get(info.url + "/api/ping", headers={"Host": "192.168.1.20:8777"}).status_code == 200
        assert httpx.get(info.url + "/api/ping", headers={"Host": "rebind.example"}).status_code == 421
        client = httpx.Client(base_url=info.url)
        assert client.post("/login", data={"token": "nope"}).status_code == 401
        login = client.post("/login", data={"token": "t0ken-xyz"})
        assert login.status_code == 303
        assert "t0ken-xyz" not in login.headers.get("set-cookie", "")
        assert client.get("/api/usage").status_code == 200  # the cookie now authorizes


def test_serve_refuses_off_loopback_without_token(tmp_path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "agentgauge", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "AGENTGAUGE_DATABASE_URL": str(tmp_path / "x.db")},
    )
    assert result.returncode == 2
    assert "without an access token" in result.stderr and "Traceback" not in result.stderr


def test_sub_path_hosting():
    with running_server(root_path="/gauge", history_days=0) as info:
        assert info.url.endswith("/gauge")
        assert httpx.get(info.url + "/api/usage").status_code == 200
        assert httpx.get(info.url + "/", follow_redirects=False).status_code == 200
        redirect = httpx.get(info.url, follow_redirects=False)
        assert redirect.status_code in (307, 308) and redirect.headers["location"].endswith("/gauge/")


def test_schemathesis_finds_no_server_error(server):
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            server.url + "/api/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "25",
            "--exclude-path",
            "/api/events",
            "--exclude-path",
            "/api/refresh",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_schemathesis_on_refresh(server):
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("st")),
            "run",
            server.url + "/api/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "8",
            "--include-path",
            "/api/refresh",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]

"""`agentgauge pick` and `GET /api/pick`: one ranking (query.agents.pick_report) from a real serve and a real
CLI process over the same store; stale and failing accounts excluded unless asked, forecasts with --hours,
parameter errors, and the OpenAPI entry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from agentgauge.models import ErrorInfo, ErrorKind, Forecast, ProviderSnapshot, Status, Window
from tests.harness_web import ServerInfo, running_server

H = timedelta(hours=1)
NOW = datetime.now(UTC).replace(microsecond=0)


def acct(provider: str, *pcts: float, status: Status = Status.OK, runs_out_in: float | None = None) -> ProviderSnapshot:
    windows = []
    for i, pct in enumerate(pcts):
        forecast = None
        if runs_out_in is not None and i == 0:
            forecast = Forecast(verdict="will_run_out", pace_pct=30, made_at=NOW, runs_out_at=NOW + runs_out_in * H)
        wid, label, reset = (("session", "Session (5h)", 3 * H), ("weekly", "Weekly", 70 * H))[i]
        windows.append(Window(id=wid, label=label, used_pct=pct, resets_at=NOW + reset, forecast=forecast))
    error = (
        None
        if status == Status.OK
        else ErrorInfo(kind=ErrorKind.AUTH, message=f"{provider}: token expired", hint="log in")
    )
    return ProviderSnapshot(
        provider=provider,
        name=provider.title(),
        status=status,
        windows=tuple(windows) if status != Status.ERROR else (),
        fetched_at=NOW,
        last_success_at=NOW if status != Status.ERROR else None,
        error=error,
    )


SEED = [
    acct("claude", 20, 70, runs_out_in=2),
    acct("codex", 40, 45),
    acct("zai", 5, 15, status=Status.STALE),
    acct("kimi", status=Status.ERROR),
]


MINE = "provider=claude&provider=codex&provider=zai&provider=kimi"  # the demo's other providers are left out
CLI_MINE = ("--provider", "claude", "--provider", "codex", "--provider", "zai", "--provider", "kimi")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerInfo]:
    # Demo accounts have credentials, so the seeded states sit behind closed gates and stay as seeded.
    with running_server(history_days=0, seed=SEED) as info:
        yield info


def cli(info: ServerInfo, *args: str) -> subprocess.CompletedProcess[str]:
    config = info.app.state.server.config
    env = {**os.environ, "AGENTGAUGE_DATABASE_URL": str(config.database_url), "AGENTGAUGE_CONFIG": os.devnull}
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", "pick", *args], capture_output=True, text=True, env=env, timeout=120
    )


def who(rows: list[dict]) -> list[str]:
    """The seeded default accounts among ``rows`` (the demo adds named accounts, e.g. codex/work)."""
    return [r["provider"] for r in rows if r["account"] == "default"]


def test_api_ranks_by_headroom_and_names_what_it_left_out(server: ServerInfo):
    data = httpx.get(f"{server.url}/api/pick?{MINE}").json()
    assert who(data["ranked"]) == ["codex", "claude"]
    assert data["choice"]["provider"] == "codex" and data["choice"]["headroom_pct"] == 55.0
    assert data["choice"]["window"] == "weekly"
    excluded = {r["provider"]: r["reason"] for r in data["excluded"]}
    assert excluded["zai"].startswith("stale") and excluded["kimi"] == "kimi: token expired"
    assert who(httpx.get(f"{server.url}/api/pick?{MINE}&include_stale=true").json()["ranked"]) == [
        "codex",
        "claude",
        "zai",
    ]
    only = httpx.get(f"{server.url}/api/pick", params=[("provider", "claude"), ("provider", "zai")]).json()
    assert who(only["ranked"]) == ["claude"] and who(only["excluded"]) == ["zai"]


def test_hours_puts_accounts_that_run_out_last(server: ServerInfo):
    data = httpx.get(f"{server.url}/api/pick?{MINE}&hours=1").json()
    assert [(r["provider"], r["lasts"]) for r in data["ranked"] if r["account"] == "default"] == [
        ("codex", True),
        ("claude", True),
    ]
    data = httpx.get(f"{server.url}/api/pick?{MINE}&hours=4").json()
    assert [(r["provider"], r["lasts"]) for r in data["ranked"] if r["account"] == "default"] == [
        ("codex", True),
        ("claude", False),
    ]
    assert data["hours"] == 4.0


@pytest.mark.parametrize(
    ("query", "status"),
    [("hours=abc", 400), ("hours=0", 400), ("hours=nan", 400), ("include_stale=maybe", 400), ("provider=nosuch", 404)],
)
def test_bad_parameters(server: ServerInfo, query: str, status: int):
    response = httpx.get(f"{server.url}/api/pick?{query}")
    assert response.status_code == status
    assert "error" in response.json()


def stored_everything(server: ServerInfo) -> None:
    """Wait until the server has fetched (and so stored) every account of MINE: the CLI reads the store,
    while the API also lists an account the scheduler has not fetched yet (the demo's codex/work)."""
    wanted = set(MINE.replace("provider=", "").split("&"))
    deadline = time.monotonic() + 120
    while True:
        rows = [p for p in httpx.get(f"{server.url}/api/usage").json()["providers"] if p["provider"] in wanted]
        if all(p.get("fetched_at") for p in rows):
            return
        assert time.monotonic() < deadline, [p["account"] for p in rows if not p.get("fetched_at")]
        time.sleep(0.2)


def test_cli_gives_the_same_answer_as_the_api(server: ServerInfo):
    stored_everything(server)
    for args, query in (((), ""), (("--include-stale",), "&include_stale=1"), (("--hours", "4"), "&hours=4")):
        done = cli(server, "--json", *CLI_MINE, *args)
        assert done.returncode == 0, done.stderr
        mine, theirs = json.loads(done.stdout), httpx.get(f"{server.url}/api/pick?{MINE}{query}").json()
        for report in (mine, theirs):
            report.pop("generated_at")
        assert mine == theirs


def test_cli_table_and_exit_codes(server: ServerInfo):
    done = cli(server, *CLI_MINE)
    assert done.returncode == 0
    lines = [line for line in done.stdout.splitlines() if not line.startswith("codex/")]
    assert lines[0].split()[:3] == ["codex", "55.0", "%"] and lines[1].startswith("claude")
    assert "skipped zai/default: stale" in done.stderr
    with_hours = [line for line in cli(server, *CLI_MINE, "--hours", "4").stdout.splitlines() if "/" not in line[:8]]
    assert with_hours[1].startswith("claude") and with_hours[1].endswith("(will not last 4 h)")
    nothing = cli(server, "--provider", "kimi")
    assert nothing.returncode == 69 and nothing.stdout == ""
    assert cli(server, "--provider", "nosuch").returncode == 2


def test_openapi_documents_pick(server: ServerInfo):
    doc = httpx.get(f"{server.url}/api/openapi.json").json()
    op = doc["paths"]["/api/pick"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"provider", "hours", "include_stale"}
    assert set(op["responses"]) == {"200", "400", "404"}

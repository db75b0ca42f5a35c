"""`agentgauge guard` as a real process: CodexBar's exit codes (0 safe, 1 below, 69 unavailable, --fail-open),
read from the stored snapshot without an upstream request, --refresh through the engine's gates against the
simulator, --max-age, windows, and the lean stored view matching the snapshot models on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agentgauge.models import ErrorInfo, ErrorKind, Forecast, ProviderSnapshot, Snapshot, Status, Window
from agentgauge.query import Query
from agentgauge.query.agents import guard, pick
from agentgauge.query.stored import read
from agentgauge.store import Store, open_store
from tests.harness import sim_settings
from tests.simlog import Mark

H = timedelta(hours=1)


def account(
    provider: str,
    *windows: tuple[str, float],
    now: datetime,
    status: Status = Status.OK,
    age: timedelta = timedelta(0),
    name: str = "default",
) -> ProviderSnapshot:
    """An account whose windows reset 2 h (session) and 3 days (weekly) after ``now``."""
    resets = {"session": now + 2 * H, "weekly": now + 72 * H}
    error = None if status == Status.OK else ErrorInfo(kind=ErrorKind.NETWORK, message="connect failed", hint="later")
    return ProviderSnapshot(
        provider=provider,
        account=name,
        name=provider.title(),
        status=status,
        windows=tuple(
            Window(id=wid, label=wid.title(), used_pct=pct, resets_at=resets.get(wid), window_seconds=18000)
            for wid, pct in windows
        ),
        fetched_at=now - age,
        last_success_at=None if status == Status.ERROR else now - age,
        error=error,
    )


@dataclass
class Env:
    """A config file and a SQLite store of our own, and the environment that points agentgauge at them."""

    tmp: Path
    store: Store
    env: dict[str, str]

    def save(self, *snapshots: ProviderSnapshot, gate: float = 4e9) -> None:
        for snapshot in snapshots:
            self.store.save_state(snapshot, next_allowed_at=gate, failures=0)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentgauge", *args], capture_output=True, text=True, env=self.env, timeout=120
        )


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    config = tmp_path / "config.toml"
    config.write_text("")
    store = open_store(str(tmp_path / "gauge.db"), data_dir=tmp_path)
    environ = {**os.environ, "AGENTGAUGE_CONFIG": str(config), "AGENTGAUGE_DATABASE_URL": str(tmp_path / "gauge.db")}
    yield Env(tmp_path, store, environ)
    store.close()


def test_exit_codes_follow_codexbar(env: Env):
    now = datetime.now(UTC)
    env.save(
        account("claude", ("session", 30.0), ("weekly", 85.0), now=now),
        account("codex", ("session", 20.0), now=now, status=Status.ERROR),
    )
    safe = env.run("guard", "--provider", "claude", "--min-remaining", "15")
    assert safe.returncode == 0, safe.stderr
    assert "15 % left on Weekly" in safe.stdout  # the tightest window decides
    below = env.run("guard", "--provider", "claude", "--min-remaining", "20")
    assert below.returncode == 1
    assert "below 20 %" in below.stdout
    assert env.run("guard", "--provider", "claude", "--min-remaining", "20", "--window", "session").returncode == 0
    failing = env.run("guard", "--provider", "codex", "--min-remaining", "5")
    assert failing.returncode == 69
    assert "connect failed" in failing.stdout
    assert env.run("guard", "--provider", "codex", "--fail-open").returncode == 0
    assert env.run("guard", "--provider", "kimi").returncode == 69  # a known provider with nothing stored


def test_threshold_is_inclusive_and_json_carries_the_decision(env: Env):
    now = datetime.now(UTC)
    env.save(account("claude", ("session", 75.0), now=now))
    done = env.run("guard", "--provider", "claude", "--min-remaining", "25", "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout) == {
        "provider": "claude",
        "account": "default",
        "min_remaining_pct": 25.0,
        "verdict": "safe",
        "exit_code": 0,
        "remaining_pct": 25.0,
        "window": "session",
        "message": "claude/default: 25 % left on Session",
    }


def test_fail_open_says_unavailable_in_json_but_exits_0(env: Env):
    done = env.run("guard", "--provider", "claude", "--fail-open", "--json")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert (data["verdict"], data["exit_code"], data["remaining_pct"]) == ("unavailable", 0, None)
    assert "fail-open" in data["message"]


def test_old_data_and_missing_windows_are_unavailable(env: Env):
    now = datetime.now(UTC)
    env.save(account("claude", ("session", 10.0), now=now, age=timedelta(minutes=90)))
    assert env.run("guard", "--provider", "claude").returncode == 69  # default --max-age 60
    assert env.run("guard", "--provider", "claude", "--max-age", "120").returncode == 0
    missing = env.run("guard", "--provider", "claude", "--max-age", "120", "--window", "weekly")
    assert missing.returncode == 69
    assert "no window 'weekly'" in missing.stdout


def test_a_passed_reset_reads_as_reset_not_as_the_old_number(env: Env):
    now = datetime.now(UTC)
    spent = account("claude", ("session", 100.0), now=now)
    spent = spent.model_copy(update={"windows": (spent.windows[0].model_copy(update={"resets_at": now - H}),)})
    env.save(spent)
    done = env.run("guard", "--provider", "claude", "--min-remaining", "50", "--json")
    assert (done.returncode, json.loads(done.stdout)["remaining_pct"]) == (0, 100.0)


def test_unknown_provider_is_a_usage_error_even_with_fail_open(env: Env):
    done = env.run("guard", "--provider", "claudee", "--fail-open")
    assert done.returncode == 2
    assert "claude" in done.stderr  # the close match is named


def test_named_accounts(env: Env):
    now = datetime.now(UTC)
    env.save(account("codex", ("session", 95.0), now=now), account("codex", ("session", 5.0), now=now, name="work"))
    assert env.run("guard", "--provider", "codex", "--min-remaining", "10").returncode == 1
    assert env.run("guard", "--provider", "codex", "--account", "work", "--min-remaining", "10").returncode == 0


def test_refresh_fetches_through_the_gate(env: Env, sim):
    settings = sim_settings("claude", sim.url)
    env.env["AGENTGAUGE_CONFIG"] = str(env.tmp / "claude.toml")
    Path(env.env["AGENTGAUGE_CONFIG"]).write_text(
        "[providers.claude]\n" + "".join(f'{k} = "{v}"\n' for k, v in settings.items())
    )

    mark = Mark(sim)  # the log keeps its last 1000 requests: counts over all of it drift

    def usage_calls() -> int:
        return len(mark.requests("/claude/api_url"))

    before = 0  # since the mark
    assert env.run("guard", "--provider", "claude").returncode == 69  # nothing stored, and no request made
    assert usage_calls() == before
    fetched = env.run("guard", "--provider", "claude", "--refresh", "--min-remaining", "1", "--json")
    assert fetched.returncode in (0, 1), fetched.stderr
    assert json.loads(fetched.stdout)["verdict"] in ("safe", "below")
    assert usage_calls() == before + 1
    again = env.run("guard", "--provider", "claude", "--refresh", "--min-remaining", "1")
    assert again.returncode in (0, 1)
    assert usage_calls() == before + 1  # inside the minimum interval: the stored answer, no new request
    assert env.run("guard", "--provider", "claude", "--min-remaining", "1").returncode in (0, 1)


def test_stored_view_decides_like_the_snapshot_models(store: Store):
    """The lean reader (no pydantic) and the query layer's snapshot give the same guard and pick answers."""
    now = datetime.now(UTC)
    forecast = Forecast(verdict="will_run_out", pace_pct=40.0, made_at=now, runs_out_at=now + 3 * H)
    claude = account("claude", ("session", 40.0), ("weekly", 70.0), now=now)
    claude = claude.model_copy(
        update={"windows": (claude.windows[0].model_copy(update={"forecast": forecast}), claude.windows[1])}
    )
    rows = [
        claude,
        account("codex", ("session", 10.0), now=now, status=Status.STALE, age=2 * H),
        account("kimi", ("session", 55.0), now=now),
        account("zai", now=now, status=Status.ERROR),
        account("ollama", ("session", 100.0), now=now - 6 * H),  # its reset has passed
    ]
    for row in rows:
        store.save_state(row, next_allowed_at=0, failures=0)
    lean = read(store, now)
    models = Snapshot(generated_at=now, providers=tuple(Query(_config(rows), store, lambda: now).usage().providers))
    assert {p.key for p in lean.providers} == {p.key for p in rows}
    for hours in (None, 1.0, 5.0):
        for stale in (False, True):
            assert [h.to_json() for h in pick(lean, now, hours=hours, include_stale=stale)] == [
                h.to_json() for h in pick(models, now, hours=hours, include_stale=stale)
            ]
    for provider in ("claude", "codex", "kimi", "zai", "ollama", "amp"):
        for window in ("tightest", "session", "weekly"):
            for threshold in (0.0, 30.0, 60.0):
                kwargs = {"min_remaining": threshold, "window": window, "now": now, "max_age": H}
                assert guard(lean, provider, **kwargs).to_json() == guard(models, provider, **kwargs).to_json()


def _config(rows: list[ProviderSnapshot]):  # type: ignore[no-untyped-def]
    from agentgauge.config import AccountConfig, Config

    accounts = tuple(AccountConfig(r.provider, r.account, True, {}, {}, explicit=True) for r in rows)
    return Config(path=None, accounts=accounts)

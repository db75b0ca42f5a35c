"""Spend and budgets from the log index: the daily series against the generator's ground truth, the
month's forecast worked out by hand, the [budgets] settings, and the budget alert rule on a fake
clock through the real alert ledger (both databases)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentgauge.alert_settings import AlertSettings, Rule
from agentgauge.alerts import AlertService, recent
from agentgauge.config import load
from agentgauge.errors import ConfigError
from agentgauge.logs.index import refresh_index
from agentgauge.logs.summary import cost_summary
from agentgauge.query.spend import budget_status, spend_view
from agentgauge.store import Store
from tests.alerting import Clock, config_with
from tests.loggen import Options, generate

SONNET = "claude-sonnet-4-5-20250929"  # $3 per million input tokens below 200k a request: $0.30 a call here


def _call(i: int, when: datetime, inp: int = 100_000) -> str:
    line = {
        "isSidechain": False,
        "type": "assistant",
        "message": {
            "id": f"msg_{i}",
            "model": SONNET,
            "usage": {
                "input_tokens": inp,
                "output_tokens": 0,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        },
        "requestId": f"req_{i}",
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    return json.dumps(line, separators=(",", ":"))


def _write(home: Path, days: list[datetime]) -> dict[str, str]:
    folder = home / ".claude" / "projects" / "p"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "s.jsonl").write_text("".join(_call(i, d) + "\n" for i, d in enumerate(days)))
    return {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / ".claude"), "CODEX_HOME": str(home / ".codex")}


NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)  # 10.5 days left in November


def test_forecast_is_month_to_date_plus_the_last_seven_days_rate(store: Store, tmp_path: Path) -> None:
    calls = [datetime(2025, 10, 31, 23, tzinfo=UTC)]  # last month: in the series, not in the month
    calls += [datetime(2025, 11, 1, 9, tzinfo=UTC)] * 2  # $0.60 early in the month
    calls += [datetime(2025, 11, d, 10, tzinfo=UTC) for d in range(13, 20)]  # $0.30 a day, 7 whole days
    calls += [datetime(2025, 11, 20, 8, tzinfo=UTC)] * 3  # today: $0.90 so far, not in the rate
    env = _write(tmp_path, calls)
    refresh_index(store, env, agents=["claude"])
    (b,) = budget_status(store, now=NOW, tz=UTC, budgets={"claude": 6})
    assert (b.month, b.spent, b.daily_rate, b.days_left) == ("2025-11", pytest.approx(3.6), pytest.approx(0.3), 10.5)
    assert b.forecast == pytest.approx(3.6 + 0.3 * 10.5)  # 6.75
    assert b.will_exceed and not b.exceeded
    (fine,) = budget_status(store, now=NOW, tz=UTC, budgets={"claude": 7})
    assert not fine.will_exceed
    (over,) = budget_status(store, now=NOW, tz=UTC, budgets={"claude": 3})
    assert over.exceeded and over.to_json()["exceeded"] is True

    view = spend_view(store, now=NOW, tz=UTC, days=30, budgets={"claude": 6, "codex": 5})
    assert view["daily"][0]["date"] == "2025-10-22" and view["daily"][-1]["date"] == "2025-11-20"
    per_day = {d["date"]: d["total"] for d in view["daily"] if d["total"]}
    assert per_day == pytest.approx(
        {"2025-10-31": 0.3, "2025-11-01": 0.6, **{f"2025-11-{d}": 0.3 for d in range(13, 20)}, "2025-11-20": 0.9}
    )
    assert view["total"]["cost"] == pytest.approx(3.9) and view["total"]["tokens"] == 1_300_000
    assert view["budgets"]["claude"]["will_exceed"] is True
    assert view["budgets"]["codex"] == {
        "agent": "codex",
        "month": "2025-11",
        "limit": 5.0,
        "spent": 0.0,
        "daily_rate": 0.0,
        "days_left": 10.5,
        "forecast": 0.0,
        "will_exceed": False,
        "exceeded": False,
        "cost_is_partial": False,
    }
    assert view["topModels"][0]["modelName"] == SONNET and view["topModels"][0]["share"] == 1.0
    week = spend_view(store, now=NOW, tz=UTC, days=7, budgets={})
    assert week["total"]["cost"] == pytest.approx(0.3 * 6 + 0.9) and week["budgets"] == {}


def test_days_follow_the_time_zone(store: Store, tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    env = _write(tmp_path, [datetime(2025, 11, 19, 23, 30, tzinfo=UTC)])  # Nov 20 in Paris
    refresh_index(store, env, agents=["claude"])
    paris = spend_view(store, now=NOW, tz=ZoneInfo("Europe/Paris"), days=7, budgets={})
    utc = spend_view(store, now=NOW, tz=UTC, days=7, budgets={})
    assert [d["date"] for d in paris["daily"] if d["total"]] == ["2025-11-20"]
    assert [d["date"] for d in utc["daily"] if d["total"]] == ["2025-11-19"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], date]:
    out = tmp_path_factory.mktemp("spend") / "t"
    end = date(2025, 11, 30)
    return out, generate(Options(out=out, size_mb=3, seed=21, days=40, end=end)), end


def test_series_tokens_match_the_ground_truth_and_cost_matches_the_summary(
    store: Store, tree: tuple[Path, dict[str, Any], date]
) -> None:
    root, truth, end = tree
    refresh_index(
        store, {"HOME": str(root), "CLAUDE_CONFIG_DIR": str(root / ".claude"), "CODEX_HOME": str(root / ".codex")}
    )
    now = datetime(end.year, end.month, end.day, 23, 0, tzinfo=UTC)
    expected: dict[str, int] = defaultdict(int)
    for agent in ("claude", "codex"):
        for day, rec in truth[agent]["by_day"].items():
            t = rec["totals"]
            if agent == "claude":
                n = (
                    t["input_tokens"]
                    + t["output_tokens"]
                    + t["cache_creation_input_tokens"]
                    + t["cache_read_input_tokens"]
                )
            else:
                n = t["non_cached_input_tokens"] + t["cached_input_tokens"] + t["output_tokens"]
            expected[day] += n
    for days in (7, 30, 90):
        view = spend_view(store, now=now, tz=UTC, days=days, budgets={}, group="model")
        first = end - timedelta(days=days - 1)
        assert len(view["daily"]) == days
        want = sum(n for d, n in expected.items() if date.fromisoformat(d) >= first)
        assert view["total"]["tokens"] == want, days
        for row in view["daily"]:
            assert row["total"] == pytest.approx(sum(row["values"].values()))
            assert all("/" in k for k in row["values"])  # agent/model keys
        assert set(view["series"]) >= {k for row in view["daily"] for k in row["values"]}
    summary = cost_summary(store, now=now, tz=UTC)
    month = spend_view(store, now=now, tz=UTC, days=30, budgets={})
    assert month["total"]["cost"] == pytest.approx(summary["periods"]["30d"]["totalCost"])


def test_bad_ranges_are_refused(store: Store) -> None:
    for days in (0, 367):
        with pytest.raises(ValueError):
            spend_view(store, now=NOW, tz=UTC, days=days, budgets={})
    with pytest.raises(ValueError):
        spend_view(store, now=NOW, tz=UTC, days=7, budgets={}, group="project")


def test_budget_settings_from_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[budgets]\nclaude = 200\ncodex = 50.5\ngemini = 0\n")
    config = load(path, env={"AGENTGAUGE_BUDGETS": "opencode=20, codex=60", "AGENTGAUGE_BUDGET_CODEX": "80"})
    assert config.budgets == {"claude": 200.0, "codex": 80.0, "opencode": 20.0}  # 0 means none
    assert load(None, env={}).budgets == {}
    for text, env, message in (
        ("[budgets]\nclaude = 'lots'\n", {}, "must be a number of USD"),
        ("[budgets]\nclaude = -5\n", {}, "must be a number of USD"),
        ('[budgets]\n"Not An Agent" = 5\n', {}, "is not an agent id"),
        ("budgets = 5\n", {}, "must be a table"),
        ("", {"AGENTGAUGE_BUDGET_CLAUDE": "nan"}, "AGENTGAUGE_BUDGET_CLAUDE"),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load(path, env=env)


def test_budget_alert_fires_once_a_month_for_the_forecast_and_once_when_spent(store: Store, tmp_path: Path) -> None:
    clock = Clock(NOW)
    alerts = AlertService(config_with(alerts=AlertSettings(rules=(Rule("budget", "budget"),))), store, clock)
    home = tmp_path / "home"
    calls = [datetime(2025, 11, d, 10, tzinfo=UTC) for d in range(13, 20)]  # $0.30 a day
    env = _write(home, calls)
    refresh_index(store, env, agents=["claude"])

    def check(limit: float) -> list[tuple[str, str]]:
        alerts.observe_budgets(budget_status(store, now=clock(), tz=UTC, budgets={"claude": limit}))
        return [(e["event"], e["title"]) for e in reversed(recent(store, 50))]

    assert check(4) == []  # the first reading is a baseline: 2.1 + 0.3 x 10.5 = 5.25 is over, but says nothing
    # A new month: the state starts over, and the first crossing in it fires.
    clock.now = datetime(2025, 12, 2, 12, tzinfo=UTC)  # Nov 25..Dec 1 had no spend: rate 0
    assert check(4) == []
    env = _write(home, calls + [datetime(2025, 12, d, 10, tzinfo=UTC) for d in range(3, 10)])
    refresh_index(store, env, agents=["claude"])
    clock.now = datetime(2025, 12, 10, 12, tzinfo=UTC)  # $2.10 spent, $0.30 a day, 21.5 days left: 8.55
    fired = check(4)
    assert [e for e, _ in fired] == ["budget"]
    assert "forecast $8.55 is over the $4.00 budget" in fired[0][1]
    assert check(4) == fired  # still over: nothing more this month
    assert [e for e, _ in check(2)] == ["budget", "budget_exceeded"]  # spent $2.10 > $2
    assert len(check(2)) == 2

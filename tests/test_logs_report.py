"""Pricing, reports (ccusage field names), blocks, cost_summary and the ``cost`` command."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from agentgauge.logs import pricing
from agentgauge.logs.blocks import blocks_report
from agentgauge.logs.index import refresh_index
from agentgauge.logs.report import Filters, cost_summary, period_report, session_report
from agentgauge.store import Store

from .test_logs_index import claude_line, claude_tree, env_for


def test_rates_match_list_prices_and_fill_the_gaps() -> None:
    r = pricing.resolve("claude-sonnet-4-5-20250929", "anthropic")
    assert r is not None
    # 4 input + 1,200 cache write + 150,000 cache read + 800 output = $0.061512 (research, by hand).
    assert pricing.cost(r, 0, 4, 800, 1200, 0, 150_000) == pytest.approx(0.061512)
    # 1-hour cache writes at 2x base input ($6/MTok for Sonnet 4.5).
    assert pricing.cost(r, 0, 0, 0, 1_000_000, 1_000_000, 0) == pytest.approx(6.0)
    assert pricing.cost(r, 1, 1_000_000, 0, 0, 0, 0) == pytest.approx(6.0)  # long-context tier
    codex = pricing.resolve("gpt-5-codex", "openai")
    assert pricing.cost(codex, 0, 8_000, 1_500, 0, 0, 52_000) == pytest.approx(0.0315)
    assert pricing.resolve("claude-nonexistent-9", "anthropic") is None
    assert pricing.resolve("claude-sonnet-4-5-20250929-fast", "anthropic") is None  # no fast multiplier known
    fast = pricing.resolve("claude-opus-4-6-fast", "anthropic")
    base = pricing.resolve("claude-opus-4-6", "anthropic")
    assert fast is not None and base is not None and fast[0] == pytest.approx(base[0] * 6)


def _indexed(store: Store, tmp_path: Path) -> None:
    folder = claude_tree(tmp_path)
    (folder / "s1.jsonl").write_text(
        "\n".join(
            [
                claude_line("m1", "r1", "2025-11-01T23:30:00.000Z", inp=100_000, out=0),  # Nov 2 in Europe/Paris
                claude_line(
                    "m2", "r2", "2025-11-01T10:00:00.000Z", inp=0, out=1_000_000, model="claude-opus-4-5-20251101"
                ),
                claude_line("m3", "r3", "2025-11-01T11:00:00.000Z", inp=5, out=5, model="claude-mystery-1"),
            ]
        )
        + "\n"
    )
    refresh_index(store, env_for(tmp_path))


def test_daily_report_fields_costs_unknown_models_and_timezone(store: Store, tmp_path: Path) -> None:
    _indexed(store, tmp_path)
    utc = period_report(store, Filters(agents=("claude",), tz=UTC), "daily")
    assert [d["date"] for d in utc["daily"]] == ["2025-11-01"]
    day = utc["daily"][0]
    assert set(day) >= {
        "date",
        "inputTokens",
        "outputTokens",
        "cacheCreationTokens",
        "cacheReadTokens",
        "totalTokens",
        "totalCost",
        "modelsUsed",
        "modelBreakdowns",
    }
    assert day["inputTokens"] == 100_005 and day["totalTokens"] == 1_100_010
    costs = {m["modelName"]: m["cost"] for m in day["modelBreakdowns"]}
    assert costs == {
        "claude-sonnet-4-5-20250929": pytest.approx(0.3),
        "claude-opus-4-5-20251101": pytest.approx(25.0),
        "claude-mystery-1": None,
    }
    assert day["totalCost"] == pytest.approx(25.3) and day["costIsPartial"] is True
    assert utc["totals"]["costIsPartial"] is True and utc["unknownModels"] == ["claude-mystery-1"]
    assert utc["costIsEstimate"] is True
    paris = period_report(store, Filters(agents=("claude",), tz=ZoneInfo("Europe/Paris")), "daily")
    assert [d["date"] for d in paris["daily"]] == ["2025-11-01", "2025-11-02"]
    only = period_report(
        store, Filters(agents=("claude",), tz=ZoneInfo("Europe/Paris"), since=date(2025, 11, 2)), "daily"
    )
    assert only["totals"]["inputTokens"] == 100_000
    monthly = period_report(store, Filters(agents=("claude",)), "monthly")
    assert monthly["monthly"][0]["month"] == "2025-11"
    weekly = period_report(store, Filters(agents=("claude",)), "weekly")
    assert weekly["weekly"][0]["week"] == "2025-10-26"  # weeks start on Sunday, like ccusage
    sessions = session_report(store, Filters(agents=("claude",), project="me-app"))
    assert [(s["sessionId"], s["projectPath"], s["lastActivity"]) for s in sessions["sessions"]] == [
        ("s1", "-home-me-app", "2025-11-01")
    ]
    assert session_report(store, Filters(agents=("claude",), project="nope"))["sessions"] == []


def test_daily_buckets_follow_dst_changes_and_odd_offsets(store: Store, tmp_path: Path) -> None:
    """The database buckets quarter hours into local days with the zone's offset at each instant:
    across New York's fall-back (2025-11-02 06:00 UTC) and in a +05:45 zone."""
    stamps = [
        "2025-11-02T03:30:00.000Z",
        "2025-11-02T05:59:00.000Z",
        "2025-11-02T06:00:00.000Z",
        "2025-11-03T04:30:00.000Z",
        "2025-11-03T05:00:00.000Z",
        "2025-11-02T18:14:00.000Z",
        "2025-11-02T18:15:00.000Z",
        "2025-10-30T12:00:00.000Z",
    ]
    folder = claude_tree(tmp_path)
    (folder / "s.jsonl").write_text(
        "\n".join(claude_line(f"m{i}", f"r{i}", ts, inp=10**i, out=0) for i, ts in enumerate(stamps)) + "\n"
    )
    refresh_index(store, env_for(tmp_path))
    for zone in ("America/New_York", "Asia/Kathmandu", "UTC"):
        tz = ZoneInfo(zone)
        want: dict[str, int] = {}
        for i, ts in enumerate(stamps):
            day = datetime.fromisoformat(ts).astimezone(tz).date().isoformat()
            want[day] = want.get(day, 0) + 10**i
        got = period_report(store, Filters(agents=("claude",), tz=tz), "daily")["daily"]
        assert {d["date"]: d["inputTokens"] for d in got} == want, zone
        since = date.fromisoformat(sorted(want)[1])
        cut = period_report(store, Filters(agents=("claude",), tz=tz, since=since, until=since), "daily")
        assert [d["date"] for d in cut["daily"]] == [since.isoformat()], zone


def test_blocks_gaps_burn_rate_and_projection(store: Store, tmp_path: Path) -> None:
    folder = claude_tree(tmp_path)
    (folder / "s.jsonl").write_text(
        "\n".join(
            [
                claude_line("a", "1", "2025-11-01T10:20:00.000Z", inp=100, out=100),
                claude_line("b", "2", "2025-11-01T11:20:00.000Z", inp=100, out=100),
                claude_line("c", "3", "2025-11-01T20:00:00.000Z", inp=60, out=0),
                claude_line("d", "4", "2025-11-01T20:30:00.000Z", inp=0, out=60),
            ]
        )
        + "\n"
    )
    refresh_index(store, env_for(tmp_path))
    report = blocks_report(store, Filters(), now=datetime(2025, 11, 1, 21, 0, tzinfo=UTC))
    blocks = report["blocks"]
    assert [(b["startTime"], b["isGap"], b["entries"]) for b in blocks] == [
        ("2025-11-01T10:00:00.000Z", False, 2),
        ("2025-11-01T16:20:00.000Z", True, 0),
        ("2025-11-01T20:00:00.000Z", False, 2),
    ]
    first, active = blocks[0], blocks[2]
    assert first["endTime"] == "2025-11-01T15:00:00.000Z" and not first["isActive"] and first["burnRate"] is None
    assert first["tokenCounts"] == {
        "inputTokens": 200,
        "outputTokens": 200,
        "cacheCreationInputTokens": 0,
        "cacheReadInputTokens": 0,
    }
    assert active["isActive"] and active["burnRate"]["tokensPerMinute"] == pytest.approx(120 / 30)
    assert active["projection"]["remainingMinutes"] == 240
    assert active["projection"]["totalTokens"] == 120 + 4 * 240


def test_cost_summary_reads_only_the_index(store: Store, tmp_path: Path) -> None:
    _indexed(store, tmp_path)
    for path in (tmp_path / ".claude").rglob("*.jsonl"):
        path.unlink()  # the summary must not need the logs
    summary = cost_summary(store, now=datetime(2025, 11, 2, 12, tzinfo=UTC), tz=ZoneInfo("Europe/Paris"))
    periods = summary["periods"]
    assert periods["today"]["totalCost"] == pytest.approx(0.3)
    assert periods["7d"]["totalCost"] == pytest.approx(25.3) and periods["7d"]["costIsPartial"] is True
    assert periods["30d"]["agents"]["claude"]["totalTokens"] == 1_100_010
    assert periods["30d"]["agents"]["codex"]["totalTokens"] == 0
    assert {m["modelName"] for m in periods["7d"]["models"]} == {
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-5-20251101",
        "claude-mystery-1",
    }
    json.dumps(summary)


def test_cost_command_json_and_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentgauge.cli.commands import cli

    folder = claude_tree(tmp_path)
    (folder / "s.jsonl").write_text(claude_line("a", "1", "2025-11-01T10:20:00.000Z", inp=100, out=100) + "\n")
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / ".claude"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / ".codex"))
    monkeypatch.setenv("AGENTGAUGE_DATABASE_URL", str(tmp_path / "db.sqlite"))
    runner = CliRunner()
    done = runner.invoke(
        cli,
        [
            "cost",
            "daily",
            "--json",
            "--agent",
            "claude",
            "--timezone",
            "UTC",
            "--since",
            "20251101",
            "--until",
            "2025-11-01",
        ],
    )
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    assert data["daily"][0]["inputTokens"] == 100 and data["totals"]["totalTokens"] == 200
    table = runner.invoke(cli, ["cost", "weekly", "--timezone", "UTC"])
    assert table.exit_code == 0 and "estimates" in table.output and "claude-sonnet-4-5" in table.output
    bad = runner.invoke(cli, ["cost", "daily", "--since", "2025-13-01"])
    assert bad.exit_code == 2
    assert runner.invoke(cli, ["cost", "blocks", "--agent", "codex"]).exit_code == 2
    assert runner.invoke(cli, ["cost", "session", "--json"]).exit_code == 0

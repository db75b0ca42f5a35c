"""``agentgauge cost`` across agents, through the real command in its own process: --agent
(repeatable), --by agent|model|project, ccusage's field names, unknown cost as null / "unknown"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from agentgauge.cli.cost import AGENTS
from agentgauge.logs.report import all_agents
from tests.loggen import Options, generate

EXE = str(Path(sys.executable).parent / "agentgauge")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cost-home")
    generate(Options(out=out, size_mb=1.5, seed=5, days=6, agents=("all",)))
    return out


def cost(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTGAUGE_", "XDG_"))}
    env.update(HOME=str(home), AGENTGAUGE_DATABASE_URL=str(home / "agentgauge.db"), AGENTGAUGE_NO_PLUGINS="1")
    env.update(XDG_DATA_HOME=str(home / ".local" / "share"), XDG_CONFIG_HOME=str(home / ".config"))
    return subprocess.run([EXE, "cost", *args, "--timezone", "UTC"], env=env, capture_output=True, text=True)


def data(home: Path, *args: str) -> dict[str, Any]:
    done = cost(home, *args, "--json")
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def total_tokens(gt: dict[str, Any], agent: str) -> int:
    t = gt[agent]["totals"]
    if agent == "codex":
        return int(t["input_tokens"] + t["output_tokens"])  # Codex's input includes the cached tokens
    return int(
        sum(t[f] for f in ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
    )


def test_the_cli_knows_every_reported_agent() -> None:
    assert all_agents() == AGENTS


def test_by_agent_totals_equal_ground_truth(home: Path) -> None:
    gt = json.loads((home / "ground-truth.json").read_text())
    report = data(home, "monthly", "--by", "agent")
    per: dict[str, int] = {}
    for month in report["monthly"]:
        assert set(month) >= {"month", "totalTokens", "totalCost", "modelsUsed", "modelBreakdowns", "agentBreakdowns"}
        assert sorted(b["agent"] for b in month["agentBreakdowns"]) == month["metadata"]["agents"]
        for b in month["agentBreakdowns"]:
            per[b["agent"]] = per.get(b["agent"], 0) + b["totalTokens"]
    assert per == {agent: total_tokens(gt, agent) for agent in gt["generator"]["agents"]}
    assert report["totals"]["totalTokens"] == sum(per.values())
    assert report["totals"]["costIsPartial"] is True  # some models have no price (qwen3-coder-plus, glm-4.6...)
    assert "qwen3-coder-plus" in report["unknownModels"]


def test_agent_filter_is_repeatable(home: Path) -> None:
    gt = json.loads((home / "ground-truth.json").read_text())
    report = data(home, "daily", "--agent", "gemini", "--agent", "kimi", "--by", "agent")
    assert report["agents"] == ["gemini", "kimi"]
    seen = {b["agent"] for d in report["daily"] for b in d["agentBreakdowns"]}
    assert seen == {"gemini", "kimi"}
    assert report["totals"]["totalTokens"] == total_tokens(gt, "gemini") + total_tokens(gt, "kimi")
    assert "reasoningOutputTokens" in report["totals"]  # Gemini counts thoughts


def test_unknown_cost_is_null_and_shown_as_unknown(home: Path) -> None:
    report = data(home, "daily", "--agent", "qwen")
    assert (
        report["daily"]
        and all(d["totalCost"] is None for d in report["daily"])
        and report["totals"]["totalCost"] is None
    )
    assert all(m["cost"] is None for d in report["daily"] for m in d["modelBreakdowns"])
    assert report["totals"]["totalTokens"] > 0  # the tokens are kept
    table = cost(home, "daily", "--agent", "qwen", "--no-refresh")
    assert table.returncode == 0, table.stderr
    total = next(line for line in table.stdout.splitlines() if line.strip().startswith("Total"))
    assert total.rstrip().endswith("unknown") and "$0.00" not in table.stdout
    mixed = cost(home, "daily", "--agent", "qwen", "--agent", "gemini")  # indexes gemini when run alone
    assert "+ unknown" in mixed.stdout  # a known cost plus an unknown one


def test_by_project_and_sessions_grouped(home: Path) -> None:
    report = data(home, "weekly", "--agent", "opencode", "--by", "project")
    projects = {b["project"] for w in report["weekly"] for b in w["projectBreakdowns"]}
    assert projects and projects <= {"/home/dev/shop", "/home/dev/blog", "/home/dev/ml", "/home/dev/cli", ""}
    assert (
        sum(b["totalTokens"] for w in report["weekly"] for b in w["projectBreakdowns"])
        == report["totals"]["totalTokens"]
    )
    sessions = data(home, "session", "--by", "agent")
    groups = {g["agent"]: g["totalTokens"] for g in sessions["groups"]}
    agents = [s["agent"] for s in sessions["sessions"]]
    assert agents == sorted(agents)  # grouped by agent
    for agent, tokens in groups.items():
        assert tokens == sum(s["totalTokens"] for s in sessions["sessions"] if s["agent"] == agent)


def test_blocks_by_model_and_agent(home: Path) -> None:
    report = data(home, "blocks", "--by", "agent")
    blocks = [b for b in report["blocks"] if not b["isGap"]]
    assert blocks
    for b in blocks:
        assert sum(m["inputTokens"] for m in b["modelBreakdowns"]) == b["tokenCounts"]["inputTokens"]
        assert [a["agent"] for a in b["agentBreakdowns"]] == ["claude"]
        assert b["agentBreakdowns"][0]["totalTokens"] == b["totalTokens"]
    bad = cost(home, "blocks", "--agent", "gemini")
    assert bad.returncode == 2 and "Claude's 5-hour" in bad.stderr


def test_no_usage_names_every_agent_and_its_variable(tmp_path: Path) -> None:
    done = cost(tmp_path, "daily", "--agent", "gemini", "--agent", "cline", "--agent", "vertexai")
    assert done.returncode == 0, done.stderr
    note = done.stderr
    assert f"Gemini CLI: no logs in {tmp_path / '.gemini' / 'tmp'} (set GEMINI_DATA_DIR if they live elsewhere)" in note
    assert "Cline: no logs in" in note and "(set CLINE_DATA_DIR or CLINE_DIR if they live elsewhere)" in note
    assert "Claude Code: no logs in" in note  # vertexai's entries are Claude Code's

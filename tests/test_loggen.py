"""The log generator (tests/loggen): deterministic, its ground truth equals an independent recount of
the files it wrote, and every trap it promises is really in those files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.loggen import MIB, WRITERS, Options, generate

REPO = Path(__file__).resolve().parents[1]
CODEX_FIELDS = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens")
MARKERS = {"claude": b'"usage":{', "codex": b'"token_count"'}


def tree_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def records(path: Path) -> Iterator[tuple[bytes, bool]]:
    """Each line and whether it is newline-terminated (only a file's last line may not be)."""
    parts = path.read_bytes().split(b"\n")
    tail = parts.pop()
    for part in parts:
        yield part, True
    if tail:
        yield tail, False


def loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def agent_files(tree: Path, agent: str) -> list[Path]:
    return sorted((tree / f".{agent}").rglob("*.jsonl"))


# -- the independent recount ------------------------------------------------------------------------


def recount_counts(tree: Path, agent: str) -> dict[str, int]:
    out = dict.fromkeys(("files", "bytes", "lines", "malformed_lines", "malformed_usage_lines", "truncated_lines"), 0)
    for path in agent_files(tree, agent):
        out["files"] += 1
        out["bytes"] += path.stat().st_size
        for raw, terminated in records(path):
            out["lines"] += 1
            if loads(raw) is None:
                if not terminated:
                    out["truncated_lines"] += 1
                else:
                    out["malformed_lines"] += 1
                    out["malformed_usage_lines"] += MARKERS[agent] in raw
    return out


def recount_claude(tree: Path) -> dict[tuple[str, str], list[int]]:
    """One entry per message.id: the non-sidechain copy wins, then the earliest; all copies agree."""
    calls: dict[str, tuple[bool, str, str, tuple[int, ...]]] = {}
    for path in agent_files(tree, "claude"):
        for raw, _ in records(path):
            d = loads(raw)
            if not isinstance(d, dict) or not isinstance(msg := d.get("message"), dict) or "usage" not in msg:
                continue
            u = msg["usage"]
            values = (
                u["input_tokens"],
                u["output_tokens"],
                u["cache_creation_input_tokens"],
                u["cache_read_input_tokens"],
            )
            if msg["model"] == "<synthetic>":
                assert values == (0, 0, 0, 0) and "requestId" not in d
                continue
            assert msg["id"] and d["requestId"]
            old = calls.get(msg["id"])
            if old is not None:
                assert (old[2], old[3]) == (msg["model"], values), "copies of one call disagree"
            if old is None or (d["isSidechain"], d["timestamp"]) < old[:2]:
                calls[msg["id"]] = (d["isSidechain"], d["timestamp"], msg["model"], values)
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 5)
    for _, ts, model, kept in calls.values():
        cell = cells[(ts[:10], model)]
        for i, v in enumerate(kept):
            cell[i] += v
        cell[4] += 1
    return dict(cells)


def recount_codex(tree: Path) -> dict[tuple[str, str], list[int]]:
    """A row counts when its file's cumulative total advances; a total already counted anywhere
    (a fork's replay, an archived copy) is the same entry, kept at its earliest time."""
    best: dict[tuple[int, ...], tuple[str, str, tuple[int, ...]]] = {}
    for path in agent_files(tree, "codex"):
        prev: tuple[int, ...] | None = None
        model = "gpt-5"
        for raw, _ in records(path):
            d = loads(raw)
            if not isinstance(d, dict):
                continue
            payload = d["payload"]
            if d["type"] == "turn_context":
                model = payload["model"]
                continue
            if d["type"] != "event_msg" or payload["type"] != "token_count" or payload["info"] is None:
                continue
            total = tuple(payload["info"]["total_token_usage"][k] for k in CODEX_FIELDS)
            if total == prev:
                continue
            delta = tuple(a - b for a, b in zip(total, prev or (0,) * 5, strict=True))
            assert min(delta) >= 0, f"the counter went back in {path}"
            prev = total
            if total not in best or d["timestamp"] < best[total][0]:
                best[total] = (d["timestamp"], model, delta)
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 5)
    for ts, model, delta in best.values():
        cell = cells[(ts[:10], model)]
        for i, v in enumerate(delta[:4]):
            cell[i] += v
        cell[4] += 1
    return dict(cells)


def truth_cells(gt: dict[str, Any], agent: str) -> dict[tuple[str, str], list[int]]:
    fields = WRITERS[agent].token_fields
    return {
        (day, model): [c[f] for f in fields] + [c["entries"]]
        for day, rec in gt[agent]["by_day"].items()
        for model, c in rec["models"].items()
    }


@pytest.fixture(scope="module")
def trap_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Large enough that every trap shows up (the generator is deterministic: this seed always has them)."""
    out = tmp_path_factory.mktemp("traps") / "t"
    generate(Options(out=out, size_mb=24, seed=20))
    return out


# -- determinism ------------------------------------------------------------------------------------


def test_same_seed_same_bytes_across_processes_and_other_seed_differs(tmp_path: Path) -> None:
    generate(Options(out=tmp_path / "a", size_mb=2, seed=5, days=7, end=date(2025, 6, 30)))
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.loggen",
            "--out",
            str(tmp_path / "b"),
            "--size-mb",
            "2",
            "--seed",
            "5",
            "--days",
            "7",
            "--end",
            "2025-06-30",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "claude:" in cli.stderr and "codex:" in cli.stderr
    a, b = tree_files(tmp_path / "a"), tree_files(tmp_path / "b")
    assert len(a) > 5 and a == b
    generate(Options(out=tmp_path / "c", size_mb=2, seed=6, days=7, end=date(2025, 6, 30)))
    c = tree_files(tmp_path / "c")
    assert set(c) != set(a) and c["ground-truth.json"] != a["ground-truth.json"]


# -- ground truth = recount -------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "size", "days"), [(3, 4, 30), (20, 24, 30), (8, 3, 2)])
def test_ground_truth_equals_an_independent_recount(
    seed: int, size: float, days: int, tmp_path: Path, trap_tree: Path
) -> None:
    if (seed, size) == (20, 24):
        tree = trap_tree
    else:
        tree = tmp_path / "t"
        generate(Options(out=tree, size_mb=size, seed=seed, days=days))
    gt = json.loads((tree / "ground-truth.json").read_text())
    for agent, recount in (("claude", recount_claude), ("codex", recount_codex)):
        counted = recount_counts(tree, agent)
        assert {k: gt[agent][k] for k in counted} == counted, agent
        cells = recount(tree)
        assert truth_cells(gt, agent) == cells, agent
        # The totals, per-model and per-day sums and derived fields are consistent with the cells.
        fields = WRITERS[agent].token_fields
        assert [gt[agent]["totals"][f] for f in fields] == [
            sum(c[i] for c in cells.values()) for i in range(len(fields))
        ]
        assert gt[agent]["totals"]["entries"] == sum(c[-1] for c in cells.values()) > 0
        for model, m in gt[agent]["by_model"].items():
            assert m["entries"] == sum(c[-1] for (_, mm), c in cells.items() if mm == model)
        for rec in gt[agent]["by_day"].values():
            assert rec["totals"]["entries"] == sum(m["entries"] for m in rec["models"].values())
    claude_total = gt["claude"]["totals"]
    assert claude_total["total_tokens"] == sum(claude_total[f] for f in WRITERS["claude"].token_fields)
    codex_total = gt["codex"]["totals"]
    assert codex_total["total_tokens"] == codex_total["input_tokens"] + codex_total["output_tokens"]
    assert codex_total["non_cached_input_tokens"] == codex_total["input_tokens"] - codex_total["cached_input_tokens"]
    # Every entry lies in the requested window, and the tree is about the requested size.
    first = (date(2025, 11, 30) - timedelta(days=days - 1)).isoformat()
    assert all(first <= day <= "2025-11-30" for a in ("claude", "codex") for day in gt[a]["by_day"])
    written = gt["claude"]["bytes"] + gt["codex"]["bytes"]
    assert size * MIB <= written <= size * MIB + 3 * MIB


# -- every trap is in the files ---------------------------------------------------------------------


def test_claude_traps_are_written(trap_tree: Path) -> None:
    files = agent_files(trap_tree, "claude")
    main = [p for p in files if "subagents" not in p.parts]
    subagent = [p for p in files if "subagents" in p.parts]
    gt = json.loads((trap_tree / "ground-truth.json").read_text())["claude"]
    # One API call written as several content-block lines with the same ids and usage bytes.
    multi = 0
    for path in main[:20]:
        by_call: dict[tuple[str, str], set[str]] = defaultdict(set)
        lines: dict[tuple[str, str], int] = defaultdict(int)
        for raw, _ in records(path):
            d = loads(raw)
            if isinstance(d, dict) and d.get("requestId"):
                key = (d["message"]["id"], d["requestId"])
                by_call[key].add(json.dumps(d["message"]["usage"]))
                lines[key] += 1
        assert all(len(u) == 1 for u in by_call.values())
        multi += sum(1 for n in lines.values() if n > 1)
    assert multi > 0
    # Resumed sessions: a new session file that starts (after its summary) with another file's lines.
    texts = {p: p.read_bytes().split(b"\n") for p in main}
    owners: dict[bytes, set[Path]] = defaultdict(set)
    for p, lines_ in texts.items():
        for line in lines_[:3]:
            owners[line].add(p)
    resumed = [p for p, lines_ in texts.items() if b'"type":"summary"' in lines_[0] and owners[lines_[1]] - {p}]
    assert resumed and len(resumed) == gt["resumed_sessions"]
    # Sub-agent files: sidechain calls, some replaying a main call's id under a new requestId (/btw).
    main_rids: dict[str, str] = {}
    for p in main:
        for raw, _ in records(p):
            d = loads(raw)
            if isinstance(d, dict) and d.get("requestId"):
                main_rids.setdefault(d["message"]["id"], d["requestId"])
    btw = 0
    for p in subagent:
        assert p.name.startswith("agent-") and p.parent.name == "subagents"
        for raw, _ in records(p):
            d = loads(raw)
            if isinstance(d, dict) and d.get("type") == "assistant":
                assert d["isSidechain"] is True
                btw += d["message"]["id"] in main_rids and d.get("requestId") != main_rids[d["message"]["id"]]
    assert subagent and 0 < btw <= gt["btw_replays"]
    blob = b"\n".join(b"\n".join(v) for v in texts.values())
    assert b'"model":"<synthetic>"' in blob and b'"isApiErrorMessage":true' in blob
    assert b'"isSidechain":true' in blob  # 1.0.x sessions: sidechain calls inline in the session file
    assert re.search(rb'"ephemeral_1h_input_tokens":[1-9]', blob)  # some cache writes are the 1-hour kind
    # Damage: newline-terminated lines that are not JSON, and unterminated last lines.
    assert gt["malformed_usage_lines"] > 0 and gt["malformed_lines"] > gt["malformed_usage_lines"]
    assert gt["truncated_lines"] == sum(1 for p in files if not p.read_bytes().endswith(b"\n")) > 0


def test_claude_has_calls_above_the_long_context_threshold(trap_tree: Path) -> None:
    biggest = 0
    for path in agent_files(trap_tree, "claude"):
        for raw, _ in records(path):
            d = loads(raw)
            if isinstance(d, dict) and isinstance(d.get("message"), dict) and "usage" in d["message"]:
                u = d["message"]["usage"]
                biggest = max(
                    biggest, u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"]
                )
    assert biggest > 200_000


def test_codex_traps_are_written(trap_tree: Path) -> None:
    gt = json.loads((trap_tree / "ground-truth.json").read_text())["codex"]
    files = sorted((trap_tree / ".codex" / "sessions").rglob("*.jsonl"))  # archived copies are checked below
    reemits = duplicates = null_info = last_is_delta = spawned = plain = nested = 0
    replay_bursts = 0
    models_changed = False
    for path in files:
        lines = [raw for raw, _ in records(path)]
        parsed = [loads(raw) for raw in lines]
        own_meta = parsed[0]["payload"]
        meta_count = sum(1 for d in parsed if isinstance(d, dict) and d["type"] == "session_meta")
        if meta_count >= 2:
            source = own_meta["source"]
            if isinstance(source, dict) and "thread_spawn" in source.get("subagent", {}):
                spawned += 1
            else:
                plain += 1
            nested += meta_count >= 3
            # The replayed history carries the child's creation time on every line.
            first_turn = next(
                (
                    i
                    for i, d in enumerate(parsed[1:], 1)
                    if isinstance(d, dict) and d["type"] == "turn_context" and d["timestamp"] != parsed[0]["timestamp"]
                ),
                len(parsed),
            )
            assert {d["timestamp"] for d in parsed[:first_turn]} == {parsed[0]["timestamp"]}
            replay_bursts += 1
        seen: dict[str, str] = {}
        prev = None
        models = set()
        for i, d in enumerate(parsed):
            if not isinstance(d, dict):
                continue
            if d["type"] == "turn_context":
                models.add(d["payload"]["model"])
            if d["type"] != "event_msg" or d["payload"]["type"] != "token_count":
                continue
            info = d["payload"]["info"]
            if info is None:
                null_info += 1
                continue
            if i and lines[i] == lines[i - 1]:
                duplicates += 1
            key = json.dumps(info, sort_keys=True)
            if key in seen and seen[key] != d["timestamp"]:
                reemits += 1
            seen.setdefault(key, d["timestamp"])
            total = [info["total_token_usage"][k] for k in CODEX_FIELDS]
            last = [info["last_token_usage"][k] for k in CODEX_FIELDS]
            if prev is not None and total != prev:
                last_is_delta += last == [a - b for a, b in zip(total, prev, strict=True)]
            prev = total
        models_changed |= len(models) > 1
    assert reemits > 0 and gt["reemitted_events"] > 0
    assert duplicates > 0 and gt["duplicate_lines"] > 0
    assert null_info > 0 and gt["rate_limit_only_lines"] > 0
    assert last_is_delta > 100
    assert spawned > 0 and plain > 0 and nested == gt["nested_forks"] > 0
    assert replay_bursts == gt["forks"] == spawned + plain
    assert models_changed
    archived = sorted((trap_tree / ".codex" / "archived_sessions").glob("*.jsonl"))
    assert archived and len(archived) == gt["archived_copies"]
    originals = {p.name: p for p in (trap_tree / ".codex" / "sessions").rglob("*.jsonl")}
    assert all(p.read_bytes() == originals[p.name].read_bytes() for p in archived)
    assert gt["malformed_usage_lines"] > 0 and gt["truncated_lines"] > 0
    assert gt["absorbed_events"] > 0  # a torn row whose tokens the thread's next readable row carries


# -- options ----------------------------------------------------------------------------------------


def test_agent_selection_and_unknown_agents(tmp_path: Path) -> None:
    gt = generate(Options(out=tmp_path / "x", size_mb=1, seed=2, agents=("codex",)))
    assert gt["generator"]["agents"] == ["codex"] and "claude" not in gt
    assert not (tmp_path / "x" / ".claude").exists() and gt["codex"]["bytes"] >= MIB
    with pytest.raises(ValueError, match="unknown agent"):
        generate(Options(out=tmp_path / "y", size_mb=1, agents=("cursor",)))
    bad = subprocess.run(
        [sys.executable, "-m", "tests.loggen", "--out", str(tmp_path / "z"), "--agents", "nope"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "unknown agent" in bad.stderr

"""The log index against the generator's ground truth and hand-made edge cases (both databases)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from agentgauge.logs.index import malformed_lines, refresh_index
from agentgauge.store import Store
from tests.loggen import Options, generate

TREES = [(1, 3), (7, 12)]  # (seed, size MB): small enough for the whole file to run in well under a minute


@pytest.fixture(scope="module", params=TREES, ids=lambda p: f"seed{p[0]}-{p[1]}mb")
def tree(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    seed, size = request.param
    out = tmp_path_factory.mktemp(f"tree{seed}") / "t"
    generate(Options(out=out, size_mb=size, seed=seed))
    return out


def env_for(root: Path) -> dict[str, str]:
    return {"HOME": str(root), "CLAUDE_CONFIG_DIR": str(root / ".claude"), "CODEX_HOME": str(root / ".codex")}


def by_day_model(store: Store, agent: str) -> dict[tuple[str, str], tuple[int, ...]]:
    with store.transaction() as conn:
        rows = conn.execute(
            "SELECT ts, model, input, output, cache_write, cache_read, reasoning FROM log_entries WHERE agent = ?",
            (agent,),
        ).fetchall()
    from datetime import UTC, datetime

    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * 6)
    for ts, model, *vals in rows:
        cell = acc[(datetime.fromtimestamp(ts, UTC).date().isoformat(), model)]
        for i, v in enumerate(vals):
            cell[i] += int(v)
        cell[5] += 1
    return {k: tuple(v) for k, v in acc.items()}


def expected(gt: dict[str, Any], agent: str) -> dict[tuple[str, str], tuple[int, ...]]:
    out = {}
    for day, rec in gt[agent]["by_day"].items():
        for model, m in rec["models"].items():
            if agent == "claude":
                out[(day, model)] = (
                    m["input_tokens"],
                    m["output_tokens"],
                    m["cache_creation_input_tokens"],
                    m["cache_read_input_tokens"],
                    0,
                    m["entries"],
                )
            else:
                out[(day, model)] = (
                    m["non_cached_input_tokens"],
                    m["output_tokens"],
                    0,
                    m["cached_input_tokens"],
                    m["reasoning_output_tokens"],
                    m["entries"],
                )
    return out


def test_generated_tree_matches_ground_truth_per_day_and_model(
    store: Store, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentgauge.logs import index

    gt = json.loads((tree / "ground-truth.json").read_text())
    # As a large history would be read: a process pool, many batches, the bulk first build.
    monkeypatch.setattr(index, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(index, "BATCH_BYTES", 256 << 10)
    stats = refresh_index(store, env_for(tree), workers=2)
    assert stats.files == gt["claude"]["files"] + gt["codex"]["files"]
    # Torn lines holding a usage marker are what a reader reports; unterminated last lines wait.
    assert stats.malformed == gt["claude"]["malformed_usage_lines"] + gt["codex"]["malformed_usage_lines"]
    for agent in ("claude", "codex"):
        assert by_day_model(store, agent) == expected(gt, agent), agent
        assert usage_totals(store, agent) == totals(store, agent), agent
    again = refresh_index(store, env_for(tree))
    assert (again.files_read, again.bytes_read, again.entries) == (0, 0, 0)  # a rerun reads nothing


def test_single_process_and_pool_agree(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pool with the bulk first build (key index dropped, batches appended as they arrive,
    displaced rows upserted at the end) stores exactly what one process with upserts stores."""
    from agentgauge.logs import index
    from agentgauge.store import open_store

    results = []
    for workers in (1, 2):
        if workers == 2:  # small trees: force the pool, many batches, and the bulk path
            monkeypatch.setattr(index, "PARALLEL_MIN_BYTES", 0)
            monkeypatch.setattr(index, "BATCH_BYTES", 64 << 10)
        s = open_store(str(tmp_path / f"w{workers}.db"), data_dir=tmp_path)
        stats = refresh_index(s, env_for(tree), workers=workers)
        with s.transaction() as conn:
            entries = sorted(tuple(r) for r in conn.execute("SELECT * FROM log_entries").fetchall())
            usage = sorted(tuple(r) for r in conn.execute("SELECT * FROM log_usage").fetchall())
        results.append(
            (by_day_model(s, "claude"), by_day_model(s, "codex"), usage_totals(s), usage, len(entries), stats.entries)
        )
        s.close()
    assert results[0] == results[1]


def test_failed_bulk_build_rolls_back_whole(store: Store, tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first build that dies halfway (after dropping the key index and appending batches)
    leaves the index as it was: no entries, the key index in place; the next run is exact."""
    from agentgauge.logs import index

    monkeypatch.setattr(index, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(index, "BATCH_BYTES", 256 << 10)
    calls = {"n": 0}
    add = index._Writer.add

    def failing_add(self: index._Writer, scans: list[Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        add(self, scans)

    monkeypatch.setattr(index._Writer, "add", failing_add)
    with pytest.raises(RuntimeError):
        refresh_index(store, env_for(tree), agents=["claude"], workers=2)
    assert totals(store) == (0, 0, 0, 0, 0) and usage_totals(store) == (0, 0, 0, 0, 0)
    monkeypatch.setattr(index._Writer, "add", add)
    refresh_index(store, env_for(tree), agents=["claude"], workers=2)
    gt = json.loads((tree / "ground-truth.json").read_text())
    assert by_day_model(store, "claude") == expected(gt, "claude")
    with store.transaction() as conn:  # the key index is back: ON CONFLICT needs it
        conn.execute(
            "INSERT INTO log_entries SELECT * FROM log_entries WHERE agent = ? ON CONFLICT (agent, key) DO NOTHING",
            ("claude",),
        )
    assert totals(store)[0] == gt["claude"]["totals"]["entries"]


# -- hand-made edge cases ---------------------------------------------------------------------------


def claude_line(
    mid: str,
    rid: str | None,
    ts: str,
    *,
    inp: int = 10,
    out: int = 20,
    cw: int = 0,
    cr: int = 0,
    model: str = "claude-sonnet-4-5-20250929",
    side: bool = False,
    text: str = "hi",
    e1h: int | None = None,
) -> str:
    usage: dict[str, Any] = {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": cw,
        "cache_read_input_tokens": cr,
    }
    if e1h is not None:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": cw - e1h, "ephemeral_1h_input_tokens": e1h}
    d: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": side,
        "sessionId": "s",
        "version": "2.0.37",
        "message": {
            "model": model,
            "id": mid,
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "usage": usage,
        },
        "type": "assistant",
        "uuid": "u",
        "timestamp": ts,
    }
    if rid is not None:
        d["requestId"] = rid
    return json.dumps(d, separators=(",", ":"))


def claude_tree(root: Path) -> Path:
    folder = root / ".claude" / "projects" / "-home-me-app"
    folder.mkdir(parents=True)
    return folder


def totals(store: Store, agent: str = "claude") -> tuple[int, ...]:
    with store.transaction() as conn:
        row = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(input), 0), COALESCE(SUM(output), 0), "
            "COALESCE(SUM(cache_write), 0), COALESCE(SUM(cache_read), 0) FROM log_entries "
            "WHERE agent = ?",
            (agent,),
        ).fetchone()
    return tuple(int(v) for v in row)


def usage_totals(store: Store, agent: str = "claude") -> tuple[int, ...]:
    """The per-quarter sums the indexer maintains must always equal the entries."""
    with store.transaction() as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(entries), 0), COALESCE(SUM(input), 0), "
            "COALESCE(SUM(output), 0), COALESCE(SUM(cache_write), 0), "
            "COALESCE(SUM(cache_read), 0) FROM log_usage WHERE agent = ?",
            (agent,),
        ).fetchone()
    return tuple(int(v) for v in row)


def test_crlf_long_line_invalid_utf8_and_empty_file(store: Store, tmp_path: Path) -> None:
    folder = claude_tree(tmp_path)
    (folder / "empty.jsonl").write_bytes(b"")
    big = claude_line("msg_big", "req_big", "2025-11-01T10:00:00.000Z", inp=1, out=2, text="x" * (1_500_000))
    bad = claude_line("msg_bad", "req_bad", "2025-11-01T10:01:00.000Z", inp=3, out=4, text="BADBYTES")
    bad_bytes = bad.encode().replace(b"BADBYTES", b"\xff\xfe\xc3(")
    crlf = claude_line("msg_crlf", "req_crlf", "2025-11-01T10:02:00.000Z", inp=5, out=6)
    garbage = b'{"message":{"usage":{"input_tokens":9\xff, truncated'
    (folder / "a.jsonl").write_bytes(
        big.encode() + b"\n" + bad_bytes + b"\n" + crlf.encode() + b"\r\n" + garbage + b"\n"
    )
    stats = refresh_index(store, env_for(tmp_path), agents=["claude"])
    assert totals(store) == (3, 1 + 3 + 5, 2 + 4 + 6, 0, 0)
    assert usage_totals(store) == totals(store)
    assert stats.malformed == 1 and malformed_lines(store)["claude"] == 1


def test_partial_line_counted_once_when_completed_and_appends_read_incrementally(store: Store, tmp_path: Path) -> None:
    folder = claude_tree(tmp_path)
    path = folder / "s.jsonl"
    first = claude_line("msg_1", "req_1", "2025-11-01T10:00:00.000Z", inp=1)
    second = claude_line("msg_2", "req_2", "2025-11-01T11:00:00.000Z", inp=2)
    path.write_text(first + "\n" + second[:40])
    refresh_index(store, env_for(tmp_path))
    assert totals(store)[:2] == (1, 1)  # the partial line waits
    with path.open("a") as fh:
        fh.write(second[40:] + "\n")
    stats = refresh_index(store, env_for(tmp_path))
    assert totals(store)[:2] == (2, 3)
    assert stats.bytes_read == len(second) + 1  # only the new bytes were read
    with path.open("a") as fh:  # an append between two runs, duplicating an earlier call
        fh.write(claude_line("msg_3", "req_3", "2025-11-02T09:00:00.000Z", inp=4) + "\n" + first + "\n")
    refresh_index(store, env_for(tmp_path))
    refresh_index(store, env_for(tmp_path))
    assert totals(store)[:2] == (3, 7)
    assert usage_totals(store) == totals(store)


def test_truncated_and_rewritten_file_is_reread(store: Store, tmp_path: Path) -> None:
    folder = claude_tree(tmp_path)
    path = folder / "s.jsonl"
    path.write_text(
        claude_line("msg_1", "req_1", "2025-11-01T10:00:00.000Z", inp=100)
        + "\n"
        + claude_line("msg_2", "req_2", "2025-11-01T10:05:00.000Z", inp=200)
        + "\n"
    )
    refresh_index(store, env_for(tmp_path))
    assert totals(store)[:2] == (2, 300)
    # Rewritten in place, longer than before: same inode, different bytes.
    with path.open("r+") as fh:
        fh.truncate(0)
        fh.write(
            claude_line("msg_9", "req_9", "2025-11-01T10:00:00.000Z", inp=7)
            + "\n"
            + claude_line("msg_8", "req_8", "2025-11-01T12:00:00.000Z", inp=8, text="y" * 500)
            + "\n"
        )
    stats = refresh_index(store, env_for(tmp_path))
    assert stats.resets == 1
    assert totals(store)[:2] == (2, 15)
    path.write_text(claude_line("msg_7", "req_7", "2025-11-03T10:00:00.000Z", inp=1) + "\n")  # shrank
    refresh_index(store, env_for(tmp_path))
    assert totals(store)[:2] == (1, 1)
    assert usage_totals(store) == totals(store)


def test_claude_dedupe_rules(store: Store, tmp_path: Path) -> None:
    folder = claude_tree(tmp_path)
    ts = "2025-11-01T10:00:00.000Z"
    (folder / "a.jsonl").write_text(
        "\n".join(
            [
                claude_line("msg_a", "req_a", ts, inp=5, out=1),  # streaming: a later copy has more output
                claude_line("msg_a", "req_a", ts, inp=5, out=9),
                claude_line("msg_b", None, ts, inp=1),  # no requestId: not deduplicated
                claude_line("msg_b", None, ts, inp=1),
                claude_line("x", "r", ts, model="<synthetic>", inp=0, out=0),
            ]
        )
        + "\n"
    )
    sub = folder / "a" / "subagents"
    sub.mkdir(parents=True)
    # /btw replay: same message.id, a new requestId, in a sidechain; the non-sidechain copy wins.
    (sub / "agent-1.jsonl").write_text(claude_line("msg_a", "req_other", ts, inp=50, out=50, side=True) + "\n")
    refresh_index(store, env_for(tmp_path))
    assert totals(store) == (3, 5 + 1 + 1, 9 + 20 + 20, 0, 0)
    with store.transaction() as conn:
        sessions = {
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT session FROM log_entries JOIN log_files ON log_files.id = log_entries.file_id"
            ).fetchall()
        }
    assert sessions == {"a"}


def codex_lines(
    model: str,
    totals_seq: list[tuple[int, int, int, int]],
    ts: str,
    *,
    sid: str = "t1",
    extra_meta: dict[str, Any] | None = None,
) -> list[str]:
    def line(kind: str, payload: dict[str, Any]) -> str:
        return json.dumps({"timestamp": ts, "type": kind, "payload": payload}, separators=(",", ":"))

    out = [line("session_meta", {"id": sid, "cwd": "/w/p"})]
    if extra_meta:
        out.append(line("session_meta", extra_meta))
    out.append(line("turn_context", {"model": model}))
    prev = (0, 0, 0, 0)
    for tot in totals_seq:
        last = tuple(a - b for a, b in zip(tot, prev, strict=True))
        info = {
            "total_token_usage": {
                "input_tokens": tot[0],
                "cached_input_tokens": tot[1],
                "output_tokens": tot[2],
                "reasoning_output_tokens": tot[3],
                "total_tokens": tot[0] + tot[2],
            },
            "last_token_usage": {
                "input_tokens": last[0],
                "cached_input_tokens": last[1],
                "output_tokens": last[2],
                "reasoning_output_tokens": last[3],
                "total_tokens": last[0] + last[2],
            },
        }
        out.append(line("event_msg", {"type": "token_count", "info": info}))
        prev = tot
    return out


def test_codex_reemits_duplicates_and_fork_replays_count_once(store: Store, tmp_path: Path) -> None:
    day = tmp_path / ".codex" / "sessions" / "2025" / "11" / "01"
    day.mkdir(parents=True)
    parent = codex_lines(
        "gpt-5-codex", [(100, 50, 10, 4), (100, 50, 10, 4), (300, 200, 30, 8)], "2025-11-01T10:00:00.000Z"
    )
    parent.append(parent[-1])  # exact duplicate line
    (day / "rollout-a.jsonl").write_text("\n".join(parent) + "\n")
    # A fork replays the parent's history at its own creation time, then continues.
    fork = codex_lines(
        "gpt-5",
        [(100, 50, 10, 4), (300, 200, 30, 8), (1000, 900, 40, 8)],
        "2025-11-02T09:00:00.000Z",
        sid="t2",
        extra_meta={"id": "t1", "cwd": "/w/p"},
    )
    (day / "rollout-b.jsonl").write_text("\n".join(fork) + "\n")
    archived = tmp_path / ".codex" / "archived_sessions"
    archived.mkdir()
    (archived / "rollout-a.jsonl").write_text("\n".join(parent) + "\n")
    refresh_index(store, env_for(tmp_path))
    with store.transaction() as conn:
        rows = conn.execute(
            "SELECT model, input, cache_read, output, reasoning, ts FROM log_entries ORDER BY ts, cache_read"
        ).fetchall()
    assert [tuple(r[:5]) for r in rows] == [
        ("gpt-5-codex", 50, 50, 10, 4),
        ("gpt-5-codex", 50, 150, 20, 4),
        ("gpt-5", 0, 700, 10, 0),
    ]
    assert usage_totals(store, "codex")[0] == 3


def test_roots_from_env_lists_and_defaults(tmp_path: Path) -> None:
    from agentgauge.logs import reader_for

    a, b = tmp_path / "a", tmp_path / "b" / "projects"
    (a / "projects").mkdir(parents=True)
    b.mkdir(parents=True)
    claude = reader_for("claude")
    assert claude.roots({"CLAUDE_CONFIG_DIR": f"{a}, {b},{tmp_path / 'missing'}"}, tmp_path) == [a / "projects", b]
    (tmp_path / ".claude" / "projects").mkdir(parents=True)
    (tmp_path / ".config" / "claude" / "projects").mkdir(parents=True)
    assert claude.roots({}, tmp_path) == [
        tmp_path / ".config" / "claude" / "projects",
        tmp_path / ".claude" / "projects",
    ]
    (tmp_path / "c1" / "sessions").mkdir(parents=True)
    (tmp_path / "c2" / "archived_sessions").mkdir(parents=True)
    codex = reader_for("codex")
    assert codex.roots({"CODEX_HOME": f"{tmp_path / 'c1'},{tmp_path / 'c2'}"}, tmp_path) == [
        tmp_path / "c1" / "sessions",
        tmp_path / "c2" / "archived_sessions",
    ]


def test_large_file_streams_in_bounded_memory(tmp_path: Path) -> None:
    """A 64 MiB file is read in chunks: peak RSS grows far less than the file size."""
    folder = claude_tree(tmp_path)
    line = claude_line("m", "r", "2025-11-01T10:00:00.000Z", text="z" * 4000)
    with (folder / "big.jsonl").open("w") as fh:
        for i in range(16_000):
            fh.write(line.replace('"m"', f'"m{i}"').replace('"r"', f'"r{i}"') + "\n")
    code = (
        "import resource, sys; from agentgauge.store import open_store; from pathlib import Path; "
        "from agentgauge.logs.index import refresh_index; "
        f"s = open_store({str(tmp_path / 'x.db')!r}, data_dir=Path({str(tmp_path)!r})); "
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        f"st = refresh_index(s, {{'HOME': {str(tmp_path)!r}}}, workers=1); "
        "print(st.entries, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": "src"},
    ).stdout.split()
    assert int(out[0]) == 16_000
    assert int(out[1]) < 40 * 1024  # KiB: well under the 64 MiB file

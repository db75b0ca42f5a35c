"""The fast paths of the log index give exactly what the reference paths give: the msgspec decoders
against orjson (on generated trees and on hand-made awkward lines), the cached timestamp parser
against ``datetime.fromisoformat``, the scanner's re-read chunks, and the per-project batches."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from agentgauge.logs import _base, _fast, reader_for
from agentgauge.logs._base import Malformed, scan_file
from agentgauge.logs.index import _batches, _Task, refresh_index
from agentgauge.store import open_store
from tests.loggen import Options, generate
from tests.test_logs_index import by_day_model, env_for, expected


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("speed") / "t"
    generate(Options(out=out, size_mb=6, seed=11))
    return out


@pytest.fixture
def decoder() -> Iterator[None]:
    """Leaves the process on the reference path whatever a test switched on."""
    yield
    _fast.deactivate()


def _scan_all(agent: str, tree: Path, fast: bool) -> tuple[Any, ...]:
    if fast:
        assert _fast.activate({})
    else:
        _fast.deactivate()
    reader = reader_for(agent)
    found = sorted(reader.files(reader.roots(env_for(tree), tree)))
    rows: dict[int, Any] = {}
    seen: set[bytes] = set()
    scans = [scan_file(reader, p, root, i + 1, 0, None, None, rows, seen) for i, (p, root, _) in enumerate(found)]
    per_file = [(s.path, s.end, s.malformed, s.state, s.session, s.project, s.sig) for s in scans]
    return rows, per_file


@pytest.mark.parametrize("agent", ["claude", "codex"])
def test_both_decoders_give_the_same_rows_and_file_states(tree: Path, agent: str, decoder: None) -> None:
    reference = _scan_all(agent, tree, fast=False)
    compiled = _scan_all(agent, tree, fast=True)
    assert len(reference[0]) > 200  # the tree has real content to compare
    assert compiled == reference


@pytest.mark.parametrize("choice", ["msgspec", "orjson"])
def test_index_matches_ground_truth_with_either_decoder(
    tree: Path, tmp_path: Path, choice: str, monkeypatch: pytest.MonkeyPatch, decoder: None
) -> None:
    from agentgauge.logs import index

    monkeypatch.setenv(_fast.ENV, choice)
    monkeypatch.setattr(_fast, "MIN_BYTES", 0)  # the small tree takes the path a large history takes
    monkeypatch.setattr(index, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(index, "BATCH_BYTES", 512 << 10)
    gt = json.loads((tree / "ground-truth.json").read_text())
    store = open_store(str(tmp_path / "idx.db"), data_dir=tmp_path)
    try:
        stats = refresh_index(store, env_for(tree), agents=["claude", "codex"], workers=2)
        assert _fast.active() is (choice == "msgspec")
        assert stats.malformed == gt["claude"]["malformed_usage_lines"] + gt["codex"]["malformed_usage_lines"]
        for agent in ("claude", "codex"):
            assert by_day_model(store, agent) == expected(gt, agent), agent
    finally:
        store.close()


def _claude(**over: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": False,
        "type": "assistant",
        "message": {
            "id": "msg_1",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "text", "text": "héllo"}],
            "usage": {
                "input_tokens": 10,
                "output_tokens": 5,
                "cache_creation_input_tokens": 7,
                "cache_read_input_tokens": 3,
                "cache_creation": {"ephemeral_5m_input_tokens": 4, "ephemeral_1h_input_tokens": 3},
            },
        },
        "requestId": "req_1",
        "timestamp": "2025-11-30T12:34:56.789Z",
    }
    for path, value in over.items():
        target = line
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[p]
        target[leaf] = value
    return line


def _codex(kind: str, payload: Any, ts: Any = "2025-11-30T12:00:01.000Z") -> dict[str, Any]:
    return {"timestamp": ts, "type": kind, "payload": payload}


def _usage(a: int, b: int, c: int, d: int) -> dict[str, int]:
    return {
        "input_tokens": a,
        "cached_input_tokens": b,
        "output_tokens": c,
        "reasoning_output_tokens": d,
        "total_tokens": a + c,
    }


def _enc(d: Any) -> bytes:
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode()


CLAUDE_LINES: list[bytes] = [
    _enc(_claude()),
    _enc(_claude(message__model="<synthetic>")),
    _enc(_claude(message__model="")),
    _enc(_claude(message__model=None)),
    _enc(_claude(message__model=5)),
    _enc(_claude(message__usage="12")),  # a shape the typed decoder refuses: handed to the reference
    _enc(_claude(message__usage=None)),
    _enc(_claude(message__usage=[1, 2])),
    _enc(_claude(message=[1])),
    _enc(_claude(message=None)),
    _enc(_claude(message__usage__input_tokens=1.0)),
    _enc(_claude(message__usage__input_tokens=True)),
    _enc(_claude(message__usage__input_tokens=-1)),
    _enc(_claude(message__usage__input_tokens=None)),
    _enc(_claude(message__usage__output_tokens=2**70)),  # orjson: a float; msgspec: an int; both refuse
    _enc(_claude(message__usage__cache_read_input_tokens=2**62)),
    _enc(_claude(message__usage__cache_creation=None)),
    _enc(_claude(message__usage__cache_creation=[1])),
    _enc(_claude(message__usage__cache_creation={"ephemeral_1h_input_tokens": "3"})),
    _enc(_claude(message__usage__cache_creation={"ephemeral_5m_input_tokens": 90, "ephemeral_1h_input_tokens": 20})),
    _enc(_claude(message__usage__speed="fast")),
    _enc(_claude(speed="fast")),
    _enc(_claude(message__speed="fast")),
    _enc(_claude(isSidechain=True)),
    _enc(_claude(isSidechain="true")),
    _enc(_claude(requestId=None)),
    _enc(_claude(requestId="")),
    _enc(_claude(message__id=7)),
    _enc(_claude(timestamp="2025-11-30T12:34:56Z")),
    _enc(_claude(timestamp="2025-11-30T12:34:56.789+02:00")),
    _enc(_claude(timestamp="2025-11-30 12:34:56.789Z")),
    _enc(_claude(timestamp="2025-11-30T12:34:61.789Z")),
    _enc(_claude(timestamp="2025-11-30T12:3４:56.789Z")),  # a non-ASCII digit
    _enc(_claude(timestamp="yesterday")),
    _enc(_claude(timestamp=1764506096)),
    _enc(_claude(timestamp=None)),
    _enc(_claude(message__usage__input_tokens=250_000)),
    _enc(_claude()).replace("héllo".encode(), b"h\xff\xfello"),  # invalid UTF-8 in a text block
    _enc(_claude(message__model="claude-opus-4-6")).replace(b'"model":"claude-opus-4-6"', b'"model":"claude-\xff"'),
    _enc(_claude())[:200],  # torn
    _enc(_claude()).replace(b'"text":"h', b'"text":"\\ud800h'),  # a lone surrogate escape
    _enc(_claude()).replace(b'"text":"h', b'"text":"\x01h'),  # a raw control character
    _enc(_claude()) + b" trailing",
    b'[{"usage":{}}]',
    b'"usage":{',
    _enc({"message": {"usage": {"input_tokens": 1}, "model": "m"}, "timestamp": "2025-11-30T12:00:00.000Z"}),
]

CODEX_LINES: list[bytes] = [
    _enc(_codex("session_meta", {"id": "thread-1", "cwd": "/w", "instructions": "x" * 500})),
    _enc(_codex("session_meta", {"id": "thread-parent", "cwd": "/p"})),
    _enc(_codex("session_meta", {"id": 5, "cwd": ["/w"]})),
    _enc(_codex("turn_context", {"model": "gpt-5-codex", "cwd": "/w"})),
    _enc(_codex("turn_context", {"model": None})),
    _enc(_codex("turn_context", {"model": ""})),
    _enc(_codex("turn_context", "text")),
    _enc(_codex("event_msg", {"type": "token_count", "info": None})),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": _usage(100, 40, 10, 2)}})),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": _usage(100, 40, 10, 2)}})),
    _enc(
        _codex(
            "event_msg",
            {
                "type": "token_count",
                "info": {"total_token_usage": _usage(150, 60, 20, 2), "last_token_usage": _usage(50, 20, 10, 0)},
            },
            ts="2025-11-30T12:00:09.000Z",
        )
    ),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"last_token_usage": _usage(5, 1, 1, 0)}})),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": _usage(90, 10, 5, 1)}})),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": {"input_tokens": 1.5}}})),
    _enc(_codex("event_msg", {"type": "token_count", "info": "none"})),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": _usage(2**70, 0, 0, 0)}})),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": _usage(900, 0, 9, 0)}}, ts=None)),
    _enc(_codex("event_msg", {"type": "agent_message", "message": "token_count"})),
    _enc(_codex("response_item", {"type": "message", "content": "turn_context"})),
    _enc(_codex("event_msg", [1, 2])),
    _enc(_codex("event_msg", None)),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": _usage(1000, 0, 9, 0)}}))[:90],
    _enc(_codex("turn_context", {"model": "gpt-5.1-codex", "note": "é"})).replace("é".encode(), b"\xff"),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": _usage(2000, 100, 30, 3)}})),
    b'["token_count"]',
    # info is typed down to its two totals in the compiled decoder: every other shape goes to the reference.
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": 5}})),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": None, "last_token_usage": None}})),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": [1, 2]}})),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"last_token_usage": "x", "total_token_usage": {}}})),
    _enc(_codex("event_msg", {"type": "token_count", "info": [_usage(1, 0, 1, 0)]})),
    _enc(_codex("event_msg", {"type": "token_count", "info": 7})),
    _enc(_codex("event_msg", {"type": "token_count"})),
    _enc(
        _codex(
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "total_token_usage": {**_usage(3000, 200, 40, 4), "input_tokens": None},
                    "last_token_usage": _usage(9, 1, 2, 0),
                    "model_context_window": 272000,
                },
                "rate_limits": {"primary": {"used_percent": 1.5, "window_minutes": 300}},
            },
        )
    ),
    _enc(
        _codex(
            "event_msg",
            {
                "type": "token_count",
                "info": {"total_token_usage": {**_usage(3100, 200, 45, 4), "cached_input_tokens": False}},
            },
        )
    ),
    _enc(
        _codex(
            "event_msg",
            {"type": "token_count", "info": {"total_token_usage": {**_usage(3200, 200, 50, 4), "output_tokens": 0.0}}},
        )
    ),
    _enc(
        _codex(
            "event_msg",
            {"type": "token_count", "info": {"total_token_usage": {**_usage(3300, 200, 55, 4), "output_tokens": True}}},
        )
    ),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": _usage(3400, 300, 60, 5)}}, ts=7)),
    _enc(_codex("event_msg", {"type": "token_count", "info": {"total_token_usage": _usage(3500, 300, 61, 5)}})).replace(
        b'"input_tokens":3500', b'"input_tokens":3500,"input_tokens":3600'
    ),  # a repeated key: the last wins
    _enc(_codex(5, {"type": "token_count", "info": {"total_token_usage": _usage(3700, 300, 62, 5)}})),
]


def _run_lines(agent: str, lines: list[bytes], fast: bool) -> list[Any]:
    """Each line through one reader's line parser in order (one context, like one file)."""
    reader = reader_for(agent)
    if fast:
        assert _fast.activate({})
    else:
        _fast.deactivate()
    parse = reader.line_parser()
    ctx = reader.context("/root/p/s.jsonl", "/root")
    ctx["file_id"] = 3
    out: list[Any] = []
    for offset, line in enumerate(lines):
        try:
            out.append(parse(line, offset, ctx))
        except Malformed:
            out.append("malformed")
    out.append({k: v for k, v in ctx.items() if k != "persist"})
    return out


@pytest.mark.parametrize(("agent", "lines"), [("claude", CLAUDE_LINES), ("codex", CODEX_LINES)])
def test_awkward_lines_read_the_same_by_both_decoders(agent: str, lines: list[bytes], decoder: None) -> None:
    reference = _run_lines(agent, lines, fast=False)
    assert _run_lines(agent, lines, fast=True) == reference
    produced = [r for r in reference[:-1] if isinstance(r, tuple)]
    assert len(produced) >= 5 and "malformed" in reference  # the list covers rows, refusals and bad JSON


def test_decoder_switch_is_off_by_request(decoder: None) -> None:
    reader = reader_for("claude")
    assert not _fast.activate({_fast.ENV: "orjson"})
    assert reader.line_parser() == reader.parse
    assert _fast.activate({})
    assert reader.line_parser() != reader.parse


def test_cached_timestamps_equal_fromisoformat() -> None:
    def slow(v: str) -> int | None:
        try:
            when = datetime.fromisoformat(v)
        except ValueError:
            return None
        return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())

    rng = random.Random(5)
    values = []
    for _ in range(3000):
        t = rng.randint(-86_400 * 3, 2_000_000_000)
        ms = rng.randint(0, 999)
        values.append(datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}Z")
    values += [
        "2025-11-30T12:34:60.000Z",
        "2025-11-30T12:60:00.000Z",
        "2025-11-30T12:34:56.78Z",
        "2025-11-30T12:34:56.7890Z",
        "2025-11-30T12:34:56.789+00:00",
        "2025-11-30T12:34:56.789",
        "2025-11-30T12:34:5_.789Z",
        "2025-11-30T12:34:56,789Z",
        "1969-12-31T23:59:59.500Z",
        "1970-01-01T00:00:00.500Z",
    ]
    rng.shuffle(values)
    for v in values + values:  # twice: the second time most hours are cached
        assert _base.parse_ts(v) == slow(v), v


def test_a_line_longer_than_the_chunk_and_an_unfinished_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_base, "CHUNK", 4096)
    big = _claude(message__id="msg_big", requestId="req_big")
    big["message"]["content"][0]["text"] = "z" * 20_000  # five chunks
    lines = [_enc(_claude(message__id=f"msg_{i}", requestId=f"req_{i}")) for i in range(50)]
    body = b"\n".join([*lines[:20], _enc(big), *lines[20:]]) + b"\n" + _enc(_claude(message__id="msg_tail"))[:60]
    path = tmp_path / "p" / "s.jsonl"
    path.parent.mkdir()
    path.write_bytes(body)
    scan = scan_file(reader_for("claude"), str(path), str(tmp_path), 1, 0, None, None)
    assert len(scan.rows) == 51
    assert scan.end == body.rindex(b"\n") + 1  # the unfinished line is left for the next run


def test_copies_in_other_files_of_a_batch_keep_the_sidechain_rule(tmp_path: Path) -> None:
    """A sidechain row never lets a later identical-signature line go unread: the later
    non-sidechain copy must win; a non-sidechain row does skip its verbatim copies."""
    reader = reader_for("claude")
    root = tmp_path / "projects"
    (root / "p").mkdir(parents=True)
    side = root / "p" / "a.jsonl"
    side.write_bytes(_enc(_claude(isSidechain=True)) + b"\n")
    main = root / "p" / "b.jsonl"
    main.write_bytes(_enc(_claude()) + b"\n")
    copy = root / "p" / "c.jsonl"
    copy.write_bytes(_enc(_claude(isSidechain=True)) + b"\n" + _enc(_claude()) + b"\n")
    rows: dict[int, Any] = {}
    seen: set[bytes] = set()
    for i, path in enumerate((side, main, copy), start=1):
        scan_file(reader, str(path), str(root), i, 0, None, None, rows, seen)
    (row,) = rows.values()
    assert row[_base.SIDECHAIN] == 0 and row[_base.FILE_ID] == 2  # the main file's copy, not the later one
    assert len(seen) == 1


def _task(path: str, root: str, size: int) -> _Task:
    return _Task(path, root, 1, 0, None, None, (0, 0, size, 0))


def test_batches_keep_a_projects_files_together(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentgauge.logs import index

    monkeypatch.setattr(index, "BATCH_BYTES", 100)
    root = os.sep + "r"
    tasks = [
        *(_task(os.path.join(root, "big", f"s{i}.jsonl"), root, 40) for i in range(5)),  # 200: split in parts
        *(_task(os.path.join(root, "mid", f"s{i}.jsonl"), root, 30) for i in range(2)),  # 60
        *(_task(os.path.join(root, "small", "x", f"s{i}.jsonl"), root, 10) for i in range(3)),  # 30: shares
    ]
    batches = _batches(tasks)
    assert sorted(t.path for b in batches for t in b) == sorted(t.path for t in tasks)
    sizes = [sum(t.stat[2] for t in b) for b in batches]
    assert all(s <= 100 for s in sizes) and sizes == sorted(sizes, reverse=True)
    for folder in ("mid", "small"):  # a folder that fits stays in one batch
        assert sum(any(os.sep + folder + os.sep in t.path for t in b) for b in batches) == 1
    # "big" in parts of 80, 80 and 40; first fit, largest first: 80 | 80 | 60 + 40 | 30
    assert sizes == [100, 80, 80, 30]


def test_store_only_import_of_the_fast_module_does_not_load_msgspec() -> None:
    """A warm run reads a few new lines: msgspec is imported only when a run has much to read."""
    import subprocess
    import sys

    code = (
        "import sys, agentgauge.logs.index, agentgauge.logs.claude, agentgauge.logs.codex; "
        "print('msgspec' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_the_collector_is_paused_during_a_large_build_and_restored() -> None:
    import gc

    from agentgauge.logs.index import _collector_paused

    assert gc.isenabled()
    with _collector_paused():
        assert not gc.isenabled()
        with _collector_paused():  # the in-process scan inside the parent's build
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), _collector_paused():
        raise KeyError("a failed build")
    assert gc.isenabled()
    with _collector_paused(False):  # a small refresh
        assert gc.isenabled()
    gc.disable()
    try:
        with _collector_paused():
            pass
        assert not gc.isenabled()  # left off, as the caller had it
    finally:
        gc.enable()

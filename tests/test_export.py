"""``agentgauge export`` as a real process against a real SQLite history: samples, the cycle ledger and
the forecast log as CSV (a header row, then the records) or a JSON array, the filters, ``--output``,
a reader that stops early, and the chunked encoder behind it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agentgauge.models import utc_iso
from agentgauge.query.cycles import ledger_rows
from agentgauge.query.export import CHUNK_ROWS, COLUMNS, export_chunks
from agentgauge.store import open_store

from .harness_web import FAR_FUTURE
from .test_cycles import aligned_now, build_history

History = tuple[Path, datetime]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    path = tmp_path_factory.mktemp("export") / "agentgauge.db"
    store = open_store(str(path), data_dir=path.parent)
    now = aligned_now()
    _, last = build_history(store, now, days=2)
    for snap in last:
        store.save_state(snap, next_allowed_at=FAR_FUTURE, failures=0)
    store.close()
    return path, now


def export(database: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENTGAUGE_DATABASE_URL": str(database)}
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", "export", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def iso(ts: int | None) -> str | None:
    return utc_iso(datetime.fromtimestamp(ts, UTC)) if ts is not None else None


def stored_samples(database: Path) -> list[dict[str, Any]]:
    store = open_store(str(database), data_dir=database.parent)
    try:
        out = []
        for provider, account, window in store.series():
            for s in store.samples(provider, account, window, datetime.fromtimestamp(0, UTC), datetime.now(UTC)):
                out.append(
                    {
                        "provider": provider,
                        "account": account,
                        "window": window,
                        "ts": iso(s.ts),
                        "used_pct": s.used_pct,
                        "resets_at": iso(s.resets_at),
                        "used": s.used,
                        "limit": s.limit,
                    }
                )
        return out
    finally:
        store.close()


def test_samples_as_csv_with_a_header_row_and_as_json(history: History) -> None:
    path, _ = history
    done = export(path)  # samples as CSV by default
    assert done.returncode == 0, done.stderr
    header, rows = csv_rows(done.stdout)
    assert tuple(header) == COLUMNS["samples"]
    want = stored_samples(path)
    assert len(rows) == len(want) > 300
    for got, row in zip(rows, want, strict=True):
        assert got == {k: "" if v is None else str(v) for k, v in row.items()}
    as_json = export(path, "--format", "json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == want


def test_cycles_and_forecasts(history: History) -> None:
    path, now = history
    done = export(path, "--what", "cycles", "--format", "json", "--provider", "claude", "--window", "session")
    assert done.returncode == 0, done.stderr
    exported = json.loads(done.stdout)
    store = open_store(str(path), data_dir=path.parent)
    try:
        epoch = datetime.fromtimestamp(0, UTC)
        ledger = ledger_rows(store, "claude", "default", "session", epoch, datetime.now(UTC), datetime.now(UTC))
        logged = store.forecast_log("codex", "work", "session", epoch, datetime.now(UTC))
    finally:
        store.close()

    def settled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:  # a running cycle's blocked time grows
        return [{k: v for k, v in r.items() if r["ended"] or k != "blocked_seconds"} for r in rows]

    assert settled(exported) == settled(ledger) and len(exported) >= 9
    assert any(r["hit_100_at"] for r in exported)
    as_csv = export(path, "--what", "cycles", "--provider", "claude", "--window", "session")
    header, rows = csv_rows(as_csv.stdout)
    assert tuple(header) == COLUMNS["cycles"] and len(rows) == len(exported)
    assert {r["ended"] for r in rows} == {"true", "false"}  # booleans in words
    assert [r["hit_100_at"] or None for r in rows] == [r["hit_100_at"] for r in exported]  # empty: never hit
    forecasts = json.loads(export(path, "--what", "forecasts", "--format", "json", "--provider", "codex").stdout)
    assert len(forecasts) == len(logged) > 100
    for got, (made, resets, used, p10, p50, p90, runs_out, verdict, model) in zip(forecasts, logged, strict=True):
        assert got == {
            "provider": "codex",
            "account": "work",
            "window": "session",
            "made_at": iso(made),
            "resets_at": iso(resets),
            "used_pct": used,
            "low_pct": p10,
            "expected_pct": p50,
            "high_pct": p90,
            "runs_out_at": iso(runs_out),
            "verdict": verdict,
            "model": model,
        }
    assert {f["verdict"] for f in forecasts} <= {"ok", "watch", "will_run_out", "surplus", "learning"}
    assert now.timestamp() - 1200 <= datetime.fromisoformat(forecasts[-1]["made_at"]).timestamp() <= now.timestamp()


def test_filters_and_the_time_range(history: History) -> None:
    path, now = history
    _, codex = csv_rows(export(path, "--provider", "codex").stdout)
    assert codex and {(r["provider"], r["account"], r["window"]) for r in codex} == {("codex", "work", "session")}
    _, weekly = csv_rows(export(path, "--window", "weekly").stdout)
    assert weekly and {r["window"] for r in weekly} == {"weekly"}
    since = now - timedelta(hours=6)
    _, recent = csv_rows(export(path, "--since", utc_iso(since) or "").stdout)
    _, everything = csv_rows(export(path).stdout)
    assert 0 < len(recent) < len(everything)
    assert all(r["ts"] >= (utc_iso(since) or "") for r in recent)
    asked = datetime.now(UTC)
    _, aged = csv_rows(export(path, "--since", "6h").stdout)  # an age counts back from the moment of the run
    assert aged and all(r in recent for r in aged)
    assert all(r["ts"] >= (utc_iso(asked - timedelta(hours=6)) or "") for r in aged)
    header, nothing = csv_rows(export(path, "--provider", "zai").stdout)
    assert tuple(header) == COLUMNS["samples"] and nothing == []  # a header row even when nothing matches
    assert json.loads(export(path, "--provider", "zai", "--format", "json").stdout) == []
    bad = export(path, "--what", "everything")
    assert bad.returncode == 2 and "everything" in bad.stderr


def test_output_file_is_written_whole(history: History, tmp_path: Path) -> None:
    path, _ = history
    target = tmp_path / "samples.csv"
    target.write_text("an older export\n")
    done = export(path, "--output", str(target))
    assert done.returncode == 0 and done.stdout == ""
    assert target.read_text() == export(path).stdout
    assert [p.name for p in tmp_path.iterdir()] == ["samples.csv"]  # no partial file left behind
    nowhere = export(path, "--output", str(tmp_path / "missing" / "samples.csv"))
    assert nowhere.returncode == 2 and "cannot write" in nowhere.stderr and "Traceback" not in nowhere.stderr


def test_a_reader_that_stops_early_is_no_error(tmp_path: Path) -> None:
    """`agentgauge export | head` : the export stops quietly when its reader goes away."""
    path = tmp_path / "big.db"
    store = open_store(str(path), data_dir=tmp_path)
    start = int(datetime.now(UTC).timestamp()) - 40_000 * 60
    store.bulk_load("claude", "default", "session", [(start + 60 * i, float(i % 100)) for i in range(40_000)])
    store.close()
    env = {**os.environ, "AGENTGAUGE_DATABASE_URL": str(path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgauge", "export", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    assert first == b"[\n"
    proc.stdout.close()  # the whole export is megabytes: the writer meets a closed pipe
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in stderr and "error" not in stderr


def test_chunks_bound_the_memory_and_decode_to_the_rows() -> None:
    rows = [
        {"provider": "p", "account": "a", "window": "w", "ts": f"t{i}", "used_pct": i / 3, "resets_at": None}
        for i in range(CHUNK_ROWS * 2 + 7)
    ]
    chunks = list(export_chunks("csv", "samples", iter(rows)))
    assert len(chunks) == 3  # a chunk per CHUNK_ROWS rows, the rest in the last
    header, parsed = csv_rows(b"".join(chunks).decode())
    assert tuple(header) == COLUMNS["samples"] and len(parsed) == len(rows)
    assert parsed[4] == {
        **{k: str(v) for k, v in rows[4].items() if v is not None},
        "resets_at": "",
        "used": "",
        "limit": "",
    }
    chunks = list(export_chunks("json", "samples", iter(rows)))
    assert len(chunks) >= 3
    decoded = json.loads(b"".join(chunks))
    assert decoded[4] == {**rows[4], "used": None, "limit": None}
    assert json.loads(b"".join(export_chunks("json", "cycles", iter([])))) == []

"""What the writers of the other agents share: their ground-truth fields (the readers' normalised row:
input without the cache, output with reasoning inside, cache write, cache read, reasoning), random
calls over the generator's time span, and files written whole (JSON documents, SQLite databases)
as well as line by line.

Each agent module writes the agent's real format with the duplicates that agent really produces
(rewritten messages, copied sessions, replayed events...) and tallies every call once, at the time
and under the model a correct reader must report.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from .base import AgentWriter, LogFile, weighted

FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "reasoning_output_tokens",
)


class Usage(NamedTuple):
    """A call's tokens as the readers store them (``output`` includes ``reasoning``)."""

    input: int
    output: int
    cache_write: int
    cache_read: int
    reasoning: int


class SimpleWriter(AgentWriter):
    """An agent whose calls are drawn independently: subclasses set ``models`` and implement
    ``write_one`` with the helpers below."""

    share = 1
    token_fields = FIELDS
    usage_marker = ""
    models: ClassVar[tuple[tuple[str, int], ...]]

    def derived(self, cell: dict[str, int]) -> dict[str, int]:
        return {
            "total_tokens": cell["input_tokens"]
            + cell["output_tokens"]
            + cell["cache_creation_input_tokens"]
            + cell["cache_read_input_tokens"]
        }

    def model(self) -> str:
        return weighted(self.rng, self.models)

    def start(self, hours: int = 6) -> int:
        """A session's first millisecond, leaving ``hours`` before the end of the span."""
        return self.rng.randrange(self.start_ms, self.end_ms - hours * 3_600_000)

    def usage(self, *, cache_write: bool = True, reasoning: bool = False) -> Usage:
        r = self.rng
        inp = r.randint(1, 4_000) if r.random() < 0.7 else r.randint(4_000, 60_000)
        out = r.randint(20, 3_000)
        reas = r.randint(0, out) if reasoning and r.random() < 0.6 else 0
        cw = r.randint(0, 20_000) if cache_write and r.random() < 0.4 else 0
        cr = r.randint(1_000, 150_000) if r.random() < 0.75 else 0
        return Usage(inp, out + reas, cw, cr, reas)

    def count(self, ms: int, model: str, u: Usage) -> None:
        self.tally.add(ms, model, u)

    # -- files ----------------------------------------------------------------------------------

    def write_bytes(self, path: Path, data: bytes, lines: int = 1) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.counts["files"] += 1
        self.counts["bytes"] += len(data)
        self.counts["lines"] += lines

    def write_json(self, path: Path, obj: Any, *, pretty: bool = False) -> None:
        text = json.dumps(obj, indent=1 if pretty else None, separators=None if pretty else (",", ":"))
        self.write_bytes(path, text.encode(), text.count("\n") + 1)

    def write_lines(self, path: Path, lines: list[str]) -> None:
        log = LogFile()
        for line in lines:
            log.add(line)
        self.emit(path, log)

    def write_database(self, path: Path, script: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        """A SQLite database in WAL mode, as the agents keep theirs, with its tables' rows."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(script)
        for table, values in rows.items():
            if values:
                marks = ", ".join("?" * len(values[0]))
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        self.counts["files"] += 1
        self.counts["bytes"] += path.stat().st_size
        self.counts["lines"] += sum(len(v) for v in rows.values())


def compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)

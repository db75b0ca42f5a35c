"""What every agent writer shares: options, the writer interface, a log file being built, exact tallies.

Times are integer epoch milliseconds (UTC) throughout; the ground truth buckets by UTC day.
"""

from __future__ import annotations

import json
import random
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

MIB = 1 << 20
DAY_MS = 86_400_000
DEFAULT_END = date(2025, 11, 30)


@dataclass(frozen=True)
class Options:
    out: Path
    size_mb: float = 10.0
    seed: int = 0
    days: int = 30
    end: date = DEFAULT_END
    agents: tuple[str, ...] = ()  # empty: every registered agent


def dumps(obj: Any) -> str:
    """Compact JSON, raw UTF-8, as the agents write it (readers look for byte markers like ``"usage":{``)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def iso(ms: int) -> str:
    """``2025-11-30T12:34:56.789Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def utc_day(ms: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ms // 1000))


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(rng: random.Random, n: int) -> str:
    value = rng.getrandbits(6 * n)
    out = []
    for _ in range(n):
        value, digit = divmod(value, 62)
        out.append(_B62[digit])
    return "".join(out)


def uuid4(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


_WORD_TEXT = (
    "the a of to and in is it for on with as this that be by from or not are was can return value error "
    "test file config import class def function module build data type string list dict update fix src "
    "lib main index util handler request response token cache session model user tool result output "
    "input parse load save run check path line json log debug warn info async await self None True False "
    "raise except finally yield lambda café naïve → ✓ 日本語 résumé"
)
_WORDS = _WORD_TEXT.split()


class TextPool:
    """A few MB of word salad and of base62 noise; bodies and opaque blobs (signatures, encrypted
    reasoning) are slices of them: slicing is far cheaper than building text per line."""

    def __init__(self, rng: random.Random, size: int = 1 << 21) -> None:
        n = size // 6
        words = rng.choices(_WORDS, k=n)
        seps = rng.choices((" ", "\n"), weights=(96, 4), k=n)
        self.text = "".join([w + s for w, s in zip(words, seps, strict=True)])
        self.noise = "".join(rng.choices(_B62 + "+/", k=size // 4))
        self.rng = rng

    def take(self, n: int) -> str:
        n = max(1, min(n, len(self.text) - 1))
        start = self.rng.randrange(0, len(self.text) - n)
        return self.text[start : start + n]

    def blob(self, n: int) -> str:
        n = max(1, min(n, len(self.noise) - 1))
        start = self.rng.randrange(0, len(self.noise) - n)
        return self.noise[start : start + n]


class LogFile:
    """One JSONL file being built: lines, which of them are torn, and whether the last is unterminated."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.torn: set[int] = set()
        self.truncated_tail = False

    def add(self, line: str) -> int:
        self.lines.append(line)
        return len(self.lines) - 1

    def intact(self, index: int) -> bool:
        return index not in self.torn and not (self.truncated_tail and index == len(self.lines) - 1)

    def tear(self, index: int, rng: random.Random) -> None:
        """Keep a random prefix of the line (a write interrupted mid-line); it stays newline-terminated
        unless it is the file's unterminated tail."""
        line = self.lines[index]
        self.lines[index] = line[: rng.randint(1, len(line) - 1)]
        self.torn.add(index)

    def truncate_tail(self, rng: random.Random) -> None:
        """The process died while writing the last line: a torn prefix, no newline after it."""
        self.tear(len(self.lines) - 1, rng)
        self.truncated_tail = True

    def encode(self) -> bytes:
        body = "\n".join(self.lines)
        return (body if self.truncated_tail else body + "\n").encode()


class Tally:
    """Exact totals per (UTC day, model): the token fields of one agent plus the entry count."""

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.cells: dict[tuple[str, str], list[int]] = {}

    def add(self, ms: int, model: str, values: Sequence[int]) -> None:
        cell = self.cells.get((utc_day(ms), model))
        if cell is None:
            cell = self.cells[(utc_day(ms), model)] = [0] * (len(self.fields) + 1)
        for i, v in enumerate(values):
            cell[i] += v
        cell[-1] += 1


class AgentWriter(ABC):
    """One agent's log tree and its ground truth. Subclasses set the class attributes, implement
    ``write_one`` (one session or conversation, any number of files) and ``derived``, and are listed
    in ``tests.loggen.registry.WRITERS``."""

    name: ClassVar[str]
    share: ClassVar[int]  # relative share of the bytes when several agents are written
    token_fields: ClassVar[tuple[str, ...]]
    # A torn line holding this marker is one a reader sees as a malformed usage line.
    usage_marker: ClassVar[str]

    def __init__(self, opts: Options, budget: int) -> None:
        self.opts, self.budget = opts, budget
        self.rng = random.Random(f"loggen:{opts.seed}:{self.name}")  # str seeds hash the same in every process
        self.text = TextPool(self.rng)
        start = datetime.combine(opts.end - timedelta(days=opts.days - 1), datetime.min.time(), UTC)
        self.start_ms = int(start.timestamp() * 1000)
        self.end_ms = self.start_ms + opts.days * DAY_MS - 1  # the last millisecond of the last day
        self.counts: Counter[str] = Counter()
        for key in ("files", "bytes", "lines", "malformed_lines", "truncated_lines", "malformed_usage_lines"):
            self.counts[key] = 0
        self.tally = Tally(self.token_fields)

    def run(self) -> None:
        while self.counts["bytes"] < self.budget:
            self.write_one()

    @abstractmethod
    def write_one(self) -> None:
        """Write one unit of history (a session and whatever descends from it)."""

    @abstractmethod
    def derived(self, cell: dict[str, int]) -> dict[str, int]:
        """Fields computed from the token fields (``total_tokens``...), added to every cell."""

    def emit(self, path: Path, log: LogFile) -> None:
        """Write the file and count its lines, bytes and damage."""
        data = log.encode()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.counts["files"] += 1
        self.counts["bytes"] += len(data)
        self.counts["lines"] += len(log.lines)
        last = len(log.lines) - 1
        for i in log.torn:
            if log.truncated_tail and i == last:
                self.counts["truncated_lines"] += 1
                continue
            self.counts["malformed_lines"] += 1
            if self.usage_marker in log.lines[i]:
                self.counts["malformed_usage_lines"] += 1

    def ground_truth(self) -> dict[str, Any]:
        def cell(values: Sequence[int]) -> dict[str, int]:
            out = dict(zip(self.tally.fields, values[:-1], strict=True))
            out["entries"] = values[-1]
            out.update(self.derived(out))
            return out

        def summed(rows: list[list[int]]) -> list[int]:
            return [sum(col) for col in zip(*rows, strict=True)] if rows else [0] * (len(self.tally.fields) + 1)

        cells = self.tally.cells
        days = sorted({d for d, _ in cells})
        models = sorted({m for _, m in cells})
        return {
            **dict(sorted(self.counts.items())),
            "totals": cell(summed(list(cells.values()))),
            "by_model": {m: cell(summed([v for (_, mm), v in cells.items() if mm == m])) for m in models},
            "by_day": {
                d: {
                    "totals": cell(summed([v for (dd, _), v in cells.items() if dd == d])),
                    "models": {m: cell(v) for (dd, m), v in sorted(cells.items()) if dd == d},
                }
                for d in days
            },
        }

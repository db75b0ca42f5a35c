"""The reader interface and the streaming line scanner every reader shares.

A reader knows where one agent keeps its logs, which byte markers make a line worth parsing and
how to turn such a line into a usage row. The scanner owns the file I/O: it reads large binary
chunks, looks for the markers with ``bytes.find`` (lines without one are never decoded), and
stops at the last complete line, so a line still being written is left for the next run.
"""

from __future__ import annotations

import os
import re
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

# One usage row, as a plain tuple: rows cross process boundaries by the hundred thousand, and
# tuples pickle and executemany far faster than objects. The session and project are per file
# (``FileScan``), not per row. Field positions:
KEY, TS, MODEL, INPUT, OUTPUT, CACHE_WRITE, CACHE_WRITE_1H, CACHE_READ, REASONING, SIDECHAIN, LONG_CTX, FILE_ID = range(
    12
)
Row = tuple[Any, ...]
# A file as the walk saw it: (path, root, (dev, ino, size, mtime_ns)).
Found = tuple[str, str, tuple[int, int, int, int]]
# What the scanner calls per candidate line: (line, file offset, per-file context) -> row or None.
LineParser = Callable[[bytes, int, dict[str, Any]], "Row | None"]

try:  # the C module itself: ``hashlib`` would load OpenSSL first (~2 ms on every run)
    from _blake2 import blake2b as _blake2b
except ImportError:  # pragma: no cover - CPython always has it
    from hashlib import blake2b as _blake2b

CHUNK = 1 << 20  # 1 MiB reads: few syscalls, and the buffers stay in cache (larger ones were slower with two workers)
LONG_CONTEXT = 200_000  # input above this is billed at the long-context tier (whole request)
MAX_TOKENS = 1 << 53  # an entry's tokens at or above this are not a count (and would overflow the sums)


class Malformed(Exception):
    """A candidate line that is not valid JSON (counted per file, never fatal)."""


class FileScan:
    """What one pass over one file produced. A slotted class, not a dataclass: it is pickled back
    from the workers, and every run imports this module (dataclass creation costs import time)."""

    __slots__ = ("end", "file_id", "malformed", "path", "project", "reset", "rows", "session", "sig", "start", "state")

    def __init__(self, path: str, file_id: int, start: int, *, session: str, project: str) -> None:
        self.path, self.file_id = path, file_id
        self.start = start
        self.end = start  # offset just after the last complete line consumed
        self.rows: dict[int, Row] = {}
        self.malformed = 0
        self.state: dict[str, Any] | None = None
        self.sig = ""
        self.reset = False  # the content before ``start`` changed: the file was rewritten
        self.session, self.project = session, project


class Reader(ABC):
    """One agent's logs. Subclasses set the class attributes and implement ``roots``,
    ``context`` and ``parse``; register the class in ``agentgauge.logs.READERS``."""

    agent: ClassVar[str]
    provider: ClassVar[str]  # genai-prices provider id
    markers: ClassVar[tuple[bytes, ...]]
    # Repeats to drop unparsed (single-marker readers): when set, a candidate's signature is its
    # bytes from the marker to the end of the string value of this JSON field after it, and a
    # line whose signature an earlier line of the same pass turned into a row is skipped.
    repeat_field: ClassVar[bytes | None] = None
    # With ``repeat_field``: a line is also skipped when its signature produced a row in an earlier
    # file of the same batch, if that row can never lose to the repeat (``prefer`` is False for any
    # row with the same signature whose SIDECHAIN is not lower: Claude's resumed sessions copy
    # their parent's lines verbatim).
    repeat_across_files: ClassVar[bool] = False
    # For messages: the agent's name, the variables that move its logs, and ``defaults`` below.
    title: ClassVar[str] = ""
    variables: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]: ...

    @abstractmethod
    def context(self, path: str, root: str) -> dict[str, Any]:
        """Per-file context for ``parse``, derived from the path; it must hold ``session`` and
        ``project`` (stored per file; ``parse`` may update them from the file's contents)."""
        ...

    @abstractmethod
    def parse(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        """Return a row, None for a line that carries no billable usage, or raise Malformed."""
        ...

    @abstractmethod
    def prefer(self, new: Row, old: Row) -> bool:
        """Whether ``new`` replaces ``old``, a row with the same key (seen earlier or stored)."""
        ...

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        """Where the logs are looked for when no variable moves them (said when none were found)."""
        return []

    def line_parser(self) -> LineParser:
        """The function the scanner calls per candidate line: ``parse`` unless the reader has a
        faster path that gives the same rows (Claude and Codex: a compiled decoder)."""
        return self.parse

    def files(self, roots: Iterable[Path]) -> list[Found]:
        """Every ``*.jsonl`` under the roots, recursively, with its stat, in one walk. Plain
        strings, not ``Path`` objects: a warm run walks thousands of files and reads none."""
        found: list[Found] = []
        seen: set[str] = set()
        for root in roots:
            top = str(root)
            stack = [top]
            while stack:
                folder = stack.pop()
                try:
                    with os.scandir(folder) as it:
                        for entry in it:
                            if entry.is_dir(follow_symlinks=False):
                                stack.append(entry.path)
                            elif entry.name.endswith(".jsonl") and entry.path not in seen:
                                try:
                                    st = entry.stat()
                                except OSError:
                                    continue  # removed between the listing and the stat
                                seen.add(entry.path)
                                found.append((entry.path, top, (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)))
                except OSError:
                    continue  # a folder removed or unreadable mid-scan is not fatal
        return found


class WholeFileReader(Reader):
    """A reader of files that are not append-only (a JSON document rewritten in place, an SQLite
    database): each is read whole by ``scan_whole`` whenever its stat changes, instead of line by
    line from the last offset by the shared scanner (``is_whole`` may leave some files to it)."""

    markers: ClassVar[tuple[bytes, ...]] = ()

    def is_whole(self, path: str) -> bool:
        """Whether ``path`` is read whole (every file, unless a reader also has append-only ones)."""
        return True

    def parse(self, line: bytes, offset: int, ctx: dict[str, Any]) -> Row | None:
        return None  # called only for files ``is_whole`` leaves to the shared scanner

    @abstractmethod
    def scan_whole(
        self, path: str, root: str, file_id: int, state: dict[str, Any] | None, rows: dict[int, Row] | None
    ) -> FileScan:
        """Read a whole file (or database) into a ``FileScan`` whose ``end`` is 0, so the next change
        reads it whole again; ``state`` is what the previous read left in ``FileScan.state``."""


def key_id(key: str) -> int:
    """A row's dedupe key (a message id, a cumulative total...) as a signed 64-bit integer: the
    first 8 bytes of its BLAKE2b digest. Integers make the rows, the unique index and the
    worker-to-parent traffic several times smaller than the strings. Two different keys collide
    with probability about n^2 / 2^65 (~4e-10 for a million entries in one agent's history)."""
    return int.from_bytes(_blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


# ``:MM:SS.fffZ`` after a cached hour: what Claude Code and Codex write (ASCII digits only).
_MINUTES = re.compile(rb":[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z".decode(), re.ASCII).fullmatch
_HOURS: dict[str, int] = {}  # "YYYY-MM-DDTHH" -> epoch seconds of that UTC hour, per process


def parse_ts(value: Any) -> int | None:
    """ISO-8601 (with ``Z``) to epoch seconds; seconds are enough for every report. The usual
    shape is read from a per-hour cache (one regex match instead of building a datetime)."""
    if type(value) is str and len(value) == 24:
        hour = _HOURS.get(value[:13])
        if hour is not None and _MINUTES(value, 13):
            return hour + int(value[14:16]) * 60 + int(value[17:19])
    return _parse_ts(value)


def _parse_ts(value: Any) -> int | None:
    if not isinstance(value, str) or len(value) < 19:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # agents write UTC; a bare time is read as UTC too
    seconds = int(when.timestamp())
    if len(value) == 24 and type(value) is str and _MINUTES(value, 13) and len(_HOURS) < 100_000:
        # The hour is cached only as fromisoformat reads the same text with ":00:00Z" (so any
        # "<hour>:MM:SS.fffZ" is that hour plus MM:SS), and never before 1970 (where int() of a
        # fractional timestamp rounds up, not down).
        try:
            hour = int(datetime.fromisoformat(value[:13] + ":00:00Z").timestamp())
        except ValueError:
            return seconds
        if hour >= 0 and hour + int(value[14:16]) * 60 + int(value[17:19]) == seconds:
            _HOURS[value[:13]] = hour
    return seconds


def signature(fd: int, end: int) -> str:
    """A cheap fingerprint of the bytes already consumed (head and the bytes before ``end``),
    so a file rewritten in place to the same or a larger size is noticed and re-read."""
    head = os.pread(fd, 64, 0)
    tail = os.pread(fd, 64, max(0, end - 64)) if end > 64 else b""
    # Two CRC-32s (zlib, not hashlib: importing hashlib loads OpenSSL, ~2 ms on every run) are
    # plenty to notice an accidental rewrite; nothing here needs to resist a forger.
    return f"{zlib.crc32(head):08x}{zlib.crc32(tail, zlib.crc32(str(end).encode())):08x}"


def relative_parts(path: str, root: str) -> list[str]:
    """``path``'s components below ``root``, with string operations: ``Path.relative_to`` cost
    ~20 us a file, paid for thousands of files on a cold run."""
    if path.startswith(root) and path[len(root) : len(root) + 1] == os.sep:
        return path[len(root) + 1 :].split(os.sep)
    return list(Path(path).relative_to(root).parts)


def scan_file(
    reader: Reader,
    path: str,
    root: str,
    file_id: int,
    start: int,
    state: dict[str, Any] | None,
    expected_sig: str | None,
    rows: dict[int, Row] | None = None,
    batch_seen: set[bytes] | None = None,
) -> FileScan:
    """Read ``path`` from ``start`` to its last complete line; restart at 0 if the consumed part changed.
    ``rows``, when given, is shared with the scans before it (a batch): a key met there is
    resolved by ``prefer`` here, exactly as if those scans' rows were merged one by one.
    ``batch_seen`` is shared the same way (see ``Reader.repeat_across_files``)."""
    if isinstance(reader, WholeFileReader) and reader.is_whole(path):
        return reader.scan_whole(path, root, file_id, state, rows)
    ctx = reader.context(path, root)
    ctx["file_id"] = file_id
    result = FileScan(path, file_id, start, session=ctx["session"], project=ctx["project"])
    if rows is not None:
        result.rows = rows
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return result
    try:
        if start and (expected_sig is None or signature(fd, start) != expected_sig):
            start, state, result.reset = 0, None, True
            result.start = result.end = 0
        if state:
            ctx.update(state)
        _scan(reader, fd, start, ctx, result, batch_seen)
        result.sig = signature(fd, result.end) if result.end else ""
    finally:
        os.close(fd)
    result.state = {k: ctx[k] for k in ctx.get("persist", ())}
    result.session, result.project = ctx["session"], ctx["project"]
    return result


def _scan(
    reader: Reader, fd: int, start: int, ctx: dict[str, Any], result: FileScan, batch_seen: set[bytes] | None
) -> None:
    markers = reader.markers
    prefer = reader.prefer
    parse = reader.line_parser()
    # Signature dedupe is inlined here rather than a reader hook: it runs for every candidate
    # (~300k on a 768 MB history) and a method call each was a measurable share of the scan.
    field = reader.repeat_field if len(markers) == 1 else None
    skip = len(field) if field else 0
    seen: set[bytes] = set()
    shared: set[bytes] = batch_seen if batch_seen is not None and reader.repeat_across_files else set()
    rows = result.rows
    base = start  # file offset of buf[0]
    size = CHUNK
    while True:
        # Each read starts at the first byte not consumed: the partial line a chunk ends with is
        # read again with the next one (~1 KB a MiB) instead of being copied and joined.
        buf = os.pread(fd, size, base)
        cut = buf.rfind(b"\n") + 1  # only complete lines are processed
        if not cut:
            if len(buf) < size:
                break  # the end of the file, inside a line still being written
            size *= 2  # one line longer than the chunk: read more at once until it ends
            continue
        size = CHUNK
        # Hunt markers with bytes.find (C speed) and cut out only the lines that hold one;
        # splitting every line was 2x slower (an allocation per line).
        if field is None:
            # Markers searched one by one (a regex alternation stops at each of their common
            # first bytes, a quote in JSON: several times slower), a line handled at its first.
            if len(markers) == 1:
                hits = []
                m = markers[0]
                h = buf.find(m, 0, cut)
                while h >= 0:
                    hits.append(h)
                    h = buf.find(b"\n", h, cut)  # one hit per line: resume at its end
                    h = buf.find(m, h, cut)
            else:
                hits = _hits(buf, markers, cut)
            e = -1
            for hit in hits:
                if hit > e:
                    e = buf.find(b"\n", hit, cut)
                    s = buf.rfind(b"\n", 0, hit) + 1
                    _take(parse, prefer, buf[s:e], base + s, ctx, result)
            base += cut
            continue
        hit = buf.find(markers[0], 0, cut)
        while hit >= 0:
            e = buf.find(b"\n", hit, cut)  # hit is the line's first marker: search resumes at line ends
            sig = None
            if (r := buf.find(field, hit, e)) >= 0 and (q := buf.find(b'"', r + skip, e)) >= 0:
                sig = buf[hit:q]
            if sig is None or (sig not in seen and sig not in shared):
                s = buf.rfind(b"\n", 0, hit) + 1
                row = _take(parse, prefer, buf[s:e], base + s, ctx, result)
                if row is not None and sig is not None:
                    seen.add(sig)  # only once a row came out: a torn copy must not hide the intact line
                    if not row[SIDECHAIN] and rows.get(row[KEY]) is row:
                        shared.add(sig)
            hit = buf.find(markers[0], e, cut)
        base += cut
    result.end = base


def _hits(buf: bytes, markers: Sequence[bytes], cut: int) -> list[int]:
    """Where any of ``markers`` occurs in ``buf[:cut]``, in order."""
    hits: list[int] = []
    for m in markers:
        n = len(m)
        h = buf.find(m, 0, cut)
        while h >= 0:
            hits.append(h)
            h = buf.find(m, h + n, cut)
    hits.sort()
    return hits


def _take(parse: Any, prefer: Any, line: bytes, offset: int, ctx: dict[str, Any], result: FileScan) -> Row | None:
    """Parse one candidate line into ``result``; the row it produced, if any."""
    try:
        row = parse(line, offset, ctx)
    except Malformed:
        result.malformed += 1
        return None
    if row is None:
        return None
    old = result.rows.get(row[KEY])
    if old is None or prefer(row, old):
        result.rows[row[KEY]] = row
    return row

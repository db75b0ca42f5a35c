"""Readers of whole files: JSON documents an agent rewrites in place (a thread, a session's
settings, a chat history), read whole each time their size or modification time changes.

Their stat is reported without device and inode (``(0, 0, size, mtime_ns)``): agents replace such
files by writing a new file and renaming it over the old one, which must not look like the
rewrite of an append-only log (that makes the index re-read the whole agent). A document's rows
are keyed by the records' own ids, so reading it again replaces its rows instead of adding to them.
"""

from __future__ import annotations

import os
import zlib
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from ._base import FileScan, Found, Malformed, Reader, Row, WholeFileReader, relative_parts

__all__ = ["DocumentReader", "LinesReader", "relative_parts", "walk"]


def walk(
    roots: Iterable[Path], accept: Callable[[str], bool], *, whole: bool | Callable[[str], bool] = False
) -> list[Found]:
    """Every file under the roots whose name ``accept``s, recursively, with its stat (symlinked
    folders are not followed); a root that is a file is taken as it is. ``whole`` (for every name,
    or those it accepts) reports the stat of a whole-file document."""
    found: list[Found] = []
    seen: set[str] = set()
    for root in roots:
        top = str(root)
        if os.path.isfile(top):
            try:
                st = os.stat(top)
            except OSError:
                continue
            if top not in seen:
                seen.add(top)
                doc = whole(os.path.basename(top)) if callable(whole) else whole
                found.append((top, os.path.dirname(top), _stat(st, doc)))
            continue
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(folder) as it:
                    for entry in it:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif accept(entry.name) and entry.path not in seen:
                            try:
                                st = entry.stat()
                            except OSError:
                                continue
                            seen.add(entry.path)
                            doc = whole(entry.name) if callable(whole) else whole
                            found.append((entry.path, top, _stat(st, doc)))
            except OSError:
                continue
    return found


def _stat(st: os.stat_result, whole: bool) -> tuple[int, int, int, int]:
    if whole:
        return (0, 0, st.st_size, st.st_mtime_ns)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def existing(paths: Iterable[Path]) -> list[Path]:
    """The folders that exist, each once (by real path), in order."""
    out: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        try:
            real = path.resolve()
        except OSError:
            continue
        if path.is_dir() and real not in seen:
            seen.add(real)
            out.append(path)
    return out


def env_paths(value: str | None) -> list[Path]:
    """A comma-separated list of paths from a variable ('' when unset), ``~`` expanded."""
    return [Path(p.strip()).expanduser() for p in (value or "").split(",") if p.strip()]


class DocumentReader(WholeFileReader):
    """A reader whose files are JSON documents read whole. Subclasses implement ``roots``,
    ``accept`` (which file names are documents), ``context`` and ``rows_of``."""

    def accept(self, name: str) -> bool:
        return name.endswith(".json")

    def files(self, roots: Iterable[Path]) -> list[Found]:
        return walk(roots, self.accept, whole=True)

    @abstractmethod
    def rows_of(self, data: bytes, ctx: dict[str, Any]) -> Iterator[Row]:
        """The rows of one document (``ctx`` holds ``file_id`` and may be given ``session`` and
        ``project``); raise ``Malformed`` for a document that is not valid JSON."""

    def scan_whole(
        self, path: str, root: str, file_id: int, state: dict[str, Any] | None, rows: dict[int, Row] | None
    ) -> FileScan:
        ctx = self.context(path, root)
        ctx["file_id"] = file_id
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            data = None
        return collect(
            self, path, file_id, ctx, rows, lambda: self.rows_of(data, ctx) if data is not None else iter(())
        )


def collect(
    reader: Reader,
    path: str,
    file_id: int,
    ctx: dict[str, Any],
    rows: dict[int, Row] | None,
    produce: Callable[[], Iterable[Row]],
) -> FileScan:
    """Run ``produce`` and merge its rows into a ``FileScan`` with ``prefer``; a ``Malformed`` from
    it counts once and keeps the rows produced before it."""
    result = FileScan(path, file_id, 0, session=ctx.get("session", ""), project=ctx.get("project", ""))
    if rows is not None:
        result.rows = rows
    merged, prefer = result.rows, reader.prefer
    try:
        for r in produce():
            old = merged.get(r[0])
            if old is None or prefer(r, old):
                merged[r[0]] = r
    except Malformed:
        result.malformed += 1
    result.malformed += int(ctx.get("bad", 0))
    result.session, result.project = ctx.get("session", ""), ctx.get("project", "")
    state = {k: ctx[k] for k in ctx.get("persist", ()) if k in ctx}
    result.state = state or None
    return result


class LinesReader(WholeFileReader):
    """Append-only JSON lines read incrementally here rather than by the shared scanner, for agents
    whose one line can hold several entries (several models in one turn) or whose entries are
    chosen across lines. The offset read so far, a fingerprint of the file's head (a rewritten file
    is read again from the start: its rows keep their keys) and the context keys named in
    ``persist`` are the file's state. Only complete lines are consumed. Subclasses implement
    ``lines_of``; ``markers`` pick the lines worth parsing."""

    @abstractmethod
    def lines_of(self, line: bytes, ctx: dict[str, Any]) -> Iterable[Row]:
        """The rows of one complete line (a line may hold several entries, or none)."""

    def scan_whole(
        self, path: str, root: str, file_id: int, state: dict[str, Any] | None, rows: dict[int, Row] | None
    ) -> FileScan:
        ctx = self.context(path, root)
        ctx["file_id"] = file_id
        offset, data, head = 0, b"", 0
        try:
            with open(path, "rb") as f:
                head = zlib.crc32(f.read(64))
                size = os.fstat(f.fileno()).st_size
                if state and state.get("head") == head and 0 < state.get("offset", 0) <= size:
                    offset = state["offset"]
                    ctx.update(state.get("ctx") or {})
                f.seek(offset)
                data = f.read()
        except OSError:
            pass
        cut = data.rfind(b"\n") + 1
        markers = self.markers

        def produce() -> Iterator[Row]:
            for line in data[:cut].split(b"\n"):
                if markers and not any(m in line for m in markers):
                    continue
                try:
                    yield from self.lines_of(line, ctx)
                except Malformed:
                    ctx["bad"] = ctx.get("bad", 0) + 1

        result = collect(self, path, file_id, ctx, rows, produce)
        kept = {k: ctx[k] for k in ctx.get("persist", ()) if k in ctx}
        result.state = {"offset": offset + cut, "head": head, "ctx": kept}
        return result

"""OpenCode: ``opencode.db`` (SQLite, current versions; ``opencode-<channel>.db`` for other release
channels) and the legacy JSON layout ``storage/message/<session>/msg_*.json``.

Checked against OpenCode's schema (``session.sql.ts``): table ``message`` (``id``, ``session_id``,
``time_created``, ``time_updated`` in epoch ms, ``data`` JSON) and ``session`` (``directory``). An
assistant message's ``data`` holds ``modelID``, ``providerID``, ``time.created`` and ``tokens``
``{input, output, reasoning, cache: {read, write}}``: ``input`` already excludes the cache and
``reasoning`` is apart from ``output`` (OpenCode bills it at the output rate), so here output =
output + reasoning. Its own ``cost`` (often 0) is not used: costs come from the same price table
as every other agent.

Dedupe: one entry per message id. A message is rewritten while it streams (its tokens grow), so
the larger copy wins; a message both in the database and in a legacy file counts once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import Malformed, Row, relative_parts
from ._doc import DocumentReader, env_paths, existing
from ._sqlite import DatabaseReader, Session, columns

if TYPE_CHECKING:
    import sqlite3

from ._values import larger_wins, loads, num, obj, row, seconds, text


def share_dir(env: Mapping[str, str], home: Path) -> Path:
    """``$XDG_DATA_HOME`` or ``~/.local/share``: where OpenCode-family CLIs keep their data on
    every platform (they use the XDG layout on macOS and Windows too)."""
    return Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")


def message_row(data: Any, mid: str, file_id: int) -> Row | None:
    """The row of one assistant message's ``data`` (OpenCode and Kilo share the format)."""
    d = obj(data)
    tokens = obj(d.get("tokens"))
    model = text(d.get("modelID"))
    if not tokens or not model or d.get("role") not in (None, "assistant"):
        return None
    cache = obj(tokens.get("cache"))
    inp, out, reasoning = num(tokens.get("input")), num(tokens.get("output")), num(tokens.get("reasoning"))
    cw, cr = num(cache.get("write")), num(cache.get("read"))
    if not inp + out + reasoning + cw + cr:
        return None
    ts = seconds(obj(d.get("time")).get("created"))
    if ts is None:
        return None
    return row(
        mid,
        ts,
        model,
        file_id,
        input=inp,
        output=out + reasoning,
        cache_write=cw,
        cache_read=cr,
        reasoning=reasoning,
    )


class OpenCodeReader(DatabaseReader, DocumentReader):
    agent = "opencode"
    provider = "auto"
    title = "OpenCode"
    variables = ("OPENCODE_DATA_DIR",)
    database_prefix = "opencode"

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        return [share_dir(env, home) / self.database_prefix]

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        configured = env_paths(env.get(self.variables[0]))
        return existing(configured or self.defaults(env, home))

    def databases(self, roots: list[Path]) -> list[Path]:
        """``<prefix>.db``, else the first ``<prefix>-<channel>.db`` by name, in each root."""
        out = []
        for root in roots:
            main = root / f"{self.database_prefix}.db"
            if main.is_file():
                out.append(main)
                continue
            try:
                names = sorted(
                    n for n in os.listdir(root) if n.startswith(f"{self.database_prefix}-") and n.endswith(".db")
                )
            except OSError:
                continue
            out.extend(root / n for n in names[:1])
        return out

    def document_roots(self, roots: list[Path]) -> list[Path]:
        return [r / "storage" / "message" for r in roots]

    def accept(self, name: str) -> bool:
        return name.startswith("msg_") and name.endswith(".json")

    def context(self, path: str, root: str) -> dict[str, Any]:
        # storage/message/<session>/msg_<id>.json (a database session never asks: it has its own)
        rel = relative_parts(path, root)
        return {"session": rel[0] if len(rel) == 2 else "", "project": "", "name": os.path.basename(path)[:-5]}

    def rows_of(self, data: bytes, ctx: dict[str, Any]) -> Iterator[Row]:
        d = loads(data)
        mid = text(obj(d).get("id")) or ctx["name"]
        if text(obj(d).get("sessionID")):
            ctx["session"] = text(obj(d).get("sessionID"))
        cwd = text(obj(obj(d).get("path")).get("cwd"))
        if cwd:
            ctx["project"] = cwd
        r = message_row(d, mid, ctx["file_id"])
        if r is not None:
            yield r

    def list_sessions(self, conn: sqlite3.Connection) -> list[Session]:
        if "time_updated" in columns(conn, "message"):
            sql = "SELECT session_id, COUNT(*), MAX(time_updated) FROM message GROUP BY session_id"
        else:  # an old or minimal schema: the row count is all that tells a change
            sql = "SELECT session_id, COUNT(*), 0 FROM message GROUP BY session_id"
        return [(str(s), int(n), int(u or 0)) for s, n, u in conn.execute(sql).fetchall() if s]

    def read_session(
        self, conn: sqlite3.Connection, session: str, ctx: dict[str, Any], since: int | None
    ) -> Iterator[Row]:
        if "directory" in columns(conn, "session"):
            found = conn.execute("SELECT directory FROM session WHERE id = ?", (session,)).fetchone()
            if found and found[0]:
                ctx["project"] = str(found[0])
        if "time_updated" in columns(conn, "message"):
            cursor = conn.execute(
                "SELECT id, data, time_updated FROM message WHERE session_id = ? AND time_updated >= ? "
                "ORDER BY time_updated",
                (session, since or 0),
            )
        else:
            cursor = conn.execute("SELECT id, data, 0 FROM message WHERE session_id = ?", (session,))
        for mid, data, updated in cursor:
            ctx["cursor"] = max(int(updated or 0), ctx.get("cursor") or 0)
            if not data:
                continue
            raw = data.encode() if isinstance(data, str) else bytes(data)
            if b'"tokens"' not in raw:
                continue  # a user message: no usage
            try:
                r = message_row(loads(raw), str(mid), ctx["file_id"])
            except Malformed:
                ctx["bad"] = ctx.get("bad", 0) + 1
                continue
            if r is not None:
                yield r

    def prefer(self, new: Row, old: Row) -> bool:
        return larger_wins(new, old)


__all__ = ["OpenCodeReader", "message_row", "share_dir"]

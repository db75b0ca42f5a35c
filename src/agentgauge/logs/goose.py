"""Goose: ``sessions/sessions.db`` (SQLite) in Goose's data folder.

Goose keeps running token totals per session in its ``sessions`` table (``accumulated_input_tokens``,
``accumulated_output_tokens``, ``accumulated_total_tokens``, falling back to the current
``input_tokens``/``output_tokens``/``total_tokens``), the model in ``model_config_json.model_name``,
``created_at``/``updated_at`` as SQLite ``CURRENT_TIMESTAMP`` text (UTC) and the project in
``working_dir`` (schema as in Goose's session storage and ccusage's adapter). It has no per-call
rows and no cache columns, so a session is one entry, dated when it was created, whose tokens are the
session's latest totals: the row is replaced as the totals grow. Tokens in the total beyond input and
output are counted as reasoning (billed as output), as ccusage does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._base import Malformed, Row
from ._doc import existing
from ._sqlite import DatabaseReader, Session, columns

if TYPE_CHECKING:
    import sqlite3

from ._values import larger_wins, loads, num, obj, row, seconds, text

FILE = "sessions.db"


class GooseReader(DatabaseReader):
    agent = "goose"
    provider = "auto"
    title = "Goose"
    variables = ("GOOSE_PATH_ROOT",)

    def defaults(self, env: Mapping[str, str], home: Path) -> list[Path]:
        share = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
        places = [share / "goose" / "sessions", share / "Block" / "goose" / "sessions"]
        if sys.platform == "darwin":
            places.append(home / "Library" / "Application Support" / "Block.goose" / "sessions")
            places.append(home / "Library" / "Application Support" / "goose" / "sessions")
        if sys.platform == "win32" and env.get("APPDATA"):
            places.append(Path(env["APPDATA"]) / "Block" / "goose" / "data" / "sessions")
        return places

    def roots(self, env: Mapping[str, str], home: Path) -> list[Path]:
        root = env.get("GOOSE_PATH_ROOT", "").strip()
        places = [Path(root).expanduser() / "data" / "sessions"] if root else self.defaults(env, home)
        return [p for p in existing(places) if (p / FILE).is_file()]

    def databases(self, roots: list[Path]) -> list[Path]:
        return [r / FILE for r in roots]

    def context(self, path: str, root: str) -> dict[str, Any]:
        return {"session": "", "project": ""}

    def list_sessions(self, conn: sqlite3.Connection) -> list[Session]:
        cols = columns(conn, "sessions")
        total = "accumulated_total_tokens" if "accumulated_total_tokens" in cols else "total_tokens"
        updated = "updated_at" if "updated_at" in cols else "created_at"
        if total not in cols:
            total = "0"
        out: list[Session] = []
        for sid, tokens, stamp in conn.execute(f"SELECT id, {total}, {updated} FROM sessions").fetchall():
            if sid:
                when = seconds(stamp) if stamp is not None else None
                out.append((str(sid), num(tokens), (when or 0) * 1000))
        return out

    def read_session(
        self, conn: sqlite3.Connection, session: str, ctx: dict[str, Any], since: int | None
    ) -> Iterator[Row]:
        cursor = conn.execute("SELECT * FROM sessions WHERE id = ?", (session,))
        found = cursor.fetchone()
        if found is None:
            return
        d = dict(zip([c[0] for c in cursor.description], found, strict=True))
        ctx["project"] = text(d.get("working_dir"))
        model = text(obj(_json(d.get("model_config_json"))).get("model_name"))
        if not model:
            return  # ccusage skips sessions without a model configuration too
        inp = num(d.get("accumulated_input_tokens")) or num(d.get("input_tokens"))
        out = num(d.get("accumulated_output_tokens")) or num(d.get("output_tokens"))
        total = num(d.get("accumulated_total_tokens")) or num(d.get("total_tokens"))
        extra = max(0, total - inp - out)
        ts = seconds(d.get("created_at"))
        if ts is None or not inp + out + extra:
            return
        yield row(session, ts, model, ctx["file_id"], input=inp, output=out + extra, reasoning=extra)

    def prefer(self, new: Row, old: Row) -> bool:
        return larger_wins(new, old)


def _json(value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        try:
            return loads(value.encode())
        except Malformed:  # a broken model config only loses the model name
            return None
    return None

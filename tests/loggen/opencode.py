"""OpenCode: ``.local/share/opencode/opencode.db`` (its ``session``/``message``/``part`` tables, WAL
mode) and, for older sessions, the legacy ``storage/message/<session>/msg_*.json`` files.

Traps: user messages and aborted assistant messages (zero tokens) are no entry; ``reasoning`` is
apart from ``output`` (billed as output); some messages exist both in the database and as legacy
files (migrated): one entry.
"""

from __future__ import annotations

from typing import Any

from .base import base62
from .simple import SimpleWriter, compact

SCHEMA = """
CREATE TABLE session (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, parent_id TEXT, slug TEXT NOT NULL,
  directory TEXT NOT NULL, title TEXT NOT NULL, version TEXT NOT NULL, time_created INTEGER NOT NULL,
  time_updated INTEGER NOT NULL);
CREATE TABLE message (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, time_created INTEGER NOT NULL,
  time_updated INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX message_session_time_created_id_idx ON message (session_id, time_created, id);
CREATE TABLE part (id TEXT PRIMARY KEY, message_id TEXT NOT NULL, session_id TEXT NOT NULL,
  time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL, data TEXT NOT NULL);
"""


class OpenCodeWriter(SimpleWriter):
    name = "opencode"
    usage_marker = '"tokens"'
    models = (
        ("claude-sonnet-4-5", 40),
        ("gpt-5", 25),
        ("gemini-2.5-pro", 15),
        ("claude-haiku-4-5", 10),
        ("glm-4.6", 10),
    )
    folder = (".local", "share", "opencode")
    database = "opencode.db"
    legacy = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: dict[str, list[tuple[Any, ...]]] = {"session": [], "message": [], "part": []}
        self.size = 0

    def run(self) -> None:
        while self.size < self.budget:
            self.write_one()
        home = self.opts.out.joinpath(*self.folder)
        self.write_database(home / self.database, SCHEMA, self.rows)

    def write_one(self) -> None:
        r = self.rng
        sid = f"ses_{base62(r, 24)}"
        cwd = f"/home/dev/{r.choice(('shop', 'blog', 'ml', 'cli'))}"
        ms = self.start()
        legacy = self.legacy and r.random() < 0.2  # an old session: only legacy files
        first = ms
        for _ in range(r.randint(1, 15)):
            ms += r.randint(5_000, 900_000)
            self._message(sid, f"msg_{base62(r, 24)}", ms, {"role": "user", "time": {"created": ms}}, legacy)
            ms += r.randint(1_000, 120_000)
            model = self.model()
            aborted = r.random() < 0.05
            u = self.usage(reasoning=model.startswith(("gpt", "gemini")))
            tokens = {
                "input": 0 if aborted else u.input,
                "output": 0 if aborted else u.output - u.reasoning,
                "reasoning": 0 if aborted else u.reasoning,
                "cache": {"read": 0 if aborted else u.cache_read, "write": 0 if aborted else u.cache_write},
            }
            data = {"role": "assistant", "time": {"created": ms, "completed": ms + 900}, "modelID": model}
            data.update(providerID=model.split("-")[0], path={"cwd": cwd, "root": cwd}, cost=0, tokens=tokens)
            mid = f"msg_{base62(r, 24)}"
            self._message(sid, mid, ms, data, legacy)
            if not legacy and self.legacy and r.random() < 0.1:  # migrated: also left as a legacy file
                self._legacy(sid, mid, data)
                self.counts["duplicated_messages"] += 1
            if aborted:
                self.counts["aborted_messages"] += 1
            else:
                self.count(ms, model, u)
        if not legacy:
            slug = f"{r.choice(('brave', 'calm', 'swift'))}-{r.choice(('otter', 'heron', 'lynx'))}"
            self.rows["session"].append((sid, "prj_1", None, slug, cwd, self.text.take(20), "1.0.120", first, ms))

    def _message(self, sid: str, mid: str, ms: int, data: dict[str, Any], legacy: bool) -> None:
        if legacy:
            self._legacy(sid, mid, data)
            return
        text = compact(data)
        self.rows["message"].append((mid, sid, ms, ms + 1_000, text))
        part = compact({"type": "text", "text": self.text.take(self.rng.randint(20, 1500))})
        self.rows["part"].append((f"prt_{base62(self.rng, 24)}", mid, sid, ms, ms, part))
        self.size += len(text) + len(part)

    def _legacy(self, sid: str, mid: str, data: dict[str, Any]) -> None:
        path = self.opts.out.joinpath(*self.folder, "storage", "message", sid, f"{mid}.json")
        self.write_json(path, {"id": mid, "sessionID": sid, **data}, pretty=True)
        self.size += 400

"""Goose: ``.local/share/goose/sessions/sessions.db``, one row per session with its running totals.

Traps: a session is one entry dated when it was created, with the ``accumulated_*`` totals (the
current-context ``input_tokens``/``output_tokens`` are smaller and not what was spent); the total
beyond input + output is reasoning; sessions without a model configuration are no entry.
"""

from __future__ import annotations

import time
from typing import Any

from .simple import SimpleWriter, Usage, compact

SCHEMA = """
CREATE TABLE sessions (id TEXT PRIMARY KEY, name TEXT NOT NULL DEFAULT '', description TEXT NOT NULL DEFAULT '',
  user_set_name BOOLEAN DEFAULT FALSE, session_type TEXT NOT NULL DEFAULT 'user', working_dir TEXT NOT NULL,
  created_at TIMESTAMP, updated_at TIMESTAMP, extension_data TEXT DEFAULT '{}', total_tokens INTEGER,
  input_tokens INTEGER, output_tokens INTEGER, accumulated_total_tokens INTEGER, accumulated_input_tokens INTEGER,
  accumulated_output_tokens INTEGER, schedule_id TEXT, recipe_json TEXT, user_recipe_values_json TEXT,
  provider_name TEXT, model_config_json TEXT, goose_mode TEXT NOT NULL DEFAULT 'auto');
"""


def sqlite_time(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000))


class GooseWriter(SimpleWriter):
    name = "goose"
    models = (("claude-sonnet-4-5-20250929", 50), ("gpt-5", 30), ("qwen3-coder:30b", 20))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[tuple[Any, ...]] = []
        self.size = 0

    def run(self) -> None:
        while self.size < self.budget:
            self.write_one()
        path = self.opts.out / ".local" / "share" / "goose" / "sessions" / "sessions.db"
        self.write_database(path, SCHEMA, {"sessions": self.rows})

    def write_one(self) -> None:
        r = self.rng
        ms = self.start()
        model = self.model()
        inp = out = extra = 0
        for _ in range(r.randint(1, 20)):
            u = self.usage(cache_write=False)
            inp, out = inp + u.input + u.cache_read, out + u.output
            extra += r.randint(0, 50) if r.random() < 0.3 else 0
        sid = f"{time.strftime('%Y%m%d', time.gmtime(ms // 1000))}_{len(self.rows) + 1}"
        configured = r.random() > 0.05
        config = compact({"model_name": model, "context_limit": 200000}) if configured else None
        cur_in, cur_out = inp // 10, out // 10
        self.rows.append(
            (
                sid,
                "CLI Session",
                "",
                False,
                "user",
                f"/home/dev/{r.choice(('a', 'b', 'c'))}",
                sqlite_time(ms),
                sqlite_time(ms + r.randint(60_000, 3_600_000)),
                "{}",
                cur_in + cur_out,
                cur_in,
                cur_out,
                inp + out + extra,
                inp,
                out,
                None,
                None,
                None,
                model.split("-")[0],
                config,
                "auto",
            )
        )
        self.size += 400 + self.rng.randint(0, 4000)  # goose's messages table is not written here
        if configured:
            self.count(ms // 1000 * 1000, model, Usage(inp, out + extra, 0, 0, extra))
        else:
            self.counts["unconfigured_sessions"] += 1

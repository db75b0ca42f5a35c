"""Grok Build: ``.grok/sessions/<url-encoded project>/<session>/updates.jsonl`` (+ ``summary.json``).

Traps: ``inputTokens`` holds the cached tokens, reasoning is billed as output; a turn can use
several models (``modelUsage``: one entry per model); a turn naming no model used the session's
``current_model_id``; a sub-agent's sibling session replays a parent turn event (one entry).
"""

from __future__ import annotations

from typing import Any

from .base import uuid4
from .simple import SimpleWriter, Usage, compact


class GrokWriter(SimpleWriter):
    name = "grok"
    usage_marker = '"turn_completed"'
    models = (("grok-4", 50), ("grok-code-fast-1", 40), ("grok-4-fast", 10))

    @staticmethod
    def usage_of(u: Usage) -> dict[str, int]:
        return {
            "inputTokens": u.input + u.cache_read,
            "outputTokens": u.output - u.reasoning,
            "cachedReadTokens": u.cache_read,
            "reasoningTokens": u.reasoning,
        }

    def write_one(self) -> None:
        r = self.rng
        project = f"%2Fhome%2Fdev%2F{r.choice(('game', 'api', 'tools'))}"
        sid = uuid4(r)
        current = self.model()
        folder = self.opts.out / ".grok" / "sessions" / project
        ms = self.start()
        lines = []
        turns = []
        for _ in range(r.randint(1, 10)):
            ms += r.randint(3_000, 300_000)
            event = f"evt-{r.getrandbits(48):012x}"
            params: dict[str, Any] = {"sessionId": sid, "_meta": {"eventId": event}}
            chunk = {
                "timestamp": ms // 1000 - 1,
                "method": "_x.ai/session/update",
                "params": {
                    **params,
                    "update": {
                        "sessionUpdate": "agent_message_chunk",
                        "content": {"type": "text", "text": self.text.take(80)},
                    },
                },
            }
            lines.append(compact(chunk))
            used = sorted(r.sample([m for m, _ in self.models], r.choice((1, 1, 1, 2))))
            per: dict[str, dict[str, int]] = {}
            for model in used:
                u = self.usage(cache_write=False, reasoning=True)
                per[model] = self.usage_of(u)
                self.count(ms // 1000 * 1000, model, u)
            usage: dict[str, Any] = {"modelUsage": per}
            if len(used) == 1 and used[0] == current and r.random() < 0.3:
                usage = per[current]  # a turn naming no model: the session's current one
            stamp = ms // 1000 if r.random() < 0.8 else ms // 1000 * 1000
            line = compact(
                {
                    "timestamp": stamp,
                    "method": "_x.ai/session/update",
                    "params": {**params, "update": {"sessionUpdate": "turn_completed", "usage": usage}},
                }
            )
            lines.append(line)
            if "modelUsage" in usage:  # only those replay under the same key (a bare turn's model is the session's)
                turns.append(line)
        self.write_lines(folder / sid / "updates.jsonl", lines)
        self.write_json(
            folder / sid / "summary.json",
            {"info": {"id": sid, "cwd": project.replace("%2F", "/")}, "current_model_id": current},
        )
        if turns and r.random() < 0.1:
            child = uuid4(r)
            self.write_lines(folder / child / "updates.jsonl", [r.choice(turns).replace(sid, child)])
            self.counts["replayed_turns"] += 1

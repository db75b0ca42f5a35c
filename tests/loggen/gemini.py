"""Gemini CLI: ``.gemini/tmp/<project hash>/chats/session-*.json`` (the record rewritten whole) and the
append-only ``session-*.jsonl`` form.

Traps: ``input`` holds the cached tokens and the tool-use prompt (input = input - cached + tool),
thoughts are billed as output; in the JSONL form a message is first written with partial usage and
written again with its final usage (the final copy is the call); ``logs.json`` and checkpoints next
to ``chats/`` hold no usage.
"""

from __future__ import annotations

from .base import iso, uuid4
from .simple import SimpleWriter, compact


class GeminiWriter(SimpleWriter):
    name = "gemini"
    usage_marker = '"tokens":{'
    models = (("gemini-2.5-pro", 50), ("gemini-2.5-flash", 40), ("gemini-3-pro-preview", 10))

    def write_one(self) -> None:
        r = self.rng
        project = f"{r.getrandbits(64):016x}"[: r.choice((12, 16))]
        folder = self.opts.out / ".gemini" / "tmp" / project
        sid = uuid4(r)
        ms = self.start()
        messages = []
        lines = [compact({"sessionId": sid, "projectHash": project, "startTime": iso(ms), "kind": "main"})]
        jsonl = r.random() < 0.4
        for i in range(r.randint(1, 12)):
            ms += r.randint(2_000, 600_000)
            user = {"id": f"u{i}", "timestamp": iso(ms), "type": "user", "content": self.text.take(r.randint(10, 200))}
            messages.append(user)
            lines.append(compact(user))
            ms += r.randint(1_000, 90_000)
            model, u = self.model(), self.usage(cache_write=False, reasoning=True)
            tool = r.randint(0, min(300, u.input)) if r.random() < 0.3 else 0
            tokens = {
                "input": u.input - tool + u.cache_read,
                "output": u.output - u.reasoning,
                "cached": u.cache_read,
                "thoughts": u.reasoning,
                "tool": tool,
                "total": u.input + u.cache_read + u.output,
            }
            msg = {"id": f"g{i}-{r.getrandbits(32):08x}", "timestamp": iso(ms), "type": "gemini", "model": model}
            msg.update(content=self.text.take(r.randint(50, 2000)), tokens=tokens)
            if jsonl and r.random() < 0.3:
                partial = dict(tokens, output=tokens["output"] // 3, thoughts=0, total=0)
                lines.append(compact({**msg, "tokens": partial}))
                self.counts["rewritten_messages"] += 1
            messages.append(msg)
            lines.append(compact(msg))
            self.count(ms, model, u)
        name = f"session-{iso(ms)[:16].replace(':', '-')}-{sid[:8]}"
        if jsonl:
            self.write_lines(folder / "chats" / f"{name}.jsonl", lines)
        else:
            record = {"sessionId": sid, "projectHash": project, "startTime": iso(ms), "lastUpdated": iso(ms)}
            self.write_json(folder / "chats" / f"{name}.json", {**record, "messages": messages}, pretty=True)
        if r.random() < 0.2:
            self.write_json(folder / "logs.json", [{"sessionId": sid, "type": "user", "message": "hi"}])

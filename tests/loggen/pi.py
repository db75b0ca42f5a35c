"""pi-agent: ``.pi/agent/sessions/--<cwd>--/<time>_<session>.jsonl``.

Traps: a branched session (``/fork``) starts with the entries it branched from copied verbatim
(same ids, times and usage): one entry each; user and model-change entries hold no usage.
"""

from __future__ import annotations

import time

from .base import iso, uuid4
from .simple import SimpleWriter, compact


class PiWriter(SimpleWriter):
    name = "pi"
    usage_marker = '"usage"'
    models = (("claude-sonnet-4-5", 60), ("gpt-5-mini", 25), ("gemini-2.5-flash", 15))
    home = (".pi", "agent", "sessions")

    def entries(self, ms: int) -> tuple[list[dict[str, object]], int]:
        r = self.rng
        out: list[dict[str, object]] = []
        parent = None
        for _ in range(r.randint(1, 12)):
            ms += r.randint(3_000, 400_000)
            eid = f"{r.getrandbits(32):08x}"
            out.append(
                {
                    "type": "message",
                    "id": eid,
                    "parentId": parent,
                    "timestamp": iso(ms),
                    "message": {"role": "user", "content": [{"type": "text", "text": self.text.take(40)}]},
                }
            )
            ms += r.randint(1_000, 60_000)
            model, u = self.model(), self.usage()
            usage = {"input": u.input, "output": u.output, "cacheRead": u.cache_read, "cacheWrite": u.cache_write}
            usage["totalTokens"] = sum(usage.values())
            aid = f"{r.getrandbits(32):08x}"
            message = {
                "role": "assistant",
                "content": [{"type": "text", "text": self.text.take(150)}],
                "provider": model.split("-")[0],
                "model": model,
                "usage": usage,
                "timestamp": ms,
            }
            out.append({"type": "message", "id": aid, "parentId": eid, "timestamp": iso(ms), "message": message})
            parent = aid
            self.count(ms, model, u)
        return out, ms

    def write_one(self) -> None:
        r = self.rng
        folder = self.opts.out.joinpath(*self.home, f"--home-dev-{r.choice(('notes', 'site', 'lab'))}--")
        ms = self.start()
        entries, ms = self.entries(ms)
        head = {"type": "session", "version": 3, "id": uuid4(r), "timestamp": iso(ms), "cwd": "/home/dev"}
        self.write_lines(
            folder / f"{time.strftime('%Y-%m-%dT%H-%M-%S', time.gmtime(ms // 1000))}-000Z_{head['id']}.jsonl",
            [compact(x) for x in [head, *entries]],
        )
        if r.random() < 0.15 and len(entries) > 2:
            cut = r.randrange(2, len(entries) + 1, 2)
            more, ms = self.entries(ms + r.randint(60_000, 3_600_000))
            branch = {**head, "id": uuid4(r), "timestamp": iso(ms)}
            self.write_lines(
                folder / f"{time.strftime('%Y-%m-%dT%H-%M-%S', time.gmtime(ms // 1000))}-000Z_{branch['id']}.jsonl",
                [compact(x) for x in [branch, *entries[:cut], *more]],
            )
            self.counts["branches"] += 1

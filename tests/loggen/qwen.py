"""Qwen Code: ``.qwen/projects/<project>/chats/<session>.jsonl``.

Traps: ``promptTokenCount`` includes the cached tokens, thoughts are billed as output; ``/branch``
starts a new session with the parent's records copied (same uuid, ``forkedFrom``): one entry each,
kept with the original session.
"""

from __future__ import annotations

from .base import iso, uuid4
from .simple import SimpleWriter, compact


class QwenWriter(SimpleWriter):
    name = "qwen"
    usage_marker = '"usageMetadata"'
    models = (("qwen3-coder-plus", 70), ("qwen3-coder-flash", 30))

    def write_one(self) -> None:
        r = self.rng
        project = f"-home-dev-{r.choice(('svc', 'etl', 'bot'))}"
        cwd = project.replace("-", "/")
        sid = uuid4(r)
        ms = self.start()
        records: list[dict[str, object]] = []
        parent = None
        for _ in range(r.randint(1, 12)):
            ms += r.randint(3_000, 500_000)
            user = {
                "uuid": uuid4(r),
                "parentUuid": parent,
                "sessionId": sid,
                "timestamp": iso(ms),
                "type": "user",
                "cwd": cwd,
            }
            records.append(user)
            ms += r.randint(1_000, 90_000)
            model, u = self.model(), self.usage(cache_write=False, reasoning=True)
            meta = {
                "promptTokenCount": u.input + u.cache_read,
                "candidatesTokenCount": u.output - u.reasoning,
                "thoughtsTokenCount": u.reasoning,
                "cachedContentTokenCount": u.cache_read,
                "totalTokenCount": u.input + u.cache_read + u.output,
            }
            reply = {
                "uuid": uuid4(r),
                "parentUuid": user["uuid"],
                "sessionId": sid,
                "timestamp": iso(ms),
                "type": "assistant",
            }
            reply.update(
                cwd=cwd,
                model=model,
                message={"role": "model", "parts": [{"text": self.text.take(200)}]},
                usageMetadata=meta,
            )
            records.append(reply)
            parent = reply["uuid"]
            self.count(ms, model, u)
        chats = self.opts.out / ".qwen" / "projects" / project / "chats"
        self.write_lines(chats / f"{sid}.jsonl", [compact(x) for x in records])
        if r.random() < 0.15 and len(records) > 2:  # /branch from the middle, then one call of its own
            bid = uuid4(r)
            cut = r.randrange(2, len(records) + 1, 2)
            copied = [
                {**x, "sessionId": bid, "forkedFrom": {"sessionId": sid, "messageUuid": x["uuid"]}}
                for x in records[:cut]
            ]
            ms += r.randint(60_000, 3_600_000)
            model, u = self.model(), self.usage(cache_write=False)
            meta = {
                "promptTokenCount": u.input + u.cache_read,
                "candidatesTokenCount": u.output,
                "cachedContentTokenCount": u.cache_read,
            }
            own = {
                "uuid": uuid4(r),
                "parentUuid": copied[-1]["uuid"],
                "sessionId": bid,
                "timestamp": iso(ms),
                "type": "assistant",
            }
            own.update(cwd=cwd, model=model, usageMetadata=meta)
            self.count(ms, model, u)
            self.write_lines(chats / f"{bid}.jsonl", [compact(x) for x in [*copied, own]])
            self.counts["branches"] += 1

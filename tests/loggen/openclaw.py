"""OpenClaw: ``.openclaw/agents/<agent>/sessions/<session>.jsonl`` (pi's entries).

Traps: the model comes from ``model_change`` / ``custom`` ``model-snapshot`` entries, not the
messages; a reset session's transcript is renamed ``<session>.jsonl.reset.<time>`` and a new one
starts with its entries (one entry each).
"""

from __future__ import annotations

from .base import iso, uuid4
from .simple import SimpleWriter, compact


class OpenClawWriter(SimpleWriter):
    name = "openclaw"
    usage_marker = '"usage"'
    models = (("gpt-5.2", 40), ("claude-opus-4-5", 40), ("claude-sonnet-4-5", 20))

    def write_one(self) -> None:
        r = self.rng
        sid = uuid4(r)
        ms = self.start()
        lines = [compact({"type": "session", "version": 3, "id": sid, "timestamp": iso(ms)})]
        model = ""
        for i in range(r.randint(1, 12)):
            if not model or r.random() < 0.2:
                model = self.model()
                if r.random() < 0.5:
                    change = {
                        "type": "model_change",
                        "id": f"c{i}",
                        "timestamp": iso(ms),
                        "provider": "x",
                        "modelId": model,
                    }
                else:
                    change = {
                        "type": "custom",
                        "customType": "model-snapshot",
                        "id": f"c{i}",
                        "timestamp": iso(ms),
                        "data": {"provider": "x", "modelId": model},
                    }
                lines.append(compact(change))
            ms += r.randint(3_000, 400_000)
            u = self.usage()
            usage = {"input": u.input, "output": u.output, "cacheRead": u.cache_read, "cacheWrite": u.cache_write}
            usage["totalTokens"] = sum(usage.values())
            message = {"role": "assistant", "content": [{"type": "text", "text": self.text.take(100)}], "usage": usage}
            lines.append(
                compact({"type": "message", "id": f"{r.getrandbits(32):08x}", "timestamp": iso(ms), "message": message})
            )
            self.count(ms, model, u)
        folder = self.opts.out / ".openclaw" / "agents" / r.choice(("main", "ops")) / "sessions"
        self.write_lines(folder / f"{sid}.jsonl", lines)
        if r.random() < 0.2 and len(lines) > 3:
            self.write_lines(
                folder / f"{sid}.jsonl.reset.{iso(ms).replace(':', '-')}", lines[: r.randint(3, len(lines))]
            )
            self.counts["reset_copies"] += 1

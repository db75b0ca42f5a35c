"""Amp: ``.local/share/amp/threads/T-<uuid>.json``, each thread rewritten whole.

Traps: every assistant message with usage also has a usage-ledger event (its input is the whole
prompt, cache included): counted once, from the message; ledger events of messages without usage
(summaries, older threads) are the only record of those calls: counted.
"""

from __future__ import annotations

from .base import iso, uuid4
from .simple import SimpleWriter


class AmpWriter(SimpleWriter):
    name = "amp"
    usage_marker = '"usage"'
    models = (("claude-sonnet-4-5-20250929", 60), ("claude-haiku-4-5-20251001", 20), ("gpt-5", 20))

    def write_one(self) -> None:
        r = self.rng
        tid = f"T-{uuid4(r)}"
        ms = self.start()
        messages: list[dict[str, object]] = []
        events: list[dict[str, object]] = []
        for i in range(r.randint(1, 12)):
            ms += r.randint(5_000, 600_000)
            messages.append(
                {"role": "user", "messageId": 2 * i, "content": [{"type": "text", "text": self.text.take(80)}]}
            )
            ms += r.randint(1_000, 60_000)
            model, u = self.model(), self.usage()
            mid = 2 * i + 1
            message: dict[str, object] = {
                "role": "assistant",
                "messageId": mid,
                "content": [{"type": "text", "text": self.text.take(300)}],
            }
            prompt = u.input + u.cache_write + u.cache_read
            with_usage = r.random() > 0.2
            if with_usage:
                message["usage"] = {
                    "model": model,
                    "inputTokens": u.input,
                    "outputTokens": u.output,
                    "cacheCreationInputTokens": u.cache_write,
                    "cacheReadInputTokens": u.cache_read,
                    "totalInputTokens": prompt,
                    "timestamp": iso(ms),
                }
                self.count(ms, model, u)
            else:  # known from the ledger alone: input and output
                self.count(ms, model, u._replace(input=prompt, cache_write=0, cache_read=0))
                self.counts["ledger_only_calls"] += 1
            messages.append(message)
            events.append(
                {
                    "id": f"ev-{mid}",
                    "timestamp": iso(ms),
                    "model": model,
                    "credits": round(prompt / 1e6, 4),
                    "tokens": {"input": prompt, "output": u.output},
                    "operationType": "inference",
                    "toMessageId": mid,
                }
            )
        thread = {"v": len(messages), "id": tid, "created": ms, "title": self.text.take(30), "messages": messages}
        thread["usageLedger"] = {"events": events}
        self.write_json(self.opts.out / ".local" / "share" / "amp" / "threads" / f"{tid}.json", thread)

"""GitHub Copilot CLI: its OpenTelemetry file export, ``.copilot/otel/copilot-otel-<time>.jsonl``.

Traps: an inference log record of a response comes before that response's chat span (one call:
the span's tokens); the ``invoke_agent`` span ending a trace sums its chat spans (no entry); a
trace exported without chat spans is known only by its agent span (one entry); ``input_tokens``
holds the cache read; metric records carry usage names too.
"""

from __future__ import annotations

from typing import Any

from .simple import SimpleWriter, Usage, compact

CLAUDE = "claude-sonnet-4.5"


class CopilotWriter(SimpleWriter):
    name = "copilot"
    usage_marker = '"gen_ai.usage.'
    models = ((CLAUDE, 50), ("gpt-5", 30), ("gpt-5-mini", 20))

    @staticmethod
    def attrs(model: str, u: Usage, conv: str, response: str | None) -> dict[str, Any]:
        a: dict[str, Any] = {"gen_ai.response.model": model, "gen_ai.conversation.id": conv}
        if response:
            a["gen_ai.response.id"] = response
        a["gen_ai.usage.input_tokens"] = u.input + u.cache_read
        a["gen_ai.usage.output_tokens"] = u.output - u.reasoning
        a["gen_ai.usage.cache_read.input_tokens"] = u.cache_read
        if u.cache_write:
            a["gen_ai.usage.cache_write.input_tokens"] = u.cache_write
        if u.reasoning:
            a["gen_ai.usage.reasoning.output_tokens"] = u.reasoning
        return a

    def write_one(self) -> None:
        r = self.rng
        ms = self.start()
        conv = f"conv-{r.getrandbits(40):010x}"
        lines = [
            compact(
                {"type": "metric", "name": "gen_ai.client.token.usage", "attributes": {"gen_ai.usage.input_tokens": 1}}
            )
        ]
        for _ in range(r.randint(1, 6)):
            trace = f"{r.getrandbits(128):032x}"
            model = self.model()
            total = Usage(0, 0, 0, 0, 0)
            summary_only = r.random() < 0.1
            for _ in range(r.randint(1, 4)):
                ms += r.randint(2_000, 120_000)
                u = self.usage(cache_write=model == CLAUDE, reasoning=model != CLAUDE)
                total = Usage(*(a + b for a, b in zip(total, u, strict=True)))
                if summary_only:
                    continue
                response = f"resp_{r.getrandbits(48):012x}"
                if r.random() < 0.3:  # the log record of the same response, written first
                    body = {
                        "hrTime": [ms // 1000 - 1, 0],
                        "attributes": {
                            "event.name": "gen_ai.client.inference.operation.details",
                            **self.attrs(model, u, conv, response),
                        },
                        "_body": f"GenAI inference: {model}",
                    }
                    lines.append(compact(body))
                    self.counts["log_record_copies"] += 1
                span = {
                    "type": "span",
                    "traceId": trace,
                    "spanId": f"{r.getrandbits(64):016x}",
                    "name": f"chat {model}",
                    "endTime": [ms // 1000, (ms % 1000) * 1_000_000],
                }
                span["attributes"] = {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": model,
                    **self.attrs(model, u, conv, response),
                }
                lines.append(compact(span))
                self.count(ms, model, u)
            ms += 500
            agent = {
                "type": "span",
                "traceId": trace,
                "spanId": f"{r.getrandbits(64):016x}",
                "name": "invoke_agent GitHub Copilot",
                "endTime": [ms // 1000, 0],
            }
            agent["attributes"] = {"gen_ai.operation.name": "invoke_agent", **self.attrs(model, total, conv, None)}
            lines.append(compact(agent))
            if summary_only:
                self.count(ms // 1000 * 1000, model, total)
                self.counts["summary_only_traces"] += 1
        self.write_lines(self.opts.out / ".copilot" / "otel" / f"copilot-otel-{conv}.jsonl", lines)

"""Factory Droid: ``.factory/sessions/<project>/<session>.settings.json`` with the session's running
totals, and the transcript ``<session>.jsonl`` beside it.

Traps: one entry per session, dated at ``providerLockTimestamp``, whatever number of calls; the
model is ``custom:Name-[Provider]`` (normalised: ``claude-sonnet-4-5``) or, for some sessions, only
named in the transcript (``Model: GPT-5 [OpenAI]``); sessions that spent nothing are no entry.
"""

from __future__ import annotations

from .base import iso, uuid4
from .simple import SimpleWriter, Usage, compact

# (settings name, name in a transcript, what a reader reports)
MODELS3 = (
    ("custom:Claude-Sonnet-4.5-[Anthropic]", "Claude Sonnet 4.5 [Anthropic]", "claude-sonnet-4-5"),
    ("custom:Claude-Opus-4.5-[Anthropic]", "Claude Opus 4.5 [Anthropic]", "claude-opus-4-5"),
    ("gpt-5-codex", "GPT-5-Codex [OpenAI]", "gpt-5-codex"),
)


class DroidWriter(SimpleWriter):
    name = "droid"
    usage_marker = '"tokenUsage"'
    models = (("x", 1),)

    def write_one(self) -> None:
        r = self.rng
        settings_name, transcript_name, model = r.choice(MODELS3)
        project = f"-home-dev-{r.choice(('api', 'web', 'infra', 'docs'))}"
        sid = uuid4(r)
        ms = self.start()
        total = Usage(0, 0, 0, 0, 0)
        for _ in range(r.randint(0, 15) if r.random() > 0.05 else 0):
            u = self.usage(reasoning=True)
            total = Usage(*(a + b for a, b in zip(total, u, strict=True)))
        folder = self.opts.out / ".factory" / "sessions" / project
        named = r.random() < 0.75
        settings = {"assistantActiveTimeMs": r.randint(1000, 900_000), "providerLockTimestamp": iso(ms)}
        if named:
            settings["model"] = settings_name
        settings["tokenUsage"] = {
            "inputTokens": total.input,
            "outputTokens": total.output - total.reasoning,
            "cacheCreationTokens": total.cache_write,
            "cacheReadTokens": total.cache_read,
            "thinkingTokens": total.reasoning,
        }
        self.write_json(folder / f"{sid}.settings.json", settings, pretty=True)
        hint = f"<system-reminder>Model: {transcript_name} reasoning: medium</system-reminder>"
        transcript = [compact({"type": "session_start", "id": sid, "title": self.text.take(30)})]
        transcript.append(
            compact({"type": "message", "message": {"role": "system", "content": [{"type": "text", "text": hint}]}})
        )
        self.write_lines(folder / f"{sid}.jsonl", transcript)
        if sum(total[:4]):
            self.count(ms, model, total)
        else:
            self.counts["empty_sessions"] += 1

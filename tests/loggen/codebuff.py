"""Codebuff: ``.config/manicode{,-dev}/projects/<project>/chats/<chat>/chat-messages.json``.

Traps: usage in Anthropic's shape (input without the cache) or OpenAI's (``promptTokens`` with the
cached tokens inside, ``promptTokensDetails.cachedTokens``), in ``metadata.usage`` or
``metadata.codebuff.usage``; messages without a time take the chat folder's; assistant messages
without usage are no entry.
"""

from __future__ import annotations

import time

from .base import iso
from .simple import SimpleWriter


class CodebuffWriter(SimpleWriter):
    name = "codebuff"
    usage_marker = '"usage"'
    models = (("claude-sonnet-4-5-20250929", 60), ("openai/gpt-5", 25), ("gemini-2.5-pro", 15))

    def write_one(self) -> None:
        r = self.rng
        ms = self.start() // 1000 * 1000  # the chat folder's name has whole seconds
        chat = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(ms // 1000)) + ".000Z"
        channel = "manicode" if r.random() < 0.85 else "manicode-dev"
        project = r.choice(("webapp", "api", "cli"))
        messages: list[dict[str, object]] = []
        first = True
        for i in range(r.randint(1, 10)):
            messages.append({"id": f"u{i}", "variant": "user", "content": self.text.take(60), "timestamp": iso(ms)})
            model = self.model()
            openai = model.startswith("openai/")
            u = self.usage(cache_write=not openai)
            if openai:
                usage: dict[str, object] = {
                    "promptTokens": u.input + u.cache_read,
                    "completionTokens": u.output,
                    "promptTokensDetails": {"cachedTokens": u.cache_read},
                }
            else:
                usage = {
                    "inputTokens": u.input,
                    "outputTokens": u.output,
                    "cacheCreationInputTokens": u.cache_write,
                    "cacheReadInputTokens": u.cache_read,
                }
            meta: dict[str, object] = {"model": model}
            if r.random() < 0.5:
                meta["usage"] = usage
            else:
                meta["codebuff"] = {"usage": usage}
            message: dict[str, object] = {
                "id": f"a{i}",
                "variant": r.choice(("ai", "agent")),
                "content": self.text.take(200),
                "metadata": meta,
            }
            at = ms if first and r.random() < 0.3 else ms + r.randint(1_000, 60_000)
            if at != ms:
                message["timestamp"] = iso(at)
            messages.append(message)
            self.count(at, model, u)
            if r.random() < 0.1:
                messages.append({"id": f"n{i}", "variant": "ai", "content": "(no usage)", "metadata": {"model": model}})
            first = False
            ms = at + r.randint(5_000, 300_000)
        path = self.opts.out / ".config" / channel / "projects" / project / "chats" / chat / "chat-messages.json"
        self.write_json(path, messages)

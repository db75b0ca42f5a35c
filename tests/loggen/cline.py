"""Cline: ``.cline/data/tasks/<task>/ui_messages.json`` (the CLI) and the VS Code extension's
``.config/Code/User/globalStorage/saoudrizwan.claude-dev/tasks/<task>/``.

Traps: an API request is one ``api_req_started`` message whose tokens are filled in when it ends
(an unfinished one has none: no entry); the model is the message's ``modelInfo`` or, for older
tasks, the task's ``task_metadata.json`` history (the entry at or before the request).
"""

from __future__ import annotations

import json

from .simple import SimpleWriter

EXTENSION = (".config", "Code", "User", "globalStorage", "saoudrizwan.claude-dev", "tasks")


class ClineWriter(SimpleWriter):
    name = "cline"
    usage_marker = '"api_req_started"'
    models = (("claude-sonnet-4-5-20250929", 60), ("claude-haiku-4-5-20251001", 20), ("gpt-5", 20))

    def write_one(self) -> None:
        r = self.rng
        ms = self.start()
        task = str(ms)
        messages: list[dict[str, object]] = [{"ts": ms, "type": "say", "say": "task", "text": self.text.take(80)}]
        history: list[dict[str, object]] = []
        with_info = r.random() < 0.6
        model = self.model()
        for _ in range(r.randint(1, 12)):
            ms += r.randint(2_000, 200_000)
            if r.random() < 0.15:
                model = self.model()
                history.append({"ts": ms - 1, "model_id": model, "model_provider_id": "anthropic", "mode": "act"})
            elif not history:
                history.append({"ts": ms - 1, "model_id": model, "model_provider_id": "anthropic", "mode": "act"})
            u = self.usage()
            info: dict[str, object] = {"request": self.text.take(60)}
            done = r.random() > 0.05
            if done:
                info.update(
                    tokensIn=u.input, tokensOut=u.output, cacheWrites=u.cache_write, cacheReads=u.cache_read, cost=0.01
                )
                self.count(ms, model, u)
            message: dict[str, object] = {"ts": ms, "type": "say", "say": "api_req_started", "text": json.dumps(info)}
            if with_info:
                message["modelInfo"] = {"providerId": "anthropic", "modelId": model, "mode": "act"}
            messages.append(message)
            messages.append({"ts": ms + 500, "type": "say", "say": "text", "text": self.text.take(200)})
        folder = self.opts.out.joinpath(*(EXTENSION if r.random() < 0.3 else (".cline", "data", "tasks")), task)
        self.write_json(folder / "ui_messages.json", messages)
        self.write_json(folder / "task_metadata.json", {"files_in_context": [], "model_usage": history}, pretty=True)

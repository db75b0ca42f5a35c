"""Kimi CLI: ``.kimi/sessions/<group>/<session>/wire.jsonl``, with the model in ``.kimi/config.toml``.

Traps: StatusUpdate lines without ``token_usage`` (context only) are no entry; a session folder
copied under another name repeats its updates (one entry each); the model is the configured one.
"""

from __future__ import annotations

from typing import Any

from .base import uuid4
from .simple import SimpleWriter, compact

MODEL = "kimi-k2-turbo-preview"


class KimiWriter(SimpleWriter):
    name = "kimi"
    usage_marker = '"StatusUpdate"'
    models = ((MODEL, 1),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        config = self.opts.out / ".kimi" / "config.toml"
        self.write_bytes(config, f'default_model = "{MODEL}"\n'.encode())

    def write_one(self) -> None:
        r = self.rng
        group = f"{r.getrandbits(32):08x}"
        sid = uuid4(r)
        ms = self.start()
        lines = [compact({"type": "metadata", "protocol_version": "1.1"})]
        for i in range(r.randint(1, 15)):
            ms += r.randint(3_000, 400_000)
            lines.append(
                compact(
                    {
                        "timestamp": ms / 1000,
                        "message": {"type": "TurnBegin", "payload": {"user_input": self.text.take(60)}},
                    }
                )
            )
            ms += r.randint(500, 60_000)
            u = self.usage()
            usage = {
                "input_other": u.input,
                "output": u.output,
                "input_cache_read": u.cache_read,
                "input_cache_creation": u.cache_write,
            }
            payload = {
                "context_usage": round(r.random(), 3),
                "token_usage": usage,
                "message_id": f"chatcmpl-{i}-{r.getrandbits(24):06x}",
            }
            lines.append(compact({"timestamp": ms / 1000, "message": {"type": "StatusUpdate", "payload": payload}}))
            self.count(ms, MODEL, u)
            if r.random() < 0.2:
                lines.append(
                    compact(
                        {
                            "timestamp": (ms + 1) / 1000,
                            "message": {"type": "StatusUpdate", "payload": {"context_usage": 0.1}},
                        }
                    )
                )
        folder = self.opts.out / ".kimi" / "sessions" / group
        self.write_lines(folder / sid / "wire.jsonl", lines)
        if r.random() < 0.1:
            self.write_lines(folder / f"{sid}-copy" / "wire.jsonl", lines)
            self.counts["copied_sessions"] += 1

"""The project's own synthetic agent-log generator: deterministic trees of Claude Code and Codex CLI
logs, with every known dedupe trap, and ``ground-truth.json`` holding the exact totals a correct
reader must report (per agent, per UTC day, per model). ``python -m tests.loggen --help``.

Layout of ``ground-truth.json``: ``generator`` (the options), then per agent: counts (``files``,
``bytes``, ``lines``, ``malformed_lines`` = newline-terminated lines that are not JSON,
``malformed_usage_lines`` = those of them holding the agent's usage marker, which is what a reader
reports as malformed, ``truncated_lines`` = unterminated last lines, and per-trap counts), ``totals``,
``by_model[model]`` and ``by_day[YYYY-MM-DD].{totals, models[model]}``; each cell holds the agent's
token fields and ``entries`` (deduplicated API calls).
"""

from __future__ import annotations

import json
from typing import Any

from .base import MIB, Options
from .registry import DEFAULT, WRITERS

__all__ = ["DEFAULT", "MIB", "WRITERS", "Options", "generate"]


def generate(opts: Options) -> dict[str, Any]:
    """Write the tree under ``opts.out`` and return the ground truth (also written as ground-truth.json).
    ``opts.agents`` empty: the default agents (Claude Code and Codex); ``("all",)``: every agent."""
    names = tuple(WRITERS) if opts.agents == ("all",) else opts.agents or DEFAULT
    unknown = [n for n in names if n not in WRITERS]
    if unknown:
        raise ValueError(f"unknown agent(s) {', '.join(unknown)}; known: {', '.join(WRITERS)}")
    if opts.days < 1 or opts.size_mb <= 0:
        raise ValueError("--days must be >= 1 and --size-mb > 0")
    names = tuple(n for n in WRITERS if n in names)  # registry order, whatever order was asked
    shares = sum(WRITERS[n].share for n in names)
    size_mb = int(opts.size_mb) if float(opts.size_mb).is_integer() else opts.size_mb  # 2 and 2.0: one truth
    truth: dict[str, Any] = {
        "generator": {
            "name": "tests.loggen",
            "seed": opts.seed,
            "size_mb": size_mb,
            "days": opts.days,
            "end": opts.end.isoformat(),
            "agents": list(names),
            "timezone": "UTC",
        }
    }
    opts.out.mkdir(parents=True, exist_ok=True)
    for name in names:
        writer = WRITERS[name](opts, int(opts.size_mb * MIB * WRITERS[name].share / shares))
        writer.run()
        truth[name] = writer.ground_truth()
    (opts.out / "ground-truth.json").write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    return truth

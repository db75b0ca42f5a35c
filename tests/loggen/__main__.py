"""``python -m tests.loggen --out DIR --size-mb N --seed S [--days D] [--end YYYY-MM-DD] [--agents a,b]``

Point a reader at the tree with ``HOME=DIR`` (or ``CLAUDE_CONFIG_DIR=DIR/.claude CODEX_HOME=DIR/.codex``)
and ``TZ=UTC``: the ground truth is bucketed by UTC day.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from . import DEFAULT, MIB, WRITERS, Options, generate
from .base import DEFAULT_END


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.loggen", description=__doc__.splitlines()[0] if __doc__ else "")
    p.add_argument("--out", type=Path, required=True, help="the tree's root (used as HOME)")
    p.add_argument("--size-mb", type=float, default=10.0, help="approximate size in MiB (default 10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--days", type=int, default=30, help="days of history ending at --end (default 30)")
    p.add_argument("--end", type=date.fromisoformat, default=DEFAULT_END, help="last day, UTC (default %(default)s)")
    p.add_argument(
        "--agents",
        default=",".join(DEFAULT),
        help=f"comma-separated, or 'all' (default %(default)s; known: {', '.join(WRITERS)})",
    )
    a = p.parse_args(argv)
    agents = tuple(n.strip() for n in a.agents.split(",") if n.strip())
    started = time.perf_counter()
    try:
        truth = generate(Options(out=a.out, size_mb=a.size_mb, seed=a.seed, days=a.days, end=a.end, agents=agents))
    except ValueError as exc:
        p.error(str(exc))
    for name in truth["generator"]["agents"]:
        t = truth[name]
        print(
            f"{name}: {t['files']} files, {t['bytes'] / MIB:.1f} MiB, {t['lines']} lines, "
            f"{t['totals']['entries']} entries, total_tokens={t['totals']['total_tokens']}",
            file=sys.stderr,
        )
    print(f"wrote {a.out} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

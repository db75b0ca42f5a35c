"""The ``agentgauge`` command line: ``main`` is the console script.

The commands live in ``cli.commands`` (the click group) and the modules beside it. ``guard`` and
``statusline`` run before every agent task and on every status-line redraw, so they first try
``cli.quick``, which answers from the stored snapshot without importing click, the config module or
the store package; whatever it does not take (another option, --help, a PostgreSQL store...) goes to
the click command, which gives the same answer.
"""

from __future__ import annotations

import sys


def main() -> None:
    argv = sys.argv[1:]
    if argv and argv[0] in ("guard", "statusline"):
        from .quick import run

        code = run(argv)
        if code is not None:
            sys.exit(code)
    from .commands import main as run_commands

    run_commands()

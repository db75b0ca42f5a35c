"""The exit codes of ``agentgauge`` commands (``status`` and those that report like it).

 0  every configured account is ok
 1  at least one account is stale or in error (the table/JSON says which and why)
 2  bad usage or configuration (the message says what to fix)
 3  no provider account is configured
70  internal error (rerun with -vv for the traceback)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kinds import Status

if TYPE_CHECKING:
    from ..models import Snapshot

EXIT_OK, EXIT_DEGRADED, EXIT_USAGE, EXIT_NOTHING, EXIT_INTERNAL = 0, 1, 2, 3, 70


def exit_code(snapshot: Snapshot) -> int:
    active = [p for p in snapshot.providers if p.status not in (Status.UNCONFIGURED, Status.DISABLED)]
    if not active:
        return EXIT_NOTHING
    return EXIT_DEGRADED if any(p.status in (Status.STALE, Status.ERROR) for p in active) else EXIT_OK

"""Running an agent's own CLI as a credential source: start it in its own process group and stop
the whole group afterwards, on POSIX and on Windows."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from typing import Any


def group_kwargs() -> dict[str, Any]:
    """Keyword arguments that give the child its own process group (so stopping it ends its children)."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    return {"start_new_session": True}


async def stop(process: asyncio.subprocess.Process, *, grace: float = 1.5) -> None:
    """End the process group we started: a polite signal first, then a kill if it lingers."""
    if sys.platform == "win32":
        steps = ((process.terminate, grace), (process.kill, 2.0))
        for action, wait in steps:
            if process.returncode is not None:
                return
            with contextlib.suppress(ProcessLookupError, OSError):
                action()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), wait)
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        if process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), wait)

"""Writing a command's answer to stdout when stdout may be gone: a status bar that closed its end of the
pipe, ``| head -c0``, a full disk. The answer is lost either way, but the exit code (guard's decision)
must still reach the caller, with no traceback on the way."""

from __future__ import annotations

import os
import sys


def write_out(text: str) -> bool:
    """Write ``text`` and flush; False when stdout cannot take it (then stdout points at the null
    device, so the interpreter's own flush at exit fails no more)."""
    if sys.stdout is None:  # started with file descriptor 1 closed
        return False
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
        return True
    except (OSError, ValueError):  # EPIPE, ENOSPC, EBADF; ValueError: stdout already closed
        release()
        return False


def release() -> None:
    """Point stdout at the null device: the reader sees the end of the output now."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer), or closed
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)

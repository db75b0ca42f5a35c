"""Run the Claude Code CLI in a pseudo-terminal and capture its ``/usage`` panel.

The CLI is an interactive TUI: it only draws the panel for a terminal, so it gets a PTY
(160 columns, so panel lines are not wrapped). We wait for it to settle, accept the
first-run "trust this folder" prompt if shown, type ``/usage``, read until the panel (or
its inline error) is drawn and quiet, then end the process group we started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import struct
import sys

from ...errors import FetchTimeoutError, ProviderConfigError, UpstreamError
from .. import _process
from .panel import strip_ansi

ROWS, COLS = 50, 160
SETTLE = 0.7  # seconds of silence that mean the TUI finished drawing
_TRUST = re.compile(r"trust\s*the\s*files|Do\s*you\s*trust|Yes,\s*proceed", re.I)
_PANEL_DONE = re.compile(
    r"Failed\s*to\s*load\s*usage\s*data|Current\s*session[\s\S]*?%\s*(?:used|left|remaining)", re.I
)


class _Terminal:
    """The parent side of the PTY: collects output and tells when it has gone quiet."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.output = bytearray()
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        os.set_blocking(fd, False)
        self.loop.add_reader(fd, self._on_readable)

    def _on_readable(self) -> None:
        try:
            chunk = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the child closed its side
            chunk = b""
        if chunk:
            self.output.extend(chunk)
        else:
            self.loop.remove_reader(self.fd)
            self.closed.set()
        self.changed.set()

    def text(self, start: int = 0) -> str:
        return strip_ansi(self.output[start:].decode("utf-8", "replace"))

    def write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self.fd, data)

    async def first_output(self) -> None:
        while not self.output and not self.closed.is_set():
            self.changed.clear()
            await self.changed.wait()

    async def quiet(self, seconds: float = SETTLE, limit: float = 5.0) -> None:
        """Return once nothing has arrived for ``seconds``, the child is gone, or ``limit``
        seconds passed (a TUI with a blinking cursor or spinner is never fully silent)."""
        deadline = self.loop.time() + limit
        while not self.closed.is_set() and self.loop.time() < deadline:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(seconds, max(0.0, deadline - self.loop.time())))
            except TimeoutError:
                return

    def close(self) -> None:
        self.loop.remove_reader(self.fd)
        with contextlib.suppress(OSError):
            os.close(self.fd)


async def _drive(term: _Terminal) -> str:
    await term.first_output()
    await term.quiet()
    if _TRUST.search(term.text()):
        term.write(b"\r")  # the default choice is "Yes, proceed"
        await term.quiet()
    mark = len(term.output)
    term.write(b"/usage")
    await asyncio.sleep(0.2)  # let the command palette catch up before Enter
    term.write(b"\r")
    while True:
        if _PANEL_DONE.search(term.text(mark)):
            await term.quiet()
            return term.text(mark)
        if term.closed.is_set():
            return term.text(mark)
        term.changed.clear()
        await term.changed.wait()


async def read_usage_panel(binary: str, *, timeout: float, cwd: str) -> str:
    """The text (ANSI stripped) the CLI printed after ``/usage`` was sent."""
    if sys.platform == "win32":
        # Claude Code's panel needs a POSIX pseudo-terminal; Windows users have the OAuth file.
        raise ProviderConfigError(
            "Claude: the CLI /usage source needs a POSIX terminal",
            hint="Use the OAuth login (~/.claude/.credentials.json) or the claude.ai cookie.",
        )
    import fcntl  # POSIX-only modules, imported here so the provider still loads on Windows
    import pty
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS))
    try:
        process = await asyncio.create_subprocess_exec(
            binary,
            "--allowed-tools",
            "",
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            **_process.group_kwargs(),  # its own process group, so stopping it ends its children too
        )
    except OSError as exc:
        os.close(master)
        name = os.path.basename(binary)
        raise UpstreamError(
            f"Claude CLI: could not start '{name}' ({type(exc).__name__})",
            hint="Check that the claude CLI is installed and runs.",
        ) from None
    finally:
        os.close(slave)
    term = _Terminal(master)
    try:
        return await asyncio.wait_for(_drive(term), timeout)
    except TimeoutError:
        raise FetchTimeoutError(
            f"Claude CLI: no /usage panel within {timeout:g} s",
            hint="Run `claude` once by hand (log in, accept prompts), then refresh.",
        ) from None
    finally:
        term.close()
        await _process.stop(process)

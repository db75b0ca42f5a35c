"""Running an agent's own CLI as a credential source: start it in its own process group and stop
the whole group afterwards, on POSIX and on Windows. ``run`` is the one runner the CLI-text sources
share: a timeout, an idle cut-off, ANSI stripping, and exit status and stderr as typed errors."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AuthError, FetchTimeoutError, ProviderConfigError, UpstreamError
from ..secret import MASK, scrub


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


# -- the generic runner for CLIs that print their usage as text (kiro-cli, amp, auggie) -------------
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_OPAQUE = re.compile(r"[A-Za-z0-9_\-+/=.]{32,}")  # a long opaque run in an echoed line may be a token
READ_CHUNK = 65536
OUTPUT_LIMIT = 1024 * 1024  # a usage report is a few lines; anything past this is not kept
DRAIN_GRACE = 1.0  # seconds to collect output after the CLI exits (a grandchild may hold the pipe)


def strip_ansi(text: str) -> str:
    """Terminal escapes removed and carriage-return redraws (spinners) resolved to what was drawn last."""
    text = _ANSI.sub("", text).replace("\r\n", "\n")
    return "\n".join(([s for s in line.split("\r") if s] or [""])[-1] for line in text.split("\n"))


def find_executable(name: str, env: Mapping[str, str], home: Path, well_known: Sequence[str] = ()) -> str | None:
    """``name`` on the PATH of ``env`` (PATHEXT on Windows), else the first of ``well_known``
    (``~``-relative install locations) that exists and is executable."""
    found = shutil.which(name, path=env.get("PATH") or "")
    if found:
        return found
    for raw in well_known:
        path = home / raw[2:] if raw.startswith("~/") else Path(raw)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return None


@dataclass(frozen=True)
class CliOutput:
    """What a CLI printed (ANSI stripped). ``exit_code`` is None when the idle cut-off stopped it."""

    stdout: str
    stderr: str
    exit_code: int | None

    @property
    def text(self) -> str:
        """Its report: stdout, or stderr when a CLI printed everything there."""
        return self.stdout if self.stdout.strip() else self.stderr


def _excerpt(output: CliOutput, secrets: Sequence[str]) -> str:
    """The last thing the CLI said (its error, usually), short and with anything token-like masked."""
    for text in (output.stderr, output.stdout):
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if lines:
            line = _OPAQUE.sub(MASK, scrub(lines[-1], secrets))
            return line if len(line) <= 160 else line[:157] + "..."
    return "no output"


def _complete(out: bytearray, err: bytearray, complete: Callable[[str], bool] | None) -> bool:
    if not (out.strip() or err.strip()):
        return False
    if complete is None:
        return True
    return complete(strip_ansi((out + b"\n" + err).decode("utf-8", "replace")))


async def _pump(stream: asyncio.StreamReader | None, sink: bytearray, activity: asyncio.Event) -> None:
    if stream is None:
        return
    while chunk := await stream.read(READ_CHUNK):
        if len(sink) < OUTPUT_LIMIT:
            sink.extend(chunk[: OUTPUT_LIMIT - len(sink)])
        activity.set()


class _Protocol(asyncio.subprocess.SubprocessStreamProtocol):
    """Tells when the CLI itself has exited: ``Process.wait`` also waits for its pipes, which a
    helper process it left behind may hold open."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(limit=READ_CHUNK, loop=loop)
        self.exited = asyncio.Event()

    def process_exited(self) -> None:
        super().process_exited()
        self.exited.set()


async def _collect(
    process: asyncio.subprocess.Process,
    exit_event: asyncio.Event,
    out: bytearray,
    err: bytearray,
    *,
    timeout: float,
    idle: float | None,
    complete: Callable[[str], bool] | None,
) -> bool:
    """Read until the CLI exits (True) or, once what it printed is complete, falls silent for
    ``idle`` seconds (False). Raises TimeoutError at ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    activity = asyncio.Event()
    readers = [
        asyncio.ensure_future(_pump(process.stdout, out, activity)),
        asyncio.ensure_future(_pump(process.stderr, err, activity)),
    ]
    exited = asyncio.ensure_future(exit_event.wait())
    try:
        while not exited.done():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            activity.clear()  # before looking at the output, so nothing that arrives after is missed
            settled = idle is not None and _complete(out, err, complete)
            wait = min(remaining, idle) if settled and idle is not None else remaining
            woke = asyncio.ensure_future(activity.wait())
            try:
                done, _ = await asyncio.wait({exited, woke}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            finally:
                woke.cancel()
            if not done and settled and wait < remaining:
                return False  # it said what it had to say and went quiet (an interactive CLI that lingers)
        with contextlib.suppress(TimeoutError):  # a helper it left behind may keep the pipes open
            await asyncio.wait_for(asyncio.gather(*readers), DRAIN_GRACE)
        return True
    finally:
        for task in (*readers, exited):
            task.cancel()
        await asyncio.gather(*readers, exited, return_exceptions=True)


def _end_leftovers(process: asyncio.subprocess.Process) -> None:
    """Helpers the CLI started are in its process group: end them too once it has gone."""
    if sys.platform != "win32":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


async def run(
    binary: str,
    args: Sequence[str],
    *,
    name: str,
    timeout: float,
    idle: float | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    complete: Callable[[str], bool] | None = None,
    login_markers: Sequence[str] = (),
    login_hint: str | None = None,
    secrets: Sequence[str] = (),
) -> CliOutput:
    """Run ``binary args`` in its own process group with no stdin and return what it printed.

    The whole group is stopped when it exits, at ``timeout`` (``FetchTimeoutError``), once its
    output has been quiet for ``idle`` seconds (then ``exit_code`` is None; with ``complete``, only
    once ``complete(text so far)`` holds, so a CLI that printed a banner and is still waiting on its
    backend is not cut short), or when the caller is cancelled. ``env`` is added to this process's
    environment. A non-zero exit is an ``AuthError`` when the output holds one of ``login_markers``
    (case-insensitive), else an ``UpstreamError`` quoting the CLI's last line with ``secrets`` and
    anything token-like masked. A binary that is missing or not executable is a
    ``ProviderConfigError``.
    """
    label = os.path.basename(binary)
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.subprocess_exec(
            lambda: _Protocol(loop),
            binary,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            **group_kwargs(),  # its own process group, so stopping it ends its children too
        )
    except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
        raise ProviderConfigError(
            f"{name}: '{label}' cannot be run ({type(exc).__name__})",
            hint=f"Check that {label} is installed and the path setting points at it.",
        ) from None
    except OSError as exc:
        raise UpstreamError(f"{name}: could not start '{label}' ({type(exc).__name__})") from None
    process = asyncio.subprocess.Process(transport, protocol, loop)
    out, err = bytearray(), bytearray()
    try:
        exited = await _collect(process, protocol.exited, out, err, timeout=timeout, idle=idle, complete=complete)
    except TimeoutError:
        raise FetchTimeoutError(
            f"{name}: no usage report within {timeout:g} s",
            hint=f"Run `{label}` once by hand (log in, accept any prompt), then refresh.",
        ) from None
    finally:
        await stop(process)
        _end_leftovers(process)
        transport.close()
    output = CliOutput(
        strip_ansi(out.decode("utf-8", "replace")),
        strip_ansi(err.decode("utf-8", "replace")),
        process.returncode if exited else None,
    )
    if output.exit_code:
        said = f"{output.stdout}\n{output.stderr}".lower()
        if any(marker.lower() in said for marker in login_markers):
            raise AuthError(f"{name}: not logged in (exit status {output.exit_code})", hint=login_hint)
        raise UpstreamError(f"{name} exited with status {output.exit_code}: {_excerpt(output, secrets)}")
    return output

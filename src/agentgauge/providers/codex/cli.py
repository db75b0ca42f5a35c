"""Ask the Codex CLI for rate limits over its app-server JSON-RPC (newline-delimited JSON on stdio).

``codex -s read-only -a never app-server`` is started with a read-only sandbox and no
approvals, sent ``initialize`` / ``initialized`` / ``account/rateLimits/read``, and stopped.
The CLI uses its own login (and refreshes it itself), so no token passes through us.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from ... import __version__
from ...errors import FetchTimeoutError, UpstreamError
from .. import _process

ARGS = ("-s", "read-only", "-a", "never", "app-server")
LINE_LIMIT = 4 * 1024 * 1024  # an rpc answer is one JSON line; allow large ones


async def _send(process: asyncio.subprocess.Process, message: dict[str, Any]) -> None:
    assert process.stdin is not None
    process.stdin.write(json.dumps(message).encode() + b"\n")
    await process.stdin.drain()


async def _answer(process: asyncio.subprocess.Process, request_id: int) -> dict[str, Any]:
    """The response to ``request_id``; notifications and non-JSON lines are skipped."""
    assert process.stdout is not None
    while True:
        line = await process.stdout.readline()
        if not line:
            code = await process.wait()
            raise UpstreamError(
                f"Codex CLI: app-server exited (code {code}) before answering",
                hint="Run `codex login` and check that `codex app-server` starts, then refresh.",
            )
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("id") == request_id:
            return message


async def _exchange(process: asyncio.subprocess.Process) -> dict[str, Any]:
    await _send(
        process,
        {
            "id": 1,
            "method": "initialize",
            "params": {"clientInfo": {"name": "agentgauge", "title": "agentgauge", "version": __version__}},
        },
    )
    hello = await _answer(process, 1)
    if "error" in hello:
        raise UpstreamError("Codex CLI: app-server refused initialize")
    await _send(process, {"method": "initialized"})
    await _send(process, {"id": 2, "method": "account/rateLimits/read"})
    return await _answer(process, 2)


async def read_rate_limits(binary: str, *, timeout: float) -> dict[str, Any]:
    """The JSON-RPC response (``result`` or ``error``) of ``account/rateLimits/read``."""
    try:
        process = await asyncio.create_subprocess_exec(
            binary,
            *ARGS,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            limit=LINE_LIMIT,
            **_process.group_kwargs(),  # its own process group, so stopping it ends its children too
        )
    except OSError as exc:
        name = os.path.basename(binary)
        raise UpstreamError(
            f"Codex CLI: could not start '{name}' ({type(exc).__name__})",
            hint="Check that the codex CLI is installed and runs.",
        ) from None
    try:
        return await asyncio.wait_for(_exchange(process), timeout)
    except TimeoutError:
        raise FetchTimeoutError(f"Codex CLI: app-server gave no rate limits within {timeout:g} s") from None
    except (BrokenPipeError, ConnectionResetError):
        raise UpstreamError("Codex CLI: app-server closed its input before answering") from None
    finally:
        if process.stdin is not None:
            process.stdin.close()
        await _process.stop(process)

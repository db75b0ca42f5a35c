"""The simulator in a child process (``serve --demo``), tied to its parent's life.

The child must never outlive the server that started it, however the server ends:

- a clean stop (Ctrl-C, SIGTERM, SIGHUP): the parent terminates the child and removes its temp data;
- the parent killed outright (``kill -9``, a crash): on Linux the kernel sends the child SIGTERM
  (``PR_SET_PDEATHSIG``); everywhere (macOS, Windows too) the child's stdin is a pipe from the
  parent that nobody writes to, so its end of file says the parent is gone. An orphaned child then
  also removes the demo's temp folder, which its dead parent can no longer do.

The child binds port 0 itself and reports the port on its stdout: no probe-then-bind race.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from ..errors import InternalError

START_TIMEOUT = 60.0  # seconds for the child to import everything and bind (a cold start on a busy machine)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class SimProcess:
    """The simulator in its own process: like a real upstream, it does not share the server's
    interpreter, so it cannot stall the server's event loop. ``cleanup`` is a folder the child
    removes if it finds itself orphaned (the demo's workdir)."""

    def __init__(self, host: str = "127.0.0.1", *, cleanup: Path | None = None) -> None:
        command = [sys.executable, "-m", "agentgauge.sim.process", "--host", host, "--parent", str(os.getpid())]
        if cleanup is not None:
            command += ["--cleanup", str(cleanup)]
        self.host = host
        self.port = 0
        # PR_SET_PDEATHSIG fires when the *thread* that started the child ends, so start it from a
        # thread that lives as long as the server (serve does, from the main thread).
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self) -> SimProcess:
        assert self.proc.stdout is not None
        line = _read_line(self.proc.stdout, START_TIMEOUT)
        if not line.strip().isdigit():
            self.stop()
            raise InternalError("the demo's simulator process did not start")
        self.port = int(line)
        return self

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


def _read_line(stream: IO[bytes], timeout: float) -> str:
    """The child's first line, or "" when it exits or stays silent for ``timeout`` seconds."""
    box: list[bytes] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0].decode("ascii", "replace") if box else ""


# -- the child --------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: ask the kernel for SIGTERM when the parent dies (elsewhere the stdin pipe does it)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # no prctl (an unusual libc): the stdin pipe still ends the child


def _watch_stdin(server: Any, orphaned: threading.Event) -> None:
    """Block on stdin: the parent never writes, so end of file means it has gone."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdin.buffer.read()
    orphaned.set()
    server.should_exit = True


def child_main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m agentgauge.sim.process")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--cleanup", type=Path)
    args = parser.parse_args(argv)
    orphaned = threading.Event()
    _die_with_parent()
    try:
        if os.getppid() != args.parent:  # the parent died before the death signal was armed
            orphaned.set()
            return
        import uvicorn

        from .server import ServiceServer, build_app

        app, _ = build_app()
        sock = socket.create_server((args.host, 0))  # listening already: the parent may connect at once
        server = ServiceServer(
            uvicorn.Config(
                app, log_level="warning", lifespan="off", access_log=False, http="h11", timeout_graceful_shutdown=5
            )
        )
        threading.Thread(target=_watch_stdin, args=(server, orphaned), daemon=True).start()
        sys.stdout.write(f"{sock.getsockname()[1]}\n")
        sys.stdout.flush()
        server.run(sockets=[sock])
    finally:
        if args.cleanup is not None and (orphaned.is_set() or os.getppid() != args.parent):
            shutil.rmtree(args.cleanup, ignore_errors=True)


if __name__ == "__main__":
    child_main()

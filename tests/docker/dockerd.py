"""A private Docker engine for the image tests: Debian's ``dockerd`` with its socket, data and exec
roots in a temp dir, no bridge and no iptables rules (every container uses the host's network and
talks to 127.0.0.1 only), stopped and removed afterwards.

No registry is reachable, so the base image is made here: ``debootstrap --variant=minbase`` from the
machine's Debian mirror (python3, python3-venv, ca-certificates), kept as a tarball in a cache dir and
``docker import``-ed into each run's engine.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import queue
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_IMAGE = f"agentgauge-test-base:{SUITE}"
# The real user's cache (tests change HOME): AGENTGAUGE_TEST_CACHE, else ~/.cache/agentgauge-tests.
CACHE = Path(
    os.environ.get("AGENTGAUGE_TEST_CACHE") or Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "agentgauge-tests"
)


class DockerError(RuntimeError):
    """A docker command failed; carries its output (which never holds a secret: tokens go in env files)."""


def docker_client() -> str:
    """The client shipped with Debian's dockerd: it builds with the engine's BuildKit (build secrets)
    without the buildx plugin, which a newer stand-alone client would require."""
    for candidate in ("/usr/bin/docker", shutil.which("docker")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise DockerError("no docker client: install Debian's docker.io")


def compose_command() -> list[str]:
    """``docker compose`` (the plugin) when present, else Debian's ``docker-compose``."""
    client = docker_client()
    if subprocess.run([client, "compose", "version"], capture_output=True, check=False).returncode == 0:
        return [client, "compose"]
    found = shutil.which("docker-compose")
    if found:
        return [found]
    raise DockerError("neither `docker compose` nor `docker-compose` is installed (Debian: docker-compose)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Dockerd:
    """One private engine. ``run``/``output`` call its client; ``close`` removes every trace."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="agentgauge-dockerd-"))
        self.socket = self.root / "docker.sock"
        self.client = docker_client()
        self.env = {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_BUILDKIT": "1",
            "DOCKER_CONFIG": str(self.root / "client"),  # no credentials or settings of the user's
            "COMPOSE_DOCKER_CLI_BUILD": "1",
        }
        self.log = self.root / "dockerd.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Dockerd:
        dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    dockerd,
                    f"--host=unix://{self.socket}",
                    f"--data-root={self.root / 'data'}",
                    f"--exec-root={self.root / 'exec'}",
                    f"--pidfile={self.root / 'dockerd.pid'}",
                    "--bridge=none",  # no docker0 and no NAT rules on the host: containers use --network host
                    "--iptables=false",
                    "--ip6tables=false",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:  # the socket answers once the engine has loaded; nothing to wait on but polling
            if self.process.poll() is not None:
                raise DockerError(f"dockerd exited with {self.process.returncode}:\n{self.log_tail()}")
            if self.socket.exists() and self.run(["version"], check=False).returncode == 0:
                return self
            if time.monotonic() > deadline:
                raise DockerError(f"dockerd did not answer within {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def run(
        self, args: Sequence[str], *, check: bool = True, timeout: float = 120, input: bytes | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [self.client, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=input.decode() if input is not None else None,
        )
        if check and done.returncode != 0:
            raise DockerError(f"docker {' '.join(args[:2])} exited with {done.returncode}:\n{done.stderr[-3000:]}")
        return done

    def output(self, args: Sequence[str], *, timeout: float = 120) -> str:
        return self.run(args, timeout=timeout).stdout.strip()

    def close(self) -> None:
        """Containers first (their shims), then the engine, then its mounts and files."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(Exception):
                ids = self.output(["ps", "-aq"]).split()
                if ids:
                    self.run(["rm", "-f", "-v", *ids], check=False, timeout=60)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # Overlay and netns mounts left by a killed engine would keep rm -rf from finishing.
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            mounts = subprocess.run(["findmnt", "-rn", "-o", "TARGET"], capture_output=True, text=True, check=False)
            for target in sorted(mounts.stdout.split(), key=len, reverse=True):
                if target.startswith(str(self.root) + "/"):
                    subprocess.run(["umount", "-l", target], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    # -- containers ----------------------------------------------------------------------------------
    def _follow(self, args: Sequence[str], wanted: str, *, occurrence: int, timeout: float, what: str) -> str:
        """Run a streaming client command (logs --follow, events) until a line containing ``wanted``
        has come ``occurrence`` times; that line."""
        stream = subprocess.Popen(
            [self.client, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert stream.stdout is not None
            for line in stream.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        seen, collected = 0, []
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    got = "".join(collected)
                    raise DockerError(f"no {wanted!r} in {what} within {timeout:.0f} s:\n{got}") from None
                if line is None:
                    raise DockerError(f"{what} ended before {wanted!r}:\n{''.join(collected)}")
                collected.append(line)
                if wanted in line:
                    seen += 1
                    if seen == occurrence:
                        return line
        finally:
            stream.terminate()
            stream.wait(timeout=10)

    def wait_for_log(self, container: str, needle: str, *, occurrence: int = 1, timeout: float = 90) -> str:
        """Follow the container's log until ``needle`` has appeared ``occurrence`` times (a restarted
        container's log holds its earlier runs too)."""
        return self._follow(
            ["logs", "--follow", container], needle, occurrence=occurrence, timeout=timeout, what=f"{container}'s log"
        )

    def wait_for_event(self, container: str, event: str, *, since: float, timeout: float = 90) -> None:
        """Block until the engine reports ``event`` (e.g. ``health_status: healthy``) for the container
        at or after ``since`` (epoch seconds)."""
        self._follow(
            ["events", "--since", f"{since:.3f}", "--filter", f"container={container}", "--format", "{{.Status}}"],
            event,
            occurrence=1,
            timeout=timeout,
            what=f"{container}'s events",
        )


# -- the base image ------------------------------------------------------------------------------------
def base_tarball() -> Path:
    """The debootstrap root filesystem as a tarball, made once and kept in the cache dir."""
    key = hashlib.sha256(f"{SUITE} minbase {','.join(BASE_PACKAGES)}".encode()).hexdigest()[:12]
    tarball = CACHE / f"debian-{SUITE}-python3-{key}.tar"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be making it right now
        if tarball.exists():
            return tarball
        work = Path(tempfile.mkdtemp(prefix="agentgauge-debootstrap-"))
        try:
            root = work / "root"
            done = subprocess.run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(BASE_PACKAGES)}",
                    SUITE,
                    str(root),
                ],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if done.returncode != 0:
                said = done.stdout[-2000:] + done.stderr[-2000:]
                raise DockerError(f"debootstrap failed ({done.returncode}):\n{said}")
            # Like the official slim images: no package lists or downloaded .debs in the base.
            for leftover in [*(root / "var/cache/apt/archives").glob("*.deb"), *(root / "var/lib/apt/lists").glob("*")]:
                if leftover.is_file():
                    leftover.unlink()
            partial = tarball.with_suffix(".partial")
            subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True, timeout=600)
            partial.rename(tarball)
        finally:
            subprocess.run(["rm", "-rf", "--one-file-system", str(work)], check=False)
    return tarball


def import_base(engine: Dockerd) -> str:
    with base_tarball().open("rb") as tar:
        done = subprocess.run(
            [engine.client, "import", "-", BASE_IMAGE],
            env=engine.env,
            stdin=tar,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    if done.returncode != 0:
        raise DockerError(f"docker import failed:\n{done.stderr[-2000:]}")
    return BASE_IMAGE


def pip_ca_bundle() -> Path | None:
    """The CA bundle pip trusts on this machine (a TLS-intercepting proxy's CA among them), handed to
    the build as a secret: it reaches pip during the build and never a layer."""
    system = "/etc/ssl/certs/ca-certificates.crt"
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE"), system):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@contextlib.contextmanager
def engine() -> Iterator[Dockerd]:
    daemon = Dockerd()
    try:
        yield daemon.start()
    finally:
        daemon.close()

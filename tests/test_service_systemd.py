"""``agentgauge service`` under a real systemd user manager: install starts ``serve``, status sees it,
a stop is clean (exit 0 on SIGTERM), uninstall removes it, and a token never reaches the unit or a
command line.

This machine has no systemd as PID 1, so the test starts ``systemd --user`` itself: in a private mount
namespace whose /run/systemd says "booted with systemd" (nothing outside sees it), in a cgroup of its
own (so it never touches other processes' cgroups), with HOME and XDG dirs in a temp dir. Every
command that talks to it runs in that namespace (nsenter). Needs root, as CI has.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

SYSTEMD = next((p for p in ("/lib/systemd/systemd", "/usr/lib/systemd/systemd") if os.path.exists(p)), "")
HOLDER = """
set -e
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then roots=/sys/fs/cgroup  # cgroup v2 only
else roots="/sys/fs/cgroup/systemd /sys/fs/cgroup/unified"; fi         # hybrid
for root in $roots; do
  [ -e "$root/cgroup.procs" ] || continue
  mkdir "$root/$CG" && echo $$ > "$root/$CG/cgroup.procs"
done
mkdir -p /run/systemd
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/system
exec "$SYSTEMD" --user
"""


@dataclass
class UserManager:
    pid: int
    env: dict[str, str]
    home: Path

    def run(self, argv: Sequence[str], *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """A command inside the manager's mount namespace, as a login session would run it."""
        return subprocess.run(
            ["nsenter", f"--target={self.pid}", "--mount", "--", *argv],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def agentgauge(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return self.run([sys.executable, "-m", "agentgauge", *args], env=env)

    def show(self, *properties: str) -> dict[str, str]:
        done = self.run(["systemctl", "--user", "show", "agentgauge.service", *(f"--property={p}" for p in properties)])
        return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def _cgroup_dirs(name: str) -> list[Path]:
    return [
        root / name for root in (Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))
    ]


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[UserManager]:
    assert os.geteuid() == 0, "a private systemd user manager needs root (mount namespace, cgroup)"
    assert SYSTEMD, "systemd is not installed (Debian: systemd)"
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "AGENTGAUGE_NO_PLUGINS": "1",
        "AGENTGAUGE_STATUS_PAGES": "off",  # the service makes no request off this machine
    }
    cgroup = f"agentgauge-test-{secrets.token_hex(4)}"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(30)
    holder = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", HOLDER],
        env={**env, "CG": cgroup, "SYSTEMD": SYSTEMD, "NOTIFY_SOCKET": str(tmp_path / "notify")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while b"READY=1" not in notify.recv(4096):  # the manager says when it is up (sd_notify)
            pass
    except TimeoutError:
        holder.kill()
        raise AssertionError(f"systemd --user did not start: {holder.communicate()[1]!r}") from None
    finally:
        notify.close()
    try:
        yield UserManager(holder.pid, env, home)
    finally:
        holder.send_signal(signal.SIGTERM)  # stops every unit (serve gets SIGTERM), then exits
        try:
            holder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait(timeout=10)
        for top in _cgroup_dirs(cgroup):
            if top.is_dir():
                for folder in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                    if folder.is_dir():
                        folder.rmdir()
                top.rmdir()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_answering(url: str, timeout: float = 60) -> httpx.Response:
    """serve has no readiness signal for systemd (Type=exec): ask until it answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_install_status_stop_and_uninstall(manager: UserManager) -> None:
    port = free_port()
    odd_path = manager.env["PATH"] + ":/opt/100%/$odd dir"  # %, $ and a space reach the service as they are
    installed = manager.agentgauge("service", "install", "--port", str(port), env={"PATH": odd_path})
    assert installed.returncode == 0, installed.stderr
    unit = manager.home / ".config/systemd/user/agentgauge.service"
    assert str(unit) in installed.stdout and f"http://localhost:{port}/" in installed.stdout
    assert wait_until_answering(f"http://127.0.0.1:{port}/api/ping").json()["ok"] is True
    environ = Path(f"/proc/{manager.show('MainPID')['MainPID']}/environ").read_bytes().split(b"\0")
    assert f"PATH={odd_path}".encode() in environ

    status = manager.agentgauge("service", "status", "--json")
    assert status.returncode == 0, status.stdout + status.stderr
    found = json.loads(status.stdout)
    assert (found["installed"], found["enabled"], found["running"], found["answering"]) == (True, True, True, True)
    assert found["url"] == f"http://127.0.0.1:{port}/api/ping"
    # The server keeps its data where the user's agentgauge does.
    assert (manager.home / ".local/share/agentgauge/agentgauge.db").exists()

    stopped = manager.run(["systemctl", "--user", "stop", "agentgauge.service"])
    assert stopped.returncode == 0, stopped.stderr
    shown = manager.show("Result", "ExecMainCode", "ExecMainStatus")
    assert (shown["Result"], shown["ExecMainStatus"]) == ("success", "0"), shown  # exited 0 on SIGTERM
    assert manager.agentgauge("service", "status").returncode == 1  # installed, not running

    removed = manager.agentgauge("service", "uninstall")
    assert removed.returncode == 0 and "removed" in removed.stdout
    assert not unit.exists()
    assert not (manager.home / ".config/systemd/user/default.target.wants/agentgauge.service").exists()
    assert manager.agentgauge("service", "status").returncode == 3
    assert manager.agentgauge("service", "uninstall").stdout.startswith("agentgauge service: not installed")


def test_off_loopback_the_token_goes_to_a_0600_env_file_never_the_unit(manager: UserManager) -> None:
    port = free_port()
    installed = manager.agentgauge("service", "install", "--host", "0.0.0.0", "--port", str(port))
    assert installed.returncode == 0, installed.stderr
    env_file = manager.home / ".config/agentgauge/service.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    (line,) = env_file.read_text().splitlines()
    token = line.removeprefix("AGENTGAUGE_SERVE_TOKEN=")
    assert len(token) >= 32
    unit = (manager.home / ".config/systemd/user/agentgauge.service").read_text()
    assert token not in unit + installed.stdout + installed.stderr
    assert f"EnvironmentFile=-{env_file}" in unit

    base = f"http://127.0.0.1:{port}"
    assert wait_until_answering(f"{base}/api/ping").status_code == 200
    assert httpx.get(f"{base}/api/usage").status_code == 401
    assert httpx.get(f"{base}/api/usage", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    main_pid = manager.show("MainPID")["MainPID"]
    command_line = Path(f"/proc/{main_pid}/cmdline").read_bytes().decode()
    assert "serve" in command_line and token not in command_line

    # A reinstall keeps the token and tightens a loosened file back to 0600.
    env_file.chmod(0o644)
    again = manager.agentgauge("service", "install", "--host", "0.0.0.0", "--port", str(port))
    assert again.returncode == 0, again.stderr
    assert "made readable by you only (0600)" in again.stdout
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600 and env_file.read_text() == f"{line}\n"
    assert wait_until_answering(f"{base}/api/ping").status_code == 200
    assert manager.agentgauge("service", "uninstall").returncode == 0
    assert env_file.exists()  # uninstall leaves the user's settings


def test_the_shells_token_is_saved_for_the_service_not_shown(manager: UserManager) -> None:
    token = secrets.token_urlsafe(24)
    port = free_port()
    installed = manager.agentgauge(
        "service", "install", "--host", "0.0.0.0", "--port", str(port), env={"AGENTGAUGE_SERVE_TOKEN": token}
    )
    assert installed.returncode == 0, installed.stderr
    assert "saved your shell's AGENTGAUGE_SERVE_TOKEN" in installed.stdout
    assert token not in installed.stdout + installed.stderr
    env_file = manager.home / ".config/agentgauge/service.env"
    assert env_file.read_text() == f"AGENTGAUGE_SERVE_TOKEN={token}\n"
    wait_until_answering(f"http://127.0.0.1:{port}/api/ping")
    answer = httpx.get(f"http://127.0.0.1:{port}/api/usage", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200

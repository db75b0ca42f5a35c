"""The definitions ``agentgauge service`` installs, one class per service manager: a systemd user unit
(Linux), a launchd agent (macOS), a scheduled task run at logon (Windows). Each renders the definition,
reads its command back (for ``status``) and drives its manager's command line.

A definition never holds a secret: the server reads its token from the config file or, under systemd,
from the ``EnvironmentFile`` (``service.env`` beside the config file, mode 0600).
"""

from __future__ import annotations

import getpass
import os
import plistlib
import re
import shlex
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from .errors import ConfigError
from .paths import config_dir, data_dir

NAME = "agentgauge"
TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)


@dataclass(frozen=True)
class ServeCommand:
    """What the service runs: ``python -m agentgauge [--config PATH] serve ...``."""

    python: str = field(default_factory=lambda: sys.executable)
    host: str = "127.0.0.1"
    port: int = 8777
    root_path: str = ""
    config: Path | None = None

    def argv(self) -> list[str]:
        config = ["--config", str(self.config)] if self.config else []
        root = ["--root-path", self.root_path] if self.root_path else []
        return [self.python, "-m", NAME, *config, "serve", "--host", self.host, "--port", str(self.port), *root]

    @classmethod
    def from_argv(cls, argv: Sequence[str]) -> ServeCommand:
        """Read back the options of a command this module wrote (for ``status``)."""

        def option(name: str, default: str) -> str:
            return argv[argv.index(name) + 1] if name in argv[:-1] else default

        config = option("--config", "")
        return cls(
            python=argv[0] if argv else sys.executable,
            host=option("--host", "127.0.0.1"),
            port=int(option("--port", "8777")),
            root_path=option("--root-path", ""),
            config=Path(config) if config else None,
        )

    def ping_url(self) -> str:
        """/api/ping on the address the server listens on (loopback for every-interface binds)."""
        host = self.host.strip("[]")
        host = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}{self.root_path}/api/ping"


def env_file() -> Path:
    """``service.env`` beside the config file: variables for the systemd unit, readable only by the user."""
    return config_dir() / "service.env"


class Manager(ABC):
    """One platform's service manager: where the definition goes, what it says, how to (de)activate it."""

    label = ""
    failure_hint = "See docs/deploy.md, section 'As a user service'."

    def __init__(self, run: Runner = run_command, env: dict[str, str] | None = None) -> None:
        self.run = run
        self.env = dict(os.environ if env is None else env)
        self.home = Path(self.env["HOME"]) if self.env.get("HOME") else Path.home()

    @property
    @abstractmethod
    def path(self) -> Path:
        """Where the service definition is written."""

    @abstractmethod
    def render(self, command: ServeCommand) -> bytes:
        """The service definition that runs ``command``."""

    @abstractmethod
    def read_argv(self, content: bytes) -> list[str]:
        """The command line an installed definition runs."""

    @abstractmethod
    def activate(self, start: bool) -> None:
        """Enable the installed definition (and start it when ``start``)."""

    @abstractmethod
    def deactivate(self) -> None:
        """Stop and disable it."""

    @abstractmethod
    def probe(self) -> tuple[bool, bool, str]:
        """(enabled, running, detail) from the manager."""

    def after_uninstall(self) -> None:
        """Anything the manager needs once the definition is gone (a hook: systemd reloads)."""
        return None

    def check(self, argv: Sequence[str], *, allow_failure: bool = False) -> subprocess.CompletedProcess[str]:
        try:
            done = self.run(argv)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConfigError(
                f"cannot run {argv[0]}: {type(exc).__name__}",
                hint=f"agentgauge service needs {self.label}; run `agentgauge serve` under your own supervisor instead "
                "(docs/deploy.md).",
            ) from None
        if done.returncode != 0 and not allow_failure:
            said = (done.stderr or done.stdout).strip().splitlines()
            raise ConfigError(
                f"`{' '.join(argv[:3])}` failed ({done.returncode}): {said[-1] if said else 'no output'}",
                hint=self.failure_hint,
            )
        return done


def _systemd_quote(arg: str, *, expands: bool = True) -> str:
    """One value for a unit file: %-specifiers escaped, and $-expansion where the setting does it
    (ExecStart does, Environment does not); quoted when it is not plain."""
    escaped = arg.replace("%", "%%")
    if expands:
        escaped = escaped.replace("$", "$$")
    if re.fullmatch(r"[A-Za-z0-9_./:=@+,-]+", escaped):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Systemd(Manager):
    label = "a systemd user manager (systemctl --user)"
    unit = f"{NAME}.service"
    failure_hint = (
        "Is a user session running? Over SSH or in a container, `systemctl --user` needs one: log in on the "
        "machine once, or run `loginctl enable-linger $USER`."
    )

    @property
    def path(self) -> Path:
        base = Path(self.env["XDG_CONFIG_HOME"]) if self.env.get("XDG_CONFIG_HOME") else self.home / ".config"
        return base / "systemd" / "user" / self.unit

    def render(self, command: ServeCommand) -> bytes:
        lines = [
            "# Written by `agentgauge service install`; `agentgauge service uninstall` removes it.",
            "# No secret belongs here: the token comes from the config file or the EnvironmentFile (0600).",
            "[Unit]",
            "Description=agentgauge: dashboard and API for AI coding agents' usage limits",
            "",
            "[Service]",
            "Type=exec",
            "ExecStart=" + " ".join(_systemd_quote(a) for a in command.argv()),
            "EnvironmentFile=-" + str(env_file()).replace("%", "%%"),
        ]
        if self.env.get("PATH"):  # so `$cmd:` references find the same tools as in the shell
            lines.append("Environment=" + _systemd_quote("PATH=" + self.env["PATH"], expands=False))
        lines += [
            "Restart=on-failure",
            "RestartSec=5s",
            "# Exit 2 is a configuration error: restarting would only repeat it.",
            "RestartPreventExitStatus=2",
            "TimeoutStopSec=30s",
            "UMask=0077",
            "NoNewPrivileges=yes",
            "",
            "[Install]",
            "WantedBy=default.target",
            "",
        ]
        return "\n".join(lines).encode()

    def read_argv(self, content: bytes) -> list[str]:
        for line in content.decode().splitlines():
            if line.startswith("ExecStart="):
                return [a.replace("$$", "$").replace("%%", "%") for a in shlex.split(line[len("ExecStart=") :])]
        return []

    def activate(self, start: bool) -> None:
        self.check(["systemctl", "--user", "daemon-reload"])
        self.check(["systemctl", "--user", "enable", self.unit])
        if start:
            self.check(["systemctl", "--user", "restart", self.unit])  # a reinstall runs the new unit

    def deactivate(self) -> None:
        self.check(["systemctl", "--user", "disable", "--now", self.unit], allow_failure=True)

    def after_uninstall(self) -> None:
        self.check(["systemctl", "--user", "daemon-reload"], allow_failure=True)

    def probe(self) -> tuple[bool, bool, str]:
        enabled = self.check(["systemctl", "--user", "is-enabled", self.unit], allow_failure=True).stdout.strip()
        active = self.check(["systemctl", "--user", "is-active", self.unit], allow_failure=True).stdout.strip()
        return enabled == "enabled", active == "active", f"systemd: {enabled or 'unknown'}, {active or 'unknown'}"


class Launchd(Manager):
    label = "launchd (launchctl)"
    failure_hint = "Check `launchctl print gui/$(id -u)/agentgauge` and ~/Library/Logs/agentgauge/serve.log."

    @property
    def path(self) -> Path:
        return self.home / "Library" / "LaunchAgents" / f"{NAME}.plist"

    @property
    def log(self) -> Path:
        return self.home / "Library" / "Logs" / NAME / "serve.log"

    @property
    def target(self) -> str:
        return f"gui/{os.getuid()}"  # the logged-in user's GUI domain

    def render(self, command: ServeCommand) -> bytes:
        agent: dict[str, object] = {
            "Label": NAME,
            "ProgramArguments": command.argv(),
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},  # restarted after a crash, not after a clean stop
            "ThrottleInterval": 10,
            "StandardOutPath": str(self.log),
            "StandardErrorPath": str(self.log),
        }
        if self.env.get("PATH"):
            agent["EnvironmentVariables"] = {"PATH": self.env["PATH"]}  # never a secret: see the module doc
        return plistlib.dumps(agent)

    def read_argv(self, content: bytes) -> list[str]:
        return [str(a) for a in plistlib.loads(content).get("ProgramArguments", [])]

    def activate(self, start: bool) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        if start:
            self.check(["launchctl", "bootout", f"{self.target}/{NAME}"], allow_failure=True)  # a reinstall
            self.check(["launchctl", "bootstrap", self.target, str(self.path)])

    def deactivate(self) -> None:
        self.check(["launchctl", "bootout", f"{self.target}/{NAME}"], allow_failure=True)

    def probe(self) -> tuple[bool, bool, str]:
        done = self.check(["launchctl", "print", f"{self.target}/{NAME}"], allow_failure=True)
        if done.returncode != 0:
            return False, False, "launchd: not loaded"
        state = re.search(r"^\s*state = (\S+)", done.stdout, re.M)
        running = bool(state and state.group(1) == "running")
        return True, running, f"launchd: {state.group(1) if state else 'loaded'}"


class ScheduledTask(Manager):
    label = "the Task Scheduler (schtasks)"
    failure_hint = "Check the task in Task Scheduler (taskschd.msc), folder 'Task Scheduler Library'."

    @property
    def path(self) -> Path:
        """A copy of the registered XML (the task itself lives in the Task Scheduler)."""
        return data_dir() / "service" / f"{NAME}-task.xml"

    def user(self) -> str:
        domain = self.env.get("USERDOMAIN")
        name = self.env.get("USERNAME") or getpass.getuser()
        return f"{domain}\\{name}" if domain else name

    def render(self, command: ServeCommand) -> bytes:
        ET.register_namespace("", TASK_NS)

        def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
            element = ET.SubElement(parent, f"{{{TASK_NS}}}{tag}", attrs)
            element.text = text
            return element

        task = ET.Element(f"{{{TASK_NS}}}Task", {"version": "1.2"})
        info = sub(task, "RegistrationInfo")
        sub(info, "Description", "agentgauge serve: dashboard and API for AI coding agents' usage limits")
        sub(info, "URI", f"\\{NAME}")
        logon = sub(sub(task, "Triggers"), "LogonTrigger")
        sub(logon, "Enabled", "true")
        sub(logon, "UserId", self.user())
        principal = sub(sub(task, "Principals"), "Principal", id="Author")
        sub(principal, "UserId", self.user())
        sub(principal, "LogonType", "InteractiveToken")
        sub(principal, "RunLevel", "LeastPrivilege")
        settings = sub(task, "Settings")
        for tag, value in (
            ("MultipleInstancesPolicy", "IgnoreNew"),
            ("DisallowStartIfOnBatteries", "false"),
            ("StopIfGoingOnBatteries", "false"),
            ("ExecutionTimeLimit", "PT0S"),  # a server: no time limit
            ("Enabled", "true"),
        ):
            sub(settings, tag, value)
        restart = sub(settings, "RestartOnFailure")
        sub(restart, "Interval", "PT1M")
        sub(restart, "Count", "3")
        argv = command.argv()
        pythonw = Path(argv[0]).with_name("pythonw.exe")
        program = str(pythonw) if pythonw.exists() else argv[0]  # pythonw: no console window at logon
        execute = sub(sub(task, "Actions", Context="Author"), "Exec")
        sub(execute, "Command", program)
        sub(execute, "Arguments", subprocess.list2cmdline(argv[1:]))
        body = ET.tostring(task, encoding="unicode")
        # schtasks /XML reads UTF-16 with a byte-order mark, as Task Scheduler exports it.
        return ('<?xml version="1.0" encoding="UTF-16"?>\n' + body).encode("utf-16")

    def read_argv(self, content: bytes) -> list[str]:
        root = ET.fromstring(content.decode("utf-16").split("\n", 1)[1])
        command = root.findtext(f".//{{{TASK_NS}}}Exec/{{{TASK_NS}}}Command") or ""
        arguments = root.findtext(f".//{{{TASK_NS}}}Exec/{{{TASK_NS}}}Arguments") or ""
        return [command, *_split_windows(arguments)]

    def activate(self, start: bool) -> None:
        self.check(["schtasks", "/Create", "/TN", NAME, "/XML", str(self.path), "/F"])
        if start:
            self.check(["schtasks", "/Run", "/TN", NAME])

    def deactivate(self) -> None:
        self.check(["schtasks", "/End", "/TN", NAME], allow_failure=True)
        self.check(["schtasks", "/Delete", "/TN", NAME, "/F"], allow_failure=True)

    def probe(self) -> tuple[bool, bool, str]:
        done = self.check(["schtasks", "/Query", "/TN", NAME, "/FO", "CSV", "/NH"], allow_failure=True)
        if done.returncode != 0:
            return False, False, "Task Scheduler: no such task"
        fields = [f.strip('"') for f in done.stdout.strip().splitlines()[-1].split('","')]
        status = fields[-1] if fields else "unknown"
        return status != "Disabled", status == "Running", f"Task Scheduler: {status}"


def _split_windows(arguments: str) -> list[str]:
    """The inverse of subprocess.list2cmdline for the arguments this module writes."""
    return [
        m.group(1).replace('\\"', '"') if m.group(1) is not None else m.group(2)
        for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', arguments)
    ]

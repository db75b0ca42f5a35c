"""``agentgauge service``: the definitions it writes, checked by the tools that read them where this
machine has them (systemd-analyze verify; plutil -lint on macOS, plistlib elsewhere), the Task Scheduler
XML by its schema's shape, and the managers' command lines where the manager cannot run here
(launchctl, schtasks). A real systemd user manager: tests/test_service_systemd.py."""

from __future__ import annotations

import os
import plistlib
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from agentgauge.cli.commands import cli
from agentgauge.errors import ConfigError
from agentgauge.service import Launchd, ScheduledTask, ServeCommand, Systemd, install, uninstall
from agentgauge.service_managers import TASK_NS

TOKEN = "tok-9f8e7d6c5b4a-never-in-a-definition"
# Paths a user may really have: spaces, and the characters systemd and Windows treat specially.
ODD_CONFIG = Path('/home/a user/100% sure/$HOME\'s "config".toml')


def commands() -> list[ServeCommand]:
    return [
        ServeCommand(python=sys.executable),
        ServeCommand(python=sys.executable, host="0.0.0.0", port=9000, root_path="/gauge", config=ODD_CONFIG),
        ServeCommand(python=sys.executable, host="::1", port=8777, config=Path("/etc/agentgauge/config.toml")),
    ]


class Recorder:
    """Records a manager's command lines and answers as the real tool would (exit 0, or as told)."""

    def __init__(self, answers: dict[str, subprocess.CompletedProcess[str]] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.answers = answers or {}

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        return self.answers.get(argv[1], subprocess.CompletedProcess(list(argv), 0, "", ""))


# -- systemd ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", commands(), ids=["default", "odd-paths", "ipv6"])
def test_systemd_unit_passes_systemd_analyze_verify(command: ServeCommand, tmp_path: Path) -> None:
    unit = tmp_path / "units" / "agentgauge.service"
    unit.parent.mkdir()
    manager = Systemd(env={**os.environ, "AGENTGAUGE_SERVE_TOKEN": TOKEN})
    unit.write_bytes(manager.render(command))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    done = subprocess.run(
        ["systemd-analyze", "--user", "verify", str(unit)],
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        capture_output=True,
        text=True,
        check=False,
    )
    # verify exits 0 on unknown keys or bad values too; it says so on stderr, so that must stay empty.
    assert (done.returncode, done.stderr) == (0, "")
    text = unit.read_text()
    assert TOKEN not in text
    assert manager.read_argv(unit.read_bytes()) == command.argv()


def test_systemd_analyze_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a unit whose program is missing does not verify."""
    unit = tmp_path / "agentgauge.service"
    broken = ServeCommand(python=str(tmp_path / "no-such-python"))
    unit.write_bytes(Systemd().render(broken))
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    done = subprocess.run(
        ["systemd-analyze", "--user", "verify", str(unit)],
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and "no-such-python" in done.stderr


def test_systemd_unit_reads_the_env_file_and_restarts_only_on_failure() -> None:
    text = Systemd().render(ServeCommand(python=sys.executable)).decode()
    lines = text.splitlines()
    assert any(line.startswith("EnvironmentFile=-") and line.endswith("/agentgauge/service.env") for line in lines)
    assert "Restart=on-failure" in lines and "RestartPreventExitStatus=2" in lines
    assert "WantedBy=default.target" in lines
    assert f"ExecStart={sys.executable} -m agentgauge serve --host 127.0.0.1 --port 8777" in lines


# -- launchd ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", commands(), ids=["default", "odd-paths", "ipv6"])
def test_launchd_plist_lints_and_holds_no_secret(command: ServeCommand, tmp_path: Path) -> None:
    manager = Launchd(env={**os.environ, "HOME": str(tmp_path), "AGENTGAUGE_SERVE_TOKEN": TOKEN})
    content = manager.render(command)
    plist = tmp_path / "agentgauge.plist"
    plist.write_bytes(content)
    if shutil.which("plutil"):  # macOS
        done = subprocess.run(["plutil", "-lint", str(plist)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout
    agent = plistlib.loads(content)
    assert agent["Label"] == "agentgauge"
    assert agent["ProgramArguments"] == command.argv()
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] == {"SuccessfulExit": False}
    assert set(agent.get("EnvironmentVariables", {})) <= {"PATH"}
    assert agent["StandardErrorPath"] == str(tmp_path / "Library/Logs/agentgauge/serve.log")
    assert TOKEN.encode() not in content
    assert manager.read_argv(content) == command.argv()


def test_launchd_install_and_uninstall_drive_launchctl(tmp_path: Path) -> None:
    runner = Recorder()
    manager = Launchd(runner, env={**os.environ, "HOME": str(tmp_path)})
    done = install(
        manager,
        ServeCommand(python=sys.executable),
        start=True,
        token_required=False,
        file_token=False,
        shell_token=None,
    )
    plist = tmp_path / "Library/LaunchAgents/agentgauge.plist"
    assert done.definition == plist and plist.exists()
    target = f"gui/{os.getuid()}"
    assert runner.calls == [
        ["launchctl", "bootout", f"{target}/agentgauge"],
        ["launchctl", "bootstrap", target, str(plist)],
    ]
    runner.calls.clear()
    assert uninstall(manager) is True
    assert runner.calls == [["launchctl", "bootout", f"{target}/agentgauge"]]
    assert not plist.exists()
    assert uninstall(manager) is False


def test_off_loopback_without_a_config_token_is_refused_where_there_is_no_env_file(tmp_path: Path) -> None:
    runner = Recorder()
    manager = Launchd(runner, env={**os.environ, "HOME": str(tmp_path)})
    with pytest.raises(ConfigError, match="needs an access token") as caught:
        install(
            manager,
            ServeCommand(python=sys.executable, host="0.0.0.0"),
            start=True,
            token_required=True,
            file_token=False,
            shell_token=TOKEN,
        )
    assert "serve_token" in caught.value.hint and TOKEN not in caught.value.message + caught.value.hint
    assert not manager.path.exists() and runner.calls == []
    # With serve_token in the config file it installs.
    install(
        manager,
        ServeCommand(python=sys.executable, host="0.0.0.0"),
        start=False,
        token_required=True,
        file_token=True,
        shell_token=None,
    )
    assert manager.path.exists() and runner.calls == []  # --no-start: loaded at the next login


# -- Windows Task Scheduler --------------------------------------------------------------------------------
ALLOWED = {  # the Task Scheduler 1.2 schema's children for what this module writes
    "Task": {"RegistrationInfo", "Triggers", "Settings", "Data", "Principals", "Actions"},
    "RegistrationInfo": {
        "URI",
        "SecurityDescriptor",
        "Source",
        "Date",
        "Author",
        "Version",
        "Description",
        "Documentation",
    },
    "Triggers": {
        "BootTrigger",
        "RegistrationTrigger",
        "IdleTrigger",
        "TimeTrigger",
        "EventTrigger",
        "LogonTrigger",
        "SessionStateChangeTrigger",
        "CalendarTrigger",
    },
    "LogonTrigger": {"StartBoundary", "EndBoundary", "Enabled", "ExecutionTimeLimit", "Repetition", "Delay", "UserId"},
    "Principals": {"Principal"},
    "Principal": {
        "UserId",
        "LogonType",
        "GroupId",
        "DisplayName",
        "RunLevel",
        "ProcessTokenSidType",
        "RequiredPrivileges",
    },
    "Settings": {
        "AllowStartOnDemand",
        "RestartOnFailure",
        "MultipleInstancesPolicy",
        "DisallowStartIfOnBatteries",
        "StopIfGoingOnBatteries",
        "AllowHardTerminate",
        "StartWhenAvailable",
        "NetworkProfileName",
        "RunOnlyIfNetworkAvailable",
        "WakeToRun",
        "Enabled",
        "Hidden",
        "DeleteExpiredTaskAfter",
        "IdleSettings",
        "NetworkSettings",
        "ExecutionTimeLimit",
        "Priority",
        "RunOnlyIfIdle",
        "UseUnifiedSchedulingEngine",
        "DisallowStartOnRemoteAppSession",
    },
    "RestartOnFailure": {"Interval", "Count"},
    "Actions": {"Exec", "ComHandler", "SendEmail", "ShowMessage"},
    "Exec": {"Command", "Arguments", "WorkingDirectory"},
}


def _check_shape(element: ET.Element) -> None:
    tag = element.tag.removeprefix(f"{{{TASK_NS}}}")
    assert element.tag == f"{{{TASK_NS}}}{tag}", f"{element.tag}: not in the task namespace"
    children = [child.tag.removeprefix(f"{{{TASK_NS}}}") for child in element]
    if tag in ALLOWED:
        assert set(children) <= ALLOWED[tag], f"{tag}: unexpected {set(children) - ALLOWED[tag]}"
        assert len(children) == len(set(children)) or tag in ("Triggers", "Actions"), f"{tag}: repeated child"
    else:
        assert not children and (element.text or "").strip(), f"{tag}: a leaf must hold a value"
    for child in element:
        _check_shape(child)


@pytest.mark.parametrize("command", commands(), ids=["default", "odd-paths", "ipv6"])
def test_task_xml_has_the_schemas_shape(command: ServeCommand) -> None:
    manager = ScheduledTask(
        env={**os.environ, "USERDOMAIN": "WORKSTATION", "USERNAME": "ada", "AGENTGAUGE_SERVE_TOKEN": TOKEN}
    )
    content = manager.render(command)
    assert content.startswith(b"\xff\xfe") or content.startswith(b"\xfe\xff")  # UTF-16 with a BOM, as schtasks reads
    text = content.decode("utf-16")
    assert text.startswith('<?xml version="1.0" encoding="UTF-16"?>')
    root = ET.fromstring(text.split("\n", 1)[1])
    assert root.tag == f"{{{TASK_NS}}}Task" and root.get("version") == "1.2"
    _check_shape(root)
    ns = {"t": TASK_NS}
    assert root.findtext("t:Triggers/t:LogonTrigger/t:UserId", namespaces=ns) == "WORKSTATION\\ada"
    assert root.findtext("t:Principals/t:Principal/t:LogonType", namespaces=ns) == "InteractiveToken"
    assert root.findtext("t:Principals/t:Principal/t:RunLevel", namespaces=ns) == "LeastPrivilege"
    assert root.findtext("t:Settings/t:ExecutionTimeLimit", namespaces=ns) == "PT0S"
    assert root.findtext("t:Settings/t:MultipleInstancesPolicy", namespaces=ns) in ("Parallel", "Queue", "IgnoreNew")
    assert root.find("t:Actions", ns).get("Context") == "Author"  # type: ignore[union-attr]
    assert TOKEN not in text
    assert manager.read_argv(content) == command.argv()


def test_task_install_and_uninstall_drive_schtasks(tmp_path: Path) -> None:
    running = subprocess.CompletedProcess([], 0, '"\\agentgauge","N/A","Running"\r\n', "")
    runner = Recorder({"/Query": running})
    manager = ScheduledTask(runner, env={**os.environ, "USERNAME": "ada"})
    install(
        manager,
        ServeCommand(python=sys.executable),
        start=True,
        token_required=False,
        file_token=False,
        shell_token=None,
    )
    assert runner.calls == [
        ["schtasks", "/Create", "/TN", "agentgauge", "/XML", str(manager.path), "/F"],
        ["schtasks", "/Run", "/TN", "agentgauge"],
    ]
    assert manager.probe() == (True, True, "Task Scheduler: Running")
    runner.calls.clear()
    assert uninstall(manager) is True
    assert runner.calls == [
        ["schtasks", "/End", "/TN", "agentgauge"],
        ["schtasks", "/Delete", "/TN", "agentgauge", "/F"],
    ]


# -- the command line --------------------------------------------------------------------------------------
def test_install_print_shows_the_unit_and_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTGAUGE_SERVE_TOKEN", TOKEN)
    result = CliRunner().invoke(
        cli, ["service", "install", "--print", "--host", "0.0.0.0", "--root-path", "/gauge/"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "--host 0.0.0.0 --port 8777 --root-path /gauge" in result.output
    assert TOKEN not in result.output
    assert not (Path(os.environ["XDG_CONFIG_HOME"]) / "systemd").exists()


def test_install_refuses_a_broken_config_before_writing_anything(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("refresh_interval = [\n")
    done = subprocess.run(
        [sys.executable, "-m", "agentgauge", "--config", str(config), "service", "install"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "not valid TOML" in done.stderr, done.stderr
    assert not (Path(os.environ["XDG_CONFIG_HOME"]) / "systemd").exists()


def test_env_file_is_created_0600_and_tightened(tmp_path: Path) -> None:
    from agentgauge.service import add_token, env_file_has_token, tighten

    path = tmp_path / "agentgauge" / "service.env"
    add_token(path, TOKEN)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and env_file_has_token(path)
    path.chmod(0o644)
    assert tighten(path) is True and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tighten(path) is False
    (tmp_path / "other.env").write_text("# AGENTGAUGE_SERVE_TOKEN=commented out\nAGENTGAUGE_SERVE_TOKEN=\n")
    assert env_file_has_token(tmp_path / "other.env") is False


def test_a_refused_install_leaves_no_definition_behind(tmp_path: Path) -> None:
    refusal = subprocess.CompletedProcess([], 1, "", "Failed to connect to bus: No medium found\n")
    manager = Systemd(Recorder({"--user": refusal}), env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)})
    command = ServeCommand(python=sys.executable)
    with pytest.raises(ConfigError, match="Failed to connect to bus") as caught:
        install(manager, command, start=True, token_required=False, file_token=False, shell_token=None)
    assert "loginctl enable-linger" in caught.value.hint
    assert not manager.path.exists()
    manager.path.write_text("# the unit that was there before\n")
    with pytest.raises(ConfigError):
        install(manager, command, start=True, token_required=False, file_token=False, shell_token=None)
    assert manager.path.read_text() == "# the unit that was there before\n"

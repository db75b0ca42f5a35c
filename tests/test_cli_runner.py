"""The generic CLI runner (providers/_process.run) against real child processes: output with ANSI,
the idle cut-off, a hang, a non-zero exit, a login error, secrets in stderr, a missing binary and
cancellation, each checking that the whole process group (grandchildren too) has ended."""

from __future__ import annotations

import asyncio
import json
import os
import select
import sys
from pathlib import Path

import pytest

from agentgauge.errors import AuthError, FetchTimeoutError, ProviderConfigError, UpstreamError
from agentgauge.providers import _process

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX fake executables")  # CI is Linux

PRELUDE = """#!{python}
import json, os, subprocess, sys, time
# a grandchild in the same process group, as a CLI's helper process would be
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
with open({pidfile!r}, "w") as f:
    ids = {{"pid": os.getpid(), "helper": helper.pid}}
    json.dump(dict(ids, argv=sys.argv[1:], env=os.environ.get("RUNNER_TEST")), f)
"""


def fake(tmp_path: Path, body: str) -> tuple[str, Path]:
    pidfile = tmp_path / "pids.json"
    script = tmp_path / "fake-cli"
    script.write_text(PRELUDE.format(python=sys.executable, pidfile=str(pidfile)) + body)
    script.chmod(0o755)
    return str(script), pidfile


def wait_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie counts): waits on a pidfd, an event, not a sleep."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], 10)
        return bool(readable)
    finally:
        os.close(fd)


def assert_group_ended(pidfile: Path) -> dict:
    pids = json.loads(pidfile.read_text())
    assert wait_gone(pids["pid"]) and wait_gone(pids["helper"])
    return pids


async def test_output_is_stripped_of_ansi_and_returned(tmp_path: Path) -> None:
    binary, pidfile = fake(
        tmp_path,
        'print("\\x1b[1mEstimated Usage\\x1b[0m | \\x1b]8;;https://x\\x07link\\x1b]8;;\\x07 | ok")\n'
        'print("spinner 1\\rspinner 2\\rdone")\n'
        'print("warn", file=sys.stderr)\n',
    )
    out = await _process.run(binary, ["usage", "--x"], name="Fake CLI", timeout=20, env={"RUNNER_TEST": "yes"})
    assert out.exit_code == 0
    assert out.stdout == "Estimated Usage | link | ok\ndone\n"
    assert out.stderr == "warn\n" and out.text == out.stdout
    pids = assert_group_ended(pidfile)
    assert pids["argv"] == ["usage", "--x"] and pids["env"] == "yes"


async def test_idle_cut_off_stops_a_lingering_cli_and_keeps_its_report(tmp_path: Path) -> None:
    binary, pidfile = fake(tmp_path, 'print("Credits 40%", flush=True)\ntime.sleep(120)\n')
    out = await _process.run(binary, [], name="Fake CLI", timeout=30, idle=0.5)
    assert out.exit_code is None and out.stdout == "Credits 40%\n"
    assert_group_ended(pidfile)


async def test_idle_cut_off_waits_for_a_complete_report(tmp_path: Path) -> None:
    binary, pidfile = fake(
        tmp_path,
        'print("Loading...", flush=True)\ntime.sleep(1.0)\nprint("Credits 40%", flush=True)\ntime.sleep(120)\n',
    )
    out = await _process.run(binary, [], name="Fake CLI", timeout=30, idle=0.3, complete=lambda text: "Credits" in text)
    assert out.exit_code is None and out.stdout == "Loading...\nCredits 40%\n"
    assert_group_ended(pidfile)


async def test_a_hang_without_output_is_a_timeout_and_the_group_ends(tmp_path: Path) -> None:
    binary, pidfile = fake(tmp_path, "time.sleep(120)\n")
    with pytest.raises(FetchTimeoutError) as err:
        await _process.run(binary, [], name="Fake CLI", timeout=1.0, idle=0.2)
    assert "Fake CLI" in err.value.message and "fake-cli" in err.value.hint
    assert_group_ended(pidfile)


async def test_output_that_never_settles_still_times_out(tmp_path: Path) -> None:
    binary, pidfile = fake(tmp_path, "while True:\n    print('.', end='', flush=True)\n    time.sleep(0.05)\n")
    with pytest.raises(FetchTimeoutError):
        await _process.run(binary, [], name="Fake CLI", timeout=1.0, idle=0.5)
    assert_group_ended(pidfile)


async def test_non_zero_exit_quotes_the_last_line_without_secrets(tmp_path: Path) -> None:
    token = "tok_" + "A1b2C3d4" * 6
    binary, pidfile = fake(
        tmp_path,
        f'print("starting")\nprint("error: request with Bearer abcdefgh123 and {token} failed", file=sys.stderr)\n'
        "sys.exit(3)\n",
    )
    with pytest.raises(UpstreamError) as err:
        await _process.run(binary, [], name="Fake CLI", timeout=20, secrets=["hunter2-secret"])
    message = err.value.message
    assert message.startswith("Fake CLI exited with status 3: error: request with")
    assert token not in message and "abcdefgh123" not in message and "***" in message
    assert_group_ended(pidfile)


async def test_known_secret_in_stderr_is_scrubbed(tmp_path: Path) -> None:
    binary, _ = fake(tmp_path, 'print("bad cookie hunter2-secret", file=sys.stderr)\nsys.exit(1)\n')
    with pytest.raises(UpstreamError) as err:
        await _process.run(binary, [], name="Fake CLI", timeout=20, secrets=["hunter2-secret"])
    assert "hunter2-secret" not in err.value.message and "bad cookie ***" in err.value.message


async def test_login_marker_on_failure_is_an_auth_error(tmp_path: Path) -> None:
    binary, _ = fake(
        tmp_path, 'print("\\x1b[31mError: Not logged in.\\x1b[0m Run: fake login", file=sys.stderr)\nsys.exit(1)\n'
    )
    with pytest.raises(AuthError) as err:
        await _process.run(
            binary, [], name="Fake CLI", timeout=20, login_markers=("not logged in",), login_hint="Run `fake login`."
        )
    assert err.value.hint == "Run `fake login`." and "exit status 1" in err.value.message


async def test_stderr_only_report_is_the_text(tmp_path: Path) -> None:
    binary, _ = fake(tmp_path, 'print("report on stderr", file=sys.stderr)\n')
    out = await _process.run(binary, [], name="Fake CLI", timeout=20)
    assert out.stdout == "" and out.text == "report on stderr\n"


async def test_missing_or_non_executable_binary_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ProviderConfigError):
        await _process.run(str(tmp_path / "nope"), [], name="Fake CLI", timeout=5)
    plain = tmp_path / "plain"
    plain.write_text("not a program")
    with pytest.raises(ProviderConfigError) as err:
        await _process.run(str(plain), [], name="Fake CLI", timeout=5)
    assert "PermissionError" in err.value.message


async def test_cancelling_the_caller_ends_the_group(tmp_path: Path) -> None:
    binary, pidfile = fake(tmp_path, 'print("working", flush=True)\ntime.sleep(120)\n')
    task = asyncio.ensure_future(_process.run(binary, [], name="Fake CLI", timeout=60))
    while not pidfile.exists() or not pidfile.read_text():
        await asyncio.sleep(0.05)  # the fake writes its pids once it has started
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert_group_ended(pidfile)


def test_strip_ansi_handles_csi_osc_and_redraws() -> None:
    assert _process.strip_ansi("\x1b[38;5;11m⚠️ Warning\x1b[0m\r\nnext") == "⚠️ Warning\nnext"
    assert _process.strip_ansi("a\x1b]0;title\x1b\\b") == "ab"
    assert _process.strip_ansi("10%\r50%\r") == "50%"
    assert _process.strip_ansi("\x1b[?25l\x1b[2Kline") == "line"


def test_find_executable_on_path_then_well_known(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert _process.find_executable("tool", {"PATH": str(bin_dir)}, tmp_path) == str(tool)
    assert _process.find_executable("tool", {"PATH": ""}, tmp_path) is None
    assert _process.find_executable("tool", {}, tmp_path, ("~/bin/tool",)) == str(tool)
    (tmp_path / "bin" / "data").write_text("")
    assert _process.find_executable("tool", {}, tmp_path, ("~/bin/data",)) is None

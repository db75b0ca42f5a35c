from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from agentgauge.providers import registry


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentgauge", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def test_status_demo_json_is_only_the_snapshot():
    result = run("status", "--demo", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # nothing else on stdout
    assert data["schema"] == "agentgauge.snapshot.v2"
    providers = {p["provider"] for p in data["providers"]}
    assert providers == set(registry.ids())
    for p in data["providers"]:
        assert p["status"] == "ok" and (p["windows"] or p["balances"]) and p["fetched_at"].endswith("Z")
        for w in p["windows"]:
            assert 0 <= w["used_pct"] <= 100 and w["label"]
    assert any(p["account"] == "work" for p in data["providers"]), "demo shows a second account"


def test_status_demo_table_and_provider_filter():
    result = run("status", "--demo", "--provider", "zai", "--provider", "kimi")
    assert result.returncode == 0, result.stderr
    assert "z.ai" in result.stdout and "Kimi" in result.stdout
    assert "Ollama" not in result.stdout
    assert "Session (5h)" in result.stdout and "%" in result.stdout


def test_unknown_provider_is_a_clear_usage_error():
    result = run("status", "--provider", "nope")
    assert result.returncode == 2
    assert "unknown provider 'nope'" in result.stderr and "Traceback" not in result.stderr


def test_nothing_configured_exit_code_and_doctor(tmp_path: Path):
    env = {"AGENTGAUGE_DATABASE_URL": str(tmp_path / "x.db")}
    result = run("status", env=env)
    assert result.returncode == 3
    assert "No provider is configured" in result.stdout
    doctor = run("doctor", env=env)
    assert doctor.returncode == 3
    assert "AGENTGAUGE_ZAI_API_KEY" in doctor.stdout


def test_providers_and_doctor_report_source_never_value(tmp_path: Path):
    env = {"AGENTGAUGE_ZAI_API_KEY": "zk-secret-value-123", "AGENTGAUGE_DATABASE_URL": str(tmp_path / "x.db")}
    listing = run("providers", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    rows = {r["provider"]: r for r in json.loads(listing.stdout)["providers"]}
    assert rows["zai"]["configured"] and rows["zai"]["origin"] == "environment variable AGENTGAUGE_ZAI_API_KEY"
    assert not rows["kimi"]["configured"]
    doctor = run("doctor", env=env)
    assert doctor.returncode == 0
    for out in (listing.stdout, doctor.stdout, listing.stderr, doctor.stderr):
        assert "zk-secret-value-123" not in out


def test_config_file_errors_are_clear(tmp_path: Path):
    bad = tmp_path / "config.toml"
    bad.write_text('[providers.zai]\napi_kee = "x"\n')
    result = run("--config", str(bad), "status")
    assert result.returncode == 2
    assert "unknown setting(s) api_kee" in result.stderr and "Traceback" not in result.stderr
    bad.write_text("this is = = not toml")
    result = run("--config", str(bad), "status")
    assert result.returncode == 2 and "not valid TOML" in result.stderr


def test_config_file_accounts_and_references(tmp_path: Path, sim):
    key_file = tmp_path / "zai.key"
    key_file.write_text("sim-zai-key.secret#fromfile\n")
    config = tmp_path / "config.toml"
    config.write_text(
        f'database_url = "{tmp_path / "c.db"}"\n'
        f'[providers.zai]\nurl = "{sim.url}/zai/url"\napi_key = "$env:MY_ZAI_KEY"\n'
        f'[providers.zai.accounts.team]\napi_key = "$file:{key_file}"\n'
        f"[providers.kimi]\nenabled = false\n"
    )
    result = run("--config", str(config), "status", "--json", env={"MY_ZAI_KEY": "sim-zai-key.secret"})
    assert result.returncode == 0, result.stderr
    rows = {(p["provider"], p["account"]): p for p in json.loads(result.stdout)["providers"]}
    assert rows[("zai", "default")]["status"] == "ok"
    assert rows[("zai", "team")]["status"] == "ok"
    assert rows[("kimi", "default")]["status"] == "disabled"


def test_watch_json_keeps_printing(tmp_path: Path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgauge", "status", "--demo", "--json", "--watch", "--interval", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: list[str] = []
    err: list[str] = []
    second = threading.Event()

    def read_out() -> None:
        assert proc.stdout is not None
        snapshots = 0
        for line in proc.stdout:
            out.append(line)
            snapshots += '"schema": "agentgauge.snapshot.v2"' in line
            if snapshots >= 2:
                second.set()

    def read_err() -> None:
        assert proc.stderr is not None
        err.extend(proc.stderr)

    readers = [threading.Thread(target=read_out, daemon=True), threading.Thread(target=read_err, daemon=True)]
    for reader in readers:
        reader.start()
    # Wait for the second snapshot, not a fixed time: on a loaded machine starting the demo (the
    # simulator, every provider's first fetch) alone can take longer than a few seconds.
    second.wait(timeout=120)
    running = proc.poll() is None
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    for reader in readers:
        reader.join(timeout=10)
    assert running, "".join(err)  # still watching after its second snapshot
    assert "".join(out).count('"schema": "agentgauge.snapshot.v2"') >= 2, "".join(err)
    assert proc.returncode == 0, "".join(err)  # Ctrl-C ends a watch cleanly
    assert "Traceback" not in "".join(err)
    assert "upgrade" not in "".join(err), "".join(err)  # uvicorn warns of curl's `Upgrade: h2c`: filtered


def test_ctrl_c_at_a_prompt_is_a_quiet_stop() -> None:
    """Ctrl-C before a command handles it itself (here: at `auth set`'s hidden prompt, on a real
    terminal) ends it quietly with 130, as a shell reports an interrupted command: not click's
    "Aborted!" and exit 1."""
    import pty
    import select
    import time

    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgauge", "auth", "set", "zai"],
        preexec_fn=lambda: os.login_tty(terminal),  # the pty is its controlling terminal (getpass reads it)
        env=os.environ.copy(),
    )
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 60
    try:
        while not seen.rstrip().endswith(b":"):
            assert select.select([controller], [], [], max(0.0, deadline - time.monotonic()))[0], seen
            seen += os.read(controller, 4096)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
        while select.select([controller], [], [], 0.5)[0]:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(controller)
    text = seen.decode(errors="replace")
    assert "Aborted" not in text and "Traceback" not in text, text

"""How fast the agent-facing commands answer: `agentgauge guard` (target < 100 ms) and `agentgauge statusline`
(target < 50 ms for the bar formats), each run as a fresh process over a SQLite store of 20 accounts.

Prints the median and the fastest wall time of repeated runs (hyperfine when installed, else a subprocess
loop), plus CPU time, beside three baselines: a bare `python -c pass`, importing `agentgauge.cli` (the
console script's entry, which sends guard and statusline to their fast path, `cli.quick`) and importing
`agentgauge.cli.commands` (the click commands' start, which every other command pays). On a shared
machine the fastest run is the one closest to an idle machine; the load average is printed with the figures.

    .venv/bin/python bench/agents.py [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agentgauge.models import Forecast, ProviderSnapshot, Status, Window
from agentgauge.store import open_store

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("agentgauge")  # the console script users run
AGENTGAUGE = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "agentgauge"]
CLAUDE_CODE = json.dumps({"model": {"id": "claude-opus-4-1"}, "cwd": "/tmp", "session_id": "bench"})


def seed(db: Path) -> None:
    now = datetime.now(UTC)
    store = open_store(str(db), data_dir=db.parent)
    for i in range(20):
        provider = ("claude", "codex", "zai", "kimi", "ollama")[i % 5]
        windows = tuple(
            Window(
                id=wid,
                label=wid.title(),
                used_pct=(i * 13 + j * 29) % 100,
                resets_at=now + timedelta(hours=5 * (j + 1)),
                window_seconds=18000 * (j + 1),
                forecast=Forecast(verdict="ok", pace_pct=40.0, expected_pct=60.0, made_at=now),
            )
            for j, wid in enumerate(("session", "weekly", "monthly"))
        )
        account = "default" if i < 5 else f"acct{i}"
        row = ProviderSnapshot(
            provider=provider,
            account=account,
            name=provider.title(),
            status=Status.OK,
            windows=windows,
            fetched_at=now,
            last_success_at=now,
        )
        store.save_state(row, next_allowed_at=4e9, failures=0)
    store.close()


def measure(args: list[str], env: dict[str, str], runs: int, stdin: str | None = None) -> dict[str, float]:
    """Median and fastest wall time (ms) and median CPU time (ms) of ``runs`` fresh processes."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(args, input=stdin, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        walls.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return {"median": statistics.median(walls), "fastest": min(walls), "cpu": statistics.median(cpus)}


def hyperfine(args: list[str], env: dict[str, str], runs: int) -> dict[str, float] | None:
    exe = shutil.which("hyperfine")
    if exe is None:
        return None
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = " ".join(subprocess.list2cmdline([a]) for a in args)
        subprocess.run(
            [exe, "-N", "--warmup", "3", "--runs", str(runs), "--export-json", out.name, command],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        result = json.loads(Path(out.name).read_text())["results"][0]
    return {"median": result["median"] * 1000, "fastest": result["min"] * 1000, "cpu": result["user"] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="agentgauge-bench-") as tmp:
        db, config = Path(tmp) / "bench.db", Path(tmp) / "config.toml"
        config.write_text("")
        seed(db)
        env = {**os.environ, "AGENTGAUGE_DATABASE_URL": str(db), "AGENTGAUGE_CONFIG": str(config)}
        cases = [
            ("python -c pass (baseline)", [sys.executable, "-c", "pass"], None, None),
            ("import agentgauge.cli (the entry point)", [sys.executable, "-c", "import agentgauge.cli"], None, None),
            (
                "import agentgauge.cli.commands (click)",
                [sys.executable, "-c", "import agentgauge.cli.commands"],
                None,
                None,
            ),
            ("agentgauge guard", [*AGENTGAUGE, "guard", "--provider", "claude", "--min-remaining", "10"], None, 100),
            ("agentgauge guard --json", [*AGENTGAUGE, "guard", "--provider", "codex", "--json"], None, 100),
            ("agentgauge pick", [*AGENTGAUGE, "pick"], None, None),
            ("agentgauge statusline --format tmux", [*AGENTGAUGE, "statusline", "--format", "tmux"], None, 50),
            ("agentgauge statusline --format waybar", [*AGENTGAUGE, "statusline", "--format", "waybar"], None, 50),
            ("agentgauge statusline (Claude Code stdin)", [*AGENTGAUGE, "statusline"], CLAUDE_CODE, 50),
        ]
        for _ in range(3):  # warm the page cache and the bytecode caches
            subprocess.run(cases[2][1], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; {runs} runs each")
        print(f"{'command':<44} {'median':>8} {'fastest':>8} {'cpu':>8}  target")
        for name, args, stdin, target in cases:
            found = None if stdin else hyperfine(args, env, runs)
            figures = found or measure(args, env, runs, stdin)
            verdict = ""
            if target:
                verdict = f"< {target} ms: " + ("yes" if figures["median"] < target else "median over")
            times = f"{figures['median']:>6.1f}ms {figures['fastest']:>6.1f}ms {figures['cpu']:>6.1f}ms"
            print(f"{name:<44} {times}  {verdict}")


if __name__ == "__main__":
    main()

"""``agentgauge cost daily`` with every reader enabled, on a generated tree that mixes all 16 agents.

Cold (empty index), warm (nothing changed) and warm after the agents worked on (each run first
appends a Kimi status update, adds a message to OpenCode's database through its WAL and rewrites an
Amp thread with one more message): wall time (median of the runs), CPU time and peak RSS, and
whether every agent's totals (``--by agent``) equal ground-truth.json.

Run: .venv/bin/python bench/logs_mixed.py [--size-mb 100] [--seed 42] [--runs 3]. The tree is cached
in bench/out/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
REPO = ROOT.parent
AGENTGAUGE = str(Path(sys.executable).parent / "agentgauge")
FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def tree_for(size_mb: int, seed: int) -> Path:
    tree = OUT / f"mixed-{size_mb}mb-seed{seed}"
    if not (tree / "ground-truth.json").exists():
        tmp = OUT / f".gen-mixed-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"generating a {size_mb} MB tree of every agent (seed {seed})...", file=sys.stderr)
        cmd = [sys.executable, "-m", "tests.loggen", "--out", str(tmp), "--size-mb", str(size_mb), "--seed", str(seed)]
        subprocess.run([*cmd, "--agents", "all"], check=True, cwd=REPO)
        shutil.rmtree(tree, ignore_errors=True)
        tmp.rename(tree)
    return tree


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS MiB, stdout) of one run."""
    use_time = Path("/usr/bin/time").exists()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-v", *cmd] if use_time else cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if use_time:
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        rss = int(found.group(1)) / 1024 if found else 0.0
    else:
        rss = after.ru_maxrss / 1024
    return wall, cpu, rss, done.stdout


def expected(gt: dict[str, Any]) -> dict[str, int]:
    """Total tokens per agent (Codex's input already holds its cached tokens)."""
    out = {}
    for agent in gt["generator"]["agents"]:
        t = gt[agent]["totals"]
        out[agent] = t["input_tokens"] + t["output_tokens"] if agent == "codex" else sum(t[f] for f in FIELDS)
    return out


def per_agent(report: dict[str, Any]) -> dict[str, int]:
    got: dict[str, int] = {}
    for day in report["daily"]:
        for b in day["agentBreakdowns"]:
            got[b["agent"]] = got.get(b["agent"], 0) + b["totalTokens"]
    return got


class Work:
    """The agents keep working between warm runs: each step adds known tokens to three agents."""

    def __init__(self, tree: Path) -> None:
        self.tree, self.step, self.added = tree, 0, {"kimi": 0, "opencode": 0, "amp": 0}
        self.wire = max((tree / ".kimi" / "sessions").rglob("wire.jsonl"), key=lambda p: p.stat().st_size)
        self.db = tree / ".local" / "share" / "opencode" / "opencode.db"
        self.thread = max(
            (tree / ".local" / "share" / "amp" / "threads").glob("*.json"), key=lambda p: p.stat().st_size
        )
        self.backup = {p: p.read_bytes() for p in (self.wire, self.thread)}

    def __call__(self) -> None:
        self.step += 1
        n = self.step
        with self.wire.open("a") as f:
            usage = {"input_other": 100 + n, "output": 10, "input_cache_read": 1000, "input_cache_creation": 0}
            payload = {"token_usage": usage, "message_id": f"bench-{n}"}
            f.write(
                json.dumps({"timestamp": 1764500000 + n, "message": {"type": "StatusUpdate", "payload": payload}})
                + "\n"
            )
        self.added["kimi"] += 1110 + n
        conn = sqlite3.connect(self.db)
        session = conn.execute("SELECT id FROM session LIMIT 1").fetchone()[0]
        tokens = {"input": 200, "output": 20, "reasoning": 2, "cache": {"read": 2000, "write": 0}}
        data = {"role": "assistant", "time": {"created": 1764500000000}, "modelID": "gpt-5", "tokens": tokens}
        conn.execute(
            "INSERT INTO message VALUES (?, ?, ?, ?, ?)",
            (f"msg_bench{n}", session, 1764500000000, 1764500000000 + n, json.dumps(data)),
        )
        conn.commit()
        conn.close()
        self.added["opencode"] += 2222
        thread = json.loads(self.thread.read_text())
        usage = {"model": "gpt-5", "inputTokens": 300, "outputTokens": 30, "timestamp": "2025-11-30T12:00:00.000Z"}
        thread["messages"].append({"role": "assistant", "messageId": 10_000 + n, "usage": usage})
        self.thread.write_text(json.dumps(thread))
        self.added["amp"] += 330

    def undo(self) -> None:
        for path, data in self.backup.items():
            path.write_bytes(data)
        conn = sqlite3.connect(self.db)
        conn.execute("DELETE FROM message WHERE id LIKE 'msg_bench%'")
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    p.add_argument("--size-mb", type=int, default=100)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    tree = tree_for(a.size_mb, a.seed)
    gt = json.loads((tree / "ground-truth.json").read_text())
    work_dir = Path(tempfile.mkdtemp(prefix="agentgauge-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTGAUGE_", "XDG_"))}
    env.update(HOME=str(tree), TZ="UTC", AGENTGAUGE_DATABASE_URL=str(work_dir / "index.db"))
    # The agents' own data folders follow XDG_DATA_HOME too (OpenCode, Kilo, Goose, Amp): it stays the tree's.
    env.update(XDG_DATA_HOME=str(tree / ".local" / "share"), XDG_CONFIG_HOME=str(tree / ".config"))
    sidecar = tree / ".local" / "share" / "agentgauge"  # the remembered database stats
    cmd = [AGENTGAUGE, "cost", "daily", "--json", "--timezone", "UTC", "--by", "agent"]
    want = expected(gt)
    sizes = {agent: gt[agent]["bytes"] for agent in gt["generator"]["agents"]}
    print(f"tree: {tree} ({sum(sizes.values()) / 2**20:.0f} MiB, {len(sizes)} agents)")
    rows = []

    def measure(name: str, prepare: Any = None, fresh: bool = False) -> dict[str, int]:
        walls, cpus, rsss, out = [], [], [], ""
        for _ in range(a.runs):
            if fresh:
                shutil.rmtree(work_dir, ignore_errors=True)
                shutil.rmtree(sidecar, ignore_errors=True)
                work_dir.mkdir()
            if prepare:
                prepare()
            wall, cpu, rss, out = timed(cmd, env)
            walls.append(wall)
            cpus.append(cpu)
            rsss.append(rss)
        rows.append((name, statistics.median(walls), statistics.median(cpus), max(rsss)))
        return per_agent(json.loads(out))

    def check(got: dict[str, int], exp: dict[str, int]) -> bool:
        for agent in sorted(set(got) | set(exp)):
            if got.get(agent) != exp.get(agent):
                print(f"  {agent}: {got.get(agent)} tokens, ground truth {exp.get(agent)}", file=sys.stderr)
        return got == exp

    exact = check(measure("cold (empty index)", fresh=True), want)
    exact &= check(measure("warm (nothing new)"), want)
    work = Work(tree)
    try:
        got = measure("warm (3 agents worked)", prepare=work)
        exact &= check(got, {k: v + work.added.get(k, 0) for k, v in want.items()})
    finally:
        work.undo()
        shutil.rmtree(work_dir, ignore_errors=True)
        shutil.rmtree(sidecar, ignore_errors=True)
    print(f"{'run':<26} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9}")
    for name, wall, cpu, rss in rows:
        print(f"{name:<26} {wall:>8.3f} {cpu:>8.3f} {rss:>9.0f}")
    print("totals per agent vs ground truth:", "exact" if exact else "MISMATCH")


if __name__ == "__main__":
    main()

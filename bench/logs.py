"""Token-report speed and correctness: agentgauge cost vs ccusage 20.0.24 on a generated 1 GB tree.

For Claude and Codex: cold (empty index) and warm (index built, then 1 MB of new valid lines appended)
wall time (median of 3) and peak RSS, ratios, and whether each tool's totals equal ground-truth.json.
Goals: cold <= 0.5x ccusage, warm <= 0.05x, peak RSS <= 200 MiB, exact totals.

Run: .venv/bin/python bench/logs.py [--size-mb 1024] [--seed 42]. The tree and ccusage are cached in
bench/out/ (gitignored); the appended bytes are removed again at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
REPO = ROOT.parent  # the generator is the package tests/loggen, run as ``python -m tests.loggen`` from here
CCUSAGE_VERSION = "20.0.24"
RUNS = 3
AGENTGAUGE = [str(Path(sys.executable).parent / "agentgauge")]


def tree_for(size_mb: int, seed: int) -> Path:
    tree = OUT / f"tree-{size_mb}mb-seed{seed}"
    if not (tree / "ground-truth.json").exists():
        tmp = OUT / f".gen-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"generating {size_mb} MB tree (seed {seed})...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "tests.loggen", "--out", str(tmp), "--size-mb", str(size_mb), "--seed", str(seed)],
            check=True,
            cwd=REPO,
        )
        shutil.rmtree(tree, ignore_errors=True)
        tmp.rename(tree)
    return tree


def ccusage() -> list[str]:
    """ccusage's native binary (the npm package's per-platform dependency), not its Node launcher:
    the launcher adds Node's start-up to every run."""
    prefix = OUT / "npm"
    launcher = prefix / "node_modules" / ".bin" / "ccusage"
    if not launcher.exists():
        print(f"installing ccusage@{CCUSAGE_VERSION}...", file=sys.stderr)
        subprocess.run(
            ["npm", "install", "--prefix", str(prefix), f"ccusage@{CCUSAGE_VERSION}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    native = sorted((prefix / "node_modules" / "@ccusage").glob("ccusage-*/bin/ccusage*"))
    if not native:
        return [str(launcher)]
    # npm unpacks the platform package's binary without its execute bit (the launcher sets it on
    # first use); set it here, as the launcher would, since the launcher is bypassed.
    native[0].chmod(native[0].stat().st_mode | 0o111)
    return [str(native[0])]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """(wall seconds, peak RSS MiB, stdout, CPU seconds: user + system, all processes) of one run."""
    use_time = Path("/usr/bin/time").exists()
    full = ["/usr/bin/time", "-v", *cmd] if use_time else cmd
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(full, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if use_time:
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1)) / 1024
    else:
        rss = max(before.ru_maxrss, after.ru_maxrss) / 1024
    return wall, rss, done.stdout, cpu


def median_run(
    cmd: list[str], env: dict[str, str], prepare: Any = None
) -> tuple[float, float, dict[str, Any], float, float]:
    """Medians of wall time, peak RSS and CPU time, the last run's JSON, and the largest peak RSS."""
    walls, rsss, cpus, out = [], [], [], ""
    for i in range(RUNS):
        if prepare:
            prepare(i)
        wall, rss, out, cpu = timed(cmd, env)
        walls.append(wall)
        rsss.append(rss)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(rsss), json.loads(out), statistics.median(cpus), max(rsss)


def expected(gt: dict[str, Any], agent: str, extra: dict[str, int]) -> dict[str, int]:
    t = gt[agent]["totals"]
    if agent == "claude":
        exp = {
            "inputTokens": t["input_tokens"],
            "outputTokens": t["output_tokens"],
            "cacheCreationTokens": t["cache_creation_input_tokens"],
            "cacheReadTokens": t["cache_read_input_tokens"],
        }
    else:
        exp = {
            "inputTokens": t["non_cached_input_tokens"],
            "cacheReadTokens": t["cached_input_tokens"],
            "outputTokens": t["output_tokens"],
            "reasoningOutputTokens": t["reasoning_output_tokens"],
            "totalTokens": t["total_tokens"],
        }
    return {k: v + extra.get(k, 0) for k, v in exp.items()}


def verdict(report: dict[str, Any], exp: dict[str, int]) -> str:
    got = report.get("totals", {})
    diffs = [f"{k} {got.get(k)} vs {v}" for k, v in exp.items() if got.get(k) != v]
    return "exact" if not diffs else "MISMATCH: " + "; ".join(diffs)


def append_claude(tree: Path, nbytes: int) -> tuple[Path, int, dict[str, int]]:
    """Append ~nbytes of new, valid, unique assistant lines to the largest Claude session file."""
    target = max((tree / ".claude" / "projects").rglob("*.jsonl"), key=lambda p: p.stat().st_size)
    size = target.stat().st_size
    template = None
    with target.open("rb") as fh:
        for raw in fh:
            if b'"usage":{' in raw and b"<synthetic>" not in raw and raw.endswith(b"\n"):
                try:
                    template = json.loads(raw)
                    break
                except ValueError:
                    continue
    assert template is not None
    extra = {"inputTokens": 0, "outputTokens": 0, "cacheCreationTokens": 0, "cacheReadTokens": 0}
    lines, written, i = [], 0, 0
    while written < nbytes:
        d = json.loads(json.dumps(template))
        d["message"]["id"] = f"msg_bench{i:08d}"
        d["requestId"] = f"req_bench{i:08d}"
        d["timestamp"] = "2025-11-30T12:00:00.000Z"
        u = d["message"]["usage"]
        u.update(
            {
                "input_tokens": 7,
                "output_tokens": 11,
                "cache_creation_input_tokens": 13,
                "cache_read_input_tokens": 17,
                "cache_creation": {"ephemeral_5m_input_tokens": 13, "ephemeral_1h_input_tokens": 0},
            }
        )
        for k, v in (("inputTokens", 7), ("outputTokens", 11), ("cacheCreationTokens", 13), ("cacheReadTokens", 17)):
            extra[k] += v
        line = json.dumps(d, separators=(",", ":")) + "\n"
        lines.append(line)
        written += len(line)
        i += 1
    prefix = b"" if target.read_bytes()[-1:] == b"\n" else b"\n"  # a torn last line stays torn (malformed)
    with target.open("ab") as fh:
        fh.write(prefix + "".join(lines).encode())
    return target, size, extra


def codex_usage(v: list[int]) -> dict[str, int]:
    return {
        "input_tokens": v[0],
        "cached_input_tokens": v[1],
        "output_tokens": v[2],
        "reasoning_output_tokens": v[3],
        "total_tokens": v[0] + v[2],
    }


def append_codex(tree: Path, nbytes: int) -> tuple[Path, int, dict[str, int]]:
    """Append a new turn with ~nbytes of token_count events to a fresh rollout (continuing counters)."""
    target = tree / ".codex" / "sessions" / "2025" / "11" / "30" / "rollout-2025-11-30T12-00-00-bench.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "timestamp": "2025-11-30T12:00:00.000Z",
        "type": "session_meta",
        "payload": {"id": "bench-thread", "cwd": "/bench", "originator": "codex_cli_rs"},
    }
    ctx = {"timestamp": "2025-11-30T12:00:00.000Z", "type": "turn_context", "payload": {"model": "gpt-5-codex"}}
    lines = [json.dumps(meta), json.dumps(ctx)]
    tot = [0, 0, 0, 0]
    extra = {"inputTokens": 0, "cacheReadTokens": 0, "outputTokens": 0, "reasoningOutputTokens": 0, "totalTokens": 0}
    written, i = 0, 0
    while written < nbytes:
        i += 1
        last = [1000 + i, 500, 50, 10]
        tot = [a + b for a, b in zip(tot, last, strict=True)]
        ev = {
            "timestamp": "2025-11-30T12:00:01.000Z",
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {"total_token_usage": codex_usage(tot), "last_token_usage": codex_usage(last)},
                "padding": "p" * 600,
            },
        }
        line = json.dumps(ev, separators=(",", ":"))
        lines.append(line)
        written += len(line) + 1
        for k, v in (
            ("inputTokens", last[0] - last[1]),
            ("cacheReadTokens", last[1]),
            ("outputTokens", last[2]),
            ("reasoningOutputTokens", last[3]),
            ("totalTokens", last[0] + last[2]),
        ):
            extra[k] += v
    target.write_text("\n".join(lines) + "\n")
    return target, 0, extra


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size-mb", type=int, default=1024)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    OUT.mkdir(exist_ok=True)
    tree = tree_for(a.size_mb, a.seed)
    gt = json.loads((tree / "ground-truth.json").read_text())
    cc = ccusage()
    work = Path(tempfile.mkdtemp(prefix="agentgauge-bench-"))
    env = {
        **os.environ,
        "TZ": "UTC",
        "HOME": str(tree),
        "CLAUDE_CONFIG_DIR": str(tree / ".claude"),
        "CODEX_HOME": str(tree / ".codex"),
        "XDG_DATA_HOME": str(work / "data"),
        "XDG_CONFIG_HOME": str(work / "config"),
    }
    rows = []
    load_before = f"{os.getloadavg()[0]:.2f}"
    try:
        for agent, cc_cmd in (
            ("claude", [*cc, "claude", "daily", "--json", "--offline"]),
            ("codex", [*cc, "codex", "daily", "--json", "--offline"]),
        ):
            ours_cmd = [*AGENTGAUGE, "cost", "daily", "--json", "--agent", agent]
            dbs = [work / f"{agent}-cold-{i}.db" for i in range(RUNS)]

            def cold_env(i: int, dbs: list[Path] = dbs) -> None:
                env["AGENTGAUGE_DATABASE_URL"] = str(dbs[i])

            cc_cold = median_run(cc_cmd, env)
            ours_cold = median_run(ours_cmd, env, prepare=cold_env)
            exp = expected(gt, agent, {})
            target, size, extra = (append_claude if agent == "claude" else append_codex)(tree, 1 << 20)
            try:

                def warm_env(i: int, dbs: list[Path] = dbs, agent: str = agent) -> None:
                    db = work / f"{agent}-warm-{i}.db"
                    shutil.copy(dbs[i], db)  # the index as the cold run left it, before the append
                    env["AGENTGAUGE_DATABASE_URL"] = str(db)

                cc_warm = median_run(cc_cmd, env)
                ours_warm = median_run(ours_cmd, env, prepare=warm_env)
            finally:
                if size:
                    with target.open("r+b") as fh:
                        fh.truncate(size)
                else:
                    target.unlink()
            exp_warm = expected(gt, agent, extra)
            for phase, c, o, e in (("cold", cc_cold, ours_cold, exp), ("warm +1MB", cc_warm, ours_warm, exp_warm)):
                rows.append((agent, phase, c, o, verdict(c[2], e), verdict(o[2], e)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import agentgauge.cli"], check=True)
    cli_import = time.perf_counter() - start
    claude_mb = gt["claude"]["bytes"] / 2**20
    codex_mb = gt["codex"]["bytes"] / 2**20
    print(f"tree: {tree} (claude {claude_mb:.0f} MiB, codex {codex_mb:.0f} MiB), median of {RUNS}, TZ=UTC")
    print(f"ccusage: {' '.join(cc)}; load average before/after: {load_before} / {os.getloadavg()[0]:.2f}")
    print(
        f"{'agent':7} {'phase':10} {'ccusage s':>10} {'ours s':>8} {'ratio':>6} {'goal':>6} {'met':>4} "
        f"{'cc cpu':>7} {'our cpu':>7} {'ratio':>6} {'cc MiB':>7} {'ours MiB':>8} {'max':>5}  totals ccusage / ours"
    )
    for agent, phase, c, o, vc, vo in rows:
        goal = 0.5 if phase == "cold" else 0.05
        met = "yes" if o[0] / c[0] <= goal else "NO"
        print(
            f"{agent:7} {phase:10} {c[0]:10.3f} {o[0]:8.3f} {o[0] / c[0]:6.2f} {goal:6.2f} {met:>4} "
            f"{c[3]:7.2f} {o[3]:7.2f} {o[3] / c[3]:6.2f} {c[1]:7.0f} {o[1]:8.0f} {o[4]:5.0f}  {vc} / {vo}"
        )
    print("ratio = ours / ccusage; cpu = user + system seconds of all processes; RSS goal <= 200 MiB")
    print(f"python -c 'import agentgauge.cli' alone: {cli_import:.3f} s (shared CLI start-up inside every run)")


if __name__ == "__main__":
    main()

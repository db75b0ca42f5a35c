"""Refresh wall time: 20 simulated accounts, 300 ms upstream latency each.

Prints the concurrent refresh time, its ratio to one upstream latency (goal <= 1.3) and
to a sequential refresh of the same accounts. Run: .venv/bin/python bench/refresh.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from agentgauge.cli.demo import demo_config
from agentgauge.config import AccountConfig, Config
from agentgauge.engine import Engine
from agentgauge.providers import registry
from agentgauge.sim.server import SimServer
from agentgauge.store import open_store

ACCOUNTS = 20
LATENCY = 0.3
ROUNDS = 3


def bench_config(sim_url: str) -> Config:
    """20 accounts spread over every provider (4 each for 5 providers), all against the simulator."""
    base = demo_config(sim_url)
    defaults = [a for a in base.accounts if a.account == "default"]
    accounts: list[AccountConfig] = []
    i = 0
    while len(accounts) < ACCOUNTS:
        template = defaults[i % len(defaults)]
        provider = registry.get(template.provider)
        secret = set(provider.secret_settings())
        name = f"bench{i}"
        settings = {k: (f"{v}#{name}" if k in secret else v) for k, v in template.settings.items()}
        accounts.append(AccountConfig(template.provider, name, True, settings, {}, True))
        i += 1
    return Config(path=None, accounts=tuple(accounts), env={}, home=Path.home())


async def one_round(config: Config, sequential: bool) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "bench.db"), data_dir=Path(tmp))
        async with Engine(config, store) as engine:
            started = time.perf_counter()
            if sequential:
                for target in engine.targets():
                    await engine.refresh_account(target)
                snapshot = None
            else:
                snapshot = await engine.refresh()
            elapsed = time.perf_counter() - started
        store.close()
    if snapshot is not None:
        bad = [(p.provider, p.account, p.status) for p in snapshot.providers if p.status != "ok"]
        if bad:
            raise SystemExit(f"benchmark run had failures: {bad}")
    return elapsed


def main() -> int:
    with SimServer() as sim:
        httpx.post(f"{sim.url}/__sim/latency", json={"seconds": LATENCY}).raise_for_status()
        config = bench_config(sim.url)
        concurrent = [asyncio.run(one_round(config, sequential=False)) for _ in range(ROUNDS)]
        sequential = [asyncio.run(one_round(config, sequential=True)) for _ in range(1)]
    conc, seq = statistics.median(concurrent), statistics.median(sequential)
    calls = "several upstream calls for some providers (e.g. Kimi web plan lookup) count once each"
    print(f"accounts: {ACCOUNTS}  upstream latency: {LATENCY * 1000:.0f} ms per request  ({calls})")
    print(f"concurrent refresh (median of {ROUNDS}): {conc:.3f} s")
    print(f"ratio to one latency: {conc / LATENCY:.2f}x  (goal <= 1.3)")
    print(f"sequential refresh: {seq:.3f} s")
    print(f"speed-up over sequential: {seq / conc:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

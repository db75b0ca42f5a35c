"""Leader election's words: a lone server taking the scheduler (and giving it up as it stops) is routine,
said at -v only; a replica taking over from another is a warning."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from agentgauge.leader import FileElector


async def wait_for(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


async def test_a_lone_server_takes_the_scheduler_quietly_and_a_takeover_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentgauge.leader")
    first, second = FileElector(tmp_path / "gauge.db", retry=0.02), FileElector(tmp_path / "gauge.db", retry=0.02)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    running_first = asyncio.create_task(first.run(stop_first))
    await wait_for(lambda: first.leading)
    running_second = asyncio.create_task(second.run(stop_second))
    await wait_for(lambda: second.waited)
    assert not second.leading
    stop_first.set()
    await running_first
    await wait_for(lambda: second.leading)  # the standby takes over
    stop_second.set()
    await running_second
    said = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "agentgauge.leader"]
    assert said == [
        (logging.INFO, f"this process now runs the scheduler: it holds {first.path}"),
        (logging.INFO, "no longer scheduling: stopping"),
        (logging.WARNING, f"this process now runs the scheduler: it holds {second.path}"),
        (logging.INFO, "no longer scheduling: stopping"),
    ]

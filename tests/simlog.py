"""The simulator's request log from a point of a test on.

The simulator is one per test process (a session fixture) and keeps only its last 1000 requests, so
under xdist a worker's log is full after a few dozen tests: from then on its length stays the same
and every old entry shifts down by one per new request. A position (``len(log)`` before the call)
or a count of matching requests over the whole log then says nothing about this test. A mark is
the last entry itself, found again by value (its arrival time makes it unique); what follows it is
what was sent since.
"""

from __future__ import annotations

from typing import Any

from tests.harness import sim_requests


class Mark:
    """The log as it was when the mark was made; ``requests()`` is what arrived since."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim
        log = sim_requests(sim)
        self.last: dict[str, Any] | None = log[-1] if log else None
        self.keeps: int = sim.state.requests.maxlen

    def requests(self, prefix: str = "") -> list[dict[str, Any]]:
        """Every request since the mark, in arrival order (only paths starting with ``prefix``)."""
        log = sim_requests(self.sim)
        if self.last is None:
            assert len(log) < self.keeps, "the simulator's log overflowed since the mark"
            found = log
        else:
            at = next((i for i in range(len(log) - 1, -1, -1) if log[i] == self.last), None)
            assert at is not None, "the simulator's log overflowed since the mark"
            found = log[at + 1 :]
        return [r for r in found if r["path"].startswith(prefix)]

    def paths(self, prefix: str = "") -> list[str]:
        return [r["path"] for r in self.requests(prefix)]

"""The live view the web surfaces serve: the current snapshot, its pre-encoded JSON, and SSE fan-out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from ..models import ProviderSnapshot, Snapshot


def encode(data: object) -> bytes:
    return orjson.dumps(data)


class Live:
    """Holds the snapshot every request reads (encoded once per change, not once per request) and
    pushes each account change to the SSE subscribers. Runs on the server's event loop."""

    def __init__(self, snapshot: Snapshot, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self._subscribers: set[asyncio.Queue[tuple[str, bytes]]] = set()
        self.version = 0
        self.changed = asyncio.Event()
        self._set(snapshot)

    def _set(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.body = encode(snapshot.to_json_dict())
        self.version += 1

    def account_changed(self, account: ProviderSnapshot) -> None:
        """Engine listener: fold one refreshed account in; publish only real changes."""
        rows = list(self.snapshot.providers)
        for i, row in enumerate(rows):
            if row.key == account.key:
                if row == account:
                    return
                rows[i] = account
                break
        else:
            rows.append(account)
        self._set(Snapshot(generated_at=self.clock(), providers=tuple(rows)))
        message = ("account", encode(account.model_dump(mode="json")))
        for queue in list(self._subscribers):
            if queue.qsize() < 1000:  # a stuck client must not grow memory without bound
                queue.put_nowait(message)
        self.changed.set()
        self.changed = asyncio.Event()

    def subscribe(self) -> asyncio.Queue[tuple[str, bytes]]:
        queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, bytes]]) -> None:
        self._subscribers.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

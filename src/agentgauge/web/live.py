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
    pushes each account change to the SSE subscribers. Runs on the server's event loop.

    An account change is folded in at once and published to the subscribers, but the whole view is
    rebuilt (settled and encoded) only when it is next read: a refresh of a thousand accounts is a
    thousand changes, and rebuilding a thousand-account view for each would cost a million."""

    def __init__(
        self,
        snapshot: Snapshot,
        clock: Callable[[], datetime] | None = None,
        settle: Callable[[Snapshot], Snapshot] | None = None,
    ) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self._settle = settle or (lambda s: s)
        self._subscribers: set[asyncio.Queue[tuple[str, bytes]]] = set()
        self._rows: dict[tuple[str, str], ProviderSnapshot] = {p.key: p for p in snapshot.providers}
        self._generated_at = snapshot.generated_at
        self.version = 0
        self.changed = asyncio.Event()
        self._build()
        self._shown_pending = set(self._pending)  # accounts whose last word to subscribers was "pending"

    def _build(self) -> None:
        self._snapshot = self._settle(Snapshot(generated_at=self._generated_at, providers=tuple(self._rows.values())))
        self._body = encode(self._snapshot.to_json_dict())
        self._dirty = False
        upcoming = [
            w.resets_at for p in self._snapshot.providers for w in p.windows if w.resets_at and not w.reset_pending
        ]
        self._next_reset = min(upcoming, default=None)
        self._pending = {p.key for p in self._snapshot.providers if any(w.reset_pending for w in p.windows)}

    def _stale(self) -> bool:
        """Whether the built view is out of date: a change came in, or a reset time passed since it was
        built (a request between the reset and the next resettle pass must not get the old percent)."""
        return self._dirty or (self._next_reset is not None and self._next_reset <= self.clock())

    @property
    def snapshot(self) -> Snapshot:
        if self._stale():
            self._build()
        return self._snapshot

    @property
    def body(self) -> bytes:
        if self._stale():
            self._build()
        return self._body

    def _changed(self, *, dirty: bool = True) -> None:
        self._dirty = self._dirty or dirty
        self.version += 1
        self.changed.set()
        self.changed = asyncio.Event()

    def resettle(self) -> None:
        """Publish the accounts with a window whose reset time has passed since subscribers last heard
        of them, so they show "reset, confirming..." instead of the old percent until the next fetch
        confirms it. The view is rebuilt lazily (a request may rebuild it first) and a reset may pass
        between a change and the next pass: what counts is what subscribers were last told."""
        if self._stale():
            self._build()
        if not self._pending - self._shown_pending:
            return
        for account in self._snapshot.providers:
            if account.key in self._pending and account.key not in self._shown_pending:
                self._publish(account)
        self._changed(dirty=False)

    def _publish(self, account: ProviderSnapshot) -> None:
        if any(w.reset_pending for w in account.windows):
            self._shown_pending.add(account.key)
        else:
            self._shown_pending.discard(account.key)
        message = ("account", encode(account.model_dump(mode="json")))
        for queue in list(self._subscribers):
            if queue.qsize() < 1000:  # a stuck client must not grow memory without bound
                queue.put_nowait(message)

    def account_changed(self, account: ProviderSnapshot) -> None:
        """Engine listener (and the replicas' change feed): fold one account in; publish only real changes."""
        if self._rows.get(account.key) == account:
            return
        self._rows[account.key] = account
        self._generated_at = self.clock()
        self._publish(self._settle(Snapshot(generated_at=self._generated_at, providers=(account,))).providers[0])
        self._changed()

    def reset(self, snapshot: Snapshot) -> None:
        """Take a whole new view (accounts were added or removed from the dashboard): subscribers get
        it as a ``snapshot`` event, which replaces what they show."""
        self._rows = {p.key: p for p in snapshot.providers}
        self._generated_at = snapshot.generated_at
        self._build()
        self._shown_pending = set(self._pending)
        for queue in list(self._subscribers):
            if queue.qsize() < 1000:
                queue.put_nowait(("snapshot", self._body))
        self._changed(dirty=False)

    def subscribe(self) -> asyncio.Queue[tuple[str, bytes]]:
        queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[tuple[str, bytes]]) -> None:
        self._subscribers.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

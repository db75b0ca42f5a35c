"""Group commit for the engine's store calls: one transaction for every account that asks at once.

A refresh of hundreds of accounts makes the same few store calls for each (read the state, claim the
gate, save the result). Made one at a time they queue for the store's lock and the worker threads,
and that queue is time the accounts cannot spend fetching. A ``Batcher`` takes the calls that arrive
while a batch is running into the next one, and runs each batch with one worker-thread hop and one
transaction; a lone call still goes at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 250  # items per transaction: bounds how long one transaction holds SQLite's write lock


class Batcher(Generic[T, R]):
    """``await batcher(item)`` runs ``run([item, ...])`` in a worker thread together with the items
    asked for meanwhile and returns this item's result (or raises the batch's exception). An item
    whose caller was cancelled is still run: a write, once asked for, is made."""

    def __init__(self, run: Callable[[list[T]], Sequence[R]], max_batch: int = MAX_BATCH) -> None:
        self._run = run
        self._max = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # batches run (tests, diagnostics)

    async def __call__(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        future.add_done_callback(_retrieve)  # a cancelled caller's failed item must not warn at exit
        self._queue.append((item, future))
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._drain())
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self._max], self._queue[self._max :]
            self.batches += 1
            try:
                results = await asyncio.to_thread(self._run, [item for item, _ in batch])
            except Exception as exc:  # every caller of the batch learns why (an outage, say)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (the loop is ending): so are the callers
                for _, future in batch + self._queue:
                    future.cancel()
                self._queue = []
                raise
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def wait_idle(self) -> None:
        """Return once every item asked for so far has been run."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()

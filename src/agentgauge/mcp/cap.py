"""The size ceiling on every MCP answer: a model's context is not the place for a 40 KB snapshot.

An answer over ``MAX_BYTES`` (compact JSON) is made smaller step by step, least useful detail first,
and says what was dropped and how to ask for it, so the answer stays well-formed and the model can
narrow its next call (agentglass's rule).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

MAX_BYTES = 8192
NOTE_ROOM = 900  # bytes kept free for the ``truncated`` note itself
NAMED = 8  # dropped items named one by one in the note; the rest are counted

Payload = dict[str, Any]
Step = Callable[[Payload, int], tuple[Payload, str | None]]  # (payload, budget) -> (smaller, what went)


def size(payload: Any) -> int:
    return len(orjson.dumps(payload))


def capped(payload: Payload, steps: Sequence[Step], hint: str, limit: int = MAX_BYTES) -> Payload:
    """``payload`` if it fits in ``limit`` bytes, else the result of the first ``steps`` that make it
    fit, with ``truncated: {dropped: [...], hint}``; at worst only its scalar fields and the note."""
    if size(payload) <= limit:
        return payload
    budget = limit - NOTE_ROOM
    dropped: list[str] = []
    for step in steps:
        if size(payload) <= budget:
            break
        payload, what = step(payload, budget)
        if what:
            dropped.append(what)
    if size(payload) > budget:
        payload = {k: v for k, v in payload.items() if not isinstance(v, dict | list)}
        dropped.append("everything but the top-level fields")
    return {**payload, "truncated": {"dropped": dropped, "hint": hint}}


# -- steps over a list of account objects under ``key`` ---------------------------------------------
def strip_field(key: str, field: str, what: str, *, inner: str | None = None) -> Step:
    """Remove ``field`` from each item of ``payload[key]`` (or from each item of their ``inner`` list)."""

    def step(payload: Payload, budget: int) -> tuple[Payload, str | None]:
        found = False
        items = []
        for item in payload.get(key) or ():
            if inner is None:
                found = found or field in item
                items.append({k: v for k, v in item.items() if k != field})
                continue
            subs = []
            for sub in item.get(inner) or ():
                found = found or field in sub
                subs.append({k: v for k, v in sub.items() if k != field})
            items.append({**item, inner: subs} if inner in item else item)
        return {**payload, key: items}, what if found else None

    return step


def keep_first(key: str, inner: str, count: int, what: str) -> Step:
    """Keep the first ``count`` entries of each item's ``inner`` list (a list sorted most important first)."""

    def step(payload: Payload, budget: int) -> tuple[Payload, str | None]:
        found = False
        items = []
        for item in payload.get(key) or ():
            subs = item.get(inner)
            if isinstance(subs, list) and len(subs) > count:
                found = True
                item = {**item, inner: subs[:count]}
            items.append(item)
        return {**payload, key: items}, what if found else None

    return step


def drop_tail(key: str, name: Callable[[Any], str], what: str) -> Step:
    """Drop items from the end of ``payload[key]`` until the payload fits, naming each one dropped."""

    def step(payload: Payload, budget: int) -> tuple[Payload, str | None]:
        items = list(payload.get(key) or ())
        gone: list[str] = []
        while items and size({**payload, key: items}) > budget:
            gone.append(name(items.pop()))
        if not gone:
            return payload, None
        gone.reverse()
        named = ", ".join(gone[:NAMED]) + (f" and {len(gone) - NAMED} more" if len(gone) > NAMED else "")
        return {**payload, key: items}, f"{what}: {named}"

    return step

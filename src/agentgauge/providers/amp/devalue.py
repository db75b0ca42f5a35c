"""A decoder for devalue, the format SvelteKit serializes remote-function results in (pure).

A devalue string is JSON: a flat array whose element 0 is the root; an object maps each key to the
index of its value, an array lists indices, and an array starting with a type name is a special value
(``["Date", iso]``, ``["Set", ...]``, ``["Map", k, v, ...]``, ``["BigInt", "12"]``, ``["null", k, v, ...]``
for a null-prototype object, ``["Object", i]`` for a boxed primitive). Negative indices are constants:
-1 undefined, -2 a hole, -3 NaN, -4 +Infinity, -5 -Infinity, -6 -0. Reading by key (never by position)
keeps a parser working when fields are added or removed, which is what broke seed 001's tuple decoder.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from ...errors import ParseError

CONSTANTS: dict[int, Any] = {-1: None, -2: None, -3: math.nan, -4: math.inf, -5: -math.inf, -6: -0.0}
MAX_DEPTH = 64


def decode(text: str, field: str = "result") -> Any:
    try:
        values = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ParseError(f"Amp: '{field}' is not devalue (not JSON)", field=field) from None
    if isinstance(values, int) and not isinstance(values, bool):
        if values in CONSTANTS:
            return CONSTANTS[values]
        raise ParseError(f"Amp: '{field}' is not devalue", field=field)
    if not isinstance(values, list) or not values:
        raise ParseError(f"Amp: '{field}' is not devalue (not a list)", field=field)
    done: dict[int, Any] = {}

    def index_of(raw: Any) -> int:
        if (
            not isinstance(raw, int)
            or isinstance(raw, bool)
            or raw >= len(values)
            or (raw < 0 and raw not in CONSTANTS)
        ):
            raise ParseError(f"Amp: '{field}' refers to a value it does not hold", field=field)
        return raw

    def hydrate(raw: Any, depth: int = 0) -> Any:
        index = index_of(raw)
        if index < 0:
            return CONSTANTS[index]
        if index in done:
            return done[index]
        if depth > MAX_DEPTH:
            raise ParseError(f"Amp: '{field}' nests too deep", field=field)
        value = values[index]
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            done[index] = out
            out.update({str(k): hydrate(v, depth + 1) for k, v in value.items()})
            return out
        if isinstance(value, list):
            if value and isinstance(value[0], str):
                return _special(value, index, depth)
            items: list[Any] = []
            done[index] = items
            items.extend(hydrate(v, depth + 1) for v in value)
            return items
        done[index] = value
        return value

    def _special(value: list[Any], index: int, depth: int) -> Any:
        kind, rest = value[0], value[1:]
        if kind in ("Date", "RegExp", "URL", "URLSearchParams") and rest:
            return rest[0]
        if kind == "BigInt" and rest:
            try:
                return int(rest[0])
            except (TypeError, ValueError):
                raise ParseError(f"Amp: '{field}' has a malformed BigInt", field=field) from None
        if kind == "Set":
            return [hydrate(v, depth + 1) for v in rest]
        if kind in ("Map", "null"):  # Map: key and value are indices; null prototype: keys are literal
            pairs = {
                str(hydrate(k, depth + 1) if kind == "Map" else k): hydrate(v, depth + 1)
                for k, v in zip(rest[::2], rest[1::2], strict=False)
            }
            done[index] = pairs
            return pairs
        if kind == "Object" and rest:
            return hydrate(rest[0], depth + 1)
        raise ParseError(f"Amp: '{field}' holds a {kind[:20]!r} value agentgauge does not know", field=field)

    return hydrate(0)

"""Secrets as a type, and the one redaction routine every dump goes through."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
# Keys whose values are masked in every dump, plus each provider's own ``redact_keys``.
CORE_REDACT_KEYS = frozenset(
    {"secret", "key", "password", "token", "cookie", "authorization", "session", "dsn", "auth", "credential"}
)


class Secret:
    """A credential value. ``str``/``repr`` are masked; only ``reveal()`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> Any:  # pragma: no cover - pickling would leak; refuse it
        raise TypeError("Secret values cannot be pickled")


def _is_secret_key(key: str, extra: Iterable[str]) -> bool:
    lowered = key.lower()
    return any(part in lowered for part in CORE_REDACT_KEYS) or lowered in {k.lower() for k in extra}


def redact(data: Any, *, extra_keys: Iterable[str] = ()) -> Any:
    """Return a copy of ``data`` with secret-looking keys and Secret values masked."""
    extra = tuple(extra_keys)
    if isinstance(data, Secret):
        return MASK
    if isinstance(data, Mapping):
        return {
            k: (MASK if _is_secret_key(str(k), extra) and v not in (None, "") else redact(v, extra_keys=extra))
            for k, v in data.items()
        }
    if isinstance(data, list | tuple):
        return [redact(v, extra_keys=extra) for v in data]
    return data


def scrub(text: str, secrets: Iterable[Secret | str | None]) -> str:
    """Remove every known secret value from a free-text message (e.g. an echoed error body)."""
    for item in secrets:
        value = item.reveal() if isinstance(item, Secret) else item
        if value and len(value) >= 4:
            text = text.replace(value, MASK)
    return _TOKENISH.sub(MASK, text)


# Bearer tokens, JWTs and Anthropic/OpenAI-style keys that might be echoed back by an upstream.
_TOKENISH = re.compile(
    r"(?:Bearer\s+[A-Za-z0-9._~+/=-]{8,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+|sk-[A-Za-z0-9_-]{12,})"
)

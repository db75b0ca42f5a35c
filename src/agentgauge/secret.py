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


MIN_FRAGMENT = 6  # shorter parts of a secret are too common to remove from text without mangling it
# Prefixes that say what a credential is: an upstream may echo the value without them.
KNOWN_PREFIXES = ("sk-ant-sid01-", "sk-ant-oat01-", "sk-ant-ort01-", "sk-ant-api03-", "sk-ant-", "sk-proj-", "sk-")
_PARTS = re.compile(r"[.:;=\s]+")
_COOKIE_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$")


def fragments(value: str) -> list[str]:
    """The pieces of a structured secret an upstream may echo on their own, longest first: the
    value itself, the id and secret halves of an ``id.secret`` key, a JWT's three parts, a
    session key without its ``sk-ant-sid01-`` prefix, each cookie value of a Cookie header (not
    the cookie names: hints name them). Pieces shorter than :data:`MIN_FRAGMENT` are left alone."""
    value = value.strip()
    if value.lower().startswith("bearer "):
        value = value[7:].strip()
    values: list[str] = []
    for item in value.split(";"):
        item = item.strip()
        name, sep, rest = item.partition("=")
        if sep and rest.strip("=") and _COOKIE_NAME.match(name):
            values.append(rest)  # a cookie: the value is the secret, the name is not
        else:
            values.append(item)
    found = {value}
    for text in values:
        for piece in (text, *_PARTS.split(text)):
            found.add(piece)
            for prefix in KNOWN_PREFIXES:
                if piece.startswith(prefix):
                    found.add(piece[len(prefix) :])
                    break
    return sorted((f for f in found if len(f) >= MIN_FRAGMENT), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[Secret | str | None]) -> str:
    """Remove every known secret value, and the parts of it an upstream may echo alone
    (:func:`fragments`), from a free-text message, a stored response or a log line."""
    pieces: set[str] = set()
    for item in secrets:
        value = item.reveal() if isinstance(item, Secret) else item
        if value and len(value) >= 4:
            pieces.add(value)
            pieces.update(fragments(value))
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, MASK)
    return _TOKENISH.sub(MASK, text)


# Bearer tokens, JWTs and Anthropic/OpenAI-style keys that might be echoed back by an upstream.
_TOKENISH = re.compile(
    r"(?:Bearer\s+[A-Za-z0-9._~+/=-]{8,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+|sk-[A-Za-z0-9_-]{12,})"
)

"""Reading a JWT's claims without checking its signature: only to learn when a token expires or whom
it names (a user id for a query, an e-mail to show), never to trust it. Pure; nothing here raises."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any


def claims(token: str | None) -> dict[str, Any]:
    """The payload of a compact JWT (``header.payload.signature``), or ``{}`` when it is not one."""
    parts = (token or "").strip().split(".")
    if len(parts) != 3 or not parts[1]:
        return {}
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):  # also bad UTF-8
        return {}
    return payload if isinstance(payload, dict) else {}


def text_claim(token: str | None, name: str) -> str | None:
    """A non-empty string claim (``sub``, ``email``...), stripped."""
    value = claims(token).get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


def exp(token: str | None) -> datetime | None:
    """The ``exp`` claim as a time (a positive number of epoch seconds), else None."""
    value = claims(token).get("exp")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None

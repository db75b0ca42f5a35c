"""The simulator toolkit for providers' `sim.py` modules: a movable clock, usage curves, credential checks.

Only the simulator loads it (with starlette); a provider package's `__init__` never imports it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def _stable(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


class SimContext:
    """Shared state of the simulator. Usage moves with time: each window climbs through its
    period and drops at its reset, so a dashboard left open shows change."""

    def __init__(self, credentials: Mapping[str, Mapping[str, str]], clock: Callable[[], datetime] | None = None):
        self._credentials = credentials
        self._clock = clock or (lambda: datetime.now(UTC))
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return self._clock() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)

    # -- usage curves ----------------------------------------------------------------------
    def window(self, key: str, seconds: int, *, low: float = 3.0, high: float = 92.0) -> tuple[float, datetime]:
        """Percent used (one decimal) and reset time of a window that resets every ``seconds``."""
        h = _stable(key)
        now = self.now().timestamp()
        offset = h % seconds
        start = ((now + offset) // seconds) * seconds - offset
        progress = (now - start) / seconds
        top = low + (high - low) * (0.35 + 0.65 * ((h >> 16) % 1000) / 1000.0)
        used = round(low + (top - low) * progress, 1)
        return used, datetime.fromtimestamp(start + seconds, tz=UTC)

    # -- credentials -----------------------------------------------------------------------
    def credential(self, provider: str, name: str) -> str:
        return self._credentials[provider][name]

    def account_of(self, provider: str, name: str, presented: str | None) -> str | None:
        """The account suffix when ``presented`` is the simulator's credential, optionally
        followed by ``#<account>`` (so demo accounts differ); ``None`` when it is wrong."""
        if not presented:
            return None
        expected = self._credentials.get(provider, {}).get(name)
        if not expected:
            return None
        if presented == expected:
            return "default"
        if presented.startswith(expected + "#") and len(presented) > len(expected) + 1:
            return presented[len(expected) + 1 :]
        return None

    def bearer_account(self, request: Request, provider: str, name: str) -> str | None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        return self.account_of(provider, name, token)

    def cookie_account(self, request: Request, provider: str, name: str, cookie: str) -> str | None:
        return self.account_of(provider, name, request.cookies.get(cookie))


def unauthorized(message: str = "invalid authentication credentials") -> Response:
    return JSONResponse({"error": {"type": "authentication_error", "message": message}}, status_code=401)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

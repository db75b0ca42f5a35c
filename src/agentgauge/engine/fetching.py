"""What one fetch needs beside the engine: the check that a parse produced something usable, the
back-off after failures, the scrubbing logger a provider writes to, and ``doctor --bundle``'s capture."""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from typing import Any

from ..errors import ParseError
from ..models import Usage
from ..secret import Secret, scrub

MAX_BACKOFF = 3600.0


def usable(name: str, usage: Usage) -> Usage:
    """A response with no usable window or balance is a ``parse`` error (the last good data stays),
    never an ``ok`` account with nothing in it."""
    if not usage.windows and not usage.balances and not usage.note:
        first_problem = usage.warnings[0].message if usage.warnings else "no window or balance"
        raise ParseError(f"{name}: the response held no usable window ({first_problem})")
    return usage


def backoff_seconds(min_interval: float, failures: int) -> float:
    return min(MAX_BACKOFF, min_interval * (2 ** max(0, failures - 1)))


@dataclass
class Capture:
    """One diagnostic fetch (``doctor --bundle``): the raw answer and what parse made of it."""

    raw: dict[str, Any] | None
    source: str | None
    parsed: dict[str, Any] | None
    error: dict[str, Any] | None
    note: str
    secrets: list[Any]


class _Scrubbed(logging.Filter):
    """Removes one fetch's secrets (and their fragments) from what its provider logs."""

    def __init__(self, secrets: list[Secret]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)), self.secrets).rstrip()
        return True


def fetch_logger(provider_id: str, secrets: list[Secret]) -> logging.Logger:
    """The provider's logger for one fetch: records pass through a scrubber, then up to
    ``agentgauge.providers.<id>`` and its handlers as usual."""
    parent = logging.getLogger(f"agentgauge.providers.{provider_id}")
    fetch_log = logging.Logger(parent.name)
    fetch_log.parent = parent
    fetch_log.addFilter(_Scrubbed(secrets))
    return fetch_log

"""The snapshot's enumerations, importable without pydantic (the CLI's fast paths use them)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    STALE = "stale"
    ERROR = "error"
    UNCONFIGURED = "unconfigured"
    DISABLED = "disabled"


class ErrorKind(StrEnum):
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    NETWORK = "network"
    UPSTREAM = "upstream"
    PARSE = "parse"
    CONFIG = "config"
    INTERNAL = "internal"  # a bug in agentgauge, not a provider problem: logged with its traceback

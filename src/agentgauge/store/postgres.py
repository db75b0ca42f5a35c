"""PostgreSQL connections (the ``[postgres]`` extra, psycopg 3)."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError


def connect(url: str) -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError("PostgreSQL support is not installed",
                          hint="pip install 'agentgauge[postgres]'") from None
    try:
        return psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=10)
    except psycopg.Error as exc:
        # The message may name the host and user but never the password; psycopg omits it.
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"cannot connect to PostgreSQL: {first_line}",
                          hint="Check AGENTGAUGE_DATABASE_URL and that the server is running.") from None

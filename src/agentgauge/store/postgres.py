"""PostgreSQL connections (the ``[postgres]`` extra: psycopg 3 and psycopg_pool).

A small pool checks each connection as it is handed out (a server restart or a terminated
backend is noticed and replaced before use) and reconnects in the background after an outage.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from ..errors import ConfigError
from .backend import Transaction, scrub_error
from .migrate import apply as apply_migrations

POOL_MAX = 4  # engine refreshes, web reads and the log index at once; two cores serve them
CONNECT_TIMEOUT = 5
# After this long failing, the pool stops its background reconnect loop (whose back-off delay
# doubles each time) and the next request starts a fresh one: recovery after a long outage is
# prompt rather than waiting out a long back-off.
RECONNECT_TIMEOUT = 20.0
_INSTALL_HINT = "pip install 'agentgauge[postgres]'"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError("PostgreSQL support is not installed", hint=_INSTALL_HINT) from None
    return psycopg


def _normalise(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url


def _params(url: str) -> dict[str, Any]:
    from psycopg.conninfo import conninfo_to_dict

    try:
        return conninfo_to_dict(url)
    except Exception:  # a malformed URL: connect() reports it properly
        return {}


def target_of(url: str) -> str:
    """The database in words (host, port, name), never the user or password."""
    params = _params(url)
    host = params.get("host") or "the local socket"
    return f"PostgreSQL at {host}:{params.get('port') or 5432}/{params.get('dbname') or ''}".rstrip("/")


def connect(url: str) -> Any:
    """One direct connection (used at startup to migrate): a failure is a ConfigError whose
    message names the host and user but never the password."""
    psycopg = _psycopg()
    url = _normalise(url)
    try:
        return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        raise ConfigError(
            f"cannot connect to PostgreSQL: {scrub_error(exc, _secrets(url))}",
            hint="Check AGENTGAUGE_DATABASE_URL and that the server is running.",
        ) from None


def _secrets(url: str) -> tuple[str, ...]:
    password = _params(url).get("password")
    return (str(password),) if password else ()


class PostgresBackend:
    dialect = "postgres"
    reads_survive_write_errors = False

    def __init__(self, url: str, *, pool_timeout: float) -> None:
        psycopg = _psycopg()
        try:
            from psycopg_pool import ConnectionPool, PoolTimeout
        except ImportError:
            raise ConfigError("PostgreSQL connection pooling is not installed", hint=_INSTALL_HINT) from None
        url = _normalise(url)
        self.conninfo = url  # for the dedicated connections (leader election, change feed); never logged
        self.target = target_of(url)
        self._secrets = _secrets(url)
        self._psycopg = psycopg
        self._pool_timeout_type = PoolTimeout
        self._last_connect_error: str | None = None
        self._error_lock = threading.Lock()
        kwargs: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT}
        if "application_name" not in _params(url):
            kwargs["application_name"] = "agentgauge"
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_MAX,
            open=True,
            timeout=pool_timeout,
            kwargs=kwargs,
            check=ConnectionPool.check_connection,
            reconnect_timeout=RECONNECT_TIMEOUT,
            name="agentgauge",
            connection_class=_recording_connection(psycopg, self._note_connect_error),
        )

    def _note_connect_error(self, exc: BaseException) -> None:
        with self._error_lock:
            self._last_connect_error = scrub_error(exc, self._secrets)

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Any]:
        conn = self._pool.getconn()
        try:
            yield conn
            conn.commit()
        except BaseException:
            if not conn.closed:
                with suppress(self._psycopg.Error):
                    conn.rollback()
            raise
        finally:
            self._pool.putconn(conn)  # a broken connection is discarded and replaced by the pool

    def is_unavailable(self, exc: BaseException) -> bool:
        # OperationalError covers a lost or refused connection, a shut-down server, the pool
        # timing out and a full disk; InterfaceError a connection already closed under us.
        return isinstance(exc, self._psycopg.OperationalError | self._psycopg.InterfaceError)

    def describe(self, exc: BaseException) -> str:
        text = scrub_error(exc, self._secrets)
        if isinstance(exc, self._pool_timeout_type):
            with self._error_lock:
                last = self._last_connect_error
            if last:  # the pool's own message says only that it waited: add why it had nothing
                text = f"{text}; last connection attempt: {last}"
        return text

    def close(self) -> None:
        self._pool.close(timeout=CONNECT_TIMEOUT)


def _recording_connection(psycopg: Any, note: Any) -> Any:
    """A connection class whose failed connects are remembered, so an outage is reported as
    "connection refused" (say) rather than as the pool's bare timeout."""

    class RecordingConnection(psycopg.Connection):
        @classmethod
        def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
            try:
                return super().connect(conninfo, **kwargs)
            except psycopg.Error as exc:
                note(exc)
                raise

    return RecordingConnection


def open_postgres(url: str, *, pool_timeout: float) -> PostgresBackend:
    """Migrate over one direct connection (its failure is a ConfigError with the reason), then open the pool."""
    psycopg = _psycopg()
    conn = connect(url)
    try:
        apply_migrations(Transaction(conn, "postgres"))
        conn.commit()
    except psycopg.Error as exc:
        raise ConfigError(
            f"cannot prepare the database schema on {target_of(url)}: {scrub_error(exc, _secrets(url))}",
            hint="Check that the database user may create tables in its schema.",
        ) from None
    finally:
        conn.close()
    return PostgresBackend(url, pool_timeout=pool_timeout)

"""``guard`` and ``statusline`` without click: the answer from the stored snapshot in a few tens of
milliseconds (bench/agents.py), for hooks that run before every agent task and status lines that
redraw every few seconds.

Only the common case is taken here: the options below in their plain forms, the settings read from
the config file and the environment (``database_url``, ``warn_pct``, ``crit_pct``), and a local
SQLite store at the current schema, opened read-only. Anything else (another option, ``--help``, a
value click would refuse, ``--server``/``--refresh``, a PostgreSQL store, a missing database, a
config file that does not parse, an unknown provider) returns None, and the click command answers
it, the same way. tests/test_quick.py holds both paths to the same output and exit code.

The imports stay light: json, sqlite3 and the lean stored views; ``tomllib`` only when a config
file exists.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from datetime import UTC, datetime, timedelta

from ..paths import quick_dir
from ..query.agents import guard
from ..query.stored import StoredSnapshot, parse_account
from .out import write_out
from .statusline import FORMATS, show

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from ..config import Config

SERVER_ENV = "AGENTGAUGE_SERVER"  # cli.remote's --server variable: a remote read is the click command's
BUSY_TIMEOUT = 5.0  # seconds to wait for a writer's lock (WAL readers rarely wait at all)
MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "store", "migrations", "sqlite")


class Args:
    """Options given as ``--name value``, ``--name=value`` or a flag; None when anything else is there."""

    def __init__(self, values: dict[str, list[str]], flags: set[str]) -> None:
        self.values, self.flags = values, flags

    @classmethod
    def parse(cls, argv: Sequence[str], takes_value: set[str], flags: set[str]) -> Args | None:
        values: dict[str, list[str]] = {}
        seen: set[str] = set()
        i = 0
        while i < len(argv):
            token = argv[i]
            name, eq, inline = token.partition("=")
            if name in flags and not eq:
                seen.add(name)
            elif name in takes_value:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        return None
                    inline = argv[i]
                values.setdefault(name, []).append(inline)
            else:
                return None  # a positional, --help, an option only the click command takes
            i += 1
        return cls(values, seen)

    def last(self, name: str, default: str | None = None) -> str | None:
        given = self.values.get(name)
        return given[-1] if given else default


def _number(text: str | None, default: float) -> float | None:
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def settings(env: Mapping[str, str]) -> tuple[str | None, float, float] | None:
    """(database_url, warn_pct, crit_pct) as ``config.load`` reads them, or None when that needs
    the config module (to report a problem, or a case this reader does not take)."""
    explicit = env.get("AGENTGAUGE_CONFIG")
    if explicit:
        path = explicit
    else:
        folder = quick_dir("config", env)
        if folder is None:
            return None
        path = os.path.join(folder, "config.toml")
    data: dict[str, object] = {}
    if os.path.exists(path):
        import tomllib

        try:
            with open(path, "rb") as file:
                data = tomllib.load(file)
        except (OSError, ValueError):
            return None
    elif explicit:
        return None
    url = env.get("AGENTGAUGE_DATABASE_URL") or data.get("database_url")
    if url is not None and not isinstance(url, str):
        return None
    thresholds = []
    for key, default in (("warn_pct", 40.0), ("crit_pct", 70.0)):
        raw = env.get(f"AGENTGAUGE_{key.upper()}", data.get(key, default))
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            return None
        value = _number(str(raw), default)
        if value is None or value <= 0:
            return None
        thresholds.append(value)
    warn, crit = thresholds
    if not warn < crit <= 100:
        return None
    return url or None, warn, crit


def sqlite_path(url: str | None, env: Mapping[str, str]) -> str | None:
    """The SQLite file ``url`` names (None: the default one in the data dir); None for anything else."""
    if url is None:
        folder = quick_dir("data", env)
        return os.path.join(folder, "agentgauge.db") if folder is not None else None
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///") :]
    return None if "://" in url else url


def read_stored(path: str, now: datetime, providers: Sequence[str]) -> StoredSnapshot | None:
    """``query.stored.read`` over a read-only connection; None when the file is missing, the schema
    is not the current one (the click command migrates it) or SQLite says anything is wrong."""
    if not os.path.isfile(path):
        return None
    try:
        latest = max(int(name.split("_", 1)[0]) for name in os.listdir(MIGRATIONS) if name.endswith(".sql"))
    except (OSError, ValueError):
        return None
    uri = "file:" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23") + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT)
        try:
            (version,) = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
            if version != latest:
                return None
            sql = "SELECT snapshot FROM account_state WHERE snapshot IS NOT NULL"
            if providers:
                sql += f" AND provider IN ({', '.join('?' * len(providers))})"
            rows = conn.execute(sql + " ORDER BY provider, account", tuple(providers)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return StoredSnapshot(generated_at=now, providers=tuple(parse_account(r[0], now) for r in rows))


def _store(
    env: Mapping[str, str], now: datetime, providers: Sequence[str]
) -> tuple[StoredSnapshot, float, float] | None:
    found = settings(env)
    if found is None:
        return None
    url, warn, crit = found
    path = sqlite_path(url, env)
    try:
        stored = read_stored(path, now, providers) if path is not None else None
    except (KeyError, TypeError, ValueError):  # a malformed stored row: the click command reports it
        return None
    return (stored, warn, crit) if stored is not None else None


def run_guard(argv: Sequence[str], env: Mapping[str, str]) -> int | None:
    args = Args.parse(
        argv, {"--provider", "--account", "--min-remaining", "--window", "--max-age"}, {"--fail-open", "--json"}
    )
    if args is None or env.get(SERVER_ENV):
        return None
    provider, account, window = (
        args.last("--provider"),
        args.last("--account", "default"),
        args.last("--window", "tightest"),
    )
    min_remaining = _number(args.last("--min-remaining"), 10.0)
    max_age = _number(args.last("--max-age"), 60.0)
    if provider is None or account is None or window is None or min_remaining is None or max_age is None:
        return None
    if not 0 <= min_remaining <= 100 or max_age <= 0 or "e" in repr(min_remaining):
        return None  # click's message for a bad value; an exponent prints differently in JSON
    now = datetime.now(UTC)
    found = _store(env, now, (provider,))
    if found is None or not found[0].providers:
        return None  # nothing stored for it: maybe no such provider, which the click command reports
    fail_open = "--fail-open" in args.flags
    result = guard(
        found[0],
        provider,
        min_remaining=min_remaining,
        account=account,
        window=window,
        now=now,
        max_age=timedelta(minutes=max_age),
        fail_open=fail_open,
    )
    if "--json" in args.flags:
        write_out(json.dumps(result.report(provider, account, min_remaining), indent=2, ensure_ascii=False) + "\n")
    else:
        write_out(result.message + "\n")
    return result.code


def _full_config() -> Config:
    from .commands import State

    return State(None, 0).config()


def run_statusline(argv: Sequence[str], env: Mapping[str, str]) -> int | None:
    args = Args.parse(argv, {"--format", "--provider", "--account"}, {"--no-store"})
    if args is None:
        return None
    fmt, account = args.last("--format", "claude"), args.last("--account", "default")
    if fmt not in FORMATS or account is None:
        return None
    providers = tuple(args.values.get("--provider", ()))
    now = datetime.now(UTC)
    found = _store(env, now, providers)
    if found is None:
        return None
    stored, warn, crit = found
    show(
        fmt,
        providers,
        account,
        "--no-store" in args.flags,
        stored=stored,
        warn=warn,
        crit=crit,
        full_config=_full_config,
        now=now,
    )
    return 0


COMMANDS: dict[str, Callable[[Sequence[str], Mapping[str, str]], int | None]] = {
    "guard": run_guard,
    "statusline": run_statusline,
}


def run(argv: Sequence[str]) -> int | None:
    """The exit code of ``argv`` (a command and its options) answered here, or None."""
    command = COMMANDS.get(argv[0]) if argv else None
    return command(argv[1:], os.environ) if command is not None else None

"""Provider accounts managed from the dashboard (docs/users.md): rows of ``managed_accounts``.

A row either adds an account (``added``: its non-secret settings live here, its secrets in the
encrypted secret store that ``agentgauge auth set`` writes) or adjusts one that exists anyway (the
config file's, or a login found on this machine): ``enabled`` and ``refresh_interval`` override the
configured ones. The config file is never rewritten. ``with_managed`` folds the rows into a config;
the server and ``agentgauge status`` apply it after the secret store's ``with_stored``.

Values typed in the dashboard are taken literally: a ``$env:``/``$file:``/``$cmd:`` reference would
let a web form read files or run commands on the server, so only the config file may hold one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

import orjson

from .config import AccountConfig, Config
from .credentials import ORIGIN_PREFIX
from .errors import ConfigError, StoreUnavailableError
from .providers import Provider, registry
from .store import Store

DASHBOARD_ORIGIN = "dashboard"  # AccountConfig.origins value of a setting saved from the dashboard
ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # as `agentgauge auth set --account`
REFERENCE = ("$env:", "$file:", "$cmd:")
MAX_VALUE = 16 * 1024  # a cookie header can be long; nothing legitimate is longer


@dataclass(frozen=True)
class ManagedAccount:
    provider: str
    account: str
    settings: Mapping[str, str] = field(default_factory=dict)  # non-secret only
    enabled: bool | None = None  # None: as configured
    refresh_interval: float | None = None  # None: the global refresh_interval
    added: bool = False  # created from the dashboard (else an adjustment of an existing account)
    updated_at: int = 0
    updated_by: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.account)


def check_account_name(name: str) -> str:
    text = name.strip()
    if not ACCOUNT_NAME.match(text):
        raise ConfigError(
            f"{text[:64]!r} is not a valid account name",
            hint="Use letters, digits, '.', '_' or '-' (at most 64), e.g. 'work'.",
        )
    return text


def check_value(provider: Provider, name: str, value: str) -> str:
    """A setting's value as typed in the dashboard: known setting, one line, no reference, a listed choice."""
    spec = provider.setting_spec(name)
    if spec is None:
        known = ", ".join(s.name for s in provider.settings) or "none"
        raise ConfigError(f"{provider.name} has no setting '{name[:64]}'", hint=f"Its settings: {known}.")
    text = value.strip()
    if len(text) > MAX_VALUE or "\n" in text or "\r" in text:
        raise ConfigError(f"{provider.name} {name}: the value is too long or spans several lines")
    if text.startswith(REFERENCE):
        raise ConfigError(
            f"{provider.name} {name}: references ($env:, $file:, $cmd:) can only be written in the config file",
            hint="Paste the value itself; the dashboard stores secrets encrypted.",
        )
    if spec.choices and text and text.lower() not in spec.choices:
        raise ConfigError(f"{provider.name} {name}: {text[:64]!r} is not one of {', '.join(spec.choices)}")
    if text.lower().startswith("cookie:") and spec.secret:  # a header copied with its name
        text = text[len("cookie:") :].strip()
    return text


def check_interval(provider: Provider, seconds: float | None) -> float | None:
    """A per-account refresh interval: None (the global one), or at least the provider's minimum."""
    if seconds is None:
        return None
    if not seconds == seconds or seconds in (float("inf"), float("-inf")):  # nan, inf
        raise ConfigError("the refresh interval must be a number of seconds")
    if seconds < provider.min_interval:
        raise ConfigError(
            f"{provider.name} may be fetched at most every {provider.min_interval:g} s; "
            f"{seconds:g} s is below that minimum",
            hint=f"Choose {provider.min_interval:g} s or more.",
        )
    if seconds > 7 * 24 * 3600:
        raise ConfigError("the refresh interval is at most a week (604800 s)")
    return float(seconds)


def _row(r: tuple[object, ...]) -> ManagedAccount:
    settings = orjson.loads(str(r[2]) or "{}")
    return ManagedAccount(
        provider=str(r[0]),
        account=str(r[1]),
        settings={str(k): str(v) for k, v in settings.items()} if isinstance(settings, dict) else {},
        enabled=None if r[3] is None else bool(r[3]),
        refresh_interval=None if r[4] is None else float(str(r[4])),
        added=bool(r[5]),
        updated_at=int(str(r[6])),
        updated_by=None if r[7] is None else str(r[7]),
    )


def rows(store: Store) -> dict[tuple[str, str], ManagedAccount]:
    found = store.query(
        "SELECT provider, account, settings, enabled, refresh_interval, added, updated_at, updated_by "
        "FROM managed_accounts ORDER BY provider, account"
    )
    return {row.key: row for row in map(_row, found)}


def save(store: Store, row: ManagedAccount, now: datetime) -> ManagedAccount:
    """Insert or replace one row (a row with nothing left to say is deleted)."""
    row = replace(row, updated_at=int(now.timestamp()))
    with store.transaction() as tx:
        tx.execute("DELETE FROM managed_accounts WHERE provider = ? AND account = ?", row.key)
        if row.added or row.settings or row.enabled is not None or row.refresh_interval is not None:
            tx.execute(
                "INSERT INTO managed_accounts (provider, account, settings, enabled, refresh_interval, added, "
                "updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row.provider,
                    row.account,
                    orjson.dumps(dict(row.settings)).decode(),
                    None if row.enabled is None else int(row.enabled),
                    row.refresh_interval,
                    int(row.added),
                    row.updated_at,
                    row.updated_by,
                ),
            )
    return row


def delete(store: Store, provider: str, account: str, *, state: bool = False) -> None:
    """Forget a row; with ``state``, also the account's stored snapshot and polling gate (a removed
    account leaves no card behind; its history stays in the database)."""
    with store.transaction() as tx:
        tx.execute("DELETE FROM managed_accounts WHERE provider = ? AND account = ?", (provider, account))
        if state:
            tx.execute("DELETE FROM account_state WHERE provider = ? AND account = ?", (provider, account))


def set_by_config(account: AccountConfig, name: str, config: Config) -> bool:
    """Whether the config file or the environment set this account's ``name`` itself (those win): not a
    provider-wide value a named account inherits, not the secret store, not the dashboard."""
    origin = account.origins.get(name, "")
    if not account.settings.get(name) or origin.startswith((ORIGIN_PREFIX, DASHBOARD_ORIGIN)):
        return False
    if account.account != "default" and config.shared.get(account.provider, {}).get(name) == account.settings[name]:
        return origin.startswith("environment variable")
    return True


def _apply(account: AccountConfig, row: ManagedAccount, config: Config) -> AccountConfig:
    provider = registry.get(account.provider)
    settings, origins = dict(account.settings), dict(account.origins)
    for name, value in row.settings.items():
        spec = provider.setting_spec(name)
        if spec is None or spec.secret or set_by_config(account, name, config):
            continue
        if value:
            settings[name], origins[name] = value, DASHBOARD_ORIGIN
        elif origins.get(name) == DASHBOARD_ORIGIN:
            settings.pop(name, None)
            origins.pop(name, None)
    return replace(
        account,
        settings=settings,
        origins=origins,
        enabled=account.enabled if row.enabled is None else row.enabled,
        refresh_interval=row.refresh_interval if row.refresh_interval is not None else account.refresh_interval,
        explicit=account.explicit or row.added,
    )


def with_managed(config: Config, managed: Mapping[tuple[str, str], ManagedAccount]) -> Config:
    """``config`` with the dashboard's rows applied: adjustments to existing accounts, and the added
    accounts that are not there yet (those with stored secrets already came in through ``with_stored``)."""
    if not managed:
        return config
    known = set(registry.ids())
    accounts = [
        _apply(a, managed[(a.provider, a.account)], config) if (a.provider, a.account) in managed else a
        for a in config.accounts
    ]
    present = {(a.provider, a.account) for a in accounts}
    for key, row in managed.items():
        if key in present or not row.added or row.provider not in known:
            continue
        shared = dict(config.shared.get(row.provider, {}))
        fresh = AccountConfig(
            row.provider, row.account, True, shared, dict.fromkeys(shared, f"config file {config.path}"), explicit=True
        )
        accounts.append(_apply(fresh, row, config))
    order = {pid: i for i, pid in enumerate(registry.ids())}
    accounts.sort(key=lambda a: (order.get(a.provider, len(order)), a.account != "default"))
    return replace(config, accounts=tuple(accounts))


def strip_stored(config: Config) -> Config:
    """``config`` without what ``with_stored`` merged in: the secret store's values, and the named
    accounts that existed only there. A running server takes this and merges the store afresh after
    the dashboard changed it (the config file is not read again)."""
    accounts = []
    for account in config.accounts:
        stored = {n for n, origin in account.origins.items() if origin.startswith(ORIGIN_PREFIX)}
        if not stored:
            accounts.append(account)
            continue
        kept = replace(
            account,
            settings={k: v for k, v in account.settings.items() if k not in stored},
            origins={k: v for k, v in account.origins.items() if k not in stored},
            expires_at={k: v for k, v in account.expires_at.items() if k not in stored},
        )
        if account.account != "default" and not any(set_by_config(kept, n, config) for n in kept.settings):
            continue  # created from the store alone
        accounts.append(kept)
    return replace(config, accounts=tuple(accounts))


def managed_config(config: Config, store: Store) -> Config:
    """``with_managed`` with the rows read from ``store``; while the database is down, ``config`` as it
    is (the engine then reports the outage per account)."""
    try:
        return with_managed(config, rows(store))
    except StoreUnavailableError:
        return config

"""Secrets saved with ``agentgauge auth`` (or refreshed tokens) merged into the configured accounts.

The config file and the environment win; stored values fill what they leave unset, and accounts
that exist only in the store (``auth set --account NAME``) are added. The store's key (keyring or
key file) is touched only when the store file exists, so machines that never ran ``agentgauge
auth`` never see a keyring prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..config import AccountConfig, Config
from ..errors import ConfigError
from ..paths import data_dir
from ..providers import registry
from .store import ALERT_TARGETS, STORE_FILE, SecretStore, store_origin


def stored_secrets(store: SecretStore | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """Secret-store entries as provider -> account -> setting -> entry (secret settings only)."""
    if store is None:
        if not (data_dir() / STORE_FILE).exists():
            return {}  # nothing stored: do not load the cryptography stack at all
        store = SecretStore()
    if not store.exists():
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in store.entries():
        if entry.provider == ALERT_TARGETS:
            continue  # alert targets' addresses (agentgauge.alerts.managed), not an account's
        try:
            spec = registry.get(entry.provider).setting_spec(entry.setting)
        except ConfigError:
            continue  # a provider no longer installed: its entries stay in the store, unused
        if spec is not None and spec.secret:
            out.setdefault(entry.provider, {}).setdefault(entry.account, {})[entry.setting] = entry
    return out


def _merge(settings: dict[str, str], origins: dict[str, str], entries: Mapping[str, Any]) -> dict[str, datetime]:
    """Stored secrets fill the settings the config file and environment left unset (those win)."""
    expiry: dict[str, datetime] = {}
    # A refreshed access/refresh pair belongs together: a token set in the config must not be
    # paired with a stored refresh token of another login.
    pair_shadowed = any(settings.get(n) for n, e in entries.items() if e.origin == "oauth-refresh")
    for name, entry in entries.items():
        if settings.get(name) or entry.value is None or (pair_shadowed and entry.origin == "oauth-refresh"):
            continue
        settings[name] = entry.value.reveal()
        origins[name] = store_origin(entry)
        if entry.expires_at is not None:
            expiry[name] = entry.expires_at
    return expiry


def with_stored(config: Config, store: SecretStore | None = None) -> Config:
    """``config`` with the secret store's values merged into its accounts."""
    stored = stored_secrets(store)
    if not stored:
        return config
    accounts: list[AccountConfig] = []
    for account in config.accounts:
        entries = stored.get(account.provider, {}).pop(account.account, {})
        if not entries:
            accounts.append(account)
            continue
        settings, origins = dict(account.settings), dict(account.origins)
        expiry = _merge(settings, origins, entries)
        accounts.append(
            replace(account, settings=settings, origins=origins, expires_at={**account.expires_at, **expiry})
        )
    for provider in registry.all_providers():  # accounts that exist only in the store
        for name, entries in sorted(stored.get(provider.id, {}).items()):
            settings = dict(config.shared.get(provider.id, {}))
            origins = dict.fromkeys(settings, f"config file {config.path}")
            expiry = _merge(settings, origins, entries)
            accounts.append(AccountConfig(provider.id, name, True, settings, origins, explicit=True, expires_at=expiry))
    return replace(config, accounts=tuple(_ordered(accounts)))


def _ordered(accounts: list[AccountConfig]) -> list[AccountConfig]:
    """Registry order, each provider's default first (what every surface lists)."""
    order = {pid: i for i, pid in enumerate(registry.ids())}
    return sorted(accounts, key=lambda a: (order.get(a.provider, len(order)), a.account != "default"))

"""Credentials in one place: discover, resolve, refresh and store, behind one entry point.

The engine opens an :class:`AccountCredentials` once per fetch (``Vault.open``): it yields the
account's usable credentials in the provider's fallback order (found lazily, so a working first
source means no browser profile is ever read), gives ``fetch`` a token sink that keeps refreshed
OAuth tokens in agentgauge's encrypted secret store (and in memory at once), and turns a
rejected credential into the exact fix for where it came from. ``doctor`` and ``providers``
ask the same vault which sources are usable (``Vault.check``), never for a value.

Modules: ``resolve`` (the fallback walk), ``discovery`` (files, environment, browsers),
``store`` (the secret store), ``stored`` (merging stored secrets into the config).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from ..config import AccountConfig, Config
from ..errors import AgentGaugeError, AuthError, ProviderError
from ..providers import Credentials, Provider
from ..secret import scrub
from . import resolve
from .resolve import SourceCheck, check_sources, plain_settings
from .store import ALERT_TARGETS, ORIGIN_PREFIX, AccountTokens, Entry, SecretStore, store_origin
from .stored import with_stored

__all__ = [
    "ALERT_TARGETS",
    "ORIGIN_PREFIX",
    "AccountCredentials",
    "Entry",
    "SecretStore",
    "SourceCheck",
    "Vault",
    "check_sources",
    "plain_settings",
    "source_label",
    "store_origin",
    "with_stored",
]


def _browser_name(origin: str) -> str:
    """ "Firefox profile default-release" -> "Firefox"; a stored copy keeps where it was imported from."""
    text = origin.removeprefix(ORIGIN_PREFIX).strip(" ()")
    text = text.removeprefix("browser:")
    return (text.split() or ["browser"])[0]


def source_label(creds: Credentials) -> str:
    """The credential's source in words, for people: "Claude Code login", "browser cookie (Firefox)"."""
    imported = creds.origin.startswith(ORIGIN_PREFIX) and "browser:" in creds.origin
    if creds.source == "browser" or imported:
        browser = _browser_name(creds.details.get("browser") or creds.origin)
        kind = "browser login" if creds.auth.browser and not creds.auth.browser.cookies else "browser cookie"
        return f"{kind} ({browser})"
    return creds.auth.label


def stored_hint(creds: Credentials, provider: Provider, account: str, exc: AuthError) -> str | None:
    """The exact fix for a rejected credential that came from agentgauge's secret store.

    A CLI's file or a refreshed OAuth pair keeps the provider's own hint ("run `claude` and log
    in"); so does a 403 on a token or key, which names a missing scope or workspace rather than a
    stale login (a cookie answered with 403 is simply logged out).
    """
    if not creds.origin.startswith(ORIGIN_PREFIX):
        return None
    if exc.status_code == 403 and creds.auth.source not in ("cookie", "browser"):
        return None
    how = creds.origin.removeprefix(ORIGIN_PREFIX).strip(" ()")
    flag = "" if account == "default" else f" --account {account}"
    if how.startswith("browser:"):
        browser = _browser_name(how)
        site = creds.auth.browser.label if creds.auth.browser else (urlsplit(provider.docs_url).hostname or provider.id)
        return (
            f"Log in to {site} in {browser}, then run `agentgauge auth import --browser "
            f"{browser.lower()} --provider {provider.id}` and press Refresh."
        )
    if how == "oauth-refresh":
        return None
    return f"The stored credential was rejected; save a fresh one with `agentgauge auth set {provider.id}{flag}`."


class _KeptTokens:
    """``FetchContext.tokens``: saves to the secret store and lets this vault use the pair at once."""

    def __init__(self, vault: Vault, provider: str, account: str) -> None:
        self._vault, self._key = vault, (provider, account)

    def save(self, values: Mapping[str, str], *, expires_at: datetime | None, origin: str) -> None:
        self._vault._fresh[self._key] = (dict(values), expires_at, origin)  # even if the disk write fails
        AccountTokens(self._vault.secrets, *self._key).save(values, expires_at=expires_at, origin=origin)


class AccountCredentials:
    """One account's credentials for one fetch: candidates in fallback order, settings, token sink."""

    def __init__(self, vault: Vault, provider: Provider, account: AccountConfig) -> None:
        self.provider, self.account = provider, account
        self._found: Iterator[Credentials] = resolve.credentials(provider, account, vault.config)
        self._vault = vault
        self.tokens = _KeptTokens(vault, provider.id, account.account)

    def settings(self) -> dict[str, str]:
        return plain_settings(self.provider, self.account, self._vault.config)

    def next(self) -> Credentials | None:
        """The next usable credential, or None when every source has been tried (blocking I/O:
        discovery reads files and maybe a browser profile; call it from a worker thread)."""
        return next(self._found, None)

    def finish_error(self, exc: ProviderError, creds: Credentials) -> ProviderError:
        """Scrub secrets from the message and give auth errors the fix for where the credential came from."""
        exc.message = scrub(exc.message, creds.secrets())
        exc.hint = scrub(exc.hint, creds.secrets())
        if isinstance(exc, AuthError):
            exc.hint = stored_hint(creds, self.provider, self.account.account, exc) or (
                creds.auth.hint if exc.hint == AuthError.default_hint else exc.hint
            )
        return exc


class Vault:
    """The credentials of every account of one configuration."""

    def __init__(self, config: Config, secrets: SecretStore | None = None) -> None:
        self.config = config
        self._secrets = secrets  # opened on the first token refresh; most runs never need it
        # Tokens refreshed since the config was loaded: a long-running serve must use them at once,
        # since the CLI's refresh token they replaced may already be spent.
        self._fresh: dict[tuple[str, str], tuple[dict[str, str], datetime | None, str]] = {}

    @property
    def secrets(self) -> SecretStore:
        if self._secrets is None:
            self._secrets = SecretStore()
        return self._secrets

    def open(self, provider: Provider, account: AccountConfig) -> AccountCredentials:
        return AccountCredentials(self, provider, self._with_fresh(account))

    def check(self, provider: Provider, account: AccountConfig) -> list[SourceCheck]:
        return check_sources(provider, self._with_fresh(account), self.config)

    def has_credentials(self, provider: Provider, account: AccountConfig) -> bool:
        """Set directly, stored, or found on the machine (a CLI login file, a browser session)."""
        if resolve.direct(provider, account):
            return True
        try:
            return any(check.usable for check in self.check(provider, account))
        except AgentGaugeError:
            return False

    def _with_fresh(self, account: AccountConfig) -> AccountConfig:
        fresh = self._fresh.get((account.provider, account.account))
        if fresh is None:
            return account
        values, expires_at, origin = fresh
        label = f"{ORIGIN_PREFIX} ({origin})"
        return replace(
            account,
            settings={**account.settings, **values},
            origins={**account.origins, **dict.fromkeys(values, label)},
            expires_at={
                **{k: v for k, v in account.expires_at.items() if k not in values},
                **(dict.fromkeys(values, expires_at) if expires_at else {}),
            },
        )

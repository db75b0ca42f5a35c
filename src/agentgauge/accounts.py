"""Which provider accounts exist: one ``default`` per provider plus the configured named ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .config import AccountConfig, Config
from .errors import ConfigError
from .providers import registry
from .providers._base import Provider


@dataclass(frozen=True)
class Target:
    provider: Provider
    account: AccountConfig

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider.id, self.account.account)


def _has_credentials(provider: Provider, account: AccountConfig, config: Config) -> bool:
    """Set directly, stored, or found on the machine (a CLI login file, a browser session)."""
    if any(all(account.settings.get(n) for n in source.requires) for source in provider.auth):
        return True
    from .auth import check_sources

    return any(check.usable for check in check_sources(provider, account, config))


def targets(config: Config, only: Iterable[str] | None = None) -> list[Target]:
    """Accounts in provider registration order. A provider's ``default`` account is left out
    when the user configured named accounts for it and the default has no credentials at all."""
    wanted = list(only or [])
    for provider_id in wanted:
        registry.get(provider_id)  # raises ConfigError for an unknown id
    result: list[Target] = []
    for provider in registry.all_providers():
        if wanted and provider.id not in wanted:
            continue
        accounts = [a for a in config.accounts if a.provider == provider.id]
        named = [a for a in accounts if a.account != "default"]
        for account in accounts:
            if account.account == "default" and named and not _has_credentials(provider, account, config):
                continue
            result.append(Target(provider, account))
    if wanted and not result:
        raise ConfigError(f"no account matches --provider {', '.join(wanted)}")
    return result

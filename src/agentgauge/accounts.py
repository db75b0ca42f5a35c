"""Which provider accounts exist: one ``default`` per provider plus the configured named ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .config import AccountConfig, Config
from .errors import ConfigError
from .providers import Provider, registry


@dataclass(frozen=True)
class Target:
    provider: Provider
    account: AccountConfig

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider.id, self.account.account)


def targets(
    config: Config,
    only: Iterable[str] | None = None,
    *,
    default_wanted: Callable[[Provider, AccountConfig], bool] | None = None,
) -> list[Target]:
    """Accounts in provider registration order. When the user configured named accounts for a
    provider, its ``default`` account is kept only if ``default_wanted`` says so (the engine asks
    whether it has any credential; a read asks whether it has stored data)."""
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
            if (
                account.account == "default"
                and named
                and not (default_wanted is not None and default_wanted(provider, account))
            ):
                continue
            result.append(Target(provider, account))
    if wanted and not result:
        raise ConfigError(f"no account matches --provider {', '.join(wanted)}")
    return result

"""Credential resolution: walk a provider's auth sources in their declared order."""

from __future__ import annotations

from dataclasses import dataclass

from .config import AccountConfig, Config, resolve_ref
from .errors import AgentGaugeError, ConfigError
from .providers._base import Credentials, DiscoverContext, Provider
from .secret import Secret


@dataclass(frozen=True)
class SourceCheck:
    """What ``doctor`` and ``providers`` show for one auth source of one account (never a value)."""

    source_id: str
    label: str
    usable: bool
    origin: str | None
    missing: tuple[str, ...]
    hint: str
    problem: str | None = None


def _settings(account: AccountConfig, config: Config, provider: Provider) -> dict[str, str]:
    """Non-secret settings, with references resolved (secrets are resolved only in ``resolve``)."""
    secret = set(provider.secret_settings())
    return {
        k: resolve_ref(v, env=config.env, home=config.home, what=f"{provider.id}.{k}")
        for k, v in account.settings.items() if k not in secret
    }


def plain_settings(provider: Provider, account: AccountConfig, config: Config) -> dict[str, str]:
    return _settings(account, config, provider)


def check_sources(provider: Provider, account: AccountConfig, config: Config) -> list[SourceCheck]:
    """Every auth source of the account, in order, with whether it can be used and from where."""
    checks: list[SourceCheck] = []
    try:
        plain = _settings(account, config, provider)
    except ConfigError as exc:
        return [SourceCheck(a.id, a.label, False, None, a.requires, a.hint, exc.message) for a in provider.auth]
    for source in provider.auth:
        missing = tuple(name for name in source.requires if not account.settings.get(name))
        if not missing:
            origin = ", ".join(sorted({account.origins.get(n, "config") for n in source.requires}))
            checks.append(SourceCheck(source.id, source.label, True, origin, (), source.hint))
            continue
        found, problem = None, None
        if source.discover is not None and account.account == "default":
            try:
                found = source.discover(DiscoverContext(env=config.env, home=config.home, settings=plain))
            except AgentGaugeError as exc:
                problem = exc.message
        checks.append(SourceCheck(source.id, source.label, found is not None, found.origin if found else None,
                                  () if found else missing, source.hint, problem))
    return checks


def resolve(provider: Provider, account: AccountConfig, config: Config) -> list[Credentials]:
    """Usable credentials for every auth source of the account, in fallback order.

    Raises ConfigError when a reference ($env/$file/$cmd) cannot be resolved or a
    discovered credential file is malformed, so the account shows a clear config error.
    """
    plain = _settings(account, config, provider)
    found: list[Credentials] = []
    for source in provider.auth:
        if all(account.settings.get(name) for name in source.requires):
            names = source.requires + tuple(n for n in source.optional if account.settings.get(n))
            values = {
                n: Secret(resolve_ref(account.settings[n], env=config.env, home=config.home,
                                      what=f"{provider.id}.{n}"))
                for n in names
            }
            origin = ", ".join(sorted({account.origins.get(n, "config") for n in source.requires}))
            found.append(Credentials(source, values, origin, {}, source.source))
        elif source.discover is not None and account.account == "default":
            discovered = source.discover(DiscoverContext(env=config.env, home=config.home, settings=plain))
            if discovered is not None:
                values = dict(discovered.values)
                for n in source.optional:  # settings complement what a file does not hold
                    if n not in values and account.settings.get(n):
                        values[n] = Secret(resolve_ref(account.settings[n], env=config.env, home=config.home,
                                                       what=f"{provider.id}.{n}"))
                found.append(Credentials(source, values, discovered.origin, dict(discovered.details),
                                         source.discovered_source))
    return found

"""Credential resolution: walk a provider's auth sources in their declared order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..config import AccountConfig, Config, resolve_ref
from ..errors import AgentGaugeError, ConfigError
from ..providers import EXPIRES_AT as EXPIRY_KEY
from ..providers import Credentials, DiscoverContext, Provider, expires_at, expiry_detail
from ..secret import Secret
from . import discovery
from .store import ORIGIN_PREFIX


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


def plain_settings(provider: Provider, account: AccountConfig, config: Config) -> dict[str, str]:
    """Non-secret settings, with references resolved (secrets are resolved only when used)."""
    secret = set(provider.secret_settings())
    return {
        k: resolve_ref(v, env=config.env, home=config.home, what=f"{provider.id}.{k}")
        for k, v in account.settings.items()
        if k not in secret
    }


def _context(provider: Provider, config: Config, plain: dict[str, str]) -> DiscoverContext:
    return discovery.context(provider, config.env, config.home, plain)


def direct(provider: Provider, account: AccountConfig) -> bool:
    """Some auth source has every setting it needs set directly (config, environment, secret store)."""
    return any(all(account.settings.get(n) for n in source.requires) for source in provider.auth)


def check_sources(provider: Provider, account: AccountConfig, config: Config) -> list[SourceCheck]:
    """Every auth source of the account, in order, with whether it can be used and from where."""
    checks: list[SourceCheck] = []
    try:
        plain = plain_settings(provider, account, config)
    except ConfigError as exc:
        return [SourceCheck(a.id, a.label, False, None, a.requires, a.hint, exc.message) for a in provider.auth]
    seen: list[tuple[str, ...]] = []
    for source in provider.auth:
        missing = tuple(name for name in source.requires if not account.settings.get(name))
        if not missing:
            if source.requires in seen:  # the same setting as an earlier source: not a second way in
                checks.append(
                    SourceCheck(
                        source.id,
                        source.label,
                        False,
                        None,
                        (),
                        source.hint,
                        "uses the same setting as an earlier source",
                    )
                )
                continue
            seen.append(source.requires)
            origin = ", ".join(sorted({account.origins.get(n, "config") for n in source.requires}))
            checks.append(SourceCheck(source.id, source.label, True, origin, (), source.hint))
            continue
        found, problem = None, None
        if discovery.discoverable(source) and account.account == "default":
            try:
                found = discovery.discover(provider, source, _context(provider, config, plain))
            except AgentGaugeError as exc:
                problem = exc.message
        checks.append(
            SourceCheck(
                source.id,
                source.label,
                found is not None,
                found[0].origin if found else None,
                () if found else missing,
                source.hint,
                problem,
            )
        )
    return checks


def _value(provider: Provider, account: AccountConfig, config: Config, name: str) -> Secret:
    """A secret setting's value. Values from the secret store are literal: a stored cookie that
    happens to start with ``$cmd:`` must never run a command."""
    raw = account.settings[name]
    if account.origins.get(name, "").startswith(ORIGIN_PREFIX):
        return Secret(raw)
    return Secret(resolve_ref(raw, env=config.env, home=config.home, what=f"{provider.id}.{name}"))


def _from_store(account: AccountConfig, names: tuple[str, ...]) -> bool:
    return any(account.origins.get(n, "").startswith(ORIGIN_PREFIX) for n in names)


def _fresher_first(provider: Provider, stored: Credentials, found: Credentials) -> list[Credentials]:
    """Agentgauge's stored copy and the CLI's own file for one source, the later expiry first
    (the CLI may have refreshed its file since we stored ours). The stored copy borrows what only
    the file knows (workspace id, plan) since both belong to the same login."""
    secret = set(provider.secret_settings())
    borrowed = {k: v for k, v in found.values.items() if k in stored.auth.optional and k not in secret}
    stored = Credentials(
        stored.auth,
        {**borrowed, **stored.values},
        stored.origin,
        {**{k: v for k, v in found.details.items() if k != EXPIRY_KEY}, **stored.details},
        stored.source,
    )
    mine, theirs = expires_at(stored.details), expires_at(found.details)
    if mine is not None and theirs is not None and theirs > mine:
        return [found, stored]
    return [stored, found]


def iter_credentials(provider: Provider, account: AccountConfig, config: Config) -> Iterator[Credentials]:
    """Usable credentials for every auth source of the account, in fallback order.

    Raises ConfigError when a reference ($env/$file/$cmd) cannot be resolved or a
    discovered credential file is malformed, so the account shows a clear config error.
    """
    plain = plain_settings(provider, account, config)
    for source in provider.auth:
        if all(account.settings.get(name) for name in source.requires):
            names = source.requires + tuple(n for n in source.optional if account.settings.get(n))
            values = {n: _value(provider, account, config, n) for n in names}
            origin = ", ".join(sorted({account.origins.get(n, "config") for n in source.requires}))
            expiry = min((account.expires_at[n] for n in source.requires if n in account.expires_at), default=None)
            given = Credentials(source, values, origin, expiry_detail(expiry), source.source)
            if source.discover is not None and account.account == "default" and _from_store(account, source.requires):
                try:
                    found = discovery.discover(provider, source, _context(provider, config, plain))
                except AgentGaugeError:
                    found = None  # the stored copy still works without the CLI's file
                if found is not None:
                    theirs = Credentials(
                        source, dict(found[0].values), found[0].origin, dict(found[0].details), found[1]
                    )
                    yield from _fresher_first(provider, given, theirs)
                    continue
            yield given
        elif discovery.discoverable(source) and account.account == "default":
            found = discovery.discover(provider, source, _context(provider, config, plain))
            if found is not None:
                discovered, kind = found
                values = dict(discovered.values)
                for n in source.optional:  # settings complement what a file does not hold
                    if n not in values and account.settings.get(n):
                        values[n] = _value(provider, account, config, n)
                yield Credentials(source, values, discovered.origin, dict(discovered.details), kind)


def credentials(provider: Provider, account: AccountConfig, config: Config) -> Iterator[Credentials]:
    """Usable credentials in fallback order, each found only when the one before it was not
    enough: a working OAuth token means no browser profile is ever opened (and no keychain
    prompt shown). Identical values from two sources come once."""
    yield from _distinct(iter_credentials(provider, account, config))


def resolve(provider: Provider, account: AccountConfig, config: Config) -> list[Credentials]:
    """Every usable credential of the account, in fallback order (``doctor``, tests)."""
    return list(credentials(provider, account, config))


def _distinct(found: Iterator[Credentials]) -> Iterator[Credentials]:
    """Drop a later source whose credential values equal an earlier one's (two sources may read the
    same setting): a rejected key must not be sent upstream a second time."""
    seen: list[dict[str, str]] = []
    for creds in found:
        values = {k: v.reveal() for k, v in creds.values.items()}
        if values not in seen:
            seen.append(values)
            yield creds

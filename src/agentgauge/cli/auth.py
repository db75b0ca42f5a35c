"""``agentgauge auth``: save, import, show and forget credentials in agentgauge's secret store.

Values are read from a hidden prompt or from stdin, never from argv (argv is visible to every
user of the machine in ``ps`` and lands in shell history). Output names settings, origins and
ages, never a value.
"""

from __future__ import annotations

import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import ConfigError

# Providers and the secret store (cryptography) load inside the commands: `agentgauge cost` and the
# other quick commands must not pay for them at start-up.
if TYPE_CHECKING:
    from ..credentials import Entry
    from ..providers._base import Provider

BROWSERS = ("firefox", "chrome", "chromium", "brave", "edge", "vivaldi", "arc")
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _age(when: datetime, now: datetime) -> str:
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def _expiry(entry: Entry, now: datetime) -> str:
    if entry.expires_at is None:
        return "no known expiry"
    verb = "expired" if entry.expired(now) else "expires"
    return f"{verb} {entry.expires_at.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')}"


def default_setting(provider: Provider) -> str:
    """The first auth source's first required secret setting: what "a token for X" usually means."""
    secret = set(provider.secret_settings())
    for source in provider.auth:
        for name in source.requires:
            if name in secret:
                return name
    raise click.UsageError(f"{provider.name} has no secret setting to store")


def _check_setting(provider: Provider, name: str) -> None:
    secret = provider.secret_settings()
    if name not in secret:
        raise click.BadParameter(
            f"'{name}' is not a secret setting of {provider.id} (choose from {', '.join(secret)})",
            param_hint="--setting",
        )


def _check_account(name: str) -> str:
    if not _ACCOUNT.match(name):
        raise click.BadParameter("use letters, digits, '.', '_' or '-' (at most 64)", param_hint="--account")
    return name


def _read_value(provider: Provider, setting: str) -> str:
    spec = provider.setting_spec(setting)
    label = f"{provider.name} {setting}" + (f" ({spec.help})" if spec else "")
    if sys.stdin.isatty():
        value = click.prompt(label, hide_input=True, prompt_suffix=": ", err=True)
    else:
        value = sys.stdin.read()
    value = value.strip()
    if value.lower().startswith("cookie:"):  # a header copied with its name; providers want the value
        value = value[len("cookie:") :].strip()
    if not value:
        raise ConfigError(
            f"no value given for {provider.id} {setting}",
            hint=f"Paste it at the prompt, or pipe it: `... | agentgauge auth set {provider.id}`.",
        )
    if "\n" in value or "\r" in value:
        raise ConfigError(
            f"the value for {provider.id} {setting} spans several lines",
            hint="Paste a single token, key or Cookie header line.",
        )
    return value


@click.group()
def auth() -> None:
    """Save, import, show and forget credentials (kept encrypted in agentgauge's secret store)."""


@auth.command("set")
@click.argument("provider_id", metavar="PROVIDER")
@click.option(
    "--account",
    default="default",
    show_default=True,
    callback=lambda c, p, v: _check_account(v),
    help="Account name; a new name adds an account of this provider.",
)
@click.option(
    "--setting", "setting_name", metavar="NAME", help="Which secret setting (default: the provider's main credential)."
)
def set_secret(provider_id: str, account: str, setting_name: str | None) -> None:
    """Save a token, key or Cookie header, read from a hidden prompt or stdin (never argv)."""
    from ..credentials import SecretStore
    from ..providers import registry

    provider = registry.get(provider_id)
    setting = setting_name or default_setting(provider)
    _check_setting(provider, setting)
    value = _read_value(provider, setting)
    store = SecretStore()
    store.put(provider.id, account, {setting: value}, origin="manual")
    click.echo(
        f"saved {provider.id} {setting} for account '{account}' in {store.path} (key in {store.key_location()})",
        err=True,
    )


@auth.command("import")
@click.option("--browser", type=click.Choice(BROWSERS), required=True, help="Which browser to read.")
@click.option("--profile", metavar="NAME", help="Browser profile name or folder (default: every profile).")
@click.option(
    "--provider",
    "providers",
    multiple=True,
    metavar="ID",
    help="Only this provider (repeatable; default: every provider with a web login).",
)
@click.option("--account", default="default", show_default=True, callback=lambda c, p, v: _check_account(v))
def import_browser(browser: str, profile: str | None, providers: tuple[str, ...], account: str) -> None:
    """Copy web logins from a browser into the secret store, so later runs need no browser."""
    from ..browser import BROWSER_NAMES, BrowserError, discover_profiles, find_credentials
    from ..credentials import SecretStore
    from ..providers import registry

    wanted = [registry.get(p) for p in providers] or [
        p for p in registry.all_providers() if any(a.browser for a in p.auth)
    ]
    name = BROWSER_NAMES[browser]
    # The profiles are the same for every provider: a browser without one is said once, not per provider.
    hint = (
        f"Open {name} once and log in to the sites, then run this again"
        + (" (AGENTGAUGE_FIREFOX_ROOT points at another profiles folder)" if browser == "firefox" else "")
        + "; `--profile` picks one profile, `agentgauge auth set PROVIDER` takes a value by hand."
    )
    try:
        found_profiles, problems = discover_profiles(Path.home(), os.environ, browser=browser, profile=profile)
    except BrowserError as exc:
        raise BrowserError(exc.message, hint=hint) from None
    if not found_profiles:
        raise BrowserError(problems[0].message if problems else f"{name}: no profile found", hint=hint)
    store = SecretStore()
    imported, failed = 0, list[BrowserError]()
    for provider in wanted:
        login = next((a.browser for a in provider.auth if a.browser), None)
        if login is None:
            click.echo(f"{provider.id}: has no web login to import", err=True)
            continue
        try:
            found = find_credentials(
                provider.id, login, browser=browser, profile=profile, home=Path.home(), env=os.environ
            )
        except BrowserError as exc:
            failed.append(exc)
            if len(wanted) > 1:  # with one provider its error is the command's error, said once below
                click.echo(f"{provider.id}: {exc.message}", err=True)
            continue
        secret = set(provider.secret_settings())
        values = {k: v for k, v in found.values.items() if k in secret and v}
        if not values:
            continue
        store.put(provider.id, account, values, origin=f"browser:{found.origin}", expires_at=found.expires_at)
        imported += 1
        expiry = found.expires_at.astimezone(UTC).strftime("%Y-%m-%d") if found.expires_at else "no known expiry"
        click.echo(f"{provider.id}: saved {', '.join(sorted(values))} from {found.origin} ({expiry})", err=True)
    if not imported:
        if len(wanted) == 1 and failed:
            raise failed[0]
        searched = ", ".join(p.label for p in found_profiles)
        raise ConfigError(
            f"nothing imported from {name}: no web login found in {searched}",
            hint=f"Log in to the sites in {name}, then run this again.",
        )


@auth.command("forget")
@click.argument("provider_id", metavar="PROVIDER", required=False)
@click.option("--account", default="default", show_default=True, help="Which account's entries to delete.")
@click.option(
    "--all", "every", is_flag=True, help="Every account of PROVIDER; without PROVIDER, every entry in the store."
)
def forget(provider_id: str | None, account: str, every: bool) -> None:
    """Delete stored credentials (works without the key, so a broken keyring can be recovered from)."""
    from ..credentials import SecretStore
    from ..providers import registry

    if provider_id is None and not every:
        raise click.UsageError("name a PROVIDER, or pass --all to empty the whole store")
    if provider_id is not None:
        provider_id = registry.get(provider_id).id
    removed = SecretStore().forget(provider_id, None if every else account)
    what = provider_id or "every provider"
    click.echo(f"forgot {removed} stored value(s) of {what}" + ("" if every else f" (account '{account}')"), err=True)


@auth.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (nothing else on stdout).")
@click.pass_obj
def status(state: Any, as_json: bool) -> None:
    """What credentials each provider account has and where they come from (never a value)."""
    from ..accounts import targets
    from ..credentials import ALERT_TARGETS, SecretStore, Vault
    from .commands import _print_json

    store = SecretStore()
    now = datetime.now(UTC)
    store_error = None
    try:
        config = state.config()
    except ConfigError as exc:  # an unreadable store must not hide the rest of the picture
        store_error = exc
        config = state.config(secrets=False)
    try:
        entries = store.metadata()
    except ConfigError as exc:
        store_error, entries = store_error or exc, []
    report: dict[str, Any] = {
        "secret_store": {
            "path": str(store.path),
            "exists": store.exists(),
            "key": store.key_kind(),
            "key_location": store.key_location(),
            "error": ({"message": store_error.message, "hint": store_error.hint} if store_error else None),
        },
        "accounts": [],
    }
    seen: set[tuple[str, str]] = set()
    vault = Vault(config)
    for target in targets(config, default_wanted=vault.has_credentials):
        provider, account = target.provider, target.account
        seen.add(target.key)
        checks = vault.check(provider, account)
        report["accounts"].append(
            {
                "provider": provider.id,
                "account": account.account,
                "enabled": account.enabled,
                "sources": [
                    {
                        "id": c.source_id,
                        "label": c.label,
                        "usable": c.usable,
                        "origin": c.origin,
                        "missing": list(c.missing),
                        "problem": c.problem,
                    }
                    for c in checks
                ],
                "stored": [_entry_json(e, now) for e in entries if (e.provider, e.account) == target.key],
            }
        )
    for key in sorted({(e.provider, e.account) for e in entries} - seen):
        report["accounts"].append(
            {
                "provider": key[0],
                "account": key[1],
                "enabled": None,
                "sources": [],
                "stored": [_entry_json(e, now) for e in entries if (e.provider, e.account) == key],
            }
        )
    if as_json:
        _print_json(report)
        return
    info = report["secret_store"]
    click.echo(
        f"secret store: {info['path']} ({'present' if info['exists'] else 'empty'}); key: {info['key_location']}"
    )
    if store_error:
        click.echo(f"  ✗ {store_error.message}\n    hint: {store_error.hint}")
    for row in report["accounts"]:
        usable = [s for s in row["sources"] if s["usable"]]
        mark = "✓" if usable or row["stored"] else "·"
        if row["provider"] == ALERT_TARGETS:  # not a provider: a target added on the dashboard's settings page
            click.echo(
                f"{mark} alert target '{row['account']}' (saved on the dashboard's settings page: manage it there)"
            )
        else:
            click.echo(f"{mark} {row['provider']} ({row['account']})")
        for source in row["sources"]:
            where = source["origin"] if source["usable"] else (source["problem"] or "not found")
            click.echo(f"    {'✓' if source['usable'] else '·'} {source['label']}: {where}")
        for entry in row["stored"]:
            click.echo(f"    stored {entry['setting']}: {entry['origin']}, saved {entry['age']}, {entry['expiry']}")


def _entry_json(entry: Entry, now: datetime) -> dict[str, Any]:
    return {
        "setting": entry.setting,
        "origin": entry.origin,
        "saved_at": entry.saved_at.isoformat(),
        "age": _age(entry.saved_at, now),
        "age_seconds": int((now - entry.saved_at).total_seconds()),
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
        "expired": entry.expired(now),
        "expiry": _expiry(entry, now),
    }

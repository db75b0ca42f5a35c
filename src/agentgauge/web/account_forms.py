"""What the settings page's account forms read and send: the provider catalog the forms are generated
from, one account as shown (secrets only as set / not set, where each value comes from, what is locked),
and the checks on what a form sends (``agentgauge.managed`` checks each value)."""

from __future__ import annotations

from typing import Any

from ..config import AccountConfig, Config
from ..errors import ConfigError
from ..managed import ManagedAccount, check_interval, check_value, set_by_config
from ..models import ProviderSnapshot
from ..providers import Provider, registry


def _source(origin: str) -> str:
    if origin.startswith("agentgauge secret store"):
        return "secret store"
    if origin.startswith("config file"):
        return "config file"
    return origin  # "environment variable NAME", "dashboard", "demo"


def lock_reason(provider: Provider, account: AccountConfig, name: str, config: Config) -> str | None:
    """Why the dashboard may not change this setting of this account, or None."""
    if set_by_config(account, name, config):
        return f"{name} is set in the {_source(account.origins.get(name, ''))}: change it there"
    if account.account == "default" and name in provider.urls:
        return f"{name} of the default account can only be set in the config file (logins found here follow it)"
    return None


def removable(account: AccountConfig, config: Config) -> bool:
    """A named account the config file or the environment does not define (the default always exists)."""
    return account.account != "default" and not any(set_by_config(account, n, config) for n in account.settings)


def describe(
    provider: Provider, account: AccountConfig, config: Config, row: ManagedAccount | None, shown: ProviderSnapshot
) -> dict[str, Any]:
    """One account for the settings page: settings (secrets only as set / not set), where they come from."""
    settings = []
    for spec in provider.settings:
        value = account.settings.get(spec.name)
        origin = account.origins.get(spec.name, "")
        item: dict[str, Any] = {
            "name": spec.name,
            "secret": spec.secret,
            "from": _source(origin) if value else None,
            "locked": lock_reason(provider, account, spec.name, config),
        }
        if spec.secret:
            item["set"] = bool(value)
        else:
            item["value"] = value or ""
        settings.append(item)
    return {
        "provider": provider.id,
        "account": account.account,
        "name": provider.name,
        "enabled": account.enabled,
        "disabled_here": row is not None and row.enabled is False,
        "refresh_interval": account.refresh_interval,
        "min_interval": provider.min_interval,
        "added_here": row is not None and row.added,
        "removable": removable(account, config),
        "settings": settings,
        "status": shown.status.value,
        "error": shown.error.model_dump(mode="json") if shown.error else None,
        "source_label": shown.source_label,
        "fetched_at": shown.fetched_at.isoformat() if shown.fetched_at else None,
    }


def catalog() -> list[dict[str, Any]]:
    """Every provider and its declared settings: what the add form is generated from."""
    return [
        {
            "id": p.id,
            "name": p.name,
            "docs_url": p.docs_url,
            "min_interval": p.min_interval,
            "sources": [a.label for a in p.auth],
            "settings": [
                {
                    "name": s.name,
                    "help": s.help,
                    "secret": s.secret,
                    "default": s.default,
                    "choices": list(s.choices),
                    "url": s.name in p.urls,
                }
                for s in p.settings
            ],
        }
        for p in registry.all_providers()
    ]


def split_settings(provider: Provider, values: Any) -> tuple[dict[str, str], dict[str, str | None]]:
    """(secret settings, non-secret settings) of a request; a non-secret ``None`` reverts it."""
    if values is None:
        return {}, {}
    if not isinstance(values, dict):
        raise ConfigError("'settings' must be an object of setting names and values")
    secret: dict[str, str] = {}
    plain: dict[str, str | None] = {}
    for name, value in values.items():
        spec = provider.setting_spec(str(name))
        if value is None and spec is not None and not spec.secret:
            plain[spec.name] = None
            continue
        if not isinstance(value, str):
            raise ConfigError(f"{provider.name} {name}: the value must be a string")
        text = check_value(provider, str(name), value)
        if spec is not None and spec.secret:
            if text:  # an empty secret field leaves the stored one as it is
                secret[spec.name] = text
        else:
            plain[str(name)] = text
    return secret, plain


def interval_of(provider: Provider, data: dict[str, Any]) -> float | None:
    raw = data.get("refresh_interval")
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
        raise ConfigError("'refresh_interval' must be a number of seconds, or null for the global one")
    return check_interval(provider, None if raw is None else float(raw))


def enabled_of(data: dict[str, Any]) -> bool | None:
    value = data.get("enabled")
    if value is not None and not isinstance(value, bool):
        raise ConfigError("'enabled' must be true, false or null (as configured)")
    return value

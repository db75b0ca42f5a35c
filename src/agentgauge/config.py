"""Settings: a TOML file in the platform config dir, overridden by ``AGENTGAUGE_*`` variables.

::

    refresh_interval = 300                 # seconds between scheduled refreshes (serve)
    database_url = "postgresql://..."      # default: SQLite in the platform data dir

    [providers.claude]                     # the provider's "default" account
    oauth_token = "$env:MY_CLAUDE_TOKEN"   # values may be $env:NAME, $file:PATH, $cmd:COMMAND

    [providers.codex.accounts.work]        # more accounts of one provider
    access_token = "$cmd:bw get password codex-work"
    account_id = "org-..."

Environment overrides apply to the default account and are named
``AGENTGAUGE_<PROVIDER>_<SETTING>``; secrets are never taken from argv.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from .errors import ConfigError

if TYPE_CHECKING:
    from .providers._base import Provider

APP = "agentgauge"
GLOBAL_KEYS = {
    "refresh_interval": "Seconds between scheduled refreshes of each account (serve); "
    "never below a provider's minimum.",
    "database_url": "Where history is kept: a SQLite path or sqlite:///path, or a postgresql:// URL.",
    "heartbeat_seconds": "A history sample is written at least this often even when nothing changed.",
    "history_raw_days": "Days raw samples are kept; hourly and daily rollups keep longer history.",
    "serve_token": "Access token for the web dashboard and API; required to bind off loopback.",
    "allowed_hosts": "Extra Host header names the server answers to (comma-separated).",
    "warn_pct": "Percent used from which a window shows amber (default 40).",
    "crit_pct": "Percent used above which a window shows red (default 70).",
}
ACCOUNT_KEYS = {"enabled": "Set false to turn this account off without deleting it."}


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def default_config_path() -> Path:
    return config_dir() / "config.toml"


@dataclass(frozen=True)
class AccountConfig:
    provider: str
    account: str
    enabled: bool = True
    settings: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)  # setting -> where it was set (never the value)
    explicit: bool = False  # named in the config file (shown even without credentials)
    expires_at: Mapping[str, datetime] = field(default_factory=dict)  # setting -> expiry of a stored value


@dataclass(frozen=True)
class Config:
    path: Path | None
    accounts: tuple[AccountConfig, ...]
    refresh_interval: float = 300.0
    heartbeat_seconds: float = 3600.0
    database_url: str | None = None
    history_raw_days: float = 14.0
    serve_token: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    warn_pct: float = 40.0
    crit_pct: float = 70.0
    env: Mapping[str, str] = field(default_factory=dict)
    home: Path = field(default_factory=Path.home)

    def account(self, provider: str, account: str = "default") -> AccountConfig | None:
        return next((a for a in self.accounts if a.provider == provider and a.account == account), None)


def resolve_ref(value: str, *, env: Mapping[str, str], home: Path, what: str) -> str:
    """Resolve a ``$env:NAME``, ``$file:PATH`` or ``$cmd:COMMAND`` reference; plain values pass through."""
    if value.startswith("$env:"):
        name = value[5:].strip()
        if name not in env:
            raise ConfigError(f"{what}: environment variable {name} is not set")
        return env[name]
    if value.startswith("$file:"):
        raw = value[6:].strip()
        path = Path(raw.replace("~", str(home), 1)) if raw.startswith("~") else Path(raw)
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{what}: cannot read {path}: {exc.strerror}") from None
    if value.startswith("$cmd:"):
        command = value[5:].strip()
        try:
            done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"{what}: command '{shlex.split(command)[0]}' failed: {type(exc).__name__}") from None
        if done.returncode != 0:
            raise ConfigError(f"{what}: command '{shlex.split(command)[0]}' exited with {done.returncode}")
        return done.stdout.strip()
    return value


def _as_setting(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ConfigError(f"{where}: expected a string or number, got {type(value).__name__}")


def _check_keys(provider: Provider, table: Mapping[str, Any], where: str) -> None:
    known = {s.name for s in provider.settings} | set(ACCOUNT_KEYS) | {"accounts"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known - {'accounts'}))}"
        )


def _truthy(value: str) -> bool:
    return value.strip().lower() not in ("false", "0", "no", "off")


def _stored_secrets() -> dict[str, dict[str, dict[str, Any]]]:
    """Secret-store entries as provider -> account -> setting -> entry (secret settings only).

    The key (keyring or key file) is touched only when the store file exists, so machines that
    never ran ``agentgauge auth`` never see a keyring prompt.
    """
    from .providers import registry

    if not (data_dir() / "secrets.json").exists():
        return {}  # nothing stored: do not load the cryptography stack at all
    from .secretstore import SecretStore

    store = SecretStore()
    if not store.exists():
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for entry in store.entries():
        try:
            spec = registry.get(entry.provider).setting_spec(entry.setting)
        except ConfigError:
            continue  # a provider no longer installed: its entries stay in the store, unused
        if spec is not None and spec.secret:
            out.setdefault(entry.provider, {}).setdefault(entry.account, {})[entry.setting] = entry
    return out


def _merge_stored(settings: dict[str, str], origins: dict[str, str],
                  entries: Mapping[str, Any]) -> dict[str, datetime]:
    """Stored secrets fill the settings the config file and environment left unset (those win)."""
    if not entries:
        return {}
    from .secretstore import store_origin

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


def load(path: Path | None = None, *, env: Mapping[str, str] | None = None, home: Path | None = None,
         providers: bool = True, secrets: bool = True) -> Config:
    """Load the config file (if any) and apply environment overrides. ``providers=False`` skips the
    provider accounts (and importing every provider) for commands that only need global settings.
    Secret settings left unset are then filled from agentgauge's secret store (``secrets=False``
    skips it, for ``auth`` commands that must work while the store is unreadable)."""
    env = dict(os.environ if env is None else env)
    home = home or Path.home()
    explicit_path = path is not None or "AGENTGAUGE_CONFIG" in env
    path = path or Path(env.get("AGENTGAUGE_CONFIG") or default_config_path())
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    elif explicit_path:
        raise ConfigError(f"config file {path} does not exist")

    unknown = sorted(set(data) - set(GLOBAL_KEYS) - {"providers"})
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {', '.join(unknown)}")
    providers_table = data.get("providers", {})
    if not isinstance(providers_table, dict):
        raise ConfigError(f"{path}: [providers] must be a table")

    accounts: list[AccountConfig] = []
    if providers:
        from .providers import registry

        all_providers = registry.all_providers()
    else:
        all_providers = []
    stored_by_account = _stored_secrets() if providers and secrets else {}
    for provider in all_providers:
        table = providers_table.get(provider.id, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [providers.{provider.id}] must be a table")
        _check_keys(provider, table, f"[providers.{provider.id}]")
        base = {k: _as_setting(v, f"providers.{provider.id}.{k}") for k, v in table.items() if k != "accounts"}
        origins = {k: f"config file {path}" for k in base}
        for setting in provider.settings:
            var = setting.env_var(provider.id)
            if env.get(var):
                base[setting.name] = env[var]
                origins[setting.name] = f"environment variable {var}"
        enabled_var = f"AGENTGAUGE_{provider.id.upper()}_ENABLED"
        if env.get(enabled_var):
            base["enabled"] = env[enabled_var]
        default_enabled = _truthy(base.pop("enabled", "true"))
        origins.pop("enabled", None)
        stored = stored_by_account.get(provider.id, {})
        default_expiry = _merge_stored(base, origins, stored.pop("default", {}))
        accounts.append(AccountConfig(provider.id, "default", default_enabled, base, origins,
                                      explicit=provider.id in providers_table, expires_at=default_expiry))
        named = table.get("accounts", {})
        if not isinstance(named, dict):
            raise ConfigError(f"{path}: [providers.{provider.id}.accounts] must be a table of accounts")
        shared = {k: v for k, v in table.items()
                  if k != "accounts" and not (provider.setting_spec(k) and provider.setting_spec(k).secret)}
        for name, sub in named.items():
            if not isinstance(sub, dict):
                raise ConfigError(f"{path}: [providers.{provider.id}.accounts.{name}] must be a table")
            if name == "default":
                raise ConfigError(f"{path}: account name 'default' is reserved; use [providers.{provider.id}]")
            _check_keys(provider, sub, f"[providers.{provider.id}.accounts.{name}]")
            merged = {k: _as_setting(v, f"providers.{provider.id}.accounts.{name}.{k}")
                      for k, v in {**shared, **sub}.items()}
            enabled = _truthy(merged.pop("enabled", "true"))
            named_origins = {k: f"config file {path}" for k in merged}
            expiry = _merge_stored(merged, named_origins, stored.pop(str(name), {}))
            accounts.append(AccountConfig(provider.id, str(name), enabled, merged, named_origins, explicit=True,
                                          expires_at=expiry))
        # Accounts created by `agentgauge auth set --account NAME` exist without a config entry.
        for name, entries in sorted(stored.items()):
            merged = {k: _as_setting(v, f"providers.{provider.id}.{k}") for k, v in shared.items()
                      if k != "enabled"}
            named_origins = {k: f"config file {path}" for k in merged}
            expiry = _merge_stored(merged, named_origins, entries)
            accounts.append(AccountConfig(provider.id, name, True, merged, named_origins, explicit=True,
                                          expires_at=expiry))

    def number(key: str, default: float) -> float:
        raw = env.get(f"AGENTGAUGE_{key.upper()}", data.get(key, default))
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number of seconds, got {raw!r}") from None
        if value <= 0:
            raise ConfigError(f"{key} must be positive")
        return value

    return Config(
        path=path if path.exists() else None,
        accounts=tuple(accounts),
        refresh_interval=number("refresh_interval", 300.0),
        heartbeat_seconds=number("heartbeat_seconds", 3600.0),
        database_url=env.get("AGENTGAUGE_DATABASE_URL") or data.get("database_url"),
        history_raw_days=number("history_raw_days", 14.0),
        serve_token=env.get("AGENTGAUGE_SERVE_TOKEN") or data.get("serve_token"),
        allowed_hosts=tuple(h.strip().lower() for h in
                            str(env.get("AGENTGAUGE_ALLOWED_HOSTS") or data.get("allowed_hosts") or "").split(",")
                            if h.strip()),
        warn_pct=number("warn_pct", 40.0),
        crit_pct=number("crit_pct", 70.0),
        env=env,
        home=home,
    )

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

import difflib
import os
import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .alert_settings import AlertSettings, StatusPages, parse_alerts, parse_status_pages
from .errors import ConfigError
from .paths import APP, config_dir, data_dir, default_config_path

if TYPE_CHECKING:
    from .providers import Provider

__all__ = ["APP", "AccountConfig", "Config", "config_dir", "data_dir", "default_config_path", "load", "resolve_ref"]
GLOBAL_KEYS = {
    "refresh_interval": "Seconds between scheduled refreshes of each account (serve); "
    "never below a provider's minimum.",
    "refresh": "'interval' (serve refreshes every refresh_interval) or 'on-demand' (nothing is fetched in the "
    "background: opening the dashboard, status, /api/refresh, an agent or the browser extension fetch).",
    "host_concurrency": "Requests at once to one upstream host (serve refreshing many accounts; default 16): "
    "the others wait their turn, and the wait does not count against the fetch timeout (docs/deploy.md).",
    "database_url": "Where history is kept: a SQLite path or sqlite:///path, or a postgresql:// URL.",
    "heartbeat_seconds": "A history sample is written at least this often even when nothing changed.",
    "history_raw_days": "Days raw samples are kept; hourly and daily rollups keep longer history.",
    "serve_token": "Access token for the web dashboard and API; to bind off loopback, this or auth = 'users'.",
    "auth": "'single' (default: one person; open on loopback, or the access token) or 'users' (sign-in with "
    "user accounts, roles and API keys; the first start prints a one-time setup code; docs/users.md).",
    "allowed_hosts": "Extra Host header names the server answers to (comma-separated).",
    "warn_pct": "Percent used from which a window shows amber (default 40).",
    "crit_pct": "Percent used above which a window shows red (default 70).",
    "impersonate": "Browser TLS profile for Cloudflare-fronted web logins (default: the pinned Chrome "
    "profile), or 'off' (docs/tls.md).",
    "mcp_refresh": "Let MCP clients ask for a refresh (the refresh tool; gated like every fetch). Default false.",
    "alerts": "Alert rules and delivery targets ([alerts], docs/alerts.md); the variable takes apprise URLs, or 'off'.",
    "status_pages": "Check providers' status pages for incidents (default on; 'off', or a [status_pages] table).",
    "budgets": "Monthly spend budget per agent in USD, from local logs ([budgets] claude = 200; "
    "AGENTGAUGE_BUDGET_<AGENT>=200, or AGENTGAUGE_BUDGETS='claude=200,codex=50'): the dashboard forecasts the "
    "month and a 'budget' alert fires when the forecast crosses it.",
}
ACCOUNT_KEYS = {"enabled": "Set false to turn this account off without deleting it."}


@dataclass(frozen=True)
class AccountConfig:
    provider: str
    account: str
    enabled: bool = True
    settings: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)  # setting -> where it was set (never the value)
    explicit: bool = False  # named in the config file (shown even without credentials)
    expires_at: Mapping[str, datetime] = field(default_factory=dict)  # setting -> expiry of a stored value
    refresh_interval: float | None = None  # seconds between scheduled refreshes; None: the global one


@dataclass(frozen=True)
class Config:
    path: Path | None
    accounts: tuple[AccountConfig, ...]
    refresh_interval: float = 300.0
    refresh: str = "interval"  # or "on-demand": no scheduled fetches (REFRESH_MODES)
    host_concurrency: int = 16  # requests at once per upstream host (agentgauge.upstream)
    heartbeat_seconds: float = 3600.0
    database_url: str | None = None
    history_raw_days: float = 14.0
    serve_token: str | None = None
    auth: str = "single"  # or "users": sign-in with user accounts (AUTH_MODES, docs/users.md)
    allowed_hosts: tuple[str, ...] = ()
    warn_pct: float = 40.0
    crit_pct: float = 70.0
    # Non-secret settings of each provider's table, shared by its named accounts (and by accounts
    # that exist only in the secret store).
    shared: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    impersonate: str = ""  # "" = the pinned default profile; "off" = plain httpx
    alerts: AlertSettings = field(default_factory=AlertSettings)
    status_pages: StatusPages = field(default_factory=StatusPages)  # off unless loaded from settings
    mcp_refresh: bool = False  # the MCP server offers its refresh tool (docs/agents.md)
    budgets: Mapping[str, float] = field(default_factory=dict)  # agent id -> USD per calendar month
    env: Mapping[str, str] = field(default_factory=dict)
    home: Path = field(default_factory=Path.home)

    @property
    def on_demand(self) -> bool:
        return self.refresh == "on-demand"

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


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _check_keys(provider: Provider, table: Mapping[str, Any], where: str) -> None:
    known = {s.name for s in provider.settings} | set(ACCOUNT_KEYS) | {"accounts"}
    unknown = sorted(set(table) - known)
    if unknown:
        settable = sorted(known - {"accounts"})
        raise ConfigError(
            f"{where}: unknown setting(s) {', '.join(unknown)}{_did_you_mean(unknown[0], settable)}",
            hint=f"{provider.name} settings: {', '.join(settable)} (`agentgauge providers` and "
            f"docs/providers/{provider.id}.md describe them).",
        )


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _enabled(value: str, where: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(
        f"{where}: enabled must be true or false, got {value!r}",
        hint="Write `enabled = false` to turn the account off (or true), or remove the line.",
    )


_AGENT_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def _budgets(env: Mapping[str, str], data: Mapping[str, Any], path: Path) -> dict[str, float]:
    """``[budgets]`` (agent = USD a month), overridden by ``AGENTGAUGE_BUDGETS`` ("claude=200,codex=50")
    and then by ``AGENTGAUGE_BUDGET_<AGENT>``; 0 removes an agent's budget."""
    hint = f"budgets: {GLOBAL_KEYS['budgets']}"
    raw: list[tuple[str, str, Any]] = []
    table = data.get("budgets", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [budgets] must be a table of agent = USD per month", hint=hint)
    raw += [(str(k), f"{path} [budgets]", v) for k, v in table.items()]
    for part in (env.get("AGENTGAUGE_BUDGETS") or "").split(","):
        if part.strip():
            name, _, value = part.partition("=")
            raw.append((name, "environment variable AGENTGAUGE_BUDGETS", value))
    raw += [
        (k[len("AGENTGAUGE_BUDGET_") :], f"environment variable {k}", v)
        for k, v in sorted(env.items())
        if k.startswith("AGENTGAUGE_BUDGET_")
    ]
    out: dict[str, float] = {}
    for name, where, value in raw:
        agent = name.strip().lower()
        if not _AGENT_NAME.match(agent):
            raise ConfigError(f"{where}: {name!r} is not an agent id (as in `agentgauge cost --agent`)", hint=hint)
        try:
            usd = float(value) if not isinstance(value, bool) else float("nan")
        except (TypeError, ValueError):
            usd = float("nan")
        if not 0 <= usd < float("inf"):  # also nan
            raise ConfigError(f"{where}: the budget of {agent} must be a number of USD (0 or more), got {value!r}")
        out[agent] = usd
    return {a: v for a, v in out.items() if v > 0}


REFRESH_MODES = ("interval", "on-demand")


def _refresh_mode(env: Mapping[str, str], data: Mapping[str, Any], path: Path) -> str:
    """``refresh``: "interval" (default) or "on-demand" ("ondemand" and "on_demand" too)."""
    var = "AGENTGAUGE_REFRESH"
    raw = env.get(var) or data.get("refresh") or "interval"
    where = f"environment variable {var}" if env.get(var) else str(path)
    mode = str(raw).strip().lower().replace("_", "-")
    mode = "on-demand" if mode == "ondemand" else mode
    if mode not in REFRESH_MODES:
        raise ConfigError(
            f"{where}: refresh must be 'interval' or 'on-demand', got {raw!r}{_did_you_mean(mode, REFRESH_MODES)}",
            hint=f"refresh: {GLOBAL_KEYS['refresh']}",
        )
    return mode


AUTH_MODES = ("single", "users")


def _auth_mode(env: Mapping[str, str], data: Mapping[str, Any], path: Path) -> str:
    """``auth``: "single" (default) or "users"."""
    var = "AGENTGAUGE_AUTH"
    raw = env.get(var) or data.get("auth") or "single"
    where = f"environment variable {var}" if env.get(var) else str(path)
    mode = str(raw).strip().lower()
    if mode not in AUTH_MODES:
        raise ConfigError(
            f"{where}: auth must be 'single' or 'users', got {raw!r}{_did_you_mean(mode, AUTH_MODES)}",
            hint=f"auth: {GLOBAL_KEYS['auth']}",
        )
    return mode


def _host_concurrency(env: Mapping[str, str], data: Mapping[str, Any], path: Path) -> int:
    """``host_concurrency``: a whole number from 1 (one request at a time per host) up."""
    var = "AGENTGAUGE_HOST_CONCURRENCY"
    raw = env.get(var) or data.get("host_concurrency", 16)
    where = f"environment variable {var}" if env.get(var) else str(path)
    text = str(raw).strip()
    if isinstance(raw, bool) or not text.isdigit() or int(text) < 1:
        raise ConfigError(
            f"{where}: host_concurrency must be a whole number of 1 or more, got {raw!r}",
            hint=f"host_concurrency: {GLOBAL_KEYS['host_concurrency']}",
        )
    return int(text)


def _is_secret(provider: Provider, name: str) -> bool:
    spec = provider.setting_spec(name)
    return bool(spec and spec.secret)


def _check_choices(provider: Provider, settings: Mapping[str, str], origins: Mapping[str, str]) -> None:
    """A setting with a fixed set of values (a region...) is checked at load, not at the first fetch."""
    for spec in provider.settings:
        value = settings.get(spec.name)
        if spec.choices and value and value.strip().lower() not in spec.choices:
            where = origins.get(spec.name, "config")
            raise ConfigError(
                f"{provider.name}: {spec.name} {value!r} (from {where}) is not one of {', '.join(spec.choices)}",
                hint=f"Set {spec.env_var(provider.id)} or `{spec.name}` in [providers.{provider.id}] "
                f"to one of: {', '.join(spec.choices)}.",
            )


def load(
    path: Path | None = None, *, env: Mapping[str, str] | None = None, home: Path | None = None, providers: bool = True
) -> Config:
    """Load the config file (if any) and apply environment overrides. ``providers=False`` skips the
    provider accounts (and importing every provider) for commands that only need global settings.
    Secrets saved with ``agentgauge auth`` are merged in by ``agentgauge.credentials.with_stored``."""
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
        raise ConfigError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)}{_did_you_mean(unknown[0], GLOBAL_KEYS)}",
            hint=f"Top-level keys: {', '.join(GLOBAL_KEYS)}; provider settings go in [providers.<id>].",
        )
    providers_table = data.get("providers", {})
    if not isinstance(providers_table, dict):
        raise ConfigError(f"{path}: [providers] must be a table")

    accounts: list[AccountConfig] = []
    shared_by_provider: dict[str, dict[str, str]] = {}
    if providers:
        from .providers import registry

        all_providers = registry.all_providers()
        for name in providers_table:
            if name not in registry.ids():
                raise ConfigError(
                    f"{path}: [providers.{name}] names no provider ({registry.suggest(name)})",
                    hint="`agentgauge providers` lists every provider id.",
                )
    else:
        all_providers = []
    for provider in all_providers:
        table = providers_table.get(provider.id, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [providers.{provider.id}] must be a table")
        where = f"{path} [providers.{provider.id}]"
        _check_keys(provider, table, where)
        base = {k: _as_setting(v, f"providers.{provider.id}.{k}") for k, v in table.items() if k != "accounts"}
        origins = {k: f"config file {path}" for k in base}
        for setting in provider.settings:
            var = setting.env_var(provider.id)
            if env.get(var):
                base[setting.name] = env[var]
                origins[setting.name] = f"environment variable {var}"
            elif not base.get(setting.name):
                alias = next((name for name in setting.env if (env.get(name) or "").strip()), None)
                if alias:  # the ecosystem's own variable (OPENROUTER_API_KEY...)
                    base[setting.name] = env[alias].strip()
                    origins[setting.name] = f"environment variable {alias}"
        enabled_var = f"AGENTGAUGE_{provider.id.upper()}_ENABLED"
        if env.get(enabled_var):
            base["enabled"] = env[enabled_var]
            origins["enabled"] = f"environment variable {enabled_var}"
        enabled_from = origins.pop("enabled", where)  # the file's table, or the variable that set it
        default_enabled = _enabled(
            base.pop("enabled", "true"), where if enabled_from.startswith("config") else enabled_from
        )
        _check_choices(provider, base, origins)
        accounts.append(
            AccountConfig(
                provider.id, "default", default_enabled, base, origins, explicit=provider.id in providers_table
            )
        )
        named = table.get("accounts", {})
        if not isinstance(named, dict):
            raise ConfigError(f"{path}: [providers.{provider.id}.accounts] must be a table of accounts")
        shared = {
            k: _as_setting(v, f"providers.{provider.id}.{k}")
            for k, v in table.items()
            if k not in ("accounts", "enabled") and not _is_secret(provider, k)
        }
        shared_by_provider[provider.id] = shared
        for name, sub in named.items():
            sub_where = f"{path} [providers.{provider.id}.accounts.{name}]"
            if not isinstance(sub, dict):
                raise ConfigError(f"{sub_where} must be a table")
            if name == "default":
                raise ConfigError(f"{path}: account name 'default' is reserved; use [providers.{provider.id}]")
            _check_keys(provider, sub, sub_where)
            merged = {
                **shared,
                **{k: _as_setting(v, f"providers.{provider.id}.accounts.{name}.{k}") for k, v in sub.items()},
            }
            enabled = _enabled(merged.pop("enabled", "true"), sub_where)
            named_origins = {k: f"config file {path}" for k in merged}
            _check_choices(provider, merged, named_origins)
            accounts.append(AccountConfig(provider.id, str(name), enabled, merged, named_origins, explicit=True))

    def number(key: str, default: float) -> float:
        var = f"AGENTGAUGE_{key.upper()}"
        where = f"environment variable {var}" if var in env else f"{path}" if key in data else "default"
        raw = env.get(var, data.get(key, default))
        wanted = (
            "a percentage above 0"
            if key.endswith("_pct")
            else f"a positive number of {'days' if key.endswith('_days') else 'seconds'}"
        )
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = float("nan")
        if not value > 0 or value == float("inf"):  # also nan
            raise ConfigError(
                f"{where}: {key} must be {wanted}, got {raw!r}",
                hint=f"{key}: {GLOBAL_KEYS[key]}",
            )
        return value

    warn_pct, crit_pct = number("warn_pct", 40.0), number("crit_pct", 70.0)
    refresh = _refresh_mode(env, data, path)
    status_pages = parse_status_pages(data.get("status_pages"), env.get("AGENTGAUGE_STATUS_PAGES"))
    if refresh == "on-demand" and "status_pages" not in data and not (env.get("AGENTGAUGE_STATUS_PAGES") or "").strip():
        status_pages = replace(status_pages, enabled=False)  # on demand means no background requests at all
    if not warn_pct < crit_pct <= 100:
        raise ConfigError(
            f"thresholds out of order: warn_pct ({warn_pct:g}) must be below crit_pct ({crit_pct:g}), "
            "and crit_pct at most 100",
            hint="The defaults are warn_pct = 40 and crit_pct = 70 (percent used).",
        )
    return Config(
        path=path if path.exists() else None,
        accounts=tuple(accounts),
        shared=shared_by_provider,
        refresh_interval=number("refresh_interval", 300.0),
        refresh=refresh,
        host_concurrency=_host_concurrency(env, data, path),
        heartbeat_seconds=number("heartbeat_seconds", 3600.0),
        database_url=env.get("AGENTGAUGE_DATABASE_URL") or data.get("database_url"),
        history_raw_days=number("history_raw_days", 14.0),
        serve_token=env.get("AGENTGAUGE_SERVE_TOKEN") or data.get("serve_token"),
        auth=_auth_mode(env, data, path),
        allowed_hosts=tuple(
            h.strip().lower()
            for h in str(env.get("AGENTGAUGE_ALLOWED_HOSTS") or data.get("allowed_hosts") or "").split(",")
            if h.strip()
        ),
        warn_pct=warn_pct,
        crit_pct=crit_pct,
        impersonate=str(env.get("AGENTGAUGE_IMPERSONATE") or data.get("impersonate") or "").strip(),
        alerts=parse_alerts(
            data.get("alerts"), env.get("AGENTGAUGE_ALERTS"), [p.id for p in all_providers] if providers else None
        ),
        status_pages=status_pages,
        budgets=_budgets(env, data, path),
        mcp_refresh=str(env.get("AGENTGAUGE_MCP_REFRESH") or data.get("mcp_refresh", False)).strip().lower() in _TRUE,
        env=env,
        home=home,
    )

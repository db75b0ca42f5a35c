"""``agentgauge doctor``: where settings come from, whether the database and the secret store work,
and what each provider still needs. Exit codes: 0 at least one account can be fetched, 2 the
config, the database or the secret store has a problem, 3 nothing is configured."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ..accounts import targets
from ..config import AccountConfig, Config, data_dir, default_config_path, load
from ..credentials import SecretStore, SourceCheck, Vault, with_stored
from ..errors import AgentGaugeError
from ..providers import Provider


def _problem(console: Console, what: str, exc: AgentGaugeError) -> None:
    console.print(Text(f"  ✗ {what}: {exc.message}", style="red"))
    console.print(Text(f"    hint: {exc.hint}", style="yellow"))


def _shown_url(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return url


def _database(console: Console, config: Config) -> bool:
    """Open the store as every command does (it names the path and the fix when it cannot) and
    report its health."""
    from ..store import open_store

    shown = _shown_url(config.database_url or str(data_dir() / "agentgauge.db"))
    try:
        store = open_store(config.database_url, data_dir=data_dir())
    except AgentGaugeError as exc:
        _problem(console, "database", exc)
        return False
    try:
        health = store.health()
    finally:
        store.close()
    if health.status != "ok":
        console.print(Text(f"  ✗ database: {shown}: {health.last_error or 'degraded'}", style="red"))
        return False
    console.print(f"  database: {shown} (opens and answers)")
    return True


def _secret_store(console: Console, problem: AgentGaugeError | None) -> bool:
    """Where the secret store and its key live, and each entry's age and expiry (never a value)."""
    store = SecretStore()
    try:
        entries = store.metadata()
        where = store.key_location()
    except AgentGaugeError as exc:
        entries, where, problem = [], "unknown", problem or exc
    state = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}" if store.exists() else "empty"
    console.print(f"  secret store: {store.path} ({state}); its key: {where}")
    now = datetime.now(UTC)
    for entry in entries:
        age = now - entry.saved_at
        expiry = (
            "no known expiry"
            if entry.expires_at is None
            else f"{'expired' if entry.expired(now) else 'expires'} {entry.expires_at:%Y-%m-%d %H:%M} UTC"
        )
        console.print(
            f"    {entry.provider} ({entry.account}) {entry.setting}: {entry.origin}, "
            f"saved {age.days} d {age.seconds // 3600} h ago, {expiry}"
        )
    if problem is not None:
        _problem(console, "secret store", problem)
    return problem is None


def _origin(origin: str | None) -> str:
    """ "environment variable A, environment variable B" -> "environment variables A and B"."""
    parts = [p.strip() for p in (origin or "").split(", ") if p.strip()]
    prefix = "environment variable "
    if len(parts) > 1 and all(p.startswith(prefix) for p in parts):
        names = [p.removeprefix(prefix) for p in parts]
        return f"environment variables {', '.join(names[:-1])} and {names[-1]}"
    return ", ".join(parts) or "the config"


def _variables(provider: Provider, account: AccountConfig, names: Sequence[str]) -> list[str]:
    """Where settings go: the default account's variables (with the ecosystem's own), a named
    account's table keys (variables apply to the default account only)."""
    if account.account != "default":
        return [f"`{name}` in [providers.{provider.id}.accounts.{account.account}]" for name in names]
    shown = []
    for spec in provider.settings:
        if spec.name in names:
            aliases = f" (or {', '.join(spec.env)})" if spec.env else ""
            shown.append(spec.env_var(provider.id) + aliases)
    return shown


def _not_usable(provider: Provider, account: AccountConfig, check: SourceCheck, checks: Sequence[SourceCheck]) -> str:
    """Why a source cannot be used, and what would make it usable (a variable named by an earlier
    line of the same account is not repeated)."""
    sources = {a.id: a for a in provider.auth}
    source = sources[check.source_id]
    earlier = checks[: checks.index(check)]
    if not check.missing:  # set, but to the value an earlier source already uses
        same = next((c for c in earlier if sources[c.source_id].requires == source.requires), None)
        if same is not None:
            return f"the same setting as {same.label} above"
    named = {v for c in earlier for v in _variables(provider, account, c.missing)}
    fresh = [v for v in _variables(provider, account, check.missing) if v not in named]
    looked = []
    if account.account == "default" and source.discover is not None:
        looked.append("not found on this machine")
    if account.account == "default" and source.browser is not None:
        looked.append(f"no {source.browser.label} login in a browser")
    reason = check.problem or "; ".join(looked)
    if not fresh:
        return reason or "not set"
    settable = " and ".join(fresh)
    return f"{reason}; or set {settable}" if reason else f"not set: {settable}"


def _accounts(console: Console, config: Config) -> int:
    """Each account's sources; returns how many accounts have a usable one."""
    usable_accounts = 0
    vault = Vault(config)
    for target in targets(config, default_wanted=vault.has_credentials):
        provider, account = target.provider, target.account
        title = provider.name + (f" ({account.account})" if account.account != "default" else "")
        if not account.enabled:
            console.print(Text(f"○ {title}: disabled in the config", style="dim"))
            continue
        checks = vault.check(provider, account)
        usable = [c for c in checks if c.usable]
        usable_accounts += bool(usable)
        console.print(Text(f"{'✓' if usable else '✗'} {title}", style="green" if usable else "red"))
        for check in checks:
            if check.usable:
                console.print(f"    ✓ {check.label}: from {_origin(check.origin)}")
            else:
                reason = _not_usable(provider, account, check, checks)
                console.print(Text(f"    · {check.label}: {reason}", style="dim"))
        if not usable and checks:
            console.print(Text(f"    hint: {checks[0].hint}", style="yellow"))
        console.print(f"    polled at most every {provider.min_interval:g} s")
    return usable_accounts


def run_doctor(config_path: Path | None) -> int:
    console = Console()
    if not console.is_terminal:
        console = Console(soft_wrap=True)  # piped: whole lines, never cut at 80 columns
    path = config_path or default_config_path()
    try:
        config = load(config_path)
    except AgentGaugeError as exc:
        console.print(Text(f"✗ config: {exc.message}", style="red"))
        console.print(Text(f"  hint: {exc.hint}", style="yellow"))
        return 2
    store_problem: AgentGaugeError | None = None
    try:
        config = with_stored(config)
    except AgentGaugeError as exc:  # an unreadable secret store is reported below; the rest still runs
        store_problem = exc
    console.print(Text("agentgauge doctor", style="bold"))
    state = "found" if config.path else "not present: defaults and environment only"
    console.print(f"  config file: {path} ({state})")
    database_ok = _database(console, config)
    secrets_ok = _secret_store(console, store_problem)
    console.print()
    usable_accounts = _accounts(console, config)
    if not database_ok or not secrets_ok:
        return 2
    if not usable_accounts:
        console.print(
            Text(
                "\nNo provider has credentials yet. `agentgauge status --demo` shows what you will get.", style="yellow"
            )
        )
        return 3
    return 0

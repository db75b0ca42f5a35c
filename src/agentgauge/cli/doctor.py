"""``agentgauge doctor``: where settings come from and what each provider still needs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.text import Text

from .. import auth
from ..accounts import targets
from ..config import data_dir, default_config_path, load
from ..errors import AgentGaugeError
from ..secretstore import SecretStore


def _secret_store(console: Console, problem: AgentGaugeError | None) -> None:
    """Where the secret store and its key live, and each entry's age and expiry (never a value)."""
    store = SecretStore()
    try:
        entries = store.metadata()
        where = store.key_location()
    except AgentGaugeError as exc:
        entries, where, problem = [], "unknown", problem or exc
    state = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}" if store.exists() else "empty"
    console.print(f"  secret store: {store.path} ({state}); key: {where}")
    now = datetime.now(UTC)
    for entry in entries:
        age = now - entry.saved_at
        expiry = ("no known expiry" if entry.expires_at is None else
                  f"{'expired' if entry.expired(now) else 'expires'} {entry.expires_at:%Y-%m-%d %H:%M} UTC")
        console.print(f"    {entry.provider} ({entry.account}) {entry.setting}: {entry.origin}, "
                      f"saved {age.days} d {age.seconds // 3600} h ago, {expiry}")
    if problem is not None:
        console.print(Text(f"  ✗ secret store: {problem.message}", style="red"))
        console.print(Text(f"    hint: {problem.hint}", style="yellow"))


def run_doctor(config_path: Path | None) -> int:
    console = Console()
    path = config_path or default_config_path()
    store_problem: AgentGaugeError | None = None
    try:
        config = load(config_path)
    except AgentGaugeError as exc:
        try:  # an unreadable secret store is reported below; the rest of the checks still run
            config = load(config_path, secrets=False)
            store_problem = exc
        except AgentGaugeError:
            console.print(Text(f"✗ config: {exc.message}", style="red"))
            console.print(Text(f"  hint: {exc.hint}", style="yellow"))
            return 2
    console.print(Text("agentgauge doctor", style="bold"))
    state = "found" if config.path else "not present (defaults and environment only)"
    console.print(f"  config file: {path} ({state})")
    database = config.database_url or str(data_dir() / "agentgauge.db")
    if "@" in database and "://" in database:  # never echo a password from a database URL
        scheme, rest = database.split("://", 1)
        database = f"{scheme}://***@{rest.split('@', 1)[1]}"
    console.print(f"  database: {database}")
    _secret_store(console, store_problem)
    console.print()
    usable_accounts = 0
    for target in targets(config):
        provider, account = target.provider, target.account
        title = provider.name + (f" ({account.account})" if account.account != "default" else "")
        if not account.enabled:
            console.print(Text(f"○ {title}: disabled in the config", style="dim"))
            continue
        checks = auth.check_sources(provider, account, config)
        usable = [c for c in checks if c.usable]
        usable_accounts += bool(usable)
        console.print(Text(f"{'✓' if usable else '✗'} {title}", style="green" if usable else "red"))
        for check in checks:
            if check.usable:
                console.print(f"    ✓ {check.label}: from {check.origin}")
            else:
                wanted = ", ".join(
                    s.env_var(provider.id) for s in provider.settings if s.name in check.missing
                )
                reason = check.problem or f"not set ({wanted})" if wanted or check.problem else "not found"
                console.print(Text(f"    · {check.label}: {reason}", style="dim"))
        if not usable:
            console.print(Text(f"    hint: {checks[0].hint if checks else ''}", style="yellow"))
        console.print(f"    minimum poll interval: {provider.min_interval:g} s")
    if not usable_accounts:
        console.print(Text("\nNo provider has credentials yet. `agentgauge status --demo` shows what you "
                           "will get.", style="yellow"))
        return 3
    return 0

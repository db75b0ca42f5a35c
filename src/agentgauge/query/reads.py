"""The read layer's implementation (``agentgauge.query`` re-exports it lazily, see there).

Reads never fetch upstream and never run credential discovery (a read must not open a browser
profile): they show what the engine stored. ``Query.sources`` is the one deliberate exception,
for the commands that exist to diagnose credentials (``providers``, ``doctor``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from ..accounts import Target, targets
from ..config import AccountConfig, Config
from ..errors import StoreUnavailableError
from ..incidents import max_age as incident_max_age
from ..incidents import read_open
from ..models import ErrorInfo, ErrorKind, Incident, ProviderSnapshot, Snapshot, Status, Window, evolve, utc_iso
from ..providers import Provider
from ..store import Store
from .history import history
from .views import seed_data

__all__ = ["Query", "health", "next_reset", "placeholder", "settle_resets", "sources"]


def _has_direct(provider: Provider, account: AccountConfig) -> bool:
    return any(all(account.settings.get(n) for n in source.requires) for source in provider.auth)


def placeholder(target: Target) -> ProviderSnapshot:
    """What an account looks like before the engine's first pass: waiting for its first fetch when a
    credential is set directly, else not configured (discovery is the engine's job, not a read's)."""
    provider, account = target.provider, target.account
    base = ProviderSnapshot(
        provider=provider.id, account=account.account, name=provider.name, status=Status.UNCONFIGURED
    )
    if not account.enabled:
        return evolve(base, status=Status.DISABLED)
    if _has_direct(provider, account):
        return evolve(base, status=Status.STALE)
    hint = provider.auth[0].hint if provider.auth else ""
    return evolve(
        base, error=ErrorInfo(kind=ErrorKind.AUTH, message=f"{provider.name}: no credentials found", hint=hint)
    )


def settle_resets(account: ProviderSnapshot, now: datetime) -> ProviderSnapshot:
    """A window whose reset time has passed shows 0 % ("reset, confirming...") until a fetch
    confirms the new cycle, never the old number."""
    if not any(w.resets_at is not None and w.resets_at <= now and not w.reset_pending for w in account.windows):
        return account
    windows: list[Window] = []
    for w in account.windows:
        if w.resets_at is not None and w.resets_at <= now and not w.reset_pending:
            w = evolve(w, used_pct=0.0, used=0.0 if w.used is not None else None, reset_pending=True, forecast=None)
        windows.append(w)
    return evolve(account, windows=tuple(windows))


def next_reset(snapshot: Snapshot) -> datetime | None:
    """The earliest window reset still ahead in ``snapshot`` (when a view must be settled again)."""
    times = [w.resets_at for p in snapshot.providers for w in p.windows if w.resets_at and not w.reset_pending]
    return min(times, default=None)


def health(snapshot: Snapshot, store_health: dict[str, Any] | None = None) -> dict[str, Any]:
    active = [p for p in snapshot.providers if p.status not in (Status.UNCONFIGURED, Status.DISABLED)]
    degraded = any(p.status in (Status.STALE, Status.ERROR) for p in active)
    store_ok = store_health is None or store_health.get("status") == "ok"
    return {
        "status": "degraded" if degraded or not store_ok else "ok",
        "store": store_health,
        "accounts": [
            {
                "provider": p.provider,
                "account": p.account,
                "status": p.status.value,
                "last_success_at": utc_iso(p.last_success_at),
                "failing_since": utc_iso(p.failing_since),
                "error_kind": p.error.kind.value if p.error else None,
            }
            for p in snapshot.providers
        ],
    }


class Query:
    def __init__(self, config: Config, store: Store, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))
        self._incidents: dict[str, Incident] | None = None  # provider -> open incident

    def targets(self, only: Iterable[str] | None = None) -> list[Target]:
        """Configured accounts; a provider's ``default`` beside named ones only when it holds data."""
        states = self.store.states()

        def default_wanted(provider: Provider, account: AccountConfig) -> bool:
            state = states.get((provider.id, account.account))
            stored = state is not None and state.snapshot is not None and state.snapshot.status != Status.UNCONFIGURED
            return stored or _has_direct(provider, account)

        return targets(self.config, only, default_wanted=default_wanted)

    def usage(self, only: Iterable[str] | None = None) -> Snapshot:
        states = self.store.states()
        self._incidents = None  # a full read renews them too
        now = self.clock()
        rows = []
        wanted = set(only or ())
        chosen = self.targets(sorted(wanted) or None)
        for target in chosen:
            state = states.get(target.key)
            row = state.snapshot if state and state.snapshot else placeholder(target)
            rows.append(self.with_incident(settle_resets(row, now)))
        # On a hub, the accounts machines pushed (agentgauge.hub): stored, never configured here.
        configured = {t.key for t in chosen}
        for key, state in sorted(states.items()):
            pushed = state.snapshot
            if pushed is not None and pushed.machine and key not in configured and (not wanted or key[0] in wanted):
                rows.append(self.with_incident(settle_resets(pushed, now)))
        return Snapshot(generated_at=now, providers=tuple(rows))

    def settle(self, snapshot: Snapshot) -> Snapshot:
        now = self.clock()
        return Snapshot(
            generated_at=snapshot.generated_at,
            providers=tuple(self.with_incident(settle_resets(p, now)) for p in snapshot.providers),
        )

    # -- provider incidents (the server's status-page checks) ------------------------------------
    def incidents(self) -> dict[str, Incident]:
        """The open incident per provider. Read once, then kept until ``usage()`` or ``set_incidents``
        renews it: settling a view (on the server's event loop) must not wait for the database."""
        if self._incidents is None:
            try:
                found = read_open(self.store, self.clock(), incident_max_age(self.config))
            except StoreUnavailableError:
                return {}
            self._incidents = {provider: opened.incident for provider, opened in found.items()}
        return self._incidents

    def set_incidents(self, incidents: Mapping[str, Incident]) -> None:
        self._incidents = dict(incidents)

    def with_incident(self, account: ProviderSnapshot) -> ProviderSnapshot:
        incident = self.incidents().get(account.provider)
        return account if account.incident == incident else evolve(account, incident=incident)

    def history(
        self,
        provider: str,
        account: str,
        window: str | None,
        since: datetime,
        until: datetime,
        points: int,
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return history(self.store, provider, account, window, since, until, points, labels)

    def store_health(self) -> dict[str, Any] | None:
        probe = getattr(self.store, "health", None)
        if probe is None:
            return None
        result = probe()
        return result.to_json() if hasattr(result, "to_json") else dict(result)

    def health(self, snapshot: Snapshot) -> dict[str, Any]:
        return health(snapshot, self.store_health())

    def cost_summary(self, tz: tzinfo | None = None) -> dict[str, Any]:
        """Estimated spend today / 7 d / 30 d from the local-log index (the engine's chore keeps it current)."""
        from ..logs.report import cost_summary

        return cost_summary(self.store, now=self.clock(), tz=tz or datetime.now().astimezone().tzinfo or UTC)

    def seed_data(self, snapshot: Snapshot, next_refresh_at: datetime | None) -> dict[str, Any]:
        return seed_data(self.settle(snapshot), now=self.clock(), next_refresh_at=next_refresh_at)


def sources(config: Config, only: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Each account's credential sources: usable or not, and from where (never a value). This
    runs discovery (files, maybe a browser profile): only for the commands that diagnose it."""
    from ..credentials import Vault

    vault = Vault(config)
    rows = []
    for target in targets(config, only, default_wanted=vault.has_credentials):
        checks = vault.check(target.provider, target.account)
        usable = next((c for c in checks if c.usable), None)
        rows.append(
            {
                "provider": target.provider.id,
                "name": target.provider.name,
                "account": target.account.account,
                "enabled": target.account.enabled,
                "configured": usable is not None,
                "source": usable.source_id if usable else None,
                "source_label": usable.label if usable else None,
                "origin": usable.origin if usable else None,
                "min_interval_seconds": target.provider.min_interval,
                "checks": checks,
            }
        )
    return rows

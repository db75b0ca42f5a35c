"""The one read layer every surface uses: the CLI, the web pages, the API and later ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from . import auth
from .accounts import Target, targets
from .config import Config
from .models import ErrorInfo, ErrorKind, ProviderSnapshot, Snapshot, Status, evolve
from .store import Store


def placeholder(target: Target, config: Config) -> ProviderSnapshot:
    """What an account looks like before its first fetch."""
    provider, account = target.provider, target.account
    base = ProviderSnapshot(provider=provider.id, account=account.account, name=provider.name,
                            status=Status.UNCONFIGURED)
    if not account.enabled:
        return evolve(base, **{"status": Status.DISABLED})
    checks = auth.check_sources(provider, account, config)
    usable = next((c for c in checks if c.usable), None)
    if usable is None:
        hint = provider.auth[0].hint if provider.auth else ""
        return evolve(base, **{"error": ErrorInfo(kind=ErrorKind.AUTH,
                                                          message=f"{provider.name}: no credentials found",
                                                          hint=hint)})
    return evolve(base, **{"status": Status.STALE})


class Query:
    def __init__(self, config: Config, store: Store, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    def usage(self, only: Iterable[str] | None = None) -> Snapshot:
        states = self.store.states()
        rows = []
        for target in targets(self.config, only):
            state = states.get(target.key)
            rows.append(state.snapshot if state and state.snapshot else placeholder(target, self.config))
        return Snapshot(generated_at=self.clock(), providers=tuple(rows))

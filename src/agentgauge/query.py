"""The one read layer every surface uses: the CLI, the web pages, the API and later ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from . import auth
from .accounts import Target, targets
from .config import Config
from .models import ErrorInfo, ErrorKind, ProviderSnapshot, Snapshot, Status, evolve, utc_iso
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


RAW_MAX_SPAN = 2 * 86400  # up to two days reads raw samples; longer ranges read rollups
HOURLY_MAX_SPAN = 90 * 86400


def downsample(rows: list[tuple[int, float]], points: int, since: int, until: int) -> list[tuple[int, float]]:
    """At most ``points`` values: equal time buckets, each keeping its peak (what a limit chart needs)."""
    if len(rows) <= points:
        return rows
    width = max(1, (until - since) / points)
    out: dict[int, tuple[int, float]] = {}
    for ts, pct in rows:
        index = min(points - 1, int((ts - since) / width))
        best = out.get(index)
        if best is None or pct > best[1]:
            out[index] = (ts, pct)
    return [out[i] for i in sorted(out)]


def history(store: Store, provider: str, account: str, window: str | None, since: datetime, until: datetime,
            points: int, labels: dict[str, str] | None = None) -> dict:
    """The history of one account's windows, from raw samples or rollups by span, at most ``points`` each."""
    span = (until - since).total_seconds()
    resolution = "raw" if span <= RAW_MAX_SPAN else "hourly" if span <= HOURLY_MAX_SPAN else "daily"
    windows = [window] if window else store.windows_of(provider, account)
    series = []
    lo, hi = int(since.timestamp()), int(until.timestamp())
    for window_id in windows:
        if resolution == "raw":
            rows = [(s.ts, s.used_pct) for s in store.samples(provider, account, window_id, since, until)]
        else:
            rows = store.rollups(provider, account, window_id, since, until, resolution)
        rows = downsample(rows, points, lo, hi)
        series.append({"window": window_id, "label": (labels or {}).get(window_id, window_id),
                       "t": [t for t, _ in rows], "used_pct": [p for _, p in rows]})
    return {"provider": provider, "account": account, "since": utc_iso(since), "until": utc_iso(until),
            "resolution": resolution, "series": series}


def health(snapshot: Snapshot) -> dict:
    active = [p for p in snapshot.providers if p.status not in (Status.UNCONFIGURED, Status.DISABLED)]
    degraded = any(p.status in (Status.STALE, Status.ERROR) for p in active)
    return {
        "status": "degraded" if degraded else "ok",
        "accounts": [
            {"provider": p.provider, "account": p.account, "status": p.status.value,
             "last_success_at": utc_iso(p.last_success_at), "error_kind": p.error.kind.value if p.error else None}
            for p in snapshot.providers
        ],
    }


def seed_data(snapshot: Snapshot, *, now: datetime, next_refresh_at: datetime | None) -> dict:
    """The ``/api/data`` shape of seed 000 (AgentsUsageDashboard), so its Stream Deck plugin and
    scripts work unchanged: one key per provider (``provider`` or ``provider:account`` for extra
    accounts) with ``session``/``weekly`` as ``{usage_pct, remaining_seconds}``."""
    out: dict[str, object] = {}
    for p in snapshot.providers:
        if p.status in (Status.UNCONFIGURED, Status.DISABLED):
            continue
        key = p.provider if p.account == "default" else f"{p.provider}:{p.account}"
        entry: dict[str, object] = {"status": p.status.value, "plan": p.plan,
                                    "error": p.error.message if p.error else None,
                                    "last_success": utc_iso(p.last_success_at)}
        for name in ("session", "weekly"):
            w = p.window(name)
            if w is None and name == "session":  # seed semantics: the shortest window stands in
                w = min((x for x in p.windows if x.window_seconds), key=lambda x: x.window_seconds or 0,
                        default=None)
            if w is not None:
                remaining = int((w.resets_at - now).total_seconds()) if w.resets_at else None
                entry[name] = {"usage_pct": w.used_pct,
                               "remaining_seconds": max(0, remaining) if remaining is not None else None}
        out[key] = entry
    out["last_fetch"] = utc_iso(max((p.fetched_at for p in snapshot.providers if p.fetched_at), default=None))
    out["next_refresh_at"] = utc_iso(next_refresh_at)
    return out

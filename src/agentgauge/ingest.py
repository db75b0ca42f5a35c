"""Push ingest: usage that arrives from outside instead of from a fetch (Claude Code's status line now;
the browser extension and the team hub next).

A push is stored like a fetch (the account's state, history samples, a forecast) and holds the
account's polling gate for ``PUSH_FRESH``, so the scheduler does not ask upstream for what was just
handed over; once a push is older than that, the scheduler fetches as usual. Newest wins: a push
older than the stored data (from any source) is ignored, and so is one older than ``PUSH_FRESH``.
Windows the push does not carry keep their last known values (Claude Code's status line knows
the session and weekly windows, not the per-model ones).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .analytics import forecast_account
from .config import Config
from .errors import ConfigError, ParseError, StoreUnavailableError
from .models import ProviderSnapshot, Status, Usage, Window
from .providers import registry
from .store import Store

log = logging.getLogger("agentgauge.ingest")

PUSH_FRESH = timedelta(minutes=15)  # how long pushed data stands in for a fetch (CodexBar's statusline feed too)
MAX_CLOCK_SKEW = timedelta(minutes=5)  # a push stamped later than now by more than this is refused
SOURCE_LABELS = {"statusline": "Claude Code status line", "extension": "browser extension"}
_lock = threading.Lock()  # one ingest at a time per process: check-then-write stays consistent


@dataclass(frozen=True)
class Ingested:
    accepted: bool
    reason: str  # why it was not taken, or "stored"
    snapshot: ProviderSnapshot | None  # what the account holds afterwards


def _merged(previous: ProviderSnapshot | None, pushed: tuple[Window, ...]) -> tuple[Window, ...]:
    """The pushed windows, in the previous order where they replace one, then the others kept."""
    if previous is None:
        return pushed
    by_id = {w.id: w for w in pushed}
    kept = tuple(by_id.pop(w.id, w) for w in previous.windows)
    return kept + tuple(by_id.values())


def ingest(
    store: Store,
    config: Config,
    provider_id: str,
    account: str,
    usage: Usage,
    source: str,
    received_at: datetime,
    *,
    now: datetime | None = None,
) -> Ingested:
    """Store pushed ``usage`` for one configured account as of ``received_at`` (aware datetime).
    Raises ConfigError for an unknown provider or account, ParseError for a push without a window,
    StoreUnavailableError when the database cannot be written."""
    provider = registry.get(provider_id)
    target = config.account(provider_id, account)
    if target is None:
        raise ConfigError(f"{provider.name}: no account '{account}' is configured")
    if not usage.windows:
        raise ParseError(f"{provider.name}: the pushed usage holds no window")
    if not target.enabled:
        return Ingested(False, "the account is disabled", None)
    now = now or datetime.now(UTC)
    if received_at < now - PUSH_FRESH:
        return Ingested(False, f"older than {int(PUSH_FRESH.total_seconds() // 60)} minutes", None)
    if received_at > now + MAX_CLOCK_SKEW:
        return Ingested(False, "stamped in the future", None)
    received_at = min(received_at, now)
    with _lock:
        state = store.state(provider_id, account)
        previous = state.snapshot if state else None
        data_time = previous.last_success_at if previous else None
        # Stored times keep whole seconds: a push within the second of the stored data is the later
        # word (a status line redraws several times a second when numbers change), so it wins.
        if data_time is not None and data_time > received_at.replace(microsecond=0):
            return Ingested(False, "newer data is stored", previous)
        snapshot = ProviderSnapshot(
            provider=provider.id,
            account=account,
            name=provider.name,
            status=Status.OK,
            plan=usage.plan or (previous.plan if previous else None),
            source=source,
            source_label=SOURCE_LABELS.get(source, source),
            windows=_merged(previous, usage.windows),
            balances=usage.balances or (previous.balances if previous else ()),
            breakdowns=usage.breakdowns or (previous.breakdowns if previous else ()),
            warnings=usage.warnings,
            fetched_at=received_at,
            last_success_at=received_at,
        )
        store.record_samples(snapshot, received_at, config.heartbeat_seconds)
        try:
            snapshot = forecast_account(store, snapshot, received_at)
        except StoreUnavailableError:
            pass  # the data is still good; the forecast comes with the next push or fetch
        except Exception:
            log.error("forecast failed for %s/%s", provider.id, account, exc_info=True)
        # Never earlier than the gate already set (Retry-After, back-off, a fetch in flight); the
        # failure count stays: a push says nothing about whether upstream works again.
        gate = max(state.next_allowed_at if state else 0.0, (received_at + PUSH_FRESH).timestamp())
        store.save_state(snapshot, next_allowed_at=gate, failures=state.failures if state else 0)
    return Ingested(True, "stored", snapshot)

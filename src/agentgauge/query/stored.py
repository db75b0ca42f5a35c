"""Accounts as stored, read without pydantic: the CLI's fast paths (``guard``, ``pick``, ``statusline``).

The snapshot models cost more to import than these commands may take in all, so the stored JSON
is read with the standard library's json into named tuples that carry what those surfaces show and
that satisfy ``query.agents``' protocols (``dataclasses`` and ``orjson`` each cost a status line
about 10 ms of imports: bench/agents.py). Reads settle passed resets the way ``query.settle_resets`` does: a
window whose reset time has passed shows 0 % ("reset, confirming...") until a fetch confirms it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ..kinds import Status

if TYPE_CHECKING:
    from ..store import Store


class StoredForecast(NamedTuple):
    verdict: str
    runs_out_at: datetime | None
    expected_pct: float | None


class StoredWindow(NamedTuple):
    id: str
    label: str
    used_pct: float
    resets_at: datetime | None
    window_seconds: int | None
    unlimited: bool
    reset_pending: bool
    forecast: StoredForecast | None


class StoredError(NamedTuple):
    kind: str
    message: str
    hint: str


class StoredAccount(NamedTuple):
    provider: str
    account: str
    name: str
    status: Status
    plan: str | None
    source: str | None
    source_label: str | None
    windows: tuple[StoredWindow, ...]
    fetched_at: datetime | None
    last_success_at: datetime | None
    error: StoredError | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.account)


class StoredSnapshot(NamedTuple):
    generated_at: datetime
    providers: tuple[StoredAccount, ...]


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _window(raw: dict[str, Any], now: datetime) -> StoredWindow:
    resets_at = _time(raw.get("resets_at"))
    f = raw.get("forecast")
    forecast = (
        StoredForecast(str(f.get("verdict")), _time(f.get("runs_out_at")), f.get("expected_pct"))
        if isinstance(f, dict)
        else None
    )
    used, pending = float(raw.get("used_pct") or 0.0), bool(raw.get("reset_pending"))
    if resets_at is not None and resets_at <= now and not pending:
        used, pending, forecast = 0.0, True, None
    return StoredWindow(
        id=str(raw["id"]),
        label=str(raw.get("label") or raw["id"]),
        used_pct=used,
        resets_at=resets_at,
        window_seconds=raw.get("window_seconds"),
        unlimited=bool(raw.get("unlimited")),
        reset_pending=pending,
        forecast=forecast,
    )


def parse_account(payload: str | bytes, now: datetime) -> StoredAccount:
    """One stored snapshot row (``ProviderSnapshot`` JSON), settled at ``now``."""
    raw = json.loads(payload)
    error = raw.get("error")
    return StoredAccount(
        provider=raw["provider"],
        account=raw.get("account") or "default",
        name=raw.get("name") or raw["provider"],
        status=Status(raw["status"]),
        plan=raw.get("plan"),
        source=raw.get("source"),
        source_label=raw.get("source_label"),
        windows=tuple(_window(w, now) for w in raw.get("windows") or ()),
        fetched_at=_time(raw.get("fetched_at")),
        last_success_at=_time(raw.get("last_success_at")),
        error=StoredError(error["kind"], error["message"], error.get("hint", "")) if isinstance(error, dict) else None,
    )


def read(store: Store, now: datetime, providers: Iterable[str] = ()) -> StoredSnapshot:
    """Every stored account (of ``providers``, when given), ordered by provider and account."""
    wanted = tuple(providers)
    sql = "SELECT snapshot FROM account_state WHERE snapshot IS NOT NULL"
    if wanted:
        sql += f" AND provider IN ({', '.join('?' * len(wanted))})"
    rows = store.query(sql + " ORDER BY provider, account", wanted)
    return StoredSnapshot(generated_at=now, providers=tuple(parse_account(r[0], now) for r in rows))

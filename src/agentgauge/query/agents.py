"""What agents ask before dispatching work: which account has the most headroom (``pick``, aimo's
rule: the least-used tightest window wins), and is this one still safe to use (``guard``, CodexBar's
exit codes). One implementation for the CLI, the HTTP API, MCP and the status lines.

It reads accounts through the protocols below, which the snapshot models satisfy and so do the
lean stored views of ``query.stored`` (the CLI's fast path, without pydantic): importing this
module must stay cheap (no dataclasses, no pydantic).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol

from ..kinds import Status

GUARD_SAFE, GUARD_BELOW, GUARD_UNAVAILABLE = 0, 1, 69  # CodexBar's `guard` exit codes
USABLE = (Status.OK, Status.STALE)


class ForecastLike(Protocol):
    @property
    def verdict(self) -> str: ...
    @property
    def runs_out_at(self) -> datetime | None: ...


class WindowLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def used_pct(self) -> float: ...
    @property
    def resets_at(self) -> datetime | None: ...
    @property
    def unlimited(self) -> bool: ...
    @property
    def forecast(self) -> ForecastLike | None: ...


class ErrorLike(Protocol):
    @property
    def message(self) -> str: ...


class AccountLike(Protocol):
    """What pick and guard read of an account (``models.ProviderSnapshot`` or ``stored.StoredAccount``)."""

    @property
    def provider(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def windows(self) -> Sequence[WindowLike]: ...
    @property
    def fetched_at(self) -> datetime | None: ...
    @property
    def last_success_at(self) -> datetime | None: ...
    @property
    def error(self) -> ErrorLike | None: ...


class SnapshotLike(Protocol):
    @property
    def providers(self) -> Sequence[AccountLike]: ...


def utc_iso(value: datetime | None) -> str | None:
    """``models.utc_iso`` (ISO-8601 UTC, seconds, ``Z``), here so this module needs no pydantic."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def window_for(account: AccountLike, which: str = "tightest") -> WindowLike | None:
    """``session``/``weekly``/any window id, or ``tightest``: the most-used window that counts
    (unlimited windows never do; a reset-pending window shows 0 %)."""
    windows = [w for w in account.windows if not w.unlimited]
    if which != "tightest":
        return next((w for w in windows if w.id == which), None)
    return max(windows, key=lambda w: w.used_pct, default=None)


class Headroom(NamedTuple):
    provider: str
    account: str
    name: str
    status: str
    window: str | None
    window_label: str | None
    used_pct: float | None
    headroom_pct: float | None
    resets_at: datetime | None
    fetched_at: datetime | None
    verdict: str | None
    runs_out_at: datetime | None
    lasts: bool | None  # for ``hours``: True when the forecast says it lasts that long

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "account": self.account,
            "name": self.name,
            "status": self.status,
            "window": self.window,
            "window_label": self.window_label,
            "used_pct": self.used_pct,
            "headroom_pct": self.headroom_pct,
            "resets_at": utc_iso(self.resets_at),
            "fetched_at": utc_iso(self.fetched_at),
            "verdict": self.verdict,
            "runs_out_at": utc_iso(self.runs_out_at),
            "lasts": self.lasts,
        }


def _lasts(account: AccountLike, hours: float, now: datetime) -> bool:
    """Every window with a forecast keeps below 100 % for ``hours`` (or resets before then)."""
    horizon = now + timedelta(hours=hours)
    for w in account.windows:
        if w.unlimited:
            continue
        if w.used_pct >= 100.0 and (w.resets_at is None or w.resets_at > now):
            return False
        f = w.forecast
        if f is not None and f.runs_out_at is not None and f.runs_out_at <= horizon:
            return False
    return True


def headroom(account: AccountLike, now: datetime, hours: float | None = None) -> Headroom:
    w = window_for(account)
    f = w.forecast if w is not None else None
    return Headroom(
        provider=account.provider,
        account=account.account,
        name=account.name,
        status=account.status.value,
        window=w.id if w else None,
        window_label=w.label if w else None,
        used_pct=w.used_pct if w else None,
        headroom_pct=round(max(0.0, 100.0 - w.used_pct), 2) if w else None,
        resets_at=w.resets_at if w else None,
        fetched_at=account.fetched_at,
        verdict=f.verdict if f else None,
        runs_out_at=f.runs_out_at if f else None,
        lasts=_lasts(account, hours, now) if hours is not None else None,
    )


def pick(
    snapshot: SnapshotLike,
    now: datetime,
    *,
    providers: Iterable[str] = (),
    include_stale: bool = False,
    hours: float | None = None,
) -> list[Headroom]:
    """Accounts ranked by headroom on their tightest window, most first. Stale and error accounts
    are left out unless ``include_stale`` (then ranked after fresh ones); with ``hours``, accounts
    whose forecast runs out within that time come after the ones that last."""
    wanted = set(providers)
    rows = []
    for account in snapshot.providers:
        if wanted and account.provider not in wanted:
            continue
        if account.status not in USABLE or not account.windows:
            continue
        if account.status == Status.STALE and not include_stale:
            continue
        rows.append(headroom(account, now, hours))
    rows.sort(key=lambda h: (h.status != Status.OK.value, h.lasts is False, -(h.headroom_pct or 0.0)))
    return rows


def pick_report(
    snapshot: SnapshotLike,
    now: datetime,
    *,
    providers: Iterable[str] = (),
    include_stale: bool = False,
    hours: float | None = None,
) -> dict[str, Any]:
    """``pick`` as every surface answers it (``agentgauge pick --json``, ``GET /api/pick``, MCP's
    ``pick_provider``): the choice, the ranking, and the accounts left out with the reason."""
    wanted = set(providers)
    ranked = pick(snapshot, now, providers=wanted, include_stale=include_stale, hours=hours)
    chosen = {(h.provider, h.account) for h in ranked}
    excluded = []
    for account in snapshot.providers:
        if (wanted and account.provider not in wanted) or (account.provider, account.account) in chosen:
            continue
        if account.status in (Status.UNCONFIGURED, Status.DISABLED):
            continue  # not in use: not worth a line
        if account.status == Status.STALE and account.windows:
            reason = "stale (pass include_stale to rank it)"
        elif account.error is not None:
            reason = account.error.message
        else:
            reason = f"no usable window (status {account.status.value})"
        excluded.append({"provider": account.provider, "account": account.account, "reason": reason})
    return {
        "generated_at": utc_iso(now),
        "hours": hours,
        "choice": ranked[0].to_json() if ranked else None,
        "ranked": [h.to_json() for h in ranked],
        "excluded": excluded,
    }


class GuardResult(NamedTuple):
    code: int
    message: str
    remaining_pct: float | None
    window: str | None
    unavailable: bool = False  # no fresh-enough data (the code is 0 with fail-open, 69 without)

    @property
    def verdict(self) -> str:
        if self.unavailable:
            return "unavailable"
        return {GUARD_SAFE: "safe", GUARD_BELOW: "below", GUARD_UNAVAILABLE: "unavailable"}[self.code]

    def report(self, provider: str, account: str, min_remaining: float) -> dict[str, Any]:
        """What ``guard --json`` prints: the question asked and the decision."""
        return {"provider": provider, "account": account, "min_remaining_pct": min_remaining, **self.to_json()}

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "exit_code": self.code,
            "remaining_pct": self.remaining_pct,
            "window": self.window,
            "message": self.message,
        }


def guard(
    snapshot: SnapshotLike,
    provider: str,
    *,
    min_remaining: float,
    account: str = "default",
    window: str = "tightest",
    now: datetime,
    max_age: timedelta = timedelta(hours=1),
    fail_open: bool = False,
) -> GuardResult:
    """Is ``provider``/``account`` still safe to use: at least ``min_remaining`` % left on ``window``?
    Unavailable (69) when there is no fresh-enough data; ``fail_open`` turns that into safe (0)."""

    def unavailable(reason: str) -> GuardResult:
        code = GUARD_SAFE if fail_open else GUARD_UNAVAILABLE
        suffix = " (fail-open: allowed)" if fail_open else ""
        return GuardResult(code, reason + suffix, None, None, unavailable=True)

    row = next((p for p in snapshot.providers if p.provider == provider and p.account == account), None)
    if row is None:
        return unavailable(f"{provider}/{account}: no such account is configured")
    if row.status not in USABLE or not row.windows:
        why = row.error.message if row.error else f"status {row.status.value}"
        return unavailable(f"{provider}/{account}: no usable data ({why})")
    if row.fetched_at is None or (row.last_success_at or row.fetched_at) < now - max_age:
        return unavailable(f"{provider}/{account}: the last good data is older than {max_age}")
    chosen = window_for(row, window)
    if chosen is None:
        return unavailable(f"{provider}/{account}: no window '{window}'")
    remaining = round(max(0.0, 100.0 - chosen.used_pct), 2)
    if remaining < min_remaining:
        return GuardResult(
            GUARD_BELOW,
            f"{provider}/{account}: {remaining:g} % left on {chosen.label}, below {min_remaining:g} %",
            remaining,
            chosen.id,
        )
    return GuardResult(
        GUARD_SAFE, f"{provider}/{account}: {remaining:g} % left on {chosen.label}", remaining, chosen.id
    )

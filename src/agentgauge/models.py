"""The usage snapshot: agentgauge's one normalized shape (see docs/snapshot.md).

Every provider adapter turns its upstream response into these types; nothing past
the adapter sees a provider's raw fields. The CLI's ``--json``, the HTTP API, the
history store and every later surface are views of :class:`Snapshot`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from .kinds import ErrorKind, Status

__all__ = [
    "SCHEMA",
    "Balance",
    "Breakdown",
    "BreakdownItem",
    "ErrorInfo",
    "ErrorKind",
    "Incident",
    "ProviderSnapshot",
    "Snapshot",
    "Status",
    "Usage",
    "Window",
    "evolve",
    "utc_iso",
]

# v2 added balances, breakdowns, warnings, source_label, failing_since, machine/seen_from and the
# window flags ``unlimited``/``reset_pending`` (docs/snapshot.md lists the changes).
SCHEMA = "agentgauge.snapshot.v2"
_M = TypeVar("_M", bound=BaseModel)


def utc_iso(value: datetime | None) -> str | None:
    """Render an aware datetime as ISO-8601 UTC with a ``Z`` suffix (seconds precision)."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _whole_seconds(value: datetime | None) -> datetime | None:
    """Times are kept to the second, in UTC, so what is stored reads back identical."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Forecast(_Frozen):
    """Where a window will stand at its reset (docs/forecast.md). ``pace_pct`` is where linear pace
    would put usage now (the dashboard's pace marker); ``pace`` is used / that. The interval
    ``low_pct``-``high_pct`` is p10-p90 of the usage at the reset (uncapped: it measures demand);
    ``runs_out_at`` is the expected time of reaching 100 %, set when that is before the reset."""

    verdict: str  # ok | watch | will_run_out | surplus | learning
    pace_pct: float
    pace: float | None = None
    low_pct: float | None = None
    expected_pct: float | None = None
    high_pct: float | None = None
    runs_out_at: datetime | None = None
    rate_pct_per_hour: float | None = None
    made_at: datetime

    _norm_times = field_validator("runs_out_at", "made_at")(_whole_seconds)

    @field_serializer("runs_out_at", "made_at")
    def _ser_times(self, value: datetime | None) -> str | None:
        return utc_iso(value)


class Window(_Frozen):
    """One usage window (a 5-hour session, a weekly cap, a monthly credit pool...)."""

    id: str
    label: str
    used_pct: float
    resets_at: datetime | None = None
    window_seconds: int | None = None
    used: float | None = None
    limit: float | None = None
    unit: str | None = None
    # The plan has no cap on this meter (Warp "Unlimited"): shown as unlimited, never as 0 %.
    unlimited: bool = False
    # ``resets_at`` has passed and no fetch has confirmed the new cycle yet: shown as 0 % used
    # ("reset, confirming...") rather than the old number. Set by the query layer, never stored.
    reset_pending: bool = False
    forecast: Forecast | None = None  # from stored history when new data arrives (never from a parse)

    _norm_resets_at = field_validator("resets_at")(_whole_seconds)

    @field_serializer("resets_at")
    def _ser_resets_at(self, value: datetime | None) -> str | None:
        return utc_iso(value)


class Balance(_Frozen):
    """Money or credits that are what they are, not a percent window: a prepaid balance, a key's
    spending limit, a credit block. ``remaining``/``used``/``limit`` are in ``unit`` (``usd``,
    ``credits``...); ``period`` names the cycle a limit applies to (``monthly``, ``daily``), if any."""

    id: str
    label: str
    unit: str
    remaining: float | None = None
    used: float | None = None
    limit: float | None = None
    period: str | None = None
    resets_at: datetime | None = None
    expires_at: datetime | None = None
    unlimited: bool = False

    _norm_times = field_validator("resets_at", "expires_at")(_whole_seconds)

    @field_serializer("resets_at", "expires_at")
    def _ser_times(self, value: datetime | None) -> str | None:
        return utc_iso(value)


class BreakdownItem(_Frozen):
    key: str
    value: float
    label: str | None = None
    limit: float | None = None


class Breakdown(_Frozen):
    """A provider's own split of a meter: tokens per day (Codex), calls per tool (z.ai)."""

    id: str
    label: str
    unit: str | None = None
    items: tuple[BreakdownItem, ...] = ()


class ErrorInfo(_Frozen):
    kind: ErrorKind
    message: str
    hint: str


class Incident(_Frozen):
    """An open incident (or maintenance in progress) on the provider's status page, set by the query
    layer from the server's status-page checks (never stored with an account; docs/snapshot.md)."""

    status: str  # the page's word: investigating | identified | monitoring | in_progress | degraded ...
    impact: str  # none | minor | major | critical | maintenance
    title: str
    url: str | None = None
    started_at: datetime | None = None

    _norm_started = field_validator("started_at")(_whole_seconds)

    @field_serializer("started_at")
    def _ser_started(self, value: datetime | None) -> str | None:
        return utc_iso(value)


class ProviderSnapshot(_Frozen):
    """The state of one provider account as every surface shows it."""

    provider: str
    account: str = "default"
    name: str
    status: Status
    plan: str | None = None
    source: str | None = None
    source_label: str | None = None  # the source in words: "Claude Code login", "browser cookie (Firefox)"
    windows: tuple[Window, ...] = ()
    balances: tuple[Balance, ...] = ()
    breakdowns: tuple[Breakdown, ...] = ()
    fetched_at: datetime | None = None
    last_success_at: datetime | None = None
    failing_since: datetime | None = None  # the first failure of the current run of failures
    error: ErrorInfo | None = None
    # Parts of an otherwise good response that did not parse (upstream drift): the rest is shown.
    warnings: tuple[ErrorInfo, ...] = ()
    incident: Incident | None = None  # an open incident on the provider's status page (query layer)
    note: str | None = None  # the provider's word on its data when it has none yet ("no data yet")
    # On a hub (docs/hub.md): the machine whose push is shown, and every machine that pushes this
    # account (one account seen from several machines is merged by its fingerprint). None/() for
    # accounts this server fetches itself.
    machine: str | None = None
    seen_from: tuple[str, ...] = ()

    _norm_times = field_validator("fetched_at", "last_success_at", "failing_since")(_whole_seconds)

    @field_serializer("fetched_at", "last_success_at", "failing_since")
    def _ser_times(self, value: datetime | None) -> str | None:
        return utc_iso(value)

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, self.account)

    def window(self, window_id: str) -> Window | None:
        return next((w for w in self.windows if w.id == window_id), None)


class Snapshot(_Frozen):
    schema_: str = Field(default=SCHEMA, alias="schema")
    generated_at: datetime
    providers: tuple[ProviderSnapshot, ...] = ()

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    _norm_generated = field_validator("generated_at")(_whole_seconds)

    @field_serializer("generated_at")
    def _ser_generated(self, value: datetime) -> str | None:
        return utc_iso(value)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class Usage(_Frozen):
    """What a provider's pure ``parse`` returns: the upstream facts, already normalized."""

    windows: tuple[Window, ...] = ()
    plan: str | None = None
    balances: tuple[Balance, ...] = ()
    breakdowns: tuple[Breakdown, ...] = ()
    warnings: tuple[ErrorInfo, ...] = ()  # windows/fields that did not parse while others did
    # The source answered but has nothing to show yet ("no quota data yet: use AI Assistant once"):
    # an ok account with a note, not an error.
    note: str | None = None


def evolve(model: _M, **changes: Any) -> _M:
    """A validated copy with ``changes`` (``model_copy(update=...)`` would skip validation)."""
    return type(model)(**{**dict(model), **changes})

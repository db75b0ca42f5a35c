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

__all__ = ["SCHEMA", "ErrorInfo", "ErrorKind", "ProviderSnapshot", "Snapshot", "Status", "Usage", "Window",
           "evolve", "utc_iso"]

SCHEMA = "agentgauge.snapshot.v1"
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

    _norm_resets_at = field_validator("resets_at")(_whole_seconds)

    @field_serializer("resets_at")
    def _ser_resets_at(self, value: datetime | None) -> str | None:
        return utc_iso(value)


class ErrorInfo(_Frozen):
    kind: ErrorKind
    message: str
    hint: str


class ProviderSnapshot(_Frozen):
    """The state of one provider account as every surface shows it."""

    provider: str
    account: str = "default"
    name: str
    status: Status
    plan: str | None = None
    source: str | None = None
    windows: tuple[Window, ...] = ()
    fetched_at: datetime | None = None
    last_success_at: datetime | None = None
    error: ErrorInfo | None = None

    _norm_times = field_validator("fetched_at", "last_success_at")(_whole_seconds)

    @field_serializer("fetched_at", "last_success_at")
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


def evolve(model: _M, **changes: Any) -> _M:
    """A validated copy with ``changes`` (``model_copy(update=...)`` would skip validation)."""
    return type(model)(**{**dict(model), **changes})

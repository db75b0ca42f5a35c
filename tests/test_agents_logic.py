"""pick and guard: the one implementation behind `agentgauge pick/guard`, /api/pick and MCP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agentgauge.models import ErrorInfo, ErrorKind, Forecast, ProviderSnapshot, Snapshot, Status, Window
from agentgauge.query.agents import GUARD_BELOW, GUARD_SAFE, GUARD_UNAVAILABLE, guard, pick

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def account(
    provider: str,
    *pcts: float,
    status: Status = Status.OK,
    name: str = "default",
    runs_out_in: float | None = None,
    fetched: datetime = NOW,
) -> ProviderSnapshot:
    windows = []
    for i, pct in enumerate(pcts):
        forecast = None
        if runs_out_in is not None and i == 0:
            forecast = Forecast(
                verdict="will_run_out", pace_pct=50, made_at=NOW, runs_out_at=NOW + timedelta(hours=runs_out_in)
            )
        windows.append(
            Window(
                id=("session", "weekly", "monthly")[i],
                label=("Session", "Weekly", "Monthly")[i],
                used_pct=pct,
                resets_at=NOW + timedelta(hours=3 + i * 24),
                forecast=forecast,
            )
        )
    error = ErrorInfo(kind=ErrorKind.TIMEOUT, message="timed out", hint="later") if status != Status.OK else None
    return ProviderSnapshot(
        provider=provider,
        account=name,
        name=provider.title(),
        status=status,
        windows=tuple(windows),
        fetched_at=fetched,
        last_success_at=fetched,
        error=error,
    )


def snap(*accounts: ProviderSnapshot) -> Snapshot:
    return Snapshot(generated_at=NOW, providers=accounts)


def test_pick_ranks_by_the_tightest_window():
    s = snap(account("claude", 20, 70), account("codex", 40, 45), account("zai", 10, 15))
    ranked = pick(s, NOW)
    assert [(h.provider, h.window, h.headroom_pct) for h in ranked] == [
        ("zai", "weekly", 85.0),
        ("codex", "weekly", 55.0),
        ("claude", "weekly", 30.0),
    ]


def test_pick_leaves_stale_and_error_out_unless_asked():
    s = snap(account("claude", 5, status=Status.STALE), account("codex", 60), account("kimi", 1, status=Status.ERROR))
    assert [h.provider for h in pick(s, NOW)] == ["codex"]
    assert [h.provider for h in pick(s, NOW, include_stale=True)] == ["codex", "claude"]


def test_pick_with_hours_puts_accounts_that_run_out_last():
    s = snap(account("claude", 10, runs_out_in=2), account("codex", 50))
    ranked = pick(s, NOW, hours=4)
    assert [(h.provider, h.lasts) for h in ranked] == [("codex", True), ("claude", False)]
    assert [h.provider for h in pick(s, NOW, hours=1)] == ["claude", "codex"]


def test_guard_exit_codes():
    s = snap(
        account("claude", 30, 85),
        account("codex", 10, status=Status.ERROR),
        account("zai", 5, fetched=NOW - timedelta(hours=3)),
    )
    assert guard(s, "claude", min_remaining=10, now=NOW).code == GUARD_SAFE
    below = guard(s, "claude", min_remaining=20, now=NOW)
    assert below.code == GUARD_BELOW and below.remaining_pct == 15.0 and below.window == "weekly"
    assert guard(s, "claude", min_remaining=20, window="session", now=NOW).code == GUARD_SAFE
    assert guard(s, "codex", min_remaining=5, now=NOW).code == GUARD_UNAVAILABLE
    assert guard(s, "codex", min_remaining=5, now=NOW, fail_open=True).code == GUARD_SAFE
    assert guard(s, "zai", min_remaining=5, now=NOW).code == GUARD_UNAVAILABLE  # too old
    assert guard(s, "nosuch", min_remaining=5, now=NOW).code == GUARD_UNAVAILABLE
    assert guard(s, "claude", min_remaining=5, window="monthly", now=NOW).code == GUARD_UNAVAILABLE

"""Terminal rendering of a snapshot (rich): bars, percent, reset countdown and local time.

The wording and number rules are the dashboard's (``formats.py`` mirrors ``web/static/format.js``):
the same percent, amount and countdown strings, each forecast's verdict in the same words ("runs
out ~14:05", "on pace"), stale accounts muted with "stale since", unlimited windows said in words,
a passed reset shown as 0 % "reset, confirming…", balances as money or credits with their unit,
and errors as a plain headline above the server's message and hint.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..models import Balance, Breakdown, ProviderSnapshot, Snapshot, Status, Window
from .formats import (
    cycle_cells,
    error_headline,
    fmt_age,
    fmt_amount,
    fmt_balance,
    fmt_breakdown_total,
    fmt_clock,
    fmt_duration,
    fmt_forecast,
    fmt_pair,
    fmt_pct,
    retry_at,
    source_label,
)

STATUS_STYLE = {
    Status.OK: ("●", "green"),
    Status.STALE: ("●", "yellow"),
    Status.ERROR: ("●", "red"),
    Status.UNCONFIGURED: ("○", "dim"),
    Status.DISABLED: ("○", "dim"),
}
BAR_WIDTH = 20
MUTED = "dim"
WRAPPING = ("Provider", "Plan", "Window", "Amount")  # columns that may wrap on narrow terminals
VERDICT_STYLE = {"will_run_out": "red", "watch": "yellow", "ok": "green", "surplus": "cyan", "learning": "dim"}


def level_style(pct: float, warn: float = 40.0, crit: float = 70.0) -> str:
    """Default thresholds: green below 40 %, amber 40-70 %, red above 70 %."""
    if pct > crit:
        return "red"
    if pct >= warn:
        return "yellow"
    return "green"


def shown_pct(w: Window) -> float:
    """The percent a surface shows: a reset that has passed but is not yet confirmed counts as 0 %."""
    return 0.0 if w.reset_pending else w.used_pct


def window_amount(w: Window) -> str:
    """The absolute figures beside a window, as the dashboard shows them ("102 / 200 requests")."""
    if w.reset_pending or w.used is None:
        return ""  # after a reset the old amount belongs to the cycle that just ended
    if w.limit is not None and not w.unlimited:
        return fmt_pair(w.used, w.limit, w.unit)
    return f"{fmt_amount(w.used, w.unit)} used"


def bar(pct: float, width: int = BAR_WIDTH, *, muted: bool = False) -> Text:
    filled = max(0, min(width, round(pct / 100 * width)))
    text = Text("█" * filled, style=MUTED if muted else level_style(pct))
    text.append("░" * (width - filled), style="dim")
    return text


def countdown(until: datetime | None, now: datetime) -> str:
    if until is None:
        return "—"
    seconds = (until - now).total_seconds()
    return "now" if seconds < 1 else fmt_duration(seconds)


def is_waiting(p: ProviderSnapshot) -> bool:
    """Configured but never fetched yet: the engine's placeholder, not a failure."""
    return p.status == Status.STALE and p.last_success_at is None and p.error is None


def stale_since(p: ProviderSnapshot) -> datetime | None:
    return p.failing_since or p.last_success_at


def status_text(p: ProviderSnapshot, now: datetime, tz: tzinfo | None = None) -> str:
    if is_waiting(p):
        return "waiting for first refresh"
    if p.status == Status.STALE:
        since = stale_since(p)
        return f"stale since {fmt_clock(since, now, tz)}" if since else "stale"
    if p.status == Status.OK and p.fetched_at and (now - p.fetched_at).total_seconds() >= 60:
        # Data from a while ago (a closed gate, refresh = "on-demand", a push) says how old it is.
        return f"ok · {fmt_age((now - p.fetched_at).total_seconds())}"
    return "not configured" if p.status == Status.UNCONFIGURED else p.status.value


def status_cell(p: ProviderSnapshot, now: datetime, tz: tzinfo | None = None) -> Text:
    glyph, style = STATUS_STYLE[p.status]
    return Text(f"{glyph} {status_text(p, now, tz)}", style=style)


def headline(p: ProviderSnapshot, now: datetime, tz: tzinfo | None = None) -> str:
    if p.error is None:
        return ""
    again = retry_at(p.error.message, p.fetched_at)
    clock = fmt_clock(again, now, tz) if again is not None and again > now else None
    return error_headline(p.error.kind.value, p.name, clock)


Row = dict[str, RenderableType]  # column name -> cell; missing columns stay empty


def _window_row(w: Window, now: datetime, tz: tzinfo | None, bar_width: int, muted: bool) -> Row:
    row: Row = {"Window": w.label, "Amount": Text(window_amount(w), style="dim")}
    if w.unlimited:
        row |= {"Usage": Text("unlimited", style="cyan"), "Used": "–"}
    else:
        pct = shown_pct(w)
        row |= {
            "Usage": bar(pct, bar_width, muted=muted),
            "Used": Text(fmt_pct(pct), style=MUTED if muted else level_style(pct)),
        }
    if w.reset_pending:
        row["Resets in"] = Text("reset, confirming…", style="dim")
    else:
        row["Resets in"] = countdown(w.resets_at, now)
        row["Resets at"] = fmt_clock(w.resets_at, now, tz) if w.resets_at else ""
    f = w.forecast
    if f is not None and not w.reset_pending and not w.unlimited:
        words = fmt_forecast(f.verdict, f.runs_out_at, now, tz)
        row["Forecast"] = Text(words, style=MUTED if muted else VERDICT_STYLE.get(f.verdict, ""))
    return row


def _balance_row(b: Balance, now: datetime, tz: tzinfo | None) -> Row:
    text = fmt_balance(
        b.unit, remaining=b.remaining, used=b.used, limit=b.limit, period=b.period, unlimited=b.unlimited
    )
    row: Row = {"Window": b.label, "Amount": Text(text, style="cyan")}
    if b.resets_at:
        row |= {"Resets in": countdown(b.resets_at, now), "Resets at": fmt_clock(b.resets_at, now, tz)}
    elif b.expires_at:
        row["Resets at"] = f"expires {fmt_clock(b.expires_at, now, tz)}"
    return row


def _breakdown_row(bd: Breakdown) -> Row:
    return {"Window": bd.label, "Amount": Text(fmt_breakdown_total([i.value for i in bd.items], bd.unit), style="dim")}


def _account_rows(p: ProviderSnapshot, now: datetime, tz: tzinfo | None, bar_width: int) -> list[Row]:
    muted = p.status == Status.STALE
    rows = [_window_row(w, now, tz, bar_width, muted) for w in p.windows]
    rows += [_balance_row(b, now, tz) for b in p.balances]
    rows += [_breakdown_row(bd) for bd in p.breakdowns]
    if not rows:
        rows.append({"Usage": Text("no data", style="dim")})
    source = source_label(p.source_label, p.source)
    if len(rows) == 1 and source:
        rows.append({})  # the source still gets its own line under the name
    rows[0] |= {
        "Provider": Text(p.name + (f" · {p.account}" if p.account != "default" else ""), style="bold"),
        "Plan": p.plan or "",
        "Status": status_cell(p, now, tz),
    }
    if source:
        rows[1]["Provider"] = Text(f"via {source}", style="dim")
    return rows


def _notes(p: ProviderSnapshot, now: datetime, tz: tzinfo | None) -> list[Text]:
    """Errors and partial data under the table, at full width, so long messages do not squeeze it."""
    title = p.name + (f" ({p.account})" if p.account != "default" else "")
    lines: list[Text] = []
    if p.error is not None and p.status in (Status.STALE, Status.ERROR):
        lines.append(Text.assemble((f"{title}: ", "bold"), (headline(p, now, tz), "bold red")))
        lines.append(Text(f"  {p.error.message}", style="dim"))
        if p.status == Status.ERROR and p.last_success_at:
            lines.append(Text(f"  last success {fmt_age((now - p.last_success_at).total_seconds())}", style="dim"))
        lines.append(Text(f"  hint: {p.error.hint}", style="yellow"))
    for warning in p.warnings:
        lines.append(Text.assemble((f"{title}: ", "bold"), (f"partial data: {warning.message}", "yellow")))
    return lines


def render(
    snapshot: Snapshot, now: datetime | None = None, width: int = 120, *, tz: tzinfo | None = None, watch: bool = False
) -> RenderableType:
    """The status table. Narrow terminals get shorter bars and lose the local reset time column (below
    140 columns when a forecast column is shown, which says its run-out time in local time).
    ``watch`` adds the footer of ``status --watch``; ``tz`` is the local zone (default: the system's)."""
    now = now or datetime.now(UTC)
    shown = [p for p in snapshot.providers if p.status not in (Status.UNCONFIGURED, Status.DISABLED)]
    # The forecast column costs about 16 characters: below 140 it takes the local reset time's place and
    # half the bar.
    forecasts = any(w.forecast is not None for p in shown for w in p.windows)
    bar_width = BAR_WIDTH if width >= (140 if forecasts else 120) else 10
    show_local = width >= (140 if forecasts else 96)
    parts: list[RenderableType] = []
    if watch:  # first, so it stays on screen when a tall table is cut to the terminal's height
        updated = snapshot.generated_at.astimezone(tz).strftime("%H:%M:%S")
        parts.append(Text(f"updated {updated} · Ctrl-C to quit\n", style="dim"))
    if shown:
        rows = [row for p in shown for row in _account_rows(p, now, tz, bar_width)]
        columns = [("Provider", "left"), ("Plan", "left"), ("Window", "left"), ("Usage", "left"), ("Used", "right")]
        if any(str(row.get("Amount", "")) for row in rows):
            columns.append(("Amount", "left"))
        columns.append(("Resets in", "right"))
        if show_local:
            columns.append(("Resets at", "left"))
        if any("Forecast" in row for row in rows):  # the verdict and run-out time (docs/forecast.md)
            columns.append(("Forecast", "left"))
        columns.append(("Status", "left"))
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
        for column, justify in columns:
            table.add_column(column, justify=justify, no_wrap=column not in WRAPPING)  # type: ignore[arg-type]
        for row in rows:
            table.add_row(*(row.get(column, "") for column, _ in columns))
        parts.append(table)
        notes = [line for p in shown for line in _notes(p, now, tz)]
        if notes:
            parts.append(Text(""))
            parts.extend(notes)
    else:
        parts.append(
            Text(
                "No provider is configured yet. Try `agentgauge status --demo`, or see `agentgauge doctor`.",
                style="yellow",
            )
        )
    idle = [p for p in snapshot.providers if p.status == Status.UNCONFIGURED]
    if idle:
        names = ", ".join(f"{p.name}" + (f" ({p.account})" if p.account != "default" else "") for p in idle)
        parts.append(Text(f"\nNot configured: {names}. Run `agentgauge doctor` to see what each needs.", style="dim"))
    return Group(*parts)


CYCLE_COLUMNS = (
    ("Account", "left", None),
    ("Window", "left", None),
    ("Started", "left", "started"),
    ("Reset", "left", "reset"),
    ("Peak", "right", "peak"),
    ("First 100 %", "left", "hit"),
    ("Blocked", "right", "blocked"),
    ("Unused at reset", "right", "unused"),
)


def cycles_table(
    rows: list[dict[str, Any]], accuracy: dict[str, Any], now: datetime, *, tz: tzinfo | None = None
) -> RenderableType:
    """``agentgauge history cycles``: the ledger rows (``/api/cycles``) grouped per account and window,
    oldest first, in the dashboard's words; then the forecasts' measured accuracy per window."""
    if not rows:
        return Text("No reset cycles recorded in this range.", style="yellow")
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
    for column, justify, _ in CYCLE_COLUMNS:
        table.add_column(column, justify=justify, no_wrap=column not in ("Account", "Window"))  # type: ignore[arg-type]
    ordered = sorted(rows, key=lambda r: (r["name"], r["account"], r["label"], r["resets_at"]))
    previous = None
    for row in ordered:
        cells = cycle_cells(row, now, tz)
        who = row["name"] + (f" · {row['account']}" if row["account"] != "default" else "")
        group = (who, row["label"])
        hit = row.get("hit_100_at") is not None
        names = (who, row["label"]) if group != previous else ("", "")  # each account and window named once
        table.add_row(
            *names,
            cells["started"],
            cells["reset"],
            Text(cells["peak"], style="red" if hit else ""),
            Text(cells["hit"], style="red" if hit else "dim"),
            cells["blocked"],
            Text(cells["unused"], style="dim" if not row["ended"] else ""),
        )
        previous = group
    parts: list[RenderableType] = [table, Text("")]
    windows = accuracy.get("windows") or []
    if not windows:
        parts.append(Text("Forecast accuracy: no closed cycle with forecasts in this range yet.", style="dim"))
        return Group(*parts)
    overall = accuracy["overall"]
    parts.append(
        Text(
            f"Forecast accuracy (the 80 % interval held the outcome; goal about 80 %): "
            f"{fmt_pct(100 * overall['coverage'])} over {overall['closed_cycles']} closed cycles",
            style="bold",
        )
    )
    for w in windows:
        who = w["name"] + (f" · {w['account']}" if w["account"] != "default" else "")
        parts.append(
            Text(
                f"  {who} · {w['label']}: {fmt_pct(100 * w['coverage'])} of {w['closed_cycles']} "
                f"{'cycle' if w['closed_cycles'] == 1 else 'cycles'} ({w['forecasts']} forecasts)"
            )
        )
    return Group(*parts)

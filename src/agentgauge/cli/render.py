"""Terminal rendering of a snapshot (rich): bars, percent, reset countdown and local time."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..models import ProviderSnapshot, Snapshot, Status, Window

STATUS_STYLE = {
    Status.OK: ("●", "green"),
    Status.STALE: ("●", "yellow"),
    Status.ERROR: ("●", "red"),
    Status.UNCONFIGURED: ("○", "dim"),
    Status.DISABLED: ("○", "dim"),
}
BAR_WIDTH = 20


def level_style(pct: float, warn: float = 40.0, crit: float = 70.0) -> str:
    """Default thresholds: green below 40 %, amber 40-70 %, red above 70 %."""
    if pct > crit:
        return "red"
    if pct >= warn:
        return "yellow"
    return "green"


def bar(pct: float, width: int = BAR_WIDTH) -> Text:
    filled = max(0, min(width, round(pct / 100 * width)))
    text = Text("█" * filled, style=level_style(pct))
    text.append("░" * (width - filled), style="dim")
    return text


def countdown(until: datetime | None, now: datetime) -> str:
    if until is None:
        return "—"
    seconds = int((until - now).total_seconds())
    if seconds <= 0:
        return "now"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def local_time(when: datetime | None, now: datetime) -> str:
    if when is None:
        return ""
    local = when.astimezone()
    local_now = now.astimezone()
    if local.date() == local_now.date():
        return local.strftime("%H:%M")
    if (local.date() - local_now.date()).days < 7:
        return local.strftime("%a %H:%M")
    return local.strftime("%b %d %H:%M")


def age(since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    return countdown(now, since) if since < now else "0s"


def status_cell(p: ProviderSnapshot, now: datetime) -> Text:
    glyph, style = STATUS_STYLE[p.status]
    label = p.status.value
    if p.status == Status.STALE and p.last_success_at:
        label = f"stale {age(p.last_success_at, now)}"
    return Text(f"{glyph} {label}", style=style)


def _percent(w: Window) -> Text:
    text = f"{w.used_pct:.1f}%" if w.used_pct % 1 else f"{w.used_pct:.0f}%"
    return Text(text, style=level_style(w.used_pct))


def render(snapshot: Snapshot, now: datetime | None = None, width: int = 120) -> RenderableType:
    """The status table. Narrow terminals get shorter bars and lose the local reset time column."""
    now = now or datetime.now(UTC)
    bar_width = BAR_WIDTH if width >= 120 else 10
    show_local = width >= 96
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
    columns = [("Provider", "left"), ("Plan", "left"), ("Window", "left"), ("Usage", "left"),
               ("Used", "right"), ("Resets in", "right")]
    if show_local:
        columns.append(("Resets at", "left"))
    columns.append(("Status", "left"))
    for column, justify in columns:
        table.add_column(column, justify=justify, no_wrap=column != "Window")  # type: ignore[arg-type]
    blank = [""] * (len(columns) - 4)
    shown = [p for p in snapshot.providers if p.status not in (Status.UNCONFIGURED, Status.DISABLED)]
    for p in shown:
        first = True
        title = p.name + (f" · {p.account}" if p.account != "default" else "")
        for w in p.windows or (None,):
            cells: list[RenderableType] = [Text(title, style="bold") if first else "", (p.plan or "") if first else ""]
            if w is None:
                cells += ["", Text("no data", style="dim"), "", ""] + ([""] if show_local else [])
            else:
                cells += [w.label, bar(w.used_pct, bar_width), _percent(w), countdown(w.resets_at, now)]
                if show_local:
                    cells.append(local_time(w.resets_at, now))
            cells.append(status_cell(p, now) if first else "")
            table.add_row(*cells)
            first = False
        if p.error is not None and p.status in (Status.STALE, Status.ERROR):
            table.add_row("", "", Text(f"↳ {p.error.message}", style="red"), *blank, "")
            table.add_row("", "", Text(f"  hint: {p.error.hint}", style="yellow"), *blank, "")
    parts: list[RenderableType] = [table]
    idle = [p for p in snapshot.providers if p.status == Status.UNCONFIGURED]
    if idle:
        names = ", ".join(f"{p.name}" + (f" ({p.account})" if p.account != "default" else "") for p in idle)
        parts.append(Text(f"\nNot configured: {names}. Run `agentgauge doctor` to see what each needs.",
                          style="dim"))
    if not shown:
        parts.insert(0, Text("No provider is configured yet. Try `agentgauge status --demo`, or see "
                             "`agentgauge doctor`.", style="yellow"))
    return Group(*parts)

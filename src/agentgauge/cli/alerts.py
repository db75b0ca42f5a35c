"""``agentgauge alerts``: show the alert rules, targets and recent events, and send a test alert.

Targets are shown by name, kind and a reduced address (scheme and host): an apprise URL or a
webhook secret never reaches the terminal. docs/alerts.md describes the rules and their settings.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from .commands import State, _print_json, _session
from .exits import EXIT_OK, EXIT_USAGE

EXIT_FAILED = 1


@click.group()
def alerts() -> None:
    """Alert rules and delivery targets (docs/alerts.md)."""


@alerts.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 500), help="Recent events to show.")
@click.pass_obj
def list_command(state: State, as_json: bool, limit: int) -> None:
    """Show the rules, the targets and the most recent events with their deliveries."""
    from ..alerts.managed import AlertSource
    from ..alerts.overview import overview

    config = state.config(secrets=False)
    with _session(config) as store:  # the config's rules and targets, and the dashboard's (alerts.managed)
        data = overview(AlertSource(config.alerts, store).refresh(), store, limit)
    if as_json:
        _print_json(data)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not data["enabled"]:
        console.print("[yellow]Alerts are turned off[/] ([alerts] enabled = false or AGENTGAUGE_ALERTS=off).")
    rules = Table(title="Rules", box=None, header_style="bold", title_justify="left")
    for column in ("Rule", "Kind", "Scope", "Settings", "Targets", "Cooldown", "Quiet hours"):
        rules.add_column(column)
    for rule in data["rules"]:
        scope = ", ".join(rule["providers"] + rule["accounts"] + rule["windows"]) or "everything"
        settings = "; ".join(
            f"{k} {v}"
            for k, v in rule.items()
            if k in ("thresholds", "after_minutes", "min_peak_pct", "min_lead_minutes")
        )
        name = rule["name"] if rule["enabled"] else f"[dim]{rule['name']} (off)[/]"
        cooldown = f"{rule['cooldown_minutes']:g} min"
        sends_to = ", ".join(rule["targets"]) or "[dim]none[/]"
        rules.add_row(name, rule["kind"], scope, settings, sends_to, cooldown, rule["quiet_hours"] or "")
    console.print(rules)
    targets = Table(title="Targets", box=None, header_style="bold", title_justify="left")
    for column in ("Target", "Kind", "Address"):
        targets.add_column(column)
    for target in data["targets"]:
        targets.add_row(target["name"] + ("" if target["enabled"] else " (off)"), target["kind"], target["address"])
    if data["targets"]:
        console.print(targets)
    else:
        console.print("No targets: events are recorded (and shown on the dashboard) but sent nowhere.")
    events = Table(title="Recent events", box=None, header_style="bold", title_justify="left")
    for column in ("When", "Event", "Title", "Status", "Deliveries"):
        events.add_column(column)
    for event in data["events"]:
        deliveries = ", ".join(
            f"{d['target']}: {d['status']}" + (f" ({d['error']})" if d["error"] and d["status"] != "sent" else "")
            for d in event["deliveries"]
        )
        events.add_row(event["created_at"], event["event"], event["title"], event["status"], deliveries)
    console.print(events if data["events"] else "No alert has fired yet.")


@alerts.command(name="test")
@click.option("--target", "names", multiple=True, metavar="NAME", help="Only this target (repeatable).")
@click.pass_obj
def test_command(state: State, names: tuple[str, ...]) -> None:
    """Send a sample alert to each target now (the config file's and the dashboard's); exit 1 when
    any could not be reached."""
    from dataclasses import replace

    from ..alerts import Deliverer
    from ..alerts.managed import AlertSource

    config = state.config(secrets=False)
    with _session(config) as store:  # the dashboard's targets are in the database and the secret store
        settings = AlertSource(config.alerts, store).refresh()
    chosen = [t for t in settings.targets if not names or t.name in names]
    unknown = sorted(set(names) - {t.name for t in settings.targets})
    if unknown or not chosen:
        what = f"no target named {', '.join(unknown)}" if unknown else "no alert target is configured"
        click.echo(f"error: {what}", err=True)
        click.echo(
            "hint: add [[alerts.targets]] to the config file or a target on the settings page (docs/alerts.md).",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    deliverer = Deliverer(replace(config, alerts=settings), None, lambda: datetime.now(UTC))
    failed = 0
    for target in chosen:
        problem = deliverer.test(target)
        if problem is None:
            click.echo(f"{target.name}: sent")
        else:
            failed += 1
            click.echo(f"{target.name}: failed: {problem}")
    sys.exit(EXIT_FAILED if failed else EXIT_OK)

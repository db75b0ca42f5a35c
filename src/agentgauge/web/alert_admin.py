"""Alert rules and delivery targets from the dashboard's settings page (docs/alerts.md): add, edit,
enable, disable, remove, and send a test alert, while the server runs.

Rules and the non-secret part of targets go to ``managed_alerts``; a target's URL, webhook and signing
secret to the encrypted secret store, and they are never answered back (a target shows its scheme and
host, and whether each secret is set). The config file's ``[alerts]`` and ``AGENTGAUGE_ALERTS`` win and
are shown locked; the file is never rewritten, and a name it uses cannot be taken here. Every change
moves the version the alert chores check at the start of each pass (``alerts.managed.AlertSource``),
so it reaches the process running the alerts, on this replica or another one, without a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..alert_settings import check_rule, parse_rule
from ..alerts import Deliverer
from ..alerts.managed import (
    ADDRESS,
    DASHBOARD_ORIGIN,
    RULE,
    TARGET,
    AlertSource,
    Row,
    addresses,
    delete,
    read_rows,
    save,
    stored_settings,
)
from ..credentials import ALERT_TARGETS
from ..errors import ConfigError
from ..providers import registry
from .alert_forms import (
    check_name,
    config_lock,
    enabled_of,
    listing,
    rule_table,
    target_row,
    target_spec,
    target_values,
)
from .users import NO_STORE, actor, json_body, problem

if TYPE_CHECKING:
    from .app import ServerState

log = logging.getLogger("agentgauge.web.alerts")


class AlertSettingsManager:
    """The dashboard's alert changes, one at a time per process (the database keeps names unique)."""

    def __init__(self, state: ServerState, source: AlertSource) -> None:
        self.state = state
        self.source = source  # shared with this process's alert chores
        self.lock = asyncio.Lock()

    def env(self) -> dict[str, str]:
        return dict(self.state.config.env)

    def lock_of(self, kind: str, name: str) -> str | None:
        return config_lock(kind, name, self.source.base, self.env())

    def body(self) -> dict[str, Any]:
        """Blocking: the listing, read afresh (another replica may have changed something)."""
        settings = self.source.refresh()
        rows = read_rows(self.state.store)
        names = {name for kind, name in rows if kind == TARGET}
        stored = {name: stored_settings(self.source.secrets, name) for name in names}
        return listing(settings, self.source.base, rows, stored, self.env())


def manager_of(request: Request) -> AlertSettingsManager:
    found: AlertSettingsManager = request.app.state.alert_settings
    return found


def _status(exc: ConfigError) -> int:
    if exc.message.startswith("no alert"):
        return 404
    return (
        409 if "exists already" in exc.message or "change it there" in exc.message or "sends to" in exc.message else 400
    )


Change = Callable[[AlertSettingsManager, dict[str, Any], str], Awaitable[tuple[int, dict[str, Any]]]]


async def _change(request: Request, change: Change) -> Response:
    """One change under the manager's lock; answers with the whole listing (nothing secret in it)."""
    manager = manager_of(request)
    who = actor(request)
    try:
        data = await json_body(request) if request.method != "DELETE" else {}
        async with manager.lock:
            status, extra = await change(manager, data, who)
    except ConfigError as exc:
        return problem(_status(exc), exc.message, exc.hint)
    body = await asyncio.to_thread(manager.body)
    return JSONResponse({**extra, **body}, status_code=status, headers=NO_STORE)


def _row(manager: AlertSettingsManager, kind: str, name: str, *, removing: bool = False) -> Row:
    """The dashboard's row of this name: a config entry is locked, anything else unknown (404). A row
    the config file took the name of later (listed as ``shadowed``, not in force) can still be removed."""
    row = read_rows(manager.state.store).get((kind, name))
    lock = manager.lock_of(kind, name)
    if lock is not None and not (removing and row is not None):
        raise ConfigError(lock)
    if row is None:
        raise ConfigError(
            f"no alert {kind} named '{name[:64]}' was added here", hint="GET /api/alert-settings lists them."
        )
    return row


def _checked_rule(manager: AlertSettingsManager, name: str, table: dict[str, Any], enabled: bool) -> None:
    """The config file's checks, then what the rule names must exist (targets of either origin)."""
    rule = parse_rule({**table, "name": name, "enabled": enabled}, f"alert rule '{name}'")
    targets = {t.name for t in manager.source.refresh().targets}
    check_rule(rule, targets, registry.ids())


async def list_settings(request: Request) -> Response:
    body = await asyncio.to_thread(manager_of(request).body)
    return JSONResponse(body, headers=NO_STORE)


async def add_rule(request: Request) -> Response:
    async def change(manager: AlertSettingsManager, data: dict[str, Any], who: str) -> tuple[int, dict[str, Any]]:
        name = check_name(data.get("name") or data.get("kind"), "rule")
        lock = manager.lock_of(RULE, name)
        if lock is not None:
            raise ConfigError(lock, hint="Give this rule another name.")
        table = rule_table(data, {})
        enabled = enabled_of(data, True)
        await asyncio.to_thread(_checked_rule, manager, name, table, enabled)
        row = Row(RULE, name, table, enabled, updated_by=who)
        await asyncio.to_thread(save, manager.state.store, row, manager.state.clock(), new=True)
        log.info("%s added alert rule %s", who, name)
        return 201, {"saved": {"kind": RULE, "name": name}}

    return await _change(request, change)


async def edit_rule(request: Request) -> Response:
    async def change(manager: AlertSettingsManager, data: dict[str, Any], who: str) -> tuple[int, dict[str, Any]]:
        row = await asyncio.to_thread(_row, manager, RULE, request.path_params["name"])
        if data.get("name") not in (None, row.name):
            raise ConfigError("a rule keeps its name: remove it and add another")
        table = rule_table(data, row.settings)
        enabled = enabled_of(data, row.enabled)
        await asyncio.to_thread(_checked_rule, manager, row.name, table, enabled)
        saved = Row(RULE, row.name, table, enabled, updated_by=who)
        await asyncio.to_thread(save, manager.state.store, saved, manager.state.clock())
        log.info("%s changed alert rule %s", who, row.name)
        return 200, {"saved": {"kind": RULE, "name": row.name}}

    return await _change(request, change)


async def remove_rule(request: Request) -> Response:
    async def change(manager: AlertSettingsManager, data: dict[str, Any], who: str) -> tuple[int, dict[str, Any]]:
        row = await asyncio.to_thread(_row, manager, RULE, request.path_params["name"], removing=True)
        await asyncio.to_thread(delete, manager.state.store, RULE, row.name)
        log.info("%s removed alert rule %s", who, row.name)
        return 200, {"removed": {"kind": RULE, "name": row.name}}

    return await _change(request, change)


async def add_target(request: Request) -> Response:
    async def change(manager: AlertSettingsManager, data: dict[str, Any], who: str) -> tuple[int, dict[str, Any]]:
        name = check_name(data.get("name"), "target")
        lock = manager.lock_of(TARGET, name)
        if lock is not None:
            raise ConfigError(lock, hint="Give this target another name.")
        if (TARGET, name) in await asyncio.to_thread(read_rows, manager.state.store):
            raise ConfigError(f"an alert target named '{name}' exists already", hint="Edit it instead.")
        values = target_values(data, {})
        spec = target_spec(name, values, enabled_of(data, True))
        secrets = manager.source.secrets
        await asyncio.to_thread(secrets.put, ALERT_TARGETS, name, values, origin=DASHBOARD_ORIGIN, drop=ADDRESS)
        await asyncio.to_thread(save, manager.state.store, target_row(spec, who), manager.state.clock(), new=True)
        log.info("%s added alert target %s (%s)", who, name, spec.kind)
        return 201, {"saved": {"kind": TARGET, "name": name}}

    return await _change(request, change)


async def edit_target(request: Request) -> Response:
    async def change(manager: AlertSettingsManager, data: dict[str, Any], who: str) -> tuple[int, dict[str, Any]]:
        row = await asyncio.to_thread(_row, manager, TARGET, request.path_params["name"])
        if data.get("name") not in (None, row.name):
            raise ConfigError("a target keeps its name: remove it and add another")
        secrets = manager.source.secrets
        current = (await asyncio.to_thread(addresses, secrets)).get(row.name, {})
        values = target_values(data, current)
        spec = target_spec(row.name, values, enabled_of(data, row.enabled))
        if values != current:
            dropped = [k for k in ADDRESS if k not in values]
            await asyncio.to_thread(secrets.put, ALERT_TARGETS, row.name, values, origin=DASHBOARD_ORIGIN, drop=dropped)
        await asyncio.to_thread(save, manager.state.store, target_row(spec, who), manager.state.clock())
        log.info("%s changed alert target %s", who, row.name)
        return 200, {"saved": {"kind": TARGET, "name": row.name}}

    return await _change(request, change)


async def remove_target(request: Request) -> Response:
    async def change(manager: AlertSettingsManager, data: dict[str, Any], who: str) -> tuple[int, dict[str, Any]]:
        row = await asyncio.to_thread(_row, manager, TARGET, request.path_params["name"], removing=True)
        shadowed = manager.lock_of(TARGET, row.name) is not None  # rules naming it mean the config's target
        rules = [r.name for r in (await asyncio.to_thread(manager.source.refresh)).rules if row.name in r.targets]
        if rules and not shadowed:
            raise ConfigError(
                f"alert rule(s) {', '.join(rules)} sends to '{row.name}'",
                hint="Change or remove those rules first (or disable the target).",
            )
        # The row first: from then on no pass queues anything for it; then its address goes.
        await asyncio.to_thread(delete, manager.state.store, TARGET, row.name)
        if manager.source.secrets.exists():
            await asyncio.to_thread(manager.source.secrets.forget, ALERT_TARGETS, row.name)
        log.info("%s removed alert target %s", who, row.name)
        return 200, {"removed": {"kind": TARGET, "name": row.name}}

    return await _change(request, change)


async def test_target(request: Request) -> Response:
    """A sample alert through the real delivery code, now; the answer says why not in our own words
    (never the address)."""
    manager = manager_of(request)
    name = request.path_params["name"]
    settings = await asyncio.to_thread(manager.source.refresh)
    target = settings.target(name)
    if target is None:
        return problem(404, f"no alert target named '{name[:64]}'", "GET /api/alert-settings lists them.")
    deliverer = Deliverer(manager.state.config, None, manager.state.clock)
    reason = await asyncio.to_thread(deliverer.test, target)
    log.info("%s sent a test alert to %s: %s", actor(request), name, reason or "sent")
    return JSONResponse({"target": name, "ok": reason is None, "error": reason}, headers=NO_STORE)


ROUTES = [
    Route("/api/alert-settings", list_settings),
    Route("/api/alert-settings/rules", add_rule, methods=["POST"]),
    Route("/api/alert-settings/rules/{name}", edit_rule, methods=["PATCH"]),
    Route("/api/alert-settings/rules/{name}", remove_rule, methods=["DELETE"]),
    Route("/api/alert-settings/targets", add_target, methods=["POST"]),
    Route("/api/alert-settings/targets/{name}", edit_target, methods=["PATCH"]),
    Route("/api/alert-settings/targets/{name}", remove_target, methods=["DELETE"]),
    Route("/api/alert-settings/targets/{name}/test", test_target, methods=["POST"]),
]

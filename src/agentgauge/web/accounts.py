"""Provider accounts from the dashboard's settings page (docs/users.md): add, edit, disable, remove,
test a connection, and change an account's refresh interval while the server runs.

The form is generated from each provider's declared settings (``Provider.settings``). Secrets go to
the encrypted secret store ``agentgauge auth set`` writes and are never answered back (only whether
one is set); non-secret settings, ``enabled`` and the interval go to ``managed_accounts``. What the
config file or the environment sets wins and is shown locked; the file is never rewritten. After a
change the server's config is rebuilt (config file as loaded, secret store read again, dashboard rows)
and handed to the engine, the read layer and the live view, so the scheduler picks it up at once.

Two rules keep a web form from reaching further than its author should: values are literal (no
``$cmd:``/``$file:``/``$env:``, see ``agentgauge.managed``), and where an account connects (a URL
setting) changes only with its secrets typed again in the same edit (the default account's URLs not at
all, since logins found on this machine would follow them), so nobody redirects a secret they did not
enter to a server of their choosing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..accounts import Target
from ..config import AccountConfig, Config
from ..credentials import SecretStore, with_stored
from ..errors import ConfigError, StoreUnavailableError
from ..managed import (
    DASHBOARD_ORIGIN,
    ManagedAccount,
    check_account_name,
    delete,
    rows,
    save,
    strip_stored,
    with_managed,
)
from ..models import Status
from ..providers import Provider, registry
from ..store import Store
from .account_forms import (
    catalog,
    describe,
    enabled_of,
    interval_of,
    lock_reason,
    removable,
    split_settings,
)
from .users import NO_STORE, actor, json_body, problem

if TYPE_CHECKING:
    from .app import ServerState

log = logging.getLogger("agentgauge.web.accounts")


def startup_config(config: Config, store: Store) -> Config:
    """The config a server starts with: the dashboard's rows on top of the file, env and secret store."""
    try:
        return with_managed(config, rows(store))
    except Exception as exc:  # the database down at start: the file's accounts still work
        log.warning("dashboard-managed accounts not loaded: %s", getattr(exc, "message", type(exc).__name__))
        return config


class AccountsManager:
    """Applies the dashboard's changes to a running server, one change at a time."""

    def __init__(self, state: ServerState, pristine: Config, secrets: SecretStore | None = None) -> None:
        self.state = state
        self.pristine = pristine  # as the server was given it: file, environment, secret store at start
        self.secrets = secrets or SecretStore()
        self.lock = asyncio.Lock()

    def rebuild(self) -> Config:
        """Blocking: the pristine config with the secret store read again and the dashboard's rows."""
        fresh = with_stored(strip_stored(self.pristine), self.secrets)
        return with_managed(fresh, rows(self.state.store))

    async def apply(self, changed: tuple[str, str] | None = None) -> None:
        config = await asyncio.to_thread(self.rebuild)
        state = self.state
        for holder in (state, state.engine, state.engine.vault, state.query, state.extensions):
            holder.config = config
        account = config.account(*changed) if changed else None
        if account is not None and not account.enabled:  # shown disabled now (nothing is fetched for that)
            await state.engine.refresh_account(Target(registry.get(account.provider), account))
        state.live.reset(await asyncio.to_thread(state.query.usage))


def manager_of(request: Request) -> AccountsManager:
    found: AccountsManager = request.app.state.accounts
    return found


async def providers_catalog(request: Request) -> Response:
    return JSONResponse({"providers": catalog()}, headers=NO_STORE)


async def list_accounts(request: Request) -> Response:
    """Accounts in use (configured, disabled or managed here); unconfigured defaults are left out."""
    manager = manager_of(request)
    config = manager.state.config
    managed = await asyncio.to_thread(rows, manager.state.store)
    shown = {p.key: p for p in manager.state.live.snapshot.providers}
    out = []
    for account in config.accounts:
        key = (account.provider, account.account)
        snap = shown.get(key)
        if snap is None or (snap.status == Status.UNCONFIGURED and key not in managed):
            continue
        out.append(describe(registry.get(account.provider), account, config, managed.get(key), snap))
    return JSONResponse({"accounts": out, "refresh_interval": config.refresh_interval}, headers=NO_STORE)


async def _locked_change(request: Request, change: Callable[[AccountsManager, dict[str, Any]], Any]) -> Response:
    """Run one change under the manager's lock; ConfigError answers 400, 404 (no such account) or 409."""
    manager = manager_of(request)
    try:
        data = await json_body(request) if request.method != "DELETE" else {}
        async with manager.lock:
            result: Response = await change(manager, data)
    except ConfigError as exc:
        status = 404 if exc.message.startswith("no account") else 409 if "exists" in exc.message else 400
        return problem(status, exc.message, exc.hint)
    return result


def _found(manager: AccountsManager, provider_id: str, name: str) -> tuple[Provider, AccountConfig]:
    provider = registry.get(provider_id)
    account = manager.state.config.account(provider.id, name)
    if account is None:
        raise ConfigError(f"no account '{name[:64]}' of {provider.name}", hint="GET /api/accounts lists them.")
    return provider, account


async def _answer(manager: AccountsManager, key: tuple[str, str], status: int = 200) -> Response:
    config = manager.state.config
    account = config.account(*key)
    managed = await asyncio.to_thread(rows, manager.state.store)
    shown = {p.key: p for p in manager.state.live.snapshot.providers}
    if account is None or key not in shown:
        return JSONResponse({"account": None}, status_code=status, headers=NO_STORE)
    body = describe(registry.get(key[0]), account, config, managed.get(key), shown[key])
    return JSONResponse({"account": body}, status_code=status, headers=NO_STORE)


async def add_account(request: Request) -> Response:
    who = actor(request)

    async def change(manager: AccountsManager, data: dict[str, Any]) -> Response:
        provider = registry.get(str(data.get("provider") or ""))
        name = check_account_name(str(data.get("account") or "default"))
        secret, plain = split_settings(provider, data.get("settings"))
        existing = manager.state.config.account(provider.id, name)
        shown = {p.key: p for p in manager.state.live.snapshot.providers}.get((provider.id, name))
        in_use = name != "default" or (shown is not None and shown.status != Status.UNCONFIGURED)
        if existing is not None and in_use:
            raise ConfigError(f"{provider.name} account '{name}' exists already", hint="Edit it instead.")
        row = ManagedAccount(
            provider.id,
            name,
            {k: v for k, v in plain.items() if v},
            enabled_of(data),
            interval_of(provider, data),
            added=True,
            updated_by=who,
        )
        if secret:
            await asyncio.to_thread(manager.secrets.put, provider.id, name, secret, origin=DASHBOARD_ORIGIN)
        await asyncio.to_thread(save, manager.state.store, row, manager.state.clock())
        await manager.apply(row.key)
        log.info("%s added account %s/%s", who, provider.id, name)
        return await _answer(manager, row.key, 201)

    return await _locked_change(request, change)


async def edit_account(request: Request) -> Response:
    who = actor(request)

    async def change(manager: AccountsManager, data: dict[str, Any]) -> Response:
        provider, account = _found(manager, request.path_params["provider"], request.path_params["account"])
        config = manager.state.config
        secret, plain = split_settings(provider, data.get("settings"))
        for name in [*secret, *plain]:
            reason = lock_reason(provider, account, name, config)
            if reason is not None:
                raise ConfigError(reason)
        moved = [n for n, v in plain.items() if n in provider.urls and (v or "") != account.settings.get(n, "")]
        held = [s for s in provider.secret_settings() if account.settings.get(s) and s not in secret]
        if moved and held:
            raise ConfigError(
                f"changing {', '.join(moved)} needs {', '.join(held)} typed again in the same edit",
                hint="A secret is only ever sent where the person who entered it chose.",
            )
        managed = await asyncio.to_thread(rows, manager.state.store)
        row = managed.get((provider.id, account.account)) or ManagedAccount(provider.id, account.account)
        settings = {**row.settings, **{k: v for k, v in plain.items() if v}}
        for name in [k for k, v in plain.items() if v is None]:
            settings.pop(name, None)
        row = replace(
            row,
            settings=settings,
            enabled=enabled_of(data) if "enabled" in data else row.enabled,
            refresh_interval=interval_of(provider, data) if "refresh_interval" in data else row.refresh_interval,
            updated_by=who,
        )
        if secret:
            await asyncio.to_thread(manager.secrets.put, provider.id, account.account, secret, origin=DASHBOARD_ORIGIN)
            manager.state.engine.vault._fresh.pop(row.key, None)  # refreshed tokens of the old login: gone
        await asyncio.to_thread(save, manager.state.store, row, manager.state.clock())
        await manager.apply(row.key)
        now = manager.state.config.account(*row.key)
        if now is not None and now.enabled and not account.enabled:  # back on: fetched now (gated), not next cycle
            with contextlib.suppress(StoreUnavailableError):
                manager.state.start_refresh([Target(provider, now)])
        log.info("%s changed account %s/%s", who, provider.id, account.account)
        return await _answer(manager, row.key)

    return await _locked_change(request, change)


async def remove_account(request: Request) -> Response:
    """A named account goes entirely (row, stored secrets, its card); a default account keeps existing
    but loses what the dashboard and the secret store held for it."""
    who = actor(request)

    async def change(manager: AccountsManager, data: dict[str, Any]) -> Response:
        provider, account = _found(manager, request.path_params["provider"], request.path_params["account"])
        config = manager.state.config
        if account.account != "default" and not removable(account, config):
            raise ConfigError(
                f"{provider.name} account '{account.account}' is defined in the config file or the environment",
                hint="Remove it there (or disable it here).",
            )
        key = (provider.id, account.account)
        if manager.secrets.exists():
            await asyncio.to_thread(manager.secrets.forget, *key)
        # The row first: the rebuilt config no longer has the account, so nothing new fetches it; a
        # refresh already under way (re-enabled just before, the scheduler's) ends before its state
        # goes, or its claim and result would write the row back after the removal.
        await asyncio.to_thread(delete, manager.state.store, *key)
        await manager.apply()
        await manager.state.refreshes_done(key)
        await asyncio.to_thread(delete, manager.state.store, *key, state=True)
        manager.state.engine.vault._fresh.pop(key, None)
        manager.state.live.reset(await asyncio.to_thread(manager.state.query.usage))
        log.info("%s removed account %s/%s", who, *key)
        return JSONResponse({"removed": {"provider": key[0], "account": key[1]}}, headers=NO_STORE)

    return await _locked_change(request, change)


async def test_account(request: Request) -> Response:
    """One fetch through the engine's gates (never sooner than the provider's minimum interval): the
    answer says whether it fetched now or shows what the gate kept."""
    manager = manager_of(request)
    try:
        provider, account = _found(manager, request.path_params["provider"], request.path_params["account"])
    except ConfigError as exc:
        return problem(404, exc.message, exc.hint)
    before = {p.key: p.fetched_at for p in manager.state.live.snapshot.providers}.get((provider.id, account.account))
    snapshot = await manager.state.engine.refresh_account(Target(provider, account))
    fetched = snapshot.fetched_at is not None and snapshot.fetched_at != before  # else the gate kept the last one
    return JSONResponse(
        {
            "fetched_now": fetched,
            "status": snapshot.status.value,
            "ok": snapshot.status == Status.OK,
            "source_label": snapshot.source_label,
            "windows": len(snapshot.windows),
            "error": snapshot.error.model_dump(mode="json") if snapshot.error else None,
            "fetched_at": snapshot.fetched_at.isoformat() if snapshot.fetched_at else None,
        },
        headers=NO_STORE,
    )


ROUTES = [
    Route("/api/accounts", list_accounts),
    Route("/api/accounts", add_account, methods=["POST"]),
    Route("/api/accounts/providers", providers_catalog),
    Route("/api/accounts/{provider}/{account}", edit_account, methods=["PATCH"]),
    Route("/api/accounts/{provider}/{account}", remove_account, methods=["DELETE"]),
    Route("/api/accounts/{provider}/{account}/test", test_account, methods=["POST"]),
]

"""The engine: refreshes accounts concurrently and politely, and keeps the last good data.

Policy lives here, not in adapters:
- every account is fetched at most once at a time (an in-process lock plus an atomic claim
  in the store, so two agentgauge processes on one database do not double-fetch);
- no fetch before the account's gate opens: the provider's minimum interval after any
  attempt, ``Retry-After`` after a 429, exponential back-off after repeated failures;
- each fetch runs under the provider's timeout; one account's failure never touches another;
- on failure the last good windows stay, marked ``stale`` with an error and a hint;
- a log line when an account starts failing and one when it recovers, nothing in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import auth
from .accounts import Target, targets
from .config import AccountConfig, Config
from .errors import (
    AgentGaugeError,
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    ParseError,
    ProviderError,
    RateLimitedError,
)
from .models import ErrorInfo, ErrorKind, ProviderSnapshot, Snapshot, Status, evolve
from .providers._base import Credentials, FetchContext
from .secret import redact, scrub
from .secretstore import ORIGIN_PREFIX, AccountTokens, SecretStore
from .store import Store, dumps_raw

log = logging.getLogger("agentgauge.engine")

MAX_BACKOFF = 3600.0
RATE_LIMIT_FLOOR = 300.0  # a 429 without a usable Retry-After (Anthropic sends 0) waits at least this


class _KeptTokens:
    """``FetchContext.tokens``: saves to the secret store and lets this engine use the pair at once."""

    def __init__(self, engine: Engine, provider: str, account: str) -> None:
        self._engine, self._key = engine, (provider, account)

    def save(self, values: Mapping[str, str], *, expires_at: datetime | None, origin: str) -> None:
        self._engine._fresh[self._key] = (dict(values), expires_at, origin)  # even if the disk write fails
        AccountTokens(self._engine.secrets, *self._key).save(values, expires_at=expires_at, origin=origin)


def stored_hint(creds: Credentials, provider_id: str, account: str, exc: AuthError) -> str | None:
    """The exact fix for a rejected credential that came from agentgauge's secret store.

    A CLI's file or a refreshed OAuth pair keeps the provider's own hint ("run `claude` and log
    in"); so does a 403 on a token or key, which names a missing scope or workspace rather than a
    stale login (a cookie answered with 403 is simply logged out).
    """
    if not creds.origin.startswith(ORIGIN_PREFIX):
        return None
    if exc.status_code == 403 and creds.auth.source not in ("cookie", "browser"):
        return None
    how = creds.origin.removeprefix(ORIGIN_PREFIX).strip(" ()")
    flag = "" if account == "default" else f" --account {account}"
    if how.startswith("browser:"):
        browser = (how.removeprefix("browser:").split() or ["the browser"])[0]
        return (f"Log in to {_site(provider_id)} in {browser}, then run `agentgauge auth import --browser "
                f"{browser.lower()} --provider {provider_id}` and press Refresh.")
    if how == "oauth-refresh":
        return None
    return f"The stored credential was rejected; save a fresh one with `agentgauge auth set {provider_id}{flag}`."


def _site(provider_id: str) -> str:
    """What the user logs in to, for hints: the browser module's site label, else the docs host."""
    try:
        from .browser.sites import SITES

        return SITES[provider_id].label
    except (ImportError, KeyError):
        from .providers import registry

        return urlsplit(registry.get(provider_id).docs_url).hostname or provider_id


def backoff_seconds(min_interval: float, failures: int) -> float:
    return min(MAX_BACKOFF, min_interval * (2 ** max(0, failures - 1)))


class Engine:
    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        clock: Callable[[], datetime] | None = None,
        http: httpx.AsyncClient | None = None,
        secrets: SecretStore | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._secrets = secrets  # opened on the first token refresh; most runs never need it
        # Tokens refreshed since the config was loaded: a long-running serve must use them at once,
        # since the CLI's refresh token they replaced may already be spent.
        self._fresh: dict[tuple[str, str], tuple[dict[str, str], datetime | None, str]] = {}
        self.clock = clock or (lambda: datetime.now(UTC))
        self._http = http
        self._own_http = http is None
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.listeners: list[Callable[[ProviderSnapshot], Any]] = []

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None and self._own_http:
            await self._http.aclose()
            self._http = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0), headers={"User-Agent": "agentgauge"})
        return self._http

    def targets(self, only: Iterable[str] | None = None) -> list[Target]:
        return targets(self.config, only)

    # -- refreshing --------------------------------------------------------------------------
    async def refresh(self, only: Iterable[str] | None = None) -> Snapshot:
        """Refresh every selected account concurrently (each behind its gate) and return the snapshot."""
        chosen = self.targets(only)
        results = await asyncio.gather(*(self.refresh_account(t) for t in chosen))
        return Snapshot(generated_at=self.clock(), providers=tuple(results))

    async def refresh_account(self, target: Target) -> ProviderSnapshot:
        lock = self._locks.setdefault(target.key, asyncio.Lock())
        async with lock:
            snapshot = await self._refresh_locked(target)
        for listener in self.listeners:
            listener(snapshot)
        return snapshot

    async def _refresh_locked(self, target: Target) -> ProviderSnapshot:
        provider, account = target.provider, target.account
        now = self.clock()
        state = await asyncio.to_thread(self.store.state, provider.id, account.account)
        previous = state.snapshot if state else None
        base = ProviderSnapshot(provider=provider.id, account=account.account, name=provider.name,
                                status=Status.UNCONFIGURED)
        if not account.enabled:
            return await self._save(evolve(base, **{"status": Status.DISABLED}), state, 0, 0.0)
        # Sources are found one at a time (discovery reads files, maybe a browser profile) and only
        # while the previous one was not enough.
        found = auth.credentials(provider, self._with_fresh(account), self.config)

        async def next_credentials() -> Credentials | None:
            return await asyncio.to_thread(next, found, None)

        try:
            creds: Credentials | None = await next_credentials()
        except AgentGaugeError as exc:
            return await self._fail(target, previous, state, exc, None, now, gate=False)
        if creds is None:
            first = provider.auth[0] if provider.auth else None
            error = ErrorInfo(kind=ErrorKind.AUTH, message=f"{provider.name}: no credentials found",
                              hint=first.hint if first else "This provider needs no setup.")
            return await self._save(evolve(base, **{"error": error}), state, 0, 0.0)

        ts = now.timestamp()
        hold = ts + provider.timeout * (len(provider.auth) + 1) + 5
        claimed = await asyncio.to_thread(self.store.claim, provider.id, account.account, ts, hold)
        if not claimed:
            # Inside the minimum interval, Retry-After or back-off, or another process is fetching.
            if previous is not None and previous.status not in (Status.UNCONFIGURED, Status.DISABLED):
                return previous
            return evolve(base, **{"status": Status.STALE, "source": creds.source})

        errors: list[ProviderError] = []
        while creds is not None:
            raw: dict[str, Any] | None = None
            try:
                raw = await self._fetch(target, creds)
                usage = provider.parse(raw, self.clock())
            except (AuthError, ChallengeError) as exc:
                errors.append(self._finish_error(exc, creds, provider.id, account.account))
                try:  # the next auth source may still work
                    creds = await next_credentials()
                except AgentGaugeError:
                    creds = None  # a broken fallback must not hide the first source's error
                continue
            except ProviderError as exc:
                return await self._fail(target, previous, state, self._finish_error(exc, creds, provider.id),
                                        (raw, creds), now)
            except Exception as exc:  # a bug or an upstream shape no check caught: contain it
                log.debug("unexpected error refreshing %s/%s", provider.id, account.account, exc_info=True)
                wrapped = ParseError(f"{provider.name}: could not read the response ({type(exc).__name__})",
                                     hint="This looks like an agentgauge bug or an upstream change; "
                                          "run with --verbose and report it.")
                return await self._fail(target, previous, state, wrapped, (raw, creds), now)
            fetched = self.clock()
            snapshot = evolve(base, **{
                "status": Status.OK, "plan": usage.plan, "source": creds.source, "windows": usage.windows,
                "fetched_at": fetched, "last_success_at": fetched, "error": None,
            })
            if previous is not None and previous.status in (Status.STALE, Status.ERROR) and (
                    state and state.failures):
                log.info("%s/%s recovered", provider.id, account.account)
            await asyncio.to_thread(self.store.record_samples, snapshot, fetched, self.config.heartbeat_seconds)
            return await self._save(snapshot, state, 0, fetched.timestamp() + provider.min_interval)
        return await self._fail(target, previous, state, errors[0], None, now)

    async def _fetch(self, target: Target, creds: Credentials) -> dict[str, Any]:
        provider = target.provider
        ctx = FetchContext(
            provider=provider, account=target.account.account, http=self.http,
            settings=auth.plain_settings(provider, target.account, self.config), credentials=creds,
            now=self.clock, log=logging.getLogger(f"agentgauge.providers.{provider.id}"),
            tokens=_KeptTokens(self, provider.id, target.account.account),
        )
        try:
            return await asyncio.wait_for(provider.fetch(ctx), timeout=provider.timeout)
        except TimeoutError:
            raise FetchTimeoutError(f"{provider.name}: no answer within {provider.timeout:g} s") from None

    def _with_fresh(self, account: AccountConfig) -> AccountConfig:
        fresh = self._fresh.get((account.provider, account.account))
        if fresh is None:
            return account
        values, expires_at, origin = fresh
        label = f"{ORIGIN_PREFIX} ({origin})"
        return replace(account, settings={**account.settings, **values},
                       origins={**account.origins, **dict.fromkeys(values, label)},
                       expires_at={**{k: v for k, v in account.expires_at.items() if k not in values},
                                   **(dict.fromkeys(values, expires_at) if expires_at else {})})

    @property
    def secrets(self) -> SecretStore:
        if self._secrets is None:
            self._secrets = SecretStore()
        return self._secrets

    def _finish_error(self, exc: ProviderError, creds: Credentials, provider_id: str,
                      account: str = "default") -> ProviderError:
        """Scrub secrets from the message and give auth errors the fix for where the credential came from."""
        exc.message = scrub(exc.message, creds.secrets())
        if isinstance(exc, AuthError):
            exc.hint = stored_hint(creds, provider_id, account, exc) or (
                creds.auth.hint if exc.hint == AuthError.default_hint else exc.hint)
        return exc

    async def _fail(self, target: Target, previous: ProviderSnapshot | None, state: Any, exc: AgentGaugeError,
                    raw_and_creds: tuple[dict[str, Any] | None, Credentials] | None, now: datetime,
                    *, gate: bool = True) -> ProviderSnapshot:
        provider, account = target.provider, target.account
        failures = (state.failures if state else 0) + 1
        has_data = previous is not None and previous.last_success_at is not None
        if failures == 1:  # log the transition into failing once; repeats stay quiet
            log.warning("%s/%s is failing: %s", provider.id, account.account, exc.message)
        wait = backoff_seconds(provider.min_interval, failures)
        if isinstance(exc, RateLimitedError):
            wait = max(wait, exc.retry_after or RATE_LIMIT_FLOOR, provider.min_interval)
        last_raw = None
        if raw_and_creds is not None and raw_and_creds[0] is not None and isinstance(exc, ParseError):
            raw, creds = raw_and_creds
            last_raw = scrub(dumps_raw(redact(raw, extra_keys=provider.redact_keys)), creds.secrets())
        snapshot = ProviderSnapshot(
            provider=provider.id, account=account.account, name=provider.name,
            status=Status.STALE if has_data else Status.ERROR,
            plan=previous.plan if has_data and previous else None,
            source=previous.source if has_data and previous else None,
            windows=previous.windows if has_data and previous else (),
            fetched_at=now, last_success_at=previous.last_success_at if previous else None,
            error=exc.info(),
        )
        next_allowed = now.timestamp() + wait if gate else 0.0
        return await self._save(snapshot, state, failures, next_allowed, last_raw)

    async def _save(self, snapshot: ProviderSnapshot, state: Any, failures: int, next_allowed_at: float,
                    last_raw: str | None = None) -> ProviderSnapshot:
        await asyncio.to_thread(self.store.save_state, snapshot, next_allowed_at=next_allowed_at,
                                failures=failures, last_raw=last_raw)
        return snapshot

    # -- scheduling (serve) -------------------------------------------------------------------
    async def run_scheduler(self, stop: asyncio.Event, *, interval: float, tick: float = 5.0,
                            on_tick: Callable[[], Any] | None = None) -> None:
        """Refresh each account every ``interval`` seconds (never faster than its provider's
        minimum), each on its own task so a slow provider never delays the others."""
        running: dict[tuple[str, str], asyncio.Task[ProviderSnapshot]] = {}
        started: dict[tuple[str, str], float] = {}
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            now = loop.time()
            for target in self.targets():
                task = running.get(target.key)
                if task is not None and not task.done():
                    continue
                every = max(interval, target.provider.min_interval)
                if now >= started.get(target.key, float("-inf")) + every:
                    started[target.key] = now
                    running[target.key] = asyncio.create_task(self.refresh_account(target))
            if on_tick is not None:
                on_tick()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick)
        for task in running.values():
            task.cancel()
        await asyncio.gather(*running.values(), return_exceptions=True)

"""The engine: refreshes accounts concurrently and politely, and keeps the last good data.

Policy lives here, not in adapters:
- every account is fetched at most once at a time (an in-process lock plus an atomic claim
  in the store, so two agentgauge processes on one database do not double-fetch);
- no fetch before the account's gate opens: the provider's minimum interval after any
  attempt, ``Retry-After`` (clamped to a day) after a 429, exponential back-off after
  repeated failures;
- each fetch runs under the provider's timeout, counted from its requests: time spent waiting for
  one of the ``host_concurrency`` slots to an upstream host does not count (agentgauge.upstream);
  one account's failure never touches another;
- the store calls of accounts refreshed together are grouped into one transaction each
  (agentgauge.batching): state reads, gate claims, and samples + forecast + state saves;
- on failure the last good windows stay, marked ``stale`` with an error and a hint; a
  response with no usable window at all is a ``parse`` error, never an empty ``ok``;
- an exception no check anticipated is an ``internal`` error, logged with its traceback;
- a log line when an account starts failing and one when it recovers, nothing in between;
- background chores (history pruning, the local-log cost index) run on the same scheduler,
  so ``serve`` and the CLI behave alike.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import traceback
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx

from ..accounts import Target, targets
from ..analytics import forecast_account
from ..batching import Batcher
from ..config import Config
from ..credentials import AccountCredentials, Vault, source_label
from ..errors import (
    AgentGaugeError,
    AuthError,
    ChallengeError,
    FetchTimeoutError,
    InternalError,
    ParseError,
    ProviderError,
    RateLimitedError,
    StoreUnavailableError,
)
from ..models import ErrorInfo, ErrorKind, ProviderSnapshot, Snapshot, Status, evolve
from ..net import browser_handles, client, profile_setting
from ..providers import Credentials, FetchContext
from ..secret import Secret, redact, scrub
from ..store import AccountState, Claim, Outcome, Store, dumps_raw
from ..upstream import MAX_QUEUED, HostLimits, LimitedClient, OriginPools, fetch_deadline
from .fetching import Capture, backoff_seconds, fetch_logger, usable
from .schedule import RESET_GRACE, Chore, Scheduling

__all__ = ["RESET_GRACE", "Capture", "Chore", "Engine", "backoff_seconds", "usable"]

log = logging.getLogger("agentgauge.engine")

RATE_LIMIT_FLOOR = 300.0  # a 429 without a usable Retry-After (Anthropic sends 0) waits at least this
MAX_RETRY_AFTER = 86400.0  # a Retry-After of years is an upstream mistake: never wait more than a day
PEER_WAIT_STEP = 0.25  # polling step while another process fetches an account we have no data for


class Engine(Scheduling):
    scheduler_tick = 5.0  # seconds between scheduler passes when nothing is due sooner

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        clock: Callable[[], datetime] | None = None,
        http: httpx.AsyncClient | None = None,
        vault: Vault | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.vault = vault or Vault(config)
        self.clock = clock or (lambda: datetime.now(UTC))
        self._http = http
        self._own_http = http is None
        self._browser_http: httpx.AsyncClient | None = None
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self.listeners: list[Callable[[ProviderSnapshot], Any]] = []
        self.chores: dict[str, Chore] = {}
        self._last_seen: dict[tuple[str, str], ProviderSnapshot] = {}  # what the scheduler saw last
        # When each account's gate opens (wall-clock seconds), as this process last saved or read it:
        # the scheduler never wakes an account before, so a claim is not refused for a few seconds.
        self._gates: dict[tuple[str, str], float] = {}
        self._monotonic = monotonic  # the scheduler's clock; None = the event loop's (tests inject one)
        self.host_limits = HostLimits(config.host_concurrency)
        # Group commits (agentgauge.batching): accounts refreshed together share their transactions.
        self._read_states = Batcher(self._states_of)
        self._claim = Batcher(store.claim_many)
        self._save_outcomes = Batcher(self._save_batch)

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._save_outcomes.wait_idle()
        if self._http is not None and self._own_http:
            await self._http.aclose()
            self._http = None
        if self._browser_http is not None:
            await self._browser_http.aclose()
            self._browser_http = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = LimitedClient(
                limits=self.host_limits,
                transport=OriginPools(keepalive=self.host_limits.per_host),
                timeout=httpx.Timeout(30.0),
                headers={"User-Agent": "agentgauge"},
            )
        return self._http

    def client_for(self, creds: Credentials) -> httpx.AsyncClient:
        """The HTTP client for one credential: a browser-like TLS handshake for the Cloudflare-fronted
        web paths that need it (docs/tls.md), unless turned off or a test client was injected."""
        profile = profile_setting(self.config.impersonate)
        if not creds.auth.impersonate or not self._own_http or profile is None:
            return self.http
        if self._browser_http is None:
            limited = functools.partial(LimitedClient, limits=self.host_limits, max_in_flight=browser_handles())
            self._browser_http = client(profile, timeout=30.0, client_class=limited)
        return self._browser_http

    def targets(self, only: Iterable[str] | None = None) -> list[Target]:
        return targets(self.config, only, default_wanted=self.vault.has_credentials)

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
        base = ProviderSnapshot(
            provider=provider.id, account=account.account, name=provider.name, status=Status.UNCONFIGURED
        )
        try:
            state = await self._read_states(target.key)
        except StoreUnavailableError as exc:
            # No gate can be read or claimed: skip this fetch (politeness first); the last data stays.
            last = self._last_seen.get(target.key)
            return last or evolve(base, status=Status.STALE, error=exc.info())
        previous = state.snapshot if state else None
        if not account.enabled:
            return await self._save(evolve(base, status=Status.DISABLED), 0, 0.0)
        found = self.vault.open(provider, account)
        try:
            # Sources are found one at a time (discovery reads files, maybe a browser profile) and
            # only while the previous one was not enough.
            creds = await asyncio.to_thread(found.next)
        except AgentGaugeError as exc:
            return await self._fail(
                target, previous, state, exc.bind(provider.id, account.account), None, now, gate=False
            )
        except Exception as exc:  # a bug in discovery: this account's internal error, not the whole refresh's
            wrapped = self._internal(target, exc, (), "looking for credentials")
            return await self._fail(target, previous, state, wrapped, None, now, gate=False)
        if creds is None:
            first = provider.auth[0] if provider.auth else None
            hint = first.hint if first else "This provider needs no setup."
            if previous is not None and previous.last_success_at is not None:
                return await self._no_credentials(target, previous, state, hint, now)
            error = ErrorInfo(kind=ErrorKind.AUTH, message=f"{provider.name}: no credentials found", hint=hint)
            return await self._save(evolve(base, error=error), 0, 0.0)

        # The gate counts from the claim, just before the request: a slow discovery (a browser
        # profile, a keychain prompt) must not bring two requests closer than the minimum interval.
        ts = self.clock().timestamp()
        hold = ts + provider.timeout * (len(provider.auth) + 1) + 5 + MAX_QUEUED
        claimed = await self._claim(Claim(provider.id, account.account, ts, hold))
        if not claimed:
            # Inside the minimum interval, Retry-After or back-off, or another process is fetching.
            if state is not None:
                self._gates[target.key] = max(self._gates.get(target.key, 0.0), state.next_allowed_at)
            if previous is not None and previous.status not in (Status.UNCONFIGURED, Status.DISABLED):
                return previous
            return await self._await_peer(
                target, evolve(base, status=Status.STALE, source=creds.source, source_label=source_label(creds))
            )

        errors: list[ProviderError] = []
        while creds is not None:
            raw: dict[str, Any] | None = None
            try:
                raw = await self._fetch(target, found, creds)
                usage = usable(provider.name, provider.parse(raw, self.clock()))
            except (AuthError, ChallengeError) as exc:
                errors.append(found.finish_error(exc, creds))
                try:  # the next auth source may still work
                    creds = await asyncio.to_thread(found.next)
                except Exception:
                    creds = None  # a broken fallback must not hide the first source's error
                continue
            except ProviderError as exc:
                return await self._fail(target, previous, state, found.finish_error(exc, creds), (raw, creds), now)
            except AgentGaugeError as exc:  # a setting that cannot work (config), not an upstream problem
                return await self._fail(target, previous, state, exc, None, now)
            except Exception as exc:  # a bug no check caught: say so, never as upstream drift (parse)
                wrapped = self._internal(target, exc, creds.secrets(), "reading the response")
                return await self._fail(target, previous, state, wrapped, (raw, creds), now)
            fetched = self.clock()
            snapshot = evolve(
                base,
                status=Status.OK,
                plan=usage.plan,
                source=creds.source,
                source_label=source_label(creds),
                windows=usage.windows,
                balances=usage.balances,
                breakdowns=usage.breakdowns,
                warnings=usage.warnings,
                note=usage.note,
                fetched_at=fetched,
                last_success_at=fetched,
                failing_since=None,
                error=None,
            )
            if previous is not None and previous.status in (Status.STALE, Status.ERROR) and state and state.failures:
                log.info("%s/%s recovered", provider.id, account.account)
            # Samples, the forecast made from them and the state, in one transaction with other
            # accounts'. The gate counts from the attempt's start, so an account scheduled every
            # min_interval is never found still closed by the few seconds its own fetch took.
            outcome = Outcome(
                snapshot,
                ts + provider.min_interval,
                0,
                sampled_at=fetched,
                heartbeat_seconds=self.config.heartbeat_seconds,
            )
            return await self._save_outcome(outcome)
        return await self._fail(target, previous, state, errors[0], None, now)

    async def _no_credentials(
        self, target: Target, previous: ProviderSnapshot, state: Any, hint: str, now: datetime
    ) -> ProviderSnapshot:
        """No credential here, but data from before (a push: the browser extension, a status line;
        or a login since removed): kept as is while the account's gate is closed (a fresh push holds
        it), then shown ``stale`` like after any failed fetch, never wiped."""
        if state is not None and state.next_allowed_at > now.timestamp():
            return previous
        fresh = await asyncio.to_thread(self.store.state, *target.key)  # a push may have landed meanwhile
        if (
            fresh is not None
            and fresh.snapshot is not None
            and fresh.snapshot.last_success_at != previous.last_success_at
        ):
            return fresh.snapshot
        came_from = previous.source_label or previous.source or "an earlier fetch"
        error = AuthError(
            f"{target.provider.name}: no credentials found (the data shown came from {came_from})", hint=hint
        )
        return await self._fail(target, previous, state, error, None, now, gate=False)

    @staticmethod
    def _internal(target: Target, exc: Exception, secrets: Iterable[Secret], doing: str) -> InternalError:
        """An exception no check anticipated: an ``internal`` error, logged once with its traceback
        (scrubbed: an exception's text may quote a response that echoed a credential)."""
        provider, account = target.provider, target.account.account
        trace = scrub("".join(traceback.format_exception(exc)), secrets).rstrip()
        log.error("internal error refreshing %s/%s (%s):\n%s", provider.id, account, doing, trace)
        return InternalError(f"{provider.name}: agentgauge failed {doing} ({type(exc).__name__})")

    # -- the store, in group commits (worker threads) -------------------------------------------
    def _states_of(self, keys: list[tuple[str, str]]) -> list[AccountState | None]:
        found = self.store.states_of(keys)
        return [found.get(key) for key in keys]

    def _save_batch(self, outcomes: list[Outcome]) -> list[ProviderSnapshot]:
        """Samples, then each window's forecast from stored history (agentgauge.analytics: a failing
        forecast never fails a refresh; through an outage the forecast comes with the next fetch),
        then the states."""
        return self.store.save_outcomes(outcomes, finish=self._forecast)

    def _forecast(self, outcome: Outcome) -> ProviderSnapshot:
        assert outcome.sampled_at is not None
        return forecast_account(self.store, outcome.snapshot, outcome.sampled_at)

    async def _save_outcome(self, outcome: Outcome) -> ProviderSnapshot:
        self._gates[outcome.snapshot.key] = outcome.next_allowed_at
        return await self._save_outcomes(outcome)

    async def _await_peer(self, target: Target, pending: ProviderSnapshot) -> ProviderSnapshot:
        """Another process holds the claim and we have no data: wait (bounded) for its result rather
        than show an empty ``stale`` account."""
        provider = target.provider
        log.info("%s/%s: another process is fetching it; waiting for its result", *target.key)
        deadline = asyncio.get_running_loop().time() + provider.timeout * (len(provider.auth) + 1) + 5
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(PEER_WAIT_STEP)
            state = await asyncio.to_thread(self.store.state, provider.id, target.account.account)
            if state is not None and state.snapshot is not None:
                return state.snapshot
        note = ErrorInfo(
            kind=ErrorKind.TIMEOUT,
            message=f"{provider.name}: another agentgauge process is fetching "
            "this account and its result is not in yet",
            hint="Run the command again in a few seconds.",
        )
        return evolve(pending, warnings=(note,))

    async def _fetch(self, target: Target, found: AccountCredentials, creds: Credentials) -> dict[str, Any]:
        provider = target.provider
        ctx = FetchContext(
            provider=provider,
            account=target.account.account,
            http=self.client_for(creds),
            settings=found.settings(),
            credentials=creds,
            now=self.clock,
            log=fetch_logger(provider.id, creds.secrets()),
            tokens=found.tokens,
        )
        try:
            async with fetch_deadline(provider.timeout):  # queued time for a host slot does not count
                return await provider.fetch(ctx)
        except TimeoutError:
            raise FetchTimeoutError(f"{provider.name}: no answer within {provider.timeout:g} s") from None

    async def _fail(
        self,
        target: Target,
        previous: ProviderSnapshot | None,
        state: Any,
        exc: AgentGaugeError,
        raw_and_creds: tuple[dict[str, Any] | None, Credentials] | None,
        now: datetime,
        *,
        gate: bool = True,
    ) -> ProviderSnapshot:
        provider, account = target.provider, target.account
        exc.bind(provider.id, account.account)
        failures = (state.failures if state else 0) + 1
        has_data = previous is not None and previous.last_success_at is not None
        if failures == 1:  # log the transition into failing once; repeats stay quiet
            log.warning("%s/%s is failing: %s", provider.id, account.account, exc.message)
        wait = backoff_seconds(provider.min_interval, failures)
        if isinstance(exc, RateLimitedError):
            wait = max(wait, exc.retry_after or RATE_LIMIT_FLOOR, provider.min_interval)
        wait = min(wait, MAX_RETRY_AFTER)
        last_raw = None
        if raw_and_creds is not None and raw_and_creds[0] is not None and isinstance(exc, ParseError | InternalError):
            raw, creds = raw_and_creds
            last_raw = scrub(dumps_raw(redact(raw, extra_keys=provider.redact_keys)), creds.secrets())
        failing_since = (
            previous.failing_since if previous and previous.failing_since and state and state.failures else now
        )
        snapshot = ProviderSnapshot(
            provider=provider.id,
            account=account.account,
            name=provider.name,
            status=Status.STALE if has_data else Status.ERROR,
            plan=previous.plan if has_data and previous else None,
            source=previous.source if has_data and previous else None,
            source_label=previous.source_label if has_data and previous else None,
            windows=previous.windows if has_data and previous else (),
            balances=previous.balances if has_data and previous else (),
            breakdowns=previous.breakdowns if has_data and previous else (),
            fetched_at=now,
            last_success_at=previous.last_success_at if previous else None,
            failing_since=failing_since,
            error=exc.info(),
        )
        next_allowed = now.timestamp() + wait if gate else 0.0
        return await self._save(snapshot, failures, next_allowed, last_raw)

    async def _save(
        self, snapshot: ProviderSnapshot, failures: int, next_allowed_at: float, last_raw: str | None = None
    ) -> ProviderSnapshot:
        return await self._save_outcome(Outcome(snapshot, next_allowed_at, failures, last_raw))

    async def capture(self, target: Target) -> Capture:
        """Fetch one account for diagnosis when its gate is open (politeness still applies), keeping
        the raw answer beside the parse outcome. The stored state is not changed."""
        provider, account = target.provider, target.account
        found = self.vault.open(provider, account)
        creds = await asyncio.to_thread(found.next)
        if creds is None:
            return Capture(None, None, None, None, "no credentials found: nothing fetched", [])
        secrets = creds.secrets()
        ts = self.clock().timestamp()
        claimed = await asyncio.to_thread(
            self.store.claim, provider.id, account.account, ts, ts + provider.min_interval
        )
        if not claimed:
            return Capture(
                None,
                creds.source,
                None,
                None,
                "the account was fetched moments ago (minimum interval "
                f"{provider.min_interval:g} s): try again later; the last failed answer is included "
                "when there is one",
                secrets,
            )
        raw: dict[str, Any] | None = None
        try:
            raw = await self._fetch(target, found, creds)
            usage = usable(provider.name, provider.parse(raw, self.clock()))
        except AgentGaugeError as exc:
            if isinstance(exc, ProviderError):
                found.finish_error(exc, creds)
            return Capture(raw, creds.source, None, exc.info().model_dump(mode="json"), "fetched now", secrets)
        except Exception as exc:
            error = InternalError(f"{provider.name}: agentgauge failed reading the response ({type(exc).__name__})")
            return Capture(raw, creds.source, None, error.info().model_dump(mode="json"), "fetched now", secrets)
        return Capture(raw, creds.source, usage.model_dump(mode="json"), None, "fetched now", secrets)

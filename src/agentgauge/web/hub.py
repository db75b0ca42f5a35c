"""The hub's endpoints (docs/hub.md).

``/api/hub/hello`` and ``/api/hub/push`` answer machines and authenticate them by their own token
(``Authorization: Bearer agh_...``, from ``agentgauge hub machines add``), whatever the server's
access token is: the Guard lets them through (``security.OPEN_PATHS``) and they check the machine's
token here, with a per-client back-off on wrong ones. ``/api/hub/machines`` lists the machines
behind the usual guard, like the rest of the API.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import __version__
from ..config import Config
from ..engine import Engine
from ..errors import FetchTimeoutError
from ..hub import HELLO_PATH, PUSH_PATH, machines, receive
from ..hub.fingerprint import hub_salt
from ..models import ProviderSnapshot, Status, evolve
from ..store import Store
from .limits import LoginThrottle

if TYPE_CHECKING:
    from .app import ServerState

log = logging.getLogger("agentgauge.web.hub")
MAX_BATCH = 4 * 1024 * 1024  # a batch once unzipped (BodyLimit caps the wire before this)
NO_STORE = {"cache-control": "no-store"}
STALE_AFTER = timedelta(minutes=30)  # no push for this long: the account shows stale, saying which machine went quiet
SWEEP_EVERY = 60.0  # seconds between looks for accounts no machine pushes any more


class HubEndpoints:
    """What the hub endpoints share: the wrong-token throttle and the listeners a push tells."""

    def __init__(self, config: Config, store: Store, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.store = store
        self.engine = engine
        self.clock = clock
        self.throttle = LoginThrottle(lambda: clock().timestamp())
        self._sweep: asyncio.Task[None] | None = None
        self._swept_at: datetime | None = None

    def changed(self, account: ProviderSnapshot) -> None:
        """A push changed an account: tell whoever a fetch tells (the live view, alerts, metrics)."""
        for listener in list(self.engine.listeners):
            listener(account)

    def tick(self) -> None:
        """On the scheduler's tick: once a minute, mark stale the pushed accounts no machine keeps fresh."""
        now = self.clock()
        if self._swept_at is not None and (now - self._swept_at).total_seconds() < SWEEP_EVERY:
            return
        if self._sweep is not None and not self._sweep.done():
            return
        self._swept_at = now
        self._sweep = asyncio.create_task(self._mark_overdue(now))

    async def _mark_overdue(self, now: datetime) -> None:
        try:
            for account in await asyncio.to_thread(overdue, self.store, now):
                self.changed(account)
        except Exception as exc:  # a sweep failing (the database away) must not stop the scheduler
            log.warning("looking for quiet machines failed: %s", getattr(exc, "message", None) or type(exc).__name__)


def overdue(store: Store, now: datetime) -> list[ProviderSnapshot]:
    """Pushed accounts shown ``ok`` whose data is older than ``STALE_AFTER``: saved as ``stale``
    with an error naming the machine that went quiet (the numbers stay)."""
    keys = [(str(p), str(a)) for p, a in store.query("SELECT DISTINCT provider, hub_account FROM hub_accounts")]
    if not keys:
        return []
    marked = []
    for key, state in store.states_of(keys).items():
        shown = state.snapshot
        if shown is None or shown.status != Status.OK or shown.fetched_at is None:
            continue
        quiet = now - shown.fetched_at
        if quiet < STALE_AFTER:
            continue
        error = FetchTimeoutError(
            f"{shown.name}: no machine has pushed this account for {int(quiet.total_seconds() // 60)} minutes "
            f"(last from {shown.machine})",
            hint=f"Check that `agentgauge serve --push-to` (or `agentgauge push`) still runs on {shown.machine} "
            "and reaches this hub; `agentgauge hub machines list` shows when each machine last pushed.",
        ).bind(*key)
        stale = evolve(shown, status=Status.STALE, error=error.info(), failing_since=now)
        store.save_state(stale, next_allowed_at=0.0, failures=state.failures + 1)
        marked.append(stale)
    return marked


def _endpoints(request: Request) -> HubEndpoints:
    state: ServerState = request.app.state.server
    return state.hub


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return JSONResponse(data, status_code=status, headers={**NO_STORE, **(headers or {})})


def _problem(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return _json({"error": message}, status, headers)


UNKNOWN = "this machine's token is unknown or was revoked: ask the hub's admin for a new one (docs/hub.md)"


async def _machine(request: Request, hub: HubEndpoints) -> machines.Machine | Response:
    """The machine the request's token belongs to, or the answer refusing it."""
    client = request.client.host if request.client else "unknown"
    wait = hub.throttle.retry_after(client)
    if wait:
        return _problem(429, "too many wrong machine tokens; wait and try again", {"retry-after": str(wait)})
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    machine = await asyncio.to_thread(machines.verify, hub.store, token, hub.clock()) if token else None
    if machine is None:
        hub.throttle.failed(client)  # a guess, or a typo: the back-off makes guessing slow
        return _problem(401, UNKNOWN, {"www-authenticate": "Bearer"})
    if not machine.active:  # a revoked machine still retrying is no guess: refused, not throttled
        return _problem(
            401, f"machine '{machine.name}' was revoked on this hub: {UNKNOWN}", {"www-authenticate": "Bearer"}
        )
    hub.throttle.succeeded(client)
    return machine


async def _body(request: Request) -> Any:
    """The request's JSON, gzip-encoded or not, at most ``MAX_BATCH`` bytes once unzipped."""
    raw = await request.body()
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding == "gzip":
        inflate = zlib.decompressobj(wbits=31)
        try:
            raw = inflate.decompress(raw, MAX_BATCH + 1)
        except zlib.error:
            raise ValueError("the body is not valid gzip") from None
        if len(raw) > MAX_BATCH or inflate.unconsumed_tail:
            raise ValueError("the batch is too large once unzipped: send fewer items")
    elif encoding not in ("", "identity"):
        raise ValueError(f"unsupported Content-Encoding '{encoding}' (gzip or none)")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("the body is not JSON") from None


async def hello(request: Request) -> Response:
    """Who this token belongs to, and the salt machines compute account fingerprints with."""
    hub = _endpoints(request)
    machine = await _machine(request, hub)
    if isinstance(machine, Response):
        return machine
    salt = await asyncio.to_thread(hub_salt, hub.store)
    return _json({"machine": machine.name, "salt": salt, "server": {"version": __version__}})


async def push(request: Request) -> Response:
    """A machine's batch: applied once (sequence numbers), recorded like fetches, merged by fingerprint."""
    hub = _endpoints(request)
    machine = await _machine(request, hub)
    if isinstance(machine, Response):
        return machine
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return _problem(415, "send the batch as JSON (application/json, gzip allowed)")
    try:
        stream, items = receive.parse_batch(await _body(request))
    except (ValueError, receive.BatchRejected) as exc:
        return _problem(400, str(exc))
    result = await asyncio.to_thread(receive.receive, hub.store, hub.config, machine, stream, items, hub.clock())
    for account in result.changed:
        hub.changed(account)
    return _json({"machine": machine.name, **result.to_json()})


async def machine_list(request: Request) -> Response:
    """The machines that may push here (names, ids, last push; never a token)."""
    hub = _endpoints(request)
    rows = await asyncio.to_thread(machines.machines, hub.store)
    return _json({"machines": [m.to_json() for m in rows]})


ROUTES = [
    Route(HELLO_PATH, hello),
    Route(PUSH_PATH, push, methods=["POST"]),
    Route("/api/hub/machines", machine_list),
]

"""How the engine talks to upstream hosts when it refreshes many accounts at once.

- Politeness: at most ``host_concurrency`` requests at once to one upstream host (scheme, host and
  port), however many accounts point there; the others wait for a slot, first come first served.
- A fetch's timeout counts from its requests, not from its place in that queue: while any request
  of the fetch waits for a slot, its clock stands still (``fetch_deadline``). The time a fetch may
  spend queued is bounded too (``MAX_QUEUED``), so the claim that guards the account can say how
  long the fetch may take at most.
- One connection pool per origin (``OriginPools``): httpcore's pool scans all its connections on
  every request, so a single pool holding hundreds of connections to many hosts spends its time
  scanning rather than sending.
- That scan asks each idle connection whether its socket is readable (closed by the server). Over
  anyio each answer builds the stream's whole attribute map, with a ``getpeername`` call, about a
  sixth of the engine's CPU in a refresh of a thousand accounts; ``QuickReadableStream`` keeps the
  socket and polls it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import select
import socket
import ssl
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

DEFAULT_HOST_CONCURRENCY = 16  # requests at once to one upstream host
# Idle connections are dropped sooner than servers drop them (uvicorn: 5 s; most: a minute or more),
# so a request never goes out on a connection the server is closing (a RemoteProtocolError).
KEEPALIVE_EXPIRY = 4.0
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_QUEUED = 120.0  # seconds a fetch may wait for slots before the wait counts against its timeout

_current: ContextVar[FetchDeadline | None] = ContextVar("agentgauge_fetch_deadline", default=None)

# httpcore asks ``import sniffio`` on every request and connection close; without sniffio installed
# each failed import searches sys.path again (about a millisecond: seconds of CPU per refresh of a
# thousand accounts). A None entry makes the same ImportError immediate.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


class FetchDeadline:
    """One fetch's timeout whose clock stops while the fetch waits for a connection slot.

    Several requests of one fetch may run at once (tasks copy the context, so they share this
    object): the clock stops while at least one of them waits and no longer than ``max_queued``
    in total."""

    def __init__(self, timeout: asyncio.Timeout, seconds: float, max_queued: float) -> None:
        self._timeout = timeout
        self._loop = asyncio.get_running_loop()
        self._left = seconds  # the budget left, kept while the clock stands still
        self._waiting = 0
        self._paused_at = 0.0
        self._queue_left = max_queued
        self.queued = 0.0  # seconds spent waiting for slots (diagnostics)

    def start(self) -> None:
        self._timeout.reschedule(self._loop.time() + self._left)

    def pause(self) -> None:
        self._waiting += 1
        if self._waiting > 1 or self._timeout.expired():
            return
        now = self._loop.time()
        when = self._timeout.when()
        if when is not None:
            self._left = max(0.0, when - now)
        self._paused_at = now
        # Waiting beyond the queue allowance counts again: the clock restarts when it is spent.
        self._timeout.reschedule(now + self._queue_left + self._left)

    def resume(self) -> None:
        self._waiting -= 1
        if self._waiting > 0 or self._timeout.expired():
            return
        now = self._loop.time()
        waited = now - self._paused_at
        self.queued += waited
        self._left = max(0.0, self._left - max(0.0, waited - self._queue_left))  # beyond the allowance it counts
        self._queue_left = max(0.0, self._queue_left - waited)
        self._timeout.reschedule(now + self._left)


@contextlib.asynccontextmanager
async def fetch_deadline(seconds: float, max_queued: float = MAX_QUEUED) -> AsyncIterator[FetchDeadline]:
    """``async with fetch_deadline(20):`` raises TimeoutError when the block's requests took longer
    than ``seconds`` in all, not counting the time they waited for a slot (up to ``max_queued``)."""
    async with asyncio.timeout(None) as timeout:
        deadline = FetchDeadline(timeout, seconds, max_queued)
        deadline.start()
        token = _current.set(deadline)
        try:
            yield deadline
        finally:
            _current.reset(token)


async def take_slot(slot: asyncio.Semaphore) -> None:
    """Acquire ``slot``; if that means waiting, the current fetch's clock stands still meanwhile."""
    if not slot.locked():
        await slot.acquire()  # free: returns without suspending
        return
    deadline = _current.get()
    if deadline is not None:
        deadline.pause()
    try:
        await slot.acquire()
    finally:
        if deadline is not None:
            deadline.resume()


def host_key(url: httpx.URL) -> str:
    """The upstream host a request goes to: scheme, host and port (the default port when none is given)."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme, 0)
    return f"{url.scheme}://{url.host}:{port}"


class HostLimits:
    """Connection slots per upstream host, shared by every client of one engine."""

    def __init__(self, per_host: int = DEFAULT_HOST_CONCURRENCY) -> None:
        if per_host < 1:
            raise ValueError("per_host must be at least 1")
        self.per_host = per_host
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: dict[str, asyncio.Semaphore] = {}
        self.in_flight: dict[str, int] = {}
        self.peak: dict[str, int] = {}  # the most requests seen at once per host (tests, diagnostics)

    async def acquire(self, url: httpx.URL) -> Callable[[], None]:
        """Wait for a slot to ``url``'s host; returns the function that gives it back (once)."""
        key = host_key(url)
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # semaphores belong to one event loop (a CLI may run several in turn)
            self._loop, self._slots = loop, {}
            self.in_flight = {}
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = asyncio.Semaphore(self.per_host)
        await take_slot(slot)
        count = self.in_flight[key] = self.in_flight.get(key, 0) + 1
        self.peak[key] = max(self.peak.get(key, 0), count)
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.in_flight[key] -= 1
                slot.release()

        return release


class _ReleasingStream(httpx.AsyncByteStream):
    """A streamed response's body that gives its host slot back when it is closed."""

    def __init__(self, inner: Any, release: Callable[[], None]) -> None:
        self._inner = inner
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._release()


class NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing. One client serves every account: a cookie one account's
    response sets (a rotated session, a Cloudflare cookie) must never go out with another account's
    request. Cookies an adapter sends are its own, per request."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


class LimitedClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` whose requests take a slot of their host first (``HostLimits``), and
    one of ``max_in_flight`` client-wide slots when the transport has a fixed number of handles (curl),
    so no request waits inside the transport where the fetch's clock would keep running. A slot is
    held until the response body is read (or a streamed response closed); redirects followed inside
    one ``send`` keep the first host's slot. It keeps no cookies between requests (``NoCookies``)."""

    def __init__(self, *args: Any, limits: HostLimits, max_in_flight: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.host_limits = limits
        self._client_slots = asyncio.Semaphore(max_in_flight) if max_in_flight else None

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, value: Any) -> None:
        if value:
            raise ValueError("the engine's client keeps no cookies; send an account's cookies with its request")

    async def send(self, request: httpx.Request, *, stream: bool = False, **kwargs: Any) -> httpx.Response:
        release_host = await self.host_limits.acquire(request.url)
        release = release_host
        if self._client_slots is not None:
            client_slots = self._client_slots
            try:
                await take_slot(client_slots)
            except BaseException:
                release_host()
                raise

            def release() -> None:
                release_host()
                client_slots.release()

        try:
            response = await super().send(request, stream=stream, **kwargs)
        except BaseException:
            release()
            raise
        if not stream:  # the body has been read and the connection given back
            release()
            return response
        response.stream = _ReleasingStream(response.stream, _once(release))
        return response


def _once(action: Callable[[], None]) -> Callable[[], None]:
    done = False

    def run() -> None:
        nonlocal done
        if not done:
            done = True
            action()

    return run


class OriginPools(httpx.AsyncBaseTransport):
    """One httpx transport (one connection pool) per origin. The host limit bounds each pool, so a
    pool never queues a request (``max_connections`` is left open) and keeps up to ``keepalive``
    idle connections for the next refresh. The pools share one TLS context: building one loads the
    CA store, tens of milliseconds of CPU each."""

    def __init__(self, keepalive: int) -> None:
        self._limits = httpx.Limits(
            max_connections=None, max_keepalive_connections=keepalive, keepalive_expiry=KEEPALIVE_EXPIRY
        )
        self._tls: ssl.SSLContext | None = None
        self._pools: dict[tuple[bytes, bytes, int | None], httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        pool = self._pools.get(key)
        if pool is None:
            if self._tls is None:
                self._tls = httpx.create_ssl_context()  # as httpx's default: certifi, or SSL_CERT_FILE
            pool = self._pools[key] = pooled_transport(self._limits, self._tls)
        try:
            return await pool.handle_async_request(request)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            if request.method not in IDEMPOTENT:
                raise
            # Most likely a kept-alive connection the server closed just as it was reused (the server
            # saw no request): a read is sent once more (the broken connection is dropped). Never a write.
            return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()


def pooled_transport(limits: httpx.Limits, tls: ssl.SSLContext) -> httpx.AsyncHTTPTransport:
    """httpx's transport over a connection pool whose streams answer "is it readable?" cheaply.
    httpx takes no network backend, so its pool is replaced by an equal one that has ours."""
    transport = httpx.AsyncHTTPTransport(limits=limits, verify=tls)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=QuickReadableBackend(),
    )
    return transport


class Readable:
    """Whether a read on a socket would return at once (data, or the end a closed connection reads
    as): one poll, on a poller registered once. httpcore asks for every idle connection of a pool at
    every request and every answer, many times within one pass of the event loop at a thousand
    accounts, so a "no" is kept for ``QUIET`` seconds: far below the margin between our keep-alive
    expiry and any server's, and a read that still meets a close is sent once more (OriginPools)."""

    QUIET = 0.002

    def __init__(self, sock: socket.socket | None) -> None:
        fd = -1 if sock is None else sock.fileno()
        self._fd = fd
        self._poller: Any = None
        self._quiet_until = 0.0
        if fd >= 0 and sys.platform != "win32" and hasattr(select, "poll"):
            self._poller = select.poll()
            self._poller.register(fd, select.POLLIN)

    def __call__(self) -> bool:
        if self._fd < 0:
            return True
        now = time.monotonic()
        if now < self._quiet_until:
            return False
        poller = self._poller
        readable = bool(poller.poll(0) if poller is not None else select.select([self._fd], [], [], 0)[0])
        if not readable:
            self._quiet_until = now + self.QUIET
        return readable


class QuickReadableStream(httpcore.AsyncNetworkStream):
    """anyio's stream (httpcore's default), with the raw socket taken once for ``is_readable``."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._readable = Readable(inner.get_extra_info("socket"))

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        return QuickReadableStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self._readable()
        return self._inner.get_extra_info(info)


class QuickReadableBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        return QuickReadableStream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.AsyncNetworkStream:
        return QuickReadableStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


_NO_COOKIES = NoCookies()

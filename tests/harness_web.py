"""Start the real ``serve`` app (demo providers on the simulator) in a background thread, and open
the dashboard in real Chromium (Playwright driving Debian's ``chromium``, never a downloaded browser)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from agentgauge.cli.demo import backfill, demo_config
from agentgauge.cli.serving import server_config
from agentgauge.models import (
    Balance,
    Breakdown,
    BreakdownItem,
    ErrorInfo,
    ErrorKind,
    ProviderSnapshot,
    Status,
    Window,
)
from agentgauge.sim.server import CalmServer, SimServer
from agentgauge.store import Store, open_store
from agentgauge.web.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FAR_FUTURE = 4_000_000_000.0  # a polling gate no test outlives: the scheduler never touches a seeded account


class MovableClock:
    """Real time plus an offset; the server's engine and the simulator move together."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class ServerInfo:
    """A running server. To make usage change, call ``advance(seconds)``: it moves the simulator's
    clock AND the server's clock (so per-account polling gates open), then POST api/refresh."""

    url: str  # including the root path, without a trailing slash
    origin: str
    sim_url: str
    store: Store
    sim: SimServer
    clock: MovableClock
    app: Any = None  # the ASGI app (tests swap parts of its state, e.g. the login throttle's clock)

    def advance(self, seconds: float) -> None:
        httpx.post(f"{self.sim_url}/__sim/advance", json={"seconds": seconds}).raise_for_status()
        self.clock.offset += timedelta(seconds=seconds)


@contextmanager
def running_server(
    demo: bool = True,
    root_path: str = "",
    token: str | None = None,
    *,
    bind_host: str = "127.0.0.1",
    history_days: float = 3.0,
    refresh_interval: float = 60.0,
    seed: Sequence[ProviderSnapshot] = (),
) -> Iterator[ServerInfo]:
    """``seed``: account states written straight into the store before the server starts, each behind a
    closed polling gate, so the page shows exactly them (states the simulator cannot produce)."""
    sim = SimServer().start()
    tmp = tempfile.mkdtemp(prefix="agentgauge-web-")
    config = demo_config(sim.url, workdir=Path(tmp) / "demo")
    config = replace(
        config, database_url=str(Path(tmp) / "web.db"), refresh_interval=refresh_interval, serve_token=token
    )
    if not demo:
        config = replace(config, accounts=tuple(replace(a, settings={}, origins={}) for a in config.accounts))
    store = open_store(config.database_url, data_dir=Path(tmp))
    if demo and history_days:
        asyncio.run(backfill(config, store, sim, days=history_days))
    for snapshot in seed:
        store.save_state(snapshot, next_allowed_at=FAR_FUTURE, failures=1)
    clock = MovableClock()
    app = create_app(config, store, bind_host=bind_host, root_path=root_path, demo=demo, clock=clock)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = CalmServer(server_config(app))  # uvicorn configured as `serve` runs it
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    origin = f"http://127.0.0.1:{port}"
    try:
        yield ServerInfo(
            url=origin + root_path, origin=origin, sim_url=sim.url, store=store, sim=sim, clock=clock, app=app
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        store.close()
        sim.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium (the system's, never a downloaded one) for one test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serve(**kwargs: Any) -> Iterator[ServerInfo]:
    """running_server from a worker thread: its history backfill uses asyncio.run, which refuses to
    run in the thread where Playwright's sync API keeps its own event loop."""
    manager = running_server(**kwargs)
    with ThreadPoolExecutor(1) as pool:
        info = pool.submit(manager.__enter__).result()
    try:
        yield info
    except BaseException as exc:
        if not manager.__exit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        manager.__exit__(None, None, None)


@contextmanager
def open_page(
    browser: Browser,
    info: ServerInfo,
    *,
    wait_for: str = ".card .bar",
    requests: list[tuple[str, str]] | None = None,
    fake_clock: bool = False,
    **options: Any,
) -> Iterator[Page]:
    """A fresh context and page on the dashboard; fails the test on any uncaught page error.
    ``requests`` collects (origin prefix, URL) of every request the page makes; ``fake_clock`` installs
    Playwright's clock before the page loads, so a test moves time with ``page.clock.run_for``."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 800}, **options})
    if fake_clock:
        context.clock.install()
    page = context.new_page()
    errors: list[str] = []
    prefix = info.url + "/"
    if requests is not None:
        page.on("request", lambda r: requests.append((prefix, r.url)))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(prefix)
        page.wait_for_selector(wait_for, timeout=10_000)
        yield page
    finally:
        context.close()
    assert not errors, errors


def sample_states(now: datetime) -> list[ProviderSnapshot]:
    """One state per demo account that the simulator cannot produce: stale with a network error and a
    partial-data warning, unlimited and reset-pending windows, balances, breakdowns, an internal error,
    a rate limit with its retry time. Times are relative to ``now``; the tests derive what they expect
    from these objects, so changing a number here changes the expectation too."""
    h = timedelta(hours=1)
    return [
        ProviderSnapshot(
            provider="claude",
            name="Claude",
            status=Status.STALE,
            plan="max_20x",
            source="oauth",
            windows=(
                Window(id="session", label="Session (5h)", used_pct=88.0, resets_at=now + 2 * h, window_seconds=18000),
                Window(id="weekly", label="Weekly", used_pct=41.0, resets_at=now + 75 * h),
            ),
            fetched_at=now - timedelta(seconds=60),
            last_success_at=now - 3 * h,
            failing_since=now - 2 * h,
            error=ErrorInfo(
                kind=ErrorKind.NETWORK,
                message="usage request failed: ConnectError",
                hint="Check the network connection and the provider's base URL setting.",
            ),
            warnings=(
                ErrorInfo(
                    kind=ErrorKind.PARSE,
                    message="weekly_opus: 'utilization' is missing",
                    hint="Update agentgauge; the rest of the response is shown.",
                ),
            ),
        ),
        ProviderSnapshot(
            provider="codex",
            name="Codex",
            status=Status.OK,
            plan="pro",
            source="oauth",
            source_label="Codex CLI login",
            windows=(
                Window(id="session", label="Session (5h)", used_pct=42.0, resets_at=now + 1.5 * h),
                Window(id="weekly", label="Weekly", used_pct=0.0, unlimited=True),
            ),
            balances=(Balance(id="credits", label="Credits", unit="credits", remaining=1250, limit=5000),),
            breakdowns=(
                Breakdown(
                    id="tokens_daily",
                    label="Tokens per day",
                    unit="tokens",
                    items=tuple(
                        BreakdownItem(key=f"2026-11-{20 + i}", label=f"Nov {20 + i}", value=value)
                        for i, value in enumerate((120_000, 340_500, 98_000, 1_204_000, 560_000, 0, 77_777))
                    ),
                ),
            ),
            fetched_at=now - timedelta(seconds=30),
            last_success_at=now - timedelta(seconds=30),
        ),
        ProviderSnapshot(
            provider="codex",
            account="work",
            name="Codex",
            status=Status.ERROR,
            source="cookie",
            fetched_at=now - timedelta(seconds=90),
            failing_since=now - timedelta(seconds=90),
            error=ErrorInfo(
                kind=ErrorKind.INTERNAL,
                message="Codex: could not read the response (KeyError)",
                hint="This is a bug in agentgauge; run with -vv and report it.",
            ),
        ),
        ProviderSnapshot(
            provider="kimi",
            name="Kimi Code",
            status=Status.OK,
            source="api_key",
            source_label="API key",
            windows=(
                Window(
                    id="session",
                    label="Session (5h)",
                    used_pct=51.0,
                    resets_at=now + 2 * h,
                    used=102,
                    limit=200,
                    unit="requests",
                ),
                Window(
                    id="weekly",
                    label="Weekly",
                    used_pct=63.0,
                    resets_at=now - timedelta(minutes=10),
                    used=1290,
                    limit=2048,
                    unit="requests",
                    reset_pending=True,
                ),
            ),
            fetched_at=now - timedelta(minutes=20),
            last_success_at=now - timedelta(minutes=20),
        ),
        ProviderSnapshot(
            provider="zai",
            name="z.ai",
            status=Status.STALE,
            plan="Pro",
            source="api_key",
            windows=(
                Window(id="session", label="Session (5h)", used_pct=30.0, resets_at=now + 4 * h),
                Window(id="weekly", label="Weekly", used_pct=55.0, resets_at=now + 50 * h),
            ),
            breakdowns=(
                Breakdown(
                    id="tool_calls",
                    label="Calls per tool",
                    unit="calls",
                    items=(
                        BreakdownItem(key="search", label="Web search", value=120, limit=1000),
                        BreakdownItem(key="reader", value=80),
                        BreakdownItem(key="zread", value=3),
                    ),
                ),
            ),
            fetched_at=now - timedelta(seconds=60),
            last_success_at=now - timedelta(minutes=10),
            failing_since=now - timedelta(minutes=5),
            error=ErrorInfo(
                kind=ErrorKind.RATE_LIMITED,
                message="z.ai: usage was rate limited (HTTP 429); retry after 600 s",
                hint="agentgauge backs off automatically; the last good data stays shown.",
            ),
        ),
        ProviderSnapshot(
            provider="ollama",
            name="Ollama",
            status=Status.OK,
            plan="pro",
            source="cookie",
            source_label="browser cookie (Firefox)",
            windows=(
                Window(id="session", label="Session", used_pct=5.25, resets_at=now + 3 * h),
                Window(id="weekly", label="Weekly", used_pct=7.0, resets_at=now + 30 * h),
            ),
            balances=(
                Balance(
                    id="prepaid",
                    label="Prepaid credits",
                    unit="usd",
                    remaining=12.5,
                    limit=50,
                    expires_at=now + 40 * 24 * h,
                ),
                Balance(
                    id="key_limit",
                    label="Key spend limit",
                    unit="usd",
                    used=3.2,
                    limit=10,
                    period="monthly",
                    resets_at=now + 12 * 24 * h,
                ),
            ),
            fetched_at=now - timedelta(seconds=10),
            last_success_at=now - timedelta(seconds=10),
        ),
    ]

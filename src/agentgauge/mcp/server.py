"""The MCP server: tools and a resource over a backend (store or ``serve``), with the official SDK.

Tools are thin: each reads through the query layer (``query.agents`` for pick and guard) and
answers a capped view (``mcp.views``). ``refresh`` exists only with ``mcp_refresh = true`` and is
rate-limited here on top of the engine's per-account gates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import orjson
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from .. import __version__
from ..errors import AgentGaugeError
from ..query.agents import guard, pick_report
from . import views
from .backends import Backend
from .cap import Payload

NAME = "agentgauge"
REFRESH_EVERY = 60.0  # seconds between two refresh calls an MCP client may make
MAX_WAIT = 75.0
INSTRUCTIONS = (
    "agentgauge reports the usage limits of AI coding agents and model providers (percent used per "
    "window, reset times, forecasts, estimated cost) from its local store, which `agentgauge serve` "
    "keeps current in the background. Do not poll these tools: ask once before dispatching heavy "
    "work (pick_provider, check_headroom) and again only when a reset time has passed. Always quote "
    "the time the numbers are from (data_time), not just the numbers."
)
QUOTE = " Quote data_time with any number you report; do not call this in a loop (the data changes every few minutes)."
READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)


def answer(payload: Payload) -> CallToolResult:
    """Compact JSON text for the model, the same object as structured content for programs."""
    return CallToolResult(
        content=[TextContent(type="text", text=orjson.dumps(payload).decode())], structured_content=payload
    )


class RefreshLimiter:
    def __init__(self, every: float = REFRESH_EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.last = float("-inf")

    def wait_left(self) -> float:
        return max(0.0, self.last + self.every - self.clock())

    def take(self) -> None:
        self.last = self.clock()


def build(backend: Backend, *, limiter: RefreshLimiter | None = None) -> MCPServer:
    app: MCPServer = MCPServer(name=NAME, instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")

    @app.tool(
        title="Usage limits",
        description="Every account's usage windows: percent used and remaining, reset time, forecast verdict, "
        "plus balances. Filter with provider (an id such as claude, codex, zai) and account." + QUOTE,
        annotations=READ_ONLY,
    )
    def get_usage(
        provider: Annotated[str | None, Field(description="Only this provider id")] = None,
        account: Annotated[str | None, Field(description="Only this account (default: every account)")] = None,
    ) -> CallToolResult:
        return answer(views.usage(backend.snapshot(), backend.now(), provider, account))

    @app.tool(
        title="Pick a provider",
        description="Rank accounts by headroom on their tightest window (most left first); with hours, accounts "
        "whose forecast runs out within that time rank last. Stale and failing accounts are listed under "
        "excluded unless include_stale. Use the choice to route heavy work." + QUOTE,
        annotations=READ_ONLY,
    )
    def pick_provider(
        providers: Annotated[list[str] | None, Field(description="Only these provider ids")] = None,
        hours: Annotated[float | None, Field(description="Must last this many hours", gt=0, le=24 * 31)] = None,
        include_stale: Annotated[bool, Field(description="Rank stale accounts too (after fresh ones)")] = False,
    ) -> CallToolResult:
        report = pick_report(
            backend.snapshot(), backend.now(), providers=providers or (), include_stale=include_stale, hours=hours
        )
        return answer(views.pick(report))

    @app.tool(
        title="Check headroom",
        description="Is this account safe to use: at least min_remaining_pct left on the window (tightest by "
        "default)? verdict safe / below / unavailable (no fresh-enough data; fail_open allows it). Same rule and "
        "codes as `agentgauge guard` (0, 1, 69)." + QUOTE,
        annotations=READ_ONLY,
    )
    def check_headroom(
        provider: Annotated[str, Field(description="Provider id, e.g. claude")],
        account: Annotated[str, Field(description="Account name")] = "default",
        min_remaining_pct: Annotated[float, Field(ge=0, le=100)] = 10.0,
        window: Annotated[str, Field(description="tightest, session, weekly or any window id")] = "tightest",
        max_age_minutes: Annotated[float, Field(gt=0, description="Older data counts as unavailable")] = 60.0,
        fail_open: Annotated[bool, Field(description="Treat unavailable as safe")] = False,
    ) -> CallToolResult:
        from datetime import timedelta

        snapshot, now = backend.snapshot(), backend.now()
        result = guard(
            snapshot,
            provider,
            min_remaining=min_remaining_pct,
            account=account,
            window=window,
            now=now,
            max_age=timedelta(minutes=max_age_minutes),
            fail_open=fail_open,
        )
        row = next((p for p in snapshot.providers if p.provider == provider and p.account == account), None)
        return answer(
            views.headroom(result, provider, account, min_remaining_pct, row.last_success_at if row else None)
        )

    @app.tool(
        title="Forecast",
        description="Where each window of a provider's accounts will stand at its reset: verdict (ok, watch, "
        "will_run_out, surplus, learning), expected percent with a p10-p90 range, run-out time, burn rate "
        "per hour." + QUOTE,
        annotations=READ_ONLY,
    )
    def get_forecast(
        provider: Annotated[str, Field(description="Provider id")],
        account: Annotated[str | None, Field(description="Only this account")] = None,
        window: Annotated[str | None, Field(description="Only this window id")] = None,
    ) -> CallToolResult:
        return answer(views.forecasts(backend.snapshot(), backend.now(), provider, account, window))

    @app.tool(
        title="Estimated cost",
        description="Estimated spend today, last 7 and 30 days from local Claude Code and Codex logs, per agent "
        "and for the costliest models. An estimate from token counts and list prices, not a bill.",
        annotations=READ_ONLY,
    )
    async def get_cost() -> CallToolResult:
        summary = await backend.cost_summary()
        if summary is None:
            raise ToolError("the local-log index could not be read; see agentgauge's log")
        return answer(views.cost(summary))

    if backend.config.mcp_refresh:
        gate = limiter or RefreshLimiter()

        @app.tool(
            title="Refresh",
            description="Ask agentgauge to fetch fresh usage now and wait up to wait_seconds for it. Each "
            f"provider still allows one fetch per its minimum interval, and this tool one call per {REFRESH_EVERY:g} "
            "s: use it only when the data is too old for a decision, never in a loop." + QUOTE,
            annotations=ToolAnnotations(read_only_hint=False, idempotent_hint=True, open_world_hint=True),
        )
        async def refresh(
            provider: Annotated[str | None, Field(description="Only this provider id")] = None,
            account: Annotated[str | None, Field(description="Only this account")] = None,
            wait_seconds: Annotated[float, Field(ge=0, le=MAX_WAIT)] = 30.0,
        ) -> CallToolResult:
            left = gate.wait_left()
            if left > 0:
                payload = views.usage(backend.snapshot(), backend.now(), provider, account)
                return answer({"refreshed": False, "retry_after_seconds": round(left), **payload})
            gate.take()
            try:
                fresh = await backend.refresh(provider, account, wait_seconds)
            except AgentGaugeError as exc:
                raise ToolError(exc.message) from None
            payload = views.usage(backend.snapshot(), backend.now(), provider, account)
            return answer({"refreshed": True, "fresh": fresh, **payload})

    @app.resource(
        "agentgauge://snapshot",
        name="snapshot",
        title="Usage snapshot",
        description="The agentgauge.snapshot.v2 document (docs/snapshot.md) of every account, capped in size.",
        mime_type="application/json",
    )
    def snapshot() -> str:
        return orjson.dumps(views.snapshot_resource(backend.snapshot())).decode()

    return app

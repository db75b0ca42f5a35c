"""The simulator's ollama endpoints: the same protocol as the real service (loaded only by the simulator)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..simkit import SimContext, iso
from . import LEGACY_COOKIE, PROVIDER, SESSION_COOKIE, SETTINGS_PATH


def routes(sim: SimContext) -> Mapping[str, list[Any]]:
    def account_of(request: Request) -> str | None:
        # The simulator's credential is a whole Cookie header; the session is its value, which
        # ollama.com takes in the WorkOS cookie or in the session cookie it used before.
        expected = sim.credential(PROVIDER.id, "cookie").split("=", 1)[-1]
        presented = request.cookies.get(SESSION_COOKIE) or request.cookies.get(LEGACY_COOKIE)
        if not presented:
            return None
        if presented == expected:
            return "default"
        if presented.startswith(expected + "#") and len(presented) > len(expected) + 1:
            return presented[len(expected) + 1 :]
        return None

    async def settings(request: Request) -> Response:
        account = account_of(request)
        if account is None:
            return RedirectResponse(str(request.url).replace(SETTINGS_PATH, "/signin"), status_code=302)
        session_pct, session_reset = sim.window(f"ollama:{account}:session", 5 * 3600)
        weekly_pct, weekly_reset = sim.window(f"ollama:{account}:weekly", 604800)
        return HTMLResponse(
            "<html><body><div>\n"
            '  <h2 class="text-xl"><span>Cloud Usage</span> <span class="text-xs">pro</span></h2>\n'
            f'  <h2 id="header-email">{account}@example.com</h2>\n'
            f"  <div><span>Session usage</span><span>{session_pct}% used</span>\n"
            f'    <div class="local-time" data-time="{iso(session_reset)}">Resets soon</div></div>\n'
            f"  <div><span>Weekly usage</span><span>{weekly_pct}% used</span>\n"
            f'    <div class="local-time" data-time="{iso(weekly_reset)}">Resets later</div></div>\n'
            "</div></body></html>\n"
        )

    async def signin(request: Request) -> Response:
        return HTMLResponse(
            '<html><body><h1>Sign in to Ollama</h1><form action="/auth/signin" method="post">'
            '<input type="email" name="email" /><input type="password" name="password" /></form>'
            "</body></html>"
        )

    return {"url": [Route(SETTINGS_PATH, settings), Route("/signin", signin)]}

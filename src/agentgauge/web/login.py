"""``/login``: the browser's way to present the access token once and get a session cookie.

Unauthenticated by nature, so it is throttled per client (``LoginThrottle``: 429 + Retry-After
with a growing back-off), reads at most the capped body (``BodyLimit``) and compares the token
in constant time."""

from __future__ import annotations

import base64
import hashlib

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from .limits import LoginThrottle
from .security import COOKIE, login_token, new_session, same_secret

STYLE = (
    "body{font:16px system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}"
    "input,button{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin:.25rem 0}"
)
STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()  # allowed by the CSP

FORM = f"""<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport"
content="width=device-width,initial-scale=1"><title>agentgauge · sign in</title>
<style>{STYLE}</style>
<h1>agentgauge</h1><form method="post" action="login"><label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button></form>{{message}}</html>"""


def _form(message: str = "", status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = FORM.replace("{message}", f"<p role=alert>{message}</p>" if message else "")
    return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store", **(headers or {})})


async def login(request: Request) -> Response:
    token: str | None = request.app.state.server.config.serve_token
    throttle: LoginThrottle = request.app.state.login_throttle
    if request.method == "GET":
        return _form()
    if token is None:
        return RedirectResponse("./", status_code=303)
    client = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(client)
    if wait:
        return _form(f"Too many wrong tokens: try again in {wait} s.", 429, {"retry-after": str(wait)})
    given = login_token(await request.body())
    if not given or not same_secret(given, token):
        throttle.failed(client)
        return _form("Wrong token.", 401)
    throttle.succeeded(client)
    response = RedirectResponse("./", status_code=303)
    response.set_cookie(
        COOKIE,
        new_session(token),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=request.scope.get("root_path") or "/",
    )
    return response

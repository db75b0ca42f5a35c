"""The pages of multi-user mode (docs/users.md): ``/login`` with a name and a password, ``/setup``
where the one-time code makes the first admin, ``/logout``, and the settings page's shell.

Passwords are checked off the event loop; every failure counts against the client in the login
back-off (``LoginThrottle``) that the token login uses too. The forms reuse the token login's style,
which the Content-Security-Policy allows by hash.
"""

from __future__ import annotations

import asyncio
import html
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..errors import ConfigError
from ..users import people, sessions, setup
from .limits import LoginThrottle
from .login import STYLE
from .pages import static_page
from .security import COOKIE, CSRF_STATE
from .users import NO_STORE, client_of, identities_of, principal

PAGE = f"""<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport"
content="width=device-width,initial-scale=1"><title>agentgauge · {{title}}</title>
<style>{STYLE}</style><h1>agentgauge</h1>{{body}}</html>"""

LOGIN_FORM = """<form method="post" action="login">
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>"""

SETUP_FORM = """<p>Create the first admin. The setup code was printed where the server started.</p>
<form method="post" action="setup">
<label for="code">Setup code</label>
<input id="code" name="code" autocomplete="one-time-code" required autofocus>
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">Password (8 characters or more)</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="8">
<label for="password2">Password again</label>
<input id="password2" name="password2" type="password" autocomplete="new-password" required minlength="8">
<button type="submit">Create admin</button></form>"""


def _page(
    title: str, form: str, message: str = "", status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    alert = f"<p role=alert>{html.escape(message)}</p>" if message else ""
    body = PAGE.replace("{title}", title).replace("{body}", form + alert)
    return HTMLResponse(body, status_code=status, headers={**NO_STORE, **(headers or {})})


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items() if v}


def _signed_in(request: Request, cookie: str, to: str = "./") -> Response:
    response = RedirectResponse(to, status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=sessions.LIFETIME,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=request.scope.get("root_path") or "/",
    )
    return response


async def login(request: Request) -> Response:
    """Multi-user mode's ``/login``: a name and a password, throttled per client."""
    identities = identities_of(request)
    if await asyncio.to_thread(identities.setup_needed):
        return RedirectResponse("setup", status_code=303)
    if request.method == "GET":
        return _page("sign in", LOGIN_FORM)
    throttle: LoginThrottle = request.app.state.login_throttle
    client = client_of(request)
    wait = throttle.retry_after(client)
    if wait:
        return _page(
            "sign in", LOGIN_FORM, f"Too many failed sign-ins: try again in {wait} s.", 429, {"retry-after": str(wait)}
        )
    form = _form(await request.body())
    user = await asyncio.to_thread(
        people.authenticate, identities.store, form.get("username", ""), form.get("password", "")
    )
    if user is None:
        throttle.failed(client)
        return _page("sign in", LOGIN_FORM, "Wrong user name or password.", 401)
    throttle.succeeded(client)
    cookie, _session = await asyncio.to_thread(sessions.start, identities.store, user, identities.clock())
    return _signed_in(request, cookie)


async def setup_page(request: Request) -> Response:
    """``/setup``: the one-time code, a name and a password make the first admin (then it is gone)."""
    identities = identities_of(request)
    if not identities.users_mode or not await asyncio.to_thread(identities.setup_needed):
        return RedirectResponse("login" if identities.users_mode else "./", status_code=303)
    if request.method == "GET":
        return _page("set up", SETUP_FORM)
    throttle: LoginThrottle = request.app.state.login_throttle
    client = client_of(request)
    wait = throttle.retry_after(client)
    if wait:
        return _page(
            "set up", SETUP_FORM, f"Too many wrong codes: try again in {wait} s.", 429, {"retry-after": str(wait)}
        )
    form = _form(await request.body())
    if form.get("password", "") != form.get("password2", ""):
        return _page("set up", SETUP_FORM, "The two passwords differ.", 400)
    try:
        user = await asyncio.to_thread(
            setup.redeem,
            identities.store,
            form.get("code", ""),
            form.get("username", ""),
            form.get("password", ""),
            identities.clock(),
        )
    except ConfigError as exc:
        return _page("set up", SETUP_FORM, exc.message, 400)
    if user is None:
        throttle.failed(client)
        return _page("set up", SETUP_FORM, "Wrong or expired setup code.", 401)
    throttle.succeeded(client)
    cookie, _session = await asyncio.to_thread(sessions.start, identities.store, user, identities.clock())
    return _signed_in(request, cookie, "settings")


async def logout(request: Request) -> Response:
    """End this browser's session (multi-user mode) and drop its cookie; the page then shows sign-in."""
    auth = principal(request)
    if auth.session is not None:
        await asyncio.to_thread(sessions.end, identities_of(request).store, auth.session)
    response = JSONResponse({"ok": True}, headers=NO_STORE)
    response.delete_cookie(COOKIE, path=request.scope.get("root_path") or "/")
    return response


async def settings_page(request: Request) -> Response:
    """The settings page (accounts, users, keys, alerts); its CSRF token is in the page, as on the dashboard."""
    page = static_page("settings.html")
    csrf = (request.scope.get("state") or {}).get(CSRF_STATE)
    if csrf is not None:
        page = page.replace(b"</head>", f'<meta name="agentgauge-csrf" content="{csrf}">\n</head>'.encode(), 1)
    return HTMLResponse(page, headers=NO_STORE)


ROUTES = [
    Route("/setup", setup_page, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/settings", settings_page),
]

"""People and keys over HTTP (docs/users.md): ``/api/me``, and managing users and API keys from the
dashboard's settings page (the sign-in and setup pages are in ``signin``).

``StoreIdentities`` is what the Guard asks (in a worker thread) who a session cookie or an API key
belongs to. Passwords are hashed off the event loop. Every failed sign-in or setup code counts
against the client in the login back-off (``LoginThrottle``) shared with the token login.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import ConfigError
from ..store import Store
from ..users import keys, people, sessions, setup
from .limits import LoginThrottle
from .security import PRINCIPAL_STATE, Auth

if TYPE_CHECKING:
    from ..config import Config

NO_STORE = {"cache-control": "no-store"}
MAX_JSON = 16 * 1024


class StoreIdentities:
    """The Guard's view of users, sessions and API keys (blocking: it calls these from a thread)."""

    def __init__(self, config: Config, store: Store, clock: Callable[[], datetime]) -> None:
        self.users_mode = config.auth == "users"
        self.store = store
        self.clock = clock
        self._set_up = False  # once a user exists setup never reopens (the last admin cannot be removed)

    def setup_needed(self) -> bool:
        if self._set_up:
            return False
        self._set_up = not setup.needed(self.store)
        return not self._set_up

    def session(self, cookie: str) -> Auth | None:
        found = sessions.lookup(self.store, cookie, self.clock())
        if found is None:
            return None
        return Auth("session", found.csrf, found.user.role, user=found.user, session=found.id_sha256)

    def api_key(self, token: str) -> Auth | None:
        key = keys.verify(self.store, token, self.clock())
        return None if key is None else Auth("key", role=key.role(), user=key.owner, key=key)

    def first_start(self) -> str | None:
        """Multi-user mode with no user yet: a fresh one-time setup code to print (else None)."""
        if not self.users_mode:
            return None
        return setup.new_code(self.store, self.clock())


def principal(request: Request) -> Auth:
    found = (request.scope.get("state") or {}).get(PRINCIPAL_STATE)
    return found if isinstance(found, Auth) else Auth("open")


def actor(request: Request) -> str:
    """Who made a change, for the log and ``updated_by``: the user, else how the request got in."""
    auth = principal(request)
    if auth.user is not None:
        return auth.user.name
    return {"bearer": "access token", "cookie": "access token"}.get(auth.how, auth.how)


def identities_of(request: Request) -> StoreIdentities:
    found: StoreIdentities = request.app.state.identities
    return found


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def problem(status: int, message: str, hint: str | None = None) -> JSONResponse:
    body = {"error": message, **({"hint": hint} if hint else {})}
    return JSONResponse(body, status_code=status, headers=NO_STORE)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; ConfigError for anything else (a 400)."""
    raw = await request.body()
    if len(raw) > MAX_JSON:
        raise ConfigError("the request body is too large")
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise ConfigError("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise ConfigError("the request body must be a JSON object")
    return data


def text_field(data: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ConfigError(f"'{name}' is required (a string)")
    return value


# -- /api/me, /api/users, /api/keys ---------------------------------------------------------------


def me_json(request: Request) -> dict[str, Any]:
    auth = principal(request)
    identities = identities_of(request)
    return {
        "mode": "users" if identities.users_mode else "single",
        "via": {"open": "open", "bearer": "token", "cookie": "token", "session": "session", "key": "key"}[auth.how],
        "role": auth.role,
        "user": auth.user.to_json() if auth.user is not None else None,
        "key": auth.key.to_json() if auth.key is not None else None,
        "can_sign_out": auth.how in ("session", "cookie"),
    }


async def me(request: Request) -> Response:
    return JSONResponse(me_json(request), headers=NO_STORE)


async def change_password(request: Request) -> Response:
    """A signed-in user's own password: the current one, then the new one. Their other sessions end."""
    auth = principal(request)
    if auth.how != "session" or auth.user is None:
        return problem(400, "only a signed-in user has a password to change")
    identities = identities_of(request)
    try:
        data = await json_body(request)
        current, new = text_field(data, "current"), text_field(data, "new")
    except ConfigError as exc:
        return problem(400, exc.message, exc.hint)
    throttle: LoginThrottle = request.app.state.login_throttle
    client = client_of(request)
    wait = throttle.retry_after(client)
    if wait:
        return problem(429, f"too many wrong passwords: try again in {wait} s")
    checked = await asyncio.to_thread(people.authenticate, identities.store, auth.user.name, current)
    if checked is None:
        throttle.failed(client)
        return problem(403, "the current password is wrong")
    throttle.succeeded(client)
    try:
        await asyncio.to_thread(
            people.set_password, identities.store, auth.user.name, new, identities.clock(), keep_session=auth.session
        )
    except ConfigError as exc:
        return problem(400, exc.message, exc.hint)
    return JSONResponse({"ok": True}, headers=NO_STORE)


async def list_users(request: Request) -> Response:
    found = await asyncio.to_thread(people.all_users, identities_of(request).store)
    return JSONResponse({"users": [u.to_json() for u in found]}, headers=NO_STORE)


async def add_user(request: Request) -> Response:
    identities = identities_of(request)
    try:
        data = await json_body(request)
        user = await asyncio.to_thread(
            people.add,
            identities.store,
            text_field(data, "name"),
            text_field(data, "password"),
            text_field(data, "role", required=False) or "viewer",
            identities.clock(),
        )
    except ConfigError as exc:
        status = 409 if "already exists" in exc.message else 400
        return problem(status, exc.message, exc.hint)
    return JSONResponse({"user": user.to_json()}, status_code=201, headers=NO_STORE)


async def change_user(request: Request) -> Response:
    """An admin changes a user's role and/or sets a new password (which signs them out)."""
    identities = identities_of(request)
    name = request.path_params["name"]
    try:
        data = await json_body(request)
        role, password = data.get("role"), data.get("password")
        if role is None and password is None:
            raise ConfigError("nothing to change: give 'role' and/or 'password'")
        user = None
        if isinstance(role, str):
            user = await asyncio.to_thread(people.set_role, identities.store, name, role)
        elif role is not None:
            raise ConfigError("'role' must be a string")
        if isinstance(password, str):
            user = await asyncio.to_thread(people.set_password, identities.store, name, password, identities.clock())
        elif password is not None:
            raise ConfigError("'password' must be a string")
    except ConfigError as exc:
        return problem(404 if exc.message.startswith("no user") else 400, exc.message, exc.hint)
    assert user is not None
    fresh = await asyncio.to_thread(people.by_id, identities.store, user.id)
    return JSONResponse({"user": (fresh or user).to_json()}, headers=NO_STORE)


async def remove_user(request: Request) -> Response:
    identities = identities_of(request)
    try:
        gone = await asyncio.to_thread(people.remove, identities.store, request.path_params["name"])
    except ConfigError as exc:
        return problem(404 if exc.message.startswith("no user") else 409, exc.message, exc.hint)
    return JSONResponse({"removed": gone.to_json()}, headers=NO_STORE)


async def list_keys(request: Request) -> Response:
    """An admin (or the access token) sees every key; a viewer their own."""
    auth = principal(request)
    mine = auth.user if auth.role != "admin" else None
    found = await asyncio.to_thread(keys.listing, identities_of(request).store, owner=mine)
    return JSONResponse({"keys": [k.to_json() for k in found]}, headers=NO_STORE)


async def create_key(request: Request) -> Response:
    """A new key for the signed-in user (for no one, with the access token); its text is answered once."""
    auth = principal(request)
    identities = identities_of(request)
    try:
        data = await json_body(request)
        text, key = await asyncio.to_thread(
            keys.create,
            identities.store,
            text_field(data, "name"),
            text_field(data, "scope", required=False) or "read",
            auth.user,
            identities.clock(),
        )
    except ConfigError as exc:
        return problem(400, exc.message, exc.hint)
    return JSONResponse({"key": text, **key.to_json()}, status_code=201, headers=NO_STORE)


async def revoke_key(request: Request) -> Response:
    auth = principal(request)
    mine = auth.user if auth.role != "admin" else None
    try:
        gone = await asyncio.to_thread(
            keys.revoke,
            identities_of(request).store,
            request.path_params["id"],
            identities_of(request).clock(),
            owner=mine,
        )
    except ConfigError as exc:
        return problem(404, exc.message, exc.hint)
    return JSONResponse({"revoked": gone.to_json()}, headers=NO_STORE)


ROUTES = [
    Route("/api/me", me),
    Route("/api/me/password", change_password, methods=["POST"]),
    Route("/api/users", list_users),
    Route("/api/users", add_user, methods=["POST"]),
    Route("/api/users/{name}", change_user, methods=["PATCH"]),
    Route("/api/users/{name}", remove_user, methods=["DELETE"]),
    Route("/api/keys", list_keys),
    Route("/api/keys", create_key, methods=["POST"]),
    Route("/api/keys/{id}", revoke_key, methods=["DELETE"]),
]

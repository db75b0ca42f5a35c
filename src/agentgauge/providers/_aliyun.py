"""Alibaba Cloud's "one console" web gateway, as its consoles (Model Studio / Bailian, Qwen Cloud) call it.

The console pages post forms to ``<gateway>/data/api.json?action=<action>&product=<product>&api=<api>``:
``params`` is a JSON object ``{"Api", "V": "1.0", "Data": {...the call's data..., "cornerstoneParam":
{...}}}``, beside ``region``, ``language`` and the page's ``sec_token`` (an anti-CSRF token the
console puts in its HTML, in a ``sec_token`` cookie or behind ``/tool/user/info.json``). The login is
the session cookie (``login_aliyunid_ticket`` and friends); its ``login_aliyunid_csrf`` cookie goes
back as ``x-xsrf-token``/``x-csrf-token``. Answers nest their data, sometimes as JSON inside strings,
and report failures in several places (``code``, ``successResponse``, a frame with ``success: false``).

Pure helpers plus the two I/O steps, shared by the ``alibaba`` and ``qwencloud`` providers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from ..errors import AuthError, ChallengeError, ParseError, ProviderError, UpstreamError
from . import _http
from ._base import FetchContext
from ._capture import cookie_value

USER_INFO_PATH = "/tool/user/info.json"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
TOKEN_PATTERNS = (
    r'"secToken"\s*:\s*"([^"]+)"',
    r'"sec_token"\s*:\s*"([^"]+)"',
    r"secToken['\"]?\s*[:=]\s*['\"]([^'\"]+)['\"]",
    r"sec_token['\"]?\s*[:=]\s*['\"]([^'\"]+)['\"]",
)
LOGIN_PAGE_MARKERS = ("passport.alibabacloud.com", "signin.aliyun.com", "account.alibabacloud.com/login")
LOGIN_WORDS = ("needlogin", "notlogined", "not logined", "postonlyortokenerror", "tokenerror", "request has expired")
DENIED_WORDS = ("notauthorised", "notauthorized", "unauthorized", "access denied", "forbidden")


# -- answers ---------------------------------------------------------------------------------------
def expand(value: Any, depth: int = 0) -> Any:
    """``value`` with every string that holds a JSON object or array decoded, recursively."""
    if depth > 12:
        return value
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("{", "[") and len(text) < 2_000_000:
            try:
                return expand(orjson.loads(text), depth + 1)
            except orjson.JSONDecodeError:
                return value
        return value
    if isinstance(value, dict):
        return {k: expand(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, depth + 1) for v in value]
    return value


def walk(value: Any) -> Iterable[dict[str, Any]]:
    """Every object in ``value``, outermost first."""
    if isinstance(value, dict):
        yield value
        for nested in value.values():
            yield from walk(nested)
    elif isinstance(value, list):
        for nested in value:
            yield from walk(nested)


def find_object(value: Any, keys: Iterable[str]) -> dict[str, Any] | None:
    """The first object holding any of ``keys``."""
    wanted = set(keys)
    return next((found for found in walk(value) if wanted & found.keys()), None)


def find_value(value: Any, keys: Iterable[str]) -> Any:
    """The first value under any of ``keys`` (case-insensitive), searched key by key through the tree."""
    for key in keys:
        lowered = key.lower()
        for found in walk(value):
            for name, item in found.items():
                if name.lower() == lowered and item not in (None, ""):
                    return item
    return None


def _text(value: Any) -> str:
    return str(value).strip() if value not in (None, "") else ""


def console_error(root: Any, what: str, hint: str) -> ProviderError | None:
    """A failure the gateway reported in an HTTP 200: login needed (auth), access denied (auth),
    anything else (upstream). Workspace permission errors are not credential errors."""
    if not isinstance(root, dict):
        return None
    frames = [root, *(f for f in walk(root) if f.get("success") is False or f.get("Success") is False)]
    failing = root.get("successResponse") is False or len(frames) > 1
    code = _text(find_value(frames[-1], ["errorCode", "code", "Code"]))
    message = _text(find_value(frames[-1], ["errorMsg", "message", "Message", "msg"])) or code
    status = _text(root.get("statusCode") or root.get("status_code"))
    said = f"{code} {message}".lower()
    if any(word in said for word in LOGIN_WORDS):
        return AuthError(f"{what}: the console session has ended (log in again)", hint=hint, status_code=401)
    if status in ("401", "403") or (any(w in said for w in DENIED_WORDS) and "workspace" not in said):
        return AuthError(
            f"{what}: the console refused the session ({(code or status)[:60]})", hint=hint, status_code=403
        )
    numeric = code.isdigit() and code not in ("0", "200")
    if failing or numeric:
        return UpstreamError(f"{what}: the console answered an error: {(message or 'request failed')[:160]}")
    return None


# -- the session -----------------------------------------------------------------------------------
def session_cookie(header: str, name: str) -> str | None:
    """A cookie of the console session (names compared in any case)."""
    return cookie_value(header, name, ignore_case=True)


def token_in_html(html: str, is_login_page: Callable[[str], bool]) -> str | None:
    if is_login_page(html):
        return None
    for pattern in TOKEN_PATTERNS:
        found = re.search(pattern, html)
        if found and found.group(1).strip():
            return found.group(1).strip()
    return None


def default_login_page(html: str) -> bool:
    lowered = html.lower()
    return any(marker in lowered for marker in LOGIN_PAGE_MARKERS)


async def sec_token(
    ctx: FetchContext,
    cookie: str,
    dashboard_url: str,
    info_url: str,
    *,
    is_login_page: Callable[[str], bool] = default_login_page,
) -> str | None:
    """The console's ``sec_token``: the dashboard page's, else the ``sec_token`` cookie, else
    ``info_url``'s (the console's ``/tool/user/info.json``). None when the session yields none (it
    may have ended). The page is only a first try: its failure (other than a bot challenge) falls
    through."""
    headers = {"Cookie": cookie, "Accept": "text/html,application/xhtml+xml", "User-Agent": USER_AGENT}
    redirects = (301, 302, 303, 307, 308)
    try:
        page = await _http.send(
            ctx, "GET", dashboard_url, what="console page", headers=headers, ok_statuses=(200, 401, 403, *redirects)
        )
    except ChallengeError:  # whatever its status: send raises a challenge page as one
        raise
    except (AuthError, UpstreamError) as exc:
        ctx.log.info("%s: the console page failed: %s", ctx.provider.id, exc.message)
        page = None
    if page is not None and page.status_code == 200 and (found := token_in_html(page.text, is_login_page)):
        return found
    if found := session_cookie(cookie, "sec_token"):
        return found
    headers = {"Cookie": cookie, "Accept": "application/json, text/plain, */*", "User-Agent": USER_AGENT}
    response = await _http.send(
        ctx, "GET", info_url, what="console user info", headers=headers, ok_statuses=(200, 401, 403)
    )
    if response.status_code != 200:
        return None
    value = find_value(
        expand(_http.decode_json(ctx, response, what="console user info")), ["secToken", "sec_token", "csrfToken"]
    )
    return value.strip() if isinstance(value, str) and value.strip() else None


def cornerstone(dashboard_url: str, console_site: str, cookie: str, **extra: Any) -> dict[str, Any]:
    """The ``cornerstoneParam`` the console pages send with every call."""
    param: dict[str, Any] = {
        "feTraceId": str(uuid.uuid4()),
        "feURL": dashboard_url,
        "protocol": "V2",
        "console": "ONE_CONSOLE",
        "productCode": "p_efm",
        "domain": urlsplit(dashboard_url).hostname or "",
        "consoleSite": console_site,
        "userNickName": "",
        "userPrincipalName": "",
        "xsp_lang": "en-US",
        **extra,
    }
    anonymous = session_cookie(cookie, "cna")
    if anonymous:
        param["X-Anonymous-Id"] = anonymous
    return param


async def call(
    ctx: FetchContext,
    url: str,
    form: dict[str, str],
    cookie: str,
    *,
    origin: str,
    referer: str,
    what: str,
    hint: str,
) -> Any:
    """One form post to the gateway, as the console page sends it; the answer decoded and expanded."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json, text/plain, */*",
        "Cookie": cookie,
        "Origin": origin,
        "Referer": referer,
        "X-Requested-With": "XMLHttpRequest",
        "User-Agent": USER_AGENT,
    }
    csrf = session_cookie(cookie, "login_aliyunid_csrf") or session_cookie(cookie, "csrf")
    if csrf:
        headers["x-xsrf-token"] = csrf
        headers["x-csrf-token"] = csrf
    try:
        response = await _http.send(ctx, "POST", url, what=what, headers=headers, data=form)
    except AuthError as exc:
        exc.hint = hint
        raise
    if _http.looks_like_html(response) and default_login_page(response.text[:20000]):
        raise AuthError(f"{ctx.provider.name}: {what} answered the login page", hint=hint)
    return expand(_http.decode_json(ctx, response, what=what))


def gateway_url(base: str, **query: str) -> str:
    return f"{base.rstrip('/')}/data/api.json?{urlencode(query)}"


def api_form(
    api: str, data: dict[str, Any], *, product: str, action: str, region: str, token: str | None
) -> dict[str, str]:
    params = {"Api": api, "V": "1.0", "Data": data}
    form = {"product": product, "action": action, "region": region, "language": "en-US"}
    form["params"] = orjson.dumps(params).decode()
    if token:
        form["sec_token"] = token
    return form


def require_object(root: Any, what: str) -> dict[str, Any]:
    if not isinstance(root, dict):
        raise ParseError(f"{what} is not an object", field="$")
    return root

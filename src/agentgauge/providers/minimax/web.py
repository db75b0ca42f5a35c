"""The MiniMax platform web login: what a pasted cookie (or "Copy as cURL") and a browser's
stored access token hold, as pure helpers (no I/O).

The platform keeps its session in cookies (``HERTZ-SESSION``, ``_token``) and an access token
in localStorage (``access_token``, or inside the ``user_detail`` JSON). The remains API wants
that token (or the session cookie's value) as a Bearer beside the cookies, and the account's
group id (``GroupId``): from the settings, the ``minimax_group_id_v2`` cookie, a pasted
``x-group-id`` header, the token's JWT claims or the stored user JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .. import _jwt

_CURL_COOKIE = (
    re.compile(r"""(?i)-H\s*'Cookie:\s*([^']+)'"""),
    re.compile(r'''(?i)-H\s*"Cookie:\s*([^"]+)"'''),
    re.compile(r"""(?i)(?:--cookie|-b)\s*'([^']+)'"""),
    re.compile(r'''(?i)(?:--cookie|-b)\s*"([^"]+)"'''),
)
_BEARER = re.compile(r"(?i)\bauthorization:\s*bearer\s+([A-Za-z0-9._\-+=/]+)")
_GROUP = (
    re.compile(r"(?i)\bx-group-id:\s*([0-9]{4,})"),
    re.compile(r"(?i)\bminimax_group_id_v2=([0-9]{4,})"),
    re.compile(r"(?i)\bgroup_?id=([0-9]{4,})"),
)
TOKEN_KEYS = ("access_token", "accessToken", "token", "id_token", "idToken")
GROUP_CLAIMS = ("GroupID", "group_id", "groupId", "groupID", "gid")


@dataclass(frozen=True)
class CookieParts:
    header: str
    bearer: str | None
    group_id: str | None


def cookie_parts(raw: str) -> CookieParts:
    """A ``Cookie`` header from a header, a bare ``name=value`` list or a "Copy as cURL" command."""
    text = raw.strip()
    header = next((m.group(1) for p in _CURL_COOKIE if (m := p.search(text))), None)
    if header is None:
        header = text.splitlines()[0] if text else ""
        header = re.sub(r"(?i)^cookie:\s*", "", header).strip().strip("'\"")
    bearer = m.group(1) if (m := _BEARER.search(text)) else None
    group = next((m.group(1) for p in _GROUP if (m := p.search(text))), None)
    return CookieParts(header.strip(), bearer, group)


def _digits(value: Any) -> str | None:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return text if text.isdigit() and len(text) >= 4 else None


def _search(value: Any, wanted: tuple[str, ...], check: Any, depth: int = 0) -> str | None:
    if depth > 6:
        return None
    if isinstance(value, dict):
        for key, child in value.items():
            if key in wanted and (found := check(child)):
                return str(found)
        children: list[Any] = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return None
    return next((found for c in children if (found := _search(c, wanted, check, depth + 1))), None)


def token_parts(raw: str | None) -> tuple[str | None, str | None]:
    """The access token and group id in a stored value: a bare token, or JSON (``user_detail``)."""
    text = (raw or "").strip()
    if not text:
        return None, None
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except ValueError:
            return None, None
        token = _search(data, TOKEN_KEYS, lambda v: v if isinstance(v, str) and len(v) >= 20 else None)
        group = _search(data, ("group_id", "groupId", "GroupID", "groupID"), _digits)
        return token, group
    return text, None


def group_of_token(token: str | None) -> str | None:
    claims = _jwt.claims(token)
    return next((g for k in GROUP_CLAIMS if (g := _digits(claims.get(k)))), None)

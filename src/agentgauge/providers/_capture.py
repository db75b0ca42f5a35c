"""What people paste into a setting, made usable: a token with quotes or ``Bearer `` in front of it, a
``Cookie:`` header, or a whole ``curl ...`` command copied from the browser's network panel (its
``-H``/``--header`` and ``-b``/``--cookie`` arguments and its URL are read; nothing is run).

Pure helpers, no I/O; the values they return are secrets like what they were given.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from urllib.parse import urlsplit

QUOTES = "'\""


def unquote(value: str | None) -> str:
    """``value`` without surrounding spaces and one pair of matching quotes (``"abc"`` -> ``abc``),
    as values land in environment variables and ``.env`` files."""
    text = (value or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in QUOTES:
        text = text[1:-1].strip()
    return text


def strip_prefix(text: str, prefix: str) -> str:
    """``text`` without a leading ``prefix`` (case-insensitive) and the spaces after it."""
    return text[len(prefix) :].strip() if text.lower().startswith(prefix.lower()) else text


def bare_token(value: str, schemes: tuple[str, ...] = ("bearer",)) -> str:
    """A token as pasted: quotes, an ``Authorization:`` header name and an auth scheme (``Bearer``,
    or the ``schemes`` given) removed."""
    text = strip_prefix(unquote(value), "authorization:")
    for scheme in schemes:
        text = strip_prefix(text, scheme + " ")
    return text


def cookie_header(value: str) -> str:
    """A pasted Cookie header without its quotes and ``Cookie:`` prefix (any case)."""
    return strip_prefix(unquote(value), "cookie:")


def cookie_pairs(header: str) -> list[tuple[str, str]]:
    """``(name, value)`` of each cookie in a header, in order; empty names or values are skipped."""
    pairs = []
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name.strip() and value.strip():
            pairs.append((name.strip(), value.strip()))
    return pairs


def cookie_value(header: str, name: str, *, ignore_case: bool = False) -> str | None:
    """The value of cookie ``name`` in a header (the first one), or None."""
    wanted = name.lower() if ignore_case else name
    for key, value in cookie_pairs(header):
        if (key.lower() if ignore_case else key) == wanted:
            return value
    return None


def named_cookie(value: str, name: str) -> str:
    """A pasted Cookie header as is, or a bare value (no ``=``) as the cookie ``name``."""
    header = cookie_header(value)
    return header if "=" in header else f"{name}={header}"


def only_cookies(header: str, names: tuple[str, ...]) -> str:
    """The header cut down to the cookies named (exact names, header order): only the session is sent."""
    return "; ".join(f"{key}={value}" for key, value in cookie_pairs(header) if key in names)


@dataclass(frozen=True)
class Capture:
    """A pasted request: its Cookie header, its host and its other headers."""

    cookie: str
    host: str | None = None  # the request's host (its URL, else its Host header)
    headers: dict[str, str] = field(default_factory=dict)  # every -H header, names lower-cased


def is_curl(text: str) -> bool:
    stripped = text.strip()
    return stripped.lower().startswith("curl ") or "\ncurl " in stripped


def parse(raw: str) -> Capture:
    """A Cookie header, ``Cookie: ...`` or a ``curl`` command as a :class:`Capture`."""
    text = raw.strip()
    if not is_curl(text):
        return Capture(strip_prefix(text, "cookie:"))
    try:
        args = shlex.split(text.replace("\\\n", " "))
    except ValueError:
        return Capture(strip_prefix(text, "cookie:"))
    headers: dict[str, str] = {}
    cookies: list[str] = []
    url = None
    index = args.index("curl") + 1 if "curl" in args else 0
    while index < len(args):
        arg = args[index]
        value = args[index + 1] if index + 1 < len(args) else ""
        if arg in ("-H", "--header"):
            name, _, content = value.partition(":")
            headers[name.strip().lower()] = content.strip()
            index += 2
            continue
        if arg in ("-b", "--cookie"):
            cookies.append(value.strip())
            index += 2
            continue
        if url is None and arg.lower().startswith(("http://", "https://")):
            url = arg
        index += 1
    cookie = "; ".join([c for c in (headers.pop("cookie", ""), *cookies) if c])
    host = urlsplit(url).hostname if url else None
    return Capture(cookie, (headers.get("host") or host or "").split(":")[0].lower() or None, headers)

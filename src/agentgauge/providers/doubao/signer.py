"""Volcengine's request signature (HMAC-SHA256, its "V4" scheme), pure.

The signing key is derived from the secret key through the date, region, service and the word
``request``; the string to sign is the algorithm, the time, the scope and the SHA-256 of the
canonical request (method, path, sorted query, the signed headers ``content-type;host;
x-content-sha256;x-date`` and the body's SHA-256). Reference: Volcengine's signature documentation
(https://www.volcengine.com/docs/6369/67269).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "HMAC-SHA256"
SERVICE = "ark"
SIGNED_HEADERS = "content-type;host;x-content-sha256;x-date"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(query: str) -> str:
    pairs = sorted((_encode(k), _encode(v)) for k, v in parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{k}={v}" for k, v in pairs)


def signature(
    *,
    method: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    secret_key: str,
    region: str,
    when: datetime,
) -> tuple[str, str]:
    """(signature hex, credential scope) for a request whose ``headers`` already hold the signed ones."""
    parts = urlsplit(url)
    date = when.astimezone(UTC).strftime("%Y%m%d")
    canonical = "\n".join(
        [
            method.upper(),
            quote(parts.path or "/", safe="/-_.~"),
            canonical_query(parts.query),
            *(f"{name}:{headers[name].strip()}" for name in SIGNED_HEADERS.split(";")),
            "",
            SIGNED_HEADERS,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{region}/{SERVICE}/request"
    to_sign = "\n".join([ALGORITHM, headers["x-date"], scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(secret_key.encode(), date), region), SERVICE), "request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), scope


def signed_headers(
    *, method: str, url: str, body: bytes, access_key: str, secret_key: str, region: str, when: datetime
) -> dict[str, str]:
    """The headers of a signed request (``Authorization`` included)."""
    headers = {
        "content-type": CONTENT_TYPE,
        "host": urlsplit(url).netloc,
        "x-content-sha256": hashlib.sha256(body).hexdigest(),
        "x-date": when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"),
    }
    sig, scope = signature(
        method=method, url=url, body=body, headers=headers, secret_key=secret_key, region=region, when=when
    )
    headers["authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={sig}"
    )
    return headers

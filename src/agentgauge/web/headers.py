"""Security headers on every response the app sends (errors, redirects and refusals included)."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(style_hashes: Iterable[str] = ()) -> str:
    """Scripts only from the server's own files (never inline). Style attributes stay allowed: the
    dashboard sets bar widths through them, and a style cannot run code; ``<style>`` elements only
    by hash (the login page's)."""
    hashes = "".join(f" 'sha256-{h}'" for h in style_hashes)
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src 'self'{hashes}",
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),  # frame-ancestors for browsers that predate it
        ]
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self.names]
                message = {**message, "headers": [*own, *self.headers]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""Antigravity: the quota the running Antigravity language server reports, over its local Connect API.

``POST https://127.0.0.1:<port>/exa.language_server_pb.LanguageServerService/<Method>`` with JSON,
``Connect-Protocol-Version: 1`` and ``X-Codeium-Csrf-Token: <--csrf_token>`` (``process`` finds the
server, its token and ports). The server's certificate is self-signed, so TLS is not verified for
a loopback IP address, and only there. Methods, in order: ``RetrieveUserQuotaSummary`` (the
Antigravity app: Gemini and Claude/GPT pools, 5-hour and weekly), ``GetUserStatus`` (per-model
quotas and the plan; the IDE's server answers the summary with 404), ``GetCommandModelConfigs``.
When discovery gave several ports, the first that answers HTTP at all is the server's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import ipaddress
import ssl
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from ...errors import (
    AuthError,
    FetchTimeoutError,
    NetworkError,
    ParseError,
    ProviderConfigError,
    ProviderError,
    RateLimitedError,
)
from ...models import Usage
from .. import _http
from .._base import (
    AuthSource,
    DiscoverContext,
    Discovered,
    FetchContext,
    Provider,
    Raw,
    Sample,
    Secret,
    Setting,
    WindowSpec,
)
from .._parse import Salvage, obj
from . import process
from .parsing import model_configs, model_windows, plan_of, summary_is_usable, summary_windows

SERVICE = "/exa.language_server_pb.LanguageServerService/"
SUMMARY, USER_STATUS, MODEL_CONFIGS = "RetrieveUserQuotaSummary", "GetUserStatus", "GetCommandModelConfigs"
METADATA = {
    "metadata": {"ideName": "antigravity", "extensionName": "antigravity", "ideVersion": "unknown", "locale": "en"}
}
LOCAL_TIMEOUT = 5.0  # seconds per local request
HINT = "Start Antigravity (the app or the IDE) and sign in, then refresh."
HINT_TOKEN = (
    "The language server's CSRF token changes on every start: unset AGENTGAUGE_ANTIGRAVITY_CSRF_TOKEN so it is "
    "read from the running server, or restart Antigravity, then refresh."
)


def _discover(ctx: DiscoverContext) -> Discovered | None:
    """The best running Antigravity language server: its token, listening ports and extension port."""
    servers = process.find_servers()
    if not servers:
        return None
    server = servers[0]
    details = {"pid": str(server.pid), "kind": server.kind, "ports": ",".join(map(str, server.ports))}
    if server.extension_port:
        details["extension_port"] = str(server.extension_port)
    return Discovered(
        {"csrf_token": Secret(server.csrf_token)}, f"Antigravity language server (pid {server.pid})", details
    )


def is_loopback_ip(host: str | None) -> bool:
    """Only a literal loopback address: a name could resolve anywhere."""
    try:
        return ipaddress.ip_address((host or "").strip("[]")).is_loopback
    except ValueError:
        return False


@functools.cache  # one context for every fetch: building one loads the CA store (tens of ms of CPU)
def _unverified_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the language server's self-signed certificate, loopback only
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _ports(text: str | None) -> list[int]:
    return [int(p) for p in (text or "").split(",") if p.strip().isdigit() and 0 < int(p) < 65536]


class Antigravity(Provider):
    id = "antigravity"
    name = "Antigravity"
    docs_url = "https://antigravity.google/"
    settings = (
        Setting(
            "csrf_token", "The language server's --csrf_token; read from the running server when unset.", secret=True
        ),
        Setting("port", "The language server's HTTPS port; found from its listening ports when unset."),
        Setting(
            "url",
            "Base URL of the language server (e.g. https://127.0.0.1:PORT), instead of port discovery.",
        ),
    )
    auth = (
        AuthSource(
            id="language_server",
            source="cli",
            label="Antigravity language server (local)",
            requires=("csrf_token",),
            hint=HINT,
            discover=_discover,
            discovered_source="cli",
        ),
    )
    windows = (
        WindowSpec("gemini_session", "Gemini · Session (5h)", 18000, None),
        WindowSpec("gemini_weekly", "Gemini · Weekly", 604800, None),
        WindowSpec("claude_gpt_session", "Claude + GPT · Session (5h)", 18000, None),
        WindowSpec("claude_gpt_weekly", "Claude + GPT · Weekly", 604800, None),
        WindowSpec("gemini", "Gemini models", None, None),
        WindowSpec("claude_gpt", "Claude and GPT models", None, None),
        WindowSpec("gemini_*", "Gemini · other limit", None, None),
        WindowSpec("claude_gpt_*", "Claude + GPT · other limit", None, None),
        WindowSpec("group_*", "Other quota group", None, None),
        WindowSpec("model_*", "Model outside both pools", None, None),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": ""}  # empty: the discovered loopback port
    min_interval = 60.0
    timeout = 20.0
    redact_keys = frozenset({"email"})
    samples = (
        Sample("retrieve-user-quota-summary*.json", "summary", {"user_status": None}),
        Sample("get-user-status*.json", "user_status"),
        Sample("get-command-model-configs*.json", "model_configs"),
    )
    sim_credentials: ClassVar[Mapping[str, str]] = {"csrf_token": "sim-antigravity-csrf"}

    async def _endpoints(self, ctx: FetchContext) -> list[str]:
        url = ctx.setting("url")
        if url:
            return [url.rstrip("/")]
        port = ctx.setting("port")
        if port:
            if not port.isdigit() or not 0 < int(port) < 65536:
                raise ProviderConfigError(f"Antigravity: port '{port[:20]}' is not a TCP port")
            return [f"https://127.0.0.1:{port}"]
        details = ctx.credentials.details
        ports, extension = _ports(details.get("ports")), _ports(details.get("extension_port"))
        if "ports" not in details:  # the token was set directly: find the server that has it
            token = ctx.secret("csrf_token")
            servers = [s for s in await asyncio.to_thread(process.find_servers) if s.csrf_token == token]
            if not servers:
                raise ProviderConfigError(
                    "Antigravity: no running language server has the configured CSRF token", hint=HINT_TOKEN
                )
            ports, extension = list(servers[0].ports), [servers[0].extension_port or 0]
        endpoints = [f"https://127.0.0.1:{p}" for p in ports]
        endpoints += [f"http://127.0.0.1:{p}" for p in extension if p]
        if not endpoints:
            raise NetworkError("Antigravity: the language server listens on no TCP port", hint=HINT)
        return endpoints

    async def fetch(self, ctx: FetchContext) -> Raw:
        endpoints = await self._endpoints(ctx)
        # A port that is not the server's must not eat the whole fetch: at most LOCAL_TIMEOUT each.
        timeout = min(LOCAL_TIMEOUT, ctx.http.timeout.read or LOCAL_TIMEOUT)
        async with httpx.AsyncClient(verify=_unverified_tls(), timeout=timeout, trust_env=False) as local:
            found: BaseException | None = None
            for base in endpoints:
                # Loopback: the local client (self-signed TLS, no proxy). Anywhere else: the verified one.
                call_ctx = dataclasses.replace(ctx, http=local) if is_loopback_ip(urlsplit(base).hostname) else ctx
                try:
                    return await self._quota(call_ctx, base)
                except (NetworkError, FetchTimeoutError) as exc:
                    if len(endpoints) == 1:
                        raise
                    found = exc  # not the server's port (LSP, plain HTTP, closed): try the next
        raise NetworkError(
            f"Antigravity: no language-server port answered ({len(endpoints)} tried; last: "
            f"{getattr(found, 'message', type(found).__name__)})",
            hint=HINT,
        )

    async def _call(self, ctx: FetchContext, base: str, method: str, body: dict[str, Any]) -> Any:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Connect-Protocol-Version": "1",
            "X-Codeium-Csrf-Token": ctx.secret("csrf_token"),
        }
        try:
            response = await _http.send(
                ctx, "POST", base + SERVICE + method, what=f"{method} request", headers=headers, json=body
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=HINT_TOKEN, status_code=exc.status_code) from None
        return _http.decode_json(ctx, response, what=f"{method} request")

    async def _quota(self, ctx: FetchContext, base: str) -> Raw:
        """Summary, else user status, else model configs; auth, throttling and transport failures
        end it at once (another method would fail the same way)."""
        fatal = (AuthError, RateLimitedError, NetworkError, FetchTimeoutError)
        errors: list[ProviderError] = []
        try:
            summary = await self._call(ctx, base, SUMMARY, {"forceRefresh": True})
            if summary_is_usable(summary):
                try:
                    status: Any = await self._call(ctx, base, USER_STATUS, METADATA)
                except ProviderError as exc:  # only the plan is missing
                    ctx.log.info("antigravity: GetUserStatus for the plan failed: %s", exc.message)
                    status = None
                return {"summary": summary, "user_status": status}
            errors.append(ParseError("Antigravity: the quota summary has no usable bucket", field="response.groups"))
        except fatal:
            raise
        except ProviderError as exc:
            errors.append(exc)
        for method, key in ((USER_STATUS, "user_status"), (MODEL_CONFIGS, "model_configs")):
            try:
                payload = await self._call(ctx, base, method, METADATA)
            except fatal:
                raise
            except ProviderError as exc:
                errors.append(exc)
                continue
            try:
                usable = bool(model_configs(payload, method)) if method == USER_STATUS else True
            except ProviderError:
                usable = True  # parse reports it with the field
            if usable:
                return {key: payload}
            errors.append(ParseError(f"Antigravity: {method} lists no model quota", field="clientModelConfigs"))
        raise errors[-1]

    def parse(self, raw: Raw, now: datetime) -> Usage:
        salvage = Salvage()
        if raw.get("summary") is not None:
            windows = summary_windows(raw["summary"], salvage)
        elif raw.get("user_status") is not None:
            configs = model_configs(raw["user_status"], USER_STATUS)
            windows = model_windows(configs, "userStatus.cascadeModelConfigData.clientModelConfigs", salvage)
        elif raw.get("model_configs") is not None:
            windows = model_windows(model_configs(raw["model_configs"], MODEL_CONFIGS), "clientModelConfigs", salvage)
        else:
            raise ParseError("Antigravity: no quota answer", field="$")
        plan = (
            plan_of(raw.get("user_status")) if isinstance(obj(raw.get("user_status")).get("userStatus"), dict) else None
        )
        return Usage(windows=tuple(windows), plan=plan, warnings=salvage.warnings())


PROVIDER = Antigravity()

"""What the browser extension pushes, turned into an account's state with the provider's own parser.

The extension makes the same requests as an adapter's cookie source (claude.ai, chatgpt.com,
www.kimi.com, ollama.com, z.ai with the JWT chat.z.ai keeps) from inside the browser, where those
cookies are first-party, and pushes the raw answers. Here they become the raw dict that
provider's ``fetch`` would have returned, and its pure ``parse`` reads them: one parser, not two.
The result is stored through ``agentgauge.ingest`` (source ``extension``, stamped with the time
the server received it), so a pushed account follows the same rules as a fetched one: the gate,
history, forecast, and stale once no fresh data comes.

A push may instead report that the browser's request failed (``{"error": {"status": 401, ...}}``):
the account then shows the last pushed data as ``stale`` with that error, unless its data came
from somewhere else (the server's own credentials), which a browser's trouble does not touch.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..config import Config
from ..engine import usable
from ..errors import (
    AgentGaugeError,
    AuthError,
    ConfigError,
    InternalError,
    NetworkError,
    ProviderError,
    RateLimitedError,
    UpstreamError,
)
from ..ingest import Ingested, ingest
from ..models import ProviderSnapshot, Status, Usage
from ..providers import Provider, registry
from ..providers.claude import parsing as claude_parsing
from ..store import Store

log = logging.getLogger("agentgauge.web.extension")
EXTENSION_SOURCE = "extension"
EXTENSION_LABEL = "browser extension"
# Provider -> the site the extension reads it from, and the parts of its raw answer a push may
# carry (the keys the adapter's fetch returns; claude adds what names the organization and plan).
SITES = {
    "claude": "claude.ai",
    "codex": "chatgpt.com",
    "kimi": "www.kimi.com",
    "ollama": "ollama.com",
    "zai": "chat.z.ai",
}
PARTS: Mapping[str, frozenset[str]] = {
    "claude": frozenset({"usage", "bootstrap", "organizations", "org_id"}),
    "codex": frozenset({"usage", "daily", "spend"}),
    "kimi": frozenset({"web", "subscription", "stats"}),
    "ollama": frozenset({"settings_html"}),
    "zai": frozenset({"quota", "subscriptions"}),
}
_WHAT = re.compile(r"[^A-Za-z0-9 ./_-]")


class PushRejected(ValueError):
    """A push that is not in the protocol (unknown parts, wrong types): the extension's bug, a 400."""


def _claude_orgs(parts: Mapping[str, Any]) -> list[dict[str, Any]]:
    account = parts.get("bootstrap", {}).get("account") if isinstance(parts.get("bootstrap"), dict) else None
    memberships = account.get("memberships") if isinstance(account, dict) else None
    found = [m.get("organization") for m in memberships or [] if isinstance(m, dict)]
    found += list(parts.get("organizations") or []) if isinstance(parts.get("organizations"), list) else []
    return [o for o in found if isinstance(o, dict) and isinstance(o.get("uuid"), str)]


def _claude(parts: Mapping[str, Any]) -> dict[str, Any]:
    """claude.ai: the usage of the organization the extension read (``org_id``), with the plan that
    organization names, found the way the adapter finds it (bootstrap first, then the list)."""
    org = None
    if "bootstrap" in parts:
        org = claude_parsing.org_from_bootstrap(parts["bootstrap"])  # AuthError for a signed-out browser
    if org is None and "organizations" in parts:
        org = claude_parsing.org_from_list(parts["organizations"])
    read = parts.get("org_id")
    org = next((o for o in _claude_orgs(parts) if o["uuid"] == read), org)
    return {"usage": parts.get("usage"), "plan": claude_parsing.plan_from_org(org) if org else None}


def _zai(parts: Mapping[str, Any]) -> dict[str, Any]:
    """z.ai: the quota and, when the browser read it, the subscription list as z.ai answered it
    (an error the adapter makes up for a failed call is not something a push may carry)."""
    listed = parts.get("subscriptions")
    if isinstance(listed, dict) and "error" in listed and "code" not in listed:
        listed = None
    return {"quota": parts.get("quota"), "subscriptions": listed}


ASSEMBLE: Mapping[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "claude": _claude,
    "zai": _zai,
    "codex": lambda parts: {"usage": parts.get("usage"), "plan": None, **{k: parts.get(k) for k in ("daily", "spend")}},
}


def raw_of(provider_id: str, parts: Mapping[str, Any]) -> dict[str, Any]:
    """The raw dict the provider's ``fetch`` would return for these pushed answers."""
    allowed = PARTS.get(provider_id)
    if allowed is None:
        raise PushRejected(f"the extension does not read provider '{provider_id}'")
    unknown = sorted(set(parts) - allowed)
    if unknown or not parts:
        raise PushRejected(f"{provider_id}: expected some of {', '.join(sorted(allowed))}, got {unknown or 'nothing'}")
    if provider_id == "ollama" and not isinstance(parts.get("settings_html"), str):
        raise PushRejected("ollama: settings_html must be the page's text")
    assemble = ASSEMBLE.get(provider_id)
    return assemble(parts) if assemble else dict(parts)


def parse_push(provider: Provider, parts: Mapping[str, Any], now: datetime) -> Usage:
    """The pushed answers read by the provider's own parser; ProviderError (auth, parse...) as a fetch would."""
    return usable(provider.name, provider.parse(raw_of(provider.id, parts), now))


def reported_error(provider: Provider, report: Any) -> ProviderError:
    """The extension's report of a failed request, as the error a fetch would have raised. Only the
    status, the request's name and a Retry-After are read: no free text from the browser reaches
    a message."""
    if not isinstance(report, dict):
        raise PushRejected("'error' must be an object")
    try:
        status = int(report.get("status") or 0)
    except (TypeError, ValueError):
        raise PushRejected("'error.status' must be a number") from None
    what = _WHAT.sub("", str(report.get("what") or "request"))[:60] or "request"
    site = SITES.get(provider.id, provider.id)
    hint = f"Log in to {site} in the browser that runs the agentgauge extension, then press Refresh."
    if status in (401, 403) or 300 <= status < 400:
        return AuthError(f"{provider.name}: {site} refused the browser's login ({what}, HTTP {status})", hint=hint)
    if status == 429:
        retry = report.get("retry_after")
        seconds = float(retry) if isinstance(retry, int | float) and 0 < retry < 86400 else None
        return RateLimitedError(f"{provider.name}: {site} rate limited the browser's {what}", retry_after=seconds)
    if status <= 0:
        return NetworkError(f"{provider.name}: the browser could not reach {site} ({what})")
    return UpstreamError(
        f"{provider.name}: {site} answered the browser's {what} with HTTP {status}", status_code=status
    )


def record_failure(
    store: Store,
    provider: Provider,
    account: str,
    error: AgentGaugeError,
    now: datetime,
    *,
    unless_since: datetime | None = None,
) -> ProviderSnapshot | None:
    """Show a failed push (or a refresh no extension answered): the last pushed data as ``stale``
    with ``error``, or ``error`` alone when there is none. None, and nothing written, when the
    account's data came from elsewhere (the server's own fetch stands), or when data newer than
    ``unless_since`` is stored (a push that landed while the relay gave up)."""
    state = store.state(provider.id, account)
    previous = state.snapshot if state else None
    has_data = previous is not None and previous.last_success_at is not None
    if previous is not None and has_data and previous.source != EXTENSION_SOURCE:
        return None
    newest = previous.last_success_at if previous else None
    if unless_since is not None and newest is not None and newest >= unless_since.replace(microsecond=0):
        return None
    error.bind(provider.id, account)
    failing = state is not None and state.failures > 0 and previous is not None and previous.failing_since
    snapshot = ProviderSnapshot(
        provider=provider.id,
        account=account,
        name=provider.name,
        status=Status.STALE if has_data else Status.ERROR,
        plan=previous.plan if previous and has_data else None,
        source=EXTENSION_SOURCE,
        source_label=EXTENSION_LABEL,
        windows=previous.windows if previous and has_data else (),
        balances=previous.balances if previous and has_data else (),
        breakdowns=previous.breakdowns if previous and has_data else (),
        fetched_at=now,
        last_success_at=previous.last_success_at if previous else None,
        failing_since=previous.failing_since if failing and previous else now,
        error=error.info(),
    )
    failures = (state.failures if state else 0) + 1
    store.save_state(snapshot, next_allowed_at=state.next_allowed_at if state else 0.0, failures=failures)
    return snapshot


def take_push(
    store: Store, config: Config, provider_id: str, account: str, body: Mapping[str, Any], now: datetime
) -> tuple[Ingested, AgentGaugeError | None]:
    """Store one push (answers or a failure report) for ``provider_id``/``account`` received at ``now``.
    PushRejected for a push outside the protocol; ConfigError for an unknown account."""
    provider = registry.get(provider_id)
    if provider_id not in PARTS:
        raise PushRejected(f"the extension does not read provider '{provider_id}'")
    if config.account(provider_id, account) is None:  # checked before anything is parsed
        raise ConfigError(f"{provider.name}: no account '{account}' is configured")
    error: AgentGaugeError
    if "error" in body:
        error = reported_error(provider, body["error"])
    else:
        parts = body.get("parts")
        if not isinstance(parts, dict):
            raise PushRejected("a push carries 'parts' (the answers) or 'error'")
        try:
            usage = parse_push(provider, parts, now)
        except ProviderError as exc:
            error = exc
        except PushRejected:
            raise
        except Exception as exc:  # a parser bug the pushed answer ran into: internal, as in the engine
            log.error("reading a pushed %s answer failed", provider_id, exc_info=True)
            error = InternalError(
                f"{provider.name}: agentgauge failed reading the pushed answer ({type(exc).__name__})"
            )
        else:
            return ingest(store, config, provider_id, account, usage, EXTENSION_SOURCE, now, now=now), None
    shown = record_failure(store, provider, account, error, now)
    return Ingested(False, error.message if shown else "the account's data comes from elsewhere", shown), error

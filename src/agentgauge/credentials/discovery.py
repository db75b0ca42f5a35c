"""Finding credentials already on this machine for one auth source: its own ``discover`` (a CLI's
login file, an environment variable), then its web login in the user's browsers.

Discovery sees only the environment variables its provider declares (``Provider.environment``)
plus the basics every platform needs to find a home or a binary, so an undeclared variable
cannot silently change what is found, and tests know exactly what to isolate.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import AgentGaugeError
from ..providers import AuthSource, BrowserLogin, DiscoverContext, Discovered, Provider, expiry_detail
from ..secret import Secret

# What any discovery may read: where home, binaries and per-user app data are, and the browser
# import switches (docs/browsers.md).
BASE_ENV = (
    "PATH",
    "PATHEXT",
    "HOME",
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
    "AGENTGAUGE_BROWSER",
    "AGENTGAUGE_BROWSER_PROFILE",
    "AGENTGAUGE_FIREFOX_ROOT",
)
OFF = ("off", "none", "no", "false", "0")


def context(provider: Provider, env: Mapping[str, str], home: Path, settings: Mapping[str, str]) -> DiscoverContext:
    wanted = set(BASE_ENV) | set(provider.environment())
    return DiscoverContext(env={k: v for k, v in env.items() if k in wanted}, home=home, settings=settings)


def applies(source: AuthSource, settings: Mapping[str, str]) -> bool:
    if source.when is None:
        return True
    try:
        return source.when(settings)
    except AgentGaugeError:
        return False  # an invalid setting is reported by the provider's own checks


def discoverable(source: AuthSource) -> bool:
    return source.discover is not None or source.browser is not None


def discover(provider: Provider, source: AuthSource, ctx: DiscoverContext) -> tuple[Discovered, str] | None:
    """What ``source`` finds on the machine and the snapshot ``source`` value for it, or None.

    Raises an AgentGaugeError only for a real problem (a malformed login file, a browser login
    that is there but cannot be decrypted), so the account shows it instead of "not configured".
    """
    if not applies(source, ctx.settings):
        return None
    if source.discover is not None:
        found = source.discover(ctx)
        if found is not None:
            return found, source.discovered_source
    if source.browser is not None:
        found = browser_login(provider.id, source.browser, ctx)
        if found is not None:
            return found, "browser"
    return None


def browser_login(provider_id: str, login: BrowserLogin, ctx: DiscoverContext) -> Discovered | None:
    """A read-only look for the web login in the user's browsers (``AGENTGAUGE_BROWSER=off`` skips it)."""
    browser = ctx.env.get("AGENTGAUGE_BROWSER") or None
    if browser and browser.strip().lower() in OFF:
        return None
    # Imported here: the readers (and their native libraries) load only when a browser is read.
    from ..browser.errors import BrowserError
    from ..browser.finder import find_credentials

    try:
        found = find_credentials(
            provider_id,
            login,
            browser=browser,
            home=ctx.home,
            env=ctx.env,
            profile=ctx.env.get("AGENTGAUGE_BROWSER_PROFILE") or None,
        )
    except BrowserError as exc:
        if exc.blocking:
            raise
        return None
    # Expiry as epoch seconds, like every other credential's (providers' refresh logic reads it).
    details = {**expiry_detail(found.expires_at), "browser": found.origin}
    return Discovered(values={k: Secret(v) for k, v in found.values.items()}, origin=found.origin, details=details)

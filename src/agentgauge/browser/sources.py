"""Browser import as a provider auth source's ``discover``: ``discover=browser_discover("claude")``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..providers._base import DiscoverContext, Discovered


def first_found(
    *discovers: Callable[[DiscoverContext], Discovered | None],
) -> Callable[[DiscoverContext], Discovered | None]:
    """Several discoveries for one auth source, tried in order (kimi: an env variable, then the browser)."""

    def discover(ctx: DiscoverContext) -> Discovered | None:
        for candidate in discovers:
            found = candidate(ctx)
            if found is not None:
                return found
        return None

    return discover


def browser_discover(
    provider_id: str, *, when: Callable[[DiscoverContext], bool] | None = None,
) -> Callable[[DiscoverContext], Discovered | None]:
    """A read-only discovery of ``provider_id``'s web login in the user's browsers.

    Returns None when nothing is found (or import is off: ``AGENTGAUGE_BROWSER=off``), so the
    other auth sources keep working. Raises a BrowserError (a ConfigError) only for a real
    problem: the login is there but cannot be decrypted (Windows v20, locked keyring,
    Keychain denied), or the browser/profile the user chose cannot be read. ``when`` gates the
    lookup on the provider's settings (z.ai: a chat.z.ai token only suits the global region).
    """

    def discover(ctx: DiscoverContext) -> Discovered | None:
        # Imported here: provider modules load on every CLI start; the readers only when used.
        from ..errors import AgentGaugeError
        from ..providers._base import Discovered
        from ..secret import Secret
        from .errors import BrowserError
        from .finder import OFF, find_credentials

        browser = ctx.env.get("AGENTGAUGE_BROWSER") or None
        if browser and browser.strip().lower() in OFF:
            return None
        try:
            if when is not None and not when(ctx):
                return None
        except AgentGaugeError:
            return None  # an invalid setting is reported by the provider's own checks
        try:
            found = find_credentials(provider_id, browser=browser, home=ctx.home, env=ctx.env,
                                     profile=ctx.env.get("AGENTGAUGE_BROWSER_PROFILE") or None)
        except BrowserError as exc:
            if exc.blocking:
                raise
            return None
        details = {"expires_at": found.expires_at.isoformat()} if found.expires_at else {}
        return Discovered(values={k: Secret(v) for k, v in found.values.items()}, origin=found.origin,
                          details=details)

    return discover

"""Where each provider's web login lives in a browser, as data keyed by provider id.

A cookie provider added later adds one :class:`Site` entry here and nothing else: the
readers, profile discovery and the provider's auth discovery are generic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CookieRule:
    """Cookies on ``domains`` (suffix match, so ``kimi.com`` covers ``www.kimi.com``) giving one setting.

    ``names`` are tried in order; the first present wins. ``chunked`` joins ``<name>.0``,
    ``<name>.1``... when the unsplit cookie is absent (NextAuth splits cookies over 4 KB).
    ``header`` makes the setting a whole ``Cookie`` header of every cookie on the domains,
    for sites that need more than the session cookie (Cloudflare's ``cf_clearance``...).
    """

    setting: str
    domains: tuple[str, ...]
    names: tuple[str, ...]
    chunked: bool = False
    header: bool = False


@dataclass(frozen=True)
class StorageRule:
    """A ``localStorage`` entry of one of ``origins`` (``https://chat.z.ai``) giving one setting."""

    setting: str
    origins: tuple[str, ...]
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Site:
    provider_id: str
    label: str  # what the user logs in to, for hints: "claude.ai"
    cookies: tuple[CookieRule, ...] = ()
    storage: tuple[StorageRule, ...] = ()

    def cookie_domains(self) -> tuple[str, ...]:
        """Every domain whose cookies are read (the readers filter by these before decrypting)."""
        seen: dict[str, None] = {}
        for rule in self.cookies:
            seen.update(dict.fromkeys(rule.domains))
        return tuple(seen)


SITES: dict[str, Site] = {
    "claude": Site(
        "claude", "claude.ai",
        cookies=(CookieRule("session_key", ("claude.ai",), ("sessionKey",)),),
    ),
    "codex": Site(
        "codex", "chatgpt.com",
        cookies=(CookieRule("session_token", ("chatgpt.com",), ("__Secure-next-auth.session-token",),
                            chunked=True),),
    ),
    "kimi": Site(
        "kimi", "www.kimi.com",
        cookies=(CookieRule("auth_token", ("kimi.com",), ("kimi-auth",)),),
    ),
    "zai": Site(
        "zai", "chat.z.ai",
        # chat.z.ai keeps its JWT under ``token``; the z.ai open platform under its own keys.
        storage=(StorageRule("api_key", ("https://chat.z.ai",), ("token",)),
                 StorageRule("api_key", ("https://z.ai",),
                             ("z-ai-open-platform-token-production", "z-ai-website-token"))),
    ),
    "ollama": Site(
        "ollama", "ollama.com",
        # ``wos-session`` is the WorkOS session today; the older names kept signing in before it.
        cookies=(CookieRule("cookie", ("ollama.com",), ("wos-session", "__Secure-session", "session"),
                            header=True),),
    ),
}


def site_for(provider_id: str) -> Site | None:
    return SITES.get(provider_id)

"""Find a provider's web login in the user's browsers: profiles in order, first complete match wins."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..providers import BrowserLogin as Site
from ..providers import CookieRule
from . import chromium, firefox
from ._copy import Cookie, epoch, host_matches
from .errors import MANUAL_HINT, BrowserError
from .profiles import BROWSER_NAMES, FIREFOX, Profile, browser_order, discover_profiles

OFF = ("off", "none", "no", "false", "0")


@dataclass(frozen=True)
class BrowserCredentials:
    values: dict[str, str]  # provider setting name -> value
    origin: str  # "Firefox profile default-release"
    expires_at: datetime | None


# (provider, profile path) -> (stamp of the files read, result). Discovery runs on every
# refresh of every provider; re-reading only when a file changed keeps it cheap and avoids
# repeated macOS Keychain prompts.
_CACHE: dict[tuple[str, Site, Path], tuple[tuple[object, ...], BrowserCredentials | BrowserError | None]] = {}


def _stat(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_mtime_ns, st.st_size)


def _stamp(profile: Profile, site: Site) -> tuple[object, ...]:
    db = profile.cookie_db()
    paths = [db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))]
    for rule in site.storage:
        for origin in rule.origins:
            if profile.family == FIREFOX:
                ls = profile.path / "storage/default" / firefox.origin_folder(origin) / "ls/data.sqlite"
                paths += [ls, ls.with_name("data.sqlite-wal")]
            else:
                folder = profile.path / "Local Storage/leveldb"
                try:
                    paths += sorted(folder.iterdir()) if folder.is_dir() else []
                except OSError:
                    paths.append(folder)
    return tuple(_stat(p) for p in paths)


def _jwt_expiry(token: str) -> datetime | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return epoch(float(payload["exp"])) if isinstance(payload, dict) and "exp" in payload else None
    except (ValueError, KeyError, TypeError):
        return None


def _storage_value(raw: str) -> str:
    """localStorage often holds JSON: a quoted string is unwrapped; anything else is kept."""
    text = raw.strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except ValueError:
            return text
        return value if isinstance(value, str) else text
    return text


def pick_cookie(rule: CookieRule, cookies: list[Cookie], now: datetime) -> tuple[str, datetime | None] | None:
    """The rule's value from ``cookies`` (default container first), or None. Expired cookies
    (Firefox keeps them until its next cleanup) are ignored."""
    live = [
        c
        for c in cookies
        if host_matches(c.host, rule.domains) and c.value and (c.expires_at is None or c.expires_at > now)
    ]
    by_name: dict[str, Cookie] = {}
    for cookie in live:
        by_name.setdefault(cookie.name, cookie)
    for name in rule.names:
        parts: list[Cookie] = []
        if name in by_name:
            parts = [by_name[name]]
        elif rule.chunked:
            index = 0
            while f"{name}.{index}" in by_name:  # NextAuth: <name>.0, <name>.1, ... joined in order
                parts.append(by_name[f"{name}.{index}"])
                index += 1
        if not parts:
            continue
        expires = min((p.expires_at for p in parts if p.expires_at), default=None)
        if rule.header:  # the session first, then the rest of what the browser would send
            ordered = parts + [c for c in by_name.values() if c not in parts]
            return "; ".join(f"{c.name}={c.value}" for c in ordered), expires
        return "".join(p.value for p in parts), expires
    return None


def _read_profile(provider_id: str, site: Site, profile: Profile, now: datetime) -> BrowserCredentials | None:
    values: dict[str, str] = {}
    expiries: list[datetime] = []
    if site.cookies:
        domains = site.cookie_domains()
        if profile.family == FIREFOX:
            cookies = firefox.read_cookies(profile, domains)
        else:
            cookies = chromium.read_cookies(profile, domains, provider_id=provider_id, site=site.label)
        for rule in site.cookies:
            picked = pick_cookie(rule, cookies, now)
            if picked is not None and rule.setting not in values:
                values[rule.setting] = picked[0]
                expiries += [picked[1]] if picked[1] else []
    for srule in site.storage:
        if srule.setting in values:
            continue
        for origin in srule.origins:
            reader = firefox.read_local_storage if profile.family == FIREFOX else chromium.read_local_storage
            stored = reader(profile, origin, srule.keys)
            value = next((_storage_value(stored[k]) for k in srule.keys if stored.get(k, "").strip()), None)
            if value:
                values[srule.setting] = value
                expiries += [e for e in (_jwt_expiry(value),) if e]
                break
    wanted = {r.setting for r in site.cookies} | {r.setting for r in site.storage}
    if not wanted or set(values) != wanted:
        return None
    return BrowserCredentials(values, profile.label, min(expiries, default=None))


def _read_cached(provider_id: str, site: Site, profile: Profile, now: datetime) -> BrowserCredentials | None:
    key = (provider_id, site, profile.path)
    stamp = _stamp(profile, site)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == stamp:
        result = cached[1]
    else:
        try:
            result = _read_profile(provider_id, site, profile, now)
        except BrowserError as exc:
            result = exc
        _CACHE[key] = (stamp, result)
    if isinstance(result, BrowserError):
        raise result
    if result is not None and result.expires_at is not None and result.expires_at <= now:
        return None  # cached past its expiry
    return result


def login_of(provider_id: str) -> Site:
    """Where a registered provider declares its web login (its first auth source with one)."""
    from ..errors import ConfigError
    from ..providers import registry

    try:
        provider = registry.get(provider_id)
    except ConfigError:
        provider = None
    login = next((a.browser for a in provider.auth if a.browser), None) if provider else None
    if login is None:
        raise BrowserError(
            f"agentgauge does not know where {provider_id} keeps a browser login",
            hint=f"Set the credential with `agentgauge auth set {provider_id}`.",
        )
    return login


def find_credentials(
    provider_id: str,
    site: Site | None = None,
    *,
    browser: str | None = None,
    profile: str | None = None,
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> BrowserCredentials:
    """The provider's credentials from the first browser profile holding a complete login.

    ``browser``/``profile`` default to ``AGENTGAUGE_BROWSER``/``AGENTGAUGE_BROWSER_PROFILE`` of
    ``env``. Only files below ``home`` (or ``AGENTGAUGE_FIREFOX_ROOT``) are read, never written.
    Raises BrowserError when nothing is found, naming what was tried and what to do.
    """
    site = site or login_of(provider_id)
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    browser = browser if browser is not None else (env.get("AGENTGAUGE_BROWSER") or None)
    profile = profile if profile is not None else (env.get("AGENTGAUGE_BROWSER_PROFILE") or None)
    if browser and browser.strip().lower() in OFF:
        raise BrowserError(
            "Browser import is turned off (AGENTGAUGE_BROWSER)",
            hint="Unset AGENTGAUGE_BROWSER to let agentgauge look in your browsers.",
        )
    explicit = bool(profile) or len(browser_order(browser)) == 1
    profiles, problems = discover_profiles(home, env, browser=browser, profile=profile)
    now = datetime.now(UTC)
    for candidate in profiles:
        try:
            found = _read_cached(provider_id, site, candidate, now)
        except BrowserError as exc:
            exc.blocking = exc.blocking or explicit
            problems.append(exc)
            continue
        if found is not None:
            return found
    blocking = [p for p in problems if p.blocking]
    if blocking or problems:
        raise (blocking or problems)[0]
    first = BROWSER_NAMES[browser_order(browser)[0]]
    where = f"in {', '.join(p.label for p in profiles)}" if profiles else f"(no browser profile found below {home})"
    raise BrowserError(
        f"No {site.label} login found {where}",
        hint=f"Log in to {site.label} in {first}, then press Refresh. " + MANUAL_HINT.format(provider=provider_id),
    )

"""Find browser profiles on disk: Firefox and the Chromium family, on Linux, macOS and Windows.

Everything is looked up below ``home`` (and the Windows ``APPDATA``/``LOCALAPPDATA`` of
``env``, or the explicit ``AGENTGAUGE_FIREFOX_ROOT``), so tests with a temporary HOME never
see the developer's real browsers. Nothing here opens a database: listing profiles is cheap.
"""

from __future__ import annotations

import configparser
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import BrowserError

FIREFOX = "firefox"
# Display names; the key is what AGENTGAUGE_BROWSER accepts.
BROWSER_NAMES: dict[str, str] = {
    "firefox": "Firefox",
    "chrome": "Chrome",
    "chromium": "Chromium",
    "brave": "Brave",
    "edge": "Edge",
    "vivaldi": "Vivaldi",
    "arc": "Arc",
}
# The automatic order. Firefox first everywhere: its cookies are plain text (no keyring,
# Keychain prompt or Windows app-bound encryption), then the Chromium family by popularity.
DEFAULT_ORDER: tuple[str, ...] = ("firefox", "chrome", "chromium", "brave", "edge", "vivaldi", "arc")

# Chromium "User Data" folders: Linux (below ~/.config, plus snap/flatpak), macOS (below
# ~/Library/Application Support), Windows (below %LOCALAPPDATA%).
_CHROMIUM_LINUX: dict[str, tuple[str, ...]] = {
    "chrome": (".config/google-chrome", ".var/app/com.google.Chrome/config/google-chrome"),
    "chromium": (".config/chromium", "snap/chromium/common/chromium", ".var/app/org.chromium.Chromium/config/chromium"),
    "brave": (".config/BraveSoftware/Brave-Browser", ".var/app/com.brave.Browser/config/BraveSoftware/Brave-Browser"),
    "edge": (".config/microsoft-edge", ".var/app/com.microsoft.Edge/config/microsoft-edge"),
    "vivaldi": (".config/vivaldi",),
    "arc": (),
}
_CHROMIUM_MAC: dict[str, tuple[str, ...]] = {
    "chrome": ("Google/Chrome",),
    "chromium": ("Chromium",),
    "brave": ("BraveSoftware/Brave-Browser",),
    "edge": ("Microsoft Edge",),
    "vivaldi": ("Vivaldi",),
    "arc": ("Arc/User Data",),
}
_CHROMIUM_WIN: dict[str, tuple[str, ...]] = {
    "chrome": ("Google/Chrome/User Data",),
    "chromium": ("Chromium/User Data",),
    "brave": ("BraveSoftware/Brave-Browser/User Data",),
    "edge": ("Microsoft/Edge/User Data",),
    "vivaldi": ("Vivaldi/User Data",),
    "arc": (),  # Arc is a Store app: see _arc_windows
}
_PROFILE_DIR = re.compile(r"^(Default|Profile \d+)$")


@dataclass(frozen=True)
class Profile:
    """One browser profile directory."""

    browser: str  # a key of BROWSER_NAMES
    name: str  # profiles.ini Name / Chromium profile folder ("Default", "Profile 1")
    path: Path
    user_data: Path | None = None  # Chromium: the folder holding "Local State" (the key file)
    aliases: tuple[str, ...] = ()  # other names AGENTGAUGE_BROWSER_PROFILE may use

    @property
    def family(self) -> str:
        return FIREFOX if self.browser == FIREFOX else "chromium"

    @property
    def label(self) -> str:
        return f"{BROWSER_NAMES[self.browser]} profile {self.name}"

    def cookie_db(self) -> Path:
        if self.family == FIREFOX:
            return self.path / "cookies.sqlite"
        network = self.path / "Network" / "Cookies"  # Windows and newer builds moved it here
        return network if network.exists() else self.path / "Cookies"

    def key_file(self) -> Path | None:
        return self.user_data / "Local State" if self.user_data else None

    def matches(self, wanted: str) -> bool:
        wanted = wanted.strip().lower()
        names = {self.name, self.path.name, str(self.path), *self.aliases}
        if self.family == FIREFOX and "." in self.path.name:  # "abcd1234.default-release"
            names.add(self.path.name.split(".", 1)[1])
        return wanted in {n.lower() for n in names}


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _win_dir(env: Mapping[str, str], home: Path, var: str, fallback: str) -> Path:
    value = env.get(var)
    return Path(value) if value else home / fallback


# -- Firefox -------------------------------------------------------------------------------
def firefox_roots(home: Path, env: Mapping[str, str], platform: str) -> list[Path]:
    """Folders that may hold Firefox profiles (a ``profiles.ini`` root, or a profile itself)."""
    roots: list[Path] = []
    if env.get("AGENTGAUGE_FIREFOX_ROOT"):
        # The jlesage/firefox container: /config holds the profile in /config/profile; a
        # dashboard container mounts that volume anywhere (e.g. /firefox, read-only).
        roots.append(Path(env["AGENTGAUGE_FIREFOX_ROOT"]).expanduser())
    if platform == "darwin":
        roots.append(home / "Library/Application Support/Firefox")
    elif platform == "win32":
        roots.append(_win_dir(env, home, "APPDATA", "AppData/Roaming") / "Mozilla/Firefox")
    else:
        roots += [
            home / ".mozilla/firefox",
            home / "snap/firefox/common/.mozilla/firefox",
            home / ".var/app/org.mozilla.firefox/.mozilla/firefox",
        ]
        # Inside the jlesage container HOME is /config and the profile is /config/profile.
        if (home / "profile" / "cookies.sqlite").exists():
            roots.append(home / "profile")
    return roots


def _firefox_ini(root: Path) -> list[Profile]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(root / "profiles.ini", encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError) as exc:
        raise BrowserError(
            f"Firefox: cannot read {root / 'profiles.ini'} ({type(exc).__name__})",
            hint="Pick a profile with AGENTGAUGE_BROWSER_PROFILE, or repair profiles.ini.",
        ) from exc
    install_defaults = [parser[s].get("Default", "") for s in parser.sections() if s.startswith("Install")]
    found: list[tuple[int, Profile]] = []
    for section in parser.sections():
        if not section.startswith("Profile") or "Path" not in parser[section]:
            continue
        entry = parser[section]
        rel = entry.get("IsRelative", "1") == "1"
        path = (root / entry["Path"]) if rel else Path(entry["Path"])
        # The profile the installed Firefox opens first, then the legacy default, then the rest.
        rank = 0 if entry["Path"] in install_defaults else 1 if entry.get("Default") == "1" else 2
        name = entry.get("Name") or path.name
        found.append((rank, Profile(FIREFOX, name, path, aliases=(entry["Path"],))))
    found.sort(key=lambda item: item[0])
    return [p for _, p in found]


def firefox_profiles(root: Path) -> list[Profile]:
    """The profiles of one root: from ``profiles.ini`` when present, else by scanning for cookies.sqlite."""
    if (root / "profiles.ini").is_file():
        return _firefox_ini(root)
    # A profile folder itself, or a mounted jlesage /config (profile in "profile/"): named by
    # path, since "profile" alone says nothing.
    if (root / "cookies.sqlite").exists():
        return [Profile(FIREFOX, str(root), root, aliases=(root.name,))]
    if (root / "profile" / "cookies.sqlite").exists():
        return [Profile(FIREFOX, str(root / "profile"), root / "profile", aliases=("profile",))]
    found: list[Profile] = []
    for folder in (root, root / "Profiles"):
        if not _is_dir(folder):
            continue
        try:
            children = sorted(folder.iterdir())
        except OSError as exc:
            raise BrowserError(
                f"Firefox: cannot list {folder} ({exc.strerror or type(exc).__name__})",
                hint="Check the folder's permissions.",
            ) from exc
        found += [Profile(FIREFOX, c.name, c) for c in children if (c / "cookies.sqlite").exists()]
    return found


# -- Chromium family -----------------------------------------------------------------------
def _arc_windows(local: Path) -> list[Path]:
    packages = local / "Packages"
    if not _is_dir(packages):
        return []
    try:
        return [p / "LocalCache/Local/Arc/User Data" for p in sorted(packages.glob("TheBrowserCompany.Arc_*"))]
    except OSError:
        return []


def chromium_user_data(browser: str, home: Path, env: Mapping[str, str], platform: str) -> list[Path]:
    if platform == "darwin":
        base = home / "Library/Application Support"
        return [base / rel for rel in _CHROMIUM_MAC[browser]]
    if platform == "win32":
        local = _win_dir(env, home, "LOCALAPPDATA", "AppData/Local")
        extra = _arc_windows(local) if browser == "arc" else []
        return [local / rel for rel in _CHROMIUM_WIN[browser]] + extra
    return [home / rel for rel in _CHROMIUM_LINUX[browser]]


def chromium_profiles(browser: str, user_data: Path) -> list[Profile]:
    """``Default`` and ``Profile N`` folders, the last used one first (as Chromium opens it)."""
    try:
        children = [c for c in user_data.iterdir() if _PROFILE_DIR.match(c.name) and _is_dir(c)]
    except OSError as exc:
        raise BrowserError(
            f"{BROWSER_NAMES[browser]}: cannot list {user_data} ({exc.strerror or type(exc).__name__})",
            hint="Check the folder's permissions.",
        ) from exc
    names: dict[str, str] = {}
    last_used = ""
    try:
        state = json.loads((user_data / "Local State").read_text(encoding="utf-8"))
        profile_state = state.get("profile", {}) if isinstance(state, dict) else {}
        last_used = str(profile_state.get("last_used") or "")
        cache = profile_state.get("info_cache") or {}
        names = {k: str(v.get("name")) for k, v in cache.items() if isinstance(v, dict) and v.get("name")}
    except (OSError, ValueError, AttributeError):
        pass  # Local State only adds display names and the order; the folders are enough

    def rank(path: Path) -> tuple[int, int]:
        if path.name == last_used:
            return (0, 0)
        if path.name == "Default":
            return (1, 0)
        return (2, int(path.name.split()[-1]))

    return [
        Profile(browser, c.name, c, user_data, aliases=(names[c.name],) if c.name in names else ())
        for c in sorted(children, key=rank)
    ]


# -- selection -----------------------------------------------------------------------------
def browser_order(browser: str | None) -> tuple[str, ...]:
    if not browser or browser.strip().lower() in ("auto", ""):
        return DEFAULT_ORDER
    wanted = browser.strip().lower()
    if wanted == "google-chrome":
        wanted = "chrome"
    if wanted not in BROWSER_NAMES:
        raise BrowserError(
            f"Unknown browser '{browser}'",
            blocking=True,
            hint=f"AGENTGAUGE_BROWSER is one of: auto, {', '.join(BROWSER_NAMES)}. Safari is not supported.",
        )
    return (wanted,)


def profiles_of(browser: str, home: Path, env: Mapping[str, str], platform: str) -> list[Profile]:
    """Every profile of one browser, in the order they are tried."""
    found: list[Profile] = []
    if browser == FIREFOX:
        for root in firefox_roots(home, env, platform):
            if _is_dir(root):
                found += firefox_profiles(root)
    else:
        for user_data in chromium_user_data(browser, home, env, platform):
            if _is_dir(user_data):
                found += chromium_profiles(browser, user_data)
    unique: dict[Path, Profile] = {}
    for profile in found:
        unique.setdefault(profile.path, profile)
    return list(unique.values())


def discover_profiles(
    home: Path,
    env: Mapping[str, str],
    *,
    browser: str | None = None,
    profile: str | None = None,
    platform: str | None = None,
) -> tuple[list[Profile], list[BrowserError]]:
    """The profiles to try, in order, and the problems met while listing them.

    An explicitly chosen browser or profile that does not exist is an error (``blocking``);
    in the automatic mode a browser that is not installed is simply skipped.
    """
    platform = platform or sys.platform
    order = browser_order(browser)
    explicit = len(order) == 1
    profiles: list[Profile] = []
    problems: list[BrowserError] = []
    for name in order:
        try:
            found = profiles_of(name, home, env, platform)
        except BrowserError as exc:
            exc.blocking = exc.blocking or explicit
            problems.append(exc)
            continue
        profiles += found
    if profile:
        chosen = [p for p in profiles if p.matches(profile)]
        if not chosen and not problems:
            known = ", ".join(p.label for p in profiles) or "none"
            raise BrowserError(
                f"No browser profile named '{profile}' (found: {known})",
                blocking=True,
                hint="Set AGENTGAUGE_BROWSER_PROFILE to a profile name or folder, or unset it.",
            )
        profiles = chosen
    elif explicit and not profiles and not problems:
        where = "AGENTGAUGE_FIREFOX_ROOT or " if order[0] == FIREFOX else ""
        raise BrowserError(
            f"{BROWSER_NAMES[order[0]]}: no profile found below {home}",
            blocking=True,
            hint=f"Open {BROWSER_NAMES[order[0]]} once, set {where}AGENTGAUGE_BROWSER_PROFILE, "
            "or unset AGENTGAUGE_BROWSER.",
        )
    return profiles, problems

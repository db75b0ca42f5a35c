"""Finding the IDEs' quota files (read-only).

JetBrains keeps one config directory per product and version, ``<Product><Version>`` (``PyCharm2025.3``,
``IntelliJIdea2026.1``), under a per-platform root: ``%APPDATA%\\JetBrains`` on Windows,
``~/Library/Application Support/JetBrains`` on macOS, ``$XDG_CONFIG_HOME/JetBrains`` (``~/.config``)
on Linux; Android Studio uses ``Google`` beside it. Every product counts (no list of names); each
IDE syncs its own copy of the account-wide quota, so the most recently written file wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .quota import QUOTA_FILE, has_quota

VENDORS = ("JetBrains", "Google")  # Google: Android Studio
_PRODUCT = re.compile(r"^(?P<name>[A-Za-z][A-Za-z-]*?)(?P<version>\d{4}\.\d+(?:\.\d+)?)?$")
NAMES = {
    "IntelliJIdea": "IntelliJ IDEA Ultimate",
    "IdeaIC": "IntelliJ IDEA Community",
    "PyCharm": "PyCharm Professional",
    "PyCharmCE": "PyCharm Community",
    "AndroidStudio": "Android Studio",
    "PhpStorm": "PhpStorm",
    "WebStorm": "WebStorm",
    "GoLand": "GoLand",
    "CLion": "CLion",
    "DataGrip": "DataGrip",
    "RubyMine": "RubyMine",
    "Rider": "Rider",
    "RustRover": "RustRover",
    "DataSpell": "DataSpell",
    "Aqua": "Aqua",
    "Writerside": "Writerside",
}


@dataclass(frozen=True)
class QuotaFile:
    path: Path
    mtime: float

    @property
    def ide(self) -> str:
        """The IDE in words, from its config directory's name: ``PyCharm2025.3`` -> ``PyCharm Professional 2025.3``."""
        folder = self.path.parent.parent.name
        match = _PRODUCT.match(folder)
        if match is None:
            return folder
        name = NAMES.get(match["name"], match["name"])
        return f"{name} {match['version']}" if match["version"] else name


def config_roots(env: Mapping[str, str], home: Path) -> list[Path]:
    """Every directory that may hold IDE config directories, on any platform (missing ones are skipped)."""
    bases = [
        Path(env["APPDATA"]) if env.get("APPDATA") else home / "AppData" / "Roaming",
        home / "Library" / "Application Support",
        Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config",
        home / ".config",
    ]
    roots: dict[Path, None] = {}
    for base in bases:
        roots.update(dict.fromkeys(base / vendor for vendor in VENDORS))
    return list(roots)


def quota_files(directories: Iterable[Path]) -> list[QuotaFile]:
    """The quota files of the IDE config directories below each of ``directories``, newest first."""
    found: dict[Path, QuotaFile] = {}
    for root in directories:
        try:
            children = list(root.iterdir())
        except OSError:
            continue
        for child in children:
            path = child / "options" / QUOTA_FILE
            try:
                found[path] = QuotaFile(path, path.stat().st_mtime)
            except OSError:
                continue  # no AI Assistant in this IDE, or the file vanished while the IDE rewrote it
    return sorted(found.values(), key=lambda f: f.mtime, reverse=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def newest_with_quota(files: Iterable[QuotaFile]) -> QuotaFile | None:
    """The most recently written file that holds a quota; an IDE that never used AI Assistant writes
    an empty file that must not hide another IDE's real numbers."""
    for file in files:
        text = _read(file.path)
        if text is not None and has_quota(text):
            return file
    return None


def resolve(path: Path) -> QuotaFile | None:
    """The quota file a ``path`` setting names: the file itself, an IDE config directory (or its
    ``options`` folder), or a vendor root holding several IDEs (the newest with a quota wins)."""
    candidates = [path, path / "options" / QUOTA_FILE, path / QUOTA_FILE]
    for candidate in candidates:
        try:
            if candidate.is_file():
                return QuotaFile(candidate, candidate.stat().st_mtime)
        except OSError:
            continue
    files = quota_files([path])
    return newest_with_quota(files) or (files[0] if files else None)

"""Zed's sign-in as the Zed editor stores it, read from the system's credential store (read-only).

Zed keeps ``(user id, access token)`` per server URL (``https://zed.dev`` unless its settings name
another ``server_url`` / ``credentials_url``):

- Linux: a Secret Service item labelled ``zed-github-account`` with attributes ``url`` and
  ``username`` (the user id); the secret is the token. Read over D-Bus (``secretstorage``).
- Windows: the generic credential ``zed:url=<url>``: user name = user id, blob = token (UTF-8).
- macOS: the internet password for server ``<url>``: account = user id, password = token, read
  with ``security find-internet-password`` (macOS may ask to allow it once).

Each reader returns ``(user_id, token)`` or None, and raises ``ConfigError`` only when the item
is there but cannot be read (a locked keyring).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson

from ...errors import ConfigError
from .._base import DiscoverContext
from .._parse import obj, opt_str
from .._process import find_executable

DEFAULT_SERVER = "https://zed.dev"
TRUSTED_SERVERS = ("https://zed.dev", "https://staging.zed.dev")
CLOUD_URL = "https://cloud.zed.dev"
KEYRING_LABEL = "zed-github-account"
SECURITY_TIMEOUT = 10.0
UNLOCK_HINT = "Unlock your keyring (log in to the desktop session), then refresh."

Reader = Callable[[str, Mapping[str, str], Path], "tuple[str, str] | None"]


# -- Zed's own settings -------------------------------------------------------------------------------------
def lenient_json(text: str) -> Any:
    """Zed's settings.json is JSON with comments and trailing commas."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = []
    for line in text.splitlines():
        # a // comment outside a string: an even number of quotes before it
        for match in re.finditer(r"//", line):
            if line[: match.start()].count('"') % 2 == 0:
                line = line[: match.start()]
                break
        lines.append(line)
    return orjson.loads(re.sub(r",(\s*[}\]])", r"\1", "\n".join(lines)))


def settings_files(ctx: DiscoverContext) -> list[Path]:
    files = []
    if ctx.env.get("XDG_CONFIG_HOME"):
        files.append(ctx.expand(ctx.env["XDG_CONFIG_HOME"]) / "zed" / "settings.json")
    files.append(ctx.home / ".config" / "zed" / "settings.json")
    if ctx.env.get("APPDATA"):
        files.append(Path(ctx.env["APPDATA"]) / "Zed" / "settings.json")
    return list(dict.fromkeys(files))


def client_settings(ctx: DiscoverContext) -> tuple[str | None, str | None]:
    """(server_url, credentials_url) from the first readable Zed settings file."""
    for path in settings_files(ctx):
        with contextlib.suppress(OSError, UnicodeDecodeError, orjson.JSONDecodeError):
            root = obj(lenient_json(path.read_text(encoding="utf-8")))
            return opt_str(root.get("server_url")), opt_str(root.get("credentials_url"))
    return None, None


def credential_url(server: str | None, credentials: str | None) -> str:
    return credentials or server or DEFAULT_SERVER


def cloud_url(server: str | None, credentials: str | None) -> str | None:
    """The cloud API base for a server: cloud.zed.dev for Zed's own servers, the server itself for
    a custom HTTPS one. None when a custom server would receive credentials stored for another
    URL (CodexBar's rule, so a settings change cannot forward a token elsewhere)."""
    server = (server or DEFAULT_SERVER).rstrip("/")
    if server in TRUSTED_SERVERS:
        return CLOUD_URL
    if credentials and credentials.rstrip("/") != server:
        return None
    return server if server.lower().startswith("https://") else None


# -- the readers ---------------------------------------------------------------------------------------------
def read_secret_service(url: str, env: Mapping[str, str], home: Path) -> tuple[str, str] | None:
    try:
        import secretstorage  # keyring's Linux backend; talks D-Bus to the Secret Service
    except ImportError:
        return None
    try:
        connection = secretstorage.dbus_init()
    except Exception:  # no session bus (a server, a container): nothing to read
        return None
    try:
        items = list(secretstorage.search_items(connection, {"url": url}))
        for item in items:
            if item.get_label() != KEYRING_LABEL:
                continue
            user = opt_str(item.get_attributes().get("username"))
            if item.is_locked():
                raise ConfigError("Zed: the Zed sign-in is in a locked keyring", hint=UNLOCK_HINT)
            token = item.get_secret().decode("utf-8", "replace").strip()
            if user and token:
                return user, token
        return None
    except ConfigError:
        raise
    except Exception:  # the service went away mid-read, or refused: nothing usable
        return None
    finally:
        with contextlib.suppress(Exception):
            connection.close()


def read_windows_credential(url: str, env: Mapping[str, str], home: Path) -> tuple[str, str] | None:
    """``CredReadW("zed:url=<url>", CRED_TYPE_GENERIC)`` through ctypes (Windows only)."""
    if sys.platform != "win32":
        return None
    import ctypes
    from ctypes import wintypes

    class Credential(ctypes.Structure):
        _fields_ = [
            ("Flags", wintypes.DWORD),
            ("Type", wintypes.DWORD),
            ("TargetName", wintypes.LPWSTR),
            ("Comment", wintypes.LPWSTR),
            ("LastWritten", wintypes.FILETIME),
            ("CredentialBlobSize", wintypes.DWORD),
            ("CredentialBlob", ctypes.POINTER(ctypes.c_ubyte)),
            ("Persist", wintypes.DWORD),
            ("AttributeCount", wintypes.DWORD),
            ("Attributes", ctypes.c_void_p),
            ("TargetAlias", wintypes.LPWSTR),
            ("UserName", wintypes.LPWSTR),
        ]

    advapi32 = getattr(ctypes, "WinDLL")("advapi32", use_last_error=True)  # noqa: B009 (Windows-only attribute)
    pointer = ctypes.POINTER(Credential)()
    if not advapi32.CredReadW(f"zed:url={url}", 1, 0, ctypes.byref(pointer)):
        return None
    try:
        credential = pointer.contents
        blob = ctypes.string_at(credential.CredentialBlob, credential.CredentialBlobSize)
        return decode_credential(credential.UserName, blob)
    finally:
        advapi32.CredFree(pointer)


def decode_credential(user: str | None, blob: bytes) -> tuple[str, str] | None:
    """A credential's user and blob; Zed writes UTF-8, a blob written by other tools may be UTF-16."""
    if not user:
        return None
    try:
        token = blob.decode("utf-8")
    except UnicodeDecodeError:
        token = blob.decode("utf-16-le", "replace")
    token = token.replace("\x00", "").strip()
    return (user.strip(), token) if token else None


_ACCOUNT = re.compile(r'"acct"<blob>="((?:[^"\\]|\\.)*)"')
_PASSWORD_TEXT = re.compile(r'^password: "((?:[^"\\]|\\.)*)"\s*$', re.M)
_PASSWORD_HEX = re.compile(r"^password: 0x([0-9A-Fa-f]+)", re.M)


def parse_security_output(stdout: str, stderr: str) -> tuple[str, str] | None:
    """``security find-internet-password -g``: attributes on stdout, the password on stderr (as a
    quoted string, or as hex when it is not plain text)."""
    account = _ACCOUNT.search(stdout)
    text = _PASSWORD_TEXT.search(stderr)
    if text:
        token = text.group(1).encode("latin-1", "backslashreplace").decode("unicode_escape")
    else:
        hexed = _PASSWORD_HEX.search(stderr)
        token = bytes.fromhex(hexed.group(1)).decode("utf-8", "replace") if hexed else ""
    if not account or not token.strip():
        return None
    return account.group(1), token.strip()


def read_macos_keychain(url: str, env: Mapping[str, str], home: Path) -> tuple[str, str] | None:
    binary = find_executable("security", env, home, ("/usr/bin/security",))
    if binary is None:
        return None
    try:
        done = subprocess.run(
            [binary, "find-internet-password", "-s", url, "-g"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=SECURITY_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None  # not found (44), or access denied
    return parse_security_output(done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace"))


def reader_for(platform: str) -> Reader:
    if platform == "win32":
        return read_windows_credential
    if platform == "darwin":
        return read_macos_keychain
    return read_secret_service

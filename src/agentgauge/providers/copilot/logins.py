"""Where GitHub tokens that can read Copilot's quota already live on this machine (read-only).

- the environment: ``COPILOT_GITHUB_TOKEN``, ``GH_TOKEN``, ``GITHUB_TOKEN`` (the Copilot CLI's own
  order) for github.com; ``GH_ENTERPRISE_TOKEN``, ``GITHUB_ENTERPRISE_TOKEN`` for another host;
- the Copilot editor plugins' ``github-copilot/apps.json`` and ``hosts.json`` (Vim/Neovim,
  JetBrains, older VS Code): ``{"github.com:<app id>": {"user", "oauth_token"}}``;
- the Copilot CLI's ``config.json`` (``$COPILOT_HOME`` or ``~/.copilot``), where it keeps the login
  when no system keychain is available: ``copilot_tokens`` / ``copilotTokens`` maps
  ``https://github.com:<login>`` to a token (or ``github.com`` to ``{"token"}``); the file may
  start with ``//`` comment lines;
- the GitHub CLI's ``hosts.yml`` (``oauth_token`` per host or per user), and when gh keeps the
  token in the system keyring instead, ``gh auth token --hostname <host>``.

Every reader takes the host whose tokens it wants, so a github.com token is never offered to an
Enterprise host or the other way round.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from .._base import DiscoverContext, Discovered, Secret
from .._parse import obj, opt_str
from .._process import find_executable

DEFAULT_HOST = "github.com"
GITHUB_ENV = ("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN")
ENTERPRISE_ENV = ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")
GH_TIMEOUT = 5.0
REFRESH_PREFIX = "ghr_"  # a refresh token: never usable as an access token


def normal_host(value: str | None) -> str:
    """``https://octocorp.ghe.com/login`` -> ``octocorp.ghe.com``; empty -> github.com."""
    text = (value or "").strip().lower()
    text = re.sub(r"^[a-z]+://", "", text).split("/", 1)[0].split("@")[-1]
    text = text.removeprefix("api.")
    return text or DEFAULT_HOST


def _clean(value: Any) -> str | None:
    token = opt_str(value)
    if token and len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        token = token[1:-1].strip()
    if not token or token.startswith(REFRESH_PREFIX):
        return None
    return token


# -- environment ----------------------------------------------------------------------------------------
def from_environment(ctx: DiscoverContext, host: str) -> Discovered | None:
    names = GITHUB_ENV if host == DEFAULT_HOST else ENTERPRISE_ENV
    for name in names:
        token = _clean(ctx.env.get(name))
        if token:
            return Discovered({"api_key": Secret(token)}, f"environment variable {name}")
    return None


# -- the Copilot editor plugins -------------------------------------------------------------------------
def editor_dirs(ctx: DiscoverContext) -> list[Path]:
    dirs: list[Path] = []
    if ctx.env.get("XDG_CONFIG_HOME"):
        dirs.append(ctx.expand(ctx.env["XDG_CONFIG_HOME"]) / "github-copilot")
    dirs.append(ctx.home / ".config" / "github-copilot")
    if ctx.env.get("LOCALAPPDATA"):
        dirs.append(Path(ctx.env["LOCALAPPDATA"]) / "github-copilot")
    return list(dict.fromkeys(dirs))


def editor_token(text: str, host: str) -> tuple[str, str | None] | None:
    """The ``oauth_token`` (and user) of the first entry for ``host`` in apps.json / hosts.json."""
    try:
        root = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    for key, entry in obj(root).items():
        if normal_host(str(key).split(":", 1)[0]) != host:
            continue
        token = _clean(obj(entry).get("oauth_token"))
        if token:
            return token, opt_str(obj(entry).get("user"))
    return None


def from_editor(ctx: DiscoverContext, host: str) -> Discovered | None:
    for folder in editor_dirs(ctx):
        for name in ("apps.json", "hosts.json"):
            path = folder / name
            with contextlib.suppress(OSError, UnicodeDecodeError):
                found = editor_token(path.read_text(encoding="utf-8"), host)
                if found:
                    details = {"user": found[1]} if found[1] else {}
                    return Discovered({"api_key": Secret(found[0])}, str(path), details)
    return None


# -- the Copilot CLI ---------------------------------------------------------------------------------------
def strip_comments(text: str) -> str:
    """JSON with ``//`` comment lines (the Copilot CLI writes a header comment) as plain JSON."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def _cli_entries(root: dict[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(host, token, login) for every stored token, in file order."""
    for field in ("copilot_tokens", "copilotTokens", "authTokens", "auth_tokens"):
        for key, value in obj(root.get(field)).items():
            text = re.sub(r"^[a-z]+://", "", str(key).strip().lower())
            raw_host, _, login = text.partition(":")
            token = _clean(value) if isinstance(value, str) else _clean(obj(value).get("token"))
            if token:
                yield normal_host(raw_host), token, login or None


def cli_token(text: str, host: str) -> tuple[str, str | None] | None:
    """The token of the last logged-in user for ``host``, else the first one for ``host``."""
    try:
        root = obj(orjson.loads(strip_comments(text)))
    except orjson.JSONDecodeError:
        return None
    entries = [(token, login) for entry_host, token, login in _cli_entries(root) if entry_host == host]
    if not entries:
        return None
    last = root.get("last_logged_in_user", root.get("lastLoggedInUser"))
    wanted = opt_str(obj(last).get("login")) if isinstance(last, dict) else opt_str(last)
    if wanted:
        for token, login in entries:
            if login and login.lower() == wanted.lower():
                return token, login
    return entries[0]


def cli_dir(ctx: DiscoverContext) -> Path:
    home = ctx.env.get("COPILOT_HOME")
    return ctx.expand(home) if home else ctx.home / ".copilot"


def from_copilot_cli(ctx: DiscoverContext, host: str) -> Discovered | None:
    path = cli_dir(ctx) / "config.json"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found = cli_token(text, host)
    if found is None:
        return None
    return Discovered({"api_key": Secret(found[0])}, str(path), {"user": found[1]} if found[1] else {})


# -- the GitHub CLI ---------------------------------------------------------------------------------------
def yaml_map(text: str) -> dict[str, Any]:
    """The nested ``key: value`` mappings of a small YAML file such as gh's hosts.yml (no lists,
    anchors or multi-line values: gh writes none there)."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(-1, root)]
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#") or raw.lstrip().startswith("- "):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        key, sep, value = raw.strip().partition(":")
        if not sep:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1] if stack else root
        key, value = key.strip().strip("'\""), value.strip()
        if value and not value.startswith("#"):
            parent[key] = value.split(" #", 1)[0].strip().strip("'\"")
        else:
            child: dict[str, Any] = {}
            parent[key] = child
            stack.append((indent, child))
    return root


def gh_dirs(ctx: DiscoverContext) -> list[Path]:
    if ctx.env.get("GH_CONFIG_DIR"):
        return [ctx.expand(ctx.env["GH_CONFIG_DIR"])]
    dirs: list[Path] = []
    if ctx.env.get("XDG_CONFIG_HOME"):
        dirs.append(ctx.expand(ctx.env["XDG_CONFIG_HOME"]) / "gh")
    if ctx.env.get("APPDATA"):
        dirs.append(Path(ctx.env["APPDATA"]) / "GitHub CLI")
    dirs.append(ctx.home / ".config" / "gh")
    return list(dict.fromkeys(dirs))


def gh_hosts_token(text: str, host: str) -> tuple[str | None, str | None] | None:
    """(token, user) for ``host`` in hosts.yml; the token is None when gh keeps it in the keyring.
    None when gh is not logged in to ``host``."""
    entry = next((v for k, v in yaml_map(text).items() if normal_host(k) == host and isinstance(v, dict)), None)
    if entry is None:
        return None
    user = opt_str(entry.get("user"))
    token = _clean(entry.get("oauth_token"))
    if not token and user:
        token = _clean(obj(obj(entry.get("users")).get(user)).get("oauth_token"))
    return token, user


def run_gh_auth_token(binary: str, host: str, config_dir: Path, env: Mapping[str, str]) -> str | None:
    """``gh auth token --hostname <host>``: gh reads its keyring for us (never a variable's token)."""
    child_env = {
        k: v for k, v in os.environ.items() if k not in (*GITHUB_ENV, *ENTERPRISE_ENV, "GH_HOST", "GH_CONFIG_DIR")
    }
    child_env |= {"GH_CONFIG_DIR": str(config_dir), "PATH": env.get("PATH", child_env.get("PATH", ""))}
    try:
        done = subprocess.run(
            [binary, "auth", "token", "--hostname", host],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=GH_TIMEOUT,
            env=child_env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return _clean(done.stdout.decode("utf-8", "replace").strip())


def from_gh(ctx: DiscoverContext, host: str) -> Discovered | None:
    for folder in gh_dirs(ctx):
        path = folder / "hosts.yml"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found = gh_hosts_token(text, host)
        if found is None:
            continue
        token, user = found
        details = {"user": user} if user else {}
        if token:
            return Discovered({"api_key": Secret(token)}, str(path), details)
        binary = find_executable("gh", ctx.env, ctx.home)
        token = run_gh_auth_token(binary, host, folder, ctx.env) if binary else None
        if token:
            return Discovered({"api_key": Secret(token)}, f"gh auth token ({host})", details)
    return None

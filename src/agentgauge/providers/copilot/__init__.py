"""GitHub Copilot: the monthly premium-request, chat and completion quotas from
``GET {url}/copilot_internal/user`` with a GitHub token (``Authorization: token <t>``, plus the
editor headers Copilot's own clients send).

Any GitHub token of the account works: one given as ``api_key``, the ecosystem's variables, the
Copilot editor plugins' or Copilot CLI's login, or the GitHub CLI's (``logins`` finds them, only
for the configured ``host``). ``parsing`` reads the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import ClassVar

from ...errors import AuthError
from ...models import Usage
from .. import _capture, _http
from .._base import AuthSource, DiscoverContext, Discovered, FetchContext, Provider, Raw, Sample, Setting, WindowSpec
from . import logins, parsing

DEFAULT_URL = "https://api.github.com"
USER_PATH = "/copilot_internal/user"
# What Copilot Chat for VS Code sends (CodexBar's docs/copilot.md); GitHub routes the request by them.
EDITOR_HEADERS = {
    "Accept": "application/json",
    "Editor-Version": "vscode/1.96.2",
    "Editor-Plugin-Version": "copilot-chat/0.26.7",
    "User-Agent": "GitHubCopilotChat/0.26.7",
    "X-Github-Api-Version": "2025-04-01",
}
HINT = (
    "Sign in to Copilot in your editor or the Copilot CLI, or run `gh auth login`; or set "
    "AGENTGAUGE_COPILOT_API_KEY (or GH_TOKEN) to a GitHub token of the account with Copilot, then refresh."
)


def host_of(settings: Mapping[str, str]) -> str:
    return logins.normal_host(settings.get("host"))


def api_url(settings: Mapping[str, str]) -> str:
    """``url`` when set; else api.github.com, or ``https://api.<host>`` for an Enterprise host."""
    configured = (settings.get("url") or "").strip().rstrip("/")
    if configured:
        return configured
    host = host_of(settings)
    return DEFAULT_URL if host == logins.DEFAULT_HOST else f"https://api.{host}"


def _on_host(
    read: Callable[[DiscoverContext, str], Discovered | None],
) -> Callable[[DiscoverContext], Discovered | None]:
    def discover(ctx: DiscoverContext) -> Discovered | None:
        return read(ctx, host_of(ctx.settings))

    return discover


def bare_token(value: str) -> str:
    return _capture.bare_token(value, ("token", "bearer"))


class Copilot(Provider):
    id = "copilot"
    name = "GitHub Copilot"
    docs_url = "https://github.com/settings/copilot/features"
    status_page = "https://www.githubstatus.com"
    settings = (
        Setting("api_key", "A GitHub token of the account with Copilot (sent as 'Authorization: token').", secret=True),
        Setting(
            "host",
            "GitHub host whose logins are read: github.com, or a GitHub Enterprise host (octocorp.ghe.com).",
            default=logins.DEFAULT_HOST,
            env=("GH_HOST",),
        ),
        Setting("url", "Base URL of the GitHub API; https://api.<host> when unset.", default=DEFAULT_URL),
    )
    auth = (
        AuthSource(
            id="api_key",
            source="api_key",
            label="GitHub token",
            requires=("api_key",),
            hint=HINT,
            discover=_on_host(logins.from_environment),
            discovered_source="api_key",
        ),
        AuthSource(
            id="editor",
            source="oauth",
            label="Copilot editor login",
            requires=("api_key",),
            hint=HINT,
            discover=_on_host(logins.from_editor),
            discovered_source="oauth",
        ),
        AuthSource(
            id="copilot_cli",
            source="cli",
            label="Copilot CLI login",
            requires=("api_key",),
            hint=HINT,
            discover=_on_host(logins.from_copilot_cli),
            discovered_source="cli",
        ),
        AuthSource(
            id="gh",
            source="cli",
            label="GitHub CLI login",
            requires=("api_key",),
            hint=HINT,
            discover=_on_host(logins.from_gh),
            discovered_source="cli",
        ),
    )
    windows = (
        WindowSpec("premium", "Premium requests", None, "requests"),
        WindowSpec("chat", "Chat", None, "requests"),
        WindowSpec("completions", "Code completions", None, "requests"),
        WindowSpec("quota_*", "Copilot quota", None, "requests"),
    )
    urls: ClassVar[Mapping[str, str]] = {"url": DEFAULT_URL}
    min_interval = 120.0
    env_vars = (*logins.GITHUB_ENV, *logins.ENTERPRISE_ENV, "COPILOT_HOME", "GH_CONFIG_DIR")
    redact_keys = frozenset({"analytics_tracking_id", "login", "organization_login_list"})
    samples = (Sample("user-*.json", "user"),)
    sim_credentials: ClassVar[Mapping[str, str]] = {"api_key": "gho_simcopilottoken"}
    demo_accounts = ("free", "business")

    async def fetch(self, ctx: FetchContext) -> Raw:
        headers = {**EDITOR_HEADERS, "Authorization": f"token {bare_token(ctx.secret('api_key'))}"}
        url = api_url(ctx.settings) + USER_PATH
        try:
            response = await _http.send(
                ctx, "GET", url, what="Copilot user request", headers=headers, ok_statuses=(200, 404)
            )
        except AuthError as exc:
            raise AuthError(exc.message, hint=HINT, status_code=exc.status_code) from None
        if response.status_code == 404:  # no Copilot seat behind this token (or it may not read it)
            raise AuthError(
                "GitHub Copilot: the Copilot user endpoint answered HTTP 404 for this token "
                "(its account has no Copilot seat, or the token may not read it)",
                hint=HINT,
                status_code=404,
            )
        return {"user": _http.decode_json(ctx, response, what="Copilot user request")}

    def parse(self, raw: Raw, now: datetime) -> Usage:
        return parsing.parse(raw.get("user"))


PROVIDER = Copilot()

"""agentgauge's one typed error tree.

    AgentGaugeError                      anything agentgauge reports to a user
     ├── ConfigError        (config)     a setting is missing or malformed
     └── ProviderError                   one fetch of one provider account failed
          ├── AuthError        (auth)          credentials missing, expired or rejected
          ├── RateLimitedError (rate_limited)  the provider throttled us; carries retry_after
          ├── FetchTimeoutError (timeout)      the provider did not answer in time
          ├── NetworkError     (network)       no connection could be made
          ├── UpstreamError    (upstream)      5xx, a challenge page, an error envelope
          │    └── ChallengeError              a Cloudflare (or similar) bot challenge
          ├── ParseError       (parse)         the response is not the shape we know; names the field
          └── ProviderConfigError (config)     a provider setting is invalid (bad region...)

Adapters raise exactly these; the engine maps each to a status and a retry policy.
Messages never hold a secret: they are built from status codes, field names and
redacted text only. Each error carries a ``hint`` telling the user what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .kinds import ErrorKind

if TYPE_CHECKING:
    from .models import ErrorInfo


class AgentGaugeError(Exception):
    """Base of every error agentgauge reports."""

    kind: ErrorKind = ErrorKind.UPSTREAM
    default_hint = "Check the logs with --verbose for details."

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def info(self) -> ErrorInfo:
        from .models import ErrorInfo

        return ErrorInfo(kind=self.kind, message=self.message, hint=self.hint)


class ConfigError(AgentGaugeError):
    kind = ErrorKind.CONFIG
    default_hint = "Fix the configuration file (agentgauge doctor shows where it is)."


class ProviderError(AgentGaugeError):
    """A fetch of one provider account failed; other accounts are unaffected."""

    def __init__(self, message: str, *, hint: str | None = None, status_code: int | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code


class AuthError(ProviderError):
    kind = ErrorKind.AUTH
    default_hint = "Sign in again or set a fresh credential, then refresh."


class RateLimitedError(ProviderError):
    kind = ErrorKind.RATE_LIMITED
    default_hint = "agentgauge backs off automatically; the last good data stays shown."

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        hint: str | None = None,
        status_code: int | None = 429,
    ) -> None:
        super().__init__(message, hint=hint, status_code=status_code)
        self.retry_after = retry_after


class FetchTimeoutError(ProviderError):
    kind = ErrorKind.TIMEOUT
    default_hint = "The provider is slow or unreachable; agentgauge will retry on the next refresh."


class NetworkError(ProviderError):
    kind = ErrorKind.NETWORK
    default_hint = "Check the network connection and the provider's base URL setting."


class UpstreamError(ProviderError):
    kind = ErrorKind.UPSTREAM
    default_hint = "The provider had a problem; agentgauge will retry on the next refresh."


class ChallengeError(UpstreamError):
    default_hint = (
        "The provider answered with a bot challenge (Cloudflare), not a logout. Prefer the "
        "OAuth/API-key source, or open the site in your browser once, then refresh."
    )


class ParseError(ProviderError):
    kind = ErrorKind.PARSE
    default_hint = (
        "The provider changed its response format. Update agentgauge; the last good data stays shown."
    )

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


class ProviderConfigError(ProviderError):
    kind = ErrorKind.CONFIG
    default_hint = "Fix this provider's settings (agentgauge providers lists them)."

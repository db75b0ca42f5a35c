"""agentgauge's one typed error tree.

    AgentGaugeError                      anything agentgauge reports to a user
     ├── ConfigError        (config)     a setting is missing or malformed
     ├── StoreUnavailableError (internal) the database cannot be reached right now
     ├── InternalError      (internal)   a bug in agentgauge (logged with its traceback), never a parse error
     └── ProviderError                   one fetch of one provider account failed
          ├── AuthError        (auth)          credentials missing, expired or rejected
          ├── RateLimitedError (rate_limited)  the provider throttled us; carries retry_after
          ├── FetchTimeoutError (timeout)      the provider did not answer in time
          ├── NetworkError     (network)       no connection could be made
          ├── UpstreamError    (upstream)      5xx, a challenge page, an error envelope
          │    └── ChallengeError              a Cloudflare (or similar) bot challenge
          ├── ParseError       (parse)         the response is not the shape we know; names the field
          └── ProviderConfigError (config)     a provider setting is invalid (bad region...)

Adapters raise exactly these; the engine maps each to a status and a retry policy and binds
``provider``/``account`` as attributes (``exc.bind``), so context never has to be read back out
of a message. Messages never hold a secret: they are built from status codes, field names and
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

    provider: str | None = None
    account: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint

    def bind(self, provider: str, account: str) -> AgentGaugeError:
        """Attach which provider account this error belongs to (the engine does, once)."""
        self.provider, self.account = provider, account
        return self

    def info(self) -> ErrorInfo:
        from .models import ErrorInfo

        return ErrorInfo(kind=self.kind, message=self.message, hint=self.hint)


class ConfigError(AgentGaugeError):
    kind = ErrorKind.CONFIG
    default_hint = "Fix the configuration file (agentgauge doctor shows where it is)."


class InternalError(AgentGaugeError):
    """An exception no check anticipated: a bug in agentgauge, reported as one (not as upstream drift)."""

    kind = ErrorKind.INTERNAL
    default_hint = "This is an agentgauge bug; the log has the traceback. Please report it."


class StoreUnavailableError(AgentGaugeError):
    """The database is down or unreachable (PostgreSQL outage, SQLite locked or failing disk).
    Reads raise it; writes are kept in memory and retried (see ``agentgauge.store``)."""

    kind = ErrorKind.INTERNAL
    default_hint = "Check that the database is running and reachable; agentgauge reconnects on its own."


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
    default_hint = "The provider changed its response format. Update agentgauge; the last good data stays shown."

    def __init__(self, message: str, *, field: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


class ProviderConfigError(ProviderError):
    kind = ErrorKind.CONFIG
    default_hint = "Fix this provider's settings (agentgauge providers lists them)."

"""The one error type of browser import.

Messages name the browser, the profile and the file, never a cookie value: they end up in
``doctor`` output, logs and the dashboard.
"""

from __future__ import annotations

from ..errors import ConfigError

MANUAL_HINT = "Or paste the value once with `agentgauge auth set {provider}`."


class BrowserError(ConfigError):
    """A browser profile or database could not be read, or held no credentials.

    ``blocking`` marks a problem the user must act on even when the browser was picked
    automatically (the site's cookies are there but cannot be decrypted, or the user chose
    this browser/profile explicitly). Non-blocking errors (another browser's broken
    database, nothing found) must not hide credentials found by other auth sources.
    """

    default_hint = "Log in to the site in your browser, then refresh; or set the credential by hand."

    def __init__(self, message: str, *, hint: str | None = None, blocking: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.blocking = blocking

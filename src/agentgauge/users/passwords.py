"""Password hashing: argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile), a policy on
length, and a check that costs the same whether or not the user exists."""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import ConfigError

MIN_LENGTH = 8  # NIST SP 800-63B's floor for a password a person chooses
MAX_LENGTH = 1024  # hashing a megabyte would be a cheap way to load the server


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash nobody's password matches, checked for unknown names so they cost the same time."""
    return _hasher().hash("agentgauge: no such user")


def check_policy(password: str) -> str:
    """The password when acceptable, else ConfigError saying why (never echoing it)."""
    if len(password) < MIN_LENGTH:
        raise ConfigError(
            f"the password is too short (at least {MIN_LENGTH} characters)",
            hint="Choose a longer one; a passphrase of a few words is easy to remember.",
        )
    if len(password) > MAX_LENGTH:
        raise ConfigError(f"the password is too long (at most {MAX_LENGTH} characters)")
    if password != password.strip() or "\n" in password or "\r" in password:
        raise ConfigError(
            "the password starts or ends with blanks or spans several lines",
            hint="Type it without leading or trailing spaces.",
        )
    return password


def hash_password(password: str) -> str:
    """An argon2id PHC string (salted; parameters inside)."""
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (None: an unknown user, checked against a dummy hash
    so that the answer takes as long as for a real one)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher().verify(stored if stored is not None else _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made with weaker parameters than today's (rehashed at the next login)."""
    try:
        return _hasher().check_needs_rehash(stored)
    except InvalidHashError:
        return True

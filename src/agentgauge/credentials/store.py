"""agentgauge's own secret store: credentials saved by ``agentgauge auth`` and refreshed OAuth tokens.

The store is one JSON file (``secrets.json`` in the platform data dir). Metadata (provider,
account, setting, when saved, when it expires, where it came from) is plain so ``doctor`` and
``auth status`` can show it without the key; each value is AES-256-GCM encrypted with the
entry's identity as associated data, so a ciphertext cannot be moved to another entry.

The 256-bit key lives in the OS keyring (service ``agentgauge``) when a keyring backend
works, else in a 0600 key file next to the store. The store file records which one it uses,
so a keyring that stops answering later is reported instead of silently re-keying (which
would lose every entry). Writes go to a temp file that replaces the store atomically under a
lock, so a crash or a concurrent ``serve`` never leaves a half-written store.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets as _random
import tempfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..paths import data_dir
from ..secret import Secret

log = logging.getLogger("agentgauge.credentials")

STORE_FILE = "secrets.json"
KEY_FILE = "secrets.key"
LOCK_FILE = "secrets.lock"
SERVICE = "agentgauge"
KEY_USER = "secret-store-key"
VERSION = 1
# Every setting value that came from the store carries this origin prefix (config.load sets it).
ORIGIN_PREFIX = "agentgauge secret store"
# The alert targets managed from the dashboard keep their URL, webhook and signing secret under this
# "provider" (account = the target's name). '@' is in no provider id, so no provider's entries collide.
ALERT_TARGETS = "@alerts"
KEY_ENV = "AGENTGAUGE_SECRET_KEY"  # "keyring" or "file": force where a new store keeps its key
FORGET_HINT = (
    "Fix the keyring (or restore the key), or run `agentgauge auth forget --all` to move the store "
    "aside and save the credentials again."
)


@dataclass(frozen=True)
class Entry:
    """One stored secret. ``value`` is ``None`` when only the metadata was read."""

    provider: str
    account: str
    setting: str
    saved_at: datetime
    origin: str
    expires_at: datetime | None = None
    value: Secret | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.provider, self.account, self.setting)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def store_origin(entry: Entry) -> str:
    """How a stored value's origin reads in ``doctor``/``auth status`` (never the value)."""
    return f"{ORIGIN_PREFIX} ({entry.origin})"


def default_dir() -> Path:
    return data_dir()


def keyring_backend() -> Any | None:
    """The usable keyring backend, or ``None`` when keyring has none (its ``fail`` backend, or a
    chainer with no members: headless Linux without Secret Service, like CI)."""
    try:
        import keyring
        from keyring.backends import chainer, fail
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken backend configuration must not break agentgauge
        return None
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _aad(provider: str, account: str, setting: str) -> bytes:
    return f"agentgauge/v{VERSION}/{provider}/{account}/{setting}".encode()


class SecretStore:
    def __init__(
        self, directory: Path | None = None, *, env: Mapping[str, str] | None = None, clock: Any = None
    ) -> None:
        self.directory = directory or default_dir()
        self.path = self.directory / STORE_FILE
        self.key_path = self.directory / KEY_FILE
        self._env = os.environ if env is None else env
        self._clock = clock or (lambda: datetime.now(UTC))
        self._key: bytes | None = None

    # -- where things are -------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.exists()

    def key_kind(self) -> str:
        """``keyring`` or ``file``: the store's recorded choice, else what a new store would use."""
        if self.exists():
            return str(self._read().get("key") or "file")
        forced = (self._env.get(KEY_ENV) or "").strip().lower()
        if forced in ("keyring", "file"):
            return forced
        return "keyring" if keyring_backend() is not None else "file"

    def key_location(self) -> str:
        if self.key_kind() == "keyring":
            backend = keyring_backend()
            name = type(backend).__name__ if backend is not None else "no backend available"
            return f"OS keyring (service '{SERVICE}', {name})"
        return f"key file {self.key_path}"

    # -- reading ----------------------------------------------------------------------------
    def metadata(self) -> list[Entry]:
        """Every entry without decrypting (no key needed): for ``doctor`` and ``auth status``."""
        return [self._entry(row, None) for row in self._read().get("entries", [])]

    def entries(self) -> list[Entry]:
        """Every entry, decrypted. ConfigError when the key cannot be read or does not fit."""
        data = self._read()
        rows = data.get("entries", [])
        if not rows:
            return []
        from cryptography.exceptions import InvalidTag  # the crypto stack loads only to en/decrypt
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        cipher = AESGCM(self._load_key(str(data.get("key") or "file"), create=False))
        out = []
        for row in rows:
            try:
                plain = cipher.decrypt(
                    base64.b64decode(row["nonce"]),
                    base64.b64decode(row["ciphertext"]),
                    _aad(row["provider"], row["account"], row["setting"]),
                )
            except (InvalidTag, ValueError):
                raise ConfigError(
                    f"the secret store {self.path} cannot be decrypted with the key from "
                    f"{self.key_location()} (the key changed or the file was edited)",
                    hint=FORGET_HINT,
                ) from None
            out.append(self._entry(row, Secret(plain.decode("utf-8"))))
        return out

    def get(self, provider: str, account: str, setting: str) -> Entry | None:
        return next((e for e in self.entries() if e.key == (provider, account, setting)), None)

    # -- writing ----------------------------------------------------------------------------
    def put(
        self,
        provider: str,
        account: str,
        values: Mapping[str, str],
        *,
        origin: str,
        expires_at: datetime | None = None,
        drop: Collection[str] = (),
    ) -> None:
        """Save (or replace) several settings of one account, and delete its ``drop`` settings, in one
        atomic write."""
        with self._locked():
            data: dict[str, Any] = (
                self._read() if self.exists() else {"version": VERSION, "key": self.key_kind(), "entries": []}
            )
            kind = str(data.get("key") or "file")
            try:
                key = self._load_key(kind, create=True)
            except ConfigError:
                if data["entries"] or kind != "keyring":
                    raise
                # A fresh store whose keyring refuses to take the key still works with a key file.
                log.warning("the OS keyring refused the secret store key; using a key file instead")
                kind, data["key"] = "file", "file"
                key = self._load_key("file", create=True)
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            cipher = AESGCM(key)
            now = _iso(self._clock())
            rows = [
                r
                for r in data["entries"]
                if not (
                    r["provider"] == provider
                    and r["account"] == account
                    and (r["setting"] in values or r["setting"] in drop)
                )
            ]
            for setting, value in values.items():
                nonce = _random.token_bytes(12)
                sealed = cipher.encrypt(nonce, value.encode("utf-8"), _aad(provider, account, setting))
                rows.append(
                    {
                        "provider": provider,
                        "account": account,
                        "setting": setting,
                        "saved_at": now,
                        "expires_at": _iso(expires_at),
                        "origin": origin,
                        "nonce": base64.b64encode(nonce).decode(),
                        "ciphertext": base64.b64encode(sealed).decode(),
                    }
                )
            data["entries"] = rows
            self._write(data)

    def forget(self, provider: str | None = None, account: str | None = None) -> int:
        """Delete the entries of a provider (optionally one account); all with ``provider=None``.
        Returns how many were removed. No key is needed to delete."""
        if not self.exists():
            return 0
        with self._locked():
            data = self._read()
            keep = [
                r
                for r in data.get("entries", [])
                if not (
                    (provider is None or r["provider"] == provider) and (account is None or r["account"] == account)
                )
            ]
            removed = len(data.get("entries", [])) - len(keep)
            if removed:
                data["entries"] = keep
                self._write(data)
            return removed

    # -- internals --------------------------------------------------------------------------
    def _entry(self, row: Mapping[str, Any], value: Secret | None) -> Entry:
        return Entry(
            str(row["provider"]),
            str(row["account"]),
            str(row["setting"]),
            _time(row.get("saved_at")) or datetime.fromtimestamp(0, UTC),
            str(row.get("origin") or "manual"),
            _time(row.get("expires_at")),
            value,
        )

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": VERSION, "entries": []}
        except OSError as exc:
            raise ConfigError(
                f"cannot read the secret store {self.path}: {exc.strerror}",
                hint="Check the file's owner and permissions (it should be 0600).",
            ) from None
        try:
            data = json.loads(text)
            self._check_shape(data)
        except (ValueError, KeyError, TypeError):
            aside = self._move_aside()
            raise ConfigError(
                f"the secret store {self.path} was unreadable (corrupt); it was moved to {aside} and "
                "agentgauge starts with an empty store",
                hint="Save the credentials again with `agentgauge auth set` or `agentgauge auth import`.",
            ) from None
        return data

    @staticmethod
    def _check_shape(data: Any) -> None:
        if not isinstance(data, dict) or data.get("version") != VERSION or data.get("key") not in ("keyring", "file"):
            raise ValueError("not a secret store")
        rows = data.get("entries")
        if not isinstance(rows, list):
            raise ValueError("entries")
        for row in rows:
            for name in ("provider", "account", "setting", "nonce", "ciphertext"):
                if not isinstance(row[name], str):
                    raise TypeError(name)
            _time(row.get("saved_at"))
            _time(row.get("expires_at"))

    def _move_aside(self) -> Path:
        """Keep a corrupt store (it may still be recoverable by hand); never delete it."""
        stamp = self._clock().strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{STORE_FILE}.corrupt-{stamp}")
        counter = 1
        while aside.exists():
            aside = self.path.with_name(f"{STORE_FILE}.corrupt-{stamp}-{counter}")
            counter += 1
        os.replace(self.path, aside)
        return aside

    def _write(self, data: Mapping[str, Any]) -> None:
        self._atomic_write(self.path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"))

    def _atomic_write(self, path: Path, payload: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.chmod(tmp, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialize read-modify-write between processes (``serve`` refreshing while ``auth set`` runs)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            import fcntl
        except ImportError:  # Windows: os.replace keeps each write atomic; concurrent writers are rare
            yield
            return
        with os.fdopen(os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600), "r+") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _load_key(self, kind: str, *, create: bool) -> bytes:
        if self._key is not None:
            return self._key
        key = self._keyring_key(create) if kind == "keyring" else self._file_key(create)
        if len(key) != 32:
            raise ConfigError(f"the secret store key in {self.key_location()} is not a 256-bit key", hint=FORGET_HINT)
        self._key = key
        return key

    def _keyring_key(self, create: bool) -> bytes:
        import keyring

        where = self.key_location()
        if keyring_backend() is None:
            raise ConfigError(
                f"the secret store's key is in the OS keyring, but no keyring backend is available ({where})",
                hint=FORGET_HINT,
            )
        try:
            stored = keyring.get_password(SERVICE, KEY_USER)
            if stored is None and create:
                stored = base64.b64encode(_random.token_bytes(32)).decode()
                keyring.set_password(SERVICE, KEY_USER, stored)
        except Exception as exc:  # keyring backends raise anything from D-Bus errors to OSError
            raise ConfigError(
                f"cannot read the secret store key from the OS keyring ({type(exc).__name__})", hint=FORGET_HINT
            ) from None
        if stored is None:
            raise ConfigError("the secret store's key is missing from the OS keyring", hint=FORGET_HINT)
        try:
            return base64.b64decode(stored, validate=True)
        except ValueError:
            raise ConfigError("the secret store key in the OS keyring is malformed", hint=FORGET_HINT) from None

    def _file_key(self, create: bool) -> bytes:
        try:
            text = self.key_path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            if not create:
                raise ConfigError(f"the secret store's key file {self.key_path} is missing", hint=FORGET_HINT) from None
            key = _random.token_bytes(32)
            self._atomic_write(self.key_path, base64.b64encode(key))
            return key
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the secret store key file {self.key_path}: "
                f"{getattr(exc, 'strerror', None) or type(exc).__name__}",
                hint=FORGET_HINT,
            ) from None
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise ConfigError(f"the secret store key file {self.key_path} is malformed", hint=FORGET_HINT) from None


class AccountTokens:
    """The narrow view of the store a provider's ``fetch`` gets (``FetchContext.tokens``): it may
    save fresh tokens for its own account, nothing else."""

    def __init__(self, store: SecretStore, provider: str, account: str) -> None:
        self._store, self._provider, self._account = store, provider, account

    def save(self, values: Mapping[str, str], *, expires_at: datetime | None, origin: str) -> None:
        self._store.put(self._provider, self._account, values, origin=origin, expires_at=expires_at)

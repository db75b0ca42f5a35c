"""Google OAuth for the providers on Google's APIs (Vertex AI, the Gemini API, Gemini CLI): Application
Default Credentials files, gcloud's own configuration, and the two grants of Google's token endpoint.

ADC files (``type``):

- ``authorized_user`` (``gcloud auth application-default login``): ``client_id``, ``client_secret`` and
  ``refresh_token`` are exchanged at the token endpoint (RFC 6749 refresh_token grant). Google's
  refresh tokens do not rotate, so nothing is ever written back.
- ``service_account`` (a key file): a JWT signed RS256 with ``private_key`` (``iss`` the
  ``client_email``, ``aud`` the token endpoint, ``scope``, ``iat``/``exp`` an hour apart) is exchanged
  with the ``urn:ietf:params:oauth:grant-type:jwt-bearer`` grant (RFC 7523).

The file's values never reach a message: errors name the field or the OAuth error code only. The
file is found from ``GOOGLE_APPLICATION_CREDENTIALS``, else gcloud's configuration directory
(``CLOUDSDK_CONFIG``, ``%APPDATA%\\gcloud``, ``~/.config/gcloud``), whose active configuration also
names the project.
"""

from __future__ import annotations

import asyncio
import base64
import configparser
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ProviderConfigError
from . import _http
from ._base import DiscoverContext, Discovered, FetchContext, Secret
from ._oauth import REJECTED, OAuthClient, TokenPair, parse_refresh, rejection
from ._parse import opt_str

ADC_FILE = "application_default_credentials.json"
ENV_VARS = ("GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "CLOUDSDK_ACTIVE_CONFIG_NAME")
PROJECT_ENV = ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT")
TOKEN_URL = "https://oauth2.googleapis.com/token"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME = 3600  # the most Google accepts
KINDS = ("authorized_user", "service_account")
UNSUPPORTED_HINT = "Use `gcloud auth application-default login` or a service-account key file."
# An ADC file carries its own OAuth client: a client Google no longer accepts is the file's problem
# too, which logging in again (a new file) fixes.
ADC_REJECTED = REJECTED | {"invalid_client"}


@dataclass(frozen=True)
class Adc:
    """The parts of an ADC file agentgauge uses; ``values`` holds the secrets."""

    kind: str  # authorized_user | service_account
    values: dict[str, str]
    project: str | None  # the service account's project_id, or the user's quota_project_id
    quota_project: str | None  # sent as x-goog-user-project with user credentials, as Google's libraries do

    def secrets(self) -> list[str]:
        return [v for k, v in self.values.items() if k in ("client_secret", "refresh_token", "private_key")]


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def read_adc(text: str, *, provider: str, hint: str) -> Adc:
    """Parse an ADC file's text; a ``ProviderConfigError`` names what is missing (never a value)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ProviderConfigError(f"{provider}: the credentials file is not valid JSON", hint=hint) from None
    if not isinstance(data, dict):
        raise ProviderConfigError(f"{provider}: the credentials file is not a JSON object", hint=hint)
    kind = _text(data, "type") or ("service_account" if data.get("private_key") else "authorized_user")
    if kind not in KINDS:
        raise ProviderConfigError(
            f"{provider}: credentials of type '{kind[:40]}' are not supported", hint=UNSUPPORTED_HINT
        )
    wanted = (
        ("client_id", "client_secret", "refresh_token")
        if kind == "authorized_user"
        else ("client_email", "private_key")
    )
    values = {key: value for key in (*wanted, "private_key_id") if (value := _text(data, key))}
    missing = [key for key in wanted if key not in values]
    if missing:
        raise ProviderConfigError(f"{provider}: the {kind} credentials file has no {', '.join(missing)}", hint=hint)
    quota_project = _text(data, "quota_project_id") if kind == "authorized_user" else None
    project = _text(data, "project_id") if kind == "service_account" else quota_project
    return Adc(kind, values, project, quota_project)


async def load_adc(ctx: FetchContext, *, hint: str) -> Adc:
    """The ADC file of the ``credentials_file`` credential, read and parsed."""
    path = Path(ctx.secret("credentials_file")).expanduser()
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        # Never the path itself: credential values are scrubbed from messages, mangling it.
        raise ProviderConfigError(
            f"{ctx.provider.name}: cannot read the credentials file ({type(exc).__name__})", hint=hint
        ) from None
    return read_adc(text, provider=ctx.provider.name, hint=hint)


# -- gcloud's configuration -----------------------------------------------------------------------------
def gcloud_dirs(env: Mapping[str, str], home: Path) -> list[Path]:
    """gcloud's config directory: ``CLOUDSDK_CONFIG``, else ``%APPDATA%\\gcloud`` on Windows and
    ``~/.config/gcloud`` elsewhere (both looked at, so one list serves every platform)."""
    if env.get("CLOUDSDK_CONFIG"):
        return [Path(env["CLOUDSDK_CONFIG"]).expanduser()]
    dirs = [Path(env["APPDATA"]) / "gcloud"] if env.get("APPDATA") else []
    return [*dirs, home / ".config" / "gcloud"]


def gcloud_project(folder: Path, env: Mapping[str, str]) -> str | None:
    """``[core] project`` of gcloud's active configuration (``CLOUDSDK_ACTIVE_CONFIG_NAME``, else
    the ``active_config`` file, else ``default``)."""
    name = (env.get("CLOUDSDK_ACTIVE_CONFIG_NAME") or "").strip()
    if not name:
        try:
            name = (folder / "active_config").read_text(encoding="utf-8").strip()
        except OSError:
            name = ""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(folder / "configurations" / f"config_{name or 'default'}", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return opt_str(parser.get("core", "project", fallback=None))


def discover_adc(ctx: DiscoverContext, *, provider: str, hint: str, strict: bool = False) -> Discovered | None:
    """The ADC file (``GOOGLE_APPLICATION_CREDENTIALS``, else gcloud's) as the ``credentials_file``
    setting, with gcloud's project as the ``project`` detail. A file that is there but unreadable or
    malformed is a ``ConfigError`` (reported, not skipped); with ``strict`` so is a
    ``GOOGLE_APPLICATION_CREDENTIALS`` naming a missing file."""
    explicit = (ctx.env.get("GOOGLE_APPLICATION_CREDENTIALS") or "").strip()
    folders = gcloud_dirs(ctx.env, ctx.home)
    if explicit:
        candidates = [(ctx.expand(explicit), "environment variable GOOGLE_APPLICATION_CREDENTIALS")]
    else:
        candidates = [(folder / ADC_FILE, str(folder / ADC_FILE)) for folder in folders]
    for path, origin in candidates:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{provider}: cannot read the credentials file ({type(exc).__name__})", hint=hint
            ) from None
        try:
            read_adc(text, provider=provider, hint=hint)
        except ProviderConfigError as exc:
            raise ConfigError(exc.message, hint=exc.hint) from None
        project = next((p for p in (gcloud_project(f, ctx.env) for f in folders) if p), None)
        return Discovered({"credentials_file": Secret(str(path))}, origin, {"project": project} if project else {})
    if explicit and strict:
        raise ConfigError(f"{provider}: GOOGLE_APPLICATION_CREDENTIALS names a file that does not exist", hint=hint)
    return None


# -- the token endpoint ---------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion(adc: Adc, audience: str, now: datetime, *, scope: str, provider: str, hint: str) -> str:
    """The signed JWT a service account exchanges for an access token."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    header = {"alg": "RS256", "typ": "JWT"}
    if adc.values.get("private_key_id"):
        header["kid"] = adc.values["private_key_id"]
    issued = int(now.timestamp())
    claims = {
        "iss": adc.values["client_email"],
        "scope": scope,
        "aud": audience,
        "iat": issued,
        "exp": issued + JWT_LIFETIME,
    }
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    try:
        key = serialization.load_pem_private_key(adc.values["private_key"].encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ProviderConfigError(
            f"{provider}: the service account's private_key is not a PEM RSA key", hint=hint
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ProviderConfigError(f"{provider}: the service account's private_key is not an RSA key", hint=hint)
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def token_endpoint(base: str) -> str:
    """A ``token_url`` setting may name the endpoint itself or a base it lives under (``/token``)."""
    base = base.rstrip("/")
    return base if base.endswith("/token") else base + "/token"


def refresh_grant(client_id: str, client_secret: str, refresh_token: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }


async def exchange(
    ctx: FetchContext,
    body: dict[str, str],
    *,
    hint: str,
    client_id: str = "",
    rejected: frozenset[str] = REJECTED,
) -> TokenPair:
    """One grant at ``token_endpoint(token_url)``. A 400/401 is an ``AuthError`` (the credentials are
    no good: a code in ``rejected``) or an ``UpstreamError``, quoting only Google's error code."""
    response = await _http.send(
        ctx,
        "POST",
        token_endpoint(ctx.url("token_url")),
        what="token request",
        headers={"Accept": "application/json"},
        data=body,
        ok_statuses=(200, 400, 401),
    )
    client = OAuthClient(ctx.provider.name, "token_url", "/token", client_id, False, "access_token", hint)
    if response.status_code != 200:
        raise rejection(client, response.status_code, response.content, rejected)
    return parse_refresh(_http.decode_json(ctx, response, what="token request"), ctx.now(), client)


async def access_token(ctx: FetchContext, adc: Adc, *, scope: str, hint: str) -> str:
    """An access token for ``scope`` from the ADC file's user refresh token or service-account key."""
    if adc.kind == "authorized_user":
        values = adc.values
        body = refresh_grant(values["client_id"], values["client_secret"], values["refresh_token"])
    else:
        audience = token_endpoint(ctx.url("token_url"))
        signed = assertion(adc, audience, ctx.now(), scope=scope, provider=ctx.provider.name, hint=hint)
        body = {"grant_type": JWT_BEARER, "assertion": signed}
    pair = await exchange(ctx, body, hint=hint, client_id=adc.values.get("client_id", ""), rejected=ADC_REJECTED)
    return pair.access_token


def bearer_headers(token: str, adc: Adc) -> dict[str, str]:
    """The headers of a Google API call with an ADC token (user credentials bill their quota project)."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    if adc.quota_project:
        headers["x-goog-user-project"] = adc.quota_project
    return headers

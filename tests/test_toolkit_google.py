"""The toolkit's Google OAuth (providers/_google.py): ADC files of both kinds, gcloud's configuration,
the service account's signed assertion, and how the token endpoint's refusals read. The round trips
through the simulator are in test_provider_vertexai.py, _gemini.py and _gemini_cli.py."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from agentgauge.errors import AuthError, ConfigError, ProviderConfigError, UpstreamError
from agentgauge.providers import Credentials, DiscoverContext, FetchContext, _google, registry

HINT = "Log in again."
USER = {"type": "authorized_user", "client_id": "c", "client_secret": "s", "refresh_token": "r"}


def read(data: object) -> _google.Adc:
    return _google.read_adc(json.dumps(data), provider="Example", hint=HINT)


# -- ADC files ----------------------------------------------------------------------------------------
def test_read_adc_kinds() -> None:
    user = read({**USER, "quota_project_id": "qp"})
    assert (user.kind, user.project, user.quota_project, user.secrets()) == ("authorized_user", "qp", "qp", ["s", "r"])
    account = read({"type": "service_account", "client_email": "e", "private_key": "k", "project_id": "p"})
    assert (account.kind, account.project, account.quota_project) == ("service_account", "p", None)
    assert read({"client_email": "e", "private_key": "k"}).kind == "service_account"  # no type: told by its key
    assert read({k: v for k, v in USER.items() if k != "type"}).kind == "authorized_user"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1]", "not a JSON object"),
        ('{"type": "external_account", "audience": "x"}', "type 'external_account' are not supported"),
        ('{"type": "authorized_user", "client_id": "c", "client_secret": "topsecret"}', "has no refresh_token"),
        ('{"type": "service_account", "client_email": "e"}', "has no private_key"),
    ],
)
def test_read_adc_refuses(text: str, message: str) -> None:
    with pytest.raises(ProviderConfigError, match=message) as info:
        _google.read_adc(text, provider="Example", hint=HINT)
    assert info.value.message.startswith("Example: ") and "topsecret" not in info.value.message
    assert info.value.hint in (HINT, _google.UNSUPPORTED_HINT)


def discover(env: dict[str, str], home: Path, *, strict: bool = False) -> object:
    ctx = DiscoverContext(env=env, home=home, settings={})
    return _google.discover_adc(ctx, provider="Example", hint=HINT, strict=strict)


def test_discovery_finds_gclouds_file_and_its_active_project(tmp_path: Path) -> None:
    folder = tmp_path / ".config" / "gcloud"
    (folder / "configurations").mkdir(parents=True)
    (folder / _google.ADC_FILE).write_text(json.dumps(USER))
    (folder / "active_config").write_text("work\n")
    (folder / "configurations" / "config_work").write_text("[core]\nproject = my-project\n")
    found = discover({}, tmp_path)
    assert isinstance(found, _google.Discovered)
    assert found.origin == str(folder / _google.ADC_FILE) and found.details == {"project": "my-project"}
    assert found.values["credentials_file"].reveal() == str(folder / _google.ADC_FILE)
    other = discover({"CLOUDSDK_ACTIVE_CONFIG_NAME": "none"}, tmp_path)
    assert isinstance(other, _google.Discovered) and other.details == {}


def test_discovery_reports_a_bad_file_and_a_missing_named_one(tmp_path: Path) -> None:
    assert discover({}, tmp_path) is None
    named = {"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "gone.json")}
    assert discover(named, tmp_path) is None
    with pytest.raises(ConfigError, match="names a file that does not exist"):
        discover(named, tmp_path, strict=True)
    (tmp_path / "bad.json").write_text('{"type": "authorized_user", "client_secret": "topsecret"}')
    with pytest.raises(ConfigError, match="has no client_id") as info:
        discover({"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "bad.json")}, tmp_path)
    assert "topsecret" not in info.value.message


# -- the token endpoint --------------------------------------------------------------------------------
def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_the_service_accounts_assertion_is_signed_rs256() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    adc = read(
        {"type": "service_account", "client_email": "sa@p.test", "private_key": pem.decode(), "private_key_id": "k1"}
    )
    now = datetime(2026, 8, 1, tzinfo=UTC)
    token = _google.assertion(adc, "https://oauth2.test/token", now, scope="scope-a", provider="Example", hint=HINT)
    header, claims, signature = token.split(".")
    assert json.loads(unb64(header)) == {"alg": "RS256", "typ": "JWT", "kid": "k1"}
    issued = int(now.timestamp())
    assert json.loads(unb64(claims)) == {
        "iss": "sa@p.test",
        "scope": "scope-a",
        "aud": "https://oauth2.test/token",
        "iat": issued,
        "exp": issued + 3600,
    }
    key.public_key().verify(unb64(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())


def test_a_private_key_that_is_no_pem_rsa_key_is_a_config_error() -> None:
    adc = read({"type": "service_account", "client_email": "e", "private_key": "-----BEGIN nonsense"})
    with pytest.raises(ProviderConfigError, match="not a PEM RSA key"):
        _google.assertion(adc, "https://oauth2.test/token", datetime.now(UTC), scope="s", provider="Example", hint=HINT)


@pytest.mark.parametrize(
    ("base", "endpoint"),
    [
        ("https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com/token"),
        ("https://oauth2.googleapis.com", "https://oauth2.googleapis.com/token"),
        ("http://127.0.0.1:9/x/", "http://127.0.0.1:9/x/token"),
    ],
)
def test_token_endpoint(base: str, endpoint: str) -> None:
    assert _google.token_endpoint(base) == endpoint


def context(provider_id: str, status: int, body: dict[str, str]) -> tuple[FetchContext, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    provider = registry.get(provider_id)
    ctx = FetchContext(
        provider=provider,
        account="default",
        http=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
        settings={"token_url": "https://oauth2.test/"},
        credentials=Credentials(provider.auth[0], {}, "test"),
        now=lambda: datetime.now(UTC),
        log=logging.getLogger("test"),
    )
    return ctx, seen


async def test_a_user_file_gets_a_token_with_its_refresh_grant() -> None:
    ctx, seen = context("vertexai", 200, {"access_token": "ya29.x", "expires_in": "3599"})
    adc = read({**USER, "quota_project_id": "qp"})
    async with ctx.http:
        token = await _google.access_token(ctx, adc, scope="s", hint=HINT)
    (request,) = seen
    assert token == "ya29.x" and str(request.url) == "https://oauth2.test/token"
    assert dict(httpx.QueryParams(request.content.decode())) == {
        "grant_type": "refresh_token",
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
    }
    assert _google.bearer_headers(token, adc) == {
        "Authorization": "Bearer ya29.x",
        "Accept": "application/json",
        "x-goog-user-project": "qp",
    }


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "invalid_grant", AuthError),
        (400, "invalid_client", AuthError),  # the file's own client: a new login fixes it
        (401, "whatever", AuthError),
        (400, "invalid_scope", UpstreamError),
    ],
)
async def test_refusals_of_an_adc_file(status: int, code: str, error: type[Exception]) -> None:
    ctx, _ = context("vertexai", status, {"error": code, "error_description": "r-secret"})
    async with ctx.http:
        with pytest.raises(error) as info:
            await _google.access_token(ctx, read(USER), scope="s", hint=HINT)
    assert code in str(info.value) or status == 401
    assert "r-secret" not in str(info.value)


async def test_an_installed_clients_refusal_is_upstream() -> None:
    ctx, _ = context("gemini_cli", 400, {"error": "invalid_client"})
    async with ctx.http:
        with pytest.raises(UpstreamError) as info:
            await _google.exchange(ctx, _google.refresh_grant("id", "secret", "r"), hint=HINT, client_id="id")
    assert not isinstance(info.value, AuthError) and "invalid_client" in info.value.message

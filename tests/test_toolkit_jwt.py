"""The toolkit's unverified JWT reading (providers/_jwt.py): claims, a string claim, the expiry; anything
that is not a compact JWT with a JSON object payload reads as no claims, never an exception."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from agentgauge.providers import _jwt


def segment(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims: object) -> str:
    return f"{segment(b'{}')}.{segment(json.dumps(claims).encode())}.sig"


def test_claims_of_a_jwt() -> None:
    token = jwt({"sub": " auth0|user_1 ", "email": "dev@example.com", "exp": 4102444800, "n": 1})
    assert _jwt.claims(f"  {token}\n")["n"] == 1
    assert _jwt.text_claim(token, "sub") == "auth0|user_1"
    assert _jwt.text_claim(token, "email") == "dev@example.com"
    assert _jwt.exp(token) == datetime(2100, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "id-token",
        "a.b",  # two parts: not a compact JWT
        "a..c",
        "a.!!!.c",  # not base64
        f"a.{segment(b'not json')}.c",
        f"a.{segment(bytes([0xFF, 0xFE]))}.c",  # not UTF-8
        f"a.{segment(b'[1, 2]')}.c",  # JSON, but not an object
        "a.b.c.d",
    ],
)
def test_what_is_not_a_jwt_has_no_claims(token: str | None) -> None:
    assert _jwt.claims(token) == {}
    assert _jwt.exp(token) is None and _jwt.text_claim(token, "sub") is None


@pytest.mark.parametrize("value", [0, -5, True, "4102444800", None, 1e20])
def test_an_unusable_exp_is_none(value: object) -> None:
    assert _jwt.exp(jwt({"exp": value})) is None


@pytest.mark.parametrize("value", [3, "", "   ", None, ["x"]])
def test_a_text_claim_must_be_a_non_empty_string(value: object) -> None:
    assert _jwt.text_claim(jwt({"sub": value}), "sub") is None

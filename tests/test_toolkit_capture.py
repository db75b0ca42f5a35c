"""The toolkit's pasted-value helpers (providers/_capture.py): tokens with quotes or a scheme, Cookie
headers in every form people paste them, and cURL commands copied from a browser's network panel."""

from __future__ import annotations

import pytest

from agentgauge.providers import _capture


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("abc", "abc"),
        ('  "abc"  ', "abc"),
        ("'abc'", "abc"),
        ("'abc\"", "'abc\""),  # quotes that do not match are part of the value
        ('"', '"'),
        ("", ""),
        (None, ""),
    ],
)
def test_unquote(pasted: str | None, expected: str) -> None:
    assert _capture.unquote(pasted) == expected


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("tok", "tok"),
        ("Bearer tok", "tok"),
        ("bearer   tok ", "tok"),
        ('"Bearer tok"', "tok"),
        ("Authorization: Bearer tok", "tok"),
        ("authorization:tok", "tok"),
        ("Bearertok", "Bearertok"),  # no space: not a scheme
    ],
)
def test_bare_token(pasted: str, expected: str) -> None:
    assert _capture.bare_token(pasted) == expected


def test_bare_token_with_other_schemes() -> None:
    assert _capture.bare_token("Authorization: token gho_1", ("token", "bearer")) == "gho_1"
    assert _capture.bare_token("token gho_1") == "token gho_1"  # only the schemes asked for


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        ("a=1; b=2", "a=1; b=2"),
        (" Cookie: a=1; b=2 ", "a=1; b=2"),
        ("cookie:a=1", "a=1"),
        ("COOKIE: a=1", "a=1"),
        ("'Cookie: a=1'", "a=1"),
    ],
)
def test_cookie_header(pasted: str, expected: str) -> None:
    assert _capture.cookie_header(pasted) == expected


def test_cookie_pairs_and_values() -> None:
    header = "a=1; ; b = 2 ;empty=; =x; c=3=4; A=5"
    assert _capture.cookie_pairs(header) == [("a", "1"), ("b", "2"), ("c", "3=4"), ("A", "5")]
    assert _capture.cookie_value(header, "c") == "3=4"
    assert _capture.cookie_value(header, "A") == "5"
    assert _capture.cookie_value(header, "a", ignore_case=True) == "1"
    assert _capture.cookie_value(header, "empty") is None
    assert _capture.cookie_value(header, "missing") is None


def test_named_and_only_cookies() -> None:
    assert _capture.named_cookie("tok", "session") == "session=tok"
    assert _capture.named_cookie("Cookie: session=tok; x=1", "session") == "session=tok; x=1"
    assert _capture.only_cookies("x=1; auth=a; y=2; __Host-auth=b", ("auth", "__Host-auth")) == "auth=a; __Host-auth=b"
    assert _capture.only_cookies("x=1", ("auth",)) == ""


def test_capture_forms() -> None:
    assert _capture.parse(" Cookie: a=1; b=2 ").cookie == "a=1; b=2"
    assert _capture.parse("a=1").cookie == "a=1"
    pasted = _capture.parse(
        "curl 'https://qoder.com.cn/api/v2/me/usages/big_model_credits' \\\n"
        "  -H 'accept: application/json' -H 'cookie: a=1; b=2' -b 'c=3' -H 'User-Agent: UA/1'"
    )
    assert (pasted.cookie, pasted.host, pasted.headers["user-agent"]) == ("a=1; b=2; c=3", "qoder.com.cn", "UA/1")
    assert "cookie" not in pasted.headers  # the Cookie header is the capture's cookie, not a forwarded header
    assert _capture.parse("curl https://qoder.com -H 'Host: qoder.com.cn:443' -H 'Cookie: x=1'").host == "qoder.com.cn"
    assert _capture.parse("curl 'unterminated").cookie == "curl 'unterminated"
    assert _capture.parse("curl https://x.test").cookie == ""
    assert _capture.parse("# copied\ncurl --cookie 'k=v' https://x.test/p").cookie == "k=v"
    assert _capture.parse("a=1").host is None

"""The toolkit's request patterns (providers/_http.py): bodies and their Content-Type, a challenge
page whatever its status, calls at once, enrichment calls whose failure is only logged, and paging."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from agentgauge.errors import AuthError, ChallengeError, ParseError, UpstreamError
from agentgauge.providers import Credentials, FetchContext, _http, registry

PROVIDER = registry.get("openai")


def context(handler: Callable[[httpx.Request], httpx.Response]) -> FetchContext:
    return FetchContext(
        provider=PROVIDER,
        account="default",
        http=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        settings={},
        credentials=Credentials(PROVIDER.auth[0], {}, "test"),
        now=lambda: datetime.now(UTC),
        log=logging.getLogger("test"),
    )


async def sent(**kwargs: Any) -> httpx.Request:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    ctx = context(answer)
    async with ctx.http:
        await _http.send(ctx, "POST", "https://api.example.com/x", what="test request", **kwargs)
    (request,) = seen
    return request


async def test_a_json_body_says_so_unless_the_caller_did() -> None:
    request = await sent(json={"a": 1})
    assert request.headers["content-type"] == "application/json" and request.content == b'{"a":1}'
    request = await sent(json={}, headers={"content-type": "application/x-amz-json-1.0"})
    assert request.headers.get_list("content-type") == ["application/x-amz-json-1.0"]


async def test_a_binary_body_goes_as_given() -> None:
    request = await sent(content=b"\x0a\x03abc", headers={"Content-Type": "application/proto"})
    assert request.content == b"\x0a\x03abc" and request.headers["content-type"] == "application/proto"
    assert "content-type" not in (await sent()).headers


@pytest.mark.parametrize("status", [200, 403])
async def test_a_challenge_page_is_one_even_with_a_status_the_caller_reads(status: int) -> None:
    def challenge(request: httpx.Request) -> httpx.Response:
        headers = {"cf-mitigated": "challenge", "content-type": "text/html"}
        return httpx.Response(status, headers=headers, text="<html>Just a moment...</html>")

    ctx = context(challenge)
    async with ctx.http:
        with pytest.raises(ChallengeError) as info:
            await _http.send(ctx, "GET", "https://api.example.com/x", what="usage request", ok_statuses=(200, 403))
    assert info.value.message == f"OpenAI: usage request hit a Cloudflare challenge (HTTP {status})"


def test_kept_headers() -> None:
    response = httpx.Response(200, headers={"X-RateLimit-Limit": "5", "Retry-After": "3", "Date": "today"})
    assert _http.kept_headers(response, ("x-ratelimit-", "retry-after")) == {
        "x-ratelimit-limit": "5",
        "retry-after": "3",
    }


# -- calls at once -------------------------------------------------------------------------------------
async def test_together_returns_results_in_order() -> None:
    async def value(v: int, delay: float) -> int:
        await asyncio.sleep(delay)
        return v

    assert await _http.together(value(1, 0.02), value(2, 0)) == [1, 2]
    assert await _http.together(value(1, 0.02), value(2, 0), finish_all=True) == [1, 2]


async def test_together_raises_the_first_failure_itself_and_cancels_the_rest() -> None:
    cancelled = asyncio.Event()

    async def fails() -> None:
        raise UpstreamError("Example: boom")

    async def waits() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    with pytest.raises(UpstreamError, match="boom"):  # itself, not an exception group
        await _http.together(waits(), fails())
    assert cancelled.is_set()


async def test_finishing_all_raises_the_earliest_failure_in_argument_order() -> None:
    finished: list[str] = []

    async def fails(name: str, error: Exception) -> None:
        finished.append(name)
        raise error

    async def slow() -> str:
        await asyncio.sleep(0.02)
        finished.append("slow")
        return "done"

    with pytest.raises(AuthError, match="required"):
        await _http.together(
            slow(), fails("required", AuthError("required")), fails("extra", ParseError("x")), finish_all=True
        )
    assert sorted(finished) == ["extra", "required", "slow"]  # nothing was left running


# -- enrichment calls ----------------------------------------------------------------------------------
async def test_an_optional_call_logs_its_failure(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise UpstreamError("OpenAI: history request failed upstream (HTTP 500)")

    async def works() -> int:
        return 7

    ctx = context(lambda request: httpx.Response(200))
    async with ctx.http:
        with caplog.at_level(logging.INFO, logger="test"):
            assert await _http.optional(ctx, "history request", fails()) is None
        assert await _http.optional(ctx, "history request", works()) == 7
    assert "openai: optional history request failed: OpenAI: history request failed upstream" in caplog.text


async def test_an_optional_call_raises_what_belongs_to_the_account_and_bugs() -> None:
    async def refused() -> None:
        raise AuthError("OpenAI: rejected", status_code=401)

    async def bug() -> None:
        raise KeyError("x")

    ctx = context(lambda request: httpx.Response(200))
    async with ctx.http:
        with pytest.raises(AuthError):
            await _http.optional(ctx, "plan", refused(), fatal=lambda exc: isinstance(exc, AuthError))
        with pytest.raises(KeyError):
            await _http.optional(ctx, "plan", bug())


# -- paging --------------------------------------------------------------------------------------------
async def test_pages_follow_the_cursor_up_to_the_limit() -> None:
    asked: list[str | None] = []

    async def page(cursor: str | None) -> dict[str, Any]:
        asked.append(cursor)
        number = int(cursor or 0)
        return {"items": [number], "next": str(number + 1) if number < 4 else None}

    def next_cursor(found: dict[str, Any]) -> str | None:
        return found["next"]

    assert [p["items"] for p in await _http.pages(page, next_cursor, limit=10)] == [[0], [1], [2], [3], [4]]
    assert asked == [None, "1", "2", "3", "4"]
    asked.clear()
    assert len(await _http.pages(page, next_cursor, limit=2)) == 2 and asked == [None, "1"]

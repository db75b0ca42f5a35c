"""The toolkit's header readers and recorded warnings (providers/_parse.py): Go-style durations,
``limit``/``remaining`` header pairs, and the warning a fetch recorded for a failed enrichment call."""

from __future__ import annotations

import pytest

from agentgauge.errors import AuthError, ParseError
from agentgauge.models import ErrorInfo, ErrorKind
from agentgauge.providers import _http
from agentgauge.providers._parse import duration, limit_and_used, lower_keys, recorded_warning


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0), ("1s", 1), ("12ms", 0.012), ("6m0s", 360), ("1h2m3s", 3723), ("1.5s", 1.5), ("20", 20), (" 7 ", 7)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert duration(text, "x") == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "1d", "5 s", "-1s", "1h 2m", "s", "1x"])
def test_bad_durations_name_the_header(text: str) -> None:
    with pytest.raises(ParseError) as info:
        duration(text, "x-ratelimit-reset-tokens", name="OpenAI")
    assert info.value.field == "x-ratelimit-reset-tokens"
    assert info.value.message == "OpenAI: header 'x-ratelimit-reset-tokens' is not a duration"


def test_days_only_when_asked_for() -> None:
    assert duration("1d2h", "x", days=True) == 93600
    with pytest.raises(ParseError):
        duration("1d2h", "x")


LIMIT, REMAINING = "x-ratelimit-limit-requests", "x-ratelimit-remaining-requests"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({LIMIT: "100", REMAINING: "75"}, (100.0, 25.0)),
        ({LIMIT: 100, REMAINING: 120}, (100.0, 0.0)),  # more left than the limit: none used
        ({}, None),  # neither sent
        ({LIMIT: "-1", REMAINING: "-1"}, None),  # the service does not know
        ({LIMIT: "100", REMAINING: "-1"}, None),
    ],
)
def test_limit_and_used(headers: dict[str, object], expected: tuple[float, float] | None) -> None:
    assert limit_and_used(headers, LIMIT, REMAINING) == expected


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({LIMIT: "100"}, f"header {LIMIT} or {REMAINING} is missing"),
        ({REMAINING: "3"}, f"header {LIMIT} or {REMAINING} is missing"),
        ({LIMIT: "0", REMAINING: "0"}, f"header {LIMIT} is 0"),
    ],
)
def test_a_half_pair_or_a_zero_limit_is_a_parse_error(headers: dict[str, object], message: str) -> None:
    with pytest.raises(ParseError) as info:
        limit_and_used(headers, LIMIT, REMAINING, name="Example")
    assert info.value.message == f"Example: {message}" and info.value.field == LIMIT


def test_a_value_that_is_no_number_names_its_header() -> None:
    with pytest.raises(ParseError) as info:
        limit_and_used({LIMIT: "many", REMAINING: "1"}, LIMIT, REMAINING)
    assert info.value.field == LIMIT


def test_header_names_in_any_case() -> None:
    assert lower_keys({"X-RateLimit-Limit": "1", "retry-after": "2"}) == {"x-ratelimit-limit": "1", "retry-after": "2"}


def test_a_recorded_failure_is_a_warning() -> None:
    error = AuthError("Example: the history request was refused (HTTP 403)", hint="Use an admin key.")
    assert recorded_warning(_http.problem(error), "The rest is shown.") == ErrorInfo(
        kind=ErrorKind.AUTH, message=error.message, hint="Use an admin key."
    )
    without_hint = _http.problem(error, "Example: no history (history)", with_hint=False)
    assert without_hint == {"kind": "auth", "message": "Example: no history (history)"}
    assert recorded_warning(without_hint, "The rest is shown.") == ErrorInfo(
        kind=ErrorKind.AUTH, message="Example: no history (history)", hint="The rest is shown."
    )
    assert _http.problem(error, hint="Other.")["hint"] == "Other."


@pytest.mark.parametrize(
    ("record", "kind"),
    [({"kind": "nonsense", "message": "m"}, ErrorKind.UPSTREAM), ({"message": "m"}, ErrorKind.UPSTREAM)],
)
def test_a_recorded_kind_that_is_unknown_is_upstream(record: dict[str, str], kind: ErrorKind) -> None:
    warning = recorded_warning(record, "-")
    assert warning is not None and warning.kind == kind


@pytest.mark.parametrize("record", [None, {}, {"message": ""}, "text", {"kind": "auth"}])
def test_a_record_without_a_message_is_no_warning(record: object) -> None:
    assert recorded_warning(record, "-") is None


def test_a_recorded_message_is_cut() -> None:
    warning = recorded_warning({"message": "x" * 500, "hint": "h" * 500}, "-")
    assert warning is not None and len(warning.message) == 300 and len(warning.hint) == 300

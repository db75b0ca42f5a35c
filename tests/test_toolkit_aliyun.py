"""The toolkit's Alibaba Cloud console gateway helpers (providers/_aliyun.py): the pure parts. The two
I/O steps (``sec_token`` and ``call``) run against the simulator in the alibaba and qwencloud tests."""

from __future__ import annotations

import orjson
import pytest

from agentgauge.errors import AuthError, ParseError, UpstreamError
from agentgauge.providers import _aliyun


def test_expand_decodes_json_inside_strings() -> None:
    assert _aliyun.expand({"a": '{"b": "[1, 2]"}', "c": "{not json"}) == {"a": {"b": [1, 2]}, "c": "{not json"}
    assert _aliyun.expand(["[]", " {} ", "x", 3]) == [[], {}, "x", 3]


def test_walk_and_find() -> None:
    tree = {"a": {"Code": "x", "b": [{"secToken": "t"}, {"secToken": "later"}]}, "code": ""}
    assert [sorted(found) for found in _aliyun.walk(tree)] == [["a", "code"], ["Code", "b"], ["secToken"], ["secToken"]]
    assert _aliyun.find_object(tree, ["secToken"]) == {"secToken": "t"}
    assert _aliyun.find_object(tree, ["missing"]) is None
    # key by key, case-insensitive, empty values skipped
    assert _aliyun.find_value(tree, ["code"]) == "x"
    assert _aliyun.find_value(tree, ["missing", "SECTOKEN"]) == "t"
    assert _aliyun.find_value(tree, ["missing"]) is None


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ({"code": "200", "successResponse": True, "data": {"x": 1}}, None),
        ({"successResponse": False, "code": "ConsoleNeedLogin", "message": "log in"}, AuthError),
        ({"successResponse": False, "code": "PostonlyOrTokenError", "message": "Request has expired"}, AuthError),
        ({"statusCode": 403, "code": "", "message": ""}, AuthError),
        ({"code": "NotAuthorized", "message": "access denied"}, AuthError),
        ({"successResponse": False, "code": "Workspace.NotAuthorised", "message": "no workspace"}, UpstreamError),
        ({"data": {"frame": {"success": False, "errorCode": "Internal", "errorMsg": "boom"}}}, UpstreamError),
        ({"code": "500", "message": "busy"}, UpstreamError),
        ("not an object", None),
    ],
)
def test_console_error(answer: object, kind: type | None) -> None:
    found = _aliyun.console_error(answer, "Console", "the hint")
    assert (type(found) if found is not None else None) is kind
    if isinstance(found, AuthError):
        assert found.hint == "the hint"


def test_session_cookie_ignores_case() -> None:
    assert _aliyun.session_cookie("a=1; login_aliyunid_csrf=x%3D; b=2", "LOGIN_ALIYUNID_CSRF") == "x%3D"
    assert _aliyun.session_cookie("a=1", "cna") is None


def test_token_in_html() -> None:
    page = '<script>var cfg = {"secToken": "tok-1"};</script>'
    assert _aliyun.token_in_html(page, lambda html: False) == "tok-1"
    assert _aliyun.token_in_html("window.sec_token = 'tok-2';", lambda html: False) == "tok-2"
    assert _aliyun.token_in_html(page + "passport.alibabacloud.com", _aliyun.default_login_page) is None
    assert _aliyun.token_in_html("<html></html>", lambda html: False) is None


def test_forms_and_urls() -> None:
    url = _aliyun.gateway_url("https://console.test/", action="A", product="P", api="x/y", _v="undefined")
    assert url == "https://console.test/data/api.json?action=A&product=P&api=x%2Fy&_v=undefined"
    form = _aliyun.api_form("api.x", {"k": 1}, product="P", action="A", region="r", token="tok")
    assert form["sec_token"] == "tok" and form["language"] == "en-US"
    assert orjson.loads(form["params"]) == {"Api": "api.x", "V": "1.0", "Data": {"k": 1}}
    assert "sec_token" not in _aliyun.api_form("api.x", {}, product="P", action="A", region="r", token=None)


def test_cornerstone() -> None:
    param = _aliyun.cornerstone("https://console.test/page", "SITE", "cna=anon; x=1", switchUserType=3)
    assert param["domain"] == "console.test" and param["consoleSite"] == "SITE" and param["switchUserType"] == 3
    assert param["X-Anonymous-Id"] == "anon"
    assert "X-Anonymous-Id" not in _aliyun.cornerstone("https://console.test/", "SITE", "x=1")


def test_require_object() -> None:
    assert _aliyun.require_object({"a": 1}, "x") == {"a": 1}
    with pytest.raises(ParseError):
        _aliyun.require_object([1], "x")

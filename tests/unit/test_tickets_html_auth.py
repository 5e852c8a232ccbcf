"""What agents' browsers receive is inert, and who may call the API at all."""

from __future__ import annotations

import pytest
from deskintake.adapters.dynamodb_queries import InvalidCursorError, decode_cursor, encode_cursor
from deskintake.runtime.auth import AuthError, AuthSettings, authenticate
from deskintake.services.tickets import safe_html

XSS = """<p>Hello <b>agent</b></p>
<script>window.__xss = 1; document.title = 'pwned'</script>
<img src="https://tracker.example.net/pixel.gif" onerror="window.__xss=2">
<a href="javascript:window.__xss=3">click me</a>
<a href="https://example.com/help" onclick="window.__xss=4">help</a>
<div style="background:url(https://tracker.example.net/bg)" onmouseover="alert(1)">styled</div>
<svg onload="alert(1)"><circle/></svg><iframe src="https://evil.example"></iframe>
<form action="https://evil.example"><input name="otp"></form>"""


def test_scripts_handlers_javascript_links_and_remote_images_are_removed() -> None:
    clean = safe_html(XSS) or ""
    lowered = clean.lower()
    for forbidden in ("<script", "__xss", "onerror", "onclick", "onmouseover", "javascript:", "<img",
                      "tracker.example.net", "<svg", "<iframe", "<form", "<input", "style="):
        assert forbidden not in lowered, forbidden
    assert "<b>agent</b>" in clean and "click me" in clean
    assert 'href="https://example.com/help"' in clean and "noopener" in clean


def test_no_html_means_no_html() -> None:
    assert safe_html(None) is None and safe_html("") is None


def event(authorization: str | None = None, claims: dict[str, object] | None = None) -> dict[str, object]:
    headers = {"authorization": authorization} if authorization else {}
    context: dict[str, object] = {"http": {"method": "GET"}}
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {"headers": headers, "requestContext": context}


LOCAL = AuthSettings(local=True, token="s3cret-token")


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic s3cret-token", "Bearer ", "s3cret-token"])
def test_locally_only_the_printed_bearer_token_is_accepted(header: str | None) -> None:
    with pytest.raises(AuthError):
        authenticate(event(header), LOCAL)


def test_locally_the_right_token_identifies_the_local_agent() -> None:
    assert authenticate(event("Bearer s3cret-token"), LOCAL).id == "agent@local"


def test_locally_an_empty_configured_token_lets_nobody_in() -> None:
    with pytest.raises(AuthError):
        authenticate(event("Bearer "), AuthSettings(local=True, token=""))


def test_in_the_cloud_the_authorizers_claims_name_the_agent() -> None:
    cloud = AuthSettings(local=False)
    agent = authenticate(event(claims={"sub": "abc", "email": "ana@desk.example", "cognito:groups": "[leads agents]"}), cloud)
    assert agent.id == "ana@desk.example" and agent.groups == ("leads", "agents")


def test_in_the_cloud_a_bearer_token_without_authorizer_claims_is_refused() -> None:
    with pytest.raises(AuthError):
        authenticate(event("Bearer s3cret-token"), AuthSettings(local=False, token="s3cret-token"))


def test_a_cursor_only_works_for_the_listing_that_issued_it() -> None:
    key = {"pk": {"S": "T#TKT-1"}, "sk": {"S": "T"}, "gsi1pk": {"S": "default#open"}, "gsi1sk": {"S": "x"}}
    cursor = encode_cursor(key, "ByStatus")
    assert decode_cursor(cursor, "ByStatus") == key
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, "ByBrand")


@pytest.mark.parametrize("cursor", ["not-base64!!", "eyJ4IjoxfQ", encode_cursor({"pk": {"N": "1"}}, "ByStatus"),
                                    encode_cursor({"evil": {"S": "x"}}, "ByStatus")])
def test_a_forged_cursor_is_rejected(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, "ByStatus")


def test_a_cursor_that_is_not_an_object_is_rejected() -> None:
    import base64

    with pytest.raises(InvalidCursorError):
        decode_cursor(base64.urlsafe_b64encode(b"[1,2]").decode(), "ByStatus")

"""Hostile webhooks through the real chat handler (API Gateway v2 events, moto behind it):
whatever the body, headers or content type, the answer is 200 or a clear 4xx, never a 500."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from deskintake.inbound.signatures import livechat_signature, whatsapp_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.chat_support import SECRETS, call

EXAMPLES = int(os.environ.get("DESKINTAKE_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                derandomize=not os.environ.get("DESKINTAKE_FUZZ_EXAMPLES"),
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
CLEAR_4XX = {400, 401, 403, 404, 405, 413, 415}


@pytest.fixture
def handler(chat_handler: Any) -> Any:
    return chat_handler


def signed(platform: str, body: bytes, extra: dict[str, str] | None = None) -> tuple[str, dict[str, str]]:
    headers = dict(extra or {})
    if platform == "whatsapp":
        headers["X-Hub-Signature-256"] = whatsapp_signature(body, SECRETS["DESKINTAKE_WHATSAPP_APP_SECRET"])
    elif platform == "telegram":
        headers["X-Telegram-Bot-Api-Secret-Token"] = SECRETS["DESKINTAKE_TELEGRAM_SECRET_TOKEN"]
    else:
        ts = str(int(time.time()))
        headers["X-Timestamp"] = ts
        headers["X-Signature"] = livechat_signature(body, ts, SECRETS["DESKINTAKE_LIVECHAT_SECRET"])
    return f"/webhooks/{platform}", headers


def assert_clear(status: int, answer: Any) -> None:
    assert status == 200 or status in CLEAR_4XX, (status, answer)
    if status != 200:
        assert isinstance(answer, dict) and answer.get("message"), answer


PLATFORMS = ["whatsapp", "telegram", "livechat"]

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
_shaped = st.one_of(
    st.fixed_dictionaries({"update_id": st.integers(), "message": _json}),
    st.fixed_dictionaries({"object": st.just("whatsapp_business_account"),
                           "entry": st.lists(st.fixed_dictionaries({"changes": st.lists(
                               st.fixed_dictionaries({"value": _json}), max_size=2)}), max_size=2)}),
    st.fixed_dictionaries({"type": st.sampled_from(["message", "edit", "x"]), "message": _json,
                           "visitor": _json}),
    _json,
)
_content_types = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                  "multipart/form-data; boundary=x", "", "application/json; charset=latin-1",
                                  "image/png"])


@FUZZ
@given(platform=st.sampled_from(PLATFORMS), body=st.binary(max_size=3000), ctype=_content_types)
def test_signed_random_bytes(handler: Any, platform: str, body: bytes, ctype: str) -> None:
    path, headers = signed(platform, body, {"Content-Type": ctype})
    assert_clear(*call(handler, "POST", path, body, headers))


@FUZZ
@given(platform=st.sampled_from(PLATFORMS), payload=_shaped, ctype=_content_types)
def test_signed_json_of_any_shape(handler: Any, platform: str, payload: Any, ctype: str) -> None:
    body = json.dumps(payload).encode()
    path, headers = signed(platform, body, {"Content-Type": ctype})
    assert_clear(*call(handler, "POST", path, body, headers))


_header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=80)


@FUZZ
@given(platform=st.sampled_from(PLATFORMS), body=st.binary(max_size=500),
       headers=st.dictionaries(st.sampled_from(["X-Hub-Signature-256", "X-Telegram-Bot-Api-Secret-Token",
                                                "X-Signature", "X-Timestamp", "Content-Type",
                                                "Content-Length", "Authorization"]),
                               _header_text, max_size=5))
def test_unsigned_or_forged_headers_are_401(handler: Any, platform: str, body: bytes,
                                            headers: dict[str, str]) -> None:
    status, answer = call(handler, "POST", f"/webhooks/{platform}", body, headers)
    assert (status, answer) == (401, {"message": "unauthorized"})


@FUZZ
@given(query=st.text(max_size=300))
def test_get_routes_with_any_query(handler: Any, query: str) -> None:
    for path in ("/webhooks/whatsapp", "/webhooks/livechat/replies"):
        status, answer = call(handler, "GET", path, query=query)
        assert status in {200, 401, 403}, (path, status, answer)


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("name,body", [
    ("deep arrays", b"[" * 100_000 + b"]" * 100_000),
    ("deep objects", b'{"a":' * 40_000 + b"1" + b"}" * 40_000),
    ("huge string", b'{"update_id": 1, "message": {"text": "' + b"x" * 250_000 + b'"}}'),
    ("huge number", b'{"update_id": ' + b"9" * 200_000 + b"}"),
    ("invalid utf-8", b'{"update_id": 1, "message": {"text": "\xff\xfe\xed\xa0\x80"}}'),
    ("utf-16", json.dumps({"update_id": 1}).encode("utf-16")),
    ("nul bytes", b'{"update_id": 1,\x00 "message": {}}'),
    ("empty", b""),
    ("over the limit", b" " * (256 * 1024 + 1)),
])
def test_hand_written_hostile_bodies(handler: Any, platform: str, name: str, body: bytes) -> None:
    path, headers = signed(platform, body, {"Content-Type": "application/json"})
    status, answer = call(handler, "POST", path, body, headers)
    assert_clear(status, answer)
    if name == "over the limit":
        assert status == 413
    if name in {"deep arrays", "deep objects", "nul bytes", "empty", "invalid utf-8"}:
        assert status == 400, (name, status, answer)


def test_a_valid_message_with_pii_is_stored_masked_after_all_that(handler: Any, moto_stack: dict[str, Any]) -> None:
    from deskintake.commands.chat_send import build_request

    path, headers, body = build_request("telegram", "kartu 4111 1111 1111 1111 kode OTP 839201",
                                        sender="700000001", secrets_env=SECRETS)
    status, answer = call(handler, "POST", path, body, headers)
    assert status == 200 and answer["tickets"], answer

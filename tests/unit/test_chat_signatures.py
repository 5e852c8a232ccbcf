"""Webhook authentication: WhatsApp HMAC, Telegram secret token, the widget's timestamped HMAC."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from deskintake.domain.errors import SignatureError
from deskintake.inbound.signatures import (
    livechat_signature,
    verify_livechat,
    verify_telegram,
    verify_whatsapp,
    verify_whatsapp_handshake,
    whatsapp_signature,
)

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
BODY = b'{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"text":"\\u4f60\\u597d"}}]}]}'


def test_whatsapp_signature_matches_the_published_hmac_sha256_vector() -> None:
    # RFC 4231-style well-known vector (key "key", the quick brown fox), independent of our code.
    assert whatsapp_signature(b"The quick brown fox jumps over the lazy dog", "key") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_whatsapp_accepts_the_signature_over_the_exact_bytes() -> None:
    header = "sha256=" + hmac.new(b"app-secret", BODY, hashlib.sha256).hexdigest()
    verify_whatsapp(BODY, header, "app-secret")
    verify_whatsapp(BODY, header.upper().replace("SHA256=", "sha256="), "app-secret")  # hex case


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + hashlib.sha1(BODY).hexdigest(),
        "deadbeef",
        "sha256=00",
        "sha256=" + hmac.new(b"other-secret", BODY, hashlib.sha256).hexdigest(),
        "sha256=ünïcode",
    ],
)
def test_whatsapp_refuses_missing_or_wrong_signatures(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_whatsapp(BODY, header, "app-secret")


def test_whatsapp_refuses_a_reserialised_body() -> None:
    # Meta signs its \\u escapes; parsing and dumping the JSON again changes the bytes.
    import json

    header = whatsapp_signature(BODY, "app-secret")
    again = json.dumps(json.loads(BODY), ensure_ascii=False).encode()
    with pytest.raises(SignatureError):
        verify_whatsapp(again, header, "app-secret")


def test_unconfigured_secrets_fail_closed() -> None:
    with pytest.raises(SignatureError):
        verify_whatsapp(BODY, whatsapp_signature(BODY, ""), "")
    with pytest.raises(SignatureError):
        verify_telegram("", "")
    with pytest.raises(SignatureError):
        verify_livechat(b"{}", "x", "1", None, now=NOW)


def test_whatsapp_handshake() -> None:
    assert verify_whatsapp_handshake("subscribe", "meatyhamhock", "meatyhamhock")
    assert not verify_whatsapp_handshake("subscribe", "wrong", "meatyhamhock")
    assert not verify_whatsapp_handshake("unsubscribe", "meatyhamhock", "meatyhamhock")
    assert not verify_whatsapp_handshake("subscribe", None, "meatyhamhock")
    assert not verify_whatsapp_handshake("subscribe", "", "")


def test_telegram_secret_token() -> None:
    verify_telegram("s3cr3t_T0ken-x", "s3cr3t_T0ken-x")
    for wrong in (None, "", "s3cr3t_T0ken", "s3cr3t_T0ken-xy", "S3CR3T_T0KEN-X"):
        with pytest.raises(SignatureError):
            verify_telegram(wrong, "s3cr3t_T0ken-x")


def _signed(body: bytes, at: datetime, secret: str = "widget-secret") -> tuple[str, str]:
    ts = str(int(at.timestamp()))
    expected = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert livechat_signature(body, ts, secret) == expected
    return expected, ts


def test_livechat_accepts_a_fresh_signature_with_or_without_prefix() -> None:
    body = b'{"event":"message"}'
    sig, ts = _signed(body, NOW - timedelta(seconds=299))
    verify_livechat(body, sig, ts, "widget-secret", now=NOW)
    verify_livechat(body, f"sha256={sig}", ts, "widget-secret", now=NOW)


@pytest.mark.parametrize(
    "age", [timedelta(seconds=301), timedelta(hours=3), timedelta(seconds=-120)]
)
def test_livechat_refuses_old_and_future_timestamps(age: timedelta) -> None:
    body = b'{"event":"message"}'
    sig, ts = _signed(body, NOW - age)
    with pytest.raises(SignatureError):
        verify_livechat(body, sig, ts, "widget-secret", now=NOW)


def test_livechat_refuses_tampering() -> None:
    body = b'{"event":"message","text":"hi"}'
    sig, ts = _signed(body, NOW)
    with pytest.raises(SignatureError):  # body changed
        verify_livechat(body.replace(b"hi", b"ho"), sig, ts, "widget-secret", now=NOW)
    with pytest.raises(SignatureError):  # timestamp moved forward to dodge the age check
        verify_livechat(body, sig, str(int(ts) + 1), "widget-secret", now=NOW)
    with pytest.raises(SignatureError):  # signed with another secret
        verify_livechat(body, sig, ts, "other", now=NOW)
    for bad_ts in (None, "", "12.5", "-1", "1e9", "٣٣٣"):
        with pytest.raises(SignatureError):
            verify_livechat(body, sig, bad_ts, "widget-secret", now=NOW)
    with pytest.raises(SignatureError):
        verify_livechat(body, None, ts, "widget-secret", now=NOW)

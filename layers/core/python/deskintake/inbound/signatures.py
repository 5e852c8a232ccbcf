"""Webhook authentication for WhatsApp, Telegram and our live-chat widget, in constant time.

Every check works on the raw request bytes: WhatsApp signs the body exactly as sent (with its
`\\uXXXX` escapes), so parsing and re-serialising before hashing would break the check.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from deskintake.domain.errors import SignatureError

LIVECHAT_MAX_AGE_SECONDS = 300
# Widgets run on customers' devices whose clocks drift; a little future is tolerated, no more.
LIVECHAT_MAX_FUTURE_SECONDS = 60


def _hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _equal(given: str, expected: str) -> bool:
    # Both sides as bytes: compare_digest refuses non-ASCII str, and a header may carry any.
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def _require_secret(secret: str | None, what: str) -> str:
    if not secret:
        # Fail closed: an unconfigured secret must never mean "accept everything".
        raise SignatureError(f"{what} is not configured")
    return secret


def whatsapp_signature(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` header value Meta sends for `body`."""
    return "sha256=" + _hex_hmac(app_secret, body)


def verify_whatsapp(body: bytes, header: str | None, app_secret: str | None) -> None:
    """Check `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`."""
    secret = _require_secret(app_secret, "WhatsApp app secret")
    if not header:
        raise SignatureError("missing X-Hub-Signature-256")
    scheme, _, digest = header.strip().partition("=")
    if scheme.lower() != "sha256" or not digest:
        raise SignatureError("X-Hub-Signature-256 is not of the form sha256=<hex>")
    if not _equal(digest.lower(), _hex_hmac(secret, body)):
        raise SignatureError("X-Hub-Signature-256 does not match the body")


def verify_whatsapp_handshake(
    mode: str | None, token: str | None, verify_token: str | None
) -> bool:
    """True when a GET is Meta's subscription handshake with our verify token."""
    if not verify_token or mode != "subscribe" or token is None:
        return False
    return _equal(token, verify_token)


def verify_telegram(header: str | None, secret_token: str | None) -> None:
    """Check `X-Telegram-Bot-Api-Secret-Token` equals the `secret_token` given to setWebhook."""
    secret = _require_secret(secret_token, "Telegram secret token")
    if not header:
        raise SignatureError("missing X-Telegram-Bot-Api-Secret-Token")
    if not _equal(header, secret):
        raise SignatureError("X-Telegram-Bot-Api-Secret-Token does not match")


def livechat_signature(body: bytes, timestamp: str, secret: str) -> str:
    """The widget's `X-Signature`: hex HMAC-SHA256 over `timestamp + "." + body`."""
    return _hex_hmac(secret, timestamp.encode("ascii") + b"." + body)


def verify_livechat(
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    secret: str | None,
    *,
    now: datetime,
    max_age_seconds: int = LIVECHAT_MAX_AGE_SECONDS,
) -> None:
    """Check the widget's `X-Signature` and that `X-Timestamp` is at most five minutes old.

    A captured request replayed later is refused by its age; replayed within the window it is
    harmless, because the widget message id makes the second delivery a no-op.
    """
    key = _require_secret(secret, "live-chat secret")
    if not signature or not timestamp:
        raise SignatureError("missing X-Signature or X-Timestamp")
    ts = timestamp.strip()
    if not ts.isascii() or not ts.isdigit() or len(ts) > 12:
        raise SignatureError("X-Timestamp must be unix seconds")
    age = now.timestamp() - int(ts)
    if age > max_age_seconds:
        raise SignatureError("X-Timestamp is older than five minutes (replay refused)")
    if age < -LIVECHAT_MAX_FUTURE_SECONDS:
        raise SignatureError("X-Timestamp is in the future")
    given = signature.strip()
    if given.lower().startswith("sha256="):
        given = given[len("sha256=") :]
    if not _equal(given.lower(), livechat_signature(body, ts, key)):
        raise SignatureError("X-Signature does not match the body and timestamp")

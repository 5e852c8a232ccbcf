"""Chat webhook payloads (WhatsApp, Telegram, our live-chat widget) to masked inbound messages.

A webhook body becomes a `ChatBatch`: customer messages for intake, delivery status updates for
our outbound messages, edits of stored messages, and the events that are deliberately ignored
(reactions, service messages, unknown kinds) so the platform gets its 200 and stops retrying.
Pure: no I/O. Every text is masked (cards, OTPs, passwords) before it leaves this module.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from deskintake.domain.errors import PayloadError
from deskintake.domain.model import Attachment, Channel, InboundMessage, Lang, Redaction
from deskintake.domain.redact import mask

MAX_TEXT_CHARS = 20_000  # WhatsApp allows 4096, Telegram 4096; our widget gets a little more


@dataclass(frozen=True)
class StatusUpdate:
    """The platform's news about a message we sent: sent / delivered / read / failed."""

    channel: Channel
    platform_message_id: str
    status: str
    at: datetime
    recipient: str = ""
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageEdit:
    """The customer edited (or deleted) a message they sent earlier."""

    channel: Channel
    external_id: str  # the original message's external id
    customer: str
    text: str  # masked
    redactions: tuple[Redaction, ...]
    at: datetime
    deleted: bool = False
    # Filed as a new message when the original never reached us (e.g. it predates the webhook).
    replacement: InboundMessage | None = None


@dataclass
class ChatBatch:
    """Everything one webhook body asks of us."""

    channel: Channel
    raw_key: str
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    edits: list[MessageEdit] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def stores_content(self) -> bool:
        """Whether this body carries customer content worth keeping as evidence."""
        return bool(self.messages or self.edits)


def raw_key_for(channel: Channel, body: bytes) -> str:
    """Where the raw body is kept: by content hash, so a retried delivery overwrites itself."""
    return f"webhooks/{channel}/{hashlib.sha256(body).hexdigest()}.json"


def load_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or PayloadError saying what is wrong with it."""
    if not body.strip():
        raise PayloadError("empty body: expected a JSON object")
    try:
        data = json.loads(body)
    except UnicodeDecodeError as exc:
        raise PayloadError("body is not UTF-8 JSON") from exc
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:  # [[[[...]]]] deeper than the interpreter's stack
        raise PayloadError("body is nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer longer than Python's 4300-digit limit
        raise PayloadError(f"body is not usable JSON: {str(exc)[:100]}") from exc
    if not isinstance(data, dict):
        raise PayloadError(f"expected a JSON object, got {type(data).__name__}")
    return data


def parse(channel: Channel, body: bytes, *, received_at: datetime) -> ChatBatch:
    """Turn one authenticated webhook body into a batch; PayloadError when it is malformed."""
    data = load_json_object(body)
    key = raw_key_for(channel, body)
    if channel == Channel.WHATSAPP:
        from deskintake.inbound._whatsapp import parse_whatsapp

        return parse_whatsapp(data, raw_key=key, received_at=received_at)
    if channel == Channel.TELEGRAM:
        from deskintake.inbound._telegram import parse_telegram

        return parse_telegram(data, raw_key=key, received_at=received_at)
    if channel == Channel.LIVECHAT:
        from deskintake.inbound._livechat import parse_livechat

        return parse_livechat(data, raw_key=key, received_at=received_at)
    raise PayloadError(f"not a chat channel: {channel}")


def livechat_customer(email: str | None, phone: str | None) -> str:
    """The widget customer's identity, normalised as intake files it (PayloadError if neither)."""
    from deskintake.inbound._livechat import customer_of

    return customer_of({"email": email, "phone": phone})


# --- helpers shared by the platform parsers -------------------------------------------------


def detect_lang(text: str, fallback: str | None = None) -> Lang:
    """The message's language; a hint from the platform decides when the text is too short."""
    letters = sum(ch.isalpha() for ch in text)
    hinted = _lang_code(fallback)
    if letters < 4 and hinted is not None:
        return hinted
    try:
        from deskintake.domain.language import detect_language
    except ImportError:  # pragma: no cover - the detector ships with the core
        return hinted or Lang.EN
    try:
        return Lang(detect_language(text))
    except ValueError:
        return hinted or Lang.EN


def _lang_code(code: str | None) -> Lang | None:
    """'id', 'in', 'zh-hans', 'zh_TW', 'en-US' -> Lang; anything else -> None."""
    if not code:
        return None
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return {"id": Lang.ID, "in": Lang.ID, "zh": Lang.ZH, "en": Lang.EN}.get(base)


def epoch(value: Any) -> datetime | None:
    """A platform's unix-seconds timestamp (string or number) as an aware datetime."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    if not 0 < seconds < 1e11:
        return None
    return datetime.fromtimestamp(seconds, UTC)


RECENT_SECONDS = 600


def arrival(sent: datetime | None, received_at: datetime) -> datetime:
    """When the customer sent it, if the platform's clock is plausible, else when it reached us.

    Late retries and replayed samples keep our receipt time, so no ticket is dated years back
    and no SLA starts in the past; the platform's own time is kept in the message's meta.
    """
    if sent is None or not 0 <= (received_at - sent).total_seconds() <= RECENT_SECONDS:
        return received_at
    return sent


def build_inbound(
    *,
    channel: Channel,
    external_id: str,
    customer: str,
    text: str,
    received_at: datetime,
    raw_key: str,
    customer_name: str = "",
    lang_hint: str | None = None,
    category_hint: str | None = None,
    attachments: list[Attachment] | None = None,
    meta: dict[str, Any] | None = None,
) -> InboundMessage:
    """One customer message, masked, with its language: what intake.submit takes."""
    clean = text.replace("\r\n", "\n").strip()[:MAX_TEXT_CHARS]
    masked, redactions = mask(clean)
    name, name_redactions = mask(customer_name.strip()[:200])
    return InboundMessage(
        channel=channel,
        external_id=external_id,
        customer=customer,
        customer_name=name,
        text=masked,
        lang=detect_lang(masked, lang_hint),
        received_at=received_at,
        attachments=attachments or [],
        redactions=_merge(redactions, name_redactions),
        raw_key=raw_key,
        category_hint=category_hint,
        meta=meta or {},
    )


def masked_edit(text: str) -> tuple[str, tuple[Redaction, ...]]:
    masked, redactions = mask(text.replace("\r\n", "\n").strip()[:MAX_TEXT_CHARS])
    return masked, tuple(redactions)


def _merge(*groups: list[Redaction]) -> list[Redaction]:
    counts: dict[str, int] = {}
    for group in groups:
        for r in group:
            counts[r.kind] = counts.get(r.kind, 0) + r.count
    return [Redaction(kind=k, count=v) for k, v in counts.items()]


def obj(data: Any, key: str) -> dict[str, Any]:
    """data[key] when it is a JSON object, else an empty one: for optional nested parts."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def require(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """data[key] of the expected JSON type, or PayloadError naming the field."""
    if key not in data or data[key] is None:
        raise PayloadError(f"missing field {where}.{key}")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _types(kind)):
        raise PayloadError(f"field {where}.{key} has the wrong type ({type(value).__name__})")
    return value


def optional(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if data.get(key) is None:
        return None
    return require(data, key, kind, where)


def _types(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)

"""Our live-chat widget's webhook body to a ChatBatch (contract: docs/webhooks.md).

    {"event": "message", "message_id": "w-01HV...", "sent_at": "2025-01-31T09:15:00Z",
     "visitor": {"id": "v-42", "name": "Budi", "email": "budi@example.com", "phone": "+62812..."},
     "category": "order_pending", "text": "...", "lang": "id", "page_url": "https://..."}

The customer is the pre-chat form's email (lower-cased) or, failing that, its phone number.
`category` is the visitor's own choice of problem: a hint for the classifier, never the verdict.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from deskintake.domain.errors import PayloadError
from deskintake.domain.model import Attachment, Channel
from deskintake.inbound.chat import ChatBatch, arrival, build_inbound, optional, require

CH = Channel.LIVECHAT
_EMAIL = re.compile(r"^[^@\s<>\"]{1,64}@[^@\s<>\"]{1,255}\.[^@\s<>\"]{2,63}$")
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def customer_of(visitor: dict[str, Any]) -> str:
    """The identity tickets are kept under: email, else a normalised phone number."""
    email = str(visitor.get("email") or "").strip().lower()
    if email:
        if not _EMAIL.match(email):
            raise PayloadError("visitor.email is not an email address")
        return email
    phone = str(visitor.get("phone") or "").strip()
    digits = re.sub(r"[^\d]", "", phone)
    if phone and 6 <= len(digits) <= 16:
        if phone.startswith("+"):
            return "+" + digits
        if digits.startswith("0"):  # the widget serves Indonesia: 0812... is +62812...
            return "+62" + digits[1:]
        return "+" + digits
    if phone:
        raise PayloadError("visitor.phone is not a phone number")
    raise PayloadError("the pre-chat form needs visitor.email or visitor.phone")


def parse_livechat(data: dict[str, Any], *, raw_key: str, received_at: datetime) -> ChatBatch:
    batch = ChatBatch(channel=CH, raw_key=raw_key)
    event = require(data, "event", str, "body")
    if event != "message":
        batch.ignored.append(f"event {event!r}")
        return batch
    message_id = require(data, "message_id", str, "body")
    if not _MESSAGE_ID.match(message_id):
        raise PayloadError("message_id must be 1-128 letters, digits or . _ : -")
    visitor = require(data, "visitor", dict, "body")
    customer = customer_of(visitor)
    text = optional(data, "text", str, "body") or ""
    attachments, media = _attachments(data)
    if not text.strip() and not attachments:
        raise PayloadError("a message needs text or attachments")
    category = optional(data, "category", str, "body")
    meta: dict[str, Any] = {"platform_message_id": message_id}
    for key in ("visitor_id", "page_url", "sent_at"):
        source = visitor if key == "visitor_id" else data
        value = source.get("id" if key == "visitor_id" else key)
        if isinstance(value, str | int) and str(value).strip():
            meta[key] = str(value)[:500]
    site = data.get("site_id")
    if isinstance(site, str | int) and str(site).strip():
        meta["site_id"] = str(site).strip()[:128]  # which brand's widget: routes the message
    if category:
        meta["prechat_category"] = category[:64]
    if media:
        meta["media"] = media
    if attachments and not text.strip():
        text = " ".join(f"[{a.filename}]" for a in attachments)
    batch.messages.append(
        build_inbound(
            channel=CH,
            external_id=message_id,
            customer=customer,
            customer_name=str(visitor.get("name") or ""),
            text=text,
            received_at=arrival(_iso(data.get("sent_at")), received_at),
            raw_key=raw_key,
            lang_hint=optional(data, "lang", str, "body"),
            category_hint=category.strip().lower()[:64] if category else None,
            attachments=attachments,
            meta=meta,
        )
    )
    return batch


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _attachments(data: dict[str, Any]) -> tuple[list[Attachment], list[dict[str, str]]]:
    items = optional(data, "attachments", list, "body") or []
    attachments: list[Attachment] = []
    media: list[dict[str, str]] = []
    for i, item in enumerate(items[:10]):
        if not isinstance(item, dict):
            raise PayloadError(f"attachments[{i}] must be an object")
        name = str(item.get("filename") or f"file-{i + 1}")[:200]
        mime = str(item.get("content_type") or "application/octet-stream")[:100]
        size = item.get("size")
        attachments.append(
            Attachment(
                filename=name,
                content_type=mime,
                size=size if isinstance(size, int) and size >= 0 else 0,
            )
        )
        if isinstance(item.get("url"), str):
            media.append({"filename": name, "url": item["url"][:2000]})
    return attachments, media

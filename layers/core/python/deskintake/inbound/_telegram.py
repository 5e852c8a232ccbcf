"""Telegram Bot API `Update` objects to a ChatBatch.

A message is identified by `<chat id>:<message id>`: stable across Telegram's retries of the
same `update_id`, and the key an `edited_message` uses to find what it edits. Samples in
../shared/corpus/webhooks/telegram/ include 2015-era shapes (no `is_bot`, no chat `type`),
service messages, reactions and an unknown update kind: none of them may break intake.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deskintake.domain.errors import PayloadError
from deskintake.domain.model import Attachment, Channel
from deskintake.inbound.chat import (
    ChatBatch,
    MessageEdit,
    arrival,
    build_inbound,
    epoch,
    masked_edit,
    obj,
    require,
)

CH = Channel.TELEGRAM
# Content a customer can send; a message with none of these is a service message (pins,
# joins, title changes) and is acknowledged without filing anything.
_CONTENT = (
    "text",
    "caption",
    "photo",
    "document",
    "audio",
    "voice",
    "video",
    "video_note",
    "animation",
    "sticker",
    "dice",
    "location",
    "venue",
    "contact",
    "poll",
    "story",
)


def parse_telegram(data: dict[str, Any], *, raw_key: str, received_at: datetime) -> ChatBatch:
    batch = ChatBatch(channel=CH, raw_key=raw_key)
    update_id = require(data, "update_id", int, "update")
    if "message" in data:
        msg = _object(data, "message")
        if (inbound := _inbound(msg, "message", batch, update_id, received_at)) is not None:
            batch.messages.append(inbound)
    elif "edited_message" in data:
        _edited(_object(data, "edited_message"), batch, update_id, received_at)
    elif "callback_query" in data:
        _callback(_object(data, "callback_query"), batch, update_id, received_at)
    else:
        kinds = [k for k in data if k != "update_id"]
        batch.ignored.append(f"update kind {kinds[0] if kinds else 'none'!r}")
    return batch


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data[key]
    if not isinstance(value, dict):
        raise PayloadError(f"field update.{key} must be an object")
    return value


def _ids(msg: dict[str, Any], where: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    message_id = require(msg, "message_id", int, where)
    chat = require(msg, "chat", dict, where)
    chat_id = require(chat, "id", int, f"{where}.chat")
    sender = obj(msg, "from")
    return f"{chat_id}:{message_id}", chat, sender


def _name(chat: dict[str, Any], sender: dict[str, Any]) -> str:
    person = sender or chat
    full = " ".join(str(person[k]) for k in ("first_name", "last_name") if person.get(k))
    return full or str(chat.get("title") or person.get("username") or "")


def _inbound(
    msg: dict[str, Any],
    where: str,
    batch: ChatBatch,
    update_id: int,
    received_at: datetime,
    *,
    external_id: str | None = None,
) -> Any:
    ext, chat, sender = _ids(msg, where)
    if sender.get("is_bot") is True:
        batch.ignored.append("message from a bot")
        return None
    if not any(k in msg for k in _CONTENT):
        service = next(
            (
                k
                for k in msg
                if k
                not in {
                    "message_id",
                    "chat",
                    "from",
                    "date",
                    "message_thread_id",
                    "is_topic_message",
                }
            ),
            "none",
        )
        batch.ignored.append(f"service message {service!r}")
        return None
    meta: dict[str, Any] = {
        "platform_message_id": ext,
        "update_id": update_id,
        "chat_type": str(chat.get("type") or "private"),
    }
    if sender.get("id") is not None:
        meta["from_id"] = sender["id"]
    if sender.get("username") or chat.get("username"):
        meta["username"] = str(sender.get("username") or chat.get("username"))
    if (sent := epoch(msg.get("date"))) is not None:
        meta["sent_at"] = sent.isoformat()
    if "forward_origin" in msg or "forward_from" in msg or "forward_from_chat" in msg:
        meta["forwarded"] = True
    reply = msg.get("reply_to_message")
    if isinstance(reply, dict) and isinstance(reply.get("message_id"), int):
        meta["reply_to"] = f"{(reply.get('chat') or chat).get('id')}:{reply['message_id']}"
    text, attachments = render(msg, meta)
    return build_inbound(
        channel=CH,
        external_id=external_id or ext,
        customer=str(chat["id"]),
        customer_name=_name(chat, sender),
        text=text,
        received_at=arrival(epoch(msg.get("date")), received_at),
        raw_key=batch.raw_key,
        lang_hint=str(sender.get("language_code") or ""),
        attachments=attachments,
        meta=meta,
    )


def render(msg: dict[str, Any], meta: dict[str, Any]) -> tuple[str, list[Attachment]]:
    """The text an agent reads; Telegram file ids kept in `meta` for fetching later."""
    text = str(msg.get("text") or msg.get("caption") or "").strip()
    parts = [text] if text else []
    attachments: list[Attachment] = []

    def media(kind: str, item: dict[str, Any], default_name: str, default_mime: str) -> None:
        name = str(item.get("file_name") or default_name)
        mime = str(item.get("mime_type") or default_mime)
        meta.setdefault("media", []).append(
            {
                "file_id": str(item.get("file_id") or ""),
                "mime_type": mime,
                "filename": name,
                "kind": kind,
            }
        )
        size = item.get("file_size")
        attachments.append(
            Attachment(
                filename=name,
                content_type=mime,
                size=size if isinstance(size, int) and size >= 0 else 0,
            )
        )

    if isinstance(msg.get("photo"), list) and msg["photo"]:
        sizes = [p for p in msg["photo"] if isinstance(p, dict)]
        if sizes:  # the last size is the largest
            media("photo", sizes[-1], "photo.jpg", "image/jpeg")
        parts.append("[photo]")
    for kind, label, name, mime in (
        ("document", "document", "document", "application/octet-stream"),
        ("audio", "audio", "audio", "audio/mpeg"),
        ("voice", "voice message", "voice.ogg", "audio/ogg"),
        ("video", "video", "video.mp4", "video/mp4"),
        ("video_note", "video message", "video_note.mp4", "video/mp4"),
        ("animation", "animation", "animation.mp4", "video/mp4"),
    ):
        item = msg.get(kind)
        if isinstance(item, dict):
            media(kind, item, name, mime)
            shown = f"{label}: {item['file_name']}" if item.get("file_name") else label
            parts.append(f"[{shown}]")
    if isinstance(msg.get("sticker"), dict):
        parts.append(f"[sticker {msg['sticker'].get('emoji') or ''}]".replace(" ]", "]"))
    if isinstance(msg.get("dice"), dict):
        parts.append(f"[dice {msg['dice'].get('emoji', '')} {msg['dice'].get('value', '')}]")
    if isinstance(msg.get("location"), dict) or isinstance(msg.get("venue"), dict):
        venue = obj(msg, "venue")
        loc = obj(msg, "location") or obj(venue, "location")
        place = ", ".join(str(venue[k]) for k in ("title", "address") if venue.get(k))
        meta["location"] = {k: loc.get(k) for k in ("latitude", "longitude") if k in loc}
        parts.append(
            f"[location] {place + ' ' if place else ''}"
            f"({loc.get('latitude')}, {loc.get('longitude')})"
        )
    if isinstance(msg.get("contact"), dict):
        c = msg["contact"]
        shown = " ".join(str(c[k]) for k in ("first_name", "last_name", "phone_number") if c.get(k))
        parts.append(f"[contact] {shown}".strip())
    if isinstance(msg.get("poll"), dict):
        parts.append(f"[poll] {msg['poll'].get('question', '')}".strip())
    if "story" in msg:
        parts.append("[story]")
    return "\n".join(parts), attachments


def _edited(msg: dict[str, Any], batch: ChatBatch, update_id: int, received_at: datetime) -> None:
    ext, chat, sender = _ids(msg, "edited_message")
    if sender.get("is_bot") is True:
        batch.ignored.append("edit by a bot")
        return
    meta: dict[str, Any] = {}
    text, _ = render(msg, meta)
    masked, redactions = masked_edit(text)
    replacement = _inbound(msg, "edited_message", batch, update_id, received_at)
    batch.edits.append(
        MessageEdit(
            channel=CH,
            external_id=ext,
            customer=str(chat["id"]),
            text=masked,
            redactions=redactions,
            at=epoch(msg.get("edit_date")) or received_at,
            replacement=replacement,
        )
    )


def _callback(
    query: dict[str, Any], batch: ChatBatch, update_id: int, received_at: datetime
) -> None:
    query_id = require(query, "id", str, "callback_query")
    sender = require(query, "from", dict, "callback_query")
    user_id = require(sender, "id", int, "callback_query.from")
    message = obj(query, "message")
    chat = obj(message, "chat")
    customer = str(chat.get("id") if isinstance(chat.get("id"), int) else user_id)
    data = str(query.get("data") or query.get("game_short_name") or "").strip()
    meta: dict[str, Any] = {
        "callback_query_id": query_id,
        "update_id": update_id,
        "from_id": user_id,
        "type": "callback_query",
    }
    if isinstance(message.get("message_id"), int):
        meta["reply_to"] = f"{customer}:{message['message_id']}"
    if query.get("inline_message_id"):
        meta["inline_message_id"] = str(query["inline_message_id"])
    batch.messages.append(
        build_inbound(
            channel=CH,
            external_id=f"cbq:{query_id}",
            customer=customer,
            customer_name=_name(chat, sender),
            text=data or "[button pressed]",
            received_at=received_at,
            raw_key=batch.raw_key,
            lang_hint=str(sender.get("language_code") or ""),
            meta=meta,
        )
    )

"""WhatsApp Cloud API webhook bodies (`object: whatsapp_business_account`) to a ChatBatch.

Shapes follow Meta's reference and the samples in ../shared/corpus/webhooks/whatsapp/: ids and
timestamps are strings, a `messages[]` entry may carry `errors[]`, edits nest the new content
in `edit.message`, and unknown `field`s or message types must not break anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deskintake.domain.errors import PayloadError
from deskintake.domain.model import Attachment, Channel
from deskintake.inbound.chat import (
    ChatBatch,
    MessageEdit,
    StatusUpdate,
    arrival,
    build_inbound,
    epoch,
    masked_edit,
    obj,
    optional,
    require,
)

CH = Channel.WHATSAPP
_MEDIA = ("image", "video", "audio", "document", "sticker")
_STATUSES = frozenset({"sent", "delivered", "read", "failed"})
_IGNORED_TYPES = {"reaction": "reaction", "system": "system notice", "ephemeral": "ephemeral"}


def parse_whatsapp(data: dict[str, Any], *, raw_key: str, received_at: datetime) -> ChatBatch:
    batch = ChatBatch(channel=CH, raw_key=raw_key)
    obj = data.get("object")
    entries = data.get("entry")
    if not isinstance(obj, str):
        raise PayloadError("not a WhatsApp webhook: missing field object")
    if obj != "whatsapp_business_account":
        batch.ignored.append(f"object {obj!r}")
        return batch
    if not isinstance(entries, list):
        raise PayloadError("field entry must be a list")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise PayloadError(f"entry[{i}] must be an object")
        changes = entry.get("changes") or []
        if not isinstance(changes, list):
            raise PayloadError(f"entry[{i}].changes must be a list")
        for j, change in enumerate(changes):
            where = f"entry[{i}].changes[{j}]"
            if not isinstance(change, dict):
                raise PayloadError(f"{where} must be an object")
            field_name = change.get("field")
            value = change.get("value")
            if field_name != "messages":
                batch.ignored.append(f"field {field_name!r}")
                continue
            if not isinstance(value, dict):
                raise PayloadError(f"{where}.value must be an object")
            _value(value, f"{where}.value", batch, received_at)
    return batch


def _value(value: dict[str, Any], where: str, batch: ChatBatch, received_at: datetime) -> None:
    names = _contact_names(value, where)
    metadata = obj(value, "metadata")
    phone_number_id = str(metadata.get("phone_number_id") or "")
    messages = optional(value, "messages", list, where) or []
    statuses = optional(value, "statuses", list, where) or []
    for k, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise PayloadError(f"{where}.messages[{k}] must be an object")
        _message(
            msg,
            f"{where}.messages[{k}]",
            batch,
            names,
            phone_number_id,
            received_at,
            value_errors=value.get("errors"),
        )
    for k, status in enumerate(statuses):
        if not isinstance(status, dict):
            raise PayloadError(f"{where}.statuses[{k}] must be an object")
        _status(status, f"{where}.statuses[{k}]", batch, received_at)
    if not messages and not statuses:
        batch.ignored.append("messages value without messages or statuses")


def _contact_names(value: dict[str, Any], where: str) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in optional(value, "contacts", list, where) or []:
        if isinstance(contact, dict) and contact.get("wa_id"):
            profile = obj(contact, "profile")
            names[str(contact["wa_id"])] = str(profile.get("name") or "")
    return names


def _message(
    msg: dict[str, Any],
    where: str,
    batch: ChatBatch,
    names: dict[str, str],
    phone_number_id: str,
    received_at: datetime,
    *,
    value_errors: Any,
) -> None:
    msg_id = require(msg, "id", str, where)
    sender = require(msg, "from", str, where)
    kind = str(msg.get("type") or "unknown")
    if kind in _IGNORED_TYPES:
        batch.ignored.append(_IGNORED_TYPES[kind])
        return
    if kind == "revoke":
        original = (
            (msg.get("revoke") or {}).get("original_message_id")
            if isinstance(msg.get("revoke"), dict)
            else None
        )
        if not original:
            batch.ignored.append("revoke without original_message_id")
            return
        batch.edits.append(
            MessageEdit(
                channel=CH,
                external_id=str(original),
                customer=sender,
                text="",
                redactions=(),
                at=received_at,
                deleted=True,
            )
        )
        return
    meta: dict[str, Any] = {
        "platform_message_id": msg_id,
        "type": kind,
        "phone_number_id": phone_number_id,
    }
    if (sent := epoch(msg.get("timestamp"))) is not None:
        meta["sent_at"] = sent.isoformat()
    context = obj(msg, "context")
    if context.get("forwarded") or context.get("frequently_forwarded"):
        meta["forwarded"] = True
    if context.get("id"):
        meta["reply_to"] = str(context["id"])
    if isinstance(msg.get("referral"), dict):
        meta["referral"] = {
            k: msg["referral"].get(k)
            for k in ("source_type", "source_id", "ctwa_clid")
            if msg["referral"].get(k)
        }
    if kind == "edit":
        _edit(msg, where, batch, sender, names, meta, received_at)
        return
    text, attachments = render(msg, kind, meta)
    received_at = arrival(epoch(msg.get("timestamp")), received_at)
    errors = [
        *(_errors(msg.get("errors"))),
        *(_errors(value_errors) if kind == "interactive" else []),
    ]
    if errors:
        meta["platform_errors"] = errors
    batch.messages.append(
        build_inbound(
            channel=CH,
            external_id=msg_id,
            customer=sender,
            customer_name=names.get(sender, ""),
            text=text,
            received_at=received_at,
            raw_key=batch.raw_key,
            attachments=attachments,
            meta=meta,
        )
    )


def _edit(
    msg: dict[str, Any],
    where: str,
    batch: ChatBatch,
    sender: str,
    names: dict[str, str],
    meta: dict[str, Any],
    received_at: datetime,
) -> None:
    edit = msg.get("edit")
    if not isinstance(edit, dict) or not edit.get("original_message_id"):
        raise PayloadError(f"{where}.edit must name original_message_id")
    inner = obj(edit, "message")
    inner_kind = str(inner.get("type") or "text")
    text, attachments = render(inner, inner_kind, meta)
    masked, redactions = masked_edit(text)
    replacement = build_inbound(
        channel=CH,
        external_id=str(msg["id"]),
        customer=sender,
        customer_name=names.get(sender, ""),
        text=text,
        received_at=received_at,
        raw_key=batch.raw_key,
        attachments=attachments,
        meta={**meta, "edit_of": str(edit["original_message_id"])},
    )
    batch.edits.append(
        MessageEdit(
            channel=CH,
            external_id=str(edit["original_message_id"]),
            customer=sender,
            text=masked,
            redactions=redactions,
            at=received_at,
            replacement=replacement,
        )
    )


def render(msg: dict[str, Any], kind: str, meta: dict[str, Any]) -> tuple[str, list[Attachment]]:
    """The text an agent reads for one message of any type; media ids kept in `meta`."""
    body = obj(msg, kind)
    if kind == "text":
        return str(body.get("body") or ""), []
    if kind in _MEDIA:
        mime = str(body.get("mime_type") or "application/octet-stream")
        filename = str(body.get("filename") or f"{kind}.{mime.split('/')[-1].split(';')[0]}")
        media = {"media_id": str(body.get("id") or ""), "mime_type": mime, "filename": filename}
        if body.get("sha256"):
            media["sha256"] = str(body["sha256"])
        meta.setdefault("media", []).append(media)
        label = "voice message" if kind == "audio" and body.get("voice") else kind
        if kind == "document":
            label = f"document: {filename}"
        caption = str(body.get("caption") or "").strip()
        placeholder = f"[{label}]"
        text = f"{caption}\n{placeholder}" if caption else placeholder
        return text, [
            Attachment(filename=filename, content_type=mime.split(";")[0].strip(), size=0)
        ]
    if kind == "location":
        place = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        where = f"{body.get('latitude')}, {body.get('longitude')}"
        meta["location"] = {
            k: body.get(k)
            for k in ("latitude", "longitude", "name", "address")
            if body.get(k) is not None
        }
        return f"[location] {place + ' ' if place else ''}({where})", []
    if kind == "contacts":
        cards = [c for c in (msg.get("contacts") or []) if isinstance(c, dict)]
        shown = []
        for card in cards:
            name = (
                (card.get("name") or {}).get("formatted_name")
                if isinstance(card.get("name"), dict)
                else ""
            )
            phones = [
                str(p.get("phone"))
                for p in card.get("phones") or []
                if isinstance(p, dict) and p.get("phone")
            ]
            shown.append(" ".join([str(name or "?"), *phones]))
        return "[contacts] " + "; ".join(shown), []
    if kind == "interactive":
        for reply_kind in ("button_reply", "list_reply", "nfm_reply"):
            reply = body.get(reply_kind)
            if isinstance(reply, dict):
                meta["reply_id"] = str(reply.get("id") or "")
                return str(reply.get("title") or reply.get("body") or reply.get("id") or ""), []
        return "[interactive message WhatsApp could not deliver]", []
    if kind == "button":
        meta["reply_id"] = str(body.get("payload") or "")
        return str(body.get("text") or body.get("payload") or ""), []
    if kind == "order":
        items = [i for i in body.get("product_items") or [] if isinstance(i, dict)]
        lines = [
            f"{i.get('quantity', 1)} x {i.get('product_retailer_id', '?')} "
            f"({i.get('item_price', '?')} {i.get('currency', '')})".rstrip()
            for i in items
        ]
        meta["order"] = {"catalog_id": body.get("catalog_id"), "items": len(items)}
        note = str(body.get("text") or "").strip()
        return "\n".join(filter(None, [note, "[order] " + "; ".join(lines)])), []
    if kind == "unsupported":
        return "[a message type WhatsApp does not support]", []
    return f"[{kind} message]", []


def _status(status: dict[str, Any], where: str, batch: ChatBatch, received_at: datetime) -> None:
    msg_id = require(status, "id", str, where)
    state = require(status, "status", str, where)
    if state not in _STATUSES:
        batch.ignored.append(f"status {state!r}")
        return
    batch.statuses.append(
        StatusUpdate(
            channel=CH,
            platform_message_id=msg_id,
            status=state,
            at=epoch(status.get("timestamp")) or received_at,
            recipient=str(status.get("recipient_id") or ""),
            errors=tuple(_errors(status.get("errors"))),
        )
    )


def _errors(errors: Any) -> list[str]:
    if not isinstance(errors, list):
        return []
    out = []
    for e in errors:
        if isinstance(e, dict):
            details = (
                (e.get("error_data") or {}).get("details")
                if isinstance(e.get("error_data"), dict)
                else None
            )
            out.append(
                f"{e.get('code')}: {details or e.get('message') or e.get('title') or ''}".strip()
            )
    return out
